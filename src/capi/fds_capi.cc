// SPDX-License-Identifier: MIT
// The C ABI for several descriptors per message and for the deny reasons: argument checks and
// result codes over mon::send_message, mon::receive_message and the handshakes' reason(). No logic
// of its own.
#include <algorithm>
#include <cerrno>
#include <span>

#include "capi/states.hpp"
#include "monitor/handshake.hpp"
#include "monitor/message.hpp"
#include "monitor/monitor.h"
#include "monitor/receive_filter.hpp"

namespace {

int to_code(mon::error e) noexcept {
  if (e.sys_errno != 0) errno = e.sys_errno;
  return static_cast<int>(e.code);
}

int to_code(const mon::result<mon::progress>& r) noexcept {
  return r ? static_cast<int>(r.value()) : to_code(r.err());
}

// mon::deny_reason and MON_DENY_* are the same numbers (checked here, once).
static_assert(static_cast<int>(mon::deny_reason::none) == MON_DENY_NONE);
static_assert(static_cast<int>(mon::deny_reason::credentials) == MON_DENY_CREDENTIALS);
static_assert(static_cast<int>(mon::deny_reason::policy) == MON_DENY_POLICY);
static_assert(static_cast<int>(mon::deny_reason::version) == MON_DENY_VERSION);

}  // namespace

extern "C" {

int mon_ipc_send_fds(int fd, mon_buffer* buf, const int* fds, size_t num_fds) {
  if (buf == nullptr || fd < 0 || (fds == nullptr && num_fds > 0) || num_fds > mon::max_fds) {
    return MON_ERR_INVALID;
  }
  const std::span<const int> list =
      num_fds > 0 ? std::span<const int>(fds, num_fds) : std::span<const int>{};
  return to_code(mon::send_message(fd, buf->impl, list));
}

int mon_ipc_recv_fds(int fd, mon_buffer* buf, int* out_fds, size_t max_fds, size_t* out_num_fds) {
  if (out_num_fds != nullptr) *out_num_fds = 0;
  if (buf == nullptr || out_num_fds == nullptr || fd < 0 || (out_fds == nullptr && max_fds > 0)) {
    return MON_ERR_INVALID;
  }
  mon::fd_list fds;  // owns what arrived until it is handed over below; closes it otherwise
  auto r = mon::receive_message(fd, buf->impl, fds, std::min(max_fds, mon::max_fds));
  if (r && r.value() == mon::progress::done) {
    for (std::size_t i = 0; i < fds.size(); ++i) out_fds[i] = fds[i].release();
    *out_num_fds = fds.size();
  }
  return to_code(r);
}

int mon_ipc_recv_fds_typed(int fd, mon_buffer* buf, int* out_fds, size_t max_fds,
                           size_t* out_num_fds, unsigned allowed_types) {
  if (out_num_fds != nullptr) *out_num_fds = 0;
  if (buf == nullptr || out_num_fds == nullptr || fd < 0 || (out_fds == nullptr && max_fds > 0)) {
    return MON_ERR_INVALID;
  }
  mon::fd_list fds;  // owns what arrived until it is handed over below
  auto r = mon::receive_message_typed(fd, buf->impl, fds, allowed_types,
                                      std::min(max_fds, mon::max_fds));
  if (r && r.value() == mon::progress::done) {
    for (std::size_t i = 0; i < fds.size(); ++i) out_fds[i] = fds[i].release();
    *out_num_fds = fds.size();
  }
  return to_code(r);
}

int mon_buffer_reserve(mon_buffer* buf, size_t len) {
  if (buf == nullptr) return MON_ERR_INVALID;
  auto r = buf->impl.reserve(len);
  return r ? MON_OK : to_code(r.err());
}

int mon_ipc_auth_client_reason(const void* state) {
  const auto* st = mon::capi::as_client(const_cast<void*>(state));
  return st != nullptr ? static_cast<int>(st->hs.reason()) : MON_ERR_INVALID;
}

int mon_ipc_auth_server_reason(const void* state) {
  const auto* st = mon::capi::as_server(const_cast<void*>(state));
  return st != nullptr ? static_cast<int>(st->hs.reason()) : MON_ERR_INVALID;
}

}  // extern "C"
