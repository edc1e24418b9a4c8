// SPDX-License-Identifier: MIT
// The broker's listening socket, created without races an unprivileged user could exploit.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>

#include "monitor/unique_fd.hpp"

namespace fdb {

struct listener {
  mon::unique_fd fd;  // non-blocking, close-on-exec, SO_PASSCRED on (accepted sockets inherit it)
  dev_t dev = 0;      // identity of the socket file we created: remove() unlinks only that one
  ino_t ino = 0;
};

// Creates an AF_UNIX SOCK_STREAM listener at path with permissions `mode` (applied through the
// umask at bind time, so the file never exists with wider ones).
//
// The parent directory must be owned by root or by us and writable by nobody else (no group or
// world write bit, sticky or not): then no one else can swap the path between our checks and our
// use. An existing path is removed only when it is a socket we own that nobody listens on any more
// (a stale socket of an earlier run); a symlink, any other file, or a live socket is an error.
[[nodiscard]] bool make_listener(const char* path, mode_t mode, listener& out, std::string& error);

// Unlinks path if it is still the socket make_listener created.
void remove_listener_path(const char* path, const listener& l) noexcept;

}  // namespace fdb
