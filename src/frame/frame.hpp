// mon::frame: the message frame that mon_ipc_send_fd writes and mon_ipc_recv_fd reads.
//
// Wire format (docs/PROTOCOL.md, "Frames"): an 8-byte header, then payload_len bytes.
//   0  2  magic 'm' 'F'
//   2  1  version (1)
//   3  1  number of descriptors attached to the header's first byte (0..253)
//   4  4  payload_len, big-endian, at most MON_BUFFER_LIMIT
//
// Pure: no system calls. stream_decoder follows one frame through a byte stream read in pieces;
// check_record() judges one SOCK_SEQPACKET record.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

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
  std::size_t max_fds = 0;      // more declared or delivered descriptors is errc::protocol
};

// Judges one SOCK_SEQPACKET record: record_len bytes arrived (the first header_len of them in
// head), data_truncated is MSG_TRUNC, fds are the descriptors that came with it (already decoded
// and owned). Returns the header on success; on error the caller closes fds.
[[nodiscard]] result<header> check_record(std::span<const std::uint8_t> head,
                                          std::size_t record_len, bool data_truncated,
                                          std::size_t num_fds_arrived, const limits& lim) noexcept;

// Follows one frame through a SOCK_STREAM socket read in pieces of any size. It asks for exactly
// the bytes that remain of the current frame, so a reader never consumes the next frame (and the
// descriptors that travel with it).
//
// Descriptors must arrive with the read that carries the header's first byte, and their number must
// equal the header's count. A frame that is too large, or whose control data the kernel cut, is
// still consumed to its end (so the stream stays in step) and then reported.
class stream_decoder {
 public:
  enum class phase : std::uint8_t { header, payload, discard };
  enum class status : std::uint8_t { more, complete };

  explicit stream_decoder(limits lim) noexcept : limits_(lim) {}

  // New limits apply from the next frame on; ignored inside a frame.
  void set_limits(limits lim) noexcept {
    if (!in_frame()) limits_ = lim;
  }
  [[nodiscard]] phase current_phase() const noexcept { return phase_; }
  // True between the first byte of a frame and its end (or a failure).
  [[nodiscard]] bool in_frame() const noexcept {
    return phase_ != phase::header || header_got_ > 0;
  }
  // Exactly how many bytes the next read may take (never 0).
  [[nodiscard]] std::size_t wanted() const noexcept;
  // Where header bytes go during phase::header (wanted() bytes long).
  [[nodiscard]] std::span<std::uint8_t> header_space() noexcept;
  // The current frame's header, valid from phase::payload on.
  [[nodiscard]] header current_header() const noexcept { return header_; }
  // Payload bytes received so far in phase::payload (they are the caller's to store).
  [[nodiscard]] std::size_t payload_received() const noexcept { return payload_got_; }

  // Reports a read of n bytes (1 <= n <= wanted(); header bytes already written to header_space()),
  // with control_status and fds as cmsg::decode produced them for that read. Takes the descriptors.
  // Returns status::complete when the frame is whole (then take its descriptors with take_fds()),
  // status::more when more bytes are needed, or an error. After an error or completion the decoder
  // is ready for the next frame.
  [[nodiscard]] result<status> on_bytes(std::size_t n, result<void> control_status,
                                        fd_list& fds) noexcept;
  // Reports end of file: errc::closed between frames, errc::protocol inside one.
  [[nodiscard]] error on_eof() noexcept;

  // The completed frame's descriptors, moved out.
  [[nodiscard]] fd_list& fds() noexcept { return fds_; }

  // Forgets the current frame and closes its descriptors.
  void reset() noexcept;

 private:
  result<status> fail(errc code) noexcept;
  result<status> after_header() noexcept;
  result<status> finish_frame() noexcept;

  limits limits_;
  phase phase_ = phase::header;
  std::array<std::uint8_t, header_len> header_bytes_{};
  std::size_t header_got_ = 0;
  header header_{};
  std::size_t payload_got_ = 0;
  errc pending_{};  // set while discarding a frame that will be reported as this error
  bool has_pending_ = false;
  fd_list fds_;
};

}  // namespace mon::frame
