// SPDX-License-Identifier: MIT
// The second baseline for the handshake: raw_secure, the same one round trip as the raw twin with
// the security work monitor does, by hand, so a reader sees both distances (to `raw`, which the
// targets are against, and to `raw_secure`). It leaves out only what a hand-written server knows
// already (the socket's domain and type, whether SO_PASSRIGHTS was on).
//
// Server: SO_PEERCRED; descriptors refused during the hello (SO_PASSRIGHTS off, Linux >= 6.16: the
// kernel refuses them at the sender's sendmsg; on an older kernel the read closes what comes);
// SO_PASSCRED on; the hello read with MSG_CMSG_CLOEXEC into a control buffer with room for one
// stray descriptor (seen, not cut); MSG_CTRUNC, any SCM_RIGHTS, a missing or second SCM_CREDENTIALS
// refused; the claimed credentials cross-checked against SO_PEERCRED; SO_PASSCRED off and
// SO_PASSRIGHTS back on (later frames carry descriptors, never credentials); the accept.
// Client: the hello with SCM_CREDENTIALS; the reply read with MSG_CMSG_CLOEXEC, control data
// refused.
#pragma once

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "support/fd_secure_impls.hpp"
#include "support/hs_impls.hpp"

#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83  // Linux 6.16
#endif

namespace bench::hsimpl {

// One read of an 8-byte handshake message: descriptors taken and refused, the control data judged
// (credentials left to the caller when expected). The control buffer has room for credentials and
// one stray descriptor, so either is seen, not cut.
struct secure_read {
  std::array<unsigned char, 8> in{};
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int))];
  fdimpl::owned_fds fds;
  msghdr msg{};
  ssize_t n = 0;

  // False if nothing is there yet (non-blocking socket).
  bool from(int fd, bool credentials_expected) {
    iovec iov{in.data(), in.size()};
    msg = msghdr{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    do n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    msg.msg_iov = nullptr;  // iov dies here
    msg.msg_iovlen = 0;
    if (n < 0 && errno == EAGAIN) return false;
    check(n >= 0, "raw_secure: recvmsg");
    const bool clean = fds.take(msg, credentials_expected);
    check(clean && fds.size() == 0, "raw_secure: descriptors or cut control data in the handshake");
    return true;
  }
};

class raw_secure_client {
 public:
  explicit raw_secure_client(int fd) : fd_(fd) {}
  bool step() {
    if (!sent_) {
      raw_send_hello(fd_);
      sent_ = true;
    }
    secure_read r;
    if (!r.from(fd_, false)) return false;
    check(r.n == 8 && r.in == accept_msg && CMSG_FIRSTHDR(&r.msg) == nullptr,
          "raw_secure client: reply");
    return true;
  }

 private:
  int fd_;
  bool sent_ = false;
};

class raw_secure_server {
 public:
  explicit raw_secure_server(int fd) : fd_(fd) {}
  ~raw_secure_server() { end_of_hello(); }  // abandoned mid-handshake: the socket as it was
  raw_secure_server(const raw_secure_server&) = delete;
  raw_secure_server& operator=(const raw_secure_server&) = delete;
  bool step() {
    if (!started_) {
      socklen_t len = sizeof peer_;
      check(::getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &peer_, &len) == 0 && len == sizeof peer_,
            "SO_PEERCRED");
      const int off = 0;
      rights_off_ = ::setsockopt(fd_, SOL_SOCKET, SO_PASSRIGHTS, &off, sizeof off) == 0;
      check(rights_off_ || errno == ENOPROTOOPT || errno == EINVAL, "SO_PASSRIGHTS off");
      const int on = 1;
      check(::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0, "SO_PASSCRED on");
      passcred_on_ = true;
      started_ = true;
    }
    secure_read r;
    if (!r.from(fd_, true)) return false;
    check(r.n == 8 && r.in == hello, "raw_secure server: hello");
    // Exactly one SCM_CREDENTIALS (take() refused SCM_RIGHTS and anything cut already).
    const cmsghdr* c = CMSG_FIRSTHDR(&r.msg);
    check(c != nullptr && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
              c->cmsg_len == CMSG_LEN(sizeof(ucred)) &&
              CMSG_NXTHDR(&r.msg, const_cast<cmsghdr*>(c)) == nullptr,
          "raw_secure server: credentials");
    ucred claimed{};
    std::memcpy(&claimed, CMSG_DATA(c), sizeof claimed);
    check(claimed.pid == peer_.pid && claimed.uid == peer_.uid && claimed.gid == peer_.gid,
          "raw_secure server: credentials differ from SO_PEERCRED");
    end_of_hello();
    raw_send_accept(fd_);
    return true;
  }

 private:
  void end_of_hello() {
    if (passcred_on_) {
      const int off = 0;
      check(::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &off, sizeof off) == 0, "SO_PASSCRED off");
      passcred_on_ = false;
    }
    if (rights_off_) {
      const int on = 1;
      check(::setsockopt(fd_, SOL_SOCKET, SO_PASSRIGHTS, &on, sizeof on) == 0, "SO_PASSRIGHTS on");
      rights_off_ = false;
    }
  }

  int fd_;
  bool started_ = false;
  bool passcred_on_ = false;
  bool rights_off_ = false;
  ucred peer_{};
};

}  // namespace bench::hsimpl
