// SPDX-License-Identifier: MIT
// mon::wire::reader: a bounds-checked cursor over bytes a peer wrote.
//
// Every read checks the remaining length first and either succeeds completely or fails without
// moving. Integers are big-endian with a fixed width. Nothing here can read past the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace mon::wire {

class reader {
 public:
  constexpr explicit reader(std::span<const std::uint8_t> in) noexcept : in_(in) {}

  [[nodiscard]] constexpr std::size_t remaining() const noexcept { return in_.size(); }
  [[nodiscard]] constexpr bool empty() const noexcept { return in_.empty(); }

  [[nodiscard]] constexpr bool u8(std::uint8_t& out) noexcept {
    if (in_.empty()) return false;
    out = in_[0];
    in_ = in_.subspan(1);
    return true;
  }
  [[nodiscard]] constexpr bool u16(std::uint16_t& out) noexcept {
    if (in_.size() < 2) return false;
    out = static_cast<std::uint16_t>((in_[0] << 8) | in_[1]);
    in_ = in_.subspan(2);
    return true;
  }
  [[nodiscard]] constexpr bool u32(std::uint32_t& out) noexcept {
    if (in_.size() < 4) return false;
    out = (std::uint32_t{in_[0]} << 24) | (std::uint32_t{in_[1]} << 16) |
          (std::uint32_t{in_[2]} << 8) | std::uint32_t{in_[3]};
    in_ = in_.subspan(4);
    return true;
  }
  // Takes the next n bytes as a view.
  [[nodiscard]] constexpr bool bytes(std::size_t n, std::span<const std::uint8_t>& out) noexcept {
    if (in_.size() < n) return false;
    out = in_.first(n);
    in_ = in_.subspan(n);
    return true;
  }
  // Reads a u16 length, then that many bytes as a child reader confined to them.
  [[nodiscard]] constexpr bool u16_prefixed(reader& child) noexcept {
    reader copy = *this;
    std::uint16_t len = 0;
    std::span<const std::uint8_t> body;
    if (!copy.u16(len) || !copy.bytes(len, body)) return false;
    *this = copy;
    child = reader(body);
    return true;
  }
  // Succeeds only if every byte equals expected (for magic numbers).
  [[nodiscard]] constexpr bool expect(std::span<const std::uint8_t> expected) noexcept {
    if (in_.size() < expected.size()) return false;
    for (std::size_t i = 0; i < expected.size(); ++i)
      if (in_[i] != expected[i]) return false;
    in_ = in_.subspan(expected.size());
    return true;
  }

 private:
  std::span<const std::uint8_t> in_;
};

}  // namespace mon::wire
