// SPDX-License-Identifier: MIT
// The C ABI for the refused-descriptor handler (include/monitor/refused_fds.hpp). No logic.
#include "monitor/monitor.h"
#include "sys/discard.hpp"

extern "C" void mon_set_refused_fd_handler(void (*fn)(int fd, void* context), void* context) {
  mon::sys::set_refused_fd_handler_plain(fn, context);
}
