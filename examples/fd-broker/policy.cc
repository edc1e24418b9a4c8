// SPDX-License-Identifier: MIT
#include "policy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "monitor/unique_fd.hpp"
#include "safe_path.hpp"

namespace fdb {
namespace {

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

// Splits off the next field (no leading blank allowed: fields are separated by exactly one).
std::string_view next_field(std::string_view& line) noexcept {
  std::size_t n = 0;
  while (n < line.size() && !is_blank(line[n])) ++n;
  const auto field = line.substr(0, n);
  line.remove_prefix(n < line.size() ? n + 1 : n);
  return field;
}

// Decimal id in [0, 2^32 - 2]: (uid_t)-1 means "no id" to the kernel and is refused.
bool parse_id(std::string_view s, unsigned long& out) noexcept {
  if (s.empty() || s.size() > 10) return false;
  unsigned long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  if (v >= 0xffffffffUL) return false;
  out = v;
  return true;
}

bool parse_rule(std::string_view line, rule& r, const char*& why) {
  for (char c : line)  // no CR, escape sequences or other control bytes hidden in a path
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
      return why = "control character", false;
  if (is_blank(line.back())) return why = "trailing blank", false;
  if (next_field(line) != "allow") return why = "expected 'allow'", false;
  const auto who = next_field(line);
  if (who.substr(0, 4) == "uid=") {
    r.by_gid = false;
  } else if (who.substr(0, 4) == "gid=") {
    r.by_gid = true;
  } else {
    return why = "expected uid=N or gid=N", false;
  }
  if (!parse_id(who.substr(4), r.id)) return why = "bad id", false;
  const auto path = next_field(line);
  if (!line.empty()) return why = "trailing text", false;
  if (!path_is_clean(path, true)) return why = "path must be absolute and clean", false;
  r.path.assign(path);
  return true;
}

}  // namespace

bool peer_ids::in_group(unsigned long id) const noexcept {
  if (id == gid) return true;
  for (const gid_t g : groups)
    if (id == g) return true;
  return false;
}

namespace {
bool rule_names(const rule& r, const peer_ids& who) noexcept {
  return r.by_gid ? who.in_group(r.id) : r.id == who.uid;
}
}  // namespace

const rule* policy::match(const peer_ids& who, std::string_view path) const noexcept {
  for (const auto& r : rules) {
    if (!rule_names(r, who)) continue;
    if (r.path.back() == '/') {
      if (path.size() > r.path.size() && path.substr(0, r.path.size()) == r.path) return &r;
    } else if (path == r.path) {
      return &r;
    }
  }
  return nullptr;
}

bool policy::names(const peer_ids& who) const noexcept {
  for (const auto& r : rules)
    if (rule_names(r, who)) return true;
  return false;
}

bool parse_policy(std::string_view text, policy& out, std::string& error) {
  out.rules.clear();
  if (text.size() > policy_max_bytes) return error = "policy larger than 64 KiB", false;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line.front() == '#') continue;
    const char* why = nullptr;
    rule r;
    if (out.rules.size() == policy_max_rules) {
      why = "more than 1024 rules";
    } else if (parse_rule(line, r, why)) {
      out.rules.push_back(std::move(r));
      continue;
    }
    error = "line " + std::to_string(line_no) + ": " + why;
    out.rules.clear();
    return false;
  }
  return true;
}

bool load_policy(const char* path, policy& out, std::string& error) {
  // O_NONBLOCK: a FIFO planted at this path must not hang the broker before fstat refuses it.
  mon::unique_fd fd(::open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) return error = std::string("open: ") + std::strerror(errno), false;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return error = std::string("fstat: ") + std::strerror(errno), false;
  if (!S_ISREG(st.st_mode)) return error = "not a regular file", false;
  if (::geteuid() == 0 && st.st_uid != 0) return error = "not owned by root", false;
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) return error = "group- or world-writable", false;
  if (st.st_size < 0 || static_cast<std::size_t>(st.st_size) > policy_max_bytes)
    return error = "policy larger than 64 KiB", false;

  std::string text(policy_max_bytes + 1, '\0');
  std::size_t got = 0;
  while (got < text.size()) {  // read to EOF, one byte past the cap to see a file that grew
    const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return error = std::string("read: ") + std::strerror(errno), false;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  return parse_policy(text, out, error);
}

}  // namespace fdb
