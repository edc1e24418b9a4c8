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
                            std::size_t num_fds_arrived, const limits& lim, fault* why) noexcept {
  fault f = fault::none;
  auto refuse = [&](errc code, fault reason) -> result<header> {
    if (why != nullptr) *why = reason;
    return code;
  };
  if (record_len < header_len || head.size() < header_len)
    return refuse(errc::protocol, fault::frame_record_length_mismatch);
  auto h = decode_header(head.first<header_len>());
  if (!h) {
    f = head[0] != magic0 || head[1] != magic1 ? fault::frame_bad_magic
        : head[2] != version                   ? fault::frame_unknown_version
        : head[3] > max_fds                    ? fault::frame_too_many_descriptors
                                               : fault::frame_too_large;
    return refuse(errc::protocol, f);
  }
  const bool cut = !control_status && control_status.code() == errc::truncated;
  if (!control_status && !cut) return refuse(errc::protocol, fault::none);
  if (h.value().num_fds > lim.max_fds)
    return refuse(errc::protocol, fault::frame_too_many_descriptors);
  if (cut) return refuse(errc::truncated, fault::control_truncated);
  if (h.value().num_fds != num_fds_arrived)
    return refuse(errc::protocol, fault::descriptor_count_mismatch);
  if (h.value().payload_len > lim.max_payload) return refuse(errc::toobig, fault::frame_too_large);
  // A record longer than its header says (cut by the kernel at our buffer) or shorter: malformed.
  if (data_truncated || record_len - header_len != h.value().payload_len)
    return refuse(errc::protocol, fault::frame_record_length_mismatch);
  return h;
}

}  // namespace mon::frame
