// SPDX-License-Identifier: MIT
// What the library does with a peer's descriptors it refuses (wrong count, unexpected control
// data, a kind the receiver does not take, a failed shared-memory check, descriptors during the
// handshake). Every received descriptor is handed to the caller or disposed of here; never closed
// inline on the caller's thread, because close() of a file on a FUSE (or hung NFS) mount the peer
// controls waits, uninterruptibly, for that file system's answer (SECURITY.md, "A peer's
// descriptors are attack surface").
#pragma once

#include "monitor/export.h"

namespace mon {

// Receives one refused descriptor. The handler OWNS fd from the call on and must close it
// eventually, on a thread that may block (a worker, a thread pool): close() of a hostile peer's
// file can wait forever. It runs on the thread of the library call that refused the descriptor,
// inside that call: it must not block, must not throw, and must not call back into the library
// with the same object.
using refused_fd_handler = void (*)(int fd, void* context) noexcept;

// Installs fn (with context passed back on every call) for the whole process; nullptr restores the
// default. Thread-safe. A call in progress on another thread may still use the previous handler
// and context after this returns: keep them valid for the life of the process.
//
// The default hands each refused descriptor to a detached closer thread of the library (started
// when the first descriptor is refused, at most 4, all signals blocked), which closes it; a closer
// that a hostile file system stalls stays stalled, and the next refusal starts another. When no
// closer can take it (threads cannot be created, the closers' queue is full) the descriptor is
// closed inline, as before.
MON_API void set_refused_fd_handler(refused_fd_handler fn, void* context) noexcept;

}  // namespace mon
