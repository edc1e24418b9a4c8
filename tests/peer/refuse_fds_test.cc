// SPDX-License-Identifier: MIT
// Descriptors where none are expected: the kernel refuses them during the handshake (SO_PASSRIGHTS,
// Linux >= 6.16) and the socket is given back as it was; a receiver can refuse kinds of descriptor
// it did not ask for (sockets: the in-flight cycle; FIFOs, devices, directories, O_PATH).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "auth/messages.hpp"
#include "monitor/monitor.hpp"
#include "peer/peer_support.hpp"
#include "support/test_support.hpp"
#include "sys/peer_identity.hpp"

namespace mon {
namespace {

using test::fd_leak_check;
using test::make_pair;

bool kernel_has_pass_rights() {
  auto pair = make_pair(SOCK_STREAM);
  return sys::pass_rights(pair.a.get()).code() != errc::unsupported;
}

// sendmsg of one byte with fd attached: 0 or the errno.
int send_with_fd(int sock, int fd) {
  const std::uint8_t byte = 0;
  try {
    test::raw_send(sock, std::span<const std::uint8_t>(&byte, 1), std::span<const int>(&fd, 1));
  } catch (const std::exception&) {
    return errno;
  }
  return 0;
}

int pass_rights_of(int fd) {
  int v = -1;
  socklen_t len = sizeof v;
  if (::getsockopt(fd, SOL_SOCKET, 83 /* SO_PASSRIGHTS */, &v, &len) != 0) return -1;
  return v;
}

// A hello written before the server asked for credentials, so it carries none: refused.
void auth_hello_without_credentials(int fd) {
  auth::message_bytes hello{};
  const std::size_t n = auth::encode_hello(hello);
  test::raw_send(fd, std::span<const std::uint8_t>(hello).first(n));
}

class PeerRefuseFds : public ::testing::TestWithParam<int> {};

TEST_P(PeerRefuseFds, KernelRefusesDescriptorsDuringTheHandshakeOnly) {
  if (!kernel_has_pass_rights()) GTEST_SKIP() << "kernel without SO_PASSRIGHTS (< 6.16)";
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  mon_ipc_creds creds{};
  void* st = nullptr;
  ASSERT_EQ(mon_ipc_auth_server_init(pair.b.get(), &creds, &st), MON_CONTINUE);
  EXPECT_EQ(pass_rights_of(pair.b.get()), 0);
  // A peer pushing a descriptor at the server before it is authenticated: the kernel says no to
  // the sender, so the server never holds it (not even long enough to close it).
  auto payload = test::some_fd();
  ASSERT_EQ(send_with_fd(pair.a.get(), payload.get()),
            EPERM);  // (ASSERT: a client would wait forever)

  int client_rc = 1;
  std::thread client([&] { client_rc = test::run_client(pair.a.get()); });
  int rc = MON_CONTINUE;
  while (rc > 0) rc = mon_ipc_auth_server_step(pair.b.get(), st);
  client.join();
  ASSERT_EQ(rc, MON_OK) << mon_strerror(rc);
  ASSERT_EQ(client_rc, MON_OK);
  mon_ipc_auth_server_end(st);

  // Afterwards the same socket carries descriptors again.
  EXPECT_EQ(pass_rights_of(pair.b.get()), 1);
  mon_buffer* msg = mon_buffer_new(0);
  ASSERT_EQ(mon_buffer_append(msg, "fd", 2), MON_OK);
  ASSERT_EQ(mon_ipc_send_fd(pair.a.get(), msg, payload.get()), MON_OK);
  int got = -1;
  ASSERT_EQ(mon_ipc_recv_fd(pair.b.get(), msg, &got), MON_OK);
  unique_fd received(got);
  EXPECT_TRUE(test::same_file(got, payload.get()));
  mon_buffer_free(msg);
}

TEST_P(PeerRefuseFds, SocketIsGivenBackAsItWas) {
  if (!kernel_has_pass_rights()) GTEST_SKIP() << "kernel without SO_PASSRIGHTS (< 6.16)";
  fd_leak_check leaks;
  // A connection that never expects descriptors (server_options::refuse_descriptors): the
  // handshake leaves them refused; without the option it turns them back on.
  for (bool refuse : {true, false}) {
    auto pair = make_pair(GetParam());
    int client_rc = 1;
    std::thread c1([&] { client_rc = test::run_client(pair.a.get()); });
    server_options opts;
    opts.refuse_descriptors = refuse;
    server_handshake server(pair.b.get(), nullptr, nullptr, opts);
    auto r = server.step();
    c1.join();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(client_rc, MON_OK);
    EXPECT_EQ(pass_rights_of(pair.b.get()), refuse ? 0 : 1);
  }
  mon_ipc_creds creds{};

  // Refused handshake (a hello without credentials): restored all the same.
  auto refused = make_pair(GetParam());
  auth_hello_without_credentials(refused.a.get());
  EXPECT_EQ(test::run_server(refused.b.get(), &creds), MON_ERR_DENIED);
  EXPECT_EQ(pass_rights_of(refused.b.get()), 1);

  // Handshake abandoned before the hello came: the destructor restores it.
  auto abandoned = make_pair(GetParam(), /*nonblocking=*/true);
  {
    server_handshake server(abandoned.b.get());
    EXPECT_EQ(server.step().value(), progress::want_read);
    EXPECT_EQ(pass_rights_of(abandoned.b.get()), 0);
  }
  EXPECT_EQ(pass_rights_of(abandoned.b.get()), 1);
}

// ---- receivers that name the kinds they accept --------------------------------------------------

struct kind_case {
  const char* name;
  unsigned kind_bit;  // the MON_FD_TYPE_* bit this descriptor needs
  unique_fd (*make)(int receiver);
};

unique_fd make_regular(int) {
  char tmpl[] = "/tmp/monitor-kind-XXXXXX";
  unique_fd fd(::mkstemp(tmpl));
  ::unlink(tmpl);
  return fd;
}
unique_fd make_memfd(int) { return unique_fd(::memfd_create("kind", MFD_CLOEXEC)); }
unique_fd make_fifo(int) { return test::some_fd(); }
unique_fd make_dir(int) { return unique_fd(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)); }
unique_fd make_chardev(int) { return unique_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC)); }
unique_fd make_eventfd(int) { return unique_fd(::eventfd(0, EFD_CLOEXEC)); }
// The receiving socket itself: the in-flight reference cycle of CVE-2014-3637.
unique_fd make_receiver_itself(int receiver) {
  return unique_fd(::fcntl(receiver, F_DUPFD_CLOEXEC, 0));
}
unique_fd make_other_socket(int) { return make_pair(SOCK_STREAM).a; }

const kind_case kCases[] = {
    {"regular", MON_FD_TYPE_REGULAR, make_regular},
    {"memfd", MON_FD_TYPE_REGULAR, make_memfd},
    {"fifo", MON_FD_TYPE_FIFO, make_fifo},
    {"directory", MON_FD_TYPE_DIRECTORY, make_dir},
    {"chardev", MON_FD_TYPE_CHARDEV, make_chardev},
    {"eventfd", MON_FD_TYPE_OTHER, make_eventfd},
    {"receiver_itself", MON_FD_TYPE_SOCKET, make_receiver_itself},
    {"other_socket", MON_FD_TYPE_SOCKET, make_other_socket},
};

constexpr unsigned kAllKinds = MON_FD_TYPE_REGULAR | MON_FD_TYPE_DIRECTORY | MON_FD_TYPE_FIFO |
                               MON_FD_TYPE_SOCKET | MON_FD_TYPE_CHARDEV | MON_FD_TYPE_BLOCKDEV |
                               MON_FD_TYPE_SYMLINK | MON_FD_TYPE_OTHER;

// Sends "one" with fd, then "two" without: after a refusal the second must still arrive whole.
void send_two(int sock, int fd) {
  mon_buffer* b = mon_buffer_new(0);
  ASSERT_EQ(mon_buffer_append(b, "one", 3), MON_OK);
  ASSERT_EQ(mon_ipc_send_fd(sock, b, fd), MON_OK);
  mon_buffer_clear(b);
  ASSERT_EQ(mon_buffer_append(b, "two", 3), MON_OK);
  ASSERT_EQ(mon_ipc_send_fd(sock, b, -1), MON_OK);
  mon_buffer_free(b);
}

void expect_second_message(int sock, mon_buffer* b) {
  int fd = -1;
  ASSERT_EQ(mon_ipc_recv_fd_typed(sock, b, &fd, 0), MON_OK);  // no descriptor: any mask will do
  EXPECT_EQ(fd, -1);
  ASSERT_EQ(mon_buffer_len(b), 3u);
  EXPECT_EQ(std::memcmp(mon_buffer_data(b), "two", 3), 0);
}

TEST_P(PeerRefuseFds, EachKindIsRefusedUnlessAllowed) {
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    fd_leak_check leaks;
    auto pair = make_pair(GetParam());
    mon_buffer* b = mon_buffer_new(0);
    {
      // Refused: every other kind allowed, this one not.
      auto fd = c.make(pair.b.get());
      ASSERT_TRUE(fd.valid());
      send_two(pair.a.get(), fd.get());
      fd.reset();  // in flight only: the receiver's refusal must leave nothing open
      int got = 1234;
      EXPECT_EQ(mon_ipc_recv_fd_typed(pair.b.get(), b, &got, kAllKinds & ~c.kind_bit),
                MON_ERR_PROTOCOL);
      EXPECT_EQ(got, -1);
      EXPECT_EQ(mon_buffer_len(b), 0u);  // the refused message's bytes are not handed on
      expect_second_message(pair.b.get(), b);
    }
    {
      // Allowed: only this kind.
      auto fd = c.make(pair.b.get());
      send_two(pair.a.get(), fd.get());
      int got = -1;
      EXPECT_EQ(mon_ipc_recv_fd_typed(pair.b.get(), b, &got, c.kind_bit), MON_OK);
      unique_fd received(got);
      EXPECT_TRUE(received.valid());
      EXPECT_TRUE(test::same_file(got, fd.get()));
      expect_second_message(pair.b.get(), b);
    }
    mon_buffer_free(b);
  }
}

TEST_P(PeerRefuseFds, OpathNeedsItsOwnBit) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  mon_buffer* b = mon_buffer_new(0);
  unique_fd path_fd(::open("/etc/passwd", O_PATH | O_CLOEXEC));
  ASSERT_TRUE(path_fd.valid());
  send_two(pair.a.get(), path_fd.get());
  int got = -1;
  EXPECT_EQ(mon_ipc_recv_fd_typed(pair.b.get(), b, &got, MON_FD_TYPE_REGULAR), MON_ERR_PROTOCOL);
  EXPECT_EQ(got, -1);
  expect_second_message(pair.b.get(), b);
  send_two(pair.a.get(), path_fd.get());
  EXPECT_EQ(mon_ipc_recv_fd_typed(pair.b.get(), b, &got, MON_FD_TYPE_REGULAR | MON_FD_TYPE_OPATH),
            MON_OK);
  unique_fd received(got);
  EXPECT_TRUE(received.valid());
  expect_second_message(pair.b.get(), b);
  // O_PATH of a kind that is not allowed stays refused with the O_PATH bit.
  unique_fd dir_path(::open("/", O_PATH | O_CLOEXEC));
  send_two(pair.a.get(), dir_path.get());
  EXPECT_EQ(mon_ipc_recv_fd_typed(pair.b.get(), b, &got, MON_FD_TYPE_REGULAR | MON_FD_TYPE_OPATH),
            MON_ERR_PROTOCOL);
  expect_second_message(pair.b.get(), b);
  mon_buffer_free(b);
}

// One refused descriptor among several: the C++ receiver gets none of them.
TEST_P(PeerRefuseFds, OneBadDescriptorSpoilsTheWholeMessage) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto good1 = make_regular(0);
  auto good2 = make_regular(0);
  auto sock = make_other_socket(0);
  message_buffer out;
  ASSERT_TRUE(out.append(std::as_bytes(std::span<const char>("x", 1))));
  const int fds[] = {good1.get(), sock.get(), good2.get()};
  ASSERT_EQ(send_message(pair.a.get(), out, fds).value(), progress::done);
  sock.reset();
  message_buffer in;
  fd_list got;
  auto r = receive_message_typed(pair.b.get(), in, got, MON_FD_TYPE_REGULAR);
  EXPECT_EQ(r.code(), errc::protocol);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(in.size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(StreamAndSeqpacket, PeerRefuseFds,
                         ::testing::Values(SOCK_STREAM, SOCK_SEQPACKET), test::socket_type_name);

TEST(PeerRefuseFdsRule, MaskTable) {
  EXPECT_TRUE(fd_type_allowed(S_IFREG, false, MON_FD_TYPE_REGULAR));
  EXPECT_FALSE(fd_type_allowed(S_IFREG, true, MON_FD_TYPE_REGULAR));
  EXPECT_TRUE(fd_type_allowed(S_IFREG, true, MON_FD_TYPE_REGULAR | MON_FD_TYPE_OPATH));
  EXPECT_FALSE(fd_type_allowed(S_IFSOCK, false, MON_FD_TYPE_REGULAR | MON_FD_TYPE_FIFO));
  EXPECT_TRUE(fd_type_allowed(S_IFSOCK, false, MON_FD_TYPE_SOCKET));
  EXPECT_TRUE(fd_type_allowed(0, false, MON_FD_TYPE_OTHER));
  EXPECT_FALSE(fd_type_allowed(0, false, MON_FD_TYPE_REGULAR));
  EXPECT_TRUE(fd_type_allowed(S_IFLNK, true, MON_FD_TYPE_SYMLINK | MON_FD_TYPE_OPATH));
  EXPECT_TRUE(fd_type_allowed(S_IFBLK, false, MON_FD_TYPE_BLOCKDEV));
  EXPECT_FALSE(fd_type_allowed(S_IFBLK, false, MON_FD_TYPE_CHARDEV));
  EXPECT_FALSE(fd_type_allowed(S_IFMT, false, ~0u));  // a type nobody knows is never allowed
  EXPECT_FALSE(fd_type_allowed(S_IFREG, false, 0));
}

}  // namespace
}  // namespace mon
