// SPDX-License-Identifier: MIT
// The C ABI's contract at its edges: argument checks, buffers, result names.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "monitor/monitor.h"
#include "support/test_support.hpp"

namespace {

using mon::test::fd_leak_check;
using mon::test::make_pair;

TEST(CApi, ResultCodesAreDistinctAndSigned) {
  EXPECT_EQ(MON_OK, 0);
  EXPECT_GT(MON_CONTINUE, 0);
  EXPECT_GT(MON_WANT_READ, 0);
  EXPECT_GT(MON_WANT_WRITE, 0);
  EXPECT_NE(MON_CONTINUE, MON_WANT_READ);
  EXPECT_NE(MON_WANT_READ, MON_WANT_WRITE);
  EXPECT_NE(MON_CONTINUE, MON_WANT_WRITE);
  for (int code : {MON_ERR_INVALID, MON_ERR_NOMEM, MON_ERR_IO, MON_ERR_CLOSED, MON_ERR_PROTOCOL,
                   MON_ERR_DENIED, MON_ERR_TOOBIG, MON_ERR_TRUNCATED})
    EXPECT_LT(code, 0);
}

TEST(CApi, StrerrorNeverReturnsNullAndNamesEveryCode) {
  for (int code = -1000; code <= 1000; ++code) ASSERT_NE(mon_strerror(code), nullptr) << code;
  EXPECT_STREQ(mon_strerror(12345), "unknown result code");
  EXPECT_STRNE(mon_strerror(MON_ERR_DENIED), mon_strerror(MON_ERR_PROTOCOL));
  for (int code = -8; code <= 3; ++code) EXPECT_STRNE(mon_strerror(code), "unknown result code");
}

TEST(CApiBuffer, AppendRespectsTheCapAndLeavesContentOnFailure) {
  mon_buffer* b = mon_buffer_new(5);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(mon_buffer_len(b), 0u);
  EXPECT_EQ(mon_buffer_append(b, "abc", 3), MON_OK);
  EXPECT_EQ(mon_buffer_append(b, "def", 3), MON_ERR_TOOBIG);
  ASSERT_EQ(mon_buffer_len(b), 3u);
  EXPECT_EQ(std::memcmp(mon_buffer_data(b), "abc", 3), 0);
  EXPECT_EQ(mon_buffer_append(b, "de", 2), MON_OK);
  EXPECT_EQ(std::memcmp(mon_buffer_data(b), "abcde", 5), 0);
  mon_buffer_clear(b);
  EXPECT_EQ(mon_buffer_len(b), 0u);
  mon_buffer_free(b);
}

TEST(CApiBuffer, DefaultCapAndLimit) {
  mon_buffer* b = mon_buffer_new(0);
  ASSERT_NE(b, nullptr);
  std::string big(MON_BUFFER_DEFAULT_MAX, 'x');
  EXPECT_EQ(mon_buffer_append(b, big.data(), big.size()), MON_OK);
  EXPECT_EQ(mon_buffer_append(b, "y", 1), MON_ERR_TOOBIG);
  mon_buffer_free(b);
  EXPECT_EQ(mon_buffer_new(MON_BUFFER_LIMIT + 1), nullptr);
  mon_buffer* at_limit = mon_buffer_new(MON_BUFFER_LIMIT);
  EXPECT_NE(at_limit, nullptr);
  mon_buffer_free(at_limit);
}

TEST(CApiBuffer, NullArgumentsAreSafe) {
  mon_buffer_free(nullptr);
  mon_buffer_clear(nullptr);
  EXPECT_EQ(mon_buffer_len(nullptr), 0u);
  EXPECT_EQ(mon_buffer_data(nullptr), nullptr);
  EXPECT_EQ(mon_buffer_append(nullptr, "a", 1), MON_ERR_INVALID);
  mon_buffer* b = mon_buffer_new(4);
  EXPECT_EQ(mon_buffer_append(b, nullptr, 1), MON_ERR_INVALID);
  EXPECT_EQ(mon_buffer_append(b, nullptr, 0), MON_OK);
  mon_buffer_free(b);
}

TEST(CApiHandshake, InitRefusesBadArguments) {
  fd_leak_check leaks;
  void* state = reinterpret_cast<void*>(0x1);
  mon_ipc_creds creds{};
  EXPECT_EQ(mon_ipc_auth_client_init(-1, &state), MON_ERR_INVALID);
  EXPECT_EQ(state, nullptr);
  EXPECT_EQ(mon_ipc_auth_client_init(0, nullptr), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_auth_server_init(-1, &creds, &state), MON_ERR_INVALID);
  auto pair = make_pair(SOCK_STREAM);
  EXPECT_EQ(mon_ipc_auth_server_init(pair.a.get(), nullptr, &state), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_auth_server_init(pair.a.get(), &creds, nullptr), MON_ERR_INVALID);
}

TEST(CApiHandshake, InitRefusesWhatIsNotAUnixStreamOrSeqpacketSocket) {
  fd_leak_check leaks;
  void* state = nullptr;
  mon_ipc_creds creds{};
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  EXPECT_EQ(mon_ipc_auth_client_init(p[0], &state), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_auth_server_init(p[0], &creds, &state), MON_ERR_INVALID);
  ::close(p[0]);
  ::close(p[1]);
  auto dgram = make_pair(SOCK_DGRAM);
  EXPECT_EQ(mon_ipc_auth_client_init(dgram.a.get(), &state), MON_ERR_INVALID);
  mon::unique_fd inet(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(mon_ipc_auth_server_init(inet.get(), &creds, &state), MON_ERR_INVALID);
  EXPECT_EQ(state, nullptr);
}

TEST(CApiHandshake, StepRefusesAnotherFdAndAMixedUpState) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  void* client = nullptr;
  void* server = nullptr;
  mon_ipc_creds creds{};
  ASSERT_EQ(mon_ipc_auth_client_init(pair.a.get(), &client), MON_CONTINUE);
  ASSERT_EQ(mon_ipc_auth_server_init(pair.b.get(), &creds, &server), MON_CONTINUE);
  EXPECT_EQ(creds.pid, MON_IPC_PID_UNKNOWN);
  EXPECT_EQ(creds.uid, static_cast<uid_t>(-1));
  EXPECT_EQ(creds.gid, MON_IPC_GID_UNKNOWN);
  EXPECT_EQ(mon_ipc_auth_client_step(pair.b.get(), client), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_auth_client_step(pair.b.get(), server), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_auth_server_step(pair.a.get(), client), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_auth_client_step(pair.a.get(), nullptr), MON_ERR_INVALID);
  mon_ipc_auth_client_end(client);
  mon_ipc_auth_server_end(server);
  mon_ipc_auth_client_end(nullptr);
  mon_ipc_auth_server_end(nullptr);
}

TEST(CApiIpc, SendAndReceiveRefuseBadArguments) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  mon_buffer* b = mon_buffer_new(16);
  int fd = 7;
  EXPECT_EQ(mon_ipc_send_fd(-1, b, -1), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_send_fd(pair.a.get(), nullptr, -1), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_send_fd(pair.a.get(), b, -2), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_recv_fd(-1, b, &fd), MON_ERR_INVALID);
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(mon_ipc_recv_fd(pair.b.get(), nullptr, &fd), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_recv_fd(pair.b.get(), b, nullptr), MON_ERR_INVALID);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  EXPECT_EQ(mon_ipc_recv_fd(p[0], b, &fd), MON_ERR_INVALID);  // not a socket
  ::close(p[0]);
  ::close(p[1]);
  mon_buffer_free(b);
}

TEST(CApiIpc, IoErrorKeepsErrno) {
  auto pair = make_pair(SOCK_STREAM);
  mon_buffer* b = mon_buffer_new(16);
  ASSERT_EQ(mon_buffer_append(b, "x", 1), MON_OK);
  auto bad = mon::test::some_fd();
  const int stale = bad.get();
  bad.reset();  // a descriptor number that is no longer open
  errno = 0;
  EXPECT_EQ(mon_ipc_send_fd(pair.a.get(), b, stale), MON_ERR_INVALID);
  EXPECT_EQ(errno, EBADF);
  // A system error the library has no code of its own for: MON_ERR_IO, and errno says which.
  mon::unique_fd unconnected(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(unconnected.valid());
  errno = 0;
  EXPECT_EQ(mon_ipc_send_fd(unconnected.get(), b, -1), MON_ERR_IO);
  EXPECT_EQ(errno, ENOTCONN);
  mon_buffer_free(b);
}

}  // namespace
