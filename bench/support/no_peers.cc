// Linked into monitor_insns when no peer library was found.
#include "support/peers.hpp"

namespace bench::peers {
bool run_insns_mode(const std::string&, long) { return false; }
const char* insns_modes() { return ""; }
}  // namespace bench::peers
