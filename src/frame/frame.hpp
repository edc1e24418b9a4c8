// SPDX-License-Identifier: MIT
// mon::frame: the message frame that mon_ipc_send_fd writes and mon_ipc_recv_fd reads.
//
// Wire format (docs/PROTOCOL.md, "Frames"): an 8-byte header, then payload_len bytes.
//   0  2  magic 'm' 'F'
//   2  1  version (1)
//   3  1  number of descriptors attached to the header's first byte (0..253)
//   4  4  payload_len, big-endian, at most MON_BUFFER_LIMIT
//
// Pure: no system calls. This file is the header codec and check_record(), which judges one
// SOCK_SEQPACKET record; stream_receiver.hpp frames a SOCK_STREAM byte stream and frame_writer.hpp
// follows one outgoing frame.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "monitor/fault.hpp"
#include "monitor/fd_list.hpp"
#include "monitor/result.hpp"

namespace mon::frame {

inline constexpr std::size_t header_len = 8;
inline constexpr std::uint8_t magic0 = 'm';
inline constexpr std::uint8_t magic1 = 'F';
inline constexpr std::uint8_t version = 1;

struct header {
  std::uint8_t num_fds = 0;
  std::uint32_t payload_len = 0;
  friend constexpr bool operator==(const header&, const header&) = default;
};

// Encodes h; payload_len must be <= MON_BUFFER_LIMIT and num_fds <= max_fds (checked by the
// caller).
[[nodiscard]] std::array<std::uint8_t, header_len> encode_header(header h) noexcept;

// Decodes and validates a header: magic, version, num_fds <= max_fds, payload_len <=
// MON_BUFFER_LIMIT. Anything else is errc::protocol.
[[nodiscard]] result<header> decode_header(
    std::span<const std::uint8_t, header_len> bytes) noexcept;

// What the receiver accepts.
struct limits {
  std::size_t max_payload = 0;  // larger frames are consumed and reported as errc::toobig
  std::size_t max_fds = 0;      // more declared descriptors: consumed, errc::protocol
};

// Judges one SOCK_SEQPACKET record: record_len bytes arrived (the first header_len of them in
// head), data_truncated is MSG_TRUNC, control_status what cmsg::decode said of its control data,
// num_fds_arrived the descriptors that came with it. Returns the header on success; on error the
// caller disposes of the descriptors. The answers and their order are the stream receiver's
// (docs/PROTOCOL.md, "Refused frames"): a malformed header or bad control data, then more
// descriptors declared than lim.max_fds (errc::protocol), control data cut by the kernel
// (errc::truncated), a count that differs from the header (errc::protocol), a payload over
// lim.max_payload (errc::toobig), a record whose length is not the header's (errc::protocol).
// On error *why (if given) says which; a bad control status leaves it to the caller.
[[nodiscard]] result<header> check_record(std::span<const std::uint8_t> head,
                                          std::size_t record_len, bool data_truncated,
                                          result<void> control_status, std::size_t num_fds_arrived,
                                          const limits& lim, fault* why = nullptr) noexcept;

}  // namespace mon::frame
