// SPDX-License-Identifier: MIT
// Messages with descriptors, C++ side: mon::message_buffer, mon::send_message,
// mon::receive_message.
//
// A message is a byte payload and up to 253 descriptors, framed so that boundaries hold on
// SOCK_STREAM and SOCK_SEQPACKET alike (docs/PROTOCOL.md, "Frames").
#pragma once

#include <cstddef>
#include <span>

#include "monitor/export.h"
#include "monitor/fault.hpp"
#include "monitor/fd_list.hpp"
#include "monitor/monitor.h"
#include "monitor/result.hpp"

namespace mon {

namespace detail {
inline constexpr std::size_t transfer_storage = 4352;
struct buffer_access;
}  // namespace detail

// A byte buffer with a fixed cap. It also carries the progress of one message that a non-blocking
// send or receive left half done, so those calls can be repeated with the same buffer, and on a
// SOCK_STREAM connection what a receive read ahead (bytes and descriptors, bound to that socket by
// SO_COOKIE): use one buffer for all receives of a stream connection, for its whole life; clear()
// and destruction drop what it holds (docs/PROTOCOL.md, "Read-ahead"). It remembers the socket type
// it last received from, until clear(). Not copyable or movable (it may own descriptors).
class MON_API message_buffer {
 public:
  // max_len 0 means MON_BUFFER_DEFAULT_MAX; larger than MON_BUFFER_LIMIT is clamped to it.
  explicit message_buffer(std::size_t max_len = 0) noexcept;
  ~message_buffer();
  message_buffer(const message_buffer&) = delete;
  message_buffer& operator=(const message_buffer&) = delete;

  // Appends bytes: errc::toobig past max_size() (content unchanged), errc::nomem. Cancels a
  // half-done send.
  [[nodiscard]] result<void> append(std::span<const std::byte> bytes) noexcept;
  // Makes room for n bytes without changing the content (errc::toobig, errc::nomem).
  [[nodiscard]] result<void> reserve(std::size_t n) noexcept;
  // Empties the buffer, discards any half-done send or receive (closing its descriptors), and
  // forgets the socket type.
  void clear() noexcept;

  [[nodiscard]] std::span<const std::byte> data() const noexcept { return {data_, size_}; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t max_size() const noexcept { return max_; }
  // Why the last receive into this buffer failed, for logs (fault::none after a success); the
  // result code is what callers act on.
  [[nodiscard]] fault last_fault() const noexcept;

 private:
  friend struct detail::buffer_access;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  std::size_t max_ = 0;
  alignas(std::max_align_t) unsigned char transfer_[detail::transfer_storage];
};

// Sends buf's bytes as one message with fds attached (borrowed; the caller keeps them). Returns
// progress::done once queued; progress::want_write on a full non-blocking socket (a stream socket
// that took part of the message keeps the rest in buf: call again with the same fd and buf, and the
// descriptors are not sent twice). Errors: invalid, closed, toobig, io.
[[nodiscard]] MON_API result<progress> send_message(int fd, message_buffer& buf,
                                                    std::span<const int> fds = {}) noexcept;

// Receives one message into buf (replacing its content) and its descriptors into fds (cleared
// first; close-on-exec). More than fd_limit descriptors is errc::protocol. progress::want_read on a
// non-blocking socket with nothing (more) to read: a partly read message stays in buf; call again
// with the same fd and buf. Errors as mon_ipc_recv_fd documents; on any error fds is empty and
// every delivered descriptor closed.
[[nodiscard]] MON_API result<progress> receive_message(int fd, message_buffer& buf, fd_list& fds,
                                                       std::size_t fd_limit = max_fds) noexcept;

}  // namespace mon
