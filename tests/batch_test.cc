// SPDX-License-Identifier: MIT
// Batched send and receive (mon::send_messages / mon::receive_messages, mon_ipc_*_batch) over
// real sockets: order, binding of descriptors to their message, refused messages in the middle of
// a batch, partial writes, end of file, and every descriptor handed out or disposed of.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "monitor/monitor.hpp"
#include "support/test_support.hpp"

namespace mon {
namespace {

using test::fd_leak_check;
using test::make_pair;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// (not "m" + std::to_string(i): GCC 12 warns falsely about that, -Wrestrict)
std::string numbered(const char* prefix, std::size_t i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

std::string text_of(const received_message& m) {
  return {reinterpret_cast<const char*>(m.storage.data()), m.size};
}

// Slots with their own storage.
struct slot_set {
  explicit slot_set(std::size_t n, std::size_t room = 256)
      : store(n, std::vector<std::byte>(room)) {
    slots = std::make_unique<received_message[]>(n);
    for (std::size_t i = 0; i < n; ++i) slots[i].storage = store[i];
    count = n;
  }
  std::span<received_message> span() { return {slots.get(), count}; }
  received_message& operator[](std::size_t i) { return slots[i]; }
  std::vector<std::vector<std::byte>> store;
  std::unique_ptr<received_message[]> slots;
  std::size_t count;
};

class BatchTypes : public ::testing::TestWithParam<int> {};

// Sends n messages "m<i>", each with fds_each copies of passenger.
std::vector<std::string> send_numbered(int fd, std::size_t n, int passenger, std::size_t fds_each,
                                       std::size_t first = 0) {
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < n; ++i) texts.push_back(numbered("m", first + i));
  std::vector<int> fds(fds_each, passenger);
  std::vector<outgoing_message> msgs;
  for (auto& t : texts) msgs.push_back({bytes_of(t), fds});
  batch_send_state st;
  auto r = send_messages(fd, msgs, st);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.value(), n);
  EXPECT_FALSE(st.pending());
  return texts;
}

TEST_P(BatchTypes, SixteenMessagesWithOneDescriptorEachArriveInOrder) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto passenger = test::some_fd();
  auto texts = send_numbered(pair.a.get(), 16, passenger.get(), 1);
  auto state = std::make_unique<batch_receive_state>();
  slot_set slots(16);
  std::size_t got = 0;
  while (got < 16) {
    auto r = receive_messages(pair.b.get(), *state, slots.span().subspan(got), 1);
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    ASSERT_GT(r.value(), 0u);
    got += r.value();
  }
  for (std::size_t i = 0; i < 16; ++i) {
    ASSERT_TRUE(slots[i].status.ok());
    EXPECT_EQ(text_of(slots[i]), texts[i]);
    ASSERT_EQ(slots[i].fds.size(), 1u);
    EXPECT_TRUE(test::same_file(slots[i].fds[0].get(), passenger.get()));
    EXPECT_TRUE(test::is_cloexec(slots[i].fds[0].get()));
  }
  EXPECT_FALSE(state->pending());
}

TEST_P(BatchTypes, MixedDescriptorCountsAndEmptyPayloads) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto p = test::some_fd();
  const std::string a = "alpha", empty;
  const int two[] = {p.get(), p.get()};
  std::vector<outgoing_message> msgs{
      {bytes_of(a), {}}, {bytes_of(empty), two}, {bytes_of(a), std::span(two, 1)}};
  batch_send_state st;
  auto s = send_messages(pair.a.get(), msgs, st);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s.value(), 3u);
  auto state = std::make_unique<batch_receive_state>();
  slot_set slots(8);
  std::size_t got = 0;
  while (got < 3) {
    auto r = receive_messages(pair.b.get(), *state, slots.span().subspan(got), 2);
    ASSERT_TRUE(r.ok());
    got += r.value();
  }
  EXPECT_EQ(got, 3u);
  EXPECT_EQ(text_of(slots[0]), "alpha");
  EXPECT_EQ(slots[0].fds.size(), 0u);
  EXPECT_EQ(slots[1].size, 0u);
  EXPECT_EQ(slots[1].fds.size(), 2u);
  EXPECT_EQ(slots[2].fds.size(), 1u);
}

// A message with more descriptors than the receiver takes, in the middle: refused for itself, its
// descriptors disposed of, the ones before and after delivered.
TEST_P(BatchTypes, TooManyDescriptorsInTheMiddleIsRefusedAlone) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto p = test::some_fd();
  const int three[] = {p.get(), p.get(), p.get()};
  const std::string a = "a", b = "b", c = "c";
  std::vector<outgoing_message> msgs{
      {bytes_of(a), std::span(three, 1)}, {bytes_of(b), three}, {bytes_of(c), std::span(three, 1)}};
  batch_send_state st;
  ASSERT_EQ(send_messages(pair.a.get(), msgs, st).value(), 3u);
  auto state = std::make_unique<batch_receive_state>();
  slot_set slots(3);
  std::size_t got = 0;
  while (got < 3) {
    auto r = receive_messages(pair.b.get(), *state, slots.span().subspan(got), 2);
    ASSERT_TRUE(r.ok());
    got += r.value();
  }
  EXPECT_TRUE(slots[0].status.ok());
  EXPECT_EQ(text_of(slots[0]), "a");
  EXPECT_EQ(slots[0].fds.size(), 1u);
  ASSERT_FALSE(slots[1].status.ok());
  EXPECT_EQ(slots[1].status.code(), errc::protocol);
  EXPECT_EQ(slots[1].fds.size(), 0u);
  EXPECT_EQ(slots[1].size, 0u);
  EXPECT_TRUE(slots[2].status.ok());
  EXPECT_EQ(text_of(slots[2]), "c");
  EXPECT_EQ(slots[2].fds.size(), 1u);
}

// A payload larger than its slot: errc::toobig for that slot only.
TEST_P(BatchTypes, PayloadOverItsSlotIsRefusedAlone) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto p = test::some_fd();
  const int one[] = {p.get()};
  const std::string a = "small", big(100, 'x'), c = "after";
  std::vector<outgoing_message> msgs{{bytes_of(a), one}, {bytes_of(big), one}, {bytes_of(c), one}};
  batch_send_state st;
  ASSERT_EQ(send_messages(pair.a.get(), msgs, st).value(), 3u);
  auto state = std::make_unique<batch_receive_state>();
  slot_set slots(3, 16);
  std::size_t got = 0;
  while (got < 3) {
    auto r = receive_messages(pair.b.get(), *state, slots.span().subspan(got), 1);
    ASSERT_TRUE(r.ok());
    got += r.value();
  }
  EXPECT_EQ(text_of(slots[0]), "small");
  EXPECT_EQ(slots[1].status.code(), errc::toobig);
  EXPECT_EQ(slots[1].fds.size(), 0u);
  EXPECT_EQ(text_of(slots[2]), "after");
  EXPECT_EQ(slots[2].fds.size(), 1u);
}

// End of file after some messages: they come first, the next call says closed.
TEST_P(BatchTypes, EndOfFileAfterMessagesIsReportedAfterThem) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto p = test::some_fd();
  send_numbered(pair.a.get(), 3, p.get(), 1);
  pair.a.reset();
  auto state = std::make_unique<batch_receive_state>();
  slot_set slots(8);
  std::size_t got = 0;
  for (;;) {
    auto r = receive_messages(pair.b.get(), *state, slots.span().subspan(got), 1);
    if (!r) {
      EXPECT_EQ(r.code(), errc::closed);
      break;
    }
    ASSERT_GT(r.value(), 0u);
    got += r.value();
    ASSERT_LE(got, 3u);
  }
  EXPECT_EQ(got, 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(text_of(slots[i]), numbered("m", i));
}

TEST_P(BatchTypes, ReceiverTakesPlainSingleSendsAndSingleReceiverTakesABatch) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto p = test::some_fd();
  // Batch sender -> single receiver.
  send_numbered(pair.a.get(), 4, p.get(), 1);
  message_buffer buf;
  for (int i = 0; i < 4; ++i) {
    fd_list fds;
    auto r = receive_message(pair.b.get(), buf, fds, 1);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data().data()), buf.size()),
              numbered("m", i));
    EXPECT_EQ(fds.size(), 1u);
  }
  // Single sender -> batch receiver.
  for (int i = 0; i < 4; ++i) {
    message_buffer out;
    const std::string t = numbered("s", static_cast<std::size_t>(i));
    ASSERT_TRUE(out.append(bytes_of(t)).ok());
    const int one[] = {p.get()};
    ASSERT_EQ(send_message(pair.a.get(), out, one).value(), progress::done);
  }
  auto state = std::make_unique<batch_receive_state>();
  slot_set slots(4);
  std::size_t got = 0;
  while (got < 4) {
    auto r = receive_messages(pair.b.get(), *state, slots.span().subspan(got), 1);
    ASSERT_TRUE(r.ok());
    got += r.value();
  }
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(text_of(slots[i]), numbered("s", i));
}

TEST_P(BatchTypes, BadOutgoingMessageStopsTheBatchBeforeIt) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  const std::string a = "a";
  const int bad[] = {-1};
  std::vector<outgoing_message> msgs{{bytes_of(a), {}}, {bytes_of(a), bad}, {bytes_of(a), {}}};
  batch_send_state st;
  auto r = send_messages(pair.a.get(), msgs, st);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 1u);
  auto again = send_messages(pair.a.get(), std::span(msgs).subspan(1), st);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.code(), errc::invalid);
}

TEST_P(BatchTypes, NonBlockingReceiveWithNothingQueuedSaysZero) {
  auto pair = make_pair(GetParam(), true);
  auto state = std::make_unique<batch_receive_state>();
  slot_set slots(4);
  auto r = receive_messages(pair.b.get(), *state, slots.span(), 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 0u);
}

// Non-blocking both ends, a sender that fills the socket: every message arrives once, in order,
// with exactly its descriptors (a partly sent stream message resumes without resending them).
TEST_P(BatchTypes, NonBlockingPartialWritesResumeAndNeverResendDescriptors) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam(), true);
  int sz = 4096;
  ASSERT_EQ(::setsockopt(pair.a.get(), SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz), 0);
  auto p = test::some_fd();
  constexpr std::size_t total = 300;
  // Stream messages larger than the send buffer, so that a socket takes part of one; a record
  // must fit the buffer whole.
  const std::size_t big = GetParam() == SOCK_STREAM ? 20000 : 700;
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < total; ++i)
    texts.push_back(std::string(big + i % 50, static_cast<char>('a' + i % 26)));
  std::vector<outgoing_message> msgs;
  const int one[] = {p.get()};
  for (auto& t : texts) msgs.push_back({bytes_of(t), one});

  auto state = std::make_unique<batch_receive_state>();
  slot_set slots(16, 32768);
  batch_send_state st;
  std::size_t sent = 0, got = 0, partial_seen = 0, want_seen = 0;
  while (got < total) {
    if (sent < total) {
      auto r = send_messages(pair.a.get(), std::span(msgs).subspan(sent), st);
      ASSERT_TRUE(r.ok()) << to_string(r.code());
      sent += r.value();
      if (sent < total) ++want_seen;
      if (st.pending()) ++partial_seen;
    }
    auto r = receive_messages(pair.b.get(), *state, slots.span(), 1);
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    for (std::size_t i = 0; i < r.value(); ++i, ++got) {
      ASSERT_TRUE(slots[i].status.ok()) << got;
      ASSERT_EQ(text_of(slots[i]), texts[got]) << got;
      ASSERT_EQ(slots[i].fds.size(), 1u);
      slots[i].fds.clear();
    }
  }
  EXPECT_EQ(sent, total);
  EXPECT_GT(want_seen, 0u);  // the socket did fill
  if (GetParam() == SOCK_STREAM) {
    EXPECT_GT(partial_seen, 0u);
  }
  EXPECT_FALSE(st.pending());
  // Nothing more: no descriptor was sent twice.
  auto r = receive_messages(pair.b.get(), *state, slots.span(), 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 0u);
}

// A half-sent message resumed on another socket, or with another message: refused.
TEST(BatchStream, PendingMessageIsBoundToItsSocketAndMessage) {
  auto pair = make_pair(SOCK_STREAM, true);
  auto other = make_pair(SOCK_STREAM, true);
  int sz = 4096;
  ASSERT_EQ(::setsockopt(pair.a.get(), SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz), 0);
  const std::string big(60000, 'z');
  std::vector<outgoing_message> msgs{{bytes_of(big), {}}};
  batch_send_state st;
  auto r = send_messages(pair.a.get(), msgs, st);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value(), 0u);
  ASSERT_TRUE(st.pending());
  EXPECT_EQ(send_messages(other.a.get(), msgs, st).code(), errc::invalid);
  const std::string small = "x";
  std::vector<outgoing_message> wrong{{bytes_of(small), {}}};
  EXPECT_EQ(send_messages(pair.a.get(), wrong, st).code(), errc::invalid);
}

INSTANTIATE_TEST_SUITE_P(Batch, BatchTypes, ::testing::Values(SOCK_STREAM, SOCK_SEQPACKET),
                         test::socket_type_name);

// ---- SOCK_STREAM binding, hostile senders -------------------------------------------------------

// A raw sender puts frame A's descriptor on frame B (A declares 1 and sends none, B declares none
// and carries one): both are refused, the frame after them is delivered with its own descriptor.
TEST(BatchStream, DescriptorsOnTheWrongEntryAreRefusedOthersDelivered) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  auto p = test::some_fd();
  const std::uint8_t a[] = {'A'}, b[] = {'B'}, c[] = {'C'};
  test::raw_send(pair.a.get(), test::frame_bytes(1, 1, a));
  const int one[] = {p.get()};
  test::raw_send(pair.a.get(), test::frame_bytes(0, 1, b), one);
  test::raw_send(pair.a.get(), test::frame_bytes(1, 1, c), one);
  auto state = std::make_unique<batch_receive_state>();
  slot_set slots(8);
  std::size_t got = 0;
  while (got < 3) {
    auto r = receive_messages(pair.b.get(), *state, slots.span().subspan(got), 4);
    ASSERT_TRUE(r.ok());
    got += r.value();
  }
  EXPECT_EQ(got, 3u);
  EXPECT_EQ(slots[0].status.code(), errc::protocol);
  EXPECT_EQ(slots[0].fds.size(), 0u);
  EXPECT_EQ(slots[1].status.code(), errc::protocol);
  EXPECT_EQ(slots[1].fds.size(), 0u);
  ASSERT_TRUE(slots[2].status.ok());
  EXPECT_EQ(text_of(slots[2]), "C");
  ASSERT_EQ(slots[2].fds.size(), 1u);
  EXPECT_TRUE(test::same_file(slots[2].fds[0].get(), p.get()));
}

// A descriptor attached to a frame's middle (a second sendmsg of its payload): that frame refused.
TEST(BatchStream, DescriptorMidFrameSpoilsOnlyThatFrame) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  auto p = test::some_fd();
  const int one[] = {p.get()};
  auto whole = test::frame_bytes(0, 4, std::vector<std::uint8_t>{'a', 'b', 'c', 'd'});
  test::raw_send(pair.a.get(), std::span(whole).first(10));
  test::raw_send(pair.a.get(), std::span(whole).subspan(10), one);
  const std::uint8_t ok[] = {'k'};
  test::raw_send(pair.a.get(), test::frame_bytes(1, 1, ok), one);
  auto state = std::make_unique<batch_receive_state>();
  slot_set slots(4);
  std::size_t got = 0;
  while (got < 2) {
    auto r = receive_messages(pair.b.get(), *state, slots.span().subspan(got), 1);
    ASSERT_TRUE(r.ok());
    got += r.value();
  }
  EXPECT_EQ(slots[0].status.code(), errc::protocol);
  EXPECT_EQ(slots[0].fds.size(), 0u);
  ASSERT_TRUE(slots[1].status.ok());
  EXPECT_EQ(slots[1].fds.size(), 1u);
}

// Many small descriptor-free frames glued into one read, fewer slots than frames: the rest stay in
// the state and come, in order, with the next calls (never lost, never split).
TEST(BatchStream, MoreFramesThanSlotsStayInTheStateInOrder) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  auto p = test::some_fd();
  std::vector<std::uint8_t> all;
  for (int i = 0; i < 40; ++i) {
    const std::uint8_t v[] = {static_cast<std::uint8_t>(i)};
    auto f = test::frame_bytes(0, 1, v);
    all.insert(all.end(), f.begin(), f.end());
  }
  test::raw_send(pair.a.get(), all);
  const std::uint8_t last[] = {99};
  const int one[] = {p.get()};
  test::raw_send(pair.a.get(), test::frame_bytes(1, 1, last), one);  // 41st, with a descriptor
  auto state = std::make_unique<batch_receive_state>();
  slot_set slots(3);
  int expect = 0;
  while (expect < 41) {
    auto r = receive_messages(pair.b.get(), *state, slots.span(), 1);
    ASSERT_TRUE(r.ok());
    ASSERT_GT(r.value(), 0u);
    for (std::size_t i = 0; i < r.value(); ++i, ++expect) {
      ASSERT_TRUE(slots[i].status.ok());
      ASSERT_EQ(slots[i].size, 1u);
      const auto v = static_cast<int>(slots[i].storage[0]);
      EXPECT_EQ(v, expect < 40 ? expect : 99);
      EXPECT_EQ(slots[i].fds.size(), expect < 40 ? 0u : 1u);
    }
  }
  EXPECT_FALSE(state->pending());
}

// A frame that arrives in pieces on a non-blocking socket: nothing until it is whole, then it is
// in the slot of the call that completes it (its first part was kept by the state).
TEST(BatchStream, FrameInPiecesIsKeptByTheStateNotTheSlot) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, true);
  auto p = test::some_fd();
  const int one[] = {p.get()};
  std::vector<std::uint8_t> payload(300);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i * 7);
  auto f = test::frame_bytes(1, 300, payload);
  test::raw_send(pair.a.get(), std::span(f).first(100), one);
  auto state = std::make_unique<batch_receive_state>();
  slot_set first(2, 512);
  auto r = receive_messages(pair.b.get(), *state, first.span(), 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 0u);
  EXPECT_TRUE(state->pending());
  std::fill(first.store[0].begin(), first.store[0].end(), std::byte{0xee});  // the caller reuses it
  test::raw_send(pair.a.get(), std::span(f).subspan(100));
  slot_set second(2, 512);
  r = receive_messages(pair.b.get(), *state, second.span(), 1);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value(), 1u);
  ASSERT_TRUE(second[0].status.ok());
  ASSERT_EQ(second[0].size, 300u);
  EXPECT_EQ(std::memcmp(second[0].storage.data(), payload.data(), 300), 0);
  EXPECT_EQ(second[0].fds.size(), 1u);
}

TEST(BatchStream, EndOfFileInsideAFrameAfterMessagesIsAProtocolErrorAfterThem) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  auto p = test::some_fd();
  send_numbered(pair.a.get(), 2, p.get(), 1);
  const std::uint8_t x[] = {1, 2, 3};
  auto f = test::frame_bytes(0, 3, x);
  test::raw_send(pair.a.get(), std::span(f).first(9));
  pair.a.reset();
  auto state = std::make_unique<batch_receive_state>();
  slot_set slots(8);
  std::size_t got = 0;
  for (;;) {
    auto r = receive_messages(pair.b.get(), *state, slots.span().subspan(got), 1);
    if (!r) {
      EXPECT_EQ(r.code(), errc::protocol);
      break;
    }
    got += r.value();
    ASSERT_LE(got, 2u);
  }
  EXPECT_EQ(got, 2u);
  auto again = receive_messages(pair.b.get(), *state, slots.span(), 1);
  EXPECT_EQ(again.code(), errc::closed);
}

TEST(BatchStream, MalformedHeaderEndsTheBatch) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  const std::uint8_t ok[] = {'o'};
  auto f = test::frame_bytes(0, 1, ok);
  std::vector<std::uint8_t> bytes(f.begin(), f.end());
  const std::uint8_t junk[] = {'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x'};
  bytes.insert(bytes.end(), std::begin(junk), std::end(junk));
  bytes.insert(bytes.end(), f.begin(), f.end());
  test::raw_send(pair.a.get(), bytes);
  auto state = std::make_unique<batch_receive_state>();
  slot_set slots(8);
  auto r = receive_messages(pair.b.get(), *state, slots.span(), 1);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value(), 2u);
  EXPECT_TRUE(slots[0].status.ok());
  EXPECT_EQ(slots[1].status.code(), errc::protocol);
}

TEST(BatchStream, HeldReadAheadIsBoundToItsSocket) {
  auto pair = make_pair(SOCK_STREAM, true);
  auto other = make_pair(SOCK_STREAM, true);
  auto f = test::frame_bytes(0, 10, std::vector<std::uint8_t>(10, 1));
  test::raw_send(pair.a.get(), std::span(f).first(5));
  auto state = std::make_unique<batch_receive_state>();
  slot_set slots(2);
  ASSERT_EQ(receive_messages(pair.b.get(), *state, slots.span(), 1).value(), 0u);
  ASSERT_TRUE(state->pending());
  EXPECT_EQ(receive_messages(other.b.get(), *state, slots.span(), 1).code(), errc::invalid);
  state->clear();
  EXPECT_FALSE(state->pending());
  EXPECT_EQ(receive_messages(other.b.get(), *state, slots.span(), 1).value(), 0u);
}

// ---- SOCK_SEQPACKET -----------------------------------------------------------------------------

TEST(BatchSeqpacket, WrongCountAndLengthRecordsAreRefusedAlone) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_SEQPACKET);
  auto p = test::some_fd();
  const int one[] = {p.get()};
  const std::uint8_t a[] = {'a'};
  test::raw_send(pair.a.get(), test::frame_bytes(1, 1, a), one);
  test::raw_send(pair.a.get(), test::frame_bytes(0, 1, a), one);  // a descriptor not declared
  auto shortrec = test::frame_bytes(1, 4, a);                     // length says 4, 1 arrives
  test::raw_send(pair.a.get(), shortrec, one);
  test::raw_send(pair.a.get(), test::frame_bytes(1, 1, a), one);
  auto state = std::make_unique<batch_receive_state>();
  slot_set slots(8);
  std::size_t got = 0;
  while (got < 4) {
    auto r = receive_messages(pair.b.get(), *state, slots.span().subspan(got), 1);
    ASSERT_TRUE(r.ok());
    got += r.value();
  }
  EXPECT_TRUE(slots[0].status.ok());
  EXPECT_EQ(slots[1].status.code(), errc::protocol);
  EXPECT_EQ(slots[2].status.code(), errc::protocol);
  EXPECT_TRUE(slots[3].status.ok());
  EXPECT_EQ(slots[0].fds.size() + slots[1].fds.size() + slots[2].fds.size() + slots[3].fds.size(),
            2u);
}

// ---- C ABI --------------------------------------------------------------------------------------

TEST_P(BatchTypes, CApiRoundTrip) {
  fd_leak_check leaks;
  auto pair = make_pair(GetParam());
  auto p = test::some_fd();
  mon_batch* tx = mon_batch_new();
  mon_batch* rx = mon_batch_new();
  ASSERT_NE(tx, nullptr);
  ASSERT_NE(rx, nullptr);
  int pfd = p.get();
  std::array<std::string, 5> texts{"one", "two", "three", "four", "five"};
  std::array<mon_batch_msg, 5> out{};
  for (std::size_t i = 0; i < 5; ++i) out[i] = {texts[i].data(), texts[i].size(), 0, &pfd, 1, 0};
  std::size_t sent = 99;
  ASSERT_EQ(mon_ipc_send_batch(pair.a.get(), tx, out.data(), out.size(), &sent), MON_OK);
  EXPECT_EQ(sent, 5u);
  std::array<std::array<char, 32>, 5> store{};
  std::array<std::array<int, 2>, 5> fds{};
  std::array<mon_batch_msg, 5> in{};
  for (std::size_t i = 0; i < 5; ++i) in[i] = {store[i].data(), 0, 32, fds[i].data(), 0, -1};
  std::size_t got = 0;
  while (got < 5) {
    std::size_t n = 0;
    ASSERT_EQ(mon_ipc_recv_batch(pair.b.get(), rx, in.data() + got, 5 - got, 2, &n), MON_OK);
    got += n;
  }
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(in[i].status, MON_OK);
    EXPECT_EQ(std::string(store[i].data(), in[i].len), texts[i]);
    ASSERT_EQ(in[i].num_fds, 1u);
    EXPECT_TRUE(test::same_file(fds[i][0], pfd));
    ::close(fds[i][0]);
  }
  std::size_t n = 1;
  EXPECT_EQ(mon_ipc_recv_batch(pair.b.get(), nullptr, in.data(), 5, 2, &n), MON_ERR_INVALID);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(mon_ipc_send_batch(-1, tx, out.data(), 5, &n), MON_ERR_INVALID);
  mon_batch_free(tx);
  mon_batch_free(rx);
}

}  // namespace
}  // namespace mon
