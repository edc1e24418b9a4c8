// SPDX-License-Identifier: MIT
// A counting allocator for the benchmark binary: the malloc family is replaced here (glibc lets the
// main executable interpose it), so every heap allocation anywhere in the process — the library,
// libstdc++'s operator new, GLib, libdbus — is counted before it is forwarded to glibc. Benchmarks
// read the counter before and after their timed loop and report allocations per operation.
#include "support/alloc_count.hpp"

#include <atomic>
#include <cerrno>
#include <cstddef>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
// Relaxed: only the totals matter, and they are read after the threads that allocate have joined
// or synchronised with the reader.
std::atomic<std::uint64_t> g_allocations{0};
inline void count() noexcept { g_allocations.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

namespace bench {
std::uint64_t allocations() noexcept { return g_allocations.load(std::memory_order_relaxed); }
}  // namespace bench

extern "C" {

void* malloc(std::size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) {
  count();  // a realloc may move: counted as an allocation
  return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
void* memalign(std::size_t align, std::size_t n) {
  count();
  return __libc_memalign(align, n);
}
void* aligned_alloc(std::size_t align, std::size_t n) {
  count();
  return __libc_memalign(align, n);
}
int posix_memalign(void** out, std::size_t align, std::size_t n) {
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
  count();
  void* p = __libc_memalign(align, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

}  // extern "C"
