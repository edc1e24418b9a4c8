// SPDX-License-Identifier: MIT
// Hostile peers against the handshake (docs/ATTACKS.md, part B): forged, replayed and borrowed
// identities, peers that vanish, stall or flood, and hostile servers against the client. Real
// sockets and real processes; identity must always be what the kernel recorded, or a refusal.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "auth/messages.hpp"
#include "hostile/hostile.hpp"
#include "monitor/monitor.hpp"
#include "support/handshake_driver.hpp"
#include "support/test_support.hpp"

namespace mon {
namespace {

using test::exit_code;
using test::fd_leak_check;
using test::fork_child;
using test::listener;
using test::make_pair;
using test::run_client;
using test::run_server;
using test::wait_child;
using namespace hostile;

std::vector<std::uint8_t> hello_bytes() {
  auth::message_bytes m{};
  const std::size_t n = auth::encode_hello(m);
  return {m.begin(), m.begin() + static_cast<std::ptrdiff_t>(n)};
}

// What a genuine client writes, captured from the library's own client over a socketpair.
std::vector<std::uint8_t> record_client_transcript() {
  auto pair = make_pair(SOCK_STREAM);
  std::thread client([&] { (void)run_client(pair.a.get()); });
  std::vector<std::uint8_t> got(auth::max_message);
  const ssize_t n = ::recv(pair.b.get(), got.data(), got.size(), 0);
  pair.b.reset();  // the client sees the connection close and gives up
  client.join();
  got.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return got;
}

// Blocks until the other process writes one byte (or closes).
void wait_byte(int fd) {
  char c;
  (void)::read(fd, &c, 1);
}
void post_byte(int fd) {
  const char c = 1;
  (void)::write(fd, &c, 1);
}

void expect_no_identity(const mon_ipc_creds& c) {
  EXPECT_EQ(c.pid, MON_IPC_PID_UNKNOWN);
  EXPECT_EQ(c.uid, static_cast<uid_t>(-1));
  EXPECT_EQ(c.gid, MON_IPC_GID_UNKNOWN);
}

class Peers : public ::testing::TestWithParam<int> {};

// B24: the exact bytes of a root client's hello, written by a process that became nobody. The
// bytes carry no identity: the server must report the writer (65534), never the original uid.
TEST_P(Peers, TranscriptReplayedByAnotherUidYieldsThatUid) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to change uid";
  hang_guard guard;
  fd_leak_check leaks;
  const auto transcript = record_client_transcript();
  ASSERT_EQ(transcript, hello_bytes());
  listener l(GetParam());
  auto go = make_pair(SOCK_STREAM);
  const pid_t child = fork_child([&] {
    if (!drop_to_nobody()) return 90;
    auto fd = l.connect();
    if (!fd) return 91;
    wait_byte(go.a.get());  // the server is ready (SO_PASSCRED on): a plain write gets credentials
    if (::write(fd.get(), transcript.data(), transcript.size()) !=
        static_cast<ssize_t>(transcript.size()))
      return 92;
    char reply[16];
    return ::recv(fd.get(), reply, sizeof reply, 0) > 0 ? 0 : 93;
  });
  auto conn = l.accept();
  ASSERT_TRUE(conn.valid());
  void* st = nullptr;
  mon_ipc_creds creds{};
  ASSERT_EQ(mon_ipc_auth_server_init(conn.get(), &creds, &st), MON_CONTINUE);
  post_byte(go.b.get());
  int rc;
  while ((rc = mon_ipc_auth_server_step(conn.get(), st)) > 0) test::wait_for(conn.get(), rc);
  mon_ipc_auth_server_end(st);
  // Deterministic: the kernel attached nobody's credentials to the write and recorded nobody at
  // connect(); they agree, so the handshake succeeds, and as nobody, never as the uid in the bytes.
  EXPECT_EQ(rc, MON_OK) << mon_strerror(rc);
  EXPECT_EQ(creds.pid, child);
  EXPECT_EQ(creds.uid, 65534u);
  EXPECT_EQ(creds.gid, 65534u);
  EXPECT_EQ(wait_child(child), 0);
}

// B18: root may put any pid and uid in SCM_CREDENTIALS. They must still agree with SO_PEERCRED.
TEST_P(Peers, ForgedCredentialsFromRootDisagreeWithPeercredAndAreDenied) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs CAP_SYS_ADMIN and CAP_SETUID to forge";
  hang_guard guard;
  fd_leak_check leaks;
  listener l(GetParam());
  const pid_t parent = ::getpid();
  const pid_t child = fork_child([&] {
    auto fd = l.connect();
    if (!fd) return 90;
    const auto hello = hello_bytes();
    // Claims to be the parent process, as nobody: both allowed by the kernel for root.
    const ucred forged{parent, 65534, 65534};
    if (send_with_credentials(fd.get(), hello, forged) != static_cast<ssize_t>(hello.size()))
      return 91;
    char reply[16];
    return ::recv(fd.get(), reply, sizeof reply, 0) > 0 ? 0 : 92;
  });
  auto conn = l.accept();
  mon_ipc_creds creds{};
  EXPECT_EQ(run_server(conn.get(), &creds), MON_ERR_DENIED);
  expect_no_identity(creds);
  EXPECT_EQ(wait_child(child), 0);
}

// B18: an unprivileged peer cannot forge: the kernel refuses the sendmsg (EPERM), and the server
// sees a peer that closed without a hello.
TEST_P(Peers, ForgedRootCredentialsFromNobodyNeverReachTheServer) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become nobody";
  hang_guard guard;
  fd_leak_check leaks;
  listener l(GetParam());
  const pid_t child = fork_child([&] {
    if (!drop_to_nobody()) return 90;
    auto fd = l.connect();
    if (!fd) return 91;
    const auto hello = hello_bytes();
    const ucred forged{::getpid(), 0, 0};
    const ssize_t n = send_with_credentials(fd.get(), hello, forged);
    return n < 0 && errno == EPERM ? 0 : 92;
  });
  auto conn = l.accept();
  mon_ipc_creds creds{};
  EXPECT_EQ(run_server(conn.get(), &creds), MON_ERR_CLOSED);
  expect_no_identity(creds);
  EXPECT_EQ(wait_child(child), 0);
}

// B19: connect() as root, then drop to nobody and speak: SO_PEERCRED (root, at connect) and the
// hello's credentials (nobody, now) disagree. Like connecting and then exec'ing a setuid program.
TEST_P(Peers, IdentityChangedAfterConnectIsDenied) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to change uid";
  hang_guard guard;
  fd_leak_check leaks;
  listener l(GetParam());
  const pid_t child = fork_child([&] {
    auto fd = l.connect();
    if (!fd) return 90;
    if (!drop_to_nobody()) return 91;
    return exit_code(run_client(fd.get()));
  });
  auto conn = l.accept();
  mon_ipc_creds creds{};
  EXPECT_EQ(run_server(conn.get(), &creds), MON_ERR_DENIED);
  expect_no_identity(creds);
  EXPECT_EQ(wait_child(child), exit_code(MON_ERR_DENIED));
}

// B19, invariant 1: the confused deputy. A child connects (SO_PEERCRED names it), hands the
// connected socket over SCM_RIGHTS to this process, and exits; this process then speaks on it.
TEST_P(Peers, SocketPassedToAnotherProcessIsDenied) {
  hang_guard guard;
  fd_leak_check leaks;
  listener l(GetParam());
  auto carrier = make_pair(SOCK_STREAM);
  const pid_t child = fork_child([&] {
    auto fd = l.connect();
    if (!fd) return 90;
    mon_buffer* msg = mon_buffer_new(0);
    const int rc = mon_ipc_send_fd(carrier.a.get(), msg, fd.get());
    mon_buffer_free(msg);
    return exit_code(rc);
  });
  receiver r;
  ASSERT_EQ(r.recv(carrier.b.get()), MON_OK);
  unique_fd borrowed(r.got_fd);
  ASSERT_TRUE(borrowed.valid());
  EXPECT_EQ(wait_child(child), 0);  // the process that connected is gone
  int client_rc = 1;
  std::thread client([&] { client_rc = run_client(borrowed.get()); });
  auto conn = l.accept();
  mon_ipc_creds creds{};
  EXPECT_EQ(run_server(conn.get(), &creds), MON_ERR_DENIED);
  client.join();
  EXPECT_EQ(client_rc, MON_ERR_DENIED);
  expect_no_identity(creds);
}

// B20: the client writes a hello with its credentials and exits (and is reaped) before the server
// even starts. The server must report the pid the kernel recorded at connect (the dead child), or
// fail; it must never look anything up by pid. Nothing can make it report a later process.
TEST_P(Peers, PeerThatExitedBeforeTheServerReadIsTheRecordedPidOrFails) {
  hang_guard guard;
  fd_leak_check leaks;
  listener l(GetParam());
  const pid_t child = fork_child([&] {
    auto fd = l.connect();
    if (!fd) return 90;
    const auto hello = hello_bytes();
    const ucred own{::getpid(), ::geteuid(), ::getegid()};
    return send_with_credentials(fd.get(), hello, own) == static_cast<ssize_t>(hello.size()) ? 0
                                                                                             : 91;
  });
  EXPECT_EQ(wait_child(child), 0);  // reaped: its pid is free for reuse from here on
  // Make a few new processes, so that a lookup by pid would have a chance to find a stranger.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(wait_child(fork_child([] { return 0; })), 0);
  auto conn = l.accept();
  mon_ipc_creds creds{};
  const int rc = run_server(conn.get(), &creds);
  // Deterministic: the hello is read and checked, but the answer cannot be written (the peer's end
  // is closed: EPIPE), so the server fails with MON_ERR_CLOSED and reports no identity at all,
  // never a pid looked up later.
  EXPECT_EQ(rc, MON_ERR_CLOSED) << mon_strerror(rc);
  expect_no_identity(creds);
}

// B21: a client in its own pid namespace sees itself as pid 1; the server must see the pid of
// its own namespace, which the kernel translates for both SO_PEERCRED and SCM_CREDENTIALS.
TEST_P(Peers, ClientInAPidNamespaceIsReportedByItsOuterPid) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs CAP_SYS_ADMIN for a pid namespace";
  hang_guard guard;
  fd_leak_check leaks;
  listener l(GetParam());
  auto hold = make_pair(SOCK_STREAM);
  const pid_t child = fork_child([&] {
    if (::unshare(CLONE_NEWPID) != 0) return 80;
    const pid_t inner = ::fork();
    if (inner < 0) return 81;
    if (inner == 0) {
      if (::getpid() != 1) ::_exit(82);
      auto fd = l.connect();
      const int rc = fd ? run_client(fd.get()) : MON_ERR_IO;
      wait_byte(hold.a.get());  // stay alive until the server has looked at us
      ::_exit(exit_code(rc));
    }
    return test::wait_child(inner);
  });
  auto conn = l.accept();
  mon_ipc_creds creds{};
  const int rc = run_server(conn.get(), &creds);
  ASSERT_EQ(rc, MON_OK) << mon_strerror(rc);
  EXPECT_NE(creds.pid, 1);
  EXPECT_NE(creds.pid, child);
  // The test (not the library) checks through /proc that the reported pid is the child's child.
  std::ifstream stat("/proc/" + std::to_string(creds.pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close_paren = line.rfind(')');
  ASSERT_NE(close_paren, std::string::npos);
  std::istringstream rest(line.substr(close_paren + 2));
  char state = 0;
  pid_t ppid = 0;
  rest >> state >> ppid;
  EXPECT_EQ(ppid, child);
  post_byte(hold.b.get());
  EXPECT_EQ(wait_child(child), 0);
}

INSTANTIATE_TEST_SUITE_P(Types, Peers, ::testing::Values(SOCK_STREAM, SOCK_SEQPACKET),
                         test::socket_type_name);

// ---- handshake denial of service (B23) ----------------------------------------------------------

TEST(PeersDos, HelloAnnouncingAnOversizedBody) {
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  auto hello = hello_bytes();
  hello[6] = 0x01;  // body_len 257: one past the bound
  hello[7] = 0x01;
  test::raw_send(pair.a.get(), hello);
  mon_ipc_creds creds{};
  EXPECT_EQ(run_server(pair.b.get(), &creds), MON_ERR_PROTOCOL);
  expect_no_identity(creds);
}

TEST(PeersDos, StalledHelloOnANonBlockingServerNeverBlocks) {
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  void* st = nullptr;
  mon_ipc_creds creds{};
  ASSERT_EQ(mon_ipc_auth_server_init(pair.b.get(), &creds, &st), MON_CONTINUE);
  auto hello = hello_bytes();
  hello[7] = 200;  // a body of 200 bytes is announced; 10 come, then nothing
  std::vector<std::uint8_t> part(hello);
  part.resize(hello.size() + 10, 0);
  test::raw_send(pair.a.get(), part);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(mon_ipc_auth_server_step(pair.b.get(), st), MON_WANT_READ);
  pair.a.reset();
  EXPECT_EQ(mon_ipc_auth_server_step(pair.b.get(), st), MON_ERR_CLOSED);
  EXPECT_EQ(mon_ipc_auth_server_step(pair.b.get(), st), MON_ERR_CLOSED);  // sticky
  mon_ipc_auth_server_end(st);
  expect_no_identity(creds);
}

TEST(PeersDos, GarbageFloodIsRefusedAfterOneHeader) {  // bounded work: the server stops reading
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  const std::vector<std::uint8_t> junk(4096, 0xA5);
  std::size_t sent = 0;
  for (;;) {
    const ssize_t n = ::send(pair.a.get(), junk.data(), junk.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ASSERT_GT(sent, auth::max_message);
  mon_ipc_creds creds{};
  EXPECT_EQ(run_server(pair.b.get(), &creds), MON_ERR_PROTOCOL);
  EXPECT_GE(static_cast<std::size_t>(queued_bytes(pair.b.get())), sent - auth::max_message);
}

TEST(PeersDos, CriticalUnknownExtensionIsRefused) {  // invariant 6
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  auto hello = hello_bytes();
  hello[7] = 4;  // body: one extension, type 0x8001 (critical, unknown), length 0
  for (std::uint8_t b : {0x80, 0x01, 0x00, 0x00}) hello.push_back(b);
  std::thread peer([&] {
    const ucred own{::getpid(), ::geteuid(), ::getegid()};
    (void)send_with_credentials(pair.a.get(), hello, own);
  });
  peer.join();
  mon_ipc_creds creds{};
  EXPECT_EQ(run_server(pair.b.get(), &creds), MON_ERR_PROTOCOL);  // docs/PROTOCOL.md: no reply
  expect_no_identity(creds);
  EXPECT_EQ(queued_bytes(pair.a.get()), 0) << "the server answered a critical unknown extension";
}

TEST(PeersDos, ClientSendingAnAcceptInsteadOfAHello) {  // invariant 6
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_SEQPACKET);
  auth::message_bytes m{};
  const std::size_t n = auth::encode_accept(m);
  const ucred own{::getpid(), ::geteuid(), ::getegid()};
  ASSERT_EQ(send_with_credentials(pair.a.get(), std::span<const std::uint8_t>(m).first(n), own),
            static_cast<ssize_t>(n));
  mon_ipc_creds creds{};
  EXPECT_EQ(run_server(pair.b.get(), &creds), MON_ERR_PROTOCOL);
  expect_no_identity(creds);
}

// ---- hostile servers, against the client ------------------------------------------------------

TEST(PeersServer, AcceptCarryingDescriptorsIsRefusedAndTheyAreClosed) {
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  auth::message_bytes m{};
  const std::size_t n = auth::encode_accept(m);
  auto extra = fds(2);
  test::raw_send(pair.b.get(), std::span<const std::uint8_t>(m).first(n), raw(extra));
  extra.clear();
  EXPECT_EQ(run_client(pair.a.get()), MON_ERR_PROTOCOL);
}

TEST(PeersServer, ReplyAnnouncingAnOversizedBody) {
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  auth::message_bytes m{};
  const std::size_t n = auth::encode_accept(m);
  std::vector<std::uint8_t> reply(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(n));
  reply[6] = 0xFF;
  reply[7] = 0xFF;
  test::raw_send(pair.b.get(), reply);
  EXPECT_EQ(run_client(pair.a.get()), MON_ERR_PROTOCOL);
}

TEST(PeersServer, ServerThatNeverAnswersLeavesANonBlockingClientWaiting) {  // invariant 4
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  void* st = nullptr;
  ASSERT_EQ(mon_ipc_auth_client_init(pair.a.get(), &st), MON_CONTINUE);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(mon_ipc_auth_client_step(pair.a.get(), st), MON_WANT_READ);
  pair.b.reset();
  EXPECT_EQ(mon_ipc_auth_client_step(pair.a.get(), st), MON_ERR_CLOSED);
  mon_ipc_auth_client_end(st);
}

}  // namespace
}  // namespace mon
