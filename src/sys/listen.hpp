// SPDX-License-Identifier: MIT
// mon::sys, listening side: the system calls behind listen_unix, connect_unix, accept_unix,
// prepare_listener and listen_fds (include/monitor/listener.hpp). One call per function, EINTR
// retried; the decisions (which path may be removed, what the environment means) are in
// src/core/listener.cc.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "monitor/result.hpp"
#include "monitor/unique_fd.hpp"

namespace mon::sys {

// An AF_UNIX address ready for bind() or connect(): the struct and the length to pass.
struct unix_address {
  sockaddr_un sun{};
  socklen_t len = 0;
};

// socket(AF_UNIX, type | SOCK_CLOEXEC [| SOCK_NONBLOCK]).
[[nodiscard]] result<unique_fd> open_unix_socket(int type, bool nonblocking) noexcept;

// fchmod() on a socket that is not bound yet: Linux creates the socket file with these permission
// bits minus the umask, so the file is never more open than mode, not even for an instant.
[[nodiscard]] result<void> set_socket_file_mode(int fd, mode_t mode) noexcept;

// bind(); errc::io with EADDRINUSE when the path exists.
[[nodiscard]] result<void> bind_to(int fd, const unix_address& addr) noexcept;

// listen() with the given backlog.
[[nodiscard]] result<void> start_listening(int fd, int backlog) noexcept;

// connect(), retried on EINTR. errc::io keeps the errno (ECONNREFUSED, ENOENT, EAGAIN, ...).
[[nodiscard]] result<void> connect_to(int fd, const unix_address& addr) noexcept;

// What lstat() says is at a path (the last component is not followed).
struct path_facts {
  enum class kind : unsigned char { absent, socket, other };
  kind what = kind::absent;
  dev_t dev = 0;
  ino_t ino = 0;
  mode_t perm = 0;  // permission bits
};
[[nodiscard]] result<path_facts> inspect_path(const char* path) noexcept;

// unlink() of path, only if it is still the socket file `seen` described (same device and inode):
// errc::io with EADDRINUSE when something else took its place meanwhile.
[[nodiscard]] result<void> remove_socket_file(const char* path, const path_facts& seen) noexcept;

// Sets the permission bits of the socket file at path without following a symbolic link there.
[[nodiscard]] result<void> chmod_socket_file(const char* path, mode_t mode) noexcept;

// accept4(SOCK_CLOEXEC [| SOCK_NONBLOCK]), retried on EINTR. An empty unique_fd means "would
// block" (a non-blocking listener with nothing pending).
[[nodiscard]] result<unique_fd> accept_on(int listen_fd, bool nonblocking) noexcept;

// The facts about a descriptor that decide whether it is a listening socket we can use.
struct socket_facts {
  int domain = -1;         // SO_DOMAIN
  int type = -1;           // SO_TYPE
  bool listening = false;  // SO_ACCEPTCONN
};
// errc::invalid (EBADF, ENOTSOCK) for a descriptor that is not an open socket.
[[nodiscard]] result<socket_facts> describe_socket(int fd) noexcept;

// FD_CLOEXEC on; O_NONBLOCK on (the status flag is shared with every copy of the descriptor).
[[nodiscard]] result<void> set_close_on_exec(int fd) noexcept;
[[nodiscard]] result<void> set_nonblocking(int fd) noexcept;

// The process environment and pid, for socket activation.
[[nodiscard]] const char* environment(const char* name) noexcept;
void unset_environment(const char* name) noexcept;
[[nodiscard]] pid_t own_pid() noexcept;

}  // namespace mon::sys
