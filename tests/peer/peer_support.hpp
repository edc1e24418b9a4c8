// SPDX-License-Identifier: MIT
// Helpers for the peer-identity suites: handshakes that keep their state, pidfd probes, a gate
// between parent and child.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <string>

#include "monitor/monitor.h"
#include "monitor/unique_fd.hpp"
#include "support/handshake_driver.hpp"

namespace mon::test {

// Runs the server side through the C ABI to its end, leaving the state alive for the caller
// (who must call mon_ipc_auth_server_end). policy (optional) is installed right after init.
inline int run_server_keep(int fd, mon_ipc_creds* creds, void** st,
                           mon_ipc_policy_fn policy = nullptr, void* ctx = nullptr) {
  int rc = mon_ipc_auth_server_init(fd, creds, st);
  if (rc > 0 && policy != nullptr) {
    const int p = mon_ipc_auth_server_set_policy(*st, policy, ctx);
    if (p != MON_OK) return p;
  }
  return drive(fd, *st, rc, mon_ipc_auth_server_step);
}

// The client side, optionally requiring the server's uid.
inline int run_client_requiring(int fd, uid_t uid) {
  void* st = nullptr;
  int rc = mon_ipc_auth_client_init(fd, &st);
  if (rc > 0) {
    const int r = mon_ipc_auth_client_require_uid(st, uid);
    if (r != MON_OK) rc = r;
  }
  rc = drive(fd, st, rc, mon_ipc_auth_client_step);
  mon_ipc_auth_client_end(st);
  return rc;
}

// pidfd_send_signal(pidfd, 0): 0 if the process is alive, else the errno (ESRCH once it is gone).
inline int pidfd_probe(int pidfd) {
  if (::syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) == 0) return 0;
  return errno;
}

// True when the pidfd reports that its process exited (POLLIN), without waiting.
inline bool pidfd_exited(int pidfd) {
  pollfd p{pidfd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

// The pid a pidfd names, from /proc/self/fdinfo ("Pid:"; -1 once the process was reaped); 0 when
// the line is missing.
inline long pidfd_pid(int pidfd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(pidfd));
  std::string key;
  while (in >> key) {
    if (key == "Pid:") {
      long v = 0;
      in >> v;
      return v;
    }
  }
  return 0;
}

// A one-shot signal between processes: one side opens(), the other waits() for it (or for EOF).
class gate {
 public:
  gate() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    r_.reset(p[0]);
    w_.reset(p[1]);
  }
  void open() {
    const char c = 1;
    (void)!::write(w_.get(), &c, 1);
  }
  bool wait() {
    char c = 0;
    ssize_t n;
    do {
      n = ::read(r_.get(), &c, 1);
    } while (n < 0 && errno == EINTR);
    return n == 1;
  }

 private:
  unique_fd r_;
  unique_fd w_;
};

}  // namespace mon::test
