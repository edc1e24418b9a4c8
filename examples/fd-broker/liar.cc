// SPDX-License-Identifier: MIT
// fd-broker-liar MODE SOCKET: hostile clients for the end-to-end test. Each mode tries to get past
// the broker's authentication or request checks in one way; the exit status is 0 when the broker
// refused as it must, 1 when the lie worked (a bug), 2 when the test itself could not run.
//
//   forged-creds   (run as root) connects, then sends the hello with SCM_CREDENTIALS claiming uid
//                  and gid 65534: the kernel lets root claim them, the broker must not believe them
//                  (they disagree with SO_PEERCRED) and must answer deny(credentials).
//   setuid-after-connect (run as root) connects as root, drops to uid/gid 65534, then handshakes:
//                  SO_PEERCRED (root, at connect) and the hello's credentials disagree: deny.
//   pass-socket    connects, then hands the socket to a forked child that runs the handshake: a
//                  different process than the one that connected (confused deputy): deny.
//   fd-in-request  handshakes, then sends a request with a descriptor attached: the broker must
//                  drop the connection.
//   idle           connects and never speaks: the broker must close it (handshake timeout).
//   flood N        opens N connections at once and waits until the broker closed every one.
//   hold N K       opens N connections at once, waits (at most 5 s) until the broker has closed K
//                  of them, says so on stdout, then keeps the rest open until stdin ends.
//   unread N PATH  sends N requests for a granted PATH without reading replies: the broker must
//                  keep at most one descriptor in flight for it (one FDB_OK, N-1 FDB_BUSY).
//   lease PATH     takes a write lease on PATH (its own file, inside its grant), ignores the break
//                  and requests PATH: the broker must answer FDB_BUSY at once.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "broker_protocol.h"
#include "monitor/monitor.hpp"

namespace {

const char* g_socket = nullptr;

int connect_broker() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (std::strlen(g_socket) >= sizeof addr.sun_path) return -1;
  std::memcpy(addr.sun_path, g_socket, std::strlen(g_socket));
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{10, 0};  // nothing here may hang the test
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Waits (at most 20 s) until the broker closes fd. True on end of file or reset.
bool wait_closed(int fd) {
  pollfd p{fd, POLLIN, 0};
  char byte;
  for (int i = 0; i < 200; ++i) {
    if (::poll(&p, 1, 100) > 0) {
      const ssize_t n = ::recv(fd, &byte, 1, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
      if (n > 0) return false;  // the broker said something: not a close
    }
  }
  return false;
}

int handshake_result(int fd, const char* mode) {
  mon::client_handshake hs(fd);
  const auto r = hs.step();
  if (r && r.value() == mon::progress::done) {
    std::printf("liar %s: ACCEPTED (the lie worked)\n", mode);
    return 1;
  }
  const bool cred =
      !r && r.code() == mon::errc::denied && hs.reason() == mon::deny_reason::credentials;
  std::printf("liar %s: refused: %s, reason %d\n", mode, r ? "want" : mon::to_string(r.code()),
              static_cast<int>(hs.reason()));
  return cred ? 0 : 1;
}

int forged_creds() {
  const int fd = connect_broker();
  if (fd < 0) return std::perror("connect"), 2;
  const unsigned char hello[8] = {0x6d, 0x6f, 0x6e, 0x48, 0x01, 0x01, 0x00, 0x00};
  iovec iov{const_cast<unsigned char*>(hello), sizeof hello};
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(ucred))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_CREDENTIALS;
  c->cmsg_len = CMSG_LEN(sizeof(ucred));
  const ucred claim{::getpid(), 65534, 65534};  // root may claim these; they are not who connected
  std::memcpy(CMSG_DATA(c), &claim, sizeof claim);
  if (::sendmsg(fd, &msg, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof hello))
    return std::perror("sendmsg (forged credentials need root)"), 2;
  unsigned char reply[16];
  std::size_t got = 0;
  while (got < sizeof reply) {
    const ssize_t n = ::recv(fd, reply + got, sizeof reply - got, 0);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  // deny(credentials): "monH" 01 03 0002 0001
  if (got == 10 && reply[5] == 0x03 && reply[8] == 0 && reply[9] == 1) {
    std::printf("liar forged-creds: refused: deny reason 1 (credentials)\n");
    return 0;
  }
  std::printf("liar forged-creds: unexpected reply (%zu bytes, type %d)\n", got,
              got > 5 ? reply[5] : -1);
  return 1;
}

int setuid_after_connect() {
  const int fd = connect_broker();
  if (fd < 0) return std::perror("connect"), 2;
  if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)
    return std::perror("setresuid (needs root)"), 2;
  (void)::prctl(PR_SET_DUMPABLE, 1);  // so LeakSanitizer can still inspect us at exit
  const int rc = handshake_result(fd, "setuid-after-connect");
  ::close(fd);
  return rc;
}

int pass_socket() {
  const int fd = connect_broker();
  if (fd < 0) return std::perror("connect"), 2;
  const pid_t child = ::fork();
  if (child < 0) return std::perror("fork"), 2;
  if (child == 0) {  // same uid, another process than the one that connected
    const int rc = handshake_result(fd, "pass-socket");
    std::fflush(stdout);
    _exit(rc);
  }
  ::close(fd);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

int fd_in_request() {
  const int fd = connect_broker();
  if (fd < 0) return std::perror("connect"), 2;
  mon::client_handshake hs(fd);
  if (auto r = hs.step(); !r || r.value() != mon::progress::done)
    return std::printf("liar fd-in-request: handshake failed (%s)\n",
                       r ? "want" : mon::to_string(r.code())),
           2;
  mon::message_buffer req;
  const std::byte op[] = {std::byte{FDB_OP_OPEN}, std::byte{'/'}, std::byte{'x'}};
  const int attach[] = {STDIN_FILENO};
  if (!req.append(op)) return 2;
  if (auto r = mon::send_message(fd, req, attach); !r) return 2;
  const bool closed = wait_closed(fd);
  ::close(fd);
  std::printf("liar fd-in-request: %s\n", closed ? "refused: connection dropped" : "NOT dropped");
  return closed ? 0 : 1;
}

int idle() {
  const int fd = connect_broker();
  if (fd < 0) return std::perror("connect"), 2;
  timespec t0{}, t1{};
  ::clock_gettime(CLOCK_MONOTONIC, &t0);
  const bool closed = wait_closed(fd);
  ::clock_gettime(CLOCK_MONOTONIC, &t1);
  ::close(fd);
  const long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  std::printf("liar idle: %s after %ld ms\n", closed ? "refused: dropped" : "NOT dropped", ms);
  return closed ? 0 : 1;
}

int flood(int n) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    const int fd = connect_broker();
    if (fd < 0) break;  // a full backlog may refuse connect: that is a refusal too
    fds.push_back(fd);
  }
  int closed = 0;
  for (int fd : fds) {
    closed += wait_closed(fd) ? 1 : 0;
    ::close(fd);
  }
  std::printf("liar flood: %d connections opened, %d closed by the broker\n",
              static_cast<int>(fds.size()), closed);
  return static_cast<int>(fds.size()) == n && closed == n ? 0 : 1;
}

int hold(int n, int k) {
  std::vector<pollfd> open;
  for (int i = 0; i < n; ++i) {
    const int fd = connect_broker();
    if (fd < 0) return std::perror("connect"), 2;
    open.push_back({fd, POLLIN, 0});
  }
  int closed = 0;
  for (int round = 0; round < 50 && closed < k; ++round) {
    if (::poll(open.data(), open.size(), 100) <= 0) continue;
    for (auto& p : open) {
      if (p.fd < 0 || p.revents == 0) continue;
      char byte;
      const ssize_t got = ::recv(p.fd, &byte, 1, MSG_DONTWAIT);
      if (got == 0 || (got < 0 && errno == ECONNRESET)) {
        ::close(p.fd);
        p.fd = -1;  // poll ignores it from now on
        ++closed;
      }
    }
  }
  std::printf("liar hold: %d opened, %d closed by the broker, %d held\n", n, closed, n - closed);
  std::fflush(stdout);
  char sink[64];
  while (::read(0, sink, sizeof sink) > 0) {
  }
  for (const auto& p : open)
    if (p.fd >= 0) ::close(p.fd);
  return closed == k ? 0 : 1;
}

// Handshake on a fresh connection; -1 on failure.
int authenticated() {
  const int fd = connect_broker();
  if (fd < 0) return -1;
  mon::client_handshake hs(fd);
  if (auto r = hs.step(); !r || r.value() != mon::progress::done) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_request(int fd, const char* path) {
  mon::message_buffer req;
  const std::byte op[] = {std::byte{FDB_OP_OPEN}};
  return req.append(op) &&
         req.append(std::as_bytes(std::span<const char>(path, std::strlen(path)))) &&
         mon::send_message(fd, req);
}

// One reply: its status, and whether a descriptor came with it. -1 on error.
// rep is the connection's receive buffer: one for the connection's whole life, since a stream
// receive may read the next reply ahead into it (docs/PROTOCOL.md, "Read-ahead").
int read_reply(int fd, mon::message_buffer& rep, bool& had_fd) {
  mon::fd_list fds;
  const auto r = mon::receive_message(fd, rep, fds, 1);
  if (!r || r.value() != mon::progress::done || rep.size() != FDB_REPLY_LEN) return -1;
  had_fd = !fds.empty();
  return static_cast<int>(rep.data()[0]);
}

// unread N PATH: N requests for a granted PATH without reading a reply in between. The broker
// must keep at most one descriptor in flight for us: one FDB_OK, then FDB_BUSY.
int unread(int n, const char* path) {
  const int fd = authenticated();
  if (fd < 0) return std::printf("liar unread: handshake failed\n"), 2;
  for (int i = 0; i < n; ++i)
    if (!send_request(fd, path)) return std::printf("liar unread: send failed\n"), 2;
  ::usleep(300 * 1000);  // let the broker answer all of them while nothing is read
  int with_fd = 0, busy = 0;
  mon::message_buffer rep;
  for (int i = 0; i < n; ++i) {
    bool had = false;
    const int st = read_reply(fd, rep, had);
    if (st < 0) return std::printf("liar unread: reply %d unreadable\n", i), 2;
    with_fd += had ? 1 : 0;
    busy += st == FDB_BUSY ? 1 : 0;
  }
  ::close(fd);
  std::printf("liar unread: %d requests, %d descriptors, %d busy\n", n, with_fd, busy);
  return with_fd == 1 && busy == n - 1 ? 0 : 1;
}

// lease PATH: takes a write lease on PATH (a file we own, inside our grant), ignores the break,
// and asks the broker for it. The broker must answer FDB_BUSY at once, not sleep in the break.
int lease(const char* path) {
  (void)::signal(SIGIO, SIG_IGN);  // the lease-break notice: ignored, as an attacker would
  const int file = ::open(path, O_RDWR | O_CLOEXEC);
  if (file < 0 || ::fcntl(file, F_SETLEASE, F_WRLCK) != 0)
    return std::perror("liar lease: F_SETLEASE"), 2;
  const int fd = authenticated();
  if (fd < 0) return std::printf("liar lease: handshake failed\n"), 2;
  timespec t0{}, t1{};
  ::clock_gettime(CLOCK_MONOTONIC, &t0);
  bool had = false;
  mon::message_buffer rep;
  const int st = send_request(fd, path) ? read_reply(fd, rep, had) : -1;
  ::clock_gettime(CLOCK_MONOTONIC, &t1);
  const long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  std::printf("liar lease: status %d after %ld ms\n", st, ms);
  ::close(fd);
  ::close(file);
  return st == FDB_BUSY && !had && ms < 2000 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return std::fprintf(stderr, "usage: fd-broker-liar MODE SOCKET [N [K]]\n"), 2;
  const std::string_view mode = argv[1];
  g_socket = argv[2];
  if (mode == "forged-creds") return forged_creds();
  if (mode == "setuid-after-connect") return setuid_after_connect();
  if (mode == "pass-socket") return pass_socket();
  if (mode == "fd-in-request") return fd_in_request();
  if (mode == "idle") return idle();
  if (mode == "hold" && argc == 5) {
    const int n = std::atoi(argv[3]), k = std::atoi(argv[4]);
    if (n >= 1 && n <= 1000 && k >= 0 && k <= n) return hold(n, k);
  }
  if (mode == "flood" && argc == 4) return flood(std::atoi(argv[3]));
  if (mode == "unread" && argc == 5) return unread(std::atoi(argv[3]), argv[4]);
  if (mode == "lease" && argc == 4) return lease(argv[3]);
  return std::fprintf(stderr, "unknown mode\n"), 2;
}
