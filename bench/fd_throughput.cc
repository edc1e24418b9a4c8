// SPDX-License-Identifier: MIT
// Descriptor-passing throughput: monitor (C ABI and C++ API) against the raw sendmsg/recvmsg twins
// of support/fd_impls.hpp, on SOCK_STREAM and SOCK_SEQPACKET, between two threads and between two
// processes, with 1, 16 and 253 descriptors per message. Beside them: raw_secure (the same checks
// as monitor, by hand: support/fd_secure_impls.hpp) and, 1 descriptor per message, the batch
// twins raw_mmsg_b<N> (sendmmsg/recvmmsg, N messages per call: support/fd_batch_impls.hpp).
#include "support/fd_batch_impls.hpp"
#include "support/fd_impls.hpp"
#include "support/fd_secure_impls.hpp"
#include "support/pair_harness.hpp"

namespace {

using namespace bench::fdimpl;

constexpr std::size_t batch_sizes[] = {1, 4, 16, 64};

template <class S, class R>
void add(int type, bench::pair_kind kind, int nfds, const std::string& impl,
         std::size_t batch = 1) {
  benchmark::RegisterBenchmark(
      bench::fd_bench_name(type, kind, nfds, impl.c_str()).c_str(),
      [=](benchmark::State& st) { bench::run_fd_pair<S, R>(st, type, kind, nfds, batch); })
      ->UseRealTime()
      ->MeasureProcessCPUTime();
}

// One row per batch size, named <impl>_b<N>, in the 1-descriptor group of (type, kind).
template <class S, class R>
void add_batches(int type, bench::pair_kind kind, const char* impl) {
  for (std::size_t b : batch_sizes) add<S, R>(type, kind, 1, bench::batch_impl_name(impl, b), b);
}

[[maybe_unused]] const bool registered = [] {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    for (auto kind : {bench::pair_kind::thread, bench::pair_kind::process}) {
      add<raw_sender, raw_receiver>(type, kind, 1, "raw");
      if (type == SOCK_STREAM) add<raw_sender, raw_framed_receiver>(type, kind, 1, "raw_framed");
      add<raw_sender, raw_secure_receiver>(type, kind, 1, "raw_secure");
      add<mon_c_sender, mon_c_receiver>(type, kind, 1, "monitor_c");
      add<mon_cpp_sender, mon_cpp_receiver>(type, kind, 1, "monitor_cpp");
      add_batches<raw_mmsg_sender, raw_mmsg_receiver>(type, kind, "raw_mmsg");
      // monitor's batch rows (issue 15): report.py shows x raw and x mmsg (raw_mmsg_b<N>).
      add_batches<mon_cpp_batch_sender, mon_cpp_batch_receiver>(type, kind, "monitor_cpp_batch");
      add_batches<mon_c_batch_sender, mon_c_batch_receiver>(type, kind, "monitor_c_batch");
    }
    // Many descriptors per message, thread pairs.
    for (int nfds : {16, 253}) {
      add<raw_sender, raw_receiver>(type, bench::pair_kind::thread, nfds, "raw");
      add<raw_sender, raw_secure_receiver>(type, bench::pair_kind::thread, nfds, "raw_secure");
      add<mon_cpp_sender, mon_cpp_receiver>(type, bench::pair_kind::thread, nfds, "monitor_cpp");
#ifdef MON_BENCH_C_MULTI_FD  // set by bench/CMakeLists.txt once monitor.h declares mon_ipc_send_fds
      add<mon_c_multi_sender, mon_c_multi_receiver>(type, bench::pair_kind::thread, nfds,
                                                    "monitor_c");
#endif
    }
  }
  return true;
}();

}  // namespace
