# SPDX-License-Identifier: MIT
# Warnings every target of the project builds with (GCC 12 and Clang 14 alike).
add_library(monitor_warnings INTERFACE)
target_compile_options(monitor_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wcast-align -Wformat=2
  $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor>
  $<$<BOOL:${MONITOR_WERROR}>:-Werror>)
