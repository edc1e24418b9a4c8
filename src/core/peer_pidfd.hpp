// SPDX-License-Identifier: MIT
// A caller-owned copy of a server handshake's peer pidfd: what the C ABI hands out, one new
// descriptor per call, while the handshake keeps its own (mon_ipc_auth_server_peer_pidfd).
#pragma once

#include "monitor/handshake.hpp"
#include "monitor/result.hpp"
#include "monitor/unique_fd.hpp"

namespace mon::detail {

// server_handshake::peer_pidfd(), then F_DUPFD_CLOEXEC. Errors: those of peer_pidfd(), and
// errc::io with the errno of fcntl (EMFILE) when the copy cannot be made.
[[nodiscard]] result<unique_fd> copy_peer_pidfd(const server_handshake& hs) noexcept;

}  // namespace mon::detail
