// SPDX-License-Identifier: MIT
// Writes the seed corpora: real handshakes and frames, recorded with their control data, in each
// target's input format (see the comment at the top of each fuzz/<target>.cc).
//
//   make_corpus OUTDIR     writes OUTDIR/<target>/seed-<name> for every target
//
// Handshakes run between the library's real client and server through a recording tap in the
// middle (client <-> tap <-> server, two socketpairs, one thread, non-blocking): the tap reads
// exactly as the receiving side would, keeps every read's bytes and control data, and forwards.
// Frames are sent with the library's send path and read back with raw recvmsg, keeping the control
// buffer as the kernel filled it.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "cmsg/control.hpp"
#include "monitor/monitor.hpp"

namespace {

using bytes = std::vector<std::uint8_t>;

std::string g_out;

void put_u8(bytes& b, unsigned v) { b.push_back(static_cast<std::uint8_t>(v)); }
void put_u16(bytes& b, unsigned v) {
  put_u8(b, v >> 8);
  put_u8(b, v);
}
void put_u32(bytes& b, std::uint32_t v) {
  put_u16(b, v >> 16);
  put_u16(b, v & 0xffff);
}
void put(bytes& b, const bytes& more) { b.insert(b.end(), more.begin(), more.end()); }

void save(const std::string& target, const std::string& name, const bytes& data) {
  const std::string dir = g_out + "/" + target;
  ::mkdir(g_out.c_str(), 0755);
  ::mkdir(dir.c_str(), 0755);
  std::ofstream f(dir + "/seed-" + name, std::ios::binary);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!f) {
    std::fprintf(stderr, "make_corpus: cannot write %s/%s\n", dir.c_str(), name.c_str());
    std::exit(1);
  }
}

void die(const char* what) {
  std::fprintf(stderr, "make_corpus: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// One read as the tap saw it.
struct read_rec {
  bytes data;
  std::vector<std::uint8_t> control;
  int msg_flags = 0;
  bool has_creds = false;
  ucred creds{};
  int num_fds = 0;
};

// recvmsg of up to `want` bytes, keeping the control buffer. 0 bytes: nothing there (or EOF).
read_rec tap_read(int fd, std::size_t want) {
  read_rec r;
  r.data.resize(want);
  alignas(cmsghdr) std::uint8_t control[mon::cmsg::max_space];
  iovec iov{r.data.data(), want};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  r.data.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  if (n <= 0) return r;
  r.msg_flags = msg.msg_flags;
  r.control.assign(control, control + msg.msg_controllen);
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      r.has_creds = true;
      std::memcpy(&r.creds, CMSG_DATA(c), sizeof r.creds);
    } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      const std::size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < k; ++i) {
        int d;
        std::memcpy(&d, CMSG_DATA(c) + i * sizeof(int), sizeof d);
        ::close(d);  // the numbers mean nothing in a corpus; the count does
      }
      r.num_fds += static_cast<int>(k);
    }
  }
  return r;
}

void raw_write(int fd, const bytes& b, const ucred* creds) {
  alignas(cmsghdr) std::uint8_t control[CMSG_SPACE(sizeof(ucred))] = {};
  iovec iov{const_cast<std::uint8_t*>(b.data()), b.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (creds) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_len = CMSG_LEN(sizeof(ucred));
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS;
    std::memcpy(CMSG_DATA(c), creds, sizeof *creds);
  }
  if (::sendmsg(fd, &msg, MSG_NOSIGNAL) != static_cast<ssize_t>(b.size())) die("sendmsg");
}

// Reads one whole handshake message at fd as the library's collector does: header, then body (or
// one record). Returns the reads.
std::vector<read_rec> read_message(int fd, bool record) {
  std::vector<read_rec> reads;
  if (record) {
    reads.push_back(tap_read(fd, 264));
    return reads;
  }
  std::size_t need = 8, got = 0;
  bytes all;
  while (got < need) {
    auto r = tap_read(fd, need - got);
    if (r.data.empty()) break;
    got += r.data.size();
    put(all, r.data);
    if (all.size() == 8) need = 8 + ((all[6] << 8) | all[7]);
    reads.push_back(std::move(r));
  }
  return reads;
}

bool refuse_all(const mon::peer_credentials&, void*) noexcept { return false; }

// What a transcript records: the hello as the server read it, the reply as the client read it.
struct transcript {
  mon::peer_credentials server_saw_peer;
  std::vector<read_rec> hello_reads;
  std::vector<read_rec> reply_reads;
};

// client <-> tap <-> server. `hello` overrides the client's bytes (raw client); forge_uid sends the
// hello on with credentials whose uid is off by one (root only).
transcript record_handshake(int type, bool refuse, const bytes* hello, bool forge_uid) {
  int p1[2], p2[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, p1) != 0) die("socketpair");
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, p2) != 0) die("socketpair");
  const int on = 1;
  if (::setsockopt(p1[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) die("SO_PASSCRED");
  transcript t;
  ucred me{::getpid(), ::geteuid(), ::getegid()};
  t.server_saw_peer = {me.pid, me.uid, me.gid};

  for (int fd : {p1[0], p2[1]})
    if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) die("O_NONBLOCK");
  mon::server_handshake server(p2[1], refuse ? refuse_all : nullptr, nullptr);
  if (!server.start()) die("server start");  // SO_PASSCRED on before anything is sent to it
  mon::client_handshake client(p1[0]);
  if (hello) {
    raw_write(p1[0], *hello, &me);
  } else {
    auto r = client.step();  // writes the hello with our credentials, then waits for the reply
    if (!r || r.value() != mon::progress::want_read) die("client step");
  }
  const bool record = type == SOCK_SEQPACKET;
  t.hello_reads = read_message(p1[1], record);
  bytes forwarded;
  for (const auto& r : t.hello_reads) put(forwarded, r.data);
  ucred fwd = me;
  if (forge_uid) fwd.uid += 1;
  raw_write(p2[0], forwarded, &fwd);
  (void)server.step();  // reads the hello, answers (or fails without an answer)
  t.reply_reads = read_message(p2[0], record);
  if (!hello && !t.reply_reads.empty() && !t.reply_reads[0].data.empty()) {
    bytes reply;
    for (const auto& r : t.reply_reads) put(reply, r.data);
    raw_write(p1[1], reply, nullptr);
    (void)client.step();  // the real client reads the reply the server really wrote
  }
  ::close(p1[0]);
  ::close(p1[1]);
  ::close(p2[0]);
  ::close(p2[1]);
  return t;
}

unsigned op_for(const read_rec& r, const mon::peer_credentials& peer, bytes& extra) {
  unsigned opb = 0;
  if (!r.has_creds) {
    opb = 1;
  } else if (r.creds.pid == peer.pid && r.creds.uid == peer.uid && r.creds.gid == peer.gid) {
    opb = 0;
  } else {
    opb = 2;
    put_u32(extra, static_cast<std::uint32_t>(r.creds.pid));
    put_u32(extra, r.creds.uid);
    put_u32(extra, r.creds.gid);
  }
  if (r.msg_flags & MSG_CTRUNC) opb |= 0x04;
  if (r.msg_flags & MSG_TRUNC) opb |= 0x08;
  opb |= static_cast<unsigned>(r.num_fds > 3 ? 3 : r.num_fds) << 5;
  return opb;
}

// Appends reads as handshake-target read events; split > 0 cuts each read into pieces that long.
void put_reads(bytes& out, const std::vector<read_rec>& reads, const mon::peer_credentials& peer,
               std::size_t split) {
  for (const auto& r : reads) {
    std::size_t off = 0;
    do {
      const std::size_t n = split && r.data.size() - off > split ? split : r.data.size() - off;
      bytes extra;
      put_u8(out, op_for(r, peer, extra));
      put(out, extra);
      put_u16(out, static_cast<unsigned>(n));
      out.insert(out.end(), r.data.begin() + static_cast<std::ptrdiff_t>(off),
                 r.data.begin() + static_cast<std::ptrdiff_t>(off + n));
      off += n;
    } while (off < r.data.size());
  }
}

void handshake_seeds() {
  struct variant {
    const char* name;
    int type;
    bool refuse;
    bytes hello;
    bool forge;
  };
  const std::vector<variant> variants = {
      {"accept-stream", SOCK_STREAM, false, {}, false},
      {"accept-seqpacket", SOCK_SEQPACKET, false, {}, false},
      {"policy-deny-stream", SOCK_STREAM, true, {}, false},
      {"policy-deny-seqpacket", SOCK_SEQPACKET, true, {}, false},
      {"version-deny", SOCK_STREAM, false, {'m', 'o', 'n', 'H', 2, 1, 0, 0}, false},
      {"extension-accept",
       SOCK_STREAM,
       false,
       {'m', 'o', 'n', 'H', 1, 1, 0, 6, 0, 7, 0, 2, 'h', 'i'},
       false},
      {"extension-critical",
       SOCK_STREAM,
       false,
       {'m', 'o', 'n', 'H', 1, 1, 0, 4, 0x80, 1, 0, 0},
       false},
      {"wrong-type", SOCK_SEQPACKET, false, {'m', 'o', 'n', 'H', 1, 2, 0, 0}, false},
      {"forged-uid", SOCK_STREAM, false, {}, true},
  };
  const bool root = ::geteuid() == 0;
  for (const auto& v : variants) {
    if (v.forge && !root) continue;  // the kernel lets only a privileged sender claim another uid
    const transcript t =
        record_handshake(v.type, v.refuse, v.hello.empty() ? nullptr : &v.hello, v.forge);
    const unsigned flags = (v.type == SOCK_SEQPACKET ? 1 : 0) | (v.refuse ? 2 : 0);
    for (std::size_t split : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
      if (split && v.type == SOCK_SEQPACKET) continue;
      const std::string suffix = split ? "-split" + std::to_string(split) : "";
      // Server side: the hello as the server read it, then the writes of its reply.
      bytes s;
      put_u8(s, flags);
      put_u32(s, static_cast<std::uint32_t>(t.server_saw_peer.pid));
      put_u32(s, t.server_saw_peer.uid);
      put_u32(s, t.server_saw_peer.gid);
      put_reads(s, t.hello_reads, t.server_saw_peer, split);
      if (!v.forge) {
        put_u8(s, split ? split : 255);
        if (split) put_u8(s, split);
      }
      save("handshake_server", std::string(v.name) + suffix, s);
      // Client side: the hello's writes, then the reply as the client read it.
      if (t.reply_reads.empty() || t.reply_reads[0].data.empty()) continue;
      bytes c;
      put_u8(c, flags & 1);
      put_u8(c, split ? split : 8);
      if (split) put_u8(c, 8);
      put_reads(c, t.reply_reads, {}, split);
      save("handshake_client", std::string(v.name) + suffix, c);
    }
  }
}

// ---- frames ------------------------------------------------------------------------------------

struct frame_variant {
  const char* name;
  int type;
  std::size_t payload;
  int num_fds;
};

void frame_seeds() {
  const std::vector<frame_variant> variants = {
      {"empty", SOCK_STREAM, 0, 0},        {"small", SOCK_STREAM, 5, 0},
      {"fd", SOCK_STREAM, 16, 1},          {"three-fds", SOCK_STREAM, 40, 3},
      {"big", SOCK_STREAM, 700, 0},        {"seq-empty", SOCK_SEQPACKET, 0, 0},
      {"seq-fd", SOCK_SEQPACKET, 12, 1},   {"seq-two-fds", SOCK_SEQPACKET, 33, 2},
      {"seq-big", SOCK_SEQPACKET, 900, 0},
  };
  for (const auto& v : variants) {
    int sv[2];
    if (::socketpair(AF_UNIX, v.type | SOCK_CLOEXEC, 0, sv) != 0) die("socketpair");
    mon::message_buffer msg;
    bytes payload(v.payload);
    for (std::size_t i = 0; i < payload.size(); ++i)
      payload[i] = static_cast<std::uint8_t>('a' + i % 26);
    if (!msg.append(std::as_bytes(std::span<const std::uint8_t>(payload)))) die("append");
    std::vector<int> fds;
    for (int i = 0; i < v.num_fds; ++i) fds.push_back(::dup(2));
    if (!mon::send_message(sv[0], msg, fds)) die("send_message");
    for (int d : fds) ::close(d);

    // Read it back raw: the header, then the payload (stream), or one record.
    std::vector<read_rec> reads;
    if (v.type == SOCK_SEQPACKET) {
      reads.push_back(tap_read(sv[1], 8 + v.payload + 64));
    } else {
      reads.push_back(tap_read(sv[1], 8));
      if (v.payload) reads.push_back(tap_read(sv[1], v.payload));
    }
    const bool seq = v.type == SOCK_SEQPACKET;

    // frame_decode: limits that take it, then limits that make it too big.
    for (unsigned max_payload : {1024u, 4u}) {
      bytes f;
      put_u8(f, seq ? 1 : 0);
      put_u16(f, max_payload);
      put_u8(f, 4);
      for (const auto& r : reads) {
        if (seq) {
          put_u8(f, r.msg_flags & MSG_TRUNC ? 0x08 : 0);
          put_u8(f, static_cast<unsigned>(r.num_fds));
        } else {
          put_u8(f, (static_cast<unsigned>(r.num_fds) << 5) | (r.msg_flags & MSG_CTRUNC ? 2 : 0));
        }
        put_u16(f, static_cast<unsigned>(r.data.size()));
        put(f, r.data);
      }
      if (!seq) put_u8(f, 0x10);  // then end of file, between frames
      save("frame_decode", std::string(v.name) + (max_payload < 1024 ? "-toobig" : ""), f);
    }

    // cmsg_decode: every control buffer the reads carried, as the kernel filled it.
    for (std::size_t i = 0; i < reads.size(); ++i) {
      bytes c;
      put_u8(c, reads[i].msg_flags & MSG_CTRUNC ? 1 : 0);
      put_u8(c, 4);
      put_u8(c, static_cast<unsigned>(v.num_fds) << 1);
      put_u32(c, static_cast<std::uint32_t>(::getpid()));
      put_u32(c, ::geteuid());
      put_u32(c, ::getegid());
      put(c, reads[i].control);
      save("cmsg_decode", std::string(v.name) + "-read" + std::to_string(i), c);
    }

    // socket_roundtrip: the frame's bytes as raw sends (descriptors with the first), then the
    // same payload through the library's own send.
    bytes s;
    put_u8(s, seq ? 1 : 0);
    bytes whole;
    for (const auto& r : reads) put(whole, r.data);
    put_u8(s, static_cast<unsigned>(v.num_fds));
    put_u16(s, static_cast<unsigned>(whole.size() > 512 ? 512 : whole.size()));
    s.insert(s.end(), whole.begin(),
             whole.begin() + static_cast<std::ptrdiff_t>(whole.size() > 512 ? 512 : whole.size()));
    save("socket_roundtrip", std::string("frames-") + v.name, s);
    bytes rt;
    put_u8(rt, (seq ? 1 : 0) | (2 << 1));
    put_u8(rt, v.num_fds ? 1 : 0);
    put_u16(rt, static_cast<unsigned>(payload.size() > 512 ? 512 : payload.size()));
    rt.insert(
        rt.end(), payload.begin(),
        payload.begin() + static_cast<std::ptrdiff_t>(payload.size() > 512 ? 512 : payload.size()));
    save("socket_roundtrip", std::string("roundtrip-") + v.name, rt);
    ::close(sv[0]);
    ::close(sv[1]);
  }
}

// socket_roundtrip's handshake mode: the recorded client hellos, sent raw at the real server.
void socket_handshake_seeds() {
  const bytes hello = {'m', 'o', 'n', 'H', 1, 1, 0, 0};
  for (int seq = 0; seq < 2; ++seq) {
    bytes s;
    put_u8(s, seq | (1 << 1));
    put_u8(s, 0x08);  // with our own credentials
    put_u16(s, 8);
    put(s, hello);
    save("socket_roundtrip", std::string("handshake-") + (seq ? "seqpacket" : "stream"), s);
  }
  bytes split;
  put_u8(split, 1 << 1);
  for (std::size_t i = 0; i < hello.size(); i += 3) {
    put_u8(split, 0x08);
    const std::size_t n = hello.size() - i < 3 ? hello.size() - i : 3;
    put_u16(split, static_cast<unsigned>(n));
    split.insert(split.end(), hello.begin() + static_cast<std::ptrdiff_t>(i),
                 hello.begin() + static_cast<std::ptrdiff_t>(i + n));
  }
  save("socket_roundtrip", "handshake-split", split);
}

// frame_decode's wire mode: values through the bounded writer and back (no transcript: the bytes
// are the writer's own), one that fits and one that overflows its buffer.
void wire_seeds() {
  for (unsigned cap : {40u, 5u}) {
    bytes w;
    put_u8(w, 2);
    put_u16(w, 0);
    put_u8(w, 0);
    put_u8(w, cap);
    put_u8(w, 0), put_u8(w, 'm');                              // u8
    put_u8(w, 1), put_u16(w, 0x4601);                          // u16
    put_u8(w, 2), put_u32(w, 0x04000000);                      // u32
    put_u8(w, 3), put_u8(w, 4), put(w, {'m', 'o', 'n', 'H'});  // bytes
    put(w, {0, 3, 'm', 'F', 1});                               // the rest: a u16-prefixed field
    save("frame_decode", cap > 8 ? "wire-fits" : "wire-overflows", w);
  }
}

// cmsg_decode: one SCM_RIGHTS header naming one descriptor more than a message may carry
// (max_fds + 1): the decoder must refuse it and close all of them (its overflow path).
void cmsg_edge_seeds() {
  bytes c;
  put_u8(c, 0);    // no MSG_CTRUNC
  put_u8(c, 253);  // policy: the most descriptors a message may carry
  put_u8(c, 0);    // no credentials, no round trip
  for (int i = 0; i < 3; ++i) put_u32(c, 0);
  const std::size_t n = mon::max_fds + 1;
  cmsghdr h{};
  h.cmsg_len = CMSG_LEN(n * sizeof(int));
  h.cmsg_level = SOL_SOCKET;
  h.cmsg_type = SCM_RIGHTS;
  const auto* hb = reinterpret_cast<const std::uint8_t*>(&h);
  c.insert(c.end(), hb, hb + sizeof h);
  c.insert(c.end(), n * sizeof(int), 0);  // the harness puts a real descriptor in every slot
  save("cmsg_decode", "rights-over-max", c);
}

// Handshake glue bugs the recorded transcripts cannot show: a read reported as 0 bytes (u16
// 0xfffe), and (client) control data decoded with a policy that let descriptors or credentials
// through, which the machine must refuse by itself.
void handshake_edge_seeds() {
  const bytes accept = {'m', 'o', 'n', 'H', 1, 2, 0, 0};
  bytes s;
  put_u8(s, 0);
  for (int i = 0; i < 3; ++i) put_u32(s, 1);
  put_u8(s, 0);  // the peer's credentials
  put_u16(s, 0xfffe);
  save("handshake_server", "glue-zero-read", s);
  for (const auto& [name, flags, opb] :
       {std::tuple{"glue-zero-read", 0u, 1u}, std::tuple{"permissive-glue-fd", 8u, 0x21u},
        std::tuple{"permissive-glue-creds", 8u, 0x00u}}) {
    bytes c;
    put_u8(c, flags);
    put_u8(c, 8);  // the hello leaves in one write
    put_u8(c, opb);
    if (std::string(name) == "glue-zero-read") {
      put_u16(c, 0xfffe);
    } else {
      put_u16(c, static_cast<unsigned>(accept.size()));
      put(c, accept);
    }
    save("handshake_client", name, c);
  }
}

// The fd-broker targets: policies and requests as the broker's README and unit tests write them
// (no recording: these are text files and request payloads, not socket traffic).
void broker_seeds() {
  const std::vector<std::pair<const char*, std::string>> policies = {
      {"readme", "# who may open what\nallow uid=65534 /srv/public/\nallow gid=100 /data/f.txt\n"},
      {"tabs", "allow\tuid=0\t/\n\n# end"},
      {"id-limits", "allow uid=4294967294 /a/\nallow gid=0 /b\n"},
      {"bad-id", "allow uid=4294967295 /a/\n"},
      {"bad-path", "allow uid=1 /a/../b/\n"},
      {"trailing-blank", "allow uid=1 /a/ \n"},
      {"control", "allow uid=1 /a\r\n"},
      {"no-allow", "deny uid=1 /a/\n"},
  };
  for (const auto& [name, text] : policies)
    save("broker_policy", name, bytes(text.begin(), text.end()));

  // broker_request: uid, gid, groups, policy, then requests (u16 length, op, path).
  const std::string policy =
      "allow uid=1000 /srv/public/\nallow gid=100 /data/f.txt\nallow gid=7 /\n";
  struct req_seed {
    const char* name;
    std::uint32_t uid, gid;
    std::vector<std::uint32_t> groups;
    std::vector<std::string> requests;
  };
  const std::vector<req_seed> seeds = {
      {"dir-grant",
       1000,
       1000,
       {},
       {"\x01/srv/public/a.txt", "\x01/srv/public/", "\x01/srv/publicx"}},
      {"file-grant-by-group",
       5,
       5,
       {100},
       {"\x01/data/f.txt", "\x01/data/g.txt", "\x01/data/f.txt/"}},
      {"root-grant", 9, 7, {}, {"\x01/etc/shadow", "\x01/", "\x01//etc"}},
      {"unclean",
       1000,
       1000,
       {},
       {"\x01/srv/public/../x", "\x01/srv/public/./x", "\x01srv", "\x02/srv/public/a"}},
      {"denied", 1, 1, {2, 3}, {"\x01/srv/public/a", std::string("\x01/srv/public/a\0b", 16)}},
  };
  for (const auto& s : seeds) {
    bytes b;
    put_u32(b, s.uid);
    put_u32(b, s.gid);
    put_u8(b, static_cast<unsigned>(s.groups.size()));
    for (auto g : s.groups) put_u32(b, g);
    put_u16(b, static_cast<unsigned>(policy.size()));
    b.insert(b.end(), policy.begin(), policy.end());
    for (const auto& r : s.requests) {
      put_u16(b, static_cast<unsigned>(r.size()));
      b.insert(b.end(), r.begin(), r.end());
    }
    save("broker_request", s.name, b);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus OUTDIR\n");
    return 2;
  }
  g_out = argv[1];
  handshake_seeds();
  frame_seeds();
  socket_handshake_seeds();
  wire_seeds();
  broker_seeds();
  cmsg_edge_seeds();
  handshake_edge_seeds();
  return 0;
}
