// SPDX-License-Identifier: MIT
// Shared by the fd-broker targets (broker_policy, broker_request): an independent reading of the
// broker's documented rules (examples/fd-broker/policy.hpp, safe_path.hpp, broker_protocol.h),
// written from those comments and not from policy.cc / safe_path.cc, so the targets can check the
// broker's code against it.
#pragma once

#include <string>
#include <string_view>

#include "broker_protocol.h"

namespace mon::fuzz::broker_spec {

// A clean path: absolute, at most FDB_PATH_MAX bytes, no NUL, no empty, "." or ".." component;
// a trailing '/' only where allowed ("/" alone is a directory).
inline bool clean(std::string_view p, bool allow_trailing_slash) {
  if (p.empty() || p.size() > FDB_PATH_MAX || p[0] != '/') return false;
  if (p.size() == 1) return allow_trailing_slash;
  if (p.back() == '/' && !allow_trailing_slash) return false;
  std::size_t start = 1;
  const std::size_t end = p.back() == '/' ? p.size() - 1 : p.size();
  while (start <= end) {
    std::size_t stop = start;
    while (stop < end && p[stop] != '/') ++stop;
    const std::string_view name = p.substr(start, stop - start);
    if (name.empty() || name == "." || name == "..") return false;
    for (char c : name)
      if (c == '\0') return false;
    start = stop + 1;
  }
  return true;
}

}  // namespace mon::fuzz::broker_spec
