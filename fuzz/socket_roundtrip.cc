// SPDX-License-Identifier: MIT
// Fuzz target: the real system-call path (src/sys/socket.cc receive/send, src/core/message.cc,
// src/core/handshake.cc, src/capi/monitor_capi.cc) through a real AF_UNIX socketpair.
//
// Input: u8 flags: bit 0 SOCK_SEQPACKET; bits 1-2 mode (0 raw frames into mon_ipc_recv_fd, 1 the
// server handshake over raw client bytes, 2 mon_ipc_send_fd -> mon_ipc_recv_fd round trip, 3 as 0);
// bit 3 SO_PASSCRED on the receiver (frames); bit 4 shut the sender's side down after sending;
// then sends, each an op byte (bits 0-2 descriptors attached, 0..7; bit 3 SCM_CREDENTIALS with our
// own credentials; bit 4 with the uid off by one: refused by the kernel unless we may claim it),
// u16 length (at most 512), the bytes. Everything goes through a non-blocking socket and is
// bounded (< 16 KiB), so nothing ever blocks.
//
// Properties: every descriptor the process had before the input is open after it and no other one
// is (counted in /proc/self/fd); a received descriptor is one we sent; the server reports success
// only with the credentials the kernel gave (SO_PEERCRED of our own socketpair) and leaves the
// caller's struct alone otherwise, and its reply is the accept (or a deny) docs/PROTOCOL.md gives;
// in the round trip every message comes back exactly, with its descriptor.
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "fuzz_support.hpp"
#include "handshake_oracle.hpp"
#include "monitor/monitor.h"
#include "monitor/refused_fds.hpp"

namespace {

namespace fz = mon::fuzz;

constexpr std::size_t max_chunk = 512;
constexpr std::size_t max_total = 16 * 1024;

struct sent_message {
  std::vector<std::uint8_t> bytes;
  bool with_fd = false;
};

// One sendmsg of bytes with k real descriptors and optionally credentials. False: not sent.
bool raw_send(int fd, std::span<const std::uint8_t> bytes, std::size_t k, int creds_mode,
              fz::fd_ledger& ledger) {
  alignas(
      cmsghdr) unsigned char control[CMSG_SPACE(8 * sizeof(int)) + CMSG_SPACE(sizeof(ucred))] = {};
  std::size_t used = 0;
  std::vector<int> fds;
  for (std::size_t i = 0; i < k; ++i) fds.push_back(ledger.make());
  auto put = [&](int type, const void* data, std::size_t len) {
    cmsghdr h{};
    h.cmsg_len = CMSG_LEN(len);
    h.cmsg_level = SOL_SOCKET;
    h.cmsg_type = type;
    std::memcpy(control + used, &h, sizeof h);
    std::memcpy(control + used + CMSG_LEN(0), data, len);
    used += CMSG_SPACE(len);
  };
  if (k) put(SCM_RIGHTS, fds.data(), k * sizeof(int));
  if (creds_mode) {
    ucred c{::getpid(), ::geteuid() + (creds_mode == 2 ? 1 : 0), ::getegid()};
    put(SCM_CREDENTIALS, &c, sizeof c);
  }
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = used ? control : nullptr;
  msg.msg_controllen = used;
  const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  for (int d : fds) ::close(d);  // the kernel holds its own references to what went out
  return n == static_cast<ssize_t>(bytes.size());
}

void send_all(fz::input& in, int fd, fz::fd_ledger& ledger) {
  std::size_t total = 0;
  while (!in.empty() && total < max_total) {
    const std::uint8_t opb = in.u8();
    std::size_t len = in.u16() % (max_chunk + 1);
    const auto bytes = in.bytes(len);
    const int creds_mode = opb & 0x10 ? 2 : (opb & 0x08 ? 1 : 0);
    if (bytes.empty() && !(opb & 7)) continue;  // nothing to send: an empty record reads as EOF
    if (!raw_send(fd, bytes, opb & 7, creds_mode, ledger)) break;
    total += bytes.size();
  }
}

void receive_frames(int fd) {
  mon_buffer* buf = mon_buffer_new(1024);
  MON_FUZZ_CHECK(buf != nullptr);
  for (int i = 0; i < 256; ++i) {
    int got = -1;
    const int rc = mon_ipc_recv_fd(fd, buf, &got);
    if (rc != MON_OK) {
      MON_FUZZ_CHECK(got == -1);
      MON_FUZZ_CHECK(rc == MON_WANT_READ || rc == MON_ERR_CLOSED || rc == MON_ERR_PROTOCOL ||
                     rc == MON_ERR_TOOBIG || rc == MON_ERR_TRUNCATED);
      if (rc == MON_WANT_READ || rc == MON_ERR_CLOSED) break;
      continue;  // the stream may or may not be usable: keep reading, nothing may leak
    }
    MON_FUZZ_CHECK(mon_buffer_len(buf) <= 1024);
    if (got >= 0) {
      MON_FUZZ_CHECK(fz::fd_ledger::same_file(got));  // only ever one of ours
      ::close(got);
    }
  }
  mon_buffer_free(buf);
}

void handshake(fz::input& in, int client, int server, fz::fd_ledger& ledger, bool shut) {
  mon_ipc_creds creds{};
  void* st = nullptr;
  int rc = mon_ipc_auth_server_init(server, &creds, &st);
  MON_FUZZ_CHECK(rc == MON_CONTINUE && st != nullptr);
  send_all(in, client, ledger);
  if (shut) ::shutdown(client, SHUT_WR);
  for (int i = 0; i < 64 && rc == MON_CONTINUE; ++i) rc = mon_ipc_auth_server_step(server, st);
  mon_ipc_auth_server_end(st);

  if (rc == MON_OK) {
    // Exactly what the kernel says about the other end of our own socketpair: us.
    MON_FUZZ_CHECK(creds.pid == ::getpid() && creds.uid == ::geteuid() && creds.gid == ::getegid());
  } else {
    MON_FUZZ_CHECK(creds.pid == MON_IPC_PID_UNKNOWN && creds.uid == static_cast<uid_t>(-1) &&
                   creds.gid == MON_IPC_GID_UNKNOWN);
  }
  std::uint8_t reply[512];
  const ssize_t n = ::recv(client, reply, sizeof reply, MSG_DONTWAIT);
  const auto parsed = fz::spec::parse({reply, n > 0 ? static_cast<std::size_t>(n) : 0});
  if (rc == MON_OK) MON_FUZZ_CHECK(parsed.kind == fz::spec::msg::accept);
  if (rc == MON_ERR_DENIED) MON_FUZZ_CHECK(parsed.kind == fz::spec::msg::deny);
  if (parsed.kind == fz::spec::msg::accept) MON_FUZZ_CHECK(rc == MON_OK);
}

void round_trip(fz::input& in, int tx, int rx) {
  mon_buffer* out = mon_buffer_new(max_chunk);
  mon_buffer* back = mon_buffer_new(max_chunk);
  MON_FUZZ_CHECK(out && back);
  std::vector<sent_message> sent;
  std::size_t total = 0;
  while (!in.empty() && total < max_total && sent.size() < 32) {
    const std::uint8_t opb = in.u8();
    const auto bytes = in.bytes(in.u16() % (max_chunk + 1));
    mon_buffer_clear(out);
    MON_FUZZ_CHECK(mon_buffer_append(out, bytes.data(), bytes.size()) == MON_OK);
    const int give = opb & 1 ? fz::fd_ledger::origin() : -1;
    if (mon_ipc_send_fd(tx, out, give) != MON_OK) break;
    sent.push_back({{bytes.begin(), bytes.end()}, give >= 0});
    total += bytes.size() + 8;
  }
  for (const auto& m : sent) {
    int got = -1;
    MON_FUZZ_CHECK(mon_ipc_recv_fd(rx, back, &got) == MON_OK);
    MON_FUZZ_CHECK(mon_buffer_len(back) == m.bytes.size());
    MON_FUZZ_CHECK(m.bytes.empty() ||
                   std::memcmp(mon_buffer_data(back), m.bytes.data(), m.bytes.size()) == 0);
    MON_FUZZ_CHECK((got >= 0) == m.with_fd);
    if (got >= 0) {
      MON_FUZZ_CHECK(got != fz::fd_ledger::origin() && fz::fd_ledger::same_file(got));
      ::close(got);
    }
  }
  int none = -1;
  MON_FUZZ_CHECK(mon_ipc_recv_fd(rx, back, &none) == MON_WANT_READ && none == -1);
  mon_buffer_free(out);
  mon_buffer_free(back);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fz::close_refused_inline();
  fz::input in(data, size);
  const std::uint8_t flags = in.u8();
  const int type = flags & 1 ? SOCK_SEQPACKET : SOCK_STREAM;
  const int mode = (flags >> 1) & 3;
  (void)fz::fd_ledger::origin();  // opened once, before the first count
  const int before = fz::open_fd_count();
  {
    fz::fd_ledger ledger;
    int sv[2];
    MON_FUZZ_CHECK(::socketpair(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0);
    if (mode == 1) {
      handshake(in, sv[0], sv[1], ledger, flags & 0x10);
    } else if (mode == 2) {
      round_trip(in, sv[0], sv[1]);
    } else {
      if (flags & 0x08) {
        const int on = 1;
        MON_FUZZ_CHECK(::setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0);
      }
      send_all(in, sv[0], ledger);
      if (flags & 0x10) ::shutdown(sv[0], SHUT_WR);
      receive_frames(sv[1]);
    }
    ::close(sv[0]);
    ::close(sv[1]);
    ledger.expect_all_closed();
  }
  MON_FUZZ_CHECK(fz::open_fd_count() == before);
  return 0;
}
