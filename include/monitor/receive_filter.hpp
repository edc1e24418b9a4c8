// SPDX-License-Identifier: MIT
// mon::receive_message_typed: receive_message for receivers that know which kinds of descriptor
// they asked for. A peer can otherwise hand a receiver the receiving socket itself or a listening
// socket (an in-flight reference cycle, CVE-2014-3637), a FIFO that blocks open-and-read code, a
// device, a directory (a path-walk base), or an O_PATH descriptor. Each received descriptor is
// checked with statx (cached attributes: it cannot hang on a FUSE/NFS server) and F_GETFL.
#pragma once

#include <cstddef>

#include "monitor/export.h"
#include "monitor/fd_list.hpp"
#include "monitor/message.hpp"
#include "monitor/monitor.h"
#include "monitor/result.hpp"

namespace mon {

// The kinds a receiver may allow: the MON_FD_TYPE_* bits of monitor.h (one bit per S_IFMT type,
// MON_FD_TYPE_OTHER for anonymous inodes such as eventfd, timerfd, epoll and pidfd, and
// MON_FD_TYPE_OPATH to also accept O_PATH descriptors of an allowed type).
using fd_type_mask = unsigned;

// True if a descriptor of this S_IFMT type (0 for anonymous inodes), opened with O_PATH or not,
// passes the mask. Pure; exposed so the rule is testable without descriptors.
[[nodiscard]] MON_API bool fd_type_allowed(unsigned file_type, bool o_path,
                                           fd_type_mask allowed) noexcept;

// As receive_message, then every descriptor is checked against allowed. If any is refused (or
// cannot be examined), all of them are closed, buf is cleared and the result is errc::protocol:
// the frame was consumed whole, so the stream stays in step, but the peer broke the receiver's
// contract and closing the connection is the safe reaction. Other results as receive_message.
[[nodiscard]] MON_API result<progress> receive_message_typed(
    int fd, message_buffer& buf, fd_list& fds, fd_type_mask allowed,
    std::size_t fd_limit = max_fds) noexcept;

}  // namespace mon
