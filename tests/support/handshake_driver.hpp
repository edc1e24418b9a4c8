// SPDX-License-Identifier: MIT
// Runs a whole handshake through the C ABI, waiting with poll() on MON_WANT_READ / MON_WANT_WRITE.
#pragma once

#include <poll.h>

#include "monitor/monitor.h"

namespace mon::test {

inline void wait_for(int fd, int rc) {
  pollfd p{fd, static_cast<short>(rc == MON_WANT_WRITE ? POLLOUT : POLLIN), 0};
  (void)::poll(&p, 1, 5000);
}

// The one C-ABI handshake loop of the suites: steps a client or server state (step is
// mon_ipc_auth_client_step or mon_ipc_auth_server_step) from rc, what init returned, until it is
// done or failed, waiting with poll() on MON_WANT_READ / MON_WANT_WRITE. Returns MON_OK or the
// error; counts in *waits (if given) how often the socket was not ready. Leaves st alive.
inline int drive(int fd, void* st, int rc, int (*step)(int, void*), int* waits = nullptr) {
  while (rc > 0) {
    rc = step(fd, st);
    if (rc == MON_WANT_READ || rc == MON_WANT_WRITE) {
      if (waits) ++*waits;
      wait_for(fd, rc);
    }
  }
  return rc;
}

// A whole client handshake: init, drive, end. Returns MON_OK or the error.
inline int run_client(int fd, int* waits = nullptr) {
  void* st = nullptr;
  int rc = mon_ipc_auth_client_init(fd, &st);
  rc = drive(fd, st, rc, mon_ipc_auth_client_step, waits);
  mon_ipc_auth_client_end(st);
  return rc;
}

// A whole server handshake: init, drive, end. Returns MON_OK or the error.
inline int run_server(int fd, mon_ipc_creds* creds, int* waits = nullptr) {
  void* st = nullptr;
  int rc = mon_ipc_auth_server_init(fd, creds, &st);
  rc = drive(fd, st, rc, mon_ipc_auth_server_step, waits);
  mon_ipc_auth_server_end(st);
  return rc;
}

// A child's exit code for a result code (0 for MON_OK, 100 + |error| otherwise).
inline int exit_code(int rc) { return rc == MON_OK ? 0 : 100 - rc; }

}  // namespace mon::test
