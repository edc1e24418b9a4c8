// mon::shm::check: may a received descriptor be mapped as shared memory? Pure: it judges the facts
// the kernel reported about the descriptor (F_GETFL, F_GET_SEALS, fstat, fstatfs) as plain values,
// so a fuzzer and unit tests can give it any combination without a kernel. src/sys/memfd.cc gathers
// the facts and maps only what this function approved.
#pragma once

#include <cstddef>
#include <cstdint>

#include "monitor/result.hpp"

namespace mon::shm {

// The kernel ABI values this logic needs, spelled out so this layer includes no system header
// (src/sys/memfd.cc checks each against <fcntl.h>, <sys/stat.h> and <linux/magic.h> at compile
// time).
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

// What the caller will do with the mapping.
enum class access : unsigned char {
  read_write,  // map writable: the descriptor must be O_RDWR and carry no write seal
  read_only,   // map read-only: no one may gain write access through this descriptor (O_RDONLY,
               // or a write seal); the sender may still write through a mapping it already has
  immutable,   // map read-only, and the bytes can never change again: F_SEAL_WRITE is required
};

// The kernel's answers about one descriptor, as they came.
struct facts {
  std::uint32_t status_flags = 0;  // F_GETFL status flags
  bool seals_known = false;        // F_GET_SEALS succeeded (it fails on anything but a memfd)
  std::uint32_t seals = 0;         // its result when seals_known
  std::uint32_t mode = 0;          // fstat st_mode
  std::int64_t size = 0;           // fstat st_size, read AFTER F_GET_SEALS (see memfd.cc)
  std::uint64_t fs_magic = 0;      // fstatfs f_type
};

// What the caller asks for: at least min_len bytes, a mapping of min(real size, max_len) bytes.
struct request {
  std::uint64_t min_len = 0;
  std::uint64_t max_len = 0;
  access mode = access::read_only;
};

// Why a descriptor was refused (or ok). Each maps to one MON_ERR_* code (to_error).
enum class verdict : unsigned char {
  ok,
  bad_request,         // min_len 0, min_len > max_len, max_len beyond the address space -> invalid
  path_only,           // an O_PATH descriptor -> badshm
  not_regular,         // pipe, socket, directory, device... -> badshm
  not_sealable,        // F_GET_SEALS failed: a regular file, not a memfd -> badshm
  wrong_filesystem,    // a sealable file that is not on tmpfs (hugetlbfs: faults can SIGBUS) ->
                       // badshm
  missing_size_seals,  // F_SEAL_SHRINK or F_SEAL_GROW not set -> notsealed
  missing_write_seal,  // immutable asked, F_SEAL_WRITE not set -> notsealed
  write_only,          // O_WRONLY: cannot be mapped for reading -> shmaccess
  writable,            // read_only asked, O_RDWR and no write seal -> shmaccess
  not_writable,        // read_write asked, O_RDONLY or write-sealed -> shmaccess
  too_small,           // size < min_len (or a negative size) -> shmsize
};

struct decision {
  verdict why = verdict::bad_request;
  std::size_t map_len = 0;    // when ok: bytes to map, min_len <= map_len <= min(size, max_len)
  bool map_writable = false;  // when ok: PROT_READ|PROT_WRITE (read_write) or PROT_READ
};

// Judges f against r. ok only when every condition in docs/SHM.md holds; never reads anything else.
[[nodiscard]] decision check(const facts& f, const request& r) noexcept;

// The library error for a refusal (errc::invalid for bad_request). Precondition: v != ok.
[[nodiscard]] errc to_error(verdict v) noexcept;

// A short name for a verdict, for messages and tests.
[[nodiscard]] const char* to_string(verdict v) noexcept;

}  // namespace mon::shm
