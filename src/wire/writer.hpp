// SPDX-License-Identifier: MIT
// mon::wire::writer: builds a message into a fixed buffer with a sticky error.
//
// A write that does not fit sets the error and writes nothing; every later write fails too, so a
// sequence of writes is checked once, with ok(), at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace mon::wire {

class writer {
 public:
  constexpr explicit writer(std::span<std::uint8_t> out) noexcept : out_(out) {}

  [[nodiscard]] constexpr bool ok() const noexcept { return !failed_; }
  [[nodiscard]] constexpr std::size_t size() const noexcept { return pos_; }
  [[nodiscard]] constexpr std::span<const std::uint8_t> written() const noexcept {
    return out_.first(pos_);
  }

  constexpr void u8(std::uint8_t v) noexcept {
    if (room(1)) out_[pos_++] = v;
  }
  constexpr void u16(std::uint16_t v) noexcept {
    if (!room(2)) return;
    out_[pos_++] = static_cast<std::uint8_t>(v >> 8);
    out_[pos_++] = static_cast<std::uint8_t>(v);
  }
  constexpr void u32(std::uint32_t v) noexcept {
    if (!room(4)) return;
    for (int shift = 24; shift >= 0; shift -= 8)
      out_[pos_++] = static_cast<std::uint8_t>(v >> shift);
  }
  constexpr void bytes(std::span<const std::uint8_t> v) noexcept {
    if (!room(v.size())) return;
    for (std::uint8_t b : v) out_[pos_++] = b;
  }

 private:
  constexpr bool room(std::size_t n) noexcept {
    if (failed_ || out_.size() - pos_ < n) {
      failed_ = true;
      return false;
    }
    return true;
  }
  std::span<std::uint8_t> out_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace mon::wire
