# cmake --install: headers, both libraries, a CMake package (monitor::monitor) and monitor.pc.
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/monitor DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS monitor monitor_static EXPORT monitorTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT monitorTargets NAMESPACE monitor:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/monitor)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/monitorConfig.cmake.in
  ${PROJECT_BINARY_DIR}/monitorConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/monitor)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/monitorConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/monitorConfig.cmake ${PROJECT_BINARY_DIR}/monitorConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/monitor)

# Relocatable: the prefix is found from the .pc file's own location, wherever it is installed.
file(RELATIVE_PATH MONITOR_PC_TO_PREFIX "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
configure_file(${PROJECT_SOURCE_DIR}/cmake/monitor.pc.in ${PROJECT_BINARY_DIR}/monitor.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/monitor.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
