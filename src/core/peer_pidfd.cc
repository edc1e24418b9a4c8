// SPDX-License-Identifier: MIT
#include "core/peer_pidfd.hpp"

#include "sys/peer_identity.hpp"

namespace mon::detail {

result<unique_fd> copy_peer_pidfd(const server_handshake& hs) noexcept {
  auto lent = hs.peer_pidfd();
  if (!lent) return lent.err();
  return sys::duplicate(lent.value());
}

}  // namespace mon::detail
