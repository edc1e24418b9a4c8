// SPDX-License-Identifier: MIT
// mon::sys::discard: disposes of a peer's descriptors the library refuses without ever calling
// close() on the caller's thread (include/monitor/refused_fds.hpp says why and what the
// application can install instead).
#pragma once

#include <span>

#include "monitor/fd_list.hpp"
#include "monitor/unique_fd.hpp"

namespace mon::sys {

// Takes every valid descriptor out of fds (they are left empty) and gives it to the installed
// refused-descriptor handler, or by default to a closer thread. Never blocks, never fails: the one
// fallback, when no closer thread can be started or their queue is full, is close() inline.
void discard(std::span<unique_fd> fds) noexcept;
// The same for a whole list; fds is left empty.
void discard(fd_list& fds) noexcept;
// One descriptor.
void discard(unique_fd& fd) noexcept;

// set_refused_fd_handler for a handler not declared noexcept (the C ABI's): if it throws anyway,
// the noexcept discard() ends the process, which is what a throw through C would do.
void set_refused_fd_handler_plain(void (*fn)(int fd, void* context), void* context) noexcept;

}  // namespace mon::sys
