// SPDX-License-Identifier: MIT
// A FUSE file system served by the tests, over /dev/fuse directly (no libfuse), that plays
// the hostile peer of SECURITY.md "A peer's descriptors are attack surface": it holds every FLUSH
// request (what close() waits for) and every LOOKUP of the name "block" until the test releases
// them. Nothing else is stalled, so opening "file" works and closing it hangs.
//
// The kernel waits for a FLUSH answer uninterruptibly (not even SIGKILL ends that wait), so the
// destructor always answers what it holds, and ends the server (aborting the connection) before it
// unmounts: no thread of the test stays blocked once the harness is gone.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include "monitor/unique_fd.hpp"

namespace mon::test {

// Mounts the stall file system at dir (an empty directory) and returns the /dev/fuse descriptor
// that serves it; none, with the reason in why_not, where that is not possible.
unique_fd mount_stall_fs(const std::string& dir, bool allow_other, std::string& why_not);

// The test's side. The server runs in its own process (tests/support/fuse_stall_server.cc), killed
// with this one (PR_SET_PDEATHSIG): were the server a thread of the test, a test process dying with
// a thread inside close() could never finish exiting, since the /dev/fuse descriptor it would have
// to close to abort the connection is in its own table.
class fuse_stall {
 public:
  // Mounts at a fresh directory under /tmp. available() says whether that worked; where it did not
  // (no /dev/fuse, no permission to mount), why_not() is the reason to print with GTEST_SKIP.
  // allow_other lets other uids use the mount.
  explicit fuse_stall(bool allow_other = false);
  // Answers every held request, stops the server (which aborts the connection) and unmounts.
  ~fuse_stall();
  fuse_stall(const fuse_stall&) = delete;
  fuse_stall& operator=(const fuse_stall&) = delete;

  [[nodiscard]] bool available() const { return server_ > 0; }
  [[nodiscard]] const std::string& why_not() const { return why_not_; }
  [[nodiscard]] const std::string& mount_point() const { return dir_; }
  // The regular file whose FLUSH is held (mode 0666, empty).
  [[nodiscard]] std::string file_path() const { return dir_ + "/file"; }
  // A name whose LOOKUP is held: opening mount_point()/block stalls in the path walk.
  [[nodiscard]] std::string blocking_path() const { return dir_ + "/block"; }

  // Opens file_path() read-only, close-on-exec (what a hostile peer would pass).
  [[nodiscard]] unique_fd open_file() const;

  // Requests held so far (FLUSH, and LOOKUP of "block"), and a bounded wait for at least n.
  [[nodiscard]] int flushes_held() { return drain(), flushes_; }
  [[nodiscard]] int lookups_held() { return drain(), lookups_; }
  bool wait_for_flushes(int n, std::chrono::milliseconds bound);
  bool wait_for_lookups(int n, std::chrono::milliseconds bound);

  // Answers every held request (FLUSH with success, "block" with ENOENT) and every later one at
  // once: whatever waited returns. Returns once the answers are written.
  void release();
  // Holds requests again from now on (to let the test close its own copy of a file it has just
  // sent: release(), close, hold()).
  void hold();

 private:
  void drain(int timeout_ms = 0);
  void command(char c);

  std::string dir_;
  std::string why_not_;
  pid_t server_ = -1;
  unique_fd control_;  // SOCK_SEQPACKET to the server: commands out, events and acks in
  int flushes_ = 0;
  int lookups_ = 0;
  int acks_ = 0;
};

}  // namespace mon::test
