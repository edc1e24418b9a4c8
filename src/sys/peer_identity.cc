// SPDX-License-Identifier: MIT
#include "sys/peer_identity.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>

#include "platform/linux.hpp"
#include "sys/socket.hpp"

namespace mon::sys {
namespace {

// Kernels answer "no such option" with ENOPROTOOPT; EOPNOTSUPP is what 6.16+ says for an option
// that exists but does not apply to this socket family.
bool option_missing(int e) noexcept { return e == ENOPROTOOPT || e == EOPNOTSUPP; }

// One getsockopt whose answer is a byte string of unknown length. optlen is an int in the kernel:
// a span larger than INT_MAX cannot be offered, so it is clipped (the caller bounds far lower).
result<sized_answer> sized_option(int fd, int name, void* buf, std::size_t cap) noexcept {
  if (cap > static_cast<std::size_t>(INT_MAX)) cap = static_cast<std::size_t>(INT_MAX);
  socklen_t len = static_cast<socklen_t>(cap);
  if (::getsockopt(fd, SOL_SOCKET, name, cap ? buf : nullptr, &len) == 0) {
    if (len > cap) return error{errc::io, ERANGE};  // the kernel never writes past optlen
    return sized_answer{len, true};
  }
  const int e = errno;
  if (e == ERANGE) return sized_answer{len, false};  // len now holds the size the kernel needs
  if (option_missing(e)) return error{errc::unsupported, e};
  return from_errno(e);
}

}  // namespace

result<unique_fd> peer_pidfd(int fd) noexcept {
  int pidfd = -1;
  socklen_t len = sizeof pidfd;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) != 0) {
    const int e = errno;
    if (option_missing(e)) return error{errc::unsupported, e};
    if (e == ESRCH || e == EINVAL || e == ENODATA) return error{errc::closed, e};
    return error{errc::io, e};
  }
  unique_fd owned(pidfd);  // installed by the kernel: ours from here on, on every path
  if (len != sizeof pidfd || !owned) return error{errc::io, EPROTO};
  return owned;
}

result<sized_answer> peer_groups(int fd, std::span<gid_t> out) noexcept {
  return sized_option(fd, SO_PEERGROUPS, out.data(), out.size_bytes());
}

result<sized_answer> peer_security_label(int fd, std::span<char> out) noexcept {
  return sized_option(fd, SO_PEERSEC, out.data(), out.size());
}

// SO_PASSRIGHTS failed: ENOPROTOOPT is a kernel without it (< 6.16); EOPNOTSUPP is a kernel that
// has it and a socket that is not AF_UNIX, which is the caller's mistake (and lets the handshake
// fail closed on a TCP socket without asking SO_DOMAIN).
error pass_rights_error(int e) noexcept {
  if (e == ENOPROTOOPT) return {errc::unsupported, e};
  if (e == EOPNOTSUPP) return {errc::invalid, e};
  return from_errno(e);
}

result<bool> pass_rights(int fd) noexcept {
  int value = 0;
  socklen_t len = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &value, &len) != 0)
    return pass_rights_error(errno);
  return value != 0;
}

result<void> set_pass_rights(int fd, bool on) noexcept {
  const int value = on ? 1 : 0;
  if (::setsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &value, sizeof value) != 0)
    return pass_rights_error(errno);
  return {};
}

result<unique_fd> duplicate(int fd) noexcept {
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return error{errc::io, errno};
  return unique_fd(copy);
}

}  // namespace mon::sys
