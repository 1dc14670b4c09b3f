/*
 * layout.h - the synapse arrays in the device layout of the HLS kernel
 * (hw/hmn_step_hls.cpp): each row of N_in synapses padded with zeros to
 * whole 16-lane words, so that no row starts inside a word on the card.
 * The host keeps rows unpadded; these functions move between the two.
 * The OpenCL C model of the kernel (kernels/hmn_fpga.h, built from source
 * on PoCL) keeps the flat layout (fpga.c, hmn__fpga_arg_bytes).
 */
#ifndef HMN_FPGA_LAYOUT_H
#define HMN_FPGA_LAYOUT_H

#include "fpga/fpga.h"

/* Words of one padded row. */
size_t hmn__fpga_row_words(const hmn_config *cfg);
/* Device bytes of synapse argument `arg` (0-4) in the padded layout; of
 * any other argument, hmn__fpga_arg_bytes's. */
size_t hmn__fpga_padded_bytes(const hmn_config *cfg, int arg);
/* Array `arg` (0-4) from the host's rows `src` into padded rows `dst`
 * (hmn__fpga_padded_bytes of it; padding zero), and back. */
void hmn__fpga_pad_rows(const hmn_config *cfg, int arg, const void *src, void *dst);
void hmn__fpga_unpad_rows(const hmn_config *cfg, int arg, const void *src, void *dst);

#endif /* HMN_FPGA_LAYOUT_H */
