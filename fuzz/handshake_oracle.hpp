// SPDX-License-Identifier: MIT
// An independent reading of docs/PROTOCOL.md's handshake message, written from the document and
// not from src/auth/, so the targets can check the machines against it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace mon::fuzz::spec {

enum class msg { invalid, hello, accept, deny, other_version };

struct parsed {
  msg kind = msg::invalid;
  std::uint16_t deny_reason = 0;
};

// Extensions: u16 type, u16 length, length bytes, filling the span exactly; no critical one.
inline bool extensions_ok(std::span<const std::uint8_t> b) {
  std::size_t i = 0;
  while (i < b.size()) {
    if (b.size() - i < 4) return false;
    const unsigned type = (b[i] << 8) | b[i + 1];
    const std::size_t len = (std::size_t{b[i + 2]} << 8) | b[i + 3];
    if (type & 0x8000u) return false;
    if (b.size() - i - 4 < len) return false;
    i += 4 + len;
  }
  return true;
}

// Parses exactly one whole message (no trailing bytes).
inline parsed parse(std::span<const std::uint8_t> m) {
  parsed p;
  if (m.size() < 8 || m[0] != 'm' || m[1] != 'o' || m[2] != 'n' || m[3] != 'H') return p;
  const std::size_t body_len = (std::size_t{m[6]} << 8) | m[7];
  if (body_len > 256 || m.size() != 8 + body_len) return p;
  const auto body = m.subspan(8);
  if (m[4] != 1) {
    p.kind = msg::other_version;
    return p;
  }
  switch (m[5]) {
    case 1:
    case 2:
      if (extensions_ok(body)) p.kind = m[5] == 1 ? msg::hello : msg::accept;
      return p;
    case 3:
      if (body.size() >= 2 && extensions_ok(body.subspan(2))) {
        p.kind = msg::deny;
        p.deny_reason = static_cast<std::uint16_t>((body[0] << 8) | body[1]);
      }
      return p;
    default:
      return p;
  }
}

}  // namespace mon::fuzz::spec
