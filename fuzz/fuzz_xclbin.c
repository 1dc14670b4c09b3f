/*
 * fuzz_xclbin.c - libFuzzer target: .xclbin containers through the parser
 * that checks them before a card sees them (hmn__xclbin_parse: magic,
 * lengths, the section table, IP_LAYOUT, UUID).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fpga/bitstreams.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A private copy, so that a read past the end is one ASan sees. */
  unsigned char *copy = malloc(size > 0 ? size : 1);
  if (copy == NULL) return 0;
  if (size > 0) memcpy(copy, data, size);
  hmn__xclbin_info info;
  hmn_error err;
  if (hmn__xclbin_parse(copy, size, "fuzz.xclbin", &info, &err) == HMN_OK) {
    char kernels[512];
    hmn__xclbin_kernel_list(&info, kernels, sizeof kernels);
    (void)hmn__xclbin_has_kernel(&info, HMN_FPGA_KERNEL_NAME);
  }
  free(copy);
  return 0;
}
