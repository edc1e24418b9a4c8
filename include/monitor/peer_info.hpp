// SPDX-License-Identifier: MIT
// mon::peer_info: a connected peer's supplementary groups and security label, as the kernel
// recorded them when the connection was made (SO_PEERGROUPS, SO_PEERSEC). Like SO_PEERCRED, these
// are a snapshot of the process that called connect() (or socketpair()); later setgroups() or
// exec() in the peer does not change them. See docs/IDENTITY.md.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "monitor/export.h"
#include "monitor/result.hpp"

namespace mon {

// Bounds on what the library accepts from the kernel (it never reports more on Linux: NGROUPS_MAX
// is 65536; LSM labels are far shorter than 64 KiB).
inline constexpr std::size_t max_peer_groups = 65536;
inline constexpr std::size_t max_security_label = 65536;

// A peer's supplementary groups and security label, owned (move-only). Made by query_peer_info or
// server_handshake::read_peer_info.
class MON_API peer_info {
 public:
  peer_info() noexcept = default;
  peer_info(peer_info&&) noexcept = default;
  peer_info& operator=(peer_info&&) noexcept = default;
  peer_info(const peer_info&) = delete;
  peer_info& operator=(const peer_info&) = delete;
  ~peer_info() = default;

  // Supplementary groups (the effective gid is in peer_credentials, and may or may not be listed).
  [[nodiscard]] std::span<const gid_t> groups() const noexcept {
    return {groups_.get(), num_groups_};
  }
  // The LSM label as length-delimited bytes, trailing NULs removed. It is not NUL-terminated and
  // may, in principle, contain a NUL: compare it as bytes. Empty when has_security_label() is
  // false.
  [[nodiscard]] std::string_view security_label() const noexcept {
    return {label_.get(), label_len_};
  }
  // false when no security module labels sockets (the kernel answers ENOPROTOOPT): "no label",
  // which is not an error.
  [[nodiscard]] bool has_security_label() const noexcept { return label_len_ != 0; }

 private:
  friend struct peer_info_builder;
  std::unique_ptr<gid_t[]> groups_;
  std::size_t num_groups_ = 0;
  std::unique_ptr<char[]> label_;
  std::size_t label_len_ = 0;
};

// Reads the peer's groups and label from a connected AF_UNIX socket. Retries while the kernel says
// the buffer is too small (ERANGE), a bounded number of times and never beyond the bounds above.
// Errors: errc::invalid (not an AF_UNIX socket), errc::nomem, errc::toobig (the kernel reports more
// than the bounds), errc::io (with errno). No LSM is not an error (has_security_label() false).
[[nodiscard]] MON_API result<peer_info> query_peer_info(int fd) noexcept;

}  // namespace mon
