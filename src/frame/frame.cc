#include "frame/frame.hpp"

#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace mon::frame {

std::array<std::uint8_t, header_len> encode_header(header h) noexcept {
  std::array<std::uint8_t, header_len> out{};
  wire::writer w(out);
  w.u8(magic0);
  w.u8(magic1);
  w.u8(version);
  w.u8(h.num_fds);
  w.u32(h.payload_len);
  return out;
}

result<header> decode_header(std::span<const std::uint8_t, header_len> bytes) noexcept {
  static constexpr std::uint8_t magic[] = {magic0, magic1, version};
  wire::reader r(bytes);
  header h;
  if (!r.expect(magic) || !r.u8(h.num_fds) || !r.u32(h.payload_len)) return errc::protocol;
  if (h.num_fds > max_fds || h.payload_len > MON_BUFFER_LIMIT) return errc::protocol;
  return h;
}

result<header> check_record(std::span<const std::uint8_t> head, std::size_t record_len,
                            bool data_truncated, std::size_t num_fds_arrived,
                            const limits& lim) noexcept {
  if (record_len < header_len || head.size() < header_len) return errc::protocol;
  auto h = decode_header(head.first<header_len>());
  if (!h) return h;
  if (h.value().num_fds > lim.max_fds || h.value().num_fds != num_fds_arrived)
    return errc::protocol;
  if (h.value().payload_len > lim.max_payload) return errc::toobig;
  // A record longer than its header says (cut by the kernel at our buffer) or shorter: malformed.
  if (data_truncated) return errc::protocol;
  if (record_len - header_len != h.value().payload_len) return errc::protocol;
  return h;
}

std::size_t stream_decoder::wanted() const noexcept {
  switch (phase_) {
    case phase::header:
      return header_len - header_got_;
    case phase::payload:
    case phase::discard:
      return header_.payload_len - payload_got_;
  }
  return 0;
}

std::span<std::uint8_t> stream_decoder::header_space() noexcept {
  return std::span<std::uint8_t>(header_bytes_).subspan(header_got_);
}

void stream_decoder::reset() noexcept {
  phase_ = phase::header;
  header_got_ = 0;
  header_ = {};
  payload_got_ = 0;
  has_pending_ = false;
  fds_.clear();
}

result<stream_decoder::status> stream_decoder::fail(errc code) noexcept {
  reset();
  return code;
}

result<stream_decoder::status> stream_decoder::on_bytes(std::size_t n, result<void> control_status,
                                                        fd_list& fds) noexcept {
  fd_list arrived(std::move(fds));  // owned here from now on, whatever happens
  if (n == 0 || n > wanted()) return fail(errc::invalid);

  const bool first_read = phase_ == phase::header && header_got_ == 0;
  if (!control_status) {
    // Cut control data keeps the stream usable: read the frame to its end, then report.
    if (control_status.code() != errc::truncated) return fail(control_status.code());
    fds_.clear();
    has_pending_ = true;
    pending_ = errc::truncated;
  } else if (!arrived.empty()) {
    // Descriptors belong to the header's first byte; anywhere else they are a protocol error.
    if (!first_read) return fail(errc::protocol);
    if (arrived.size() > limits_.max_fds) return fail(errc::protocol);
    fds_.append(arrived);
  }

  switch (phase_) {
    case phase::header:
      header_got_ += n;
      if (header_got_ < header_len) return status::more;
      return after_header();
    case phase::payload:
    case phase::discard:
      payload_got_ += n;
      if (payload_got_ < header_.payload_len) return status::more;
      return finish_frame();
  }
  return fail(errc::invalid);
}

result<stream_decoder::status> stream_decoder::after_header() noexcept {
  auto h = decode_header(header_bytes_);
  if (!h) return fail(h.code());
  header_ = h.value();
  if (header_.num_fds > limits_.max_fds) return fail(errc::protocol);
  if (!has_pending_ && fds_.size() != header_.num_fds) return fail(errc::protocol);
  if (!has_pending_ && header_.payload_len > limits_.max_payload) {
    fds_.clear();
    has_pending_ = true;
    pending_ = errc::toobig;
  }
  phase_ = has_pending_ ? phase::discard : phase::payload;
  if (header_.payload_len == 0) return finish_frame();
  return status::more;
}

result<stream_decoder::status> stream_decoder::finish_frame() noexcept {
  if (has_pending_) return fail(pending_);
  phase_ = phase::header;
  header_got_ = 0;
  payload_got_ = 0;
  return status::complete;  // fds_ holds the frame's descriptors until take
}

error stream_decoder::on_eof() noexcept {
  const bool inside = in_frame();
  reset();
  return {inside ? errc::protocol : errc::closed, 0};
}

}  // namespace mon::frame
