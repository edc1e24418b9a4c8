// SPDX-License-Identifier: MIT
// The pure parts of listening and socket activation (src/core/listener.cc): turning a path into an
// AF_UNIX address and reading the LISTEN_* variables. No system call; tested on their own.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "monitor/listener.hpp"
#include "monitor/result.hpp"
#include "sys/listen.hpp"

namespace mon::core {

// path as an AF_UNIX address. A leading '@' names the abstract namespace (the rest of the path,
// without a terminating NUL), refused unless allow_abstract. errc::invalid for a null or empty
// path, a bare "@", or one that does not fit in sun_path (with its NUL, for a file-system path).
[[nodiscard]] result<sys::unix_address> make_address(const char* path,
                                                     bool allow_abstract) noexcept;

// A decimal number from the environment: digits only (no sign, space or prefix), at most max.
// nullopt for anything else, including an empty string and an overflow.
[[nodiscard]] std::optional<unsigned long> parse_env_number(const char* text,
                                                            unsigned long max) noexcept;

// Splits LISTEN_FDNAMES ("a:b:c") into out[i].name. null names: every name is "unknown".
// errc::invalid unless there are exactly out.size() names, each at most listen_name_max
// printable ASCII characters.
[[nodiscard]] result<void> split_names(const char* names, std::span<activated_socket> out) noexcept;

}  // namespace mon::core
