#include "frame/frame.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <cstring>

#include <vector>

#include "support/test_support.hpp"

namespace mon::frame {
namespace {

using status = stream_decoder::status;

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

// Feeds `bytes` to the decoder in pieces of `piece` bytes, attaching `fds` to the piece that
// starts at byte `fd_at`. Returns the last result and the payload it saw.
struct feed_result {
  result<status> last = errc::invalid;
  std::vector<std::uint8_t> payload;
  std::size_t fds = 0;
};

feed_result feed(stream_decoder& d, const std::vector<std::uint8_t>& bytes, std::size_t piece,
                 fd_list* fds = nullptr, std::size_t fd_at = 0, result<void> control = {}) {
  feed_result out;
  std::size_t off = 0;
  while (off < bytes.size()) {
    std::size_t n = std::min({piece, d.wanted(), bytes.size() - off});
    if (d.current_phase() == stream_decoder::phase::header) {
      std::memcpy(d.header_space().data(), bytes.data() + off, n);
    } else if (d.current_phase() == stream_decoder::phase::payload) {
      out.payload.insert(out.payload.end(), bytes.begin() + static_cast<long>(off),
                         bytes.begin() + static_cast<long>(off + n));
    }
    fd_list none;
    const bool attach = fds != nullptr && off <= fd_at && fd_at < off + n;
    out.last = d.on_bytes(n, attach ? control : result<void>{}, attach ? *fds : none);
    off += n;
    if (!out.last || out.last.value() == status::complete) {
      if (out.last) out.fds = d.fds().size();
      break;
    }
  }
  return out;
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

TEST(StreamDecoder, WholeFrameInOneByteReads) {
  stream_decoder d({64, 1});
  const std::vector<std::uint8_t> payload{'h', 'e', 'l', 'l', 'o'};
  auto r = feed(d, test::frame_bytes(0, 5, payload), 1);
  ASSERT_TRUE(r.last.ok());
  EXPECT_EQ(r.last.value(), status::complete);
  EXPECT_EQ(r.payload, payload);
  EXPECT_FALSE(d.in_frame());
}

TEST(StreamDecoder, ZeroLengthFrameCompletesAtTheHeader) {
  stream_decoder d({64, 1});
  auto r = feed(d, test::frame_bytes(0, 0), 8);
  ASSERT_TRUE(r.last.ok());
  EXPECT_EQ(r.last.value(), status::complete);
  EXPECT_EQ(d.current_header().payload_len, 0u);
}

TEST(StreamDecoder, AsksNeverPastTheFrame) {
  stream_decoder d({64, 1});
  EXPECT_EQ(d.wanted(), header_len);
  auto bytes = test::frame_bytes(0, 3, std::vector<std::uint8_t>{1, 2, 3});
  std::memcpy(d.header_space().data(), bytes.data(), 8);
  fd_list none;
  ASSERT_TRUE(d.on_bytes(8, {}, none).ok());
  EXPECT_EQ(d.wanted(), 3u);
  fd_list none2;
  EXPECT_EQ(d.on_bytes(4, {}, none2).code(), errc::invalid);  // more than asked for
}

TEST(StreamDecoder, DescriptorWithTheFirstByteIsKept) {
  fd_list fds;
  fds.push(test::some_fd());
  const int raw = fds[0].get();
  stream_decoder d({64, 1});
  auto r = feed(d, test::frame_bytes(1, 2, std::vector<std::uint8_t>{7, 8}), 3, &fds, 0);
  ASSERT_TRUE(r.last.ok());
  ASSERT_EQ(d.fds().size(), 1u);
  EXPECT_EQ(d.fds()[0].get(), raw);
}

TEST(StreamDecoder, DescriptorWithALaterByteIsAProtocolError) {
  fd_list fds;
  fds.push(test::some_fd());
  const int raw = fds[0].get();
  stream_decoder d({64, 1});
  auto r = feed(d, test::frame_bytes(0, 2, std::vector<std::uint8_t>{7, 8}), 1, &fds, 9);
  EXPECT_EQ(r.last.code(), errc::protocol);
  EXPECT_FALSE(is_open(raw));
  EXPECT_FALSE(d.in_frame());
}

TEST(StreamDecoder, DeclaredCountMustMatchDelivered) {
  {  // declares one, none arrives
    stream_decoder d({64, 1});
    EXPECT_EQ(feed(d, test::frame_bytes(1, 0), 8).last.code(), errc::protocol);
  }
  {  // declares none, one arrives
    fd_list fds;
    fds.push(test::some_fd());
    const int raw = fds[0].get();
    stream_decoder d({64, 1});
    EXPECT_EQ(feed(d, test::frame_bytes(0, 0), 8, &fds, 0).last.code(), errc::protocol);
    EXPECT_FALSE(is_open(raw));
  }
  {  // declares more than the receiver takes
    stream_decoder d({64, 1});
    EXPECT_EQ(feed(d, test::frame_bytes(2, 0), 8).last.code(), errc::protocol);
  }
}

TEST(StreamDecoder, TooBigIsConsumedThenReportedAndTheNextFrameWorks) {
  fd_list fds;
  fds.push(test::some_fd());
  const int raw = fds[0].get();
  stream_decoder d({4, 1});
  std::vector<std::uint8_t> big(10, 0x55);
  auto r = feed(d, test::frame_bytes(1, 10, big), 3, &fds, 0);
  EXPECT_EQ(r.last.code(), errc::toobig);
  EXPECT_TRUE(r.payload.empty());  // discarded bytes never reach the payload
  EXPECT_FALSE(is_open(raw));
  EXPECT_FALSE(d.in_frame());
  auto next = feed(d, test::frame_bytes(0, 2, std::vector<std::uint8_t>{1, 2}), 100);
  ASSERT_TRUE(next.last.ok());
  EXPECT_EQ(next.payload, (std::vector<std::uint8_t>{1, 2}));
}

TEST(StreamDecoder, TruncatedControlIsConsumedThenReported) {
  fd_list none;
  stream_decoder d({64, 1});
  auto r = feed(d, test::frame_bytes(1, 3, std::vector<std::uint8_t>{1, 2, 3}), 2, &none, 0,
                errc::truncated);
  EXPECT_EQ(r.last.code(), errc::truncated);
  EXPECT_FALSE(d.in_frame());
}

TEST(StreamDecoder, OtherControlErrorsFailAtOnce) {
  fd_list none;
  stream_decoder d({64, 1});
  auto r = feed(d, test::frame_bytes(0, 3, std::vector<std::uint8_t>{1, 2, 3}), 2, &none, 0,
                errc::protocol);
  EXPECT_EQ(r.last.code(), errc::protocol);
  EXPECT_FALSE(d.in_frame());
}

TEST(StreamDecoder, EndOfFileBetweenAndInsideFrames) {
  stream_decoder d({64, 1});
  EXPECT_EQ(d.on_eof().code, errc::closed);
  std::memcpy(d.header_space().data(), test::frame_bytes(0, 3).data(), 2);
  fd_list none;
  ASSERT_TRUE(d.on_bytes(2, {}, none).ok());
  EXPECT_TRUE(d.in_frame());
  EXPECT_EQ(d.on_eof().code, errc::protocol);
  EXPECT_FALSE(d.in_frame());
}

TEST(StreamDecoder, LimitsChangeOnlyBetweenFrames) {
  stream_decoder d({64, 1});
  std::memcpy(d.header_space().data(), test::frame_bytes(0, 10).data(), 8);
  fd_list none;
  ASSERT_TRUE(d.on_bytes(8, {}, none).ok());
  d.set_limits({1, 0});  // ignored inside the frame
  std::vector<std::uint8_t> rest(10, 1);
  fd_list none2;
  auto r = d.on_bytes(10, {}, none2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), status::complete);
}

TEST(CheckRecord, AcceptsAnExactRecord) {
  auto bytes = test::frame_bytes(1, 4, std::vector<std::uint8_t>{1, 2, 3, 4});
  auto h = check_record(bytes, bytes.size(), false, 1, {16, 1});
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h.value().payload_len, 4u);
}

TEST(CheckRecord, RefusesMismatches) {
  auto bytes = test::frame_bytes(1, 4, std::vector<std::uint8_t>{1, 2, 3, 4});
  EXPECT_EQ(check_record(bytes, 7, false, 1, {16, 1}).code(), errc::protocol);  // short record
  EXPECT_EQ(check_record(bytes, bytes.size() - 1, false, 1, {16, 1}).code(), errc::protocol);
  EXPECT_EQ(check_record(bytes, bytes.size() + 1, false, 1, {16, 1}).code(), errc::protocol);
  EXPECT_EQ(check_record(bytes, bytes.size(), false, 0, {16, 1}).code(), errc::protocol);
  EXPECT_EQ(check_record(bytes, bytes.size(), false, 1, {16, 0}).code(), errc::protocol);
  EXPECT_EQ(check_record(bytes, bytes.size(), false, 1, {3, 1}).code(), errc::toobig);
  EXPECT_EQ(check_record(bytes, bytes.size(), true, 1, {16, 1}).code(), errc::protocol);
}

}  // namespace
}  // namespace mon::frame
