// SPDX-License-Identifier: MIT
// Helpers shared by the benchmark files: sockets, pinning, the frame header a raw twin writes, and
// latency percentiles. Benchmark code aborts on a setup failure: a figure from a broken setup is
// worse than none.
#pragma once

#include <sched.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "support/alloc_count.hpp"

namespace bench {

[[noreturn]] inline void die(const char* what) {
  std::perror(what);
  std::abort();
}
inline void check(bool ok, const char* what) {
  if (!ok) die(what);
}

// The payload every fd-throughput benchmark carries (raw, monitor and peers alike).
inline constexpr std::size_t payload_len = 32;
inline const std::array<unsigned char, payload_len>& payload() {
  static const std::array<unsigned char, payload_len> p = [] {
    std::array<unsigned char, payload_len> a{};
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<unsigned char>('a' + i % 26);
    return a;
  }();
  return p;
}

// The 8-byte frame header of docs/PROTOCOL.md, written by the raw twins so the bytes on the wire
// are the library's to the byte.
inline std::array<unsigned char, 8> frame_header(unsigned num_fds, std::uint32_t len) {
  return {'m',
          'F',
          1,
          static_cast<unsigned char>(num_fds),
          static_cast<unsigned char>(len >> 24),
          static_cast<unsigned char>(len >> 16),
          static_cast<unsigned char>(len >> 8),
          static_cast<unsigned char>(len)};
}

inline std::array<int, 2> socket_pair(int type) {
  std::array<int, 2> sv{};
  check(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv.data()) == 0, "socketpair");
  return sv;
}

// A listening AF_UNIX socket on a fresh abstract address (nothing left in the file system).
struct listener {
  int fd = -1;
  sockaddr_un addr{};
  socklen_t addr_len = 0;
  explicit listener(int type, int backlog = 4096, bool nonblock = false) {
    static int serial = 0;
    fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    check(fd >= 0, "socket");
    addr.sun_family = AF_UNIX;
    const int n = std::snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "monitor-bench-%d-%d",
                                static_cast<int>(::getpid()), ++serial);
    addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
    check(::bind(fd, reinterpret_cast<sockaddr*>(&addr), addr_len) == 0, "bind");
    check(::listen(fd, backlog) == 0, "listen");
  }
  ~listener() { ::close(fd); }
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;
  // A new socket connected to this listener (blocking unless asked).
  [[nodiscard]] int connect_one(int type, bool nonblock = false) const {
    const int c = ::socket(AF_UNIX, type | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    check(c >= 0, "socket");
    check(::connect(c, reinterpret_cast<const sockaddr*>(&addr), addr_len) == 0, "connect");
    return c;
  }
};

// Warm-up operations before a timed loop: n, or a tenth of it with MONITOR_BENCH_QUICK=1 (CI's
// run, whose figures are noise anyway: it only has to run every benchmark, fast).
inline long warmup(long n) {
  static const bool quick = [] {
    const char* q = std::getenv("MONITOR_BENCH_QUICK");
    return q != nullptr && std::strcmp(q, "1") == 0;
  }();
  return quick ? std::max(1L, n / 10) : n;
}

// Pins the calling thread to one CPU (the pinned latency figures run both ends on CPU 0).
inline void pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  check(::sched_setaffinity(0, sizeof set, &set) == 0, "sched_setaffinity");
}
inline void unpin() {
  cpu_set_t set;
  CPU_ZERO(&set);
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  for (long i = 0; i < n && i < CPU_SETSIZE; ++i) CPU_SET(static_cast<int>(i), &set);
  check(::sched_setaffinity(0, sizeof set, &set) == 0, "sched_setaffinity");
}

using clock = std::chrono::steady_clock;
inline double seconds_since(clock::time_point t0) {
  return std::chrono::duration<double>(clock::now() - t0).count();
}

// Per-iteration latencies, preallocated so recording allocates nothing in the timed loop.
class latency_samples {
 public:
  latency_samples() { ns_.reserve(1 << 20); }
  void add(clock::duration d) {
    if (ns_.size() < ns_.capacity())
      ns_.push_back(
          static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()));
  }
  // Sets the p50_us, p90_us and p99_us counters (ci/bench.sh reports median and p99). With
  // MONITOR_BENCH_SAMPLES=<dir> in the environment it also writes the percentiles 0..100 of this
  // run to <dir>/<name with '/' as '_'>.txt, for the latency-distribution plot.
  void report(benchmark::State& state, const std::string& name) {
    if (ns_.empty()) return;
    std::sort(ns_.begin(), ns_.end());
    auto at = [&](double q) {
      return ns_[static_cast<std::size_t>(q * static_cast<double>(ns_.size() - 1))];
    };
    state.counters["p50_us"] = at(0.50) / 1000.0;
    state.counters["p90_us"] = at(0.90) / 1000.0;
    state.counters["p99_us"] = at(0.99) / 1000.0;
    const char* dir = std::getenv("MONITOR_BENCH_SAMPLES");
    if (dir == nullptr || *dir == 0) return;
    std::string file = name;
    std::replace(file.begin(), file.end(), '/', '_');
    if (FILE* f = std::fopen((std::string(dir) + "/" + file + ".txt").c_str(), "w")) {
      for (int pct = 0; pct <= 100; ++pct)
        std::fprintf(f, "%d %.3f\n", pct, at(pct / 100.0) / 1000.0);
      std::fclose(f);
    }
  }

 private:
  std::vector<double> ns_;
};

// Heap allocations per operation over a span of the benchmark.
class alloc_meter {
 public:
  void start() { start_ = allocations(); }
  // Allocations since start(), to compute several figures before the counters map allocates.
  [[nodiscard]] double taken() const { return static_cast<double>(allocations() - start_); }
  void report(benchmark::State& state, double ops, const char* name = "allocs_per_op") {
    const double n = static_cast<double>(allocations() - start_);
    const double per_op = ops > 0 ? n / ops : 0.0;  // computed before the map insert allocates
    state.counters[name] = per_op;
  }

 private:
  std::uint64_t start_ = 0;
};

}  // namespace bench
