// SPDX-License-Identifier: MIT
// monitor_insns MODE N: runs N operations of one hot path in a single thread, for callgrind
// (ci/bench-insns.sh: user-space instructions) and strace (ci/bench-syscalls.sh: system calls),
// which count deterministically on a noisy machine. The scripts run each mode twice (N and 2N) and
// divide the difference by N, so start-up and warm-up cancel out. `monitor_insns list-modes` prints
// every mode this build has, one per line; `monitor_insns check-twins` proves that the raw_secure
// twins refuse what they claim to (bench/twin_checks.cc).
//
// fd modes (fd_<stream|seqpacket>_<impl>): one message (32-byte payload, 1 descriptor) sent and
// received on the same socket pair; batch modes (<impl>_b<B>) move B messages per call, and N
// still counts messages (a multiple of 64). hs modes (hs_<impl>): one whole handshake on a fresh
// non-blocking socket pair (support/insns_loops.hpp).
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "support/fd_batch_impls.hpp"
#include "support/fd_impls.hpp"
#include "support/fd_secure_impls.hpp"
#include "support/hs_impls.hpp"
#include "support/hs_prepared_impls.hpp"
#include "support/hs_secure_impls.hpp"
#include "support/insns_loops.hpp"
#include "support/peers.hpp"

namespace bench {
int check_twins();  // bench/twin_checks.cc
}  // namespace bench

namespace {

using namespace bench::fdimpl;
using namespace bench::hsimpl;

struct mode {
  std::string name;
  std::function<void(long)> run;
};

template <class S, class R>
void add_fd(std::vector<mode>& out, const char* impl, bool stream_only = false) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    if (stream_only && type != SOCK_STREAM) continue;
    out.push_back({std::string("fd_") + bench::type_name(type) + "_" + impl,
                   [type](long n) { bench::fd_loop<S, R>(type, n); }});
  }
}

template <class S, class R>
void add_fd_batches(std::vector<mode>& out, const char* impl) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET})
    for (std::size_t b : {1, 4, 16, 64})
      out.push_back(
          {std::string("fd_") + bench::type_name(type) + "_" + bench::batch_impl_name(impl, b),
           [type, b](long n) { bench::fd_loop<S, R>(type, n, b); }});
}

template <class C, class S>
void add_hs(std::vector<mode>& out, const char* impl) {
  out.push_back({std::string("hs_") + impl, [](long n) { bench::hs_loop<C, S>(n); }});
}

template <class C, class S>
void add_hs_listener(std::vector<mode>& out, const char* impl) {
  out.push_back({std::string("hs_listener_") + impl, [](long n) {
                   bench::hs_listener_loop<C, S, bench::hsimpl::prepared_listener>(n);
                 }});
}

std::vector<mode> modes() {
  std::vector<mode> m;
  add_fd<raw_sender, raw_receiver>(m, "raw");
  add_fd<raw_sender, raw_framed_receiver>(m, "raw_framed", /*stream_only=*/true);
  add_fd<raw_sender, raw_secure_receiver>(m, "raw_secure");
  add_fd<mon_c_sender, mon_c_receiver>(m, "monitor_c");
  add_fd<mon_cpp_sender, mon_cpp_receiver>(m, "monitor_cpp");
  add_fd_batches<raw_mmsg_sender, raw_mmsg_receiver>(m, "raw_mmsg");
  add_fd_batches<mon_cpp_batch_sender, mon_cpp_batch_receiver>(m, "monitor_cpp_batch");
  add_fd_batches<mon_c_batch_sender, mon_c_batch_receiver>(m, "monitor_c_batch");
  add_hs<raw_client, raw_server>(m, "raw");
  add_hs<raw_secure_client, raw_secure_server>(m, "raw_secure");
  add_hs<peercred_client, peercred_server>(m, "peercred_floor");
  add_hs<mon_c_client, mon_c_server>(m, "monitor_c");
  add_hs<mon_cpp_client, mon_cpp_server>(m, "monitor_cpp");
  add_hs_listener<raw_client, raw_prepared_server>(m, "raw");
  add_hs_listener<mon_c_prepared_client, mon_c_prepared_server>(m, "monitor_c");
  add_hs_listener<mon_cpp_prepared_client, mon_cpp_prepared_server>(m, "monitor_cpp");
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  const auto all = modes();
  if (argc == 2 && std::string(argv[1]) == "list-modes") {
    for (const auto& m : all) std::puts(m.name.c_str());
    for (const auto& p : bench::peers::insns_modes()) std::puts(p.c_str());
    return 0;
  }
  if (argc == 2 && std::string(argv[1]) == "check-twins") return bench::check_twins();
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODE N | list-modes | check-twins\n", argv[0]);
    return 2;
  }
  const std::string name = argv[1];
  const long n = std::strtol(argv[2], nullptr, 10);
  for (const auto& m : all) {
    if (m.name == name) {
      m.run(n);
      return 0;
    }
  }
  if (!bench::peers::run_insns_mode(name, n)) {
    std::fprintf(stderr, "unknown mode %s\n", name.c_str());
    return 2;
  }
  return 0;
}
