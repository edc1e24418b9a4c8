// SPDX-License-Identifier: MIT
// Shared pieces of the hostile-peer suite (docs/ATTACKS.md): a receiver over the C ABI, a
// guard that turns a hang into a failure, and raw peers that write exactly the bytes and control
// data an attacker would.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "monitor/monitor.hpp"
#include "support/test_support.hpp"

namespace mon::hostile {

// No hang: SIGALRM (default action: terminate) ends the test process if a test body blocks. A
// forked child arms its own alarm (test::fork_child); CTest's TIMEOUT is the outer bound.
class hang_guard {
 public:
  explicit hang_guard(unsigned seconds = 20) {
    ::signal(SIGALRM, SIG_DFL);
    ::alarm(seconds);
  }
  ~hang_guard() { ::alarm(0); }
  hang_guard(const hang_guard&) = delete;
  hang_guard& operator=(const hang_guard&) = delete;
};

// The receiving side of descriptor passing, through the C ABI as a service would use it.
struct receiver {
  explicit receiver(std::size_t max = 0) : buf(mon_buffer_new(max)) {}
  ~receiver() { mon_buffer_free(buf); }
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;
  // Returns mon_ipc_recv_fd's result; on an error, checks that no descriptor was handed out.
  int recv(int fd) {
    got_fd = 7;  // any stale value must be overwritten
    const int rc = mon_ipc_recv_fd(fd, buf, &got_fd);
    if (rc != MON_OK) {
      EXPECT_EQ(got_fd, -1) << "a descriptor handed out with an error";
    }
    return rc;
  }
  [[nodiscard]] std::string text() const {
    return std::string(static_cast<const char*>(mon_buffer_data(buf)), mon_buffer_len(buf));
  }
  mon_buffer* buf;
  int got_fd = -1;
};

inline std::vector<unique_fd> fds(int n) {
  std::vector<unique_fd> out;
  for (int i = 0; i < n; ++i) out.push_back(test::some_fd());
  return out;
}
inline std::vector<int> raw(const std::vector<unique_fd>& v) {
  std::vector<int> out;
  for (const auto& f : v) out.push_back(f.get());
  return out;
}
inline std::vector<std::uint8_t> bytes_of(const char* s) {
  return std::vector<std::uint8_t>(s, s + std::strlen(s));
}

// sendmsg with an explicit SCM_CREDENTIALS of the caller's choosing (what a forger writes). Returns
// sendmsg's result, errno kept.
inline ssize_t send_with_credentials(int fd, std::span<const std::uint8_t> bytes, const ucred& c) {
  return test::raw_sendmsg(fd, bytes, {}, &c);
}

// Bytes queued for reading on a socket (SIOCINQ): how much of an attacker's data was left unread.
int queued_bytes(int fd);

// Drops this process to nobody (uid and gid 65534, no supplementary groups). Root only.
bool drop_to_nobody();

}  // namespace mon::hostile
