// SPDX-License-Identifier: MIT
// Fuzz target: the fd-broker's request path checks, the part of broker.cc handle_request that a
// connected peer reaches before anything is opened: the op byte, path_is_clean
// (examples/fd-broker/safe_path.cc), policy::match and policy::names (policy.cc) for the kernel's
// ids of the peer, and the base directory the open is confined to. Linked unmodified; the open
// itself (open_beneath) is left to the broker's unit and end-to-end tests.
//
// Input: u32 uid, u32 gid, u8 number of supplementary groups (mod 9) and that many u32, u16
// policy length and the policy text, then requests until the input ends, each a u16 length and
// that many payload bytes (u8 op, path bytes) as a request message carries them.
//
// Properties: a request is served only with op FDB_OP_OPEN and a path that is clean by the
// documented rule (broker_support.hpp: absolute, no trailing '/', no empty, "." or ".."
// component, no NUL, at most FDB_PATH_MAX); a match is a rule that names this uid (uid=) or one
// of its groups (gid=, effective or supplementary), and grants exactly that file, or a path
// strictly below its directory; names() is true whenever something matched; the base handed to
// open_beneath is a clean directory prefix of the path that the grant covers, so the open can
// never be asked to leave what the policy granted.
#include <string>
#include <string_view>
#include <vector>

#include "broker_support.hpp"
#include "fuzz_support.hpp"
#include "policy.hpp"
#include "safe_path.hpp"

namespace {

namespace fz = mon::fuzz;
namespace spec = mon::fuzz::broker_spec;

bool names_peer(const fdb::rule& r, const fdb::peer_ids& who) {
  if (!r.by_gid) return r.id == who.uid;
  if (r.id == who.gid) return true;
  for (gid_t g : who.groups)
    if (r.id == g) return true;
  return false;
}

bool grants(const fdb::rule& r, std::string_view path) {
  if (r.path.back() != '/') return path == r.path;
  return path.size() > r.path.size() && path.compare(0, r.path.size(), r.path) == 0;
}

void serve(const fdb::policy& pol, const fdb::peer_ids& who, std::string_view payload) {
  // broker.cc drops a request whose first byte is not FDB_OP_OPEN before any check.
  if (payload.empty() || payload[0] != FDB_OP_OPEN) return;
  const std::string_view path = payload.substr(1);
  const bool clean = fdb::path_is_clean(path, false);
  MON_FUZZ_CHECK(clean == spec::clean(path, false));
  if (!clean) return;  // FDB_BAD_PATH

  const fdb::rule* r = pol.match(who, path);
  // The first rule in order that names the peer and grants the path, and no other.
  const fdb::rule* expected = nullptr;
  for (const auto& rule : pol.rules)
    if (names_peer(rule, who) && grants(rule, path)) {
      expected = &rule;
      break;
    }
  MON_FUZZ_CHECK(r == expected);
  if (r == nullptr) return;  // FDB_DENIED
  MON_FUZZ_CHECK(pol.names(who));

  // The base as broker.cc computes it: the grant's directory, or a file grant's own directory.
  const std::string_view base =
      r->path.back() == '/' ? std::string_view(r->path) : path.substr(0, path.rfind('/') + 1);
  MON_FUZZ_CHECK(!base.empty() && base.back() == '/' && spec::clean(base, true));
  MON_FUZZ_CHECK(path.size() > base.size() && path.compare(0, base.size(), base) == 0);
  // What is opened below base has no '/' left to climb with: clean components only.
  std::string below(1, '/');
  below.append(path.substr(base.size()));
  MON_FUZZ_CHECK(spec::clean(below, false));
  if (r->path.back() != '/') MON_FUZZ_CHECK(path == r->path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fz::input in(data, size);
  const auto uid = static_cast<uid_t>(in.u32());
  const auto gid = static_cast<gid_t>(in.u32());
  std::vector<gid_t> groups(in.u8() % 9);
  for (auto& g : groups) g = static_cast<gid_t>(in.u32());
  const auto text = in.bytes(in.u16());

  fdb::policy pol;
  std::string err;
  if (!fdb::parse_policy(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()),
                         pol, err))
    return 0;  // the broker does not start (or keeps its old policy)
  const fdb::peer_ids who{uid, gid, groups};

  while (!in.empty()) {
    const auto payload = in.bytes(in.u16());
    serve(pol, who,
          std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()));
  }
  return 0;
}
