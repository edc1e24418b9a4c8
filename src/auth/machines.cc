// SPDX-License-Identifier: MIT
#include "auth/machines.hpp"

namespace mon::auth {

void machine_base::fail(error e, fault why) noexcept {
  if (want_ == want::failed) return;  // the first error sticks
  want_ = want::failed;
  err_ = e;
  if (why != fault::none) fault_ = why;
}

void machine_base::queue(std::size_t len) noexcept {
  out_len_ = len;
  sent_ = 0;
  want_ = len ? want::write : want::failed;
  if (!len) err_ = {errc::invalid, 0};
}

bool machine_base::consume_output(std::size_t n) noexcept {
  if (want_ != want::write || n > out_len_ - sent_) {
    fail({errc::invalid, 0});
    return false;
  }
  sent_ += n;
  return sent_ == out_len_;
}

// ---- client ------------------------------------------------------------------------------------

client_machine::client_machine(bool record_mode) noexcept : in_(record_mode) {
  queue(encode_hello(out_));
}

void client_machine::on_written(std::size_t n) noexcept {
  if (consume_output(n)) want_ = want::read;
}

void client_machine::on_read(std::size_t n, bool data_truncated, result<void> control,
                             const cmsg::control_data& ctl) noexcept {
  if (want_ != want::read) return fail({errc::invalid, 0});
  // The server sends no descriptors or credentials; read_policy() makes any an error already.
  if (!control) return fail(control.err(), ctl.why);
  if (!ctl.fds.empty()) return fail({errc::protocol, 0}, fault::too_many_descriptors);
  if (ctl.has_credentials) return fail({errc::protocol, 0}, fault::credentials_not_allowed);
  auto st = in_.on_read(n, data_truncated);
  if (!st) return fail(st.err(), in_.last_fault());
  if (st.value() == collector::status::more) return;

  const msg_header h = in_.header();
  if (h.version != version) return fail({errc::protocol, 0}, fault::unknown_version);
  fault why = fault::none;
  if (h.type == static_cast<std::uint8_t>(msg_type::accept)) {
    if (auto ext = check_extensions(in_.body(), &why); !ext) return fail(ext.err(), why);
    want_ = want::done;
    return;
  }
  if (h.type == static_cast<std::uint8_t>(msg_type::deny)) {
    auto reason = parse_deny(in_.body(), &why);
    if (!reason) return fail(reason.err(), why);
    reason_ = reason.value();
    return fail({errc::denied, 0}, fault::denied_by_server);
  }
  fail({errc::protocol, 0}, fault::unexpected_message_type);
}

void client_machine::on_eof() noexcept { fail({errc::closed, 0}, fault::peer_closed); }

void client_machine::verify_server(const peer_credentials& server, uid_t required_uid) noexcept {
  if (hello_started()) return fail({errc::invalid, 0});
  if (server.uid != required_uid) fail({errc::denied, 0}, fault::server_uid_mismatch);
}

// ---- server ------------------------------------------------------------------------------------

server_machine::server_machine(bool record_mode, peer_credentials kernel_peer) noexcept
    : in_(record_mode), kernel_peer_(kernel_peer) {
  want_ = want::read;
}

void server_machine::on_read(std::size_t n, bool data_truncated, result<void> control,
                             const cmsg::control_data& ctl) noexcept {
  if (want_ != want::read) return fail({errc::invalid, 0});
  // Descriptors, unknown or repeated control messages: the glue's decode refused them already, and
  // no reply is sent: the peer is not speaking this protocol.
  if (!control)
    return fail({control.code() == errc::truncated ? errc::truncated : errc::protocol, 0}, ctl.why);

  // Judged once the hello is whole (credentials come after the message's own checks), but noted
  // on every read: the first fault sticks.
  if (creds_fault_ == fault::none) {
    if (!ctl.has_credentials) {
      creds_fault_ = fault::credentials_missing;
    } else if (!hello_creds_) {
      hello_creds_ = ctl.credentials;
    } else if (!(*hello_creds_ == ctl.credentials)) {
      creds_fault_ = fault::credentials_differ_between_reads;
    }
  }

  auto st = in_.on_read(n, data_truncated);
  if (!st) return fail(st.err(), in_.last_fault());
  if (st.value() == collector::status::complete) hello_complete();
}

void server_machine::hello_complete() noexcept {
  const msg_header h = in_.header();
  if (h.type != static_cast<std::uint8_t>(msg_type::hello))
    return fail({errc::protocol, 0}, fault::unexpected_message_type);
  // An unknown version's body was read (body_len bounds it) but is not parsed: its layout is that
  // version's business. The deny says which version this server speaks.
  if (h.version != version)
    return deny(deny_reason::version, errc::protocol, fault::unknown_version);
  if (fault why = fault::none; !check_extensions(in_.body(), &why))
    return fail({errc::protocol, 0}, why);
  // Identity: what the kernel attached to the hello must be what the kernel recorded at connect().
  if (creds_fault_ != fault::none)
    return deny(deny_reason::credentials, errc::denied, creds_fault_);
  if (!hello_creds_ || !(*hello_creds_ == kernel_peer_))
    return deny(deny_reason::credentials, errc::denied, fault::credentials_not_peer);
  want_ = want::decide;
}

void server_machine::decide(bool accept) noexcept {
  if (want_ != want::decide) return fail({errc::invalid, 0});
  if (!accept) return deny(deny_reason::policy, errc::denied, fault::refused_by_policy);
  queue(encode_accept(out_));
}

void server_machine::deny(deny_reason reason, errc final_code, fault why) noexcept {
  reason_ = reason;
  fault_ = why;
  refusal_ = final_code;
  queue(encode_deny(out_, reason));
}

void server_machine::on_written(std::size_t n) noexcept {
  if (!consume_output(n)) return;
  if (refusal_) return fail({*refusal_, 0});
  want_ = want::done;
}

void server_machine::on_eof() noexcept { fail({errc::closed, 0}, fault::peer_closed); }

}  // namespace mon::auth
