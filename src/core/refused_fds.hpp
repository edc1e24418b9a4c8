// SPDX-License-Identifier: MIT
// The C shim's way to the refused-descriptor handler (the shim reaches the library through core
// only; the handler lives beside sys::discard, which calls it).
#pragma once

#include "sys/discard.hpp"

namespace mon::detail {

// set_refused_fd_handler for a handler that is not declared noexcept (the C ABI's).
inline void set_refused_fd_handler_c(void (*fn)(int fd, void* context), void* context) noexcept {
  sys::set_refused_fd_handler_plain(fn, context);
}

}  // namespace mon::detail
