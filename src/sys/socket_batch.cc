// SPDX-License-Identifier: MIT
#include "sys/socket_batch.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "sys/discard.hpp"

namespace mon::sys {

io_result send_many(int fd, std::span<mmsghdr> msgs) noexcept {
  io_result r;
  int n = -1;
  do {
    n = ::sendmmsg(fd, msgs.data(), static_cast<unsigned>(msgs.size()), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return failed_call(errno);
  r.what = io_result::kind::ok;
  r.bytes = static_cast<std::size_t>(n);
  return r;
}

io_result receive_many(int fd, std::span<mmsghdr> msgs, const cmsg::policy& pol,
                       std::span<unique_fd> pool, std::span<entry_result> out) noexcept {
  io_result r;
  int n = -1;
  do {
    n = ::recvmmsg(fd, msgs.data(), static_cast<unsigned>(msgs.size()),
                   MSG_CMSG_CLOEXEC | MSG_WAITFORONE, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return failed_call(errno);
  // Ownership first, entry by entry: every descriptor that arrived is held by pool (or disposed
  // of) before any byte is looked at.
  cmsg::policy refusing = pol;
  refusing.dispose = &discard;
  cmsg::control_data ctl;
  std::size_t used = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
    const msghdr& m = msgs[i].msg_hdr;
    entry_result& e = out[i];
    e = {};
    e.control = cmsg::decode(
        std::span<const std::byte>(static_cast<const std::byte*>(m.msg_control), m.msg_controllen),
        m.msg_flags, refusing, ctl);
    e.len = msgs[i].msg_len;
    e.msg_flags = m.msg_flags;
    if (e.len == 0 || ctl.fds.size() > pool.size() - used) {
      // End of file: nothing that came with it is used. Or no room (a caller bug): refused.
      if (e.len != 0) e.control = errc::protocol;
      discard(ctl.fds);
      ctl.clear();
      continue;
    }
    e.fd_first = static_cast<std::uint32_t>(used);
    e.fd_count = static_cast<std::uint32_t>(ctl.fds.size());
    for (auto& d : ctl.fds.items()) pool[used++] = std::move(d);
    ctl.clear();
  }
  r.what = io_result::kind::ok;
  r.bytes = static_cast<std::size_t>(n);
  return r;
}

}  // namespace mon::sys
