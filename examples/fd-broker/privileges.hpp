// SPDX-License-Identifier: MIT
// Dropping what the broker does not need once its socket exists.
#pragma once

#include <string>

namespace fdb {

// When running as root: keeps uid 0 but only CAP_DAC_READ_SEARCH (to open what the policy grants,
// whatever its permissions), in the effective and permitted sets; empties the inheritable and
// ambient sets; drops every other capability from the bounding set; locks SECBIT_NOROOT (running
// a program as root grants nothing) and sets no_new_privs. Not root: does nothing. Returns false
// with a reason in *why when any step fails (the caller must not carry on half-dropped).
[[nodiscard]] bool drop_to_read_search(std::string& why);

}  // namespace fdb
