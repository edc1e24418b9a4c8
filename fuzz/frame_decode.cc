// Fuzz target: message frames (src/frame/frame.cc encode_header, decode_header, check_record,
// stream_decoder) on SOCK_STREAM and SOCK_SEQPACKET semantics, with real descriptors attached to
// arbitrary reads.
//
// Input: u8 flags (bit 0 SOCK_SEQPACKET), u16 max_payload, u8 max_fds (clamped to 253), then
//   stream:    events, each an op byte (bit 4 end of file; bits 0-1 control status: 0/1 ok,
//              2 MSG_CTRUNC, 3 malformed; bits 5-7 descriptors attached, 0..7, with an ok status),
//              u16 read length (clipped to 1..wanted()), the bytes;
//   seqpacket: records, each an op byte (bit 3 MSG_TRUNC), u8 descriptors that arrived, u16
//              record length, the bytes.
//
// Properties: a completed frame is exactly encode_header(its header) followed by its payload, its
// descriptors are exactly those that came with its first byte and number what the header says,
// within the limits; errc::toobig only for a frame over max_payload that was read to its end; the
// decoder never asks for 0 bytes nor for bytes past the frame; decode_header(encode_header(h)) == h;
// every descriptor is closed (by the decoder, or by us after taking a complete frame).
#include <cstring>
#include <vector>

#include "frame/frame.hpp"
#include "fuzz_support.hpp"

namespace {

namespace fz = mon::fuzz;
using mon::errc;
using mon::frame::stream_decoder;

struct frame_log {  // what the current frame was made of, as we gave it
  std::vector<std::uint8_t> bytes;
  std::vector<int> first_fds;
  bool late_fds = false;
  bool control_error = false;
  bool truncated = false;
  void clear() { *this = {}; }
};

// The frame header as docs/PROTOCOL.md describes it, from the bytes.
bool spec_header(std::span<const std::uint8_t> b, std::uint8_t& num_fds, std::uint32_t& len) {
  if (b.size() < 8 || b[0] != 'm' || b[1] != 'F' || b[2] != 1) return false;
  num_fds = b[3];
  len = (std::uint32_t{b[4]} << 24) | (std::uint32_t{b[5]} << 16) | (std::uint32_t{b[6]} << 8) | b[7];
  return num_fds <= 253 && len <= MON_BUFFER_LIMIT;
}

void run_stream(fz::input& in, const mon::frame::limits& lim, fz::fd_ledger& ledger) {
  stream_decoder dec(lim);
  frame_log cur;
  for (int steps = 0; steps < 4096 && !in.empty(); ++steps) {
    const std::uint8_t opb = in.u8();
    if (opb & 0x10) {
      const bool inside = dec.in_frame();
      const mon::error e = dec.on_eof();
      MON_FUZZ_CHECK(e.code == (inside ? errc::protocol : errc::closed));
      MON_FUZZ_CHECK(!dec.in_frame() && dec.fds().empty());
      cur.clear();
      continue;
    }
    const std::size_t wanted = dec.wanted();
    MON_FUZZ_CHECK(wanted >= 1);
    if (!dec.in_frame()) cur.clear();
    const bool first_read = !dec.in_frame();

    mon::result<void> status{};
    mon::fd_list fds;
    switch (opb & 3) {
      case 2:
        status = errc::truncated;
        break;
      case 3:
        status = errc::protocol;
        break;
      default: {
        const std::size_t k = opb >> 5;
        for (std::size_t i = 0; i < k; ++i) {
          const int fd = ledger.make();
          MON_FUZZ_CHECK(fds.push(mon::unique_fd(fd)));
          if (first_read) cur.first_fds.push_back(fd);
        }
        if (k && !first_read) cur.late_fds = true;
      }
    }
    if (!status) cur.control_error = true;
    if (status.code() == errc::truncated && !status) cur.truncated = true;

    std::size_t n = in.u16();
    n = n == 0 ? 1 : (n > wanted ? wanted : n);
    const auto chunk = in.bytes(n);
    if (chunk.empty()) break;  // fds close here
    if (dec.current_phase() == stream_decoder::phase::header) {
      const auto space = dec.header_space();
      MON_FUZZ_CHECK(space.size() == wanted);
      std::memcpy(space.data(), chunk.data(), chunk.size());
    }
    cur.bytes.insert(cur.bytes.end(), chunk.begin(), chunk.end());
    const auto r = dec.on_bytes(chunk.size(), status, fds);
    MON_FUZZ_CHECK(fds.empty());  // taken, whatever happened

    std::uint8_t num_fds = 0;
    std::uint32_t len = 0;
    const bool header_ok = spec_header(cur.bytes, num_fds, len);
    if (!r) {
      MON_FUZZ_CHECK(!dec.in_frame() && dec.fds().empty());
      const errc c = r.code();
      if (c == errc::toobig) {
        MON_FUZZ_CHECK(header_ok && len > lim.max_payload && cur.bytes.size() == 8 + len);
        MON_FUZZ_CHECK(num_fds == cur.first_fds.size() && !cur.late_fds && !cur.control_error);
      } else if (c == errc::truncated) {
        MON_FUZZ_CHECK(cur.truncated && header_ok && cur.bytes.size() == 8 + len);
      } else {
        MON_FUZZ_CHECK(c == errc::protocol);
      }
      continue;
    }
    if (r.value() == stream_decoder::status::more) {
      MON_FUZZ_CHECK(dec.in_frame());
      continue;
    }
    // Complete: the frame as the document reads it.
    MON_FUZZ_CHECK(header_ok && !cur.control_error && !cur.late_fds);
    MON_FUZZ_CHECK(cur.bytes.size() == 8 + len && len <= lim.max_payload && num_fds <= lim.max_fds);
    const auto h = dec.current_header();
    MON_FUZZ_CHECK(h.num_fds == num_fds && h.payload_len == len);
    const auto enc = mon::frame::encode_header(h);
    MON_FUZZ_CHECK(std::memcmp(enc.data(), cur.bytes.data(), enc.size()) == 0);
    auto& got = dec.fds();
    MON_FUZZ_CHECK(got.size() == num_fds && got.size() == cur.first_fds.size());
    for (std::size_t i = 0; i < got.size(); ++i) MON_FUZZ_CHECK(got[i].get() == cur.first_fds[i]);
    mon::fd_list mine(std::move(got));  // the caller's now; closed right away
    MON_FUZZ_CHECK(!dec.in_frame());
    cur.clear();
  }
}

void run_records(fz::input& in, const mon::frame::limits& lim) {
  for (int steps = 0; steps < 256 && !in.empty(); ++steps) {
    const std::uint8_t opb = in.u8();
    const std::size_t arrived = in.u8();
    const std::size_t record_len = in.u16();
    const auto rec = in.bytes(record_len);
    const bool cut = opb & 0x08;
    const auto head = rec.first(rec.size() < 8 ? rec.size() : 8);
    const auto r = mon::frame::check_record(head, rec.size(), cut, arrived, lim);
    std::uint8_t num_fds = 0;
    std::uint32_t len = 0;
    const bool header_ok = spec_header(rec, num_fds, len);
    if (r) {
      MON_FUZZ_CHECK(header_ok && !cut && rec.size() == 8 + len && num_fds == arrived);
      MON_FUZZ_CHECK(len <= lim.max_payload && num_fds <= lim.max_fds);
      MON_FUZZ_CHECK(r.value().num_fds == num_fds && r.value().payload_len == len);
    } else if (r.code() == errc::toobig) {
      MON_FUZZ_CHECK(header_ok && len > lim.max_payload && num_fds == arrived);
    } else {
      MON_FUZZ_CHECK(r.code() == errc::protocol);
    }
  }
}

// decode_header(encode_header(h)) == h for every valid h; bytes that decode re-encode to themselves.
void header_round_trip(std::span<const std::uint8_t, 8> b) {
  const auto d = mon::frame::decode_header(b);
  std::uint8_t num_fds = 0;
  std::uint32_t len = 0;
  MON_FUZZ_CHECK(d.ok() == spec_header(b, num_fds, len));
  if (d) {
    const auto enc = mon::frame::encode_header(d.value());
    MON_FUZZ_CHECK(std::memcmp(enc.data(), b.data(), 8) == 0);
  }
  mon::frame::header h{static_cast<std::uint8_t>(b[3] % 254),
                       static_cast<std::uint32_t>(len % (MON_BUFFER_LIMIT + 1))};
  const auto back = mon::frame::decode_header(mon::frame::encode_header(h));
  MON_FUZZ_CHECK(back.ok() && back.value() == h);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fz::input in(data, size);
  const std::uint8_t flags = in.u8();
  mon::frame::limits lim;
  lim.max_payload = in.u16();
  lim.max_fds = in.u8();
  if (lim.max_fds > mon::max_fds) lim.max_fds = mon::max_fds;
  if (size >= 8) header_round_trip(std::span<const std::uint8_t, 8>(data + size - 8, 8));

  fz::fd_ledger ledger;
  if (flags & 1) {
    run_records(in, lim);
  } else {
    run_stream(in, lim, ledger);
  }
  ledger.expect_all_closed();
  return 0;
}
