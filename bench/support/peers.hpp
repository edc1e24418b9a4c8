// Peers (GLib, libdbus) are built only when pkg-config finds them; this is the hook monitor_insns
// uses to reach their instruction-count modes. Returns false for a mode no built peer knows.
#pragma once

#include <string>

namespace bench::peers {
bool run_insns_mode(const std::string& mode, long n);
// The modes run_insns_mode knows, separated by spaces (ci/bench-insns.sh lists them).
const char* insns_modes();
}  // namespace bench::peers
