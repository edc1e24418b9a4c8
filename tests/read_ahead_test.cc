// SPDX-License-Identifier: MIT
// The stream receiver's read-ahead over real sockets (docs/PROTOCOL.md, "Read-ahead and
// descriptors on SOCK_STREAM"): frames glued in one read, what a buffer holds at clear and free,
// the receive state bound to its socket (not to the descriptor number), and the handshake's
// fail-closed answer to a socket that is not AF_UNIX.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "monitor/monitor.hpp"
#include "support/test_support.hpp"

namespace mon {
namespace {

using test::fd_leak_check;
using test::frame_bytes;
using test::make_pair;
using test::raw_send;

std::vector<std::uint8_t> bytes_of(std::span<const std::byte> b) {
  std::vector<std::uint8_t> out(b.size());
  for (std::size_t i = 0; i < b.size(); ++i) out[i] = static_cast<std::uint8_t>(b[i]);
  return out;
}

TEST(ReadAhead, GluedFramesComeOutInOrderWithTheirDescriptors) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  message_buffer out;
  for (std::uint8_t i = 0; i < 10; ++i) {
    const std::byte b{i};
    ASSERT_TRUE(out.append({&b, 1}).ok());
    auto fd = test::some_fd();
    const int raw = fd.get();
    ASSERT_TRUE(send_message(pair.a.get(), out,
                             i == 9 ? std::span<const int>(&raw, 1) : std::span<const int>{})
                    .ok());
    out.clear();
  }
  message_buffer in;
  fd_list fds;
  for (std::uint8_t i = 0; i < 10; ++i) {
    auto r = receive_message(pair.b.get(), in, fds, 1);
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    EXPECT_EQ(bytes_of(in.data()), std::vector<std::uint8_t>{i});
    EXPECT_EQ(fds.size(), i == 9 ? 1u : 0u);
  }
}

// Two frames arrive in one read; the caller takes the first, then clears (or frees) the buffer:
// the second frame's descriptor is disposed of, not leaked.
TEST(ReadAhead, ClearAndFreeDisposeOfWhatIsHeld) {
  fd_leak_check leaks;
  for (bool use_free : {false, true}) {
    auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
    auto first = frame_bytes(0, 1, std::vector<std::uint8_t>{1});
    auto second = frame_bytes(1, 1, std::vector<std::uint8_t>{2});
    raw_send(pair.a.get(), first);
    auto fd = test::some_fd();
    const int raw = fd.get();
    raw_send(pair.a.get(), second, std::span<const int>(&raw, 1));
    fd.reset();
    const int before = test::open_fd_count();
    mon_buffer* buf = mon_buffer_new(0);
    ASSERT_NE(buf, nullptr);
    int got = -1;
    ASSERT_EQ(mon_ipc_recv_fd(pair.b.get(), buf, &got), MON_OK);
    EXPECT_EQ(got, -1);
    EXPECT_EQ(test::open_fd_count(), before + 1);  // the second frame's descriptor, held
    if (use_free) {
      mon_buffer_free(buf);
    } else {
      mon_buffer_clear(buf);
      EXPECT_EQ(test::open_fd_count(), before);
      // Nothing is left to read: the held frame went with the clear.
      EXPECT_EQ(mon_ipc_recv_fd(pair.b.get(), buf, &got), MON_WANT_READ);
      mon_buffer_free(buf);
    }
    EXPECT_EQ(test::open_fd_count(), before);
  }
}

// ATTACKS.md D36: a half-received frame (with its descriptor) whose socket is closed, and a new
// connection under the same descriptor number read with the same buffer. Nothing of the old peer
// reaches the new one's caller, and the old descriptor is disposed of.
TEST(ReadAhead, AReusedDescriptorNumberIsANewSocket) {
  fd_leak_check leaks;
  auto a = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  auto frame_a = frame_bytes(1, 8, std::vector<std::uint8_t>(8, 0xaa));
  auto fd = test::some_fd();
  const int raw = fd.get();
  raw_send(a.a.get(), std::span<const std::uint8_t>(frame_a).first(12),
           std::span<const int>(&raw, 1));
  fd.reset();
  message_buffer buf;
  fd_list fds;
  auto r = receive_message(a.b.get(), buf, fds);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value(), progress::want_read);  // half of A's frame and its descriptor are held
  const int number = a.b.get();
  const int held_fds = test::open_fd_count();

  auto b = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  ASSERT_EQ(::dup3(b.b.get(), number, O_CLOEXEC), number);  // closes A's end; B under its number
  b.b.reset();
  auto frame_b = frame_bytes(0, 8, std::vector<std::uint8_t>(8, 0xbb));
  raw_send(b.a.get(), frame_b);
  r = receive_message(number, buf, fds);
  ASSERT_TRUE(r.ok()) << to_string(r.code());
  ASSERT_EQ(r.value(), progress::done);
  EXPECT_EQ(bytes_of(buf.data()), std::vector<std::uint8_t>(8, 0xbb));
  EXPECT_TRUE(fds.empty());
  // B's pair added two descriptors, one went with b.b.reset(), and A's descriptor was disposed of.
  EXPECT_EQ(test::open_fd_count(), held_fds);
  // The number now belongs to B's end; a.b closes it once when the test ends.
}

TEST(ReadAhead, ABufferHoldingAFrameRefusesAnotherSocket) {
  fd_leak_check leaks;
  auto a = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  auto b = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  auto frame = frame_bytes(0, 8, std::vector<std::uint8_t>(8, 1));
  raw_send(a.a.get(), std::span<const std::uint8_t>(frame).first(10));
  message_buffer buf;
  fd_list fds;
  ASSERT_EQ(receive_message(a.b.get(), buf, fds).value(), progress::want_read);
  EXPECT_EQ(receive_message(b.b.get(), buf, fds).code(), errc::invalid);
  // The held part is not lost by the refusal: the frame completes on its own socket.
  raw_send(a.a.get(), std::span<const std::uint8_t>(frame).subspan(10));
  auto r = receive_message(a.b.get(), buf, fds);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), progress::done);
  EXPECT_EQ(bytes_of(buf.data()), std::vector<std::uint8_t>(8, 1));
}

// The buffer keeps why its last receive failed, for logs; a success clears it.
TEST(ReadAhead, TheBufferSaysWhyItsLastReceiveFailed) {
  fd_leak_check leaks;
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    auto pair = make_pair(type);
    auto fd = test::some_fd();
    const int raw = fd.get();
    raw_send(pair.a.get(), frame_bytes(0, 1, std::vector<std::uint8_t>{1}),
             std::span<const int>(&raw, 1));  // a descriptor the header does not declare
    fd.reset();
    raw_send(pair.a.get(), frame_bytes(0, 1, std::vector<std::uint8_t>{2}));
    mon_buffer* buf = mon_buffer_new(0);
    ASSERT_NE(buf, nullptr);
    int got = -1;
    EXPECT_EQ(mon_ipc_recv_fd(pair.b.get(), buf, &got), MON_ERR_PROTOCOL);
    EXPECT_EQ(mon_buffer_fault(buf), static_cast<int>(fault::descriptor_count_mismatch));
    EXPECT_STREQ(mon_fault_string(mon_buffer_fault(buf)),
                 describe(fault::descriptor_count_mismatch));
    EXPECT_EQ(mon_ipc_recv_fd(pair.b.get(), buf, &got), MON_OK);
    EXPECT_EQ(mon_buffer_fault(buf), 0);
    mon_buffer_free(buf);
  }
}

// A server told its socket came from a prepared listener toggles nothing and asks no SO_DOMAIN; a
// TCP connection must still fail closed, since no kernel credentials can come with the hello.
TEST(PreparedServer, ATcpConnectionFailsClosed) {
  fd_leak_check leaks;
  unique_fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener.valid());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  unique_fd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  unique_fd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn.valid());
  // A well-formed hello, as monitor's client writes it (but TCP cannot carry credentials).
  const std::uint8_t hello[] = {'m', 'o', 'n', 'H', 1, 1, 0, 0};
  ASSERT_EQ(::send(client.get(), hello, sizeof hello, MSG_NOSIGNAL), 8);
  for (bool prepared : {true, false}) {
    server_options opts;
    opts.prepared_listener = prepared;
    opts.socket_type = SOCK_STREAM;
    server_handshake server(conn.get(), nullptr, nullptr, opts);
    auto r = server.step();
    ASSERT_FALSE(r.ok());
    // Unprepared: SO_PASSRIGHTS (AF_UNIX only) fails at start. Prepared: the hello is read, and
    // carries no credentials; turning SO_PASSCRED off afterwards fails the same way (this kernel
    // keeps the option to AF_UNIX), before any answer: no identity, nothing accepted.
    EXPECT_EQ(r.code(), errc::invalid) << to_string(r.code()) << " errno " << r.err().sys_errno;
    EXPECT_EQ(r.err().sys_errno, EOPNOTSUPP);
    EXPECT_EQ(server.peer(), peer_credentials{});
  }
}

}  // namespace
}  // namespace mon
