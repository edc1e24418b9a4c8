// mon::sys::discard: how the library lets go of descriptors a peer sent that it refuses.
#pragma once

#include "monitor/fd_list.hpp"

namespace mon::sys {

// Disposes of every descriptor in fds (left empty) without letting a hostile descriptor stall the
// caller (see the definition).
void discard(fd_list& fds) noexcept;

}  // namespace mon::sys
