// Socket constants newer than the C library headers this builds against (Debian 12's glibc 2.36).
// The values are the kernel's ABI and never change; where the running kernel is older, the calls
// that use them fail with ENOPROTOOPT and the library reports that instead of guessing.
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
