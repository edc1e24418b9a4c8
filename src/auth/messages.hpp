// SPDX-License-Identifier: MIT
// mon::auth messages: the bytes of the handshake (docs/PROTOCOL.md, "Handshake").
//
// clang-format off
//   0  4  magic 'm' 'o' 'n' 'H'
//   4  1  version (1)
//   5  1  type: 1 hello (client), 2 accept (server), 3 deny (server)
//   6  2  body_len, big-endian, at most max_body
//   8  .  body
// clang-format on
//
// hello and accept bodies are a list of extensions; a deny body is a u16 reason code followed by
// extensions. An extension is u16 type, u16 length, length bytes. An unknown extension whose type
// has the high bit (critical) set is refused; other unknown ones are skipped. No extension is
// defined in version 1. Pure: no system calls.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "monitor/deny_reason.hpp"
#include "monitor/fault.hpp"
#include "monitor/result.hpp"

namespace mon::auth {

inline constexpr std::size_t header_len = 8;
inline constexpr std::size_t max_body = 256;
inline constexpr std::size_t max_message = header_len + max_body;
inline constexpr std::uint8_t version = 1;
inline constexpr std::uint16_t critical_extension = 0x8000;

enum class msg_type : std::uint8_t { hello = 1, accept = 2, deny = 3 };

struct msg_header {
  std::uint8_t version = 0;
  std::uint8_t type = 0;
  std::uint16_t body_len = 0;
};

// Checks the magic, then the body bound; version and type are returned as sent, for the caller to
// judge. Each failure is errc::protocol; why (if given) says which: bad_magic, body_too_long.
[[nodiscard]] result<msg_header> decode_header(std::span<const std::uint8_t, header_len> bytes,
                                               fault* why = nullptr) noexcept;

using message_bytes = std::array<std::uint8_t, max_message>;

// Each returns the encoded length written to out.
[[nodiscard]] std::size_t encode_hello(message_bytes& out) noexcept;
[[nodiscard]] std::size_t encode_accept(message_bytes& out) noexcept;
[[nodiscard]] std::size_t encode_deny(message_bytes& out, deny_reason reason) noexcept;

// Validates a body's extension list (see above): errc::protocol with malformed_extensions or
// critical_extension in why (if given).
[[nodiscard]] result<void> check_extensions(std::span<const std::uint8_t> body,
                                            fault* why = nullptr) noexcept;

// Parses a deny body: the reason, then extensions. errc::protocol with deny_too_short, or a fault
// of check_extensions, in why (if given): a client trusts no reason from a deny it cannot parse.
[[nodiscard]] result<deny_reason> parse_deny(std::span<const std::uint8_t> body,
                                             fault* why = nullptr) noexcept;

}  // namespace mon::auth
