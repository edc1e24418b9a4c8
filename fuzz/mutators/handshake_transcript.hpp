// SPDX-License-Identifier: MIT
// The handshake targets' input (fuzz/handshake_server.cc, fuzz/handshake_client.cc) as a
// structure: flags, the kernel's or the server's credentials, the peer's reads (control op,
// credentials, extra header, chunk) that carry one handshake message, the write sizes.
#pragma once

#include "mutator_support.hpp"

namespace mon::fuzz::mut {

// One read event, in the target's encoding (fuzz/control_spec.hpp's op byte, u16 length, bytes).
struct hs_read {
  std::uint8_t op = 0;
  bytes other;             // 12 credential bytes when (op & 3) == 2
  std::uint8_t extra = 0;  // the extra header's kind byte when op & 0x80
  std::uint16_t len = 0;   // as encoded: 0 reads 1 byte, 0xffff and 0xfffe are glue bugs
  bytes data;              // the bytes the target takes for this read
  [[nodiscard]] bool is_eof() const noexcept { return (op & 0x10) != 0; }
  [[nodiscard]] bool is_glue_bug() const noexcept {
    return !is_eof() && (len == 0xffff || len == 0xfffe);
  }
  [[nodiscard]] bool has_data() const noexcept { return !is_eof() && !is_glue_bug(); }
};

struct hs_input {
  bool server = true;
  bool has_flags = false;
  std::uint8_t flags = 0;
  bytes prefix;  // server: SO_PEERCRED (12); client with flags bit 1: server creds + uid (16)
  bytes writes;  // client: the write sizes before the reply is read
  std::vector<hs_read> reads;
  bytes tail;  // server: the write sizes of its reply; both: whatever follows, kept raw
};

// Lossless: encode_handshake(decode_handshake(x, side)) == x for every x.
hs_input decode_handshake(std::span<const std::uint8_t> in, bool server);
bytes encode_handshake(const hs_input& h);

// The handshake message the reads carry, concatenated.
bytes handshake_message(const hs_input& h);

std::size_t mutate_handshake_server(const request& req);
std::size_t mutate_handshake_client(const request& req);
// A child with one parent's flags, credentials and read ops carrying the other's message.
std::size_t crossover_handshake_server(const cross_request& req);
std::size_t crossover_handshake_client(const cross_request& req);

}  // namespace mon::fuzz::mut
