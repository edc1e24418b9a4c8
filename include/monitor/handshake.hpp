// SPDX-License-Identifier: MIT
// The authentication handshake, C++ side: mon::client_handshake and mon::server_handshake.
//
// Both borrow a connected AF_UNIX SOCK_STREAM or SOCK_SEQPACKET socket (the caller keeps owning it)
// and run one round trip: the client's hello travels with SCM_CREDENTIALS that the kernel checks,
// the server compares them with SO_PEERCRED and answers accept or deny. step() works on blocking
// and non-blocking sockets alike; neither object allocates.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "monitor/credentials.hpp"
#include "monitor/deny_reason.hpp"
#include "monitor/export.h"
#include "monitor/fault.hpp"
#include "monitor/peer_info.hpp"
#include "monitor/result.hpp"
#include "monitor/unique_fd.hpp"

namespace mon {

// Decides, once the peer's identity is verified, whether the server accepts it. Must not throw.
using server_policy = bool (*)(const peer_credentials& peer, void* context) noexcept;

namespace detail {
inline constexpr std::size_t handshake_storage = 1024;
}

// Deadlines (the options' `deadline`, or set_deadline()): past it, step() fails with errc::io and
// sys_errno ETIMEDOUT (sticky), so one silent peer cannot hold a server. On a blocking socket
// step() then waits at most until the deadline (it polls instead of blocking in recvmsg, at the
// cost of one fcntl(F_GETFL) at start): a blocking step() is the "whole handshake within a timeout"
// convenience. On a non-blocking socket step() returns want_read / want_write as usual and the
// first step() after the deadline fails.

// How a client runs its handshake; the defaults fit any connected socket.
struct client_options {
  // SOCK_STREAM or SOCK_SEQPACKET when the caller knows the socket's type (it connected it),
  // saving a query; 0: ask the kernel (SO_TYPE).
  int socket_type = 0;
  // This connection never receives descriptors: SO_PASSRIGHTS is turned off on it (Linux >= 6.16;
  // a server's sendmsg with SCM_RIGHTS then fails with EPERM) and left off.
  bool refuse_descriptors = false;
  std::chrono::steady_clock::time_point deadline{};  // none when left at its default (epoch)
};

// How a server runs its handshake.
struct server_options {
  // The socket was accepted from a listener that prepare_listener() prepared: SO_PASSCRED is on
  // and SO_PASSRIGHTS off already (inherited, Linux >= 6.16), so start() toggles nothing. If the
  // claim is false, the handshake fails closed: a hello without kernel credentials is denied.
  bool prepared_listener = false;
  // As in client_options; the listener's type is the connection's.
  int socket_type = 0;
  // This connection never receives descriptors: SO_PASSRIGHTS stays off after the handshake.
  bool refuse_descriptors = false;
  std::chrono::steady_clock::time_point deadline{};
};

// The client side of the handshake on fd (borrowed: the caller keeps owning and closing it; it must
// outlive this object). Not copyable or movable. Allocates nothing.
class MON_API client_handshake {
 public:
  explicit client_handshake(int fd, const client_options& options = {}) noexcept;
  ~client_handshake();
  client_handshake(const client_handshake&) = delete;
  client_handshake& operator=(const client_handshake&) = delete;

  // Checks the socket (SOCK_STREAM or SOCK_SEQPACKET: SO_TYPE unless options gave it). A socket of
  // another family fails closed at the server. step() runs it if not run yet.
  [[nodiscard]] result<void> start() noexcept;
  // Runs the handshake as far as the socket allows: progress::done once the server accepted,
  // want_read / want_write on a non-blocking socket, or an error (errc::denied: see reason()).
  // Errors are sticky.
  [[nodiscard]] result<progress> step() noexcept;
  // The server's reason after errc::denied; deny_reason::none otherwise, and also when the client
  // itself refused the server (require_server_uid).
  [[nodiscard]] deny_reason reason() const noexcept;
  [[nodiscard]] int fd() const noexcept { return fd_; }
  // Why the handshake failed, for logs (fault::none while it has not, and for failures of our own:
  // I/O, misuse). Callers act on step()'s code; operators read this.
  [[nodiscard]] fault last_fault() const noexcept;
  // Sets (or, with a default time_point, removes) the deadline; errc::invalid once step() started.
  [[nodiscard]] result<void> set_deadline(std::chrono::steady_clock::time_point when) noexcept;

  // Mutual authentication: before the hello is sent, the client asks the kernel who is at the
  // other end (SO_PEERCRED of this socket: the process that called listen(), or socketpair()) and
  // refuses with errc::denied, sending nothing, unless its effective uid is `uid`. Call before the
  // first step() that writes; errc::invalid afterwards, or for uid (uid_t)-1.
  [[nodiscard]] result<void> require_server_uid(uid_t uid) noexcept;
  // The server's kernel credentials (SO_PEERCRED of this socket), at any time. They name whoever
  // created the listening socket: with socket activation, the service manager. docs/IDENTITY.md.
  [[nodiscard]] result<peer_credentials> server_credentials() const noexcept;

 private:
  int fd_;
  alignas(std::max_align_t) unsigned char storage_[detail::handshake_storage];
};

// The server side of the handshake on fd (borrowed: the caller keeps owning and closing it; it must
// outlive this object). The identity it reports (peer()) comes from the kernel, confirmed by the
// credentials the kernel attached to the hello. Not copyable or movable. Allocates nothing.
class MON_API server_handshake {
 public:
  // policy (optional) is asked once the peer is verified; context is passed to it unchanged.
  explicit server_handshake(int fd, server_policy policy = nullptr, void* context = nullptr,
                            const server_options& options = {}) noexcept;
  ~server_handshake();
  server_handshake(const server_handshake&) = delete;
  server_handshake& operator=(const server_handshake&) = delete;

  // Reads SO_TYPE (unless options gave it) and SO_PEERCRED; unless options say prepared_listener,
  // turns SO_PASSRIGHTS off (Linux >= 6.16: the kernel then refuses, with EPERM to the sender, any
  // descriptor sent before the handshake ends) and SO_PASSCRED on. Once the hello is read, before
  // the answer is written, SO_PASSCRED goes off and SO_PASSRIGHTS on (unless refuse_descriptors).
  // A socket that is not AF_UNIX fails closed: no kernel credentials come with the hello (and
  // setting SO_PASSRIGHTS fails). step() runs it if not run yet.
  [[nodiscard]] result<void> start() noexcept;
  // progress::done once the client is verified and accepted; errc::denied after a refusal was sent.
  [[nodiscard]] result<progress> step() noexcept;
  // The verified peer; meaningful only after step() returned progress::done.
  [[nodiscard]] peer_credentials peer() const noexcept;
  [[nodiscard]] deny_reason reason() const noexcept;
  [[nodiscard]] int fd() const noexcept { return fd_; }
  // As client_handshake::last_fault.
  [[nodiscard]] fault last_fault() const noexcept;
  // As client_handshake::set_deadline.
  [[nodiscard]] result<void> set_deadline(std::chrono::steady_clock::time_point when) noexcept;

  // Replaces the policy (and its context) until the peer has been verified; errc::invalid once the
  // decision was taken. A refusal sends deny(policy): the client sees errc::denied and
  // deny_reason::policy, and nothing else is read or written.
  [[nodiscard]] result<void> set_policy(server_policy policy, void* context) noexcept;

  // The peer's pidfd (SO_PEERPIDFD: made from the process the socket recorded at connect(), so it
  // names the process that connected, whenever it is asked, and stays valid if that pid is later
  // reused). Made on the first call after progress::done, and only then (it is the most costly
  // step a handshake could take): peer_pidfd() lends it (owned by this object),
  // take_peer_pidfd() hands it over (once). Errors: errc::invalid (handshake not done, or already
  // taken); errc::unsupported (kernel older than 6.5, ENOPROTOOPT: no pidfd is faked from the
  // pid); errc::closed (the peer has exited and the kernel cannot pin it; kernels >= 6.16 give a
  // pidfd that reports the exit instead); errc::io with sys_errno EMFILE/ENFILE when the
  // descriptor table is full: only this call fails (the next one tries again), the handshake and
  // the connection are not affected.
  [[nodiscard]] result<int> peer_pidfd() const noexcept;
  [[nodiscard]] result<unique_fd> take_peer_pidfd() noexcept;

  // The peer's supplementary groups and security label (query_peer_info on this socket), after
  // progress::done; errc::invalid before.
  [[nodiscard]] result<peer_info> read_peer_info() const noexcept;

 private:
  int fd_;
  alignas(std::max_align_t) unsigned char storage_[detail::handshake_storage];
};

}  // namespace mon
