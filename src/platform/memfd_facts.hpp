// SPDX-License-Identifier: MIT
// The kernel's answers about one descriptor that may be shared memory (F_GETFL, F_GET_SEALS, fstat,
// fstatfs), as plain values, and the kernel ABI constants they are read with. The vocabulary that
// src/sys/memfd.cc fills in and src/shm/validate.hpp judges: it lives in the bottom layer so that
// the side that asks the kernel does not depend on the side that decides.
#pragma once

#include <cstdint>

namespace mon::shm {

// Spelled out so that no layer above needs a system header to name them (src/sys/memfd.cc checks
// each against <fcntl.h>, <sys/stat.h> and <linux/magic.h> at compile time).
inline constexpr std::uint32_t seal_seal = 0x1;
inline constexpr std::uint32_t seal_shrink = 0x2;
inline constexpr std::uint32_t seal_grow = 0x4;
inline constexpr std::uint32_t seal_write = 0x8;
inline constexpr std::uint32_t seal_future_write = 0x10;
inline constexpr std::uint32_t mode_type_mask = 0170000;  // S_IFMT
inline constexpr std::uint32_t mode_regular = 0100000;    // S_IFREG
inline constexpr std::uint32_t access_mask = 03;          // O_ACCMODE
inline constexpr std::uint32_t access_read_only = 00;     // O_RDONLY
inline constexpr std::uint32_t access_write_only = 01;    // O_WRONLY
inline constexpr std::uint32_t access_read_write = 02;    // O_RDWR
inline constexpr std::uint32_t status_path = 010000000;   // O_PATH (x86, arm, generic ABIs)
inline constexpr std::uint64_t tmpfs_magic = 0x01021994;  // TMPFS_MAGIC: memfd without MFD_HUGETLB

// The kernel's answers about one descriptor, as they came.
struct facts {
  std::uint32_t status_flags = 0;  // F_GETFL status flags
  bool seals_known = false;        // F_GET_SEALS succeeded (it fails on anything but a memfd)
  std::uint32_t seals = 0;         // its result when seals_known
  std::uint32_t mode = 0;          // fstat st_mode
  std::int64_t size = 0;           // fstat st_size, read AFTER F_GET_SEALS (see memfd.cc)
  std::uint64_t fs_magic = 0;      // fstatfs f_type
};

}  // namespace mon::shm
