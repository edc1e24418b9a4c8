// SPDX-License-Identifier: MIT
// C++ results to C result codes, for every shim in src/capi/.
#pragma once

#include <cerrno>

#include "monitor/result.hpp"

namespace mon::capi {

// The C code of an error, restoring errno for MON_ERR_IO and kin: cleanup after the failing call
// (closing descriptors, restoring socket options) may have changed it since.
inline int to_code(error e) noexcept {
  if (e.sys_errno != 0) errno = e.sys_errno;
  return static_cast<int>(e.code);
}

// MON_OK / MON_WANT_READ / MON_WANT_WRITE, or the error's code.
inline int to_code(const result<progress>& r) noexcept {
  return r ? static_cast<int>(r.value()) : to_code(r.err());
}

}  // namespace mon::capi
