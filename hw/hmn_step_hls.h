/*
 * hmn_step_hls.h - the HLS C top function of the FPGA kernel, as callers
 * of its C-simulation see it (tests/test_fpga_csim.c). Its arguments are
 * kernels/hmn_fpga_params.h's, in that order.
 */
#ifndef HMN_STEP_HLS_H
#define HMN_STEP_HLS_H

#include "hmn_port.h"

void hmn_fpga_step(hmnk_wide *w, hmnk_wide *psi_f, hmnk_wide *psi_s, const hmnk_wide *phi,
                   const hmnk_wide_u8 *tau, float *x_hist, float *h, float *b, float *c, float *z,
                   float *astro, const float *sign, const float *kappa, const float *w_k,
                   const hmnk_u32 *params, const float *inputs, hmnk_u32 *stats, hmnk_u32 slot,
                   hmnk_u32 t_lo, hmnk_u32 t_hi, float eta_local, float eta_global,
                   float phase_hi, float phase_lo);

#endif /* HMN_STEP_HLS_H */
