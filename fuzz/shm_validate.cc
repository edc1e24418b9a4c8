// SPDX-License-Identifier: MIT
// Fuzz target: the shared-memory validation (src/shm/validate.cc: shm::check, shm::to_error,
// shm::to_string), with any facts a kernel could report about a received descriptor and any
// request.
//
// Input (missing bytes read as 0): u32 F_GETFL flags, u8 selectors, u32 seals, u32 st_mode,
//   u64 st_size, u32 f_type, u64 min_len, u64 max_len, u8 access (0 read_write, 1 read_only,
//   2 immutable, others out of range). Selector bits: 0 F_GET_SEALS succeeded, 1 st_mode forced to
//   a regular file (keeping its permission bits), 2 f_type forced to TMPFS_MAGIC, 3 size bounded
//   to 16 bits, 4 lengths bounded to 16 bits; they make the deep paths reachable in a few runs.
//
// Property: check() says ok exactly when every condition of docs/SHM.md holds, judged here by an
// independent oracle written from the document with the kernel's raw numbers (not the library's
// constants); when ok, the mapping length is min(size, max_len), at least min_len, and writable
// only for read_write; when not ok, nothing is to be mapped and the error is one of the documented
// codes for that verdict.
#include <cstdint>

#include "fuzz_support.hpp"
#include "shm/validate.hpp"

namespace {

namespace shm = mon::shm;

struct oracle_in {
  std::uint32_t flags, seals, mode, fs;
  bool seals_known;
  std::int64_t size;
  std::uint64_t min_len, max_len;
  unsigned access;
};

// docs/SHM.md, "What is checked", transcribed literally.
bool oracle_ok(const oracle_in& o) {
  const bool request_ok = o.min_len >= 1 && o.min_len <= o.max_len &&
                          o.max_len <= static_cast<std::uint64_t>(INT64_MAX) && o.access <= 2;
  const bool is_memfd = (o.flags & 010000000) == 0                        // not O_PATH
                        && (o.mode & 0170000) == 0100000                  // S_ISREG
                        && o.seals_known                                  // F_GET_SEALS works
                        && o.fs == 0x01021994;                            // TMPFS_MAGIC
  const bool size_sealed = (o.seals & 0x2) != 0 && (o.seals & 0x4) != 0;  // SHRINK, GROW
  const unsigned acc = o.flags & 3;
  const bool write_sealed = (o.seals & 0x8) != 0 || (o.seals & 0x10) != 0;
  bool access_ok = false;
  if (o.access == 0) access_ok = acc == 2 && !write_sealed;
  if (o.access == 1) access_ok = acc == 0 || (acc == 2 && write_sealed);
  if (o.access == 2) access_ok = (o.seals & 0x8) != 0 && (acc == 0 || acc == 2);
  const bool big_enough = o.size >= 0 && static_cast<std::uint64_t>(o.size) >= o.min_len;
  return request_ok && is_memfd && size_sealed && access_ok && big_enough;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mon::fuzz::input in(data, size);
  oracle_in o{};
  o.flags = in.u32();
  const std::uint8_t sel = in.u8();
  o.seals = in.u32();
  o.mode = in.u32();
  std::uint64_t raw_size = (static_cast<std::uint64_t>(in.u32()) << 32) | in.u32();
  o.fs = in.u32();
  o.min_len = (static_cast<std::uint64_t>(in.u32()) << 32) | in.u32();
  o.max_len = (static_cast<std::uint64_t>(in.u32()) << 32) | in.u32();
  o.access = in.u8();
  o.seals_known = (sel & 1) != 0;
  if ((sel & 2) != 0) o.mode = 0100000 | (o.mode & 07777);
  if ((sel & 4) != 0) o.fs = 0x01021994;
  if ((sel & 8) != 0) raw_size &= 0xffff;
  if ((sel & 16) != 0) {
    o.min_len &= 0xffff;
    o.max_len &= 0xffff;
  }
  o.size = static_cast<std::int64_t>(raw_size);  // two's complement: negative sizes included

  shm::facts f;
  f.status_flags = o.flags;
  f.seals_known = o.seals_known;
  f.seals = o.seals_known ? o.seals : 0;
  if (!o.seals_known) o.seals = 0;
  f.mode = o.mode;
  f.size = o.size;
  f.fs_magic = o.fs;
  shm::request r;
  r.min_len = o.min_len;
  r.max_len = o.max_len;
  r.mode = static_cast<shm::access>(o.access);

  const shm::decision d = shm::check(f, r);
  const bool expected = oracle_ok(o);
  MON_FUZZ_CHECK((d.why == shm::verdict::ok) == expected);
  MON_FUZZ_CHECK(shm::to_string(d.why) != nullptr);
  if (d.why == shm::verdict::ok) {
    const std::uint64_t real = static_cast<std::uint64_t>(o.size);
    MON_FUZZ_CHECK(d.map_len == (real < o.max_len ? real : o.max_len));
    MON_FUZZ_CHECK(d.map_len >= o.min_len && d.map_len <= real && d.map_len <= o.max_len);
    MON_FUZZ_CHECK(d.map_writable == (o.access == 0));
  } else {
    MON_FUZZ_CHECK(d.map_len == 0 && !d.map_writable);
    const mon::errc e = shm::to_error(d.why);
    switch (d.why) {
      case shm::verdict::bad_request:
        MON_FUZZ_CHECK(e == mon::errc::invalid);
        break;
      case shm::verdict::too_small:
        MON_FUZZ_CHECK(e == mon::errc::shmsize);
        MON_FUZZ_CHECK(o.size < 0 || static_cast<std::uint64_t>(o.size) < o.min_len);
        break;
      case shm::verdict::missing_size_seals:
        MON_FUZZ_CHECK(e == mon::errc::notsealed && !((o.seals & 6) == 6));
        break;
      default:
        MON_FUZZ_CHECK(e == mon::errc::badshm || e == mon::errc::notsealed ||
                       e == mon::errc::shmaccess);
    }
  }
  return 0;
}
