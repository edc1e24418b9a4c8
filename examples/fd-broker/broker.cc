// SPDX-License-Identifier: MIT
// fd-broker: opens files on behalf of authenticated local clients and passes them the descriptor.
//
//   fd-broker [--max-conns N] [--max-conns-per-uid N] [--handshake-timeout-ms N]
//             [--idle-timeout-ms N] [--socket-mode OCTAL] [--keep-privileges] SOCKET POLICY
//
// Meant to run as root. One thread, one epoll loop, level-triggered. Each connection is a small
// state machine: handshake (monitor's server_handshake, non-blocking steps mapped to EPOLLIN /
// EPOLLOUT) -> read request -> write reply -> read request ... A connection that has not finished
// its handshake within the handshake timeout is dropped; an authenticated one idle for longer than
// the idle timeout too. At most --max-conns connections exist at once, and at most
// --max-conns-per-uid from one uid (the connector's, from SO_PEERCRED); more are accepted and
// closed at once. SIGTERM/SIGINT stop the broker (the socket file is removed); SIGHUP reloads the
// policy (a policy that fails to load leaves the old one in force). Once the socket exists, a
// broker run as root keeps only CAP_DAC_READ_SEARCH (privileges.hpp). Everything is logged to
// stderr.
#include <fcntl.h>
#include <linux/sockios.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "broker_protocol.h"
#include "listener.hpp"
#include "monitor/monitor.hpp"
#include "policy.hpp"
#include "privileges.hpp"
#include "safe_path.hpp"

namespace {

struct options {
  const char* socket_path = nullptr;
  const char* policy_path = nullptr;
  std::size_t max_conns = 64;
  std::size_t max_conns_per_uid = 0;  // 0: max_conns (no limit of its own)
  long handshake_timeout_ms = 5000;
  long idle_timeout_ms = 30000;
  mode_t socket_mode = 0666;     // anyone may connect: the handshake and the policy decide
  bool keep_privileges = false;  // true: skip fdb::drop_to_read_search (debugging only)
};

void log_line(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void log_line(const char* fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "fd-broker: %s\n", line);
}

// A peer-controlled path made safe to log: printable ASCII only, at most 200 bytes shown.
std::string printable(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && out.size() < 200; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char esc[5];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out += esc;
    }
  }
  if (s.size() > 200) out += "...";
  return out;
}

long now_ms() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

fdb::policy g_policy;  // read by the handshake's policy callback; replaced only between events

// The handshake's policy (below): context is the connection.
bool peer_has_rules(const mon::peer_credentials& peer, void* context) noexcept;

enum class phase { handshake, read_request, write_reply };

struct connection {
  explicit connection(int fd) noexcept : sock(fd), hs(fd, &peer_has_rules, this) {}
  mon::unique_fd sock;
  mon::server_handshake hs;  // borrows sock
  mon::message_buffer in{FDB_REQUEST_MAX};
  mon::message_buffer out{FDB_REPLY_LEN};
  mon::unique_fd reply_fd;     // the descriptor being sent, kept until sent
  mon::peer_credentials peer;  // verified, once the handshake is done
  mon::peer_info groups;       // supplementary groups, read by the policy check in the handshake
  ucred connector{0, static_cast<uid_t>(-1), static_cast<gid_t>(-1)};  // SO_PEERCRED, for logs
  phase state = phase::handshake;
  std::uint32_t interest = EPOLLIN;
  long deadline_ms = 0;
};

// A verified peer that no rule names is refused inside the handshake, before it can ask anything.
// Its supplementary groups come from the kernel as well (SO_PEERGROUPS, recorded at connect() by
// the process the handshake has just verified); when they cannot be read, the peer is refused.
bool peer_has_rules(const mon::peer_credentials& peer, void* context) noexcept {
  auto& c = *static_cast<connection*>(context);
  auto info = mon::query_peer_info(c.sock.get());
  if (!info) {
    log_line("deny handshake pid=%d uid=%u gid=%u: cannot read its groups (%s)",
             static_cast<int>(peer.pid), static_cast<unsigned>(peer.uid),
             static_cast<unsigned>(peer.gid), mon::to_string(info.code()));
    return false;
  }
  c.groups = std::move(info).value();
  if (g_policy.names({peer.uid, peer.gid, c.groups.groups()})) return true;
  log_line("deny handshake pid=%d uid=%u gid=%u: no policy rule for this peer",
           static_cast<int>(peer.pid), static_cast<unsigned>(peer.uid),
           static_cast<unsigned>(peer.gid));
  return false;
}

class broker {
 public:
  explicit broker(const options& opt) : opt_(opt) {}
  int run();

 private:
  void accept_all();
  void drive(connection& c);  // runs c until it must wait; may close it
  void handle_request(connection& c);
  void reply(connection& c, std::uint8_t status, std::uint32_t detail, mon::unique_fd fd);
  void set_interest(connection& c, std::uint32_t events);
  void close_conn(int fd);
  void expire(long now);
  void reload_policy();
  int next_timeout(long now) const;

  const options& opt_;
  fdb::listener listener_;
  mon::unique_fd epoll_;
  mon::unique_fd signals_;
  std::map<int, std::unique_ptr<connection>> conns_;
  bool listener_paused_ = false;
  bool stop_ = false;
};

void broker::set_interest(connection& c, std::uint32_t events) {
  if (c.interest == events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = c.sock.get();
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.sock.get(), &ev) == 0) c.interest = events;
}

void broker::close_conn(int fd) {
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  conns_.erase(fd);  // the connection's destructors close its socket and any pending descriptor
  if (listener_paused_) {  // a slot or a descriptor is free again
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listener_.fd.get();
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listener_.fd.get(), &ev) == 0)
      listener_paused_ = false;
  }
}

void broker::accept_all() {
  for (;;) {
    mon::unique_fd fd(
        ::accept4(listener_.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Level-triggered: stop listening until a connection closes, or we would spin.
        log_line("accept: %s; pausing until a connection closes", std::strerror(errno));
        if (!conns_.empty() &&
            ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listener_.fd.get(), nullptr) == 0)
          listener_paused_ = true;
      } else if (errno != EAGAIN) {
        log_line("accept: %s", std::strerror(errno));
      }
      return;
    }
    ucred who{0, static_cast<uid_t>(-1), static_cast<gid_t>(-1)};
    socklen_t len = sizeof who;
    (void)::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &who, &len);
    if (conns_.size() >= opt_.max_conns) {
      log_line("refuse connection from pid=%d uid=%u gid=%u: %zu connections already", who.pid,
               who.uid, who.gid, conns_.size());
      continue;  // fd closes here
    }
    // Counted, not tracked: at most --max-conns entries, and nothing to keep in step on close.
    const auto of_uid =
        static_cast<std::size_t>(std::count_if(conns_.begin(), conns_.end(), [&](const auto& e) {
          return e.second->connector.uid == who.uid;
        }));
    if (of_uid >= opt_.max_conns_per_uid) {
      log_line("refuse connection from pid=%d uid=%u gid=%u: uid %u has %zu connections already",
               who.pid, who.uid, who.gid, who.uid, of_uid);
      continue;  // fd closes here
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd.get();
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
      log_line("epoll_ctl: %s", std::strerror(errno));
      continue;  // fd closes here
    }
    const int key = fd.get();
    auto c = std::make_unique<connection>(fd.release());  // the connection owns the socket now
    c->connector = who;
    c->deadline_ms = now_ms() + opt_.handshake_timeout_ms;
    connection& ref = *c;
    conns_.emplace(key, std::move(c));
    // The first step runs start() at once, before the client's hello can be read: SO_PEERCRED is
    // recorded then (SO_PASSCRED is already on, inherited from the listener).
    drive(ref);
  }
}

void broker::reply(connection& c, std::uint8_t status, std::uint32_t detail, mon::unique_fd fd) {
  const std::byte bytes[FDB_REPLY_LEN] = {std::byte{status}, std::byte(detail >> 24),
                                          std::byte(detail >> 16), std::byte(detail >> 8),
                                          std::byte(detail)};
  c.out.clear();
  if (!c.out.append(bytes)) return;  // cannot happen: the buffer holds exactly a reply
  c.reply_fd = std::move(fd);
  c.state = phase::write_reply;
}

void broker::handle_request(connection& c) {
  const auto data = c.in.data();
  const std::string_view path(reinterpret_cast<const char*>(data.data()) + 1, data.size() - 1);
  const auto pid = static_cast<int>(c.peer.pid);
  const auto uid = static_cast<unsigned>(c.peer.uid);
  const auto gid = static_cast<unsigned>(c.peer.gid);

  if (!fdb::path_is_clean(path, false)) {
    log_line("deny pid=%d uid=%u gid=%u path=\"%s\": malformed path", pid, uid, gid,
             printable(path).c_str());
    return reply(c, FDB_BAD_PATH, 0, {});
  }
  const fdb::rule* r = g_policy.match({c.peer.uid, c.peer.gid, c.groups.groups()}, path);
  if (r == nullptr) {
    log_line("deny pid=%d uid=%u gid=%u path=\"%s\": no rule allows it", pid, uid, gid,
             printable(path).c_str());
    return reply(c, FDB_DENIED, 0, {});
  }
  // At most one descriptor of ours in flight per connection: a client that does not read its
  // replies cannot push the broker (uid 0, no CAP_SYS_RESOURCE after the drop) to its in-flight
  // limit, past which every reply to everyone fails with ETOOMANYREFS.
  int unread = 0;
  if (::ioctl(c.sock.get(), SIOCOUTQ, &unread) != 0 || unread > 0) {
    log_line("busy pid=%d uid=%u gid=%u path=\"%s\": previous reply unread (%d bytes queued)", pid,
             uid, gid, printable(path).c_str(), unread);
    return reply(c, FDB_BUSY, EBUSY, {});
  }
  // A directory grant is the base; a file grant is opened beneath its own directory.
  const std::string_view base =
      r->path.back() == '/' ? std::string_view(r->path) : path.substr(0, path.rfind('/') + 1);
  auto opened = fdb::open_beneath(base, path);
  if (opened.not_regular) {
    log_line("refuse pid=%d uid=%u gid=%u path=\"%s\": not a regular file", pid, uid, gid,
             printable(path).c_str());
    return reply(c, FDB_NOT_REGULAR, 0, {});
  }
  if (!opened.fd && (opened.err == EWOULDBLOCK || opened.err == EAGAIN)) {
    log_line("busy pid=%d uid=%u gid=%u path=\"%s\": a lease on the file is being broken", pid, uid,
             gid, printable(path).c_str());
    return reply(c, FDB_BUSY, EWOULDBLOCK, {});
  }
  if (!opened.fd) {
    log_line("refuse pid=%d uid=%u gid=%u path=\"%s\": %s", pid, uid, gid, printable(path).c_str(),
             std::strerror(opened.err));
    return reply(c, FDB_OPEN_FAILED, static_cast<std::uint32_t>(opened.err), {});
  }
  log_line("grant pid=%d uid=%u gid=%u path=\"%s\"", pid, uid, gid, printable(path).c_str());
  reply(c, FDB_OK, 0, std::move(opened.fd));
}

void broker::drive(connection& c) {
  const int key = c.sock.get();
  for (;;) {
    switch (c.state) {
      case phase::handshake: {
        const auto r = c.hs.step();
        if (!r) {
          if (r.code() == mon::errc::denied && c.hs.reason() == mon::deny_reason::credentials)
            log_line(
                "deny handshake: credentials do not match the process that connected "
                "(pid=%d uid=%u gid=%u)",
                c.connector.pid, c.connector.uid, c.connector.gid);
          else if (r.code() != mon::errc::denied)  // policy denials were logged by the callback
            log_line("handshake failed from pid=%d uid=%u gid=%u: %s (%s)", c.connector.pid,
                     c.connector.uid, c.connector.gid, mon::to_string(r.code()),
                     mon::describe(c.hs.last_fault()));
          return close_conn(key);
        }
        if (r.value() != mon::progress::done)
          return set_interest(c, r.value() == mon::progress::want_read ? EPOLLIN : EPOLLOUT);
        c.peer = c.hs.peer();
        c.state = phase::read_request;
        c.deadline_ms = now_ms() + opt_.idle_timeout_ms;
        break;
      }
      case phase::read_request: {
        mon::fd_list fds;
        const auto r = mon::receive_message(c.sock.get(), c.in, fds, 0);  // requests carry no fd
        if (!r) {
          if (r.code() != mon::errc::closed)
            log_line("drop pid=%d uid=%u gid=%u: bad request (%s: %s)",
                     static_cast<int>(c.peer.pid), static_cast<unsigned>(c.peer.uid),
                     static_cast<unsigned>(c.peer.gid), mon::to_string(r.code()),
                     mon::describe(c.in.last_fault()));
          return close_conn(key);
        }
        if (r.value() != mon::progress::done) return set_interest(c, EPOLLIN);
        const auto data = c.in.data();
        if (data.empty() || data[0] != std::byte{FDB_OP_OPEN}) {
          log_line("drop pid=%d uid=%u gid=%u: unknown request", static_cast<int>(c.peer.pid),
                   static_cast<unsigned>(c.peer.uid), static_cast<unsigned>(c.peer.gid));
          return close_conn(key);
        }
        handle_request(c);
        break;
      }
      case phase::write_reply: {
        const int one[1] = {c.reply_fd.get()};
        const auto fds = c.reply_fd ? std::span<const int>(one) : std::span<const int>();
        const auto r = mon::send_message(c.sock.get(), c.out, fds);
        if (!r) return close_conn(key);
        if (r.value() != mon::progress::done) return set_interest(c, EPOLLOUT);
        c.reply_fd.reset();  // the client has its own reference now
        c.out.clear();
        c.state = phase::read_request;
        c.deadline_ms = now_ms() + opt_.idle_timeout_ms;
        break;
      }
    }
  }
}

void broker::expire(long now) {
  for (auto it = conns_.begin(); it != conns_.end();) {
    connection& c = *it->second;
    const int key = it->first;
    ++it;  // close_conn erases key
    if (now < c.deadline_ms) continue;
    if (c.state == phase::handshake)
      log_line("drop pid=%d uid=%u gid=%u: no handshake within %ld ms", c.connector.pid,
               c.connector.uid, c.connector.gid, opt_.handshake_timeout_ms);
    close_conn(key);
  }
}

int broker::next_timeout(long now) const {
  long t = 1000;
  for (const auto& [fd, c] : conns_) t = std::min(t, std::max(0L, c->deadline_ms - now));
  return static_cast<int>(t);
}

void broker::reload_policy() {
  fdb::policy fresh;
  std::string err;
  if (!fdb::load_policy(opt_.policy_path, fresh, err)) {
    log_line("policy reload failed (%s); keeping %zu rules", err.c_str(), g_policy.rules.size());
    return;
  }
  g_policy = std::move(fresh);
  log_line("policy reloaded: %zu rules", g_policy.rules.size());
}

int broker::run() {
  std::string err;
  if (!fdb::load_policy(opt_.policy_path, g_policy, err)) {
    log_line("policy %s: %s", opt_.policy_path, err.c_str());
    return 1;
  }
  // Enough descriptors for every connection, its pending reply descriptor, and our own.
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < 2 * opt_.max_conns + 16) {
    log_line("RLIMIT_NOFILE %llu is too low for --max-conns %zu",
             static_cast<unsigned long long>(lim.rlim_cur), opt_.max_conns);
    return 1;
  }
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return 1;
  ::signal(SIGPIPE, SIG_IGN);  // the library never raises it; belt and braces for our own writes
  signals_.reset(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!signals_ || !epoll_) return log_line("signalfd/epoll: %s", std::strerror(errno)), 1;
  if (!fdb::make_listener(opt_.socket_path, opt_.socket_mode, listener_, err)) {
    log_line("socket %s: %s", opt_.socket_path, err.c_str());
    return 1;
  }
  for (int fd : {listener_.fd.get(), signals_.get()}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
      return log_line("epoll_ctl failed"), 1;
  }
  // Everything that needed root is done (the socket exists, its mode is set): from here on the
  // broker reads what the policy grants and nothing else needs a privilege.
  if (!opt_.keep_privileges && !fdb::drop_to_read_search(err)) {
    log_line("dropping privileges: %s", err.c_str());
    fdb::remove_listener_path(opt_.socket_path, listener_);
    return 1;
  }
  log_line("listening on %s (%zu rules, at most %zu connections, %zu per uid)", opt_.socket_path,
           g_policy.rules.size(), opt_.max_conns, opt_.max_conns_per_uid);

  epoll_event events[32];
  while (!stop_) {
    const int n = ::epoll_wait(epoll_.get(), events, 32, next_timeout(now_ms()));
    if (n < 0 && errno != EINTR) return log_line("epoll_wait: %s", std::strerror(errno)), 1;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener_.fd.get()) {
        accept_all();
      } else if (fd == signals_.get()) {
        signalfd_siginfo si{};
        while (::read(signals_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
          if (si.ssi_signo == SIGHUP)
            reload_policy();
          else
            stop_ = true;
        }
      } else if (auto it = conns_.find(fd); it != conns_.end()) {
        drive(*it->second);  // errors and hang-ups surface as a failed step: drive closes
      }
    }
    expire(now_ms());
  }
  log_line("stopping; %zu connections closed", conns_.size());
  conns_.clear();
  fdb::remove_listener_path(opt_.socket_path, listener_);
  return 0;
}

bool parse_number(const char* s, long max, long& out) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max) return false;
  out = v;
  return true;
}

int usage() {
  std::fprintf(
      stderr,
      "usage: fd-broker [--max-conns N] [--max-conns-per-uid N] [--handshake-timeout-ms N]\n"
      "                 [--idle-timeout-ms N] [--socket-mode OCTAL] SOCKET POLICY\n");
  return 2;
}

}  // namespace

// A daemon started with descriptor 0, 1 or 2 closed would get its listening socket or a client's
// connection there, and write log lines into it. Fill the gaps with /dev/null first.
bool standard_fds_open() {
  for (int fd = 0; fd < 3; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) continue;
    const int null_fd = ::open("/dev/null", O_RDWR);  // lowest free number: fd itself
    if (null_fd != fd) return false;
  }
  return true;
}

int main(int argc, char** argv) {
  if (!standard_fds_open()) return 1;
  options opt;
  int i = 1;
  while (i < argc && std::strncmp(argv[i], "--", 2) == 0) {
    const std::string_view name = argv[i];
    if (name == "--keep-privileges") {  // the only option without a value
      opt.keep_privileges = true;
      ++i;
      continue;
    }
    if (i + 1 >= argc) return usage();
    long v = 0;
    if (name == "--max-conns" && parse_number(argv[i + 1], 4096, v)) {
      opt.max_conns = static_cast<std::size_t>(v);
    } else if (name == "--max-conns-per-uid" && parse_number(argv[i + 1], 4096, v)) {
      opt.max_conns_per_uid = static_cast<std::size_t>(v);
    } else if (name == "--handshake-timeout-ms" && parse_number(argv[i + 1], 3600000, v)) {
      opt.handshake_timeout_ms = v;
    } else if (name == "--idle-timeout-ms" && parse_number(argv[i + 1], 86400000, v)) {
      opt.idle_timeout_ms = v;
    } else if (name == "--socket-mode") {
      char* end = nullptr;
      const unsigned long m = std::strtoul(argv[i + 1], &end, 8);
      if (end == argv[i + 1] || *end != '\0' || m > 0777) return usage();
      opt.socket_mode = static_cast<mode_t>(m);
    } else {
      return usage();
    }
    i += 2;
  }
  if (argc - i != 2) return usage();
  if (opt.max_conns_per_uid == 0 || opt.max_conns_per_uid > opt.max_conns)
    opt.max_conns_per_uid = opt.max_conns;
  opt.socket_path = argv[i];
  opt.policy_path = argv[i + 1];
  std::setvbuf(stderr, nullptr, _IOLBF, 0);
  broker b(opt);
  return b.run();
}
