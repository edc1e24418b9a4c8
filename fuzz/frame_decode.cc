// SPDX-License-Identifier: MIT
// Fuzz target: message frames (src/frame: encode_header, decode_header, check_record, and the
// SOCK_STREAM stream_receiver with its read-ahead) with real descriptors attached to arbitrary
// reads.
//
// Input: u8 flags (bit 0 SOCK_SEQPACKET, bit 1 the bounded reader and writer of src/wire instead),
// u16 max_payload, u8 max_fds (clamped to 253), then
//   stream:    events, each an op byte (bit 4 end of file; bits 0-1 control status: 0/1 ok,
//              2 MSG_CTRUNC, 3 malformed; bits 5-7 descriptors attached, 0..7, with an ok status;
//              bit 3 new limits first: half the payload limit, one descriptor fewer),
//              u16 read length (clipped to what the receiver's plan offers; 0 and 0xffff: all it
//              offers), the bytes;
//   seqpacket: records, each an op byte (bit 3 MSG_TRUNC, bits 0-1 control status as above),
//              u8 descriptors that arrived, u16 record length, the bytes.
//
//   wire:      u8 writer capacity (0..63), then ops, each a u8 kind (u8, u16, u32, bytes, a
//              u16-prefixed field, a magic), and its value.
//
// Properties (stream): frames come out in stream order, each exactly the bytes at its place in the
// stream (header re-encodes to them, payload equal); a delivered frame's descriptors are exactly
// those of the read in which its first byte arrived, and only if no other frame began after it in
// that read (the binding rule), numbering what its header declares, within the limits; errc::toobig
// only for a frame over max_payload; a refused frame is consumed whole (the next frame starts right
// after it) unless its header is malformed; the receiver never plans a read of 0 bytes; every
// descriptor is closed in the end (handed out, or given to the disposer). The frame's codec sits on
// src/wire: a writer never writes past its buffer and its error is sticky, a reader gives back
// exactly what was written (big-endian) and a failed read moves nothing.
#include <cstring>
#include <vector>

#include "frame/frame.hpp"
#include "frame/stream_receiver.hpp"
#include "fuzz_support.hpp"
#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace {

namespace fz = mon::fuzz;
using mon::errc;
using mon::frame::stream_receiver;

// The frame header as docs/PROTOCOL.md describes it, from the bytes.
bool spec_header(std::span<const std::uint8_t> b, std::uint8_t& num_fds, std::uint32_t& len) {
  if (b.size() < 8 || b[0] != 'm' || b[1] != 'F' || b[2] != 1) return false;
  num_fds = b[3];
  len =
      (std::uint32_t{b[4]} << 24) | (std::uint32_t{b[5]} << 16) | (std::uint32_t{b[6]} << 8) | b[7];
  return num_fds <= 253 && len <= MON_BUFFER_LIMIT;
}

void dispose(mon::fd_list& fds) noexcept { fds.clear(); }

struct read_log {  // one read as we gave it
  std::size_t start = 0, end = 0;
  std::vector<int> fds;
};

// Checks what the receiver says about the frame that starts at `at` in stream (all reads so far).
class stream_oracle {
 public:
  std::vector<std::uint8_t> stream;
  std::vector<read_log> reads;
  std::size_t at = 0;  // where the next frame starts

  // A frame was handed out with this payload and these descriptors.
  void delivered(const std::vector<std::uint8_t>& payload, const mon::fd_list& fds,
                 const mon::frame::limits& lim) {
    std::uint8_t num_fds = 0;
    std::uint32_t len = 0;
    MON_FUZZ_CHECK(spec_header(span_from(at), num_fds, len));
    MON_FUZZ_CHECK(stream.size() - at >= 8 + std::size_t{len} && payload.size() == len);
    MON_FUZZ_CHECK(len <= lim.max_payload && num_fds <= lim.max_fds && fds.size() == num_fds);
    MON_FUZZ_CHECK(len == 0 || std::memcmp(payload.data(), stream.data() + at + 8, len) == 0);
    const auto enc = mon::frame::encode_header({num_fds, len});
    MON_FUZZ_CHECK(std::memcmp(enc.data(), stream.data() + at, 8) == 0);
    const read_log& r = read_at(at);
    if (!fds.empty()) {
      // The binding rule: the read that brought this frame's first byte, and no later frame
      // began in it.
      MON_FUZZ_CHECK(at + 8 + len >= r.end && r.fds.size() == fds.size());
      for (std::size_t i = 0; i < fds.size(); ++i) MON_FUZZ_CHECK(fds[i].get() == r.fds[i]);
    }
    at += 8 + len;
  }
  // A frame was refused with code c.
  void refused(errc c, const mon::frame::limits& lim, std::size_t held_end) {
    std::uint8_t num_fds = 0;
    std::uint32_t len = 0;
    if (!spec_header(span_from(at), num_fds, len)) {
      MON_FUZZ_CHECK(c == errc::protocol);
      at = held_end;  // out of step: everything held was dropped
      return;
    }
    MON_FUZZ_CHECK(c == errc::protocol || c == errc::truncated || c == errc::toobig);
    if (c == errc::toobig) MON_FUZZ_CHECK(len > lim.max_payload);
    if (c == errc::truncated) MON_FUZZ_CHECK(num_fds <= lim.max_fds);
    MON_FUZZ_CHECK(stream.size() - at >= 8 + std::size_t{len});  // consumed whole
    at += 8 + len;
  }

 private:
  std::span<const std::uint8_t> span_from(std::size_t off) const {
    return std::span<const std::uint8_t>(stream).subspan(off);
  }
  const read_log& read_at(std::size_t off) const {
    for (const auto& r : reads)
      if (r.start <= off && off < r.end) return r;
    MON_FUZZ_CHECK(false);
    return reads.front();
  }
};

void run_stream(fz::input& in, mon::frame::limits lim, fz::fd_ledger& ledger) {
  stream_receiver rx(&dispose);
  rx.set_limits(lim);
  stream_oracle o;
  std::vector<std::byte> storage;
  for (int steps = 0; steps < 4096 && !in.empty(); ++steps) {
    // Take every frame the receiver already holds.
    for (;;) {
      auto ev = rx.next();
      if (!ev) {
        o.refused(ev.code(), lim, o.stream.size());
        continue;
      }
      if (ev.value() == stream_receiver::event::need_read) break;
      if (ev.value() == stream_receiver::event::need_storage) {
        storage.assign(rx.current_header().payload_len, std::byte{0});
        rx.set_storage(storage);
        continue;
      }
      std::vector<std::uint8_t> payload(rx.current_header().payload_len);
      if (!payload.empty()) std::memcpy(payload.data(), storage.data(), payload.size());
      mon::fd_list fds;
      rx.take_fds(fds);
      o.delivered(payload, fds, lim);
    }
    const std::uint8_t opb = in.u8();
    if (opb & 0x10) {
      const bool held = rx.pending();
      const mon::error e = rx.on_eof();
      MON_FUZZ_CHECK(e.code == (held ? errc::protocol : errc::closed) && !rx.pending());
      o.at = o.stream.size();
      continue;
    }
    if (opb & 0x08) {
      // New limits: the payload limit applies from the next header on, the descriptor limit at
      // the next hand-out. The oracle follows only between frames, so apply them there.
      if (o.at == o.stream.size()) {
        lim = {lim.max_payload / 2, lim.max_fds ? lim.max_fds - 1 : 0};
        rx.set_limits(lim);
      }
    }
    const auto plan = rx.plan();
    const std::size_t offered = plan.direct.size() + plan.ahead.size();
    MON_FUZZ_CHECK(!plan.ahead.empty());

    mon::result<void> status{};
    mon::fd_list fds;
    read_log log;
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
          log.fds.push_back(fd);
        }
      }
    }
    std::size_t n = in.u16();
    if (n == 0 || n == 0xffff || n > offered) n = offered;
    const auto chunk = in.bytes(n);
    if (chunk.empty()) break;  // fds close here
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      std::byte* d = i < plan.direct.size() ? &plan.direct[i] : &plan.ahead[i - plan.direct.size()];
      *d = static_cast<std::byte>(chunk[i]);
    }
    log.start = o.stream.size();
    o.stream.insert(o.stream.end(), chunk.begin(), chunk.end());
    log.end = o.stream.size();
    o.reads.push_back(std::move(log));
    rx.on_read(chunk.size(), status, fds);
    MON_FUZZ_CHECK(fds.empty());  // taken, whatever happened
  }
  rx.reset();
}

void run_records(fz::input& in, const mon::frame::limits& lim) {
  for (int steps = 0; steps < 256 && !in.empty(); ++steps) {
    const std::uint8_t opb = in.u8();
    const std::size_t arrived = in.u8();
    const std::size_t record_len = in.u16();
    const auto rec = in.bytes(record_len);
    const bool cut = opb & 0x08;
    mon::result<void> control{};
    if ((opb & 3) == 2) control = errc::truncated;
    if ((opb & 3) == 3) control = errc::protocol;
    const auto head = rec.first(rec.size() < 8 ? rec.size() : 8);
    const auto r = mon::frame::check_record(head, rec.size(), cut, control, arrived, lim);
    std::uint8_t num_fds = 0;
    std::uint32_t len = 0;
    const bool header_ok = spec_header(rec, num_fds, len);
    if (r) {
      MON_FUZZ_CHECK(control.ok());
      MON_FUZZ_CHECK(header_ok && !cut && rec.size() == 8 + len && num_fds == arrived);
      MON_FUZZ_CHECK(len <= lim.max_payload && num_fds <= lim.max_fds);
      MON_FUZZ_CHECK(r.value().num_fds == num_fds && r.value().payload_len == len);
    } else if (r.code() == errc::toobig) {
      MON_FUZZ_CHECK(header_ok && len > lim.max_payload && num_fds == arrived && control.ok());
    } else if (r.code() == errc::truncated) {
      MON_FUZZ_CHECK(header_ok && num_fds <= lim.max_fds && control.code() == errc::truncated);
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
