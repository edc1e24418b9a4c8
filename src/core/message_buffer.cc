// SPDX-License-Identifier: MIT
#include <cstdlib>
#include <cstring>

#include "core/transfer_state.hpp"
#include "monitor/message.hpp"

namespace mon {

using detail::buffer_access;
using detail::transfer_state;

message_buffer::message_buffer(std::size_t max_len) noexcept
    : max_(max_len == 0 ? MON_BUFFER_DEFAULT_MAX
                        : (max_len > MON_BUFFER_LIMIT ? MON_BUFFER_LIMIT : max_len)) {
  new (transfer_) transfer_state();
}

message_buffer::~message_buffer() {
  buffer_access::transfer(*this).~transfer_state();
  std::free(data_);
}

result<void> message_buffer::reserve(std::size_t n) noexcept {
  if (n > max_) return errc::toobig;
  if (n <= capacity_) return {};
  // Grow geometrically (bounded by max_) so repeated appends stay amortised O(1).
  std::size_t cap = capacity_ < 256 ? 256 : capacity_;
  while (cap < n) cap = cap > max_ / 2 ? max_ : cap * 2;
  if (cap > max_) cap = max_;
  void* grown = std::realloc(data_, cap);
  if (grown == nullptr) return errc::nomem;
  data_ = static_cast<std::byte*>(grown);
  capacity_ = cap;
  return {};
}

result<void> message_buffer::append(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() > max_ - size_) return errc::toobig;
  if (auto r = reserve(size_ + bytes.size()); !r) return r;
  buffer_access::transfer(*this).tx.cancel();
  if (!bytes.empty()) std::memcpy(data_ + size_, bytes.data(), bytes.size());
  size_ += bytes.size();
  return {};
}

fault message_buffer::last_fault() const noexcept {
  return buffer_access::transfer(const_cast<message_buffer&>(*this)).rx_fault;
}

void message_buffer::clear() noexcept {
  auto& t = buffer_access::transfer(*this);
  t.rx.reset();  // disposes of the descriptors of a half-received message and of any read ahead
  t.rx_fd = -1;
  t.rx_type = 0;
  t.rx_cookie = 0;
  t.rx_fault = fault::none;
  t.tx.cancel();
  size_ = 0;
}

}  // namespace mon
