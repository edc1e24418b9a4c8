// Hostile raw peers against mon_ipc_recv_fd (../shared/ATTACKS.md, part A). Each asserts the
// documented error, and that the receiver holds no descriptor it was not handed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "monitor/monitor.hpp"
#include "support/test_support.hpp"

namespace mon {
namespace {

using test::fd_leak_check;
using test::frame_bytes;
using test::make_pair;
using test::raw_send;
using test::raw_send_headers;

struct receiver {
  explicit receiver(std::size_t max = 0) : buf(mon_buffer_new(max)) {}
  ~receiver() { mon_buffer_free(buf); }
  int recv(int fd) {
    got_fd = 7;
    int rc = mon_ipc_recv_fd(fd, buf, &got_fd);
    if (rc != MON_OK) {
      EXPECT_EQ(got_fd, -1);
    }
    return rc;
  }
  mon_buffer* buf;
  int got_fd = -1;
};

std::vector<unique_fd> fds(int n) {
  std::vector<unique_fd> out;
  for (int i = 0; i < n; ++i) out.push_back(test::some_fd());
  return out;
}
std::vector<int> raw(const std::vector<unique_fd>& v) {
  std::vector<int> out;
  for (const auto& f : v) out.push_back(f.get());
  return out;
}

class Hostile : public ::testing::TestWithParam<int> {};

TEST_P(Hostile, MoreDescriptorsThanTheFrameDeclares) {  // A1, A7
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto extra = fds(2);
  raw_send(pair.a.get(), frame_bytes(1, 0), raw(extra));
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

TEST_P(Hostile, AFullLoadOfDescriptorsAgainstAReceiverThatTakesOne) {  // A1, A2, A10
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto many = fds(253);
  raw_send(pair.a.get(), frame_bytes(1, 0), raw(many));
  receiver r;
  EXPECT_LT(r.recv(pair.b.get()), 0);  // cut by our small control buffer: nothing installed stays
}

TEST_P(Hostile, DescriptorsTheFrameDoesNotAccountFor) {  // A7
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto one = fds(1);
  raw_send(pair.a.get(), frame_bytes(0, 3, std::vector<std::uint8_t>{1, 2, 3}), raw(one));
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

TEST_P(Hostile, DeclaredDescriptorThatNeverCame) {  // A6
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  raw_send(pair.a.get(), frame_bytes(1, 0));
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

TEST_P(Hostile, SeveralRightsHeadersInOneMessage) {  // A4 (Linux merges them: still two descriptors)
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto a = fds(1);
  auto b = fds(1);
  raw_send_headers(pair.a.get(), frame_bytes(1, 0), {raw(a), raw(b)}, false);
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

TEST_P(Hostile, CredentialsWhereOnlyRightsAreExpected) {  // A5
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  const int on = 1;
  ASSERT_EQ(::setsockopt(pair.b.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
  auto one = fds(1);
  raw_send_headers(pair.a.get(), frame_bytes(1, 0), {raw(one)}, true);
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

TEST_P(Hostile, TruncatedControlAtTheDescriptorLimit) {  // A3, A13
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

TEST_P(Hostile, TheReceivingSocketItselfIsHandedOverAndOwned) {  // A8
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

TEST_P(Hostile, BadMagicAndUnknownVersion) {  // A14, invariant 6
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

TEST_P(Hostile, OversizedLengthField) {  // invariant 3
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

INSTANTIATE_TEST_SUITE_P(StreamAndSeqpacket, Hostile, ::testing::Values(SOCK_STREAM, SOCK_SEQPACKET), test::socket_type_name);

TEST(HostileStream, DescriptorsRidingOnThePayloadInsteadOfTheHeader) {  // A6
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  auto bytes = frame_bytes(0, 4, std::vector<std::uint8_t>{1, 2, 3, 4});
  raw_send(pair.a.get(), std::span<const std::uint8_t>(bytes).first(8));
  auto one = fds(1);
  raw_send(pair.a.get(), std::span<const std::uint8_t>(bytes).subspan(8), raw(one));
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

TEST(HostileStream, TheNextFramesDescriptorsAreNeverReadEarly) {  // A6
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

TEST(HostileStream, ByteByBytePeerOnANonBlockingSocket) {  // A15, B23
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

TEST(HostileSeqpacket, RecordShorterOrLongerThanItsHeader) {  // A14
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
