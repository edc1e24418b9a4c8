// SPDX-License-Identifier: MIT
// The ERANGE loop for socket options whose answer has a size only the kernel knows (SO_PEERGROUPS,
// SO_PEERSEC). A template over the asking function so tests can play a kernel whose answer grows
// between calls.
#pragma once

#include <cerrno>
#include <cstddef>
#include <memory>
#include <new>
#include <span>
#include <string_view>

#include "monitor/result.hpp"
#include "sys/peer_identity.hpp"

namespace mon::detail {

// Attempts before giving up on an answer that keeps growing. The first attempt offers no buffer
// (most peers have no supplementary groups and no label: one system call, no allocation).
inline constexpr int grow_attempts = 4;

// ask(std::span<T>) -> result<sys::sized_answer> (sizes in bytes). On success out holds the
// answer (null when empty) and the element count is returned. Errors: whatever ask returns;
// errc::toobig past max_elems (nothing allocated for it); errc::nomem; errc::io with EPROTO for a
// size that is not a whole number of T, ERANGE when the size still changed after grow_attempts.
template <class T, class Ask>
[[nodiscard]] result<std::size_t> grow_query(Ask&& ask, std::size_t max_elems,
                                             std::unique_ptr<T[]>& out) noexcept {
  out.reset();
  std::size_t cap = 0;
  for (int attempt = 0; attempt < grow_attempts; ++attempt) {
    const result<sys::sized_answer> r = ask(std::span<T>(out.get(), cap));
    if (!r) return r.err();
    const sys::sized_answer a = r.value();
    if (a.needed % sizeof(T) != 0) return error{errc::io, EPROTO};
    const std::size_t n = a.needed / sizeof(T);
    if (n > max_elems) return errc::toobig;  // bound first, allocate after
    if (a.fits) {
      if (n > cap) return error{errc::io, EPROTO};  // claims to have written past our buffer
      if (n == 0) out.reset();
      return n;
    }
    if (n > cap) {
      out.reset(new (std::nothrow) T[n]);
      if (!out) return errc::nomem;
      cap = n;
    }
  }
  out.reset();
  return error{errc::io, ERANGE};
}

// The length of an SO_PEERSEC answer without its trailing NULs: SELinux counts a terminating NUL,
// other modules do not. Only trailing ones go; the label stays length-delimited bytes.
[[nodiscard]] inline std::size_t label_length(std::string_view answer) noexcept {
  std::size_t len = answer.size();
  while (len > 0 && answer[len - 1] == '\0') --len;
  return len;
}

}  // namespace mon::detail
