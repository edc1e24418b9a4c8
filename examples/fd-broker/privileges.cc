// SPDX-License-Identifier: MIT
#include "privileges.hpp"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fdb {
namespace {

bool fail(std::string& why, const char* step) {
  why = std::string(step) + ": " + std::strerror(errno);
  return false;
}

}  // namespace

bool drop_to_read_search(std::string& why) {
  if (::geteuid() != 0) return true;
  // The bounding set first: dropping from it needs CAP_SETPCAP, which the capset below removes.
  // Capabilities are numbered densely; the first one the kernel does not know ends the loop.
  for (int cap = 0; cap < 64; ++cap) {
    if (cap == CAP_DAC_READ_SEARCH) continue;
    if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) break;  // EINVAL: past the last capability
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) return fail(why, "PR_CAPBSET_DROP");
  }
  if (::prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED, 0, 0, 0) != 0)
    return fail(why, "PR_SET_SECUREBITS");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
    return fail(why, "PR_CAP_AMBIENT_CLEAR_ALL");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail(why, "PR_SET_NO_NEW_PRIVS");

  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  const unsigned bit = 1u << (CAP_DAC_READ_SEARCH % 32);
  data[CAP_DAC_READ_SEARCH / 32].effective = bit;
  data[CAP_DAC_READ_SEARCH / 32].permitted = bit;
  if (::syscall(SYS_capset, &header, data) != 0) return fail(why, "capset");

  // Read back: what the kernel now holds is exactly that, or we stop.
  __user_cap_data_struct now[_LINUX_CAPABILITY_U32S_3] = {};
  header = {_LINUX_CAPABILITY_VERSION_3, 0};
  if (::syscall(SYS_capget, &header, now) != 0) return fail(why, "capget");
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; ++i) {
    if (now[i].effective != data[i].effective || now[i].permitted != data[i].permitted ||
        now[i].inheritable != 0) {
      errno = EPERM;
      return fail(why, "capabilities after capset");
    }
  }
  return true;
}

}  // namespace fdb
