// Fuzz target: message frames (src/frame/frame.cc encode_header, decode_header, check_record,
// stream_decoder) on SOCK_STREAM and SOCK_SEQPACKET semantics, with real descriptors attached to
// arbitrary reads.
//
// Input: u8 flags (bit 0 SOCK_SEQPACKET, bit 1 the bounded reader and writer of src/wire instead),
// u16 max_payload, u8 max_fds (clamped to 253), then
//   stream:    events, each an op byte (bit 4 end of file; bits 0-1 control status: 0/1 ok,
//              2 MSG_CTRUNC, 3 malformed; bits 5-7 descriptors attached, 0..7, with an ok status;
//              bit 3 new limits first: half the payload limit, one descriptor fewer),
//              u16 read length (clipped to wanted(); 0 and 0xffff: a glue bug reports no byte, or
//              one more than wanted), the bytes;
//   seqpacket: records, each an op byte (bit 3 MSG_TRUNC), u8 descriptors that arrived, u16
//              record length, the bytes.
//
//   wire:      u8 writer capacity (0..63), then ops, each a u8 kind (u8, u16, u32, bytes, a
//              u16-prefixed field, a magic), and its value.
//
// Properties: a completed frame is exactly encode_header(its header) followed by its payload, its
// descriptors are exactly those that came with its first byte and number what the header says,
// within the limits; errc::toobig only for a frame over max_payload that was read to its end; the
// decoder never asks for 0 bytes nor for bytes past the frame; decode_header(encode_header(h)) ==
// h; every descriptor is closed (by the decoder, or by us after taking a complete frame). The
// frame's codec sits on src/wire: a writer never writes past its buffer and its error is sticky, a
// reader gives back exactly what was written (big-endian) and a failed read moves nothing.
#include <cstring>
#include <vector>

#include "frame/frame.hpp"
#include "fuzz_support.hpp"
#include "wire/reader.hpp"
#include "wire/writer.hpp"

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
  len =
      (std::uint32_t{b[4]} << 24) | (std::uint32_t{b[5]} << 16) | (std::uint32_t{b[6]} << 8) | b[7];
  return num_fds <= 253 && len <= MON_BUFFER_LIMIT;
}

void run_stream(fz::input& in, mon::frame::limits lim, fz::fd_ledger& ledger) {
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
    if (opb & 0x08) {
      // New limits take effect between frames only; inside one they are ignored (the oracle
      // below keeps judging the frame by the limits it started with).
      const mon::frame::limits next{lim.max_payload / 2, lim.max_fds ? lim.max_fds - 1 : 0};
      dec.set_limits(next);
      if (!dec.in_frame()) lim = next;
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
    if (n == 0xffff || n == 0) {
      // A glue bug: no byte, or more than the decoder asked for. Refused; the frame is dropped.
      const auto bad = dec.on_bytes(n ? wanted + 1 : 0, status, fds);
      MON_FUZZ_CHECK(!bad && bad.code() == errc::invalid && fds.empty());
      MON_FUZZ_CHECK(!dec.in_frame() && dec.fds().empty());
      cur.clear();
      continue;
    }
    n = n > wanted ? wanted : n;
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

// decode_header(encode_header(h)) == h for every valid h; bytes that decode re-encode to
// themselves.
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

// Writes input-chosen values into a small buffer, then reads them back.
void run_wire(fz::input& in) {
  struct item {
    std::uint8_t kind;
    std::uint32_t value;
    std::vector<std::uint8_t> bytes;
  };
  std::uint8_t buf[64];
  const std::size_t cap = in.u8() % sizeof buf;
  mon::wire::writer w(std::span<std::uint8_t>(buf, cap));
  std::vector<item> items;  // what fitted, in order
  std::size_t pos = 0;
  bool failed = false;
  for (int i = 0; i < 64 && !in.empty(); ++i) {
    item it{static_cast<std::uint8_t>(in.u8() % 4), 0, {}};
    std::size_t width = 0;
    switch (it.kind) {
      case 0:
        it.value = in.u8();
        w.u8(static_cast<std::uint8_t>(it.value));
        width = 1;
        break;
      case 1:
        it.value = in.u16();
        w.u16(static_cast<std::uint16_t>(it.value));
        width = 2;
        break;
      case 2:
        it.value = in.u32();
        w.u32(it.value);
        width = 4;
        break;
      default: {
        const auto b = in.bytes(in.u8() % 16);
        it.bytes.assign(b.begin(), b.end());
        w.bytes(b);
        width = b.size();
      }
    }
    if (!failed && cap - pos >= width) {
      pos += width;
      items.push_back(std::move(it));
    } else {
      failed = true;  // and stays so
    }
    MON_FUZZ_CHECK(w.ok() == !failed && w.size() == pos);
  }
  mon::wire::reader r(w.written());
  for (const auto& it : items) {
    std::uint8_t v8 = 0;
    std::uint16_t v16 = 0;
    std::uint32_t v32 = 0;
    std::span<const std::uint8_t> b;
    switch (it.kind) {
      case 0:
        MON_FUZZ_CHECK(r.u8(v8) && v8 == it.value);
        break;
      case 1:
        MON_FUZZ_CHECK(r.u16(v16) && v16 == it.value);
        break;
      case 2:
        MON_FUZZ_CHECK(r.u32(v32) && v32 == it.value);
        break;
      default:
        MON_FUZZ_CHECK(r.bytes(it.bytes.size(), b) && b.size() == it.bytes.size());
        MON_FUZZ_CHECK(b.empty() || std::memcmp(b.data(), it.bytes.data(), b.size()) == 0);
    }
  }
  MON_FUZZ_CHECK(r.empty());
  // Past the end nothing reads and nothing moves.
  std::uint8_t v8 = 0;
  std::uint16_t v16 = 0;
  std::uint32_t v32 = 0;
  std::span<const std::uint8_t> b;
  mon::wire::reader child(std::span<const std::uint8_t>{});
  static constexpr std::uint8_t magic[] = {'m', 'F'};
  MON_FUZZ_CHECK(!r.u8(v8) && !r.u16(v16) && !r.u32(v32) && !r.bytes(1, b) &&
                 !r.u16_prefixed(child) && !r.expect(magic) && r.remaining() == 0);

  // A u16-prefixed field and a magic over the raw bytes of the input's rest.
  const auto raw = in.rest();
  mon::wire::reader pr(raw);
  const std::size_t before = pr.remaining();
  if (pr.u16_prefixed(child)) {
    const std::size_t len = (std::size_t{raw[0]} << 8) | raw[1];
    MON_FUZZ_CHECK(child.remaining() == len && pr.remaining() == before - 2 - len);
  } else {
    MON_FUZZ_CHECK(pr.remaining() == before);
    MON_FUZZ_CHECK(raw.size() < 2 || ((std::size_t{raw[0]} << 8) | raw[1]) > raw.size() - 2);
  }
  mon::wire::reader mr(raw);
  const bool is_magic = raw.size() >= 2 && raw[0] == 'm' && raw[1] == 'F';
  MON_FUZZ_CHECK(mr.expect(magic) == is_magic);
  MON_FUZZ_CHECK(mr.remaining() == (is_magic ? raw.size() - 2 : raw.size()));
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
  if (flags & 2) {
    run_wire(in);
  } else if (flags & 1) {
    run_records(in, lim);
  } else {
    run_stream(in, lim, ledger);
  }
  ledger.expect_all_closed();
  return 0;
}
