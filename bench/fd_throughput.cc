// Descriptor-passing throughput: monitor (C ABI and C++ API) against the raw sendmsg/recvmsg twins
// of support/fd_impls.hpp, on SOCK_STREAM and SOCK_SEQPACKET, between two threads and between two
// processes, with 1, 16 and 253 descriptors per message.
#include "support/fd_impls.hpp"
#include "support/pair_harness.hpp"

namespace {

using namespace bench::fdimpl;

template <class S, class R>
void add(int type, bench::pair_kind kind, int nfds, const char* impl) {
  benchmark::RegisterBenchmark(
      bench::fd_bench_name(type, kind, nfds, impl).c_str(),
      [=](benchmark::State& st) { bench::run_fd_pair<S, R>(st, type, kind, nfds); })
      ->UseRealTime()
      ->MeasureProcessCPUTime();
}

[[maybe_unused]] const bool registered = [] {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    for (auto kind : {bench::pair_kind::thread, bench::pair_kind::process}) {
      add<raw_sender, raw_receiver>(type, kind, 1, "raw");
      if (type == SOCK_STREAM) add<raw_sender, raw_framed_receiver>(type, kind, 1, "raw_framed");
      add<mon_c_sender, mon_c_receiver>(type, kind, 1, "monitor_c");
      add<mon_cpp_sender, mon_cpp_receiver>(type, kind, 1, "monitor_cpp");
    }
    // Many descriptors per message: the C++ API (the C ABI carries one).
    for (int nfds : {16, 253}) {
      add<raw_sender, raw_receiver>(type, bench::pair_kind::thread, nfds, "raw");
      add<mon_cpp_sender, mon_cpp_receiver>(type, bench::pair_kind::thread, nfds, "monitor_cpp");
    }
  }
  return true;
}();

}  // namespace
