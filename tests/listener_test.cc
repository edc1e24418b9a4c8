// SPDX-License-Identifier: MIT
// Listening, connecting, accepting and socket activation (include/monitor/listener.hpp): which
// paths listen_unix replaces and which it leaves alone, abstract names, the prepared listener's
// refusal of early descriptors, and the LISTEN_* protocol, read by hand and from
// systemd-socket-activate.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/activation.hpp"
#include "monitor/monitor.hpp"
#include "support/test_support.hpp"

namespace {

using mon::errc;

constexpr int so_passrights = 83;  // SO_PASSRIGHTS (Linux 6.16), absent from glibc 2.36

int int_option(int fd, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  if (::getsockopt(fd, SOL_SOCKET, name, &v, &len) != 0) return -errno;
  return v;
}

bool kernel_has_passrights() {
  mon::unique_fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return int_option(s.get(), so_passrights) >= 0;
}

// A private directory for socket paths, removed with what is left in it.
class ListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mon-listener.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    const std::string cmd = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  [[nodiscard]] std::string path(const char* name) const { return dir_ + "/" + name; }

  // A socket file at p whose server is gone: bound, listened on, closed.
  static void make_stale_socket(const std::string& p) {
    mon::unique_fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, p.c_str(), sizeof a.sun_path - 1);
    ASSERT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(s.get(), 1), 0);
  }

  static ino_t inode_of(const std::string& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0 ? st.st_ino : 0;
  }

  std::string dir_;
};

TEST_F(ListenerTest, ListensWithTheModeAndThePreparedOptions) {
  const mode_t old = ::umask(027);  // takes bits the caller asked for: listen_unix puts them back
  mon::listen_options o;
  o.mode = 0666;
  auto l = mon::listen_unix(path("s").c_str(), o);
  ::umask(old);
  ASSERT_TRUE(l.ok()) << mon::to_string(l.code());
  struct stat st {};
  ASSERT_EQ(::lstat(path("s").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0666u);
  const int fd = l.value().get();
  EXPECT_TRUE(mon::test::is_cloexec(fd));
  EXPECT_EQ(int_option(fd, SO_ACCEPTCONN), 1);
  EXPECT_EQ(int_option(fd, SO_PASSCRED), 1);
  if (kernel_has_passrights()) {
    EXPECT_EQ(int_option(fd, so_passrights), 0);
  }
  EXPECT_EQ(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
}

TEST_F(ListenerTest, DefaultModeIsOwnerOnly) {
  auto l = mon::listen_unix(path("s").c_str());
  ASSERT_TRUE(l.ok());
  struct stat st {};
  ASSERT_EQ(::lstat(path("s").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(ListenerTest, StaleSocketIsReplaced) {
  make_stale_socket(path("s"));
  ASSERT_EQ(mon::connect_unix(path("s").c_str()).err(), (mon::error{errc::io, ECONNREFUSED}));
  auto l = mon::listen_unix(path("s").c_str());
  ASSERT_TRUE(l.ok()) << mon::to_string(l.code()) << " errno " << l.err().sys_errno;
  auto c = mon::connect_unix(path("s").c_str());  // the new server answers
  ASSERT_TRUE(c.ok());
  mon::unique_fd conn;
  ASSERT_TRUE(mon::accept_unix(l.value().get(), conn).ok());
  EXPECT_TRUE(conn.valid());
}

TEST_F(ListenerTest, LiveSocketIsNotRemoved) {
  auto first = mon::listen_unix(path("s").c_str());
  ASSERT_TRUE(first.ok());
  const ino_t live = inode_of(path("s"));
  auto second = mon::listen_unix(path("s").c_str());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.err(), (mon::error{errc::io, EADDRINUSE}));
  EXPECT_EQ(inode_of(path("s")), live);
  auto c = mon::connect_unix(path("s").c_str());  // the first server still gets its clients
  ASSERT_TRUE(c.ok());
  mon::unique_fd conn;
  auto a = mon::accept_unix(first.value().get(), conn);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(conn.valid());
}

TEST_F(ListenerTest, LiveSocketWithAFullBacklogIsNotRemoved) {
  mon::listen_options o;
  o.backlog = 0;
  auto first = mon::listen_unix(path("s").c_str(), o);
  ASSERT_TRUE(first.ok());
  std::vector<mon::unique_fd> queued;  // fill the backlog: a probe connect then gets EAGAIN
  for (int i = 0; i < 4; ++i) {
    mon::connect_options c;
    c.nonblocking = true;
    auto r = mon::connect_unix(path("s").c_str(), c);
    if (!r) break;
    queued.push_back(std::move(r.value()));
  }
  auto second = mon::listen_unix(path("s").c_str());
  EXPECT_EQ(second.err(), (mon::error{errc::io, EADDRINUSE}));
}

TEST_F(ListenerTest, RegularFileIsNotRemoved) {
  { std::ofstream(path("s")) << "keep me"; }
  auto l = mon::listen_unix(path("s").c_str());
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.err(), (mon::error{errc::io, EADDRINUSE}));
  std::ifstream in(path("s"));
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "keep me");
}

TEST_F(ListenerTest, SymlinkToAStaleSocketIsNotFollowedOrRemoved) {
  make_stale_socket(path("target"));
  ASSERT_EQ(::symlink(path("target").c_str(), path("s").c_str()), 0);
  auto l = mon::listen_unix(path("s").c_str());
  EXPECT_EQ(l.err(), (mon::error{errc::io, EADDRINUSE}));
  struct stat st {};
  ASSERT_EQ(::lstat(path("s").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_EQ(::lstat(path("target").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
}

TEST_F(ListenerTest, AbstractNamesAreRefusedUnlessAsked) {
  const std::string name = "@mon-listener-test-" + std::to_string(::getpid());
  auto refused = mon::listen_unix(name.c_str());
  EXPECT_EQ(refused.err(), (mon::error{errc::invalid, 0}));
  auto refused_connect = mon::connect_unix(name.c_str());
  EXPECT_EQ(refused_connect.err(), (mon::error{errc::invalid, 0}));

  mon::listen_options lo;
  lo.allow_abstract = true;
  auto l = mon::listen_unix(name.c_str(), lo);
  ASSERT_TRUE(l.ok()) << mon::to_string(l.code());
  mon::connect_options co;
  co.allow_abstract = true;
  auto c = mon::connect_unix(name.c_str(), co);
  EXPECT_TRUE(c.ok());
  // And through the C ABI.
  EXPECT_EQ(mon_unix_connect(name.c_str(), SOCK_STREAM, 0), MON_ERR_INVALID);
  const int fd = mon_unix_connect(name.c_str(), SOCK_STREAM, MON_UNIX_ALLOW_ABSTRACT);
  EXPECT_GE(fd, 0);
  if (fd >= 0) ::close(fd);
}

TEST_F(ListenerTest, BadArgumentsAreInvalid) {
  const mon::error invalid{errc::invalid, 0};
  EXPECT_EQ(mon::listen_unix(nullptr).err(), invalid);
  EXPECT_EQ(mon::listen_unix("").err(), invalid);
  EXPECT_EQ(mon::listen_unix("@").err(), invalid);
  const std::string too_long(sizeof(sockaddr_un::sun_path), 'x');  // no room for the NUL
  EXPECT_EQ(mon::listen_unix(too_long.c_str()).err(), invalid);
  mon::listen_options o;
  o.mode = 04700;
  EXPECT_EQ(mon::listen_unix(path("s").c_str(), o).err(), invalid);
  o = {};
  o.backlog = -1;
  EXPECT_EQ(mon::listen_unix(path("s").c_str(), o).err(), invalid);
  EXPECT_EQ(mon_unix_listen(path("s").c_str(), SOCK_DGRAM, 0600, 0), MON_ERR_INVALID);
  EXPECT_EQ(mon_unix_listen(path("s").c_str(), SOCK_STREAM, 0600, 0x80u), MON_ERR_INVALID);
  EXPECT_EQ(inode_of(path("s")), 0u);  // nothing was created
}

TEST_F(ListenerTest, ConnectReportsWhyNobodyAnswered) {
  auto absent = mon::connect_unix(path("none").c_str());
  EXPECT_EQ(absent.err(), (mon::error{errc::io, ENOENT}));
  make_stale_socket(path("stale"));
  auto stale = mon::connect_unix(path("stale").c_str());
  EXPECT_EQ(stale.err(), (mon::error{errc::io, ECONNREFUSED}));
}

TEST_F(ListenerTest, AcceptIsCloseOnExecAndNonBlockingWhenAsked) {
  mon::listen_options o;
  o.type = mon::socket_type::seqpacket;
  o.nonblocking = true;
  auto l = mon::listen_unix(path("s").c_str(), o);
  ASSERT_TRUE(l.ok());
  mon::unique_fd conn(::dup(0));
  auto nothing = mon::accept_unix(l.value().get(), conn, true);
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(nothing.value(), mon::progress::want_read);
  EXPECT_FALSE(conn.valid());

  mon::connect_options co;
  co.type = mon::socket_type::seqpacket;
  auto c = mon::connect_unix(path("s").c_str(), co);
  ASSERT_TRUE(c.ok());
  auto got = mon::accept_unix(l.value().get(), conn, true);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value(), mon::progress::done);
  ASSERT_TRUE(conn.valid());
  EXPECT_TRUE(mon::test::is_cloexec(conn.get()));
  EXPECT_NE(::fcntl(conn.get(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_EQ(int_option(conn.get(), SO_TYPE), SOCK_SEQPACKET);

  int out = 7;
  EXPECT_EQ(mon_unix_accept(l.value().get(), MON_UNIX_NONBLOCK, &out), MON_WANT_READ);
  EXPECT_EQ(out, -1);
  EXPECT_EQ(mon_unix_accept(conn.get(), 0, &out), MON_ERR_INVALID);  // not listening (EINVAL)
}

// Linux >= 6.16: SO_PASSRIGHTS = 0 on the listener reaches the connection before accept(), so a
// client cannot park a descriptor in the server's queue.
TEST_F(ListenerTest, PreparedListenerRefusesDescriptorsBeforeAccept) {
  if (!kernel_has_passrights()) GTEST_SKIP() << "kernel without SO_PASSRIGHTS (Linux < 6.16)";
  for (const auto type : {mon::socket_type::stream, mon::socket_type::seqpacket}) {
    const std::string p = path(type == mon::socket_type::stream ? "stream" : "seqpacket");
    mon::listen_options o;
    o.type = type;
    auto l = mon::listen_unix(p.c_str(), o);
    ASSERT_TRUE(l.ok());
    mon::connect_options co;
    co.type = type;
    auto c = mon::connect_unix(p.c_str(), co);
    ASSERT_TRUE(c.ok());
    mon::unique_fd gift = mon::test::some_fd();
    const int fds[] = {gift.get()};
    mon::message_buffer buf;
    const char b[] = "x";
    ASSERT_TRUE(buf.append(std::as_bytes(std::span(b, 1))).ok());
    auto sent = mon::send_message(c.value().get(), buf, fds);
    ASSERT_FALSE(sent.ok());
    EXPECT_EQ(sent.err(), (mon::error{errc::io, EPERM}));
    // Data alone still goes through.
    mon::message_buffer plain;
    ASSERT_TRUE(plain.append(std::as_bytes(std::span(b, 1))).ok());
    EXPECT_TRUE(mon::send_message(c.value().get(), plain).ok());
  }
}

TEST_F(ListenerTest, HandshakeOverAListenedAndAcceptedConnection) {
  auto l = mon::listen_unix(path("s").c_str());
  ASSERT_TRUE(l.ok());
  auto c = mon::connect_unix(path("s").c_str());
  ASSERT_TRUE(c.ok());
  std::thread client([fd = c.value().get()] {
    mon::client_handshake hs(fd);
    auto r = hs.step();
    EXPECT_TRUE(r.ok()) << mon::to_string(r.code());
  });
  mon::unique_fd conn;
  ASSERT_TRUE(mon::accept_unix(l.value().get(), conn).ok());
  mon::server_handshake hs(conn.get());
  auto r = hs.step();
  client.join();
  ASSERT_TRUE(r.ok()) << mon::to_string(r.code());
  EXPECT_EQ(hs.peer().pid, ::getpid());
  EXPECT_EQ(hs.peer().uid, ::geteuid());
}

TEST_F(ListenerTest, PrepareListenerChecksTheSocket) {
  const mon::error invalid{errc::invalid, 0};
  EXPECT_EQ(mon::prepare_listener(-1).err(), invalid);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  mon::unique_fd r(p[0]), w(p[1]);
  EXPECT_EQ(mon::prepare_listener(r.get()).code(), errc::invalid);  // ENOTSOCK
  mon::unique_fd udp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::listen(udp.get(), 1), 0);
  EXPECT_EQ(mon::prepare_listener(udp.get()).err(), invalid);  // not AF_UNIX
  auto pair = mon::test::make_pair(SOCK_STREAM);
  EXPECT_EQ(mon::prepare_listener(pair.a.get()).err(), invalid);  // connected, not listening
  EXPECT_EQ(int_option(pair.a.get(), SO_PASSCRED), 0);            // and left alone
  mon::unique_fd dgram(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(mon_listener_prepare(dgram.get()), MON_ERR_INVALID);

  mon::test::listener plain(SOCK_SEQPACKET);  // listening, made without the helpers
  ASSERT_EQ(int_option(plain.fd(), SO_PASSCRED), 0);
  EXPECT_EQ(mon_listener_prepare(plain.fd()), MON_OK);
  EXPECT_EQ(int_option(plain.fd(), SO_PASSCRED), 1);
  if (kernel_has_passrights()) {
    EXPECT_EQ(int_option(plain.fd(), so_passrights), 0);
  }
}

TEST_F(ListenerTest, CListenConnectAcceptRoundTrip) {
  const int l = mon_unix_listen(path("s").c_str(), SOCK_SEQPACKET, 0660, 0);
  ASSERT_GE(l, 0);
  mon::unique_fd lf(l);
  const int c = mon_unix_connect(path("s").c_str(), SOCK_SEQPACKET, 0);
  ASSERT_GE(c, 0);
  mon::unique_fd cf(c);
  int a = -1;
  ASSERT_EQ(mon_unix_accept(l, 0, &a), MON_OK);
  mon::unique_fd af(a);
  EXPECT_TRUE(mon::test::is_cloexec(a));
  EXPECT_EQ(::write(c, "hi", 2), 2);
  char got[2];
  EXPECT_EQ(::read(a, got, 2), 2);
  // A second server on the same path is refused, errno kept. (Its probe connection reaches the
  // live server as a connection that closes at once: accepted here, it reads end of file.)
  EXPECT_EQ(mon_unix_listen(path("s").c_str(), SOCK_SEQPACKET, 0660, 0), MON_ERR_IO);
  EXPECT_EQ(errno, EADDRINUSE);
  int probe = -1;
  ASSERT_EQ(mon_unix_accept(l, MON_UNIX_NONBLOCK, &probe), MON_OK);
  mon::unique_fd pf(probe);
  EXPECT_EQ(::read(probe, got, 2), 0);
}

// ---- The pure parts ----

TEST(ListenerParse, AddressesAreBoundedAndAbstractIsExplicit) {
  auto fs = mon::core::make_address("/run/x", false);
  ASSERT_TRUE(fs.ok());
  EXPECT_STREQ(fs.value().sun.sun_path, "/run/x");
  EXPECT_EQ(fs.value().len, offsetof(sockaddr_un, sun_path) + 7);
  EXPECT_FALSE(mon::core::make_address("@name", false).ok());
  auto ab = mon::core::make_address("@name", true);
  ASSERT_TRUE(ab.ok());
  EXPECT_EQ(ab.value().sun.sun_path[0], '\0');
  EXPECT_EQ(std::memcmp(ab.value().sun.sun_path + 1, "name", 4), 0);
  EXPECT_EQ(ab.value().len, offsetof(sockaddr_un, sun_path) + 5);  // no NUL counted
  const std::string longest(sizeof(sockaddr_un::sun_path) - 1, 'a');
  EXPECT_TRUE(mon::core::make_address(longest.c_str(), false).ok());
  EXPECT_FALSE(mon::core::make_address((longest + "a").c_str(), false).ok());
  EXPECT_TRUE(mon::core::make_address(("@" + longest).c_str(), true).ok());
  EXPECT_FALSE(mon::core::make_address(("@" + longest + "a").c_str(), true).ok());
}

TEST(ListenerParse, EnvironmentNumbersAreDigitsInRange) {
  using mon::core::parse_env_number;
  EXPECT_EQ(parse_env_number("0", 10), 0u);
  EXPECT_EQ(parse_env_number("10", 10), 10u);
  EXPECT_EQ(parse_env_number("4194304", 2147483647), 4194304u);
  for (const char* bad :
       {"", "11", "-1", "+1", " 1", "1 ", "0x1", "1a", "99999999999999999999999"}) {
    EXPECT_FALSE(parse_env_number(bad, 10).has_value()) << bad;
  }
  EXPECT_FALSE(parse_env_number(nullptr, 10).has_value());
  EXPECT_FALSE(parse_env_number("18446744073709551616", ~0ul).has_value());  // 2^64
  EXPECT_EQ(parse_env_number("18446744073709551615", ~0ul), ~0ul);
}

TEST(ListenerParse, NamesMatchTheCountAndAreBounded) {
  std::vector<mon::activated_socket> out(3);
  ASSERT_TRUE(mon::core::split_names("api:admin:", out).ok());
  EXPECT_STREQ(out[0].name, "api");
  EXPECT_STREQ(out[1].name, "admin");
  EXPECT_STREQ(out[2].name, "");
  ASSERT_TRUE(mon::core::split_names(nullptr, out).ok());
  EXPECT_STREQ(out[2].name, "unknown");
  EXPECT_FALSE(mon::core::split_names("a:b", out).ok());
  EXPECT_FALSE(mon::core::split_names("a:b:c:d", out).ok());
  EXPECT_FALSE(mon::core::split_names("a:b\n:c", out).ok());
  const std::string longest(mon::listen_name_max, 'n');
  std::vector<mon::activated_socket> one(1);
  EXPECT_TRUE(mon::core::split_names(longest.c_str(), one).ok());
  EXPECT_FALSE(mon::core::split_names((longest + "n").c_str(), one).ok());
}

// ---- Socket activation, with the variables set by the test ----
//
// Each case runs in a child process: the sockets must sit at descriptors 3, 4, ... and the
// environment is process-wide. The child returns 0, or the number of the check that failed.

struct passed_socket {
  int type;
  bool listening = true;
};

// In the child: puts sockets at 3.. (not close-on-exec, as a service manager passes them).
int place_sockets(const std::vector<passed_socket>& socks) {
  for (std::size_t i = 0; i < socks.size(); ++i) {
    const int s = ::socket(AF_UNIX, socks[i].type, 0);
    if (s < 0) return 100;
    if (socks[i].listening) {
      sockaddr_un a{};
      a.sun_family = AF_UNIX;  // autobind: an abstract name the kernel picks
      if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(sa_family_t)) != 0) return 101;
      if (::listen(s, 4) != 0) return 102;
    }
    const int target = 3 + static_cast<int>(i);
    if (s != target) {
      if (::dup2(s, target) != target) return 103;
      ::close(s);
    }
  }
  return 0;
}

void set_env(const std::string& pid, const char* fds, const char* names) {
  ::setenv("LISTEN_PID", pid.c_str(), 1);
  if (fds != nullptr) ::setenv("LISTEN_FDS", fds, 1);
  if (names != nullptr) ::setenv("LISTEN_FDNAMES", names, 1);
}

bool env_cleared() {
  return std::getenv("LISTEN_PID") == nullptr && std::getenv("LISTEN_FDS") == nullptr &&
         std::getenv("LISTEN_FDNAMES") == nullptr;
}

int run_child(const std::function<int()>& fn) {
  return mon::test::wait_child(mon::test::fork_child(fn, 10));
}

TEST(Activation, TakesTypedNamedSocketsAndClearsTheEnvironment) {
  EXPECT_EQ(run_child([] {
              if (int e = place_sockets({{SOCK_STREAM}, {SOCK_SEQPACKET}})) return e;
              set_env(std::to_string(::getpid()), "2", "api:admin");
              std::vector<mon::activated_socket> out(4);
              auto r = mon::listen_fds(out);
              if (!r || r.value() != 2) return 1;
              if (!env_cleared()) return 2;
              if (out[0].fd.get() != 3 || out[1].fd.get() != 4) return 3;
              if (out[0].type != mon::socket_type::stream) return 4;
              if (out[1].type != mon::socket_type::seqpacket) return 5;
              if (std::strcmp(out[0].name, "api") != 0 || std::strcmp(out[1].name, "admin") != 0)
                return 6;
              for (int fd : {3, 4}) {
                if (!mon::test::is_cloexec(fd)) return 7;
                if (int_option(fd, SO_PASSCRED) != 1) return 8;
                if (kernel_has_passrights() && int_option(fd, so_passrights) != 0) return 9;
                if ((::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0) return 10;
              }
              return 0;
            }),
            0);
}

TEST(Activation, CAbiTakesSocketsNonBlockingWithDefaultNames) {
  EXPECT_EQ(run_child([] {
              if (int e = place_sockets({{SOCK_SEQPACKET}})) return e;
              set_env(std::to_string(::getpid()), "1", nullptr);
              mon_listen_socket out[2];
              size_t n = 9;
              if (mon_listen_fds(SOCK_SEQPACKET, MON_UNIX_NONBLOCK, out, 2, &n) != MON_OK) return 1;
              if (n != 1 || out[0].fd != 3 || out[0].type != SOCK_SEQPACKET) return 2;
              if (std::strcmp(out[0].name, "unknown") != 0) return 3;
              if ((::fcntl(3, F_GETFL) & O_NONBLOCK) == 0) return 4;
              if (!env_cleared()) return 5;
              return 0;
            }),
            0);
}

TEST(Activation, NoVariablesMeansNoSockets) {
  EXPECT_EQ(run_child([] {
              ::unsetenv("LISTEN_PID");
              std::vector<mon::activated_socket> out(1);
              auto r = mon::listen_fds(out);
              return r && r.value() == 0 && !out[0].fd.valid() ? 0 : 1;
            }),
            0);
}

TEST(Activation, AnotherProcessesPidTakesNothingAndTouchesNothing) {
  EXPECT_EQ(run_child([] {
              if (int e = place_sockets({{SOCK_STREAM}})) return e;
              set_env(std::to_string(::getpid() + 1), "1", "api");
              std::vector<mon::activated_socket> out(1);
              auto r = mon::listen_fds(out);
              if (!r || r.value() != 0 || out[0].fd.valid()) return 1;
              if (mon::test::is_cloexec(3) || int_option(3, SO_PASSCRED) != 0) return 2;
              if (!env_cleared()) return 3;
              return 0;
            }),
            0);
}

TEST(Activation, WrongTypeIsRefusedAndTheSocketsLeftAlone) {
  EXPECT_EQ(run_child([] {
              if (int e = place_sockets({{SOCK_STREAM}, {SOCK_STREAM}})) return e;
              set_env(std::to_string(::getpid()), "2", nullptr);
              std::vector<mon::activated_socket> out(2);
              mon::activation_options o;
              o.type = mon::socket_type::seqpacket;
              auto r = mon::listen_fds(out, o);
              if (r.ok() || r.code() != errc::invalid) return 1;
              if (out[0].fd.valid() || out[1].fd.valid()) return 2;
              if (mon::test::is_cloexec(3) || int_option(3, SO_PASSCRED) != 0) return 3;
              if (::fcntl(4, F_GETFD) < 0) return 4;  // still open
              if (!env_cleared()) return 5;
              return 0;
            }),
            0);
}

TEST(Activation, NonListeningDatagramOrClosedDescriptorsAreRefused) {
  const std::vector<std::vector<passed_socket>> cases = {
      {{SOCK_STREAM, /*listening=*/false}},  // bound nowhere, not listening
      {{SOCK_DGRAM, false}},                 // wrong kind of socket
      {},                                    // LISTEN_FDS=1 with nothing at 3
  };
  for (const auto& socks : cases) {
    EXPECT_EQ(run_child([&] {
                ::close(3);
                if (int e = place_sockets(socks)) return e;
                set_env(std::to_string(::getpid()), "1", nullptr);
                std::vector<mon::activated_socket> out(1);
                auto r = mon::listen_fds(out);
                return !r.ok() && r.code() == errc::invalid && env_cleared() ? 0 : 1;
              }),
              0);
  }
}

TEST(Activation, GarbageNumbersAreInvalid) {
  struct env_case {
    const char* pid;  // nullptr: this process's pid
    const char* fds;
    const char* names;
  };
  const env_case cases[] = {
      {"12abc", "1", nullptr},
      {"", "1", nullptr},
      {"-1", "1", nullptr},
      {"0", "1", nullptr},
      {"99999999999999999999", "1", nullptr},
      {nullptr, "x", nullptr},
      {nullptr, "-1", nullptr},
      {nullptr, " 1", nullptr},
      {nullptr, "1025", nullptr},        // more than listen_fds_max
      {nullptr, "4294967299", nullptr},  // wraps to 3 in 32 bits
      {nullptr, "18446744073709551617", nullptr},
      {nullptr, nullptr, nullptr},  // LISTEN_PID without LISTEN_FDS
      {nullptr, "1", "a:b"},        // more names than sockets
  };
  for (const auto& c : cases) {
    EXPECT_EQ(run_child([&] {
                if (int e = place_sockets({{SOCK_STREAM}})) return e;
                ::unsetenv("LISTEN_FDS");
                set_env(c.pid != nullptr ? c.pid : std::to_string(::getpid()), c.fds, c.names);
                std::vector<mon::activated_socket> out(2);
                auto r = mon::listen_fds(out);
                if (r.ok() || r.code() != errc::invalid) return 1;
                if (out[0].fd.valid() || mon::test::is_cloexec(3)) return 2;
                return env_cleared() ? 0 : 3;
              }),
              0)
        << "LISTEN_PID=" << (c.pid ? c.pid : "<self>") << " LISTEN_FDS=" << (c.fds ? c.fds : "")
        << " LISTEN_FDNAMES=" << (c.names ? c.names : "");
  }
}

TEST(Activation, ZeroSocketsIsNotAnError) {
  EXPECT_EQ(run_child([] {
              set_env(std::to_string(::getpid()), "0", nullptr);
              std::vector<mon::activated_socket> out(1);
              auto r = mon::listen_fds(out);
              return r && r.value() == 0 && env_cleared() ? 0 : 1;
            }),
            0);
}

TEST(Activation, TooManyForTheRoomChangesNothing) {
  EXPECT_EQ(run_child([] {
              if (int e = place_sockets({{SOCK_STREAM}, {SOCK_STREAM}})) return e;
              set_env(std::to_string(::getpid()), "2", nullptr);
              std::vector<mon::activated_socket> out(1);
              auto r = mon::listen_fds(out);
              if (r.ok() || r.code() != errc::toobig) return 1;
              if (std::getenv("LISTEN_FDS") == nullptr) return 2;  // kept: ask again
              if (mon::test::is_cloexec(3)) return 3;
              size_t n = 0;
              mon_listen_socket c_out[2];
              if (mon_listen_fds(0, 0, c_out, 1, &n) != MON_ERR_TOOBIG) return 4;
              if (mon_listen_fds(0, 0, c_out, 2, &n) != MON_OK || n != 2) return 5;
              return 0;
            }),
            0);
}

// ---- Socket activation by systemd-socket-activate (Debian package systemd) ----

std::string find_in_path(const char* name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string full = dir + "/" + name;
    if (::access(full.c_str(), X_OK) == 0) return full;
  }
  return {};
}

TEST_F(ListenerTest, SystemdSocketActivateHandsOverAPreparedSocket) {
  const std::string activate = find_in_path("systemd-socket-activate");
  if (activate.empty()) {
    GTEST_SKIP() << "systemd-socket-activate not installed (Debian package systemd); the "
                    "Activation.* tests set the variables themselves";
  }
  const std::string sock = path("activated");
  const std::string listen_arg = "--listen=" + sock;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull >= 0) ::dup2(devnull, STDERR_FILENO);  // its "Listening on ..." chatter
    ::execl(activate.c_str(), activate.c_str(), listen_arg.c_str(), "--fdname=api",
            MONITOR_ACTIVATION_PROBE, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait for the socket file (systemd-socket-activate binds it, then waits for a connection).
  mon::unique_fd conn;
  for (int i = 0; i < 500 && !conn.valid(); ++i) {
    auto c = mon::connect_unix(sock.c_str());
    if (c) {
      conn = std::move(c.value());
    } else {
      ::usleep(10 * 1000);
    }
  }
  ASSERT_TRUE(conn.valid()) << "systemd-socket-activate did not listen on " << sock;
  mon::client_handshake hs(conn.get());
  auto r = hs.step();
  ASSERT_TRUE(r.ok()) << mon::to_string(r.code());
  mon::message_buffer report;
  mon::fd_list fds;
  auto got = mon::receive_message(conn.get(), report, fds);
  ASSERT_TRUE(got.ok()) << mon::to_string(got.code());
  const std::string text(reinterpret_cast<const char*>(report.data().data()), report.size());
  EXPECT_EQ(text, "sockets=1 fd=3 name=api type=stream cloexec=1 passcred=1 env=cleared");
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "probe status " << status;
}

}  // namespace
