// SPDX-License-Identifier: MIT
// The single-threaded loops monitor_insns runs under callgrind (ci/bench-insns.sh) and strace
// (ci/bench-syscalls.sh), shared by bench/insns_main.cc and the peers. Each runs 100 warm-up
// operations and then n: the scripts run n and 2n and divide the difference by n.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <span>

#include "support/bench_util.hpp"
#include "support/pair_harness.hpp"

namespace bench {

// fd modes: n messages (32-byte payload, 1 descriptor) sent and received on one socket pair. A
// batch pair moves `batch` messages per send(); n must be a multiple of it, so that n counts
// messages whatever the batch.
template <class S, class R>
void fd_loop(int type, long n, std::size_t batch = 1) {
  const auto b = static_cast<long>(batch);
  check(n % b == 0, "fd_loop: the count is not a multiple of the batch");
  auto sv = socket_pair(type);
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  check(devnull >= 0, "open /dev/null");
  const int fds[1] = {devnull};
  {
    auto s = make_end<S>(batch, sv[0], type, std::span<const int>(fds));
    auto r = make_end<R>(batch, sv[1], type, 1);
    const long warm = (100 + b - 1) / b;
    for (long i = 0; i < warm + n / b; ++i) {
      s.send();
      for (long got = 0; got < b;) {
        const auto k = static_cast<long>(r.receive());
        check(k > 0, "receive");
        got += k;
      }
    }
  }
  ::close(sv[0]);
  ::close(sv[1]);
  ::close(devnull);
}

// hs modes: n whole handshakes, each on a fresh non-blocking socket pair (client hello, server,
// client reply), creating and closing the pair as part of the operation for every implementation.
template <class C, class S>
void hs_loop(long n) {
  for (long i = 0; i < 100 + n; ++i) {
    auto sv = socket_pair(SOCK_STREAM | SOCK_NONBLOCK);
    {
      C c(sv[0]);
      S s(sv[1]);
      check(!c.step(), "client done before the server answered");
      check(s.step(), "server");
      check(c.step(), "client");
    }
    ::close(sv[0]);
    ::close(sv[1]);
  }
}

// hs_listener modes: n whole handshakes, each on a connection made (socket, connect, accept4) to
// a listener prepared once, closing both ends as part of the operation for every implementation.
template <class C, class S, class Listener>
void hs_listener_loop(long n) {
  Listener l;
  for (long i = 0; i < 100 + n; ++i) {
    const auto sv = l.connect_pair();
    {
      C c(sv[0]);
      S s(sv[1]);
      check(!c.step(), "client done before the server answered");
      check(s.step(), "server");
      check(c.step(), "client");
    }
    ::close(sv[0]);
    ::close(sv[1]);
  }
}

}  // namespace bench
