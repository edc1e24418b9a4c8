// SPDX-License-Identifier: MIT
// mon::deny_reason: why a server refused a client, as carried in its deny message
// (docs/PROTOCOL.md, "Handshake"). Its own header so that the pure handshake layer (src/auth/) can
// name it without including the public handshake classes.
#pragma once

#include <cstdint>

namespace mon {

// Why a server refused, as carried in its deny message.
enum class deny_reason : std::uint16_t {
  none = 0,
  credentials = 1,  // kernel credentials missing, or the sender is not the process that connected
  policy = 2,       // the server's policy refused this peer
  version = 3,      // the server does not speak the client's protocol version
};

}  // namespace mon
