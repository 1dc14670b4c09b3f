/*
 * hmn_fpga.h - one HMN step as a single work-item kernel in the FPGA
 * kernel's word form, for the OpenCL C model kernels/hmn_fpga.cl (PoCL in
 * CI, backend opencl-fpga). The hardware kernel is hw/hmn_step_hls.cpp,
 * which takes eq 4's on-chip cosine and sine (hmnk_fpga_cos/sin) from
 * here. The math is hmn_synapse.h's, the same functions the NDRange
 * kernels of hmn_step.cl call; only the schedule differs:
 *
 *   load     the per-input and per-neuron state, burst-read into on-chip
 *            arrays (x_hist, h, b, c, astro, sign)
 *   inputs   x(t) into its ring row, h (step 3), G (eqs 6-7)
 *   rows     one dataflow region of two pipelined stages, row by row:
 *              forward  a_j, z_j, c_j, b_j (eq 1, step 3, step 11) from
 *                       512-bit words of W and tau
 *              neuron   astrocyte, G_j, the attention row maximum and
 *                       softmax denominator (steps 5, 6)
 *   synapses blocks of HMN_FPGA_BLOCK 512-bit words, each a dataflow
 *            region read -> update -> write: steps 4-10 on 16 synapses
 *            per clock, flat over the synapse index e = j N_in + i
 *   store    the changed per-neuron state and the statistics
 *
 * A forward launch (the step record's FORWARD word, hmn_layer_forward)
 * runs load, the push of x(t) on chip only and the rows, and writes z
 * into the statistics buffer instead of the synapse pass and the store:
 * the same eq-1 code and noise draw (t, j) as the step, no state written.
 *
 * The shape arrives at run time (hmn_fpga_params.h): one bitstream serves
 * every layer within the on-chip maxima it was built for. The loops are
 * written for II = 1: every loop-carried floating-point sum rotates over
 * HMN_FPGA_INTERLEAVE partial sums per lane, so an adder has that many
 * clocks to finish before its partial is needed again.
 *
 * Reductions run in a fixed order (partials, then a pairwise tree), so
 * results are deterministic; the order differs from hmn_step.cl's and
 * from ref's, within SPEC section 5's reduction bound.
 */
#ifndef HMN_FPGA_H
#define HMN_FPGA_H

#ifndef HMN_SOURCES_INLINED
#include "hmn_port.h"
#include "hmn_math.h"
#include "hmn_synapse.h"
#include "hmn_fpga_params.h"
#endif

/* Contraction off here too, for compilers that scope it per file. */
#ifdef HMN_OPENCL_C
#pragma OPENCL FP_CONTRACT OFF
#endif

/* ---- tunables: the on-chip maxima a build serves, and the schedule ---- */

/* Largest N_in; a multiple of the 16 lanes, so that the 16 lanes of a
 * word always fall into 16 different banks of the on-chip arrays. */
#ifndef HMN_FPGA_MAX_IN
#define HMN_FPGA_MAX_IN 4096
#endif
/* Largest N_out. */
#ifndef HMN_FPGA_MAX_OUT
#define HMN_FPGA_MAX_OUT 4096
#endif
/* Largest delay line D. */
#ifndef HMN_FPGA_MAX_DELAY
#define HMN_FPGA_MAX_DELAY 16
#endif
/* 512-bit words per block of the synapse pass: the dataflow granule,
 * long enough that filling the pipeline once per block costs little. */
#ifndef HMN_FPGA_BLOCK
#define HMN_FPGA_BLOCK 512
#endif
/* Partial sums per lane, a power of two at least the latency of a
 * floating-point adder in clocks. */
#ifndef HMN_FPGA_INTERLEAVE
#define HMN_FPGA_INTERLEAVE 8
#endif

#if HMN_FPGA_LANES != HMN_WIDE_LANES
#error "hmn_fpga_params.h and hmn_port.h disagree about the lanes of a word"
#endif
#if HMN_FPGA_MAX_IN % HMN_WIDE_LANES != 0
#error "HMN_FPGA_MAX_IN must be a multiple of 16"
#endif
#if (HMN_FPGA_INTERLEAVE & (HMN_FPGA_INTERLEAVE - 1)) != 0
#error "HMN_FPGA_INTERLEAVE must be a power of two"
#endif

#define HMN_FPGA_PARTIALS (HMN_FPGA_INTERLEAVE * HMN_WIDE_LANES)
#define HMN_FPGA_BLOCK_SYN (HMN_FPGA_BLOCK * HMN_WIDE_LANES)

/* Everything the kernel keeps on chip during one step. The kernel
 * wrappers own it: __local in OpenCL C, a local variable in HLS (BRAM and
 * URAM), a stack variable in the C-simulation. */
typedef struct {
  /* Per input: the delay line (row r at r * MAX_IN) and h. */
  float x_hist[HMN_FPGA_MAX_DELAY * HMN_FPGA_MAX_IN];
  float h[HMN_FPGA_MAX_IN];
  /* The spike-timing families' presynaptic traces, decayed by this step
   * (tau+ and tau_x), before this step's spikes. */
  float r1[HMN_FPGA_MAX_IN];
  float r2[HMN_FPGA_MAX_IN];
  /* Per neuron, as loaded: */
  float b_old[HMN_FPGA_MAX_OUT];
  float c_old[HMN_FPGA_MAX_OUT];
  float sign[HMN_FPGA_MAX_OUT];
  float astro[HMN_FPGA_MAX_OUT];
  /* Per neuron, this step's: */
  float z[HMN_FPGA_MAX_OUT];
  float c[HMN_FPGA_MAX_OUT];
  float b[HMN_FPGA_MAX_OUT];
  float g_j[HMN_FPGA_MAX_OUT];
  float post[HMN_FPGA_MAX_OUT]; /* step 4's post factor (hmnk_post) */
  /* The families' per-neuron state: postsynaptic traces decayed by this
   * step (tau- and tau_y), the rate estimate and BCM threshold as loaded,
   * the scaling factor S_j (this step's after the rows) and the row's
   * weight factor new S_j / old S_j. */
  float o1[HMN_FPGA_MAX_OUT];
  float o2[HMN_FPGA_MAX_OUT];
  float rate[HMN_FPGA_MAX_OUT];
  float theta[HMN_FPGA_MAX_OUT];
  float scale[HMN_FPGA_MAX_OUT];
  float row_factor[HMN_FPGA_MAX_OUT];
  float attn_max[HMN_FPGA_MAX_OUT];
  float attn_factor[HMN_FPGA_MAX_OUT];
  /* One block of the synapse pass, as read and as updated. */
  float blk_w[HMN_FPGA_BLOCK_SYN];
  float blk_pf[HMN_FPGA_BLOCK_SYN];
  float blk_ps[HMN_FPGA_BLOCK_SYN];
  float blk_phi[HMN_FPGA_BLOCK_SYN];
  hmnk_u8 blk_tau[HMN_FPGA_BLOCK_SYN];
  float out_w[HMN_FPGA_BLOCK_SYN];
  float out_pf[HMN_FPGA_BLOCK_SYN];
  float out_ps[HMN_FPGA_BLOCK_SYN];
} hmnk_fpga_chip;

/* The layer, decoded from the params buffer (hmn_iface.h). */
typedef hmnk_layer hmnk_fpga_layer;

/* This step's scalars. */
typedef struct {
  hmnk_u32 slot;
  hmnk_rng_at at;
  float eta_local, eta_global, cos_phase, sin_phase;
  hmnk_u32 action1; /* the step record's ACTION */
} hmnk_fpga_now;

/* Eq 4's synapse terms: this kernel keeps phi_ji, not its cosine and
 * sine, in memory, and derives them on chip; sin x = cos(x - pi/2), with
 * pi/2 as a float and its remainder. */
#define HMN_FPGA_PIO2_HI 1.57079637050628662109375f
#define HMN_FPGA_PIO2_LO (-4.37113900018624283e-08f)
HMN_INLINE float hmnk_fpga_cos(float x, float x_lo) { return hmnk_cos_diff(x, x_lo, 0.0f); }
HMN_INLINE float hmnk_fpga_sin(float x, float x_lo) {
  return hmnk_cos_diff(x, x_lo - HMN_FPGA_PIO2_LO, HMN_FPGA_PIO2_HI);
}

/* The partial sums, combined pairwise in a fixed tree. */
HMN_INLINE float hmnk_fpga_tree(float *acc) {
  for (int width = HMN_FPGA_PARTIALS / 2; width > 0; width /= 2)
    for (int p = 0; p < width; p++) {
      HMN_HLS_UNROLL
      acc[p] = acc[p] + acc[p + width];
    }
  return acc[0];
}

HMN_INLINE void hmnk_fpga_clear(float *acc) {
  for (int p = 0; p < HMN_FPGA_PARTIALS; p++) {
    HMN_HLS_UNROLL
    acc[p] = 0.0f;
  }
}

/* ---- load and store ---- */

/* The rule families' state into the on-chip arrays, each only where the
 * layer's family keeps it: the spike-timing traces decayed by one step
 * (they meet this step's spikes in hmnk_fpga_store_family), the rate,
 * the threshold and the scaling factor as they are. */
HMN_INLINE void hmnk_fpga_load_family(HMN_LOCAL hmnk_fpga_chip *chip, const hmnk_fpga_layer *L,
                                      HMN_GLOBAL const float *tr_pre,
                                      HMN_GLOBAL const float *tr_post,
                                      HMN_GLOBAL const float *rate,
                                      HMN_GLOBAL const float *theta,
                                      HMN_GLOBAL const float *scale) {
  if (hmnk_rule_timing(L->rule)) {
    HMN_XCL_PIPELINE
    for (hmnk_u32 i = 0; i < L->n_in; i++) {
      HMN_PIPELINE
      chip->r1[i] = hmnk_trace_decay(tr_pre[i], L->lam_plus);
      chip->r2[i] = hmnk_trace_decay(tr_pre[L->n_in + i], L->lam_x);
    }
    HMN_XCL_PIPELINE
    for (hmnk_u32 j = 0; j < L->n_out; j++) {
      HMN_PIPELINE
      chip->o1[j] = hmnk_trace_decay(tr_post[j], L->lam_minus);
      chip->o2[j] = hmnk_trace_decay(tr_post[L->n_out + j], L->lam_y);
    }
  }
  if (hmnk_rule_rated(L->rule, L->scaling)) {
    HMN_XCL_PIPELINE
    for (hmnk_u32 j = 0; j < L->n_out; j++) {
      HMN_PIPELINE
      chip->rate[j] = rate[j];
      chip->theta[j] = theta[j];
      chip->scale[j] = scale[j];
    }
  }
}

/* The families' state after the synapses: this step's spikes x_i(t),
 * z_j(t) into the traces, the rate from z_j(t), BCM's threshold from
 * that rate, the scaling factor of this step. */
HMN_INLINE void hmnk_fpga_store_family(HMN_LOCAL const hmnk_fpga_chip *chip,
                                       const hmnk_fpga_layer *L, hmnk_u32 slot,
                                       HMN_GLOBAL float *tr_pre, HMN_GLOBAL float *tr_post,
                                       HMN_GLOBAL float *rate, HMN_GLOBAL float *theta,
                                       HMN_GLOBAL float *scale) {
  if (hmnk_rule_timing(L->rule)) {
    HMN_XCL_PIPELINE
    for (hmnk_u32 i = 0; i < L->n_in; i++) {
      HMN_PIPELINE
      float x_i = chip->x_hist[slot * (hmnk_u32)HMN_FPGA_MAX_IN + i];
      tr_pre[i] = hmnk_trace_spike(L->pairing, chip->r1[i], x_i);
      tr_pre[L->n_in + i] = hmnk_trace_spike(L->pairing, chip->r2[i], x_i);
    }
    HMN_XCL_PIPELINE
    for (hmnk_u32 j = 0; j < L->n_out; j++) {
      HMN_PIPELINE
      tr_post[j] = hmnk_trace_spike(L->pairing, chip->o1[j], chip->z[j]);
      tr_post[L->n_out + j] = hmnk_trace_spike(L->pairing, chip->o2[j], chip->z[j]);
    }
  }
  if (hmnk_rule_rated(L->rule, L->scaling)) {
    HMN_XCL_PIPELINE
    for (hmnk_u32 j = 0; j < L->n_out; j++) {
      HMN_PIPELINE
      float nu = hmnk_rate(chip->rate[j], L->lam_rate, chip->z[j]);
      rate[j] = nu;
      if (L->rule == HMN_RULE_BCM)
        theta[j] = hmnk_bcm_theta(chip->theta[j], L->lam_theta, nu, L->bcm_power, L->theta_min,
                                  L->theta_max);
      if (L->scaling != 0) scale[j] = chip->scale[j];
    }
  }
}

/* Burst reads of the small state into the on-chip arrays. */
HMN_INLINE void hmnk_fpga_load(HMN_LOCAL hmnk_fpga_chip *chip, const hmnk_fpga_layer *L,
                               HMN_GLOBAL const float *x_hist, HMN_GLOBAL const float *h,
                               HMN_GLOBAL const float *b, HMN_GLOBAL const float *c,
                               HMN_GLOBAL const float *astro, HMN_GLOBAL const float *sign) {
  hmnk_u32 row = 0, i = 0;
  HMN_XCL_PIPELINE
  for (hmnk_u32 k = 0; k < L->delay * L->n_in; k++) {
    HMN_PIPELINE
    chip->x_hist[row * (hmnk_u32)HMN_FPGA_MAX_IN + i] = x_hist[k];
    if (++i == L->n_in) {
      i = 0;
      row++;
    }
  }
  HMN_XCL_PIPELINE
  for (hmnk_u32 k = 0; k < L->n_in; k++) {
    HMN_PIPELINE
    chip->h[k] = h[k];
  }
  HMN_XCL_PIPELINE
  for (hmnk_u32 j = 0; j < L->n_out; j++) {
    HMN_PIPELINE
    chip->b_old[j] = b[j];
    chip->c_old[j] = c[j];
    chip->astro[j] = astro[j];
    chip->sign[j] = sign[j];
  }
}

/* The changed per-neuron state and the statistics, back to memory. */
HMN_INLINE void hmnk_fpga_store(HMN_LOCAL const hmnk_fpga_chip *chip, const hmnk_fpga_layer *L,
                                HMN_GLOBAL float *b, HMN_GLOBAL float *c, HMN_GLOBAL float *z,
                                HMN_GLOBAL float *astro, HMN_GLOBAL hmnk_u32 *stats,
                                hmnk_u64 applied, hmnk_u64 candidates) {
  HMN_XCL_PIPELINE
  for (hmnk_u32 j = 0; j < L->n_out; j++) {
    HMN_PIPELINE
    b[j] = chip->b[j];
    c[j] = chip->c[j];
    z[j] = chip->z[j];
    astro[j] = chip->astro[j];
    stats[HMN_FPGA_S_G_J + j] = hmnk_as_uint(chip->g_j[j]);
  }
  stats[HMN_FPGA_S_APPLIED_LO] = (hmnk_u32)applied;
  stats[HMN_FPGA_S_APPLIED_HI] = (hmnk_u32)(applied >> 32);
  stats[HMN_FPGA_S_CANDIDATES_LO] = (hmnk_u32)candidates;
  stats[HMN_FPGA_S_CANDIDATES_HI] = (hmnk_u32)(candidates >> 32);
}

/* Step 1's push of x(t) into ring row `slot`, and step 3's h, on chip,
 * and with `write_state` in memory too (a forward launch writes none). */
HMN_INLINE void hmnk_fpga_inputs(HMN_LOCAL hmnk_fpga_chip *chip, const hmnk_fpga_layer *L,
                                 hmnk_u32 slot, HMN_GLOBAL const float *x_in,
                                 HMN_GLOBAL float *x_hist, HMN_GLOBAL float *h,
                                 hmnk_u32 write_state) {
  HMN_XCL_PIPELINE
  for (hmnk_u32 i = 0; i < L->n_in; i++) {
    HMN_PIPELINE
    float x_i = x_in[i];
    chip->x_hist[slot * (hmnk_u32)HMN_FPGA_MAX_IN + i] = x_i;
    float h_i = hmnk_ema(chip->h[i], L->emb_rate, x_i);
    chip->h[i] = h_i;
    if (write_state != 0u) {
      x_hist[slot * L->n_in + i] = x_i;
      h[i] = h_i;
    }
  }
}

/* ---- the rows ---- */

/* Eq 1's sum over i of w_ji xhat_ji for the row e_begin .. e_begin+n_in-1,
 * from the 512-bit words that cover it (a word shared with the next row
 * is read by both). */
HMN_INLINE float hmnk_fpga_row_sum(HMN_LOCAL const float *x_hist, HMN_GLOBAL const hmnk_wide *w,
                                   HMN_GLOBAL const hmnk_wide_u8 *tau, hmnk_u32 e_begin,
                                   const hmnk_fpga_layer *L, hmnk_u32 slot) {
  float acc[HMN_FPGA_PARTIALS];
  hmnk_fpga_clear(acc);
  hmnk_u32 e_end = e_begin + L->n_in;
  hmnk_u32 first = e_begin / HMN_WIDE_LANES, last = (e_end - 1u) / HMN_WIDE_LANES;
  HMN_XCL_PIPELINE
  for (hmnk_u32 word = first; word <= last; word++) {
    HMN_PIPELINE
    float w_l[HMN_WIDE_LANES];
    hmnk_u8 tau_l[HMN_WIDE_LANES];
    hmnk_wide_get(w, word, w_l);
    hmnk_wide_get_u8(tau, word, tau_l);
    hmnk_u32 slice = ((word - first) & (HMN_FPGA_INTERLEAVE - 1u)) * HMN_WIDE_LANES;
    HMN_XCL_UNROLL
    for (hmnk_u32 l = 0; l < HMN_WIDE_LANES; l++) {
      HMN_HLS_UNROLL
      hmnk_u32 e = word * HMN_WIDE_LANES + l;
      if (e >= e_begin && e < e_end) {
        hmnk_u32 row = hmnk_delay_row(slot, tau_l[l], L->delay);
        float xhat = x_hist[row * (hmnk_u32)HMN_FPGA_MAX_IN + (e - e_begin)];
        acc[slice + l] = acc[slice + l] + w_l[l] * xhat;
      }
    }
  }
  return hmnk_fpga_tree(acc);
}

/* Steps 1-3 and 11 for every neuron: z_j, c_j, and b_j from this step's
 * c_j (the forward pass itself uses b_j from before the update). */
HMN_INLINE void hmnk_fpga_forward_rows(HMN_LOCAL const float *x_hist, HMN_LOCAL const float *b_old,
                                       HMN_LOCAL const float *c_old, HMN_LOCAL float *z,
                                       HMN_LOCAL float *c, HMN_LOCAL float *b,
                                       HMN_GLOBAL const hmnk_wide *w,
                                       HMN_GLOBAL const hmnk_wide_u8 *tau,
                                       const hmnk_fpga_layer *L, const hmnk_fpga_now *now) {
  for (hmnk_u32 j = 0; j < L->n_out; j++) {
    float sum = hmnk_fpga_row_sum(x_hist, w, tau, j * L->n_in, L, now->slot);
    float noise = L->noise_sigma * hmnk_gaussian(now->at, j);
    float z_j = hmnk_activation(L->activation, hmnk_forward(sum, b_old[j], noise));
    float c_j = hmnk_ema(c_old[j], L->ctx_rate, z_j);
    z[j] = z_j;
    c[j] = c_j;
    b[j] = hmnk_bias_homeostasis(b_old[j], L->bias_rate, L->target_rate, c_j);
  }
}

/* Step 5's reductions for neuron j: the row maximum of the logits
 * s_ji = beta h_i c_j (exact in any order), then the softmax denominator
 * sum_i exp(s_ji - max) in interleaved partials. */
HMN_INLINE void hmnk_fpga_attention_row(HMN_LOCAL const float *h, hmnk_u32 n_in, float beta,
                                        float c_j, float *s_max, float *denom) {
  float m[HMN_WIDE_LANES];
  for (int l = 0; l < HMN_WIDE_LANES; l++) {
    HMN_HLS_UNROLL
    m[l] = -HMN_F32_MAX;
  }
  HMN_XCL_PIPELINE
  for (hmnk_u32 i0 = 0; i0 < n_in; i0 += HMN_WIDE_LANES) {
    HMN_PIPELINE
    HMN_XCL_UNROLL
    for (hmnk_u32 l = 0; l < HMN_WIDE_LANES; l++) {
      HMN_HLS_UNROLL
      if (i0 + l < n_in) {
        float s = hmnk_attention_logit(beta, h[i0 + l], c_j);
        if (s > m[l]) m[l] = s;
      }
    }
  }
  float row_max = -HMN_F32_MAX;
  for (int l = 0; l < HMN_WIDE_LANES; l++)
    if (m[l] > row_max) row_max = m[l];
  float acc[HMN_FPGA_PARTIALS];
  hmnk_fpga_clear(acc);
  HMN_XCL_PIPELINE
  for (hmnk_u32 i0 = 0; i0 < n_in; i0 += HMN_WIDE_LANES) {
    HMN_PIPELINE
    hmnk_u32 slice = ((i0 / HMN_WIDE_LANES) & (HMN_FPGA_INTERLEAVE - 1u)) * HMN_WIDE_LANES;
    HMN_XCL_UNROLL
    for (hmnk_u32 l = 0; l < HMN_WIDE_LANES; l++) {
      HMN_HLS_UNROLL
      if (i0 + l < n_in)
        acc[slice + l] = acc[slice + l] + hmnk_exp(hmnk_attention_logit(beta, h[i0 + l], c_j) -
                                                   row_max);
    }
  }
  *s_max = row_max;
  *denom = hmnk_fpga_tree(acc);
}

/* Step 6 per neuron (astrocyte, G_j), step 4's post factor (z_j, or
 * 1[j = a] - pi_j with an action) and step 5's row reductions. */
HMN_INLINE void hmnk_fpga_neuron_rows(HMN_LOCAL const float *h, HMN_LOCAL const float *z,
                                      HMN_LOCAL const float *c, HMN_LOCAL const float *sign,
                                      HMN_LOCAL float *astro, HMN_LOCAL float *g_j,
                                      HMN_LOCAL float *post, HMN_LOCAL float *attn_max,
                                      HMN_LOCAL float *attn_factor, HMN_LOCAL const float *rate,
                                      HMN_LOCAL float *scale, HMN_LOCAL float *row_factor,
                                      const hmnk_fpga_layer *L, float g, float e_ne,
                                      hmnk_u32 action1, HMN_GLOBAL const float *pi) {
  for (hmnk_u32 j = 0; j < L->n_out; j++) {
    /* (pi is read only with an action: a Hebbian step leaves it zero) */
    post[j] = hmnk_post(action1, j, z[j], action1 != 0u ? pi[j] : 0.0f);
    /* Synaptic scaling: S_j from the rate of before this step, and the
     * row's weights times new S_j / old S_j. */
    if (L->scaling != 0) {
      float s_new = hmnk_synaptic_scale(scale[j], L->lam_scale, rate[j], L->scale_target,
                                        L->scale_max);
      row_factor[j] = s_new / scale[j];
      scale[j] = s_new;
    }
    float astro_j = astro[j];
    float m_astro = hmnk_astrocyte(&astro_j, L->astro_decay, L->astro_gain, e_ne);
    astro[j] = astro_j;
    g_j[j] = hmnk_neuron_modulation(sign[j], g, L->astro_lambda, m_astro);
    if (L->attention != HMN_ATTN_OFF) {
      float s_max, denom;
      hmnk_fpga_attention_row(h, L->n_in, L->beta_attn, c[j], &s_max, &denom);
      attn_max[j] = s_max;
      attn_factor[j] = hmnk_attention_factor(L->attention, denom, (float)L->n_in);
    }
  }
}

/* The two row stages as one dataflow region: the neuron stage takes row
 * j as soon as the forward stage has written c_j. */
HMN_XCL_DATAFLOW
HMN_INLINE void hmnk_fpga_rows(HMN_LOCAL hmnk_fpga_chip *chip, HMN_GLOBAL const hmnk_wide *w,
                               HMN_GLOBAL const hmnk_wide_u8 *tau, const hmnk_fpga_layer *L,
                               const hmnk_fpga_now *now, float g, float e_ne,
                               HMN_GLOBAL const float *pi) {
  HMN_HLS_DATAFLOW
  hmnk_fpga_forward_rows(chip->x_hist, chip->b_old, chip->c_old, chip->z, chip->c, chip->b, w,
                         tau, L, now);
  hmnk_fpga_neuron_rows(chip->h, chip->z, chip->c, chip->sign, chip->astro, chip->g_j,
                        chip->post, chip->attn_max, chip->attn_factor, chip->rate, chip->scale,
                        chip->row_factor, L, g, e_ne, now->action1, pi);
}

/* ---- the synapses ---- */

/* Burst-read `words` words from word `first` into the block buffers. */
HMN_INLINE void hmnk_fpga_read_block(HMN_GLOBAL const hmnk_wide *w, HMN_GLOBAL const hmnk_wide *psi_f,
                                     HMN_GLOBAL const hmnk_wide *psi_s,
                                     HMN_GLOBAL const hmnk_wide *phi,
                                     HMN_GLOBAL const hmnk_wide_u8 *tau, hmnk_u32 first,
                                     hmnk_u32 words, HMN_LOCAL float *blk_w,
                                     HMN_LOCAL float *blk_pf, HMN_LOCAL float *blk_ps,
                                     HMN_LOCAL float *blk_phi, HMN_LOCAL hmnk_u8 *blk_tau) {
  HMN_XCL_PIPELINE
  for (hmnk_u32 k = 0; k < words; k++) {
    HMN_PIPELINE
    float w_l[HMN_WIDE_LANES], pf_l[HMN_WIDE_LANES], ps_l[HMN_WIDE_LANES], phi_l[HMN_WIDE_LANES];
    hmnk_u8 tau_l[HMN_WIDE_LANES];
    hmnk_wide_get(w, first + k, w_l);
    hmnk_wide_get(psi_f, first + k, pf_l);
    hmnk_wide_get(psi_s, first + k, ps_l);
    hmnk_wide_get(phi, first + k, phi_l);
    hmnk_wide_get_u8(tau, first + k, tau_l);
    HMN_XCL_UNROLL
    for (hmnk_u32 l = 0; l < HMN_WIDE_LANES; l++) {
      HMN_HLS_UNROLL
      hmnk_u32 idx = k * HMN_WIDE_LANES + l;
      blk_w[idx] = w_l[l];
      blk_pf[idx] = pf_l[l];
      blk_ps[idx] = ps_l[l];
      blk_phi[idx] = phi_l[l];
      blk_tau[idx] = tau_l[l];
    }
  }
}

/* Steps 4-10 for the synapses of one block, 16 per clock. Lanes past the
 * last synapse (the padding of the last word) pass through unchanged.
 * `applied` and `candidates` get this block's counts. */
HMN_INLINE void hmnk_fpga_update_block(
    HMN_LOCAL const float *blk_w, HMN_LOCAL const float *blk_pf, HMN_LOCAL const float *blk_ps,
    HMN_LOCAL const float *blk_phi, HMN_LOCAL const hmnk_u8 *blk_tau, HMN_LOCAL float *out_w,
    HMN_LOCAL float *out_pf, HMN_LOCAL float *out_ps, HMN_LOCAL const float *x_hist,
    HMN_LOCAL const float *h, HMN_LOCAL const float *post, HMN_LOCAL const float *c,
    HMN_LOCAL const float *g_j, HMN_LOCAL const float *attn_max,
    HMN_LOCAL const float *attn_factor, HMN_LOCAL const hmnk_fpga_chip *fam,
    const hmnk_fpga_layer *L, const hmnk_fpga_now *now, hmnk_u32 first, hmnk_u32 words,
    hmnk_u32 *applied, hmnk_u32 *candidates) {
  int timing = hmnk_rule_timing(L->rule);
  hmnk_u32 n_syn = L->n_in * L->n_out;
  hmnk_u32 e0 = first * HMN_WIDE_LANES;
  hmnk_u32 j = e0 / L->n_in, i = e0 - j * L->n_in;
  hmnk_u32 n_applied = 0, n_candidates = 0;
  HMN_XCL_PIPELINE
  for (hmnk_u32 k = 0; k < words; k++) {
    HMN_PIPELINE
    /* Step 9's draws: Philox block (t, e/4, stochastic) serves synapses
     * 4(e/4) .. 4(e/4)+3, so a word of 16 needs four blocks. */
    philox4x32_ctr_t r[HMN_WIDE_LANES / 4];
    HMN_XCL_UNROLL
    for (hmnk_u32 q = 0; q < HMN_WIDE_LANES / 4; q++) {
      HMN_HLS_UNROLL
      philox4x32_ctr_t zero = {{0u, 0u, 0u, 0u}};
      r[q] = zero;
      if (L->stochastic)
        r[q] = hmnk_philox_block(now->at, (first + k) * (HMN_WIDE_LANES / 4) + q,
                                 HMN_STREAM_STOCHASTIC);
    }
    HMN_XCL_UNROLL
    for (hmnk_u32 l = 0; l < HMN_WIDE_LANES; l++) {
      HMN_HLS_UNROLL
      hmnk_u32 idx = k * HMN_WIDE_LANES + l;
      float w_e = blk_w[idx], pf = blk_pf[idx], ps = blk_ps[idx];
      if ((first + k) * HMN_WIDE_LANES + l < n_syn) {
        /* Step 4, the family's eligibility kappa_ji (hmnk_family_kappa;
         * Hebbian xhat_ji post_j), from the traces, rate and threshold
         * the family keeps (zeros where it keeps none). */
        hmnk_u32 row = hmnk_delay_row(now->slot, blk_tau[idx], L->delay);
        float xhat = x_hist[row * (hmnk_u32)HMN_FPGA_MAX_IN + i];
        float x_now = x_hist[now->slot * (hmnk_u32)HMN_FPGA_MAX_IN + i];
        float kappa = hmnk_family_kappa(
            L->rule, L->a_plus, L->a_minus, L->a2_plus, L->a3_plus, L->a2_minus, L->a3_minus,
            L->hetero_ratio, xhat, x_now, timing ? fam->r1[i] : 0.0f, timing ? fam->r2[i] : 0.0f,
            timing ? fam->o1[j] : 0.0f, timing ? fam->o2[j] : 0.0f, post[j],
            L->rule == HMN_RULE_BCM ? fam->theta[j] : 0.0f);
        hmnk_composite_trace(&pf, &ps, L->lam_f, L->lam_s, kappa);
        float elig = hmnk_eligibility(L->rho_f, pf, L->rho_s, ps);
        /* Step 5. */
        float alpha = 1.0f;
        if (L->attention != HMN_ATTN_OFF)
          alpha = hmnk_local_attention(
              attn_factor[j], hmnk_attention_numerator(
                                  hmnk_attention_logit(L->beta_attn, h[i], c[j]), attn_max[j]));
        /* Steps 7 and 8. */
        float dw = hmnk_preliminary_update(
            hmnk_update_rate(now->eta_local, now->eta_global, g_j[j]), alpha * elig);
        float phi = blk_phi[idx];
        dw = dw * hmnk_phase_gate(L->phase_gate, now->cos_phase, now->sin_phase,
                                  hmnk_fpga_cos(phi, 0.0f), hmnk_fpga_sin(phi, 0.0f));
        if (dw != 0.0f) n_candidates++;
        /* Step 9. */
        if (L->stochastic)
          dw = hmnk_stochastic_apply(1, dw, hmnk_uniform01(r[l / 4u].v[l % 4u]),
                                     hmnk_apply_probability_inv(L->beta_p, L->theta_p, dw));
        if (dw != 0.0f) n_applied++;
        /* Step 10, after synaptic scaling's factor. */
        if (L->scaling != 0) w_e = hmnk_scaled_weight(w_e, fam->row_factor[j]);
        w_e = hmnk_clamp_weight(w_e, dw, L->w_min, L->w_max);
      }
      out_w[idx] = w_e;
      out_pf[idx] = pf;
      out_ps[idx] = ps;
      if (++i == L->n_in) {
        i = 0;
        j++;
      }
    }
  }
  *applied = n_applied;
  *candidates = n_candidates;
}

/* Burst-write the updated block. */
HMN_INLINE void hmnk_fpga_write_block(HMN_GLOBAL hmnk_wide *w, HMN_GLOBAL hmnk_wide *psi_f,
                                      HMN_GLOBAL hmnk_wide *psi_s, hmnk_u32 first, hmnk_u32 words,
                                      HMN_LOCAL const float *out_w, HMN_LOCAL const float *out_pf,
                                      HMN_LOCAL const float *out_ps) {
  HMN_XCL_PIPELINE
  for (hmnk_u32 k = 0; k < words; k++) {
    HMN_PIPELINE
    float w_l[HMN_WIDE_LANES], pf_l[HMN_WIDE_LANES], ps_l[HMN_WIDE_LANES];
    HMN_XCL_UNROLL
    for (hmnk_u32 l = 0; l < HMN_WIDE_LANES; l++) {
      HMN_HLS_UNROLL
      hmnk_u32 idx = k * HMN_WIDE_LANES + l;
      w_l[l] = out_w[idx];
      pf_l[l] = out_pf[idx];
      ps_l[l] = out_ps[idx];
    }
    hmnk_wide_set(w, first + k, w_l);
    hmnk_wide_set(psi_f, first + k, pf_l);
    hmnk_wide_set(psi_s, first + k, ps_l);
  }
}

/* One block as a dataflow region: reading the next words overlaps the
 * update of the previous ones and the writing of those before. */
HMN_XCL_DATAFLOW
HMN_INLINE void hmnk_fpga_synapse_block(HMN_LOCAL hmnk_fpga_chip *chip, HMN_GLOBAL hmnk_wide *w,
                                        HMN_GLOBAL hmnk_wide *psi_f, HMN_GLOBAL hmnk_wide *psi_s,
                                        HMN_GLOBAL const hmnk_wide *phi,
                                        HMN_GLOBAL const hmnk_wide_u8 *tau,
                                        const hmnk_fpga_layer *L, const hmnk_fpga_now *now,
                                        hmnk_u32 first, hmnk_u32 words, hmnk_u32 *applied,
                                        hmnk_u32 *candidates) {
  HMN_HLS_DATAFLOW
  hmnk_fpga_read_block(w, psi_f, psi_s, phi, tau, first, words, chip->blk_w, chip->blk_pf,
                       chip->blk_ps, chip->blk_phi, chip->blk_tau);
  hmnk_fpga_update_block(chip->blk_w, chip->blk_pf, chip->blk_ps, chip->blk_phi, chip->blk_tau,
                         chip->out_w, chip->out_pf, chip->out_ps, chip->x_hist, chip->h, chip->post,
                         chip->c, chip->g_j, chip->attn_max, chip->attn_factor, chip, L, now,
                         first, words, applied, candidates);
  hmnk_fpga_write_block(w, psi_f, psi_s, first, words, chip->out_w, chip->out_pf, chip->out_ps);
}

/* ---- the two launches' ends ---- */

/* A forward launch's end: z into the statistics, after G_j. */
HMN_INLINE void hmnk_fpga_forward_out(HMN_LOCAL const hmnk_fpga_chip *chip,
                                      const hmnk_fpga_layer *L, HMN_GLOBAL hmnk_u32 *stats) {
  HMN_XCL_PIPELINE
  for (hmnk_u32 j = 0; j < L->n_out; j++) {
    HMN_PIPELINE
    stats[HMN_FPGA_S_G_J + L->n_out + j] = hmnk_as_uint(chip->z[j]);
  }
}

/* A step's end: steps 4-10 over the synapse blocks, and the store. */
HMN_INLINE void hmnk_fpga_learn(HMN_LOCAL hmnk_fpga_chip *chip, HMN_GLOBAL hmnk_wide *w,
                                HMN_GLOBAL hmnk_wide *psi_f, HMN_GLOBAL hmnk_wide *psi_s,
                                HMN_GLOBAL const hmnk_wide *phi,
                                HMN_GLOBAL const hmnk_wide_u8 *tau, HMN_GLOBAL float *b,
                                HMN_GLOBAL float *c, HMN_GLOBAL float *z, HMN_GLOBAL float *astro,
                                HMN_GLOBAL float *tr_pre, HMN_GLOBAL float *tr_post,
                                HMN_GLOBAL float *rate, HMN_GLOBAL float *theta,
                                HMN_GLOBAL float *scale, const hmnk_fpga_layer *L,
                                const hmnk_fpga_now *now, HMN_GLOBAL hmnk_u32 *stats) {
  hmnk_u64 applied = 0, candidates = 0;
  hmnk_u32 n_words = (L->n_in * L->n_out + (HMN_WIDE_LANES - 1u)) / HMN_WIDE_LANES;
  for (hmnk_u32 first = 0; first < n_words; first += HMN_FPGA_BLOCK) {
    hmnk_u32 words = n_words - first < HMN_FPGA_BLOCK ? n_words - first : HMN_FPGA_BLOCK;
    hmnk_u32 block_applied = 0, block_candidates = 0;
    hmnk_fpga_synapse_block(chip, w, psi_f, psi_s, phi, tau, L, now, first, words,
                            &block_applied, &block_candidates);
    applied += block_applied;
    candidates += block_candidates;
  }
  hmnk_fpga_store(chip, L, b, c, z, astro, stats, applied, candidates);
  hmnk_fpga_store_family(chip, L, now->slot, tr_pre, tr_post, rate, theta, scale);
}

/* ---- the step ---- */

/* One whole step (SPEC section 3). The arguments are hmn_fpga_params.h's,
 * in its order; `chip` is the wrapper's on-chip storage. The step's
 * scalars come from the step record at the head of `inputs`; G and the
 * attention extremes are derived on chip, so the record's G, E_ASTRO,
 * PLAIN and BH_* words (the NDRange kernel's) are not read here. */
HMN_INLINE void hmnk_fpga_step(
    HMN_LOCAL hmnk_fpga_chip *chip, HMN_GLOBAL hmnk_wide *w, HMN_GLOBAL hmnk_wide *psi_f,
    HMN_GLOBAL hmnk_wide *psi_s, HMN_GLOBAL const hmnk_wide *phi,
    HMN_GLOBAL const hmnk_wide_u8 *tau, HMN_GLOBAL float *x_hist, HMN_GLOBAL float *h,
    HMN_GLOBAL float *b, HMN_GLOBAL float *c, HMN_GLOBAL float *z, HMN_GLOBAL float *astro,
    HMN_GLOBAL const float *sign, HMN_GLOBAL const float *kappa, HMN_GLOBAL const float *w_k,
    HMN_GLOBAL float *tr_pre, HMN_GLOBAL float *tr_post, HMN_GLOBAL float *rate,
    HMN_GLOBAL float *theta, HMN_GLOBAL float *scale, HMN_GLOBAL const hmnk_u32 *params,
    HMN_GLOBAL const hmnk_u32 *inputs, HMN_GLOBAL hmnk_u32 *stats) {
  hmnk_fpga_layer L;
  hmnk_read_layer(params, &L);
  hmnk_step S;
  hmnk_read_step(inputs, &S);
  hmnk_u32 slot = S.slot;
  /* The host checks the shape against the build's maxima; this guard only
   * keeps a wrong params buffer from writing past the on-chip arrays. */
  if (L.n_in == 0u || L.n_in > (hmnk_u32)HMN_FPGA_MAX_IN || L.n_out == 0u ||
      L.n_out > (hmnk_u32)HMN_FPGA_MAX_OUT || L.delay == 0u ||
      L.delay > (hmnk_u32)HMN_FPGA_MAX_DELAY || slot >= L.delay || L.astro_source >= L.n_mod)
    return;
  hmnk_fpga_now now;
  now.slot = slot;
  now.at.seed_lo = L.seed_lo;
  now.at.seed_hi = L.seed_hi;
  now.at.t_lo = S.t_lo;
  now.at.t_hi = S.t_hi;
  now.eta_local = S.eta_local;
  now.eta_global = S.eta_global;
  now.cos_phase = S.cos_phase;
  now.sin_phase = S.sin_phase;
  now.action1 = S.action1;

  /* After the record, the step's values are floats (x, E, C_global, pi). */
  HMN_GLOBAL const float *x_in = (HMN_GLOBAL const float *)(inputs + HMN_FPGA_IN_X);
  hmnk_fpga_load(chip, &L, x_hist, h, b, c, astro, sign);
  hmnk_fpga_load_family(chip, &L, tr_pre, tr_post, rate, theta, scale);
  hmnk_fpga_inputs(chip, &L, slot, x_in, x_hist, h, S.forward == 0u);
  /* The rows run on chip in both launches (in a forward launch E and
   * C_global are zeros, and what the rows compute beyond z stays on chip):
   * z is the step's own, from the one eq-1 code path. */
  HMN_GLOBAL const float *mod = x_in + L.n_in;
  float g = hmnk_global_modulation(L.global_attention, L.similarity, L.beta_global, kappa, w_k,
                                   mod, mod + L.n_mod, (int)L.n_mod, (int)L.d_ctx);
  hmnk_fpga_rows(chip, w, tau, &L, &now, g, mod[L.astro_source], mod + L.n_mod + L.d_ctx);
  if (S.forward != 0u)
    hmnk_fpga_forward_out(chip, &L, stats);
  else
    hmnk_fpga_learn(chip, w, psi_f, psi_s, phi, tau, b, c, z, astro, tr_pre, tr_post, rate, theta,
                    scale, &L, &now, stats);
}

#endif /* HMN_FPGA_H */
