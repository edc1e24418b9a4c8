// SPDX-License-Identifier: MIT
// The C ABI: argument checks and C++ -> C result codes over the C++ API. No logic of its own.
// Nothing below throws (the library builds with -fno-exceptions), so nothing is caught here.
#include <sys/socket.h>

#include <chrono>
#include <new>

#include "capi/states.hpp"
#include "capi/to_code.hpp"
#include "monitor/monitor.h"
#include "monitor/monitor.hpp"

namespace {

// mon_buffer and the handshake states live in capi/states.hpp, shared with identity_capi.cc.
using mon::capi::as_client;
using mon::capi::as_server;
using mon::capi::client_state;
using mon::capi::server_state;
using mon::capi::to_code;

// Starts the handshake of a freshly allocated state (null: allocation failed) and hands it to the
// caller; on any failure the state is freed and *state stays null.
template <class State>
int hand_out(State* st, void** state) noexcept {
  if (st == nullptr) return MON_ERR_NOMEM;
  if (auto r = st->hs.start(); !r) {
    mon::capi::end_state(st);
    return to_code(r.err());
  }
  *state = st;
  return MON_CONTINUE;
}

// The C options as the C++ API takes them; false if any field is out of range.
bool deadline_of(const mon_auth_options& o, std::chrono::steady_clock::time_point& out) noexcept {
  if (o.timeout_ms < 0) return false;
  out = o.timeout_ms == 0
            ? std::chrono::steady_clock::time_point{}
            : std::chrono::steady_clock::now() + std::chrono::milliseconds(o.timeout_ms);
  return true;
}
bool known_type(int type) noexcept {
  return type == 0 || type == SOCK_STREAM || type == SOCK_SEQPACKET;
}

bool to_client_options(const mon_auth_options* o, mon::client_options& out) noexcept {
  if (o == nullptr) return true;
  if ((o->flags & ~MON_AUTH_REFUSE_DESCRIPTORS) != 0 || !known_type(o->socket_type)) return false;
  out.socket_type = o->socket_type;
  out.refuse_descriptors = (o->flags & MON_AUTH_REFUSE_DESCRIPTORS) != 0;
  return deadline_of(*o, out.deadline);
}
bool to_server_options(const mon_auth_options* o, mon::server_options& out) noexcept {
  if (o == nullptr) return true;
  constexpr unsigned known = MON_AUTH_PREPARED_LISTENER | MON_AUTH_REFUSE_DESCRIPTORS;
  if ((o->flags & ~known) != 0 || !known_type(o->socket_type)) return false;
  out.prepared_listener = (o->flags & MON_AUTH_PREPARED_LISTENER) != 0;
  out.refuse_descriptors = (o->flags & MON_AUTH_REFUSE_DESCRIPTORS) != 0;
  out.socket_type = o->socket_type;
  return deadline_of(*o, out.deadline);
}

void set_unknown(mon_ipc_creds* c) noexcept {
  c->pid = MON_IPC_PID_UNKNOWN;
  c->uid = static_cast<uid_t>(-1);
  c->gid = MON_IPC_GID_UNKNOWN;
}

}  // namespace

extern "C" {

mon_buffer* mon_buffer_new(size_t max_len) {
  if (max_len > MON_BUFFER_LIMIT) return nullptr;
  return new (std::nothrow) mon_buffer(max_len);
}

void mon_buffer_free(mon_buffer* buf) { delete buf; }

int mon_buffer_append(mon_buffer* buf, const void* data, size_t len) {
  if (buf == nullptr || (data == nullptr && len > 0)) return MON_ERR_INVALID;
  auto r = buf->impl.append({static_cast<const std::byte*>(data), len});
  return r ? MON_OK : to_code(r.err());
}

void mon_buffer_clear(mon_buffer* buf) {
  if (buf != nullptr) buf->impl.clear();
}

const void* mon_buffer_data(const mon_buffer* buf) {
  return buf != nullptr && buf->impl.size() > 0 ? buf->impl.data().data() : nullptr;
}

size_t mon_buffer_len(const mon_buffer* buf) { return buf != nullptr ? buf->impl.size() : 0; }

int mon_ipc_auth_client_init(int fd, void** state) {
  if (state == nullptr) return MON_ERR_INVALID;
  *state = nullptr;
  if (fd < 0) return MON_ERR_INVALID;
  return hand_out(new (std::nothrow) client_state(fd), state);
}

int mon_ipc_auth_client_init_ex(int fd, const mon_auth_options* opts, mon_auth_storage* storage,
                                void** state) {
  if (state == nullptr) return MON_ERR_INVALID;
  *state = nullptr;
  mon::client_options o;
  if (fd < 0 || !to_client_options(opts, o)) return MON_ERR_INVALID;
  auto* st = storage != nullptr ? new (storage->bytes) client_state(fd, o, true)
                                : new (std::nothrow) client_state(fd, o);
  return hand_out(st, state);
}

void mon_ipc_auth_client_end(void* state) { mon::capi::end_state(as_client(state)); }

int mon_ipc_auth_client_step(int fd, void* state) {
  auto* st = as_client(state);
  if (st == nullptr || fd != st->hs.fd()) return MON_ERR_INVALID;
  return to_code(st->hs.step());
}

int mon_ipc_auth_server_init(int fd, mon_ipc_creds* creds, void** state) {
  if (state == nullptr) return MON_ERR_INVALID;
  *state = nullptr;
  if (fd < 0 || creds == nullptr) return MON_ERR_INVALID;
  set_unknown(creds);
  return hand_out(new (std::nothrow) server_state(fd, creds), state);
}

int mon_ipc_auth_server_init_ex(int fd, mon_ipc_creds* creds, const mon_auth_options* opts,
                                mon_auth_storage* storage, void** state) {
  if (state == nullptr) return MON_ERR_INVALID;
  *state = nullptr;
  if (creds != nullptr) set_unknown(creds);
  mon::server_options o;
  if (fd < 0 || creds == nullptr || !to_server_options(opts, o)) return MON_ERR_INVALID;
  auto* st = storage != nullptr ? new (storage->bytes) server_state(fd, creds, o, true)
                                : new (std::nothrow) server_state(fd, creds, o);
  return hand_out(st, state);
}

void mon_ipc_auth_server_end(void* state) { mon::capi::end_state(as_server(state)); }

int mon_ipc_auth_server_step(int fd, void* state) {
  auto* st = as_server(state);
  if (st == nullptr || fd != st->hs.fd()) return MON_ERR_INVALID;
  auto r = st->hs.step();
  if (r && r.value() == mon::progress::done) {
    const mon::peer_credentials p = st->hs.peer();
    st->creds->pid = p.pid;
    st->creds->uid = p.uid;
    st->creds->gid = p.gid;
  }
  return to_code(r);
}

int mon_ipc_send_fd(int target_fd, mon_buffer* src, int fd_to_send) {
  if (src == nullptr || target_fd < 0 || fd_to_send < -1) return MON_ERR_INVALID;
  const int one[1] = {fd_to_send};
  const std::span<const int> fds =
      fd_to_send >= 0 ? std::span<const int>(one) : std::span<const int>{};
  return to_code(mon::send_message(target_fd, src->impl, fds));
}

int mon_ipc_recv_fd(int source_fd, mon_buffer* dst, int* fd_received) {
  if (fd_received != nullptr) *fd_received = -1;
  if (dst == nullptr || fd_received == nullptr || source_fd < 0) return MON_ERR_INVALID;
  mon::fd_list fds;
  auto r = mon::receive_message(source_fd, dst->impl, fds, 1);
  if (r && r.value() == mon::progress::done && !fds.empty()) *fd_received = fds[0].release();
  return to_code(r);
}

}  // extern "C"
