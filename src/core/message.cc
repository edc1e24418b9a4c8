// The descriptor-passing glue: frames (src/frame/) over a socket (src/sys/).
#include <sys/socket.h>

#include <array>

#include "core/transfer_state.hpp"
#include "monitor/message.hpp"
#include "sys/socket.hpp"

namespace mon {
namespace {

using detail::buffer_access;
using detail::transfer_state;

// SOCK_STREAM: read exactly what remains of the current frame, in as many reads as it takes.
result<progress> receive_stream(int fd, message_buffer& buf, transfer_state& t, fd_list& fds,
                                std::size_t fd_limit) noexcept {
  if (!t.rx.in_frame()) {
    t.rx.set_limits({buf.max_size(), fd_limit});
    buffer_access::set_size(buf, 0);
  }
  const cmsg::policy pol{fd_limit, false};
  std::array<std::byte, 4096> scratch;  // where a refused frame's bytes are read and dropped
  for (;;) {
    iovec iov{};
    switch (t.rx.current_phase()) {
      case frame::stream_decoder::phase::header: {
        const auto space = t.rx.header_space();
        iov = {space.data(), space.size()};
        break;
      }
      case frame::stream_decoder::phase::payload: {
        const std::size_t got = t.rx.payload_received();
        if (got == 0) {
          if (auto room = buf.reserve(t.rx.current_header().payload_len); !room) {
            t.rx.reset();
            return room.err();
          }
        }
        iov = {buffer_access::storage(buf) + got, t.rx.wanted()};
        break;
      }
      case frame::stream_decoder::phase::discard:
        iov = {scratch.data(), std::min(scratch.size(), t.rx.wanted())};
        break;
    }

    cmsg::control_data ctl;
    const auto r = sys::receive(fd, std::span<iovec>(&iov, 1), pol, ctl);
    switch (r.what) {
      case sys::io_result::kind::would_block:
        return progress::want_read;
      case sys::io_result::kind::eof:
        return t.rx.on_eof();
      case sys::io_result::kind::failed:
        t.rx.reset();
        return r.err;
      case sys::io_result::kind::ok:
        break;
    }
    auto st = t.rx.on_bytes(r.bytes, r.control, ctl.fds);
    if (!st) return st.err();
    if (st.value() == frame::stream_decoder::status::complete) {
      buffer_access::set_size(buf, t.rx.current_header().payload_len);
      fds = std::move(t.rx.fds());
      return progress::done;
    }
  }
}

// SOCK_SEQPACKET: one record is one frame, read with a single recvmsg.
result<progress> receive_record(int fd, message_buffer& buf, fd_list& fds,
                                std::size_t fd_limit) noexcept {
  buffer_access::set_size(buf, 0);
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
  if (!r.control) return r.control.err();
  auto h = frame::check_record(head, r.bytes, (r.msg_flags & MSG_TRUNC) != 0, ctl.fds.size(),
                               {buf.max_size(), fd_limit});
  if (!h) return h.err();  // ctl closes the descriptors
  buffer_access::set_size(buf, h.value().payload_len);
  fds = std::move(ctl.fds);
  return progress::done;
}

}  // namespace

result<progress> receive_message(int fd, message_buffer& buf, fd_list& fds,
                                 std::size_t fd_limit) noexcept {
  fds.clear();
  if (fd < 0 || fd_limit > max_fds) return errc::invalid;
  auto& t = buffer_access::transfer(buf);
  if (t.rx.in_frame() && t.rx_fd != fd)
    return errc::invalid;  // a half-read frame of another socket
  if (t.rx_fd != fd || t.rx_type == 0) {
    auto type = sys::unix_socket_type(fd);
    if (!type) return type.err();
    t.rx_fd = fd;
    t.rx_type = type.value();
  }
  auto r = t.rx_type == SOCK_SEQPACKET ? receive_record(fd, buf, fds, fd_limit)
                                       : receive_stream(fd, buf, t, fds, fd_limit);
  if (!r) {
    buffer_access::set_size(buf, 0);
    t.rx_type = 0;  // look again next time: the caller may move on to another socket
  }
  return r;
}

result<progress> send_message(int fd, message_buffer& buf, std::span<const int> fds) noexcept {
  if (fd < 0) return errc::invalid;
  auto& t = buffer_access::transfer(buf);
  if (t.tx_active && t.tx_fd != fd) return errc::invalid;
  if (!t.tx_active) {
    if (fds.size() > mon::max_fds) return errc::invalid;
    for (int d : fds)
      if (d < 0) return errc::invalid;
    t.tx_header = frame::encode_header(
        {static_cast<std::uint8_t>(fds.size()), static_cast<std::uint32_t>(buf.size())});
    t.tx_sent = 0;
    t.tx_fd = fd;
  }
  const std::size_t total = frame::header_len + buf.size();
  for (;;) {
    // Header and payload leave in one sendmsg; after a partial write, whatever is left of them.
    std::array<iovec, 2> iov{};
    std::size_t n = 0;
    if (t.tx_sent < frame::header_len) {
      iov[n++] = {t.tx_header.data() + t.tx_sent, frame::header_len - t.tx_sent};
    }
    const std::size_t payload_off =
        t.tx_sent > frame::header_len ? t.tx_sent - frame::header_len : 0;
    if (buf.size() > payload_off) {
      iov[n++] = {buffer_access::storage(buf) + payload_off, buf.size() - payload_off};
    }
    // Descriptors travel with the first byte only: never again on a retry.
    const auto r = sys::send(fd, std::span<const iovec>(iov.data(), n),
                             t.tx_sent == 0 ? fds : std::span<const int>{}, nullptr);
    switch (r.what) {
      case sys::io_result::kind::would_block:
        t.tx_active = t.tx_sent > 0;
        return progress::want_write;
      case sys::io_result::kind::ok:
        break;
      default:
        t.tx_active = false;
        return r.err;
    }
    t.tx_sent += r.bytes;
    if (t.tx_sent >= total) {
      t.tx_active = false;
      return progress::done;
    }
    t.tx_active = true;
  }
}

}  // namespace mon
