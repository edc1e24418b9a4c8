// SPDX-License-Identifier: MIT
// Hostile peers at the edges of a message (docs/ATTACKS.md A9, A15, A16): frames cut short by
// a close, slow peers on non-blocking sockets, empty records, and the sending side's own hazards
// (SIGPIPE, partial writes, ETOOMANYREFS). Real socketpairs; every test bounded and leak-checked.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "hostile/hostile.hpp"
#include "monitor/monitor.hpp"
#include "support/test_support.hpp"

namespace mon {
namespace {

using test::fd_leak_check;
using test::frame_bytes;
using test::make_pair;
using test::raw_send;
using namespace hostile;

std::span<const std::uint8_t> first(const std::vector<std::uint8_t>& v, std::size_t n) {
  return std::span<const std::uint8_t>(v).first(n);
}

TEST(EdgesStream, HalfAHeaderThenClose) {  // A15, B23
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  const auto bytes = frame_bytes(0, 4, bytes_of("abcd"));
  raw_send(pair.a.get(), first(bytes, 4));
  pair.a.reset();
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);  // end of file inside a message
}

TEST(EdgesStream, HalfAPayloadWithItsDescriptorThenClose) {  // A13, A15
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  const auto bytes = frame_bytes(1, 6, bytes_of("abcdef"));
  auto one = fds(1);
  raw_send(pair.a.get(), first(bytes, 10), raw(one));  // the descriptor is delivered, then nothing
  one.clear();
  pair.a.reset();
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);
}

TEST(EdgesStream, NonBlockingPartialFrameThenCloseNeverBlocks) {  // A15, invariant 4
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  const auto bytes = frame_bytes(1, 3, bytes_of("xyz"));
  auto one = fds(1);
  receiver r;
  raw_send(pair.a.get(), first(bytes, 9), raw(one));  // header, one byte of payload, the descriptor
  one.clear();
  EXPECT_EQ(r.recv(pair.b.get()), MON_WANT_READ);
  EXPECT_EQ(r.recv(pair.b.get()), MON_WANT_READ);  // asked again: still not blocked
  pair.a.reset();
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_PROTOCOL);  // the held descriptor is closed
}

TEST(EdgesStream, ByteByByteFrameWithADescriptorOnTheFirstByte) {  // A6, A15, B23
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  const auto bytes = frame_bytes(1, 3, bytes_of("fd!"));
  auto one = fds(1);
  receiver r;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    EXPECT_EQ(r.recv(pair.b.get()), MON_WANT_READ) << "at byte " << i;
    if (i == 0) {
      raw_send(pair.a.get(), first(bytes, 1), raw(one));
    } else {
      raw_send(pair.a.get(), std::span<const std::uint8_t>(&bytes[i], 1));
    }
  }
  ASSERT_EQ(r.recv(pair.b.get()), MON_OK);
  EXPECT_EQ(r.text(), "fd!");
  ASSERT_GE(r.got_fd, 0);
  EXPECT_TRUE(test::same_file(r.got_fd, one[0].get()));
  ::close(r.got_fd);
}

TEST(EdgesStream, ZeroLengthMessageIsNotEndOfFile) {  // A16
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  raw_send(pair.a.get(), frame_bytes(0, 0));
  pair.a.reset();
  receiver r;
  ASSERT_EQ(r.recv(pair.b.get()), MON_OK);
  EXPECT_EQ(mon_buffer_len(r.buf), 0u);
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_CLOSED);
}

TEST(EdgesSeqpacket, EmptyRecordReadsAsEndOfFileAndItsDescriptorIsClosed) {  // A16 (known limit)
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_SEQPACKET);
  // recvmsg returns 0 for an empty record, exactly as for a closed peer: the library cannot tell
  // them apart and reports MON_ERR_CLOSED (SECURITY.md, "Known limits"). Whatever rode on it is
  // closed.
  auto one = fds(1);
  raw_send(pair.a.get(), {}, raw(one));
  receiver r;
  EXPECT_EQ(r.recv(pair.b.get()), MON_ERR_CLOSED);
}

TEST(EdgesSeqpacket, ZeroLengthMessageIsAnEightByteRecord) {  // A16
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_SEQPACKET);
  mon_buffer* empty = mon_buffer_new(0);
  ASSERT_EQ(mon_ipc_send_fd(pair.a.get(), empty, -1), MON_OK);
  mon_buffer_free(empty);
  receiver r;
  ASSERT_EQ(r.recv(pair.b.get()), MON_OK);
  EXPECT_EQ(mon_buffer_len(r.buf), 0u);
}

// The sender's side: a peer that vanished must not kill the sender with SIGPIPE.
TEST(EdgesSender, PeerGoneIsClosedNotSigpipe) {  // A15
  hang_guard guard;
  fd_leak_check leaks;
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    auto pair = make_pair(type);
    pair.b.reset();  // the peer is gone before anything is sent
    const pid_t child = test::fork_child([&] {
      ::signal(SIGPIPE, SIG_DFL);  // an unprepared service: SIGPIPE would terminate it
      mon_buffer* msg = mon_buffer_new(0);
      const int rc =
          mon_buffer_append(msg, "x", 1) == MON_OK ? mon_ipc_send_fd(pair.a.get(), msg, 0) : 90;
      mon_buffer_free(msg);
      return rc == MON_ERR_CLOSED ? 0 : 91;
    });
    EXPECT_EQ(test::wait_child(child), 0) << "128+13 means SIGPIPE killed the sender";
  }
}

// A receiver that reads slowly: a non-blocking sender is told to wait, and the descriptor leaves
// with the first byte only, whatever number of retries the rest takes.
TEST(EdgesSender, PartialWritesSendTheDescriptorExactlyOnce) {  // A15
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  const std::size_t size = 4 * 1024 * 1024;
  mon_buffer* msg = mon_buffer_new(size);
  const std::vector<char> payload(size, 'p');
  ASSERT_EQ(mon_buffer_append(msg, payload.data(), payload.size()), MON_OK);
  auto passenger = test::some_fd();
  receiver r(size);
  int send_rc = mon_ipc_send_fd(pair.a.get(), msg, passenger.get());
  EXPECT_EQ(send_rc, MON_WANT_WRITE);  // the socket buffer is far smaller than 4 MiB
  int recv_rc = MON_WANT_READ;
  int wants = 0;
  while (recv_rc == MON_WANT_READ) {
    recv_rc = r.recv(pair.b.get());
    if (send_rc == MON_WANT_WRITE) send_rc = mon_ipc_send_fd(pair.a.get(), msg, passenger.get());
    ASSERT_LT(++wants, 100000) << "no progress";
  }
  EXPECT_EQ(send_rc, MON_OK);
  ASSERT_EQ(recv_rc, MON_OK);
  EXPECT_EQ(mon_buffer_len(r.buf), size);
  ASSERT_GE(r.got_fd, 0);
  ::close(r.got_fd);
  // Nothing else is queued: in particular, no second copy of the descriptor.
  EXPECT_EQ(r.recv(pair.b.get()), MON_WANT_READ);
  mon_buffer_free(msg);
}

// Descriptors in flight count against the sender's RLIMIT_NOFILE (unless it has CAP_SYS_RESOURCE or
// CAP_SYS_ADMIN): the kernel refuses with ETOOMANYREFS, and the library reports it as MON_ERR_IO
// with errno kept, without sending half a message.
TEST(EdgesSender, TooManyDescriptorsInFlightIsReported) {  // A9
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become an unprivileged user";
  hang_guard guard;
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  const pid_t child = test::fork_child([&] {
    if (!drop_to_nobody()) return 90;
    const rlimit low{64, 64};
    if (::setrlimit(RLIMIT_NOFILE, &low) != 0) return 91;
    auto passenger = test::some_fd();
    mon_buffer* msg = mon_buffer_new(0);
    int rc = MON_OK;
    int sent = 0;
    for (; sent < 1000 && rc == MON_OK; ++sent)
      rc = mon_ipc_send_fd(pair.a.get(), msg, passenger.get());
    const int e = errno;
    mon_buffer_free(msg);
    if (rc != MON_ERR_IO) return 92;
    if (e != ETOOMANYREFS) return 93;
    return sent <= 66 ? 0 : 94;  // refused once more than 64 were in flight
  });
  EXPECT_EQ(test::wait_child(child), 0);
  // Drain what did go through: each message intact, with its one descriptor, owned here.
  test::set_nonblocking(pair.b.get());
  receiver r;
  int n = 0;
  while (r.recv(pair.b.get()) == MON_OK) {
    ASSERT_GE(r.got_fd, 0);
    ::close(r.got_fd);
    ++n;
  }
  EXPECT_GE(n, 60);
}

}  // namespace
}  // namespace mon
