// SPDX-License-Identifier: MIT
// The C ABI for shared memory: argument checks and result codes over mon::shared_memory. No logic.
#include <new>
#include <utility>

#include "capi/to_code.hpp"
#include "monitor/monitor.h"
#include "monitor/shm.hpp"

struct mon_shm {
  explicit mon_shm(mon::shared_memory s) noexcept : impl(std::move(s)) {}
  mon::shared_memory impl;
};

namespace {

using mon::capi::to_code;

// Wraps a segment for C; on allocation failure the segment (and its descriptor) goes with it.
int hand_out(mon::result<mon::shared_memory> r, mon_shm** out) noexcept {
  if (!r) return to_code(r.err());
  *out = new (std::nothrow) mon_shm(std::move(r).value());
  return *out != nullptr ? MON_OK : MON_ERR_NOMEM;
}

}  // namespace

extern "C" {

int mon_shm_create(size_t size, mon_shm** out) {
  if (out == nullptr) return MON_ERR_INVALID;
  *out = nullptr;
  return hand_out(mon::shared_memory::create(size), out);
}

int mon_shm_seal(mon_shm* shm, unsigned seals) {
  if (shm == nullptr) return MON_ERR_INVALID;
  auto r = shm->impl.seal(seals);
  return r ? MON_OK : to_code(r.err());
}

int mon_shm_map(int fd, size_t min_len, size_t max_len, int access, mon_shm** out) {
  mon::unique_fd owned(fd);  // ours in every case, as the header promises
  if (out == nullptr) return MON_ERR_INVALID;
  *out = nullptr;
  if (access != MON_SHM_READ_WRITE && access != MON_SHM_READ_ONLY && access != MON_SHM_IMMUTABLE)
    return MON_ERR_INVALID;
  return hand_out(mon::shared_memory::map(std::move(owned), min_len, max_len,
                                          static_cast<mon::shm_access>(access)),
                  out);
}

const void* mon_shm_data(const mon_shm* shm) {
  return shm != nullptr ? static_cast<const void*>(shm->impl.bytes().data()) : nullptr;
}

void* mon_shm_writable_data(mon_shm* shm) {
  if (shm == nullptr || !shm->impl.writable()) return nullptr;
  return shm->impl.writable_bytes().data();
}

size_t mon_shm_size(const mon_shm* shm) { return shm != nullptr ? shm->impl.size() : 0; }

int mon_shm_fd(const mon_shm* shm) { return shm != nullptr ? shm->impl.fd() : -1; }

void mon_shm_free(mon_shm* shm) { delete shm; }

}  // extern "C"
