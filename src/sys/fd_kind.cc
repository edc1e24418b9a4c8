// SPDX-License-Identifier: MIT
#include "sys/fd_kind.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

namespace mon::sys {

result<fd_kind> describe(int fd) noexcept {
  fd_kind k;
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return error{errno == EBADF ? errc::invalid : errc::io, errno};
  k.o_path = (flags & O_PATH) != 0;

  struct statx sx {};
  if (::statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE, &sx) == 0) {
    if ((sx.stx_mask & STATX_TYPE) == 0) return error{errc::io, ENODATA};
    k.file_type = static_cast<mode_t>(sx.stx_mode) & S_IFMT;
    return k;
  }
  if (errno != ENOSYS) return error{errc::io, errno};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return error{errc::io, errno};
  k.file_type = st.st_mode & S_IFMT;
  return k;
}

}  // namespace mon::sys
