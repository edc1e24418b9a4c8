# SPDX-License-Identifier: MIT
# Hardened code generation for the library and everything linked with it (SECURITY.md, "Hardening").
option(MONITOR_HARDEN "Build with hardening flags (fortify, stack protector, CET, RELRO)" ON)

add_library(monitor_hardening INTERFACE)
if(MONITOR_HARDEN)
  # _FORTIFY_SOURCE needs optimisation; level 3 needs GCC >= 12 (Clang 14 knows only 2).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12)
    set(_mon_fortify 3)
  else()
    set(_mon_fortify 2)
  endif()
  target_compile_options(monitor_hardening INTERFACE
    $<$<NOT:$<CONFIG:Debug>>:-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=${_mon_fortify}>
    -fstack-protector-strong -fstack-clash-protection -fcf-protection)
  target_link_options(monitor_hardening INTERFACE
    LINKER:-z,relro LINKER:-z,now LINKER:-z,noexecstack)
  # CET shadow stack: every object of ours is built with -fcf-protection, but Debian 12's crti.o and
  # crtn.o carry no GNU property note, so the linker would drop SHSTK from the library. Shadow stack
  # asks nothing of that code (plain call/ret), so marking it is true. IBT is NOT forced: crti's
  # _init has no ENDBR64 and is reached by an indirect call (ci/check-hardening.sh checks our own
  # entry points instead). Applies to the shared library, which is linked from object files only.
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
    string(APPEND CMAKE_SHARED_LINKER_FLAGS " -Wl,-z,shstk")
  endif()
endif()
