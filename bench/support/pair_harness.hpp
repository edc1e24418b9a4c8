// SPDX-License-Identifier: MIT
// The fd-throughput harness shared by the library, its raw twins and the peers: one socket pair, a
// sender in the benchmark thread and a receiver in another thread or a forked process. Every
// message is the same 8-byte frame header + 32-byte payload with n descriptors (copies of one
// /dev/null descriptor); the receiver takes them close-on-exec and closes each one.
//
// A Sender is constructed as Sender(fd, socket_type, fds) and has send(); a Receiver is
// constructed as Receiver(fd, socket_type, num_fds) and has bool receive() (false at end of file).
// A batch end (support/fd_batch_impls.hpp) takes the batch size as a fourth constructor argument:
// its send() moves `batch` messages and its receive() returns how many messages it took (0 at end
// of file). One benchmark iteration is one send(): one message, or one batch.
// Throughput counts from the first timed send until the receiver has taken the last message.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
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

// "<impl>_b<batch>" for a batch row: it stays in the one-at-a-time group, beside `raw`.
inline std::string batch_impl_name(const char* impl, std::size_t batch) {
  return std::string(impl) + "_b" + std::to_string(batch);
}

// Builds a sender or receiver, passing the batch size to the ends that take one.
template <class End, class... Args>
End make_end(std::size_t batch, Args... args) {
  if constexpr (std::is_constructible_v<End, Args..., std::size_t>) {
    return End(args..., batch);
  } else {
    check(batch == 1, "a one-at-a-time end cannot batch");
    return End(args...);
  }
}

template <class Sender, class Receiver>
void run_fd_pair(benchmark::State& state, int type, pair_kind kind, int nfds,
                 std::size_t batch = 1) {
  auto sv = socket_pair(type);
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  check(devnull >= 0, "open /dev/null");
  std::vector<int> fds(static_cast<std::size_t>(nfds), devnull);

  // Warm-up: buffers sized, caches filled: 2000 descriptors' worth of messages (at least 32),
  // whatever the batch.
  const auto warm_msgs = static_cast<std::uint64_t>(warmup(std::max(32, 2000 / std::max(nfds, 1))));
  const std::uint64_t warm_sends = (warm_msgs + batch - 1) / batch;

  // The receiver takes the warm-up, says so, and the timed loop starts only then: nothing of its
  // start-up (constructor, first-message growth) falls in the timed span or the allocation count.
  // It stamps the end of the span itself, when it sees end of file after the last message: the
  // time a thread takes to join or a process to exit is not the messages' time.
  const std::uint64_t warm_total = warm_sends * batch;
  auto receive_warmup = [&](auto& r) {
    std::uint64_t got = 0;
    while (got < warm_total) {
      const auto k = static_cast<std::uint64_t>(r.receive());
      check(k > 0, "receiver: end of file during the warm-up");
      got += k;
    }
    return got;
  };
  std::atomic<bool> warmed{false};
  std::atomic<std::uint64_t> received{0};
  std::atomic<clock::rep> end_ticks{0};
  std::thread thread;
  pid_t child = -1;
  int report[2] = {-1, -1};  // a forked receiver: "warmed", then its allocations and end stamp
  struct child_report {
    std::uint64_t allocs;
    clock::rep end;
  };
  if (kind == pair_kind::process) {
    check(::pipe2(report, O_CLOEXEC) == 0, "pipe2");
    child = ::fork();
    check(child >= 0, "fork");
    if (child == 0) {
      ::close(sv[0]);
      ::close(report[0]);
      child_report out{};
      bool ok = true;
      {
        auto r = make_end<Receiver>(batch, sv[1], type, nfds);
        receive_warmup(r);
        const char w = 'w';
        ok = ::write(report[1], &w, 1) == 1;
        const std::uint64_t before = allocations();
        while (r.receive()) {
        }
        out.end = clock::now().time_since_epoch().count();  // steady: one clock for both
        out.allocs = allocations() - before;
      }
      ok = ok && ::write(report[1], &out, sizeof out) == sizeof out;
      ::_exit(ok ? 0 : 1);
    }
    ::close(sv[1]);
    ::close(report[1]);
  } else {
    thread = std::thread([&] {
      std::uint64_t n = 0;
      {
        auto r = make_end<Receiver>(batch, sv[1], type, nfds);
        n = receive_warmup(r);
        warmed.store(true, std::memory_order_release);
        while (const auto k = r.receive()) n += static_cast<std::uint64_t>(k);
        end_ticks.store(clock::now().time_since_epoch().count());
      }
      received.store(n);
      ::close(sv[1]);
    });
  }

  alloc_meter allocs;
  clock::time_point t0;
  {
    auto s = make_end<Sender>(batch, sv[0], type, std::span<const int>(fds));
    for (std::uint64_t i = 0; i < warm_sends; ++i) s.send();
    if (kind == pair_kind::process) {
      char w = 0;
      check(::read(report[0], &w, 1) == 1 && w == 'w', "receiver process: warm-up");
    } else {
      while (!warmed.load(std::memory_order_acquire)) std::this_thread::yield();
    }
    allocs.start();
    t0 = clock::now();
    for (auto _ : state) s.send();
  }
  ::close(sv[0]);                     // end of file ends the receiver
  std::uint64_t receiver_allocs = 0;  // a thread receiver's are in this process's count already
  clock::rep end = 0;
  if (kind == pair_kind::process) {
    int status = 0;
    check(::waitpid(child, &status, 0) == child, "waitpid");
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "receiver process failed");
    child_report in{};
    check(::read(report[0], &in, sizeof in) == sizeof in, "receiver's report");
    ::close(report[0]);
    receiver_allocs = in.allocs;
    end = in.end;
  } else {
    thread.join();
    check(received.load() == (static_cast<std::uint64_t>(state.iterations()) + warm_sends) * batch,
          "receiver lost messages");
    end = end_ticks.load();
  }
  const double elapsed =
      std::chrono::duration<double>(clock::duration(end) - t0.time_since_epoch()).count();
  ::close(devnull);

  const auto sends = static_cast<double>(state.iterations());
  const double msgs = sends * static_cast<double>(batch);
  // Both ends (a forked receiver reported its own). Read before the counters map allocates.
  const double allocs_taken = allocs.taken() + static_cast<double>(receiver_allocs);
  state.counters["allocs_per_op"] = msgs > 0 ? allocs_taken / msgs : 0.0;
  if (batch > 1 || std::is_constructible_v<Sender, int, int, std::span<const int>, std::size_t>)
    state.counters["allocs_per_batch"] = sends > 0 ? allocs_taken / sends : 0.0;
  state.counters["msgs_per_s"] = msgs / elapsed;
  state.counters["fds_per_s"] = msgs * nfds / elapsed;
  state.counters["batch"] = static_cast<double>(batch);
  state.SetItemsProcessed(static_cast<std::int64_t>(msgs));
}

}  // namespace bench
