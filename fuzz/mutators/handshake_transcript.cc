// SPDX-License-Identifier: MIT
// Structure-aware mutation of the handshake targets' input. The decoder follows the targets'
// reading order (flags, credentials, then read events until the peer's message is complete, as
// src/auth/collector.cc reads it: header first, then its body, or one record), keeping every byte;
// the mutator edits the message (version, type, body length, extensions, deny reason), the reads
// (re-chunking at any boundary, control op, credentials per read, end of file, glue bugs) and the
// write sizes, then re-encodes. A quarter of the time, and whenever the result would not fit, the
// byte-level mutator runs instead.
#include "handshake_transcript.hpp"

namespace mon::fuzz::mut {
namespace {

// docs/PROTOCOL.md: "monH", version, type, u16 body length, body (at most 256 bytes).
constexpr std::size_t header_len = 8;
constexpr std::size_t max_body = 256;
constexpr std::size_t record_space = header_len + max_body;  // one record fills at most this
// fuzz/control_spec.hpp op byte.
constexpr std::uint8_t creds_mask = 0x03, creds_other = 2, op_eof = 0x10, op_extra = 0x80;
constexpr std::uint8_t op_ctrunc = 0x04, op_trunc = 0x08, fds_mask = 0x60;

bool record_mode(const hs_input& h) { return (h.flags & 1) != 0; }

// Reads one event; false (cursor unchanged) when it does not fit whole in what is left.
bool decode_read(cursor& c, std::size_t space, hs_read& r) {
  cursor save = c;
  if (!c.u8(r.op)) return false;
  if (r.is_eof()) return true;
  if ((r.op & creds_mask) == creds_other && !c.exact(12, r.other)) return c = save, false;
  if ((r.op & op_extra) && !c.u8(r.extra)) return c = save, false;
  if (!c.u16(r.len)) return c = save, false;
  if (r.is_glue_bug()) return true;
  const std::size_t n = r.len == 0 ? 1 : (r.len > space ? space : r.len);
  r.data = c.take(n);
  if (r.data.empty()) return c = save, false;
  return true;
}

// The reads of one message, as the collector asks for them.
void decode_reads(cursor& c, hs_input& h) {
  const bool record = record_mode(h);
  std::size_t got = 0, need = header_len;
  bytes head;
  while (!c.empty()) {
    hs_read r;
    if (!decode_read(c, record ? record_space : need - got, r)) break;
    h.reads.push_back(r);
    if (!r.has_data()) break;  // end of file or a glue bug ends the run
    if (record) break;         // one record is the whole message
    got += r.data.size();
    for (std::size_t i = 0; i < r.data.size() && head.size() < header_len; ++i)
      head.push_back(r.data[i]);
    if (need == header_len && got == header_len) {
      const std::size_t body = (std::size_t{head[6]} << 8) | head[7];
      if (body > max_body) break;  // the machine refuses the header
      need += body;
    }
    if (got >= need) break;
  }
}

void encode_read(bytes& out, const hs_read& r) {
  put_u8(out, r.op);
  if (r.is_eof()) return;
  if ((r.op & creds_mask) == creds_other) append(out, r.other);
  if (r.op & op_extra) put_u8(out, r.extra);
  put_u16(out, r.len);
  append(out, r.data);
}

// ---- message-level edits -------------------------------------------------------------------

struct message {
  bytes head;  // up to 8 bytes
  bytes body;
};

message split_message(const bytes& m) {
  message s;
  const std::size_t h = m.size() < header_len ? m.size() : header_len;
  s.head.assign(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(h));
  s.body.assign(m.begin() + static_cast<std::ptrdiff_t>(h), m.end());
  s.head.resize(header_len, 0);
  return s;
}

void fix_body_len(message& m) {
  const std::size_t n = m.body.size() > 0xffff ? 0xffff : m.body.size();
  m.head[6] = static_cast<std::uint8_t>(n >> 8);
  m.head[7] = static_cast<std::uint8_t>(n);
}

bytes canonical(std::uint8_t type, std::uint16_t reason) {
  bytes m = {'m', 'o', 'n', 'H', 1, type, 0, 0};
  if (type == 3) {
    m[7] = 2;
    put_u16(m, reason);
  }
  return m;
}

void edit_message(message& m, bool server, const request& req, rng& r) {
  switch (r.below(10)) {
    case 0: {  // version
      static constexpr std::uint8_t v[] = {1, 1, 2, 0, 0xff};
      m.head[4] = r.one_in(4) ? r.byte() : v[r.below(sizeof v)];
      break;
    }
    case 1:  // type: hello, accept, deny, or anything
      m.head[5] = r.one_in(4) ? r.byte() : static_cast<std::uint8_t>(1 + r.below(3));
      break;
    case 2: {  // body length: right, off by one, at and past the limit, anything
      std::size_t n = m.body.size();
      switch (r.below(5)) {
        case 0:
          n = n + 1;
          break;
        case 1:
          n = n ? n - 1 : 0;
          break;
        case 2:
          n = max_body;
          break;
        case 3:
          n = max_body + 1;
          break;
        default:
          n = r.below(0x10000);
      }
      m.head[6] = static_cast<std::uint8_t>(n >> 8);
      m.head[7] = static_cast<std::uint8_t>(n);
      return;
    }
    case 3: {  // append an extension (critical one time in four)
      std::uint16_t type = static_cast<std::uint16_t>(r.below(0x8000));
      if (r.one_in(4)) type |= 0x8000;
      const std::size_t len = r.one_in(3) ? 0 : r.below(16);
      put_u16(m.body, type);
      put_u16(m.body, static_cast<unsigned>(len));
      for (std::size_t i = 0; i < len; ++i) put_u8(m.body, r.byte());
      break;
    }
    case 4:  // cut the body short anywhere (an extension's header or value half there)
      m.body.resize(m.body.empty() ? 0 : r.below(m.body.size()));
      break;
    case 5: {  // an extension length that overruns or underruns: a u16 inside the body
      if (m.body.size() < 4) return;
      const std::size_t at = r.below(m.body.size() - 1);
      const std::uint16_t v = static_cast<std::uint16_t>((m.body[at] << 8) | m.body[at + 1]);
      const std::uint16_t nv = static_cast<std::uint16_t>(r.one_in(2) ? v + 1 : v - 1);
      m.body[at] = static_cast<std::uint8_t>(nv >> 8);
      m.body[at + 1] = static_cast<std::uint8_t>(nv);
      return;
    }
    case 6: {  // deny reason (the body's first u16)
      if (m.body.size() < 2) m.body.resize(2, 0);
      const std::uint16_t reason = r.one_in(4) ? static_cast<std::uint16_t>(r.next())
                                               : static_cast<std::uint16_t>(r.below(5));
      m.body[0] = static_cast<std::uint8_t>(reason >> 8);
      m.body[1] = static_cast<std::uint8_t>(reason);
      break;
    }
    case 7:  // the body byte by byte
      mutate_bytes(m.body, req, 16);
      break;
    case 8: {  // a whole well-formed message of the kind this side reads
      const std::uint8_t type = server ? 1 : static_cast<std::uint8_t>(2 + r.below(2));
      const auto c = split_message(canonical(type, static_cast<std::uint16_t>(1 + r.below(3))));
      m = c;
      return;
    }
    default:  // the magic
      m.head[r.below(4)] = r.byte();
      return;
  }
  if (!r.one_in(5)) fix_body_len(m);  // usually keep the length honest, so the body is read
}

// ---- read-level edits ----------------------------------------------------------------------

std::uint8_t default_op(const hs_input& h) { return h.server ? 0 : 1; }  // peer creds / none

// Cuts msg into reads the collector takes whole (never across the header's end in stream mode),
// giving them the ops of the old reads in order.
void rechunk(hs_input& h, const bytes& msg, rng& r) {
  std::vector<hs_read> old_data, terminal;
  for (auto& rd : h.reads) (rd.has_data() ? old_data : terminal).push_back(rd);
  std::vector<std::size_t> pieces;
  if (record_mode(h)) {
    pieces.push_back(msg.size());
  } else {
    const std::size_t head = msg.size() < header_len ? msg.size() : header_len;
    pieces = random_split(head, r);
    for (std::size_t p : random_split(msg.size() - head, r)) pieces.push_back(p);
  }
  h.reads.clear();
  std::size_t off = 0;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    hs_read rd;
    if (i < old_data.size()) {
      rd = old_data[i];
    } else {
      rd.op = old_data.empty() || r.one_in(2) ? default_op(h) : old_data.back().op;
      if ((rd.op & creds_mask) == creds_other) rd.other = old_data.back().other;
      rd.extra = old_data.empty() ? 0 : old_data.back().extra;
    }
    rd.data.assign(msg.begin() + static_cast<std::ptrdiff_t>(off),
                   msg.begin() + static_cast<std::ptrdiff_t>(off + pieces[i]));
    rd.len = static_cast<std::uint16_t>(pieces[i]);
    off += pieces[i];
    h.reads.push_back(std::move(rd));
  }
  for (auto& t : terminal) h.reads.push_back(std::move(t));
}

void set_creds_mode(hs_read& rd, std::uint8_t mode, const bytes& peer, rng& r) {
  rd.op = static_cast<std::uint8_t>((rd.op & ~creds_mask) | mode);
  if (mode != creds_other) return rd.other.clear();
  rd.other = peer.size() == 12 ? peer : bytes(12, 0);
  if (!r.one_in(3)) rd.other[r.below(12)] ^= static_cast<std::uint8_t>(1 + r.below(255));
}

void edit_read(hs_input& h, rng& r) {
  if (h.reads.empty()) return;
  hs_read& rd = h.reads[r.below(h.reads.size())];
  const bytes peer = h.server && h.prefix.size() == 12 ? h.prefix : bytes(12, 0);
  switch (r.below(6)) {
    case 0:
      set_creds_mode(rd, static_cast<std::uint8_t>(r.below(4)), peer, r);
      break;
    case 1:
      rd.op ^= r.one_in(2) ? op_ctrunc : op_trunc;
      break;
    case 2:
      rd.op = static_cast<std::uint8_t>((rd.op & ~fds_mask) | (r.below(4) << 5));
      break;
    case 3:
      rd.op ^= op_extra;
      rd.extra = r.byte();
      break;
    case 4:  // back to a clean read for this side
      set_creds_mode(rd, default_op(h), peer, r);
      rd.op &= static_cast<std::uint8_t>(creds_mask);
      break;
    default:
      if (rd.has_data()) rd.op &= static_cast<std::uint8_t>(~op_eof);
  }
}

void insert_terminal(hs_input& h, rng& r) {
  hs_read t;
  if (r.one_in(2)) {
    t.op = op_eof;
  } else {
    t.op = default_op(h);
    t.len = r.one_in(2) ? 0xffff : 0xfffe;
  }
  const std::size_t at = r.below(h.reads.size() + 1);
  h.reads.erase(h.reads.begin() + static_cast<std::ptrdiff_t>(at), h.reads.end());
  h.reads.push_back(t);
}

bytes write_sizes(rng& r) {
  bytes w;
  const std::size_t n = r.below(6);
  for (std::size_t i = 0; i < n; ++i)
    put_u8(w, r.one_in(8) ? 0 : r.one_in(2) ? 1 + r.below(3) : 1 + r.below(255));
  return w;
}

std::size_t mutate(const request& req, bool server) {
  rng r(req.seed);
  if (req.size == 0 || r.one_in(4)) return req.fallback(req.data, req.size, req.max_size);
  hs_input h = decode_handshake(std::span<const std::uint8_t>(req.data, req.size), server);
  if (!h.has_flags) return req.fallback(req.data, req.size, req.max_size);

  const std::size_t edits = 1 + r.below(3);
  for (std::size_t e = 0; e < edits; ++e) {
    switch (r.below(8)) {
      case 0:
      case 1:
      case 2: {
        auto m = split_message(handshake_message(h));
        edit_message(m, server, req, r);
        bytes msg = m.head;
        append(msg, m.body);
        rechunk(h, msg, r);
        break;
      }
      case 3:
        rechunk(h, handshake_message(h), r);
        break;
      case 4:
        edit_read(h, r);
        break;
      case 5:
        insert_terminal(h, r);
        break;
      case 6:
        h.flags ^= static_cast<std::uint8_t>(1u << r.below(server ? 2 : 4));
        if (!server) {  // keep the mutual-authentication fields in step with bit 1
          if (h.flags & 2) {
            h.prefix.resize(16, 0);
            if (r.one_in(2)) std::memcpy(h.prefix.data() + 12, h.prefix.data() + 4, 4);  // uid
          } else {
            h.prefix.clear();
          }
        }
        break;
      default:
        if (server) {
          if (r.one_in(2) && h.prefix.size() == 12) {
            h.prefix[r.below(12)] = r.byte();
          } else {
            h.tail = write_sizes(r);
          }
        } else {
          h.writes = write_sizes(r);
          if (h.prefix.size() == 16) h.prefix[r.below(16)] = r.byte();
        }
    }
  }
  return finish(encode_handshake(h), req);
}

}  // namespace

hs_input decode_handshake(std::span<const std::uint8_t> in, bool server) {
  hs_input h;
  h.server = server;
  cursor c(in);
  if (!c.u8(h.flags)) return h;
  h.has_flags = true;
  const std::size_t prefix = server ? 12 : ((h.flags & 2) ? 16 : 0);
  if (!c.exact(prefix, h.prefix)) {
    h.tail = c.rest();
    return h;
  }
  if (!server) {  // the hello's 8 bytes leave in writes of the sizes these bytes give
    std::size_t sent = 0;
    std::uint8_t w = 0;
    while (sent < header_len && c.u8(w)) {
      h.writes.push_back(w);
      if (w == 0) {  // a glue bug: the run ends here
        h.tail = c.rest();
        return h;
      }
      sent += w > header_len - sent ? header_len - sent : w;
    }
  }
  decode_reads(c, h);
  h.tail = c.rest();
  return h;
}

bytes encode_handshake(const hs_input& h) {
  bytes out;
  if (!h.has_flags) return h.tail;
  put_u8(out, h.flags);
  append(out, h.prefix);
  append(out, h.writes);
  for (const auto& r : h.reads) encode_read(out, r);
  append(out, h.tail);
  return out;
}

bytes handshake_message(const hs_input& h) {
  bytes m;
  for (const auto& r : h.reads)
    if (r.has_data()) append(m, r.data);
  return m;
}

namespace {
std::size_t crossover(const cross_request& req, bool server) {
  rng r(req.seed);
  hs_input a = decode_handshake(req.a, server);
  const hs_input b = decode_handshake(req.b, server);
  if (!a.has_flags || !b.has_flags) return 0;
  rechunk(a, handshake_message(b), r);
  if (r.one_in(2)) a.tail = b.tail;  // the other's write sizes (server) or trailing bytes
  return finish_child(encode_handshake(a), req);
}
}  // namespace

std::size_t crossover_handshake_server(const cross_request& req) { return crossover(req, true); }
std::size_t crossover_handshake_client(const cross_request& req) { return crossover(req, false); }

std::size_t mutate_handshake_server(const request& req) { return mutate(req, true); }
std::size_t mutate_handshake_client(const request& req) { return mutate(req, false); }

}  // namespace mon::fuzz::mut
