// SPDX-License-Identifier: MIT
// The same structure-aware mutators for AFL++ (AFL_CUSTOM_MUTATOR_LIBRARY). AFL++'s libFuzzer
// driver (Debian's libAFLDriver.a) never calls LLVMFuzzerCustomMutator, so this shim exposes the
// mutate function MON_FUZZ_MUTATE names through AFL++'s custom mutator interface, as a shared
// library per target (ci/afl.sh builds it; fuzz/README.md). Its byte-level fallback is the small
// havoc of mutator_support.hpp; AFL++ runs its own havoc stage besides (AFL_CUSTOM_MUTATOR_ONLY
// unset).
#include <cstdlib>
#include <new>

#include "frame_stream.hpp"
#include "handshake_transcript.hpp"

#ifndef MON_FUZZ_MUTATE
#error "MON_FUZZ_MUTATE must name the target's mutate function"
#endif

namespace {

struct state {
  mon::fuzz::mut::rng r;
  mon::fuzz::mut::bytes buf;
};

}  // namespace

extern "C" void* afl_custom_init(void* /*afl*/, unsigned int seed) {
  return new (std::nothrow) state{mon::fuzz::mut::rng(seed), {}};
}

extern "C" std::size_t afl_custom_fuzz(void* data, std::uint8_t* buf, std::size_t buf_size,
                                       std::uint8_t** out_buf, std::uint8_t* /*add_buf*/,
                                       std::size_t /*add_buf_size*/, std::size_t max_size) {
  namespace mut = mon::fuzz::mut;
  auto* s = static_cast<state*>(data);
  // The mutators work in place: a buffer we own, handed back to AFL++. Room to grow is bounded
  // well below AFL++'s max_size (1 MB), which would cost a megabyte of copying per call; no edit
  // more than doubles an input (a duplicated frame) or adds more than a few hundred bytes.
  std::size_t room = 2 * buf_size + 4096;
  if (room > max_size) room = max_size > buf_size ? max_size : buf_size;
  s->buf.assign(buf, buf + buf_size);
  s->buf.resize(room);
  const auto seed = static_cast<unsigned int>(s->r.next());
  const std::size_t n =
      mut::MON_FUZZ_MUTATE(mut::request{s->buf.data(), buf_size, s->buf.size(), seed, mut::havoc});
  *out_buf = s->buf.data();
  return n;
}

extern "C" void afl_custom_deinit(void* data) { delete static_cast<state*>(data); }
