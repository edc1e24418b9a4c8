// SPDX-License-Identifier: MIT
#include "support/test_support.hpp"

#include "monitor/refused_fds.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "frame/frame.hpp"

namespace mon::test {

int open_fd_count() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) throw std::runtime_error("opendir /proc/self/fd");
  int n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the directory stream's own descriptor
}

fd_leak_check::fd_leak_check() : before_(open_fd_count()) {}
fd_leak_check::~fd_leak_check() { EXPECT_EQ(open_fd_count(), before_) << "descriptor leak"; }

socket_pair make_pair(int type, bool nonblocking) {
  int sv[2];
  int flags = type | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  if (::socketpair(AF_UNIX, flags, 0, sv) != 0) throw std::runtime_error("socketpair");
  return {unique_fd(sv[0]), unique_fd(sv[1])};
}

void set_nonblocking(int fd, bool on) {
  int fl = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

bool is_cloexec(int fd) { return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

bool same_file(int a, int b) {
  struct stat sa {
  }, sb{};
  if (::fstat(a, &sa) != 0 || ::fstat(b, &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

listener::listener(int type) : type_(type) {
  char tmpl[] = "/tmp/monitor-test-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
  ::chmod(tmpl, 0755);  // a client that dropped privileges must still reach the socket
  dir_ = tmpl;
  path_ = dir_ + "/sock";
  fd_.reset(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
  if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::chmod(path_.c_str(), 0777) != 0 || ::listen(fd_.get(), 128) != 0)
    throw std::runtime_error("bind/listen");
}

listener::~listener() {
  ::unlink(path_.c_str());
  ::rmdir(dir_.c_str());
}

unique_fd listener::accept() const {
  int fd;
  do {
    fd = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return unique_fd(fd);
}

unique_fd listener::connect() const {
  unique_fd fd(::socket(AF_UNIX, type_ | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return unique_fd();
  return fd;
}

pid_t fork_child(const std::function<int()>& fn, unsigned timeout_s) {
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    ::alarm(timeout_s);
    int rc = 99;
    try {
      rc = fn();
    } catch (...) {
    }
    ::_exit(rc);
  }
  return pid;
}

int wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

void raw_send(int fd, std::span<const std::uint8_t> bytes, std::span<const int> fds, int flags) {
  std::vector<std::vector<int>> headers;
  if (!fds.empty()) headers.emplace_back(fds.begin(), fds.end());
  (void)flags;
  raw_send_headers(fd, bytes, headers, false);
}

ssize_t raw_sendmsg(int fd, std::span<const std::uint8_t> bytes,
                    const std::vector<std::vector<int>>& rights_headers, const ucred* creds) {
  std::vector<std::uint8_t> control;
  auto put = [&control](int type, const void* data, std::size_t len) {
    const std::size_t off = control.size();
    control.resize(off + CMSG_SPACE(len));
    cmsghdr c{};
    c.cmsg_len = CMSG_LEN(len);
    c.cmsg_level = SOL_SOCKET;
    c.cmsg_type = type;
    std::memcpy(control.data() + off, &c, sizeof c);
    if (len > 0) std::memcpy(control.data() + off + CMSG_LEN(0), data, len);
  };
  for (const auto& h : rights_headers) put(SCM_RIGHTS, h.data(), h.size() * sizeof(int));
  if (creds != nullptr) put(SCM_CREDENTIALS, creds, sizeof *creds);
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.empty() ? nullptr : control.data();
  msg.msg_controllen = control.size();
  ssize_t n;
  do {
    n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n;
}

void raw_send_headers(int fd, std::span<const std::uint8_t> bytes,
                      const std::vector<std::vector<int>>& rights_headers, bool with_creds) {
  const ucred own{::getpid(), ::geteuid(), ::getegid()};
  if (raw_sendmsg(fd, bytes, rights_headers, with_creds ? &own : nullptr) !=
      static_cast<ssize_t>(bytes.size()))
    throw std::runtime_error(std::string("raw sendmsg: ") + std::strerror(errno));
}

std::vector<std::uint8_t> frame_bytes(std::uint8_t num_fds, std::uint32_t payload_len,
                                      std::span<const std::uint8_t> payload) {
  const auto h = frame::encode_header({num_fds, payload_len});
  std::vector<std::uint8_t> out(h.size() + payload.size());
  std::copy(h.begin(), h.end(), out.begin());
  if (!payload.empty()) std::memcpy(out.data() + h.size(), payload.data(), payload.size());
  return out;
}

unique_fd some_fd() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  ::close(p[1]);
  return unique_fd(p[0]);
}

}  // namespace mon::test

namespace {
// The library hands refused peer descriptors to closer threads by default (sys/discard.cc), so a
// test that counts open descriptors right after a refusal would race them. The suites install a
// handler that closes at once: the count then proves every refused descriptor reached the
// disposal path. tests/hostile/fuse_close_test.cc puts the default back to test it.
void close_now(int fd, void* /*context*/) noexcept { ::close(fd); }
[[maybe_unused]] const bool refused_closed_inline = [] {
  mon::set_refused_fd_handler(&close_now, nullptr);
  return true;
}();
}  // namespace
