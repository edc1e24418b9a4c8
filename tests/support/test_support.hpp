// SPDX-License-Identifier: MIT
// Helpers for the integration tests: real sockets, descriptor counting, child processes, raw peers.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "monitor/unique_fd.hpp"

namespace mon::test {

// Number of descriptors open in this process (from /proc/self/fd).
int open_fd_count();

// Checks, when it goes out of scope, that the process has as many descriptors open as when it was
// made: the "no descriptor left open that the caller was not handed" property.
class fd_leak_check {
 public:
  fd_leak_check();
  ~fd_leak_check();
  fd_leak_check(const fd_leak_check&) = delete;
  fd_leak_check& operator=(const fd_leak_check&) = delete;

 private:
  int before_;
};

struct socket_pair {
  unique_fd a;
  unique_fd b;
};
// An AF_UNIX socketpair of the given type (SOCK_STREAM, SOCK_SEQPACKET), both ends CLOEXEC.
socket_pair make_pair(int type, bool nonblocking = false);

void set_nonblocking(int fd, bool on = true);
bool is_cloexec(int fd);
// Same open file description? (kcmp-free: compares st_dev/st_ino of the two descriptors)
bool same_file(int a, int b);

// A listening AF_UNIX socket at a fresh path in a private temporary directory.
class listener {
 public:
  explicit listener(int type = SOCK_STREAM);
  ~listener();
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;
  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] unique_fd accept() const;
  [[nodiscard]] unique_fd connect() const;  // a new client socket connected to it
  [[nodiscard]] int type() const { return type_; }

 private:
  std::string dir_;
  std::string path_;
  unique_fd fd_;
  int type_;
};

// Runs fn in a forked child (which exits with fn's return value; killed after timeout_s seconds).
// Returns the child's pid; wait_child() returns its exit code (or 128+signal).
pid_t fork_child(const std::function<int()>& fn, unsigned timeout_s = 20);
int wait_child(pid_t pid);

// Raw peers: send exactly these bytes with exactly this control data (any levels and types).
void raw_send(int fd, std::span<const std::uint8_t> bytes, std::span<const int> fds = {},
              int flags = 0);
// One sendmsg (MSG_NOSIGNAL, EINTR retried) of bytes with exactly this control data: one SCM_RIGHTS
// header per vector, then SCM_CREDENTIALS with *creds (any values: what a forger writes) unless
// creds is null. Returns sendmsg's result, errno kept. Every raw peer of the suites sends through
// this.
ssize_t raw_sendmsg(int fd, std::span<const std::uint8_t> bytes,
                    const std::vector<std::vector<int>>& rights_headers, const ucred* creds);
// Sends bytes with one or several SCM_RIGHTS headers (each vector a header) and optionally this
// process's own SCM_CREDENTIALS; throws std::runtime_error unless all bytes went.
void raw_send_headers(int fd, std::span<const std::uint8_t> bytes,
                      const std::vector<std::vector<int>>& rights_headers, bool with_creds);

// The frame header bytes mon_ipc_send_fd would write.
std::vector<std::uint8_t> frame_bytes(std::uint8_t num_fds, std::uint32_t payload_len,
                                      std::span<const std::uint8_t> payload = {});

// Names SOCK_STREAM / SOCK_SEQPACKET test parameters.
inline std::string socket_type_name(const ::testing::TestParamInfo<int>& info) {
  return info.param == SOCK_STREAM ? "stream" : "seqpacket";
}

// A descriptor to pass around (one end of a pipe); the other end is closed.
unique_fd some_fd();

}  // namespace mon::test
