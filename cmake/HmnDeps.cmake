# HmnDeps.cmake - find every dependency, and when one is missing fail with
# the Debian package that provides it (`sudo ./setup.sh` installs them all).
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: install the Debian package 'pkg-config'")
endif()

# hmn_require_pkg(<prefix> <pkg-config module> <Debian package>)
macro(hmn_require_pkg prefix module debian)
  pkg_check_modules(${prefix} IMPORTED_TARGET ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "${module} not found: install the Debian package '${debian}'")
  endif()
endmacro()

hmn_require_pkg(ZLIB zlib zlib1g-dev)
hmn_require_pkg(INIH inih libinih-dev)
# JSON output of `hmn bench --json` (the CLI and its tests only).
hmn_require_pkg(JANSSON jansson libjansson-dev)

# The energy meters sample on a thread and load NVML with dlopen.
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)

find_path(RANDOM123_INCLUDE_DIR Random123/philox.h)
if(NOT RANDOM123_INCLUDE_DIR)
  message(FATAL_ERROR "Random123/philox.h not found: install the Debian package 'librandom123-dev'")
endif()

find_library(MATH_LIBRARY m)

if(HMN_TESTS)
  hmn_require_pkg(CRITERION criterion libcriterion-dev)
endif()

# OpenCL: the ICD loader and the Khronos headers. The kernels are built at
# run time, so no OpenCL compiler is needed here; a driver such as PoCL
# (pocl-opencl-icd) is needed only to run them.
find_package(OpenCL QUIET)
if(NOT OpenCL_FOUND)
  message(FATAL_ERROR "OpenCL (CL/cl.h and libOpenCL) not found: install the Debian packages "
                      "'ocl-icd-opencl-dev opencl-headers'")
endif()
# Oclgrind checks the kernels for races and uninitialized reads in the tests
# (Debian package 'oclgrind'); without it that test skips.
find_program(OCLGRIND_EXECUTABLE oclgrind)
