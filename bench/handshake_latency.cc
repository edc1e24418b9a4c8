// Handshake latency on blocking sockets, connect() -> authenticated, seen by the client: the client
// (the benchmark thread) connects to a listener, runs its side, and the clock stops when the
// server's accept is read; a server thread accepts and runs its side. Median and p99 come from
// every iteration's duration (counters p50_us, p99_us). "pinned" runs both threads on CPU 0, which
// removes the cross-CPU wake-ups that dominate an unpinned round trip on a small VM.
//
// Implementations (support/hs_impls.hpp): raw (one round trip with SCM_CREDENTIALS + SO_PEERCRED),
// peercred_floor (SO_PEERCRED alone, no hello), monitor_c (C ABI), monitor_cpp (C++ API); peers in
// their own files register under the same names.
#include <sys/socket.h>

#include <atomic>
#include <string>
#include <thread>

#include "support/hs_impls.hpp"
#include "support/latency_harness.hpp"

namespace {

using namespace bench::hsimpl;

template <class C, class S>
void add(bool pinned, const char* impl) {
  const std::string name = bench::latency_bench_name(pinned, impl);
  benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
    bench::run_latency(
        st, name, pinned,
        [](int fd) {
          C c(fd);
          (void)c.step();
        },
        [](int fd) {
          S s(fd);
          (void)s.step();
        });
  })->UseRealTime();
}

[[maybe_unused]] const bool registered = [] {
  for (bool pinned : {true, false}) {
    add<peercred_client, peercred_server>(pinned, "peercred_floor");
    add<raw_client, raw_server>(pinned, "raw");
    add<mon_c_client, mon_c_server>(pinned, "monitor_c");
    add<mon_cpp_client, mon_cpp_server>(pinned, "monitor_cpp");
  }
  return true;
}();

}  // namespace
