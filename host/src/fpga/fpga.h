/*
 * fpga.h - the host's side of the FPGA kernel hmn_fpga_step
 * (kernels/hmn_fpga.h), shared by the backends that drive it: the device
 * buffers and their sizes, the params buffer, the step's scalars, the
 * statistics; and the FPGA flow's other internal modules (bitstreams,
 * cards, sha256).
 */
#ifndef HMN_FPGA_HOST_H
#define HMN_FPGA_HOST_H

#include "internal.h"

#include "hmn_fpga_params.h"

/* The backends built on the FPGA kernel. Without XRT at build time, "xrt"
 * is a stand-in that says so (cards.c). */
extern const hmn__backend_ops hmn__backend_opencl_fpga;
extern const hmn__backend_ops hmn__backend_xrt;

/* ---- the kernel's interface (fpga.c) ---- */

/* The on-chip maxima a kernel build serves (HMN_FPGA_MAX_*). */
typedef struct {
  int32_t max_in, max_out, max_delay;
} hmn__fpga_limits;

/* The limits of the on-chip arrays that hmn_fpga.h defaults to, which the
 * hw/ build uses unless told otherwise. */
#define HMN__FPGA_DEFAULT_MAX_IN 4096
#define HMN__FPGA_DEFAULT_MAX_OUT 4096
#define HMN__FPGA_DEFAULT_MAX_DELAY 16
/* hmn_fpga.h's HMN_FPGA_BLOCK: words per block of the synapse pass. */
#define HMN__FPGA_BLOCK_WORDS 512

/* The buffer arguments 0 .. HMN__FPGA_BUFFERS-1, after the state arrays
 * they hold: params, inputs, stats. */
enum { HMN__FPGA_PARAMS = 19, HMN__FPGA_INPUTS = 20, HMN__FPGA_STATS = 21, HMN__FPGA_BUFFERS = 22 };

/* The state array kernel argument `arg` holds, or -1 (params, inputs,
 * stats). Arguments 0-4 are the synapse arrays, read as whole 16-element
 * words. */
int hmn__fpga_arg_array(int arg);
/* The argument that holds state array `which` (every state array has
 * one). */
int hmn__fpga_array_arg(hmn_array which);
/* Device bytes of buffer argument `arg`: synapse arrays padded to whole
 * words, the others exact. */
size_t hmn__fpga_arg_bytes(const hmn_config *cfg, int arg);
/* The name of argument `arg` (HMN_FPGA_ARG_NAMES). */
const char *hmn__fpga_arg_name(int arg);

/* Refuse a layer that exceeds what a build holds on chip; `build` names
 * the build in the message. */
int hmn__fpga_check_limits(const hmn_config *cfg, const hmn__fpga_limits *lim, const char *build,
                           hmn_error *err);
/* Bytes the kernel keeps on chip for these limits (sizeof hmnk_fpga_chip). */
size_t hmn__fpga_chip_bytes(const hmn__fpga_limits *lim);

/* The params buffer of a config (hmn_fpga_params.h). */
void hmn__fpga_params(const hmn_config *cfg, uint32_t out[HMN_FPGA_PARAM_WORDS]);

/* The inputs buffer of step st->t: the step record (kernels/hmn_iface.h,
 * HMN_IFACE_STEP), then x(t), E(t), C_global(t) and pi back to back from
 * HMN_FPGA_IN_X; hmn__fpga_arg_bytes(cfg, HMN__FPGA_INPUTS) bytes. With
 * an action (0 .. N_out - 1; -1: none, the Hebbian kappa) the record
 * carries it and pi (N_out floats) follows C_global; without, pi is
 * zeros and not read. */
void hmn__fpga_pack_inputs(const hmn__state *st, const hmn_step_input *in, int32_t action,
                           const float *pi, float *out);
/* The inputs buffer of a forward launch for x(t) at step st->t: the
 * record with FORWARD = 1, its slot and t, then x(t); the rest zeros. */
void hmn__fpga_pack_forward(const hmn__state *st, const float *x, float *out);
/* Bytes from the start of the stats buffer to a forward launch's z, and
 * its length. */
size_t hmn__fpga_forward_z_offset(const hmn_config *cfg);
size_t hmn__fpga_forward_z_bytes(const hmn_config *cfg);
/* The action a learning step passes to the kernel: the rule policy's
 * (checked against 0 .. N_out - 1), -1 for every other rule, which has no
 * action. */
int hmn__fpga_learn_action(const hmn__state *st, int32_t action, int32_t *out, hmn_error *err);
/* Refuse forward and learn on a layer whose device state was lost (the
 * fused step's check, hmn_layer_step). */
int hmn__fpga_check_state(hmn_layer *layer, const char *half, hmn_error *err);
/* Step statistics from the stats buffer, G_j summed in double as ref
 * does. */
void hmn__fpga_decode_stats(const hmn_config *cfg, const uint32_t *stats, uint64_t t,
                            hmn_step_stats *out);

#endif /* HMN_FPGA_HOST_H */
