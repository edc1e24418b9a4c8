#include "sys/discard.hpp"

namespace mon::sys {

// Placeholder until the non-blocking disposal lands: closes inline.
void discard(fd_list& fds) noexcept { fds.clear(); }

}  // namespace mon::sys
