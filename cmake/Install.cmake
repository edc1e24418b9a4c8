# SPDX-License-Identifier: MIT
# cmake --install: headers, both libraries, a CMake package (monitor::monitor) and monitor.pc.
# Components (the .deb split, cmake/Packaging.cmake): "runtime" is the shared library and its
# copyright file; "dev" is everything a program needs to build against it.
include(CMakePackageConfigHelpers)

# Debian package names: the runtime package is named after the SONAME (libmonitor.so.<major>).
set(MONITOR_RUNTIME_PACKAGE "libmonitor${PROJECT_VERSION_MAJOR}")
set(MONITOR_DEV_PACKAGE "libmonitor-dev")

# What a static link needs besides libmonitor.a: the C++ runtime the compiler adds to a C++ link
# and not to a C one (with GCC: -lstdc++ -lm). monitor.pc's Libs.private, and the static target's
# link interface for consumers whose link is not driven by the C++ compiler.
set(MONITOR_STATIC_DEPS ${CMAKE_CXX_IMPLICIT_LINK_LIBRARIES})
if(CMAKE_C_IMPLICIT_LINK_LIBRARIES)
  list(REMOVE_ITEM MONITOR_STATIC_DEPS ${CMAKE_C_IMPLICIT_LINK_LIBRARIES})
endif()
list(REMOVE_DUPLICATES MONITOR_STATIC_DEPS)
foreach(lib IN LISTS MONITOR_STATIC_DEPS)
  target_link_libraries(monitor_static INTERFACE "$<$<NOT:$<LINK_LANGUAGE:CXX>>:${lib}>")
endforeach()
set(MONITOR_PC_LIBS_PRIVATE "")
foreach(lib IN LISTS MONITOR_STATIC_DEPS)
  string(APPEND MONITOR_PC_LIBS_PRIVATE " -l${lib}")
endforeach()
string(STRIP "${MONITOR_PC_LIBS_PRIVATE}" MONITOR_PC_LIBS_PRIVATE)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/monitor DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT dev)
install(TARGETS monitor monitor_static EXPORT monitorTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT monitorTargets NAMESPACE monitor:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/monitor
  COMPONENT dev)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/monitorConfig.cmake.in
  ${PROJECT_BINARY_DIR}/monitorConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/monitor)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/monitorConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/monitorConfig.cmake ${PROJECT_BINARY_DIR}/monitorConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/monitor COMPONENT dev)

# Relocatable: the prefix is found from the .pc file's own location, wherever it is installed.
file(RELATIVE_PATH MONITOR_PC_TO_PREFIX "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
configure_file(${PROJECT_SOURCE_DIR}/cmake/monitor.pc.in ${PROJECT_BINARY_DIR}/monitor.pc @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/monitor-cxx.pc.in ${PROJECT_BINARY_DIR}/monitor-cxx.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/monitor.pc ${PROJECT_BINARY_DIR}/monitor-cxx.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# The licence, in Debian's machine-readable copyright format, once per package.
configure_file(${PROJECT_SOURCE_DIR}/cmake/copyright.dep5 ${PROJECT_BINARY_DIR}/copyright @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/copyright
  DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${MONITOR_RUNTIME_PACKAGE} COMPONENT runtime)
install(FILES ${PROJECT_BINARY_DIR}/copyright
  DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${MONITOR_DEV_PACKAGE} COMPONENT dev)
