// SPDX-License-Identifier: MIT
// mon::sys: what the kernel knows about the process at the other end of an AF_UNIX socket, beyond
// SO_PEERCRED (socket.hpp), and the SO_PASSRIGHTS switch. Every value here is the kernel's snapshot
// taken at connect() (or socketpair()/listen()); nothing comes from the peer's bytes.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>

#include "monitor/result.hpp"
#include "monitor/unique_fd.hpp"

namespace mon::sys {

// SO_PEERPIDFD (Linux >= 6.5): a new pidfd (close-on-exec) for the peer recorded at connect().
// Errors, each with the errno kept:
// clang-format off
//   errc::unsupported  the kernel has no SO_PEERPIDFD (ENOPROTOOPT);
//   errc::closed       the peer process is gone and the kernel cannot pin it (ESRCH; EINVAL from
//                      6.5-6.8's pidfd_prepare; ENODATA: no peer recorded);
//   errc::io           anything else, in particular EMFILE/ENFILE (descriptor table full).
// clang-format on
[[nodiscard]] result<unique_fd> peer_pidfd(int fd) noexcept;

// The answer of one SO_PEERGROUPS or SO_PEERSEC call into a caller's buffer.
struct sized_answer {
  std::size_t needed = 0;  // bytes the kernel has (or wrote, when fits)
  bool fits = false;       // false: ERANGE, nothing written, needed says how much to offer
};

// SO_PEERGROUPS: the peer's supplementary groups, as bytes of gid_t. ERANGE becomes fits=false.
[[nodiscard]] result<sized_answer> peer_groups(int fd, std::span<gid_t> out) noexcept;

// SO_PEERSEC: the peer's security label (bytes, maybe NUL-terminated, maybe not). ERANGE becomes
// fits=false; ENOPROTOOPT (no LSM provides labels) is errc::unsupported.
[[nodiscard]] result<sized_answer> peer_security_label(int fd, std::span<char> out) noexcept;

// SO_PASSRIGHTS (Linux >= 6.16): whether the kernel lets SCM_RIGHTS reach this socket. Reading it
// is errc::unsupported on kernels without the option (ENOPROTOOPT) or on non-AF_UNIX sockets.
[[nodiscard]] result<bool> pass_rights(int fd) noexcept;
[[nodiscard]] result<void> set_pass_rights(int fd, bool on) noexcept;

// F_DUPFD_CLOEXEC: a second descriptor for the same open file, owned by the caller.
[[nodiscard]] result<unique_fd> duplicate(int fd) noexcept;

}  // namespace mon::sys
