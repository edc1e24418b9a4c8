// SPDX-License-Identifier: MIT
// Batches: the frame layer's plans carried out with sendmmsg / recvmmsg (src/sys/socket_batch.*).
// As in message.cc, no framing decision is taken here; this file moves bytes and descriptors.
//
// Why the stream binding rule holds for every entry (docs/PROTOCOL.md, "Batches"): recvmmsg runs
// one recvmsg per entry, so each entry is a kernel read of its own and the kernel's rule (a stream
// read ends right after the first skb that carries descriptors) holds for each. The entries are
// fed to the stream receiver one by one, in order, each as one on_read() with its own control
// data, exactly as if they had come from successive receive_message calls: the descriptors of an
// entry bind to the last frame whose first byte that entry brought. Entries are never merged or
// split (an entry is at most stash::max_chunk bytes, which always fits one read plan), and entries
// the caller had no slots for stay in the state, in order, with their descriptors in its pool.
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "core/batch_state.hpp"
#include "core/transfer_state.hpp"
#include "frame/frame_writer.hpp"
#include "monitor/batch.hpp"
#include "sys/discard.hpp"
#include "sys/socket.hpp"
#include "sys/socket_batch.hpp"

namespace mon {

using detail::batch_access;
using detail::batch_stash;
using detail::buffer_access;
using detail::transfer_state;
using frame::stream_receiver;

batch_receive_state::batch_receive_state() noexcept : held_(MON_BUFFER_LIMIT) {
  new (stash_) batch_stash();
}

batch_receive_state::~batch_receive_state() {
  auto& s = batch_access::stash(*this);
  s.clear();
  s.~batch_stash();
}

bool batch_receive_state::pending() const noexcept {
  auto& self = const_cast<batch_receive_state&>(*this);
  return batch_access::stash(self).held() ||
         buffer_access::transfer(batch_access::held(self)).rx.pending();
}

void batch_receive_state::clear() noexcept {
  batch_access::stash(*this).clear();
  held_.clear();
}

namespace {

// ---- send ---------------------------------------------------------------------------------------

// The rest of a half-sent frame (no descriptors: they went with its first byte), with sendmsg.
// progress::done when it is whole.
result<progress> finish_partial(int fd, const outgoing_message& m, batch_send_state& st) noexcept {
  frame::frame_writer tx;
  tx.start({static_cast<std::uint8_t>(m.fds.size()), static_cast<std::uint32_t>(m.payload.size())});
  (void)tx.on_written(batch_access::sent(st));
  for (;;) {
    const auto plan = tx.plan(m.payload);
    std::array<iovec, 2> iov{};
    for (std::size_t i = 0; i < plan.count; ++i)
      iov[i] = {const_cast<std::byte*>(plan.pieces[i].data()), plan.pieces[i].size()};
    const auto r = sys::send(fd, std::span<const iovec>(iov.data(), plan.count), {}, nullptr);
    if (r.what == sys::io_result::kind::would_block) return progress::want_write;
    if (r.what != sys::io_result::kind::ok) {
      st.reset();
      return r.err;
    }
    batch_access::sent(st) += r.bytes;
    if (tx.on_written(r.bytes)) {
      st.reset();
      return progress::done;
    }
  }
}

// Why m cannot be sent, if it cannot.
result<void> check_outgoing(const outgoing_message& m) noexcept {
  if (m.fds.size() > max_fds) return errc::invalid;
  if (m.payload.size() > MON_BUFFER_LIMIT) return errc::toobig;
  if (std::any_of(m.fds.begin(), m.fds.end(), [](int d) { return d < 0; })) return errc::invalid;
  return {};
}

// The mmsghdr entries of one sendmmsg and the storage they point into (headers, iovecs, control
// data), on the stack of send_messages.
struct outgoing_entries {
  static constexpr std::size_t control_len = 4096;
  static_assert(CMSG_SPACE(max_fds * sizeof(int)) <= control_len);
  std::array<mmsghdr, max_batch> mm;
  std::array<iovec, 2 * max_batch> iov;
  std::array<std::array<std::uint8_t, frame::header_len>, max_batch> heads;
  alignas(cmsghdr) std::array<std::byte, control_len> control;

  // Builds entries for msgs from the first, as many as fit, stopping before a message that cannot
  // be sent. Returns how many; the first message's error if it cannot be sent at all.
  result<std::size_t> build(std::span<const outgoing_message> msgs) noexcept {
    std::size_t n = 0;
    std::size_t used = 0;
    for (; n < max_batch && n < msgs.size(); ++n) {
      const auto& m = msgs[n];
      if (auto ok = check_outgoing(m); !ok) {
        if (n == 0) return ok.err();
        break;
      }
      const std::size_t space = m.fds.empty() ? 0 : CMSG_SPACE(m.fds.size() * sizeof(int));
      if (used + space > control_len && n != 0) break;
      heads[n] = frame::encode_header(
          {static_cast<std::uint8_t>(m.fds.size()), static_cast<std::uint32_t>(m.payload.size())});
      iov[2 * n] = {heads[n].data(), heads[n].size()};
      iov[2 * n + 1] = {const_cast<std::byte*>(m.payload.data()), m.payload.size()};
      msghdr& h = mm[n].msg_hdr;
      h = {};
      h.msg_iov = &iov[2 * n];
      h.msg_iovlen = m.payload.empty() ? 1 : 2;
      if (space != 0) {
        // Fits: a message of max_fds descriptors fits the empty area (checked at compile time).
        std::span<std::byte> room(control.data() + used, control_len - used);
        auto len = cmsg::encode(room, m.fds, nullptr);
        if (!len) return len.err();
        h.msg_control = room.data();
        h.msg_controllen = len.value();
        used += space;
      }
    }
    return n;
  }
};

}  // namespace

result<std::size_t> send_messages(int fd, std::span<const outgoing_message> msgs,
                                  batch_send_state& st) noexcept {
  if (fd < 0) return errc::invalid;
  std::size_t count = 0;
  if (st.pending()) {
    // Only the message that went out in part may follow on this socket.
    if (batch_access::fd(st) != fd || msgs.empty() ||
        batch_access::total(st) != frame::header_len + msgs[0].payload.size())
      return errc::invalid;
    auto r = finish_partial(fd, msgs[0], st);
    if (!r) return r.err();
    if (r.value() != progress::done) return std::size_t{0};
    count = 1;
  }

  outgoing_entries e;
  while (count < msgs.size()) {
    auto built = e.build(msgs.subspan(count));
    if (!built) return count != 0 ? result<std::size_t>(count) : built.err();
    const std::size_t n = built.value();
    if (n == 0) break;
    auto& mm = e.mm;
    const auto r = sys::send_many(fd, std::span<mmsghdr>(mm.data(), n));
    if (r.what == sys::io_result::kind::would_block) return count;
    if (r.what != sys::io_result::kind::ok) {
      if (count != 0) return count;  // the next call reports the error
      return r.err;
    }
    for (std::size_t i = 0; i < r.bytes; ++i) {
      const auto& m = msgs[count];
      const std::size_t total = frame::header_len + m.payload.size();
      if (mm[i].msg_len >= total) {
        ++count;
        continue;
      }
      // A stream socket took part of this message (and the kernel sent nothing after it).
      batch_access::fd(st) = fd;
      batch_access::sent(st) = mm[i].msg_len;
      batch_access::total(st) = total;
      auto done = finish_partial(fd, m, st);
      if (!done) return count != 0 ? result<std::size_t>(count) : done.err();
      if (done.value() != progress::done) return count;
      ++count;
      break;  // entries after a short one never went
    }
  }
  return count;
}

// ---- receive ------------------------------------------------------------------------------------

namespace {

// Entries a batch may have for this many slots: within the arrays, the control area and the pool.
std::size_t entries_for(std::size_t slots, std::size_t fd_limit, std::size_t space) noexcept {
  std::size_t e = std::min(slots, batch_stash::max_entries);
  e = std::min(e, batch_stash::pool_len / std::max<std::size_t>(fd_limit, 1));
  e = std::min(e, batch_stash::control_len / space);
  return std::max<std::size_t>(e, 1);
}

void set_control(batch_stash& s, std::size_t n, std::size_t space) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    msghdr& h = s.msgs[i].msg_hdr;
    h.msg_control = s.control.data() + i * space;
    h.msg_controllen = space;
    h.msg_flags = 0;
  }
}

// Moves entry e's descriptors out of the pool into out (empty before).
void take_entry_fds(batch_stash& s, const sys::entry_result& e, fd_list& out) noexcept {
  for (std::uint32_t i = 0; i < e.fd_count; ++i) out.push(std::move(s.pool[e.fd_first + i]));
}

// SOCK_SEQPACKET: entry i is record i, read straight into slot i.
result<std::size_t> receive_records(int fd, batch_stash& s, std::span<received_message> slots,
                                    std::size_t fd_limit) noexcept {
  const std::size_t space = cmsg::receive_space(fd_limit, true);
  const std::size_t n = entries_for(slots.size(), fd_limit, space);
  for (std::size_t i = 0; i < n; ++i) {
    s.iov[2 * i] = {s.heads[i].data(), s.heads[i].size()};
    s.iov[2 * i + 1] = {slots[i].storage.data(), slots[i].storage.size()};
    s.msgs[i].msg_hdr.msg_iov = &s.iov[2 * i];
    s.msgs[i].msg_hdr.msg_iovlen = 2;
  }
  set_control(s, n, space);
  const auto r = sys::receive_many(fd, std::span<mmsghdr>(s.msgs.data(), n), {fd_limit, false},
                                   s.pool, s.entries);
  if (r.what == sys::io_result::kind::would_block) return std::size_t{0};
  if (r.what != sys::io_result::kind::ok) return r.err;
  std::size_t k = 0;
  for (; k < r.bytes; ++k) {
    const auto& e = s.entries[k];
    auto& slot = slots[k];
    if (e.len == 0) break;  // end of file: after the records before it (entries after are empty)
    auto h = frame::check_record(s.heads[k], e.len, (e.msg_flags & MSG_TRUNC) != 0, e.control,
                                 e.fd_count, {slot.storage.size(), fd_limit});
    slot.fds.clear();
    if (!h) {
      sys::discard(std::span<unique_fd>(s.pool.data() + e.fd_first, e.fd_count));
      slot.size = 0;
      slot.status = h.err();
      continue;
    }
    take_entry_fds(s, e, slot.fds);
    slot.size = h.value().payload_len;
    slot.status = {};
  }
  if (k == 0) return errc::closed;
  return k;
}

// Feeds the next read-but-unframed stream entry to the receiver as one read.
void feed_entry(batch_stash& s, stream_receiver& rx) noexcept {
  const auto& e = s.entries[s.next];
  const std::byte* bytes = s.arena.data() + s.offset[s.next];
  const auto plan = rx.plan();
  const std::size_t direct = std::min<std::size_t>(e.len, plan.direct.size());
  if (direct != 0) std::memcpy(plan.direct.data(), bytes, direct);
  // e.len <= max_chunk <= the read-ahead room a plan always has.
  const std::size_t rest = std::min<std::size_t>(e.len - direct, plan.ahead.size());
  if (rest != 0) std::memcpy(plan.ahead.data(), bytes + direct, rest);
  fd_list fds;
  take_entry_fds(s, e, fds);
  ++s.next;
  rx.on_read(direct + rest, e.control, fds);
}

// One recvmmsg into the arena; its entries become the stash.
result<bool> read_entries(int fd, batch_stash& s, std::size_t free_slots,
                          std::size_t fd_limit) noexcept {
  const std::size_t space = cmsg::receive_space(fd_limit, true);
  const std::size_t n = entries_for(free_slots, fd_limit, space);
  const std::size_t chunk = std::min(batch_stash::max_chunk, batch_stash::arena_len / n);
  for (std::size_t i = 0; i < n; ++i) {
    s.offset[i] = static_cast<std::uint32_t>(i * chunk);
    s.iov[i] = {s.arena.data() + i * chunk, chunk};
    s.msgs[i].msg_hdr.msg_iov = &s.iov[i];
    s.msgs[i].msg_hdr.msg_iovlen = 1;
  }
  set_control(s, n, space);
  const auto r = sys::receive_many(fd, std::span<mmsghdr>(s.msgs.data(), n), {fd_limit, false},
                                   s.pool, s.entries);
  if (r.what == sys::io_result::kind::would_block) return false;
  if (r.what != sys::io_result::kind::ok) return r.err;
  s.next = 0;
  s.count = r.bytes;
  return true;
}

// A whole frame into its slot. One begun in an earlier call has its payload in the state's
// buffer: copied to the slot, or refused (toobig, descriptors disposed of) if the slot is smaller.
void hand_out(stream_receiver& rx, message_buffer& held, received_message& slot,
              bool in_slot) noexcept {
  const std::size_t len = rx.current_header().payload_len;
  if (!in_slot && len != 0) {
    if (len > slot.storage.size()) {
      fd_list refused;
      rx.take_fds(refused);
      sys::discard(refused);
      slot.fds.clear();
      slot.size = 0;
      slot.status = errc::toobig;
      return;
    }
    std::memcpy(slot.storage.data(), buffer_access::storage(held), len);
  }
  rx.take_fds(slot.fds);
  slot.size = len;
  slot.status = {};
}

// A frame left half received at the end of a call: its payload so far moves to the state's
// buffer, never to be split across this call's slot and the next one's.
result<void> park_half_frame(stream_receiver& rx, message_buffer& held,
                             const received_message& slot) noexcept {
  const std::size_t len = rx.current_header().payload_len;
  if (auto room = held.reserve(len); !room) {
    rx.reset();
    return room.err();
  }
  const std::size_t got = rx.payload_received();
  if (got != 0) std::memcpy(buffer_access::storage(held), slot.storage.data(), got);
  rx.set_storage({buffer_access::storage(held), len});
  return {};
}

// SOCK_STREAM: recvmmsg entries fed to the stream receiver in order (see the top of this file).
result<std::size_t> receive_stream(int fd, batch_stash& s, message_buffer& held,
                                   std::span<received_message> slots,
                                   std::size_t fd_limit) noexcept {
  auto& rx = buffer_access::transfer(held).rx;
  std::size_t k = 0;
  bool in_slot = false;  // the frame in progress is being written into slots[k].storage
  result<std::size_t> out = std::size_t{0};
  while (k < slots.size()) {
    auto& slot = slots[k];
    rx.set_limits({slot.storage.size(), fd_limit});
    auto ev = rx.next();
    if (!ev) {  // a frame refused (consumed), or a malformed header
      slot.fds.clear();
      slot.size = 0;
      slot.status = ev.err();
      ++k;
      in_slot = false;
      if (rx.out_of_step()) break;
      continue;
    }
    if (ev.value() == stream_receiver::event::need_storage) {
      rx.set_storage(slot.storage.first(rx.current_header().payload_len));
      in_slot = true;
      continue;
    }
    if (ev.value() == stream_receiver::event::frame) {
      hand_out(rx, held, slot, in_slot);
      ++k;
      in_slot = false;
      continue;
    }
    // need_read
    if (s.held()) {
      if (s.entries[s.next].len == 0) {  // end of file
        if (k != 0) break;               // reported by the next call
        s.clear();
        out = rx.on_eof();
        in_slot = false;
        break;
      }
      feed_entry(s, rx);
      continue;
    }
    if (k != 0) break;
    auto got = read_entries(fd, s, slots.size(), fd_limit);
    if (!got) {
      rx.reset();
      in_slot = false;
      out = got.err();
      break;
    }
    if (!got.value()) break;  // would block
  }
  if (in_slot) {
    if (auto parked = park_half_frame(rx, held, slots[k]); !parked) {
      s.clear();
      return k != 0 ? result<std::size_t>(k) : parked.err();
    }
  }
  if (!out) return out;
  return k;
}

// Keeps the state bound to one socket, as message.cc's bind_to_socket does for message_buffer:
// anything held came from the socket named by rx_cookie, never delivered to another one.
result<void> bind_to_socket(int fd, batch_stash& s, transfer_state& t) noexcept {
  if (!s.held() && !t.rx.pending()) return {};
  if (t.rx_fd != fd) return errc::invalid;
  auto cookie = sys::socket_cookie(fd);
  if (cookie && cookie.value() == t.rx_cookie) return {};
  s.clear();
  t.rx.reset();
  t.rx_type = 0;
  t.rx_cookie = 0;
  return {};
}

}  // namespace

result<std::size_t> receive_messages(int fd, batch_receive_state& state,
                                     std::span<received_message> slots,
                                     std::size_t fd_limit) noexcept {
  if (fd < 0 || fd_limit > max_fds || slots.empty()) return errc::invalid;
  auto& s = batch_access::stash(state);
  auto& held = batch_access::held(state);
  auto& t = buffer_access::transfer(held);
  if (auto bound = bind_to_socket(fd, s, t); !bound) return bound.err();
  if (t.rx_fd != fd || t.rx_type == 0) {
    auto type = sys::unix_socket_type(fd);
    if (!type) return type.err();
    t.rx_fd = fd;
    t.rx_type = type.value();
  }
  auto r = t.rx_type == SOCK_SEQPACKET ? receive_records(fd, s, slots, fd_limit)
                                       : receive_stream(fd, s, held, slots, fd_limit);
  if (!r) t.rx_type = 0;  // look again next time
  if (!s.held() && !t.rx.pending()) {
    t.rx_cookie = 0;
  } else if (t.rx_cookie == 0) {
    auto cookie = sys::socket_cookie(fd);
    if (!cookie) {
      s.clear();
      t.rx.reset();
      return cookie.err();
    }
    t.rx_cookie = cookie.value();
  }
  return r;
}

}  // namespace mon
