/* SPDX-License-Identifier: MIT */
/*
 * fd-broker-open SOCKET PATH: asks the broker at SOCKET to open PATH for us, and copies the file it
 * passes back to stdout. Written against the C ABI only (monitor/monitor.h).
 *
 * Exit status: 0 the file was received and copied; 1 usage or local error; 2 connection, handshake
 * or protocol failure (including a broker that refused us at the handshake); 3 denied by policy;
 * 4 malformed path; 5 the broker could not open the file (errno shown) or it is not a regular file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <monitor/monitor.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker_protocol.h"

static int fail(int status, const char *what, int rc) {
  fprintf(stderr, "fd-broker-open: %s: %s\n", what, mon_strerror(rc));
  return status;
}

static int connect_to(const char *path) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) return -1;
  memcpy(addr.sun_path, path, strlen(path));
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  /* A blocking socket with timeouts: a stuck broker shows up as MON_WANT_READ/WRITE, not a hang. */
  struct timeval tv = {10, 0};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
      connect(fd, (const struct sockaddr *)&addr, sizeof addr) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* Runs the client handshake to its end on a blocking socket. */
static int authenticate(int fd) {
  void *st = NULL;
  int rc = mon_ipc_auth_client_init(fd, &st);
  while (rc == MON_CONTINUE) rc = mon_ipc_auth_client_step(fd, st);
  mon_ipc_auth_client_end(st);
  return rc;
}

static int copy_out(int fd) {
  char chunk[65536];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return 0;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(STDOUT_FILENO, chunk + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return -1;
      off += w;
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: fd-broker-open SOCKET PATH\n");
    return 1;
  }
  const char *path = argv[2];
  size_t path_len = strlen(path);
  if (path_len == 0 || path_len > FDB_PATH_MAX) {
    fprintf(stderr, "fd-broker-open: path empty or longer than %d bytes\n", FDB_PATH_MAX);
    return 1;
  }
  int conn = connect_to(argv[1]);
  if (conn < 0) {
    fprintf(stderr, "fd-broker-open: connect %s: %s\n", argv[1], strerror(errno));
    return 2;
  }
  int rc = authenticate(conn);
  if (rc != MON_OK) {
    close(conn);
    return fail(2, "handshake", rc);
  }

  mon_buffer *msg = mon_buffer_new(FDB_REQUEST_MAX);
  if (msg == NULL) {
    close(conn);
    return fail(1, "buffer", MON_ERR_NOMEM);
  }
  const unsigned char op = FDB_OP_OPEN;
  rc = mon_buffer_append(msg, &op, 1);
  if (rc == MON_OK) rc = mon_buffer_append(msg, path, path_len);
  if (rc == MON_OK) rc = mon_ipc_send_fd(conn, msg, -1);
  if (rc != MON_OK) {
    mon_buffer_free(msg);
    close(conn);
    return fail(2, "send request", rc);
  }

  /* The reply reuses the buffer; the received descriptor is ours from here on. */
  int file = -1;
  rc = mon_ipc_recv_fd(conn, msg, &file);
  close(conn);
  if (rc != MON_OK) {
    mon_buffer_free(msg);
    return fail(2, "receive reply", rc);
  }
  const unsigned char *r = mon_buffer_data(msg);
  int status = -1;
  unsigned detail = 0;
  if (mon_buffer_len(msg) == FDB_REPLY_LEN) {
    status = r[0];
    detail = (unsigned)r[1] << 24 | (unsigned)r[2] << 16 | (unsigned)r[3] << 8 | r[4];
  }
  mon_buffer_free(msg);
  if (status != FDB_OK || file < 0) {
    if (file >= 0) close(file); /* a descriptor with a refusal: not ours to use */
    switch (status) {
      case FDB_DENIED:
        fprintf(stderr, "fd-broker-open: %s: denied by policy\n", path);
        return 3;
      case FDB_BAD_PATH:
        fprintf(stderr, "fd-broker-open: %s: malformed path\n", path);
        return 4;
      case FDB_OPEN_FAILED:
        fprintf(stderr, "fd-broker-open: %s: broker could not open it: %s\n", path,
                strerror((int)detail));
        return 5;
      case FDB_NOT_REGULAR:
        fprintf(stderr, "fd-broker-open: %s: not a regular file\n", path);
        return 5;
      case FDB_BUSY:
        fprintf(stderr, "fd-broker-open: %s: busy, try again: %s\n", path, strerror((int)detail));
        return 6;
      default:
        fprintf(stderr, "fd-broker-open: malformed reply\n");
        return 2;
    }
  }
  struct stat st;
  if (fstat(file, &st) == 0)
    fprintf(stderr, "fd-broker-open: received descriptor %d: regular file, %lld bytes\n", file,
            (long long)st.st_size);
  int copied = copy_out(file);
  close(file);
  if (copied != 0) {
    fprintf(stderr, "fd-broker-open: copy: %s\n", strerror(errno));
    return 1;
  }
  return 0;
}
