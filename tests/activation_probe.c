/* SPDX-License-Identifier: MIT */
/* Started by systemd-socket-activate in tests/listener_test.cc: takes the passed socket through the
 * C ABI, accepts one client, authenticates it and sends it what it found, as one line. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <monitor/monitor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
  alarm(10); /* never outlive the test */
  mon_listen_socket socks[4];
  size_t n = 0;
  int rc = mon_listen_fds(0, 0, socks, 4, &n);
  if (rc != MON_OK || n < 1) return 10;
  const int cleared = !getenv("LISTEN_PID") && !getenv("LISTEN_FDS") && !getenv("LISTEN_FDNAMES");
  const int cloexec = (fcntl(socks[0].fd, F_GETFD) & FD_CLOEXEC) != 0;
  int passcred = 0;
  socklen_t len = sizeof passcred;
  if (getsockopt(socks[0].fd, SOL_SOCKET, SO_PASSCRED, &passcred, &len) != 0) return 11;

  int conn = -1;
  if (mon_unix_accept(socks[0].fd, 0, &conn) != MON_OK) return 12;
  mon_ipc_creds peer;
  void *st = NULL;
  rc = mon_ipc_auth_server_init(conn, &peer, &st);
  while (rc == MON_CONTINUE) rc = mon_ipc_auth_server_step(conn, st);
  mon_ipc_auth_server_end(st);
  if (rc != MON_OK) return 13;

  char line[512];
  const int len_line =
      snprintf(line, sizeof line, "sockets=%zu fd=%d name=%s type=%s cloexec=%d passcred=%d env=%s",
               n, socks[0].fd, socks[0].name, socks[0].type == SOCK_STREAM ? "stream" : "seqpacket",
               cloexec, passcred, cleared ? "cleared" : "kept");
  mon_buffer *out = mon_buffer_new(0);
  if (out == NULL || len_line < 0) return 14;
  rc = mon_buffer_append(out, line, (size_t)len_line);
  if (rc == MON_OK) rc = mon_ipc_send_fd(conn, out, -1);
  mon_buffer_free(out);
  close(conn);
  return rc == MON_OK ? 0 : 15;
}
