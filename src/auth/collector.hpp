// SPDX-License-Identifier: MIT
// mon::auth::collector: gathers one handshake message from reads of any size.
//
// On a stream it asks for exactly the header, then exactly the body, so it never consumes bytes
// that follow the message. On a SOCK_SEQPACKET socket the whole message must be one record. Pure.
#pragma once

#include <cstddef>
#include <span>

#include "auth/messages.hpp"

namespace mon::auth {

class collector {
 public:
  enum class status : std::uint8_t { more, complete };

  explicit collector(bool record_mode) noexcept : record_mode_(record_mode) {}

  // Where the next read goes: the exact remainder on a stream, room for a whole record otherwise.
  [[nodiscard]] std::span<std::uint8_t> space() noexcept;
  // Reports n (>= 1) bytes read into space(); data_truncated is MSG_TRUNC (record mode).
  // errc::protocol for a message that cannot be one (why: last_fault()); errc::invalid for n
  // larger than space() or 0 on a stream (a glue bug, no fault).
  [[nodiscard]] result<status> on_read(std::size_t n, bool data_truncated) noexcept;
  // Why the last on_read failed with errc::protocol; fault::none otherwise.
  [[nodiscard]] fault last_fault() const noexcept { return fault_; }

  // Valid after status::complete.
  [[nodiscard]] msg_header header() const noexcept { return header_; }
  [[nodiscard]] std::span<const std::uint8_t> body() const noexcept {
    return std::span<const std::uint8_t>(buf_).subspan(header_len, header_.body_len);
  }

 private:
  errc refuse(fault why) noexcept;

  message_bytes buf_{};
  std::size_t got_ = 0;
  std::size_t need_ = header_len;
  msg_header header_{};
  bool have_header_ = false;
  fault fault_ = fault::none;
  bool record_mode_;
};

}  // namespace mon::auth
