// SPDX-License-Identifier: MIT
// The C ABI: argument checks and C++ -> C result codes over the C++ API. No logic of its own.
// Nothing below throws (the library builds with -fno-exceptions), so nothing is caught here.
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
    delete st;
    return to_code(r.err());
  }
  *state = st;
  return MON_CONTINUE;
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

void mon_ipc_auth_client_end(void* state) { delete as_client(state); }

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

void mon_ipc_auth_server_end(void* state) { delete as_server(state); }

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
