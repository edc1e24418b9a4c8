// SPDX-License-Identifier: MIT
// mon::fd_list: up to max_fds owned descriptors, stored inline (no heap), all closed on
// destruction. Only the slots in use are ever constructed or destroyed.
#pragma once

#include <cstddef>
#include <new>
#include <span>
#include <utility>

#include "monitor/export.h"
#include "monitor/unique_fd.hpp"

namespace mon {

// The most descriptors one message may carry (the kernel's SCM_MAX_FD).
inline constexpr std::size_t max_fds = 253;

// An owning list of up to max_fds descriptors (what one message carries). Move-only; destroying,
// clearing or assigning over it closes every descriptor it holds. Allocates nothing.
class MON_API fd_list {
 public:
  fd_list() noexcept {}  // NOLINT: the slots past size() are left unconstructed on purpose
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
  ~fd_list() { clear(); }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] bool full() const noexcept { return size_ == max_fds; }
  // Precondition: i < size().
  [[nodiscard]] const unique_fd& operator[](std::size_t i) const noexcept { return slots_.fds[i]; }
  [[nodiscard]] unique_fd& operator[](std::size_t i) noexcept { return slots_.fds[i]; }
  [[nodiscard]] std::span<unique_fd> items() noexcept { return {slots_.fds, size_}; }

  // Takes ownership of fd. When the list is full the descriptor is closed and false is returned,
  // so ownership is never in doubt.
  bool push(unique_fd fd) noexcept {
    if (full()) return false;  // fd closes here
    ::new (static_cast<void*>(&slots_.fds[size_])) unique_fd(std::move(fd));
    ++size_;
    return true;
  }
  // Moves every descriptor of other to the end of this list; closes those that do not fit.
  // Returns false if any had to be closed.
  bool append(fd_list& other) noexcept {
    bool all = true;
    for (auto& fd : other.items()) all = push(std::move(fd)) && all;
    other.clear();  // only moved-from (empty) or unplaced descriptors are left: closes the latter
    return all;
  }
  // Removes and returns descriptor i, keeping the order of the others.
  [[nodiscard]] unique_fd take(std::size_t i) noexcept {
    unique_fd out = std::move(slots_.fds[i]);
    for (std::size_t j = i + 1; j < size_; ++j) slots_.fds[j - 1] = std::move(slots_.fds[j]);
    slots_.fds[--size_].~unique_fd();
    return out;
  }
  // Closes every descriptor.
  void clear() noexcept {
    for (std::size_t i = 0; i < size_; ++i) slots_.fds[i].~unique_fd();
    size_ = 0;
  }

 private:
  void take_all(fd_list& other) noexcept {
    for (std::size_t i = 0; i < other.size_; ++i) {
      ::new (static_cast<void*>(&slots_.fds[i])) unique_fd(std::move(other.slots_.fds[i]));
      other.slots_.fds[i].~unique_fd();
    }
    size_ = other.size_;
    other.size_ = 0;
  }
  // Only the first size_ slots hold constructed descriptors: a list is created, emptied and
  // destroyed in time proportional to what it holds, not to its capacity (it sits on the
  // receive path several times per message).
  // NOLINTNEXTLINE(cppcoreguidelines-special-member-functions): never copied or moved as a whole
  union storage {
    storage() noexcept {}  // NOLINT: nothing constructed
    ~storage() {}          // NOLINT: fd_list destroys what it constructed
    unique_fd fds[max_fds];
  } slots_;
  std::size_t size_ = 0;
};

}  // namespace mon
