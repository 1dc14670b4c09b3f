# HmnInstall.cmake - what `cmake --install` puts where (GNU directories
# under CMAKE_INSTALL_PREFIX):
#   lib/libhmn.so.X.Y.Z (soname libhmn.so.X), libhmn.a    component lib
#   include/hmn.h, lib/pkgconfig/hmn.pc, lib/cmake/hmn/    component dev
#   bin/hmn                                                component cli
# `find_package(hmn)` then gives hmn::hmn (the shared library) and
# hmn::hmn_static (the static one, which brings its private dependencies
# as link-only items). pip builds (scikit-build-core sets SKBUILD) install
# only the component python: the shared library inside the package folder.
include(CMakePackageConfigHelpers)

if(SKBUILD)
  # A wheel holds no symbolic links: one file, the name hmn/_lib.py loads.
  install(FILES $<TARGET_FILE:hmn_shared> DESTINATION hmn RENAME libhmn.so
    COMPONENT python)
  return()
endif()

install(TARGETS hmn_shared hmn_lib EXPORT hmnTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/host/include/hmn.h
  ${PROJECT_BINARY_DIR}/host/include/hmn_version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(TARGETS hmn RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)

set(hmn_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/hmn)
install(EXPORT hmnTargets NAMESPACE hmn:: DESTINATION ${hmn_cmake_dir} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/hmnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/hmnConfig.cmake INSTALL_DESTINATION ${hmn_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/hmnConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/hmnConfig.cmake ${PROJECT_BINARY_DIR}/hmnConfigVersion.cmake
  DESTINATION ${hmn_cmake_dir} COMPONENT dev)

# hmn.pc: the private dependencies are what a static link needs
# (`pkg-config --static --libs hmn`); a shared link needs only -lhmn.
if(CMAKE_DL_LIBS)
  set(HMN_PC_LIBS_PRIVATE "-lm -lpthread -l${CMAKE_DL_LIBS}")
else()
  set(HMN_PC_LIBS_PRIVATE "-lm -lpthread")
endif()
if(HMN_HAVE_XRT)
  string(APPEND HMN_PC_LIBS_PRIVATE " -L${XRT_LIBRARY_DIR} -lxrt_coreutil")
endif()
# The prefix is found from the file's own place, so an installed tree can
# be moved (and `cmake --install --prefix` works).
file(RELATIVE_PATH HMN_PC_PREFIX /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
configure_file(${PROJECT_SOURCE_DIR}/cmake/hmn.pc.in ${PROJECT_BINARY_DIR}/hmn.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/hmn.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
