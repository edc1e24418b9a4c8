// SPDX-License-Identifier: MIT
// mon::sys memfd calls: the only code that creates, seals, inspects and maps shared memory. It
// never decides whether a descriptor is acceptable: shm::check (src/shm/validate.hpp) does.
#pragma once

#include <cstddef>
#include <cstdint>

#include "monitor/result.hpp"
#include "monitor/unique_fd.hpp"
#include "platform/memfd_facts.hpp"

namespace mon::sys {

// True where this build has memfd and sealing (Linux); elsewhere every call below returns
// errc::unsupported and maps nothing.
[[nodiscard]] bool memfd_supported() noexcept;

// memfd_create(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL), retried without MFD_NOEXEC_SEAL
// where the kernel refuses it (before Linux 6.3), keeping MFD_ALLOW_SEALING. errc::unsupported if
// the kernel has no memfd_create or no sealing.
[[nodiscard]] result<unique_fd> memfd_create_sealable() noexcept;

// ftruncate(fd, len).
[[nodiscard]] result<void> truncate(int fd, std::uint64_t len) noexcept;

// fcntl(F_ADD_SEALS) with shm::seal_* bits. EBUSY (a writable mapping exists) is errc::io with
// errno EBUSY; EINVAL for a seal the kernel does not know (F_SEAL_FUTURE_WRITE before 5.1) is
// errc::unsupported.
[[nodiscard]] result<void> add_seals(int fd, std::uint32_t seals) noexcept;

// The facts shm::check judges, gathered F_GETFL, F_GET_SEALS, fstat, fstatfs in that order: the
// seals are read before the size, so a size we see was already protected by any shrink seal we saw.
// errc::invalid if fd is not an open descriptor.
[[nodiscard]] result<shm::facts> inspect(int fd) noexcept;

// mmap(len, PROT_READ [| PROT_WRITE], MAP_SHARED, fd, 0).
[[nodiscard]] result<void*> map(int fd, std::size_t len, bool writable) noexcept;

// mmap(len, PROT_READ, MAP_PRIVATE, fd, 0): a read-only view that, unlike a shared mapping of an
// O_RDWR descriptor, does not count as writable for F_SEAL_WRITE (Linux counts every VM_SHARED
// mapping that could be mprotect()ed writable). Never written, so it never copies a page.
[[nodiscard]] result<void*> map_private_read(int fd, std::size_t len) noexcept;

// munmap; addr null is a no-op.
void unmap(void* addr, std::size_t len) noexcept;

}  // namespace mon::sys
