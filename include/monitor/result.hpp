// SPDX-License-Identifier: MIT
// mon::errc, mon::error and mon::result<T>: failures that cannot be ignored, without exceptions.
#pragma once

// The C++ API needs C++20 (std::span, defaulted comparisons): CMake's monitor::monitor passes it
// on by itself; elsewhere add -std=c++20 (pkg-config: monitor-cxx). monitor/monitor.h alone is
// plain C (C99) and usable from C++ of any version.
#if __cplusplus < 202002L
#error "monitor's C++ API (monitor/*.hpp) needs C++20: compile with -std=c++20"
#endif

#include <type_traits>
#include <utility>

#include "monitor/export.h"
#include "monitor/monitor.h"

namespace mon {

// The C ABI's MON_ERR_* codes, one to one.
enum class errc : int {
  invalid = MON_ERR_INVALID,
  nomem = MON_ERR_NOMEM,
  io = MON_ERR_IO,
  closed = MON_ERR_CLOSED,
  protocol = MON_ERR_PROTOCOL,
  denied = MON_ERR_DENIED,
  toobig = MON_ERR_TOOBIG,
  truncated = MON_ERR_TRUNCATED,
  unsupported = MON_ERR_UNSUPPORTED,
  badshm = MON_ERR_BADSHM,
  notsealed = MON_ERR_NOTSEALED,
  shmsize = MON_ERR_SHMSIZE,
  shmaccess = MON_ERR_SHMACCESS,
};

// An error code plus, for errc::io, the errno of the failing system call.
struct error {
  errc code = errc::invalid;
  int sys_errno = 0;
  friend constexpr bool operator==(const error&, const error&) = default;
};

// Name of an error, as mon_strerror gives it.
MON_API const char* to_string(errc code) noexcept;

// Either a T or an error. Marked [[nodiscard]] so a dropped result is a compile-time warning.
template <class T>
class [[nodiscard]] result {
  static_assert(std::is_nothrow_move_constructible_v<T>);

 public:
  result(T value) noexcept : value_(std::move(value)), ok_(true) {}  // NOLINT: implicit on purpose
  result(error err) noexcept : err_(err) {}                          // NOLINT
  result(errc code) noexcept : err_{code, 0} {}                      // NOLINT

  [[nodiscard]] bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  // Precondition: ok().
  [[nodiscard]] T& value() & noexcept { return value_; }
  [[nodiscard]] const T& value() const& noexcept { return value_; }
  [[nodiscard]] T&& value() && noexcept { return std::move(value_); }
  // Precondition: !ok().
  [[nodiscard]] error err() const noexcept { return err_; }
  [[nodiscard]] errc code() const noexcept { return err_.code; }

 private:
  T value_{};
  error err_{};
  bool ok_ = false;
};

// result<void>: success without a value, or an error; as result<T> otherwise.
template <>
class [[nodiscard]] result<void> {
 public:
  result() noexcept : ok_(true) {}
  result(error err) noexcept : err_(err) {}      // NOLINT
  result(errc code) noexcept : err_{code, 0} {}  // NOLINT
  [[nodiscard]] bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  [[nodiscard]] error err() const noexcept { return err_; }
  [[nodiscard]] errc code() const noexcept { return err_.code; }

 private:
  error err_{};
  bool ok_ = false;
};

// What a non-blocking step needs before it can go on.
enum class progress : int {
  done = MON_OK,
  want_read = MON_WANT_READ,
  want_write = MON_WANT_WRITE,
};

}  // namespace mon
