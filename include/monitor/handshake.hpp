// The authentication handshake, C++ side: mon::client_handshake and mon::server_handshake.
//
// Both borrow a connected AF_UNIX SOCK_STREAM or SOCK_SEQPACKET socket (the caller keeps owning it)
// and run one round trip: the client's hello travels with SCM_CREDENTIALS that the kernel checks, the
// server compares them with SO_PEERCRED and answers accept or deny. step() works on blocking and
// non-blocking sockets alike; neither object allocates.
#pragma once

#include <cstddef>
#include <cstdint>

#include "monitor/credentials.hpp"
#include "monitor/export.h"
#include "monitor/result.hpp"

namespace mon {

// Why a server refused, as carried in its deny message.
enum class deny_reason : std::uint16_t {
  none = 0,
  credentials = 1,  // kernel credentials missing, or the sender is not the process that connected
  policy = 2,       // the server's policy refused this peer
  version = 3,      // the server does not speak the client's protocol version
};

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
  // The server's reason after errc::denied; deny_reason::none otherwise.
  [[nodiscard]] deny_reason reason() const noexcept;
  [[nodiscard]] int fd() const noexcept { return fd_; }

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
  explicit server_handshake(int fd, server_policy policy = nullptr, void* context = nullptr) noexcept;
  ~server_handshake();
  server_handshake(const server_handshake&) = delete;
  server_handshake& operator=(const server_handshake&) = delete;

  // Checks the socket, reads SO_PEERCRED and turns SO_PASSCRED on. step() runs it if not run yet.
  [[nodiscard]] result<void> start() noexcept;
  // progress::done once the client is verified and accepted; errc::denied after a refusal was sent.
  [[nodiscard]] result<progress> step() noexcept;
  // The verified peer; meaningful only after step() returned progress::done.
  [[nodiscard]] peer_credentials peer() const noexcept;
  [[nodiscard]] deny_reason reason() const noexcept;
  [[nodiscard]] int fd() const noexcept { return fd_; }

 private:
  int fd_;
  alignas(std::max_align_t) unsigned char storage_[detail::handshake_storage];
};

}  // namespace mon
