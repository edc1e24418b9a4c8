// SPDX-License-Identifier: MIT
// The one place that closes descriptors the library owns.
#include "monitor/unique_fd.hpp"

#include <unistd.h>

namespace mon {

void unique_fd::reset(int fd) noexcept {
  const int old = std::exchange(fd_, fd < 0 ? -1 : fd);
  if (old >= 0) (void)::close(old);  // never retried: see the header
}

}  // namespace mon
