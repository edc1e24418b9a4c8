// SPDX-License-Identifier: MIT
// The C twins of C++ capabilities (docs/CAPI_PARITY.md): several descriptors per message
// (mon_ipc_send_fds, mon_ipc_recv_fds) and the deny reason on both sides
// (mon_ipc_auth_client_reason, mon_ipc_auth_server_reason).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "monitor/monitor.hpp"
#include "support/test_support.hpp"

namespace {

using mon::test::fd_leak_check;
using mon::test::make_pair;
using mon::test::socket_type_name;

struct c_buffer {
  explicit c_buffer(size_t max = 0) : p(mon_buffer_new(max)) {}
  ~c_buffer() { mon_buffer_free(p); }
  c_buffer(const c_buffer&) = delete;
  c_buffer& operator=(const c_buffer&) = delete;
  mon_buffer* p;
};

class CParityFds : public ::testing::TestWithParam<int> {};

TEST_P(CParityFds, SeveralDescriptorsArriveInOrderCloseOnExec) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  std::vector<mon::unique_fd> gifts;
  std::vector<int> raw;
  for (int i = 0; i < 5; ++i) {
    gifts.push_back(mon::test::some_fd());
    raw.push_back(gifts.back().get());
  }
  c_buffer out, in;
  ASSERT_EQ(mon_buffer_append(out.p, "five", 4), MON_OK);
  ASSERT_EQ(mon_ipc_send_fds(pair.a.get(), out.p, raw.data(), raw.size()), MON_OK);
  int got[8];
  std::memset(got, 0xff, sizeof got);
  size_t n = 99;
  ASSERT_EQ(mon_ipc_recv_fds(pair.b.get(), in.p, got, 8, &n), MON_OK);
  ASSERT_EQ(n, 5u);
  ASSERT_EQ(mon_buffer_len(in.p), 4u);
  EXPECT_EQ(std::memcmp(mon_buffer_data(in.p), "five", 4), 0);
  for (size_t i = 0; i < n; ++i) {
    mon::unique_fd owned(got[i]);
    EXPECT_TRUE(mon::test::same_file(owned.get(), raw[i])) << i;
    EXPECT_TRUE(mon::test::is_cloexec(owned.get())) << i;
  }
  EXPECT_EQ(got[5], -1);  // untouched past *out_num_fds
}

TEST_P(CParityFds, DataOnlyWithNoRoomForDescriptors) {
  auto pair = make_pair(GetParam());
  c_buffer out, in;
  ASSERT_EQ(mon_buffer_append(out.p, "x", 1), MON_OK);
  ASSERT_EQ(mon_ipc_send_fds(pair.a.get(), out.p, nullptr, 0), MON_OK);
  size_t n = 7;
  ASSERT_EQ(mon_ipc_recv_fds(pair.b.get(), in.p, nullptr, 0, &n), MON_OK);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(mon_buffer_len(in.p), 1u);
}

TEST_P(CParityFds, MoreDescriptorsThanRoomAreAllClosed) {
  auto pair = make_pair(GetParam());
  mon::unique_fd a = mon::test::some_fd(), b = mon::test::some_fd(), c = mon::test::some_fd();
  const int raw[] = {a.get(), b.get(), c.get()};
  c_buffer out, in;
  ASSERT_EQ(mon_ipc_send_fds(pair.a.get(), out.p, raw, 3), MON_OK);
  fd_leak_check leaks;  // after the send: what arrives must all be closed again
  int got[2] = {-7, -7};
  size_t n = 9;
  EXPECT_EQ(mon_ipc_recv_fds(pair.b.get(), in.p, got, 2, &n), MON_ERR_PROTOCOL);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(got[0], -7);
  EXPECT_EQ(got[1], -7);
}

TEST_P(CParityFds, TooBigClosesTheDescriptorsAndKeepsTheConnection) {
  auto pair = make_pair(GetParam());
  mon::unique_fd a = mon::test::some_fd();
  const int raw[] = {a.get()};
  c_buffer out, small(2);
  ASSERT_EQ(mon_buffer_append(out.p, "toolong", 7), MON_OK);
  ASSERT_EQ(mon_ipc_send_fds(pair.a.get(), out.p, raw, 1), MON_OK);
  c_buffer next;
  ASSERT_EQ(mon_buffer_append(next.p, "ok", 2), MON_OK);
  ASSERT_EQ(mon_ipc_send_fds(pair.a.get(), next.p, nullptr, 0), MON_OK);
  fd_leak_check leaks;
  int got[1] = {-7};
  size_t n = 9;
  EXPECT_EQ(mon_ipc_recv_fds(pair.b.get(), small.p, got, 1, &n), MON_ERR_TOOBIG);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(got[0], -7);
  EXPECT_EQ(mon_ipc_recv_fds(pair.b.get(), small.p, got, 1, &n), MON_OK);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(mon_buffer_len(small.p), 2u);
}

TEST_P(CParityFds, NonBlockingReceiveWantsRead) {
  auto pair = make_pair(GetParam(), /*nonblocking=*/true);
  c_buffer in;
  int got[1];
  size_t n = 9;
  EXPECT_EQ(mon_ipc_recv_fds(pair.b.get(), in.p, got, 1, &n), MON_WANT_READ);
  EXPECT_EQ(n, 0u);
}

INSTANTIATE_TEST_SUITE_P(Types, CParityFds, ::testing::Values(SOCK_STREAM, SOCK_SEQPACKET),
                         socket_type_name);

TEST(CParityFdsArgs, BadArgumentsAreInvalid) {
  auto pair = make_pair(SOCK_STREAM);
  c_buffer buf;
  const int one[] = {0};
  std::vector<int> too_many(mon::max_fds + 1, 0);
  EXPECT_EQ(mon_ipc_send_fds(pair.a.get(), nullptr, one, 1), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_send_fds(-1, buf.p, one, 1), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_send_fds(pair.a.get(), buf.p, nullptr, 1), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_send_fds(pair.a.get(), buf.p, too_many.data(), too_many.size()),
            MON_ERR_INVALID);
  const int negative[] = {0, -1};
  EXPECT_EQ(mon_ipc_send_fds(pair.a.get(), buf.p, negative, 2), MON_ERR_INVALID);
  size_t n = 5;
  int got[1];
  EXPECT_EQ(mon_ipc_recv_fds(pair.b.get(), nullptr, got, 1, &n), MON_ERR_INVALID);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(mon_ipc_recv_fds(pair.b.get(), buf.p, got, 1, nullptr), MON_ERR_INVALID);
  n = 5;
  EXPECT_EQ(mon_ipc_recv_fds(pair.b.get(), buf.p, nullptr, 1, &n), MON_ERR_INVALID);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(mon_ipc_recv_fds(-1, buf.p, got, 1, &n), MON_ERR_INVALID);
}

// ---- Deny reasons ----

int refuse_everyone(const mon_ipc_creds*, void*) { return 0; }

TEST(CParityReason, PolicyRefusalIsReportedOnBothSides) {
  auto pair = make_pair(SOCK_STREAM);
  int client_rc = 0, client_reason = -100;
  std::thread client([&] {
    void* st = nullptr;
    client_rc = mon_ipc_auth_client_init(pair.a.get(), &st);
    while (client_rc == MON_CONTINUE) client_rc = mon_ipc_auth_client_step(pair.a.get(), st);
    client_reason = mon_ipc_auth_client_reason(st);
    mon_ipc_auth_client_end(st);
  });
  mon_ipc_creds peer;
  void* st = nullptr;
  int rc = mon_ipc_auth_server_init(pair.b.get(), &peer, &st);
  EXPECT_EQ(mon_ipc_auth_server_reason(st), MON_DENY_NONE);
  ASSERT_EQ(mon_ipc_auth_server_set_policy(st, refuse_everyone, nullptr), MON_OK);
  while (rc == MON_CONTINUE) rc = mon_ipc_auth_server_step(pair.b.get(), st);
  EXPECT_EQ(rc, MON_ERR_DENIED);
  EXPECT_EQ(mon_ipc_auth_server_reason(st), MON_DENY_POLICY);
  mon_ipc_auth_server_end(st);
  client.join();
  EXPECT_EQ(client_rc, MON_ERR_DENIED);
  EXPECT_EQ(client_reason, MON_DENY_POLICY);
}

TEST(CParityReason, AcceptedHandshakeHasNoReason) {
  auto pair = make_pair(SOCK_SEQPACKET);
  int client_reason = -100;
  std::thread client([&] {
    void* st = nullptr;
    int rc = mon_ipc_auth_client_init(pair.a.get(), &st);
    while (rc == MON_CONTINUE) rc = mon_ipc_auth_client_step(pair.a.get(), st);
    client_reason = rc == MON_OK ? mon_ipc_auth_client_reason(st) : -200;
    mon_ipc_auth_client_end(st);
  });
  mon_ipc_creds peer;
  void* st = nullptr;
  int rc = mon_ipc_auth_server_init(pair.b.get(), &peer, &st);
  while (rc == MON_CONTINUE) rc = mon_ipc_auth_server_step(pair.b.get(), st);
  EXPECT_EQ(rc, MON_OK);
  EXPECT_EQ(mon_ipc_auth_server_reason(st), MON_DENY_NONE);
  mon_ipc_auth_server_end(st);
  client.join();
  EXPECT_EQ(client_reason, MON_DENY_NONE);
}

// A socketpair's credentials name its creator: a forked child using an inherited end is refused
// with "credentials", and both sides say so.
TEST(CParityReason, CredentialsRefusalIsReportedOnBothSides) {
  auto pair = make_pair(SOCK_STREAM);
  const int client_end = pair.a.get();
  const pid_t child = mon::test::fork_child([client_end] {
    void* st = nullptr;
    int rc = mon_ipc_auth_client_init(client_end, &st);
    while (rc == MON_CONTINUE) rc = mon_ipc_auth_client_step(client_end, st);
    const int reason = mon_ipc_auth_client_reason(st);
    mon_ipc_auth_client_end(st);
    return rc == MON_ERR_DENIED ? 10 + reason : 1;
  });
  pair.a.reset();
  mon_ipc_creds peer;
  void* st = nullptr;
  int rc = mon_ipc_auth_server_init(pair.b.get(), &peer, &st);
  while (rc == MON_CONTINUE) rc = mon_ipc_auth_server_step(pair.b.get(), st);
  EXPECT_EQ(rc, MON_ERR_DENIED);
  EXPECT_EQ(mon_ipc_auth_server_reason(st), MON_DENY_CREDENTIALS);
  mon_ipc_auth_server_end(st);
  EXPECT_EQ(mon::test::wait_child(child), 10 + MON_DENY_CREDENTIALS);
}

TEST(CParityReason, WrongOrNullStateIsInvalid) {
  EXPECT_EQ(mon_ipc_auth_client_reason(nullptr), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_auth_server_reason(nullptr), MON_ERR_INVALID);
  auto pair = make_pair(SOCK_STREAM);
  void* client = nullptr;
  ASSERT_EQ(mon_ipc_auth_client_init(pair.a.get(), &client), MON_CONTINUE);
  EXPECT_EQ(mon_ipc_auth_server_reason(client), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_auth_client_reason(client), MON_DENY_NONE);
  mon_ipc_auth_client_end(client);
}

TEST(CParityReason, ConstantsMatchTheCppEnum) {
  EXPECT_EQ(MON_DENY_NONE, static_cast<int>(mon::deny_reason::none));
  EXPECT_EQ(MON_DENY_CREDENTIALS, static_cast<int>(mon::deny_reason::credentials));
  EXPECT_EQ(MON_DENY_POLICY, static_cast<int>(mon::deny_reason::policy));
  EXPECT_EQ(MON_DENY_VERSION, static_cast<int>(mon::deny_reason::version));
}

// The typed receive of several descriptors (C twin of receive_message_typed).
TEST(CParityTyped, SeveralDescriptorsOfAllowedKindsOnlyElseTheMessageIsRefused) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  mon_buffer* out = mon_buffer_new(0);
  mon_buffer* in = mon_buffer_new(0);
  ASSERT_TRUE(out != nullptr && in != nullptr);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  const int fifo_pair[2] = {p[0], p[1]};
  ASSERT_EQ(mon_buffer_append(out, "x", 1), MON_OK);
  ASSERT_EQ(mon_ipc_send_fds(pair.a.get(), out, fifo_pair, 2), MON_OK);
  const int sock_fd[1] = {pair.a.get()};
  ASSERT_EQ(mon_ipc_send_fds(pair.a.get(), out, sock_fd, 1), MON_OK);
  ASSERT_EQ(mon_ipc_send_fds(pair.a.get(), out, fifo_pair, 1), MON_OK);
  ::close(p[0]);
  ::close(p[1]);
  int got[4] = {-1, -1, -1, -1};
  size_t n = 0;
  ASSERT_EQ(mon_ipc_recv_fds_typed(pair.b.get(), in, got, 4, &n, MON_FD_TYPE_FIFO), MON_OK);
  ASSERT_EQ(n, 2u);
  ::close(got[0]);
  ::close(got[1]);
  // A socket among the descriptors: refused whole, nothing handed over, the stream still usable.
  EXPECT_EQ(mon_ipc_recv_fds_typed(pair.b.get(), in, got, 4, &n, MON_FD_TYPE_FIFO),
            MON_ERR_PROTOCOL);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(mon_buffer_fault(in), 0);  // a kind refusal is the receiver's own choice, no fault
  ASSERT_EQ(mon_ipc_recv_fds_typed(pair.b.get(), in, got, 4, &n, MON_FD_TYPE_FIFO), MON_OK);
  ASSERT_EQ(n, 1u);
  ::close(got[0]);
  EXPECT_EQ(mon_ipc_recv_fds_typed(pair.b.get(), nullptr, got, 4, &n, MON_FD_TYPE_FIFO),
            MON_ERR_INVALID);
  mon_buffer_free(out);
  mon_buffer_free(in);
}

// Peer groups and label on any connected socket (C twin of query_peer_info).
TEST(CParityPeerInfo, AnyConnectedSocket) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  gid_t groups[256];
  size_t num = 99, label_len = 99;
  char label[512];
  const int rc = mon_peer_info(pair.b.get(), groups, 256, &num, label, sizeof label, &label_len);
  ASSERT_EQ(rc, MON_OK);
  // The pair was made by this process: its groups are ours.
  const int mine = ::getgroups(0, nullptr);
  EXPECT_EQ(num, static_cast<size_t>(mine));
  EXPECT_EQ(mon_peer_info(-1, groups, 256, &num, label, sizeof label, &label_len), MON_ERR_INVALID);
  EXPECT_EQ(num, 0u);
  if (mine > 0) {
    EXPECT_EQ(mon_peer_info(pair.b.get(), groups, 0, &num, label, sizeof label, &label_len),
              MON_ERR_TOOBIG);
  }
}

TEST(CParityBuffer, ReserveMakesRoomWithoutChangingTheContent) {
  mon_buffer* b = mon_buffer_new(1024);
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(mon_buffer_append(b, "ab", 2), MON_OK);
  EXPECT_EQ(mon_buffer_reserve(b, 1000), MON_OK);
  EXPECT_EQ(mon_buffer_len(b), 2u);
  EXPECT_EQ(std::memcmp(mon_buffer_data(b), "ab", 2), 0);
  EXPECT_EQ(mon_buffer_reserve(b, 1025), MON_ERR_TOOBIG);
  EXPECT_EQ(mon_buffer_reserve(nullptr, 1), MON_ERR_INVALID);
  mon_buffer_free(b);
}

}  // namespace
