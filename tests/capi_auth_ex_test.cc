// SPDX-License-Identifier: MIT
// mon_ipc_auth_*_init_ex: handshake states in caller storage (no allocation), options (prepared
// listener, known socket type, descriptors refused for good, a deadline).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>

#include "monitor/monitor.h"
#include "support/test_support.hpp"

// Counts the allocations this binary makes (the library is linked in): an init_ex with storage
// must make none. ThreadSanitizer's runtime defines operator new itself, so there the count is
// not taken (the other configurations run the check).
#if defined(__SANITIZE_THREAD__)
#define MON_TEST_COUNTS_NEW 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MON_TEST_COUNTS_NEW 0
#endif
#endif
#ifndef MON_TEST_COUNTS_NEW
#define MON_TEST_COUNTS_NEW 1
#endif

namespace {
std::atomic<long> allocations{0};
}  // namespace
#if MON_TEST_COUNTS_NEW
void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace mon {
namespace {

using test::fd_leak_check;
using test::make_pair;

int option_of(int fd, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  if (::getsockopt(fd, SOL_SOCKET, name, &v, &len) != 0) return -1;
  return v;
}

// Runs a whole handshake over a connected pair, both states in caller storage.
void handshake_in_storage(int client_fd, int server_fd, const mon_auth_options* server_opts,
                          mon_ipc_creds* creds, long* allocs) {
  mon_auth_storage cs, ss;
  void* c = nullptr;
  void* s = nullptr;
  const long before = allocations.load();
  ASSERT_EQ(mon_ipc_auth_client_init_ex(client_fd, nullptr, &cs, &c), MON_CONTINUE);
  ASSERT_EQ(mon_ipc_auth_server_init_ex(server_fd, creds, server_opts, &ss, &s), MON_CONTINUE);
  EXPECT_EQ(c, static_cast<void*>(&cs));
  EXPECT_EQ(s, static_cast<void*>(&ss));
  int rc_c = MON_CONTINUE, rc_s = MON_CONTINUE;
  std::thread t([&] {
    while (rc_c == MON_CONTINUE) rc_c = mon_ipc_auth_client_step(client_fd, c);
  });
  while (rc_s == MON_CONTINUE) rc_s = mon_ipc_auth_server_step(server_fd, s);
  t.join();
  *allocs = allocations.load() - before - 1;  // the std::thread's own state
  EXPECT_EQ(rc_c, MON_OK);
  EXPECT_EQ(rc_s, MON_OK);
  mon_ipc_auth_client_end(c);
  mon_ipc_auth_server_end(s);
  mon_ipc_auth_client_end(c);  // ended already: a no-op, never a double destruction
  mon_ipc_auth_server_end(s);
}

TEST(CApiAuthEx, StatesInCallerStorageAllocateNothing) {
  fd_leak_check leaks;
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    auto listener = unique_fd(
        mon_unix_listen(("/tmp/mon-authex-" + std::to_string(::getpid())).c_str(), type, 0600, 0));
    ASSERT_TRUE(listener.valid());
    unique_fd client(
        mon_unix_connect(("/tmp/mon-authex-" + std::to_string(::getpid())).c_str(), type, 0));
    ASSERT_TRUE(client.valid());
    int conn_fd = -1;
    ASSERT_EQ(mon_unix_accept(listener.get(), 0, &conn_fd), MON_OK);
    unique_fd conn(conn_fd);
    ::unlink(("/tmp/mon-authex-" + std::to_string(::getpid())).c_str());
    mon_ipc_creds creds{};
    long allocs = -1;
    const mon_auth_options opts{MON_AUTH_PREPARED_LISTENER, type, 0};
    handshake_in_storage(client.get(), conn.get(), &opts, &creds, &allocs);
    if (MON_TEST_COUNTS_NEW) {
      EXPECT_EQ(allocs, 0);
    }
    EXPECT_EQ(creds.pid, ::getpid());
    EXPECT_EQ(creds.uid, ::geteuid());
    // After the handshake the connection takes descriptors and no credentials ride on frames.
    EXPECT_EQ(option_of(conn.get(), SO_PASSCRED), 0);
    EXPECT_EQ(option_of(conn.get(), 83 /* SO_PASSRIGHTS */), 1);
  }
}

TEST(CApiAuthEx, RefuseDescriptorsKeepsThemRefused) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  mon_ipc_creds creds{};
  long allocs = -1;
  const mon_auth_options opts{MON_AUTH_REFUSE_DESCRIPTORS, SOCK_STREAM, 0};
  handshake_in_storage(pair.a.get(), pair.b.get(), &opts, &creds, &allocs);
  EXPECT_EQ(option_of(pair.b.get(), 83 /* SO_PASSRIGHTS */), 0);
  EXPECT_EQ(option_of(pair.b.get(), SO_PASSCRED), 0);
}

TEST(CApiAuthEx, RefusesOptionsOutOfRange) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  mon_auth_storage st;
  void* state = &st;
  mon_ipc_creds creds{};
  const mon_auth_options unknown_flag{0x80u, 0, 0};
  const mon_auth_options bad_type{0, SOCK_DGRAM, 0};
  const mon_auth_options negative{0, 0, -1};
  const mon_auth_options prepared{MON_AUTH_PREPARED_LISTENER, 0, 0};
  for (const auto* o : {&unknown_flag, &bad_type, &negative}) {
    EXPECT_EQ(mon_ipc_auth_client_init_ex(pair.a.get(), o, &st, &state), MON_ERR_INVALID);
    EXPECT_EQ(state, nullptr);
    EXPECT_EQ(mon_ipc_auth_server_init_ex(pair.b.get(), &creds, o, &st, &state), MON_ERR_INVALID);
    EXPECT_EQ(state, nullptr);
  }
  // The prepared-listener claim is the server's to make.
  EXPECT_EQ(mon_ipc_auth_client_init_ex(pair.a.get(), &prepared, &st, &state), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_auth_client_init_ex(pair.a.get(), nullptr, &st, nullptr), MON_ERR_INVALID);
}

// A silent client: with a deadline, one blocking step ends in ETIMEDOUT (sticky) instead of
// waiting forever.
TEST(CApiAuthEx, ADeadlineEndsABlockingStepWithASilentPeer) {
  fd_leak_check leaks;
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    auto pair = make_pair(type);  // blocking
    mon_auth_storage st;
    void* state = nullptr;
    mon_ipc_creds creds{};
    const mon_auth_options opts{0, 0, 50};
    ASSERT_EQ(mon_ipc_auth_server_init_ex(pair.b.get(), &creds, &opts, &st, &state), MON_CONTINUE);
    errno = 0;
    EXPECT_EQ(mon_ipc_auth_server_step(pair.b.get(), state), MON_ERR_IO);
    EXPECT_EQ(errno, ETIMEDOUT);
    EXPECT_EQ(mon_ipc_auth_server_step(pair.b.get(), state), MON_ERR_IO);  // sticky
    EXPECT_EQ(creds.pid, MON_IPC_PID_UNKNOWN);
    mon_ipc_auth_server_end(state);
    // The socket is left as it was found: blocking (the deadline polled; it never set O_NONBLOCK).
    EXPECT_EQ(::fcntl(pair.b.get(), F_GETFL) & O_NONBLOCK, 0);
  }
}

// On a non-blocking socket the deadline does not change the step API: MON_WANT_READ until the
// deadline has passed, then ETIMEDOUT.
TEST(CApiAuthEx, ADeadlineOnANonBlockingSocketKeepsTheStepApi) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  mon_auth_storage st;
  void* state = nullptr;
  mon_ipc_creds creds{};
  const mon_auth_options opts{0, SOCK_STREAM, 30};
  ASSERT_EQ(mon_ipc_auth_server_init_ex(pair.b.get(), &creds, &opts, &st, &state), MON_CONTINUE);
  EXPECT_EQ(mon_ipc_auth_server_step(pair.b.get(), state), MON_WANT_READ);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  errno = 0;
  EXPECT_EQ(mon_ipc_auth_server_step(pair.b.get(), state), MON_ERR_IO);
  EXPECT_EQ(errno, ETIMEDOUT);
  mon_ipc_auth_server_end(state);
}

}  // namespace
}  // namespace mon
