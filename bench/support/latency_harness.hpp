// SPDX-License-Identifier: MIT
// The blocking handshake-latency harness shared by monitor, its raw twins and the peers.
// client(fd) and server(fd) each run one side to the end on a connected blocking socket.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <string>
#include <thread>

#include "support/bench_util.hpp"

namespace bench {

// "hs/latency/<pinned|unpinned>/<impl>": ratios within a group, against "raw".
inline std::string latency_bench_name(bool pinned, const char* impl) {
  return std::string("hs/latency/") + (pinned ? "pinned/" : "unpinned/") + impl;
}

template <class Client, class Server>
void run_latency(benchmark::State& state, const std::string& name, bool pinned, Client client,
                 Server server) {
  listener l(SOCK_STREAM, 128);
  std::atomic<bool> stop{false};
  std::thread srv([&] {
    if (pinned) pin_to_cpu(0);
    for (;;) {
      const int c = ::accept4(l.fd, nullptr, nullptr, SOCK_CLOEXEC);
      check(c >= 0, "accept4");
      if (stop.load()) {
        ::close(c);
        return;
      }
      server(c);
      ::close(c);
    }
  });
  if (pinned) pin_to_cpu(0);
  auto once = [&] {
    const int c = l.connect_one(SOCK_STREAM);
    client(c);
    ::close(c);
  };
  for (long i = 0; i < warmup(200); ++i) once();

  latency_samples samples;
  alloc_meter allocs;
  allocs.start();
  for (auto _ : state) {
    const auto t0 = clock::now();
    const int c = l.connect_one(SOCK_STREAM);
    client(c);
    samples.add(clock::now() - t0);
    ::close(c);
  }
  // Both sides run in this process: the count is client + server per handshake.
  allocs.report(state, static_cast<double>(state.iterations()), "allocs_per_hs");
  stop.store(true);
  ::close(l.connect_one(SOCK_STREAM));
  srv.join();
  if (pinned) unpin();
  samples.report(state, name);
}

// Registers hs/latency/pinned/<impl> and hs/latency/unpinned/<impl>, each calling
// run(state, name, pinned): the one registration for monitor, its twins and every peer.
template <class Run>
void register_latency(const char* impl, Run run) {
  for (bool pinned : {true, false}) {
    const std::string name = latency_bench_name(pinned, impl);
    benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
      run(st, name, pinned);
    })->UseRealTime();
  }
}

// The usual case: Client(fd) and Server(fd) with step(), run to the end on blocking sockets.
template <class Client, class Server>
void register_latency_pair(const char* impl) {
  register_latency(impl, [](benchmark::State& st, const std::string& name, bool pinned) {
    run_latency(
        st, name, pinned,
        [](int fd) {
          Client c(fd);
          (void)c.step();
        },
        [](int fd) {
          Server s(fd);
          (void)s.step();
        });
  });
}

}  // namespace bench
