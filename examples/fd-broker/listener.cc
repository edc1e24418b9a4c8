// SPDX-License-Identifier: MIT
#include "listener.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fdb {
namespace {

std::string sys_error(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

bool fill_address(const char* path, sockaddr_un& addr) noexcept {
  const std::size_t len = std::strlen(path);
  if (len == 0 || len >= sizeof addr.sun_path) return false;
  addr = {};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path, len);
  return true;
}

bool parent_is_safe(const char* path, std::string& error) {
  std::string dir(path);
  const auto slash = dir.rfind('/');
  dir = slash == std::string::npos ? "." : slash == 0 ? "/" : dir.substr(0, slash);
  // O_NOFOLLOW on the last component: a symlinked parent is refused (ENOTDIR with O_DIRECTORY).
  mon::unique_fd d(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!d) return error = sys_error(("directory " + dir).c_str()), false;
  struct stat st {};
  if (::fstat(d.get(), &st) != 0) return error = sys_error("fstat directory"), false;
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    return error = "directory " + dir + " is owned by someone else", false;
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return error = "directory " + dir + " is writable by group or others", false;
  return true;
}

// True when nothing listens on the socket at addr any more.
bool is_stale(const sockaddr_un& addr) noexcept {
  mon::unique_fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) return false;
  const int r = ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  return r != 0 && errno == ECONNREFUSED;
}

}  // namespace

bool make_listener(const char* path, mode_t mode, listener& out, std::string& error) {
  sockaddr_un addr{};
  if (!fill_address(path, addr)) return error = "socket path empty or too long", false;
  if (!parent_is_safe(path, error)) return false;

  struct stat st {};
  if (::lstat(path, &st) == 0) {
    if (S_ISLNK(st.st_mode))
      return error = "refusing to follow the symlink at the socket path", false;
    if (!S_ISSOCK(st.st_mode)) return error = "socket path exists and is not a socket", false;
    if (st.st_uid != ::geteuid())
      return error = "socket path is a socket owned by someone else", false;
    if (!is_stale(addr)) return error = "another process listens on the socket path", false;
    if (::unlink(path) != 0) return error = sys_error("unlink stale socket"), false;
  } else if (errno != ENOENT) {
    return error = sys_error("lstat socket path"), false;
  }

  mon::unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return error = sys_error("socket"), false;
  // On the listener, so that no accepted socket ever exists without it (docs: ATTACKS.md #17).
  const int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0)
    return error = sys_error("SO_PASSCRED"), false;
  // bind() creates the file with 0777 & ~umask: set the umask so it is born with `mode`, no chmod
  // afterwards (which would follow a path someone could have replaced). Single-threaded here.
  const mode_t old = ::umask(static_cast<mode_t>(~mode & 0777));
  const int b = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int bind_errno = errno;
  ::umask(old);
  if (b != 0) return errno = bind_errno, error = sys_error("bind"), false;
  if (::listen(fd.get(), 128) != 0) return error = sys_error("listen"), false;
  if (::lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
    return error = "socket vanished after bind", false;
  out.dev = st.st_dev;
  out.ino = st.st_ino;
  out.fd = std::move(fd);
  return true;
}

void remove_listener_path(const char* path, const listener& l) noexcept {
  struct stat st {};
  if (::lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == l.dev && st.st_ino == l.ino)
    (void)::unlink(path);
}

}  // namespace fdb
