// SPDX-License-Identifier: MIT
// Listening, connecting and accepting, C++ side: mon::listen_unix, mon::connect_unix,
// mon::accept_unix, mon::prepare_listener and socket activation (mon::listen_fds).
//
// Every descriptor these calls make is close-on-exec. A listener made here is already prepared for
// the handshake (prepare_listener): SO_PASSCRED on, and on Linux >= 6.16 SO_PASSRIGHTS off, so a
// client cannot queue descriptors on a connection before the server has accepted and
// authenticated it.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <span>

#include "monitor/export.h"
#include "monitor/result.hpp"
#include "monitor/unique_fd.hpp"

namespace mon {

// The two socket types the library speaks over.
enum class socket_type : int { stream = SOCK_STREAM, seqpacket = SOCK_SEQPACKET };

// How listen_unix makes its socket.
struct listen_options {
  socket_type type = socket_type::stream;
  // Permission bits of the socket file (connect() needs write permission on it). Only 0777 bits.
  mode_t mode = 0600;
  int backlog = SOMAXCONN;
  bool nonblocking = false;  // O_NONBLOCK on the listening socket (accept then never blocks)
  // Accept a path starting with '@' as an abstract-namespace name (the rest of the path). The
  // kernel applies no permission check to abstract sockets: any process in the same network
  // namespace can connect to one, and any process can bind the name first and impersonate the
  // server. Off by default; use only together with the handshake's identity checks.
  bool allow_abstract = false;
};

// Creates a listening AF_UNIX socket bound to path (a file-system path; see allow_abstract).
// The socket file gets mode's permission bits and is never more open than them, even briefly.
// If path already exists:
//   - a socket nobody listens on (a connect() is refused: a server that died) is removed and
//     replaced;
//   - a socket someone listens on, or anything that is not a socket (regular file, directory,
//     symbolic link), is left alone: errc::io with sys_errno EADDRINUSE.
// Telling the two apart takes a connect(): a live server sees one connection that closes before
// sending anything (its handshake ends with errc::closed).
// The directory that holds path must not be writable by anyone you do not trust: whoever can
// write it can remove or replace the socket whatever this call does.
// Errors: errc::invalid (path null, empty, longer than sun_path allows, abstract without
// allow_abstract, mode outside 0777, backlog < 0), errc::io (errno kept), errc::nomem.
[[nodiscard]] MON_API result<unique_fd> listen_unix(const char* path,
                                                    const listen_options& options = {}) noexcept;

// How connect_unix makes its socket.
struct connect_options {
  socket_type type = socket_type::stream;
  // O_NONBLOCK on the new socket. connect() on AF_UNIX never completes later: when the server's
  // backlog is full it fails with errc::io and EAGAIN instead of waiting.
  bool nonblocking = false;
  // As listen_options::allow_abstract: anyone may have bound an abstract name first. Pair it with
  // client_handshake::require_server_uid.
  bool allow_abstract = false;
};

// Connects a new close-on-exec AF_UNIX socket to path. Errors: errc::invalid (as listen_unix),
// errc::io (ENOENT nobody there, ECONNREFUSED nobody listening, EACCES, EAGAIN, ...).
[[nodiscard]] MON_API result<unique_fd> connect_unix(const char* path,
                                                     const connect_options& options = {}) noexcept;

// Accepts one connection on listen_fd into out (close-on-exec; O_NONBLOCK too if nonblocking).
// progress::done with out set, or progress::want_read when a non-blocking listener has nothing
// pending (out is then empty). Errors: errc::invalid (not a listening socket), errc::io (errno
// kept; EMFILE / ENFILE leave the connection pending, so a level-triggered poll reports the
// listener again at once: stop watching it until a descriptor is freed).
[[nodiscard]] MON_API result<progress> accept_unix(int listen_fd, unique_fd& out,
                                                   bool nonblocking = false) noexcept;

// Prepares a listening AF_UNIX SOCK_STREAM or SOCK_SEQPACKET socket for the handshake: sets
// SO_PASSCRED = 1 and SO_PASSRIGHTS = 0 on it, options every socket accepted from it inherits.
// On Linux >= 6.16 the kernel then refuses a descriptor sent to a connection before it is
// accepted (the sender gets EPERM), so no descriptor can wait in a queue for the server.
// On older kernels SO_PASSRIGHTS does not exist (ENOPROTOOPT): the call still succeeds, a client
// can then queue descriptors, and the library refuses them when it reads (closing them).
// Connections already queued when the call is made keep the options they had: call it before
// clients can connect (listen_unix and listen_fds call it for you).
// Errors: errc::invalid (not an AF_UNIX stream or seqpacket socket, or not listening), errc::io.
[[nodiscard]] MON_API result<void> prepare_listener(int listen_fd) noexcept;

// ---- Socket activation (systemd's LISTEN_FDS protocol, without libsystemd) ----

// The longest name LISTEN_FDNAMES may give one socket (systemd's FileDescriptorName=).
inline constexpr std::size_t listen_name_max = 255;
// The most sockets listen_fds takes from one environment.
inline constexpr std::size_t listen_fds_max = 1024;

// One socket passed by the service manager.
struct activated_socket {
  unique_fd fd;                            // descriptor 3, 4, ...: owned by the caller now
  socket_type type = socket_type::stream;  // its SO_TYPE
  char name[listen_name_max + 1] = {};     // its LISTEN_FDNAMES entry, or "unknown"
};

// What listen_fds accepts.
struct activation_options {
  std::optional<socket_type> type;  // the type every socket must have; nullopt: either
  bool nonblocking = false;         // also set O_NONBLOCK on each socket
};

// Takes the listening sockets the service manager passed (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES;
// descriptors from 3). Returns how many were placed in out (0 when the variables are absent or
// LISTEN_PID names another process: nothing was passed to us). Each socket is checked to be an
// AF_UNIX listening socket of the expected type, then made close-on-exec and prepared
// (prepare_listener). The variables are then removed from the environment, as sd_listen_fds(1)
// does, so child processes do not believe the sockets are theirs; this also happens when the call
// fails on what the variables say. The environment is read with secure_getenv: a set-user-ID
// program ignores it. Not thread-safe (it changes the environment): call it early in main().
// Errors:
//   errc::toobig    more sockets than out holds: nothing was changed (environment included);
//                   call again with room for listen_fds_max;
//   errc::invalid   a variable is not a number in range (LISTEN_FDS 1 to listen_fds_max), the
//                   number of names differs from LISTEN_FDS, a name is too long or not printable,
//                   or a descriptor is not an open AF_UNIX listening socket of the expected type.
//                   The descriptors are left open and untouched (they may not even be ours);
//   errc::io        making a descriptor close-on-exec or non-blocking, or preparing it, failed.
[[nodiscard]] MON_API result<std::size_t> listen_fds(
    std::span<activated_socket> out, const activation_options& options = {}) noexcept;

}  // namespace mon
