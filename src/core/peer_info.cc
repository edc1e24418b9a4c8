// SPDX-License-Identifier: MIT
// mon::query_peer_info: SO_PEERGROUPS and SO_PEERSEC through the bounded ERANGE loop.
#include "monitor/peer_info.hpp"

#include "core/grow_query.hpp"
#include "sys/peer_identity.hpp"
#include "sys/socket.hpp"

namespace mon {

struct peer_info_builder {
  static result<peer_info> build(int fd) noexcept {
    if (auto type = sys::unix_socket_type(fd); !type) return type.err();
    peer_info info;
    auto groups = detail::grow_query<gid_t>(
        [fd](std::span<gid_t> buf) noexcept { return sys::peer_groups(fd, buf); }, max_peer_groups,
        info.groups_);
    if (!groups) return groups.err();
    info.num_groups_ = groups.value();

    auto label = detail::grow_query<char>(
        [fd](std::span<char> buf) noexcept { return sys::peer_security_label(fd, buf); },
        max_security_label, info.label_);
    if (!label) {
      if (label.code() != errc::unsupported) return label.err();
      info.label_.reset();  // no security module labels sockets: "no label", not an error
      return info;
    }
    const std::size_t len = detail::label_length({info.label_.get(), label.value()});
    info.label_len_ = len;
    if (len == 0) info.label_.reset();
    return info;
  }
};

result<peer_info> query_peer_info(int fd) noexcept { return peer_info_builder::build(fd); }

}  // namespace mon
