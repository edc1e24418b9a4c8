// SPDX-License-Identifier: MIT
// mon::shared_memory: a shared-memory segment (a sealed memfd and its mapping) that a hostile peer
// cannot turn against the process that maps it. What is checked, and why: docs/SHM.md.
//
// Creator: create(size) gives a writable segment that can no longer shrink or grow; fill it, then
// seal(MON_SHM_SEAL_WRITE | MON_SHM_SEAL_SEAL) for immutable sharing (or MON_SHM_SEAL_FUTURE_WRITE
// to keep writing while receivers can only read), and send fd() with send_message /
// mon_ipc_send_fd. Receiver: map(received_fd, ...) maps only a sealed memfd of the expected size
// and access mode.
#pragma once

#include <cstddef>
#include <span>
#include <utility>

#include "monitor/export.h"
#include "monitor/monitor.h"
#include "monitor/result.hpp"
#include "monitor/unique_fd.hpp"

namespace mon {

// How the receiver will use a segment (MON_SHM_READ_WRITE, MON_SHM_READ_ONLY, MON_SHM_IMMUTABLE).
enum class shm_access : int {
  read_write = MON_SHM_READ_WRITE,
  read_only = MON_SHM_READ_ONLY,
  immutable = MON_SHM_IMMUTABLE,
};

// Owns one descriptor and one mapping; both go when it is destroyed or reset. Movable, not
// copyable.
class MON_API shared_memory {
 public:
  shared_memory() noexcept = default;
  ~shared_memory() { reset(); }
  shared_memory(const shared_memory&) = delete;
  shared_memory& operator=(const shared_memory&) = delete;
  shared_memory(shared_memory&& other) noexcept;
  shared_memory& operator=(shared_memory&& other) noexcept;

  // A new zero-filled segment of size bytes (> 0), mapped read-write, sealed against shrinking and
  // growing. Errors: invalid (size 0 or larger than the address space), unsupported (no memfd
  // sealing here), nomem, io.
  [[nodiscard]] static result<shared_memory> create(std::size_t size) noexcept;

  // Maps a descriptor received from a peer. Takes ownership of fd in every case: on failure it is
  // closed and nothing is mapped. Succeeds only for a memfd on tmpfs with the shrink and grow
  // seals, at least min_len bytes long, whose access mode fits access (docs/SHM.md); the mapping is
  // min(real size, max_len) bytes, read-write for shm_access::read_write, read-only otherwise.
  // Errors: invalid (min_len 0 or > max_len, fd not open), badshm, notsealed, shmsize, shmaccess,
  // unsupported, nomem, io.
  [[nodiscard]] static result<shared_memory> map(unique_fd fd, std::size_t min_len,
                                                 std::size_t max_len, shm_access access) noexcept;
  // Maps exactly len bytes (map(fd, len, len, access)).
  [[nodiscard]] static result<shared_memory> map(unique_fd fd, std::size_t len,
                                                 shm_access access) noexcept {
    return map(std::move(fd), len, len, access);
  }

  // Adds seals: any of MON_SHM_SEAL_WRITE (the bytes never change again; this segment's own
  // mapping becomes read-only), MON_SHM_SEAL_FUTURE_WRITE (this mapping stays writable; nobody can
  // make a new writable one), MON_SHM_SEAL_SEAL (nobody, not a receiver either, can add seals).
  // Errors: invalid (no segment, 0 or unknown bits), unsupported (seal unknown to the kernel), io
  // (errno EBUSY: another writable mapping of this memfd exists, e.g. a receiver's; EPERM: sealed
  // with MON_SHM_SEAL_SEAL already). On failure the segment is unchanged (its mapping stays
  // writable, unless remapping failed for lack of memory: then writable() is false).
  [[nodiscard]] result<void> seal(unsigned seals) noexcept;

  [[nodiscard]] std::span<const std::byte> bytes() const noexcept {
    return {static_cast<const std::byte*>(addr_), len_};
  }
  // The bytes, writable; empty when the mapping is read-only.
  [[nodiscard]] std::span<std::byte> writable_bytes() noexcept {
    return writable_ ? std::span<std::byte>(static_cast<std::byte*>(addr_), len_)
                     : std::span<std::byte>{};
  }
  [[nodiscard]] std::size_t size() const noexcept { return len_; }
  [[nodiscard]] bool writable() const noexcept { return writable_; }
  [[nodiscard]] bool valid() const noexcept { return addr_ != nullptr; }
  explicit operator bool() const noexcept { return valid(); }
  // The memfd (still owned by this object): pass it to send_message, which borrows it.
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

  // Unmaps and closes.
  void reset() noexcept;

 private:
  void* addr_ = nullptr;
  std::size_t len_ = 0;
  bool writable_ = false;
  unique_fd fd_;
};

}  // namespace mon
