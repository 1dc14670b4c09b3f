/*
 * hmn_fpga_params.h - the interface of the FPGA kernel hmn_fpga_step
 * (kernels/hmn_fpga.h): its parameter record (hmn_iface.h's, shared with
 * the NDRange kernel), its statistics buffer and the positions of its
 * arguments. The host (host/src/fpga/fpga.c), the kernels and
 * the HLS wrapper in hw/ all include this one file and cannot disagree.
 *
 * A bitstream is built hours before it runs, so nothing here is a
 * compile-time shape: the layer's shape and parameters arrive in the
 * params buffer, within the on-chip maxima the bitstream was built for.
 * HMN_FPGA_ABI changes whenever anything below changes; the bitstream
 * manifest records it, and the host refuses a bitstream built for another.
 */
#ifndef HMN_FPGA_PARAMS_H
#define HMN_FPGA_PARAMS_H

#ifndef HMN_SOURCES_INLINED
#include "hmn_iface.h"
#endif

/* 2: synapse rows padded to whole 16-lane words on the device (hw/hmn_step_hls.h).
 * 3: the per-step values as hmn_iface.h's step record at the head of
 *    the inputs buffer, in place of seven scalar arguments.
 * 4: the rule families' words at the end of the parameter record, and
 *    HMN_STEP_CLAMP in the step record's ACTION word; the step record grew
 *    to 32 words (x(t) at word 32); the record's FORWARD word runs eq 1
 *    alone (hmn_layer_forward), its z after the statistics' G_j; the
 *    policy rule's pi after C_global(t) in the inputs; the families'
 *    state arrays (tr_pre, tr_post, rate, theta, scale) as arguments
 *    14-18. */
#define HMN_FPGA_ABI 4
#define HMN_FPGA_KERNEL_NAME "hmn_fpga_step"
/* Synapses per 512-bit word: the lanes of the kernel (HMN_WIDE_LANES). */
#define HMN_FPGA_LANES 16

/* ---- params: the layer's parameter record, HMN_IFACE_LAYER in
 * hmn_iface.h (the NDRange kernel reads the same record). The words keep
 * these names here too, as the bitstreams' interface. ---- */
#define HMN__FPGA_P_ALIAS(NAME, field, KIND, source) HMN_FPGA_P_##NAME = HMN_P_##NAME,
enum { HMN_IFACE_LAYER(HMN__FPGA_P_ALIAS) HMN_FPGA_PARAM_WORDS = HMN_P_COUNT };
#undef HMN__FPGA_P_ALIAS

/* ---- stats: 32-bit words the kernel writes every step ---- */
#define HMN_FPGA_S_APPLIED_LO 0
#define HMN_FPGA_S_APPLIED_HI 1
#define HMN_FPGA_S_CANDIDATES_LO 2
#define HMN_FPGA_S_CANDIDATES_HI 3
/* G_j of every neuron, as float bits, from here on (N_out words); then,
 * written by a forward launch (step record word FORWARD = 1) alone, z_j of
 * every neuron from word HMN_FPGA_S_G_J + N_out. A forward launch leaves
 * the counts and G_j of the last step as they are. */
#define HMN_FPGA_S_G_J 4

/* ---- arguments, in order: buffers only ----
 *  0 w        1 psi_f   2 psi_s   3 phi       (512-bit words of 16 floats)
 *  4 tau                                       (128-bit words of 16 bytes)
 *  5 x_hist   6 h       7 b       8 c       9 z      10 astro
 * 11 sign    12 kappa  13 w_k                (state arrays, plain floats)
 * 14 tr_pre  15 tr_post 16 rate  17 theta  18 scale
 *                                              (the rule families' state)
 * 19 params  20 inputs  21 stats              (32-bit words)
 * `inputs` is one step's, as the NDRange kernel's: the step record
 * (HMN_IFACE_STEP, HMN_STEP_SCALARS words) and then x(t), E(t),
 * C_global(t) and pi (N_out: the policy rule's softmax of forward's z,
 * read only when the record's ACTION is not 0) as floats, at
 * HMN_FPGA_IN_X. */
#define HMN_FPGA_ARG_PARAMS 19
#define HMN_FPGA_ARG_INPUTS 20
#define HMN_FPGA_ARG_STATS 21
#define HMN_FPGA_ARG_COUNT 22
#define HMN_FPGA_IN_X HMN_STEP_SCALARS

/* The argument names, as the bitstream manifest lists them. */
#define HMN_FPGA_ARG_NAMES \
  "w psi_f psi_s phi tau x_hist h b c z astro sign kappa w_k tr_pre tr_post rate theta scale " \
  "params inputs stats"

#endif /* HMN_FPGA_PARAMS_H */
