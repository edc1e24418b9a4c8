// SPDX-License-Identifier: MIT
// The C ABI for peer identity (pidfd, groups and label, server policy, client's check of the
// server, typed receive): argument checks and result codes over the C++ API. No logic of its own.
#include <algorithm>

#include "capi/states.hpp"
#include "capi/to_code.hpp"
#include "core/peer_pidfd.hpp"
#include "monitor/handshake.hpp"
#include "monitor/monitor.h"
#include "monitor/receive_filter.hpp"

namespace {

using mon::capi::as_client;
using mon::capi::as_server;
using mon::capi::server_state;
using mon::capi::to_code;

// The C++ policy that forwards to the C one; context is the C state that holds it.
bool forward_policy(const mon::peer_credentials& peer, void* context) noexcept {
  const auto* st = static_cast<const server_state*>(context);
  const mon_ipc_creds c{peer.pid, peer.uid, peer.gid};
  return st->allow(&c, st->allow_ctx) != 0;
}

// Copies a peer_info into the caller's arrays (the C calls' shared tail).
int copy_out(const mon::result<mon::peer_info>& info, gid_t* groups, size_t max_groups,
             size_t* out_num_groups, char* label, size_t max_label_len,
             size_t* out_label_len) noexcept {
  if (out_num_groups != nullptr) *out_num_groups = 0;
  if (out_label_len != nullptr) *out_label_len = 0;
  if (out_num_groups == nullptr || out_label_len == nullptr ||
      (groups == nullptr && max_groups > 0) || (label == nullptr && max_label_len > 0))
    return MON_ERR_INVALID;
  if (!info) return to_code(info.err());
  const auto g = info.value().groups();
  const auto l = info.value().security_label();
  *out_num_groups = g.size();
  *out_label_len = l.size();
  // The label needs room for its NUL as well; an absent label fits anywhere.
  const bool label_fits = l.empty() || l.size() < max_label_len;
  if (g.size() > max_groups || !label_fits) return MON_ERR_TOOBIG;
  std::copy(g.begin(), g.end(), groups);
  if (max_label_len > 0) {
    std::copy(l.begin(), l.end(), label);
    label[l.size()] = '\0';
  }
  return MON_OK;
}

}  // namespace

extern "C" {

int mon_ipc_auth_server_peer_pidfd(void* state) {
  auto* st = as_server(state);
  if (st == nullptr) return MON_ERR_INVALID;
  auto copy = mon::detail::copy_peer_pidfd(st->hs);
  if (!copy) return to_code(copy.err());
  return copy.value().release();
}

int mon_ipc_auth_server_peer_info(void* state, gid_t* groups, size_t max_groups,
                                  size_t* out_num_groups, char* label, size_t max_label_len,
                                  size_t* out_label_len) {
  auto* st = as_server(state);
  if (st == nullptr) {
    if (out_num_groups != nullptr) *out_num_groups = 0;
    if (out_label_len != nullptr) *out_label_len = 0;
    return MON_ERR_INVALID;
  }
  return copy_out(st->hs.read_peer_info(), groups, max_groups, out_num_groups, label, max_label_len,
                  out_label_len);
}

int mon_peer_info(int fd, gid_t* groups, size_t max_groups, size_t* out_num_groups, char* label,
                  size_t max_label_len, size_t* out_label_len) {
  if (fd < 0) {
    if (out_num_groups != nullptr) *out_num_groups = 0;
    if (out_label_len != nullptr) *out_label_len = 0;
    return MON_ERR_INVALID;
  }
  return copy_out(mon::query_peer_info(fd), groups, max_groups, out_num_groups, label,
                  max_label_len, out_label_len);
}

int mon_ipc_auth_server_set_policy(void* state, mon_ipc_policy_fn allow, void* ctx) {
  auto* st = as_server(state);
  if (st == nullptr) return MON_ERR_INVALID;
  auto r = allow != nullptr ? st->hs.set_policy(forward_policy, st)
                            : st->hs.set_policy(nullptr, nullptr);
  if (!r) return to_code(r.err());
  st->allow = allow;
  st->allow_ctx = ctx;
  return MON_OK;
}

int mon_ipc_auth_client_require_uid(void* state, uid_t uid) {
  auto* st = as_client(state);
  if (st == nullptr) return MON_ERR_INVALID;
  auto r = st->hs.require_server_uid(uid);
  return r ? MON_OK : to_code(r.err());
}

int mon_ipc_auth_client_peer_creds(void* state, mon_ipc_creds* out) {
  auto* st = as_client(state);
  if (st == nullptr || out == nullptr) return MON_ERR_INVALID;
  auto r = st->hs.server_credentials();
  if (!r) return to_code(r.err());
  out->pid = r.value().pid;
  out->uid = r.value().uid;
  out->gid = r.value().gid;
  return MON_OK;
}

int mon_ipc_recv_fd_typed(int source_fd, mon_buffer* dst, int* fd_received,
                          unsigned allowed_types) {
  if (fd_received != nullptr) *fd_received = -1;
  if (dst == nullptr || fd_received == nullptr || source_fd < 0) return MON_ERR_INVALID;
  mon::fd_list fds;
  auto r = mon::receive_message_typed(source_fd, dst->impl, fds, allowed_types, 1);
  if (!r) return to_code(r.err());
  if (r.value() == mon::progress::done && !fds.empty()) *fd_received = fds[0].release();
  return static_cast<int>(r.value());
}

}  // extern "C"
