// SPDX-License-Identifier: MIT
#include "auth/messages.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace mon::auth {
namespace {

msg_header header_of(const message_bytes& m) {
  auto h = decode_header(std::span<const std::uint8_t>(m).first<header_len>());
  EXPECT_TRUE(h.ok());
  return h.value();
}

TEST(AuthMessages, HelloIsEightBytesOfVersionOne) {
  message_bytes m{};
  ASSERT_EQ(encode_hello(m), header_len);
  const msg_header h = header_of(m);
  EXPECT_EQ(h.version, 1);
  EXPECT_EQ(h.type, static_cast<std::uint8_t>(msg_type::hello));
  EXPECT_EQ(h.body_len, 0);
  EXPECT_EQ(m[0], 'm');
  EXPECT_EQ(m[3], 'H');
}

TEST(AuthMessages, DenyCarriesItsReason) {
  message_bytes m{};
  const std::size_t len = encode_deny(m, deny_reason::policy);
  ASSERT_EQ(len, header_len + 2);
  const msg_header h = header_of(m);
  EXPECT_EQ(h.type, static_cast<std::uint8_t>(msg_type::deny));
  auto why = parse_deny(std::span<const std::uint8_t>(m).subspan(header_len, h.body_len));
  ASSERT_TRUE(why.ok());
  EXPECT_EQ(why.value(), deny_reason::policy);
}

TEST(AuthMessages, HeaderRefusesBadMagicAndOversizedBody) {
  message_bytes m{};
  (void)encode_hello(m);
  auto bad = m;
  bad[1] = 'X';
  bad[6] = 0x01;  // and body_len 257: the magic is judged first
  bad[7] = 0x01;
  fault why = fault::none;
  EXPECT_EQ(decode_header(std::span<const std::uint8_t>(bad).first<header_len>(), &why).code(),
            errc::protocol);
  EXPECT_EQ(why, fault::bad_magic);
  bad = m;
  bad[6] = 0x01;  // body_len 257
  bad[7] = 0x01;
  EXPECT_EQ(decode_header(std::span<const std::uint8_t>(bad).first<header_len>(), &why).code(),
            errc::protocol);
  EXPECT_EQ(why, fault::body_too_long);
  bad[6] = 0x01;  // body_len 256: the bound itself is fine
  bad[7] = 0x00;
  EXPECT_TRUE(decode_header(std::span<const std::uint8_t>(bad).first<header_len>()).ok());
}

TEST(AuthMessages, UnknownExtensionsAreSkippedCriticalOnesRefused) {
  const std::vector<std::uint8_t> skippable{0x00, 0x07, 0x00, 0x02, 0xAA, 0xBB};
  EXPECT_TRUE(check_extensions(skippable).ok());
  fault why = fault::none;
  const std::vector<std::uint8_t> critical{0x80, 0x07, 0x00, 0x00};
  EXPECT_EQ(check_extensions(critical, &why).code(), errc::protocol);
  EXPECT_EQ(why, fault::critical_extension);
  const std::vector<std::uint8_t> cut{0x00, 0x07, 0x00, 0x05, 0xAA};
  EXPECT_EQ(check_extensions(cut, &why).code(), errc::protocol);
  EXPECT_EQ(why, fault::malformed_extensions);
  const std::vector<std::uint8_t> dangling{0x00};
  why = fault::none;
  EXPECT_EQ(check_extensions(dangling, &why).code(), errc::protocol);
  EXPECT_EQ(why, fault::malformed_extensions);
}

TEST(AuthMessages, DenyWithoutReasonIsMalformed) {
  const std::vector<std::uint8_t> empty;
  EXPECT_EQ(parse_deny(empty).code(), errc::protocol);
  const std::vector<std::uint8_t> one{0};
  fault why = fault::none;
  EXPECT_EQ(parse_deny(one, &why).code(), errc::protocol);
  EXPECT_EQ(why, fault::deny_too_short);
}

}  // namespace
}  // namespace mon::auth
