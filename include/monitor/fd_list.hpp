// mon::fd_list: up to max_fds owned descriptors, stored inline (no heap), all closed on destruction.
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include "monitor/export.h"
#include "monitor/unique_fd.hpp"

namespace mon {

// The most descriptors one message may carry (the kernel's SCM_MAX_FD).
inline constexpr std::size_t max_fds = 253;

// An owning list of up to max_fds descriptors (what one message carries). Move-only; destroying,
// clearing or assigning over it closes every descriptor it holds. Allocates nothing.
class MON_API fd_list {
 public:
  fd_list() noexcept = default;
  fd_list(const fd_list&) = delete;
  fd_list& operator=(const fd_list&) = delete;
  fd_list(fd_list&& other) noexcept { take_all(other); }
  fd_list& operator=(fd_list&& other) noexcept {
    if (this != &other) {
      clear();
      take_all(other);
    }
    return *this;
  }
  ~fd_list() = default;

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] bool full() const noexcept { return size_ == fds_.size(); }
  [[nodiscard]] const unique_fd& operator[](std::size_t i) const noexcept { return fds_[i]; }
  [[nodiscard]] unique_fd& operator[](std::size_t i) noexcept { return fds_[i]; }
  [[nodiscard]] std::span<unique_fd> items() noexcept { return {fds_.data(), size_}; }

  // Takes ownership of fd. When the list is full the descriptor is closed and false is returned,
  // so ownership is never in doubt.
  bool push(unique_fd fd) noexcept {
    if (full()) return false;  // fd closes here
    fds_[size_++] = std::move(fd);
    return true;
  }
  // Moves every descriptor of other to the end of this list; closes those that do not fit.
  // Returns false if any had to be closed.
  bool append(fd_list& other) noexcept {
    bool all = true;
    for (auto& fd : other.items()) all = push(std::move(fd)) && all;
    other.size_ = 0;
    return all;
  }
  // Removes and returns descriptor i, keeping the order of the others.
  [[nodiscard]] unique_fd take(std::size_t i) noexcept {
    unique_fd out = std::move(fds_[i]);
    for (std::size_t j = i + 1; j < size_; ++j) fds_[j - 1] = std::move(fds_[j]);
    --size_;
    return out;
  }
  // Closes every descriptor.
  void clear() noexcept {
    for (auto& fd : items()) fd.reset();
    size_ = 0;
  }

 private:
  void take_all(fd_list& other) noexcept {
    for (std::size_t i = 0; i < other.size_; ++i) fds_[i] = std::move(other.fds_[i]);
    size_ = other.size_;
    other.size_ = 0;
  }
  std::array<unique_fd, max_fds> fds_{};
  std::size_t size_ = 0;
};

}  // namespace mon
