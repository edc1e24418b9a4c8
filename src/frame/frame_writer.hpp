// SPDX-License-Identifier: MIT
// mon::frame::frame_writer: the progress of one outgoing frame, so the code that calls sendmsg only
// moves bytes. Pure.
//
// A frame leaves as header + payload gathered into one sendmsg; a stream socket may take only part
// of it, and the rest goes in later calls. Descriptors travel with the first byte only: once any
// byte went out they are never attached again (the receiver would see them mid-frame).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "frame/frame.hpp"

namespace mon::frame {

// What is left of a frame: at most two pieces, header tail then payload tail.
struct write_plan {
  std::array<std::span<const std::byte>, 2> pieces{};
  std::size_t count = 0;
  bool with_fds = false;  // attach the descriptors now (nothing has gone out yet)
};

class frame_writer {
 public:
  // Starts a frame for payload_len bytes and num_fds descriptors (the caller checked both against
  // MON_BUFFER_LIMIT and max_fds).
  void start(header h) noexcept {
    header_ = encode_header(h);
    total_ = header_len + h.payload_len;
    sent_ = 0;
    active_ = true;
  }
  // True from start() until the frame is whole or cancelled.
  [[nodiscard]] bool active() const noexcept { return active_; }
  // True once some but not all of the frame went out: the socket must get the rest, and only it.
  [[nodiscard]] bool partly_sent() const noexcept { return active_ && sent_ != 0; }
  void cancel() noexcept { active_ = false; }

  // What the next write sends; payload is the whole payload the frame was started for.
  [[nodiscard]] write_plan plan(std::span<const std::byte> payload) const noexcept {
    write_plan p;
    if (sent_ < header_len) p.pieces[p.count++] = std::as_bytes(std::span(header_)).subspan(sent_);
    const std::size_t off = sent_ > header_len ? sent_ - header_len : 0;
    if (payload.size() > off) p.pieces[p.count++] = payload.subspan(off);
    p.with_fds = sent_ == 0;
    return p;
  }
  // n bytes went out; true when the frame is whole.
  bool on_written(std::size_t n) noexcept {
    sent_ += n;
    if (sent_ < total_) return false;
    active_ = false;
    return true;
  }

 private:
  std::array<std::uint8_t, header_len> header_{};
  std::size_t total_ = 0;
  std::size_t sent_ = 0;
  bool active_ = false;
};

}  // namespace mon::frame
