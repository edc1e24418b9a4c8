// SPDX-License-Identifier: MIT
// Shared memory (docs/SHM.md): the pure validation (ShmValidate), real segments (ShmSegment), and
// hostile peers that hand over descriptors meant to crash the mapper (ShmHostile, ATTACKS.md C).
// Every test that maps something touches every mapped page afterwards: had a check let a
// truncatable or too-small file through, the test process would die of SIGBUS.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/falloc.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <utility>

#include "monitor/monitor.h"
#include "monitor/monitor.hpp"
#include "shm/validate.hpp"
#include "support/test_support.hpp"

namespace mon {
namespace {

using shm::access;
using shm::verdict;

const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

// ---- ShmValidate: the pure rule, without a kernel -------------------------------------------

shm::facts sealed_memfd(std::int64_t size, std::uint32_t extra_seals = 0,
                        std::uint32_t acc = shm::access_read_write) {
  shm::facts f;
  f.status_flags = acc;
  f.seals_known = true;
  f.seals = shm::seal_shrink | shm::seal_grow | extra_seals;
  f.mode = shm::mode_regular | 0600;
  f.size = size;
  f.fs_magic = shm::tmpfs_magic;
  return f;
}

shm::request want(std::uint64_t min_len, std::uint64_t max_len, access mode) {
  shm::request r;
  r.min_len = min_len;
  r.max_len = max_len;
  r.mode = mode;
  return r;
}

TEST(ShmValidate, SealedMemfdIsAcceptedAndMappedAtTheRequestedLength) {
  auto d = shm::check(sealed_memfd(8192, shm::seal_write), want(4096, 4096, access::immutable));
  ASSERT_EQ(d.why, verdict::ok);
  EXPECT_EQ(d.map_len, 4096u);  // exactly what was asked, not the whole file
  EXPECT_FALSE(d.map_writable);
  d = shm::check(sealed_memfd(8192, shm::seal_write), want(1, 1 << 20, access::immutable));
  ASSERT_EQ(d.why, verdict::ok);
  EXPECT_EQ(d.map_len, 8192u);  // the real size, within the bound
  d = shm::check(sealed_memfd(8192), want(100, 100, access::read_write));
  ASSERT_EQ(d.why, verdict::ok);
  EXPECT_TRUE(d.map_writable);
}

TEST(ShmValidate, EachMissingConditionHasItsOwnVerdictAndError) {
  struct row {
    shm::facts f;
    shm::request r;
    verdict v;
    errc e;
  };
  const auto ro = want(4096, 4096, access::read_only);
  shm::facts pipe = sealed_memfd(4096, shm::seal_write);
  pipe.mode = 0010000 | 0600;  // S_IFIFO
  pipe.seals_known = false;
  shm::facts regular = sealed_memfd(4096, shm::seal_write);
  regular.seals_known = false;
  shm::facts hugetlb = sealed_memfd(4096, shm::seal_write);
  hugetlb.fs_magic = 0x958458f6;  // HUGETLBFS_MAGIC
  shm::facts path = sealed_memfd(4096, shm::seal_write);
  path.status_flags |= shm::status_path;
  shm::facts negative = sealed_memfd(-1, shm::seal_write);
  const row rows[] = {
      {pipe, ro, verdict::not_regular, errc::badshm},
      {regular, ro, verdict::not_sealable, errc::badshm},
      {hugetlb, ro, verdict::wrong_filesystem, errc::badshm},
      {path, ro, verdict::path_only, errc::badshm},
      {sealed_memfd(4096, 0), ro, verdict::writable, errc::shmaccess},
      {sealed_memfd(4096, shm::seal_write, shm::access_write_only), ro, verdict::write_only,
       errc::shmaccess},
      {sealed_memfd(4096, shm::seal_future_write), want(4096, 4096, access::immutable),
       verdict::missing_write_seal, errc::notsealed},
      {sealed_memfd(4096, shm::seal_future_write), want(4096, 4096, access::read_write),
       verdict::not_writable, errc::shmaccess},
      {sealed_memfd(4096, 0, shm::access_read_only), want(4096, 4096, access::read_write),
       verdict::not_writable, errc::shmaccess},
      {sealed_memfd(4095, shm::seal_write), ro, verdict::too_small, errc::shmsize},
      {negative, ro, verdict::too_small, errc::shmsize},
      {sealed_memfd(4096, shm::seal_write), want(0, 4096, access::read_only), verdict::bad_request,
       errc::invalid},
      {sealed_memfd(4096, shm::seal_write), want(4096, 4095, access::read_only),
       verdict::bad_request, errc::invalid},
      {sealed_memfd(4096, shm::seal_write), want(1, UINT64_MAX, access::read_only),
       verdict::bad_request, errc::invalid},
  };
  for (const auto& r : rows) {
    const auto d = shm::check(r.f, r.r);
    EXPECT_EQ(d.why, r.v) << shm::to_string(d.why) << " instead of " << shm::to_string(r.v);
    EXPECT_EQ(d.map_len, 0u);
    EXPECT_EQ(shm::to_error(r.v), r.e) << shm::to_string(r.v);
  }
}

TEST(ShmValidate, BothSizeSealsAreRequiredWhateverElseIsSet) {
  for (std::uint32_t seals = 0; seals < 0x40; ++seals) {
    shm::facts f = sealed_memfd(4096);
    f.seals = seals;
    for (access a : {access::read_write, access::read_only, access::immutable}) {
      const auto d = shm::check(f, want(4096, 4096, a));
      const bool size_sealed =
          (seals & (shm::seal_shrink | shm::seal_grow)) == (shm::seal_shrink | shm::seal_grow);
      if (!size_sealed) {
        EXPECT_EQ(d.why, verdict::missing_size_seals) << seals;
      }
      if (d.why == verdict::ok) {
        EXPECT_TRUE(size_sealed);
      }
    }
  }
}

TEST(ShmValidate, ReadOnlyAcceptsAReadOnlyDescriptorOrAWriteSeal) {
  const auto ro = want(4096, 4096, access::read_only);
  EXPECT_EQ(shm::check(sealed_memfd(4096, 0, shm::access_read_only), ro).why, verdict::ok);
  EXPECT_EQ(shm::check(sealed_memfd(4096, shm::seal_write), ro).why, verdict::ok);
  EXPECT_EQ(shm::check(sealed_memfd(4096, shm::seal_future_write), ro).why, verdict::ok);
  EXPECT_EQ(shm::check(sealed_memfd(4096, 0), ro).why, verdict::writable);
}

// ---- helpers for the kernel tests ------------------------------------------------------------

// Reads one byte of every page of the mapping: SIGBUS here would mean a check let a bad file by.
std::uint64_t touch_every_page(const void* data, std::size_t len) {
  const auto* p = static_cast<const volatile unsigned char*>(data);
  std::uint64_t sum = 0;
  for (std::size_t off = 0; off < len; off += page) sum += p[off];
  if (len > 0) sum += p[len - 1];
  return sum;
}

int raw_memfd(unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING) {
  return ::memfd_create("shm-test", flags);
}

// A memfd of size bytes with the given kernel seals, or -1.
int raw_sealed_memfd(std::size_t size, int seals) {
  int fd = raw_memfd();
  if (fd < 0) return -1;
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0 ||
      (seals != 0 && ::fcntl(fd, F_ADD_SEALS, seals) != 0)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reopens a descriptor through /proc with other flags (O_RDONLY, O_WRONLY, O_PATH).
int reopen(int fd, int flags) {
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  return ::open(path.c_str(), flags | O_CLOEXEC);
}

// ---- ShmSegment: the creator's side and the round trip ---------------------------------------

TEST(ShmSegment, CreateSealsAgainstShrinkAndGrowAndMapsWritable) {
  test::fd_leak_check leaks;
  auto s = shared_memory::create(3 * page);
  ASSERT_TRUE(s) << to_string(s.code());
  EXPECT_TRUE(s.value().writable());
  EXPECT_EQ(s.value().size(), 3 * page);
  EXPECT_TRUE(test::is_cloexec(s.value().fd()));
  const int seals = ::fcntl(s.value().fd(), F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_SHRINK | F_SEAL_GROW), F_SEAL_SHRINK | F_SEAL_GROW);
  EXPECT_EQ(seals & (F_SEAL_WRITE | F_SEAL_SEAL), 0);  // still open for the creator's choice
  EXPECT_NE(::ftruncate(s.value().fd(), 0), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(::ftruncate(s.value().fd(), static_cast<off_t>(4 * page)), 0);
  auto w = s.value().writable_bytes();
  ASSERT_EQ(w.size(), 3 * page);
  std::memset(w.data(), 0x5a, w.size());
  EXPECT_EQ(touch_every_page(s.value().bytes().data(), s.value().size()), 4u * 0x5a);
}

TEST(ShmSegment, InvalidArguments) {
  test::fd_leak_check leaks;
  EXPECT_EQ(shared_memory::create(0).code(), errc::invalid);
  EXPECT_EQ(shared_memory::create(SIZE_MAX).code(), errc::invalid);
  EXPECT_EQ(shared_memory::map(unique_fd(), 1, shm_access::read_only).code(), errc::invalid);
  mon_shm* out = reinterpret_cast<mon_shm*>(&out);
  EXPECT_EQ(mon_shm_create(0, &out), MON_ERR_INVALID);
  EXPECT_EQ(out, nullptr);
  EXPECT_EQ(mon_shm_create(page, nullptr), MON_ERR_INVALID);
  // mon_shm_map owns fd in every case: each refusal below closes it (the leak check proves it).
  EXPECT_EQ(mon_shm_map(raw_sealed_memfd(page, F_SEAL_SHRINK | F_SEAL_GROW), page, page,
                        MON_SHM_READ_ONLY, nullptr),
            MON_ERR_INVALID);
  EXPECT_EQ(mon_shm_map(raw_sealed_memfd(page, F_SEAL_SHRINK | F_SEAL_GROW), page, page, 0, &out),
            MON_ERR_INVALID);
  EXPECT_EQ(mon_shm_map(raw_sealed_memfd(page, F_SEAL_SHRINK | F_SEAL_GROW), 0, page,
                        MON_SHM_READ_WRITE, &out),
            MON_ERR_INVALID);
  EXPECT_EQ(mon_shm_map(raw_sealed_memfd(page, F_SEAL_SHRINK | F_SEAL_GROW), 2, 1,
                        MON_SHM_READ_WRITE, &out),
            MON_ERR_INVALID);
  EXPECT_EQ(mon_shm_map(-1, page, page, MON_SHM_READ_ONLY, &out), MON_ERR_INVALID);
  EXPECT_EQ(out, nullptr);
  mon_shm_free(nullptr);
  EXPECT_EQ(mon_shm_data(nullptr), nullptr);
  EXPECT_EQ(mon_shm_writable_data(nullptr), nullptr);
  EXPECT_EQ(mon_shm_size(nullptr), 0u);
  EXPECT_EQ(mon_shm_fd(nullptr), -1);
  EXPECT_EQ(mon_shm_seal(nullptr, MON_SHM_SEAL_WRITE), MON_ERR_INVALID);
  ASSERT_EQ(mon_shm_create(page, &out), MON_OK);
  EXPECT_EQ(mon_shm_seal(out, 0), MON_ERR_INVALID);
  EXPECT_EQ(mon_shm_seal(out, 0x80), MON_ERR_INVALID);
  mon_shm_free(out);
}

TEST(ShmSegment, WriteSealMakesTheBytesImmutableAndTheCreatorsMappingReadOnly) {
  test::fd_leak_check leaks;
  mon_shm* s = nullptr;
  ASSERT_EQ(mon_shm_create(2 * page, &s), MON_OK);
  ASSERT_NE(mon_shm_writable_data(s), nullptr);
  std::memcpy(mon_shm_writable_data(s), "hello", 5);
  ASSERT_EQ(mon_shm_seal(s, MON_SHM_SEAL_WRITE | MON_SHM_SEAL_SEAL), MON_OK);
  EXPECT_EQ(mon_shm_writable_data(s), nullptr);
  EXPECT_EQ(std::memcmp(mon_shm_data(s), "hello", 5), 0);  // the bytes survived the remap
  const int fd = mon_shm_fd(s);
  EXPECT_EQ(::fcntl(fd, F_GET_SEALS) & (F_SEAL_WRITE | F_SEAL_SEAL), F_SEAL_WRITE | F_SEAL_SEAL);
  EXPECT_LT(::pwrite(fd, "x", 1, 0), 0);
  EXPECT_EQ(::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED);
  // F_SEAL_SEAL: not even another seal can be added now.
  EXPECT_EQ(mon_shm_seal(s, MON_SHM_SEAL_FUTURE_WRITE), MON_ERR_IO);
  EXPECT_EQ(errno, EPERM);
  mon_shm_free(s);
}

TEST(ShmSegment, WriteSealIsRefusedWhileAReceiverHoldsAWritableMappingAndNothingIsLost) {
  test::fd_leak_check leaks;
  auto s = shared_memory::create(page);
  ASSERT_TRUE(s);
  auto peer = shared_memory::map(unique_fd(::dup(s.value().fd())), page, shm_access::read_write);
  ASSERT_TRUE(peer) << to_string(peer.code());
  auto r = s.value().seal(MON_SHM_SEAL_WRITE);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err(), (error{errc::io, EBUSY}));
  EXPECT_TRUE(s.value().writable());  // the creator's mapping was given back
  s.value().writable_bytes()[0] = std::byte{7};
  EXPECT_EQ(peer.value().bytes()[0], std::byte{7});
  peer.value().reset();
  EXPECT_TRUE(s.value().seal(MON_SHM_SEAL_WRITE));
}

TEST(ShmSegment, FutureWriteSealKeepsTheCreatorWritingAndReceiversReading) {
  test::fd_leak_check leaks;
  auto s = shared_memory::create(page);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s.value().seal(MON_SHM_SEAL_FUTURE_WRITE | MON_SHM_SEAL_SEAL));
  ASSERT_TRUE(s.value().writable());
  auto dup = [&] { return unique_fd(::dup(s.value().fd())); };
  auto ro = shared_memory::map(dup(), page, shm_access::read_only);
  ASSERT_TRUE(ro) << to_string(ro.code());
  EXPECT_FALSE(ro.value().writable());
  s.value().writable_bytes()[10] = std::byte{42};
  EXPECT_EQ(ro.value().bytes()[10], std::byte{42});  // what read_only does not promise: stability
  EXPECT_EQ(shared_memory::map(dup(), page, shm_access::immutable).code(), errc::notsealed);
  EXPECT_EQ(shared_memory::map(dup(), page, shm_access::read_write).code(), errc::shmaccess);
}

TEST(ShmSegment, ReadOnlyDescriptorWithoutWriteSealMapsReadOnlyButNotImmutable) {
  test::fd_leak_check leaks;
  auto s = shared_memory::create(page);
  ASSERT_TRUE(s);
  auto ro =
      shared_memory::map(unique_fd(reopen(s.value().fd(), O_RDONLY)), page, shm_access::read_only);
  ASSERT_TRUE(ro) << to_string(ro.code());
  EXPECT_EQ(
      shared_memory::map(unique_fd(reopen(s.value().fd(), O_RDONLY)), page, shm_access::immutable)
          .code(),
      errc::notsealed);
  EXPECT_EQ(
      shared_memory::map(unique_fd(reopen(s.value().fd(), O_RDONLY)), page, shm_access::read_write)
          .code(),
      errc::shmaccess);
}

TEST(ShmSegment, HolesPunchedUnderAReadOnlyMappingReadAsZerosNotSigbus) {  // C27's limit
  test::fd_leak_check leaks;
  auto s = shared_memory::create(4 * page);
  ASSERT_TRUE(s);
  std::memset(s.value().writable_bytes().data(), 0x11, 4 * page);
  auto ro = shared_memory::map(unique_fd(reopen(s.value().fd(), O_RDONLY)), 4 * page,
                               shm_access::read_only);
  ASSERT_TRUE(ro) << to_string(ro.code());
  // Without a write seal the sender may still drop pages (the size seals allow it); the mapping
  // must survive that: it reads zeros, which is why read_only promises no stable contents.
  ASSERT_EQ(::fallocate(s.value().fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                        static_cast<off_t>(2 * page)),
            0);
  EXPECT_EQ(touch_every_page(ro.value().bytes().data(), ro.value().size()), 3u * 0x11);
  EXPECT_EQ(ro.value().bytes()[0], std::byte{0});
  // With the write seal the kernel refuses the same punch.
  auto sealed = shared_memory::create(page);
  ASSERT_TRUE(sealed);
  ASSERT_TRUE(sealed.value().seal(MON_SHM_SEAL_WRITE));
  EXPECT_NE(::fallocate(sealed.value().fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                        static_cast<off_t>(page)),
            0);
}

TEST(ShmSegment, BoundedMapTakesTheRealSizeUpToTheBound) {
  test::fd_leak_check leaks;
  auto s = shared_memory::create(3 * page);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s.value().seal(MON_SHM_SEAL_WRITE));
  auto dup = [&] { return unique_fd(::dup(s.value().fd())); };
  auto whole = shared_memory::map(dup(), 1, 16 * page, shm_access::immutable);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole.value().size(), 3 * page);
  auto capped = shared_memory::map(dup(), 1, page + 1, shm_access::immutable);
  ASSERT_TRUE(capped);
  EXPECT_EQ(capped.value().size(), page + 1);
  touch_every_page(whole.value().bytes().data(), whole.value().size());
  touch_every_page(capped.value().bytes().data(), capped.value().size());
}

TEST(ShmSegment, MovingTransfersTheMappingAndTheDescriptor) {
  test::fd_leak_check leaks;
  auto a = shared_memory::create(page);
  auto b = shared_memory::create(page);
  ASSERT_TRUE(a && b);
  const int fd_a = a.value().fd();
  shared_memory moved(std::move(a.value()));
  EXPECT_FALSE(a.value().valid());
  EXPECT_EQ(a.value().fd(), -1);
  EXPECT_EQ(moved.fd(), fd_a);
  b.value() = std::move(moved);  // b's old segment is unmapped and closed (the leak check sees it)
  EXPECT_EQ(b.value().fd(), fd_a);
  EXPECT_FALSE(moved.valid());
  b.value().reset();
  EXPECT_FALSE(b.value().valid());
}

class ShmRoundTrip : public ::testing::TestWithParam<int> {};

TEST_P(ShmRoundTrip, CApiCreateWriteSealSendReceiveMapRead) {
  test::fd_leak_check leaks;
  auto pair = test::make_pair(GetParam());
  mon_shm* s = nullptr;
  ASSERT_EQ(mon_shm_create(5 * page + 3, &s), MON_OK);
  auto* w = static_cast<unsigned char*>(mon_shm_writable_data(s));
  for (std::size_t i = 0; i < mon_shm_size(s); ++i) w[i] = static_cast<unsigned char>(i * 7);
  ASSERT_EQ(mon_shm_seal(s, MON_SHM_SEAL_WRITE | MON_SHM_SEAL_SEAL), MON_OK);

  mon_buffer* out = mon_buffer_new(0);
  ASSERT_EQ(mon_buffer_append(out, "shm", 3), MON_OK);
  ASSERT_EQ(mon_ipc_send_fd(pair.a.get(), out, mon_shm_fd(s)), MON_OK);
  mon_shm_free(s);  // the receiver's descriptor keeps the segment alive

  mon_buffer* in = mon_buffer_new(0);
  int fd = -1;
  ASSERT_EQ(mon_ipc_recv_fd(pair.b.get(), in, &fd), MON_OK);
  ASSERT_GE(fd, 0);
  mon_shm* r = nullptr;
  ASSERT_EQ(mon_shm_map(fd, 5 * page + 3, 5 * page + 3, MON_SHM_IMMUTABLE, &r), MON_OK);
  ASSERT_EQ(mon_shm_size(r), 5 * page + 3);
  EXPECT_EQ(mon_shm_writable_data(r), nullptr);
  const auto* p = static_cast<const unsigned char*>(mon_shm_data(r));
  for (std::size_t i = 0; i < mon_shm_size(r); ++i)
    ASSERT_EQ(p[i], static_cast<unsigned char>(i * 7)) << i;
  mon_shm_free(r);
  mon_buffer_free(in);
  mon_buffer_free(out);
}

TEST_P(ShmRoundTrip, CppSendMessageReceiveMessageMapReadOnly) {
  test::fd_leak_check leaks;
  auto pair = test::make_pair(GetParam());
  auto s = shared_memory::create(page);
  ASSERT_TRUE(s);
  std::memcpy(s.value().writable_bytes().data(), "segment", 7);
  ASSERT_TRUE(s.value().seal(MON_SHM_SEAL_FUTURE_WRITE | MON_SHM_SEAL_SEAL));
  message_buffer out;
  const int fds[] = {s.value().fd()};
  ASSERT_TRUE(send_message(pair.a.get(), out, fds));
  message_buffer in;
  fd_list got;
  ASSERT_TRUE(receive_message(pair.b.get(), in, got));
  ASSERT_EQ(got.size(), 1u);
  auto r = shared_memory::map(got.take(0), 7, page, shm_access::read_only);
  ASSERT_TRUE(r) << to_string(r.code());
  EXPECT_EQ(std::memcmp(r.value().bytes().data(), "segment", 7), 0);
}

INSTANTIATE_TEST_SUITE_P(StreamAndSeqpacket, ShmRoundTrip,
                         ::testing::Values(SOCK_STREAM, SOCK_SEQPACKET), test::socket_type_name);

// ---- ShmHostile: a forked peer sends what it likes -------------------------------------------

// Runs peer(sock) in a forked child that sends over one end of a socketpair, receives its one
// descriptor in this process, and hands it to mon_shm_map. Whatever got mapped has every page
// touched after the peer's after_map step (which may truncate the file) has run.
struct hostile_result {
  int rc = 0;
  std::size_t mapped = 0;
};

hostile_result run_hostile(const std::function<int(int)>& make_fd, std::size_t min_len,
                           std::size_t max_len, int access,
                           const std::function<int(int)>& after_map = {}) {
  hostile_result out;
  auto pair = test::make_pair(SOCK_STREAM);
  const pid_t child = test::fork_child([&]() -> int {
    pair.b.reset();
    const int fd = make_fd(pair.a.get());
    if (fd < 0) return 10;
    mon_buffer* msg = mon_buffer_new(0);
    if (msg == nullptr || mon_ipc_send_fd(pair.a.get(), msg, fd) != MON_OK) return 11;
    mon_buffer_free(msg);
    char go = 0;
    if (::read(pair.a.get(), &go, 1) != 1) return 12;  // the receiver has tried to map
    if (after_map && after_map(fd) != 0) return 13;
    if (::write(pair.a.get(), "k", 1) != 1) return 14;
    return 0;
  });
  pair.a.reset();
  mon_buffer* in = mon_buffer_new(0);
  int fd = -1;
  const int rc = mon_ipc_recv_fd(pair.b.get(), in, &fd);
  mon_buffer_free(in);
  EXPECT_EQ(rc, MON_OK);
  EXPECT_GE(fd, 0);
  mon_shm* s = nullptr;
  out.rc = mon_shm_map(fd, min_len, max_len, access, &s);
  if (out.rc != MON_OK) {
    EXPECT_EQ(s, nullptr);
  }
  EXPECT_EQ(::write(pair.b.get(), "g", 1), 1);
  char ack = 0;
  EXPECT_EQ(::read(pair.b.get(), &ack, 1), 1);  // the peer has done its worst
  if (s != nullptr) {
    out.mapped = mon_shm_size(s);
    touch_every_page(mon_shm_data(s), mon_shm_size(s));
    mon_shm_free(s);
  }
  EXPECT_EQ(test::wait_child(child), 0);
  return out;
}

int truncate_to_zero(int fd) { return ::ftruncate(fd, 0); }

// The control experiment: without the check, the attack works on this kernel. A child maps an
// unsealed memfd raw, the file is truncated, the child reads and dies of SIGBUS.
TEST(ShmHostile, ControlARawMappingOfATruncatedMemfdDiesOfSigbus) {
  const pid_t child = test::fork_child([]() -> int {
    // The default action, so the exit status names SIGBUS (ASan would otherwise report and abort).
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    if (::sigaction(SIGBUS, &dfl, nullptr) != 0) return 9;
    const int fd = raw_sealed_memfd(16 * page, 0);
    if (fd < 0) return 10;
    void* p = ::mmap(nullptr, 16 * page, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return 11;
    if (::ftruncate(fd, 0) != 0) return 12;
    touch_every_page(p, 16 * page);
    return 0;  // not reached on Linux
  });
  EXPECT_EQ(test::wait_child(child), 128 + SIGBUS);
}

TEST(ShmHostile, UnsealedMemfdThenTruncated) {  // C25, C30
  test::fd_leak_check leaks;
  auto r = run_hostile([](int) { return raw_sealed_memfd(16 * page, 0); }, 16 * page, 16 * page,
                       MON_SHM_READ_WRITE, truncate_to_zero);
  EXPECT_EQ(r.rc, MON_ERR_NOTSEALED);
  EXPECT_EQ(r.mapped, 0u);
}

TEST(ShmHostile, MemfdCreatedWithoutAllowSealing) {  // C28
  test::fd_leak_check leaks;
  auto r = run_hostile(
      [](int) {
        const int fd = raw_memfd(MFD_CLOEXEC);  // seals: F_SEAL_SEAL only, forever
        return fd >= 0 && ::ftruncate(fd, static_cast<off_t>(4 * page)) == 0 ? fd : -1;
      },
      4 * page, 4 * page, MON_SHM_READ_ONLY, truncate_to_zero);
  EXPECT_EQ(r.rc, MON_ERR_NOTSEALED);
}

TEST(ShmHostile, ShrinkSealedButGrowUnsealed) {
  test::fd_leak_check leaks;
  auto r = run_hostile([](int) { return raw_sealed_memfd(page, F_SEAL_SHRINK | F_SEAL_WRITE); },
                       page, page, MON_SHM_IMMUTABLE);
  EXPECT_EQ(r.rc, MON_ERR_NOTSEALED);
}

TEST(ShmHostile, SealedButSmallerThanClaimed) {  // C26
  test::fd_leak_check leaks;
  auto r = run_hostile(
      [](int) { return raw_sealed_memfd(page, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE); },
      16 * page, 16 * page, MON_SHM_IMMUTABLE);
  EXPECT_EQ(r.rc, MON_ERR_SHMSIZE);
  EXPECT_EQ(r.mapped, 0u);
}

TEST(ShmHostile, RegularFileOnDisk) {  // C28, A11
  test::fd_leak_check leaks;
  auto r = run_hostile(
      [](int) {
        char tmpl[] = "/tmp/monitor-shm-XXXXXX";
        const int fd = ::mkostemp(tmpl, O_CLOEXEC);
        if (fd < 0) return -1;
        ::unlink(tmpl);
        return ::ftruncate(fd, static_cast<off_t>(16 * page)) == 0 ? fd : -1;
      },
      16 * page, 16 * page, MON_SHM_READ_WRITE, truncate_to_zero);
  // A disk file has no seals at all; a tmpfs file (if /tmp is one) reports F_SEAL_SEAL only.
  struct statfs st {};
  ASSERT_EQ(::statfs("/tmp", &st), 0);
  EXPECT_EQ(r.rc, st.f_type == TMPFS_MAGIC ? MON_ERR_NOTSEALED : MON_ERR_BADSHM)
      << mon_strerror(r.rc);
  EXPECT_EQ(r.mapped, 0u);
}

TEST(ShmHostile, TmpfsFileThatIsNotAMemfd) {  // a /dev/shm file: shmem, but never sealable
  test::fd_leak_check leaks;
  if (::access("/dev/shm", W_OK) != 0) GTEST_SKIP() << "no writable /dev/shm";
  auto r = run_hostile(
      [](int) {
        char tmpl[] = "/dev/shm/monitor-shm-XXXXXX";
        const int fd = ::mkostemp(tmpl, O_CLOEXEC);
        if (fd < 0) return -1;
        ::unlink(tmpl);
        return ::ftruncate(fd, static_cast<off_t>(16 * page)) == 0 ? fd : -1;
      },
      16 * page, 16 * page, MON_SHM_READ_ONLY, truncate_to_zero);
  EXPECT_EQ(r.rc, MON_ERR_NOTSEALED);
}

TEST(ShmHostile, Pipe) {  // A11
  test::fd_leak_check leaks;
  auto r = run_hostile(
      [](int) {
        int p[2];
        return ::pipe2(p, O_CLOEXEC) == 0 ? p[0] : -1;
      },
      page, page, MON_SHM_READ_ONLY);
  EXPECT_EQ(r.rc, MON_ERR_BADSHM);
}

TEST(ShmHostile, Socket) {  // A8, A11
  test::fd_leak_check leaks;
  auto r = run_hostile([](int sock) { return sock; }, page, page, MON_SHM_READ_ONLY);
  EXPECT_EQ(r.rc, MON_ERR_BADSHM);
}

TEST(ShmHostile, Directory) {  // A11
  test::fd_leak_check leaks;
  auto r = run_hostile([](int) { return ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC); }, page,
                       page, MON_SHM_READ_ONLY);
  EXPECT_EQ(r.rc, MON_ERR_BADSHM);
}

TEST(ShmHostile, OPathDescriptorOfASealedMemfd) {  // A11
  test::fd_leak_check leaks;
  auto r = run_hostile(
      [](int) {
        const int fd = raw_sealed_memfd(page, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
        return fd < 0 ? -1 : reopen(fd, O_PATH);
      },
      page, page, MON_SHM_READ_ONLY);
  EXPECT_EQ(r.rc, MON_ERR_BADSHM);
}

TEST(ShmHostile, WritableSegmentWhereReadOnlyWasExpected) {  // C29
  test::fd_leak_check leaks;
  auto r = run_hostile([](int) { return raw_sealed_memfd(page, F_SEAL_SHRINK | F_SEAL_GROW); },
                       page, page, MON_SHM_READ_ONLY);
  EXPECT_EQ(r.rc, MON_ERR_SHMACCESS);
}

TEST(ShmHostile, WritableSegmentWhereImmutableWasExpected) {  // C27
  test::fd_leak_check leaks;
  auto r = run_hostile([](int) { return raw_sealed_memfd(page, F_SEAL_SHRINK | F_SEAL_GROW); },
                       page, page, MON_SHM_IMMUTABLE);
  EXPECT_EQ(r.rc, MON_ERR_NOTSEALED);
}

TEST(ShmHostile, FutureWriteSealWhereImmutableWasExpected) {  // C27: the sender still writes
  test::fd_leak_check leaks;
  auto r = run_hostile(
      [](int) { return raw_sealed_memfd(page, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE); },
      page, page, MON_SHM_IMMUTABLE);
  EXPECT_EQ(r.rc, MON_ERR_NOTSEALED);
}

TEST(ShmHostile, WriteOnlyDescriptor) {
  test::fd_leak_check leaks;
  auto r = run_hostile(
      [](int) {
        const int fd = raw_sealed_memfd(page, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
        return fd < 0 ? -1 : reopen(fd, O_WRONLY);
      },
      page, page, MON_SHM_READ_ONLY);
  EXPECT_EQ(r.rc, MON_ERR_SHMACCESS);
}

TEST(ShmHostile, HugetlbMemfd) {  // faults there can SIGBUS when the huge page pool runs dry
  test::fd_leak_check leaks;
  {
    const int probe = raw_memfd(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB);
    if (probe < 0) GTEST_SKIP() << "no hugetlb memfd: " << std::strerror(errno);
    ::close(probe);
  }
  auto r = run_hostile(
      [](int) {
        const int fd = raw_memfd(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB);
        if (fd < 0) return -1;
        // One huge page (2 MiB on x86-64); ftruncate rounds to the huge page size anyway.
        (void)::ftruncate(fd, 2 << 20);  // refused or not: the file system decides the verdict
        (void)::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
        return fd;
      },
      page, page, MON_SHM_READ_ONLY);
  EXPECT_EQ(r.rc, MON_ERR_BADSHM);
}

TEST(ShmHostile, HonestPeerStillWorksThroughTheSameHarness) {  // the harness can succeed
  test::fd_leak_check leaks;
  auto r = run_hostile(
      [](int) { return raw_sealed_memfd(4 * page, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE); },
      4 * page, 4 * page, MON_SHM_IMMUTABLE,
      [](int fd) { return ::ftruncate(fd, 0) == 0 ? 1 : 0; });  // the seal refuses the truncation
  EXPECT_EQ(r.rc, MON_OK);
  EXPECT_EQ(r.mapped, 4 * page);
}

}  // namespace
}  // namespace mon
