// SPDX-License-Identifier: MIT
// Helpers for the suites that drive the pure handshake machines, playing the kernel's part.
#pragma once

#include "cmsg/control.hpp"
#include "monitor/credentials.hpp"

namespace mon::test {

// What cmsg::decode makes of a read that carried exactly these SCM_CREDENTIALS.
inline cmsg::control_data with_creds(const peer_credentials& c) {
  cmsg::control_data ctl;
  ctl.has_credentials = true;
  ctl.credentials = c;
  return ctl;
}

}  // namespace mon::test
