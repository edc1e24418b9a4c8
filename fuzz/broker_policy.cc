// SPDX-License-Identifier: MIT
// Fuzz target: the fd-broker's policy parser (examples/fd-broker/policy.cc parse_policy, with
// safe_path.cc path_is_clean), linked unmodified. A root service reads this file at start and on
// reload; whoever can influence its text must not get more than the text says.
//
// Input: the policy text, as is.
//
// Properties: a text over 64 KiB is refused; on success there are at most 1024 rules, every rule
// comes from a line "allow uid=N PATH" / "allow gid=N PATH" (single blanks) with N below
// 2^32 - 1 and PATH clean by the documented rule (broker_support.hpp), and writing the rules back
// out parses to the same rules; on failure the error names a line ("line N: ...") or the size,
// and no rule is kept. Parsing twice gives the same answer.
#include <string>
#include <string_view>

#include "broker_support.hpp"
#include "fuzz_support.hpp"
#include "policy.hpp"

namespace {

namespace spec = mon::fuzz::broker_spec;

bool same_rules(const fdb::policy& a, const fdb::policy& b) {
  if (a.rules.size() != b.rules.size()) return false;
  for (std::size_t i = 0; i < a.rules.size(); ++i) {
    const auto &x = a.rules[i], &y = b.rules[i];
    if (x.by_gid != y.by_gid || x.id != y.id || x.path != y.path) return false;
  }
  return true;
}

// How many lines of text are rules (neither empty nor comments), as the format describes.
std::size_t rule_lines(std::string_view text) {
  std::size_t n = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line[0] != '#') ++n;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fdb::policy p;
  std::string err;
  const bool ok = fdb::parse_policy(text, p, err);

  fdb::policy again;
  std::string err2;
  MON_FUZZ_CHECK(fdb::parse_policy(text, again, err2) == ok && err2 == err);
  MON_FUZZ_CHECK(same_rules(p, again));

  if (!ok) {
    MON_FUZZ_CHECK(p.rules.empty());
    MON_FUZZ_CHECK(err.rfind("line ", 0) == 0 ||
                   (size > fdb::policy_max_bytes && err == "policy larger than 64 KiB"));
    return 0;
  }
  MON_FUZZ_CHECK(size <= fdb::policy_max_bytes);
  MON_FUZZ_CHECK(p.rules.size() <= fdb::policy_max_rules);
  MON_FUZZ_CHECK(p.rules.size() == rule_lines(text));  // every rule line became a rule
  std::string written;
  for (const auto& r : p.rules) {
    MON_FUZZ_CHECK(r.id < 0xffffffffUL);
    MON_FUZZ_CHECK(spec::clean(r.path, true));
    MON_FUZZ_CHECK(r.path.find_first_of(" \t\n\r") == std::string::npos);
    for (char c : r.path) MON_FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
    written += "allow " + std::string(r.by_gid ? "gid=" : "uid=") + std::to_string(r.id) + " " +
               r.path + "\n";
  }
  fdb::policy back;
  MON_FUZZ_CHECK(fdb::parse_policy(written, back, err));
  MON_FUZZ_CHECK(same_rules(p, back));
  return 0;
}
