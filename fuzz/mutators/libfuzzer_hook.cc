// SPDX-License-Identifier: MIT
// libFuzzer's hook for a structure-aware mutator: linked into a target only under an engine (the
// replay build never mutates), with MON_FUZZ_MUTATE naming the target's mutate function
// (fuzz/CMakeLists.txt). MON_FUZZ_BYTE_MUTATOR=1 in the environment turns it off (libFuzzer's own
// byte-level mutations only), so one binary can be measured both ways (fuzz/README.md).
#include <cstdlib>

#include "frame_stream.hpp"
#include "handshake_transcript.hpp"

#ifndef MON_FUZZ_MUTATE
#error "MON_FUZZ_MUTATE must name the target's mutate function"
#endif

// Weak: an engine that does not provide it (honggfuzz) gets the small havoc instead.
extern "C" __attribute__((weak)) std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size,
                                                              std::size_t max_size);

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned int seed) {
  namespace mut = mon::fuzz::mut;
  const mut::byte_mutator fallback = LLVMFuzzerMutate != nullptr ? LLVMFuzzerMutate : mut::havoc;
  static const bool bytes_only = [] {
    const char* v = std::getenv("MON_FUZZ_BYTE_MUTATOR");
    return v != nullptr && v[0] == '1';
  }();
  if (bytes_only) return fallback(data, size, max_size);
  return mut::MON_FUZZ_MUTATE(mut::request{data, size, max_size, seed, fallback});
}
