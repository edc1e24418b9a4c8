// SPDX-License-Identifier: MIT
// mon::shm::check: may a received descriptor be mapped as shared memory? Pure: it judges the facts
// the kernel reported about the descriptor (platform/memfd_facts.hpp) as plain values,
// so a fuzzer and unit tests can give it any combination without a kernel. src/sys/memfd.cc gathers
// the facts and maps only what this function approved.
#pragma once

#include <cstddef>
#include <cstdint>

#include "monitor/result.hpp"
#include "platform/memfd_facts.hpp"

namespace mon::shm {

// What the caller will do with the mapping.
enum class access : unsigned char {
  read_write,  // map writable: the descriptor must be O_RDWR and carry no write seal
  read_only,   // map read-only: no one may gain write access through this descriptor (O_RDONLY,
               // or a write seal); the sender may still write through a mapping it already has
  immutable,   // map read-only, and the bytes can never change again: F_SEAL_WRITE is required
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
