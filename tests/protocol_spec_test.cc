// SPDX-License-Identifier: MIT
// One test (or a few) per answer of docs/PROTOCOL.md that an independent implementation needs:
// the order of the server's checks, what is read and what is answered, and the kernel facts the
// protocol stands on (measured here, on the running kernel).
#include <errno.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "auth/machines.hpp"
#include "monitor/monitor.hpp"
#include "platform/linux.hpp"
#include "support/auth_support.hpp"
#include "support/test_support.hpp"

namespace mon {
namespace {

using auth::server_machine;
using auth::want;
using test::fd_leak_check;
using test::make_pair;

const peer_credentials alice{1234, 1000, 1000};

using test::with_creds;

// Feeds a whole message to a stream-mode server machine, one input_space() at a time.
void feed(server_machine& s, std::span<const std::uint8_t> bytes, const cmsg::control_data& ctl,
          result<void> control = {}) {
  std::size_t off = 0;
  while (off < bytes.size() && s.next() == want::read) {
    auto space = s.input_space();
    const std::size_t n = std::min(space.size(), bytes.size() - off);
    std::memcpy(space.data(), bytes.data() + off, n);
    s.on_read(n, false, control, ctl);
    off += n;
  }
}

// A handshake message with any header fields; body_len is the body's real length.
std::vector<std::uint8_t> message(std::uint8_t version, std::uint8_t type,
                                  const std::vector<std::uint8_t>& body = {}) {
  std::vector<std::uint8_t> m(8 + body.size());
  const std::uint8_t head[8] = {'m',
                                'o',
                                'n',
                                'H',
                                version,
                                type,
                                static_cast<std::uint8_t>(body.size() >> 8),
                                static_cast<std::uint8_t>(body.size())};
  std::memcpy(m.data(), head, sizeof head);
  for (std::size_t i = 0; i < body.size(); ++i) m[8 + i] = body[i];
  return m;
}
const std::vector<std::uint8_t> critical_ext{0x80, 0x01, 0x00, 0x00};

// ---- Order of the server's checks: the first that fails decides the answer
// -----------------------

TEST(ProtocolSpec, ControlDataIsJudgedBeforeTheBytesItCameWith) {
  std::vector<std::uint8_t> bad_magic{'X', 'o', 'n', 'H', 1, 1, 0, 0};
  server_machine s(false, alice);
  cmsg::control_data refused;
  refused.why = fault::too_many_descriptors;  // what cmsg::decode says of a hello with descriptors
  feed(s, bad_magic, refused, errc::protocol);
  EXPECT_EQ(s.err().code, errc::protocol);
  EXPECT_EQ(s.last_fault(), fault::too_many_descriptors);
  EXPECT_TRUE(s.output().empty());  // silence
}

TEST(ProtocolSpec, MagicThenBodyLenAreJudgedBeforeAnythingElse) {
  auto m = message(9, 77);  // unknown version and type as well
  m[0] = 'X';
  m[6] = 0x7f;  // body_len far past 256
  server_machine s(false, alice);
  feed(s, m, cmsg::control_data{});  // and no credentials
  EXPECT_EQ(s.last_fault(), fault::bad_magic);
  EXPECT_TRUE(s.output().empty());
  m[0] = 'm';
  server_machine s2(false, alice);
  feed(s2, m, cmsg::control_data{});
  EXPECT_EQ(s2.err().code, errc::protocol);
  EXPECT_EQ(s2.last_fault(), fault::body_too_long);
  EXPECT_TRUE(s2.output().empty());
}

TEST(ProtocolSpec, TypeIsJudgedBeforeVersionAndGetsNoReply) {
  server_machine s(false, alice);
  feed(s, message(2, 2), cmsg::control_data{});  // an "accept" of version 2, no credentials
  EXPECT_EQ(s.next(), want::failed);
  EXPECT_EQ(s.err().code, errc::protocol);
  EXPECT_EQ(s.last_fault(), fault::unexpected_message_type);
  EXPECT_TRUE(s.output().empty());
}

TEST(ProtocolSpec, VersionIsJudgedBeforeExtensionsAndCredentialsAndIsAnswered) {
  server_machine s(false, alice);
  feed(s, message(2, 1, critical_ext), cmsg::control_data{});
  ASSERT_EQ(s.next(), want::write);
  EXPECT_EQ(s.reason(), deny_reason::version);
  EXPECT_EQ(s.last_fault(), fault::unknown_version);
  const std::vector<std::uint8_t> deny_version{'m', 'o', 'n', 'H', 1, 3, 0, 2, 0, 3};
  const auto out = s.output();
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.end()), deny_version);
  s.on_written(out.size());
  EXPECT_EQ(s.err().code, errc::protocol);
}

TEST(ProtocolSpec, ExtensionsAreJudgedBeforeCredentialsAndGetNoReply) {
  server_machine s(false, alice);
  feed(s, message(1, 1, critical_ext), cmsg::control_data{});
  EXPECT_EQ(s.err().code, errc::protocol);
  EXPECT_EQ(s.last_fault(), fault::critical_extension);
  EXPECT_TRUE(s.output().empty());
}

TEST(ProtocolSpec, CredentialsAreJudgedBeforeThePolicyIsAsked) {
  server_machine s(false, alice);
  feed(s, message(1, 1), with_creds({1, 2, 3}));
  EXPECT_EQ(s.next(), want::write);  // not want::decide: the policy is never asked
  EXPECT_EQ(s.reason(), deny_reason::credentials);
  EXPECT_EQ(s.last_fault(), fault::credentials_not_peer);
}

// ---- What is read
// --------------------------------------------------------------------------------

TEST(ProtocolSpec, AnUnknownVersionsBodyIsReadButNotParsed) {
  // Version 2, body_len 5, a body that is no valid version-1 extension list.
  const auto m = message(2, 1, {0xde, 0xad, 0xbe, 0xef, 0x00});
  server_machine s(false, alice);
  std::memcpy(s.input_space().data(), m.data(), 8);
  s.on_read(8, false, {}, with_creds(alice));
  ASSERT_EQ(s.next(), want::read);
  EXPECT_EQ(s.input_space().size(), 5u);  // exactly the body, then nothing more
  std::memcpy(s.input_space().data(), m.data() + 8, 5);
  s.on_read(5, false, {}, with_creds(alice));
  ASSERT_EQ(s.next(), want::write);
  EXPECT_EQ(s.reason(), deny_reason::version);
}

// ---- What is answered
// ----------------------------------------------------------------------------

// Descriptors queued before the server started (so before SO_PASSRIGHTS went off) still arrive:
// the server closes them and answers nothing.
TEST(ProtocolSpec, NoReplyWhenTheHelloCarriesDescriptors) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  auto passenger = test::some_fd();
  const int fds[1] = {passenger.get()};
  const auto hello = message(1, 1);
  test::raw_send_headers(pair.a.get(), hello, {{fds[0]}}, /*with_creds=*/true);
  passenger.reset();
  server_handshake s(pair.b.get());
  auto r = s.step();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), errc::protocol);
  char byte = 0;
  EXPECT_EQ(::recv(pair.a.get(), &byte, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);  // no reply of any kind
}

TEST(ProtocolSpec, ACriticalExtensionInADenyIsAProtocolErrorWithoutReason) {
  auth::client_machine c(false);
  c.on_written(c.output().size());
  const auto deny = message(1, 3, {0x00, 0x02, 0x80, 0x01, 0x00, 0x00});  // policy, critical ext
  std::memcpy(c.input_space().data(), deny.data(), 8);
  c.on_read(8, false, {}, cmsg::control_data{});
  std::memcpy(c.input_space().data(), deny.data() + 8, deny.size() - 8);
  c.on_read(deny.size() - 8, false, {}, cmsg::control_data{});
  EXPECT_EQ(c.err().code, errc::protocol);
  EXPECT_EQ(c.reason(), deny_reason::none);  // no reason trusted from a message not understood
  EXPECT_EQ(c.last_fault(), fault::critical_extension);
}

// Runs both sides of a handshake on one non-blocking socketpair in this thread.
void run_handshake(client_handshake& c, server_handshake& s) {
  for (int i = 0; i < 16; ++i) {
    auto cr = c.step();
    auto sr = s.step();
    ASSERT_TRUE(cr.ok()) << to_string(cr.code());
    ASSERT_TRUE(sr.ok()) << to_string(sr.code());
    if (cr.value() == progress::done && sr.value() == progress::done) return;
  }
  FAIL() << "handshake did not finish";
}

// Linux >= 6.16: while the server reads the hello, SO_PASSRIGHTS is off and the kernel refuses a
// sendmsg with descriptors as a whole (EPERM): nothing of that frame was sent, so the client may
// send the same frame again once the handshake is accepted.
TEST(ProtocolSpec, AFrameWithDescriptorsSentDuringTheHandshakeIsRefusedWholeAndMayBeResent) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  server_handshake s(pair.b.get());
  ASSERT_TRUE(s.start().ok());
  int on = -1;
  socklen_t len = sizeof on;
  if (::getsockopt(pair.b.get(), SOL_SOCKET, SO_PASSRIGHTS, &on, &len) != 0)
    GTEST_SKIP() << "kernel without SO_PASSRIGHTS (< 6.16)";
  ASSERT_EQ(on, 0);

  message_buffer out;
  const char text[] = "after the handshake";
  ASSERT_TRUE(out.append(std::as_bytes(std::span(text))).ok());
  auto passenger = test::some_fd();
  const int fds[1] = {passenger.get()};
  auto early = send_message(pair.a.get(), out, fds);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.err(), (error{errc::io, EPERM}));
  char byte = 0;
  EXPECT_EQ(::recv(pair.b.get(), &byte, 1, MSG_DONTWAIT | MSG_PEEK), -1);  // not one byte went
  EXPECT_EQ(errno, EAGAIN);

  client_handshake c(pair.a.get());
  run_handshake(c, s);
  auto again = send_message(pair.a.get(), out, fds);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), progress::done);
  message_buffer in;
  fd_list got;
  auto r = receive_message(pair.b.get(), in, got, 1);
  ASSERT_TRUE(r.ok()) << to_string(r.code());
  EXPECT_EQ(r.value(), progress::done);
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(in.size(), sizeof text);
}

// ---- Kernel facts
// ----------------------------------------------------------------------------------

// What one recvmsg of one byte reports as SCM_CREDENTIALS, if anything.
bool read_credentials(int fd, ucred& out) {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(fd, &msg, 0) != 1) return false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      std::memcpy(&out, CMSG_DATA(c), sizeof out);
      return true;
    }
  }
  return false;
}

unsigned read_proc_number(const char* path) {
  std::ifstream in(path);
  unsigned v = 0;
  in >> v;
  return v;
}

void set_passcred(int fd) {
  const int one = 1;
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one), 0);
}

TEST(ProtocolSpec, OncePasscredIsOnEveryReadCarriesTheSendersCredentials) {
  auto pair = make_pair(SOCK_STREAM);
  set_passcred(pair.b.get());
  ASSERT_EQ(::send(pair.a.get(), "x", 1, 0), 1);  // no SCM_CREDENTIALS sent
  ucred c{};
  ASSERT_TRUE(read_credentials(pair.b.get(), c));
  EXPECT_EQ(c.pid, ::getpid());
  EXPECT_EQ(c.uid, ::geteuid());
  EXPECT_EQ(c.gid, ::getegid());
}

TEST(ProtocolSpec, BytesSentBeforePasscredWasOnReadAsPidZeroAndTheOverflowIds) {
  auto pair = make_pair(SOCK_STREAM);
  ASSERT_EQ(::send(pair.a.get(), "x", 1, 0), 1);
  set_passcred(pair.b.get());
  ucred c{};
  ASSERT_TRUE(read_credentials(pair.b.get(), c));  // present, but naming nobody
  EXPECT_EQ(c.pid, 0);
  EXPECT_EQ(c.uid, read_proc_number("/proc/sys/kernel/overflowuid"));
  EXPECT_EQ(c.gid, read_proc_number("/proc/sys/kernel/overflowgid"));
  EXPECT_EQ(c.uid, 65534u);  // Linux's default, what the spec names
}

// Hence a hello without SCM_CREDENTIALS is denied when it was queued before the server started,
// for the credentials the kernel then reports are not SO_PEERCRED's.
TEST(ProtocolSpec, AHelloWithoutCredentialsQueuedBeforeTheServerStartedIsDenied) {
  auto pair = make_pair(SOCK_STREAM, /*nonblocking=*/true);
  test::raw_send(pair.a.get(), message(1, 1));
  server_handshake s(pair.b.get());
  auto r = s.step();
  EXPECT_EQ(r.code(), errc::denied);
  EXPECT_EQ(s.reason(), deny_reason::credentials);
}

TEST(ProtocolSpec, TheSocketOptionNumbersAreLinuxs) {
  EXPECT_EQ(SO_PASSRIGHTS, 83);
  EXPECT_EQ(SO_PEERPIDFD, 77);
  EXPECT_EQ(SO_PASSPIDFD, 76);
  EXPECT_EQ(SCM_PIDFD, 4);
  // And the running kernel answers to them as such, where it is new enough.
  auto pair = make_pair(SOCK_STREAM);
  int value = -1;
  socklen_t len = sizeof value;
  if (::getsockopt(pair.a.get(), SOL_SOCKET, SO_PASSRIGHTS, &value, &len) == 0) {
    EXPECT_EQ(value, 1);  // descriptors are welcome unless someone said otherwise
  } else {
    EXPECT_EQ(errno, ENOPROTOOPT);
  }
  int pidfd = -1;
  len = sizeof pidfd;
  if (::getsockopt(pair.a.get(), SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0) {
    unique_fd owned(pidfd);
    EXPECT_GE(owned.get(), 0);
  } else {
    EXPECT_EQ(errno, ENOPROTOOPT);
  }
}

// A SOCK_SEQPACKET record is one skb: the kernel refuses (EMSGSIZE, MON_ERR_TOOBIG) a record
// longer than the sender's SO_SNDBUF minus 32 bytes, so that bounds a seqpacket frame.
TEST(ProtocolSpec, ASeqpacketRecordIsBoundedByTheSendersSndbuf) {
  auto pair = make_pair(SOCK_SEQPACKET);
  int sndbuf = 0;
  socklen_t len = sizeof sndbuf;
  ASSERT_EQ(::getsockopt(pair.a.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, &len), 0);
  const std::size_t max_record = static_cast<std::size_t>(sndbuf) - 32;
  const std::size_t max_payload = max_record - 8;  // the frame header rides in the same record
  std::vector<std::byte> payload(max_payload + 1, std::byte{0x5a});

  message_buffer too_big(max_payload + 1);
  ASSERT_TRUE(too_big.append(payload).ok());
  auto r = send_message(pair.a.get(), too_big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err(), (error{errc::toobig, EMSGSIZE}));

  message_buffer fits(max_payload);
  ASSERT_TRUE(fits.append(std::span(payload).first(max_payload)).ok());
  ASSERT_TRUE(send_message(pair.a.get(), fits).ok());
  message_buffer in(max_payload);
  fd_list fds;
  auto got = receive_message(pair.b.get(), in, fds, 0);
  ASSERT_TRUE(got.ok()) << to_string(got.code());
  EXPECT_EQ(in.size(), max_payload);
}

}  // namespace
}  // namespace mon
