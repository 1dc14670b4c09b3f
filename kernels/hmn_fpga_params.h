/*
 * hmn_fpga_params.h - the interface of the FPGA kernel hmn_fpga_step
 * (kernels/hmn_fpga.h): the layout of its parameter and statistics
 * buffers and the positions of its per-step arguments. Plain defines, so
 * the host (host/src/fpga.c), the kernels and the HLS wrapper in hw/ all
 * include this one file and cannot disagree.
 *
 * A bitstream is built hours before it runs, so nothing here is a
 * compile-time shape: the layer's shape and parameters arrive in the
 * params buffer, within the on-chip maxima the bitstream was built for.
 * HMN_FPGA_ABI changes whenever anything below changes; the bitstream
 * manifest records it, and the host refuses a bitstream built for another.
 */
#ifndef HMN_FPGA_PARAMS_H
#define HMN_FPGA_PARAMS_H

#define HMN_FPGA_ABI 1
#define HMN_FPGA_KERNEL_NAME "hmn_fpga_step"
/* Synapses per 512-bit word: the lanes of the kernel (HMN_WIDE_LANES). */
#define HMN_FPGA_LANES 16

/* ---- params: 32-bit words, integers as they are, floats as their bits;
 * written when the layer or its config changes, not per step ---- */
#define HMN_FPGA_P_N_IN 0
#define HMN_FPGA_P_N_OUT 1
#define HMN_FPGA_P_N_MOD 2
#define HMN_FPGA_P_D_CTX 3
#define HMN_FPGA_P_DELAY 4
#define HMN_FPGA_P_SEED_LO 5
#define HMN_FPGA_P_SEED_HI 6
#define HMN_FPGA_P_ACTIVATION 7
#define HMN_FPGA_P_ATTENTION 8
#define HMN_FPGA_P_GLOBAL_ATTENTION 9
#define HMN_FPGA_P_SIMILARITY 10
#define HMN_FPGA_P_PHASE_GATE 11
#define HMN_FPGA_P_STOCHASTIC 12
#define HMN_FPGA_P_ASTRO_SOURCE 13
#define HMN_FPGA_P_NOISE_SIGMA 14
#define HMN_FPGA_P_CTX_RATE 15
#define HMN_FPGA_P_EMB_RATE 16
#define HMN_FPGA_P_BIAS_RATE 17
#define HMN_FPGA_P_TARGET_RATE 18
#define HMN_FPGA_P_LAM_F 19
#define HMN_FPGA_P_LAM_S 20
#define HMN_FPGA_P_RHO_F 21
#define HMN_FPGA_P_RHO_S 22
#define HMN_FPGA_P_BETA_ATTN 23
#define HMN_FPGA_P_BETA_GLOBAL 24
#define HMN_FPGA_P_ASTRO_DECAY 25
#define HMN_FPGA_P_ASTRO_GAIN 26
#define HMN_FPGA_P_ASTRO_LAMBDA 27
#define HMN_FPGA_P_BETA_P 28
#define HMN_FPGA_P_THETA_P 29
#define HMN_FPGA_P_W_MIN 30
#define HMN_FPGA_P_W_MAX 31
#define HMN_FPGA_PARAM_WORDS 32

/* ---- stats: 32-bit words the kernel writes every step ---- */
#define HMN_FPGA_S_APPLIED_LO 0
#define HMN_FPGA_S_APPLIED_HI 1
#define HMN_FPGA_S_CANDIDATES_LO 2
#define HMN_FPGA_S_CANDIDATES_HI 3
/* G_j of every neuron, as float bits, from here on. */
#define HMN_FPGA_S_G_J 4

/* ---- arguments, in order ----
 *  0 w        1 psi_f   2 psi_s   3 phi       (512-bit words of 16 floats)
 *  4 tau                                       (128-bit words of 16 bytes)
 *  5 x_hist   6 h       7 b       8 c       9 z      10 astro
 * 11 sign    12 kappa  13 w_k                (state arrays, plain floats)
 * 14 params  15 inputs (x(t), E(t), C_global(t))   16 stats
 * then the scalars that change every step: */
#define HMN_FPGA_ARG_SLOT 17
#define HMN_FPGA_ARG_T_LO 18
#define HMN_FPGA_ARG_T_HI 19
#define HMN_FPGA_ARG_ETA_LOCAL 20
#define HMN_FPGA_ARG_ETA_GLOBAL 21
#define HMN_FPGA_ARG_PHASE_HI 22
#define HMN_FPGA_ARG_PHASE_LO 23
#define HMN_FPGA_ARG_COUNT 24

/* The argument names, as the bitstream manifest lists them. */
#define HMN_FPGA_ARG_NAMES                                                                    \
  "w psi_f psi_s phi tau x_hist h b c z astro sign kappa w_k params inputs stats slot t_lo " \
  "t_hi eta_local eta_global phase_hi phase_lo"

#endif /* HMN_FPGA_PARAMS_H */
