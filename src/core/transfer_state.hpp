// The half-done send and receive that a mon::message_buffer carries between calls.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <new>

#include "frame/frame.hpp"
#include "monitor/message.hpp"

namespace mon::detail {

struct transfer_state {
  // Receive side.
  frame::stream_decoder rx{frame::limits{}};
  int rx_fd = -1;   // the socket rx_type (and a frame in progress) belong to
  int rx_type = 0;  // SOCK_STREAM or SOCK_SEQPACKET once known; 0 unknown

  // Send side: a stream message the socket took only part of.
  bool tx_active = false;
  int tx_fd = -1;
  std::size_t tx_sent = 0;
  std::array<std::uint8_t, frame::header_len> tx_header{};
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
