// SPDX-License-Identifier: MIT
// The handshake state machines (docs/PROTOCOL.md, "Handshake"). Pure: each takes what arrived
// (bytes, decoded control data, the kernel's view of the peer) and says what to do next. The glue
// in src/core/ does the I/O; fuzzers and tests drive these directly.
//
// clang-format off
//
//   client:  write(hello) --written--> read(reply) --accept--> done
//                                                  --deny----> failed(denied)
//                                                  --malformed, unknown version--> failed(protocol)
//
//   server:  read(hello) --whole, type hello, version 1, extensions ok, credentials ok--> decide
//                 |                                             decide --accept--> write(accept)
//                 |                                             decide --refuse--> write(deny policy)
//                 |--credentials missing, differing or not SO_PEERCRED-----------> write(deny credentials)
//                 |--version not 1---------------------------------------------> write(deny version)
//                 '--control data, bad magic, body_len, record, type, extensions--> failed(protocol)
//
//            write(accept) --written--> done
//            write(deny policy | deny credentials) --written--> failed(denied)
//            write(deny version) --written--> failed(protocol)
//
// clang-format on
//
// The server judges a hello in this order, and the first check that fails decides the answer
// (docs/PROTOCOL.md, "Order of the server's checks"): control data of each read, magic, body_len,
// (record length), type, version, extensions, credentials, policy. Every failure is sticky, and
// last_fault() says what it was.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "auth/collector.hpp"
#include "auth/messages.hpp"
#include "cmsg/control.hpp"
#include "monitor/credentials.hpp"
#include "monitor/deny_reason.hpp"
#include "monitor/fault.hpp"

namespace mon::auth {

enum class want : std::uint8_t { write, read, decide, done, failed };

// State common to both sides: the outgoing message and the sticky error.
class machine_base {
 public:
  [[nodiscard]] want next() const noexcept { return want_; }
  [[nodiscard]] error err() const noexcept { return err_; }
  [[nodiscard]] deny_reason reason() const noexcept { return reason_; }
  // What was wrong with the peer, once it is refused or the handshake failed because of it (also
  // while a deny is still being written); fault::none for failures of our own (I/O, misuse).
  [[nodiscard]] fault last_fault() const noexcept { return fault_; }
  // Unsent bytes of the outgoing message (want::write).
  [[nodiscard]] std::span<const std::uint8_t> output() const noexcept {
    return std::span<const std::uint8_t>(out_).subspan(sent_, out_len_ - sent_);
  }
  // The glue reports a failure of its own (I/O error, peer gone); why, if not none, says what the
  // peer did. The first failure sticks.
  void fail(error e, fault why = fault::none) noexcept;

 protected:
  void queue(std::size_t len) noexcept;
  bool consume_output(std::size_t n) noexcept;  // true once all is written

  message_bytes out_{};
  std::size_t out_len_ = 0;
  std::size_t sent_ = 0;
  want want_ = want::read;
  error err_{};
  deny_reason reason_ = deny_reason::none;
  fault fault_ = fault::none;
};

class client_machine : public machine_base {
 public:
  explicit client_machine(bool record_mode) noexcept;

  // The hello must travel with the client's own credentials (SCM_CREDENTIALS) on every write.
  static constexpr bool attach_credentials = true;
  [[nodiscard]] static cmsg::policy read_policy() noexcept { return {0, false}; }

  void on_written(std::size_t n) noexcept;
  [[nodiscard]] std::span<std::uint8_t> input_space() noexcept { return in_.space(); }
  // A read of n >= 1 bytes; control is what cmsg::decode made of its control data (ctl), which
  // read_policy() makes an error for anything at all: the server sends no control data.
  void on_read(std::size_t n, bool data_truncated, result<void> control,
               const cmsg::control_data& ctl) noexcept;
  void on_eof() noexcept;

  // Mutual authentication, before the hello leaves: server is the kernel's SO_PEERCRED of the
  // client's socket (whoever called listen() or socketpair()). Unless its uid is required_uid the
  // machine fails with errc::denied and never offers the hello (reason() stays none: the refusal
  // is ours, not the server's). Called after a byte of the hello went out: errc::invalid.
  void verify_server(const peer_credentials& server, uid_t required_uid) noexcept;
  // True once any of the hello was written (or the machine moved past writing it).
  [[nodiscard]] bool hello_started() const noexcept { return sent_ != 0 || want_ != want::write; }

 private:
  collector in_;
};

class server_machine : public machine_base {
 public:
  // kernel_peer is SO_PEERCRED of the connection.
  server_machine(bool record_mode, peer_credentials kernel_peer) noexcept;

  [[nodiscard]] static cmsg::policy read_policy() noexcept { return {0, true}; }

  [[nodiscard]] std::span<std::uint8_t> input_space() noexcept { return in_.space(); }
  // A read of n >= 1 bytes with what cmsg::decode made of its control data: every read of the
  // hello must carry the same kernel credentials.
  void on_read(std::size_t n, bool data_truncated, result<void> control,
               const cmsg::control_data& ctl) noexcept;
  void on_eof() noexcept;
  // want::decide: the peer is verified (peer()); accept or refuse it.
  void decide(bool accept) noexcept;
  void on_written(std::size_t n) noexcept;

  [[nodiscard]] peer_credentials peer() const noexcept { return kernel_peer_; }

 private:
  void hello_complete() noexcept;
  void deny(deny_reason reason, errc final_code, fault why) noexcept;

  collector in_;
  peer_credentials kernel_peer_;
  std::optional<peer_credentials> hello_creds_;  // those of the first read of the hello
  fault creds_fault_ = fault::none;  // a read without credentials, or with different ones
  std::optional<errc> refusal_;      // a deny is queued: what the handshake ends in once it is sent
};

}  // namespace mon::auth
