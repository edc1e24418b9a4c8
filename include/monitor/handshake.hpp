// The authentication handshake, C++ side: mon::client_handshake and mon::server_handshake.
//
// Both borrow a connected AF_UNIX SOCK_STREAM or SOCK_SEQPACKET socket (the caller keeps owning it)
// and run one round trip: the client's hello travels with SCM_CREDENTIALS that the kernel checks,
// the server compares them with SO_PEERCRED and answers accept or deny. step() works on blocking
// and non-blocking sockets alike; neither object allocates.
#pragma once

#include <cstddef>
#include <cstdint>

#include "monitor/credentials.hpp"
#include "monitor/deny_reason.hpp"
#include "monitor/export.h"
#include "monitor/peer_info.hpp"
#include "monitor/result.hpp"
#include "monitor/unique_fd.hpp"

namespace mon {

// Decides, once the peer's identity is verified, whether the server accepts it. Must not throw.
using server_policy = bool (*)(const peer_credentials& peer, void* context) noexcept;

namespace detail {
inline constexpr std::size_t handshake_storage = 1024;
}

// The client side of the handshake on fd (borrowed: the caller keeps owning and closing it; it must
// outlive this object). Not copyable or movable. Allocates nothing.
class MON_API client_handshake {
 public:
  explicit client_handshake(int fd) noexcept;
  ~client_handshake();
  client_handshake(const client_handshake&) = delete;
  client_handshake& operator=(const client_handshake&) = delete;

  // Checks the socket (AF_UNIX, SOCK_STREAM or SOCK_SEQPACKET). step() runs it if not run yet.
  [[nodiscard]] result<void> start() noexcept;
  // Runs the handshake as far as the socket allows: progress::done once the server accepted,
  // want_read / want_write on a non-blocking socket, or an error (errc::denied: see reason()).
  // Errors are sticky.
  [[nodiscard]] result<progress> step() noexcept;
  // The server's reason after errc::denied; deny_reason::none otherwise, and also when the client
  // itself refused the server (require_server_uid).
  [[nodiscard]] deny_reason reason() const noexcept;
  [[nodiscard]] int fd() const noexcept { return fd_; }

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
  explicit server_handshake(int fd, server_policy policy = nullptr,
                            void* context = nullptr) noexcept;
  ~server_handshake();
  server_handshake(const server_handshake&) = delete;
  server_handshake& operator=(const server_handshake&) = delete;

  // Checks the socket, reads SO_PEERCRED and SO_PEERPIDFD, turns SO_PASSRIGHTS off (Linux >= 6.16:
  // the kernel then refuses, with EPERM to the sender, any descriptor sent before the handshake
  // ends) and SO_PASSCRED on. Both are put back before the answer is written (SO_PASSRIGHTS to the
  // value it had). step() runs it if not run yet.
  [[nodiscard]] result<void> start() noexcept;
  // progress::done once the client is verified and accepted; errc::denied after a refusal was sent.
  [[nodiscard]] result<progress> step() noexcept;
  // The verified peer; meaningful only after step() returned progress::done.
  [[nodiscard]] peer_credentials peer() const noexcept;
  [[nodiscard]] deny_reason reason() const noexcept;
  [[nodiscard]] int fd() const noexcept { return fd_; }

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
