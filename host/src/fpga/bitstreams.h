/*
 * bitstreams.h - FPGA bitstreams: checking .xclbin files (xclbin.c), the
 * manifest of a bitstreams/ folder and picking the file that fits a card
 * (bitstreams.c). Cards themselves are cards.c's (hmn_fpga_cards).
 */
#ifndef HMN_BITSTREAMS_H
#define HMN_BITSTREAMS_H

#include "fpga/fpga.h"

/* ---- .xclbin files (xclbin.c; needs XRT's xclbin.h) ---- */

#define HMN__XCLBIN_MAX_KERNELS 16
#define HMN__UUID_TEXT 37

typedef struct {
  char platform[65];            /* the platform VBNV it was built for */
  unsigned char uuid[16];
  char uuid_text[HMN__UUID_TEXT];
  char mode[8];                 /* "hw", "hw_emu", "sw_emu" or "unknown" */
  uint32_t sections;
  size_t n_kernels;             /* kernels instantiated in IP_LAYOUT */
  char kernels[HMN__XCLBIN_MAX_KERNELS][65];
  double clock_mhz;             /* the kernel's clock from CLOCK_FREQ_TOPOLOGY, 0 if none */
} hmn__xclbin_info;

/* Validate the container (magic, lengths, section table, UUID) and read
 * what it holds; `path` names the file in messages. */
int hmn__xclbin_parse(const unsigned char *data, size_t len, const char *path,
                      hmn__xclbin_info *info, hmn_error *err);
bool hmn__xclbin_has_kernel(const hmn__xclbin_info *info, const char *kernel);
/* "k1, k2" for messages. */
void hmn__xclbin_kernel_list(const hmn__xclbin_info *info, char *out, size_t size);

/* ---- the manifest (bitstreams.c) ---- */

/* One checked bitstream, read into memory, ready to load. */
typedef struct {
  hmn_bitstream_info info; /* the manifest entry */
  hmn__xclbin_info xclbin; /* what the file holds */
  unsigned char *data;     /* the whole file */
  size_t len;
} hmn__bitstream;

void hmn__bitstream_free(hmn__bitstream *b);
/* The bitstream for a card of platform `card_vbnv` (NULL: any platform)
 * and `target` ("hw", "sw_emu", "hw_emu") that holds `cfg`, checked
 * whole: sha256, container, platform, UUID, kernel, ABI, limits. $HMN_XCLBIN
 * names a file of the folder to use instead of choosing. When none fits,
 * the message says what the folder has and what to build. */
int hmn__bitstream_pick(const char *card_vbnv, const char *target, const hmn_config *cfg,
                        hmn__bitstream *out, hmn_error *err);

#endif /* HMN_BITSTREAMS_H */
