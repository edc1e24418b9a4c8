// SPDX-License-Identifier: MIT
// The C ABI for the refused-descriptor handler (include/monitor/refused_fds.hpp). No logic.
#include "core/refused_fds.hpp"
#include "monitor/monitor.h"

extern "C" void mon_set_refused_fd_handler(void (*fn)(int fd, void* context), void* context) {
  mon::detail::set_refused_fd_handler_c(fn, context);
}
