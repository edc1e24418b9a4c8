// SPDX-License-Identifier: MIT
// The handshake over real sockets: identity comes from the kernel, in every process arrangement.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "auth/messages.hpp"
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

class HandshakeTypes : public ::testing::TestWithParam<int> {};

TEST_P(HandshakeTypes, ThreadsOverASocketpairSeeThisProcess) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  int client_rc = 1;
  std::thread client([&] { client_rc = run_client(pair.a.get()); });
  mon_ipc_creds creds{};
  const int rc = run_server(pair.b.get(), &creds);
  client.join();
  EXPECT_EQ(rc, MON_OK) << mon_strerror(rc);
  EXPECT_EQ(client_rc, MON_OK) << mon_strerror(client_rc);
  EXPECT_EQ(creds.pid, ::getpid());
  EXPECT_EQ(creds.uid, ::geteuid());
  EXPECT_EQ(creds.gid, ::getegid());
}

TEST_P(HandshakeTypes, NonBlockingInOneThreadNeverBlocks) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam(), /*nonblocking=*/true);
  void* c = nullptr;
  void* s = nullptr;
  mon_ipc_creds creds{};
  ASSERT_EQ(mon_ipc_auth_server_init(pair.b.get(), &creds, &s), MON_CONTINUE);
  // Nothing has arrived: the server must say so instead of waiting.
  EXPECT_EQ(mon_ipc_auth_server_step(pair.b.get(), s), MON_WANT_READ);
  ASSERT_EQ(mon_ipc_auth_client_init(pair.a.get(), &c), MON_CONTINUE);
  int crc = mon_ipc_auth_client_step(pair.a.get(), c);
  EXPECT_EQ(crc, MON_WANT_READ);  // hello sent, reply not there yet
  int src = mon_ipc_auth_server_step(pair.b.get(), s);
  EXPECT_EQ(src, MON_OK);
  crc = mon_ipc_auth_client_step(pair.a.get(), c);
  EXPECT_EQ(crc, MON_OK);
  EXPECT_EQ(mon_ipc_auth_client_step(pair.a.get(), c), MON_OK);  // done stays done
  EXPECT_EQ(creds.pid, ::getpid());
  mon_ipc_auth_client_end(c);
  mon_ipc_auth_server_end(s);
}

TEST_P(HandshakeTypes, ForkedClientOnAListeningSocketIsTheChild) {
  fd_leak_check leaks;
  listener l(GetParam());
  const pid_t child = fork_child([&] {
    auto fd = l.connect();
    return exit_code(run_client(fd.get()));
  });
  auto conn = l.accept();
  ASSERT_TRUE(conn.valid());
  mon_ipc_creds creds{};
  const int rc = run_server(conn.get(), &creds);
  EXPECT_EQ(rc, MON_OK) << mon_strerror(rc);
  EXPECT_EQ(creds.pid, child);
  EXPECT_EQ(creds.uid, ::geteuid());
  EXPECT_EQ(creds.gid, ::getegid());
  EXPECT_EQ(wait_child(child), 0);
}

TEST_P(HandshakeTypes, ClientThatDroppedToNobodyIsReportedAsNobody) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to change uid";
  fd_leak_check leaks;
  listener l(GetParam());
  const pid_t child = fork_child([&] {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) return 90;
    auto fd = l.connect();
    if (!fd) return 91;
    return exit_code(run_client(fd.get()));
  });
  auto conn = l.accept();
  mon_ipc_creds creds{};
  EXPECT_EQ(run_server(conn.get(), &creds), MON_OK);
  EXPECT_EQ(creds.pid, child);
  EXPECT_EQ(creds.uid, 65534u);
  EXPECT_EQ(creds.gid, 65534u);
  EXPECT_EQ(wait_child(child), 0);
}

TEST_P(HandshakeTypes, SocketConnectedByOneProcessAndUsedByAnotherIsDenied) {
  fd_leak_check leaks;
  listener l(GetParam());
  auto connected_here = l.connect();  // SO_PEERCRED now names this process
  const pid_t child = fork_child([&] { return exit_code(run_client(connected_here.get())); });
  connected_here.reset();
  auto conn = l.accept();
  mon_ipc_creds creds{};
  EXPECT_EQ(run_server(conn.get(), &creds), MON_ERR_DENIED);
  EXPECT_EQ(creds.pid, MON_IPC_PID_UNKNOWN);  // nothing is reported for a refused peer
  EXPECT_EQ(creds.uid, static_cast<uid_t>(-1));
  EXPECT_EQ(wait_child(child), exit_code(MON_ERR_DENIED));
}

TEST_P(HandshakeTypes, InheritedSocketpairEndIsDenied) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  const pid_t child = fork_child([&] { return exit_code(run_client(pair.a.get())); });
  pair.a.reset();
  mon_ipc_creds creds{};
  EXPECT_EQ(run_server(pair.b.get(), &creds), MON_ERR_DENIED);
  EXPECT_EQ(wait_child(child), exit_code(MON_ERR_DENIED));
}

INSTANTIATE_TEST_SUITE_P(StreamAndSeqpacket, HandshakeTypes,
                         ::testing::Values(SOCK_STREAM, SOCK_SEQPACKET), test::socket_type_name);

TEST(Handshake, HelloWithoutKernelCredentialsIsDenied) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  auth::message_bytes hello{};
  const std::size_t n = auth::encode_hello(hello);
  // Written before the server turned SO_PASSCRED on, and without explicit SCM_CREDENTIALS.
  test::raw_send(pair.a.get(), std::span<const std::uint8_t>(hello).first(n));
  mon_ipc_creds creds{};
  EXPECT_EQ(run_server(pair.b.get(), &creds), MON_ERR_DENIED);
  // The client is told why.
  std::uint8_t reply[16];
  const ssize_t got = ::recv(pair.a.get(), reply, sizeof reply, 0);
  ASSERT_EQ(got, 10);
  EXPECT_EQ(reply[5], static_cast<std::uint8_t>(auth::msg_type::deny));
  EXPECT_EQ(reply[9], static_cast<std::uint8_t>(deny_reason::credentials));
}

TEST(Handshake, HelloWithDescriptorsIsRefusedAndTheyAreClosed) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  void* s = nullptr;
  mon_ipc_creds creds{};
  auth::message_bytes hello{};
  const std::size_t n = auth::encode_hello(hello);
  auto passenger = test::some_fd();
  const int fds[] = {passenger.get()};
  // Sent before the server started (between accept() and init): once it has started, a kernel with
  // SO_PASSRIGHTS (>= 6.16) refuses them at the sender (tests/peer, PeerRefuseFds). These arrive.
  test::raw_send_headers(pair.a.get(), std::span<const std::uint8_t>(hello).first(n),
                         {std::vector<int>(fds, fds + 1)}, true);
  passenger.reset();
  ASSERT_EQ(mon_ipc_auth_server_init(pair.b.get(), &creds, &s), MON_CONTINUE);
  EXPECT_EQ(mon_ipc_auth_server_step(pair.b.get(), s), MON_ERR_PROTOCOL);
  EXPECT_EQ(mon_ipc_auth_server_step(pair.b.get(), s), MON_ERR_PROTOCOL);  // sticky
  mon_ipc_auth_server_end(s);
}

TEST(Handshake, ByteByByteHelloOnANonBlockingServer) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  void* s = nullptr;
  mon_ipc_creds creds{};
  ASSERT_EQ(mon_ipc_auth_server_init(pair.b.get(), &creds, &s), MON_CONTINUE);
  auth::message_bytes hello{};
  const std::size_t n = auth::encode_hello(hello);
  int rc = MON_CONTINUE;
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(mon_ipc_auth_server_step(pair.b.get(), s), MON_WANT_READ);
    test::raw_send_headers(pair.a.get(), std::span<const std::uint8_t>(hello).subspan(i, 1), {},
                           true);
  }
  rc = mon_ipc_auth_server_step(pair.b.get(), s);
  EXPECT_EQ(rc, MON_OK) << mon_strerror(rc);
  EXPECT_EQ(creds.pid, ::getpid());
  mon_ipc_auth_server_end(s);
}

TEST(Handshake, PeerClosingMidHelloIsClosed) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  void* s = nullptr;
  mon_ipc_creds creds{};
  ASSERT_EQ(mon_ipc_auth_server_init(pair.b.get(), &creds, &s), MON_CONTINUE);
  auth::message_bytes hello{};
  (void)auth::encode_hello(hello);
  test::raw_send_headers(pair.a.get(), std::span<const std::uint8_t>(hello).first(3), {}, true);
  pair.a.reset();
  EXPECT_EQ(mon_ipc_auth_server_step(pair.b.get(), s), MON_ERR_CLOSED);
  mon_ipc_auth_server_end(s);
}

TEST(Handshake, ServerClosingBeforeReplyIsClosedForTheClient) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  void* c = nullptr;
  ASSERT_EQ(mon_ipc_auth_client_init(pair.a.get(), &c), MON_CONTINUE);
  pair.b.reset();
  const int rc = mon_ipc_auth_client_step(pair.a.get(), c);
  EXPECT_EQ(rc, MON_ERR_CLOSED) << mon_strerror(rc);  // EPIPE on the hello, or EOF after it
  mon_ipc_auth_client_end(c);
}

TEST(Handshake, UnknownVersionIsRefusedWithAReason) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  auth::message_bytes hello{};
  const std::size_t n = auth::encode_hello(hello);
  hello[4] = 9;
  std::thread server([&] {
    mon_ipc_creds creds{};
    EXPECT_EQ(run_server(pair.b.get(), &creds), MON_ERR_PROTOCOL);
  });
  test::raw_send_headers(pair.a.get(), std::span<const std::uint8_t>(hello).first(n), {}, true);
  std::uint8_t reply[16];
  EXPECT_EQ(::recv(pair.a.get(), reply, 10, MSG_WAITALL), 10);
  server.join();
  EXPECT_EQ(reply[9], static_cast<std::uint8_t>(deny_reason::version));
}

bool refuse_uid(const peer_credentials& peer, void* context) noexcept {
  return peer.uid != *static_cast<uid_t*>(context);
}

TEST(Handshake, ServerPolicyRefusesInsideTheHandshake) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  uid_t banned = ::geteuid();
  deny_reason client_reason = deny_reason::none;
  std::thread client([&] {
    client_handshake c(pair.a.get());
    result<progress> r = c.step();
    EXPECT_EQ(r.code(), errc::denied);
    client_reason = c.reason();
  });
  server_handshake s(pair.b.get(), refuse_uid, &banned);
  auto r = s.step();
  client.join();
  EXPECT_EQ(r.code(), errc::denied);
  EXPECT_EQ(s.reason(), deny_reason::policy);
  EXPECT_EQ(client_reason, deny_reason::policy);
  EXPECT_EQ(s.peer(), peer_credentials{});  // nothing reported for a refused peer
}

TEST(Handshake, CppApiReportsThePeerAndAllowsTrafficBothWaysAfterwards) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  std::thread client([&] {
    client_handshake c(pair.a.get());
    auto r = c.step();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), progress::done);
    // The client sends first after the handshake: no credentials may ride along.
    message_buffer out;
    ASSERT_TRUE(out.append(std::as_bytes(std::span("ping", 4))).ok());
    auto passenger = test::some_fd();
    const int fds[] = {passenger.get()};
    EXPECT_TRUE(send_message(pair.a.get(), out, fds).ok());
    message_buffer in;
    fd_list got;
    auto rr = receive_message(pair.a.get(), in, got);
    ASSERT_TRUE(rr.ok()) << to_string(rr.code());
    EXPECT_EQ(in.size(), 4u);
    EXPECT_EQ(got.size(), 1u);
  });
  server_handshake s(pair.b.get());
  auto r = s.step();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(s.peer(), (peer_credentials{::getpid(), ::geteuid(), ::getegid()}));
  message_buffer in;
  fd_list got;
  auto rr = receive_message(pair.b.get(), in, got);
  ASSERT_TRUE(rr.ok()) << to_string(rr.code());
  EXPECT_EQ(got.size(), 1u);
  message_buffer out;
  ASSERT_TRUE(out.append(std::as_bytes(std::span("pong", 4))).ok());
  const int fds[] = {got[0].get()};
  EXPECT_TRUE(send_message(pair.b.get(), out, fds).ok());
  client.join();
}

TEST(Handshake, PasscredIsOffAfterTheHandshake) {
  auto pair = make_pair(SOCK_SEQPACKET);
  std::thread client([&] { EXPECT_EQ(run_client(pair.a.get()), MON_OK); });
  mon_ipc_creds creds{};
  EXPECT_EQ(run_server(pair.b.get(), &creds), MON_OK);
  client.join();
  int on = -1;
  socklen_t len = sizeof on;
  ASSERT_EQ(::getsockopt(pair.b.get(), SOL_SOCKET, SO_PASSCRED, &on, &len), 0);
  EXPECT_EQ(on, 0);
}

}  // namespace
}  // namespace mon
