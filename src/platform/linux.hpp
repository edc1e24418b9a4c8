// SPDX-License-Identifier: MIT
// The bottom layer: Linux socket constants newer than the C library headers this builds against
// (Debian 12's glibc 2.36). Every layer may include this header and it includes nothing of ours.
// The values are the kernel's ABI and never change (docs/PROTOCOL.md, "Kernel facts"); where the
// running kernel is older, the calls that use them fail with ENOPROTOOPT and the library reports
// that instead of guessing.
#pragma once

#include <sys/socket.h>

#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04  // Linux 6.5: a pidfd of the sender, installed as a descriptor
#endif
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76  // Linux 6.5
#endif
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  // Linux 6.5
#endif
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83  // Linux 6.16: 0 makes the kernel refuse SCM_RIGHTS sent to this socket
#endif

// A header that defines one of these differently would silently change what the library asks for.
static_assert(SCM_PIDFD == 0x04 && SO_PASSPIDFD == 76 && SO_PEERPIDFD == 77 && SO_PASSRIGHTS == 83,
              "Linux socket ABI values");
