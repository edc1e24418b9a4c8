// The handshake glue: runs the pure machines of src/auth/ over a socket through src/sys/.
#include "monitor/handshake.hpp"

#include <new>
#include <optional>

#include "auth/machines.hpp"
#include "sys/peer_identity.hpp"
#include "sys/socket.hpp"

namespace mon {
namespace {

struct client_state {
  std::optional<auth::client_machine> machine;
  peer_credentials own{};
  error start_error{};
  bool start_failed = false;
  bool require_uid = false;     // mutual authentication asked for
  bool server_checked = false;  // ... and done, before the first write
  uid_t required_uid = 0;
};

struct server_state {
  std::optional<auth::server_machine> machine;
  server_policy policy = nullptr;
  void* context = nullptr;
  error start_error{};
  bool start_failed = false;
  bool passcred_on = false;  // SO_PASSCRED is ours to turn off again
  bool rights_off = false;   // SO_PASSRIGHTS was on and we turned it off: ours to turn on again
  // SO_PEERPIDFD, made on the first request after the handshake (see peer_pidfd()). Mutable: a
  // const query may make it; a state is used by one thread at a time.
  mutable unique_fd pidfd;
  bool pidfd_taken = false;  // handed over by take_peer_pidfd()
};

// The end of reading the hello: credentials must not ride on later frames, and descriptors are
// welcome again (the same socket carries them once the handshake is over).
void end_of_reading(int fd, server_state& st, auth::server_machine* m) noexcept {
  if (st.passcred_on) {
    st.passcred_on = false;
    if (auto off = sys::set_pass_credentials(fd, false); !off && m) m->fail(off.err());
  }
  if (st.rights_off) {
    st.rights_off = false;
    if (auto on = sys::set_pass_rights(fd, true); !on && m) m->fail(on.err());
  }
}

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

// One write of the machine's pending output. Returns false when the caller must return `out`.
template <class Machine>
bool do_write(int fd, Machine& m, const peer_credentials* creds, result<progress>& out) noexcept {
  const auto bytes = m.output();
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  const auto r = sys::send(fd, std::span<const iovec>(&iov, 1), {}, creds);
  switch (r.what) {
    case sys::io_result::kind::would_block:
      out = progress::want_write;
      return false;
    case sys::io_result::kind::ok:
      m.on_written(r.bytes);
      return true;
    default:
      m.fail(r.err);
      return true;
  }
}

// One read into the machine's input space. Returns false when the caller must return `out`.
template <class Machine>
bool do_read(int fd, Machine& m, result<progress>& out) noexcept {
  const auto space = m.input_space();
  iovec iov{space.data(), space.size()};
  cmsg::control_data ctl;  // owns whatever descriptors arrive; closes them on every path
  const auto r = sys::receive(fd, std::span<iovec>(&iov, 1), m.read_policy(), ctl);
  switch (r.what) {
    case sys::io_result::kind::would_block:
      out = progress::want_read;
      return false;
    case sys::io_result::kind::eof:
      m.on_eof();
      return true;
    case sys::io_result::kind::failed:
      m.fail(r.err);
      return true;
    case sys::io_result::kind::ok:
      m.on_read(r.bytes, (r.msg_flags & MSG_TRUNC) != 0, r.control, ctl);
      return true;
  }
  return true;
}

}  // namespace

// ---- client ------------------------------------------------------------------------------------

client_handshake::client_handshake(int fd) noexcept : fd_(fd) { new (storage_) client_state(); }

client_handshake::~client_handshake() { as<client_state>(storage_).~client_state(); }

result<void> client_handshake::start() noexcept {
  auto& st = as<client_state>(storage_);
  if (st.start_failed) return st.start_error;
  if (st.machine) return {};
  auto type = sys::unix_socket_type(fd_);
  if (!type) {
    st.start_failed = true;
    st.start_error = type.err();
    return st.start_error;
  }
  st.own = sys::own_credentials();
  st.machine.emplace(type.value() == SOCK_SEQPACKET);
  return {};
}

result<void> client_handshake::require_server_uid(uid_t uid) noexcept {
  auto& st = as<client_state>(storage_);
  if (uid == static_cast<uid_t>(-1) || st.start_failed) return errc::invalid;
  // Only before the hello has started to leave: afterwards the check would come too late.
  if (st.server_checked || (st.machine && st.machine->hello_started())) return errc::invalid;
  st.require_uid = true;
  st.required_uid = uid;
  return {};
}

result<peer_credentials> client_handshake::server_credentials() const noexcept {
  return sys::peer_credentials_of(fd_);
}

result<progress> client_handshake::step() noexcept {
  if (auto started = start(); !started) return started.err();
  auto& st = as<client_state>(storage_);
  auto& m = *st.machine;
  if (st.require_uid && !st.server_checked && m.next() == auth::want::write) {
    // Before a single byte goes out: a squatter on the socket path learns nothing from us.
    st.server_checked = true;
    auto server = sys::peer_credentials_of(fd_);
    if (!server) {
      m.fail(server.err());
    } else {
      m.verify_server(server.value(), st.required_uid);
    }
  }
  for (;;) {
    switch (m.next()) {
      case auth::want::write: {
        result<progress> out = progress::done;
        if (!do_write(fd_, m, &st.own, out)) return out;
        break;
      }
      case auth::want::read:
        if (result<progress> out = progress::done; !do_read(fd_, m, out)) return out;
        break;
      case auth::want::decide:  // never asked of a client
        m.fail({errc::invalid, 0});
        break;
      case auth::want::done:
        return progress::done;
      case auth::want::failed:
        return m.err();
    }
  }
}

deny_reason client_handshake::reason() const noexcept {
  const auto& st = as<client_state>(storage_);
  return st.machine ? st.machine->reason() : deny_reason::none;
}

// ---- server ------------------------------------------------------------------------------------

server_handshake::server_handshake(int fd, server_policy policy, void* context) noexcept : fd_(fd) {
  auto* st = new (storage_) server_state();
  st->policy = policy;
  st->context = context;
}

server_handshake::~server_handshake() {
  auto& st = as<server_state>(storage_);
  end_of_reading(fd_, st, nullptr);  // abandoned mid-handshake: leave the socket as we found it
  st.~server_state();
}

result<void> server_handshake::start() noexcept {
  auto& st = as<server_state>(storage_);
  if (st.start_failed) return st.start_error;
  if (st.machine) return {};
  auto fail = [&](error e) -> result<void> {
    st.start_failed = true;
    st.start_error = e;
    return e;
  };
  auto type = sys::unix_socket_type(fd_);
  if (!type) return fail(type.err());
  auto peer = sys::peer_credentials_of(fd_);
  if (!peer) return fail(peer.err());
  // No descriptors during the handshake: where the kernel can refuse them at sendmsg() (>= 6.16),
  // let it; elsewhere the reads close whatever arrives (read_policy() allows none).
  if (auto rights = sys::pass_rights(fd_); rights && rights.value()) {
    if (auto off = sys::set_pass_rights(fd_, false); !off) return fail(off.err());
    st.rights_off = true;
  } else if (!rights && rights.code() != errc::unsupported) {
    return fail(rights.err());
  }
  // Before the first read: the hello must come with credentials the kernel vouches for.
  if (auto on = sys::set_pass_credentials(fd_, true); !on) return fail(on.err());
  st.passcred_on = true;
  st.machine.emplace(type.value() == SOCK_SEQPACKET, peer.value());
  return {};
}

result<progress> server_handshake::step() noexcept {
  if (auto started = start(); !started) return started.err();
  auto& st = as<server_state>(storage_);
  auto& m = *st.machine;
  for (;;) {
    // Reading is over: later messages on this socket must not carry credentials, and may carry
    // descriptors again.
    if (m.next() != auth::want::read) end_of_reading(fd_, st, &m);
    switch (m.next()) {
      case auth::want::read:
        if (result<progress> out = progress::done; !do_read(fd_, m, out)) return out;
        break;
      case auth::want::decide:
        m.decide(st.policy == nullptr || st.policy(m.peer(), st.context));
        break;
      case auth::want::write: {
        result<progress> out = progress::done;
        if (!do_write(fd_, m, nullptr, out)) return out;
        break;
      }
      case auth::want::done:
        return progress::done;
      case auth::want::failed:
        return m.err();
    }
  }
}

peer_credentials server_handshake::peer() const noexcept {
  const auto& st = as<server_state>(storage_);
  if (!st.machine || st.machine->next() != auth::want::done) return {};
  return st.machine->peer();
}

deny_reason server_handshake::reason() const noexcept {
  const auto& st = as<server_state>(storage_);
  return st.machine ? st.machine->reason() : deny_reason::none;
}

result<void> server_handshake::set_policy(server_policy policy, void* context) noexcept {
  auto& st = as<server_state>(storage_);
  if (st.start_failed) return errc::invalid;
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
