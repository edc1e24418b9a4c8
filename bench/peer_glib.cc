// SPDX-License-Identifier: MIT
// Peer: GLib's GIO (GSocket + GUnixFDMessage for descriptors, GUnixConnection's
// send_credentials/receive_credentials for authentication), doing the same work as monitor and its
// raw twins: the same 40 bytes and one descriptor per message (closed by the receiver); a handshake
// of credentials one way and the same 8-byte accept back. Built when pkg-config finds gio-unix-2.0.
//
// GLib owns the descriptor it is given, so it gets a dup; it keeps sockets non-blocking and polls
// before a blocking call, which is part of what it costs.
#include <gio/gio.h>
#include <gio/gunixconnection.h>
#include <gio/gunixcredentialsmessage.h>
#include <gio/gunixfdmessage.h>

#include "support/fd_impls.hpp"
#include "support/hs_impls.hpp"
#include "support/insns_loops.hpp"
#include "support/latency_harness.hpp"
#include "support/pair_harness.hpp"
#include "support/peers.hpp"

namespace {

using bench::check;

GSocket* wrap(int fd) {
  GError* err = nullptr;
  GSocket* s = g_socket_new_from_fd(::dup(fd), &err);
  check(s != nullptr, "g_socket_new_from_fd");
  return s;
}

class glib_sender {
 public:
  glib_sender(int fd, int /*type*/, std::span<const int> fds)
      : sock_(wrap(fd)),
        fd_(fds.empty() ? -1 : fds[0]),
        header_(bench::frame_header(1, bench::payload_len)) {}
  ~glib_sender() { g_object_unref(sock_); }
  glib_sender(const glib_sender&) = delete;
  glib_sender& operator=(const glib_sender&) = delete;
  void send() {
    GError* err = nullptr;
    GUnixFDList* list = g_unix_fd_list_new();
    check(g_unix_fd_list_append(list, fd_, &err) >= 0, "g_unix_fd_list_append");
    GSocketControlMessage* msg = g_unix_fd_message_new_with_fd_list(list);
    GOutputVector v[2] = {{header_.data(), header_.size()},
                          {bench::payload().data(), bench::payload_len}};
    const gssize n =
        g_socket_send_message(sock_, nullptr, v, 2, &msg, 1, G_SOCKET_MSG_NONE, nullptr, &err);
    check(n == 8 + static_cast<gssize>(bench::payload_len), "g_socket_send_message");
    g_object_unref(msg);
    g_object_unref(list);
  }

 private:
  GSocket* sock_;
  int fd_;
  std::array<unsigned char, 8> header_;
};

class glib_receiver {
 public:
  glib_receiver(int fd, int /*type*/, int /*nfds*/) : sock_(wrap(fd)) {}
  ~glib_receiver() { g_object_unref(sock_); }
  glib_receiver(const glib_receiver&) = delete;
  glib_receiver& operator=(const glib_receiver&) = delete;
  bool receive() {
    GError* err = nullptr;
    std::array<unsigned char, 8 + bench::payload_len> in{};
    GInputVector v{in.data(), in.size()};
    GSocketControlMessage** msgs = nullptr;
    gint num = 0;
    gint flags = 0;
    const gssize n =
        g_socket_receive_message(sock_, nullptr, &v, 1, &msgs, &num, &flags, nullptr, &err);
    check(n >= 0, "g_socket_receive_message");
    int got = 0;
    for (gint i = 0; i < num; ++i) {
      if (G_IS_UNIX_FD_MESSAGE(msgs[i])) {
        gint k = 0;
        gint* fds = g_unix_fd_message_steal_fds(G_UNIX_FD_MESSAGE(msgs[i]), &k);
        for (gint j = 0; j < k; ++j) ::close(fds[j]);
        got += k;
        g_free(fds);
      }
      g_object_unref(msgs[i]);
    }
    g_free(msgs);
    if (n == 0) return false;
    check(n == static_cast<gssize>(in.size()) && got == 1, "glib: message");
    return true;
  }

 private:
  GSocket* sock_;
};

// Handshake: credentials one way (GLib turns SO_PASSCRED on and off around its read), the accept
// back.
class glib_client {
 public:
  explicit glib_client(int fd)
      : sock_(wrap(fd)), conn_(g_socket_connection_factory_create_connection(sock_)) {}
  ~glib_client() {
    g_object_unref(conn_);
    g_object_unref(sock_);
  }
  glib_client(const glib_client&) = delete;
  glib_client& operator=(const glib_client&) = delete;
  bool step() {
    GError* err = nullptr;
    if (!sent_) {
      check(g_unix_connection_send_credentials(G_UNIX_CONNECTION(conn_), nullptr, &err),
            "g_unix_connection_send_credentials");
      sent_ = true;
    }
    std::array<unsigned char, 8> in{};
    const gssize n =
        g_socket_receive(sock_, reinterpret_cast<gchar*>(in.data()), in.size(), nullptr, &err);
    check(n == 8 && in == bench::hsimpl::accept_msg, "glib client: reply");
    return true;
  }

 private:
  GSocket* sock_;
  GSocketConnection* conn_;
  bool sent_ = false;
};

class glib_server {
 public:
  explicit glib_server(int fd)
      : sock_(wrap(fd)), conn_(g_socket_connection_factory_create_connection(sock_)) {}
  ~glib_server() {
    g_object_unref(conn_);
    g_object_unref(sock_);
  }
  glib_server(const glib_server&) = delete;
  glib_server& operator=(const glib_server&) = delete;
  bool step() {
    GError* err = nullptr;
    GCredentials* claimed =
        g_unix_connection_receive_credentials(G_UNIX_CONNECTION(conn_), nullptr, &err);
    check(claimed != nullptr, "g_unix_connection_receive_credentials");
    GCredentials* kernel = g_socket_get_credentials(sock_, &err);  // SO_PEERCRED
    check(kernel != nullptr && g_credentials_is_same_user(claimed, kernel, &err) &&
              g_credentials_get_unix_pid(claimed, &err) == g_credentials_get_unix_pid(kernel, &err),
          "glib server: credentials differ");
    g_object_unref(kernel);
    g_object_unref(claimed);
    const gssize n = g_socket_send(
        sock_, reinterpret_cast<const gchar*>(bench::hsimpl::accept_msg.data()), 8, nullptr, &err);
    check(n == 8, "glib server: reply");
    return true;
  }

 private:
  GSocket* sock_;
  GSocketConnection* conn_;
};

[[maybe_unused]] const bool registered = [] {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    for (auto kind : {bench::pair_kind::thread, bench::pair_kind::process}) {
      benchmark::RegisterBenchmark(bench::fd_bench_name(type, kind, 1, "glib").c_str(),
                                   [=](benchmark::State& st) {
                                     bench::run_fd_pair<glib_sender, glib_receiver>(st, type, kind,
                                                                                    1);
                                   })
          ->UseRealTime()
          ->MeasureProcessCPUTime();
    }
  }
  bench::register_latency_pair<glib_client, glib_server>("glib");
  return true;
}();

}  // namespace

namespace bench::peers {

bool glib_insns(const std::string& mode, long n) {
  if (mode == "fd_stream_glib") {
    fd_loop<glib_sender, glib_receiver>(SOCK_STREAM, n);
    return true;
  }
  if (mode == "hs_glib") {
    for (long i = 0; i < 100 + n; ++i) {
      auto sv = socket_pair(SOCK_STREAM);
      {
        // GLib's calls do not wait for the other side here: credentials out, credentials in,
        // accept out, accept in, all in one thread.
        GError* err = nullptr;
        glib_server s(sv[1]);
        GSocket* cs = wrap(sv[0]);
        GSocketConnection* cc = g_socket_connection_factory_create_connection(cs);
        check(g_unix_connection_send_credentials(G_UNIX_CONNECTION(cc), nullptr, &err),
              "send_credentials");
        g_object_unref(cc);
        g_object_unref(cs);
        (void)s.step();
        std::array<unsigned char, 8> in{};
        check(::recv(sv[0], in.data(), in.size(), 0) == 8, "glib accept");
      }
      ::close(sv[0]);
      ::close(sv[1]);
    }
    return true;
  }
  return false;
}

}  // namespace bench::peers
