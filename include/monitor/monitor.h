/* SPDX-License-Identifier: MIT */
/*
 * monitor: local authentication and descriptor passing over AF_UNIX sockets.
 *
 * This is the public C ABI. Every function is safe to call from C and C++, never throws, never
 * raises SIGPIPE, retries EINTR itself, and keeps no global mutable state: objects (handshake
 * states, buffers) may be used by one thread at a time, and different objects on different threads
 * at once.
 *
 * Return codes: MON_OK (0) on success, a positive MON_CONTINUE / MON_WANT_READ / MON_WANT_WRITE
 * when the call must be repeated, a negative MON_ERR_* on failure. mon_strerror() names any of
 * them. After MON_ERR_IO, errno holds the system error.
 *
 * The wire format is described byte by byte in docs/PROTOCOL.md.
 *
 * This header is plain C (C99; it also compiles cleanly as C89, C11 and C17 with -pedantic) and
 * may be included from C++ of any version. The C++ API (the monitor/ .hpp headers) needs C++20.
 */
#ifndef MONITOR_MONITOR_H
#define MONITOR_MONITOR_H

#include <stddef.h>
#include <sys/types.h>

#include "monitor/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Result codes ---------------------------------------------------------------------------- */

/* Success: the call did all it was asked. */
#define MON_OK 0
/* The call made progress and must be called again. */
#define MON_CONTINUE 1
/* Non-blocking socket not readable yet: wait for POLLIN on the socket, then call again. */
#define MON_WANT_READ 2
/* Non-blocking socket not writable yet: wait for POLLOUT on the socket, then call again. */
#define MON_WANT_WRITE 3

/* An argument is invalid (NULL pointer, negative or non-AF_UNIX descriptor, misuse of a state). */
#define MON_ERR_INVALID (-1)
/* Memory could not be allocated. */
#define MON_ERR_NOMEM (-2)
/* A system call failed; errno is kept. */
#define MON_ERR_IO (-3)
/* The peer closed the connection (end of file between messages, EPIPE, ECONNRESET). */
#define MON_ERR_CLOSED (-4)
/* The peer sent malformed or unexpected bytes or control data. Close the connection. */
#define MON_ERR_PROTOCOL (-5)
/* Authentication failed: credentials disagree, are missing, or the server refused. */
#define MON_ERR_DENIED (-6)
/* A message is larger than the buffer allows. The message was consumed and its descriptors closed;
 * the connection stays usable. */
#define MON_ERR_TOOBIG (-7)
/* The kernel cut the control data (MSG_CTRUNC, for example at RLIMIT_NOFILE). Every descriptor that
 * did arrive was closed; the message's bytes were consumed and the connection stays usable. */
#define MON_ERR_TRUNCATED (-8)
/* The running kernel or platform lacks a facility the call needs (for example memfd sealing). */
#define MON_ERR_UNSUPPORTED (-9)
/* Shared memory: the descriptor is not a sealable memfd (pipe, socket, regular file, O_PATH,
 * ...). */
#define MON_ERR_BADSHM (-10)
/* Shared memory: a seal the mapping needs is missing (shrink and grow; write for immutable). */
#define MON_ERR_NOTSEALED (-11)
/* Shared memory: the segment is smaller than the caller's minimum. */
#define MON_ERR_SHMSIZE (-12)
/* Shared memory: the descriptor's access mode does not match the requested one (a writable segment
 * where read-only was expected, or one that cannot be written where writable was expected). */
#define MON_ERR_SHMACCESS (-13)

/* Returns a static, human-readable name for any code above (or "unknown result code"); never
 * NULL. */
MON_API const char *mon_strerror(int code);

/* ---- Buffers --------------------------------------------------------------------------------- */

/* The size cap that mon_buffer_new(0) chooses: 64 KiB. */
#define MON_BUFFER_DEFAULT_MAX ((size_t)64 * 1024)
/* The largest payload one message may carry, and the largest max_len mon_buffer_new accepts. */
#define MON_BUFFER_LIMIT ((size_t)64 * 1024 * 1024)

/* A growable byte buffer with a fixed cap. Opaque. It also keeps the progress of a message that a
 * non-blocking send or receive left half done (see mon_ipc_send_fd and mon_ipc_recv_fd), and, on a
 * SOCK_STREAM connection, what a receive read ahead (the next frame's header, or whole small
 * frames, with their descriptors): use one buffer for all receives of a stream connection, for its
 * whole life. Clearing or freeing it drops what it holds (docs/PROTOCOL.md, "Read-ahead"). */
typedef struct mon_buffer mon_buffer;

/* Returns a new empty buffer holding at most max_len bytes (0 means MON_BUFFER_DEFAULT_MAX), or
 * NULL if max_len exceeds MON_BUFFER_LIMIT or memory is short. Free it with mon_buffer_free. */
MON_API mon_buffer *mon_buffer_new(size_t max_len);

/* Frees the buffer and disposes of any descriptor a half-received or read-ahead message left in it
 * (mon_set_refused_fd_handler). NULL is a no-op. */
MON_API void mon_buffer_free(mon_buffer *buf);

/* Appends len bytes. Returns MON_OK, MON_ERR_TOOBIG if the result would exceed max_len (content
 * unchanged), MON_ERR_NOMEM, or MON_ERR_INVALID (buf NULL, or data NULL with len > 0). */
MON_API int mon_buffer_append(mon_buffer *buf, const void *data, size_t len);

/* Empties the buffer and discards any half-sent, half-received or read-ahead message (disposing of
 * its descriptors), so the buffer can serve another connection. NULL is a no-op. */
MON_API void mon_buffer_clear(mon_buffer *buf);

/* The buffer's bytes (valid until the next call that changes it); may be NULL when empty. */
MON_API const void *mon_buffer_data(const mon_buffer *buf);

/* The number of bytes in the buffer; 0 for NULL. */
MON_API size_t mon_buffer_len(const mon_buffer *buf);

/* ---- Local authentication -------------------------------------------------------------------- */

/* Peer credentials as the kernel reports them: process id and effective user and group ids. */
typedef struct {
  pid_t pid;
  uid_t uid;
  gid_t gid;
} mon_ipc_creds;

/* The pid is 0 when the peer lives in a pid namespace the server cannot see. */
#define MON_IPC_PID_UNKNOWN ((pid_t)0)
#define MON_IPC_GID_UNKNOWN ((gid_t)-1)

/* clang-format off */
/*
 * Client side of the handshake on a connected AF_UNIX SOCK_STREAM or SOCK_SEQPACKET socket (the
 * caller keeps owning fd). Allocates *state; then call mon_ipc_auth_client_step with the same fd,
 * and free the state with mon_ipc_auth_client_end. Returns MON_CONTINUE, or an error with *state
 * set to NULL:
 *   MON_ERR_INVALID  state NULL, fd negative, or fd not an AF_UNIX stream or seqpacket socket;
 *   MON_ERR_NOMEM    the state could not be allocated;
 *   MON_ERR_IO       asking the kernel about fd failed (errno kept).
 */
/* clang-format on */
MON_API int mon_ipc_auth_client_init(int fd, void **state);

/* Frees a client state. NULL, or a state that is not a client's, is a no-op. The socket is left as
 * it was. */
MON_API void mon_ipc_auth_client_end(void *state);

/* clang-format off */
/*
 * Runs the client's handshake as far as the socket allows: sends the hello (with the client's
 * SCM_CREDENTIALS), reads the server's one reply. Returns MON_OK once the server accepted;
 * MON_WANT_READ / MON_WANT_WRITE on a non-blocking socket (wait for it, then call again); or an
 * error. Errors are sticky: later calls return the same one.
 *   MON_ERR_DENIED     the server refused (its reason: mon::client_handshake::reason() in C++),
 *                      or the server's uid is not the one mon_ipc_auth_client_require_uid asked
 *                      for (then nothing was sent);
 *   MON_ERR_PROTOCOL   the reply is malformed: wrong magic, body too long, version not 1, not an
 *                      accept or deny, a bad or unknown critical extension (also in a deny),
 *                      control data of any kind;
 *   MON_ERR_TRUNCATED  the server sent descriptors and the kernel cut them (all closed);
 *   MON_ERR_CLOSED     the server closed the connection before its reply was whole;
 *   MON_ERR_INVALID    state NULL or not a client state, or fd not the one given to init;
 *   MON_ERR_NOMEM      the kernel lacked buffer space (ENOBUFS);
 *   MON_ERR_IO         a system call failed (errno kept).
 */
/* clang-format on */
MON_API int mon_ipc_auth_client_step(int fd, void *state);

/* clang-format off */
/*
 * Server side of the handshake on a connected AF_UNIX SOCK_STREAM or SOCK_SEQPACKET socket (the
 * caller keeps owning fd). creds must stay valid until the handshake ends; it is filled only when
 * mon_ipc_auth_server_step returns MON_OK, and until then holds MON_IPC_PID_UNKNOWN, (uid_t)-1 and
 * MON_IPC_GID_UNKNOWN. Records SO_PEERCRED, turns SO_PASSCRED on and, where the kernel has it
 * (Linux >= 6.16), SO_PASSRIGHTS off: a client that sends descriptors before the handshake is over
 * gets EPERM. Both are put back before the server answers, so later mon_ipc_recv_fd calls see no
 * credentials and may receive descriptors again. Returns MON_CONTINUE, or an error with *state set
 * to NULL (and the socket options as they were):
 *   MON_ERR_INVALID  state or creds NULL, fd negative, or fd not an AF_UNIX stream or seqpacket
 *                    socket;
 *   MON_ERR_NOMEM    the state could not be allocated;
 *   MON_ERR_IO       reading SO_PEERCRED or setting an option failed (errno kept).
 *
 * A socketpair's peer credentials name the process that created the pair; a child that inherited
 * one end is therefore refused. Authenticate forked children over a connection they made
 * themselves.
 */
/* clang-format on */
MON_API int mon_ipc_auth_server_init(int fd, mon_ipc_creds *creds, void **state);

/* Frees a server state. NULL, or a state that is not a server's, is a no-op. Call it before closing
 * fd: a handshake abandoned half-way puts SO_PASSCRED and SO_PASSRIGHTS back here, and after close
 * the descriptor number may already name another socket. */
MON_API void mon_ipc_auth_server_end(void *state);

/* clang-format off */
/*
 * Runs the server's handshake as far as the socket allows: reads the hello, checks it and the
 * credentials the kernel attached to it against SO_PEERCRED, asks the policy (if any), writes the
 * answer. Returns MON_OK once the client is verified and accepted (creds now hold the peer's
 * kernel-verified pid, effective uid and effective gid); MON_WANT_READ / MON_WANT_WRITE on a
 * non-blocking socket; or an error. Errors are sticky. The order in which a malformed hello is
 * judged, and which failures are answered with a deny: docs/PROTOCOL.md.
 *   MON_ERR_DENIED     a deny was sent: the hello's credentials were missing, differed between
 *                      reads or were not SO_PEERCRED's (for example a socket connected by one
 *                      process and used by another), or the policy refused the peer;
 *   MON_ERR_PROTOCOL   the hello is malformed (wrong magic, body too long, not a hello, bad or
 *                      unknown critical extension, a seqpacket record that is not one message) or
 *                      came with descriptors or other control data (closed): no reply is sent;
 *                      or its version is not 1: a deny(version) was sent;
 *   MON_ERR_TRUNCATED  the hello came with descriptors the kernel cut (all closed); no reply;
 *   MON_ERR_CLOSED     the client closed the connection (end of file, EPIPE, ECONNRESET);
 *   MON_ERR_INVALID    state NULL or not a server state, or fd not the one given to init;
 *   MON_ERR_NOMEM      the kernel lacked buffer space (ENOBUFS);
 *   MON_ERR_IO         a system call failed (errno kept).
 */
/* clang-format on */
MON_API int mon_ipc_auth_server_step(int fd, void *state);

/* ---- Descriptor passing ---------------------------------------------------------------------- */

/* clang-format off */
/*
 * Sends src's bytes as one message, with fd_to_send attached (-1: data only). The caller keeps
 * owning fd_to_send. Returns MON_OK once the whole message is queued in the socket. On a
 * non-blocking stream socket that fills up mid-message it returns MON_WANT_WRITE and records the
 * progress in src: call again with the same fd and src, unchanged (the descriptor went with the
 * first byte and is not sent twice). Errors, after which nothing of the message is pending in src:
 *   MON_ERR_INVALID  src NULL, target_fd negative, fd_to_send below -1 or not open (EBADF),
 *                    target_fd not a socket, or another socket than a half-sent message's;
 *   MON_ERR_CLOSED   the peer is gone (EPIPE, ECONNRESET; never SIGPIPE);
 *   MON_ERR_TOOBIG   a SOCK_SEQPACKET message larger than the socket accepts (EMSGSIZE: the
 *                    sender's SO_SNDBUF bounds a record, docs/PROTOCOL.md);
 *   MON_ERR_NOMEM    the kernel lacked buffer space (ENOBUFS, ENOMEM);
 *   MON_ERR_IO       any other failure, errno kept: EPERM when the receiver refuses descriptors
 *                    (SO_PASSRIGHTS off, as during its handshake: nothing was sent, send it again
 *                    after the handshake), ETOOMANYREFS for too many descriptors in flight.
 */
/* clang-format on */
MON_API int mon_ipc_send_fd(int target_fd, mon_buffer *src, int fd_to_send);

/* clang-format off */
/*
 * Receives exactly one message sent by mon_ipc_send_fd, replacing dst's content. *fd_received is
 * the received descriptor (close-on-exec, now owned by the caller) or -1 when none came. A
 * zero-length message is valid. Returns MON_OK, or MON_WANT_READ on a non-blocking socket: then a
 * partly read message is kept in dst; call again with the same source_fd and dst. Errors, each
 * leaving *fd_received at -1 and every descriptor the kernel delivered closed:
 *   MON_ERR_CLOSED     the peer closed between messages;
 *   MON_ERR_TOOBIG     the message exceeds dst's max_len (it was consumed; the connection stays
 *                      usable);
 *   MON_ERR_TRUNCATED  the kernel cut the control data of a message that declared no more than one
 *                      descriptor (consumed likewise: the connection stays usable);
 *   MON_ERR_PROTOCOL   malformed frame, more than one descriptor declared or delivered, several
 *                      SCM_RIGHTS headers, credentials or any other control message, descriptors
 *                      on a later read than the frame's first byte, end of file inside a message:
 *                      close the connection (docs/PROTOCOL.md says which cases leave it usable);
 *   MON_ERR_INVALID    dst or fd_received NULL, source_fd negative or not an AF_UNIX stream or
 *                      seqpacket socket, or another socket than the one a partly read message in
 *                      dst came from;
 *   MON_ERR_NOMEM      dst could not grow to the message's size;
 *   MON_ERR_IO         a system call failed (errno kept).
 */
/* clang-format on */
MON_API int mon_ipc_recv_fd(int source_fd, mon_buffer *dst, int *fd_received);

/* ---- Peer identity (docs/IDENTITY.md) -------------------------------------------------------- */

/* clang-format off */
/*
 * Server, after mon_ipc_auth_server_step returned MON_OK: a pidfd for the peer (SO_PEERPIDFD,
 * Linux >= 6.5). It is made from the process the socket recorded at connect(), so it names the
 * process that connected, whenever it is asked, and stays bound to that process even after it
 * exits and its pid is reused: signal it with pidfd_send_signal(), poll it for POLLIN to learn
 * that it exited. The first call makes it (a handshake whose caller never asks pays nothing).
 * Returns a NEW close-on-exec descriptor that the caller owns and must close; every call returns
 * another one (the state keeps its own until mon_ipc_auth_server_end). Errors (negative):
 *   MON_ERR_INVALID      state NULL or not a server state, or the handshake has not returned
 *                        MON_OK;
 *   MON_ERR_UNSUPPORTED  the kernel has no SO_PEERPIDFD (older than 6.5); no pidfd is ever made
 *                        from the pid, which could name another process by now;
 *   MON_ERR_CLOSED       the peer has exited and the kernel cannot pin it (6.5 to 6.15; later
 *                        kernels give a pidfd that reports the exit);
 *   MON_ERR_IO           errno says why, for example EMFILE or ENFILE (the descriptor table is
 *                        full). Only this call fails; a later one tries again.
 */
/* clang-format on */
MON_API int mon_ipc_auth_server_peer_pidfd(void *state);

/* clang-format off */
/*
 * Server, after MON_OK: the peer's supplementary groups (SO_PEERGROUPS) and security label
 * (SO_PEERSEC), as the kernel recorded them at connect(). The caller owns both buffers:
 *   groups, max_groups:      room for that many gid_t (groups may be NULL if max_groups is 0);
 *                            *out_num_groups receives how many groups the peer has (<= 65536).
 *   label, max_label_len:    room for the label and a terminating NUL (label may be NULL if
 *                            max_label_len is 0); *out_label_len receives the label's length in
 *                            bytes, without any NUL. 0 means "no label": no security module labels
 *                            sockets (the kernel says ENOPROTOOPT), which is not an error. The
 *                            label is length-delimited: use *out_label_len, not strlen.
 * Returns MON_OK; MON_ERR_TOOBIG when max_groups < *out_num_groups or max_label_len <=
 * *out_label_len (both counts are still set: call again with that much room; buffer contents are
 * then unspecified); MON_ERR_INVALID (state, NULL out_num_groups or out_label_len, a NULL buffer
 * with a non-zero size, handshake not done); MON_ERR_NOMEM; MON_ERR_IO (errno kept).
 */
/* clang-format on */
MON_API int mon_ipc_auth_server_peer_info(void *state, gid_t *groups, size_t max_groups,
                                          size_t *out_num_groups, char *label, size_t max_label_len,
                                          size_t *out_label_len);

/* A server policy: returns non-zero to accept the peer, 0 to refuse it. peer points to the verified
 * credentials (valid during the call only); ctx is what was given to set_policy. Must return
 * normally (no longjmp, no C++ exception). */
typedef int (*mon_ipc_policy_fn)(const mon_ipc_creds *peer, void *ctx);

/*
 * Server: once the hello's credentials are verified and before anything is answered, call
 * allow(peer, ctx). A 0 sends a refusal with reason "policy": the server's step returns
 * MON_ERR_DENIED, the client's step MON_ERR_DENIED, and nothing else is read or written by the
 * handshake. allow NULL removes the policy (everyone verified is accepted). Call after init and
 * before step returned MON_OK. Returns MON_OK, or MON_ERR_INVALID (state NULL or not a server
 * state, or the decision was already taken).
 */
MON_API int mon_ipc_auth_server_set_policy(void *state, mon_ipc_policy_fn allow, void *ctx);

/*
 * Client, mutual authentication: refuse the server unless the process that created the listening
 * socket (SO_PEERCRED of the client's socket: whoever called listen(), or socketpair()) has
 * effective uid uid, for example 0. Checked before the hello is sent: on a mismatch step returns
 * MON_ERR_DENIED and nothing was written, so a process squatting on the socket path learns
 * nothing. Call after init and before the first step. Returns MON_OK, or MON_ERR_INVALID (state
 * NULL or not a client state, uid (uid_t)-1, or the hello has started to go out).
 */
MON_API int mon_ipc_auth_client_require_uid(void *state, uid_t uid);

/*
 * Client: the server's kernel credentials (SO_PEERCRED of the client's socket), written to *out:
 * pid, effective uid and gid of the process that created the listening socket (with socket
 * activation that is the service manager, not the service). Usable any time after init. Returns
 * MON_OK, MON_ERR_INVALID (state or out NULL, not a client state) or MON_ERR_IO (errno kept).
 */
MON_API int mon_ipc_auth_client_peer_creds(void *state, mon_ipc_creds *out);

/* Kinds of descriptor for mon_ipc_recv_fd_typed (bits; combine with |). */
#define MON_FD_TYPE_REGULAR 0x001u   /* regular file (memfds are regular files) */
#define MON_FD_TYPE_DIRECTORY 0x002u /* directory */
#define MON_FD_TYPE_FIFO 0x004u      /* pipe or FIFO */
#define MON_FD_TYPE_SOCKET 0x008u    /* socket: leave it out to refuse the in-flight cycle attack */
#define MON_FD_TYPE_CHARDEV 0x010u   /* character device */
#define MON_FD_TYPE_BLOCKDEV 0x020u  /* block device */
#define MON_FD_TYPE_SYMLINK 0x040u   /* symbolic link (only as O_PATH | O_NOFOLLOW) */
#define MON_FD_TYPE_OTHER 0x080u /* no file type: eventfd, timerfd, signalfd, epoll, pidfd, ... */
#define MON_FD_TYPE_OPATH 0x100u /* also accept O_PATH descriptors (of an allowed kind) */

/*
 * As mon_ipc_recv_fd, then the received descriptor (if any) must be of a kind in allowed_types
 * (MON_FD_TYPE_* bits; an O_PATH descriptor also needs MON_FD_TYPE_OPATH). It is examined with
 * statx on cached attributes, so a descriptor on a hung FUSE or NFS mount cannot block the check.
 * A refused descriptor is closed, *fd_received is -1, dst is emptied and the result is
 * MON_ERR_PROTOCOL: the message was consumed whole, so the stream is still in step, but the peer
 * broke the protocol and the connection should be closed. Every other result as mon_ipc_recv_fd.
 */
MON_API int mon_ipc_recv_fd_typed(int source_fd, mon_buffer *dst, int *fd_received,
                                  unsigned allowed_types);

/* ---- Shared memory --------------------------------------------------------------------------- */

/*
 * A shared-memory segment: a sealed memfd and this process's mapping of it. Opaque. The creator
 * makes one with mon_shm_create, fills it, seals it (mon_shm_seal) and sends mon_shm_fd(shm) with
 * mon_ipc_send_fd. The receiver maps the descriptor it received only through mon_shm_map, which
 * checks it first: a peer that could shrink the file under the mapping would kill the receiver with
 * SIGBUS. What is checked and why, and what is left to the caller: docs/SHM.md.
 * Where the platform has no memfd sealing (Linux before 3.17, the BSDs), create and map return
 * MON_ERR_UNSUPPORTED and map nothing.
 */
typedef struct mon_shm mon_shm;

/* How the receiver will use a segment (mon_shm_map's access). */
/* Map read-write: the descriptor must be O_RDWR and carry no write seal. */
#define MON_SHM_READ_WRITE 1
/* Map read-only, and no one may gain write access through this descriptor: it must be O_RDONLY or
 * write-sealed (MON_SHM_SEAL_WRITE or MON_SHM_SEAL_FUTURE_WRITE). The sender may still change the
 * bytes through a writable mapping it made before a future-write seal: copy before you validate. */
#define MON_SHM_READ_ONLY 2
/* Map read-only, and the bytes can never change again: the write seal (MON_SHM_SEAL_WRITE) is
 * required; a future-write seal is not enough, as the sender's own mapping stays writable. */
#define MON_SHM_IMMUTABLE 3

/* Seals for mon_shm_seal (any combination, at least one). */
/* The bytes never change again, for anyone; the creator's own mapping becomes read-only. */
#define MON_SHM_SEAL_WRITE 0x1u
/* The creator's mapping stays writable; nobody can make a new writable mapping or write(). */
#define MON_SHM_SEAL_FUTURE_WRITE 0x2u
/* No seal can be added any more (by a receiver either, which could otherwise block the creator). */
#define MON_SHM_SEAL_SEAL 0x4u

/*
 * Creates a zero-filled segment of size bytes (> 0), mapped read-write, that can no longer shrink
 * or grow, and stores it in *out (NULL on error). The segment owns its descriptor (close-on-exec).
 * Errors: MON_ERR_INVALID (out NULL, size 0 or too large), MON_ERR_UNSUPPORTED, MON_ERR_NOMEM,
 * MON_ERR_IO.
 */
MON_API int mon_shm_create(size_t size, mon_shm **out);

/*
 * Adds seals (MON_SHM_SEAL_*) to a segment. With MON_SHM_SEAL_WRITE the segment's own mapping is
 * remapped read-only (mon_shm_writable_data then returns NULL); it fails with MON_ERR_IO and errno
 * EBUSY while another writable mapping exists (for example a receiver's). Errors: MON_ERR_INVALID
 * (shm NULL, seals 0 or unknown bits), MON_ERR_UNSUPPORTED (seal unknown to the kernel, e.g.
 * future-write before Linux 5.1), MON_ERR_IO (EBUSY; EPERM after MON_SHM_SEAL_SEAL). On failure the
 * segment keeps its seals and mapping.
 */
MON_API int mon_shm_seal(mon_shm *shm, unsigned seals);

/*
 * Maps a descriptor received from a peer. TAKES OWNERSHIP of fd in every case, success or error: on
 * error it is closed and nothing is mapped. Succeeds only when fd is a memfd (a regular tmpfs file
 * whose seals can be read) sealed against shrinking and growing, at least min_len bytes long, with
 * an access mode that fits access (MON_SHM_*). The mapping is min(real size, max_len) bytes (pass
 * min_len == max_len to map exactly that size), read-write for MON_SHM_READ_WRITE, read-only
 * otherwise. *out is the segment or NULL. Errors: MON_ERR_INVALID (out NULL, fd not open, min_len
 * 0, min_len > max_len, unknown access), MON_ERR_BADSHM (not a sealable memfd: pipe, socket,
 * regular file, directory, O_PATH, hugetlbfs), MON_ERR_NOTSEALED (shrink or grow seal missing;
 * write seal missing for MON_SHM_IMMUTABLE), MON_ERR_SHMSIZE (smaller than min_len),
 * MON_ERR_SHMACCESS (writable and not write-sealed where read-only was asked; write-only; not
 * writable where read-write was asked), MON_ERR_UNSUPPORTED, MON_ERR_NOMEM, MON_ERR_IO.
 */
MON_API int mon_shm_map(int fd, size_t min_len, size_t max_len, int access, mon_shm **out);

/* The mapped bytes (valid until mon_shm_free); NULL for NULL. */
MON_API const void *mon_shm_data(const mon_shm *shm);

/* The mapped bytes for writing, or NULL when the mapping is read-only (or shm is NULL). */
MON_API void *mon_shm_writable_data(mon_shm *shm);

/* The mapped length in bytes; 0 for NULL. */
MON_API size_t mon_shm_size(const mon_shm *shm);

/* The segment's descriptor, still owned by the segment (valid until mon_shm_free): pass it to
 * mon_ipc_send_fd, which borrows it. -1 for NULL. */
MON_API int mon_shm_fd(const mon_shm *shm);

/* Unmaps the segment and closes its descriptor. NULL is a no-op. */
MON_API void mon_shm_free(mon_shm *shm);

/* ---- Several descriptors per message, deny reasons ------------------------------------------ */

/*
 * As mon_ipc_send_fd, with num_fds descriptors (0 to 253, the kernel's SCM_MAX_FD) attached to one
 * message; fds may be NULL when num_fds is 0. The caller keeps owning every one of them. On
 * MON_WANT_WRITE call again with the same fd, buf, fds and num_fds: the descriptors went with the
 * first byte and are not sent twice. Errors: MON_ERR_INVALID (buf NULL, fd negative, fds NULL with
 * num_fds > 0, num_fds > 253, a negative descriptor in fds), MON_ERR_CLOSED, MON_ERR_TOOBIG,
 * MON_ERR_IO.
 */
MON_API int mon_ipc_send_fds(int fd, mon_buffer *buf, const int *fds, size_t num_fds);

/*
 * As mon_ipc_recv_fd, for messages that carry up to max_fds descriptors (more than 253 counts as
 * 253). On MON_OK out_fds[0 .. *out_num_fds) are the received descriptors (close-on-exec, now
 * owned by the caller, in the order they were sent) and buf holds the message's bytes. On any
 * other result *out_num_fds is 0, out_fds is left as it was and every descriptor the kernel
 * delivered has been closed. MON_WANT_READ keeps a partly read message in buf: call again with the
 * same fd and buf. More than max_fds descriptors in one message is MON_ERR_PROTOCOL (all of them
 * closed). Other errors as mon_ipc_recv_fd; also MON_ERR_INVALID for buf or out_num_fds NULL, or
 * out_fds NULL with max_fds > 0.
 */
MON_API int mon_ipc_recv_fds(int fd, mon_buffer *buf, int *out_fds, size_t max_fds,
                             size_t *out_num_fds);

/* Why a server refused a client (the reason its deny message carries). */
/* No refusal (the handshake did not end in MON_ERR_DENIED from the server). */
#define MON_DENY_NONE 0
/* Kernel credentials missing, or the sender is not the process that connected. */
#define MON_DENY_CREDENTIALS 1
/* The server's policy refused this peer. */
#define MON_DENY_POLICY 2
/* The server does not speak the client's protocol version. */
#define MON_DENY_VERSION 3

/*
 * After a step returned MON_ERR_DENIED: why. Client side: the reason the server's refusal carried
 * (MON_DENY_NONE when the client itself refused the server, see
 * mon_ipc_auth_client_require_uid). Server side: the reason it sent. MON_DENY_NONE before any
 * refusal; MON_ERR_INVALID for a NULL state or one of the other side.
 */
MON_API int mon_ipc_auth_client_reason(const void *state);
MON_API int mon_ipc_auth_server_reason(const void *state);

/* ---- Listening, connecting, accepting ---------------------------------------------------------
 */

/* Flags for mon_unix_listen, mon_unix_connect, mon_unix_accept and mon_listen_fds (combine with
 * |). */
/* O_NONBLOCK on the new (or activated) socket. */
#define MON_UNIX_NONBLOCK 0x1u
/* A path starting with '@' names an abstract-namespace socket (the rest of the path). Refused
 * without this flag: the kernel does no permission check on abstract sockets, so any process in
 * the network namespace can connect to one, and any process can bind the name first and pose as
 * the server. */
#define MON_UNIX_ALLOW_ABSTRACT 0x2u

/*
 * Creates a listening AF_UNIX socket of type SOCK_STREAM or SOCK_SEQPACKET bound to path, with
 * the socket file's permission bits set to mode (0 to 0777; never more open than mode, not even
 * briefly), close-on-exec, prepared as mon_listener_prepare does. Returns the new descriptor
 * (>= 0, owned by the caller) or a negative error. An existing socket at path that refuses
 * connections (its server died) is replaced; a socket someone listens on, or anything that is not
 * a socket, is left alone: MON_ERR_IO with errno EADDRINUSE (the connect() that tells them apart
 * reaches a live server as a connection that closes at once). The directory holding path must not
 * be writable by anyone untrusted (they could replace the socket). Errors: MON_ERR_INVALID (path
 * NULL, empty or too long for sun_path, abstract without MON_UNIX_ALLOW_ABSTRACT, bad type, mode
 * or flags), MON_ERR_NOMEM, MON_ERR_IO (errno kept).
 */
MON_API int mon_unix_listen(const char *path, int type, mode_t mode, unsigned flags);

/*
 * Connects a new close-on-exec AF_UNIX socket of type SOCK_STREAM or SOCK_SEQPACKET to path.
 * Returns the descriptor (>= 0, owned by the caller) or a negative error: MON_ERR_INVALID (as
 * mon_unix_listen), MON_ERR_IO (errno: ENOENT, ECONNREFUSED, EACCES, EAGAIN when a non-blocking
 * connect finds the backlog full, ...).
 */
MON_API int mon_unix_connect(const char *path, int type, unsigned flags);

/*
 * Accepts a connection on listen_fd: MON_OK with *out_fd the new close-on-exec descriptor (owned
 * by the caller; O_NONBLOCK with MON_UNIX_NONBLOCK), or MON_WANT_READ when a non-blocking listener
 * has nothing pending (*out_fd is -1, as on every error). Errors: MON_ERR_INVALID (out_fd NULL,
 * not a listening socket), MON_ERR_IO (errno kept; after EMFILE or ENFILE the connection is still
 * pending, so stop polling the listener until a descriptor is freed).
 */
MON_API int mon_unix_accept(int listen_fd, unsigned flags, int *out_fd);

/*
 * Prepares a listening AF_UNIX SOCK_STREAM or SOCK_SEQPACKET socket for the handshake: sets
 * SO_PASSCRED on and SO_PASSRIGHTS off, options every socket accepted from it inherits. On Linux
 * >= 6.16 a client's descriptor sent before the server accepted the connection is then refused by
 * the kernel (EPERM to the sender): nothing waits in the queue. Older kernels lack SO_PASSRIGHTS
 * (ENOPROTOOPT); the call succeeds anyway, and descriptors that arrive early are closed by the
 * library when it reads them. Connections already queued keep their options: call it before
 * clients can connect. mon_unix_listen and mon_listen_fds call it themselves. Returns MON_OK,
 * MON_ERR_INVALID (not an AF_UNIX stream or seqpacket socket, not listening) or MON_ERR_IO.
 */
MON_API int mon_listener_prepare(int listen_fd);

/* The longest name LISTEN_FDNAMES may give a socket, and the most sockets mon_listen_fds takes. */
#define MON_LISTEN_NAME_MAX 255
#define MON_LISTEN_FDS_MAX 1024

/* A listening socket passed by the service manager. */
typedef struct {
  int fd;                             /* 3, 4, ...: owned by the caller */
  int type;                           /* SOCK_STREAM or SOCK_SEQPACKET */
  char name[MON_LISTEN_NAME_MAX + 1]; /* its LISTEN_FDNAMES entry, or "unknown" */
} mon_listen_socket;

/*
 * Socket activation without libsystemd: takes the listening sockets passed in LISTEN_PID,
 * LISTEN_FDS and LISTEN_FDNAMES (descriptors from 3). type is SOCK_STREAM or SOCK_SEQPACKET (every
 * socket must have it) or 0 (either). Each socket is checked to be an AF_UNIX listening socket of
 * that type, made close-on-exec (and O_NONBLOCK with MON_UNIX_NONBLOCK) and prepared as
 * mon_listener_prepare does. *out_num receives how many were placed in out: 0 when the variables
 * are absent or LISTEN_PID names another process. The three variables are then removed from the
 * environment (as sd_listen_fds(1) does), also when the call fails on what they say; they are read
 * with secure_getenv (a set-user-ID program ignores them). Not thread-safe: it changes the
 * environment; call it early in main(). Returns MON_OK; MON_ERR_TOOBIG when more than max_sockets
 * were passed (nothing changed, the environment included: call again with room for
 * MON_LISTEN_FDS_MAX);
 * MON_ERR_INVALID (out_num NULL, out NULL with max_sockets > 0, bad type or flags, a variable that
 * is not a number in range, names that do not match LISTEN_FDS, a descriptor that is not an
 * AF_UNIX listening socket of the type: the descriptors are then left as they were); MON_ERR_IO.
 */
MON_API int mon_listen_fds(int type, unsigned flags, mon_listen_socket *out, size_t max_sockets,
                           size_t *out_num);
/* ---- Handshakes without allocation, with options ---------------------------------------------
 */

/* The bytes a handshake state needs (client or server), for mon_auth_storage. */
#define MON_AUTH_STORAGE_SIZE 1152

/* Caller-provided room for one handshake state: on the stack, in a connection's struct, in an
 * arena. Opaque; aligned for any state. Must stay in place (not copied or moved) from
 * *_init_ex until *_end. */
typedef union mon_auth_storage {
  unsigned char bytes[MON_AUTH_STORAGE_SIZE];
  long double align_ld;
  void *align_p;
  long long align_ll;
} mon_auth_storage;

/* The socket was accepted from a listener prepared by mon_listener_prepare (or mon_unix_listen):
 * SO_PASSCRED is on and SO_PASSRIGHTS off already (inherited, Linux >= 6.16), so the server toggles
 * nothing before the hello. If the claim is false the handshake fails closed (a hello without
 * kernel credentials is denied). Server only. */
#define MON_AUTH_PREPARED_LISTENER 1u
/* The connection never receives descriptors: SO_PASSRIGHTS stays off after the handshake (server),
 * or is turned off at init (client; Linux >= 6.16). */
#define MON_AUTH_REFUSE_DESCRIPTORS 2u

/* How a handshake runs. Zero-initialised options mean the seed functions' behaviour. */
typedef struct mon_auth_options {
  unsigned flags; /* MON_AUTH_* */
  /* SOCK_STREAM or SOCK_SEQPACKET when the caller knows the socket's type (saves a system call);
   * 0: ask the kernel. */
  int socket_type;
  /* > 0: the whole handshake must end within this many milliseconds of init. Past it, a step
   * returns MON_ERR_IO with errno ETIMEDOUT (and keeps returning it). On a blocking socket a step
   * then waits at most until the deadline, so one blocking step is a whole handshake within a
   * timeout; on a non-blocking socket steps return MON_WANT_* as usual. 0: no deadline. */
  int timeout_ms;
} mon_auth_options;

/* mon_ipc_auth_client_init with options (NULL: none) and, unless storage is NULL, the state built
 * in storage instead of allocated (no heap allocation at all: *state then points into storage).
 * mon_ipc_auth_client_end ends either kind. Returns MON_CONTINUE, or, with *state NULL:
 *   MON_ERR_INVALID  state NULL, fd negative, an unknown flag or socket type, a negative timeout,
 *                    MON_AUTH_PREPARED_LISTENER (a server's flag), or not a stream or seqpacket
 *                    socket;
 *   MON_ERR_NOMEM    storage NULL and the state could not be allocated;
 *   MON_ERR_IO       a socket option could not be set or read (errno kept). */
MON_API int mon_ipc_auth_client_init_ex(int fd, const mon_auth_options *opts,
                                        mon_auth_storage *storage, void **state);

/* mon_ipc_auth_server_init with options (NULL: none) and, unless storage is NULL, the state built
 * in storage (no allocation). mon_ipc_auth_server_end ends either kind. Returns MON_CONTINUE, or,
 * with *state NULL and creds set to unknown:
 *   MON_ERR_INVALID  state or creds NULL, fd negative, an unknown flag or socket type, a negative
 *                    timeout, or not an AF_UNIX stream or seqpacket socket;
 *   MON_ERR_NOMEM    storage NULL and the state could not be allocated;
 *   MON_ERR_IO       reading SO_PEERCRED or setting an option failed (errno kept). */
MON_API int mon_ipc_auth_server_init_ex(int fd, mon_ipc_creds *creds, const mon_auth_options *opts,
                                        mon_auth_storage *storage, void **state);

/* ---- Why it failed: faults, for logs ----------------------------------------------------------
 */

/* The specific reason behind the last MON_ERR_PROTOCOL, MON_ERR_TRUNCATED, MON_ERR_TOOBIG or
 * MON_ERR_DENIED (the values of mon::fault, include/monitor/fault.hpp: stable numbers, safe to log;
 * 0 when there is none). Callers act on the result code; operators read the fault. */
/* The last receive into buf (0 after a success, and for NULL). */
MON_API int mon_buffer_fault(const mon_buffer *buf);
/* A handshake state's (0 for NULL or a state of the other kind). */
MON_API int mon_ipc_auth_client_fault(const void *state);
MON_API int mon_ipc_auth_server_fault(const void *state);
/* A sentence for a fault value ("unknown fault" for a value this version does not know). */
MON_API const char *mon_fault_string(int fault);

/* ---- More C twins of the C++ API (docs/CAPI_PARITY.md) ----------------------------------------
 */

/* mon_ipc_recv_fds with the kind check of mon_ipc_recv_fd_typed: every descriptor of the message
 * must be of a kind in allowed_types (MON_FD_TYPE_* bits), or the message is refused whole
 * (MON_ERR_PROTOCOL; its descriptors disposed of, the connection still usable). Other results as
 * mon_ipc_recv_fds. */
MON_API int mon_ipc_recv_fds_typed(int fd, mon_buffer *buf, int *out_fds, size_t max_fds,
                                   size_t *out_num_fds, unsigned allowed_types);

/* The supplementary groups and security label of the process at the other end of any connected
 * AF_UNIX socket (SO_PEERGROUPS, SO_PEERSEC: the kernel's snapshot at connect()), as
 * mon_ipc_auth_server_peer_info gives them after a handshake; the same arguments and results, with
 * MON_ERR_INVALID also for a negative fd. Without a handshake nothing says the connector still uses
 * the socket: prefer mon_ipc_auth_server_peer_info on a server. */
MON_API int mon_peer_info(int fd, gid_t *groups, size_t max_groups, size_t *out_num_groups,
                          char *label, size_t max_label_len, size_t *out_label_len);

/* Makes room for len bytes in buf without changing its content (an allocation done ahead of a
 * receive or an append). Returns MON_OK, MON_ERR_TOOBIG (over the buffer's cap), MON_ERR_NOMEM, or
 * MON_ERR_INVALID (buf NULL). */
MON_API int mon_buffer_reserve(mon_buffer *buf, size_t len);

/* ---- Refused descriptors ----------------------------------------------------------------------
 */

/*
 * Every descriptor a peer sends is handed to the caller or disposed of; none stays open unseen.
 * "Disposed of" is not a plain close() on the caller's thread: close() of a file on a FUSE (or hung
 * NFS) mount served by the peer waits, uninterruptibly, for that file system's answer, so a
 * non-blocking receive or handshake step that closed a refused descriptor inline could block
 * forever (SECURITY.md, "A peer's descriptors are attack surface"). Refused descriptors (wrong
 * count, unexpected control data, a kind the receiver does not take, a failed shared-memory check,
 * descriptors during the handshake) go to the refused-descriptor handler instead.
 *
 * Installs fn as that handler for the whole process (the one piece of global state of the library);
 * fn == NULL restores the default. fn receives each refused descriptor with context, OWNS it from
 * then on and must close it eventually, on a thread that may block (a worker thread); fn itself
 * runs inside the library call that refused the descriptor, so it must return quickly, must not
 * block and must not call back into the library with the same object. Thread-safe; a call in
 * progress on another thread may still use the previous handler and context after this returns.
 *
 * The default hands refused descriptors to up to 4 detached closer threads of the library (started
 * on the first refusal, all signals blocked), which close them; a closer stalled by a hostile file
 * system stays stalled and the next refusal starts another. Where no closer can take them (thread
 * creation refused, or 4 closers stalled with a full queue), they are closed inline.
 */
MON_API void mon_set_refused_fd_handler(void (*fn)(int fd, void *context), void *context);

/* ---- Batches ----------------------------------------------------------------------------------
 */

/*
 * Many messages per system call (sendmmsg / recvmmsg), every message's descriptors bound to it
 * (docs/PROTOCOL.md, "Batches"); the wire format is the one of mon_ipc_send_fds, so either end may
 * batch or not. A mon_batch is the state of one socket: a message half sent on a non-blocking
 * stream socket, and on the receiving side what was read but not yet delivered (bytes and
 * descriptors read ahead, a message begun). About 110 KiB; allocated once by mon_batch_new.
 */
typedef struct mon_batch mon_batch;

/* The most messages mon_ipc_recv_batch delivers per call (and mon_ipc_send_batch per sendmmsg). */
#define MON_BATCH_MAX 64

/* One message of a batch. */
typedef struct mon_batch_msg {
  void *data;     /* send: the payload; receive: where the payload goes (cap bytes) */
  size_t len;     /* send: payload bytes; receive (out): payload bytes received */
  size_t cap;     /* receive: room at data, the largest payload this message accepts */
  int *fds;       /* send: descriptors to attach (borrowed); receive: room for max_fds of them */
  size_t num_fds; /* send: how many; receive (out): how many arrived, now owned by the caller */
  int status;     /* receive (out): MON_OK, or why this one message was refused */
} mon_batch_msg;

/* A new batch state (NULL on MON_ERR_NOMEM); free it with mon_batch_free (NULL is a no-op). */
MON_API mon_batch *mon_batch_new(void);
MON_API void mon_batch_free(mon_batch *batch);
/* Forgets all the state holds (its descriptors closed as refused ones) and the socket. */
MON_API void mon_batch_clear(mon_batch *batch);

/*
 * Sends msgs[0 .. count) in order, up to MON_BATCH_MAX per sendmmsg; *out_sent is how many went
 * whole. MON_OK: all of them. MON_WANT_WRITE: the socket is full (non-blocking); when writable,
 * call again with msgs + *out_sent: if that message went out in part, it resumes where it stopped
 * and its descriptors are not sent twice. MON_OK with *out_sent < count cannot happen; an error
 * after some messages went returns MON_WANT_WRITE with them counted and the next call reports it.
 * A message that cannot be sent (more than 253 descriptors, a negative one, a payload over
 * MON_BUFFER_LIMIT) stops the batch before it. Errors: MON_ERR_INVALID (batch or out_sent NULL,
 * msgs NULL with count > 0, fds NULL with num_fds > 0, a bad message first, a half-sent message and
 * another socket or message), MON_ERR_CLOSED, MON_ERR_TOOBIG, MON_ERR_NOMEM, MON_ERR_IO.
 */
MON_API int mon_ipc_send_batch(int fd, mon_batch *batch, const mon_batch_msg *msgs, size_t count,
                               size_t *out_sent);

/*
 * Receives up to count (at most MON_BATCH_MAX) messages into msgs[0 .. *out_received); the others
 * are left as they were. Each is one message in stream order: status MON_OK, len bytes at data,
 * fds[0 .. num_fds) received (close-on-exec, owned by the caller); or a message refused for itself
 * (status MON_ERR_TOOBIG: over cap; MON_ERR_PROTOCOL: more than max_fds descriptors, another count
 * than its header's, descriptors misplaced; MON_ERR_TRUNCATED: the kernel cut them), consumed with
 * its descriptors closed as refused ones, len and num_fds 0, and the messages after it are still
 * delivered. A malformed stream header (MON_ERR_PROTOCOL) ends the batch: close the socket. No
 * message is split across two calls' buffers. MON_OK: *out_received >= 1. MON_WANT_READ:
 * *out_received is 0 (non-blocking, nothing complete yet). A blocking socket waits for the first
 * message only. End of file or a socket error after some messages: those come with MON_OK, and the
 * next call returns MON_ERR_CLOSED (MON_ERR_PROTOCOL inside a message) or the error. max_fds (at
 * most 253) also sets how many messages one system call takes: min(64, 512 / max_fds). Use one
 * mon_batch per socket, not mixed with mon_ipc_recv_fd(s) on it. Errors: MON_ERR_INVALID (batch or
 * out_received NULL, msgs NULL or count 0, data NULL with cap > 0, fds NULL with max_fds > 0, a
 * half-read message of another socket), MON_ERR_CLOSED, MON_ERR_PROTOCOL, MON_ERR_NOMEM,
 * MON_ERR_IO.
 */
MON_API int mon_ipc_recv_batch(int fd, mon_batch *batch, mon_batch_msg *msgs, size_t count,
                               size_t max_fds, size_t *out_received);

#ifdef __cplusplus
}
#endif

#endif /* MONITOR_MONITOR_H */
