// SPDX-License-Identifier: MIT
// A peer's descriptor as a weapon (SECURITY.md, "A peer's descriptors are attack surface"): a file
// on a FUSE mount whose server never answers FLUSH, so that close() of it waits forever. The
// harness (tests/support/fuse_stall.hpp) is a real mount served by this process; every test bounds
// each call that might wait by running it on a thread, and on overrun answers the held requests
// (the thread then returns) and fails: the suite never hangs and no thread outlives its test.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <thread>
#include <vector>

#include "auth/messages.hpp"
#include "hostile/hostile.hpp"
#include "monitor/monitor.hpp"
#include "support/fuse_stall.hpp"
#include "support/test_support.hpp"
#include "sys/discard.hpp"
#include "sys/linux_compat.hpp"

namespace mon {
namespace {

using namespace std::chrono_literals;
using test::fuse_stall;

// How long a call that must not wait may take. Generous for a loaded machine; a stalled close()
// never returns at all.
constexpr auto bound = 2000ms;
// How long a call that must wait is watched before it is called blocked.
constexpr auto watch = 300ms;

#define SKIP_WITHOUT_FUSE(fs) \
  if (!(fs).available()) GTEST_SKIP() << "FUSE harness unavailable: " << (fs).why_not()

// Runs fn on its own thread and waits for it at most `limit`. If it has not returned by then, the
// FUSE server answers everything it holds (so fn returns), the thread is joined, and false is
// returned.
template <class F>
bool returns_within(fuse_stall& fs, std::chrono::milliseconds limit, F fn) {
  auto done = std::async(std::launch::async, std::move(fn));
  if (done.wait_for(limit) == std::future_status::ready) return true;
  fs.release();
  done.wait();
  return false;
}

void send_with_rights(int sock, std::span<const std::uint8_t> bytes, std::vector<int> fds,
                      bool with_creds = false) {
  test::raw_send_headers(sock, bytes, {std::move(fds)}, with_creds);
}

// What a hostile peer does: opens the file, sends it with bytes, and closes its own copy (its own
// FLUSH is answered: the server is the peer's). From then on the server holds every FLUSH.
void send_fuse_file(fuse_stall& fs, int sock, std::span<const std::uint8_t> bytes,
                    bool with_creds = false) {
  fs.release();
  unique_fd fd = fs.open_file();
  ASSERT_TRUE(fd.valid()) << std::strerror(errno);
  send_with_rights(sock, bytes, {fd.get()}, with_creds);
  fd.reset();
  fs.hold();
}

// --- The harness and the kernel facts the design rests on ----------------------------------------

// Proves the harness: close() of the file really waits for the FLUSH answer (and only for it).
TEST(FuseClose, ClosingTheDescriptorWaitsForTheServer) {
  fuse_stall fs;
  SKIP_WITHOUT_FUSE(fs);
  unique_fd fd = fs.open_file();
  ASSERT_TRUE(fd.valid()) << std::strerror(errno);
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    fd.reset();
    closed = true;
  });
  ASSERT_TRUE(fs.wait_for_flushes(1, bound)) << "close() sent no FLUSH";
  std::this_thread::sleep_for(watch);
  EXPECT_FALSE(closed.load()) << "close() returned with its FLUSH unanswered: harness broken";
  fs.release();
  closer.join();
  EXPECT_TRUE(closed.load());
}

// Every close() flushes, not only the last reference's: putting the file in flight first (into a
// private socketpair) and closing the descriptor afterwards still waits. Closing the socketpair
// (the final fput of the in-flight copy) does not. This is why sys::discard hands descriptors to
// another thread instead.
TEST(FuseClose, ClosingAfterSendingTheFileAwayStillWaits) {
  fuse_stall fs;
  SKIP_WITHOUT_FUSE(fs);
  unique_fd fd = fs.open_file();
  ASSERT_TRUE(fd.valid());
  auto pair = test::make_pair(SOCK_SEQPACKET);
  const std::uint8_t byte = 0;
  send_with_rights(pair.a.get(), {&byte, 1}, {fd.get()});
  EXPECT_TRUE(returns_within(fs, bound, [&] {
    pair.a.reset();
    pair.b.reset();
  })) << "the final fput of a file in flight waited for FLUSH";
  EXPECT_EQ(fs.flushes_held(), 0);
  EXPECT_FALSE(returns_within(fs, watch, [&] { fd.reset(); }))
      << "close() after sending the file away did not wait: the kernel no longer flushes on close";
}

// Descriptors the receiver leaves no control-buffer room for are dropped by the kernel inside
// recvmsg (MSG_CTRUNC), by fput, without a FLUSH: sizing the room to what the receiver takes
// refuses the rest at no risk.
TEST(FuseClose, KernelDropsDescriptorsThatFindNoRoomWithoutWaiting) {
  fuse_stall fs;
  SKIP_WITHOUT_FUSE(fs);
  unique_fd fd = fs.open_file();
  ASSERT_TRUE(fd.valid());
  auto pair = test::make_pair(SOCK_SEQPACKET);
  const std::uint8_t byte = 0;
  send_with_rights(pair.a.get(), {&byte, 1}, {fd.get()});
  int flags = 0;
  ssize_t n = -1;
  EXPECT_TRUE(returns_within(fs, bound, [&] {
    std::uint8_t b;
    iovec iov{&b, 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    n = ::recvmsg(pair.b.get(), &msg, MSG_CMSG_CLOEXEC);
    flags = msg.msg_flags;
  }));
  EXPECT_EQ(n, 1);
  EXPECT_NE(flags & MSG_CTRUNC, 0);
  EXPECT_EQ(fs.flushes_held(), 0);
  fs.release();  // our own copy may now be closed
}

// --- sys::discard
// ----------------------------------------------------------------------------------

// (b) the default disposal: returns at once although the close() it arranges waits; the descriptor
// is closed by a closer thread once the server answers.
TEST(FuseClose, DiscardReturnsAtOnceAndTheDescriptorIsClosedLater) {
  fuse_stall fs;
  SKIP_WITHOUT_FUSE(fs);
  {
    unique_fd warm = test::some_fd();  // the first refusal creates the closers' queue: not counted
    sys::discard(warm);
  }
  unique_fd fd = fs.open_file();
  ASSERT_TRUE(fd.valid());
  const int baseline = test::open_fd_count() - 1;
  EXPECT_TRUE(returns_within(fs, bound, [&] { sys::discard(fd); }))
      << "sys::discard waited for the FUSE server";
  EXPECT_FALSE(fd.valid()) << "discard left the descriptor with the caller";
  EXPECT_TRUE(fs.wait_for_flushes(1, bound)) << "no closer thread ever closed the descriptor";
  fs.release();
  const auto end = std::chrono::steady_clock::now() + bound;
  while (test::open_fd_count() > baseline && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(test::open_fd_count(), baseline) << "the discarded descriptor was never closed";
}

// A closer stalled by one hostile file does not stall the disposal of the next descriptors.
TEST(FuseClose, AStalledCloserDoesNotHoldBackTheNextDescriptor) {
  fuse_stall fs;
  SKIP_WITHOUT_FUSE(fs);
  unique_fd stalled = fs.open_file();
  ASSERT_TRUE(stalled.valid());
  sys::discard(stalled);
  ASSERT_TRUE(fs.wait_for_flushes(1, bound));  // a closer is now inside close(), waiting
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  unique_fd read_end(p[0]);
  unique_fd write_end(p[1]);
  sys::discard(read_end);
  // The pipe's write end reports POLLERR once some closer has closed the read end.
  pollfd pfd{write_end.get(), POLLOUT, 0};
  bool closed = false;
  const auto end = std::chrono::steady_clock::now() + bound;
  while (!closed && std::chrono::steady_clock::now() < end) {
    closed = ::poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR) != 0;
    if (!closed) std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(closed) << "the second descriptor waited behind the stalled close()";
  fs.release();
}

void collect(int fd, void* context) noexcept {
  static_cast<std::vector<int>*>(context)->push_back(fd);
}

// An installed handler receives every refused descriptor, owns it, and nothing else closes it;
// nullptr restores the default.
TEST(Discard, TheInstalledHandlerOwnsEveryDescriptor) {
  std::vector<int> got;
  set_refused_fd_handler(collect, &got);
  fd_list list;
  std::vector<int> sent;
  for (int i = 0; i < 3; ++i) {
    unique_fd f = test::some_fd();
    sent.push_back(f.get());
    list.push(std::move(f));
  }
  sys::discard(list);
  set_refused_fd_handler(nullptr, nullptr);
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(got, sent);
  for (int fd : got) {
    EXPECT_GE(::fcntl(fd, F_GETFD), 0) << "a descriptor given to the handler was closed";
    (void)::close(fd);
  }
  // Default again: the handler sees nothing more.
  unique_fd f = test::some_fd();
  sys::discard(f);
  EXPECT_EQ(got.size(), sent.size());
}

TEST(Discard, TheCHandlerOwnsEveryDescriptor) {
  std::vector<int> got;
  mon_set_refused_fd_handler(
      [](int fd, void* context) { static_cast<std::vector<int>*>(context)->push_back(fd); }, &got);
  unique_fd f = test::some_fd();
  const int n = f.get();
  sys::discard(f);
  mon_set_refused_fd_handler(nullptr, &got);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], n);
  EXPECT_GE(::fcntl(n, F_GETFD), 0);
  (void)::close(n);
}

// --- (c) end to end, today's public API
// -------------------------------------------------------------- These fail (within the bound,
// never by hanging) until every refusal site disposes of descriptors through sys::discard or lets
// the kernel drop them.

// A non-blocking receiver that takes no descriptors, sent a frame that carries one FUSE file.
TEST(FuseClose, NonBlockingReceiveRefusingAFuseDescriptorReturns) {
  fuse_stall fs;
  SKIP_WITHOUT_FUSE(fs);
  auto pair = test::make_pair(SOCK_STREAM, /*nonblocking=*/true);
  ASSERT_NO_FATAL_FAILURE(send_fuse_file(fs, pair.a.get(), test::frame_bytes(1, 0)));
  message_buffer buf;
  fd_list fds;
  result<progress> r = progress::done;
  const bool returned =
      returns_within(fs, bound, [&] { r = receive_message(pair.b.get(), buf, fds, 0); });
  EXPECT_TRUE(returned) << "a non-blocking receive waited in close() of a refused FUSE descriptor";
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::protocol);
  EXPECT_TRUE(fds.empty());
}

// The same on a SOCK_SEQPACKET socket.
TEST(FuseClose, NonBlockingSeqpacketReceiveRefusingAFuseDescriptorReturns) {
  fuse_stall fs;
  SKIP_WITHOUT_FUSE(fs);
  auto pair = test::make_pair(SOCK_SEQPACKET, /*nonblocking=*/true);
  ASSERT_NO_FATAL_FAILURE(send_fuse_file(fs, pair.a.get(), test::frame_bytes(1, 0)));
  message_buffer buf;
  fd_list fds;
  result<progress> r = progress::done;
  const bool returned =
      returns_within(fs, bound, [&] { r = receive_message(pair.b.get(), buf, fds, 0); });
  EXPECT_TRUE(returned) << "a non-blocking receive waited in close() of a refused FUSE descriptor";
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::protocol);
  EXPECT_TRUE(fds.empty());
}

// A client's hello carrying a FUSE descriptor, written right after connect(): before the server's
// start() turns SO_PASSRIGHTS off, so the kernel queued the descriptor with it (on every kernel).
TEST(FuseClose, NonBlockingServerHandshakeStepRefusingAFuseDescriptorReturns) {
  fuse_stall fs;
  SKIP_WITHOUT_FUSE(fs);
  auto pair = test::make_pair(SOCK_STREAM, /*nonblocking=*/true);
  auth::message_bytes hello{};
  const std::size_t n = auth::encode_hello(hello);
  ASSERT_NO_FATAL_FAILURE(send_fuse_file(
      fs, pair.a.get(), std::span<const std::uint8_t>(hello.data(), n), /*with_creds=*/true));
  server_handshake server(pair.b.get());
  result<progress> r = progress::done;
  const bool returned = returns_within(fs, bound, [&] { r = server.step(); });
  EXPECT_TRUE(returned) << "a non-blocking handshake step waited in close() of a FUSE descriptor";
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::protocol);
}

}  // namespace
}  // namespace mon
