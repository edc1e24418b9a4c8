// SPDX-License-Identifier: MIT
#include "cmsg/control.hpp"

#include <sys/socket.h>

#include <cstring>

#include "platform/linux.hpp"

namespace mon::cmsg {
namespace {

// Header fields copied out with memcpy: a fuzzer's buffer need not be aligned.
struct header_view {
  std::size_t len;  // cmsg_len as written
  int level;
  int type;
};

header_view read_header(const std::byte* at) noexcept {
  cmsghdr h{};
  std::memcpy(&h, at, sizeof h);
  return {static_cast<std::size_t>(h.cmsg_len), h.cmsg_level, h.cmsg_type};
}

// Takes every int in data as a received descriptor. Negative values are not descriptors and make
// the message malformed; ownership of the others is taken before anything is judged.
bool take_descriptors(std::span<const std::byte> data, fd_list& out, bool& overflow) noexcept {
  bool well_formed = data.size() % sizeof(int) == 0;
  for (std::size_t off = 0; off + sizeof(int) <= data.size(); off += sizeof(int)) {
    int fd = -1;
    std::memcpy(&fd, data.data() + off, sizeof fd);
    if (fd < 0) {
      well_formed = false;
      continue;
    }
    if (!out.push(unique_fd(fd))) overflow = true;  // closed by push
  }
  return well_formed;
}

void refuse(const policy& pol, fd_list& fds) noexcept {
  if (pol.dispose != nullptr && !fds.empty()) pol.dispose(fds);
  fds.clear();
}

// What the walk over one control buffer has seen so far.
struct walk {
  fault why = fault::none;  // the first fault met: the one reported
  bool overflow = false;    // more descriptors than an fd_list holds
  int rights_headers = 0;
  int credential_headers = 0;
  void note(fault f) noexcept {
    if (why == fault::none) why = f;
  }
};

// Takes one control message whose payload is data: descriptors are owned first, judged after.
void take_message(const header_view& h, std::span<const std::byte> data, const policy& pol,
                  control_data& out, walk& w) noexcept {
  if (h.level == SOL_SOCKET && h.type == SCM_RIGHTS) {
    if (++w.rights_headers > 1) w.note(fault::two_rights_headers);
    if (!take_descriptors(data, out.fds, w.overflow)) w.note(fault::control_malformed);
  } else if (h.level == SOL_SOCKET && h.type == SCM_PIDFD) {
    // A descriptor we never asked for: own it so it is closed with the rest.
    fd_list pidfd;
    (void)take_descriptors(data, pidfd, w.overflow);
    refuse(pol, pidfd);
    w.note(fault::unexpected_pidfd);
  } else if (h.level == SOL_SOCKET && h.type == SCM_CREDENTIALS) {
    if (++w.credential_headers > 1) w.note(fault::two_credentials_headers);
    if (!pol.allow_credentials) w.note(fault::credentials_not_allowed);
    if (data.size() != sizeof(ucred)) return w.note(fault::control_malformed);
    ucred c{};
    std::memcpy(&c, data.data(), sizeof c);
    out.has_credentials = true;
    out.credentials = {c.pid, c.uid, c.gid};
  } else {
    w.note(fault::unexpected_control_type);  // unknown or unexpected: refused, never guessed at
  }
}

}  // namespace

std::size_t receive_space(std::size_t num_fds, bool credentials) noexcept {
  if (num_fds > max_fds) num_fds = max_fds;
  std::size_t space = CMSG_SPACE((num_fds + 1) * sizeof(int));
  if (credentials) space += CMSG_SPACE(sizeof(ucred));
  return space;
}

static_assert(CMSG_SPACE((max_fds + 1) * sizeof(int)) + CMSG_SPACE(sizeof(ucred)) <= max_space);

// The common case, decided in a few comparisons: the buffer is exactly one well-formed SCM_RIGHTS
// header of descriptors within the policy, and nothing was cut. Anything else takes the full walk.
bool decode_one_rights_header(std::span<const std::byte> control, int msg_flags, const policy& pol,
                              control_data& out) noexcept {
  if ((msg_flags & MSG_CTRUNC) != 0 || control.size() < CMSG_LEN(sizeof(int))) return false;
  const header_view h = read_header(control.data());
  if (h.level != SOL_SOCKET || h.type != SCM_RIGHTS || h.len > control.size() ||
      CMSG_ALIGN(h.len) < control.size() || (h.len - CMSG_LEN(0)) % sizeof(int) != 0)
    return false;
  const std::size_t n = (h.len - CMSG_LEN(0)) / sizeof(int);
  if (n > pol.max_fds || n > max_fds) return false;
  const std::byte* data = control.data() + CMSG_LEN(0);
  for (std::size_t i = 0; i < n; ++i) {
    int fd = -1;
    std::memcpy(&fd, data + i * sizeof(int), sizeof fd);
    if (fd < 0) return false;  // the full walk takes ownership of the rest and refuses them
  }
  for (std::size_t i = 0; i < n; ++i) {
    int fd = -1;
    std::memcpy(&fd, data + i * sizeof(int), sizeof fd);
    out.fds.push(unique_fd(fd));
  }
  return true;
}

result<void> decode(std::span<const std::byte> control, int msg_flags, const policy& pol,
                    control_data& out) noexcept {
  if (!out.fds.empty() || out.has_credentials || out.why != fault::none) out.clear();
  if (control.empty() && (msg_flags & MSG_CTRUNC) == 0) return {};
  if (decode_one_rights_header(control, msg_flags, pol, out)) return {};
  walk w;
  constexpr std::size_t hdr_len = CMSG_LEN(0);
  std::size_t off = 0;
  while (control.size() - off >= sizeof(cmsghdr)) {
    const header_view h = read_header(control.data() + off);
    if (h.len < hdr_len) {  // cannot even hold its own header: nothing after it can be trusted
      w.note(fault::control_malformed);
      break;
    }
    const std::size_t avail = control.size() - off;
    // Some systems report the untruncated length: bounded by the buffer, and still malformed.
    if (h.len > avail) w.note(fault::control_malformed);
    const std::size_t data_len = (h.len > avail ? avail : h.len) - hdr_len;
    take_message(h, control.subspan(off + hdr_len, data_len), pol, out, w);

    // Advance by the aligned length, without overflow and without trusting it past the buffer.
    const std::size_t step = CMSG_ALIGN(h.len);
    if (step < h.len || step > avail) break;
    off += step;
  }
  if (w.overflow || out.fds.size() > pol.max_fds) w.note(fault::too_many_descriptors);

  // A cut buffer wins over everything else: what was cut may be why the rest looks wrong.
  if (msg_flags & MSG_CTRUNC) w.why = fault::control_truncated;
  if (w.why == fault::none) return {};
  refuse(pol, out.fds);
  out.clear();
  out.why = w.why;
  return w.why == fault::control_truncated ? errc::truncated : errc::protocol;
}

result<std::size_t> encode(std::span<std::byte> buf, std::span<const int> fds,
                           const peer_credentials* creds) noexcept {
  if (fds.size() > max_fds) return errc::invalid;
  const std::size_t rights = fds.empty() ? 0 : CMSG_SPACE(fds.size() * sizeof(int));
  const std::size_t need = rights + (creds ? CMSG_SPACE(sizeof(ucred)) : 0);
  if (need > buf.size()) return errc::invalid;
  if (need == 0) return std::size_t{0};
  for (int fd : fds)
    if (fd < 0) return errc::invalid;

  auto put_header = [&buf](std::size_t off, int type, std::size_t payload) {
    cmsghdr h{};
    h.cmsg_len = CMSG_LEN(payload);
    h.cmsg_level = SOL_SOCKET;
    h.cmsg_type = type;
    std::memcpy(buf.data() + off, &h, sizeof h);
    // Only the alignment padding after the payload needs zeroing, not the whole buffer.
    const std::size_t pad = CMSG_SPACE(payload) - CMSG_LEN(payload);
    if (pad != 0) std::memset(buf.data() + off + CMSG_LEN(payload), 0, pad);
    return buf.data() + off + CMSG_LEN(0);
  };
  if (!fds.empty())
    std::memcpy(put_header(0, SCM_RIGHTS, fds.size() * sizeof(int)), fds.data(),
                fds.size() * sizeof(int));
  if (creds) {
    const ucred c{creds->pid, creds->uid, creds->gid};
    std::memcpy(put_header(rights, SCM_CREDENTIALS, sizeof c), &c, sizeof c);
  }
  return need;
}

}  // namespace mon::cmsg
