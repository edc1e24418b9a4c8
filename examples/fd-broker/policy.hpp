// The broker's policy: which uid or gid may open which paths. Parsed with fixed bounds.
//
// Format (one rule per line; '#' starts a comment line; blank lines are ignored):
//     allow uid=<decimal> <absolute path>
//     allow gid=<decimal> <absolute path>
// Fields are separated by single spaces or tabs. A path ending in '/' grants every regular file
// below that directory (resolved without symlinks); any other path grants exactly that file. Paths
// must be clean: no "//", "/./", "/../", at most 4095 bytes. gid= matches the peer's effective gid
// (the one the kernel reports with SO_PEERCRED), not its supplementary groups.
// Bounds: the file at most 64 KiB, at most 1024 rules. Anything else is an error with its line.
#pragma once

#include <sys/types.h>

#include <cstddef>
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

struct policy {
  std::vector<rule> rules;

  // The rule that grants (uid, gid) the clean path `path`, or nullptr. Directory grants match paths
  // strictly below them; file grants match only themselves.
  [[nodiscard]] const rule* match(uid_t uid, gid_t gid, std::string_view path) const noexcept;
  // True when any rule names this uid or gid (the handshake refuses peers with no rule at all).
  [[nodiscard]] bool names(uid_t uid, gid_t gid) const noexcept;
};

// Parses text. On failure returns false and sets *error to "line N: why".
[[nodiscard]] bool parse_policy(std::string_view text, policy& out, std::string& error);

// Reads and parses the file at path, opened with O_NOFOLLOW. When we run as root, the file must be
// a regular file owned by root and writable by nobody else (no group or world write bit): a policy
// an unprivileged user could edit would hand them every file.
[[nodiscard]] bool load_policy(const char* path, policy& out, std::string& error);

}  // namespace fdb
