// SPDX-License-Identifier: MIT
// The peer's pidfd (SO_PEERPIDFD): it names the process that connected and, unlike its pid, keeps
// naming it after it exits; the failures it can meet concern only their own connection.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <thread>
#include <vector>

#include "monitor/monitor.hpp"
#include "peer/peer_support.hpp"
#include "support/test_support.hpp"
#include "sys/peer_identity.hpp"

namespace mon {
namespace {

using test::fd_leak_check;
using test::fork_child;
using test::gate;
using test::listener;
using test::make_pair;
using test::wait_child;

bool kernel_has_peer_pidfd() {
  auto pair = make_pair(SOCK_STREAM);
  return sys::peer_pidfd(pair.a.get()).code() != errc::unsupported;
}

// The proof: a pidfd taken at the handshake says that its process is gone once the peer
// exited and was reaped (after which its pid is free for reuse), where a pid would say nothing.
TEST(PeerPidfd, SaysSoAfterThePeerExitedAndWasReaped) {
  if (!kernel_has_peer_pidfd()) GTEST_SKIP() << "kernel without SO_PEERPIDFD (< 6.5)";
  fd_leak_check leaks;
  listener l(SOCK_STREAM);
  gate may_exit;
  const pid_t child = fork_child([&] {
    auto fd = l.connect();
    if (!fd) return 90;
    const int rc = test::run_client(fd.get());
    if (rc != MON_OK) return test::exit_code(rc);
    return may_exit.wait() ? 0 : 91;
  });
  auto conn = l.accept();
  ASSERT_TRUE(conn.valid());
  mon_ipc_creds creds{};
  void* st = nullptr;
  ASSERT_EQ(test::run_server_keep(conn.get(), &creds, &st), MON_OK);
  const int pidfd = mon_ipc_auth_server_peer_pidfd(st);
  ASSERT_GE(pidfd, 0) << mon_strerror(pidfd);
  unique_fd owned(pidfd);
  EXPECT_TRUE(test::is_cloexec(pidfd));
  // Every call hands out a new descriptor; the state keeps its own.
  const int second = mon_ipc_auth_server_peer_pidfd(st);
  ASSERT_GE(second, 0);
  EXPECT_NE(second, pidfd);
  unique_fd owned_second(second);
  mon_ipc_auth_server_end(st);

  // Alive: it names the child that connected, and signals reach it.
  EXPECT_EQ(creds.pid, child);
  EXPECT_EQ(test::pidfd_pid(pidfd), child);
  EXPECT_EQ(test::pidfd_probe(pidfd), 0);
  EXPECT_FALSE(test::pidfd_exited(pidfd));

  may_exit.open();
  EXPECT_EQ(wait_child(child), 0);  // exited and reaped: the pid may now name anyone

  EXPECT_TRUE(test::pidfd_exited(pidfd));
  EXPECT_EQ(test::pidfd_probe(pidfd), ESRCH);
  EXPECT_EQ(test::pidfd_pid(pidfd), -1);
  EXPECT_EQ(test::pidfd_probe(second), ESRCH);  // the copy tells the same
}

TEST(PeerPidfd, CppLendsThenHandsOverOnce) {
  if (!kernel_has_peer_pidfd()) GTEST_SKIP() << "kernel without SO_PEERPIDFD (< 6.5)";
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_SEQPACKET);
  server_handshake server(pair.b.get());
  ASSERT_TRUE(server.start());
  EXPECT_EQ(server.peer_pidfd().code(), errc::invalid);  // not before the peer is verified
  EXPECT_EQ(server.take_peer_pidfd().code(), errc::invalid);
  int client_rc = 1;
  std::thread client([&] { client_rc = test::run_client(pair.a.get()); });
  auto r = server.step();
  client.join();
  ASSERT_TRUE(r) << to_string(r.code());
  EXPECT_EQ(client_rc, MON_OK);
  auto lent = server.peer_pidfd();
  ASSERT_TRUE(lent);
  EXPECT_EQ(test::pidfd_pid(lent.value()), ::getpid());  // a socketpair names its creator
  auto taken = server.take_peer_pidfd();
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken.value().get(), lent.value());
  EXPECT_EQ(server.take_peer_pidfd().code(), errc::invalid);  // once
  EXPECT_EQ(server.peer_pidfd().code(), errc::invalid);
}

TEST(PeerPidfd, NotHandedOutAfterARefusal) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  // The other end is used by a child, but SO_PEERCRED names this process: refused.
  const pid_t child = fork_child([&] { return test::exit_code(test::run_client(pair.a.get())); });
  pair.a.reset();
  mon_ipc_creds creds{};
  void* st = nullptr;
  EXPECT_EQ(test::run_server_keep(pair.b.get(), &creds, &st), MON_ERR_DENIED);
  EXPECT_EQ(mon_ipc_auth_server_peer_pidfd(st), MON_ERR_INVALID);
  mon_ipc_auth_server_end(st);
  EXPECT_EQ(wait_child(child), test::exit_code(MON_ERR_DENIED));
}

TEST(PeerPidfd, CApiRefusesWrongStates) {
  EXPECT_EQ(mon_ipc_auth_server_peer_pidfd(nullptr), MON_ERR_INVALID);
  auto pair = make_pair(SOCK_STREAM);
  void* c = nullptr;
  ASSERT_EQ(mon_ipc_auth_client_init(pair.a.get(), &c), MON_CONTINUE);
  EXPECT_EQ(mon_ipc_auth_server_peer_pidfd(c), MON_ERR_INVALID);  // a client state
  mon_ipc_auth_client_end(c);
}

// Both sides of a handshake over a non-blocking pair, without threads (this runs in a forked
// child).
bool run_in_one_thread(int client_fd, server_handshake& server) {
  client_handshake client(client_fd);
  if (client.step().value() != progress::want_read) return false;  // hello sent
  auto s = server.step();
  if (!s || s.value() != progress::done) return false;
  auto c = client.step();
  return c && c.value() == progress::done;
}

// dbus-broker's outage: SO_PEERPIDFD failing with EMFILE must not become a failure of the server.
// In a child (the limit is per process): with the descriptor table full, the handshake still
// completes, the pidfd's absence is reported as EMFILE for this connection, and the next
// connection, once descriptors are free again, gets its pidfd.
TEST(PeerPidfd, EmfileConcernsOnlyThisConnection) {
  if (!kernel_has_peer_pidfd()) GTEST_SKIP() << "kernel without SO_PEERPIDFD (< 6.5)";
  fd_leak_check leaks;
  const pid_t child = fork_child([] {
    auto first = make_pair(SOCK_STREAM, /*nonblocking=*/true);
    auto second = make_pair(SOCK_STREAM, /*nonblocking=*/true);
    // Fill every free slot below a low limit, so the kernel cannot install one more descriptor.
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    const rlimit low{64, lim.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &low) != 0) return 80;
    std::vector<unique_fd> filler;
    for (;;) {
      const int fd = ::dup(first.a.get());
      if (fd < 0) break;
      filler.emplace_back(fd);
    }
    if (errno != EMFILE) return 81;

    server_handshake s1(first.b.get());
    if (!run_in_one_thread(first.a.get(), s1)) return 82;  // the handshake itself is unaffected
    auto p1 = s1.peer_pidfd();
    if (p1 || p1.code() != errc::io || p1.err().sys_errno != EMFILE) return 83;

    filler.clear();
    if (!s1.peer_pidfd()) return 86;  // a later request, with room again, gets it
    server_handshake s2(second.b.get());
    if (!run_in_one_thread(second.a.get(), s2)) return 84;
    auto p2 = s2.take_peer_pidfd();
    if (!p2 || !p2.value()) return 85;
    return 0;
  });
  EXPECT_EQ(wait_child(child), 0);
}

}  // namespace
}  // namespace mon
