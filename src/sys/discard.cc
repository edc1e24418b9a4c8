// SPDX-License-Identifier: MIT
// Disposal of refused peer descriptors.
//
// Why not close() here: close() of a descriptor calls the file's ->flush (filp_close), and FUSE's
// flush sends a FLUSH request and waits for the server's answer uninterruptibly; a peer that serves
// the file system never answers. Every close() of a descriptor flushes, not only the last one, and
// so does process exit. Putting the file in flight first (SCM_RIGHTS into a private socketpair)
// does not help: the descriptor must still be closed, and that close() flushes
// (tests/hostile/fuse_close_test.cc, FuseClose.ClosingAfterSendingTheFileAwayStillWaits). The only
// releases that do not flush are the kernel's own (the final fput of a file in flight or dropped by
// recvmsg for want of control-buffer room, and SO_PASSRIGHTS=0 refusing it at sendmsg); once a
// descriptor is in this process's table, a thread has to call close() and may wait forever. So the
// waiting is moved off the caller's thread: to the application's handler, or to closer threads.
//
// The closers read descriptor numbers from a pipe (a bounded, lock-free queue the kernel keeps;
// writes of at most PIPE_BUF bytes are atomic, so a batch is never split). Only the closers call
// close() on those numbers, and each number stays open until then, so it cannot be reused under
// them. A closer stuck in a hostile close() stays stuck; while every closer is busy, the next
// refusal starts another, up to max_closers.
#include "sys/discard.hpp"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>

#include "monitor/refused_fds.hpp"

namespace mon {
namespace {

using plain_handler = void (*)(int, void*);

std::mutex handler_mu;
plain_handler handler_fn = nullptr;  // guarded by handler_mu, as a pair with handler_ctx
void* handler_ctx = nullptr;

}  // namespace

namespace sys {

void set_refused_fd_handler_plain(void (*fn)(int fd, void* context), void* context) noexcept {
  const std::lock_guard<std::mutex> lock(handler_mu);
  handler_fn = fn;
  handler_ctx = fn != nullptr ? context : nullptr;
}

}  // namespace sys

void set_refused_fd_handler(refused_fd_handler fn, void* context) noexcept {
  sys::set_refused_fd_handler_plain(fn, context);  // a noexcept function pointer converts
}

namespace sys {
namespace {

constexpr int max_closers = 4;
constexpr std::size_t batch = PIPE_BUF / sizeof(int);  // one atomic pipe write

std::mutex closer_mu;              // guards the fields below (only ever taken on a refusal)
pid_t closer_owner = 0;            // the process whose closers read queue_read (a fork has none)
int queue_read = -1;               // the closers' end of the queue
int queue_write = -1;              // O_NONBLOCK: a full queue is EAGAIN, never a wait
int closers = 0;                   // closer threads started in closer_owner
std::atomic<int> idle_closers{0};  // started closers not inside close()

void* closer_main(void* arg) {
  const int q = static_cast<int>(reinterpret_cast<std::intptr_t>(arg));
  for (;;) {
    int fd = -1;
    const ssize_t n = ::read(q, &fd, sizeof fd);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof fd)) return nullptr;  // queue gone: nothing more to close
    idle_closers.fetch_sub(1, std::memory_order_relaxed);
    (void)::close(fd);  // may wait forever on a hostile file system: that is this thread's job
    idle_closers.fetch_add(1, std::memory_order_relaxed);
  }
}

// Under closer_mu: makes sure this process has a queue and, if every closer is busy, one more
// closer. Returns false when there is no closer at all to give descriptors to.
bool ensure_closer() noexcept {
  const pid_t self = ::getpid();
  if (closer_owner != self) {
    // First refusal in this process, or in a child after fork(): the parent's closers are not
    // here, and its queue must not be written (the parent would close numbers of ours).
    if (queue_read >= 0) (void)::close(queue_read);
    if (queue_write >= 0) (void)::close(queue_write);
    queue_read = queue_write = -1;
    closers = 0;
    idle_closers.store(0, std::memory_order_relaxed);
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return false;
    if (::fcntl(p[1], F_SETFL, O_NONBLOCK) != 0) {
      (void)::close(p[0]);
      (void)::close(p[1]);
      return false;
    }
    queue_read = p[0];
    queue_write = p[1];
    closer_owner = self;
  }
  if (idle_closers.load(std::memory_order_relaxed) > 0 || closers >= max_closers) {
    return closers > 0;
  }
  pthread_attr_t attr;
  if (::pthread_attr_init(&attr) != 0) return closers > 0;
  (void)::pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  (void)::pthread_attr_setstacksize(&attr, std::size_t{64} * 1024);
  // The closer inherits a mask with every signal blocked: it must not take the application's.
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  (void)::pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t t{};
  idle_closers.fetch_add(1, std::memory_order_relaxed);  // idle from birth: no second spawn race
  const int rc = ::pthread_create(&t, &attr, closer_main,
                                  reinterpret_cast<void*>(static_cast<std::intptr_t>(queue_read)));
  (void)::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  (void)::pthread_attr_destroy(&attr);
  if (rc != 0) {
    idle_closers.fetch_sub(1, std::memory_order_relaxed);
  } else {
    ++closers;
  }
  return closers > 0;
}

void close_inline(std::span<unique_fd> fds) noexcept {
  for (auto& fd : fds) fd.reset();
}

void to_closers(std::span<unique_fd> fds) noexcept {
  const std::lock_guard<std::mutex> lock(closer_mu);
  if (!ensure_closer()) return close_inline(fds);
  while (!fds.empty()) {
    int numbers[batch];
    std::size_t n = 0;
    for (; n < batch && n < fds.size(); ++n) numbers[n] = fds[n].get();
    ssize_t w = -1;
    do {
      w = ::write(queue_write, numbers, n * sizeof(int));
    } while (w < 0 && errno == EINTR);
    if (w == static_cast<ssize_t>(n * sizeof(int))) {
      for (std::size_t i = 0; i < n; ++i) (void)fds[i].release();  // the closers own them now
    } else {
      close_inline(fds.first(n));  // queue full (EAGAIN; a write this small is never partial)
    }
    fds = fds.subspan(n);
  }
}

}  // namespace

void discard(std::span<unique_fd> fds) noexcept {
  // Compact the valid descriptors to the front, so the empty slots of a list cost nothing below.
  std::size_t valid = 0;
  for (auto& fd : fds) {
    if (fd.valid()) fds[valid++] = std::move(fd);
  }
  fds = fds.first(valid);
  if (fds.empty()) return;

  plain_handler fn = nullptr;
  void* ctx = nullptr;
  {
    const std::lock_guard<std::mutex> lock(handler_mu);
    fn = handler_fn;
    ctx = handler_ctx;
  }
  if (fn != nullptr) {
    for (auto& fd : fds) fn(fd.release(), ctx);
    return;
  }
  to_closers(fds);
}

void discard(fd_list& fds) noexcept {
  discard(fds.items());
  fds.clear();  // only empty slots are left
}

void discard(unique_fd& fd) noexcept { discard(std::span<unique_fd>(&fd, 1)); }

}  // namespace sys
}  // namespace mon
