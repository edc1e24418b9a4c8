// SPDX-License-Identifier: MIT
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
                            bool data_truncated, result<void> control_status,
                            std::size_t num_fds_arrived, const limits& lim) noexcept {
  if (record_len < header_len || head.size() < header_len) return errc::protocol;
  auto h = decode_header(head.first<header_len>());
  if (!h) return h;
  const bool cut = !control_status && control_status.code() == errc::truncated;
  if (!control_status && !cut) return errc::protocol;
  if (h.value().num_fds > lim.max_fds) return errc::protocol;
  if (cut) return errc::truncated;
  if (h.value().num_fds != num_fds_arrived) return errc::protocol;
  if (h.value().payload_len > lim.max_payload) return errc::toobig;
  // A record longer than its header says (cut by the kernel at our buffer) or shorter: malformed.
  if (data_truncated) return errc::protocol;
  if (record_len - header_len != h.value().payload_len) return errc::protocol;
  return h;
}

}  // namespace mon::frame
