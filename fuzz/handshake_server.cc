// SPDX-License-Identifier: MIT
// Fuzz target: the server side of the handshake (src/auth/machines.cc server_machine, collector.cc,
// messages.cc decode_header/check_extensions/encode_*; src/cmsg/control.cc decode and encode).
//
// Input: u8 flags (bit 0 SOCK_SEQPACKET record mode, bit 1 the policy refuses), 12 bytes of
// SO_PEERCRED (pid, uid, gid) as the fake kernel reports it, then events until the machine ends:
//   want read:  an op byte (control_spec.hpp: credentials, descriptors, truncation, end of file),
//               u16 chunk length (clipped to the space the machine offers; glue bugs: 0xffff
//               reports one byte more than that, 0xfffe reports 0 bytes), the chunk's bytes;
//   want write: u8 number of bytes the socket takes (clipped; all of it once the input is used up;
//               0: a glue bug reports one byte more than there was).
//
// Properties: the machine accepts only a hello that docs/PROTOCOL.md calls valid, every read of
// which came with exactly the fake kernel's credentials; the identity it reports is SO_PEERCRED;
// an accept is written only after the policy said yes; a refusal is a well-formed deny whose reason
// the machine reports; every failure is sticky; every descriptor the control data carried is
// closed.
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

// Once failed, nothing moves the machine again.
void check_sticky(mon::auth::server_machine& m) {
  const mon::error e = m.err();
  mon::cmsg::control_data none;
  m.on_read(1, false, {}, none);
  m.decide(true);
  m.on_written(1);
  m.on_eof();
  m.fail({errc::io, 5});
  MON_FUZZ_CHECK(m.next() == want::failed);
  MON_FUZZ_CHECK(m.err() == e);
}

void run(fz::input& in, fz::fd_ledger& ledger) {
  const std::uint8_t flags = in.u8();
  const bool record_mode = flags & 1;
  const bool policy_refuses = flags & 2;
  const mon::peer_credentials kernel_peer = fz::read_credentials(in);

  mon::auth::server_machine m(record_mode, kernel_peer);
  std::vector<std::uint8_t> received;  // every data byte the machine was given
  std::vector<std::uint8_t> written;   // every byte it had the socket take
  bool creds_always_kernels = true;    // each read carried exactly the fake kernel's credentials
  bool data_cut = false;
  bool decided = false, policy_said_yes = false;

  for (int steps = 0; steps < 1024; ++steps) {
    const want w = m.next();
    if (w == want::done || w == want::failed) break;
    if (w == want::read) {
      const auto end = fz::read_step(
          m, in, received,
          fz::control_decoder(in, kernel_peer, mon::auth::server_machine::read_policy(), ledger),
          [&](const fz::decoded_control& ctl) {
            if (!ctl.status || !ctl.had_creds_of_peer_only) creds_always_kernels = false;
            data_cut = data_cut || ctl.data_truncated;
          },
          check_sticky);
      if (end == fz::read_end::glue_bug) return;
      if (end == fz::read_end::stopped) break;
    } else if (w == want::decide) {
      // Verified means: a valid version-1 hello, whole, every piece with the kernel's credentials.
      MON_FUZZ_CHECK(fz::spec::parse(received).kind == fz::spec::msg::hello);
      MON_FUZZ_CHECK(creds_always_kernels);
      MON_FUZZ_CHECK(!(record_mode && data_cut));
      MON_FUZZ_CHECK(m.peer() == kernel_peer);
      decided = true;
      policy_said_yes = !policy_refuses;
      m.decide(policy_said_yes);
    } else {  // want::write
      const auto out = m.output();
      MON_FUZZ_CHECK(!out.empty());
      if (written.empty()) {
        // The whole reply is known before its first byte leaves: judge it now.
        const auto reply = fz::spec::parse(out);
        if (reply.kind == fz::spec::msg::accept) {
          MON_FUZZ_CHECK(decided && policy_said_yes);
        } else {
          MON_FUZZ_CHECK(reply.kind == fz::spec::msg::deny);
          MON_FUZZ_CHECK(reply.deny_reason == static_cast<std::uint16_t>(m.reason()));
          MON_FUZZ_CHECK(reply.deny_reason >= 1 && reply.deny_reason <= 3);
        }
      }
      const std::size_t n = fz::written_chunk(m, in, out.size(), check_sticky);
      if (n == 0) return;  // a glue bug was reported and refused
      written.insert(written.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
      m.on_written(n);
    }
  }

  const auto reply = fz::spec::parse(written);
  if (m.next() == want::done) {
    MON_FUZZ_CHECK(reply.kind == fz::spec::msg::accept);
    MON_FUZZ_CHECK(decided && policy_said_yes && creds_always_kernels);
    MON_FUZZ_CHECK(m.peer() == kernel_peer);
  } else if (m.next() == want::failed) {
    const errc code = m.err().code;
    MON_FUZZ_CHECK(reply.kind != fz::spec::msg::accept);
    if (code == errc::denied) {
      // Refused for credentials or policy, and the deny went out in full first.
      MON_FUZZ_CHECK(reply.kind == fz::spec::msg::deny);
      MON_FUZZ_CHECK(m.reason() == mon::deny_reason::credentials ||
                     m.reason() == mon::deny_reason::policy);
      if (m.reason() == mon::deny_reason::policy) MON_FUZZ_CHECK(decided && !policy_said_yes);
      if (m.reason() == mon::deny_reason::credentials) MON_FUZZ_CHECK(!decided);
    } else {
      MON_FUZZ_CHECK(code == errc::protocol || code == errc::closed || code == errc::truncated);
      if (m.reason() == mon::deny_reason::version) {
        MON_FUZZ_CHECK(reply.kind == fz::spec::msg::deny && code == errc::protocol);
        MON_FUZZ_CHECK(received.size() >= 8 && received[4] != 1 && received[5] == 1);
      }
    }
    check_sticky(m);
  }
  // A valid hello with the kernel's credentials on every piece is never refused for credentials.
  if (creds_always_kernels && !data_cut && fz::spec::parse(received).kind == fz::spec::msg::hello)
    MON_FUZZ_CHECK(m.reason() != mon::deny_reason::credentials);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fz::input in(data, size);
  fz::fd_ledger ledger;
  run(in, ledger);
  ledger.expect_all_closed();
  return 0;
}
