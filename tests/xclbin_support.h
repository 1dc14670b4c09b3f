/*
 * xclbin_support.h - synthetic .xclbin files for the bitstream tests,
 * built from the struct axlf layout of XRT's public xclbin.h (Debian's
 * xclbinutil wrapper points at a binary the package does not ship).
 */
#ifndef HMN_TEST_XCLBIN_SUPPORT_H
#define HMN_TEST_XCLBIN_SUPPORT_H

#include <stddef.h>

/* Modes of xclbin.h's enum XCLBIN_MODE that the tests use. */
enum { HMN_TEST_XCLBIN_HW = 0, HMN_TEST_XCLBIN_HW_EMU = 4, HMN_TEST_XCLBIN_SW_EMU = 5 };

/* A malloc'd xclbin of `platform` whose IP_LAYOUT instantiates `kernel`
 * (as "kernel:kernel_1") next to a memory IP; `uuid_seed` makes its UUID.
 * Sets *len. */
unsigned char *hmn_test_xclbin(const char *platform, const char *kernel, int mode,
                               unsigned uuid_seed, size_t *len);
/* The UUID text of such a file, as hmn prints it. */
void hmn_test_xclbin_uuid(const unsigned char *xclbin, char out[37]);

#endif
