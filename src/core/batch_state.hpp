// SPDX-License-Identifier: MIT
// What a mon::batch_receive_state holds besides its message_buffer: the recvmmsg entries of one
// call and, between calls, the entries not yet framed (a stream read that brought more frames than
// the caller had slots for), with their descriptors owned by a pool.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <new>

#include "core/transfer_state.hpp"
#include "frame/frame.hpp"
#include "frame/stream_receiver.hpp"
#include "monitor/batch.hpp"
#include "monitor/unique_fd.hpp"
#include "sys/discard.hpp"
#include "sys/socket_batch.hpp"

namespace mon::detail {

struct batch_stash {
  static constexpr std::size_t max_entries = max_batch;
  static constexpr std::size_t arena_len = 16384;  // stream entries read here
  static constexpr std::size_t control_len = 8192;
  static constexpr std::size_t pool_len = 512;  // descriptors held between read and framing
  // A stream entry is fed to the stream receiver as one read, so it must fit the receiver's room
  // for a read: at least read_ahead_len minus a partial header.
  static constexpr std::size_t max_chunk = frame::read_ahead_len - frame::header_len;

  std::array<mmsghdr, max_entries> msgs;
  std::array<iovec, 2 * max_entries> iov;
  std::array<std::array<std::uint8_t, frame::header_len>, max_entries> heads;  // seqpacket
  std::array<sys::entry_result, max_entries> entries;
  std::array<std::uint32_t, max_entries> offset;  // stream: where entry i's bytes are in arena
  std::array<unique_fd, pool_len> pool;
  std::size_t next = 0;  // stream: entries [next, count) are read but not yet framed
  std::size_t count = 0;
  alignas(cmsghdr) std::array<std::byte, control_len> control;
  std::array<std::byte, arena_len> arena;

  [[nodiscard]] bool held() const noexcept { return next != count; }
  void clear() noexcept {
    sys::discard(std::span<unique_fd>(pool));
    next = count = 0;
  }
};

static_assert(sizeof(batch_stash) <= batch_stash_storage);
static_assert(alignof(batch_stash) <= alignof(std::max_align_t));

struct batch_access {
  static batch_stash& stash(batch_receive_state& s) noexcept {
    return *std::launder(reinterpret_cast<batch_stash*>(s.stash_));
  }
  static message_buffer& held(batch_receive_state& s) noexcept { return s.held_; }
  static int& fd(batch_send_state& s) noexcept { return s.fd_; }
  static std::size_t& sent(batch_send_state& s) noexcept { return s.sent_; }
  static std::size_t& total(batch_send_state& s) noexcept { return s.total_; }
};

}  // namespace mon::detail
