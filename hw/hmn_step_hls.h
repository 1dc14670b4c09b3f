/*
 * hmn_step_hls.h - the on-chip maxima of the HLS kernel hmn_fpga_step
 * (hw/hmn_step_hls.cpp), and the C interface of its C-simulation
 * (sim/hmn_csim.cpp) that tests/test_fpga_csim.c drives.
 *
 * Device layout of the synapse arrays (w, psi_f, psi_s, phi: 16 floats a
 * word; tau: 16 bytes a word): N_out rows of wpr = ceil(N_in / 16) words,
 * input i of row j at word j wpr + i / 16, lane i % 16; padding lanes are
 * zero and come back unchanged.
 */
#ifndef HMN_STEP_HLS_H
#define HMN_STEP_HLS_H

#include <stddef.h>

#include "hmn_port.h"

/* Largest N_in (a multiple of 16), N_out and delay line a build holds. */
#ifndef HMN_HLS_MAX_IN
#define HMN_HLS_MAX_IN 4096
#endif
#ifndef HMN_HLS_MAX_OUT
#define HMN_HLS_MAX_OUT 4096
#endif
#ifndef HMN_HLS_MAX_DELAY
#define HMN_HLS_MAX_DELAY 16
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Words per row of the device layout. */
static inline size_t hmn_hls_words_per_row(size_t n_in) { return (n_in + 15u) / 16u; }

/* One step of the C-simulated kernel on padded-row arrays (above); the
 * other arguments are kernels/hmn_fpga_params.h's, in its order. */
void hmn_hls_csim_step(hmnk_wide *w, hmnk_wide *psi_f, hmnk_wide *psi_s, const hmnk_wide *phi,
                       const hmnk_wide_u8 *tau, size_t n_words, float *x_hist, float *h, float *b,
                       float *c, float *z, float *astro, const float *sign, const float *kappa,
                       const float *w_k, float *tr_pre, float *tr_post, float *rate,
                       float *theta, float *scale, const hmnk_u32 *params,
                       const hmnk_u32 *inputs, hmnk_u32 *stats);

/* Hardware arithmetic in the C-simulation: with `on`, the kernel runs
 * with subnormal results and operands flushed to zero, as AMD's
 * floating-point cores do; the caller's arithmetic is untouched. Returns 0
 * where the host cannot flush (then nothing changes). */
int hmn_hls_csim_flush_subnormals(int on);
/* a * b under the kernel's arithmetic (a check that flushing is on). */
float hmn_hls_csim_product(float a, float b);

/* Dataflow as on the card: with `on`, each process of the region runs in
 * a thread of its own over streams of their declared depths (the bank
 * audit pauses meanwhile). A region in which every process waits is
 * deadlocked: hmn_hls_csim_deadlock says on which stream (NULL: none since
 * the last clear). A test may override one stream's depth (0: the
 * region's again). */
void hmn_hls_csim_threaded(int on);
const char *hmn_hls_csim_deadlock(void);
void hmn_hls_csim_clear_deadlock(void);
void hmn_hls_csim_override_depth(const char *stream, int depth);

/* The bank audit of the C-simulation (hw/hmn_bank_audit.h): iterations
 * of pipelined loops in which some on-chip bank saw more accesses than
 * its two ports, the first of them as text, iterations seen of a loop,
 * and a reset. */
size_t hmn_hls_csim_audit_violations(void);
const char *hmn_hls_csim_audit_first(void);
size_t hmn_hls_csim_audit_iterations(const char *loop);
void hmn_hls_csim_audit_reset(void);
/* One iteration of a probe loop that accesses bank 0 of a probe array
 * `accesses` times: the audit's own check. */
void hmn_hls_csim_audit_probe(int accesses);

#ifdef __cplusplus
}
#endif

#endif /* HMN_STEP_HLS_H */
