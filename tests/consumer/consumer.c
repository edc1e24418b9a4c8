/* SPDX-License-Identifier: MIT */
/* A C program using the installed library: authenticates a peer over a socketpair (the client runs
 * on a thread of this process) and passes it a descriptor. Exits 0 when everything checks out. */
#define _GNU_SOURCE
#include <monitor/monitor.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void *client(void *arg) {
  int fd = *(int *)arg;
  void *st = NULL;
  static int rc;
  rc = mon_ipc_auth_client_init(fd, &st);
  while (rc == MON_CONTINUE) rc = mon_ipc_auth_client_step(fd, st);
  mon_ipc_auth_client_end(st);
  if (rc == MON_OK) {
    mon_buffer *in = mon_buffer_new(0);
    int got = -1;
    rc = in ? mon_ipc_recv_fd(fd, in, &got) : MON_ERR_NOMEM;
    if (rc == MON_OK &&
        (got < 0 || mon_buffer_len(in) != 5 || memcmp(mon_buffer_data(in), "hello", 5)))
      rc = MON_ERR_PROTOCOL;
    if (got >= 0) close(got);
    mon_buffer_free(in);
  }
  return &rc;
}

int main(void) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 2;
  pthread_t t;
  pthread_create(&t, NULL, client, &sv[0]);

  mon_ipc_creds peer;
  void *st = NULL;
  int rc = mon_ipc_auth_server_init(sv[1], &peer, &st);
  while (rc == MON_CONTINUE) rc = mon_ipc_auth_server_step(sv[1], st);
  mon_ipc_auth_server_end(st);
  if (rc != MON_OK) {
    fprintf(stderr, "server: %s\n", mon_strerror(rc));
    return 1;
  }
  if (peer.pid != getpid() || peer.uid != geteuid() || peer.gid != getegid()) return 3;

  mon_buffer *out = mon_buffer_new(0);
  rc = mon_buffer_append(out, "hello", 5);
  if (rc == MON_OK) rc = mon_ipc_send_fd(sv[1], out, STDIN_FILENO);
  mon_buffer_free(out);

  void *client_rc;
  pthread_join(t, &client_rc);
  if (rc != MON_OK || *(int *)client_rc != MON_OK) {
    fprintf(stderr, "send: %s, client: %s\n", mon_strerror(rc), mon_strerror(*(int *)client_rc));
    return 1;
  }
  printf("c consumer ok: peer pid %d uid %u gid %u\n", (int)peer.pid, (unsigned)peer.uid,
         (unsigned)peer.gid);
  return 0;
}
