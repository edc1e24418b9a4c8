// SPDX-License-Identifier: MIT
#include "frame/stream_receiver.hpp"

#include <algorithm>
#include <cstring>

namespace mon::frame {

result<stream_receiver::event> stream_receiver::next() noexcept {
  for (;;) {
    switch (stage_) {
      case stage::header: {
        auto r = begin_frame();
        if (!r || r.value() != event::frame) return r;
        break;  // a header was read: go on with its payload
      }
      case stage::payload: {
        const std::size_t want = cur_.payload_len - payload_got_;
        if (want != 0 && storage_ == nullptr) return event::need_storage;
        const std::size_t take = std::min<std::size_t>(held(), want);
        if (take != 0) {
          std::memcpy(storage_ + payload_got_, ahead_.data() + ahead_begin_, take);
          ahead_begin_ += static_cast<std::uint32_t>(take);
          payload_got_ += static_cast<std::uint32_t>(take);
        }
        if (payload_got_ == cur_.payload_len) return finish_frame();
        return event::need_read;
      }
      case stage::discard: {
        const std::size_t take = std::min<std::size_t>(held(), cur_.payload_len - payload_got_);
        ahead_begin_ += static_cast<std::uint32_t>(take);
        payload_got_ += static_cast<std::uint32_t>(take);
        if (payload_got_ == cur_.payload_len) return finish_frame();
        return event::need_read;
      }
    }
  }
}

// Reads the current frame's header from the read-ahead area once all of it is there. Returns
// event::frame to mean "header taken, go on" (never handed to the caller from here).
result<stream_receiver::event> stream_receiver::begin_frame() noexcept {
  if (held() < header_len) return event::need_read;
  auto h = decode_header(std::span<const std::uint8_t, header_len>(
      reinterpret_cast<const std::uint8_t*>(ahead_.data() + ahead_begin_), header_len));
  if (!h) {
    // Out of step: nothing after a malformed header can be framed. Drop all that is held and
    // start again at the end of what was read.
    const auto* b = reinterpret_cast<const std::uint8_t*>(ahead_.data() + ahead_begin_);
    const fault why = b[0] != magic0 || b[1] != magic1 ? fault::frame_bad_magic
                      : b[2] != version                ? fault::frame_unknown_version
                      : b[3] > max_fds                 ? fault::frame_too_many_descriptors
                                                       : fault::frame_too_large;
    reset();
    last_fault_ = why;
    out_of_step_ = true;
    return h.err();
  }
  cur_ = h.value();
  ahead_begin_ += header_len;
  payload_got_ = 0;
  storage_ = nullptr;
  stage_ = cur_.payload_len > limits_.max_payload ? stage::discard : stage::payload;
  return event::frame;
}

// The frame is whole: hand it out, or refuse it (consumed, so the next one can follow).
result<stream_receiver::event> stream_receiver::finish_frame() noexcept {
  errc refused{};
  fault why = fault::none;
  if (cur_misplaced_) {
    refused = errc::protocol;  // descriptors or bad control data where no frame begins
    why = cur_why_ != fault::none ? cur_why_ : fault::descriptors_without_frame;
  } else if (cur_.num_fds > limits_.max_fds) {
    refused = errc::protocol;  // more than the caller takes
    why = fault::frame_too_many_descriptors;
  } else if (cur_cut_) {
    refused = errc::truncated;  // the kernel dropped some (RLIMIT_NOFILE, an LSM, our buffer)
    why = fault::control_truncated;
  } else if (cur_fds_.size() != cur_.num_fds) {
    refused = errc::protocol;  // not what the header declared
    why = fault::descriptor_count_mismatch;
  } else if (stage_ == stage::discard) {
    refused = errc::toobig;
    why = fault::frame_too_large;
  } else {
    return event::frame;
  }
  last_fault_ = why;
  refuse(cur_fds_);
  next_frame();
  return refused;
}

void stream_receiver::take_fds(fd_list& out) noexcept {
  out = std::move(cur_fds_);
  next_frame();
}

void stream_receiver::next_frame() noexcept {
  cur_at_ += header_len + cur_.payload_len;
  cur_ = {};
  stage_ = stage::header;
  payload_got_ = 0;
  storage_ = nullptr;
  cur_cut_ = false;
  cur_misplaced_ = false;
  cur_why_ = fault::none;
  refuse(cur_fds_);  // empty unless a caller skipped take_fds()
  if (next_held_ && next_at_ <= cur_at_) {
    if (next_at_ == cur_at_) {
      cur_fds_ = std::move(next_fds_);
      cur_cut_ = next_cut_;
      cur_misplaced_ = next_bad_;
      cur_why_ = next_why_;
    } else {
      refuse(next_fds_);  // cannot happen: bound to a frame inside the one just finished
    }
    next_held_ = false;
  }
}

read_plan stream_receiver::plan() noexcept {
  // A read happens only while the current frame is incomplete, and everything held is then part
  // of it (a partial header): move it to the front so the area is whole.
  if (ahead_begin_ != 0) {
    const std::size_t n = held();
    if (n != 0) std::memmove(ahead_.data(), ahead_.data() + ahead_begin_, n);
    ahead_begin_ = 0;
    ahead_end_ = static_cast<std::uint32_t>(n);
  }
  read_plan p;
  if (stage_ == stage::payload && storage_ != nullptr)
    p.direct = {storage_ + payload_got_, cur_.payload_len - payload_got_};
  p.ahead = std::span<std::byte>(ahead_).subspan(ahead_end_);
  return p;
}

void stream_receiver::on_read(std::size_t n, result<void> control_status, fd_list& fds,
                              fault control_why) noexcept {
  const std::uint64_t start = stream_end_;
  out_of_step_ = false;
  std::size_t direct = 0;
  if (stage_ == stage::payload && storage_ != nullptr)
    direct = std::min<std::size_t>(n, cur_.payload_len - payload_got_);
  const std::size_t room = ahead_.size() - ahead_end_;
  if (n - direct > room) n = direct + room;  // never past the plan (a caller bug; fuzzed)
  payload_got_ += static_cast<std::uint32_t>(direct);
  ahead_end_ += static_cast<std::uint32_t>(n - direct);
  stream_end_ += n;
  bind(n, start, control_status, fds, control_why);
}

// Gives the read's descriptors to the last frame whose first byte it brought.
void stream_receiver::bind(std::size_t read_len, std::uint64_t read_start,
                           result<void> control_status, fd_list& fds, fault control_why) noexcept {
  if (control_status && fds.empty()) return;
  const bool cut = !control_status && control_status.code() == errc::truncated;
  const bool bad = !control_status && !cut;
  fd_list arrived(std::move(fds));
  if (read_len == 0) {
    refuse(arrived);
    return;
  }

  // Walk the frame boundaries this read brought. The first candidate is the current frame itself
  // (header not read yet) or the end of its payload.
  std::uint64_t at = stage_ == stage::header ? cur_at_ : cur_at_ + header_len + cur_.payload_len;
  const std::uint64_t ahead_at = stream_end_ - held();  // stream offset of the first held byte
  bool found = false;
  std::uint64_t last = 0;
  while (at < stream_end_ && at >= ahead_at) {
    if (at >= read_start) {
      found = true;
      last = at;
    }
    if (stream_end_ - at < header_len) break;
    // Only the length is needed to find the next boundary; a header that is not well formed
    // fails on its own when its turn comes (and drops everything held).
    const auto* b =
        reinterpret_cast<const std::uint8_t*>(ahead_.data() + ahead_begin_ + (at - ahead_at));
    if (b[0] != magic0 || b[1] != magic1) break;
    const std::uint32_t len = (std::uint32_t{b[4]} << 24) | (std::uint32_t{b[5]} << 16) |
                              (std::uint32_t{b[6]} << 8) | std::uint32_t{b[7]};
    at += header_len + len;
  }

  const fault why = bad ? control_why : fault::none;
  if (!found) {  // mid-frame: the current frame is spoiled
    cur_misplaced_ = true;
    if (cur_why_ == fault::none) cur_why_ = why;
    refuse(arrived);
    return;
  }
  if (last == cur_at_) {
    if (!cur_fds_.empty()) cur_misplaced_ = true;  // a second set for one frame (cannot happen)
    refuse(cur_fds_);
    cur_fds_ = std::move(arrived);
    cur_cut_ = cut;
    cur_misplaced_ = cur_misplaced_ || bad;
    if (cur_why_ == fault::none) cur_why_ = why;
    return;
  }
  if (next_held_) refuse(next_fds_);  // cannot happen: see next_fds_
  next_fds_ = std::move(arrived);
  next_at_ = last;
  next_cut_ = cut;
  next_bad_ = bad;
  next_why_ = why;
  next_held_ = true;
}

error stream_receiver::on_eof() noexcept {
  const bool inside = pending();
  reset();
  if (inside) last_fault_ = fault::frame_cut_by_eof;
  return {inside ? errc::protocol : errc::closed, 0};
}

void stream_receiver::reset() noexcept {
  refuse(cur_fds_);
  refuse(next_fds_);
  stage_ = stage::header;
  cur_ = {};
  storage_ = nullptr;
  payload_got_ = 0;
  cur_cut_ = cur_misplaced_ = false;
  next_held_ = next_cut_ = next_bad_ = false;
  cur_why_ = next_why_ = fault::none;
  ahead_begin_ = ahead_end_ = 0;
  cur_at_ = stream_end_;
}

}  // namespace mon::frame
