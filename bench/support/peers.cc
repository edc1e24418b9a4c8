// SPDX-License-Identifier: MIT
// Dispatches monitor_insns's peer modes to the peers that were built (MON_BENCH_GLIB,
// MON_BENCH_DBUS are set by bench/CMakeLists.txt when pkg-config found them).
#include "support/peers.hpp"

namespace bench::peers {

#ifdef MON_BENCH_GLIB
bool glib_insns(const std::string& mode, long n);
#endif
#ifdef MON_BENCH_DBUS
bool dbus_insns(const std::string& mode, long n);
#endif

bool run_insns_mode([[maybe_unused]] const std::string& mode, [[maybe_unused]] long n) {
#ifdef MON_BENCH_GLIB
  if (glib_insns(mode, n)) return true;
#endif
#ifdef MON_BENCH_DBUS
  if (dbus_insns(mode, n)) return true;
#endif
  return false;
}

std::vector<std::string> insns_modes() {
  return {
#ifdef MON_BENCH_GLIB
      "fd_stream_glib",
      "hs_glib",
#endif
#ifdef MON_BENCH_DBUS
      "fd_stream_dbus",
      "hs_dbus",
#endif
  };
}

}  // namespace bench::peers
