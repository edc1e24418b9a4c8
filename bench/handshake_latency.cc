// SPDX-License-Identifier: MIT
// Handshake latency on blocking sockets, connect() -> authenticated, seen by the client: the client
// (the benchmark thread) connects to a listener, runs its side, and the clock stops when the
// server's accept is read; a server thread accepts and runs its side. Median and p99 come from
// every iteration's duration (counters p50_us, p99_us). "pinned" runs both threads on CPU 0, which
// removes the cross-CPU wake-ups that dominate an unpinned round trip on a small VM.
//
// Implementations (support/hs_impls.hpp): raw (one round trip with SCM_CREDENTIALS + SO_PEERCRED),
// raw_secure (the same round trip with monitor's checks, by hand: support/hs_secure_impls.hpp),
// peercred_floor (SO_PEERCRED alone, no hello), monitor_c (C ABI), monitor_cpp (C++ API); peers in
// their own files register the same way (bench::register_latency).
#include "support/hs_impls.hpp"
#include "support/hs_secure_impls.hpp"
#include "support/latency_harness.hpp"

namespace {

using namespace bench::hsimpl;

[[maybe_unused]] const bool registered = [] {
  bench::register_latency_pair<peercred_client, peercred_server>("peercred_floor");
  bench::register_latency_pair<raw_client, raw_server>("raw");
  bench::register_latency_pair<raw_secure_client, raw_secure_server>("raw_secure");
  bench::register_latency_pair<mon_c_client, mon_c_server>("monitor_c");
  bench::register_latency_pair<mon_cpp_client, mon_cpp_server>("monitor_cpp");
  return true;
}();

}  // namespace
