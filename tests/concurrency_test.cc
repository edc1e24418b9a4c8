// SPDX-License-Identifier: MIT
// Many threads, each with its own socketpairs, running handshakes and descriptor passing at once.
// The C ABI promises no global mutable state (monitor.h): under TSan this test is the proof, and
// under any build it checks that no descriptor crosses from one thread's connection to another's.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "monitor/monitor.hpp"
#include "support/handshake_driver.hpp"
#include "support/test_support.hpp"

namespace mon {
namespace {

constexpr int threads = 8;
constexpr int rounds = 25;

// One worker: a fresh connection per round, both handshake sides on two threads of its own, then
// messages carrying a descriptor that only this worker knows (a pipe whose other end it holds).
void worker(int id, std::atomic<int>& failures) {
  for (int round = 0; round < rounds; ++round) {
    auto pair = test::make_pair(round % 2 ? SOCK_SEQPACKET : SOCK_STREAM);
    int client_rc = 1;
    std::thread client([&] { client_rc = test::run_client(pair.a.get()); });
    mon_ipc_creds creds{};
    const int server_rc = test::run_server(pair.b.get(), &creds);
    client.join();
    if (server_rc != MON_OK || client_rc != MON_OK || creds.pid != ::getpid()) {
      ++failures;
      continue;
    }
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      ++failures;
      continue;
    }
    unique_fd rd(p[0]), wr(p[1]);
    const std::string tag = std::to_string(id) + ":" + std::to_string(round);
    mon_buffer* out = mon_buffer_new(0);
    mon_buffer* in = mon_buffer_new(0);
    for (int m = 0; m < 4; ++m) {
      int got = -1;
      if (mon_buffer_append(out, tag.data(), tag.size()) != MON_OK ||
          mon_ipc_send_fd(pair.b.get(), out, wr.get()) != MON_OK ||
          mon_ipc_recv_fd(pair.a.get(), in, &got) != MON_OK || got < 0) {
        ++failures;
      } else {
        // The descriptor is ours: a byte written through it comes out of our own pipe.
        unique_fd received(got);
        const char c = static_cast<char>('a' + m);
        char back = 0;
        if (std::string(static_cast<const char*>(mon_buffer_data(in)), mon_buffer_len(in)) != tag ||
            ::write(received.get(), &c, 1) != 1 || ::read(rd.get(), &back, 1) != 1 || back != c)
          ++failures;
      }
      mon_buffer_clear(out);
    }
    mon_buffer_free(out);
    mon_buffer_free(in);
  }
}

TEST(Concurrency, ThreadsWithTheirOwnConnectionsNeverCross) {
  test::fd_leak_check leaks;
  std::atomic<int> failures{0};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back(worker, i, std::ref(failures));
  for (auto& t : pool) t.join();
  EXPECT_EQ(failures.load(), 0);
}

// Error strings and result names are static and shared by all threads.
TEST(Concurrency, StrerrorFromManyThreads) {
  std::vector<std::thread> pool;
  std::atomic<int> bad{0};
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&] {
      for (int rc = -10; rc <= 5; ++rc)
        if (mon_strerror(rc) == nullptr) ++bad;
    });
  for (auto& t : pool) t.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace mon
