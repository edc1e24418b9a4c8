// SPDX-License-Identifier: MIT
// Fuzz target: control-data decoding and encoding (src/cmsg/control.cc decode, encode,
// receive_space), with real descriptors wherever the decoder will take one.
//
// Input: u8 msg_flags selector (bit 0 MSG_CTRUNC, bit 1 MSG_TRUNC, bit 2 MSG_EOR), u8 policy
// max_fds (clamped to 253), u8 options (bit 0 credentials allowed, bits 1-7: number of descriptors
// for the round trip), 12 bytes of credentials for the round trip, then the control buffer exactly
// as recvmsg would have filled it (native struct cmsghdr layout; at most cmsg::max_space bytes).
//
// Descriptor numbers in the buffer are never used: the harness walks the buffer by the rules of
// docs/PROTOCOL.md ("Control data decoding") and puts a fresh real descriptor in every int slot of
// every SCM_RIGHTS and SCM_PIDFD payload (a negative number stays: it names no descriptor).
//
// Properties: on success the decoder hands on exactly the descriptors the buffer named, in order,
// and credentials only if allowed; on error it holds nothing; either way every descriptor is
// closed once the result goes, and no other descriptor of the process is touched; decode(encode(x))
// == x for any valid x.
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "cmsg/control.hpp"
#include "fuzz_support.hpp"
#include "platform/linux.hpp"

namespace {

namespace fz = mon::fuzz;
using mon::cmsg::control_data;

// Puts real descriptors into every int slot the decoder will read as one. Returns them in order.
std::vector<int> substitute(std::span<std::byte> buf, fz::fd_ledger& ledger, bool& rights_ok) {
  std::vector<int> taken;  // the ones in SCM_RIGHTS payloads, which a success hands on
  rights_ok = true;
  constexpr std::size_t hdr_len = CMSG_LEN(0);
  std::size_t off = 0;
  while (buf.size() - off >= sizeof(cmsghdr)) {
    cmsghdr h{};
    std::memcpy(&h, buf.data() + off, sizeof h);
    const std::size_t len = h.cmsg_len;
    if (len < hdr_len) break;
    const std::size_t avail = buf.size() - off;
    const std::size_t data_len = (len > avail ? avail : len) - hdr_len;
    const bool rights = h.cmsg_level == SOL_SOCKET && h.cmsg_type == SCM_RIGHTS;
    const bool pidfd = h.cmsg_level == SOL_SOCKET && h.cmsg_type == SCM_PIDFD;
    if (rights || pidfd) {
      for (std::size_t i = 0; i + sizeof(int) <= data_len; i += sizeof(int)) {
        std::byte* slot = buf.data() + off + hdr_len + i;
        int v;
        std::memcpy(&v, slot, sizeof v);
        if (v < 0) {
          rights_ok = false;
          continue;
        }
        v = ledger.make();
        std::memcpy(slot, &v, sizeof v);
        if (rights) taken.push_back(v);
      }
    }
    const std::size_t step = CMSG_ALIGN(len);
    if (step < len || step > avail) break;
    off += step;
  }
  return taken;
}

void decode_arbitrary(std::span<const std::uint8_t> raw, int msg_flags,
                      const mon::cmsg::policy& pol, fz::fd_ledger& ledger) {
  alignas(cmsghdr) std::byte buf[mon::cmsg::max_space];
  const std::size_t len = raw.size() < sizeof buf ? raw.size() : sizeof buf;
  std::memcpy(buf, raw.data(), len);
  bool rights_ok = true;
  const std::vector<int> named = substitute(std::span<std::byte>(buf, len), ledger, rights_ok);

  control_data out;
  const auto r = mon::cmsg::decode(std::span<const std::byte>(buf, len), msg_flags, pol, out);
  if (r) {
    MON_FUZZ_CHECK(!(msg_flags & MSG_CTRUNC));
    MON_FUZZ_CHECK(rights_ok);
    MON_FUZZ_CHECK(out.fds.size() == named.size() && out.fds.size() <= pol.max_fds);
    for (std::size_t i = 0; i < named.size(); ++i) MON_FUZZ_CHECK(out.fds[i].get() == named[i]);
    MON_FUZZ_CHECK(pol.allow_credentials || !out.has_credentials);
  } else {
    MON_FUZZ_CHECK(out.fds.empty() && !out.has_credentials);
    MON_FUZZ_CHECK(r.code() == mon::errc::protocol || r.code() == mon::errc::truncated);
    MON_FUZZ_CHECK((r.code() == mon::errc::truncated) == ((msg_flags & MSG_CTRUNC) != 0));
  }
}

// decode(encode(x)) == x, for descriptors and credentials chosen by the input.
void round_trip(std::size_t num_fds, bool with_creds, const mon::peer_credentials& creds,
                fz::fd_ledger& ledger) {
  std::vector<int> fds;
  for (std::size_t i = 0; i < num_fds; ++i) fds.push_back(ledger.make());
  alignas(cmsghdr) std::byte buf[mon::cmsg::max_space];
  const std::size_t need = mon::cmsg::receive_space(num_fds, with_creds);
  MON_FUZZ_CHECK(need <= sizeof buf);
  // Asked for more than a message may carry, it still fits the stack buffers (max_space).
  MON_FUZZ_CHECK(mon::cmsg::receive_space(mon::max_fds + 1 + num_fds, with_creds) <=
                 mon::cmsg::max_space);
  const auto len =
      mon::cmsg::encode(std::span<std::byte>(buf, need), fds, with_creds ? &creds : nullptr);
  MON_FUZZ_CHECK(len.ok() && len.value() <= need);
  control_data out;
  const auto r =
      mon::cmsg::decode(std::span<const std::byte>(buf, len.value()), 0, {num_fds, true}, out);
  MON_FUZZ_CHECK(r.ok());
  MON_FUZZ_CHECK(out.fds.size() == num_fds);
  for (std::size_t i = 0; i < num_fds; ++i) MON_FUZZ_CHECK(out.fds[i].get() == fds[i]);
  MON_FUZZ_CHECK(out.has_credentials == with_creds);
  if (with_creds) MON_FUZZ_CHECK(out.credentials == creds);
  // One descriptor fewer allowed than sent: refused, and all of them closed.
  if (num_fds > 0) {
    control_data again;
    std::vector<int> fresh;  // the same bytes again would name descriptors `out` owns: fresh ones
    for (std::size_t i = 0; i < num_fds; ++i) fresh.push_back(ledger.make());
    std::memcpy(buf + CMSG_LEN(0), fresh.data(), fresh.size() * sizeof(int));
    MON_FUZZ_CHECK(!mon::cmsg::decode(std::span<const std::byte>(buf, len.value()), 0,
                                      {num_fds - 1, true}, again));
    MON_FUZZ_CHECK(again.fds.empty());
  }
  // encode refuses what it cannot write: no room, a negative descriptor, too many descriptors.
  alignas(cmsghdr) std::byte scratch[mon::cmsg::max_space];
  if (len.value() > 0) {
    const std::span<std::byte> short_buf(scratch, len.value() - 1);
    MON_FUZZ_CHECK(!mon::cmsg::encode(short_buf, fds, with_creds ? &creds : nullptr));
  }
  if (num_fds > 0) {
    std::vector<int> bad(fds);
    bad.back() = -1;
    MON_FUZZ_CHECK(!mon::cmsg::encode(std::span<std::byte>(scratch, need), bad, nullptr));
  }
  std::vector<int> too_many(mon::max_fds + 1, 0);
  MON_FUZZ_CHECK(!mon::cmsg::encode(scratch, too_many, nullptr));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fz::input in(data, size);
  const std::uint8_t fl = in.u8();
  const int msg_flags =
      (fl & 1 ? MSG_CTRUNC : 0) | (fl & 2 ? MSG_TRUNC : 0) | (fl & 4 ? MSG_EOR : 0);
  std::size_t max_fds = in.u8();
  if (max_fds > mon::max_fds) max_fds = mon::max_fds;
  const std::uint8_t opts = in.u8();
  const mon::peer_credentials creds = fz::read_credentials(in);

  (void)fz::fd_ledger::origin();  // opened once, before the first count
  const int before = fz::open_fd_count();
  {
    fz::fd_ledger ledger;
    decode_arbitrary(in.rest(), msg_flags, {max_fds, (opts & 1) != 0}, ledger);
    ledger.expect_all_closed();
    round_trip((opts >> 1) % 16, (opts & 1) != 0, creds, ledger);
    ledger.expect_all_closed();
  }
  MON_FUZZ_CHECK(fz::open_fd_count() == before);
  return 0;
}
