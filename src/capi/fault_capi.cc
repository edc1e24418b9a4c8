// SPDX-License-Identifier: MIT
// The C ABI for faults (include/monitor/fault.hpp): the value a buffer or handshake state kept, and
// its sentence. No logic.
#include "capi/states.hpp"
#include "monitor/fault.hpp"
#include "monitor/monitor.h"

extern "C" {

int mon_buffer_fault(const mon_buffer* buf) {
  return buf != nullptr ? static_cast<int>(buf->impl.last_fault()) : 0;
}

int mon_ipc_auth_client_fault(const void* state) {
  const auto* st = mon::capi::as_client(const_cast<void*>(state));
  return st != nullptr ? static_cast<int>(st->hs.last_fault()) : 0;
}

int mon_ipc_auth_server_fault(const void* state) {
  const auto* st = mon::capi::as_server(const_cast<void*>(state));
  return st != nullptr ? static_cast<int>(st->hs.last_fault()) : 0;
}

const char* mon_fault_string(int fault) {
  if (fault < 0 || fault > 0xffff) return "unknown fault";
  return mon::describe(static_cast<mon::fault>(fault));
}

}  // extern "C"
