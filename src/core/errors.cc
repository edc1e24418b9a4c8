// SPDX-License-Identifier: MIT
#include "monitor/result.hpp"

namespace mon {

const char* to_string(errc code) noexcept { return mon_strerror(static_cast<int>(code)); }

}  // namespace mon

extern "C" const char* mon_strerror(int code) {
  switch (code) {
    case MON_OK:
      return "success";
    case MON_CONTINUE:
      return "call again";
    case MON_WANT_READ:
      return "socket not readable yet";
    case MON_WANT_WRITE:
      return "socket not writable yet";
    case MON_ERR_INVALID:
      return "invalid argument";
    case MON_ERR_NOMEM:
      return "out of memory";
    case MON_ERR_IO:
      return "system call failed (see errno)";
    case MON_ERR_CLOSED:
      return "peer closed the connection";
    case MON_ERR_PROTOCOL:
      return "malformed or unexpected data from peer";
    case MON_ERR_DENIED:
      return "authentication denied";
    case MON_ERR_TOOBIG:
      return "message too large";
    case MON_ERR_TRUNCATED:
      return "control data truncated; received descriptors closed";
    case MON_ERR_UNSUPPORTED:
      return "not supported by this kernel or platform";
    case MON_ERR_BADSHM:
      return "descriptor is not a sealable shared-memory segment";
    case MON_ERR_NOTSEALED:
      return "shared-memory segment lacks a required seal";
    case MON_ERR_SHMSIZE:
      return "shared-memory segment smaller than expected";
    case MON_ERR_SHMACCESS:
      return "shared-memory segment access mode does not match";
    default:
      return "unknown result code";
  }
}
