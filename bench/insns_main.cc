// monitor_insns MODE N: runs N operations of one hot path in a single thread, for callgrind
// (ci/bench-insns.sh), which counts user-space instructions deterministically on a noisy machine.
// The script runs each mode twice (N and 2N) and divides the difference by N, so start-up and
// warm-up cancel out.
//
// fd modes send one message (32-byte payload, 1 descriptor) and receive it on the same socket pair;
// hs modes run one whole handshake on a fresh non-blocking socket pair (client hello, server,
// client reply), creating and closing the pair as part of the operation for every implementation
// alike.
#include <fcntl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "support/fd_impls.hpp"
#include "support/hs_impls.hpp"
#include "support/peers.hpp"

namespace {

using bench::check;

template <class S, class R>
void fd_loop(int type, long n) {
  auto sv = bench::socket_pair(type);
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int fds[1] = {devnull};
  {
    S s(sv[0], type, std::span<const int>(fds));
    R r(sv[1], type, 1);
    for (long i = 0; i < 100 + n; ++i) {
      s.send();
      check(r.receive(), "receive");
    }
  }
  ::close(sv[0]);
  ::close(sv[1]);
  ::close(devnull);
}

template <class C, class S>
void hs_loop(long n) {
  for (long i = 0; i < 100 + n; ++i) {
    auto sv = bench::socket_pair(SOCK_STREAM | SOCK_NONBLOCK);
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

}  // namespace

int main(int argc, char** argv) {
  using namespace bench::fdimpl;
  using namespace bench::hsimpl;
  if (argc == 2 && std::string(argv[1]) == "list-peer-modes") {
    std::puts(bench::peers::insns_modes());
    return 0;
  }
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODE N\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  const long n = std::strtol(argv[2], nullptr, 10);
  if (mode == "fd_stream_raw")
    fd_loop<raw_sender, raw_receiver>(SOCK_STREAM, n);
  else if (mode == "fd_stream_raw_framed")
    fd_loop<raw_sender, raw_framed_receiver>(SOCK_STREAM, n);
  else if (mode == "fd_stream_monitor_c")
    fd_loop<mon_c_sender, mon_c_receiver>(SOCK_STREAM, n);
  else if (mode == "fd_stream_monitor_cpp")
    fd_loop<mon_cpp_sender, mon_cpp_receiver>(SOCK_STREAM, n);
  else if (mode == "fd_seqpacket_raw")
    fd_loop<raw_sender, raw_receiver>(SOCK_SEQPACKET, n);
  else if (mode == "fd_seqpacket_monitor_c")
    fd_loop<mon_c_sender, mon_c_receiver>(SOCK_SEQPACKET, n);
  else if (mode == "fd_seqpacket_monitor_cpp")
    fd_loop<mon_cpp_sender, mon_cpp_receiver>(SOCK_SEQPACKET, n);
  else if (mode == "hs_peercred_floor")
    hs_loop<peercred_client, peercred_server>(n);
  else if (mode == "hs_raw")
    hs_loop<raw_client, raw_server>(n);
  else if (mode == "hs_monitor_c")
    hs_loop<mon_c_client, mon_c_server>(n);
  else if (mode == "hs_monitor_cpp")
    hs_loop<mon_cpp_client, mon_cpp_server>(n);
  else if (!bench::peers::run_insns_mode(mode, n)) {
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
  }
  return 0;
}
