// SPDX-License-Identifier: MIT
// Fuzz target: batched receive (src/core/batch.cc, src/sys/socket_batch.cc, mon::receive_messages)
// over a real non-blocking AF_UNIX socketpair.
//
// Input: u8 flags: bit 0 SOCK_SEQPACKET; bit 1 honest mode (messages sent with
// mon::send_messages, which must all come back exactly); bit 4 shut the sender down after sending;
// u8 slots per call (1..16), u8 slot storage (x 8 bytes), u8 fd_limit (0..8); then sends, each an
// op byte (bits 0-2 descriptors attached, 0..7) and u16 length (at most 512) and the bytes: raw
// sendmsg of those bytes (hostile mode) or one message with that payload (honest mode).
//
// Properties, as for single receives (socket_roundtrip): every descriptor the process had before
// the input is open after it and no other one is; a received descriptor is one we sent; a slot's
// payload fits its storage; a refused slot has no bytes and no descriptors; in honest mode every
// message comes back in order with exactly its descriptors (the binding rule on every entry).
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "fuzz_support.hpp"
#include "monitor/batch.hpp"
#include "monitor/refused_fds.hpp"

namespace {

namespace fz = mon::fuzz;

constexpr std::size_t max_chunk = 512;
constexpr std::size_t max_total = 16 * 1024;

bool raw_send(int fd, std::span<const std::uint8_t> bytes, std::size_t k, fz::fd_ledger& ledger) {
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(8 * sizeof(int))] = {};
  std::vector<int> fds;
  for (std::size_t i = 0; i < k; ++i) fds.push_back(ledger.make());
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (k) {
    auto* h = reinterpret_cast<cmsghdr*>(control);
    h->cmsg_len = CMSG_LEN(k * sizeof(int));
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    std::memcpy(CMSG_DATA(h), fds.data(), k * sizeof(int));
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(k * sizeof(int));
  }
  const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  for (int d : fds) ::close(d);
  return n == static_cast<ssize_t>(bytes.size());
}

struct sent_message {
  std::vector<std::uint8_t> bytes;
  std::size_t fds = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fz::close_refused_inline();
  fz::input in(data, size);
  const std::uint8_t flags = in.u8();
  const int type = flags & 1 ? SOCK_SEQPACKET : SOCK_STREAM;
  const bool honest = (flags & 2) != 0;
  const std::size_t nslots = 1 + in.u8() % 16;
  const std::size_t room = 8 * (in.u8() % 129);  // 0..1024 bytes per slot
  const std::size_t fd_limit = in.u8() % 9;
  (void)fz::fd_ledger::origin();
  const int before = fz::open_fd_count();
  {
    fz::fd_ledger ledger;
    int sv[2];
    MON_FUZZ_CHECK(::socketpair(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0);
    std::vector<sent_message> sent;
    std::size_t total = 0;
    mon::batch_send_state tx;
    while (!in.empty() && total < max_total) {
      const std::uint8_t op = in.u8();
      const auto bytes = in.bytes(in.u16() % (max_chunk + 1));
      const std::size_t k = op & 7;
      if (honest) {
        std::vector<int> fds(k, fz::fd_ledger::origin());
        const mon::outgoing_message m{std::as_bytes(bytes), fds};
        auto r = mon::send_messages(sv[0], std::span(&m, 1), tx);
        if (!r || r.value() != 1) break;
        sent.push_back({{bytes.begin(), bytes.end()}, k});
      } else {
        if (bytes.empty() && k == 0) continue;  // an empty record reads as end of file
        if (!raw_send(sv[0], bytes, k, ledger)) break;
      }
      total += bytes.size() + 8;
    }
    if (flags & 0x10) ::shutdown(sv[0], SHUT_WR);

    auto state = std::make_unique<mon::batch_receive_state>();
    std::vector<std::byte> store(nslots * room);
    std::vector<mon::received_message> slots(nslots);
    for (std::size_t i = 0; i < nslots; ++i)
      slots[i].storage = std::span(store.data() + i * room, room);
    std::size_t next = 0;  // honest mode: the next sent message expected
    for (int call = 0; call < 256; ++call) {
      auto r = mon::receive_messages(sv[1], *state, slots, fd_limit);
      if (!r) {
        MON_FUZZ_CHECK(r.code() == mon::errc::closed || r.code() == mon::errc::protocol);
        if (r.code() == mon::errc::closed) break;
        continue;
      }
      if (r.value() == 0) break;
      MON_FUZZ_CHECK(r.value() <= nslots);
      for (std::size_t i = 0; i < r.value(); ++i) {
        auto& s = slots[i];
        MON_FUZZ_CHECK(s.size <= room);
        for (const auto& d : s.fds.items()) {
          MON_FUZZ_CHECK(fz::fd_ledger::same_file(d.get()));
          MON_FUZZ_CHECK(d.get() != fz::fd_ledger::origin());
        }
        if (!s.status) {
          MON_FUZZ_CHECK(s.size == 0 && s.fds.empty());
        } else {
          MON_FUZZ_CHECK(s.fds.size() <= fd_limit);
        }
        if (honest) {
          MON_FUZZ_CHECK(next < sent.size());
          const auto& m = sent[next++];
          if (m.bytes.size() <= room && m.fds <= fd_limit) {
            MON_FUZZ_CHECK(s.status.ok());
            MON_FUZZ_CHECK(s.size == m.bytes.size() && s.fds.size() == m.fds);
            MON_FUZZ_CHECK(m.bytes.empty() ||
                           std::memcmp(s.storage.data(), m.bytes.data(), m.bytes.size()) == 0);
          } else {
            MON_FUZZ_CHECK(!s.status.ok());
          }
        }
        s.fds.clear();
      }
    }
    if (honest) MON_FUZZ_CHECK(next == sent.size());
    state.reset();
    ::close(sv[0]);
    ::close(sv[1]);
    ledger.expect_all_closed();
  }
  MON_FUZZ_CHECK(fz::open_fd_count() == before);
  return 0;
}
