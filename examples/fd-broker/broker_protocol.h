/* SPDX-License-Identifier: MIT */
/*
 * The fd-broker request protocol, spoken over monitor frames after the handshake (C and C++).
 *
 * Request (client -> broker): one message, no descriptor, payload
 *     u8 op (FDB_OP_OPEN) | path bytes (1 .. FDB_PATH_MAX, no NUL, no terminator)
 * Reply (broker -> client): one message, payload
 *     u8 status (FDB_*) | u32 detail, big-endian (an errno value for FDB_OPEN_FAILED, else 0)
 * with exactly one descriptor (O_RDONLY, a regular file) when status is FDB_OK, none otherwise.
 *
 * A request with a descriptor attached, longer than FDB_REQUEST_MAX bytes, with an unknown op, or
 * in a malformed frame ends the connection (the broker closes it). A connection may carry any
 * number of requests, one at a time.
 */
#ifndef FD_BROKER_PROTOCOL_H
#define FD_BROKER_PROTOCOL_H

#define FDB_OP_OPEN 1

/* The longest path a request may carry (bytes, without terminator): PATH_MAX - 1. */
#define FDB_PATH_MAX 4095
/* Request payload cap: op byte + path. */
#define FDB_REQUEST_MAX (1 + FDB_PATH_MAX)
#define FDB_REPLY_LEN 5

#define FDB_OK 0          /* the descriptor is attached */
#define FDB_DENIED 1      /* no policy rule allows this uid/gid this path */
#define FDB_BAD_PATH 2    /* not absolute, "." / ".." / empty component, too long, NUL inside */
#define FDB_OPEN_FAILED 3 /* allowed, but opening failed (detail = errno; ELOOP: a symlink) */
#define FDB_NOT_REGULAR 4 /* allowed, but not a regular file (directory, FIFO, device, socket) */
/* allowed, but not now: a lease on the file is being broken (detail EWOULDBLOCK), or this
 * connection has not read its previous reply yet (detail EBUSY): at most one descriptor per
 * connection is ever in flight. Read the pending reply, then ask again. */
#define FDB_BUSY 5

#endif /* FD_BROKER_PROTOCOL_H */
