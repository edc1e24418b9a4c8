// SPDX-License-Identifier: MIT
// mon::receive_message_typed: receive_message, then a check of every descriptor's kind.
#include "monitor/receive_filter.hpp"

#include <sys/stat.h>

#include "core/transfer_state.hpp"
#include "sys/discard.hpp"
#include "sys/fd_kind.hpp"

namespace mon {

bool fd_type_allowed(unsigned file_type, bool o_path, fd_type_mask allowed) noexcept {
  if (o_path && (allowed & MON_FD_TYPE_OPATH) == 0) return false;
  unsigned bit = 0;
  switch (file_type & S_IFMT) {
    case S_IFREG:
      bit = MON_FD_TYPE_REGULAR;
      break;
    case S_IFDIR:
      bit = MON_FD_TYPE_DIRECTORY;
      break;
    case S_IFIFO:
      bit = MON_FD_TYPE_FIFO;
      break;
    case S_IFSOCK:
      bit = MON_FD_TYPE_SOCKET;
      break;
    case S_IFCHR:
      bit = MON_FD_TYPE_CHARDEV;
      break;
    case S_IFBLK:
      bit = MON_FD_TYPE_BLOCKDEV;
      break;
    case S_IFLNK:
      bit = MON_FD_TYPE_SYMLINK;
      break;  // only reachable through O_PATH|O_NOFOLLOW
    case 0:
      bit = MON_FD_TYPE_OTHER;
      break;  // anonymous inodes: eventfd, pidfd, epoll, ...
    default:
      return false;  // a type this code does not know: refuse
  }
  return (allowed & bit) != 0;
}

result<progress> receive_message_typed(int fd, message_buffer& buf, fd_list& fds,
                                       fd_type_mask allowed, std::size_t fd_limit) noexcept {
  auto r = receive_message(fd, buf, fds, fd_limit);
  if (!r || r.value() != progress::done) return r;
  for (const auto& d : fds.items()) {
    const auto kind = sys::describe(d.get());
    if (!kind || !fd_type_allowed(kind.value().file_type, kind.value().o_path, allowed)) {
      // One refused descriptor spoils the message: the caller gets none of them (disposed of,
      // never closed here: sys/discard.hpp), and no bytes that referred to them. Only the
      // message goes: what the buffer read ahead of the next one stays.
      sys::discard(fds);
      detail::buffer_access::set_size(buf, 0);
      return errc::protocol;
    }
  }
  return r;
}

}  // namespace mon
