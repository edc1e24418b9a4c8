// SPDX-License-Identifier: MIT
// Structure-aware mutation of frame_decode's input. The decoder models the stream decoder of
// src/frame (header of 8 bytes, then the payload its length gives; a failure, end of file or glue
// bug starts over) only to know which read belongs to which frame and how many bytes a read takes;
// every byte is kept either way. The mutator edits frames (descriptor count, payload length against
// the limits, payload bytes, magic and version), where descriptors attach (first read, a later
// one, counts off by one), control status per read, read boundaries, the limits, end of file and
// glue bugs, and whole frames (duplicate, drop, swap, stream <-> records), then re-encodes. A
// quarter of the time, and whenever the result would not fit, the byte-level mutator runs instead.
#include "frame_stream.hpp"

#include <algorithm>
#include <cstring>

namespace mon::fuzz::mut {
namespace {

namespace op = frame_op;

// docs/PROTOCOL.md frame header: "mF", version 1, u8 num_fds (<= 253), u32 payload_len.
constexpr std::size_t header_len = 8;
constexpr std::uint8_t max_fds_field = 253;
constexpr std::size_t max_payload_grow = 512;  // keeps inputs under the targets' max_len

// Where the modelled stream decoder is.
struct stream_model {
  std::size_t header_got = 0;
  bytes head;
  std::uint32_t remaining = 0;  // payload bytes still wanted
  bool in_payload = false;
  void reset() { *this = {}; }
  [[nodiscard]] std::size_t wanted() const {
    return in_payload ? remaining : header_len - header_got;
  }
};

void decode_stream(cursor& c, fr_input& f) {
  stream_model m;
  while (!c.empty()) {
    cursor save = c;
    fr_event e;
    c.u8(e.op);
    if (e.op & op::eof) {
      f.events.push_back(e);
      m.reset();
      continue;
    }
    if (!c.u16(e.len)) {
      c = save;
      return;
    }
    if (e.len == 0 || e.len == 0xffff) {
      f.events.push_back(e);
      m.reset();
      continue;
    }
    const std::size_t wanted = m.wanted();
    e.data = c.take(e.len > wanted ? wanted : e.len);
    if (e.data.empty()) {
      c = save;
      return;
    }
    e.frame_start = !m.in_payload && m.header_got == 0;
    const std::size_t fds = e.op >> op::fds_shift;
    const std::uint8_t status = e.op & op::status_mask;
    f.events.push_back(e);
    if (status == op::status_malformed || (status != op::status_ctrunc && fds && !e.frame_start)) {
      m.reset();
      continue;
    }
    if (m.in_payload) {
      m.remaining -= static_cast<std::uint32_t>(e.data.size());
      if (m.remaining == 0) m.reset();
      continue;
    }
    append(m.head, e.data);
    m.header_got += e.data.size();
    if (m.header_got < header_len) continue;
    const auto& h = m.head;
    const std::uint32_t len = (std::uint32_t{h[4]} << 24) | (std::uint32_t{h[5]} << 16) |
                              (std::uint32_t{h[6]} << 8) | h[7];
    if (h[0] != 'm' || h[1] != 'F' || h[2] != 1 || h[3] > max_fds_field || len == 0) {
      m.reset();
      continue;
    }
    m.in_payload = true;
    m.remaining = len;
  }
}

void decode_records(cursor& c, fr_input& f) {
  while (!c.empty()) {
    cursor save = c;
    fr_event e;
    if (!c.u8(e.op) || !c.u8(e.arrived) || !c.u16(e.len)) {
      c = save;
      return;
    }
    e.data = c.take(e.len);
    e.frame_start = true;
    f.events.push_back(std::move(e));
  }
}

// ---- frames as groups of reads ---------------------------------------------------------------

struct frame_group {
  bytes data;                       // header and payload, as the reads carried them
  std::vector<std::uint8_t> ops;    // one per read piece
  std::vector<std::size_t> pieces;  // read lengths, summing to data.size()
  std::uint8_t arrived = 0;         // records
  std::vector<fr_event> trailing;   // end of file / glue bugs after the frame's reads
};

std::vector<frame_group> to_groups(const fr_input& f) {
  std::vector<frame_group> g;
  for (const auto& e : f.events) {
    const bool data_event = !is_eof(f, e) && !is_glue_bug(f, e);
    if (g.empty() || (data_event && e.frame_start) || (data_event && !g.back().trailing.empty()))
      g.emplace_back();
    auto& cur = g.back();
    if (!data_event) {
      cur.trailing.push_back(e);
      continue;
    }
    append(cur.data, e.data);
    cur.ops.push_back(e.op);
    cur.pieces.push_back(e.data.size());
    cur.arrived = e.arrived;
  }
  return g;
}

void from_groups(fr_input& f, const std::vector<frame_group>& groups) {
  f.events.clear();
  for (const auto& g : groups) {
    std::size_t off = 0;
    for (std::size_t i = 0; i < g.pieces.size(); ++i) {
      fr_event e;
      e.op = g.ops[i];
      e.arrived = g.arrived;
      e.data.assign(g.data.begin() + static_cast<std::ptrdiff_t>(off),
                    g.data.begin() + static_cast<std::ptrdiff_t>(off + g.pieces[i]));
      e.len = static_cast<std::uint16_t>(g.pieces[i]);
      off += g.pieces[i];
      if (e.data.empty() && !f.records()) continue;  // a 0-length stream read is a glue bug
      f.events.push_back(std::move(e));
    }
    for (const auto& t : g.trailing) f.events.push_back(t);
  }
}

std::uint32_t payload_len_field(const bytes& d) {
  if (d.size() < header_len) return 0;
  return (std::uint32_t{d[4]} << 24) | (std::uint32_t{d[5]} << 16) | (std::uint32_t{d[6]} << 8) |
         d[7];
}
void set_payload_len_field(bytes& d, std::uint32_t v) {
  if (d.size() < header_len) d.resize(header_len, 0);
  d[4] = static_cast<std::uint8_t>(v >> 24);
  d[5] = static_cast<std::uint8_t>(v >> 16);
  d[6] = static_cast<std::uint8_t>(v >> 8);
  d[7] = static_cast<std::uint8_t>(v);
}
void fix_payload_len(bytes& d) {
  if (d.size() < header_len) d.resize(header_len, 0);
  set_payload_len_field(d, static_cast<std::uint32_t>(d.size() - header_len));
}
std::size_t fds_of(std::uint8_t opb) { return opb >> op::fds_shift; }
std::uint8_t with_fds(std::uint8_t opb, std::size_t n) {
  return static_cast<std::uint8_t>((opb & ~op::fds_mask) | ((n & 7) << op::fds_shift));
}

// New read boundaries: the header in 1..8 pieces, the payload in any; the ops stay in order
// (descriptors only on the first, unless they were elsewhere before).
void resplit(frame_group& g, bool records, rng& r) {
  if (records) {
    g.pieces = {g.data.size()};
    if (g.ops.empty()) g.ops.push_back(0);
    g.ops.resize(1);
    return;
  }
  const std::size_t head = std::min(g.data.size(), header_len);
  auto pieces = random_split(head, r);
  for (std::size_t p : random_split(g.data.size() - head, r)) pieces.push_back(p);
  std::vector<std::uint8_t> ops(pieces.size(), 0);
  for (std::size_t i = 0; i < ops.size(); ++i)
    ops[i] = i < g.ops.size()
                 ? g.ops[i]
                 : static_cast<std::uint8_t>(g.ops.empty() ? 0 : g.ops.back() & ~op::fds_mask);
  g.pieces = std::move(pieces);
  g.ops = std::move(ops);
}

void edit_frame(frame_group& g, fr_input& f, const request& req, rng& r) {
  if (g.data.size() < header_len) {  // make it a frame first
    g.data = {'m', 'F', 1, 0, 0, 0, 0, 0};
    if (g.ops.empty()) g.ops.push_back(0);
  }
  const bool records = f.records();
  bool split = true;
  switch (r.below(9)) {
    case 0: {  // the header's descriptor count, and the descriptors that come with it
      std::size_t n = r.below(5);
      switch (r.below(4)) {
        case 0:
          n = f.max_fds + (r.one_in(2) ? 1 : 0);
          break;
        case 1:
          n = r.one_in(2) ? max_fds_field : max_fds_field + 1;
          break;
        default:
          break;
      }
      g.data[3] = static_cast<std::uint8_t>(n);
      const std::size_t sent = r.one_in(4) ? n + 1 - r.below(3) : n;  // mostly what it says
      if (records) {
        g.arrived = static_cast<std::uint8_t>(sent);
      } else if (!g.ops.empty()) {
        g.ops[0] = with_fds(g.ops[0], sent);
      }
      split = false;
      break;
    }
    case 1: {  // payload length against the limit: at, over, beyond the protocol's, wrong
      const std::size_t actual = g.data.size() - header_len;
      std::uint32_t v;
      switch (r.below(6)) {
        case 0:
          v = f.max_payload;
          break;
        case 1:
          v = f.max_payload + 1u;
          break;
        case 2:
          v = 64u * 1024 * 1024 + 1;  // past MON_BUFFER_LIMIT
          break;
        case 3:
          v = static_cast<std::uint32_t>(actual + 1);
          break;
        case 4:
          v = static_cast<std::uint32_t>(actual ? actual - 1 : 0);
          break;
        default:
          v = static_cast<std::uint32_t>(r.next());
      }
      // Usually bring the payload to that length (when small), so the frame is read to its end.
      if (v <= max_payload_grow && !r.one_in(3)) {
        g.data.resize(header_len + v, static_cast<std::uint8_t>('p'));
      }
      set_payload_len_field(g.data, v);
      break;
    }
    case 2: {  // payload bytes
      bytes payload(g.data.size() - header_len);
      if (!payload.empty()) std::memcpy(payload.data(), g.data.data() + header_len, payload.size());
      mutate_bytes(payload, req, r.below(64));
      g.data.resize(header_len);
      append(g.data, payload);
      if (!r.one_in(5)) fix_payload_len(g.data);
      break;
    }
    case 3:  // magic, version
      g.data[r.below(3)] = r.one_in(2) ? r.byte() : static_cast<std::uint8_t>(r.below(3));
      split = false;
      break;
    case 4:  // read boundaries only
      break;
    case 5:  // descriptors on a later read (a protocol error), or on the first
      if (!records && g.ops.size() > 1 && r.one_in(2)) {
        auto& o = g.ops[1 + r.below(g.ops.size() - 1)];
        o = with_fds(o, 1 + r.below(7));
      } else if (!g.ops.empty()) {
        g.ops[0] = with_fds(g.ops[0], r.below(8));
        if (records) g.arrived = static_cast<std::uint8_t>(r.below(8));
      }
      split = false;
      break;
    case 6:  // control status of one read: ok, MSG_CTRUNC, malformed; MSG_TRUNC for a record
      if (!g.ops.empty()) {
        auto& o = g.ops[r.below(g.ops.size())];
        if (records) {
          o ^= op::record_trunc;
        } else {
          o = static_cast<std::uint8_t>((o & ~op::status_mask) | r.below(4));
        }
      }
      split = false;
      break;
    case 7:  // new limits announced with one read
      if (!g.ops.empty() && !records) g.ops[r.below(g.ops.size())] ^= op::new_limits;
      split = false;
      break;
    default: {  // a payload of another size, header kept honest
      const std::size_t n = r.one_in(3) ? 0 : r.below(max_payload_grow);
      g.data.resize(header_len + n, static_cast<std::uint8_t>(r.byte()));
      fix_payload_len(g.data);
    }
  }
  if (split || g.pieces.empty()) {
    resplit(g, records, r);
  } else {
    // Lengths changed without a new split: the last piece absorbs the difference.
    std::size_t sum = 0;
    for (std::size_t i = 0; i + 1 < g.pieces.size(); ++i) sum += g.pieces[i];
    if (sum >= g.data.size()) {
      resplit(g, records, r);
    } else {
      g.pieces.back() = g.data.size() - sum;
    }
  }
}

void edit_limits(fr_input& f, const std::vector<frame_group>& groups, rng& r) {
  const frame_group* g = groups.empty() ? nullptr : &groups[r.below(groups.size())];
  if (r.one_in(2)) {
    const std::uint32_t len = g ? payload_len_field(g->data) : 0;
    const std::uint32_t pick[] = {len, len ? len - 1 : 0, len + 1, 0, 0xffff};
    f.max_payload = static_cast<std::uint16_t>(r.one_in(4) ? r.next() : pick[r.below(5)]);
  } else {
    const std::uint8_t n = g && g->data.size() > 3 ? g->data[3] : 0;
    const std::uint8_t pick[] = {n, static_cast<std::uint8_t>(n ? n - 1 : 0),
                                 static_cast<std::uint8_t>(n + 1), 0, max_fds_field};
    f.max_fds = r.one_in(4) ? r.byte() : pick[r.below(5)];
  }
}

std::size_t mutate(const request& req) {
  rng r(req.seed);
  if (req.size == 0 || r.one_in(4)) return req.fallback(req.data, req.size, req.max_size);
  fr_input f = decode_frames(std::span<const std::uint8_t>(req.data, req.size));
  if (f.prefix_len < 4 || f.wire()) return req.fallback(req.data, req.size, req.max_size);
  auto groups = to_groups(f);

  const std::size_t edits = 1 + r.below(3);
  for (std::size_t e = 0; e < edits; ++e) {
    const std::size_t pick = r.below(10);
    if (pick < 5) {
      if (groups.empty()) groups.emplace_back();
      edit_frame(groups[r.below(groups.size())], f, req, r);
    } else if (pick == 5 && !groups.empty()) {  // duplicate a frame
      const std::size_t i = r.below(groups.size());
      groups.insert(groups.begin() + static_cast<std::ptrdiff_t>(i), groups[i]);
    } else if (pick == 6 && groups.size() > 1) {  // drop or swap frames
      const std::size_t i = r.below(groups.size());
      if (r.one_in(2)) {
        groups.erase(groups.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        std::swap(groups[i], groups[r.below(groups.size())]);
      }
    } else if (pick == 7 && !f.records() && !groups.empty()) {  // end of file or a glue bug
      auto& g = groups[r.below(groups.size())];
      fr_event t;
      t.op = r.one_in(2) ? op::eof : 0;
      t.len = r.one_in(2) ? 0 : 0xffff;
      if (!g.pieces.empty() && r.one_in(2)) {  // inside the frame: cut it there
        const std::size_t keep = 1 + r.below(g.pieces.size());
        std::size_t bytes_kept = 0;
        for (std::size_t i = 0; i < keep; ++i) bytes_kept += g.pieces[i];
        g.pieces.resize(keep);
        g.ops.resize(keep);
        g.data.resize(bytes_kept);
      }
      g.trailing.insert(g.trailing.begin(), t);
    } else if (pick == 8) {
      edit_limits(f, groups, r);
    } else {  // the same frames as the other socket type
      f.flags ^= 1;
      for (auto& g : groups) {
        if (f.records())
          g.arrived = static_cast<std::uint8_t>(g.ops.empty() ? 0 : fds_of(g.ops[0]));
        if (!f.records() && !g.ops.empty()) g.ops[0] = with_fds(0, g.arrived);
        g.trailing.clear();
        resplit(g, f.records(), r);
      }
    }
  }
  from_groups(f, groups);
  return finish(encode_frames(f), req);
}

}  // namespace

fr_input decode_frames(std::span<const std::uint8_t> in) {
  fr_input f;
  cursor c(in);
  if (c.remaining() < 4) {
    f.tail = c.rest();
    return f;
  }
  c.u8(f.flags);
  c.u16(f.max_payload);
  c.u8(f.max_fds);
  f.prefix_len = 4;
  if (!f.wire()) {
    if (f.records()) {
      decode_records(c, f);
    } else {
      decode_stream(c, f);
    }
  }
  f.tail = c.rest();
  return f;
}

bytes encode_frames(const fr_input& f) {
  bytes out;
  if (f.prefix_len == 4) {
    put_u8(out, f.flags);
    put_u16(out, f.max_payload);
    put_u8(out, f.max_fds);
  }
  for (const auto& e : f.events) {
    put_u8(out, e.op);
    if (f.records()) {
      put_u8(out, e.arrived);
    } else if (is_eof(f, e)) {
      continue;
    }
    put_u16(out, e.len);
    append(out, e.data);
  }
  append(out, f.tail);
  return out;
}

std::size_t mutate_frame_decode(const request& req) { return mutate(req); }

std::size_t crossover_frame_decode(const cross_request& req) {
  rng r(req.seed);
  fr_input a = decode_frames(req.a);
  const fr_input b = decode_frames(req.b);
  if (a.prefix_len < 4 || b.prefix_len < 4 || a.wire() || b.wire() || a.records() != b.records())
    return 0;
  auto ga = to_groups(a);
  const auto gb = to_groups(b);
  ga.resize(r.below(ga.size() + 1));
  const std::size_t from = r.below(gb.size() + 1);
  ga.insert(ga.end(), gb.begin() + static_cast<std::ptrdiff_t>(from), gb.end());
  from_groups(a, ga);
  a.tail.clear();
  return finish_child(encode_frames(a), req);
}

}  // namespace mon::fuzz::mut
