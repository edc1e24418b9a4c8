// SPDX-License-Identifier: MIT
// The half-done send and receive that a mon::message_buffer carries between calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "frame/frame_writer.hpp"
#include "frame/stream_receiver.hpp"
#include "monitor/message.hpp"
#include "sys/discard.hpp"

namespace mon::detail {

struct transfer_state {
  // Receive side. The stream receiver may hold bytes and descriptors read ahead; they belong to
  // the socket they came from, named by its cookie (rx_cookie, taken when anything is left held):
  // the descriptor number alone could be reused by another connection.
  frame::stream_receiver rx{&sys::discard};
  int rx_fd = -1;                // the socket rx_type (and anything held) belong to
  int rx_type = 0;               // SOCK_STREAM or SOCK_SEQPACKET once known; 0 unknown
  std::uint64_t rx_cookie = 0;   // SO_COOKIE of rx_fd while rx holds something; 0 not taken
  fault rx_fault = fault::none;  // why the last receive failed (message_buffer::last_fault)

  // Send side: a stream message the socket took only part of.
  frame::frame_writer tx;
  int tx_fd = -1;
};

static_assert(sizeof(transfer_state) <= transfer_storage);
static_assert(alignof(transfer_state) <= alignof(std::max_align_t));

// The library's access to a message_buffer's insides.
struct buffer_access {
  static transfer_state& transfer(message_buffer& b) noexcept {
    return *std::launder(reinterpret_cast<transfer_state*>(b.transfer_));
  }
  static std::byte* storage(message_buffer& b) noexcept { return b.data_; }
  static void set_size(message_buffer& b, std::size_t n) noexcept { b.size_ = n; }
};

}  // namespace mon::detail
