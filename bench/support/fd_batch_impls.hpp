// SPDX-License-Identifier: MIT
// Batch twins (issue 15): raw sendmmsg / recvmmsg moving `batch` messages per system call, each the
// same 40 bytes as every other twin (frame header + 32-byte payload) with its own descriptors.
// bench/fd_throughput.cc puts them in the one-at-a-time groups as raw_mmsg_b<N>, beside `raw`
// (one sendmsg / recvmsg per message), so a reader sees where batching starts to pay.
//
// How the descriptors stay bound to their message:
// - Sender: every message is its own mmsghdr entry with its own SCM_RIGHTS. On SOCK_STREAM this
//   is what keeps each frame's descriptors on the skb that starts with the frame's header; one
//   entry carrying several frames would hand all their descriptors to the first.
// - Receiver: recvmmsg runs one recvmsg per entry. On SOCK_SEQPACKET an entry is a record. On
//   SOCK_STREAM the kernel ends a read right after the first skb that carries descriptors (and
//   glues descriptor-free skbs before it), so with every message carrying descriptors and each
//   entry's buffer exactly one frame long, entry i holds message i and exactly its descriptors. A
//   receiver that does not know frame lengths in advance must apply the fast-path binding rule
//   (issue 11) to every entry: the descriptors of an entry belong to the last frame that begins in
//   it. MSG_WAITFORONE: block for the first entry only, take what else is queued.
// - A stream entry shorter than a frame can only be the last one (its read stopped because the
//   queue ran dry): the rest of that frame is read one-at-a-time, and it must bring no descriptors.
//
// Interface (support/pair_harness.hpp): Sender(fd, type, fds, batch) with send() moving `batch`
// messages; Receiver(fd, type, nfds, batch) with std::size_t receive() returning the messages taken
// (0 at end of file). The monitor batch ends (issue 15) follow the same shape: see
// bench/fd_throughput.cc, "monitor batch rows".
#pragma once

#include <errno.h>
#include <sys/socket.h>

#include <cstring>
#include <span>
#include <vector>

#include "support/fd_impls.hpp"

namespace bench::fdimpl {

inline constexpr std::size_t frame_len = 8 + bench::payload_len;

class raw_mmsg_sender {
 public:
  raw_mmsg_sender(int fd, int /*type*/, std::span<const int> fds, std::size_t batch)
      : fd_(fd),
        header_(bench::frame_header(static_cast<unsigned>(fds.size()), bench::payload_len)),
        control_space_(CMSG_SPACE(fds.size() * sizeof(int))),
        control_(batch * control_space_),
        iov_(2 * batch),
        msgs_(batch) {
    for (std::size_t i = 0; i < batch; ++i) {
      iov_[2 * i] = {header_.data(), header_.size()};
      iov_[2 * i + 1] = {const_cast<unsigned char*>(bench::payload().data()), bench::payload_len};
      msghdr& m = msgs_[i].msg_hdr;
      m.msg_iov = &iov_[2 * i];
      m.msg_iovlen = 2;
      m.msg_control = control_.data() + i * control_space_;
      m.msg_controllen = control_space_;
      cmsghdr* c = CMSG_FIRSTHDR(&m);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
      std::memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
    }
  }
  void send() {
    for (std::size_t sent = 0; sent < msgs_.size();) {
      const int n = ::sendmmsg(fd_, msgs_.data() + sent, static_cast<unsigned>(msgs_.size() - sent),
                               MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      check(n > 0, "raw sendmmsg");
      // A blocking socket takes each entry whole.
      for (int i = 0; i < n; ++i)
        check(msgs_[sent + i].msg_len == frame_len, "raw sendmmsg: short");
      sent += static_cast<std::size_t>(n);
    }
  }

 private:
  int fd_;
  std::array<unsigned char, 8> header_;
  std::size_t control_space_;
  std::vector<unsigned char> control_;  // one SCM_RIGHTS per entry (aligned: CMSG_SPACE steps)
  std::vector<iovec> iov_;
  std::vector<mmsghdr> msgs_;
};

class raw_mmsg_receiver {
 public:
  raw_mmsg_receiver(int fd, int type, int nfds, std::size_t batch)
      : fd_(fd),
        type_(type),
        nfds_(nfds),
        control_space_(CMSG_SPACE(static_cast<std::size_t>(nfds + 1) * sizeof(int))),
        control_(batch * control_space_),
        frames_(batch * frame_len),
        iov_(batch),
        msgs_(batch) {
    for (std::size_t i = 0; i < batch; ++i) {
      iov_[i] = {frames_.data() + i * frame_len, frame_len};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
  }
  std::size_t receive() {
    for (std::size_t i = 0; i < msgs_.size(); ++i) {  // the kernel rewrites them per call
      msgs_[i].msg_hdr.msg_control = control_.data() + i * control_space_;
      msgs_[i].msg_hdr.msg_controllen = control_space_;
    }
    int n;
    do
      n = ::recvmmsg(fd_, msgs_.data(), static_cast<unsigned>(msgs_.size()),
                     MSG_CMSG_CLOEXEC | MSG_WAITFORONE, nullptr);
    while (n < 0 && errno == EINTR);
    check(n > 0, "raw recvmmsg");
    for (int i = 0; i < n; ++i) {
      const msghdr& m = msgs_[static_cast<std::size_t>(i)].msg_hdr;
      const std::size_t len = msgs_[static_cast<std::size_t>(i)].msg_len;
      const int got = raw_close_rights(m);
      if (len == 0) {  // end of file: the entries before it are the last messages
        check(got == 0, "raw recvmmsg: descriptors at end of file");
        return static_cast<std::size_t>(i);
      }
      check(got == nfds_, "raw recvmmsg: wrong number of descriptors");
      if (type_ == SOCK_SEQPACKET) {
        check((m.msg_flags & MSG_TRUNC) == 0 && len == frame_len, "raw recvmmsg: record");
      } else if (len < frame_len) {
        check(i == n - 1, "raw recvmmsg: short entry before the last");
        read_rest(static_cast<std::size_t>(i), len);
      }
    }
    return static_cast<std::size_t>(n);
  }

 private:
  void read_rest(std::size_t entry, std::size_t got) {
    unsigned char* frame = frames_.data() + entry * frame_len;
    unsigned char* control = control_.data() + entry * control_space_;
    while (got < frame_len) {
      iovec p{frame + got, frame_len - got};
      const ssize_t m = raw_receive(fd_, &p, 1, control, control_space_, 0);
      check(m > 0, "raw recvmmsg: end of file inside a frame");
      got += static_cast<std::size_t>(m);
    }
  }

  int fd_;
  int type_;
  int nfds_;
  std::size_t control_space_;
  std::vector<unsigned char> control_;
  std::vector<unsigned char> frames_;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> msgs_;
};

}  // namespace bench::fdimpl
