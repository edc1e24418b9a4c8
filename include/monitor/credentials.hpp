// SPDX-License-Identifier: MIT
// mon::peer_credentials: who is at the other end of a socket, as the kernel reports it.
#pragma once

// The C++ API needs C++20 (std::span, defaulted comparisons): CMake's monitor::monitor passes it
// on by itself; elsewhere add -std=c++20 (pkg-config: monitor-cxx). monitor/monitor.h alone is
// plain C (C99) and usable from C++ of any version.
#if __cplusplus < 202002L
#error "monitor's C++ API (monitor/*.hpp) needs C++20: compile with -std=c++20"
#endif

#include <sys/types.h>

namespace mon {

// A peer's identity as the kernel recorded it (SO_PEERCRED): never values the peer wrote. A plain
// value; the pid names a process only while it lives (use a pidfd to pin it).
struct peer_credentials {
  pid_t pid = 0;                       // 0 when the peer is outside our pid namespace
  uid_t uid = static_cast<uid_t>(-1);  // effective uid; 65534 when unmapped in our user namespace
  gid_t gid = static_cast<gid_t>(-1);  // effective gid
  friend constexpr bool operator==(const peer_credentials&, const peer_credentials&) = default;
};

}  // namespace mon
