# `cpack -G DEB` in a build directory: one .deb with the shared and static libraries, the headers,
# the CMake package and monitor.pc, installed under /usr. Dependencies come from dpkg-shlibdeps.
set(CPACK_PACKAGE_NAME "libmonitor-dev")
set(CPACK_PACKAGE_VENDOR "monitor")
set(CPACK_PACKAGE_CONTACT "monitor maintainers <monitor@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "libdevel")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Only the library's own install rules (examples, tests and benchmarks install nothing).
set(CPACK_STRIP_FILES ON)
include(CPack)
