# HmnXrt.cmake - XRT, the runtime of Alveo cards, for the FPGA flow:
#   HMN_HAVE_XCLBIN  XRT's xclbin.h (and uuid/uuid.h, which it includes):
#                    bitstreams are checked before they are loaded
#   HMN_HAVE_XRT     also XRT's native C API and libxrt_coreutil: the "xrt"
#                    backend
# HMN_XRT=AUTO (the default) builds what is found, ON fails when XRT is
# missing, OFF builds neither. Debian 12: libxrt-dev and uuid-dev; AMD's
# xrt package installs to /opt/xilinx/xrt. (Debian's xrt.pc names a wrong
# prefix, so pkg-config is not used.)
set(HMN_XRT AUTO CACHE STRING "Build the XRT parts of the FPGA flow: AUTO, ON or OFF")
set_property(CACHE HMN_XRT PROPERTY STRINGS AUTO ON OFF)

set(HMN_HAVE_XCLBIN OFF)
set(HMN_HAVE_XRT OFF)
if(NOT HMN_XRT STREQUAL "OFF")
  set(hmn_xrt_hints $ENV{XILINX_XRT} /opt/xilinx/xrt)
  find_path(XRT_INCLUDE_DIR xclbin.h HINTS ${hmn_xrt_hints} PATH_SUFFIXES include include/xrt xrt)
  find_path(UUID_INCLUDE_DIR uuid/uuid.h)
  find_library(XRT_COREUTIL_LIBRARY xrt_coreutil HINTS ${hmn_xrt_hints} PATH_SUFFIXES lib)
  # Where XRT's libraries live: the tests build a XILINX_XRT folder from it.
  if(XRT_COREUTIL_LIBRARY)
    get_filename_component(XRT_LIBRARY_DIR ${XRT_COREUTIL_LIBRARY} DIRECTORY)
  endif()
  if(XRT_INCLUDE_DIR AND UUID_INCLUDE_DIR)
    set(HMN_HAVE_XCLBIN ON)
    if(XRT_COREUTIL_LIBRARY AND EXISTS ${XRT_INCLUDE_DIR}/xrt/xrt_device.h)
      set(HMN_HAVE_XRT ON)
    endif()
  endif()
  if(HMN_XRT STREQUAL "ON" AND NOT HMN_HAVE_XRT)
    message(FATAL_ERROR "HMN_XRT=ON but XRT was not found: install the Debian packages "
                        "'libxrt-dev uuid-dev' (or AMD's xrt package and set XILINX_XRT)")
  endif()
endif()
message(STATUS "hmn: XRT xclbin checks ${HMN_HAVE_XCLBIN}, xrt backend ${HMN_HAVE_XRT}")
