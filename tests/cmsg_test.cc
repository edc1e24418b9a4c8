// SPDX-License-Identifier: MIT
#include "cmsg/control.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "platform/linux.hpp"
#include "support/test_support.hpp"

namespace mon::cmsg {
namespace {

using test::fd_leak_check;

// Builds a control buffer the way a kernel (or a hostile one) might fill it.
class control_builder {
 public:
  control_builder& add(int level, int type, const void* data, std::size_t len,
                       std::size_t claimed_len = 0) {
    std::size_t off = bytes_.size();
    bytes_.resize(off + CMSG_SPACE(len));
    cmsghdr h{};
    h.cmsg_len = claimed_len ? claimed_len : CMSG_LEN(len);
    h.cmsg_level = level;
    h.cmsg_type = type;
    std::memcpy(bytes_.data() + off, &h, sizeof h);
    if (len) std::memcpy(bytes_.data() + off + CMSG_LEN(0), data, len);
    return *this;
  }
  control_builder& rights(const std::vector<int>& fds) {
    return add(SOL_SOCKET, SCM_RIGHTS, fds.data(), fds.size() * sizeof(int));
  }
  control_builder& creds(pid_t pid, uid_t uid, gid_t gid) {
    ucred c{pid, uid, gid};
    return add(SOL_SOCKET, SCM_CREDENTIALS, &c, sizeof c);
  }
  std::span<const std::byte> span() const {
    return {reinterpret_cast<const std::byte*>(bytes_.data()), bytes_.size()};
  }
  std::vector<unsigned char>& raw() { return bytes_; }

 private:
  std::vector<unsigned char> bytes_;
};

// Fresh descriptors whose ownership passes to the decoder under test.
std::vector<int> fresh_fds(int n) {
  std::vector<int> out;
  for (int i = 0; i < n; ++i) out.push_back(test::some_fd().release());
  return out;
}

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(CmsgDecode, EmptyControlIsFine) {
  control_data out;
  ASSERT_TRUE(decode({}, 0, {1, false}, out).ok());
  EXPECT_TRUE(out.fds.empty());
  EXPECT_FALSE(out.has_credentials);
}

TEST(CmsgDecode, TakesOwnershipOfRights) {
  fd_leak_check leaks;
  auto fds = fresh_fds(2);
  control_builder b;
  b.rights(fds);
  {
    control_data out;
    ASSERT_TRUE(decode(b.span(), 0, {2, false}, out).ok());
    ASSERT_EQ(out.fds.size(), 2u);
    EXPECT_EQ(out.fds[0].get(), fds[0]);
    EXPECT_EQ(out.fds[1].get(), fds[1]);
  }
  EXPECT_FALSE(is_open(fds[0]));  // closed with the control_data
}

TEST(CmsgDecode, MoreDescriptorsThanAllowedAreAllClosed) {
  fd_leak_check leaks;
  auto fds = fresh_fds(3);
  control_builder b;
  b.rights(fds);
  control_data out;
  auto r = decode(b.span(), 0, {1, false}, out);
  EXPECT_EQ(r.code(), errc::protocol);
  EXPECT_EQ(out.why, fault::too_many_descriptors);
  EXPECT_TRUE(out.fds.empty());
  for (int fd : fds) EXPECT_FALSE(is_open(fd));
}

TEST(CmsgDecode, SeveralRightsHeadersAreRefusedAndClosed) {
  fd_leak_check leaks;
  auto first = fresh_fds(1);
  auto second = fresh_fds(1);
  control_builder b;
  b.rights(first).rights(second);
  control_data out;
  EXPECT_EQ(decode(b.span(), 0, {4, false}, out).code(), errc::protocol);
  EXPECT_FALSE(is_open(first[0]));
  EXPECT_EQ(out.why, fault::two_rights_headers);
  EXPECT_FALSE(is_open(second[0]));
}

TEST(CmsgDecode, CtruncClosesWhatArrived) {
  fd_leak_check leaks;
  auto fds = fresh_fds(1);
  control_builder b;
  b.rights(fds);
  control_data out;
  EXPECT_EQ(decode(b.span(), MSG_CTRUNC, {1, false}, out).code(), errc::truncated);
  EXPECT_EQ(out.why, fault::control_truncated);
  EXPECT_TRUE(out.fds.empty());
  EXPECT_FALSE(is_open(fds[0]));
}

TEST(CmsgDecode, CredentialsOnlyWhenAllowed) {
  control_builder b;
  b.creds(42, 1000, 1001);
  control_data out;
  EXPECT_EQ(decode(b.span(), 0, {0, false}, out).code(), errc::protocol);
  EXPECT_EQ(out.why, fault::credentials_not_allowed);
  ASSERT_TRUE(decode(b.span(), 0, {0, true}, out).ok());
  ASSERT_TRUE(out.has_credentials);
  EXPECT_EQ(out.credentials, (peer_credentials{42, 1000, 1001}));
  EXPECT_EQ(out.why, fault::none);
}

TEST(CmsgDecode, RepeatedCredentialsAreRefused) {
  control_builder b;
  b.creds(1, 2, 3).creds(1, 2, 3);
  control_data out;
  EXPECT_EQ(decode(b.span(), 0, {0, true}, out).code(), errc::protocol);
  EXPECT_EQ(out.why, fault::two_credentials_headers);
  EXPECT_FALSE(out.has_credentials);
}

TEST(CmsgDecode, CredentialsWithWrongLengthAreRefused) {
  control_builder b;
  const char junk[8] = {};
  b.add(SOL_SOCKET, SCM_CREDENTIALS, junk, sizeof junk);
  control_data out;
  EXPECT_EQ(decode(b.span(), 0, {0, true}, out).code(), errc::protocol);
  EXPECT_EQ(out.why, fault::control_malformed);
}

TEST(CmsgDecode, PidfdIsClosedAndRefused) {
  fd_leak_check leaks;
  auto fds = fresh_fds(1);
  control_builder b;
  b.add(SOL_SOCKET, SCM_PIDFD, fds.data(), sizeof(int));
  control_data out;
  EXPECT_EQ(decode(b.span(), 0, {1, false}, out).code(), errc::protocol);
  EXPECT_EQ(out.why, fault::unexpected_pidfd);
  EXPECT_FALSE(is_open(fds[0]));
}

TEST(CmsgDecode, UnknownTypesAndLevelsAreRefused) {
  const int value = 7;
  for (auto [level, type] :
       {std::pair{int{SOL_SOCKET}, 99}, std::pair{int{SOL_IP}, int{SCM_RIGHTS}}}) {
    control_builder b;
    b.add(level, type, &value, sizeof value);
    control_data out;
    EXPECT_EQ(decode(b.span(), 0, {1, true}, out).code(), errc::protocol);
    EXPECT_TRUE(out.fds.empty());  // SCM_RIGHTS at another level is not a descriptor
    EXPECT_EQ(out.why, fault::unexpected_control_type);
  }
}

TEST(CmsgDecode, HeaderShorterThanItselfStopsTheWalk) {
  control_builder b;
  b.add(SOL_SOCKET, SCM_RIGHTS, nullptr, 0, /*claimed_len=*/4);
  control_data out;
  EXPECT_EQ(decode(b.span(), 0, {1, false}, out).code(), errc::protocol);
  EXPECT_EQ(out.why, fault::control_malformed);
}

TEST(CmsgDecode, LengthPastTheBufferIsBoundedByTheBuffer) {
  fd_leak_check leaks;
  auto fds = fresh_fds(1);
  control_builder b;
  b.add(SOL_SOCKET, SCM_RIGHTS, fds.data(), sizeof(int), /*claimed_len=*/4096);
  b.raw().resize(CMSG_LEN(sizeof(int)));  // the buffer ends where the kernel stopped writing
  control_data out;
  EXPECT_EQ(decode(b.span(), 0, {8, false}, out).code(), errc::protocol);
  EXPECT_EQ(out.why, fault::control_malformed);
  EXPECT_FALSE(is_open(fds[0]));  // the descriptor inside the buffer was still owned and closed
}

TEST(CmsgDecode, RightsLengthNotAMultipleOfIntIsRefused) {
  fd_leak_check leaks;
  auto fds = fresh_fds(1);
  unsigned char data[6] = {};
  std::memcpy(data, fds.data(), sizeof(int));
  control_builder b;
  b.add(SOL_SOCKET, SCM_RIGHTS, data, sizeof data);
  control_data out;
  EXPECT_EQ(decode(b.span(), 0, {4, false}, out).code(), errc::protocol);
  EXPECT_EQ(out.why, fault::control_malformed);
  EXPECT_FALSE(is_open(fds[0]));
}

TEST(CmsgDecode, NegativeDescriptorIsRefusedNotClosed) {
  fd_leak_check leaks;
  auto fds = fresh_fds(1);
  const std::vector<int> with_negative{-1, fds[0]};
  control_builder b;
  b.rights(with_negative);
  control_data out;
  EXPECT_EQ(decode(b.span(), 0, {4, false}, out).code(), errc::protocol);
  EXPECT_EQ(out.why, fault::control_malformed);
  EXPECT_FALSE(is_open(fds[0]));
}

TEST(CmsgDecode, ZeroLengthRightsHeaderIsHarmless) {
  control_builder b;
  b.add(SOL_SOCKET, SCM_RIGHTS, nullptr, 0);
  control_data out;
  EXPECT_TRUE(decode(b.span(), 0, {1, false}, out).ok());
  EXPECT_TRUE(out.fds.empty());
}

TEST(CmsgDecode, UnalignedBufferIsReadSafely) {
  fd_leak_check leaks;
  auto fds = fresh_fds(1);
  control_builder b;
  b.rights(fds);
  std::vector<unsigned char> shifted(b.raw().size() + 1);
  std::memcpy(shifted.data() + 1, b.raw().data(), b.raw().size());
  control_data out;
  ASSERT_TRUE(decode({reinterpret_cast<const std::byte*>(shifted.data() + 1), b.raw().size()}, 0,
                     {1, false}, out)
                  .ok());
  EXPECT_EQ(out.fds.size(), 1u);
}

// The fault reported is the first one met in the buffer, whatever follows it.
TEST(CmsgDecode, TheFirstFaultInTheBufferIsTheOneReported) {
  fd_leak_check leaks;
  const int value = 7;
  control_builder b;
  b.add(SOL_SOCKET, 99, &value, sizeof value).rights(fresh_fds(1)).rights(fresh_fds(1));
  control_data out;
  EXPECT_EQ(decode(b.span(), 0, {4, false}, out).code(), errc::protocol);
  EXPECT_EQ(out.why, fault::unexpected_control_type);
}

// MSG_CTRUNC wins over any other fault: what the kernel cut may be why the rest looks wrong.
TEST(CmsgDecode, CtruncWinsOverEveryOtherFault) {
  fd_leak_check leaks;
  control_builder b;
  b.rights(fresh_fds(1)).rights(fresh_fds(1));
  control_data out;
  EXPECT_EQ(decode(b.span(), MSG_CTRUNC, {4, false}, out).code(), errc::truncated);
  EXPECT_EQ(out.why, fault::control_truncated);
}

// A fault is readable as a sentence for logs, and a new decode forgets the previous one.
TEST(CmsgDecode, AFaultIsDescribedAndForgottenByTheNextDecode) {
  control_builder twice;
  twice.creds(1, 2, 3).creds(1, 2, 3);
  control_data out;
  ASSERT_FALSE(decode(twice.span(), 0, {0, true}, out).ok());
  EXPECT_STREQ(describe(out.why), "two SCM_CREDENTIALS headers in one message");
  ASSERT_TRUE(decode({}, 0, {0, true}, out).ok());
  EXPECT_EQ(out.why, fault::none);
}

// Each fault reads as its own sentence: a copied line would make two faults look alike in logs.
TEST(Fault, EveryKnownValueHasItsOwnSentence) {
  std::set<std::string> seen;
  int described = 0;
  for (unsigned v = 0; v < 100; ++v) {
    const std::string text = describe(static_cast<fault>(v));
    if (text == "unknown fault") continue;
    ++described;
    EXPECT_TRUE(seen.insert(text).second) << v << ": " << text;
  }
  EXPECT_EQ(described, 33);  // every enumerator of include/monitor/fault.hpp
  EXPECT_STREQ(describe(fault::frame_cut_by_eof), "end of file inside a frame");
  EXPECT_STREQ(describe(static_cast<fault>(999)), "unknown fault");
}

TEST(CmsgEncode, RoundTripsThroughDecode) {
  fd_leak_check leaks;
  auto a = test::some_fd();
  auto b = test::some_fd();
  const int fds[] = {a.get(), b.get()};
  const peer_credentials creds{123, 456, 789};
  alignas(cmsghdr) std::byte buf[max_space];
  auto len = encode(buf, fds, &creds);
  ASSERT_TRUE(len.ok());
  // The decoder takes ownership: hand it duplicates so our originals stay ours.
  alignas(cmsghdr) std::byte copy[max_space];
  std::memcpy(copy, buf, len.value());
  cmsghdr h{};
  std::memcpy(&h, copy, sizeof h);
  int dups[2] = {::dup(fds[0]), ::dup(fds[1])};
  std::memcpy(copy + CMSG_LEN(0), dups, sizeof dups);
  control_data out;
  ASSERT_TRUE(decode({copy, len.value()}, 0, {2, true}, out).ok());
  ASSERT_EQ(out.fds.size(), 2u);
  EXPECT_TRUE(test::same_file(out.fds[0].get(), a.get()));
  EXPECT_TRUE(test::same_file(out.fds[1].get(), b.get()));
  EXPECT_TRUE(out.has_credentials);
  EXPECT_EQ(out.credentials, creds);
}

TEST(CmsgEncode, RefusesBadInput) {
  alignas(cmsghdr) std::byte buf[max_space];
  const int negative[] = {-1};
  EXPECT_EQ(encode(buf, negative, nullptr).code(), errc::invalid);
  std::vector<int> too_many(max_fds + 1, 0);
  EXPECT_EQ(encode(buf, too_many, nullptr).code(), errc::invalid);
  EXPECT_EQ(
      encode(std::span<std::byte>(buf, 8), std::span<const int>(negative, 0), nullptr).value(), 0u);
}

TEST(CmsgSpace, CoversTheLargestMessage) {
  EXPECT_LE(receive_space(max_fds, true), max_space);
  EXPECT_GE(receive_space(1, false), CMSG_SPACE(2 * sizeof(int)));
}

}  // namespace
}  // namespace mon::cmsg
