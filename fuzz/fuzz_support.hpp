// SPDX-License-Identifier: MIT
// Shared by the fuzz targets: reading the fuzzer's bytes, real descriptors to substitute for the
// numbers an input names, descriptor accounting, and a property check that aborts (so every engine,
// and the replay driver, reports it as a crash).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "monitor/credentials.hpp"
#include "monitor/refused_fds.hpp"
#include "monitor/result.hpp"

// A property the target promises; a failure is a finding, not a harness problem.
#define MON_FUZZ_CHECK(cond)                                                                 \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "fuzz property failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

namespace mon::fuzz {

// Consumes the input front to back; past the end every number reads as 0 and every byte run is
// short, so a target never reads outside the buffer and always terminates.
class input {
 public:
  input(const std::uint8_t* data, std::size_t size) noexcept : in_(data, size) {}

  [[nodiscard]] bool empty() const noexcept { return in_.empty(); }
  [[nodiscard]] std::size_t remaining() const noexcept { return in_.size(); }

  std::uint8_t u8() noexcept {
    if (in_.empty()) return 0;
    const std::uint8_t v = in_[0];
    in_ = in_.subspan(1);
    return v;
  }
  std::uint16_t u16() noexcept {
    const std::uint16_t hi = u8();
    return static_cast<std::uint16_t>((hi << 8) | u8());
  }
  std::uint32_t u32() noexcept {
    const std::uint32_t hi = u16();
    return (hi << 16) | u16();
  }
  // Up to n bytes (fewer when the input runs out).
  std::span<const std::uint8_t> bytes(std::size_t n) noexcept {
    if (n > in_.size()) n = in_.size();
    auto out = in_.first(n);
    in_ = in_.subspan(n);
    return out;
  }
  std::span<const std::uint8_t> rest() noexcept { return bytes(in_.size()); }

 private:
  std::span<const std::uint8_t> in_;
};

// Credentials as 12 input bytes (pid, uid, gid; big-endian), the layout every target uses.
inline peer_credentials read_credentials(input& in) noexcept {
  peer_credentials c;
  c.pid = static_cast<pid_t>(in.u32());
  c.uid = static_cast<uid_t>(in.u32());
  c.gid = static_cast<gid_t>(in.u32());
  return c;
}

// Number of descriptors open in this process.
inline int open_fd_count() noexcept {
  DIR* d = ::opendir("/proc/self/fd");
  MON_FUZZ_CHECK(d != nullptr);
  int n = 0;
  while (const dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n - 1;  // the directory stream's own
}

// Real descriptors to put where an input says "a descriptor": duplicates of one pipe end that lives
// as long as the process. It remembers every number it handed out in the current input, so the
// target can check that each one was closed exactly by whoever owned it.
class fd_ledger {
 public:
  // The pipe end every descriptor duplicates (also a canary: nobody may close it).
  static int origin() noexcept {
    static const int fd = [] {
      int p[2];
      MON_FUZZ_CHECK(::pipe2(p, O_CLOEXEC) == 0);
      ::close(p[1]);
      return p[0];
    }();
    return fd;
  }

  // A fresh descriptor the caller passes on (ownership goes to whatever it is given to).
  int make() {
    const int fd = ::fcntl(origin(), F_DUPFD_CLOEXEC, 0);
    MON_FUZZ_CHECK(fd >= 0);
    made_.push_back(fd);
    return fd;
  }
  [[nodiscard]] bool is_ours(int fd) const noexcept {
    for (int m : made_)
      if (m == fd) return true;
    return false;
  }
  // Is fd an open descriptor of our pipe (the same open file description's inode)?
  static bool same_file(int fd) noexcept {
    struct stat a {
    }, b{};
    if (::fstat(fd, &a) != 0 || ::fstat(origin(), &b) != 0) return false;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
  }
  static bool is_open(int fd) noexcept { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

  // Every descriptor handed out is closed again, and the origin is still open.
  void expect_all_closed() {
    for (int fd : made_) MON_FUZZ_CHECK(!is_open(fd));
    MON_FUZZ_CHECK(is_open(origin()));
    made_.clear();
  }

 private:
  std::vector<int> made_;
};

// One write step of a handshake machine (client or server): how many of the `offered` output
// bytes the glue reports as written. The input's next byte decides, clamped to what was offered;
// 0 stands for "more than there was", which the machine must refuse with a sticky errc::invalid
// (checked here, with the target's check_sticky); the step then returns 0 and the run ends.
template <class Machine, class CheckSticky>
std::size_t written_chunk(Machine& m, input& in, std::size_t offered, CheckSticky check_sticky) {
  const std::size_t n = in.empty() ? offered : in.u8();
  if (n == 0) {
    m.on_written(offered + 1);
    MON_FUZZ_CHECK(m.next() == decltype(m.next())::failed && m.err().code == errc::invalid);
    check_sticky(m);
    return 0;
  }
  return n > offered ? offered : n;
}

// One read step of a handshake machine (client or server), in the targets' read-event encoding:
// an op byte (control_spec.hpp; bit 4 end of file), the control data it describes, a u16 chunk
// length (0 reads one byte, longer than the machine's input space is clipped; glue bugs: 0xffff
// reports one byte more than the space, 0xfffe reports 0 bytes), the chunk. decode_control(opb)
// builds and decodes the control data (a decoded_control); observe(ctl) sees it before the machine
// does, for the target's own bookkeeping. The chunk's bytes are appended to `received`.
enum class read_end {
  read,      // the machine took a chunk
  stopped,   // no more input, or end of file (checked: errc::closed)
  glue_bug,  // refused (checked, with check_sticky): the run is over
};
template <class Machine, class DecodeControl, class Observe, class CheckSticky>
read_end read_step(Machine& m, input& in, std::vector<std::uint8_t>& received,
                   DecodeControl decode_control, Observe observe, CheckSticky check_sticky) {
  if (in.empty()) return read_end::stopped;
  const std::uint8_t opb = in.u8();
  if (opb & 0x10) {  // control_spec.hpp op::eof
    m.on_eof();
    MON_FUZZ_CHECK(m.next() == decltype(m.next())::failed && m.err().code == errc::closed);
    return read_end::stopped;
  }
  auto ctl = decode_control(opb);
  const auto space = m.input_space();
  MON_FUZZ_CHECK(!space.empty());
  std::size_t n = in.u16();
  if (n == 0xffff || n == 0xfffe) {
    // A glue bug: more bytes reported than the machine offered room for, or none at all (a read
    // of 0 bytes is end of file, never data). Refused, never read.
    m.on_read(n == 0xffff ? space.size() + 1 : 0, false, ctl.status, ctl.data);
    MON_FUZZ_CHECK(m.next() == decltype(m.next())::failed);
    MON_FUZZ_CHECK(m.err().code == errc::invalid || m.err().code == errc::protocol ||
                   m.err().code == errc::truncated);
    check_sticky(m);
    return read_end::glue_bug;
  }
  n = n == 0 ? 1 : (n > space.size() ? space.size() : n);
  const auto chunk = in.bytes(n);
  if (chunk.empty()) return read_end::stopped;
  std::memcpy(space.data(), chunk.data(), chunk.size());
  received.insert(received.end(), chunk.begin(), chunk.end());
  observe(ctl);
  m.on_read(chunk.size(), ctl.data_truncated, ctl.status, ctl.data);
  return read_end::read;
}

// Refused peer descriptors go to the library's closer threads by default, a moment later; a target
// that counts open descriptors after every input has them closed at once instead (they still go
// through the disposal path). Call first thing in LLVMFuzzerTestOneInput.
inline void close_refused_inline() noexcept {
  static const bool installed = [] {
    mon::set_refused_fd_handler([](int fd, void*) noexcept { ::close(fd); }, nullptr);
    return true;
  }();
  (void)installed;
}

}  // namespace mon::fuzz
