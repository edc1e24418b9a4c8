# SPDX-License-Identifier: MIT
# `cpack -G DEB` in a build directory: two Debian packages, installed under /usr, each with its
# copyright file (usr/share/doc/<package>/copyright):
#   libmonitor<major>   the shared library (libmonitor.so.<major> and the file it names);
#   libmonitor-dev      headers, libmonitor.so, libmonitor.a, the CMake package, monitor.pc and
#                       monitor-cxx.pc; depends on the runtime package of the same version.
# Components and package names come from cmake/Install.cmake. Dependencies of the runtime package
# come from dpkg-shlibdeps.
set(CPACK_PACKAGE_NAME "libmonitor")
set(CPACK_PACKAGE_VENDOR "monitor")
set(CPACK_PACKAGE_CONTACT "monitor maintainers <monitor@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME "${MONITOR_RUNTIME_PACKAGE}")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION "libs")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_MULTIARCH "same")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
  "${PROJECT_DESCRIPTION}\n This package holds the shared library.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME "${MONITOR_DEV_PACKAGE}")
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION "libdevel")
set(CPACK_DEBIAN_DEV_PACKAGE_MULTIARCH "same")
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "${MONITOR_RUNTIME_PACKAGE} (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_DEV_DESCRIPTION
  "${PROJECT_DESCRIPTION}\n This package holds the headers, the static library, the CMake package\n and the pkg-config files.")
# Only the library's own install rules (examples, tests and benchmarks install nothing).
set(CPACK_STRIP_FILES ON)
include(CPack)
