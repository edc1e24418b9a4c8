// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <array>
#include <cstdint>

#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace mon::wire {
namespace {

TEST(WireReader, ReadsBigEndianAndStopsAtTheEnd) {
  const std::array<std::uint8_t, 7> in{1, 2, 3, 4, 5, 6, 7};
  reader r(in);
  std::uint8_t a = 0;
  std::uint16_t b = 0;
  std::uint32_t c = 0;
  ASSERT_TRUE(r.u8(a));
  ASSERT_TRUE(r.u16(b));
  ASSERT_TRUE(r.u32(c));
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 0x0203);
  EXPECT_EQ(c, 0x04050607u);
  EXPECT_TRUE(r.empty());
  EXPECT_FALSE(r.u8(a));
}

TEST(WireReader, AFailedReadConsumesNothing) {
  const std::array<std::uint8_t, 3> in{9, 8, 7};
  reader r(in);
  std::uint32_t v = 0;
  EXPECT_FALSE(r.u32(v));
  EXPECT_EQ(r.remaining(), 3u);
  std::span<const std::uint8_t> s;
  EXPECT_FALSE(r.bytes(4, s));
  EXPECT_TRUE(r.bytes(3, s));
  EXPECT_EQ(s[2], 7);
}

TEST(WireReader, LengthPrefixedChildIsConfinedToItsField) {
  const std::array<std::uint8_t, 6> in{0, 2, 0xAA, 0xBB, 0xCC, 0xDD};
  reader r(in);
  reader child(std::span<const std::uint8_t>{});
  ASSERT_TRUE(r.u16_prefixed(child));
  std::uint32_t v = 0;
  EXPECT_FALSE(child.u32(v));  // cannot read into the parent's bytes
  std::uint16_t w = 0;
  ASSERT_TRUE(child.u16(w));
  EXPECT_EQ(w, 0xAABB);
  EXPECT_EQ(r.remaining(), 2u);
}

TEST(WireReader, LengthPrefixPastTheEndFailsWithoutMoving) {
  const std::array<std::uint8_t, 3> in{0, 5, 1};
  reader r(in);
  reader child(std::span<const std::uint8_t>{});
  EXPECT_FALSE(r.u16_prefixed(child));
  EXPECT_EQ(r.remaining(), 3u);
}

TEST(WireReader, ExpectMatchesMagic) {
  const std::array<std::uint8_t, 3> in{'m', 'o', 'x'};
  const std::array<std::uint8_t, 2> good{'m', 'o'};
  const std::array<std::uint8_t, 3> bad{'m', 'o', 'n'};
  reader r(in);
  EXPECT_FALSE(r.expect(bad));
  EXPECT_EQ(r.remaining(), 3u);
  EXPECT_TRUE(r.expect(good));
  EXPECT_EQ(r.remaining(), 1u);
}

TEST(WireWriter, ErrorIsStickyAndNothingOverflows) {
  std::array<std::uint8_t, 5> out{};
  writer w(std::span<std::uint8_t>(out).first(4));
  w.u16(0x0102);
  EXPECT_TRUE(w.ok());
  w.u32(0xFFFFFFFF);  // does not fit
  EXPECT_FALSE(w.ok());
  w.u8(7);  // would fit, but the error sticks
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(out[2], 0);
  EXPECT_EQ(out[4], 0);
}

TEST(WireWriter, RoundTripsWithReader) {
  std::array<std::uint8_t, 16> out{};
  writer w(out);
  w.u8(0xFE);
  w.u16(0xBEEF);
  w.u32(0xDEADBEEF);
  ASSERT_TRUE(w.ok());
  reader r(w.written());
  std::uint8_t a;
  std::uint16_t b;
  std::uint32_t c;
  ASSERT_TRUE(r.u8(a) && r.u16(b) && r.u32(c));
  EXPECT_EQ(a, 0xFE);
  EXPECT_EQ(b, 0xBEEF);
  EXPECT_EQ(c, 0xDEADBEEFu);
  EXPECT_TRUE(r.empty());
}

}  // namespace
}  // namespace mon::wire
