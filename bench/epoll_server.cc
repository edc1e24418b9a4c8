// SPDX-License-Identifier: MIT
// A non-blocking server on an epoll loop (its own thread) authenticates clients that keep N
// connections in flight (the benchmark thread, also on epoll). Each iteration is one completed
// handshake: handshakes/s is items_per_second. The clients are the same raw code for every server
// (monitor's hello bytes with SCM_CREDENTIALS), so only the server differs; server_cpu_us is the
// server thread's CPU time per handshake, which stays comparable when the clients are the
// bottleneck on a 2-core machine.
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "support/hs_impls.hpp"
#include "support/hs_secure_impls.hpp"

namespace {

using namespace bench::hsimpl;
using bench::check;

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void raise_fd_limit() {
  rlimit r{};
  check(::getrlimit(RLIMIT_NOFILE, &r) == 0, "getrlimit");
  if (r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &r);
  }
}

constexpr int max_fd = 8192;  // 1024 clients and their server ends, with room to spare

template <class Server>
void server_loop(int listen_fd, std::atomic<bool>& stop, std::atomic<std::uint64_t>& done,
                 double& cpu_seconds) {
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  check(ep >= 0, "epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd;
  check(::epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) == 0, "epoll_ctl");
  // One slot per descriptor number, allocated once: the C++ server then allocates nothing.
  std::unique_ptr<std::optional<Server>[]> slots(new std::optional<Server>[max_fd]);
  const double cpu0 = thread_cpu_seconds();  // the loop's cost, not the slots' set-up
  auto finish = [&](int c) {
    slots[c].reset();
    ::close(c);
    done.fetch_add(1, std::memory_order_relaxed);
  };
  epoll_event events[256];
  while (!stop.load(std::memory_order_relaxed)) {
    const int n = ::epoll_wait(ep, events, 256, 10);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listen_fd) {
        for (;;) {
          const int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;  // EAGAIN: no more waiting
          check(c < max_fd, "descriptor too large");
          slots[c].emplace(c);
          if (slots[c]->step()) {
            finish(c);
          } else {
            epoll_event cev{};
            cev.events = EPOLLIN;
            cev.data.fd = c;
            check(::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) == 0, "epoll_ctl add");
          }
        }
      } else if (slots[fd]->step()) {
        check(::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr) == 0, "epoll_ctl del");
        finish(fd);
      }
    }
  }
  cpu_seconds = thread_cpu_seconds() - cpu0;
  for (int fd = 0; fd < max_fd; ++fd)
    if (slots[fd]) {
      slots[fd].reset();
      ::close(fd);
    }
  ::close(ep);
}

// The clients: keep `concurrency` connections in flight, each sending the hello at once.
class client_pool {
 public:
  client_pool(const bench::listener& l, int concurrency) : l_(l) {
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    check(ep_ >= 0, "epoll_create1");
    for (int i = 0; i < concurrency; ++i) open_one();
  }
  ~client_pool() {
    for (int fd = 0; fd < max_fd; ++fd)
      if (open_[fd]) ::close(fd);
    ::close(ep_);
  }
  client_pool(const client_pool&) = delete;
  client_pool& operator=(const client_pool&) = delete;

  // Waits until one more handshake has completed (and replaces its connection).
  void wait_one() {
    while (ready_ == 0) {
      if (to_open_ > 0) {
        --to_open_;
        open_one();
      } else {
        poll_once();
      }
    }
    --ready_;
  }

 private:
  void open_one() {
    const int c = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    check(c >= 0 && c < max_fd, "socket");
    check(::connect(c, reinterpret_cast<const sockaddr*>(&l_.addr), l_.addr_len) == 0, "connect");
    raw_client hello(c);
    if (hello.step()) {  // sends the hello; a fast server may have answered already
      ::close(c);
      ++ready_;
      ++to_open_;  // wait_one opens its replacement
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = c;
    check(::epoll_ctl(ep_, EPOLL_CTL_ADD, c, &ev) == 0, "epoll_ctl");
    open_[c] = true;
  }
  void poll_once() {
    epoll_event events[256];
    const int n = ::epoll_wait(ep_, events, 256, 1000);
    check(n > 0, "clients: no progress for a second");
    for (int i = 0; i < n; ++i) {
      const int c = events[i].data.fd;
      if (!raw_read_accept(c)) continue;
      check(::epoll_ctl(ep_, EPOLL_CTL_DEL, c, nullptr) == 0, "epoll_ctl del");
      ::close(c);
      open_[c] = false;
      ++ready_;
      ++to_open_;
    }
  }
  const bench::listener& l_;
  int ep_ = -1;
  std::uint64_t ready_ = 0;    // completed handshakes not yet handed to an iteration
  std::uint64_t to_open_ = 0;  // connections to open to keep the concurrency
  std::unique_ptr<bool[]> open_{new bool[max_fd]()};
};

template <class Server>
void run_epoll(benchmark::State& state, int concurrency) {
  raise_fd_limit();
  bench::listener l(SOCK_STREAM, 4096, /*nonblock=*/true);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> done{0};
  double server_cpu = 0;
  std::thread srv([&] { server_loop<Server>(l.fd, stop, done, server_cpu); });
  bench::alloc_meter allocs;
  {
    client_pool clients(l, concurrency);
    for (long i = 0; i < bench::warmup(2L * concurrency + 100); ++i) clients.wait_one();  // warm-up
    allocs.start();
    for (auto _ : state) clients.wait_one();
    allocs.report(state, static_cast<double>(state.iterations()), "allocs_per_hs");
    stop.store(true);
    srv.join();
  }
  // The server thread's CPU time over its whole life, per handshake it completed.
  const auto all = static_cast<double>(done.load());
  state.counters["server_cpu_us"] = all > 0 ? server_cpu * 1e6 / all : 0;
  state.SetItemsProcessed(state.iterations());
}

template <class S>
void add(int concurrency, const char* impl) {
  benchmark::RegisterBenchmark(
      (std::string("hs/epoll/") + std::to_string(concurrency) + "clients/" + impl).c_str(),
      [=](benchmark::State& st) { run_epoll<S>(st, concurrency); })
      ->UseRealTime();
}

[[maybe_unused]] const bool registered = [] {
  for (int n : {1, 64, 1024}) {
    add<raw_server>(n, "raw");
    add<raw_secure_server>(n, "raw_secure");
    add<mon_c_server>(n, "monitor_c");
    add<mon_cpp_server>(n, "monitor_cpp");
  }
  return true;
}();

}  // namespace
