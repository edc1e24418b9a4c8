// SPDX-License-Identifier: MIT
// The C++ handshake options: deadlines on both sides, a false "prepared listener" claim failing
// closed, the socket type given by the caller.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "monitor/monitor.hpp"
#include "support/handshake_driver.hpp"
#include "support/test_support.hpp"

namespace mon {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using test::fd_leak_check;
using test::make_pair;

// A server that never answers: the client's blocking step ends at its deadline.
TEST(HandshakeOptions, ClientDeadlineEndsABlockingStep) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  client_options opts;
  opts.deadline = steady_clock::now() + milliseconds(50);
  client_handshake client(pair.a.get(), opts);
  auto r = client.step();  // the hello goes out; the reply never comes
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), errc::io);
  EXPECT_EQ(r.err().sys_errno, ETIMEDOUT);
  EXPECT_EQ(client.step().err().sys_errno, ETIMEDOUT);  // sticky
}

TEST(HandshakeOptions, ServerDeadlineAndSetDeadlineOnlyBeforeTheStart) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_SEQPACKET);
  server_handshake server(pair.b.get());
  ASSERT_TRUE(server.set_deadline(steady_clock::now() + milliseconds(30)).ok());
  auto r = server.step();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().sys_errno, ETIMEDOUT);
  EXPECT_EQ(server.set_deadline(steady_clock::now()).code(), errc::invalid);  // started already
  EXPECT_EQ(server.peer(), peer_credentials{});
}

// Claiming a prepared listener for a socket whose SO_PASSCRED is off: the hello arrives without
// kernel credentials, and the server denies it (never trusts the claim for identity).
TEST(HandshakeOptions, AFalsePreparedListenerClaimFailsClosed) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  int client_rc = 1;
  std::thread c([&] { client_rc = test::run_client(pair.a.get()); });
  server_options opts;
  opts.prepared_listener = true;
  server_handshake server(pair.b.get(), nullptr, nullptr, opts);
  auto r = server.step();
  c.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), errc::denied);
  EXPECT_EQ(server.reason(), deny_reason::credentials);
  EXPECT_EQ(server.last_fault(), fault::credentials_missing);
  EXPECT_EQ(client_rc, MON_ERR_DENIED);
}

TEST(HandshakeOptions, AWrongSocketTypeIsRefusedAtStart) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  client_options opts;
  opts.socket_type = SOCK_DGRAM;
  client_handshake client(pair.a.get(), opts);
  EXPECT_EQ(client.start().code(), errc::invalid);
}

}  // namespace
}  // namespace mon
