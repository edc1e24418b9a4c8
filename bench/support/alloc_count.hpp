// SPDX-License-Identifier: MIT
// Heap allocations made by this process so far (see alloc_count.cc).
#pragma once

#include <cstdint>

namespace bench {
[[nodiscard]] std::uint64_t allocations() noexcept;
}  // namespace bench
