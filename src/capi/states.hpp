// SPDX-License-Identifier: MIT
// The objects behind the C ABI's opaque pointers (mon_buffer, the handshakes' `void *state`),
// shared by the shims in monitor_capi.cc (the seed's functions) and identity_capi.cc (peer
// identity). No logic.
#pragma once

#include <cstddef>

#include "monitor/handshake.hpp"
#include "monitor/message.hpp"
#include "monitor/monitor.h"

struct mon_buffer {
  explicit mon_buffer(std::size_t max_len) noexcept : impl(max_len) {}
  mon::message_buffer impl;
};

namespace mon::capi {

// Tags that tell a client state from a server state, so a mix-up is MON_ERR_INVALID, not UB.
inline constexpr unsigned kClientTag = 0x6d6f6e43;  // "monC"
inline constexpr unsigned kServerTag = 0x6d6f6e53;  // "monS"

struct client_state {
  explicit client_state(int fd, const mon::client_options& opts = {},
                        bool in_caller_storage = false) noexcept
      : hs(fd, opts), caller_storage(in_caller_storage) {}
  unsigned tag = kClientTag;
  mon::client_handshake hs;
  bool caller_storage;  // built in a mon_auth_storage: *_end destroys it but frees nothing
};

struct server_state {
  server_state(int fd, mon_ipc_creds* out, const mon::server_options& opts = {},
               bool in_caller_storage = false) noexcept
      : hs(fd, nullptr, nullptr, opts), creds(out), caller_storage(in_caller_storage) {}
  unsigned tag = kServerTag;
  mon::server_handshake hs;
  mon_ipc_creds* creds;
  bool caller_storage;
  mon_ipc_policy_fn allow = nullptr;  // mon_ipc_auth_server_set_policy
  void* allow_ctx = nullptr;
};

// The state behind a C pointer, or null when it is not one of ours of that kind.
static_assert(sizeof(client_state) <= sizeof(mon_auth_storage));
static_assert(sizeof(server_state) <= sizeof(mon_auth_storage));
static_assert(alignof(client_state) <= alignof(mon_auth_storage));
static_assert(alignof(server_state) <= alignof(mon_auth_storage));

// Ends a state of either kind: destroys it, and frees it unless it lives in caller storage (whose
// tag is then cleared, so a second *_end is a no-op).
template <class State>
void end_state(State* st) noexcept {
  if (st == nullptr) return;
  if (!st->caller_storage) {
    delete st;
    return;
  }
  st->~State();
  *reinterpret_cast<unsigned*>(static_cast<void*>(st)) = 0;
}

inline client_state* as_client(void* state) noexcept {
  auto* st = static_cast<client_state*>(state);
  return st != nullptr && st->tag == kClientTag ? st : nullptr;
}
inline server_state* as_server(void* state) noexcept {
  auto* st = static_cast<server_state*>(state);
  return st != nullptr && st->tag == kServerTag ? st : nullptr;
}

}  // namespace mon::capi
