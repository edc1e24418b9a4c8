/* SPDX-License-Identifier: MIT */
/*
 * epoll-server: a single-threaded, non-blocking server on the step API. Every client is
 * authenticated (kernel-verified pid/uid/gid), then sent one message with two descriptors
 * (mon_ipc_send_fds) and disconnected. No call blocks: a client that connects and says nothing
 * costs one descriptor until its deadline, and never delays anyone else.
 *
 *   epoll-server SOCKET_PATH [--serve N] [--deadline-ms MS]
 *
 * --serve N: exit 0 after N clients were served (tests); --deadline-ms: how long a client may take
 * from connect to the end of its reply (default 5000).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <monitor/monitor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 256

enum phase { FREE, HANDSHAKE, REPLY };

struct client {
  enum phase phase;
  int fd;
  void *hs;           /* server handshake state */
  mon_ipc_creds peer; /* filled when the handshake returns MON_OK */
  mon_buffer *out;    /* the reply, kept across MON_WANT_WRITE */
  long long deadline; /* ms, CLOCK_MONOTONIC */
};

static struct client clients[MAX_CLIENTS];
static int gifts[2]; /* what every client gets: the two ends of a pipe */

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drop(int ep, struct client *c, const char *why) {
  if (why != NULL) fprintf(stderr, "epoll-server: drop fd %d: %s\n", c->fd, why);
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  mon_ipc_auth_server_end(c->hs); /* before close: it may restore socket options */
  mon_buffer_free(c->out);
  close(c->fd);
  memset(c, 0, sizeof *c);
  c->phase = FREE;
}

/* Waits for what the last call asked for. */
static int wait_for(int ep, struct client *c, int rc) {
  struct epoll_event ev = {.events = rc == MON_WANT_WRITE ? EPOLLOUT : EPOLLIN, .data.ptr = c};
  return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Runs one client as far as its socket allows. Returns 1 when it was served, 0 otherwise. */
static int advance(int ep, struct client *c) {
  int rc = MON_CONTINUE;
  if (c->phase == HANDSHAKE) {
    while (rc == MON_CONTINUE) rc = mon_ipc_auth_server_step(c->fd, c->hs);
    if (rc == MON_WANT_READ || rc == MON_WANT_WRITE) return wait_for(ep, c, rc), 0;
    if (rc != MON_OK) return drop(ep, c, mon_strerror(rc)), 0;
    char text[96];
    int n =
        snprintf(text, sizeof text, "hello uid %u pid %d", (unsigned)c->peer.uid, (int)c->peer.pid);
    c->out = mon_buffer_new(0);
    if (c->out == NULL || mon_buffer_append(c->out, text, (size_t)n) != MON_OK)
      return drop(ep, c, "out of memory"), 0;
    c->phase = REPLY;
  }
  rc = mon_ipc_send_fds(c->fd, c->out, gifts, 2);
  if (rc == MON_WANT_WRITE) return wait_for(ep, c, rc), 0;
  if (rc != MON_OK) return drop(ep, c, mon_strerror(rc)), 0;
  printf("served pid %d uid %u gid %u\n", (int)c->peer.pid, (unsigned)c->peer.uid,
         (unsigned)c->peer.gid);
  fflush(stdout);
  drop(ep, c, NULL);
  return 1;
}

static void accept_all(int ep, int lfd, int deadline_ms) {
  for (;;) {
    int fd = -1;
    int rc = mon_unix_accept(lfd, MON_UNIX_NONBLOCK, &fd);
    if (rc == MON_WANT_READ) return;
    if (rc != MON_OK) { /* EMFILE and the like: try again on the next wake-up */
      fprintf(stderr, "epoll-server: accept: %s (%s)\n", mon_strerror(rc), strerror(errno));
      return;
    }
    struct client *c = NULL;
    for (int i = 0; i < MAX_CLIENTS && c == NULL; i++)
      if (clients[i].phase == FREE) c = &clients[i];
    if (c == NULL) { /* full: refuse rather than queue */
      close(fd);
      continue;
    }
    c->fd = fd;
    c->deadline = now_ms() + deadline_ms;
    c->phase = HANDSHAKE;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (mon_ipc_auth_server_init(fd, &c->peer, &c->hs) != MON_CONTINUE ||
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
      mon_ipc_auth_server_end(c->hs);
      close(fd);
      memset(c, 0, sizeof *c);
      continue;
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s SOCKET_PATH [--serve N] [--deadline-ms MS]\n", argv[0]);
    return 2;
  }
  long serve = -1, deadline_ms = 5000, served = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--serve") == 0) serve = strtol(argv[i + 1], NULL, 10);
    if (strcmp(argv[i], "--deadline-ms") == 0) deadline_ms = strtol(argv[i + 1], NULL, 10);
  }
  if (pipe2(gifts, O_CLOEXEC) != 0) return 1;
  int lfd = mon_unix_listen(argv[1], SOCK_STREAM, 0666, MON_UNIX_NONBLOCK);
  if (lfd < 0) {
    fprintf(stderr, "epoll-server: listen %s: %s (%s)\n", argv[1], mon_strerror(lfd),
            strerror(errno));
    return 1;
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) != 0) return 1;
  printf("listening on %s\n", argv[1]);
  fflush(stdout);

  while (serve < 0 || served < serve) {
    struct epoll_event events[32];
    int n = epoll_wait(ep, events, 32, 100); /* wake up to enforce deadlines */
    if (n < 0 && errno != EINTR) return 1;
    for (int i = 0; i < n; i++) {
      if (events[i].data.ptr == NULL) {
        accept_all(ep, lfd, (int)deadline_ms);
      } else {
        served += advance(ep, events[i].data.ptr);
      }
    }
    long long t = now_ms();
    for (int i = 0; i < MAX_CLIENTS; i++)
      if (clients[i].phase != FREE && t > clients[i].deadline) drop(ep, &clients[i], "deadline");
  }
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].phase != FREE) drop(ep, &clients[i], "shutting down");
  close(ep);
  close(lfd);
  unlink(argv[1]);
  return 0;
}
