// SPDX-License-Identifier: MIT
// mon::sys: the only code that calls the kernel for sockets. Small on purpose: retry EINTR, map
// EAGAIN to "would block", ask the kernel for credentials; it never interprets a peer's bytes.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "cmsg/control.hpp"
#include "monitor/credentials.hpp"
#include "monitor/result.hpp"

namespace mon::sys {

// The outcome of one sendmsg or recvmsg.
struct io_result {
  enum class kind : unsigned char { ok, would_block, eof, failed };
  kind what = kind::failed;
  std::size_t bytes = 0;   // kind::ok: bytes moved (> 0)
  int msg_flags = 0;       // recvmsg's msg_flags (MSG_TRUNC, MSG_CTRUNC)
  result<void> control{};  // recvmsg: what cmsg::decode said about the control data
  error err{};             // kind::failed
};

// recvmsg into iov with room for pol's descriptors (and credentials), MSG_CMSG_CLOEXEC, retrying
// EINTR. Descriptors are owned by out from the moment recvmsg returns: the control data is decoded
// before anything else is looked at, and on a decode error they are already disposed of
// (sys::discard: never a close that a hostile descriptor can stall).
// flags may add MSG_DONTWAIT.
[[nodiscard]] io_result receive(int fd, std::span<iovec> iov, const cmsg::policy& pol,
                                cmsg::control_data& out, int flags = 0) noexcept;

// sendmsg of iov with fds (SCM_RIGHTS) and, if creds is not null, SCM_CREDENTIALS; MSG_NOSIGNAL,
// retrying EINTR. One call: the result may be a partial write on a stream socket.
[[nodiscard]] io_result send(int fd, std::span<const iovec> iov, std::span<const int> fds,
                             const peer_credentials* creds, int flags = 0) noexcept;

// True if fd's open file is in O_NONBLOCK mode (fcntl F_GETFL).
[[nodiscard]] result<bool> is_nonblocking(int fd) noexcept;

// poll() for readable (or writable) for at most timeout_ms, retrying EINTR with what is left:
// true when ready (or the peer hung up: the next call says how), false on time-out.
[[nodiscard]] result<bool> wait_ready(int fd, bool for_write, int timeout_ms) noexcept;

// SOCK_STREAM or SOCK_SEQPACKET if fd is an AF_UNIX socket of that type; errc::invalid otherwise.
[[nodiscard]] result<int> unix_socket_type(int fd) noexcept;

// SO_TYPE alone (one call, for the handshake): SOCK_STREAM or SOCK_SEQPACKET, errc::invalid for any
// other type. It does not tell AF_UNIX from AF_INET: callers that skip SO_DOMAIN must fail closed
// on a non-AF_UNIX socket by other means (the handshake: no kernel credentials arrive).
[[nodiscard]] result<int> socket_type(int fd) noexcept;

// SO_COOKIE: a number the kernel gives each socket for its lifetime and never reuses (unlike the
// descriptor number). Receive state checks it to stay bound to one socket.
[[nodiscard]] result<std::uint64_t> socket_cookie(int fd) noexcept;

// SO_PEERCRED: the peer's pid, euid and egid as recorded at connect() (or socketpair()).
[[nodiscard]] result<peer_credentials> peer_credentials_of(int fd) noexcept;

// SO_PASSCRED on or off.
[[nodiscard]] result<void> set_pass_credentials(int fd, bool on) noexcept;

// This process's pid, effective uid and effective gid, as the hello claims them (the kernel
// checks).
[[nodiscard]] peer_credentials own_credentials() noexcept;

// The outcome of a sendmsg/recvmsg-family call that returned -1 with errno e (EINTR already
// retried): EAGAIN is "would block", anything else a library error.
[[nodiscard]] io_result failed_call(int e) noexcept;

// Maps errno after a failed socket call to a library error.
[[nodiscard]] error from_errno(int e) noexcept;

}  // namespace mon::sys
