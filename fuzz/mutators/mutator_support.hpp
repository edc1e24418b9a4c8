// SPDX-License-Identifier: MIT
// Shared by the structure-aware mutators (fuzz/mutators/*.cc): a seeded random source, a lossless
// cursor over a target's input, a writer for re-encoding, and the byte-level mutator every
// structured mutation falls back to (LLVMFuzzerMutate under libFuzzer, a small havoc under the
// AFL++ shim).
//
// Every mutator here follows one contract: decode(x) keeps every byte of x (what it cannot place
// in the structure is kept as a raw tail), so encode(decode(x)) == x for every x; tests/ checks
// that on random inputs and on the seed corpora (fuzz_mutator_codec_test).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace mon::fuzz::mut {

using bytes = std::vector<std::uint8_t>;

// Mutates data[0, size) in place within max_size bytes; returns the new size.
using byte_mutator = std::size_t (*)(std::uint8_t* data, std::size_t size, std::size_t max_size);

// One mutation request: the input, its room, the seed the engine gave, the fallback.
struct request {
  std::uint8_t* data;
  std::size_t size;
  std::size_t max_size;
  unsigned int seed;
  byte_mutator fallback;
};

// One crossover request: two parents, the output buffer and its room, the seed.
struct cross_request {
  std::span<const std::uint8_t> a, b;
  std::uint8_t* out;
  std::size_t max_out;
  unsigned int seed;
};

// Writes a re-encoded child; 0 (libFuzzer then keeps its own crossover) when it does not fit.
inline std::size_t finish_child(const std::vector<std::uint8_t>& child, const cross_request& req) {
  if (child.empty() || child.size() > req.max_out) return 0;
  std::memcpy(req.out, child.data(), child.size());
  return child.size();
}

// xorshift64*: deterministic for a seed, so the engine can replay a mutation.
class rng {
 public:
  explicit rng(unsigned int seed) noexcept : s_(0x9e3779b97f4a7c15ULL ^ seed) {
    if (s_ == 0) s_ = 1;
  }
  std::uint64_t next() noexcept {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545f4914f6cdd1dULL;
  }
  // Uniform in [0, n) (n > 0).
  std::size_t below(std::size_t n) noexcept { return n ? static_cast<std::size_t>(next() % n) : 0; }
  bool one_in(std::size_t n) noexcept { return below(n) == 0; }
  std::uint8_t byte() noexcept { return static_cast<std::uint8_t>(next()); }

 private:
  std::uint64_t s_;
};

// Reads a target's input front to back without losing a byte: a field that does not fit is not
// read (the caller then keeps what remains as the raw tail).
class cursor {
 public:
  explicit cursor(std::span<const std::uint8_t> in) noexcept : in_(in) {}
  [[nodiscard]] std::size_t remaining() const noexcept { return in_.size(); }
  [[nodiscard]] bool empty() const noexcept { return in_.empty(); }
  bool u8(std::uint8_t& v) noexcept {
    if (in_.empty()) return false;
    v = in_[0];
    in_ = in_.subspan(1);
    return true;
  }
  bool u16(std::uint16_t& v) noexcept {
    if (in_.size() < 2) return false;
    v = static_cast<std::uint16_t>((in_[0] << 8) | in_[1]);
    in_ = in_.subspan(2);
    return true;
  }
  // Up to n bytes: fewer when the input runs out (as the targets' fz::input::bytes).
  bytes take(std::size_t n) {
    if (n > in_.size()) n = in_.size();
    bytes out(n);
    if (n) std::memcpy(out.data(), in_.data(), n);
    in_ = in_.subspan(n);
    return out;
  }
  bool exact(std::size_t n, bytes& out) {
    if (in_.size() < n) return false;
    out = take(n);
    return true;
  }
  bytes rest() { return take(in_.size()); }

 private:
  std::span<const std::uint8_t> in_;
};

inline void put_u8(bytes& b, unsigned v) { b.push_back(static_cast<std::uint8_t>(v)); }
inline void put_u16(bytes& b, unsigned v) {
  put_u8(b, (v >> 8) & 0xff);
  put_u8(b, v & 0xff);
}
inline void put_u32(bytes& b, std::uint32_t v) {
  put_u16(b, v >> 16);
  put_u16(b, v & 0xffff);
}
inline void append(bytes& b, std::span<const std::uint8_t> more) {
  b.insert(b.end(), more.begin(), more.end());
}

// Runs the byte-level fallback on a field (a payload, a body) with room to grow by up to `grow`.
inline void mutate_bytes(bytes& b, const request& req, std::size_t grow) {
  const std::size_t size = b.empty() ? 1 : b.size();  // byte mutators want at least one byte
  b.resize(size + grow, 0);
  const std::size_t n = req.fallback(b.data(), size, b.size());
  b.resize(n <= b.size() ? n : b.size());
}

// Writes the re-encoded input back, or falls back to the byte mutator when it does not fit.
inline std::size_t finish(const bytes& out, const request& req) {
  if (out.empty() || out.size() > req.max_size)
    return req.fallback(req.data, req.size, req.max_size);
  std::memcpy(req.data, out.data(), out.size());
  return out.size();
}

// Split points for `total` bytes cut into reads: each piece 1..total; more small pieces than
// large ones, since short reads are where partial-header bugs live.
inline std::vector<std::size_t> random_split(std::size_t total, rng& r) {
  std::vector<std::size_t> pieces;
  while (total > 0) {
    std::size_t n;
    switch (r.below(4)) {
      case 0:
        n = 1;
        break;
      case 1:
        n = 1 + r.below(total < 8 ? total : 8);
        break;
      default:
        n = r.one_in(3) ? total : 1 + r.below(total);
    }
    pieces.push_back(n);
    total -= n;
  }
  return pieces;
}

// A small byte-level mutator for engines that give none (the AFL++ shim, an engine without
// LLVMFuzzerMutate): flip a bit, set a byte, an interesting value, insert or erase a byte.
inline std::size_t havoc(std::uint8_t* data, std::size_t size, std::size_t max_size) {
  static thread_local rng r(0x6d6f6e);
  const std::size_t rounds = 1 + r.below(4);
  for (std::size_t i = 0; i < rounds; ++i) {
    const std::size_t at = r.below(size ? size : 1);
    switch (r.below(5)) {
      case 0:
        if (size) data[at] ^= static_cast<std::uint8_t>(1u << r.below(8));
        break;
      case 1:
        if (size) data[at] = r.byte();
        break;
      case 2: {
        static constexpr std::uint8_t interesting[] = {0, 1, 0x7f, 0x80, 0xff, 8, 0x10, 0x20};
        if (size) data[at] = interesting[r.below(sizeof interesting)];
        break;
      }
      case 3:
        if (size < max_size) {
          std::memmove(data + at + 1, data + at, size - at);
          data[at] = r.byte();
          ++size;
        }
        break;
      default:
        if (size > 1) {
          std::memmove(data + at, data + at + 1, size - at - 1);
          --size;
        }
    }
  }
  return size;
}

}  // namespace mon::fuzz::mut
