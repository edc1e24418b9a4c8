// SPDX-License-Identifier: MIT
// Batched messages, C++ side: mon::send_messages and mon::receive_messages move many framed
// messages (payload + descriptors each) per system call with sendmmsg / recvmmsg, every message's
// descriptors still bound to it (docs/PROTOCOL.md, "Batches").
//
// Allocation-free after warm-up: all storage is the caller's (the message spans, the slots, the
// state objects, which hold their buffers inline). The one exception is a stream frame left half
// received when a receive call returns: its payload so far moves into the receive state's buffer
// (grown once, kept).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "monitor/export.h"
#include "monitor/fd_list.hpp"
#include "monitor/message.hpp"
#include "monitor/monitor.h"
#include "monitor/result.hpp"

namespace mon {

namespace detail {
inline constexpr std::size_t batch_stash_storage = 36864;
struct batch_access;
}  // namespace detail

// The most messages one sendmmsg / recvmmsg moves (a longer span takes more calls).
inline constexpr std::size_t max_batch = 64;

// One message to send: its payload and the descriptors to attach (borrowed: the caller keeps them).
struct outgoing_message {
  std::span<const std::byte> payload;
  std::span<const int> fds;
};

// The progress of a message a non-blocking stream socket took only part of. Caller-owned, one per
// socket; small and trivially cheap to keep.
class MON_API batch_send_state {
 public:
  // True while a message is half sent: the next send_messages on this socket must start with it.
  [[nodiscard]] bool pending() const noexcept { return total_ != 0; }
  // Forgets a half-sent message (the stream is then out of step: only before closing the socket).
  void reset() noexcept {
    fd_ = -1;
    sent_ = 0;
    total_ = 0;
  }

 private:
  friend struct detail::batch_access;
  int fd_ = -1;
  std::size_t sent_ = 0;   // bytes of the half-sent frame already gone (header included)
  std::size_t total_ = 0;  // its whole length; 0: nothing pending
};

// Sends msgs in order, as few sendmmsg calls as the kernel allows (up to max_batch entries each;
// on SOCK_STREAM every message is its own entry, so its descriptors ride on its own skb). Returns
// how many of msgs went whole: msgs.size() when all did. Fewer means the socket is full (a
// non-blocking socket: wait for POLLOUT, then call again with msgs.subspan(count)), or an error
// stopped the batch after count messages (the next call reports it). If msgs[count] went out in
// part (state.pending()), the next call must start with that same message on the same socket: it
// resumes where it stopped and never sends its descriptors twice. A message with more than
// max_fds descriptors, a negative descriptor or a payload over MON_BUFFER_LIMIT is not sent:
// errc::invalid / errc::toobig when it comes first, else the batch stops before it. Errors:
// invalid (also: a pending message and a different socket or message), closed, toobig, nomem, io.
[[nodiscard]] MON_API result<std::size_t> send_messages(int fd,
                                                        std::span<const outgoing_message> msgs,
                                                        batch_send_state& state) noexcept;

// One slot for a received message. The caller sets storage (room for the payload: its size is the
// largest payload this slot accepts); receive_messages sets the rest.
struct received_message {
  std::span<std::byte> storage;
  std::size_t size = 0;  // payload bytes, at the start of storage
  fd_list fds;           // the message's descriptors (close-on-exec), owned
  result<void> status;   // ok, or why this one message was refused (consumed; size 0, no fds)
  [[nodiscard]] std::span<const std::byte> data() const noexcept { return storage.first(size); }
};

// What a receiver holds between batch receives on one socket: bytes and descriptors read ahead
// (stream), a stream frame begun, the socket it is bound to (by SO_COOKIE, like message_buffer).
// About 40 KiB, inline; not copyable or movable.
class MON_API batch_receive_state {
 public:
  batch_receive_state() noexcept;
  ~batch_receive_state();
  batch_receive_state(const batch_receive_state&) = delete;
  batch_receive_state& operator=(const batch_receive_state&) = delete;

  // True while anything of a socket is held (read ahead, a frame begun).
  [[nodiscard]] bool pending() const noexcept;
  // Drops all that is held (its descriptors are disposed of as refused ones) and the socket.
  void clear() noexcept;

 private:
  friend struct detail::batch_access;
  message_buffer held_;  // the stream receiver, its socket binding, a frame carried over
  alignas(std::max_align_t) unsigned char stash_[detail::batch_stash_storage];
};

// Receives up to slots.size() messages (at most max_batch per recvmmsg) into slots[0..n) and
// returns n; the other slots are untouched. Each filled slot is one frame, in stream order: a
// message (status ok), or one the receiver refused, consumed whole with its descriptors disposed
// of (status toobig: payload over the slot's storage; protocol: more descriptors than fd_limit, a
// count other than the header's, descriptors misplaced; truncated: MSG_CTRUNC) while the others
// are still delivered. A malformed stream header (protocol) ends the batch: the stream is out of
// step, close the socket. A payload never straddles two slots or two calls' slots.
// n == 0: nothing complete yet on a non-blocking socket (wait for POLLIN). A blocking socket
// waits for the first message only. End of file, or a socket error, after some messages: they are
// returned, and the next call reports errc::closed (errc::protocol inside a stream frame) or the
// error. fd_limit also sets how many messages one call can take: descriptors read ahead are held
// in a pool of 512, so a batch has min(max_batch, 512 / fd_limit) entries (pass the smallest limit
// the protocol needs). Use one state per socket and do not mix with receive_message on it.
// Errors: invalid, closed, protocol, nomem, io.
[[nodiscard]] MON_API result<std::size_t> receive_messages(int fd, batch_receive_state& state,
                                                           std::span<received_message> slots,
                                                           std::size_t fd_limit = max_fds) noexcept;

}  // namespace mon
