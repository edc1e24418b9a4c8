// SPDX-License-Identifier: MIT
// The hostile FUSE server of tests/support/fuse_stall.hpp: a one-file read-only file system that
// holds every FLUSH (what close() waits for) and every LOOKUP of "block" until told otherwise. Only
// as much of the protocol as that needs; <linux/fuse.h> has the layouts.
//
//   fuse_stall_server --serve                   /dev/fuse on descriptor 3, the harness's control
//                                               socket on 4 (what fuse_stall runs)
//   fuse_stall_server --mount DIR [--allow-other]
//                                               mounts DIR itself, prints "ready", and holds
//                                               until killed (examples/fd-broker/e2e_test.sh);
//                                               its death aborts the connection: whatever waited
//                                               gets ENOTCONN
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "support/fuse_stall.hpp"

namespace {

constexpr std::uint64_t root_ino = FUSE_ROOT_ID;
constexpr std::uint64_t file_ino = 2;

int dev = -1;
int control = -1;  // -1 in --mount mode: no events, no commands
bool released = false;
std::vector<std::pair<std::uint64_t, int>> held;  // unique, error to answer with

fuse_attr attr_of(std::uint64_t ino) {
  fuse_attr a{};
  a.ino = ino;
  a.mode = ino == root_ino ? (S_IFDIR | 0755) : (S_IFREG | 0666);
  a.nlink = ino == root_ino ? 2 : 1;
  a.blksize = 4096;
  return a;
}

void reply(std::uint64_t unique, int error, const void* body = nullptr, std::size_t body_len = 0) {
  fuse_out_header h{};
  h.len = static_cast<std::uint32_t>(sizeof h + (error == 0 ? body_len : 0));
  h.error = -error;
  h.unique = unique;
  unsigned char out[sizeof h + 256];
  std::memcpy(out, &h, sizeof h);
  if (error == 0 && body_len > 0) std::memcpy(out + sizeof h, body, body_len);
  // ENOENT here means the request was interrupted or aborted: nothing left to answer.
  (void)::write(dev, out, h.len);
}

void event(char c) {
  if (control >= 0) (void)::send(control, &c, 1, MSG_NOSIGNAL);
}

void hold(std::uint64_t unique, int error, char what) {
  if (released) return reply(unique, error);
  held.emplace_back(unique, error);
  event(what);
}

void handle(const unsigned char* req, std::size_t len) {
  fuse_in_header in;
  std::memcpy(&in, req, sizeof in);
  const unsigned char* arg = req + sizeof in;
  const std::size_t arg_len = len - sizeof in;
  switch (in.opcode) {
    case FUSE_INIT: {
      fuse_init_in init{};
      std::memcpy(&init, arg, std::min(arg_len, sizeof init));
      fuse_init_out out{};
      out.major = FUSE_KERNEL_VERSION;
      out.minor = FUSE_KERNEL_MINOR_VERSION;
      out.max_readahead = init.max_readahead;
      out.max_background = 16;
      out.congestion_threshold = 12;
      out.max_write = 4096;
      out.time_gran = 1;
      return reply(in.unique, 0, &out, sizeof out);
    }
    case FUSE_LOOKUP: {
      const char* name = reinterpret_cast<const char*>(arg);
      const std::string n(name, strnlen(name, arg_len));
      if (in.nodeid == root_ino && n == "block") return hold(in.unique, ENOENT, 'L');
      if (in.nodeid != root_ino || n != "file") return reply(in.unique, ENOENT);
      fuse_entry_out e{};
      e.nodeid = file_ino;
      e.generation = 1;
      e.attr = attr_of(file_ino);
      return reply(in.unique, 0, &e, sizeof e);
    }
    case FUSE_GETATTR: {
      if (in.nodeid != root_ino && in.nodeid != file_ino) return reply(in.unique, ENOENT);
      fuse_attr_out a{};
      a.attr = attr_of(in.nodeid);
      return reply(in.unique, 0, &a, sizeof a);
    }
    case FUSE_OPEN:
    case FUSE_OPENDIR: {
      fuse_open_out o{};
      o.fh = 1;
      return reply(in.unique, 0, &o, sizeof o);
    }
    case FUSE_READ:
    case FUSE_READDIR:  // an empty file, an empty listing
    case FUSE_RELEASE:
    case FUSE_RELEASEDIR:
      return reply(in.unique, 0);
    case FUSE_FLUSH:
      return hold(in.unique, 0, 'F');
    case FUSE_FORGET:
    case FUSE_BATCH_FORGET:
    case FUSE_INTERRUPT:  // not honoured, on purpose: a hostile server ignores interrupts
      return;             // none of these expects an answer
    default:
      return reply(in.unique, ENOSYS);
  }
}

void command(char c) {
  if (c == 'R') {
    released = true;
    for (const auto& [unique, error] : held) reply(unique, error);
    held.clear();
  } else if (c == 'H') {
    released = false;
  }
  event('a');
}

int serve() {
  // The kernel wants room for a whole request (max_write plus headers) in every read.
  std::vector<unsigned char> buf(FUSE_MIN_READ_BUFFER + 8192);
  for (;;) {
    pollfd p[2] = {{dev, POLLIN, 0}, {control, POLLIN, 0}};
    if (::poll(p, control >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (control >= 0 && p[1].revents != 0) {
      char c;
      const ssize_t n = ::recv(control, &c, 1, 0);
      if (n <= 0) return 0;  // the harness is gone: exiting aborts the connection
      command(c);
    }
    if (p[0].revents == 0) continue;
    const ssize_t n = ::read(dev, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == ENOENT) continue;
      return 0;  // ENODEV: unmounted
    }
    if (static_cast<std::size_t>(n) >= sizeof(fuse_in_header)) {
      handle(buf.data(), static_cast<std::size_t>(n));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--serve") == 0) {
    dev = 3;
    control = 4;
    return serve();
  }
  if ((argc == 3 || argc == 4) && std::strcmp(argv[1], "--mount") == 0) {
    const bool allow_other = argc == 4 && std::strcmp(argv[3], "--allow-other") == 0;
    std::string why;
    mon::unique_fd d = mon::test::mount_stall_fs(argv[2], allow_other, why);
    if (!d) {
      std::fprintf(stderr, "fuse_stall_server: %s\n", why.c_str());
      return 77;  // the e2e script's "skip"
    }
    dev = d.release();
    std::printf("ready\n");
    std::fflush(stdout);
    return serve();
  }
  std::fprintf(stderr, "usage: %s --serve | --mount DIR [--allow-other]\n", argv[0]);
  return 2;
}
