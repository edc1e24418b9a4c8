// SPDX-License-Identifier: MIT
// mon::frame::stream_receiver: frames out of a SOCK_STREAM byte stream, one recvmsg per frame in
// the steady state. Pure: it plans reads and is told what they brought; core/message.cc does them.
//
// Each read asks for the rest of the current frame's payload (straight into the caller's storage)
// and, after it, a read-ahead area, so the next frame's header (or several small frames) arrive
// with the same recvmsg. Descriptors then need care, because a read may span frames. The kernel
// ends a stream read right after the first skb that carries descriptors, and a sender's descriptors
// ride on the skb that starts with its frame's header. So the descriptors one read brings belong to
// the LAST frame whose first byte that read brought (the binding rule, docs/PROTOCOL.md
// "Descriptors on SOCK_STREAM"):
//   - a frame that began in the same read before that one gets none, so if it declared some it is a
//     protocol error;
//   - descriptors in a read where no frame begins were attached mid-frame: that frame is a protocol
//     error;
//   - a hostile sender can only misplace its own descriptors, never move them onto another frame's
//     bytes that the receiver already holds.
// Descriptors read ahead stay owned here, bound to the stream offset where their frame begins,
// until that frame is handed out or refused. Limits (payload size, descriptor count) are applied
// when a frame is handed out; a refused frame is consumed whole, so the stream stays in step.
// Refused descriptors are never closed here: they go to the disposer given at construction (core
// passes one that cannot block on a descriptor whose closing would hang, see sys/discard.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "frame/frame.hpp"
#include "monitor/fault.hpp"
#include "monitor/fd_list.hpp"
#include "monitor/result.hpp"

namespace mon::frame {

// Bytes a receiver may read past the current frame in one recvmsg.
inline constexpr std::size_t read_ahead_len = 2048;

// Takes descriptors the receiver refuses (and must empty the list).
using disposer = void (*)(fd_list& refused) noexcept;

// Where the next recvmsg puts its bytes, in this order.
struct read_plan {
  std::span<std::byte> direct;  // the rest of the current payload, in the caller's storage
  std::span<std::byte> ahead;   // the read-ahead area (never empty)
};

class stream_receiver {
 public:
  enum class event : std::uint8_t {
    frame,         // a whole frame is ready: current_header(), its payload in storage, take_fds()
    need_storage,  // call set_storage() with current_header().payload_len bytes, then next()
    need_read,     // do the read that plan() describes, report it with on_read(), then next()
  };

  explicit stream_receiver(disposer dispose) noexcept : dispose_(dispose) {}
  ~stream_receiver() { reset(); }
  stream_receiver(const stream_receiver&) = delete;
  stream_receiver& operator=(const stream_receiver&) = delete;

  // max_payload applies to frames whose header has not been read yet (a frame begun keeps the
  // decision taken at its header), max_fds when a frame is handed out.
  void set_limits(limits lim) noexcept { limits_ = lim; }

  // Moves through what is held: returns the next thing the caller must do, or the error of a
  // frame refused as a whole (consumed: call next() again for the following one). errc::protocol
  // for a malformed header (everything held is then dropped: the stream is out of step).
  [[nodiscard]] result<event> next() noexcept;
  // Where the current payload goes (exactly current_header().payload_len bytes).
  void set_storage(std::span<std::byte> storage) noexcept { storage_ = storage.data(); }
  [[nodiscard]] read_plan plan() noexcept;
  // A read of n > 0 bytes laid out as plan() said, with its control data's status and
  // descriptors (taken, whatever happens), and why the control data was refused, if it was.
  void on_read(std::size_t n, result<void> control_status, fd_list& fds,
               fault control_why = fault::none) noexcept;
  // End of file: errc::closed between frames, errc::protocol inside one. Drops everything.
  [[nodiscard]] error on_eof() noexcept;

  [[nodiscard]] header current_header() const noexcept { return cur_; }
  // Why the last frame was refused (or the stream failed); fault::none before any refusal.
  [[nodiscard]] fault last_fault() const noexcept { return last_fault_; }
  void clear_fault() noexcept { last_fault_ = fault::none; }
  // While a payload is being received: the bytes of it already in storage (set_storage()), so a
  // caller can move them to other storage (copy them, then set_storage() again) between reads.
  [[nodiscard]] std::size_t payload_received() const noexcept {
    return stage_ == stage::payload && storage_ != nullptr ? payload_got_ : 0;
  }
  // True from a malformed header (next() said errc::protocol and dropped all it held) until the
  // next read: nothing held can be framed any more, the stream is out of step.
  [[nodiscard]] bool out_of_step() const noexcept { return out_of_step_; }
  // After event::frame: moves the frame's descriptors into out (empty before) and moves on.
  void take_fds(fd_list& out) noexcept;

  // True while anything of the stream is held: a frame begun, bytes or descriptors read ahead.
  [[nodiscard]] bool pending() const noexcept {
    return stage_ != stage::header || ahead_end_ != ahead_begin_ || !cur_fds_.empty() ||
           !next_fds_.empty();
  }
  // Forgets everything held; its descriptors go to the disposer.
  void reset() noexcept;

 private:
  enum class stage : std::uint8_t { header, payload, discard };
  [[nodiscard]] std::size_t held() const noexcept { return ahead_end_ - ahead_begin_; }
  result<event> begin_frame() noexcept;
  result<event> finish_frame() noexcept;
  void refuse(fd_list& fds) noexcept {
    if (!fds.empty()) dispose_(fds);
  }
  void bind(std::size_t read_len, std::uint64_t read_start, result<void> control_status,
            fd_list& fds, fault control_why) noexcept;
  void next_frame() noexcept;

  disposer dispose_;
  limits limits_{};
  stage stage_ = stage::header;
  bool out_of_step_ = false;
  header cur_{};
  std::byte* storage_ = nullptr;
  std::uint32_t payload_got_ = 0;
  std::uint64_t cur_at_ = 0;      // stream offset of the current frame's first byte
  std::uint64_t stream_end_ = 0;  // stream offset one past the last byte read
  // The current frame's descriptors, and what went wrong with its control data.
  fd_list cur_fds_;
  bool cur_cut_ = false;         // the kernel cut the control data (MSG_CTRUNC)
  bool cur_misplaced_ = false;   // descriptors or bad control data mid-frame
  fault cur_why_ = fault::none;  // what was wrong with its control data, when known
  // Descriptors of a frame that begins later, at next_at_ (at most one such frame: a read happens
  // only while the current frame is incomplete, so everything it brings starts after it).
  fd_list next_fds_;
  std::uint64_t next_at_ = 0;
  bool next_cut_ = false;
  bool next_bad_ = false;
  fault next_why_ = fault::none;
  bool next_held_ = false;
  fault last_fault_ = fault::none;
  std::uint32_t ahead_begin_ = 0;
  std::uint32_t ahead_end_ = 0;
  std::array<std::byte, read_ahead_len> ahead_;
};

}  // namespace mon::frame
