// SPDX-License-Identifier: MIT
#include "sys/socket.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include <cerrno>

#include "platform/linux.hpp"
#include "sys/discard.hpp"

namespace mon::sys {

error from_errno(int e) noexcept {
  switch (e) {
    case EPIPE:
    case ECONNRESET:
      return {errc::closed, e};
    case EMSGSIZE:
      return {errc::toobig, e};
    case ENOMEM:
    case ENOBUFS:
      return {errc::nomem, e};
    case EBADF:
    case ENOTSOCK:
    case EINVAL:
      return {errc::invalid, e};
    default:
      return {errc::io, e};
  }
}

// The outcome of a sendmsg or recvmsg that returned -1 with errno e (EINTR already retried).
io_result failed_call(int e) noexcept {
  io_result r;
  if (e == EAGAIN || e == EWOULDBLOCK) {
    r.what = io_result::kind::would_block;
  } else {
    r.err = from_errno(e);
  }
  return r;
}

io_result receive(int fd, std::span<iovec> iov, const cmsg::policy& pol, cmsg::control_data& out,
                  int flags) noexcept {
  alignas(cmsghdr) std::byte control[cmsg::max_space];
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  msg.msg_control = control;
  // Room for credentials even when they are not allowed: a stray SCM_CREDENTIALS (SO_PASSCRED left
  // on) is then reported as the protocol error it is, not as a cut control buffer.
  msg.msg_controllen = cmsg::receive_space(pol.max_fds, true);

  ssize_t n = -1;
  do {
    n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | flags);
  } while (n < 0 && errno == EINTR);

  if (n < 0) {
    const int e = errno;
    out.clear();
    return failed_call(e);
  }
  io_result r;
  // Ownership first: every descriptor in the control data is now held (or closed) by out.
  cmsg::policy refusing = pol;
  refusing.dispose = &discard;
  r.control = cmsg::decode(std::span<const std::byte>(control, msg.msg_controllen), msg.msg_flags,
                           refusing, out);
  r.msg_flags = msg.msg_flags;
  r.bytes = static_cast<std::size_t>(n);
  if (n == 0) {
    discard(out.fds);
    out.clear();  // end of file (or an empty record): nothing that came with it is used
    r.what = io_result::kind::eof;
    return r;
  }
  r.what = io_result::kind::ok;
  return r;
}

io_result send(int fd, std::span<const iovec> iov, std::span<const int> fds,
               const peer_credentials* creds, int flags) noexcept {
  alignas(cmsghdr) std::byte control[cmsg::max_space];
  auto len = cmsg::encode(control, fds, creds);
  io_result r;
  if (!len) {
    r.err = len.err();
    return r;
  }
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov.data());  // sendmsg does not write through it
  msg.msg_iovlen = iov.size();
  msg.msg_control = len.value() ? control : nullptr;
  msg.msg_controllen = len.value();

  ssize_t n = -1;
  do {
    n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | flags);
  } while (n < 0 && errno == EINTR);

  if (n < 0) return failed_call(errno);
  r.what = io_result::kind::ok;
  r.bytes = static_cast<std::size_t>(n);
  return r;
}

result<int> unix_socket_type(int fd) noexcept {
  if (fd < 0) return errc::invalid;
  int value = 0;
  socklen_t len = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &value, &len) != 0) return from_errno(errno);
  if (value != AF_UNIX) return errc::invalid;
  len = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &len) != 0) return from_errno(errno);
  if (value != SOCK_STREAM && value != SOCK_SEQPACKET) return errc::invalid;
  return value;
}

result<bool> is_nonblocking(int fd) noexcept {
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0) return from_errno(errno);
  return (fl & O_NONBLOCK) != 0;
}

result<bool> wait_ready(int fd, bool for_write, int timeout_ms) noexcept {
  pollfd p{fd, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    const int n = ::poll(&p, 1, timeout_ms);
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return from_errno(errno);
    const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - start)
                           .count();
    timeout_ms = spent >= timeout_ms ? 0 : timeout_ms - static_cast<int>(spent);
  }
}

result<int> socket_type(int fd) noexcept {
  int value = 0;
  socklen_t len = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &len) != 0) return from_errno(errno);
  if (value != SOCK_STREAM && value != SOCK_SEQPACKET) return errc::invalid;
  return value;
}

result<std::uint64_t> socket_cookie(int fd) noexcept {
  std::uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  if (::getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0) return from_errno(errno);
  return cookie;
}

result<peer_credentials> peer_credentials_of(int fd) noexcept {
  ucred c{};
  socklen_t len = sizeof c;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) != 0) return from_errno(errno);
  if (len != sizeof c) return errc::io;
  return peer_credentials{c.pid, c.uid, c.gid};
}

result<void> set_pass_credentials(int fd, bool on) noexcept {
  const int value = on ? 1 : 0;
  if (::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &value, sizeof value) != 0) {
    // EOPNOTSUPP: recent kernels keep SO_PASSCRED to AF_UNIX (and netlink) sockets: not ours.
    if (errno == EOPNOTSUPP) return error{errc::invalid, EOPNOTSUPP};
    return from_errno(errno);
  }
  return {};
}

peer_credentials own_credentials() noexcept { return {::getpid(), ::geteuid(), ::getegid()}; }

}  // namespace mon::sys
