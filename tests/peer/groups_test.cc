// SPDX-License-Identifier: MIT
// Supplementary groups (SO_PEERGROUPS) and the security label (SO_PEERSEC): the ERANGE loop is
// bounded and follows a growing answer; groups are those of the process that connected; a label
// is length-delimited, and "no LSM" is "no label", not an error.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <thread>
#include <vector>

#include "core/grow_query.hpp"
#include "monitor/monitor.hpp"
#include "peer/peer_support.hpp"
#include "support/test_support.hpp"

namespace mon {
namespace {

using test::fd_leak_check;
using test::fork_child;
using test::gate;
using test::listener;
using test::make_pair;
using test::wait_child;

// ---- the loop, against a kernel played by the test ----------------------------------------------

// Answers like getsockopt: ERANGE (with the size it has) while the buffer is too small.
struct fake_kernel {
  std::vector<std::size_t> sizes;  // bytes it has at each call (the last repeats)
  int calls = 0;
  result<sys::sized_answer> operator()(std::span<gid_t> buf) {
    const std::size_t have = sizes[std::min<std::size_t>(calls, sizes.size() - 1)];
    ++calls;
    if (have > buf.size_bytes()) return sys::sized_answer{have, false};
    for (std::size_t i = 0; i < have / sizeof(gid_t); ++i) buf[i] = static_cast<gid_t>(1000 + i);
    return sys::sized_answer{have, true};
  }
};

TEST(PeerGroups, LoopAsksOnceWithoutBufferWhenThereIsNothing) {
  fake_kernel k{{0}};
  std::unique_ptr<gid_t[]> out;
  auto r = detail::grow_query<gid_t>(k, 16, out);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value(), 0u);
  EXPECT_EQ(k.calls, 1);
  EXPECT_EQ(out, nullptr);
}

TEST(PeerGroups, LoopFollowsAnAnswerThatGrowsBetweenCalls) {
  fake_kernel k{{2 * sizeof(gid_t), 5 * sizeof(gid_t), 5 * sizeof(gid_t)}};
  std::unique_ptr<gid_t[]> out;
  auto r = detail::grow_query<gid_t>(k, 16, out);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value(), 5u);
  EXPECT_EQ(k.calls, 3);  // nothing offered, 2 offered (ERANGE: now 5), 5 offered
  EXPECT_EQ(out[4], 1004u);
}

TEST(PeerGroups, LoopGivesUpOnAnAnswerThatNeverSettles) {
  fake_kernel k{{1 * sizeof(gid_t), 2 * sizeof(gid_t), 3 * sizeof(gid_t), 4 * sizeof(gid_t),
                 5 * sizeof(gid_t)}};
  std::unique_ptr<gid_t[]> out;
  auto r = detail::grow_query<gid_t>(k, 16, out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), errc::io);
  EXPECT_EQ(r.err().sys_errno, ERANGE);
  EXPECT_EQ(k.calls, detail::grow_attempts);
  EXPECT_EQ(out, nullptr);
}

TEST(PeerGroups, LoopRefusesBeyondItsBoundBeforeAllocating) {
  fake_kernel k{{17 * sizeof(gid_t)}};
  std::unique_ptr<gid_t[]> out;
  auto r = detail::grow_query<gid_t>(k, 16, out);
  EXPECT_EQ(r.code(), errc::toobig);
  EXPECT_EQ(k.calls, 1);
  EXPECT_EQ(out, nullptr);
}

TEST(PeerGroups, LoopRefusesSizesThatAreNotWholeElements) {
  fake_kernel k{{sizeof(gid_t) + 1}};
  std::unique_ptr<gid_t[]> out;
  auto r = detail::grow_query<gid_t>(k, 16, out);
  EXPECT_EQ(r.code(), errc::io);
  EXPECT_EQ(r.err().sys_errno, EPROTO);
}

TEST(PeerGroups, LoopPassesErrorsThrough) {
  auto unsupported = [](std::span<char>) -> result<sys::sized_answer> {
    return error{errc::unsupported, ENOPROTOOPT};
  };
  std::unique_ptr<char[]> out;
  EXPECT_EQ(detail::grow_query<char>(unsupported, 16, out).code(), errc::unsupported);
}

TEST(PeerGroups, LabelEndsBeforeItsTrailingNuls) {
  using namespace std::string_view_literals;
  EXPECT_EQ(detail::label_length("system_u:system_r:init_t:s0\0"sv),
            27u);                                        // SELinux counts the NUL
  EXPECT_EQ(detail::label_length("unconfined"sv), 10u);  // others do not
  EXPECT_EQ(detail::label_length("a\0b\0\0"sv),
            3u);  // only trailing NULs go: bytes, not a C string
  EXPECT_EQ(detail::label_length("\0\0"sv), 0u);
  EXPECT_EQ(detail::label_length(""sv), 0u);
}

// ---- against the kernel -------------------------------------------------------------------------

// A child that takes on `groups`, connects and authenticates, and waits until told to exit.
pid_t connect_with_groups(const listener& l, const std::vector<gid_t>& groups, gate& done) {
  return fork_child([&] {
    if (::setgroups(groups.size(), groups.data()) != 0) return 90;
    auto fd = l.connect();
    if (!fd) return 91;
    // Changing groups after connect() must not change what the server sees: a snapshot.
    const gid_t later[] = {4242};
    if (::setgroups(1, later) != 0) return 92;
    const int rc = test::run_client(fd.get());
    if (rc != MON_OK) return test::exit_code(rc);
    return done.wait() ? 0 : 93;
  });
}

TEST(PeerGroups, AreThoseOfTheProcessThatConnected) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for setgroups";
  fd_leak_check leaks;
  listener l(SOCK_STREAM);
  gate done;
  // More than any inline buffer would hold: the real kernel's ERANGE path is taken.
  std::vector<gid_t> groups;
  for (gid_t g = 0; g < 700; ++g) groups.push_back(20000 + g * 3);
  const pid_t child = connect_with_groups(l, groups, done);
  auto conn = l.accept();
  server_handshake server(conn.get());
  ASSERT_EQ(server.read_peer_info().code(), errc::invalid);  // not before the handshake is done
  auto r = server.step();
  ASSERT_TRUE(r) << to_string(r.code());
  auto info = server.read_peer_info();
  ASSERT_TRUE(info) << to_string(info.code());
  const auto got = info.value().groups();
  std::vector<gid_t> sorted(got.begin(), got.end());
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, groups);
  done.open();
  EXPECT_EQ(wait_child(child), 0);
}

TEST(PeerGroups, CApiReportsSizesAndTooBig) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for setgroups";
  fd_leak_check leaks;
  listener l(SOCK_SEQPACKET);
  gate done;
  const std::vector<gid_t> groups = {7, 70, 700};
  const pid_t child = connect_with_groups(l, groups, done);
  auto conn = l.accept();
  mon_ipc_creds creds{};
  void* st = nullptr;
  ASSERT_EQ(test::run_server_keep(conn.get(), &creds, &st), MON_OK);

  size_t num = 99, label_len = 99;
  // Sizes only: nothing offered, the counts come back with MON_ERR_TOOBIG.
  EXPECT_EQ(mon_ipc_auth_server_peer_info(st, nullptr, 0, &num, nullptr, 0, &label_len),
            MON_ERR_TOOBIG);
  EXPECT_EQ(num, 3u);
  gid_t two[2];
  char label[256];
  EXPECT_EQ(mon_ipc_auth_server_peer_info(st, two, 2, &num, label, sizeof label, &label_len),
            MON_ERR_TOOBIG);
  gid_t three[3];
  ASSERT_EQ(mon_ipc_auth_server_peer_info(st, three, 3, &num, label, sizeof label, &label_len),
            MON_OK);
  EXPECT_EQ(num, 3u);
  std::vector<gid_t> got(three, three + 3);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, groups);
  // No LSM here (ENOPROTOOPT) or a label: either way MON_OK, and a label is NUL-terminated for C.
  if (label_len > 0) {
    EXPECT_EQ(label[label_len], '\0');
    EXPECT_NE(label[label_len - 1], '\0');
  }
  // Argument checks.
  EXPECT_EQ(mon_ipc_auth_server_peer_info(st, nullptr, 3, &num, label, sizeof label, &label_len),
            MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_auth_server_peer_info(st, three, 3, nullptr, label, sizeof label, &label_len),
            MON_ERR_INVALID);
  EXPECT_EQ(mon_ipc_auth_server_peer_info(nullptr, three, 3, &num, label, sizeof label, &label_len),
            MON_ERR_INVALID);
  mon_ipc_auth_server_end(st);
  done.open();
  EXPECT_EQ(wait_child(child), 0);
}

TEST(PeerGroups, NoSecurityModuleMeansNoLabelNotAnError) {
  fd_leak_check leaks;
  auto pair = make_pair(SOCK_STREAM);
  auto info = query_peer_info(pair.a.get());
  ASSERT_TRUE(info) << to_string(info.code());
  // Where no security module labels sockets (SO_PEERSEC answers ENOPROTOOPT), there is no label
  // and that is not an error. Which case this machine is in is asked of the kernel directly.
  char raw[256];
  socklen_t raw_len = sizeof raw;
  const bool lsm_labels =
      ::getsockopt(pair.a.get(), SOL_SOCKET, SO_PEERSEC, raw, &raw_len) == 0 || errno == ERANGE;
  EXPECT_EQ(info.value().has_security_label(), lsm_labels)
      << (lsm_labels ? "the kernel has a label for this peer" : "no module labels sockets here");
  // Whatever this machine runs: a label is never empty when present and never ends in NUL.
  if (info.value().has_security_label()) {
    EXPECT_FALSE(info.value().security_label().empty());
    EXPECT_NE(info.value().security_label().back(), '\0');
  } else {
    EXPECT_TRUE(info.value().security_label().empty());
  }
  // Not a socket, or not AF_UNIX: refused before any getsockopt.
  EXPECT_EQ(query_peer_info(-1).code(), errc::invalid);
  auto not_socket = test::some_fd();
  EXPECT_NE(query_peer_info(not_socket.get()).code(), errc::unsupported);
  EXPECT_FALSE(query_peer_info(not_socket.get()));
}

}  // namespace
}  // namespace mon
