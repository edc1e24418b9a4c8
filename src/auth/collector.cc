#include "auth/collector.hpp"

namespace mon::auth {

std::span<std::uint8_t> collector::space() noexcept {
  if (record_mode_) return buf_;
  return std::span<std::uint8_t>(buf_).subspan(got_, need_ - got_);
}

result<collector::status> collector::on_read(std::size_t n, bool data_truncated) noexcept {
  if (record_mode_) {
    if (data_truncated || n < header_len || n > buf_.size()) return errc::protocol;
    auto h = decode_header(std::span<const std::uint8_t>(buf_).first<header_len>());
    if (!h) return h.err();
    if (n != header_len + h.value().body_len) return errc::protocol;
    header_ = h.value();
    got_ = n;
    return status::complete;
  }
  if (n == 0 || n > need_ - got_) return errc::invalid;
  got_ += n;
  if (!have_header_ && got_ == header_len) {
    auto h = decode_header(std::span<const std::uint8_t>(buf_).first<header_len>());
    if (!h) return h.err();
    header_ = h.value();
    have_header_ = true;
    need_ = header_len + header_.body_len;
  }
  return got_ == need_ ? status::complete : status::more;
}

}  // namespace mon::auth
