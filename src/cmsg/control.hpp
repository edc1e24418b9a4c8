// SPDX-License-Identifier: MIT
// mon::cmsg: the control data of recvmsg/sendmsg, decoded into owned descriptors and credentials.
//
// Pure: decode() only reads the bytes it is given (a fuzzer can hand it anything, with real
// descriptors where the bytes say SCM_RIGHTS) and closes, through unique_fd, whatever it does not
// hand on. It never trusts cmsg_len beyond the buffer's own length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "monitor/credentials.hpp"
#include "monitor/fault.hpp"
#include "monitor/fd_list.hpp"
#include "monitor/result.hpp"

namespace mon::cmsg {

// Takes descriptors that decode() refuses; must leave the list empty. Refused descriptors come
// from a peer, and closing one can block for as long as the peer likes (a file on a FUSE mount
// it serves), so the receiving layer gives one that never blocks (sys::discard).
using disposer = void (*)(fd_list& refused) noexcept;

// What the receiver is prepared to accept in one recvmsg.
struct policy {
  std::size_t max_fds = 0;         // more descriptors than this is a protocol error
  bool allow_credentials = false;  // SCM_CREDENTIALS accepted (at most one)
  disposer dispose = nullptr;      // where refused descriptors go; null: closed here
};

// What one recvmsg delivered, owned; or, after a decode error, only why it was refused.
struct control_data {
  fd_list fds;
  bool has_credentials = false;
  peer_credentials credentials{};
  fault why = fault::none;  // set by decode() when it returns an error
  void clear() noexcept {
    fds.clear();
    has_credentials = false;
    credentials = {};
    why = fault::none;
  }
};

// Bytes of control buffer needed to receive (or send) num_fds descriptors and, if asked,
// credentials, plus one spare descriptor slot so that "one too many" is seen rather than cut.
[[nodiscard]] std::size_t receive_space(std::size_t num_fds, bool credentials) noexcept;
// The largest receive_space() can return; control buffers on the stack are this big.
inline constexpr std::size_t max_space = 1200;

// Decodes a control buffer as recvmsg filled it (msg_flags is recvmsg's msg_flags). First takes
// ownership of every descriptor the buffer names (SCM_RIGHTS, SCM_PIDFD) into out or closes it,
// then checks the policy. On error every descriptor went to pol.dispose and out holds only why it
// failed (out.why):
// clang-format off
//   errc::truncated  MSG_CTRUNC was set (fault::control_truncated, whatever else was wrong);
//   errc::protocol   otherwise the first fault met walking the buffer: control_malformed,
//                    two_rights_headers, unexpected_pidfd, unexpected_control_type,
//                    credentials_not_allowed, two_credentials_headers; then, after the walk,
//                    too_many_descriptors (more than policy.max_fds).
// clang-format on
[[nodiscard]] result<void> decode(std::span<const std::byte> control, int msg_flags,
                                  const policy& pol, control_data& out) noexcept;

// Writes the control data for sendmsg into buf: one SCM_RIGHTS header with fds (if any) and one
// SCM_CREDENTIALS header (if creds is not null). Returns the length used, or 0 with nothing to
// send. buf must be at least receive_space(fds.size(), creds != nullptr) bytes and suitably
// aligned.
[[nodiscard]] result<std::size_t> encode(std::span<std::byte> buf, std::span<const int> fds,
                                         const peer_credentials* creds) noexcept;

}  // namespace mon::cmsg
