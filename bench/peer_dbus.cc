// SPDX-License-Identifier: MIT
// Peer: libdbus, peer to peer (a DBusServer on an abstract unix address, no bus daemon), with its
// EXTERNAL authentication (the client's credentials byte, checked by the server against the
// socket's peer credentials) and unix-fd negotiation; descriptors travel as DBUS_TYPE_UNIX_FD in a
// signal whose other argument is the same 32-byte payload. Built when pkg-config finds dbus-1.
//
// libdbus's server side exists only behind DBusServer, so this file has its own listener (driven
// through the server's watch) instead of the shared socket harnesses; the work per message and per
// handshake is the same as theirs.
#include <dbus/dbus.h>
#include <fcntl.h>
#include <poll.h>

#include <atomic>
#include <string>
#include <thread>

#include "support/bench_util.hpp"
#include "support/latency_harness.hpp"
#include "support/pair_harness.hpp"
#include "support/peers.hpp"

namespace {

using bench::check;

// A DBusServer whose one listening watch we poll ourselves (no main loop).
class dbus_listener {
 public:
  dbus_listener() {
    static int serial = 0;
    DBusError e;
    dbus_error_init(&e);
    const std::string where = "unix:abstract=monitor-bench-dbus-" + std::to_string(::getpid()) +
                              "-" + std::to_string(++serial);
    srv_ = dbus_server_listen(where.c_str(), &e);
    check(srv_ != nullptr, "dbus_server_listen");
    const char* mechanisms[] = {"EXTERNAL", nullptr};
    check(dbus_server_set_auth_mechanisms(srv_, mechanisms), "dbus_server_set_auth_mechanisms");
    dbus_server_set_new_connection_function(srv_, &dbus_listener::on_connection, this, nullptr);
    check(dbus_server_set_watch_functions(srv_, &dbus_listener::add, &dbus_listener::remove,
                                          &dbus_listener::toggled, this, nullptr),
          "dbus_server_set_watch_functions");
    char* a = dbus_server_get_address(srv_);
    address_ = a;
    dbus_free(a);
  }
  ~dbus_listener() {
    dbus_server_disconnect(srv_);
    dbus_server_unref(srv_);
  }
  dbus_listener(const dbus_listener&) = delete;
  dbus_listener& operator=(const dbus_listener&) = delete;

  [[nodiscard]] const std::string& address() const { return address_; }

  // Handles the listening socket until a connection came (timeout_ms < 0: wait for it).
  DBusConnection* accept(int timeout_ms = -1) {
    while (pending_ == nullptr) {
      check(watch_ != nullptr, "dbus: no listening watch");
      pollfd p{dbus_watch_get_unix_fd(watch_), POLLIN, 0};
      const int n = ::poll(&p, 1, timeout_ms);
      if (n == 0) return nullptr;
      check(n > 0, "poll");
      dbus_watch_handle(watch_, DBUS_WATCH_READABLE);
    }
    DBusConnection* c = pending_;
    pending_ = nullptr;
    return c;
  }

 private:
  static void on_connection(DBusServer*, DBusConnection* c, void* self) {
    dbus_connection_ref(c);
    static_cast<dbus_listener*>(self)->pending_ = c;
  }
  static dbus_bool_t add(DBusWatch* w, void* self) {
    static_cast<dbus_listener*>(self)->watch_ = w;
    return TRUE;
  }
  static void remove(DBusWatch* w, void* self) {
    auto* l = static_cast<dbus_listener*>(self);
    if (l->watch_ == w) l->watch_ = nullptr;
  }
  static void toggled(DBusWatch*, void*) {}

  DBusServer* srv_ = nullptr;
  DBusWatch* watch_ = nullptr;
  DBusConnection* pending_ = nullptr;
  std::string address_;
};

DBusConnection* dbus_connect(const std::string& address) {
  DBusError e;
  dbus_error_init(&e);
  DBusConnection* c = dbus_connection_open_private(address.c_str(), &e);
  check(c != nullptr, "dbus_connection_open_private");
  dbus_connection_set_exit_on_disconnect(c, FALSE);
  return c;
}

// Runs the connection's blocking I/O until its side of the authentication is done.
void dbus_authenticate(DBusConnection* c) {
  while (!dbus_connection_get_is_authenticated(c))
    check(dbus_connection_read_write(c, -1), "dbus: auth");
}

// Server side: the identity libdbus verified.
void dbus_server_identity(DBusConnection* c) {
  unsigned long pid = 0;
  unsigned long uid = 0;
  check(dbus_connection_get_unix_process_id(c, &pid) && dbus_connection_get_unix_user(c, &uid) &&
            pid == static_cast<unsigned long>(::getpid()),
        "dbus: peer identity");
}

void dbus_drop(DBusConnection* c) {
  dbus_connection_close(c);
  dbus_connection_unref(c);
}

void dbus_send_fd(DBusConnection* c, int fd) {
  DBusMessage* m = dbus_message_new_signal("/monitor/bench", "monitor.Bench", "Fd");
  check(m != nullptr, "dbus_message_new_signal");
  const unsigned char* p = bench::payload().data();
  check(dbus_message_append_args(m, DBUS_TYPE_UNIX_FD, &fd, DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE, &p,
                                 static_cast<int>(bench::payload_len), DBUS_TYPE_INVALID),
        "dbus_message_append_args");
  check(dbus_connection_send(c, m, nullptr), "dbus_connection_send");
  dbus_message_unref(m);
  dbus_connection_flush(c);
}

// Takes one message if one is queued: 1 = a descriptor message (closed), 0 = none yet, -1 = the
// peer went away.
int dbus_take(DBusConnection* c) {
  DBusMessage* m = dbus_connection_pop_message(c);
  if (m == nullptr) return 0;
  if (dbus_message_is_signal(m, DBUS_INTERFACE_LOCAL, "Disconnected")) {
    dbus_message_unref(m);
    return -1;
  }
  DBusError e;
  dbus_error_init(&e);
  int fd = -1;
  const unsigned char* p = nullptr;
  int n = 0;
  check(dbus_message_get_args(m, &e, DBUS_TYPE_UNIX_FD, &fd, DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE, &p,
                              &n, DBUS_TYPE_INVALID) &&
            n == static_cast<int>(bench::payload_len) && fd >= 0,
        "dbus: message");
  ::close(fd);  // libdbus hands out a duplicate; its own copy goes with the message
  dbus_message_unref(m);
  return 1;
}

void run_dbus_fd(benchmark::State& state) {
  dbus_listener l;
  std::atomic<bool> ready{false};
  std::atomic<std::uint64_t> received{0};
  DBusConnection* client = dbus_connect(l.address());
  std::thread srv([&] {
    DBusConnection* c = l.accept();
    dbus_authenticate(c);
    ready.store(true);
    std::uint64_t n = 0;
    for (;;) {
      int r = dbus_take(c);
      if (r < 0) break;
      if (r > 0) {
        ++n;
        continue;
      }
      if (!dbus_connection_read_write(c, -1)) {
        // Gone: what it read before the end is still queued.
        while ((r = dbus_take(c)) > 0) ++n;
        break;
      }
    }
    received.store(n);
    dbus_drop(c);
  });
  dbus_authenticate(client);
  while (!ready.load()) std::this_thread::yield();
  check(dbus_connection_can_send_type(client, DBUS_TYPE_UNIX_FD), "dbus: no unix-fd support");
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  for (long i = 0; i < bench::warmup(2000); ++i) dbus_send_fd(client, devnull);
  bench::alloc_meter allocs;
  allocs.start();
  const auto t0 = bench::clock::now();
  for (auto _ : state) dbus_send_fd(client, devnull);
  dbus_drop(client);
  srv.join();
  const double elapsed = bench::seconds_since(t0);
  check(received.load() == static_cast<std::uint64_t>(state.iterations() + bench::warmup(2000)),
        "dbus lost messages");
  ::close(devnull);
  const auto iters = static_cast<double>(state.iterations());
  allocs.report(state, iters);
  state.counters["msgs_per_s"] = iters / elapsed;
  state.counters["fds_per_s"] = iters / elapsed;
  state.SetItemsProcessed(state.iterations());
}

void run_dbus_latency(benchmark::State& state, const std::string& name, bool pinned) {
  dbus_listener l;
  std::atomic<bool> stop{false};
  std::thread srv([&] {
    if (pinned) bench::pin_to_cpu(0);
    for (;;) {
      DBusConnection* c = l.accept();
      if (stop.load()) {
        dbus_drop(c);
        return;
      }
      dbus_authenticate(c);
      dbus_server_identity(c);
      dbus_drop(c);
    }
  });
  if (pinned) bench::pin_to_cpu(0);
  auto once = [&] {
    DBusConnection* c = dbus_connect(l.address());
    dbus_authenticate(c);
    return c;
  };
  for (long i = 0; i < bench::warmup(100); ++i) dbus_drop(once());
  bench::latency_samples samples;
  bench::alloc_meter allocs;
  allocs.start();
  for (auto _ : state) {
    const auto t0 = bench::clock::now();
    DBusConnection* c = once();
    samples.add(bench::clock::now() - t0);
    dbus_drop(c);
  }
  allocs.report(state, static_cast<double>(state.iterations()), "allocs_per_hs");
  stop.store(true);
  dbus_drop(dbus_connect(l.address()));
  srv.join();
  if (pinned) bench::unpin();
  samples.report(state, name);
}

[[maybe_unused]] const bool registered = [] {
  benchmark::RegisterBenchmark(
      bench::fd_bench_name(SOCK_STREAM, bench::pair_kind::thread, 1, "dbus").c_str(), run_dbus_fd)
      ->UseRealTime()
      ->MeasureProcessCPUTime();
  bench::register_latency("dbus", run_dbus_latency);
  return true;
}();

// One thread: both ends pumped with non-blocking iterations.
void pump_until_authenticated(DBusConnection* a, DBusConnection* b) {
  while (!dbus_connection_get_is_authenticated(a) || !dbus_connection_get_is_authenticated(b)) {
    check(dbus_connection_read_write(a, 0) && dbus_connection_read_write(b, 0), "dbus: auth pump");
  }
}

}  // namespace

namespace bench::peers {

bool dbus_insns(const std::string& mode, long n) {
  if (mode == "fd_stream_dbus") {
    dbus_listener l;
    DBusConnection* client = dbus_connect(l.address());
    DBusConnection* server = l.accept();
    pump_until_authenticated(client, server);
    const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    for (long i = 0; i < 100 + n; ++i) {
      dbus_send_fd(client, devnull);
      int r = 0;
      while ((r = dbus_take(server)) == 0)
        check(dbus_connection_read_write(server, 0), "dbus: read");
      check(r == 1, "dbus: message");
    }
    dbus_drop(client);
    dbus_drop(server);
    ::close(devnull);
    return true;
  }
  if (mode == "hs_dbus") {
    dbus_listener l;
    for (long i = 0; i < 100 + n; ++i) {
      DBusConnection* client = dbus_connect(l.address());
      DBusConnection* server = l.accept();
      pump_until_authenticated(client, server);
      dbus_server_identity(server);
      dbus_drop(client);
      dbus_drop(server);
    }
    return true;
  }
  return false;
}

}  // namespace bench::peers
