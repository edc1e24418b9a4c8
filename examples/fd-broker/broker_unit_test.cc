// SPDX-License-Identifier: MIT
// Unit tests of the broker's pure parts and of the safe open, without a broker process.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "policy.hpp"
#include "safe_path.hpp"

namespace {

void remove_tree(const std::string& dir) {
  const int rc = std::system(("rm -rf '" + dir + "'").c_str());  // mkdtemp names: no quote inside
  EXPECT_EQ(rc, 0);
}

TEST(BrokerPath, CleanPaths) {
  EXPECT_TRUE(fdb::path_is_clean("/a", false));
  EXPECT_TRUE(fdb::path_is_clean("/a/b.c/d", false));
  EXPECT_TRUE(fdb::path_is_clean("/a/...", false));  // a name, not a parent reference
  EXPECT_TRUE(fdb::path_is_clean("/a/b/", true));
  EXPECT_TRUE(fdb::path_is_clean("/", true));
}

TEST(BrokerPath, UncleanPaths) {
  for (const char* p :
       {"", "a", "a/b", "/", "/a/", "//a", "/a//b", "/./a", "/a/.", "/a/..", "/a/../b", "/.."})
    EXPECT_FALSE(fdb::path_is_clean(p, false)) << p;
  EXPECT_FALSE(fdb::path_is_clean(std::string_view("/a\0b", 4), false));
  EXPECT_FALSE(fdb::path_is_clean("/a/../", true));
  EXPECT_FALSE(fdb::path_is_clean("/a//", true));
  const std::string longest = "/" + std::string(4094, 'x');
  EXPECT_TRUE(fdb::path_is_clean(longest, false));
  EXPECT_FALSE(fdb::path_is_clean(longest + "x", false));
}

TEST(BrokerPolicy, ParsesRules) {
  fdb::policy p;
  std::string err;
  ASSERT_TRUE(fdb::parse_policy(
      "# comment\n\nallow uid=65534 /srv/public/\nallow\tgid=100\t/data/f.txt", p, err))
      << err;
  ASSERT_EQ(p.rules.size(), 2U);
  EXPECT_FALSE(p.rules[0].by_gid);
  EXPECT_EQ(p.rules[0].id, 65534UL);
  EXPECT_EQ(p.rules[0].path, "/srv/public/");
  EXPECT_TRUE(p.rules[1].by_gid);
  EXPECT_EQ(p.rules[1].path, "/data/f.txt");
}

TEST(BrokerPolicy, RefusesMalformedLines) {
  const char* bad[] = {
      "deny uid=1 /a/",           "allow uid=1",
      "allow uid= /a/",           "allow uid=-1 /a/",
      "allow uid=4294967295 /a/", "allow uid=99999999999 /a/",
      "allow uid=1x /a/",         "allow pid=1 /a/",
      "allow uid=1 a/",           "allow uid=1 /a/../b/",
      "allow uid=1 /a/ extra",    "allow  uid=1 /a/",
      "allow uid=1 /a/ ",         " allow uid=1 /a/",
      "allow uid=1 //a/",         "allow uid=1 /a/\r",
      "allow uid=1 /a\x1b[2J/",
  };
  for (const char* line : bad) {
    fdb::policy p;
    std::string err;
    EXPECT_FALSE(fdb::parse_policy(line, p, err)) << line;
    EXPECT_EQ(err.rfind("line 1: ", 0), 0U) << err;
    EXPECT_TRUE(p.rules.empty());
  }
}

TEST(BrokerPolicy, Bounds) {
  fdb::policy p;
  std::string err;
  std::string text;
  for (std::size_t i = 0; i < fdb::policy_max_rules; ++i) text += "allow uid=1 /a/\n";
  EXPECT_TRUE(fdb::parse_policy(text, p, err)) << err;
  text += "allow uid=1 /a/\n";
  EXPECT_FALSE(fdb::parse_policy(text, p, err));
  EXPECT_FALSE(fdb::parse_policy(std::string(fdb::policy_max_bytes + 1, '#'), p, err));
}

TEST(BrokerPolicy, Matching) {
  fdb::policy p;
  std::string err;
  ASSERT_TRUE(fdb::parse_policy("allow uid=10 /srv/pub/\nallow gid=20 /data/one.txt\n", p, err));
  const fdb::peer_ids u10{10, 99, {}}, u11{11, 99, {}};
  EXPECT_NE(p.match(u10, "/srv/pub/a"), nullptr);
  EXPECT_NE(p.match(u10, "/srv/pub/a/b"), nullptr);
  EXPECT_EQ(p.match(u10, "/srv/pub"), nullptr);                // the directory itself
  EXPECT_EQ(p.match(u10, "/srv/public"), nullptr);             // a sibling sharing the prefix
  EXPECT_EQ(p.match(u11, "/srv/pub/a"), nullptr);              // another uid
  EXPECT_EQ(p.match({10, 10, {}}, "/data/one.txt"), nullptr);  // uid 10 is not gid 20
  const fdb::peer_ids g20{99, 20, {}};
  EXPECT_NE(p.match(g20, "/data/one.txt"), nullptr);
  EXPECT_EQ(p.match(g20, "/data/one.txt2"), nullptr);
  EXPECT_EQ(p.match(g20, "/data/one.txt/x"), nullptr);
  EXPECT_TRUE(p.names({10, 0, {}}));
  EXPECT_TRUE(p.names({0, 20, {}}));
  EXPECT_FALSE(p.names({20, 10, {}}));
}

TEST(BrokerPolicy, GidRulesMatchSupplementaryGroups) {
  fdb::policy p;
  std::string err;
  ASSERT_TRUE(fdb::parse_policy("allow gid=20 /data/\n", p, err)) << err;
  const gid_t with[] = {5, 20, 30}, without[] = {5, 21, 30};
  EXPECT_NE(p.match({99, 99, with}, "/data/x"), nullptr);
  EXPECT_TRUE(p.names({99, 99, with}));
  EXPECT_EQ(p.match({99, 99, without}, "/data/x"), nullptr);
  EXPECT_FALSE(p.names({99, 99, without}));
  EXPECT_FALSE(p.names({20, 99, without}));  // a uid equal to the gid is not membership
}

// A scratch tree: base/ with a file, a subdirectory, symlinks out of it, a FIFO; secret/ beside.
class BrokerOpen : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fd-broker-unit.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    base_ = root_ + "/base/";
    ASSERT_EQ(::mkdir(base_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((base_ + "sub").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((root_ + "/secret").c_str(), 0700), 0);
    std::ofstream(base_ + "sub/file.txt") << "data";
    std::ofstream(root_ + "/secret/key") << "key";
    ASSERT_EQ(::symlink("../secret", (base_ + "link-dir").c_str()), 0);
    ASSERT_EQ(::symlink("../secret/key", (base_ + "link-file").c_str()), 0);
    ASSERT_EQ(::symlink("sub/file.txt", (base_ + "link-inside").c_str()), 0);
    ASSERT_EQ(::symlink(base_.c_str(), (root_ + "/base-link").c_str()), 0);
    ASSERT_EQ(::mkfifo((base_ + "fifo").c_str(), 0644), 0);
  }
  void TearDown() override {
    if (!root_.empty()) remove_tree(root_);
  }
  std::string root_, base_;
};

TEST_P(BrokerOpen, OpensARegularFileBlocking) {
  auto r = fdb::open_beneath(base_, base_ + "sub/file.txt", GetParam());
  ASSERT_TRUE(r.fd.valid()) << std::strerror(r.err);
  const int fl = ::fcntl(r.fd.get(), F_GETFL);
  EXPECT_EQ(fl & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(fl & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(r.fd.get(), F_GETFD) & FD_CLOEXEC, 0);
  char buf[8] = {};
  EXPECT_EQ(::read(r.fd.get(), buf, sizeof buf), 4);
  EXPECT_STREQ(buf, "data");
}

TEST_P(BrokerOpen, RefusesEverySymlink) {
  for (const char* rel : {"link-dir/key", "link-file", "link-inside"}) {
    auto r = fdb::open_beneath(base_, base_ + rel, GetParam());
    EXPECT_FALSE(r.fd.valid()) << rel;
    EXPECT_FALSE(r.not_regular) << rel;
    EXPECT_TRUE(r.err == ELOOP || r.err == ENOTDIR) << rel << ": " << std::strerror(r.err);
  }
  // The granted directory reached through a symlink.
  auto r = fdb::open_beneath(root_ + "/base-link/", root_ + "/base-link/sub/file.txt", GetParam());
  EXPECT_FALSE(r.fd.valid());
}

TEST_P(BrokerOpen, RefusesNonRegularWithoutBlocking) {
  for (const char* rel : {"fifo", "sub"}) {
    auto r = fdb::open_beneath(base_, base_ + rel, GetParam());
    EXPECT_FALSE(r.fd.valid()) << rel;
    EXPECT_TRUE(r.not_regular) << rel;
  }
}

// Refusal must come before any open routine runs: a device's open can act (arm a watchdog, rewind
// a tape), a FIFO's can block or wake a writer. inotify reports an IN_OPEN for every open except
// an O_PATH one, so the watch sees exactly the opens that would have reached the file.
TEST_P(BrokerOpen, RefusesNonRegularWithoutOpeningIt) {
  std::vector<const char*> names = {"fifo", "sub"};
  if (::mknod((base_ + "null").c_str(), S_IFCHR | 0666, ::makedev(1, 3)) == 0)
    names.push_back("null");  // needs CAP_MKNOD: root in CI
  const mon::unique_fd watch(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  ASSERT_TRUE(watch.valid());
  ASSERT_GE(::inotify_add_watch(watch.get(), base_.c_str(), IN_OPEN), 0);
  char events[4096];
  for (const char* rel : names) {
    auto r = fdb::open_beneath(base_, base_ + rel, GetParam());
    EXPECT_TRUE(r.not_regular) << rel;
    EXPECT_EQ(::read(watch.get(), events, sizeof events), -1) << rel << " was opened";
  }
  // The watch does see an ordinary open: the check above can fail.
  const mon::unique_fd fifo(::open((base_ + "fifo").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  ASSERT_TRUE(fifo.valid());
  EXPECT_GT(::read(watch.get(), events, sizeof events), 0);
}

TEST_P(BrokerOpen, RefusesPathsOutsideOrUnclean) {
  for (const std::string& p :
       {root_ + "/secret/key", base_ + "../secret/key", base_, base_ + "sub//file.txt"}) {
    auto r = fdb::open_beneath(base_, p, GetParam());
    EXPECT_FALSE(r.fd.valid()) << p;
    EXPECT_EQ(r.err, EINVAL) << p;
  }
  auto missing = fdb::open_beneath(base_, base_ + "nope", GetParam());
  EXPECT_EQ(missing.err, ENOENT);
}

INSTANTIATE_TEST_SUITE_P(Openat2AndWalk, BrokerOpen, ::testing::Bool(),
                         [](const auto& p) { return p.param ? "openat2" : "walk"; });

TEST(BrokerPolicyFile, RefusesUnsafeFiles) {
  char tmpl[] = "/tmp/fd-broker-policy.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl, file = dir + "/policy", link = dir + "/link";
  std::ofstream(file) << "allow uid=1 /a/\n";
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  fdb::policy p;
  std::string err;
  EXPECT_TRUE(fdb::load_policy(file.c_str(), p, err)) << err;
  ASSERT_EQ(::symlink(file.c_str(), link.c_str()), 0);
  EXPECT_FALSE(fdb::load_policy(link.c_str(), p, err));  // O_NOFOLLOW
  ASSERT_EQ(::chmod(file.c_str(), 0664), 0);
  EXPECT_FALSE(fdb::load_policy(file.c_str(), p, err));
  EXPECT_EQ(err, "group- or world-writable");
  ASSERT_EQ(::chmod(file.c_str(), 0646), 0);
  EXPECT_FALSE(fdb::load_policy(file.c_str(), p, err));
  if (::geteuid() == 0) {
    ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
    ASSERT_EQ(::chown(file.c_str(), 65534, 65534), 0);
    EXPECT_FALSE(fdb::load_policy(file.c_str(), p, err));
    EXPECT_EQ(err, "not owned by root");
  }
  EXPECT_FALSE(fdb::load_policy(dir.c_str(), p, err));  // a directory
  remove_tree(dir);
}

}  // namespace
