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
#include <memory>
#include <span>
#include <vector>

#include "monitor/batch.hpp"
#include "monitor/monitor.h"
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

// ---- monitor's batch ends (issue 15) ------------------------------------------------------------
// mon::send_messages / mon::receive_messages (C++) and mon_ipc_send_batch / mon_ipc_recv_batch (C)
// with the same messages. The receiver's fd limit is the message's count (1): it sets how many
// entries one recvmmsg may have (include/monitor/batch.hpp).

class mon_cpp_batch_sender {
 public:
  mon_cpp_batch_sender(int fd, int /*type*/, std::span<const int> fds, std::size_t batch)
      : fd_(fd),
        msgs_(batch,
              mon::outgoing_message{
                  std::as_bytes(std::span(bench::payload().data(), bench::payload_len)), fds}) {}
  void send() {
    std::span<const mon::outgoing_message> rest(msgs_);
    while (!rest.empty()) {
      auto r = mon::send_messages(fd_, rest, state_);
      check(r.ok() && r.value() > 0, "mon::send_messages");
      rest = rest.subspan(r.value());
    }
  }

 private:
  int fd_;
  std::vector<mon::outgoing_message> msgs_;
  mon::batch_send_state state_;
};

class mon_cpp_batch_receiver {
 public:
  mon_cpp_batch_receiver(int fd, int /*type*/, int nfds, std::size_t batch)
      : fd_(fd),
        nfds_(nfds),
        store_(batch * bench::payload_len),
        slots_(batch),
        state_(std::make_unique<mon::batch_receive_state>()) {
    for (std::size_t i = 0; i < batch; ++i)
      slots_[i].storage = std::span(store_.data() + i * bench::payload_len, bench::payload_len);
  }
  std::size_t receive() {
    auto r = mon::receive_messages(fd_, *state_, slots_, static_cast<std::size_t>(nfds_));
    if (!r && r.code() == mon::errc::closed) return 0;
    check(r.ok() && r.value() > 0, "mon::receive_messages");
    for (std::size_t i = 0; i < r.value(); ++i) {
      check(slots_[i].status.ok() && slots_[i].size == bench::payload_len &&
                slots_[i].fds.size() == static_cast<std::size_t>(nfds_),
            "mon::receive_messages: message");
      slots_[i].fds.clear();
    }
    return r.value();
  }

 private:
  int fd_;
  int nfds_;
  std::vector<std::byte> store_;
  std::vector<mon::received_message> slots_;
  std::unique_ptr<mon::batch_receive_state> state_;
};

class mon_c_batch_sender {
 public:
  mon_c_batch_sender(int fd, int /*type*/, std::span<const int> fds, std::size_t batch)
      : fd_(fd), fds_(fds.begin(), fds.end()), msgs_(batch), batch_(mon_batch_new()) {
    check(batch_ != nullptr, "mon_batch_new");
    for (auto& m : msgs_)
      m = {const_cast<unsigned char*>(bench::payload().data()),
           bench::payload_len,
           0,
           fds_.data(),
           fds_.size(),
           0};
  }
  ~mon_c_batch_sender() { mon_batch_free(batch_); }
  mon_c_batch_sender(mon_c_batch_sender&& o) noexcept
      : fd_(o.fd_), fds_(std::move(o.fds_)), msgs_(std::move(o.msgs_)), batch_(o.batch_) {
    o.batch_ = nullptr;
  }
  void send() {
    std::size_t done = 0;
    while (done < msgs_.size()) {
      std::size_t n = 0;
      const int rc = mon_ipc_send_batch(fd_, batch_, msgs_.data() + done, msgs_.size() - done, &n);
      check(rc == MON_OK || (rc == MON_WANT_WRITE && n > 0), "mon_ipc_send_batch");
      done += n;
    }
  }

 private:
  int fd_;
  std::vector<int> fds_;
  std::vector<mon_batch_msg> msgs_;
  mon_batch* batch_;
};

class mon_c_batch_receiver {
 public:
  mon_c_batch_receiver(int fd, int /*type*/, int nfds, std::size_t batch)
      : fd_(fd),
        nfds_(static_cast<std::size_t>(nfds)),
        store_(batch * bench::payload_len),
        fds_(batch * nfds_),
        msgs_(batch),
        batch_(mon_batch_new()) {
    check(batch_ != nullptr, "mon_batch_new");
    for (std::size_t i = 0; i < batch; ++i)
      msgs_[i] = {store_.data() + i * bench::payload_len,
                  0,
                  bench::payload_len,
                  fds_.data() + i * nfds_,
                  0,
                  0};
  }
  ~mon_c_batch_receiver() { mon_batch_free(batch_); }
  mon_c_batch_receiver(mon_c_batch_receiver&& o) noexcept
      : fd_(o.fd_),
        nfds_(o.nfds_),
        store_(std::move(o.store_)),
        fds_(std::move(o.fds_)),
        msgs_(std::move(o.msgs_)),
        batch_(o.batch_) {
    o.batch_ = nullptr;
  }
  std::size_t receive() {
    std::size_t n = 0;
    const int rc = mon_ipc_recv_batch(fd_, batch_, msgs_.data(), msgs_.size(), nfds_, &n);
    if (rc == MON_ERR_CLOSED) return 0;
    check(rc == MON_OK && n > 0, "mon_ipc_recv_batch");
    for (std::size_t i = 0; i < n; ++i) {
      check(msgs_[i].status == MON_OK && msgs_[i].len == bench::payload_len &&
                msgs_[i].num_fds == nfds_,
            "mon_ipc_recv_batch: message");
      for (std::size_t j = 0; j < msgs_[i].num_fds; ++j) ::close(msgs_[i].fds[j]);
    }
    return n;
  }

 private:
  int fd_;
  std::size_t nfds_;
  std::vector<unsigned char> store_;
  std::vector<int> fds_;
  std::vector<mon_batch_msg> msgs_;
  mon_batch* batch_;
};

}  // namespace bench::fdimpl
