// SPDX-License-Identifier: MIT
// Descriptor passing over real sockets: boundaries, ownership, close-on-exec, non-blocking
// progress.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "monitor/monitor.hpp"
#include "support/test_support.hpp"

namespace mon {
namespace {

using test::fd_leak_check;
using test::make_pair;

std::string contents(const mon_buffer* b) {
  return {static_cast<const char*>(mon_buffer_data(b)), mon_buffer_len(b)};
}

int send_text(int fd, const std::string& text, int passenger) {
  mon_buffer* b = mon_buffer_new(0);
  int rc = mon_buffer_append(b, text.data(), text.size());
  if (rc == MON_OK) rc = mon_ipc_send_fd(fd, b, passenger);
  mon_buffer_free(b);
  return rc;
}

class MessageTypes : public ::testing::TestWithParam<int> {};

TEST_P(MessageTypes, PayloadAndDescriptorArriveTogether) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto passenger = test::some_fd();
  ASSERT_EQ(send_text(pair.a.get(), "hello", passenger.get()), MON_OK);
  mon_buffer* in = mon_buffer_new(0);
  int fd = -2;
  ASSERT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_OK);
  EXPECT_EQ(contents(in), "hello");
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(test::same_file(fd, passenger.get()));
  EXPECT_TRUE(test::is_cloexec(fd));
  EXPECT_NE(fd, passenger.get());
  ::close(fd);
  mon_buffer_free(in);
}

TEST_P(MessageTypes, DataOnlyAndZeroLengthMessages) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  ASSERT_EQ(send_text(pair.a.get(), "", -1), MON_OK);
  ASSERT_EQ(send_text(pair.a.get(), "x", -1), MON_OK);
  mon_buffer* in = mon_buffer_new(0);
  ASSERT_EQ(mon_buffer_append(in, "stale", 5), MON_OK);
  int fd = 5;
  ASSERT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_OK);
  EXPECT_EQ(mon_buffer_len(in), 0u);  // replaced, not appended
  EXPECT_EQ(fd, -1);
  ASSERT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_OK);
  EXPECT_EQ(contents(in), "x");
  // A zero-length message is not end of file: end of file is MON_ERR_CLOSED.
  pair.a.reset();
  EXPECT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_ERR_CLOSED);
  EXPECT_EQ(fd, -1);
  mon_buffer_free(in);
}

TEST_P(MessageTypes, BoundariesHoldForBackToBackMessages) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  const std::vector<std::string> sent{"one", "", "three three", std::string(3000, 'z')};
  std::vector<unique_fd> passengers;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    passengers.push_back(test::some_fd());
    ASSERT_EQ(send_text(pair.a.get(), sent[i], i % 2 ? -1 : passengers.back().get()), MON_OK);
  }
  mon_buffer* in = mon_buffer_new(0);
  for (std::size_t i = 0; i < sent.size(); ++i) {
    int fd = -1;
    ASSERT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_OK);
    EXPECT_EQ(contents(in), sent[i]);
    if (i % 2) {
      EXPECT_EQ(fd, -1);
    } else {
      EXPECT_TRUE(test::same_file(fd, passengers[i].get()));
      ::close(fd);
    }
  }
  mon_buffer_free(in);
}

TEST_P(MessageTypes, TooBigIsConsumedItsDescriptorClosedAndTheNextMessageWorks) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto passenger = test::some_fd();
  ASSERT_EQ(send_text(pair.a.get(), std::string(100, 'q'), passenger.get()), MON_OK);
  ASSERT_EQ(send_text(pair.a.get(), "small", -1), MON_OK);
  mon_buffer* in = mon_buffer_new(16);
  int fd = 0;
  EXPECT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_ERR_TOOBIG);
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(mon_buffer_len(in), 0u);
  EXPECT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_OK);
  EXPECT_EQ(contents(in), "small");
  mon_buffer_free(in);
}

TEST_P(MessageTypes, NonBlockingReceiveOfNothingWantsRead) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam(), /*nonblocking=*/true);
  mon_buffer* in = mon_buffer_new(0);
  int fd = 0;
  EXPECT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_WANT_READ);
  EXPECT_EQ(fd, -1);
  mon_buffer_free(in);
}

TEST_P(MessageTypes, SendingToAClosedPeerIsClosedNotSigpipe) {
  auto pair = make_pair(GetParam());
  pair.b.reset();
  // Without MSG_NOSIGNAL this process would die of SIGPIPE here.
  EXPECT_EQ(send_text(pair.a.get(), "anyone?", -1), MON_ERR_CLOSED);
}

TEST_P(MessageTypes, CppApiCarriesManyDescriptors) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  std::vector<unique_fd> owned;
  std::vector<int> raw;
  for (std::size_t i = 0; i < max_fds; ++i) {
    owned.push_back(test::some_fd());
    raw.push_back(owned.back().get());
  }
  message_buffer out;
  ASSERT_TRUE(out.append(std::as_bytes(std::span("many", 4))).ok());
  ASSERT_TRUE(send_message(pair.a.get(), out, raw).ok());
  message_buffer in;
  fd_list got;
  auto r = receive_message(pair.b.get(), in, got);
  ASSERT_TRUE(r.ok()) << to_string(r.code());
  ASSERT_EQ(got.size(), max_fds);
  for (std::size_t i = 0; i < max_fds; ++i) {
    EXPECT_TRUE(test::same_file(got[i].get(), raw[i]));
    EXPECT_TRUE(test::is_cloexec(got[i].get()));
  }
}

TEST_P(MessageTypes, MoreDescriptorsThanTheReceiverTakesAreClosed) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto a = test::some_fd();
  auto b = test::some_fd();
  const int raw[] = {a.get(), b.get()};
  message_buffer out;
  ASSERT_TRUE(send_message(pair.a.get(), out, raw).ok());
  ASSERT_EQ(send_text(pair.a.get(), "after", -1), MON_OK);
  mon_buffer* in = mon_buffer_new(0);
  int fd = 0;
  EXPECT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_ERR_PROTOCOL);  // the C ABI takes one
  EXPECT_EQ(fd, -1);
  mon_buffer_free(in);
}

INSTANTIATE_TEST_SUITE_P(StreamAndSeqpacket, MessageTypes,
                         ::testing::Values(SOCK_STREAM, SOCK_SEQPACKET), test::socket_type_name);

TEST(MessageStream, PartialFrameOnANonBlockingSocketResumes) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  auto passenger = test::some_fd();
  const std::string payload = "resumable";
  auto bytes =
      test::frame_bytes(1, static_cast<std::uint32_t>(payload.size()),
                        {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()});
  const int fds[] = {passenger.get()};
  test::raw_send(pair.a.get(), std::span<const std::uint8_t>(bytes).first(3), fds);
  mon_buffer* in = mon_buffer_new(0);
  int fd = 0;
  EXPECT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_WANT_READ);
  // The half-read frame belongs to this socket: another one may not pick it up.
  auto other = make_pair(SOCK_STREAM, true);
  EXPECT_EQ(mon_ipc_recv_fd(other.b.get(), in, &fd), MON_ERR_INVALID);
  test::raw_send(pair.a.get(), std::span<const std::uint8_t>(bytes).subspan(3, 7));
  EXPECT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_WANT_READ);
  test::raw_send(pair.a.get(), std::span<const std::uint8_t>(bytes).subspan(10));
  ASSERT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_OK);
  EXPECT_EQ(contents(in), payload);
  EXPECT_TRUE(test::same_file(fd, passenger.get()));
  ::close(fd);
  mon_buffer_free(in);
}

TEST(MessageStream, HalfReceivedDescriptorsAreClosedByClearAndFree) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  auto passenger = test::some_fd();
  auto bytes = test::frame_bytes(1, 4);
  const int fds[] = {passenger.get()};
  test::raw_send(pair.a.get(), std::span<const std::uint8_t>(bytes).first(8), fds);
  mon_buffer* in = mon_buffer_new(0);
  int fd = 0;
  const int before = test::open_fd_count();
  EXPECT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_WANT_READ);
  EXPECT_EQ(test::open_fd_count(), before + 1);  // held inside the buffer
  mon_buffer_clear(in);
  EXPECT_EQ(test::open_fd_count(), before);
  test::raw_send(pair.a.get(), std::span<const std::uint8_t>(bytes).first(8), fds);
  // Again only a header: the buffer is freed while it holds the descriptor, and must close it.
  EXPECT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_WANT_READ);
  EXPECT_EQ(test::open_fd_count(), before + 1);
  mon_buffer_free(in);
  EXPECT_EQ(test::open_fd_count(), before);
}

TEST(MessageStream, NonBlockingSendOfALargeMessageResumesWithoutResendingTheDescriptor) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  const int small = 4096;
  ASSERT_EQ(::setsockopt(pair.a.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  const std::string big(1 << 20, 'B');
  mon_buffer* out = mon_buffer_new(big.size());
  ASSERT_EQ(mon_buffer_append(out, big.data(), big.size()), MON_OK);
  auto passenger = test::some_fd();

  std::atomic<bool> sent{false};
  std::thread receiver([&] {
    mon_buffer* in = mon_buffer_new(big.size());
    int fd = -1;
    int rc;
    while ((rc = mon_ipc_recv_fd(pair.b.get(), in, &fd)) == MON_WANT_READ) {
      pollfd p{pair.b.get(), POLLIN, 0};
      (void)::poll(&p, 1, 1000);
    }
    EXPECT_EQ(rc, MON_OK);
    EXPECT_EQ(mon_buffer_len(in), big.size());
    EXPECT_TRUE(fd >= 0 && test::same_file(fd, passenger.get()));
    if (fd >= 0) ::close(fd);
    // Exactly one message, one descriptor: nothing else follows.
    while (!sent.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_WANT_READ);
    mon_buffer_free(in);
  });
  int rc;
  int want_write = 0;
  while ((rc = mon_ipc_send_fd(pair.a.get(), out, passenger.get())) == MON_WANT_WRITE) {
    ++want_write;
    pollfd p{pair.a.get(), POLLOUT, 0};
    (void)::poll(&p, 1, 1000);
  }
  EXPECT_EQ(rc, MON_OK);
  EXPECT_GT(want_write, 0);  // the socket really was full part-way through
  sent = true;
  receiver.join();
  mon_buffer_free(out);
}

TEST(MessageStream, EndOfFileInsideAFrameIsAProtocolError) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  auto bytes = test::frame_bytes(0, 10);
  test::raw_send(pair.a.get(), bytes);  // header promises 10 bytes; none follow
  pair.a.reset();
  mon_buffer* in = mon_buffer_new(0);
  int fd = 0;
  EXPECT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_ERR_PROTOCOL);
  mon_buffer_free(in);
}

void ignore_signal(int) {}

TEST(MessageStream, InterruptedReceiveIsRetried) {
  fd_leak_check leaks;
  struct sigaction sa {};
  sa.sa_handler = ignore_signal;  // no SA_RESTART: recvmsg fails with EINTR
  struct sigaction old {};
  ASSERT_EQ(::sigaction(SIGUSR1, &sa, &old), 0);
  auto pair = make_pair(SOCK_STREAM);
  std::atomic<bool> receiving{false};
  int rc = 1;
  std::string got;
  std::thread receiver([&] {
    mon_buffer* in = mon_buffer_new(0);
    int fd = -1;
    receiving = true;
    rc = mon_ipc_recv_fd(pair.b.get(), in, &fd);
    got = contents(in);
    mon_buffer_free(in);
  });
  while (!receiving) std::this_thread::yield();
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ::pthread_kill(receiver.native_handle(), SIGUSR1);
  }
  ASSERT_EQ(send_text(pair.a.get(), "late", -1), MON_OK);
  receiver.join();
  EXPECT_EQ(rc, MON_OK);
  EXPECT_EQ(got, "late");
  ::sigaction(SIGUSR1, &old, nullptr);
}

}  // namespace
}  // namespace mon
