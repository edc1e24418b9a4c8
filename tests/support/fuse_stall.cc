// SPDX-License-Identifier: MIT
// The test's side of the FUSE stall harness: mounts, starts the server process, counts what it
// holds, tells it when to answer.
#include "support/fuse_stall.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#ifndef MONITOR_FUSE_STALL_SERVER
#error "MONITOR_FUSE_STALL_SERVER: path of the fuse_stall_server executable"
#endif

namespace mon::test {

unique_fd mount_stall_fs(const std::string& dir, bool allow_other, std::string& why_not) {
  if (::access("/dev/fuse", F_OK) != 0) {
    why_not = "no /dev/fuse on this machine (FUSE not available)";
    return {};
  }
  unique_fd dev(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
  if (!dev) {
    why_not = std::string("cannot open /dev/fuse: ") + std::strerror(errno);
    return {};
  }
  const std::string opts = "fd=" + std::to_string(dev.get()) +
                           ",rootmode=40000,user_id=0,group_id=0" +
                           (allow_other ? ",allow_other" : "");
  if (::mount("monitor-fuse-stall", dir.c_str(), "fuse", MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
    why_not =
        std::string("mounting a FUSE file system is not permitted here: ") + std::strerror(errno);
    return {};
  }
  return dev;
}

fuse_stall::fuse_stall(bool allow_other) {
  char tmpl[] = "/tmp/monitor-fuse-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    why_not_ = std::string("mkdtemp: ") + std::strerror(errno);
    return;
  }
  dir_ = tmpl;
  unique_fd dev = mount_stall_fs(dir_, allow_other, why_not_);
  if (!dev) return;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    why_not_ = std::string("socketpair: ") + std::strerror(errno);
    (void)::umount2(dir_.c_str(), MNT_DETACH);
    return;
  }
  unique_fd ours(sv[0]);
  unique_fd theirs(sv[1]);
  const pid_t parent = ::getpid();
  char path[] = MONITOR_FUSE_STALL_SERVER;
  char arg[] = "--serve";
  char* argv[] = {path, arg, nullptr};
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls until exec. Dies with the thread that made it.
    (void)::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    // Out of the way first (either may already be 3 or 4), then into place without CLOEXEC.
    const int d = ::fcntl(dev.get(), F_DUPFD, 10);
    const int c = ::fcntl(theirs.get(), F_DUPFD, 10);
    if (d < 0 || c < 0 || ::dup2(d, 3) < 0 || ::dup2(c, 4) < 0) ::_exit(1);
    ::execv(path, argv);
    ::_exit(127);
  }
  if (pid < 0) {
    why_not_ = std::string("fork: ") + std::strerror(errno);
    (void)::umount2(dir_.c_str(), MNT_DETACH);
    return;
  }
  // Only the server holds /dev/fuse from now on: its death aborts the connection.
  server_ = pid;
  control_ = std::move(ours);
}

fuse_stall::~fuse_stall() {
  if (server_ > 0) {
    release();         // whatever waits in the kernel for the server returns now
    control_.reset();  // the server exits: the connection is aborted, nothing more can wait
    int status;
    while (::waitpid(server_, &status, 0) < 0 && errno == EINTR) {
    }
    (void)::umount2(dir_.c_str(), MNT_DETACH);
  }
  if (!dir_.empty()) (void)::rmdir(dir_.c_str());
}

unique_fd fuse_stall::open_file() const {
  return unique_fd(::open(file_path().c_str(), O_RDONLY | O_CLOEXEC));
}

void fuse_stall::drain(int timeout_ms) {
  if (!control_) return;
  pollfd p{control_.get(), POLLIN, 0};
  while (::poll(&p, 1, timeout_ms) > 0) {
    char c;
    if (::recv(control_.get(), &c, 1, MSG_DONTWAIT) != 1) return;
    if (c == 'F') ++flushes_;
    if (c == 'L') ++lookups_;
    if (c == 'a') ++acks_;
    timeout_ms = 0;
  }
}

bool fuse_stall::wait_for_flushes(int n, std::chrono::milliseconds bound) {
  const auto end = std::chrono::steady_clock::now() + bound;
  for (drain(); flushes_ < n; drain(5)) {
    if (std::chrono::steady_clock::now() >= end) return false;
  }
  return true;
}

bool fuse_stall::wait_for_lookups(int n, std::chrono::milliseconds bound) {
  const auto end = std::chrono::steady_clock::now() + bound;
  for (drain(); lookups_ < n; drain(5)) {
    if (std::chrono::steady_clock::now() >= end) return false;
  }
  return true;
}

void fuse_stall::command(char c) {
  if (!control_) return;
  const int want = acks_ + 1;
  if (::send(control_.get(), &c, 1, MSG_NOSIGNAL) != 1) return;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (acks_ < want && std::chrono::steady_clock::now() < end) drain(10);
}

void fuse_stall::release() { command('R'); }
void fuse_stall::hold() { command('H'); }

}  // namespace mon::test
