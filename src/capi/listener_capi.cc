// SPDX-License-Identifier: MIT
// The C ABI for listening, connecting, accepting and socket activation: argument checks and result
// codes over include/monitor/listener.hpp. No logic of its own.
#include <cerrno>
#include <cstring>
#include <new>
#include <span>

#include "monitor/listener.hpp"
#include "monitor/monitor.h"

namespace {

constexpr unsigned known_flags = MON_UNIX_NONBLOCK | MON_UNIX_ALLOW_ABSTRACT;

int to_code(mon::error e) noexcept {
  if (e.sys_errno != 0) errno = e.sys_errno;
  return static_cast<int>(e.code);
}

// SOCK_STREAM / SOCK_SEQPACKET as mon::socket_type; false for anything else.
bool to_type(int type, mon::socket_type& out) noexcept {
  if (type == SOCK_STREAM) {
    out = mon::socket_type::stream;
    return true;
  }
  if (type == SOCK_SEQPACKET) {
    out = mon::socket_type::seqpacket;
    return true;
  }
  return false;
}

}  // namespace

extern "C" {

int mon_unix_listen(const char* path, int type, mode_t mode, unsigned flags) {
  mon::listen_options o;
  if ((flags & ~known_flags) != 0 || !to_type(type, o.type)) return MON_ERR_INVALID;
  o.mode = mode;
  o.nonblocking = (flags & MON_UNIX_NONBLOCK) != 0;
  o.allow_abstract = (flags & MON_UNIX_ALLOW_ABSTRACT) != 0;
  auto r = mon::listen_unix(path, o);
  return r ? r.value().release() : to_code(r.err());
}

int mon_unix_connect(const char* path, int type, unsigned flags) {
  mon::connect_options o;
  if ((flags & ~known_flags) != 0 || !to_type(type, o.type)) return MON_ERR_INVALID;
  o.nonblocking = (flags & MON_UNIX_NONBLOCK) != 0;
  o.allow_abstract = (flags & MON_UNIX_ALLOW_ABSTRACT) != 0;
  auto r = mon::connect_unix(path, o);
  return r ? r.value().release() : to_code(r.err());
}

int mon_unix_accept(int listen_fd, unsigned flags, int* out_fd) {
  if (out_fd != nullptr) *out_fd = -1;
  if (out_fd == nullptr || (flags & ~unsigned{MON_UNIX_NONBLOCK}) != 0) return MON_ERR_INVALID;
  mon::unique_fd conn;
  auto r = mon::accept_unix(listen_fd, conn, (flags & MON_UNIX_NONBLOCK) != 0);
  if (!r) return to_code(r.err());
  *out_fd = conn.release();
  return static_cast<int>(r.value());
}

int mon_listener_prepare(int listen_fd) {
  auto r = mon::prepare_listener(listen_fd);
  return r ? MON_OK : to_code(r.err());
}

int mon_listen_fds(int type, unsigned flags, mon_listen_socket* out, size_t max_sockets,
                   size_t* out_num) {
  if (out_num != nullptr) *out_num = 0;
  mon::activation_options o;
  if (out_num == nullptr || (out == nullptr && max_sockets > 0) ||
      (flags & ~unsigned{MON_UNIX_NONBLOCK}) != 0) {
    return MON_ERR_INVALID;
  }
  if (type != 0) {
    mon::socket_type t{};
    if (!to_type(type, t)) return MON_ERR_INVALID;
    o.type = t;
  }
  o.nonblocking = (flags & MON_UNIX_NONBLOCK) != 0;
  // The C++ call fills its own array (it owns the descriptors until they are handed over here).
  static_assert(MON_LISTEN_FDS_MAX == mon::listen_fds_max);
  static_assert(MON_LISTEN_NAME_MAX == mon::listen_name_max);
  const std::size_t room = max_sockets < mon::listen_fds_max ? max_sockets : mon::listen_fds_max;
  // One slot more than needed, so the array is never of size 0.
  auto* taken = new (std::nothrow) mon::activated_socket[room + 1];
  if (taken == nullptr) return MON_ERR_NOMEM;
  auto r = mon::listen_fds(std::span(taken, room), o);
  int rc = MON_OK;
  if (r) {
    for (std::size_t i = 0; i < r.value() && out != nullptr; ++i) {
      out[i].fd = taken[i].fd.release();
      out[i].type = static_cast<int>(taken[i].type);
      std::memcpy(out[i].name, taken[i].name, sizeof out[i].name);
    }
    *out_num = r.value();
  } else {
    rc = to_code(r.err());
  }
  delete[] taken;
  return rc;
}

}  // extern "C"
