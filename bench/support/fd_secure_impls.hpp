// SPDX-License-Identifier: MIT
// The second baseline for descriptor passing: raw_secure, a hand-written receiver doing by hand the
// security work monitor does (docs/PROTOCOL.md "Receiving"), so a reader sees two distances: to
// `raw` (the minimal twin, what the targets are against) and to `raw_secure` (the same checks, no
// library). The sender is raw_sender: sending has no check a raw sender skips.
//
// Per frame: MSG_CMSG_CLOEXEC; a control buffer sized for the descriptors accepted plus one (so
// "one too many" is seen, not cut) plus one SCM_CREDENTIALS; every descriptor of every SCM_RIGHTS
// header taken before anything is judged; MSG_CTRUNC, a second header or any other control message
// refused (everything that arrived closed); header magic, version, num_fds <= 253 and <= the
// receiver's limit, payload_len bounded; the number received equal to num_fds. On SOCK_STREAM the
// frame is read as the protocol says (header, then exactly the payload, no descriptors allowed on
// the payload read); on SOCK_SEQPACKET one recvmsg, the record exactly 8 + payload_len bytes.
// A benchmark has no caller to hand the descriptors to: they are closed once judged.
#pragma once

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "support/bench_util.hpp"

namespace bench::fdimpl {

inline constexpr int max_frame_fds = 253;
inline constexpr std::size_t max_payload = 64 * 1024;  // the receiver's buffer, far below the limit

// The descriptors one recvmsg delivered, owned until judged: closed on every path.
class owned_fds {
 public:
  owned_fds() = default;
  ~owned_fds() { close_all(); }
  owned_fds(const owned_fds&) = delete;
  owned_fds& operator=(const owned_fds&) = delete;
  [[nodiscard]] int size() const { return n_; }
  void close_all() {
    for (int i = 0; i < n_; ++i) ::close(fds_[static_cast<std::size_t>(i)]);
    n_ = 0;
  }
  // Takes every descriptor of every SCM_RIGHTS header, bounded by msg_controllen; returns false
  // (after taking what it could) for anything the protocol refuses. An SCM_CREDENTIALS header is
  // refused too unless `credentials_expected` (the handshake's hello: its caller judges it).
  bool take(const msghdr& msg, bool credentials_expected = false) {
    bool ok = (msg.msg_flags & MSG_CTRUNC) == 0;
    int headers = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
         c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), c)) {
      if (c->cmsg_len < CMSG_LEN(0)) return false;  // the kernel never writes one: stop the walk
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
        // SCM_PIDFD, unexpected SCM_CREDENTIALS, ...: refused, but the walk goes on.
        if (!(credentials_expected && c->cmsg_level == SOL_SOCKET &&
              c->cmsg_type == SCM_CREDENTIALS))
          ok = false;
        continue;
      }
      ++headers;
      const std::size_t bytes = c->cmsg_len - CMSG_LEN(0);
      if (bytes % sizeof(int) != 0) ok = false;
      const unsigned char* data = CMSG_DATA(c);
      for (std::size_t i = 0; i + sizeof(int) <= bytes; i += sizeof(int)) {
        int fd;
        std::memcpy(&fd, data + i, sizeof fd);
        if (fd < 0) {
          ok = false;
          continue;
        }
        if (n_ == static_cast<int>(fds_.size())) {  // more than a control buffer of ours holds
          ::close(fd);
          ok = false;
          continue;
        }
        fds_[static_cast<std::size_t>(n_++)] = fd;
      }
    }
    return ok && headers <= 1;
  }

 private:
  // Not cleared: only [0, n_) is ever read, and a hand-written receiver would not pay a 1 KiB
  // memset per read.
  std::array<int, max_frame_fds + 2> fds_;
  int n_ = 0;
};

class raw_secure_receiver {
 public:
  raw_secure_receiver(int fd, int type, int nfds)
      : fd_(fd),
        type_(type),
        limit_(nfds),
        control_(CMSG_SPACE(static_cast<std::size_t>(nfds + 1) * sizeof(int)) +
                 CMSG_SPACE(sizeof(ucred))),
        payload_(max_payload) {
    check(nfds >= 0 && nfds <= max_frame_fds, "raw_secure: descriptor limit");
  }
  bool receive() { return type_ == SOCK_SEQPACKET ? receive_record() : receive_stream(); }

 private:
  // One recvmsg; the descriptors that came are in `fds` whatever happens. 0 at end of file.
  ssize_t read(iovec* iov, int iovcnt, owned_fds& fds, int& flags) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(iovcnt);
    msg.msg_control = control_.data();
    msg.msg_controllen = control_.size();
    ssize_t n;
    do n = ::recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    check(n >= 0, "raw_secure recvmsg");
    check(fds.take(msg), "raw_secure: control data refused");
    flags = msg.msg_flags;
    return n;
  }
  // Magic, version, bounds; the payload length.
  std::size_t checked_header(int received_fds) const {
    check(head_[0] == 'm' && head_[1] == 'F' && head_[2] == 1, "raw_secure: bad header");
    const int declared = head_[3];
    check(declared <= max_frame_fds && declared <= limit_ && declared == received_fds,
          "raw_secure: descriptor count");
    const std::size_t len = (std::size_t{head_[4]} << 24) | (std::size_t{head_[5]} << 16) |
                            (std::size_t{head_[6]} << 8) | head_[7];
    check(len <= payload_.size(), "raw_secure: payload too long");
    return len;
  }
  bool receive_record() {
    owned_fds fds;
    int flags = 0;
    iovec iov[2] = {{head_.data(), head_.size()}, {payload_.data(), payload_.size()}};
    const ssize_t n = read(iov, 2, fds, flags);
    if (n == 0) return false;
    check((flags & MSG_TRUNC) == 0 && n >= 8, "raw_secure: record cut or short");
    check(static_cast<std::size_t>(n) == 8 + checked_header(fds.size()), "raw_secure: record size");
    return true;  // fds closes what it holds: the caller's part
  }
  bool receive_stream() {
    owned_fds fds;
    int flags = 0;
    std::size_t got = 0;
    while (got < head_.size()) {  // the header, descriptors only with its first byte
      iovec h{head_.data() + got, head_.size() - got};
      owned_fds later;
      const ssize_t n = read(&h, 1, got == 0 ? fds : later, flags);
      if (n == 0) {
        check(got == 0, "raw_secure: end of file inside a header");
        return false;
      }
      check(later.size() == 0, "raw_secure: descriptors after the header's first byte");
      got += static_cast<std::size_t>(n);
    }
    const std::size_t len = checked_header(fds.size());
    for (got = 0; got < len;) {  // exactly the payload: the next frame's descriptors stay queued
      iovec p{payload_.data() + got, len - got};
      owned_fds later;
      const ssize_t n = read(&p, 1, later, flags);
      check(n > 0, "raw_secure: end of file inside a frame");
      check(later.size() == 0, "raw_secure: descriptors after the header's first byte");
      got += static_cast<std::size_t>(n);
    }
    return true;
  }

  int fd_;
  int type_;
  int limit_;
  std::vector<unsigned char> control_;
  std::vector<unsigned char> payload_;
  std::array<unsigned char, 8> head_{};
};

}  // namespace bench::fdimpl
