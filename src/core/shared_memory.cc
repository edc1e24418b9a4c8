// SPDX-License-Identifier: MIT
// mon::shared_memory: runs shm::check over the facts sys::inspect gathered, and maps only what it
// approved. The segment is built completely before it is handed out, so an error never leaves a
// half-made one behind.
#include <limits>
#include <utility>

#include "monitor/shm.hpp"
#include "shm/validate.hpp"
#include "sys/discard.hpp"
#include "sys/memfd.hpp"

namespace mon {

namespace {

constexpr unsigned known_seals = MON_SHM_SEAL_WRITE | MON_SHM_SEAL_FUTURE_WRITE | MON_SHM_SEAL_SEAL;

std::uint32_t kernel_seals(unsigned seals) noexcept {
  std::uint32_t k = 0;
  if ((seals & MON_SHM_SEAL_WRITE) != 0) k |= shm::seal_write;
  if ((seals & MON_SHM_SEAL_FUTURE_WRITE) != 0) k |= shm::seal_future_write;
  if ((seals & MON_SHM_SEAL_SEAL) != 0) k |= shm::seal_seal;
  return k;
}

bool to_access(shm_access a, shm::access& out) noexcept {
  switch (a) {
    case shm_access::read_write:
      out = shm::access::read_write;
      return true;
    case shm_access::read_only:
      out = shm::access::read_only;
      return true;
    case shm_access::immutable:
      out = shm::access::immutable;
      return true;
  }
  return false;
}

}  // namespace

shared_memory::shared_memory(shared_memory&& other) noexcept
    : addr_(std::exchange(other.addr_, nullptr)),
      len_(std::exchange(other.len_, 0)),
      writable_(std::exchange(other.writable_, false)),
      fd_(std::move(other.fd_)) {}

shared_memory& shared_memory::operator=(shared_memory&& other) noexcept {
  if (this != &other) {
    reset();
    addr_ = std::exchange(other.addr_, nullptr);
    len_ = std::exchange(other.len_, 0);
    writable_ = std::exchange(other.writable_, false);
    fd_ = std::move(other.fd_);
  }
  return *this;
}

void shared_memory::reset() noexcept {
  sys::unmap(addr_, len_);
  addr_ = nullptr;
  len_ = 0;
  writable_ = false;
  fd_.reset();
}

result<shared_memory> shared_memory::create(std::size_t size) noexcept {
  if (size == 0 || size > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()))
    return errc::invalid;
  auto fd = sys::memfd_create_sealable();
  if (!fd) return fd.err();
  if (auto r = sys::truncate(fd.value().get(), size); !r) return r.err();
  // Sealed before anyone else can see the descriptor: from here on its size is a fact.
  if (auto r = sys::add_seals(fd.value().get(), shm::seal_shrink | shm::seal_grow); !r)
    return r.err();
  auto addr = sys::map(fd.value().get(), size, true);
  if (!addr) return addr.err();
  shared_memory s;
  s.addr_ = addr.value();
  s.len_ = size;
  s.writable_ = true;
  s.fd_ = std::move(fd.value());
  return s;
}

result<shared_memory> shared_memory::map(unique_fd fd, std::size_t min_len, std::size_t max_len,
                                         shm_access access) noexcept {
  // fd is ours from here, and usually a peer's: every refusal below disposes of it without a
  // close on this thread (a peer's file on a FUSE mount could stall it; sys/discard.hpp), unless
  // it moved into the segment.
  auto refuse = [&fd](error e) -> result<shared_memory> {
    sys::discard(fd);
    return e;
  };
  shm::request req;
  req.min_len = min_len;
  req.max_len = max_len;
  if (!to_access(access, req.mode) || !fd.valid()) return refuse({errc::invalid, 0});
  auto facts = sys::inspect(fd.get());
  if (!facts) return refuse(facts.err());
  const shm::decision d = shm::check(facts.value(), req);
  if (d.why != shm::verdict::ok) return refuse({shm::to_error(d.why), 0});
  auto addr = sys::map(fd.get(), d.map_len, d.map_writable);
  if (!addr) return refuse(addr.err());
  shared_memory s;
  s.addr_ = addr.value();
  s.len_ = d.map_len;
  s.writable_ = d.map_writable;
  s.fd_ = std::move(fd);
  return s;
}

result<void> shared_memory::seal(unsigned seals) noexcept {
  if (!valid() || seals == 0 || (seals & ~known_seals) != 0) return errc::invalid;
  const std::uint32_t k = kernel_seals(seals);
  if ((seals & MON_SHM_SEAL_WRITE) == 0 || !writable_) return sys::add_seals(fd_.get(), k);

  // The kernel refuses F_SEAL_WRITE (EBUSY) while a shared mapping that could be made writable
  // exists, ours included, even PROT_READ. Swap ours for a private read-only view first (it sees
  // the same pages, and after the seal they never change), and swap back if the seal is refused.
  auto ro = sys::map_private_read(fd_.get(), len_);
  if (!ro) return ro.err();
  sys::unmap(addr_, len_);
  addr_ = ro.value();
  writable_ = false;
  auto sealed = sys::add_seals(fd_.get(), k);
  if (sealed) return sealed;
  if (auto rw = sys::map(fd_.get(), len_, true)) {
    sys::unmap(addr_, len_);
    addr_ = rw.value();
    writable_ = true;
  }
  return sealed;
}

}  // namespace mon
