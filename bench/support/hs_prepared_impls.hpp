// SPDX-License-Identifier: MIT
// Handshakes on a connection accepted from a prepared listener (SO_PASSCRED on and SO_PASSRIGHTS
// off on the listening socket, set once, inherited at accept): the case issue "the fast path"
// counts system calls for. The raw twin relies on the inherited SO_PASSCRED as a hand-written
// server on such a listener would; monitor is told the socket came from a prepared listener and
// its type, so it toggles nothing before the hello. Sides as in hs_impls.hpp.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "monitor/monitor.h"
#include "monitor/monitor.hpp"
#include "support/bench_util.hpp"
#include "support/hs_impls.hpp"

namespace bench::hsimpl {

// The raw server on a prepared listener: SO_PEERCRED, the hello with its credentials, the
// cross-check, SO_PASSCRED off (later messages must not carry credentials), the reply.
class raw_prepared_server {
 public:
  explicit raw_prepared_server(int fd) : fd_(fd) {}
  bool step() {
    ucred peer{};
    socklen_t len = sizeof peer;
    check(::getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0, "SO_PEERCRED");
    std::array<unsigned char, 8> in{};
    alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(ucred))];
    iovec iov{in.data(), in.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EAGAIN) return false;
    const cmsghdr* c = CMSG_FIRSTHDR(&msg);
    check(n == 8 && in == hello && c != nullptr && c->cmsg_type == SCM_CREDENTIALS,
          "raw prepared server: hello");
    ucred claimed{};
    std::memcpy(&claimed, CMSG_DATA(c), sizeof claimed);
    check(claimed.pid == peer.pid && claimed.uid == peer.uid, "raw prepared server: creds");
    const int off = 0;
    check(::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &off, sizeof off) == 0, "SO_PASSCRED off");
    raw_send_accept(fd_);
    return true;
  }

 private:
  int fd_;
};

class mon_cpp_prepared_client {
 public:
  explicit mon_cpp_prepared_client(int fd) : hs_(fd, options()) {}
  bool step() {
    auto r = hs_.step();
    check(r.ok(), "mon::client_handshake (prepared)");
    return r.value() == mon::progress::done;
  }

 private:
  static mon::client_options options() {
    mon::client_options o;
    o.socket_type = SOCK_STREAM;
    return o;
  }
  mon::client_handshake hs_;
};

class mon_cpp_prepared_server {
 public:
  explicit mon_cpp_prepared_server(int fd) : hs_(fd, nullptr, nullptr, options()) {}
  bool step() {
    auto r = hs_.step();
    check(r.ok(), "mon::server_handshake (prepared)");
    return r.value() == mon::progress::done;
  }

 private:
  static mon::server_options options() {
    mon::server_options o;
    o.prepared_listener = true;
    o.socket_type = SOCK_STREAM;
    return o;
  }
  mon::server_handshake hs_;
};

// The C ABI with caller storage (no allocation) and the same options.
class mon_c_prepared_client {
 public:
  explicit mon_c_prepared_client(int fd) : fd_(fd) {
    const mon_auth_options o{0, SOCK_STREAM, 0};
    check(mon_ipc_auth_client_init_ex(fd, &o, &storage_, &state_) == MON_CONTINUE, "init_ex");
  }
  ~mon_c_prepared_client() { mon_ipc_auth_client_end(state_); }
  mon_c_prepared_client(const mon_c_prepared_client&) = delete;
  mon_c_prepared_client& operator=(const mon_c_prepared_client&) = delete;
  bool step() {
    const int rc = mon_ipc_auth_client_step(fd_, state_);
    check(rc == MON_OK || rc == MON_WANT_READ, "mon_ipc_auth_client_step (prepared)");
    return rc == MON_OK;
  }

 private:
  int fd_;
  mon_auth_storage storage_{};
  void* state_ = nullptr;
};

class mon_c_prepared_server {
 public:
  explicit mon_c_prepared_server(int fd) : fd_(fd) {
    const mon_auth_options o{MON_AUTH_PREPARED_LISTENER, SOCK_STREAM, 0};
    check(mon_ipc_auth_server_init_ex(fd, &creds_, &o, &storage_, &state_) == MON_CONTINUE,
          "init_ex");
  }
  ~mon_c_prepared_server() { mon_ipc_auth_server_end(state_); }
  mon_c_prepared_server(const mon_c_prepared_server&) = delete;
  mon_c_prepared_server& operator=(const mon_c_prepared_server&) = delete;
  bool step() {
    const int rc = mon_ipc_auth_server_step(fd_, state_);
    check(rc == MON_OK || rc == MON_WANT_READ, "mon_ipc_auth_server_step (prepared)");
    return rc == MON_OK;
  }

 private:
  int fd_;
  mon_auth_storage storage_{};
  void* state_ = nullptr;
  mon_ipc_creds creds_{};
};

// A listening socket prepared once (SO_PASSCRED on, SO_PASSRIGHTS off where the kernel has it),
// at a path in /tmp removed when it goes.
class prepared_listener {
 public:
  prepared_listener() : path_("/tmp/monitor-bench-" + std::to_string(::getpid()) + ".sock") {
    ::unlink(path_.c_str());
    fd_ = mon_unix_listen(path_.c_str(), SOCK_STREAM, 0600, 0);
    check(fd_ >= 0, "mon_unix_listen");
  }
  ~prepared_listener() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  prepared_listener(const prepared_listener&) = delete;
  prepared_listener& operator=(const prepared_listener&) = delete;
  // A connected pair: [client, server], both non-blocking.
  std::array<int, 2> connect_pair() const {
    const int c = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    check(c >= 0, "socket");
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    check(::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0, "connect");
    const int s = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    check(s >= 0, "accept4");
    return {c, s};
  }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace bench::hsimpl
