// SPDX-License-Identifier: MIT
// The documented behaviour where memfd sealing is missing (docs/SHM.md, "Without memfd sealing"):
// this binary builds the shared-memory sources with MONITOR_FORCE_NO_MEMFD, the same stubs a BSD
// build gets, and checks that nothing is faked: create and map say MON_ERR_UNSUPPORTED, map
// nothing, and map still closes the descriptor it was given.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>

#include "monitor/monitor.h"
#include "monitor/refused_fds.hpp"
#include "monitor/shm.hpp"

namespace {

// A descriptor this test owns; -1 if the pipe could not be made.
int a_descriptor() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return -1;
  ::close(p[1]);
  return p[0];
}

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) >= 0 || errno != EBADF; }

TEST(ShmFallback, CreateIsUnsupported) {
  mon_shm* s = reinterpret_cast<mon_shm*>(&s);
  EXPECT_EQ(mon_shm_create(4096, &s), MON_ERR_UNSUPPORTED);
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(mon::shared_memory::create(4096).code(), mon::errc::unsupported);
}

void close_now(int fd, void* /*context*/) noexcept { ::close(fd); }

TEST(ShmFallback, MapIsUnsupportedAndStillConsumesTheDescriptor) {
  // A refused descriptor is disposed of, not closed here; closed at once by this handler, so the
  // test can see it gone (the default closer threads would close it a moment later).
  mon::set_refused_fd_handler(&close_now, nullptr);
  const int fd = a_descriptor();
  ASSERT_GE(fd, 0);
  mon_shm* s = nullptr;
  EXPECT_EQ(mon_shm_map(fd, 4096, 4096, MON_SHM_READ_ONLY, &s), MON_ERR_UNSUPPORTED);
  EXPECT_EQ(s, nullptr);
  EXPECT_FALSE(is_open(fd));
  const int fd2 = a_descriptor();
  ASSERT_GE(fd2, 0);
  auto r = mon::shared_memory::map(mon::unique_fd(fd2), 4096, mon::shm_access::immutable);
  EXPECT_EQ(r.code(), mon::errc::unsupported);
  EXPECT_FALSE(is_open(fd2));
}

}  // namespace
