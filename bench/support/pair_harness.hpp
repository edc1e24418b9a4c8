// The fd-throughput harness shared by the library, its raw twins and the peers: one socket pair, a
// sender in the benchmark thread and a receiver in another thread or a forked process. Every
// message is the same 8-byte frame header + 32-byte payload with n descriptors (copies of one
// /dev/null descriptor); the receiver takes them close-on-exec and closes each one.
//
// A Sender is constructed as Sender(fd, socket_type, fds) and has send(); a Receiver is
// constructed as Receiver(fd, socket_type, num_fds) and has bool receive() (false at end of file).
// Throughput counts from the first timed send until the receiver has taken the last message.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>

#include <atomic>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "support/bench_util.hpp"

namespace bench {

enum class pair_kind { thread, process };

inline const char* type_name(int type) { return type == SOCK_STREAM ? "stream" : "seqpacket"; }
inline const char* pair_name(pair_kind k) { return k == pair_kind::thread ? "thread" : "process"; }

// "fd/<stream|seqpacket>/<thread|process>/<n>fd/<impl>": ci/bench.sh computes ratios within a
// group (everything before the last component) against the "raw" member.
inline std::string fd_bench_name(int type, pair_kind k, int nfds, const char* impl) {
  return std::string("fd/") + type_name(type) + "/" + pair_name(k) + "/" + std::to_string(nfds) +
         "fd/" + impl;
}

template <class Sender, class Receiver>
void run_fd_pair(benchmark::State& state, int type, pair_kind kind, int nfds) {
  auto sv = socket_pair(type);
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  check(devnull >= 0, "open /dev/null");
  std::vector<int> fds(static_cast<std::size_t>(nfds), devnull);

  std::atomic<std::uint64_t> received{0};
  std::thread thread;
  pid_t child = -1;
  if (kind == pair_kind::process) {
    child = ::fork();
    check(child >= 0, "fork");
    if (child == 0) {
      ::close(sv[0]);
      {
        Receiver r(sv[1], type, nfds);
        while (r.receive()) {
        }
      }
      ::_exit(0);
    }
    ::close(sv[1]);
  } else {
    thread = std::thread([&] {
      std::uint64_t n = 0;
      {
        Receiver r(sv[1], type, nfds);
        while (r.receive()) ++n;
      }
      received.store(n);
      ::close(sv[1]);
    });
  }

  alloc_meter allocs;
  clock::time_point t0;
  {
    Sender s(sv[0], type, std::span<const int>(fds));
    for (int i = 0; i < 2000; ++i) s.send();  // warm-up: buffers sized, caches filled
    allocs.start();
    t0 = clock::now();
    for (auto _ : state) s.send();
  }
  ::close(sv[0]);  // end of file ends the receiver
  if (kind == pair_kind::process) {
    int status = 0;
    check(::waitpid(child, &status, 0) == child, "waitpid");
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "receiver process failed");
  } else {
    thread.join();
    check(received.load() == static_cast<std::uint64_t>(state.iterations()) + 2000,
          "receiver lost messages");
  }
  const double elapsed = seconds_since(t0);
  ::close(devnull);

  const auto iters = static_cast<double>(state.iterations());
  // First, before the counters map allocates. A forked receiver's allocations happen in another
  // process: only the sender is counted then.
  allocs.report(state, iters);
  state.counters["msgs_per_s"] = iters / elapsed;
  state.counters["fds_per_s"] = iters * nfds / elapsed;
  state.SetItemsProcessed(state.iterations());
}

}  // namespace bench
