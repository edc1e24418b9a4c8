// SPDX-License-Identifier: MIT
// mon::unique_fd: sole owner of one file descriptor; closes it when destroyed.
#pragma once

// The C++ API needs C++20 (std::span, defaulted comparisons): CMake's monitor::monitor passes it
// on by itself; elsewhere add -std=c++20 (pkg-config: monitor-cxx). monitor/monitor.h alone is
// plain C (C99) and usable from C++ of any version.
#if __cplusplus < 202002L
#error "monitor's C++ API (monitor/*.hpp) needs C++20: compile with -std=c++20"
#endif

#include <utility>

#include "monitor/export.h"

namespace mon {

// Owns one descriptor (or none: -1) and closes it when destroyed, reset or assigned over.
// Move-only. Never dup()s.
class MON_API unique_fd {
 public:
  constexpr unique_fd() noexcept = default;
  // Takes ownership of fd (negative means "none").
  constexpr explicit unique_fd(int fd) noexcept : fd_(fd < 0 ? -1 : fd) {}
  ~unique_fd() {
    if (fd_ >= 0) reset();  // inline test: destroying an empty one costs no call
  }

  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  constexpr unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }

  [[nodiscard]] constexpr int get() const noexcept { return fd_; }
  [[nodiscard]] constexpr bool valid() const noexcept { return fd_ >= 0; }
  constexpr explicit operator bool() const noexcept { return valid(); }

  // Gives up ownership without closing; the caller now owns the returned descriptor.
  [[nodiscard]] constexpr int release() noexcept { return std::exchange(fd_, -1); }

  // Closes the current descriptor (if any) and takes ownership of fd. close() is never retried on
  // EINTR: on Linux the descriptor is already gone, and a retry could close someone else's.
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

}  // namespace mon
