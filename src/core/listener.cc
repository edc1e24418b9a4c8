// SPDX-License-Identifier: MIT
// listen_unix, connect_unix, accept_unix, prepare_listener and listen_fds: the decisions (which
// existing path may be replaced, what the LISTEN_* variables mean, what a usable socket is) over
// the system calls of src/sys/listen.cc.
#include "monitor/listener.hpp"

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>

#include "core/activation.hpp"
#include "sys/listen.hpp"
#include "sys/peer_identity.hpp"
#include "sys/socket.hpp"

namespace mon {

namespace core {

result<sys::unix_address> make_address(const char* path, bool allow_abstract) noexcept {
  if (path == nullptr) return errc::invalid;
  sys::unix_address a;
  a.sun.sun_family = AF_UNIX;
  constexpr std::size_t room = sizeof a.sun.sun_path;
  const std::size_t len = ::strnlen(path, room + 1);
  constexpr std::size_t header = offsetof(sockaddr_un, sun_path);
  if (path[0] == '@') {
    // Abstract: sun_path[0] is NUL and the name is the rest, counted by the length, unterminated.
    if (!allow_abstract || len < 2 || len > room) return errc::invalid;
    std::memcpy(a.sun.sun_path + 1, path + 1, len - 1);
    a.len = static_cast<socklen_t>(header + len);
    return a;
  }
  if (len == 0 || len >= room) return errc::invalid;  // the NUL must fit too
  std::memcpy(a.sun.sun_path, path, len + 1);
  a.len = static_cast<socklen_t>(header + len + 1);
  return a;
}

std::optional<unsigned long> parse_env_number(const char* text, unsigned long max) noexcept {
  if (text == nullptr || *text == '\0') return std::nullopt;
  unsigned long value = 0;
  for (const char* p = text; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return std::nullopt;
    const auto digit = static_cast<unsigned long>(*p - '0');
    if (value > (max - digit) / 10) return std::nullopt;  // value * 10 + digit > max
    value = value * 10 + digit;
  }
  return value;
}

result<void> split_names(const char* names, std::span<activated_socket> out) noexcept {
  if (names == nullptr) {
    for (std::size_t i = 0; i < out.size(); ++i)
      std::memcpy(out[i].name, "unknown", sizeof "unknown");
    return {};
  }
  std::size_t i = 0;
  const char* p = names;
  for (;;) {
    const char* end = p;
    while (*end != '\0' && *end != ':') ++end;
    const auto len = static_cast<std::size_t>(end - p);
    if (i == out.size() || len > listen_name_max) return errc::invalid;
    for (const char* c = p; c != end; ++c) {
      if (*c < 0x20 || *c > 0x7e) return errc::invalid;
    }
    std::memcpy(out[i].name, p, len);
    out[i].name[len] = '\0';
    ++i;
    if (*end == '\0') break;
    p = end + 1;
  }
  if (i != out.size()) return errc::invalid;
  return {};
}

}  // namespace core

namespace {

bool is_supported_type(int type) noexcept { return type == SOCK_STREAM || type == SOCK_SEQPACKET; }

// SO_PASSCRED on and SO_PASSRIGHTS off; a kernel without SO_PASSRIGHTS (< 6.16) is not an error
// (listener.hpp says what that leaves to the library).
result<void> set_listener_options(int fd) noexcept {
  if (auto r = sys::set_pass_credentials(fd, true); !r) return r;
  if (auto r = sys::set_pass_rights(fd, false); !r && r.code() != errc::unsupported) return r;
  return {};
}

// Removes the socket file listen_unix bound if a later step fails; the error is the caller's.
struct bound_path_guard {
  const char* path = nullptr;
  sys::path_facts facts{};
  bound_path_guard() = default;
  void arm(const char* p, const sys::path_facts& f) noexcept {
    path = p;
    facts = f;
  }
  bound_path_guard(const bound_path_guard&) = delete;
  bound_path_guard& operator=(const bound_path_guard&) = delete;
  bound_path_guard(bound_path_guard&&) = delete;
  bound_path_guard& operator=(bound_path_guard&&) = delete;
  ~bound_path_guard() {
    if (path != nullptr) (void)sys::remove_socket_file(path, facts);
  }
};

// path exists: replace it only when it is a socket that refuses connections (its server is gone).
result<void> remove_if_stale(const char* path, const sys::unix_address& addr, int type) noexcept {
  auto facts = sys::inspect_path(path);
  if (!facts) return facts.err();
  if (facts.value().what == sys::path_facts::kind::absent) return {};  // gone meanwhile
  const error in_use{errc::io, EADDRINUSE};
  if (facts.value().what != sys::path_facts::kind::socket) return in_use;
  auto probe = sys::open_unix_socket(type, /*nonblocking=*/true);  // a full backlog: EAGAIN
  if (!probe) return probe.err();
  auto c = sys::connect_to(probe.value().get(), addr);
  // Only ECONNREFUSED proves nobody listens; anything else (a live server, a socket of another
  // type, no permission to tell) leaves the path alone.
  if (c || c.err().sys_errno != ECONNREFUSED) return in_use;
  return sys::remove_socket_file(path, facts.value());
}

}  // namespace

result<unique_fd> listen_unix(const char* path, const listen_options& options) noexcept {
  const int type = static_cast<int>(options.type);
  if (!is_supported_type(type) || (options.mode & ~mode_t{0777}) != 0 || options.backlog < 0) {
    return errc::invalid;
  }
  auto addr = core::make_address(path, options.allow_abstract);
  if (!addr) return addr.err();
  const bool abstract = path[0] == '@';

  auto sock = sys::open_unix_socket(type, options.nonblocking);
  if (!sock) return sock.err();
  const int fd = sock.value().get();
  // Before bind: the file is created with these bits (minus the umask), never more open.
  if (!abstract) {
    if (auto r = sys::set_socket_file_mode(fd, options.mode); !r) return r.err();
  }
  auto bound = sys::bind_to(fd, addr.value());
  if (!bound && !abstract && bound.err().sys_errno == EADDRINUSE) {
    if (auto r = remove_if_stale(path, addr.value(), type); !r) return r.err();
    bound = sys::bind_to(fd, addr.value());
  }
  if (!bound) return bound.err();

  bound_path_guard guard;
  if (!abstract) {
    auto facts = sys::inspect_path(path);
    if (!facts) return facts.err();
    guard.arm(path, facts.value());
    if (facts.value().perm != options.mode) {  // the umask took bits away: put them back
      if (auto r = sys::chmod_socket_file(path, options.mode); !r) return r.err();
    }
  }
  // Before listen(): no connection can be queued without the options.
  if (auto r = set_listener_options(fd); !r) return r.err();
  if (auto r = sys::start_listening(fd, options.backlog); !r) return r.err();
  guard.path = nullptr;
  return std::move(sock.value());
}

result<unique_fd> connect_unix(const char* path, const connect_options& options) noexcept {
  const int type = static_cast<int>(options.type);
  if (!is_supported_type(type)) return errc::invalid;
  auto addr = core::make_address(path, options.allow_abstract);
  if (!addr) return addr.err();
  auto sock = sys::open_unix_socket(type, options.nonblocking);
  if (!sock) return sock.err();
  if (auto r = sys::connect_to(sock.value().get(), addr.value()); !r) return r.err();
  return std::move(sock.value());
}

result<progress> accept_unix(int listen_fd, unique_fd& out, bool nonblocking) noexcept {
  out.reset();
  if (listen_fd < 0) return errc::invalid;
  auto conn = sys::accept_on(listen_fd, nonblocking);
  if (!conn) return conn.err();
  if (!conn.value().valid()) return progress::want_read;
  out = std::move(conn.value());
  return progress::done;
}

result<void> prepare_listener(int listen_fd) noexcept {
  if (listen_fd < 0) return errc::invalid;
  auto facts = sys::describe_socket(listen_fd);
  if (!facts) return facts.err();
  if (facts.value().domain != AF_UNIX || !is_supported_type(facts.value().type) ||
      !facts.value().listening) {
    return errc::invalid;
  }
  return set_listener_options(listen_fd);
}

namespace {

constexpr int first_listen_fd = 3;  // SD_LISTEN_FDS_START
constexpr const char* listen_vars[] = {"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"};

// Checks that every passed descriptor is one we can serve on, before any is changed.
result<void> check_passed(std::span<activated_socket> out,
                          const activation_options& options) noexcept {
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto facts = sys::describe_socket(first_listen_fd + static_cast<int>(i));
    if (!facts) return errc::invalid;  // not open, or not a socket
    const auto& f = facts.value();
    if (f.domain != AF_UNIX || !is_supported_type(f.type) || !f.listening) return errc::invalid;
    if (options.type && f.type != static_cast<int>(*options.type)) return errc::invalid;
    out[i].type = static_cast<socket_type>(f.type);
  }
  return {};
}

result<std::size_t> take_passed(std::span<activated_socket> out,
                                const activation_options& options) noexcept {
  const char* pid_text = sys::environment("LISTEN_PID");
  if (pid_text == nullptr) return std::size_t{0};
  const auto pid = core::parse_env_number(pid_text, INT_MAX);
  if (!pid || *pid == 0) return errc::invalid;
  // Set for another process (a parent that forked us without clearing it): nothing is ours.
  if (static_cast<pid_t>(*pid) != sys::own_pid()) return std::size_t{0};
  const auto n = core::parse_env_number(sys::environment("LISTEN_FDS"), listen_fds_max);
  if (!n) return errc::invalid;
  const std::span<activated_socket> passed = out.first(*n);
  if (auto r = core::split_names(sys::environment("LISTEN_FDNAMES"), passed); !r) return r.err();
  if (auto r = check_passed(passed, options); !r) return r.err();
  for (std::size_t i = 0; i < passed.size(); ++i) {
    const int fd = first_listen_fd + static_cast<int>(i);
    if (auto r = sys::set_close_on_exec(fd); !r) return r.err();
    if (options.nonblocking) {
      if (auto r = sys::set_nonblocking(fd); !r) return r.err();
    }
    if (auto r = set_listener_options(fd); !r) return r.err();
  }
  for (std::size_t i = 0; i < passed.size(); ++i) {
    passed[i].fd.reset(first_listen_fd + static_cast<int>(i));
  }
  return passed.size();
}

}  // namespace

result<std::size_t> listen_fds(std::span<activated_socket> out,
                               const activation_options& options) noexcept {
  // Room is the one failure that consumes nothing, so the caller can ask again.
  const auto pid = core::parse_env_number(sys::environment("LISTEN_PID"), INT_MAX);
  if (pid && static_cast<pid_t>(*pid) == sys::own_pid()) {
    const auto n = core::parse_env_number(sys::environment("LISTEN_FDS"), listen_fds_max);
    if (n && *n > out.size()) return errc::toobig;
  }
  auto r = take_passed(out, options);
  for (const char* var : listen_vars) sys::unset_environment(var);
  return r;
}

}  // namespace mon
