// SPDX-License-Identifier: MIT
// The frame_decode target's input (fuzz/frame_decode.cc) as a structure: flags and limits, then
// either stream reads (op byte, u16 length, bytes; end of file and glue-bug events carry no
// bytes) or seqpacket records (op, descriptors that arrived, u16 length, bytes), grouped into
// the frames a stream decoder would see. The wire mode (flags bit 1) is kept as raw bytes.
//
// This depends on frame_decode's input encoding, which the stream receive path rework keeps
// stable; fuzz_mutator_codec_test (fuzz/mutators/codec_test.cc) decodes the recorded seeds with it
// and fails if the encoding changes under it.
#pragma once

#include "mutator_support.hpp"

namespace mon::fuzz::mut {

struct fr_event {
  std::uint8_t op = 0;
  std::uint8_t arrived = 0;  // records: descriptors that came with the record
  std::uint16_t len = 0;     // as encoded (stream: clipped to what the decoder wants)
  bytes data;
  bool frame_start = false;  // decoded: the first read of a frame (not encoded)
};

struct fr_input {
  std::size_t prefix_len = 0;  // 4 when flags and limits are all there
  std::uint8_t flags = 0;
  std::uint16_t max_payload = 0;
  std::uint8_t max_fds = 0;
  std::vector<fr_event> events;
  bytes tail;
  [[nodiscard]] bool records() const noexcept { return (flags & 1) != 0; }
  [[nodiscard]] bool wire() const noexcept { return (flags & 2) != 0; }
};

// The stream op byte (frame_decode.cc): bits 0-1 control status (2 MSG_CTRUNC, 3 malformed),
// bit 3 new limits, bit 4 end of file, bits 5-7 descriptors attached. Records: bit 3 MSG_TRUNC.
namespace frame_op {
inline constexpr std::uint8_t status_mask = 0x03, status_ctrunc = 2, status_malformed = 3;
inline constexpr std::uint8_t new_limits = 0x08, record_trunc = 0x08, eof = 0x10;
inline constexpr int fds_shift = 5;
inline constexpr std::uint8_t fds_mask = 0xe0;
}  // namespace frame_op

[[nodiscard]] inline bool is_eof(const fr_input& f, const fr_event& e) noexcept {
  return !f.records() && (e.op & frame_op::eof);
}
[[nodiscard]] inline bool is_glue_bug(const fr_input& f, const fr_event& e) noexcept {
  return !f.records() && !is_eof(f, e) && (e.len == 0 || e.len == 0xffff);
}

// Lossless: encode_frames(decode_frames(x)) == x for every x.
fr_input decode_frames(std::span<const std::uint8_t> in);
bytes encode_frames(const fr_input& f);

std::size_t mutate_frame_decode(const request& req);
// A child with the limits and first frames of one parent and the later frames of the other.
std::size_t crossover_frame_decode(const cross_request& req);

}  // namespace mon::fuzz::mut
