// SPDX-License-Identifier: MIT
// mon::sys batch calls: sendmmsg and recvmmsg, the only kernel callers for batches. Like
// sys/socket.hpp: retry EINTR, map EAGAIN, decode control data the moment it arrives; no framing.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "cmsg/control.hpp"
#include "monitor/result.hpp"
#include "monitor/unique_fd.hpp"
#include "sys/socket.hpp"

namespace mon::sys {

// sendmmsg(msgs) with MSG_NOSIGNAL, retrying EINTR. kind::ok: bytes is the number of entries sent
// (each entry's msg_len says how much of it). The kernel stops after an entry it took only part
// of (Linux >= 4.6), so the entries after a short one never went.
[[nodiscard]] io_result send_many(int fd, std::span<mmsghdr> msgs) noexcept;

// What one recvmmsg entry brought.
struct entry_result {
  std::uint32_t len = 0;       // bytes (0: end of file)
  int msg_flags = 0;           // MSG_TRUNC, MSG_CTRUNC
  std::uint32_t fd_first = 0;  // its descriptors: pool[fd_first, fd_first + fd_count)
  std::uint32_t fd_count = 0;
  result<void> control{};  // cmsg::decode's verdict (on error its descriptors are gone)
};

// recvmmsg(msgs) with MSG_CMSG_CLOEXEC | MSG_WAITFORONE, retrying EINTR; the caller set every
// entry's iov and control buffer (msg_controllen is rewritten by the kernel: set it before each
// call). Every entry that came back has its control data decoded at once against pol (refused
// descriptors disposed of by sys::discard) and its descriptors moved into pool, in entry order;
// out[i] describes entry i. kind::ok: bytes is the number of entries. pool must have room for
// pol.max_fds descriptors per entry (more are disposed of and the entry's control is a protocol
// error). An entry of 0 bytes is end of file: whatever came with it is disposed of.
[[nodiscard]] io_result receive_many(int fd, std::span<mmsghdr> msgs, const cmsg::policy& pol,
                                     std::span<unique_fd> pool,
                                     std::span<entry_result> out) noexcept;

}  // namespace mon::sys
