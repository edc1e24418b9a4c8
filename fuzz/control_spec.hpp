// SPDX-License-Identifier: MIT
// The control data of one read, as a handshake or frame input describes it, built into a real
// control buffer (with real descriptors) and decoded by cmsg::decode, exactly as src/sys/ does
// after recvmsg. The input never names a descriptor number: it says how many, and fd_ledger makes
// them.
//
// The op byte of a read:
//   bits 0-1  credentials: 0 the fake kernel's (the peer's), 1 none, 2 others (12 input bytes),
//             3 the peer's twice (two SCM_CREDENTIALS headers)
//   bit 2     MSG_CTRUNC          bit 3  MSG_TRUNC (the data was cut)
//   bit 4     end of file instead of a read
//   bits 5-6  descriptors attached as SCM_RIGHTS (0..3)
//   bit 7     one more header of another kind (one input byte: even = SCM_PIDFD with a
//             descriptor, odd = an unknown level/type)
#pragma once

#include <sys/socket.h>

#include <cstring>

#include "cmsg/control.hpp"
#include "fuzz_support.hpp"
#include "platform/linux.hpp"

namespace mon::fuzz {

namespace op {
inline constexpr std::uint8_t creds_mask = 0x03;
inline constexpr std::uint8_t creds_peer = 0, creds_none = 1, creds_other = 2, creds_twice = 3;
inline constexpr std::uint8_t ctrunc = 0x04;
inline constexpr std::uint8_t trunc = 0x08;
inline constexpr std::uint8_t eof = 0x10;
inline constexpr int fds_shift = 5;
inline constexpr std::uint8_t fds_mask = 0x60;
inline constexpr std::uint8_t extra = 0x80;
}  // namespace op

struct decoded_control {
  result<void> status{};
  cmsg::control_data data;
  bool data_truncated = false;
  bool had_creds_of_peer_only = false;  // exactly one SCM_CREDENTIALS, equal to the peer's
};

// Builds the control buffer op describes and decodes it with pol. `peer` is the fake kernel's view.
inline void build_and_decode(std::uint8_t opb, input& in, const peer_credentials& peer,
                             const cmsg::policy& pol, fd_ledger& ledger, decoded_control& out) {
  alignas(cmsghdr) std::byte buf[cmsg::max_space + 64] = {};
  int fds[3];
  const std::size_t num_fds = (opb & op::fds_mask) >> op::fds_shift;
  for (std::size_t i = 0; i < num_fds; ++i) fds[i] = ledger.make();

  peer_credentials creds = peer;
  const std::uint8_t which = opb & op::creds_mask;
  if (which == op::creds_other) creds = read_credentials(in);
  const bool with_creds = which != op::creds_none;

  auto len = cmsg::encode(buf, std::span<const int>(fds, num_fds), with_creds ? &creds : nullptr);
  MON_FUZZ_CHECK(len.ok());
  std::size_t used = len.value();

  auto append = [&](int level, int type, const void* payload, std::size_t payload_len) {
    cmsghdr h{};
    h.cmsg_len = CMSG_LEN(payload_len);
    h.cmsg_level = level;
    h.cmsg_type = type;
    std::memcpy(buf + used, &h, sizeof h);
    std::memcpy(buf + used + CMSG_LEN(0), payload, payload_len);
    used += CMSG_SPACE(payload_len);
  };
  if (which == op::creds_twice) {
    const ucred c{peer.pid, peer.uid, peer.gid};
    append(SOL_SOCKET, SCM_CREDENTIALS, &c, sizeof c);
  }
  if (opb & op::extra) {
    const std::uint8_t kind = in.u8();
    if (kind % 2 == 0) {
      const int pidfd = ledger.make();
      append(SOL_SOCKET, SCM_PIDFD, &pidfd, sizeof pidfd);
    } else {
      const int junk = kind;
      append(kind & 2 ? SOL_SOCKET : 0 /* SOL_IP */, kind >> 2, &junk, sizeof junk);
    }
  }

  const int flags = (opb & op::ctrunc ? MSG_CTRUNC : 0) | (opb & op::trunc ? MSG_TRUNC : 0);
  out.data_truncated = (opb & op::trunc) != 0;
  out.had_creds_of_peer_only =
      with_creds && which != op::creds_twice && creds == peer && !(opb & op::extra) && num_fds == 0;
  out.status = cmsg::decode(std::span<const std::byte>(buf, used), flags, pol, out.data);
  // Whatever decode refused, it closed: an error leaves nothing behind.
  if (!out.status) MON_FUZZ_CHECK(out.data.fds.empty() && !out.data.has_credentials);
}

// The decode_control step of fuzz_support.hpp read_step: each read's control data as its op byte
// describes it, decoded with pol (the machine's read_policy()) against the fake kernel's `peer`.
inline auto control_decoder(input& in, const peer_credentials& peer, cmsg::policy pol,
                            fd_ledger& ledger) {
  return [&in, peer, pol, &ledger](std::uint8_t opb) {
    decoded_control ctl;
    build_and_decode(opb, in, peer, pol, ledger, ctl);
    return ctl;
  };
}

}  // namespace mon::fuzz
