// SPDX-License-Identifier: MIT
// libFuzzer's hook for a structure-aware mutator: linked into a target only under an engine (the
// replay build never mutates), with MON_FUZZ_MUTATE naming the target's mutate function
// (fuzz/CMakeLists.txt) and MON_FUZZ_CROSSOVER its crossover. MON_FUZZ_BYTE_MUTATOR=1 in the
// environment turns it off (libFuzzer's own byte-level mutations only), so one binary can be
// measured both ways (fuzz/README.md).
#include <cstdlib>

#include "frame_stream.hpp"
#include "handshake_transcript.hpp"

#if !defined(MON_FUZZ_MUTATE) || !defined(MON_FUZZ_CROSSOVER)
#error "MON_FUZZ_MUTATE and MON_FUZZ_CROSSOVER must name the target's functions"
#endif

// Weak: an engine that does not provide it (honggfuzz) gets the small havoc instead.
extern "C" __attribute__((weak)) std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size,
                                                              std::size_t max_size);

namespace {
bool bytes_only() {
  static const bool off = [] {
    const char* v = std::getenv("MON_FUZZ_BYTE_MUTATOR");
    return v != nullptr && v[0] == '1';
  }();
  return off;
}
}  // namespace

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned int seed) {
  namespace mut = mon::fuzz::mut;
  const mut::byte_mutator fallback = LLVMFuzzerMutate != nullptr ? LLVMFuzzerMutate : mut::havoc;
  if (bytes_only()) return fallback(data, size, max_size);
  return mut::MON_FUZZ_MUTATE(mut::request{data, size, max_size, seed, fallback});
}

// Structured crossover; 0 (no child) leaves libFuzzer's byte-level crossover, which its default
// mutators still run through LLVMFuzzerMutate.
extern "C" std::size_t LLVMFuzzerCustomCrossOver(const std::uint8_t* data1, std::size_t size1,
                                                 const std::uint8_t* data2, std::size_t size2,
                                                 std::uint8_t* out, std::size_t max_out_size,
                                                 unsigned int seed) {
  namespace mut = mon::fuzz::mut;
  if (bytes_only()) return 0;
  return mut::MON_FUZZ_CROSSOVER(
      mut::cross_request{{data1, size1}, {data2, size2}, out, max_out_size, seed});
}
