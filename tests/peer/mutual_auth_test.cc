// SPDX-License-Identifier: MIT
// Mutual authentication: the client asks the kernel who created the listening socket and refuses a
// server without the uid it requires, before a single byte of the hello leaves.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "auth/machines.hpp"
#include "monitor/monitor.hpp"
#include "peer/peer_support.hpp"
#include "support/test_support.hpp"

namespace mon {
namespace {

using test::fd_leak_check;
using test::fork_child;
using test::gate;
using test::make_pair;
using test::wait_child;

// A world-writable directory, as /tmp or /run/user may be: anyone can bind a path in it.
struct open_dir {
  std::string dir;
  std::string path;
  open_dir() {
    char tmpl[] = "/tmp/monitor-squat-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
    dir = tmpl;
    ::chmod(dir.c_str(), 01777);
    path = dir + "/service.sock";
  }
  ~open_dir() {
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
};

unique_fd connect_to(const std::string& path) {
  unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return {};
  return fd;
}

// The attack: an unprivileged process (nobody) binds the path the client expects a root service
// on. The client requiring uid 0 refuses it with MON_ERR_DENIED, and the squatter receives nothing
// at all (it reports how many bytes reached it as its exit code).
TEST(PeerMutualAuth, SocketSquattedByNobodyIsRefusedBeforeTheHello) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to play both sides";
  fd_leak_check leaks;
  open_dir where;
  gate listening;
  const pid_t squatter = fork_child([&] {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) return 120;
    unique_fd l(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, where.path.c_str(), sizeof addr.sun_path - 1);
    if (::bind(l.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 121;
    if (::listen(l.get(), 4) != 0) return 122;
    listening.open();
    unique_fd conn(::accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) return 123;
    char buf[64];
    int total = 0;
    for (;;) {  // until the client closes: count what it sent
      const ssize_t n = ::read(conn.get(), buf, sizeof buf);
      if (n <= 0) break;
      total += static_cast<int>(n);
    }
    return total;
  });
  ASSERT_TRUE(listening.wait());
  {
    auto fd = connect_to(where.path);
    ASSERT_TRUE(fd.valid());
    void* st = nullptr;
    ASSERT_EQ(mon_ipc_auth_client_init(fd.get(), &st), MON_CONTINUE);
    mon_ipc_creds server{};
    ASSERT_EQ(mon_ipc_auth_client_peer_creds(st, &server), MON_OK);
    EXPECT_EQ(server.pid, squatter);
    EXPECT_EQ(server.uid, 65534u);
    EXPECT_EQ(server.gid, 65534u);
    ASSERT_EQ(mon_ipc_auth_client_require_uid(st, 0), MON_OK);
    EXPECT_EQ(mon_ipc_auth_client_step(fd.get(), st), MON_ERR_DENIED);
    EXPECT_EQ(mon_ipc_auth_client_step(fd.get(), st), MON_ERR_DENIED);  // sticky
    mon_ipc_auth_client_end(st);
  }  // closing the connection ends the squatter's read loop
  EXPECT_EQ(wait_child(squatter), 0) << "the squatter received bytes of the hello";
}

// The same client against a listener that root created goes through.
TEST(PeerMutualAuth, RequiredUidPresentIsAccepted) {
  fd_leak_check leaks;
  test::listener l(SOCK_STREAM);
  const uid_t me = ::geteuid();
  const pid_t client = fork_child([&] {
    auto fd = l.connect();
    if (!fd) return 90;
    return test::exit_code(test::run_client_requiring(fd.get(), me));
  });
  auto conn = l.accept();
  mon_ipc_creds creds{};
  EXPECT_EQ(test::run_server(conn.get(), &creds), MON_OK);
  EXPECT_EQ(wait_child(client), 0);
}

TEST(PeerMutualAuth, CppClientSeesTheServerAndRefusesAnotherUid) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  client_handshake client(pair.a.get());
  auto server = client.server_credentials();
  ASSERT_TRUE(server);
  EXPECT_EQ(server.value().pid, ::getpid());  // a socketpair's creator
  EXPECT_EQ(server.value().uid, ::geteuid());
  ASSERT_TRUE(client.require_server_uid(::geteuid() + 1));
  auto r = client.step();
  EXPECT_EQ(r.code(), errc::denied);
  EXPECT_EQ(client.reason(), deny_reason::none);  // our refusal, not the server's
  int pending = -1;
  ASSERT_EQ(::ioctl(pair.b.get(), FIONREAD, &pending), 0);
  EXPECT_EQ(pending, 0);  // not a byte written
}

TEST(PeerMutualAuth, RequireComesBeforeTheHelloOrNotAtAll) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  void* st = nullptr;
  ASSERT_EQ(mon_ipc_auth_client_init(pair.a.get(), &st), MON_CONTINUE);
  EXPECT_EQ(mon_ipc_auth_client_require_uid(st, static_cast<uid_t>(-1)), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_auth_client_step(pair.a.get(), st), MON_WANT_READ);  // hello sent
  EXPECT_EQ(mon_ipc_auth_client_require_uid(st, 0), MON_ERR_INVALID);    // too late to matter
  mon_ipc_auth_client_end(st);
  EXPECT_EQ(mon_ipc_auth_client_require_uid(nullptr, 0), MON_ERR_INVALID);
  mon_ipc_creds out{};
  EXPECT_EQ(mon_ipc_auth_client_peer_creds(nullptr, &out), MON_ERR_INVALID);
  // A server state is not a client state.
  void* s = nullptr;
  ASSERT_EQ(mon_ipc_auth_server_init(pair.b.get(), &out, &s), MON_CONTINUE);
  EXPECT_EQ(mon_ipc_auth_client_require_uid(s, 0), MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_auth_client_peer_creds(s, &out), MON_ERR_INVALID);
  mon_ipc_auth_server_end(s);
}

// The pure machine: the check happens before the hello is offered, and only then.
TEST(PeerMutualAuth, MachineRefusesBeforeOfferingTheHello) {
  auth::client_machine m(false);
  ASSERT_EQ(m.next(), auth::want::write);
  m.verify_server(peer_credentials{1, 0, 0}, 0);  // right uid: nothing changes
  EXPECT_EQ(m.next(), auth::want::write);
  EXPECT_FALSE(m.hello_started());
  m.verify_server(peer_credentials{1, 1000, 1000}, 0);
  EXPECT_EQ(m.next(), auth::want::failed);
  EXPECT_EQ(m.err().code, errc::denied);

  auth::client_machine late(false);
  late.on_written(1);  // a byte of the hello is out
  EXPECT_TRUE(late.hello_started());
  late.verify_server(peer_credentials{1, 0, 0}, 0);
  EXPECT_EQ(late.err().code, errc::invalid);
}

}  // namespace
}  // namespace mon
