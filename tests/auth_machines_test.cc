// SPDX-License-Identifier: MIT
// Drives the client and server machines against each other and against hostile bytes, with the
// kernel's part (credentials, SO_PEERCRED) played by the test.
#include "auth/machines.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "support/auth_support.hpp"
#include "support/test_support.hpp"

namespace mon::auth {
namespace {

const peer_credentials alice{1234, 1000, 1000};
const peer_credentials mallory{999, 0, 0};

using test::with_creds;

// Delivers bytes to a server machine in pieces, each with the given control data.
void deliver(server_machine& s, std::span<const std::uint8_t> bytes, std::size_t piece,
             const cmsg::control_data& ctl) {
  std::size_t off = 0;
  while (off < bytes.size() && s.next() == want::read) {
    auto space = s.input_space();
    const std::size_t n = std::min({piece, space.size(), bytes.size() - off});
    std::memcpy(space.data(), bytes.data() + off, n);
    s.on_read(n, false, {}, ctl);
    off += n;
  }
}

void deliver(client_machine& c, std::span<const std::uint8_t> bytes, std::size_t piece) {
  std::size_t off = 0;
  cmsg::control_data none;
  while (off < bytes.size() && c.next() == want::read) {
    auto space = c.input_space();
    const std::size_t n = std::min({piece, space.size(), bytes.size() - off});
    std::memcpy(space.data(), bytes.data() + off, n);
    c.on_read(n, false, {}, none);
    off += n;
  }
}

std::vector<std::uint8_t> take_output(machine_base& m) {
  auto out = m.output();
  return {out.begin(), out.end()};
}

TEST(AuthMachines, HandshakeSucceedsWhenKernelCredentialsAgree) {
  for (std::size_t piece : {1u, 3u, 8u, 264u}) {
    client_machine c(false);
    server_machine s(false, alice);
    ASSERT_EQ(c.next(), want::write);
    auto hello = take_output(c);
    c.on_written(hello.size());
    ASSERT_EQ(c.next(), want::read);

    deliver(s, hello, piece, with_creds(alice));
    ASSERT_EQ(s.next(), want::decide);
    EXPECT_EQ(s.peer(), alice);
    s.decide(true);
    ASSERT_EQ(s.next(), want::write);
    auto reply = take_output(s);
    s.on_written(reply.size());
    EXPECT_EQ(s.next(), want::done);

    deliver(c, reply, piece);
    EXPECT_EQ(c.next(), want::done);
  }
}

TEST(AuthMachines, CredentialsThatDisagreeWithPeercredAreDenied) {
  client_machine c(false);
  server_machine s(false, alice);
  auto hello = take_output(c);
  c.on_written(hello.size());
  deliver(s, hello, 8, with_creds(mallory));  // another process wrote the hello
  ASSERT_EQ(s.next(), want::write);
  EXPECT_EQ(s.reason(), deny_reason::credentials);
  EXPECT_EQ(s.last_fault(), fault::credentials_not_peer);
  auto reply = take_output(s);
  s.on_written(reply.size());
  EXPECT_EQ(s.next(), want::failed);
  EXPECT_EQ(s.err().code, errc::denied);
  deliver(c, reply, 8);
  EXPECT_EQ(c.next(), want::failed);
  EXPECT_EQ(c.err().code, errc::denied);
  EXPECT_EQ(c.reason(), deny_reason::credentials);
  EXPECT_EQ(c.last_fault(), fault::denied_by_server);
}

TEST(AuthMachines, MissingCredentialsAreDenied) {
  client_machine c(false);
  server_machine s(false, alice);
  deliver(s, take_output(c), 8, cmsg::control_data{});
  EXPECT_EQ(s.next(), want::write);
  EXPECT_EQ(s.reason(), deny_reason::credentials);
  EXPECT_EQ(s.last_fault(), fault::credentials_missing);
}

TEST(AuthMachines, CredentialsMustBeTheSameOnEveryPiece) {
  client_machine c(false);
  server_machine s(false, alice);
  auto hello = take_output(c);
  deliver(s, std::span<const std::uint8_t>(hello).first(4), 4, with_creds(alice));
  deliver(s, std::span<const std::uint8_t>(hello).subspan(4), 4, with_creds(mallory));
  EXPECT_EQ(s.reason(), deny_reason::credentials);
  EXPECT_EQ(s.last_fault(), fault::credentials_differ_between_reads);
  // Mallory's bytes were never believed: no matter the order, no acceptance.
  server_machine s2(false, alice);
  deliver(s2, std::span<const std::uint8_t>(hello).first(4), 4, cmsg::control_data{});
  deliver(s2, std::span<const std::uint8_t>(hello).subspan(4), 4, with_creds(alice));
  EXPECT_EQ(s2.reason(), deny_reason::credentials);
  EXPECT_EQ(s2.last_fault(), fault::credentials_missing);  // the first fault sticks
}

TEST(AuthMachines, PolicyRefusalIsSentAsDeny) {
  client_machine c(false);
  server_machine s(false, alice);
  deliver(s, take_output(c), 8, with_creds(alice));
  ASSERT_EQ(s.next(), want::decide);
  s.decide(false);
  EXPECT_EQ(s.reason(), deny_reason::policy);
  EXPECT_EQ(s.last_fault(), fault::refused_by_policy);
  auto reply = take_output(s);
  s.on_written(reply.size());
  EXPECT_EQ(s.err().code, errc::denied);
}

TEST(AuthMachines, UnknownVersionIsAnsweredThenFails) {
  client_machine c(false);
  auto hello = take_output(c);
  hello[4] = 2;
  server_machine s(false, alice);
  deliver(s, hello, 8, with_creds(alice));
  ASSERT_EQ(s.next(), want::write);
  EXPECT_EQ(s.reason(), deny_reason::version);
  s.on_written(take_output(s).size());
  EXPECT_EQ(s.err().code, errc::protocol);
  EXPECT_EQ(s.last_fault(), fault::unknown_version);
}

TEST(AuthMachines, MalformedHelloFailsWithoutReply) {
  for (int which = 0; which < 3; ++which) {
    client_machine c(false);
    auto hello = take_output(c);
    if (which == 0) hello[0] = 'X';  // magic
    if (which == 1) hello[5] = 2;    // an accept sent to the server
    if (which == 2) hello[5] = 77;   // unknown type
    server_machine s(false, alice);
    deliver(s, hello, 8, with_creds(alice));
    EXPECT_EQ(s.next(), want::failed) << which;
    EXPECT_EQ(s.err().code, errc::protocol) << which;
    EXPECT_TRUE(s.output().empty());
    EXPECT_EQ(s.last_fault(), which == 0 ? fault::bad_magic : fault::unexpected_message_type);
  }
}

TEST(AuthMachines, CriticalExtensionInHelloIsRefused) {
  std::vector<std::uint8_t> hello{'m', 'o', 'n', 'H', 1, 1, 0, 4, 0x80, 0x01, 0x00, 0x00};
  server_machine s(false, alice);
  deliver(s, hello, 64, with_creds(alice));
  EXPECT_EQ(s.next(), want::failed);
  EXPECT_EQ(s.err().code, errc::protocol);
  EXPECT_EQ(s.last_fault(), fault::critical_extension);
}

TEST(AuthMachines, SkippableExtensionInHelloIsAccepted) {
  std::vector<std::uint8_t> hello{'m', 'o', 'n', 'H', 1, 1, 0, 5, 0x00, 0x09, 0x00, 0x01, 0x42};
  server_machine s(false, alice);
  deliver(s, hello, 64, with_creds(alice));
  EXPECT_EQ(s.next(), want::decide);
}

TEST(AuthMachines, RecordModeNeedsTheWholeMessageInOneRecord) {
  client_machine c(true);
  auto hello = take_output(c);
  {
    server_machine s(true, alice);
    auto space = s.input_space();
    EXPECT_EQ(space.size(), max_message);
    std::memcpy(space.data(), hello.data(), hello.size());
    s.on_read(hello.size(), false, {}, with_creds(alice));
    EXPECT_EQ(s.next(), want::decide);
  }
  {
    server_machine s(true, alice);
    std::memcpy(s.input_space().data(), hello.data(), 4);
    s.on_read(4, false, {}, with_creds(alice));  // a short record
    EXPECT_EQ(s.err().code, errc::protocol);
    EXPECT_EQ(s.last_fault(), fault::record_length_mismatch);
  }
  {
    server_machine s(true, alice);
    std::memcpy(s.input_space().data(), hello.data(), hello.size());
    s.on_read(hello.size() + 1, false, {}, with_creds(alice));  // longer than its header says
    EXPECT_EQ(s.err().code, errc::protocol);
    EXPECT_EQ(s.last_fault(), fault::record_length_mismatch);
  }
  {
    server_machine s(true, alice);
    std::memcpy(s.input_space().data(), hello.data(), hello.size());
    s.on_read(hello.size(), true, {}, with_creds(alice));  // MSG_TRUNC
    EXPECT_EQ(s.err().code, errc::protocol);
    EXPECT_EQ(s.last_fault(), fault::record_truncated);
  }
}

TEST(AuthMachines, ControlErrorsFailTheServer) {
  client_machine c(false);
  auto hello = take_output(c);
  server_machine s(false, alice);
  std::memcpy(s.input_space().data(), hello.data(), 8);
  s.on_read(8, false, errc::protocol, with_creds(alice));
  EXPECT_EQ(s.err().code, errc::protocol);
  EXPECT_EQ(s.last_fault(), fault::none);  // the glue said protocol but not why
  server_machine s2(false, alice);
  cmsg::control_data two_headers;
  two_headers.why = fault::two_rights_headers;  // as cmsg::decode leaves it
  std::memcpy(s2.input_space().data(), hello.data(), 8);
  s2.on_read(8, false, errc::protocol, two_headers);
  EXPECT_EQ(s2.err().code, errc::protocol);
  EXPECT_EQ(s2.last_fault(), fault::two_rights_headers);
}

TEST(AuthMachines, ClientRefusesGarbageAndControlData) {
  {
    client_machine c(false);
    c.on_written(take_output(c).size());
    std::vector<std::uint8_t> junk{'m', 'o', 'n', 'H', 1, 9, 0, 0};
    deliver(c, junk, 8);
    EXPECT_EQ(c.err().code, errc::protocol);
    EXPECT_EQ(c.last_fault(), fault::unexpected_message_type);
  }
  {
    client_machine c(false);
    c.on_written(take_output(c).size());
    std::vector<std::uint8_t> hello_back{'m', 'o', 'n', 'H', 1, 1, 0, 0};
    deliver(c, hello_back, 8);
    EXPECT_EQ(c.err().code, errc::protocol);
  }
  {
    client_machine c(false);
    c.on_written(take_output(c).size());
    message_bytes accept{};
    const std::size_t n = encode_accept(accept);
    std::memcpy(c.input_space().data(), accept.data(), n);
    c.on_read(n, false, {}, with_creds(alice));  // the server has no business sending credentials
    EXPECT_EQ(c.err().code, errc::protocol);
    EXPECT_EQ(c.last_fault(), fault::credentials_not_allowed);
  }
  {
    client_machine c(false);
    c.on_written(take_output(c).size());
    std::vector<std::uint8_t> wrong_version{'m', 'o', 'n', 'H', 2, 2, 0, 0};
    deliver(c, wrong_version, 8);
    EXPECT_EQ(c.err().code, errc::protocol);
    EXPECT_EQ(c.last_fault(), fault::unknown_version);
  }
}

TEST(AuthMachines, EndOfFileIsClosedAndErrorsStick) {
  server_machine s(false, alice);
  s.on_eof();
  EXPECT_EQ(s.err().code, errc::closed);
  EXPECT_EQ(s.last_fault(), fault::peer_closed);
  s.fail({errc::io, 5});
  EXPECT_EQ(s.err().code, errc::closed);  // the first error sticks
  s.decide(true);
  EXPECT_EQ(s.next(), want::failed);
  client_machine c(false);
  c.on_written(take_output(c).size());
  c.on_eof();
  EXPECT_EQ(c.err().code, errc::closed);
}

TEST(AuthMachines, MisuseByTheGlueFails) {
  client_machine c(false);
  c.on_written(1000);  // more than was pending
  EXPECT_EQ(c.err().code, errc::invalid);
  EXPECT_EQ(c.last_fault(), fault::none);  // our own mistake, not the peer's
}

}  // namespace
}  // namespace mon::auth
