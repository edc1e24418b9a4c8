// SPDX-License-Identifier: MIT
#include "shm/validate.hpp"

#include <limits>

namespace mon::shm {

namespace {

bool has(std::uint32_t seals, std::uint32_t bits) noexcept { return (seals & bits) == bits; }

}  // namespace

decision check(const facts& f, const request& r) noexcept {
  decision d;
  // The request first: a caller's mistake is not the peer's fault.
  if (r.min_len == 0 || r.min_len > r.max_len) return d;
  if (r.max_len > std::numeric_limits<std::size_t>::max() ||
      r.max_len > static_cast<std::uint64_t>(std::numeric_limits<std::ptrdiff_t>::max()))
    return d;

  // What kind of object: only a memfd (a tmpfs file whose F_GET_SEALS works) can promise a size.
  auto refuse = [&d](verdict v) {
    d.why = v;
    return d;
  };
  if ((f.status_flags & status_path) != 0) return refuse(verdict::path_only);
  if ((f.mode & mode_type_mask) != mode_regular) return refuse(verdict::not_regular);
  if (!f.seals_known) return refuse(verdict::not_sealable);
  // hugetlbfs memfds are sealable too, but a fault there can SIGBUS when the huge page pool is
  // empty: only tmpfs (plain memfd) keeps the promise that a sealed size is a mappable size.
  if (f.fs_magic != tmpfs_magic) return refuse(verdict::wrong_filesystem);

  // Without both seals the peer can truncate after we map (SIGBUS on our next read) or the size
  // we check below means nothing.
  if (!has(f.seals, seal_shrink | seal_grow)) return refuse(verdict::missing_size_seals);

  const std::uint32_t acc = f.status_flags & access_mask;
  const bool write_sealed = (f.seals & (seal_write | seal_future_write)) != 0;
  switch (r.mode) {
    case access::read_write:
      if (acc != access_read_write || write_sealed) return refuse(verdict::not_writable);
      break;
    case access::read_only:
      if (acc != access_read_only && acc != access_read_write) return refuse(verdict::write_only);
      if (acc == access_read_write && !write_sealed) return refuse(verdict::writable);
      break;
    case access::immutable:
      // F_SEAL_FUTURE_WRITE is not enough: the sender's existing writable mapping survives it.
      if (!has(f.seals, seal_write)) return refuse(verdict::missing_write_seal);
      if (acc != access_read_only && acc != access_read_write) return refuse(verdict::write_only);
      break;
    default:
      return d;  // an access value outside the enum: bad_request
  }

  if (f.size < 0 || static_cast<std::uint64_t>(f.size) < r.min_len)
    return refuse(verdict::too_small);
  const std::uint64_t size = static_cast<std::uint64_t>(f.size);
  d.map_len = static_cast<std::size_t>(size < r.max_len ? size : r.max_len);
  d.map_writable = r.mode == access::read_write;
  d.why = verdict::ok;
  return d;
}

errc to_error(verdict v) noexcept {
  switch (v) {
    case verdict::path_only:
    case verdict::not_regular:
    case verdict::not_sealable:
    case verdict::wrong_filesystem:
      return errc::badshm;
    case verdict::missing_size_seals:
    case verdict::missing_write_seal:
      return errc::notsealed;
    case verdict::write_only:
    case verdict::writable:
    case verdict::not_writable:
      return errc::shmaccess;
    case verdict::too_small:
      return errc::shmsize;
    case verdict::ok:
    case verdict::bad_request:
    default:
      return errc::invalid;
  }
}

const char* to_string(verdict v) noexcept {
  switch (v) {
    case verdict::ok:
      return "ok";
    case verdict::bad_request:
      return "bad request";
    case verdict::path_only:
      return "O_PATH descriptor";
    case verdict::not_regular:
      return "not a regular file";
    case verdict::not_sealable:
      return "not a memfd (F_GET_SEALS failed)";
    case verdict::wrong_filesystem:
      return "not on tmpfs";
    case verdict::missing_size_seals:
      return "shrink or grow seal missing";
    case verdict::missing_write_seal:
      return "write seal missing";
    case verdict::write_only:
      return "write-only descriptor";
    case verdict::writable:
      return "writable where read-only was expected";
    case verdict::not_writable:
      return "not writable where writable was expected";
    case verdict::too_small:
      return "smaller than expected";
  }
  return "unknown";
}

}  // namespace mon::shm
