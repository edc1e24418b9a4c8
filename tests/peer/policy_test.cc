// SPDX-License-Identifier: MIT
// Server policy during the handshake, from C: a refusal is a deny(policy) the client sees as
// MON_ERR_DENIED, and nothing else crosses the socket in either direction.
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "monitor/monitor.hpp"
#include "peer/peer_support.hpp"
#include "support/test_support.hpp"

namespace mon {
namespace {

using test::fd_leak_check;
using test::make_pair;

struct seen {
  int calls = 0;
  mon_ipc_creds peer{};
  int answer = 0;
};

int record_and_answer(const mon_ipc_creds* peer, void* ctx) {
  auto* s = static_cast<seen*>(ctx);
  ++s->calls;
  s->peer = *peer;
  return s->answer;
}

int pending_bytes(int fd) {
  int n = -1;
  if (::ioctl(fd, FIONREAD, &n) != 0) return -1;
  return n;
}

class PeerPolicy : public ::testing::TestWithParam<int> {};

TEST_P(PeerPolicy, RefusalIsDeniedWithReasonPolicyAndNothingMore) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam(), /*nonblocking=*/true);
  client_handshake client(pair.a.get());
  ASSERT_EQ(client.step().value(), progress::want_read);  // hello sent
  // A client eager to talk: a frame queued right behind its hello.
  const std::vector<std::uint8_t> after =
      test::frame_bytes(0, 3, std::vector<std::uint8_t>{1, 2, 3});
  test::raw_send(pair.a.get(), after);

  seen s;  // answer 0: refuse
  mon_ipc_creds creds{};
  void* st = nullptr;
  EXPECT_EQ(test::run_server_keep(pair.b.get(), &creds, &st, record_and_answer, &s),
            MON_ERR_DENIED);
  EXPECT_EQ(s.calls, 1);
  EXPECT_EQ(s.peer.pid, ::getpid());  // asked with the verified credentials
  EXPECT_EQ(s.peer.uid, ::geteuid());
  EXPECT_EQ(s.peer.gid, ::getegid());
  EXPECT_EQ(creds.pid, MON_IPC_PID_UNKNOWN);  // a refused peer is not reported
  EXPECT_EQ(mon_ipc_auth_server_step(pair.b.get(), st), MON_ERR_DENIED);  // sticky, no new bytes
  mon_ipc_auth_server_end(st);

  // The server read the hello and nothing after it.
  EXPECT_EQ(pending_bytes(pair.b.get()), static_cast<int>(after.size()));
  // The client reads the refusal, and nothing follows it.
  auto r = client.step();
  EXPECT_EQ(r.code(), errc::denied);
  EXPECT_EQ(client.reason(), deny_reason::policy);
  EXPECT_EQ(pending_bytes(pair.a.get()), 0);
}

TEST_P(PeerPolicy, AcceptanceSeesTheContextAndLetsThePeerIn) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  seen s;
  s.answer = 1;
  int client_rc = 1;
  std::thread client([&] { client_rc = test::run_client(pair.a.get()); });
  mon_ipc_creds creds{};
  void* st = nullptr;
  EXPECT_EQ(test::run_server_keep(pair.b.get(), &creds, &st, record_and_answer, &s), MON_OK);
  client.join();
  EXPECT_EQ(client_rc, MON_OK);
  EXPECT_EQ(s.calls, 1);
  EXPECT_EQ(creds.pid, ::getpid());
  // The decision is taken: the policy cannot be changed any more.
  EXPECT_EQ(mon_ipc_auth_server_set_policy(st, record_and_answer, &s), MON_ERR_INVALID);
  mon_ipc_auth_server_end(st);
}

INSTANTIATE_TEST_SUITE_P(StreamAndSeqpacket, PeerPolicy,
                         ::testing::Values(SOCK_STREAM, SOCK_SEQPACKET), test::socket_type_name);

TEST(PeerPolicyC, NullPolicyRemovesIt) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  seen s;  // would refuse
  mon_ipc_creds creds{};
  void* st = nullptr;
  ASSERT_EQ(mon_ipc_auth_server_init(pair.b.get(), &creds, &st), MON_CONTINUE);
  ASSERT_EQ(mon_ipc_auth_server_set_policy(st, record_and_answer, &s), MON_OK);
  ASSERT_EQ(mon_ipc_auth_server_set_policy(st, nullptr, nullptr), MON_OK);
  int client_rc = 1;
  std::thread client([&] { client_rc = test::run_client(pair.a.get()); });
  int rc = MON_CONTINUE;
  while (rc > 0) rc = mon_ipc_auth_server_step(pair.b.get(), st);
  client.join();
  EXPECT_EQ(rc, MON_OK);
  EXPECT_EQ(client_rc, MON_OK);
  EXPECT_EQ(s.calls, 0);
  mon_ipc_auth_server_end(st);
}

TEST(PeerPolicyC, RefusesWrongStates) {
  seen s;
  EXPECT_EQ(mon_ipc_auth_server_set_policy(nullptr, record_and_answer, &s), MON_ERR_INVALID);
  auto pair = make_pair(SOCK_STREAM);
  void* c = nullptr;
  ASSERT_EQ(mon_ipc_auth_client_init(pair.a.get(), &c), MON_CONTINUE);
  EXPECT_EQ(mon_ipc_auth_server_set_policy(c, record_and_answer, &s), MON_ERR_INVALID);
  mon_ipc_auth_client_end(c);
}

// The C++ side of the same switch.
bool refuse_all(const peer_credentials&, void* ctx) noexcept {
  ++*static_cast<int*>(ctx);
  return false;
}

TEST(PeerPolicyCpp, SetPolicyBeforeTheDecision) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_SEQPACKET);
  server_handshake server(pair.b.get());
  int asked = 0;
  ASSERT_TRUE(server.set_policy(refuse_all, &asked));
  int client_rc = 1;
  std::thread client([&] { client_rc = test::run_client(pair.a.get()); });
  auto r = server.step();
  client.join();
  EXPECT_EQ(r.code(), errc::denied);
  EXPECT_EQ(server.reason(), deny_reason::policy);
  EXPECT_EQ(client_rc, MON_ERR_DENIED);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(server.set_policy(nullptr, nullptr).code(), errc::invalid);
}

}  // namespace
}  // namespace mon
