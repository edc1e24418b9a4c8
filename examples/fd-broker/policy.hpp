// SPDX-License-Identifier: MIT
// The broker's policy: which uid or gid may open which paths. Parsed with fixed bounds.
//
// Format (one rule per line; '#' starts a comment line; blank lines are ignored):
//     allow uid=<decimal> <absolute path>
//     allow gid=<decimal> <absolute path>
// Fields are separated by single spaces or tabs. A path ending in '/' grants every regular file
// below that directory (resolved without symlinks); any other path grants exactly that file. Paths
// must be clean: no "//", "/./", "/../", at most 4095 bytes. gid= matches the peer's effective gid
// (SO_PEERCRED) or any of its supplementary groups (SO_PEERGROUPS), both as the kernel recorded
// them. Bounds: the file at most 64 KiB, at most 1024 rules. Anything else is an error with its
// line.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fdb {

inline constexpr std::size_t policy_max_bytes = 64 * 1024;
inline constexpr std::size_t policy_max_rules = 1024;

struct rule {
  bool by_gid = false;  // false: by uid
  unsigned long id = 0;
  std::string path;  // ends in '/' for a directory grant
};

// Who is asking, every id from the kernel: verified uid and effective gid, and the supplementary
// groups recorded at connect().
struct peer_ids {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  std::span<const gid_t> groups;

  [[nodiscard]] bool in_group(unsigned long id) const noexcept;
};

struct policy {
  std::vector<rule> rules;

  // The rule that grants `who` the clean path `path`, or nullptr. Directory grants match paths
  // strictly below them; file grants match only themselves.
  [[nodiscard]] const rule* match(const peer_ids& who, std::string_view path) const noexcept;
  // True when any rule names who's uid or one of its groups (the handshake refuses peers with no
  // rule at all).
  [[nodiscard]] bool names(const peer_ids& who) const noexcept;
};

// Parses text. On failure returns false and sets *error to "line N: why".
[[nodiscard]] bool parse_policy(std::string_view text, policy& out, std::string& error);

// Reads and parses the file at path, opened with O_NOFOLLOW. When we run as root, the file must be
// a regular file owned by root and writable by nobody else (no group or world write bit): a policy
// an unprivileged user could edit would hand them every file.
[[nodiscard]] bool load_policy(const char* path, policy& out, std::string& error);

}  // namespace fdb
