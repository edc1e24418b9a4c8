// SPDX-License-Identifier: MIT
// A C++ program using the installed library's C++ API: handshake and three descriptors in one
// message over a SOCK_SEQPACKET socketpair. Exits 0 when everything checks out.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <monitor/monitor.hpp>
#include <thread>

int main() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return 2;
  mon::unique_fd client_end(sv[0]), server_end(sv[1]);

  bool client_ok = false;
  std::thread client([&] {
    mon::client_handshake hs(client_end.get());
    if (auto r = hs.step(); !r || r.value() != mon::progress::done) return;
    mon::message_buffer in;
    mon::fd_list fds;
    auto r = mon::receive_message(client_end.get(), in, fds);
    client_ok = r.ok() && fds.size() == 3 && in.size() == 2;
  });

  mon::server_handshake hs(server_end.get());
  auto r = hs.step();
  if (!r) {
    std::fprintf(stderr, "server: %s\n", mon::to_string(r.code()));
    client.join();
    return 1;
  }
  const mon::peer_credentials peer = hs.peer();
  mon::message_buffer out;
  const char text[] = "hi";
  if (!out.append(std::as_bytes(std::span(text, 2)))) return 4;
  const int fds[] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
  auto sent = mon::send_message(server_end.get(), out, fds);
  client.join();
  if (!sent || !client_ok) return 1;
  std::printf("c++ consumer ok: peer pid %d uid %u gid %u\n", static_cast<int>(peer.pid),
              static_cast<unsigned>(peer.uid), static_cast<unsigned>(peer.gid));
  return 0;
}
