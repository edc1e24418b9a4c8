// SPDX-License-Identifier: MIT
// The C ABI for batches: argument checks and result codes over mon::send_messages and
// mon::receive_messages. No logic of its own.
#include <algorithm>
#include <array>
#include <cerrno>
#include <new>
#include <span>

#include "monitor/batch.hpp"
#include "monitor/monitor.h"

struct mon_batch {
  mon::batch_send_state tx;
  mon::batch_receive_state rx;
  std::array<mon::received_message, mon::max_batch> slots;  // their fd_lists own what arrived
};

namespace {

int to_code(mon::error e) noexcept {
  if (e.sys_errno != 0) errno = e.sys_errno;
  return static_cast<int>(e.code);
}

}  // namespace

extern "C" {

mon_batch* mon_batch_new(void) { return new (std::nothrow) mon_batch(); }

void mon_batch_free(mon_batch* batch) { delete batch; }

void mon_batch_clear(mon_batch* batch) {
  if (batch == nullptr) return;
  batch->tx.reset();
  batch->rx.clear();
}

int mon_ipc_send_batch(int fd, mon_batch* batch, const mon_batch_msg* msgs, size_t count,
                       size_t* out_sent) {
  if (out_sent != nullptr) *out_sent = 0;
  if (batch == nullptr || out_sent == nullptr || fd < 0 || (msgs == nullptr && count > 0))
    return MON_ERR_INVALID;
  std::array<mon::outgoing_message, mon::max_batch> out;
  std::size_t done = 0;
  while (done < count) {
    const std::size_t n = std::min(count - done, out.size());
    for (std::size_t i = 0; i < n; ++i) {
      const mon_batch_msg& m = msgs[done + i];
      if ((m.data == nullptr && m.len > 0) || (m.fds == nullptr && m.num_fds > 0)) {
        if (done + i == 0) return MON_ERR_INVALID;
        *out_sent = done + i;
        if (i == 0) return MON_WANT_WRITE;
        out[i] = {};
        // Send those before it; the next call starts with it and reports it.
        auto r = mon::send_messages(fd, std::span(out.data(), i), batch->tx);
        if (!r) return to_code(r.err());
        *out_sent = done + r.value();
        return MON_WANT_WRITE;
      }
      out[i] = {std::span(static_cast<const std::byte*>(m.data), m.len),
                m.num_fds > 0 ? std::span<const int>(m.fds, m.num_fds) : std::span<const int>{}};
    }
    auto r = mon::send_messages(fd, std::span(out.data(), n), batch->tx);
    if (!r) {
      if (done == 0) return to_code(r.err());
      return MON_WANT_WRITE;  // the next call reports it
    }
    done += r.value();
    *out_sent = done;
    if (r.value() < n) return MON_WANT_WRITE;
  }
  return MON_OK;
}

int mon_ipc_recv_batch(int fd, mon_batch* batch, mon_batch_msg* msgs, size_t count, size_t max_fds,
                       size_t* out_received) {
  if (out_received != nullptr) *out_received = 0;
  if (batch == nullptr || out_received == nullptr || fd < 0 || msgs == nullptr || count == 0)
    return MON_ERR_INVALID;
  const std::size_t n = std::min<std::size_t>(count, mon::max_batch);
  for (std::size_t i = 0; i < n; ++i) {
    if ((msgs[i].data == nullptr && msgs[i].cap > 0) || (msgs[i].fds == nullptr && max_fds > 0))
      return MON_ERR_INVALID;
    batch->slots[i].storage = std::span(static_cast<std::byte*>(msgs[i].data), msgs[i].cap);
  }
  auto r = mon::receive_messages(fd, batch->rx, std::span(batch->slots.data(), n),
                                 std::min(max_fds, mon::max_fds));
  if (!r) return to_code(r.err());
  for (std::size_t i = 0; i < r.value(); ++i) {
    auto& slot = batch->slots[i];
    mon_batch_msg& m = msgs[i];
    m.status = slot.status ? MON_OK : static_cast<int>(slot.status.code());
    m.len = slot.size;
    m.num_fds = slot.fds.size();
    for (std::size_t j = 0; j < slot.fds.size(); ++j) m.fds[j] = slot.fds[j].release();
    slot.fds.clear();
  }
  *out_received = r.value();
  return r.value() != 0 ? MON_OK : MON_WANT_READ;
}

}  // extern "C"
