// SPDX-License-Identifier: MIT
// mon::sys::describe: what kind of file a descriptor names, for receivers that accept only some
// kinds (include/monitor/receive_filter.hpp). Asks the kernel without waiting on a file system.
#pragma once

#include <sys/types.h>

#include "monitor/result.hpp"

namespace mon::sys {

struct fd_kind {
  mode_t file_type = 0;  // the S_IFMT bits of st_mode; 0 for anonymous inodes (eventfd, pidfd, ...)
  bool o_path = false;   // opened with O_PATH: a location, not an open file
};

// statx(AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE) and F_GETFL. DONT_SYNC matters: a peer can
// send a descriptor on a FUSE or NFS mount whose server never answers, and a plain fstat may ask
// that server for fresh attributes; the type of an inode never changes, so the cached one is right.
// Falls back to fstat where statx is missing (ENOSYS).
[[nodiscard]] result<fd_kind> describe(int fd) noexcept;

}  // namespace mon::sys
