// SPDX-License-Identifier: MIT
// Peers (GLib, libdbus) are built only when pkg-config finds them; this is the hook monitor_insns
// uses to reach their instruction-count modes. Returns false for a mode no built peer knows.
#pragma once

#include <string>
#include <vector>

namespace bench::peers {
bool run_insns_mode(const std::string& mode, long n);
// The modes run_insns_mode knows (monitor_insns list-modes prints them).
std::vector<std::string> insns_modes();
}  // namespace bench::peers
