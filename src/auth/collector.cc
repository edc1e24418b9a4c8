// SPDX-License-Identifier: MIT
#include "auth/collector.hpp"

namespace mon::auth {

errc collector::refuse(fault why) noexcept {
  fault_ = why;
  return errc::protocol;
}

std::span<std::uint8_t> collector::space() noexcept {
  if (record_mode_) return buf_;
  return std::span<std::uint8_t>(buf_).subspan(got_, need_ - got_);
}

result<collector::status> collector::on_read(std::size_t n, bool data_truncated) noexcept {
  if (record_mode_) {
    if (data_truncated) return refuse(fault::record_truncated);
    if (n < header_len || n > buf_.size()) return refuse(fault::record_length_mismatch);
    auto h = decode_header(std::span<const std::uint8_t>(buf_).first<header_len>(), &fault_);
    if (!h) return h.err();
    if (n != header_len + h.value().body_len) return refuse(fault::record_length_mismatch);
    header_ = h.value();
    got_ = n;
    return status::complete;
  }
  if (n == 0 || n > need_ - got_) return errc::invalid;
  got_ += n;
  if (!have_header_ && got_ == header_len) {
    auto h = decode_header(std::span<const std::uint8_t>(buf_).first<header_len>(), &fault_);
    if (!h) return h.err();
    header_ = h.value();
    have_header_ = true;
    need_ = header_len + header_.body_len;
  }
  return got_ == need_ ? status::complete : status::more;
}

}  // namespace mon::auth
