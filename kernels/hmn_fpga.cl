/*
 * hmn_fpga.cl - an OpenCL C model of the FPGA step: one work-item runs
 * the whole step (kernels/hmn_fpga.h) with its on-chip arrays in __local
 * memory. PoCL runs it in CI (backend "opencl-fpga"), a functional check
 * of the per-equation bodies in the FPGA kernel's flat-word form. It is
 * not a hardware source: the card runs hw/hmn_step_hls.cpp, whose
 * schedule this model does not share (hw/README.md says why).
 *
 * The host prepends the on-chip maxima (HMN_FPGA_MAX_IN, ...) when it
 * builds for a layer on PoCL; a bitstream is built with the maxima its
 * manifest records.
 */
#ifndef HMN_SOURCES_INLINED
#include "hmn_fpga.h"
#endif

/* Contraction off here too, for compilers that scope it per file. */
#ifdef HMN_OPENCL_C
#pragma OPENCL FP_CONTRACT OFF
#endif

HMN_KERNEL HMN_WORK_GROUP(1) void hmn_fpga_step(
    HMN_GLOBAL hmnk_wide *HMN_RESTRICT w, HMN_GLOBAL hmnk_wide *HMN_RESTRICT psi_f,
    HMN_GLOBAL hmnk_wide *HMN_RESTRICT psi_s, HMN_GLOBAL const hmnk_wide *HMN_RESTRICT phi,
    HMN_GLOBAL const hmnk_wide_u8 *HMN_RESTRICT tau, HMN_GLOBAL float *HMN_RESTRICT x_hist,
    HMN_GLOBAL float *HMN_RESTRICT h, HMN_GLOBAL float *HMN_RESTRICT b,
    HMN_GLOBAL float *HMN_RESTRICT c, HMN_GLOBAL float *HMN_RESTRICT z,
    HMN_GLOBAL float *HMN_RESTRICT astro, HMN_GLOBAL const float *HMN_RESTRICT sign,
    HMN_GLOBAL const float *HMN_RESTRICT kappa, HMN_GLOBAL const float *HMN_RESTRICT w_k,
    HMN_GLOBAL float *HMN_RESTRICT tr_pre, HMN_GLOBAL float *HMN_RESTRICT tr_post,
    HMN_GLOBAL float *HMN_RESTRICT rate, HMN_GLOBAL float *HMN_RESTRICT theta,
    HMN_GLOBAL float *HMN_RESTRICT scale, HMN_GLOBAL const hmnk_u32 *HMN_RESTRICT params,
    HMN_GLOBAL const hmnk_u32 *HMN_RESTRICT inputs, HMN_GLOBAL hmnk_u32 *HMN_RESTRICT stats) {
  HMN_LOCAL hmnk_fpga_chip chip;
  hmnk_fpga_step(&chip, w, psi_f, psi_s, phi, tau, x_hist, h, b, c, z, astro, sign, kappa, w_k,
                 tr_pre, tr_post, rate, theta, scale, params, inputs, stats);
}
