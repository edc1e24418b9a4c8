// SPDX-License-Identifier: MIT
#include "sys/memfd.hpp"

#include <cerrno>

#include "sys/socket.hpp"

#if defined(__linux__)
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#if defined(MFD_ALLOW_SEALING) && defined(F_GET_SEALS) && !defined(MONITOR_FORCE_NO_MEMFD)
#define MON_HAVE_MEMFD 1
#endif
#endif

#if defined(MON_HAVE_MEMFD)

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U  // Linux 6.3: not executable, and sealed so it stays that way
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010  // Linux 5.1
#endif

// The pure layer spells these values out; they are the kernel's ABI and must agree.
static_assert(mon::shm::seal_seal == F_SEAL_SEAL);
static_assert(mon::shm::seal_shrink == F_SEAL_SHRINK);
static_assert(mon::shm::seal_grow == F_SEAL_GROW);
static_assert(mon::shm::seal_write == F_SEAL_WRITE);
static_assert(mon::shm::seal_future_write == F_SEAL_FUTURE_WRITE);
static_assert(mon::shm::mode_type_mask == S_IFMT);
static_assert(mon::shm::mode_regular == S_IFREG);
static_assert(mon::shm::access_mask == O_ACCMODE);
static_assert(mon::shm::access_read_only == O_RDONLY);
static_assert(mon::shm::access_write_only == O_WRONLY);
static_assert(mon::shm::access_read_write == O_RDWR);
static_assert(mon::shm::status_path == O_PATH);
static_assert(mon::shm::tmpfs_magic == TMPFS_MAGIC);

namespace mon::sys {

bool memfd_supported() noexcept { return true; }

result<unique_fd> memfd_create_sealable() noexcept {
  // The name only shows in /proc/<pid>/fd and /proc/<pid>/maps.
  constexpr const char* name = "monitor-shm";
  int fd = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
  if (fd < 0 && errno == EINVAL) fd = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOSYS || e == EINVAL) return error{errc::unsupported, e};
    return from_errno(e);
  }
  return unique_fd(fd);
}

result<void> truncate(int fd, std::uint64_t len) noexcept {
  if (len > static_cast<std::uint64_t>(INT64_MAX)) return errc::invalid;
  int rc = -1;
  do {
    rc = ::ftruncate(fd, static_cast<off_t>(len));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return from_errno(errno);
  return {};
}

result<void> add_seals(int fd, std::uint32_t seals) noexcept {
  if (::fcntl(fd, F_ADD_SEALS, static_cast<int>(seals)) != 0) {
    const int e = errno;
    if (e == EINVAL) return error{errc::unsupported, e};
    if (e == EBADF) return error{errc::invalid, e};
    return error{errc::io, e};  // EBUSY (writable mapping), EPERM (F_SEAL_SEAL already set)
  }
  return {};
}

result<shm::facts> inspect(int fd) noexcept {
  shm::facts f;
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0) return error{errc::invalid, errno};
  f.status_flags = static_cast<std::uint32_t>(fl);
  // Seals before size: seals only ever get added, so if the shrink seal is set now, the size fstat
  // reports next can no longer go down. The other order lets a peer shrink between the two calls.
  const int seals = ::fcntl(fd, F_GET_SEALS);
  f.seals_known = seals >= 0;
  f.seals = seals >= 0 ? static_cast<std::uint32_t>(seals) : 0;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return error{errc::invalid, errno};
  f.mode = static_cast<std::uint32_t>(st.st_mode);
  f.size = static_cast<std::int64_t>(st.st_size);
  struct statfs sfs {};
  if (::fstatfs(fd, &sfs) == 0) f.fs_magic = static_cast<std::uint64_t>(sfs.f_type);
  return f;  // a failed fstatfs leaves fs_magic 0, which check() refuses
}

namespace {

result<void*> do_map(int fd, std::size_t len, int prot, int flags) noexcept {
  void* p = ::mmap(nullptr, len, prot, flags, fd, 0);
  if (p == MAP_FAILED) {
    const int e = errno;
    if (e == ENOMEM) return error{errc::nomem, e};
    return error{errc::io, e};
  }
  return p;
}

}  // namespace

result<void*> map(int fd, std::size_t len, bool writable) noexcept {
  return do_map(fd, len, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED);
}

result<void*> map_private_read(int fd, std::size_t len) noexcept {
  return do_map(fd, len, PROT_READ, MAP_PRIVATE);
}

void unmap(void* addr, std::size_t len) noexcept {
  if (addr != nullptr) (void)::munmap(addr, len);
}

}  // namespace mon::sys

#else  // no memfd sealing on this platform: say so, never fake it with an unsealed file

namespace mon::sys {

bool memfd_supported() noexcept { return false; }
result<unique_fd> memfd_create_sealable() noexcept { return errc::unsupported; }
result<void> truncate(int, std::uint64_t) noexcept { return errc::unsupported; }
result<void> add_seals(int, std::uint32_t) noexcept { return errc::unsupported; }
result<shm::facts> inspect(int) noexcept { return errc::unsupported; }
result<void*> map(int, std::size_t, bool) noexcept { return errc::unsupported; }
result<void*> map_private_read(int, std::size_t) noexcept { return errc::unsupported; }
void unmap(void*, std::size_t) noexcept {}

}  // namespace mon::sys

#endif
