// SPDX-License-Identifier: MIT
// The handshake glue: runs the pure machines of src/auth/ over a socket through src/sys/.
//
// One driver serves both sides (drive() below, the shape of BoringSSL's ssl_run_handshake): the
// machine says what it waits for (read, write, decide, done, failed), the driver does that one
// thing, and an error, once the machine holds it, is what every later step() returns. What differs
// between the sides is in their `side` structs: the client checks the server before its first write
// (mutual authentication); the server asks its policy, and puts the socket options back once the
// hello is read.
#include "monitor/handshake.hpp"

#include <cerrno>
#include <new>
#include <optional>

#include "auth/machines.hpp"
#include "sys/peer_identity.hpp"
#include "sys/socket.hpp"

namespace mon {
namespace {

using clock = std::chrono::steady_clock;

// How I/O is done for one handshake: plain, or against a deadline.
struct io_mode {
  clock::time_point deadline{};  // epoch: none
  bool poll_here = false;        // blocking socket with a deadline: wait in poll(), not in recvmsg
  [[nodiscard]] bool has_deadline() const noexcept { return deadline != clock::time_point{}; }
  [[nodiscard]] int flags() const noexcept { return poll_here ? MSG_DONTWAIT : 0; }
};

struct client_state {
  std::optional<auth::client_machine> machine;
  std::optional<error> start_error;
  std::optional<uid_t> required_server_uid;  // mutual authentication asked for...
  bool server_checked = false;               // ... and done, before the first write
  peer_credentials own{};
  client_options options;
  io_mode io;
};

struct server_state {
  std::optional<auth::server_machine> machine;
  std::optional<error> start_error;
  server_policy policy = nullptr;
  void* context = nullptr;
  server_options options;
  io_mode io;
  // Socket options this handshake changed for the hello, to be put back once it is read.
  bool passcred_to_clear = false;
  bool rights_to_restore = false;
  // SO_PEERPIDFD, made on the first request after the handshake (see peer_pidfd()). Mutable: a
  // const query may make it; a state is used by one thread at a time.
  mutable unique_fd pidfd;
  bool pidfd_taken = false;  // handed over by take_peer_pidfd()
};

static_assert(sizeof(client_state) <= detail::handshake_storage);
static_assert(sizeof(server_state) <= detail::handshake_storage);
static_assert(alignof(client_state) <= alignof(std::max_align_t));
static_assert(alignof(server_state) <= alignof(std::max_align_t));

template <class T>
T& as(unsigned char* storage) noexcept {
  return *std::launder(reinterpret_cast<T*>(storage));
}
template <class T>
const T& as(const unsigned char* storage) noexcept {
  return *std::launder(reinterpret_cast<const T*>(storage));
}

// With a deadline on a blocking socket, the step itself waits (bounded) instead of recvmsg.
result<void> arm_deadline(int fd, io_mode& io) noexcept {
  if (!io.has_deadline()) return {};
  auto nonblocking = sys::is_nonblocking(fd);
  if (!nonblocking) return nonblocking.err();
  io.poll_here = !nonblocking.value();
  return {};
}

// The machine cannot go on until fd is ready: return want_read / want_write to the caller, or
// wait here when this step owns the waiting (deadline on a blocking socket). nullopt: go on.
template <class Machine>
std::optional<progress> blocked(int fd, Machine& m, const io_mode& io, bool for_write) noexcept {
  const progress wanted = for_write ? progress::want_write : progress::want_read;
  if (!io.poll_here) return wanted;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(io.deadline - clock::now());
  if (left.count() <= 0) {
    m.fail({errc::io, ETIMEDOUT});
    return std::nullopt;
  }
  auto ready = sys::wait_ready(fd, for_write, static_cast<int>(left.count()));
  if (!ready) m.fail(ready.err());
  if (ready && !ready.value()) m.fail({errc::io, ETIMEDOUT});
  return std::nullopt;
}

// One write of the machine's pending output. A value: return it from step().
template <class Machine>
std::optional<progress> write_step(int fd, Machine& m, const peer_credentials* creds,
                                   const io_mode& io) noexcept {
  const auto bytes = m.output();
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  const auto r = sys::send(fd, std::span<const iovec>(&iov, 1), {}, creds, io.flags());
  switch (r.what) {
    case sys::io_result::kind::would_block:
      return blocked(fd, m, io, true);
    case sys::io_result::kind::ok:
      m.on_written(r.bytes);
      return std::nullopt;
    default:
      m.fail(r.err);
      return std::nullopt;
  }
}

// One read into the machine's input space. A value: return it from step().
template <class Machine>
std::optional<progress> read_step(int fd, Machine& m, const io_mode& io) noexcept {
  const auto space = m.input_space();
  iovec iov{space.data(), space.size()};
  cmsg::control_data ctl;  // owns whatever descriptors arrive; refused ones are disposed of
  const auto r = sys::receive(fd, std::span<iovec>(&iov, 1), m.read_policy(), ctl, io.flags());
  switch (r.what) {
    case sys::io_result::kind::would_block:
      return blocked(fd, m, io, false);
    case sys::io_result::kind::eof:
      m.on_eof();
      break;
    case sys::io_result::kind::failed:
      m.fail(r.err);
      break;
    case sys::io_result::kind::ok:
      m.on_read(r.bytes, (r.msg_flags & MSG_TRUNC) != 0, r.control, ctl);
      break;
  }
  return std::nullopt;
}

// The one handshake loop. Side provides: machine(), io(), credentials() (attached to writes),
// before_each(fd) (side-specific work between states) and decide().
template <class Side>
result<progress> drive(int fd, Side side) noexcept {
  auto& m = side.machine();
  for (;;) {
    if (side.io().has_deadline() && m.next() != auth::want::done &&
        m.next() != auth::want::failed && clock::now() >= side.io().deadline)
      m.fail({errc::io, ETIMEDOUT});
    side.before_each(fd);
    std::optional<progress> out;
    switch (m.next()) {
      case auth::want::write:
        out = write_step(fd, m, side.credentials(), side.io());
        break;
      case auth::want::read:
        out = read_step(fd, m, side.io());
        break;
      case auth::want::decide:
        side.decide();
        break;
      case auth::want::done:
        return progress::done;
      case auth::want::failed:
        return m.err();
    }
    if (out) return *out;
  }
}

struct client_side {
  client_state& st;
  auth::client_machine& machine() noexcept { return *st.machine; }
  const io_mode& io() const noexcept { return st.io; }
  const peer_credentials* credentials() const noexcept { return &st.own; }
  // Before a single byte goes out: a squatter on the socket path learns nothing from us.
  void before_each(int fd) noexcept {
    auto& m = *st.machine;
    if (!st.required_server_uid || st.server_checked || m.next() != auth::want::write) return;
    st.server_checked = true;
    auto server = sys::peer_credentials_of(fd);
    if (!server) {
      m.fail(server.err());
    } else {
      m.verify_server(server.value(), *st.required_server_uid);
    }
  }
  void decide() noexcept { st.machine->fail({errc::invalid, 0}); }  // never asked of a client
};

// The end of reading the hello: credentials must not ride on later frames, and descriptors are
// welcome again (unless the connection refuses them for good). Runs once, when the machine first
// stops wanting to read; also from the destructor of an abandoned handshake, so the socket is left
// as it was found.
void restore_socket_options(int fd, server_state& st, auth::server_machine* m) noexcept {
  if (st.passcred_to_clear) {
    st.passcred_to_clear = false;
    if (auto off = sys::set_pass_credentials(fd, false); !off && m) m->fail(off.err());
  }
  if (st.rights_to_restore) {
    st.rights_to_restore = false;
    // Unsupported: a kernel without SO_PASSRIGHTS (a prepared listener's socket then never had it
    // off); nothing to put back.
    if (auto on = sys::set_pass_rights(fd, true); !on && on.code() != errc::unsupported && m)
      m->fail(on.err());
  }
}

struct server_side {
  server_state& st;
  auth::server_machine& machine() noexcept { return *st.machine; }
  const io_mode& io() const noexcept { return st.io; }
  static const peer_credentials* credentials() noexcept { return nullptr; }
  void before_each(int fd) noexcept {
    if (st.machine->next() != auth::want::read) restore_socket_options(fd, st, &*st.machine);
  }
  void decide() noexcept {
    st.machine->decide(st.policy == nullptr || st.policy(st.machine->peer(), st.context));
  }
};

result<int> socket_type_of(int fd, int known) noexcept {
  if (known == SOCK_STREAM || known == SOCK_SEQPACKET) return known;
  if (known != 0) return errc::invalid;
  return sys::socket_type(fd);
}

}  // namespace

// ---- client ------------------------------------------------------------------------------------

client_handshake::client_handshake(int fd, const client_options& options) noexcept : fd_(fd) {
  auto* st = new (storage_) client_state();
  st->options = options;
  st->io.deadline = options.deadline;
}

client_handshake::~client_handshake() { as<client_state>(storage_).~client_state(); }

result<void> client_handshake::start() noexcept {
  auto& st = as<client_state>(storage_);
  if (st.start_error) return *st.start_error;
  if (st.machine) return {};
  auto fail = [&](error e) -> result<void> {
    st.start_error = e;
    return e;
  };
  auto type = socket_type_of(fd_, st.options.socket_type);
  if (!type) return fail(type.err());
  if (st.options.refuse_descriptors) {
    if (auto off = sys::set_pass_rights(fd_, false); !off && off.code() != errc::unsupported)
      return fail(off.err());
  }
  if (auto armed = arm_deadline(fd_, st.io); !armed) return fail(armed.err());
  st.own = sys::own_credentials();
  st.machine.emplace(type.value() == SOCK_SEQPACKET);
  return {};
}

result<void> client_handshake::require_server_uid(uid_t uid) noexcept {
  auto& st = as<client_state>(storage_);
  if (uid == static_cast<uid_t>(-1) || st.start_error) return errc::invalid;
  // Only before the hello has started to leave: afterwards the check would come too late.
  if (st.server_checked || (st.machine && st.machine->hello_started())) return errc::invalid;
  st.required_server_uid = uid;
  return {};
}

result<void> client_handshake::set_deadline(std::chrono::steady_clock::time_point when) noexcept {
  auto& st = as<client_state>(storage_);
  if (st.machine || st.start_error) return errc::invalid;
  st.io.deadline = when;
  return {};
}

result<peer_credentials> client_handshake::server_credentials() const noexcept {
  return sys::peer_credentials_of(fd_);
}

result<progress> client_handshake::step() noexcept {
  if (auto started = start(); !started) return started.err();
  return drive(fd_, client_side{as<client_state>(storage_)});
}

fault client_handshake::last_fault() const noexcept {
  const auto& st = as<client_state>(storage_);
  return st.machine ? st.machine->last_fault() : fault::none;
}

deny_reason client_handshake::reason() const noexcept {
  const auto& st = as<client_state>(storage_);
  return st.machine ? st.machine->reason() : deny_reason::none;
}

// ---- server ------------------------------------------------------------------------------------

server_handshake::server_handshake(int fd, server_policy policy, void* context,
                                   const server_options& options) noexcept
    : fd_(fd) {
  auto* st = new (storage_) server_state();
  st->policy = policy;
  st->context = context;
  st->options = options;
  st->io.deadline = options.deadline;
}

server_handshake::~server_handshake() {
  auto& st = as<server_state>(storage_);
  restore_socket_options(fd_, st, nullptr);  // abandoned mid-handshake
  st.~server_state();
}

result<void> server_handshake::start() noexcept {
  auto& st = as<server_state>(storage_);
  if (st.start_error) return *st.start_error;
  if (st.machine) return {};
  auto fail = [&](error e) -> result<void> {
    st.start_error = e;
    return e;
  };
  auto type = socket_type_of(fd_, st.options.socket_type);
  if (!type) return fail(type.err());
  auto peer = sys::peer_credentials_of(fd_);
  if (!peer) return fail(peer.err());
  if (!st.options.prepared_listener) {
    // No descriptors during the handshake: where the kernel can refuse them at sendmsg()
    // (>= 6.16), let it; elsewhere the reads dispose of whatever arrives (read_policy() allows
    // none). A non-AF_UNIX socket fails here (the option is AF_UNIX's).
    if (auto off = sys::set_pass_rights(fd_, false); off) {
      st.rights_to_restore = !st.options.refuse_descriptors;
    } else if (off.code() != errc::unsupported) {
      return fail(off.err());
    }
    // Before the first read: the hello must come with credentials the kernel vouches for.
    if (auto on = sys::set_pass_credentials(fd_, true); !on) return fail(on.err());
  } else if (!st.options.refuse_descriptors) {
    st.rights_to_restore = true;  // inherited off from the listener
  }
  st.passcred_to_clear = true;  // on, set here or inherited: later frames must not carry them
  if (auto armed = arm_deadline(fd_, st.io); !armed) return fail(armed.err());
  st.machine.emplace(type.value() == SOCK_SEQPACKET, peer.value());
  return {};
}

result<progress> server_handshake::step() noexcept {
  if (auto started = start(); !started) return started.err();
  return drive(fd_, server_side{as<server_state>(storage_)});
}

result<void> server_handshake::set_deadline(std::chrono::steady_clock::time_point when) noexcept {
  auto& st = as<server_state>(storage_);
  if (st.machine || st.start_error) return errc::invalid;
  st.io.deadline = when;
  return {};
}

peer_credentials server_handshake::peer() const noexcept {
  const auto& st = as<server_state>(storage_);
  if (!st.machine || st.machine->next() != auth::want::done) return {};
  return st.machine->peer();
}

fault server_handshake::last_fault() const noexcept {
  const auto& st = as<server_state>(storage_);
  return st.machine ? st.machine->last_fault() : fault::none;
}

deny_reason server_handshake::reason() const noexcept {
  const auto& st = as<server_state>(storage_);
  return st.machine ? st.machine->reason() : deny_reason::none;
}

result<void> server_handshake::set_policy(server_policy policy, void* context) noexcept {
  auto& st = as<server_state>(storage_);
  if (st.start_error) return errc::invalid;
  if (st.machine) {
    const auto w = st.machine->next();
    if (w != auth::want::read && w != auth::want::decide) return errc::invalid;  // decided already
  }
  st.policy = policy;
  st.context = context;
  return {};
}

// Made on request, not at start(): SO_PEERPIDFD reads the struct pid the socket pinned at
// connect(), so it names the process that connected whenever it is asked (never whoever has that
// number now), and most servers never ask: making and closing a pidfd costs more than the rest of
// the handshake's system calls together. A failure (EMFILE: dbus-broker's outage) concerns only
// this request; the next one tries again.
result<int> server_handshake::peer_pidfd() const noexcept {
  const auto& st = as<server_state>(storage_);
  if (!st.machine || st.machine->next() != auth::want::done || st.pidfd_taken) return errc::invalid;
  if (!st.pidfd) {
    auto made = sys::peer_pidfd(fd_);
    if (!made) return made.err();
    st.pidfd = std::move(made.value());
  }
  return st.pidfd.get();
}

result<unique_fd> server_handshake::take_peer_pidfd() noexcept {
  auto& st = as<server_state>(storage_);
  auto lent = peer_pidfd();
  if (!lent) return lent.err();
  st.pidfd_taken = true;
  return std::move(st.pidfd);
}

result<peer_info> server_handshake::read_peer_info() const noexcept {
  const auto& st = as<server_state>(storage_);
  if (!st.machine || st.machine->next() != auth::want::done) return errc::invalid;
  return query_peer_info(fd_);
}

}  // namespace mon
