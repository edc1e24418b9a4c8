// SPDX-License-Identifier: MIT
#include "auth/messages.hpp"

#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace mon::auth {
namespace {

constexpr std::uint8_t magic[] = {'m', 'o', 'n', 'H'};

errc refuse(fault* why, fault what) noexcept {
  if (why != nullptr) *why = what;
  return errc::protocol;
}

std::size_t encode(message_bytes& out, msg_type type, std::span<const std::uint8_t> body) noexcept {
  wire::writer w(out);
  w.bytes(magic);
  w.u8(version);
  w.u8(static_cast<std::uint8_t>(type));
  w.u16(static_cast<std::uint16_t>(body.size()));
  w.bytes(body);
  return w.ok() ? w.size() : 0;
}

}  // namespace

result<msg_header> decode_header(std::span<const std::uint8_t, header_len> bytes,
                                 fault* why) noexcept {
  wire::reader r(bytes);
  msg_header h;
  // Only the magic can fail: the span's type makes all header_len bytes present.
  if (!r.expect(magic) || !r.u8(h.version) || !r.u8(h.type) || !r.u16(h.body_len))
    return refuse(why, fault::bad_magic);
  if (h.body_len > max_body) return refuse(why, fault::body_too_long);
  return h;
}

std::size_t encode_hello(message_bytes& out) noexcept { return encode(out, msg_type::hello, {}); }

std::size_t encode_accept(message_bytes& out) noexcept { return encode(out, msg_type::accept, {}); }

std::size_t encode_deny(message_bytes& out, deny_reason reason) noexcept {
  std::array<std::uint8_t, 2> body{};
  wire::writer w(body);
  w.u16(static_cast<std::uint16_t>(reason));
  return encode(out, msg_type::deny, w.written());
}

result<void> check_extensions(std::span<const std::uint8_t> body, fault* why) noexcept {
  wire::reader r(body);
  while (!r.empty()) {
    std::uint16_t type = 0;
    wire::reader value(std::span<const std::uint8_t>{});
    if (!r.u16(type) || !r.u16_prefixed(value)) return refuse(why, fault::malformed_extensions);
    // Version 1 defines no extension: a critical one cannot be honoured.
    if (type & critical_extension) return refuse(why, fault::critical_extension);
  }
  return {};
}

result<deny_reason> parse_deny(std::span<const std::uint8_t> body, fault* why) noexcept {
  wire::reader r(body);
  std::uint16_t reason = 0;
  std::span<const std::uint8_t> rest;
  if (!r.u16(reason) || !r.bytes(r.remaining(), rest)) return refuse(why, fault::deny_too_short);
  if (auto ext = check_extensions(rest, why); !ext) return ext.err();
  return static_cast<deny_reason>(reason);
}

}  // namespace mon::auth
