/* SPDX-License-Identifier: MIT */
/*
 * epoll-client: connects to epoll-server, authenticates (blocking socket), receives the reply with
 * its two descriptors and prints it. --silent connects and then says nothing for SECONDS (the
 * client that must not stall the server).
 *
 *   epoll-client SOCKET_PATH [--silent SECONDS]
 */
#define _GNU_SOURCE
#include <monitor/monitor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int fd = mon_unix_connect(argv[1], SOCK_STREAM, 0);
  if (fd < 0) {
    fprintf(stderr, "epoll-client: connect: %s\n", mon_strerror(fd));
    return 1;
  }
  if (argc == 4 && strcmp(argv[2], "--silent") == 0) {
    printf("silent client connected\n");
    fflush(stdout);
    sleep((unsigned)atoi(argv[3]));
    return 0;
  }
  void *st = NULL;
  int rc = mon_ipc_auth_client_init(fd, &st);
  while (rc == MON_CONTINUE) rc = mon_ipc_auth_client_step(fd, st);
  mon_ipc_auth_client_end(st);
  mon_buffer *buf = mon_buffer_new(0);
  int fds[4];
  size_t nfds = 0;
  if (rc == MON_OK) rc = buf ? mon_ipc_recv_fds(fd, buf, fds, 4, &nfds) : MON_ERR_NOMEM;
  if (rc != MON_OK) {
    fprintf(stderr, "epoll-client: %s\n", mon_strerror(rc));
    return 1;
  }
  printf("%.*s, %zu descriptors\n", (int)mon_buffer_len(buf), (const char *)mon_buffer_data(buf),
         nfds);
  for (size_t i = 0; i < nfds; i++) close(fds[i]);
  mon_buffer_free(buf);
  close(fd);
  return nfds == 2 ? 0 : 1;
}
