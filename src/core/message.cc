// SPDX-License-Identifier: MIT
// The descriptor-passing glue: the frame layer's plans (src/frame/) carried out over a socket
// (src/sys/). No framing decision is taken here; this file only moves bytes and descriptors.
#include <sys/socket.h>

#include <array>

#include "core/transfer_state.hpp"
#include "monitor/message.hpp"
#include "sys/discard.hpp"
#include "sys/socket.hpp"

namespace mon {
namespace {

using detail::buffer_access;
using detail::transfer_state;
using frame::stream_receiver;

// SOCK_STREAM: one recvmsg per frame in the steady state (frame/stream_receiver.hpp).
result<progress> receive_stream(int fd, message_buffer& buf, transfer_state& t, fd_list& fds,
                                std::size_t fd_limit) noexcept {
  auto& rx = t.rx;
  rx.set_limits({buf.max_size(), fd_limit});
  rx.clear_fault();
  for (;;) {
    auto ev = rx.next();
    if (!ev) return ev.err();
    switch (ev.value()) {
      case stream_receiver::event::frame:
        buffer_access::set_size(buf, rx.current_header().payload_len);
        rx.take_fds(fds);
        return progress::done;
      case stream_receiver::event::need_storage:
        if (auto room = buf.reserve(rx.current_header().payload_len); !room) {
          rx.reset();
          return room.err();
        }
        rx.set_storage({buffer_access::storage(buf), rx.current_header().payload_len});
        break;
      case stream_receiver::event::need_read: {
        const auto plan = rx.plan();
        std::array<iovec, 2> iov{};
        std::size_t n = 0;
        if (!plan.direct.empty()) iov[n++] = {plan.direct.data(), plan.direct.size()};
        iov[n++] = {plan.ahead.data(), plan.ahead.size()};
        cmsg::control_data ctl;
        const auto r = sys::receive(fd, std::span<iovec>(iov.data(), n), {fd_limit, false}, ctl);
        switch (r.what) {
          case sys::io_result::kind::would_block:
            return progress::want_read;
          case sys::io_result::kind::eof:
            return rx.on_eof();
          case sys::io_result::kind::failed:
            rx.reset();
            return r.err;
          case sys::io_result::kind::ok:
            rx.on_read(r.bytes, r.control, ctl.fds, ctl.why);
            break;
        }
        break;
      }
    }
  }
}

// SOCK_SEQPACKET: one record is one frame, read with a single recvmsg.
result<progress> receive_record(int fd, message_buffer& buf, fd_list& fds, std::size_t fd_limit,
                                fault& why) noexcept {
  if (auto room = buf.reserve(buf.max_size()); !room) return room.err();
  std::array<std::uint8_t, frame::header_len> head{};
  std::array<iovec, 2> iov{
      {{head.data(), head.size()}, {buffer_access::storage(buf), buf.max_size()}}};
  cmsg::control_data ctl;
  const auto r = sys::receive(fd, iov, {fd_limit, false}, ctl);
  switch (r.what) {
    case sys::io_result::kind::would_block:
      return progress::want_read;
    case sys::io_result::kind::eof:
      return errc::closed;
    case sys::io_result::kind::failed:
      return r.err;
    case sys::io_result::kind::ok:
      break;
  }
  auto h = frame::check_record(head, r.bytes, (r.msg_flags & MSG_TRUNC) != 0, r.control,
                               ctl.fds.size(), {buf.max_size(), fd_limit}, &why);
  if (!h) {
    if (why == fault::none) why = ctl.why;
    sys::discard(ctl.fds);
    return h.err();
  }
  buffer_access::set_size(buf, h.value().payload_len);
  fds = std::move(ctl.fds);
  return progress::done;
}

// Keeps the receive state bound to one socket. Anything held (a frame begun, bytes or descriptors
// read ahead) came from the socket named by rx_cookie; the number alone could by now name a new
// connection (the caller closed the old one and reused the buffer). Checked only while something
// is held, so the steady state pays nothing.
result<void> bind_to_socket(int fd, transfer_state& t) noexcept {
  if (!t.rx.pending()) return {};
  if (t.rx_fd != fd) return errc::invalid;  // a half-read frame of another socket
  auto cookie = sys::socket_cookie(fd);
  if (cookie && cookie.value() == t.rx_cookie) return {};
  // Another socket under the same number: what the old one sent is never delivered to this one.
  t.rx.reset();
  t.rx_type = 0;
  t.rx_cookie = 0;
  return {};
}

}  // namespace

result<progress> receive_message(int fd, message_buffer& buf, fd_list& fds,
                                 std::size_t fd_limit) noexcept {
  fds.clear();
  if (fd < 0 || fd_limit > max_fds) return errc::invalid;
  auto& t = buffer_access::transfer(buf);
  if (auto bound = bind_to_socket(fd, t); !bound) return bound.err();
  if (t.rx_fd != fd || t.rx_type == 0) {
    auto type = sys::unix_socket_type(fd);
    if (!type) return type.err();
    t.rx_fd = fd;
    t.rx_type = type.value();
  }
  buffer_access::set_size(buf, 0);
  fault why = fault::none;
  auto r = t.rx_type == SOCK_SEQPACKET ? receive_record(fd, buf, fds, fd_limit, why)
                                       : receive_stream(fd, buf, t, fds, fd_limit);
  if (t.rx_type != SOCK_SEQPACKET) why = t.rx.last_fault();
  t.rx_fault = r ? fault::none : why;
  if (!r) {
    buffer_access::set_size(buf, 0);
    t.rx_type = 0;  // look again next time: the caller may move on to another socket
  }
  if (!t.rx.pending()) {
    t.rx_cookie = 0;
  } else if (t.rx_cookie == 0) {
    auto cookie = sys::socket_cookie(fd);
    if (!cookie) {
      t.rx.reset();  // cannot bind what is held to its socket: drop it rather than risk it
      return cookie.err();
    }
    t.rx_cookie = cookie.value();
  }
  return r;
}

result<progress> send_message(int fd, message_buffer& buf, std::span<const int> fds) noexcept {
  if (fd < 0) return errc::invalid;
  auto& t = buffer_access::transfer(buf);
  auto& tx = t.tx;
  if (tx.partly_sent() && t.tx_fd != fd) return errc::invalid;
  if (!tx.partly_sent()) {
    // Negative descriptors are refused by cmsg::encode (errc::invalid, nothing sent).
    if (fds.size() > mon::max_fds) return errc::invalid;
    tx.start({static_cast<std::uint8_t>(fds.size()), static_cast<std::uint32_t>(buf.size())});
    t.tx_fd = fd;
  }
  for (;;) {
    const auto plan = tx.plan(buf.data());
    std::array<iovec, 2> iov{};
    for (std::size_t i = 0; i < plan.count; ++i)
      iov[i] = {const_cast<std::byte*>(plan.pieces[i].data()), plan.pieces[i].size()};
    const auto r = sys::send(fd, std::span<const iovec>(iov.data(), plan.count),
                             plan.with_fds ? fds : std::span<const int>{}, nullptr);
    switch (r.what) {
      case sys::io_result::kind::would_block:
        if (!tx.partly_sent()) tx.cancel();  // nothing went out: the next call starts afresh
        return progress::want_write;
      case sys::io_result::kind::ok:
        break;
      default:
        tx.cancel();
        return r.err;
    }
    if (tx.on_written(r.bytes)) return progress::done;
  }
}

}  // namespace mon
