// SPDX-License-Identifier: MIT
#include "sys/listen.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "sys/socket.hpp"

namespace mon::sys {

namespace {

error last_error() noexcept { return from_errno(errno); }

// errc::io with errno e (from_errno would turn some of these into other codes).
error io_error(int e) noexcept { return {errc::io, e}; }

}  // namespace

result<unique_fd> open_unix_socket(int type, bool nonblocking) noexcept {
  const int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return last_error();
  return unique_fd(fd);
}

result<void> set_socket_file_mode(int fd, mode_t mode) noexcept {
  if (::fchmod(fd, mode) != 0) return last_error();
  return {};
}

result<void> bind_to(int fd, const unix_address& addr) noexcept {
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr.sun), addr.len) != 0) {
    return io_error(errno);
  }
  return {};
}

result<void> start_listening(int fd, int backlog) noexcept {
  if (::listen(fd, backlog) != 0) return last_error();
  return {};
}

result<void> connect_to(int fd, const unix_address& addr) noexcept {
  int rc = -1;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr.sun), addr.len);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return io_error(errno);
  return {};
}

result<path_facts> inspect_path(const char* path) noexcept {
  struct stat st {};
  path_facts f;
  if (::lstat(path, &st) != 0) {
    if (errno == ENOENT) return f;
    return io_error(errno);
  }
  f.what = S_ISSOCK(st.st_mode) ? path_facts::kind::socket : path_facts::kind::other;
  f.dev = st.st_dev;
  f.ino = st.st_ino;
  f.perm = st.st_mode & 07777;
  return f;
}

result<void> remove_socket_file(const char* path, const path_facts& seen) noexcept {
  auto now = inspect_path(path);
  if (!now) return now.err();
  if (now.value().what == path_facts::kind::absent) return {};
  if (now.value().what != path_facts::kind::socket || now.value().dev != seen.dev ||
      now.value().ino != seen.ino) {
    return io_error(EADDRINUSE);
  }
  if (::unlink(path) != 0 && errno != ENOENT) return io_error(errno);
  return {};
}

result<void> chmod_socket_file(const char* path, mode_t mode) noexcept {
  if (::fchmodat(AT_FDCWD, path, mode, AT_SYMLINK_NOFOLLOW) != 0) return io_error(errno);
  return {};
}

result<unique_fd> accept_on(int listen_fd, bool nonblocking) noexcept {
  const int flags = SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  int fd = -1;
  do {
    fd = ::accept4(listen_fd, nullptr, nullptr, flags);
  } while (fd < 0 && errno == EINTR);
  if (fd >= 0) return unique_fd(fd);
  if (errno == EAGAIN || errno == EWOULDBLOCK) return unique_fd();
  return last_error();
}

result<socket_facts> describe_socket(int fd) noexcept {
  socket_facts f;
  int value = 0;
  socklen_t len = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &value, &len) != 0) return last_error();
  f.domain = value;
  len = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &len) != 0) return last_error();
  f.type = value;
  len = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &len) != 0) return last_error();
  f.listening = value != 0;
  return f;
}

result<void> set_close_on_exec(int fd) noexcept {
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0) return last_error();
  if ((flags & FD_CLOEXEC) == 0 && ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) {
    return last_error();
  }
  return {};
}

result<void> set_nonblocking(int fd) noexcept {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return last_error();
  if ((flags & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return last_error();
  }
  return {};
}

// secure_getenv: a set-user-ID or file-capability program does not take its sockets from the
// environment of whoever started it.
const char* environment(const char* name) noexcept { return ::secure_getenv(name); }

void unset_environment(const char* name) noexcept { (void)::unsetenv(name); }

pid_t own_pid() noexcept { return ::getpid(); }

}  // namespace mon::sys
