// SPDX-License-Identifier: MIT
// Path checks and the open that cannot be steered by symlinks or "..".
#pragma once

#include <string_view>

#include "monitor/unique_fd.hpp"

namespace fdb {

// True when p is absolute, at most FDB_PATH_MAX bytes, NUL-free, and has no empty, "." or ".."
// component ("//", "/./", "/../"). A trailing '/' is allowed only when allow_trailing_slash (policy
// prefixes name directories that way; requested paths must name a file).
[[nodiscard]] bool path_is_clean(std::string_view p, bool allow_trailing_slash) noexcept;

struct open_outcome {
  mon::unique_fd fd;  // valid on success: O_RDONLY | O_CLOEXEC, blocking, a regular file
  int err = 0;        // errno when fd is not valid and not_regular is false (ELOOP: a symlink)
  bool not_regular = false;  // a directory, FIFO, device or socket: refused, never opened for I/O
};

// Opens path for reading on the caller's behalf. base is the directory (ending in '/') the policy
// granted and must be a prefix of path; both must be clean. Every component below base is resolved
// with no symlink followed and no escape from base: openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_MAGICLINKS) when the kernel has it, else a walk of openat(O_NOFOLLOW) per component.
// base itself is opened with no symlink followed either. The file is resolved O_PATH and checked to
// be a regular file before anything opens it for reading, so a FIFO, device or socket inside the
// grant is refused without its open routine ever running; the regular file is then reopened through
// /proc/self/fd (so /proc must be mounted). use_openat2 false forces the fallback walk (the unit
// tests run both).
[[nodiscard]] open_outcome open_beneath(std::string_view base, std::string_view path,
                                        bool use_openat2 = true) noexcept;

}  // namespace fdb
