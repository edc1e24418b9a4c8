// SPDX-License-Identifier: MIT
// Faults below the library, injected without touching it, for the paths a mutation run showed no
// test could tell apart (issue 12, part 5): a failed SO_PEERCRED (a seccomp filter in a forked
// child makes the kernel answer EACCES), a socket-type query that fails on a socket a later recvmsg
// would accept (AF_INET, AF_UNIX datagram), a second start() after a failed one on a descriptor
// number that has become a good socket meanwhile, and the errno field of a protocol error.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

#include "hostile/hostile.hpp"
#include "monitor/monitor.hpp"
#include "support/test_support.hpp"

namespace mon {
namespace {

using test::fork_child;
using test::make_pair;
using test::wait_child;

// Makes getsockopt(..., SOL_SOCKET, SO_PEERCRED, ...) fail with EACCES in this process, everything
// else untouched. False where the filter cannot be installed.
bool fail_peercred_with_eacces() {
#if defined(__x86_64__)
  constexpr unsigned arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  constexpr unsigned arch = AUDIT_ARCH_AARCH64;
#else
  return false;
#endif
  sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getsockopt, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[2])),  // optname (low half)
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SO_PEERCRED, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof f / sizeof f[0]), f};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0;
}

// A server must not run a handshake without the kernel's record of the peer: start() fails with
// the errno the kernel gave, and so does every later step (nothing is read or written).
TEST(FaultInjection, FailedPeercredFailsTheServerHandshake) {
  const pid_t child = fork_child([] {
    auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
    if (!fail_peercred_with_eacces()) return 77;
    server_handshake server(pair.b.get());
    const auto r = server.start();
    if (r) return 10;  // started without SO_PEERCRED
    if (r.err().code != errc::io) return 11;
    if (r.err().sys_errno != EACCES) return 12;
    const auto s = server.step();
    if (s || s.err().code != errc::io || s.err().sys_errno != EACCES) return 13;
    return 0;
  });
  const int rc = wait_child(child);
  if (rc == 77) GTEST_SKIP() << "cannot install a seccomp filter here";
  EXPECT_EQ(rc, 0) << "10: started without SO_PEERCRED; 11: wrong code; 12: wrong errno; "
                      "13: a later step went on";
}

// The socket-type query is what refuses these: a later recvmsg would accept them (a non-blocking
// one would report "nothing yet", not an error).
TEST(FaultInjection, ReceiveRefusesAnInetSocket) {
  unique_fd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(udp.valid());
  message_buffer buf;
  fd_list fds;
  const auto r = receive_message(udp.get(), buf, fds);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::invalid);
}

TEST(FaultInjection, ReceiveRefusesAUnixDatagramSocket) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  unique_fd a(sv[0]), b(sv[1]);
  message_buffer buf;
  fd_list fds;
  const auto r = receive_message(b.get(), buf, fds);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::invalid);
}

// A failed start() is final: the same descriptor number, a good socket by the second call, still
// gets the first error (a handshake object is bound to what it checked, not to a number).
TEST(FaultInjection, SecondStartAfterAFailureFailsTheSame) {
  auto not_socket = test::some_fd();
  const int n = not_socket.get();
  server_handshake server(n);
  client_handshake client(n);
  ASSERT_EQ(server.start().code(), errc::invalid);
  ASSERT_EQ(client.start().code(), errc::invalid);
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  ASSERT_EQ(::dup3(pair.a.get(), n, O_CLOEXEC), n);  // number n is now a connected socket
  EXPECT_EQ(server.start().code(), errc::invalid);
  EXPECT_EQ(server.step().code(), errc::invalid);
  EXPECT_EQ(client.start().code(), errc::invalid);
  EXPECT_EQ(client.step().code(), errc::invalid);
  EXPECT_EQ(hostile::queued_bytes(pair.b.get()), 0) << "a failed handshake wrote a hello";
}

// A protocol error is the peer's doing, not a system call's: no errno travels with it.
TEST(FaultInjection, ProtocolErrorCarriesNoErrno) {
  auto pair = make_pair(SOCK_STREAM);
  const std::uint8_t junk[8] = {'x', 'x', 1, 0, 0, 0, 0, 0};
  test::raw_send(pair.a.get(), junk);
  message_buffer buf;
  fd_list fds;
  errno = 0;
  const auto r = receive_message(pair.b.get(), buf, fds);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::protocol);
  EXPECT_EQ(r.err().sys_errno, 0);
}

}  // namespace
}  // namespace mon
