// SPDX-License-Identifier: MIT
// Fuzz target: the client side of the handshake (src/auth/machines.cc client_machine, collector.cc,
// messages.cc decode_header/check_extensions/parse_deny/encode_hello; src/cmsg/control.cc decode).
//
// Input: u8 flags (bit 0 SOCK_SEQPACKET record mode; bit 1 mutual authentication first: 12 bytes
// of the server's SO_PEERCRED and a u32 required uid follow; bit 2 the same check asked again
// once the hello started, which is a misuse; bit 3 the glue decodes control data with a permissive
// policy, up to 3 descriptors and credentials, instead of read_policy()), then events until the
// machine ends:
//   want write: u8 number of bytes the socket takes (clipped; all of it once the input is used up;
//               0: a glue bug reports one byte more than there was);
//   want read:  an op byte (control_spec.hpp), u16 chunk length (clipped; glue bugs: 0xffff
//               reports one byte more than there was room for, 0xfffe reports 0 bytes), the
//               chunk's bytes.
//
// Properties: the hello is exactly the 8 bytes docs/PROTOCOL.md gives; the client is done only
// after a reply docs/PROTOCOL.md calls a valid accept, with no control data at all on any read; a
// deny ends in errc::denied with the reason it carried; a server whose uid is not the required one
// gets no hello at all; a glue that lets descriptors or credentials through its decode still
// gets no further than a protocol error; every failure is sticky; every descriptor the control data
// carried is closed.
#include <cstring>
#include <vector>

#include "auth/machines.hpp"
#include "control_spec.hpp"
#include "fuzz_support.hpp"
#include "handshake_oracle.hpp"

namespace {

using mon::errc;
using mon::auth::want;
namespace fz = mon::fuzz;

constexpr std::uint8_t hello_v1[] = {'m', 'o', 'n', 'H', 1, 1, 0, 0};

void check_sticky(mon::auth::client_machine& m) {
  const mon::error e = m.err();
  const mon::deny_reason why = m.reason();
  mon::cmsg::control_data none;
  m.on_read(1, false, {}, none);
  m.on_written(1);
  m.on_eof();
  m.fail({errc::io, 5});
  MON_FUZZ_CHECK(m.next() == want::failed);
  MON_FUZZ_CHECK(m.err() == e && m.reason() == why);
}

void run(fz::input& in, fz::fd_ledger& ledger) {
  const std::uint8_t flags = in.u8();
  const bool record_mode = flags & 1;
  // What the fake kernel would attach if the client had asked for credentials (it never does).
  const mon::peer_credentials server_creds{1, 0, 0};

  mon::auth::client_machine m(record_mode);
  MON_FUZZ_CHECK(m.next() == want::write && !m.hello_started());
  {
    const auto out = m.output();
    MON_FUZZ_CHECK(out.size() == sizeof hello_v1 &&
                   std::memcmp(out.data(), hello_v1, out.size()) == 0);
  }
  if (flags & 2) {
    const mon::peer_credentials server = fz::read_credentials(in);
    const auto required = static_cast<uid_t>(in.u32());
    m.verify_server(server, required);
    if (server.uid != required) {
      // Refused by us before a byte left: nothing to write, no reason from the server.
      MON_FUZZ_CHECK(m.next() == want::failed && m.err().code == errc::denied);
      MON_FUZZ_CHECK(m.reason() == mon::deny_reason::none);
      MON_FUZZ_CHECK(m.hello_started());  // "moved past writing it": too late to verify again
      check_sticky(m);
      return;
    }
    MON_FUZZ_CHECK(m.next() == want::write && !m.hello_started());
  }
  bool misuse_pending = (flags & 4) != 0;
  // A glue bug: decoding with a policy that lets descriptors and credentials through. The machine
  // must refuse them itself (checked below: done only with clean control data on every read).
  const mon::cmsg::policy policy =
      flags & 8 ? mon::cmsg::policy{3, true} : mon::auth::client_machine::read_policy();

  std::vector<std::uint8_t> received;
  std::size_t written = 0;
  bool control_always_clean = true;
  bool data_cut = false;

  for (int steps = 0; steps < 1024; ++steps) {
    const want w = m.next();
    if (w == want::done || w == want::failed) break;
    MON_FUZZ_CHECK(w == want::write || w == want::read);  // a client never decides
    if (w == want::write) {
      const auto out = m.output();
      MON_FUZZ_CHECK(!out.empty() && written + out.size() == sizeof hello_v1);
      const std::size_t n = fz::written_chunk(m, in, out.size(), check_sticky);
      if (n == 0) return;  // a glue bug was reported and refused
      written += n;
      m.on_written(n);
      MON_FUZZ_CHECK(m.hello_started());
      if (misuse_pending) {  // too late to check the server: the hello is on its way
        misuse_pending = false;
        m.verify_server({}, 0);
        MON_FUZZ_CHECK(m.next() == want::failed && m.err().code == errc::invalid);
      }
      continue;
    }
    MON_FUZZ_CHECK(written == sizeof hello_v1);  // no reply is read before the hello is out
    const auto end = fz::read_step(
        m, in, received, fz::control_decoder(in, server_creds, policy, ledger),
        [&](const fz::decoded_control& ctl) {
          const bool clean = ctl.status.ok() && ctl.data.fds.empty() && !ctl.data.has_credentials;
          control_always_clean = control_always_clean && clean;
          data_cut = data_cut || ctl.data_truncated;
        },
        check_sticky);
    if (end == fz::read_end::glue_bug) return;
    if (end == fz::read_end::stopped) break;
  }

  const auto reply = fz::spec::parse(received);
  const bool cut = record_mode && data_cut;
  if (m.next() == want::done) {
    MON_FUZZ_CHECK(reply.kind == fz::spec::msg::accept && control_always_clean && !cut);
    MON_FUZZ_CHECK(m.reason() == mon::deny_reason::none);
  } else if (m.next() == want::failed) {
    const errc code = m.err().code;
    if (code == errc::denied) {
      MON_FUZZ_CHECK(reply.kind == fz::spec::msg::deny && control_always_clean && !cut);
      MON_FUZZ_CHECK(static_cast<std::uint16_t>(m.reason()) == reply.deny_reason);
    } else {
      MON_FUZZ_CHECK(code == errc::protocol || code == errc::closed || code == errc::truncated ||
                     (code == errc::invalid && (flags & 4)));
      MON_FUZZ_CHECK(m.reason() == mon::deny_reason::none);
    }
    check_sticky(m);
  }
  // Completeness: a clean, whole, valid reply is always understood.
  if (control_always_clean && !cut) {
    if (reply.kind == fz::spec::msg::accept) MON_FUZZ_CHECK(m.next() == want::done);
    if (reply.kind == fz::spec::msg::deny)
      MON_FUZZ_CHECK(m.next() == want::failed && m.err().code == errc::denied);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fz::input in(data, size);
  fz::fd_ledger ledger;
  run(in, ledger);
  ledger.expect_all_closed();
  return 0;
}
