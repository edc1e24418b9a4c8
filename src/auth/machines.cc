#include "auth/machines.hpp"

namespace mon::auth {

void machine_base::fail(error e) noexcept {
  if (want_ == want::failed) return;  // the first error sticks
  want_ = want::failed;
  err_ = e;
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
  if (!control || !ctl.fds.empty() || ctl.has_credentials) {
    return fail({control.ok() ? errc::protocol : control.code(), 0});
  }
  auto st = in_.on_read(n, data_truncated);
  if (!st) return fail(st.err());
  if (st.value() == collector::status::more) return;

  const msg_header h = in_.header();
  if (h.version != version) return fail({errc::protocol, 0});
  if (h.type == static_cast<std::uint8_t>(msg_type::accept)) {
    if (auto ext = check_extensions(in_.body()); !ext) return fail(ext.err());
    want_ = want::done;
    return;
  }
  if (h.type == static_cast<std::uint8_t>(msg_type::deny)) {
    auto why = parse_deny(in_.body());
    if (!why) return fail(why.err());
    reason_ = why.value();
    return fail({errc::denied, 0});
  }
  fail({errc::protocol, 0});
}

void client_machine::on_eof() noexcept { fail({errc::closed, 0}); }

void client_machine::verify_server(const peer_credentials& server, uid_t required_uid) noexcept {
  if (hello_started()) return fail({errc::invalid, 0});
  if (server.uid != required_uid) fail({errc::denied, 0});
}

// ---- server ------------------------------------------------------------------------------------

server_machine::server_machine(bool record_mode, peer_credentials kernel_peer) noexcept
    : in_(record_mode), kernel_peer_(kernel_peer) {
  want_ = want::read;
}

void server_machine::on_read(std::size_t n, bool data_truncated, result<void> control,
                             const cmsg::control_data& ctl) noexcept {
  if (want_ != want::read) return fail({errc::invalid, 0});
  // Descriptors, unknown or repeated control messages: the glue's decode refused them already.
  if (!control)
    return fail({control.code() == errc::truncated ? errc::truncated : errc::protocol, 0});

  if (!ctl.has_credentials) {
    creds_bad_ = true;
  } else if (!creds_seen_) {
    hello_creds_ = ctl.credentials;
    creds_seen_ = true;
  } else if (!(hello_creds_ == ctl.credentials)) {
    creds_bad_ = true;
  }

  auto st = in_.on_read(n, data_truncated);
  if (!st) return fail(st.err());
  if (st.value() == collector::status::complete) hello_complete();
}

void server_machine::hello_complete() noexcept {
  const msg_header h = in_.header();
  if (h.type != static_cast<std::uint8_t>(msg_type::hello)) return fail({errc::protocol, 0});
  if (h.version != version) return deny(deny_reason::version, errc::protocol);
  if (auto ext = check_extensions(in_.body()); !ext) return fail(ext.err());
  // Identity: what the kernel attached to the hello must be what the kernel recorded at connect().
  if (creds_bad_ || !creds_seen_ || !(hello_creds_ == kernel_peer_))
    return deny(deny_reason::credentials, errc::denied);
  want_ = want::decide;
}

void server_machine::decide(bool accept) noexcept {
  if (want_ != want::decide) return fail({errc::invalid, 0});
  if (!accept) return deny(deny_reason::policy, errc::denied);
  queue(encode_accept(out_));
}

void server_machine::deny(deny_reason why, errc final_code) noexcept {
  reason_ = why;
  refusing_ = true;
  final_code_ = final_code;
  queue(encode_deny(out_, why));
}

void server_machine::on_written(std::size_t n) noexcept {
  if (!consume_output(n)) return;
  if (refusing_) return fail({final_code_, 0});
  want_ = want::done;
}

void server_machine::on_eof() noexcept { fail({errc::closed, 0}); }

}  // namespace mon::auth
