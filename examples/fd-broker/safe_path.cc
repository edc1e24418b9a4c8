// SPDX-License-Identifier: MIT
#include "safe_path.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif

#include "broker_protocol.h"

namespace fdb {
namespace {

// The requested file is first opened O_PATH: that resolves the name and pins the inode without
// running any open routine (a device's open can have side effects, a FIFO's can block), and with
// O_NOFOLLOW a trailing symlink comes back as itself, to be refused.
constexpr int probe_flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
constexpr int dir_flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Turns an O_PATH descriptor of a regular file into one open for reading. /proc/self/fd/N is a
// link to exactly the inode behind N (no name is resolved again, so nothing can be swapped in);
// the result is still checked to be that inode. Fails closed when /proc is not mounted.
int reopen_for_reading(int path_fd, const struct stat& checked) noexcept {
  char link[32];  // "/proc/self/fd/" and at most 10 digits: no allocation in a noexcept path
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", path_fd);
  // O_NONBLOCK: a write lease someone holds on the file makes open() wait for the lease break
  // (up to lease-break-time, again on every request); non-blocking, it fails with EWOULDBLOCK.
  mon::unique_fd fd(::open(link, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) return -1;
  const int fl = ::fcntl(fd.get(), F_GETFL);
  if (fl < 0 || ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) != 0) return -1;  // a plain file
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return -1;
  if (st.st_dev != checked.st_dev || st.st_ino != checked.st_ino || !S_ISREG(st.st_mode)) {
    errno = EXDEV;  // cannot happen unless /proc is not the real procfs
    return -1;
  }
  return fd.release();
}

// -1 with errno ENOSYS when the kernel or headers lack openat2.
int openat2_strict(int dirfd, const char* rel, int flags, bool beneath) noexcept {
#if defined(SYS_openat2) && defined(RESOLVE_NO_SYMLINKS)
  open_how how{};
  how.flags = static_cast<unsigned long long>(flags);
  // Beneath a grant, no mount is crossed (RESOLVE_NO_XDEV, EXDEV): a FUSE or automount point the
  // grant's owner put there could hold the walk (and the single-threaded broker) indefinitely.
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                (beneath ? RESOLVE_BENEATH | RESOLVE_NO_XDEV : 0);
  // EAGAIN: a rename raced with RESOLVE_BENEATH's check. Retried a few times only: whoever can
  // rename inside the grant must not be able to keep the single-threaded broker spinning.
  long r = -1;
  for (int attempt = 0; attempt < 8; ++attempt) {
    r = ::syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
    if (r >= 0 || (errno != EINTR && errno != EAGAIN)) break;
  }
  return static_cast<int>(r);
#else
  (void)dirfd, (void)rel, (void)flags, (void)beneath;
  errno = ENOSYS;
  return -1;
#endif
}

// Fallback: one openat per component, each with O_NOFOLLOW. path_is_clean already ruled out "..",
// "." and empty components, so this walk cannot leave the starting directory or follow a link.
int walk_open(int start, std::string_view rel, int last_flags) noexcept {
  mon::unique_fd dir(::fcntl(start, F_DUPFD_CLOEXEC, 0));
  if (!dir) return -1;
  while (true) {
    const auto slash = rel.find('/');
    const std::string name(rel.substr(0, slash));
    if (slash == std::string_view::npos) return ::openat(dir.get(), name.c_str(), last_flags);
    mon::unique_fd next(::openat(dir.get(), name.c_str(), dir_flags));
    if (!next) return -1;
    dir = std::move(next);
    rel.remove_prefix(slash + 1);
  }
}

bool fallback_wanted(int err) noexcept { return err == ENOSYS || err == EPERM; }  // EPERM: seccomp

}  // namespace

bool path_is_clean(std::string_view p, bool allow_trailing_slash) noexcept {
  if (p.empty() || p.size() > FDB_PATH_MAX || p.front() != '/') return false;
  if (p.find('\0') != std::string_view::npos) return false;
  if (p == "/") return allow_trailing_slash;
  std::string_view rest = p.substr(1);
  if (rest.back() == '/') {
    if (!allow_trailing_slash) return false;
    rest.remove_suffix(1);
  }
  while (true) {
    const auto slash = rest.find('/');
    const auto name = rest.substr(0, slash);
    if (name.empty() || name == "." || name == "..") return false;
    if (slash == std::string_view::npos) return true;
    rest.remove_prefix(slash + 1);
  }
}

open_outcome open_beneath(std::string_view base, std::string_view path, bool use_openat2) noexcept {
  open_outcome out;
  if (!path_is_clean(base, true) || base.back() != '/' || !path_is_clean(path, false) ||
      path.size() <= base.size() || path.substr(0, base.size()) != base) {
    out.err = EINVAL;
    return out;
  }
  const std::string base_z(base);
  const std::string rel(path.substr(base.size()));

  // The granted directory itself: absolute, resolved without following any symlink.
  errno = ENOSYS;
  int d =
      use_openat2 ? openat2_strict(AT_FDCWD, base_z.c_str(), dir_flags & ~O_NOFOLLOW, false) : -1;
  if (d < 0 && fallback_wanted(errno)) {
    mon::unique_fd root(::open("/", dir_flags & ~O_NOFOLLOW));
    d = root ? (base_z == "/"
                    ? ::fcntl(root.get(), F_DUPFD_CLOEXEC, 0)
                    : walk_open(root.get(), std::string_view(base_z).substr(1, base_z.size() - 2),
                                dir_flags))
             : -1;
  }
  mon::unique_fd dir(d);
  if (!dir) {
    out.err = errno;
    return out;
  }

  errno = ENOSYS;
  int f = use_openat2 ? openat2_strict(dir.get(), rel.c_str(), probe_flags, true) : -1;
  if (f < 0 && fallback_wanted(errno)) f = walk_open(dir.get(), rel, probe_flags);
  mon::unique_fd probe(f);
  if (!probe) {
    out.err = errno;
    return out;
  }
  struct stat st {};
  if (::fstat(probe.get(), &st) != 0) {
    out.err = errno;
    return out;
  }
  if (S_ISLNK(st.st_mode)) {  // what open(O_NOFOLLOW) of a symlink reports
    out.err = ELOOP;
    return out;
  }
  if (!S_ISREG(st.st_mode)) {
    out.not_regular = true;
    return out;  // never opened for I/O: the O_PATH descriptor closes here
  }
  mon::unique_fd file(reopen_for_reading(probe.get(), st));
  if (!file) {
    out.err = errno;
    return out;
  }
  out.fd = std::move(file);
  return out;
}

}  // namespace fdb
