// SPDX-License-Identifier: MIT
// The fd senders and receivers that bench/fd_throughput.cc times and bench/insns_main.cc counts
// instructions of: monitor's C ABI and C++ API, and the raw twins doing the same work (the same 40
// bytes on the wire: frame header + 32-byte payload, SCM_RIGHTS, MSG_CMSG_CLOEXEC on the receiver,
// the check that the expected descriptors came, and close()).
//
// Two raw receivers on SOCK_STREAM: raw_receiver reads the fixed-size message with one recvmsg
// (what a hand-written fixed-format protocol does); raw_framed_receiver reads the header and then
// exactly the payload, as monitor must (a read past the frame could take the next frame's
// descriptors).
#pragma once

#include <sys/socket.h>

#include <cstring>
#include <span>
#include <vector>

#include "monitor/monitor.h"
#include "monitor/monitor.hpp"
#include "support/bench_util.hpp"

namespace bench::fdimpl {

using bench::check;

// ---- raw twins --------------------------------------------------------------------------------

class raw_sender {
 public:
  raw_sender(int fd, int /*type*/, std::span<const int> fds)
      : fd_(fd),
        header_(bench::frame_header(static_cast<unsigned>(fds.size()), bench::payload_len)) {
    control_.resize(CMSG_SPACE(fds.size() * sizeof(int)));
    std::memset(control_.data(), 0, control_.size());
    auto* c = reinterpret_cast<cmsghdr*>(control_.data());
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    std::memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
  }
  void send() {
    // The control buffer is rebuilt per message in real code too; encoding it is part of the work.
    iovec iov[2] = {{header_.data(), header_.size()},
                    {const_cast<unsigned char*>(bench::payload().data()), bench::payload_len}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    msg.msg_control = control_.data();
    msg.msg_controllen = control_.size();
    const ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    check(n == static_cast<ssize_t>(header_.size() + bench::payload_len), "raw sendmsg");
  }

 private:
  int fd_;
  std::array<unsigned char, 8> header_;
  std::vector<unsigned char, std::allocator<unsigned char>> control_;
};

// The raw twins' check of one recvmsg's control data: nothing cut, only SCM_RIGHTS; closes every
// descriptor and returns how many came.
inline int raw_close_rights(const msghdr& msg) {
  check((msg.msg_flags & MSG_CTRUNC) == 0, "raw recvmsg: control data cut");
  int got = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), c)) {
    check(c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS,
          "raw recvmsg: unexpected cmsg");
    const std::size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char* data = CMSG_DATA(c);
    for (std::size_t i = 0; i < k; ++i) {
      int rfd;
      std::memcpy(&rfd, data + i * sizeof(int), sizeof rfd);
      ::close(rfd);
      ++got;
    }
  }
  return got;
}

// Receives into iov; returns bytes (0 at end of file). Closes the descriptors after checking that
// exactly `want_fds` came in one SCM_RIGHTS header and that nothing was cut.
inline ssize_t raw_receive(int fd, iovec* iov, int iovcnt, unsigned char* control,
                           std::size_t control_len, int want_fds, int* msg_flags = nullptr) {
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = static_cast<std::size_t>(iovcnt);
  msg.msg_control = control;
  msg.msg_controllen = control_len;
  const ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  check(n >= 0, "raw recvmsg");
  const int got = raw_close_rights(msg);
  check(n == 0 || got == want_fds, "raw recvmsg: wrong number of descriptors");
  if (msg_flags != nullptr) *msg_flags = msg.msg_flags;
  return n;
}

template <bool Framed>
class raw_receiver_t {
 public:
  raw_receiver_t(int fd, int type, int nfds)
      : fd_(fd),
        type_(type),
        nfds_(nfds),
        control_(CMSG_SPACE((nfds + 1) * sizeof(int))),
        payload_(64 * 1024) {}
  bool receive() {
    if (type_ == SOCK_SEQPACKET) {
      iovec iov[2] = {{head_.data(), head_.size()}, {payload_.data(), payload_.size()}};
      int flags = 0;
      const ssize_t n = raw_receive(fd_, iov, 2, control_.data(), control_.size(), nfds_, &flags);
      if (n == 0) return false;
      check((flags & MSG_TRUNC) == 0 && n == 8 + static_cast<ssize_t>(length()), "raw record");
      return true;
    }
    if (!Framed) {
      // Fixed-size protocol: header and payload in one read (more only if the kernel splits it).
      iovec iov[2] = {{head_.data(), head_.size()}, {payload_.data(), bench::payload_len}};
      ssize_t n = raw_receive(fd_, iov, 2, control_.data(), control_.size(), nfds_);
      if (n == 0) return false;
      read_rest(static_cast<std::size_t>(n), 8 + bench::payload_len);
      return true;
    }
    iovec h{head_.data(), head_.size()};
    const ssize_t n = raw_receive(fd_, &h, 1, control_.data(), control_.size(), nfds_);
    if (n == 0) return false;
    check(n == 8, "raw header");  // a sender of ours never splits 8 bytes
    const std::size_t len = length();
    check(head_[0] == 'm' && head_[1] == 'F' && len <= payload_.size(), "raw header check");
    std::size_t got = 0;
    while (got < len) {
      iovec p{payload_.data() + got, len - got};
      const ssize_t m = raw_receive(fd_, &p, 1, control_.data(), control_.size(), 0);
      check(m > 0, "raw payload");
      got += static_cast<std::size_t>(m);
    }
    return true;
  }

 private:
  std::size_t length() const {
    return (std::size_t{head_[4]} << 24) | (std::size_t{head_[5]} << 16) |
           (std::size_t{head_[6]} << 8) | head_[7];
  }
  void read_rest(std::size_t got, std::size_t total) {
    while (got < total) {
      iovec p{payload_.data(), total - got};
      const ssize_t m = raw_receive(fd_, &p, 1, control_.data(), control_.size(), 0);
      check(m > 0, "raw rest");
      got += static_cast<std::size_t>(m);
    }
  }
  int fd_;
  int type_;
  int nfds_;
  std::vector<unsigned char> control_;
  std::vector<unsigned char> payload_;
  std::array<unsigned char, 8> head_{};
};
using raw_receiver = raw_receiver_t<false>;
using raw_framed_receiver = raw_receiver_t<true>;

// ---- monitor, C ABI (one descriptor per message: what the C ABI carries) ----------------------

class mon_c_sender {
 public:
  mon_c_sender(int fd, int /*type*/, std::span<const int> fds)
      : fd_(fd), send_fd_(fds.empty() ? -1 : fds[0]), buf_(mon_buffer_new(0)) {
    check(buf_ != nullptr &&
              mon_buffer_append(buf_, bench::payload().data(), bench::payload_len) == MON_OK,
          "mon_buffer");
  }
  ~mon_c_sender() { mon_buffer_free(buf_); }
  void send() { check(mon_ipc_send_fd(fd_, buf_, send_fd_) == MON_OK, "mon_ipc_send_fd"); }

 private:
  int fd_;
  int send_fd_;
  mon_buffer* buf_;
};

class mon_c_receiver {
 public:
  mon_c_receiver(int fd, int /*type*/, int nfds) : fd_(fd), nfds_(nfds), buf_(mon_buffer_new(0)) {
    check(buf_ != nullptr, "mon_buffer_new");
  }
  ~mon_c_receiver() { mon_buffer_free(buf_); }
  bool receive() {
    int rfd = -1;
    const int rc = mon_ipc_recv_fd(fd_, buf_, &rfd);
    if (rc == MON_ERR_CLOSED) return false;
    check(rc == MON_OK && mon_buffer_len(buf_) == bench::payload_len && (rfd >= 0) == (nfds_ > 0),
          "mon_ipc_recv_fd");
    if (rfd >= 0) ::close(rfd);
    return true;
  }

 private:
  int fd_;
  int nfds_;
  mon_buffer* buf_;
};

#ifdef MON_BENCH_C_MULTI_FD
// Many descriptors per message through the C ABI (mon_ipc_send_fds / mon_ipc_recv_fds): built when
// monitor.h declares them (bench/CMakeLists.txt checks), registered in bench/fd_throughput.cc.
class mon_c_multi_sender {
 public:
  mon_c_multi_sender(int fd, int /*type*/, std::span<const int> fds)
      : fd_(fd), fds_(fds), buf_(mon_buffer_new(0)) {
    check(buf_ != nullptr &&
              mon_buffer_append(buf_, bench::payload().data(), bench::payload_len) == MON_OK,
          "mon_buffer");
  }
  ~mon_c_multi_sender() { mon_buffer_free(buf_); }
  mon_c_multi_sender(const mon_c_multi_sender&) = delete;
  mon_c_multi_sender& operator=(const mon_c_multi_sender&) = delete;
  void send() {
    check(mon_ipc_send_fds(fd_, buf_, fds_.data(), fds_.size()) == MON_OK, "mon_ipc_send_fds");
  }

 private:
  int fd_;
  std::span<const int> fds_;
  mon_buffer* buf_;
};

class mon_c_multi_receiver {
 public:
  mon_c_multi_receiver(int fd, int /*type*/, int nfds)
      : fd_(fd), out_(static_cast<std::size_t>(nfds), -1), buf_(mon_buffer_new(0)) {
    check(buf_ != nullptr, "mon_buffer_new");
  }
  ~mon_c_multi_receiver() { mon_buffer_free(buf_); }
  mon_c_multi_receiver(const mon_c_multi_receiver&) = delete;
  mon_c_multi_receiver& operator=(const mon_c_multi_receiver&) = delete;
  bool receive() {
    std::size_t got = 0;
    const int rc = mon_ipc_recv_fds(fd_, buf_, out_.data(), out_.size(), &got);
    if (rc == MON_ERR_CLOSED) return false;
    check(rc == MON_OK && mon_buffer_len(buf_) == bench::payload_len && got == out_.size(),
          "mon_ipc_recv_fds");
    for (std::size_t i = 0; i < got; ++i) ::close(out_[i]);
    return true;
  }

 private:
  int fd_;
  std::vector<int> out_;
  mon_buffer* buf_;
};
#endif

// ---- monitor, C++ API -------------------------------------------------------------------------

class mon_cpp_sender {
 public:
  mon_cpp_sender(int fd, int /*type*/, std::span<const int> fds) : fd_(fd), fds_(fds) {
    check(buf_.append(std::as_bytes(std::span(bench::payload()))).ok(), "message_buffer");
  }
  void send() { check(mon::send_message(fd_, buf_, fds_).ok(), "mon::send_message"); }

 private:
  int fd_;
  std::span<const int> fds_;
  mon::message_buffer buf_;
};

class mon_cpp_receiver {
 public:
  mon_cpp_receiver(int fd, int /*type*/, int nfds) : fd_(fd), nfds_(nfds) {}
  bool receive() {
    auto r = mon::receive_message(fd_, buf_, fds_, static_cast<std::size_t>(nfds_));
    if (!r && r.code() == mon::errc::closed) return false;
    check(r.ok() && buf_.size() == bench::payload_len &&
              fds_.size() == static_cast<std::size_t>(nfds_),
          "mon::receive_message");
    fds_.clear();  // closes them
    return true;
  }

 private:
  int fd_;
  int nfds_;
  mon::message_buffer buf_;
  mon::fd_list fds_;
};

}  // namespace bench::fdimpl
