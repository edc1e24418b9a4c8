// SPDX-License-Identifier: MIT
// Load and soak (SECURITY.md, "Load and soak"): a benchmark-style program, not a unit test.
//
//   phase 1: N descriptors passed one per message over a socketpair (sender thread -> receiver),
//            each received descriptor checked and closed;
//   phase 2: M handshakes through a non-blocking epoll server, with C clients in flight at once
//            (a second epoll loop drives the clients, also non-blocking).
//
// Reports, per phase: descriptors open and RSS before and after, errors seen, time taken. Bounded
// by --seconds (the run stops and says so). Exit status 0 only if every operation succeeded and
// the process ends with as many descriptors as it started with.
//
//   soak [--fds N] [--handshakes M] [--clients C] [--seconds T]
//   defaults: 1000000 descriptors, 100000 handshakes, 1000 clients, 600 s
#include <dirent.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "monitor/monitor.h"

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  long fds = 1000000;
  long handshakes = 100000;
  int clients = 1000;
  int seconds = 600;
};

int open_fds() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n - 1;  // the directory stream itself
}

long rss_kib() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

struct snapshot {
  int fds;
  long rss;
  clock_type::time_point t;
};
snapshot take() { return {open_fds(), rss_kib(), clock_type::now()}; }

void report(const char* phase, const snapshot& a, const snapshot& b, long done, long wanted,
            long errors, const char* unit) {
  const double s = std::chrono::duration<double>(b.t - a.t).count();
  std::printf("%s: %ld/%ld %s in %.2f s (%.0f per second), errors %ld\n", phase, done, wanted, unit,
              s, s > 0 ? static_cast<double>(done) / s : 0.0, errors);
  std::printf("%s: descriptors open %d -> %d, RSS %ld KiB -> %ld KiB\n", phase, a.fds, b.fds, a.rss,
              b.rss);
}

// ---- phase 1: descriptor passing ----------------------------------------------------------------

bool pass_descriptors(const options& o, clock_type::time_point deadline) {
  const snapshot before = take();
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return false;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return false;
  std::atomic<bool> stop{false};
  std::atomic<long> send_errors{0};
  std::thread sender([&] {
    mon_buffer* msg = mon_buffer_new(0);
    (void)mon_buffer_append(msg, "fd", 2);
    for (long i = 0; i < o.fds && !stop.load(std::memory_order_relaxed); ++i)
      if (mon_ipc_send_fd(sv[0], msg, p[1]) != MON_OK) ++send_errors;
    mon_buffer_free(msg);
  });
  mon_buffer* in = mon_buffer_new(0);
  long received = 0, errors = 0;
  struct stat want {};
  (void)::fstat(p[1], &want);
  while (received + errors + send_errors.load() < o.fds) {
    if ((received & 0xFFF) == 0 && clock_type::now() > deadline) break;
    int fd = -1;
    const int rc = mon_ipc_recv_fd(sv[1], in, &fd);
    struct stat got {};
    if (rc != MON_OK || fd < 0 || ::fstat(fd, &got) != 0 || got.st_ino != want.st_ino) {
      ++errors;
    } else {
      ++received;
    }
    if (fd >= 0) ::close(fd);
  }
  stop = true;
  ::shutdown(sv[1], SHUT_RDWR);  // a sender blocked on a full socket wakes up
  sender.join();
  mon_buffer_free(in);
  ::close(sv[0]);
  ::close(sv[1]);
  ::close(p[0]);
  ::close(p[1]);
  const snapshot after = take();
  report("descriptors", before, after, received, o.fds, errors + send_errors.load(), "passed");
  return received == o.fds && errors == 0 && send_errors.load() == 0 && after.fds == before.fds;
}

// ---- phase 2: handshakes through an epoll server -----------------------------------------------

struct server_conn {
  int fd = -1;
  void* st = nullptr;
  mon_ipc_creds creds{};
};

struct client_conn {
  int fd = -1;
  void* st = nullptr;
};

unsigned events_for(int rc) { return rc == MON_WANT_WRITE ? EPOLLOUT : EPOLLIN; }

// The server: accepts everything, runs each handshake as far as the socket allows, and counts.
void run_server(int listen_fd, long wanted, clock_type::time_point deadline, std::atomic<long>& ok,
                std::atomic<long>& errors, std::atomic<bool>& stop) {
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event lev{EPOLLIN, {.fd = listen_fd}};
  (void)::epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &lev);
  std::unordered_map<int, server_conn*> conns;
  const pid_t self = ::getpid();
  auto finish = [&](server_conn* c, int rc) {
    if (rc == MON_OK && c->creds.pid == self) {
      ++ok;
    } else {
      ++errors;
    }
    mon_ipc_auth_server_end(c->st);
    (void)::epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
    ::close(c->fd);
    conns.erase(c->fd);
    delete c;
  };
  auto drive = [&](server_conn* c) {
    int rc;
    while ((rc = mon_ipc_auth_server_step(c->fd, c->st)) == MON_CONTINUE) {
    }
    if (rc == MON_WANT_READ || rc == MON_WANT_WRITE) {
      epoll_event ev{events_for(rc), {.fd = c->fd}};
      (void)::epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
      return;
    }
    finish(c, rc);
  };
  std::vector<epoll_event> ready(256);
  while (ok.load() + errors.load() < wanted && !stop.load() && clock_type::now() < deadline) {
    const int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 100);
    for (int i = 0; i < n; ++i) {
      const int fd = ready[i].data.fd;
      if (fd == listen_fd) {
        for (;;) {
          const int cfd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (cfd < 0) break;
          auto* c = new server_conn;
          c->fd = cfd;
          conns[cfd] = c;
          epoll_event ev{EPOLLIN, {.fd = cfd}};
          (void)::epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
          if (mon_ipc_auth_server_init(cfd, &c->creds, &c->st) != MON_CONTINUE) {
            finish(c, MON_ERR_INVALID);
            continue;
          }
          drive(c);
        }
      } else if (auto it = conns.find(fd); it != conns.end()) {
        drive(it->second);
      }
    }
  }
  for (auto& [fd, c] : conns) {
    mon_ipc_auth_server_end(c->st);
    ::close(fd);
    delete c;
  }
  ::close(ep);
}

// The clients: keep `clients` handshakes in flight until `wanted` have been started.
void run_clients(const sockaddr_un& addr, const options& o, clock_type::time_point deadline,
                 std::atomic<long>& errors, std::atomic<bool>& stop) {
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::unordered_map<int, client_conn> conns;
  long started = 0;
  auto finish = [&](int fd, int rc) {
    if (rc != MON_OK) ++errors;
    mon_ipc_auth_client_end(conns[fd].st);
    (void)::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns.erase(fd);
  };
  auto drive = [&](int fd) {
    int rc;
    while ((rc = mon_ipc_auth_client_step(fd, conns[fd].st)) == MON_CONTINUE) {
    }
    if (rc == MON_WANT_READ || rc == MON_WANT_WRITE) {
      epoll_event ev{events_for(rc), {.fd = fd}};
      (void)::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
      return;
    }
    finish(fd, rc);
  };
  std::vector<epoll_event> ready(256);
  while ((started < o.handshakes || !conns.empty()) && !stop.load() &&
         clock_type::now() < deadline) {
    // Top up to `clients` in flight. A full backlog (EAGAIN) just waits for the next round.
    while (started < o.handshakes && static_cast<int>(conns.size()) < o.clients) {
      const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) break;
      if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        if (errno != EAGAIN) ++errors;
        break;
      }
      ++started;
      client_conn c;
      c.fd = fd;
      if (mon_ipc_auth_client_init(fd, &c.st) != MON_CONTINUE) {
        ++errors;
        ::close(fd);
        continue;
      }
      conns[fd] = c;
      epoll_event ev{EPOLLOUT, {.fd = fd}};
      (void)::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
      drive(fd);
    }
    const int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 10);
    for (int i = 0; i < n; ++i)
      if (conns.count(ready[i].data.fd) != 0) drive(ready[i].data.fd);
  }
  for (auto& [fd, c] : conns) {
    mon_ipc_auth_client_end(c.st);
    ::close(fd);
  }
  ::close(ep);
}

bool many_handshakes(const options& o, clock_type::time_point deadline) {
  char dir[] = "/tmp/monitor-soak-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s/sock", dir);
  const int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0 || ::bind(lfd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(lfd, SOMAXCONN) != 0)
    return false;
  const snapshot before = take();
  std::atomic<long> ok{0}, server_errors{0}, client_errors{0};
  std::atomic<bool> stop{false};
  std::thread server([&] { run_server(lfd, o.handshakes, deadline, ok, server_errors, stop); });
  run_clients(addr, o, deadline, client_errors, stop);
  // The clients are done; give the server the rest of the deadline to see every last one.
  server.join();
  const snapshot after = take();
  ::close(lfd);
  ::unlink(addr.sun_path);
  ::rmdir(dir);
  report("handshakes", before, after, ok.load(), o.handshakes, server_errors + client_errors,
         "completed (server side, peer pid verified)");
  std::printf("handshakes: errors server %ld, client %ld; %d clients in flight\n",
              server_errors.load(), client_errors.load(), o.clients);
  return ok.load() == o.handshakes && server_errors == 0 && client_errors == 0 &&
         after.fds == before.fds;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const long v = std::strtol(argv[i + 1], nullptr, 10);
    if (k == "--fds")
      o.fds = v;
    else if (k == "--handshakes")
      o.handshakes = v;
    else if (k == "--clients")
      o.clients = static_cast<int>(v);
    else if (k == "--seconds")
      o.seconds = static_cast<int>(v);
    else {
      std::fprintf(stderr, "usage: %s [--fds N] [--handshakes M] [--clients C] [--seconds T]\n",
                   argv[0]);
      return 2;
    }
  }
  // Each in-flight handshake holds a client socket, a server socket and the server's pidfd.
  rlimit r{};
  (void)::getrlimit(RLIMIT_NOFILE, &r);
  const rlim_t need = static_cast<rlim_t>(o.clients) * 3 + 64;
  if (r.rlim_cur < need && r.rlim_max >= need) {
    r.rlim_cur = need;
    (void)::setrlimit(RLIMIT_NOFILE, &r);
  }
  const auto start = clock_type::now();
  const auto deadline = start + std::chrono::seconds(o.seconds);
  const snapshot first = take();
  std::printf("soak: %ld descriptors, %ld handshakes with %d clients, at most %d s\n", o.fds,
              o.handshakes, o.clients, o.seconds);
  const bool fds_ok = pass_descriptors(o, deadline);
  const bool hs_ok = many_handshakes(o, deadline);
  const snapshot last = take();
  const bool timed_out = clock_type::now() > deadline;
  std::printf("soak: total descriptors open %d -> %d, RSS %ld KiB -> %ld KiB%s\n", first.fds,
              last.fds, first.rss, last.rss, timed_out ? " (stopped at the time bound)" : "");
  const bool ok = fds_ok && hs_ok && last.fds == first.fds && !timed_out;
  std::printf("soak: %s\n", ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}
