/*
 * xclbin_none.c - stands in for xclbin.c where XRT's xclbin.h was not
 * found at build time: bitstreams cannot be checked, so none is used.
 */
#include "fpga/bitstreams.h"

#include <stdio.h>
#include <string.h>

int hmn__xclbin_parse(const unsigned char *data, size_t len, const char *path,
                      hmn__xclbin_info *info, hmn_error *err) {
  (void)data;
  (void)len;
  memset(info, 0, sizeof *info);
  return hmn__fail(err, HMN_EUNSUPPORTED,
                   "cannot check xclbin '%s': this libhmn was built without XRT's xclbin.h "
                   "(install libxrt-dev and uuid-dev, or AMD's xrt package, and rebuild)",
                   path);
}

bool hmn__xclbin_has_kernel(const hmn__xclbin_info *info, const char *kernel) {
  (void)info;
  (void)kernel;
  return false;
}

void hmn__xclbin_kernel_list(const hmn__xclbin_info *info, char *out, size_t size) {
  (void)info;
  snprintf(out, size, "unknown");
}
