// SPDX-License-Identifier: MIT
// Hostile raw peers against descriptor passing (docs/ATTACKS.md, part A), over real
// socketpairs. Each asserts the documented error, no hang (hang_guard), and that the receiver holds
// no descriptor it was not handed (fd_leak_check).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "cmsg/control.hpp"
#include "hostile/hostile.hpp"
#include "monitor/monitor.hpp"
#include "platform/linux.hpp"  // SO_PASSPIDFD on older C library headers
#include "support/test_support.hpp"

namespace mon {
namespace {

using test::fd_leak_check;
using test::frame_bytes;
using test::make_pair;
using test::raw_send;
using test::raw_send_headers;
using namespace hostile;  // receiver, fds, raw, hang_guard

class Descriptors : public ::testing::TestWithParam<int> {};

TEST_P(Descriptors, MoreDescriptorsThanTheFrameDeclares) {  // A1, A7
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto extra = fds(2);
  raw_send(pair.a.get(), frame_bytes(1, 0), raw(extra));
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

TEST_P(Descriptors, AFullLoadOfDescriptorsAgainstAReceiverThatTakesOne) {  // A1, A2, A10
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto many = fds(253);
  raw_send(pair.a.get(), frame_bytes(1, 0), raw(many));
  raw_send(pair.a.get(), frame_bytes(0, 2, std::vector<std::uint8_t>{'o', 'k'}));
  receiver r;
  // The frame declares no more than the receiver takes; the kernel cut the rest (our control
  // buffer has room for what is taken): MON_ERR_TRUNCATED, the frame consumed whole, nothing
  // installed stays (fd_leak_check), and the stream goes on with the next frame.
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_TRUNCATED);
  EXPECT_EQ(r.recv(pair.b.get()), MON_OK);
  EXPECT_EQ(r.text(), "ok");
  EXPECT_EQ(r.got_fd, -1);
}

TEST_P(Descriptors, DescriptorsTheFrameDoesNotAccountFor) {  // A7
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto one = fds(1);
  raw_send(pair.a.get(), frame_bytes(0, 3, std::vector<std::uint8_t>{1, 2, 3}), raw(one));
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

TEST_P(Descriptors, DeclaredDescriptorThatNeverCame) {  // A6
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  raw_send(pair.a.get(), frame_bytes(1, 0));
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

TEST_P(Descriptors,
       SeveralRightsHeadersInOneMessage) {  // A4 (Linux merges them: still two descriptors)
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto a = fds(1);
  auto b = fds(1);
  raw_send_headers(pair.a.get(), frame_bytes(1, 0), {raw(a), raw(b)}, false);
  receiver r;
  // Over a socket this is "two descriptors where one is declared": Linux merges the headers on
  // send (scm_fp_copy appends to one list), so the receiver never sees two.
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
  // The several-headers path itself, reached through the cmsg layer that recvmsg's buffer goes to:
  // two SCM_RIGHTS headers with one real descriptor each is errc::protocol, and both are closed.
  alignas(cmsghdr) std::byte control[2 * CMSG_SPACE(sizeof(int))] = {};
  int numbers[2] = {test::some_fd().release(), test::some_fd().release()};
  auto* h = reinterpret_cast<cmsghdr*>(control);
  for (int i = 0; i < 2; ++i) {
    h->cmsg_len = CMSG_LEN(sizeof(int));
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    std::memcpy(CMSG_DATA(h), &numbers[i], sizeof(int));
    h = reinterpret_cast<cmsghdr*>(control + CMSG_SPACE(sizeof(int)));
  }
  cmsg::control_data out;
  const auto res = cmsg::decode(control, 0, cmsg::policy{2, false}, out);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.err().code, errc::protocol);
  EXPECT_TRUE(out.fds.empty());
  for (int n : numbers) {
    errno = 0;
    EXPECT_EQ(::fcntl(n, F_GETFD), -1) << "descriptor " << n << " of a refused header left open";
    EXPECT_EQ(errno, EBADF);
  }
}

TEST_P(Descriptors, CredentialsWhereOnlyRightsAreExpected) {  // A5
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  const int on = 1;
  ASSERT_EQ(::setsockopt(pair.b.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
  auto one = fds(1);
  raw_send_headers(pair.a.get(), frame_bytes(1, 0), {raw(one)}, true);
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

TEST_P(Descriptors, TruncatedControlAtTheDescriptorLimit) {  // A3, A13
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto passenger = fds(1);
  raw_send(pair.a.get(), frame_bytes(1, 2, std::vector<std::uint8_t>{'h', 'i'}), raw(passenger));
  raw_send(pair.a.get(), frame_bytes(0, 2, std::vector<std::uint8_t>{'o', 'k'}));
  receiver r;
  // With no descriptor slot left, the kernel delivers the bytes and sets MSG_CTRUNC.
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  rlimit tight = old;
  tight.rlim_cur = static_cast<rlim_t>(test::open_fd_count());  // every slot up to here is taken
  int highest = 0;
  for (int fd = 0; fd < 4096; ++fd)
    if (::fcntl(fd, F_GETFD) != -1) highest = fd;
  tight.rlim_cur = static_cast<rlim_t>(highest + 1);
  // Fill any gaps below the limit so no descriptor number is free.
  std::vector<unique_fd> fillers;
  for (;;) {
    int d = ::dup(0);
    if (d < 0) break;
    if (static_cast<rlim_t>(d) >= tight.rlim_cur) {
      ::close(d);
      break;
    }
    fillers.emplace_back(d);
  }
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  const int rc = r.recv(pair.b.get());
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  EXPECT_EQ(rc, MON_ERR_TRUNCATED);
  // The stream is still in step: the next message arrives whole.
  EXPECT_EQ(r.recv(pair.b.get()), MON_OK);
  EXPECT_EQ(std::string(static_cast<const char*>(mon_buffer_data(r.buf)), 2), "ok");
}

TEST_P(Descriptors, TheReceivingSocketItselfIsHandedOverAndOwned) {  // A8
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  const int self[] = {pair.b.get()};
  raw_send(pair.a.get(), frame_bytes(1, 0), self);
  receiver r;
  ASSERT_EQ(r.recv(pair.b.get()), MON_OK);
  ASSERT_GE(r.got_fd, 0);
  EXPECT_TRUE(test::is_cloexec(r.got_fd));
  ::close(r.got_fd);  // the caller owns it; no reference cycle is left behind in flight
}

TEST_P(Descriptors, BadMagicAndUnknownVersion) {  // A14, invariant 6
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto bytes = frame_bytes(0, 0);
  bytes[0] = 'X';
  raw_send(pair.a.get(), bytes);
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
  auto v2 = frame_bytes(0, 0);
  v2[2] = 2;
  raw_send(pair.a.get(), v2);
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

TEST_P(Descriptors, OversizedLengthField) {  // invariant 3
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto bytes = frame_bytes(0, 0);
  bytes[4] = 0xFF;
  bytes[5] = 0xFF;
  bytes[6] = 0xFF;
  bytes[7] = 0xFF;
  raw_send(pair.a.get(), bytes);
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

TEST_P(Descriptors,
       PidfdTheReceiverNeverAskedForIsClosed) {  // A5 (SCM_PIDFD installs a descriptor)
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  // A careless caller (or a library above us) left SO_PASSPIDFD on: the kernel then attaches a
  // pidfd of the sender to every message, as a descriptor in the receiver's table.
  const int on = 1;
  if (::setsockopt(pair.b.get(), SOL_SOCKET, SO_PASSPIDFD, &on, sizeof on) != 0)
    GTEST_SKIP() << "SO_PASSPIDFD needs Linux >= 6.5";
  auto one = fds(1);
  raw_send(pair.a.get(), frame_bytes(1, 0), raw(one));
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

TEST_P(Descriptors, AListeningSocketIsHandedOverOwnedAndCloexec) {  // A8
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  test::listener l(SOCK_STREAM);
  const int lfd[] = {l.fd()};
  raw_send(pair.a.get(), frame_bytes(1, 0), lfd);
  receiver r;
  ASSERT_EQ(r.recv(pair.b.get()), MON_OK);
  ASSERT_GE(r.got_fd, 0);
  EXPECT_NE(r.got_fd, l.fd());
  EXPECT_TRUE(test::is_cloexec(r.got_fd));
  int type = 0;
  socklen_t len = sizeof type;
  EXPECT_EQ(::getsockopt(r.got_fd, SOL_SOCKET, SO_ACCEPTCONN, &type, &len), 0);
  EXPECT_EQ(type, 1);  // the caller gets what was sent; judging its kind is the caller's job
  ::close(r.got_fd);
}

TEST_P(Descriptors, HostileDescriptorKindsArriveOwnedAndCloexec) {  // A11, A12
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  // A directory and an O_PATH descriptor, both sent WITHOUT close-on-exec.
  unique_fd dir(::open("/", O_RDONLY | O_DIRECTORY));
  unique_fd path(::open("/etc", O_PATH));
  ASSERT_TRUE(dir.valid());
  ASSERT_TRUE(path.valid());
  ASSERT_FALSE(test::is_cloexec(dir.get()));
  receiver r;
  for (int d : {dir.get(), path.get()}) {
    const int one[] = {d};
    raw_send(pair.a.get(), frame_bytes(1, 0), one);
    ASSERT_EQ(r.recv(pair.b.get()), MON_OK);
    ASSERT_GE(r.got_fd, 0);
    EXPECT_TRUE(test::same_file(r.got_fd, d));
    EXPECT_TRUE(test::is_cloexec(r.got_fd)) << "received without MSG_CMSG_CLOEXEC";
    ::close(r.got_fd);
  }
}

TEST_P(Descriptors, TooBigMessageWithADescriptorClosesItAndStaysUsable) {  // A13, invariant 3
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  const std::vector<std::uint8_t> big(100, 'x');
  auto one = fds(1);
  raw_send(pair.a.get(), frame_bytes(1, 100, big), raw(one));
  raw_send(pair.a.get(), frame_bytes(0, 2, bytes_of("ok")));
  receiver r(16);
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_TOOBIG);
  ASSERT_EQ(r.recv(pair.b.get()), MON_OK);
  EXPECT_EQ(r.text(), "ok");
  EXPECT_EQ(r.got_fd, -1);
}

TEST_P(Descriptors, DescriptorCountAboveTheProtocolLimit) {  // A14, invariant 3
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto bytes = frame_bytes(0, 0);
  bytes[3] = 254;  // num_fds: one more than any frame may carry
  auto one = fds(1);
  raw_send(pair.a.get(), bytes, raw(one));
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

TEST_P(Descriptors, PayloadLengthJustAboveTheLimit) {  // invariant 3
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  raw_send(pair.a.get(), frame_bytes(0, static_cast<std::uint32_t>(MON_BUFFER_LIMIT + 1)));
  receiver r(MON_BUFFER_LIMIT);
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

INSTANTIATE_TEST_SUITE_P(Types, Descriptors, ::testing::Values(SOCK_STREAM, SOCK_SEQPACKET),
                         test::socket_type_name);

TEST(DescriptorsStream, DescriptorsRidingOnThePayloadInsteadOfTheHeader) {  // A6
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  auto bytes = frame_bytes(0, 4, std::vector<std::uint8_t>{1, 2, 3, 4});
  raw_send(pair.a.get(), std::span<const std::uint8_t>(bytes).first(8));
  auto one = fds(1);
  raw_send(pair.a.get(), std::span<const std::uint8_t>(bytes).subspan(8), raw(one));
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

TEST(DescriptorsStream, TheNextFramesDescriptorsAreNeverReadEarly) {  // A6
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  raw_send(pair.a.get(), frame_bytes(0, 2, std::vector<std::uint8_t>{'a', 'b'}));
  auto one = fds(1);
  raw_send(pair.a.get(), frame_bytes(1, 0), raw(one));
  receiver r;
  ASSERT_EQ(r.recv(pair.b.get()), MON_OK);
  EXPECT_EQ(r.got_fd, -1);  // the second frame's descriptor stayed in the socket
  ASSERT_EQ(r.recv(pair.b.get()), MON_OK);
  ASSERT_GE(r.got_fd, 0);
  ::close(r.got_fd);
}

TEST(DescriptorsStream, ByteByBytePeerOnANonBlockingSocket) {  // A15, B23
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  auto bytes = frame_bytes(0, 5, std::vector<std::uint8_t>{'s', 'l', 'o', 'w', '!'});
  receiver r;
  for (std::uint8_t b : bytes) {
    EXPECT_EQ(r.recv(pair.b.get()), MON_WANT_READ);
    raw_send(pair.a.get(), std::span<const std::uint8_t>(&b, 1));
  }
  EXPECT_EQ(r.recv(pair.b.get()), MON_OK);
  EXPECT_EQ(std::string(static_cast<const char*>(mon_buffer_data(r.buf)), 5), "slow!");
}

TEST(DescriptorsSeqpacket, RecordShorterOrLongerThanItsHeader) {  // A14
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_SEQPACKET);
  auto shorter = frame_bytes(0, 4, std::vector<std::uint8_t>{1, 2});
  raw_send(pair.a.get(), shorter);
  auto longer = frame_bytes(0, 1, std::vector<std::uint8_t>{1, 2, 3});
  raw_send(pair.a.get(), longer);
  const std::vector<std::uint8_t> tiny{'m'};
  raw_send(pair.a.get(), tiny);
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

}  // namespace
}  // namespace mon
