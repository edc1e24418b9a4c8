// SPDX-License-Identifier: MIT
#include "frame/frame.hpp"
#include "frame/stream_receiver.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <cstring>

#include <vector>

#include "support/test_support.hpp"

namespace mon::frame {
namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

// Refused descriptors land here (the receiver never closes a peer's descriptor itself).
int refused_count = 0;
void count_and_close(fd_list& fds) noexcept {
  refused_count += static_cast<int>(fds.size());
  fds.clear();
}

// A SOCK_STREAM socket as the kernel behaves: each send is one skb (its descriptors on it); a
// read glues descriptor-free skbs, takes the descriptors of the first skb it touches that has
// some, and ends right after that skb. at_most caps a read (the sender's pace).
struct fake_stream {
  struct skb {
    std::vector<std::uint8_t> bytes;
    std::vector<int> fds;
    std::size_t used = 0;
  };
  std::vector<skb> queue;
  std::size_t at_most = SIZE_MAX;
  int reads = 0;

  void send(std::vector<std::uint8_t> bytes, std::size_t nfds = 0) {
    skb s{std::move(bytes), {}, 0};
    for (std::size_t i = 0; i < nfds; ++i) s.fds.push_back(test::some_fd().release());
    queue.push_back(std::move(s));
  }
  void send_frame(std::uint8_t nfds, std::vector<std::uint8_t> payload, std::size_t real_fds) {
    send(test::frame_bytes(nfds, static_cast<std::uint32_t>(payload.size()), payload), real_fds);
  }
  // One recvmsg into the receiver's plan; false at end of data.
  bool read_into(stream_receiver& rx, std::size_t fd_room = max_fds) {
    const auto plan = rx.plan();
    std::vector<std::byte*> dst;
    std::size_t cap = plan.direct.size() + plan.ahead.size();
    cap = std::min(cap, at_most);
    std::size_t n = 0;
    fd_list fds;
    result<void> control{};
    while (n < cap && !queue.empty()) {
      skb& s = queue.front();
      if (!s.fds.empty()) {
        for (std::size_t i = 0; i < s.fds.size(); ++i) {
          if (i < fd_room) {
            EXPECT_TRUE(fds.push(unique_fd(s.fds[i])));
          } else {
            unique_fd dropped(s.fds[i]);  // the kernel drops what does not fit
            control = errc::truncated;
          }
        }
        s.fds.clear();
        s.used = s.used == 0 ? s.used : s.used;
        const std::size_t take = std::min(cap - n, s.bytes.size() - s.used);
        copy(plan, n, s, take);
        n += take;
        if (s.used == s.bytes.size()) queue.erase(queue.begin());
        break;  // the kernel ends the read after a descriptor-carrying skb
      }
      const std::size_t take = std::min(cap - n, s.bytes.size() - s.used);
      copy(plan, n, s, take);
      n += take;
      if (s.used == s.bytes.size()) queue.erase(queue.begin());
    }
    if (n == 0) return false;
    ++reads;
    rx.on_read(n, control, fds);
    return true;
  }
  static void copy(const read_plan& plan, std::size_t at, skb& s, std::size_t take) {
    for (std::size_t i = 0; i < take; ++i) {
      const std::size_t pos = at + i;
      std::byte* d =
          pos < plan.direct.size() ? &plan.direct[pos] : &plan.ahead[pos - plan.direct.size()];
      *d = static_cast<std::byte>(s.bytes[s.used + i]);
    }
    s.used += take;
  }
};

// The next frame out of rx, reading from k as needed: its result, payload and descriptors.
struct got_frame {
  result<void> status{};
  std::vector<std::uint8_t> payload;
  fd_list fds;
};
got_frame next_frame(stream_receiver& rx, fake_stream& k, std::vector<std::byte>& storage,
                     std::size_t fd_room = max_fds) {
  got_frame out;
  for (;;) {
    auto ev = rx.next();
    if (!ev) {
      out.status = ev.err();
      return out;
    }
    if (ev.value() == stream_receiver::event::frame) {
      const auto len = rx.current_header().payload_len;
      for (std::size_t i = 0; i < len; ++i)
        out.payload.push_back(static_cast<std::uint8_t>(storage[i]));
      rx.take_fds(out.fds);
      return out;
    }
    if (ev.value() == stream_receiver::event::need_storage) {
      storage.assign(rx.current_header().payload_len, std::byte{0});
      rx.set_storage(storage);
      continue;
    }
    if (!k.read_into(rx, fd_room)) {
      out.status = rx.on_eof();
      return out;
    }
  }
}

TEST(FrameHeader, RoundTrips) {
  for (header h : {header{0, 0}, header{1, 5}, header{253, MON_BUFFER_LIMIT}}) {
    auto bytes = encode_header(h);
    auto back = decode_header(bytes);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back.value(), h);
  }
}

TEST(FrameHeader, RefusesBadMagicVersionCountAndLength) {
  auto good = encode_header({1, 10});
  auto bad = good;
  bad[0] = 'x';
  EXPECT_EQ(decode_header(bad).code(), errc::protocol);
  bad = good;
  bad[2] = 2;  // unknown version
  EXPECT_EQ(decode_header(bad).code(), errc::protocol);
  bad = good;
  bad[3] = 254;  // more than SCM_MAX_FD
  EXPECT_EQ(decode_header(bad).code(), errc::protocol);
  auto big = encode_header({0, static_cast<std::uint32_t>(MON_BUFFER_LIMIT + 1)});
  EXPECT_EQ(decode_header(big).code(), errc::protocol);
}

class StreamReceiver : public ::testing::Test {
 protected:
  void SetUp() override { refused_count = 0; }
  stream_receiver rx{&count_and_close};
  fake_stream k;
  std::vector<std::byte> storage;
  got_frame next(std::size_t fd_room = max_fds) { return next_frame(rx, k, storage, fd_room); }
};

TEST_F(StreamReceiver, OneReadPerFrameThatCarriesDescriptors) {
  rx.set_limits({64, 1});
  for (std::uint8_t i = 0; i < 5; ++i) k.send_frame(1, {i, i, i}, 1);
  for (std::uint8_t i = 0; i < 5; ++i) {
    auto f = next();
    ASSERT_TRUE(f.status.ok());
    EXPECT_EQ(f.payload, (std::vector<std::uint8_t>{i, i, i}));
    ASSERT_EQ(f.fds.size(), 1u);
    EXPECT_TRUE(is_open(f.fds[0].get()));
  }
  EXPECT_EQ(k.reads, 5);  // the header of the next frame never needs a read of its own
  EXPECT_FALSE(rx.pending());
}

TEST_F(StreamReceiver, DescriptorFreeFramesGlueIntoOneRead) {
  rx.set_limits({64, 0});
  for (std::uint8_t i = 0; i < 10; ++i) k.send_frame(0, {i}, 0);
  for (std::uint8_t i = 0; i < 10; ++i) {
    auto f = next();
    ASSERT_TRUE(f.status.ok());
    EXPECT_EQ(f.payload, std::vector<std::uint8_t>{i});
  }
  EXPECT_EQ(k.reads, 1);
}

TEST_F(StreamReceiver, DescriptorsGoToTheLastFrameThatBeganInTheRead) {
  rx.set_limits({64, 2});
  k.send_frame(0, {1}, 0);
  k.send_frame(0, {2}, 0);
  k.send_frame(2, {3}, 2);
  auto a = next();
  auto b = next();
  auto c = next();
  ASSERT_TRUE(a.status.ok() && b.status.ok() && c.status.ok());
  EXPECT_TRUE(a.fds.empty() && b.fds.empty());
  EXPECT_EQ(c.fds.size(), 2u);
  EXPECT_EQ(k.reads, 1);
}

TEST_F(StreamReceiver, AnEarlierFrameInTheSameReadThatDeclaredDescriptorsIsRefused) {
  rx.set_limits({64, 1});
  // One skb holding two frames, descriptor attached: the first frame declared it, but the rule
  // binds it to the second (the last that begins in the read).
  auto bytes = test::frame_bytes(1, 1, std::vector<std::uint8_t>{1});
  auto second = test::frame_bytes(1, 1, std::vector<std::uint8_t>{2});
  bytes.insert(bytes.end(), second.begin(), second.end());
  k.send(bytes, 1);
  k.send_frame(0, {3}, 0);
  EXPECT_EQ(next().status.code(), errc::protocol);  // declared one, got none
  auto b = next();
  ASSERT_TRUE(b.status.ok());  // the hostile sender misplaced only its own descriptor
  EXPECT_EQ(b.fds.size(), 1u);
  auto c = next();
  ASSERT_TRUE(c.status.ok());
  EXPECT_EQ(c.payload, std::vector<std::uint8_t>{3});
}

TEST_F(StreamReceiver, DescriptorsMidFrameSpoilThatFrameOnly) {
  rx.set_limits({64, 1});
  auto bytes = test::frame_bytes(0, 6, std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6});
  k.send(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 10));
  k.send(std::vector<std::uint8_t>(bytes.begin() + 10, bytes.end()), 1);  // fd on byte 10
  k.send_frame(0, {7}, 0);
  k.at_most = 10;
  EXPECT_EQ(next().status.code(), errc::protocol);
  EXPECT_EQ(rx.last_fault(), fault::descriptors_without_frame);
  EXPECT_EQ(refused_count, 1);
  auto b = next();
  ASSERT_TRUE(b.status.ok());
  EXPECT_EQ(b.payload, std::vector<std::uint8_t>{7});
}

TEST_F(StreamReceiver, CountMustMatchTheHeader) {
  rx.set_limits({64, 2});
  k.send_frame(1, {1}, 0);
  k.send_frame(1, {2}, 2);
  k.send_frame(0, {3}, 0);
  EXPECT_EQ(next().status.code(), errc::protocol);
  EXPECT_EQ(rx.last_fault(), fault::descriptor_count_mismatch);
  EXPECT_EQ(next().status.code(), errc::protocol);
  EXPECT_EQ(rx.last_fault(), fault::descriptor_count_mismatch);
  EXPECT_EQ(refused_count, 2);
  EXPECT_TRUE(next().status.ok());
}

TEST_F(StreamReceiver, MoreDeclaredThanTakenIsConsumedAsProtocol) {
  rx.set_limits({64, 1});
  k.send_frame(3, {1, 2}, 3);
  k.send_frame(0, {9}, 0);
  EXPECT_EQ(next(2).status.code(), errc::protocol);  // the kernel cut the third: still protocol
  EXPECT_EQ(rx.last_fault(), fault::frame_too_many_descriptors);
  EXPECT_EQ(refused_count, 2);
  auto b = next();
  ASSERT_TRUE(b.status.ok());
  EXPECT_EQ(b.payload, std::vector<std::uint8_t>{9});
}

TEST_F(StreamReceiver, CutControlIsTruncatedAndConsumed) {
  rx.set_limits({64, 2});
  k.send_frame(2, {1}, 2);
  k.send_frame(0, {2}, 0);
  EXPECT_EQ(next(1).status.code(), errc::truncated);
  EXPECT_EQ(rx.last_fault(), fault::control_truncated);
  EXPECT_EQ(refused_count, 1);
  EXPECT_TRUE(next().status.ok());
}

TEST_F(StreamReceiver, TooBigIsConsumedAndTheNextFrameWorks) {
  rx.set_limits({4, 1});
  k.send_frame(1, std::vector<std::uint8_t>(3000, 7), 1);
  k.send_frame(0, {1, 2}, 0);
  EXPECT_EQ(next().status.code(), errc::toobig);
  EXPECT_EQ(rx.last_fault(), fault::frame_too_large);
  EXPECT_EQ(refused_count, 1);
  auto b = next();
  ASSERT_TRUE(b.status.ok());
  EXPECT_EQ(b.payload, (std::vector<std::uint8_t>{1, 2}));
}

TEST_F(StreamReceiver, LargePayloadGoesStraightToStorage) {
  rx.set_limits({100000, 1});
  std::vector<std::uint8_t> big(50000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7);
  k.send_frame(1, big, 1);
  auto f = next();
  ASSERT_TRUE(f.status.ok());
  EXPECT_EQ(f.payload, big);
  EXPECT_EQ(f.fds.size(), 1u);
  EXPECT_EQ(k.reads, 2);  // the header (with the read-ahead), then the rest in one read
}

TEST_F(StreamReceiver, OneByteReadsStillFrame) {
  rx.set_limits({64, 1});
  k.send_frame(1, {1, 2, 3}, 1);
  k.send_frame(0, {4}, 0);
  k.at_most = 1;
  auto a = next();
  ASSERT_TRUE(a.status.ok());
  EXPECT_EQ(a.fds.size(), 1u);
  auto b = next();
  ASSERT_TRUE(b.status.ok());
  EXPECT_EQ(b.payload, std::vector<std::uint8_t>{4});
}

TEST_F(StreamReceiver, MalformedHeaderDropsEverythingHeld) {
  rx.set_limits({64, 1});
  k.send(std::vector<std::uint8_t>{'x', 'F', 1, 0, 0, 0, 0, 0});
  EXPECT_EQ(next().status.code(), errc::protocol);
  EXPECT_EQ(rx.last_fault(), fault::frame_bad_magic);
  EXPECT_FALSE(rx.pending());
}

TEST_F(StreamReceiver, EndOfFileBetweenAndInsideFrames) {
  rx.set_limits({64, 1});
  EXPECT_EQ(next().status.code(), errc::closed);
  auto bytes = test::frame_bytes(0, 4, std::vector<std::uint8_t>{1, 2, 3, 4});
  k.send(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 5));
  EXPECT_EQ(next().status.code(), errc::protocol);
  EXPECT_EQ(rx.last_fault(), fault::frame_cut_by_eof);
}

TEST_F(StreamReceiver, ResetDisposesOfWhatWasReadAhead) {
  rx.set_limits({64, 1});
  k.send_frame(0, {1}, 0);
  k.send(test::frame_bytes(1, 4, std::vector<std::uint8_t>{2, 2}), 1);  // two of four bytes
  auto a = next();
  ASSERT_TRUE(a.status.ok());
  EXPECT_TRUE(rx.pending());  // the second frame's start and its descriptor are held
  EXPECT_EQ(refused_count, 0);
  rx.reset();
  EXPECT_EQ(refused_count, 1);
  EXPECT_FALSE(rx.pending());
}

TEST_F(StreamReceiver, NewLimitsWaitForTheNextHeader) {
  rx.set_limits({64, 1});
  k.send_frame(0, std::vector<std::uint8_t>(8, 1), 0);
  k.send_frame(0, std::vector<std::uint8_t>(8, 2), 0);
  k.at_most = 9;  // the first header and one payload byte
  auto ev = rx.next();
  ASSERT_TRUE(ev.ok() && ev.value() == stream_receiver::event::need_read);
  ASSERT_TRUE(k.read_into(rx));
  ev = rx.next();
  ASSERT_TRUE(ev.ok() && ev.value() == stream_receiver::event::need_storage);
  rx.set_limits({4, 1});  // mid-frame: the frame begun keeps the limits it was read with
  auto a = next();
  ASSERT_TRUE(a.status.ok());
  EXPECT_EQ(a.payload, std::vector<std::uint8_t>(8, 1));
  EXPECT_EQ(next().status.code(), errc::toobig);
}

TEST(CheckRecord, AcceptsAnExactRecord) {
  auto bytes = test::frame_bytes(1, 4, std::vector<std::uint8_t>{1, 2, 3, 4});
  auto h = check_record(bytes, bytes.size(), false, {}, 1, {16, 1});
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h.value().payload_len, 4u);
}

TEST(CheckRecord, RefusesMismatches) {
  auto bytes = test::frame_bytes(1, 4, std::vector<std::uint8_t>{1, 2, 3, 4});
  EXPECT_EQ(check_record(bytes, 7, false, {}, 1, {16, 1}).code(), errc::protocol);  // short record
  EXPECT_EQ(check_record(bytes, bytes.size() - 1, false, {}, 1, {16, 1}).code(), errc::protocol);
  EXPECT_EQ(check_record(bytes, bytes.size() + 1, false, {}, 1, {16, 1}).code(), errc::protocol);
  EXPECT_EQ(check_record(bytes, bytes.size(), false, {}, 0, {16, 1}).code(), errc::protocol);
  EXPECT_EQ(check_record(bytes, bytes.size(), false, {}, 1, {16, 0}).code(), errc::protocol);
  EXPECT_EQ(check_record(bytes, bytes.size(), false, {}, 1, {3, 1}).code(), errc::toobig);
  EXPECT_EQ(check_record(bytes, bytes.size(), true, {}, 1, {16, 1}).code(), errc::protocol);
}

TEST(CheckRecord, AgreesWithTheStreamReceiverOnRefusedDescriptors) {
  auto bytes = test::frame_bytes(2, 4, std::vector<std::uint8_t>{1, 2, 3, 4});
  // More declared than the receiver takes: protocol, whether or not the kernel cut the rest.
  EXPECT_EQ(check_record(bytes, bytes.size(), false, {}, 2, {16, 1}).code(), errc::protocol);
  EXPECT_EQ(check_record(bytes, bytes.size(), false, errc::truncated, 1, {16, 1}).code(),
            errc::protocol);
  // Within what the receiver takes, a cut is a cut.
  EXPECT_EQ(check_record(bytes, bytes.size(), false, errc::truncated, 1, {16, 2}).code(),
            errc::truncated);
  // Malformed control data is protocol.
  EXPECT_EQ(check_record(bytes, bytes.size(), false, errc::protocol, 2, {16, 2}).code(),
            errc::protocol);
}

}  // namespace
}  // namespace mon::frame
