// SPDX-License-Identifier: MIT
// `monitor_insns check-twins`: the raw_secure twins are a baseline only if they really do the
// checks they claim (support/fd_secure_impls.hpp, support/hs_secure_impls.hpp). Each case queues
// bytes (valid or hostile) on a socket pair, runs one receive or handshake step in a forked child
// and checks the outcome: a valid input returns normally; a hostile one must stop at the named
// check (bench::check prints "<what>: ..." and aborts), not at any other, nor pass.
// ci/bench.sh runs it before the suite; it exits non-zero on the first case that fails.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "support/fd_secure_impls.hpp"
#include "support/hs_secure_impls.hpp"

namespace bench {
namespace {

using fdimpl::raw_secure_receiver;

// sendmsg of `bytes` with optional SCM_RIGHTS (`fds`) and SCM_CREDENTIALS (`creds`).
void put(int fd, const std::vector<unsigned char>& bytes, const std::vector<int>& fds,
         const ucred* creds = nullptr) {
  alignas(
      cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int) * 4) + CMSG_SPACE(sizeof(ucred))] = {};
  iovec iov{const_cast<unsigned char*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::size_t used = 0;
  if (!fds.empty() || creds != nullptr) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (!fds.empty()) {
      check(fds.size() <= 4, "put: too many fds");
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
      std::memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
      used += CMSG_SPACE(fds.size() * sizeof(int));
      c = CMSG_NXTHDR(&msg, c);
    }
    if (creds != nullptr) {
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_CREDENTIALS;
      c->cmsg_len = CMSG_LEN(sizeof(ucred));
      std::memcpy(CMSG_DATA(c), creds, sizeof *creds);
      used += CMSG_SPACE(sizeof(ucred));
    }
    msg.msg_controllen = used;
  }
  check(::sendmsg(fd, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()), "put: sendmsg");
}

std::vector<unsigned char> frame(unsigned declared_fds, std::size_t payload, char magic = 'm') {
  auto h = frame_header(declared_fds, static_cast<std::uint32_t>(payload));
  h[0] = static_cast<unsigned char>(magic);
  std::vector<unsigned char> v(8 + payload, 'x');
  std::memcpy(v.data(), h.data(), h.size());
  return v;
}

struct scenario {
  const char* name;
  int type;
  const char* refused_by;  // nullptr: valid input, the receiver must return normally
  std::function<void(int)> send;
  std::function<void(int)> receive;
  bool peer_stays = false;  // the sender's end stays open while the child runs (a handshake step
                            // writes to it)
};

// Runs s.receive in a child (stderr to a pipe) after s.send queued the input; true if the outcome
// is the one expected.
bool run(const scenario& s) {
  auto sv = socket_pair(s.type);
  int err[2];
  check(::pipe(err) == 0, "pipe");
  s.send(sv[0]);
  if (!s.peer_stays) ::close(sv[0]);  // anything read past the input is end of file, never a hang
  const pid_t child = ::fork();
  check(child >= 0, "fork");
  if (child == 0) {
    ::dup2(err[1], 2);
    ::close(err[0]);
    s.receive(sv[1]);
    ::_exit(0);
  }
  ::close(err[1]);
  ::close(sv[1]);
  std::string said;
  char buf[512];
  for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) > 0;)
    said.append(buf, static_cast<std::size_t>(n));
  ::close(err[0]);
  int status = 0;
  check(::waitpid(child, &status, 0) == child, "waitpid");
  if (s.peer_stays) ::close(sv[0]);
  bool ok;
  if (s.refused_by == nullptr) {
    ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  } else {
    ok = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT &&
         said.rfind(s.refused_by, 0) == 0;  // stopped by this check, not another
  }
  std::printf("%-6s %-58s %s\n", ok ? "ok" : "FAILED", s.name,
              s.refused_by == nullptr ? "accepted" : s.refused_by);
  if (!ok) std::printf("       child: %s (status %d)\n", said.c_str(), status);
  return ok;
}

void receive_one(int fd, int type, int limit) {
  raw_secure_receiver r(fd, type, limit);
  check(r.receive(), "twin check: no message");
}

}  // namespace

int check_twins() {
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  check(devnull >= 0, "open /dev/null");
  const std::vector<int> one{devnull};
  const std::vector<int> two{devnull, devnull};
  auto stream_rx = [](int fd) { receive_one(fd, SOCK_STREAM, 1); };
  auto seq_rx = [](int fd) { receive_one(fd, SOCK_SEQPACKET, 1); };
  const std::vector<scenario> cases = {
      {"fd stream: valid frame, 1 descriptor", SOCK_STREAM, nullptr,
       [&](int fd) { put(fd, frame(1, 32), one); }, stream_rx},
      {"fd seqpacket: valid record, 1 descriptor", SOCK_SEQPACKET, nullptr,
       [&](int fd) { put(fd, frame(1, 32), one); }, seq_rx},
      {"fd stream: header declares 1, none attached", SOCK_STREAM, "raw_secure: descriptor count",
       [&](int fd) { put(fd, frame(1, 32), {}); }, stream_rx},
      {"fd stream: header declares 0, 1 attached", SOCK_STREAM, "raw_secure: descriptor count",
       [&](int fd) { put(fd, frame(0, 32), one); }, stream_rx},
      {"fd stream: 2 declared and attached, receiver takes 1", SOCK_STREAM,
       "raw_secure: descriptor count", [&](int fd) { put(fd, frame(2, 32), two); }, stream_rx},
      {"fd stream: descriptor on the payload's read", SOCK_STREAM,
       "raw_secure: descriptors after the header's first byte",
       [&](int fd) {
         auto f = frame(0, 32);
         put(fd, {f.begin(), f.begin() + 8}, {});
         put(fd, {f.begin() + 8, f.end()}, one);
       },
       stream_rx},
      {"fd stream: bad magic", SOCK_STREAM, "raw_secure: bad header",
       [&](int fd) { put(fd, frame(1, 32, 'X'), one); }, stream_rx},
      {"fd stream: end of file inside the payload", SOCK_STREAM,
       "raw_secure: end of file inside a frame",
       [&](int fd) {
         auto f = frame(1, 32);
         f.resize(20);
         put(fd, f, one);
       },
       stream_rx},
      {"fd stream: payload longer than the receiver's buffer", SOCK_STREAM,
       "raw_secure: payload too long",
       [&](int fd) {
         auto h = frame_header(1, 1u << 20);
         put(fd, {h.begin(), h.end()}, one);
       },
       stream_rx},
      {"fd stream: SCM_CREDENTIALS beside the descriptors", SOCK_STREAM,
       "raw_secure: control data refused",
       [&](int fd) {
         const ucred own{::getpid(), ::geteuid(), ::getegid()};
         put(fd, frame(1, 32), one, &own);
       },
       [](int fd) {
         const int on = 1;
         check(::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0, "SO_PASSCRED");
         receive_one(fd, SOCK_STREAM, 1);
       }},
      {"fd seqpacket: record longer than its header says", SOCK_SEQPACKET,
       "raw_secure: record size",
       [&](int fd) {
         auto f = frame(1, 32);
         f.push_back('y');
         put(fd, f, one);
       },
       seq_rx},
      {"hs client: accept arrives with a descriptor", SOCK_STREAM,
       "raw_secure: descriptors or cut control data in the handshake",
       [&](int fd) {
         put(fd, {hsimpl::accept_msg.begin(), hsimpl::accept_msg.end()}, one);
       },
       [](int fd) {
         hsimpl::raw_secure_client c(fd);
         (void)c.step();
       },
       /*peer_stays=*/true},
  };
  bool all = true;
  for (const auto& s : cases) all = run(s) && all;
  // The cross-check: a hello whose credentials name another process (pid 1). Only a process
  // with CAP_SYS_ADMIN may send them; the kernel refuses anyone else at sendmsg.
  if (::geteuid() == 0) {
    all = run({"hs server: hello claims pid 1, SO_PEERCRED says otherwise", SOCK_STREAM,
               "raw_secure server: credentials differ from SO_PEERCRED",
               [](int fd) {
                 const ucred forged{1, ::geteuid(), ::getegid()};
                 put(fd, {hsimpl::hello.begin(), hsimpl::hello.end()}, {}, &forged);
               },
               [](int fd) {
                 hsimpl::raw_secure_server s(fd);
                 (void)s.step();
               }}) &&
          all;
  } else {
    std::printf("skip   hs server: forged credentials (needs root)\n");
  }
  ::close(devnull);
  return all ? 0 : 1;
}

}  // namespace bench
