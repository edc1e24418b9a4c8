// SPDX-License-Identifier: MIT
// The handshake implementations that bench/handshake_latency.cc, bench/epoll_server.cc and
// bench/insns_main.cc drive: monitor's C ABI and C++ API, the raw twin (one round trip: the
// client's 8-byte hello with SCM_CREDENTIALS, the server's SO_PEERCRED + SO_PASSCRED, the
// comparison, the 8-byte accept), and the floor (SO_PEERCRED alone: no hello, just the accept). The
// raw twins write monitor's bytes (docs/PROTOCOL.md), so either side of one can talk to the other
// side of another.
//
// Each side is an object built on a connected socket with bool step(): true once done, false when
// a non-blocking socket must become readable first. On a blocking socket the first step() finishes.
#pragma once

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "monitor/monitor.h"
#include "monitor/monitor.hpp"
#include "support/bench_util.hpp"

namespace bench::hsimpl {

inline constexpr std::array<unsigned char, 8> hello = {'m', 'o', 'n', 'H', 1, 1, 0, 0};
inline constexpr std::array<unsigned char, 8> accept_msg = {'m', 'o', 'n', 'H', 1, 2, 0, 0};

// Reads the 8-byte reply; false if it is not there yet (non-blocking).
inline bool raw_read_accept(int fd) {
  std::array<unsigned char, 8> in{};
  const ssize_t n = ::recv(fd, in.data(), in.size(), 0);
  if (n < 0 && errno == EAGAIN) return false;
  check(n == 8 && in == accept_msg, "raw client: reply");
  return true;
}
inline void raw_send_accept(int fd) {
  check(::send(fd, accept_msg.data(), accept_msg.size(), MSG_NOSIGNAL) == 8, "raw server: reply");
}

// The client's hello: 8 bytes with SCM_CREDENTIALS (the kernel checks what the client claims; the
// server compares it with SO_PEERCRED).
inline void raw_send_hello(int fd) {
  const ucred own{::getpid(), ::geteuid(), ::getegid()};
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(ucred))] = {};
  iovec iov{const_cast<unsigned char*>(hello.data()), hello.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_CREDENTIALS;
  c->cmsg_len = CMSG_LEN(sizeof(ucred));
  std::memcpy(CMSG_DATA(c), &own, sizeof own);
  check(::sendmsg(fd, &msg, MSG_NOSIGNAL) == 8, "raw client: hello");
}

class raw_client {
 public:
  explicit raw_client(int fd) : fd_(fd) {}
  bool step() {
    if (!sent_) {
      raw_send_hello(fd_);
      sent_ = true;
    }
    return raw_read_accept(fd_);
  }

 private:
  int fd_;
  bool sent_ = false;
};

class raw_server {
 public:
  explicit raw_server(int fd) : fd_(fd) {}
  bool step() {
    if (!started_) {
      socklen_t len = sizeof peer_;
      check(::getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &peer_, &len) == 0, "SO_PEERCRED");
      const int on = 1;
      check(::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0, "SO_PASSCRED");
      started_ = true;
    }
    std::array<unsigned char, 8> in{};
    alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int))];
    iovec iov{in.data(), in.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EAGAIN) return false;
    check(n == 8 && in == hello && (msg.msg_flags & MSG_CTRUNC) == 0, "raw server: hello");
    const cmsghdr* c = CMSG_FIRSTHDR(&msg);
    check(c != nullptr && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
              c->cmsg_len == CMSG_LEN(sizeof(ucred)) &&
              CMSG_NXTHDR(&msg, const_cast<cmsghdr*>(c)) == nullptr,
          "raw server: credentials");
    ucred claimed{};
    std::memcpy(&claimed, CMSG_DATA(c), sizeof claimed);
    check(claimed.pid == peer_.pid && claimed.uid == peer_.uid && claimed.gid == peer_.gid,
          "raw server: credentials differ");
    raw_send_accept(fd_);
    return true;
  }

 private:
  int fd_;
  bool started_ = false;
  ucred peer_{};
};

// The floor: the server trusts SO_PEERCRED alone and answers; the client sends nothing.
class peercred_client {
 public:
  explicit peercred_client(int fd) : fd_(fd) {}
  bool step() { return raw_read_accept(fd_); }

 private:
  int fd_;
};
class peercred_server {
 public:
  explicit peercred_server(int fd) : fd_(fd) {}
  bool step() {
    ucred peer{};
    socklen_t len = sizeof peer;
    check(::getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0, "SO_PEERCRED");
    raw_send_accept(fd_);
    return true;
  }

 private:
  int fd_;
};

// monitor through the C ABI: one heap state per side. Steps until done (true) or until the socket
// must become readable (false).
inline bool mon_c_steps(int (*step)(int, void*), int fd, void* state, const char* what) {
  for (;;) {
    const int rc = step(fd, state);
    if (rc == MON_OK) return true;
    if (rc == MON_WANT_READ) return false;
    check(rc == MON_CONTINUE, what);
  }
}

class mon_c_client {
 public:
  explicit mon_c_client(int fd) : fd_(fd) {
    check(mon_ipc_auth_client_init(fd, &state_) == MON_CONTINUE, "mon_ipc_auth_client_init");
  }
  ~mon_c_client() { mon_ipc_auth_client_end(state_); }
  mon_c_client(const mon_c_client&) = delete;
  mon_c_client& operator=(const mon_c_client&) = delete;
  bool step() {
    return mon_c_steps(mon_ipc_auth_client_step, fd_, state_, "mon_ipc_auth_client_step");
  }

 private:
  int fd_;
  void* state_ = nullptr;
};

class mon_c_server {
 public:
  explicit mon_c_server(int fd) : fd_(fd) {
    check(mon_ipc_auth_server_init(fd, &creds_, &state_) == MON_CONTINUE,
          "mon_ipc_auth_server_init");
  }
  ~mon_c_server() { mon_ipc_auth_server_end(state_); }
  mon_c_server(const mon_c_server&) = delete;
  mon_c_server& operator=(const mon_c_server&) = delete;
  bool step() {
    return mon_c_steps(mon_ipc_auth_server_step, fd_, state_, "mon_ipc_auth_server_step");
  }

 private:
  int fd_;
  void* state_ = nullptr;
  mon_ipc_creds creds_{};
};

// monitor through the C++ API: the state lives in the object (no allocation).
class mon_cpp_client {
 public:
  explicit mon_cpp_client(int fd) : hs_(fd) {}
  bool step() {
    auto r = hs_.step();
    check(r.ok(), "mon::client_handshake");
    return r.value() == mon::progress::done;
  }

 private:
  mon::client_handshake hs_;
};

class mon_cpp_server {
 public:
  explicit mon_cpp_server(int fd) : hs_(fd) {}
  bool step() {
    auto r = hs_.step();
    check(r.ok(), "mon::server_handshake");
    return r.value() == mon::progress::done;
  }

 private:
  mon::server_handshake hs_;
};

}  // namespace bench::hsimpl
