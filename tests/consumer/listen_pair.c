/* SPDX-License-Identifier: MIT */
/* The smallest complete C server and client on the listen/connect helpers: the server listens at a
 * path, the client (a child process) connects, both authenticate, the server hands over a
 * descriptor. Exits 0 when the client got it. */
#define _GNU_SOURCE
#include <monitor/monitor.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int client(const char *path) {
  int fd = mon_unix_connect(path, SOCK_STREAM, 0), got = -1;
  void *st = NULL;
  int rc = fd < 0 ? fd : mon_ipc_auth_client_init(fd, &st);
  while (rc == MON_CONTINUE) rc = mon_ipc_auth_client_step(fd, st);
  mon_ipc_auth_client_end(st);
  mon_buffer *buf = mon_buffer_new(0);
  if (rc == MON_OK) rc = buf ? mon_ipc_recv_fd(fd, buf, &got) : MON_ERR_NOMEM;
  mon_buffer_free(buf);
  if (got >= 0) close(got);
  if (fd >= 0) close(fd);
  return rc == MON_OK && got >= 0 ? 0 : 1;
}

int main(void) {
  char dir[] = "/tmp/mon-pair.XXXXXX", path[64];
  if (mkdtemp(dir) == NULL) return 2;
  snprintf(path, sizeof path, "%s/sock", dir);
  int lfd = mon_unix_listen(path, SOCK_STREAM, 0600, 0), conn = -1;
  if (lfd < 0) return 2;
  pid_t pid = fork();
  if (pid == 0) _exit(client(path));
  int rc = mon_unix_accept(lfd, 0, &conn);
  mon_ipc_creds peer;
  void *st = NULL;
  if (rc == MON_OK) rc = mon_ipc_auth_server_init(conn, &peer, &st);
  while (rc == MON_CONTINUE) rc = mon_ipc_auth_server_step(conn, st);
  mon_ipc_auth_server_end(st);
  mon_buffer *buf = mon_buffer_new(0);
  if (rc == MON_OK) rc = buf ? mon_ipc_send_fd(conn, buf, STDIN_FILENO) : MON_ERR_NOMEM;
  mon_buffer_free(buf);
  int status = 1;
  waitpid(pid, &status, 0);
  unlink(path);
  rmdir(dir);
  printf("listen pair: server %s, client exit %d\n", mon_strerror(rc), WEXITSTATUS(status));
  return rc == MON_OK && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
