/*
 * hmn_step.cl - one HMN step (SPEC section 3) as one kernel launch:
 *
 *   (host)            writes the step's record (hmn_iface.h), x(t) and
 *                     h(t) into one buffer, `inputs`
 *   hmn_step_row      one work-group per neuron j, in phases separated by
 *                     barriers: x(t) into the ring and h(t) into h (group
 *                     0); the delayed inputs and eq 1's sum; z_j, c_j, the
 *                     astrocyte, G_j and the bias (item 0); the attention
 *                     logits and their maximum; the softmax numerators and
 *                     denominator; the uniforms of the row's Philox
 *                     blocks; the per-synapse traces, eq 3, the phase
 *                     gate, the stochastic application and the clamp.
 *
 * Everything in the step that is per neuron is per work-group, so the
 * row's weights come from memory once for the forward pass and the update
 * together, and its delayed inputs, attention numerators and uniforms
 * stay in local memory between the phases.
 *
 * What depends only on the step's inputs has no kernel of its own: a CPU
 * driver such as PoCL spends several microseconds between two launches
 * (its threads sleep and wake), more than the work itself. Step 3's h(t)
 * = (1 - delta_h) h(t - 1) + delta_h x(t), step 5's extremes of beta h_i
 * (below) and step 6's shared G (eqs 6-7) are functions of x(t), E(t),
 * C_global(t) and of h, kappa and w_k, which change only through the
 * step itself: the host keeps copies of those three, forms these
 * (host/src/core/precompute.c; h with the same float expression as
 * hmnk_ema, so the same bits) and sends them in the step's record.
 * Forming them in every work-group would repeat row-independent work
 * N_out times; a kernel of their own would cost a launch.
 *
 * Synapses are handled HMN_VEC at a time in OpenCL vector types (the _v
 * twins of hmn_math.h and hmn_synapse.h): a CPU driver turns them into
 * SIMD instructions directly. Each work-item takes the chunks c, c + W,
 * c + 2W, ... of HMN_VEC consecutive synapses of the row (W = items per
 * group), so lane v of item w sees the synapses i with i mod L = w
 * HMN_VEC + v, L = W HMN_VEC = HMN_SUM_LANES. Every reduction is the same
 * fixed order: lane l adds the terms l, l + L, l + 2L, ... and the L lanes
 * then combine pairwise in a fixed tree. The bits depend on L only: not on
 * HMN_VEC, on the work-group size, on how groups are scheduled or on how
 * many threads run them.
 *
 * The host prepends a defines block with the layer's shape (HMN_N_IN,
 * HMN_N_OUT, HMN_N_MOD, HMN_D_CTX, HMN_DELAY) and any tunable it
 * overrides. The modes (activation, attention, phase gate, stochastic
 * application) come in the layer's parameter record (hmn_iface.h) like
 * the continuous parameters: each is one branch that is the same for
 * every work-item, and one build then serves every ablation of a shape
 * (global attention and its similarity act through the host's G).
 *
 * The rule family (SPEC section 8, docs/rules/) is the exception: its
 * terms cost per-synapse loads and arithmetic, so the host names it in the
 * defines block (HMN_FAMILY_STDP, HMN_FAMILY_TRIPLET, HMN_FAMILY_BCM,
 * HMN_WITH_HETERO, HMN_WITH_SCALING) and a Hebbian layer's program has
 * none of that code. Its parameters still come in the record.
 */
#ifndef HMN_SOURCES_INLINED
#include "hmn_port.h"
#include "hmn_math.h"
#include "hmn_synapse.h"
#endif

/* Contraction off here too, for compilers that scope it per file. */
#ifdef HMN_OPENCL_C
#pragma OPENCL FP_CONTRACT OFF
#else
#error "hmn_step.cl needs OpenCL work-groups (local memory and barriers)"
#endif

#ifndef HMN_LOCAL
#define HMN_LOCAL __local
#endif
#define HMN_BARRIER() barrier(CLK_LOCAL_MEM_FENCE)

/* ---- tunables ---- */

/* Partial sums per row reduction (L above), a power of two: lane l adds
 * terms l, l + L, l + 2L, ...; the lanes then combine pairwise. Changing
 * it changes result bits (within SPEC section 5's reduction bound). */
#ifndef HMN_SUM_LANES
#define HMN_SUM_LANES 64
#endif
/* HMN_VEC (hmn_math.h, default 16): synapses per vector operation. With
 * HMN_SUM_LANES it fixes the work-group size of hmn_step_row,
 * HMN_SUM_LANES / HMN_VEC; it changes scheduling only, never the bits. */

/* ---- the layer, from the host ---- */

/* The family's state: spike-timing traces, or the rate estimate (BCM's
 * threshold, synaptic scaling). */
#if defined(HMN_FAMILY_STDP) || defined(HMN_FAMILY_TRIPLET)
#define HMN_TIMING 1
#else
#define HMN_TIMING 0
#endif
#if defined(HMN_FAMILY_BCM) || defined(HMN_WITH_SCALING)
#define HMN_RATED 1
#else
#define HMN_RATED 0
#endif

#if !defined(HMN_N_IN) || !defined(HMN_N_OUT) || !defined(HMN_N_MOD) || !defined(HMN_D_CTX) || \
    !defined(HMN_DELAY)
#error "the host defines the layer shape: HMN_N_IN, HMN_N_OUT, HMN_N_MOD, HMN_D_CTX, HMN_DELAY"
#endif
#if (HMN_SUM_LANES & (HMN_SUM_LANES - 1)) != 0 || HMN_SUM_LANES < 1
#error "HMN_SUM_LANES must be a power of two"
#endif
#if HMN_SUM_LANES < HMN_VEC
#error "HMN_SUM_LANES must be at least HMN_VEC"
#endif

/* Items per row work-group, lanes, and the row in vector chunks: FULL
 * whole chunks, then a last one of TAIL synapses when HMN_VEC does not
 * divide N_in. */
#define HMN_ROW_ITEMS ((hmnk_u32)(HMN_SUM_LANES / HMN_VEC))
#define HMN_LANES ((hmnk_u32)HMN_SUM_LANES)
#define HMN_ROW_FULL ((hmnk_u32)HMN_N_IN / (hmnk_u32)HMN_VEC)
#define HMN_ROW_TAIL ((hmnk_u32)HMN_N_IN % (hmnk_u32)HMN_VEC)
#define HMN_ROW_CHUNKS (HMN_ROW_FULL + (HMN_ROW_TAIL != 0u ? 1u : 0u))
#define HMN_ROW_PADDED (HMN_ROW_CHUNKS * (hmnk_u32)HMN_VEC)
/* Whether every chunk of every row starts on a vector boundary: then the
 * per-synapse arrays are read and written as whole aligned vectors (a
 * CPU driver otherwise splits each unaligned 16-lane store in four). The
 * buffers themselves are aligned far beyond a vector. */
#define HMN_ROW_ALIGNED ((hmnk_u32)HMN_N_IN % (hmnk_u32)HMN_VEC == 0u)
/* Likewise the row's uniforms in u_row (below), which start at the row's
 * offset in its first Philox block, j N_in mod 4. */
#define HMN_UNIFORMS_ALIGNED (HMN_ROW_ALIGNED && (hmnk_u32)HMN_N_IN % 4u == 0u)
/* Uniforms of the row, 4 per Philox block (e = 4q .. 4q + 3, e = j N_in +
 * i), from the first block that touches the row: synapse i has uniform
 * i + (j N_in mod 4). One vector of blocks gives 4 HMN_VEC uniforms; the
 * count covers every vector read of the row. */
#define HMN_ROW_BLOCK_VECS ((HMN_ROW_PADDED + 3u + 4u * HMN_VEC - 1u) / (4u * HMN_VEC))
#define HMN_ROW_UNIFORMS (HMN_ROW_BLOCK_VECS * 4u * HMN_VEC)

/* The step's inputs, as the host writes them in one upload: the step's
 * record (HMN_STEP_SCALARS words, hmn_iface.h's HMN_IFACE_STEP, indices
 * HMN_SC_*), x(t), h(t), for the spike-timing families the presynaptic
 * traces r1 and r2 after this step's decay (before its spikes), and room
 * for N_out imposed z_j (read only where the record's ACTION is
 * HMN_STEP_CLAMP). The record travels with the inputs rather than as kernel
 * arguments, so that a step costs the host no argument calls. The traces
 * are the host's for the reason h(t) is: they follow from x alone, and
 * every row reads them. */
#define HMN_IN_X ((hmnk_u32)HMN_STEP_SCALARS)
#define HMN_IN_H ((hmnk_u32)HMN_STEP_SCALARS + (hmnk_u32)HMN_N_IN)
#define HMN_IN_R1 (HMN_IN_H + (hmnk_u32)HMN_N_IN)
#define HMN_IN_R2 (HMN_IN_R1 + (hmnk_u32)HMN_N_IN)
#define HMN_IN_VECTORS (HMN_TIMING ? 4u : 2u)
#define HMN_IN_Z ((hmnk_u32)HMN_STEP_SCALARS + HMN_IN_VECTORS * (hmnk_u32)HMN_N_IN)
/* One step's inputs take a whole number of 128-byte lines; a launch's
 * steps follow each other (the host's layout, backend_opencl.c). */
#define HMN_SLOT_FLOATS ((((HMN_IN_Z + (hmnk_u32)HMN_N_OUT) * 4u + 127u) / 128u) * 32u)

/* ---- helpers ---- */

/* Lane v of a vector, 0 .. HMN_VEC - 1. */
HMN_INLINE hmnk_vu hmnk_lane_index(void) {
#if HMN_VEC == 2
  return (hmnk_vu)(0, 1);
#elif HMN_VEC == 4
  return (hmnk_vu)(0, 1, 2, 3);
#elif HMN_VEC == 8
  return (hmnk_vu)(0, 1, 2, 3, 4, 5, 6, 7);
#else
  return (hmnk_vu)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
#endif
}

/* The `valid` first elements at p, and zeros after them: a whole vector
 * load where the chunk is whole (valid is then a constant HMN_VEC). p is
 * a chunk of a row, of x or of h: vector-aligned when HMN_ROW_ALIGNED. */
HMN_INLINE hmnk_vf hmnk_load_f(HMN_GLOBAL const float *p, hmnk_u32 valid) {
  if (valid == (hmnk_u32)HMN_VEC)
    return HMN_ROW_ALIGNED ? *(HMN_GLOBAL const hmnk_vf *)p : hmnk_vload(0, p);
  float lanes[HMN_VEC];
  for (hmnk_u32 v = 0; v < (hmnk_u32)HMN_VEC; v++) lanes[v] = v < valid ? p[v] : 0.0f;
  return hmnk_vload(0, lanes);
}

HMN_INLINE hmnk_vu hmnk_load_u8(HMN_GLOBAL const hmnk_u8 *p, hmnk_u32 valid) {
  if (valid == (hmnk_u32)HMN_VEC) return hmnk_vconvert_uint(hmnk_vload(0, p));
  hmnk_u8 lanes[HMN_VEC];
  for (hmnk_u32 v = 0; v < (hmnk_u32)HMN_VEC; v++) lanes[v] = v < valid ? p[v] : (hmnk_u8)0;
  return hmnk_vconvert_uint(hmnk_vload(0, lanes));
}

/* Store the `valid` first lanes of x at p. */
HMN_INLINE void hmnk_store_f(hmnk_vf x, HMN_GLOBAL float *p, hmnk_u32 valid) {
  if (valid == (hmnk_u32)HMN_VEC) {
    if (HMN_ROW_ALIGNED)
      *(HMN_GLOBAL hmnk_vf *)p = x;
    else
      hmnk_vstore(x, 0, p);
    return;
  }
  float lanes[HMN_VEC];
  hmnk_vstore(x, 0, lanes);
  for (hmnk_u32 v = 0; v < valid; v++) p[v] = lanes[v];
}

/* x(t - d) for step s of the launch (t its step, slot = t mod D), from
 * the launch's own inputs where step t - d is one of its steps, else from
 * the history as it was when the launch began. */
HMN_INLINE HMN_GLOBAL const float *hmnk_delayed_row(HMN_GLOBAL const float *inputs,
                                                    HMN_GLOBAL const float *hist, hmnk_u32 s,
                                                    hmnk_u32 d, hmnk_u32 slot) {
  return d <= s ? inputs + (s - d) * HMN_SLOT_FLOATS + HMN_IN_X
                : hist + hmnk_delay_row(slot, d, (hmnk_u32)HMN_DELAY) * (hmnk_u32)HMN_N_IN;
}

/* Step 1 for the synapses i .. i + valid - 1 of one row (zeros beyond) at
 * step s of the launch, given x(t) there: a delay of 0 takes x(t), any
 * other x(t - tau) (hmnk_delayed_row). A short delay line is read as
 * whole rows, one select per row; a long one element by element. */
HMN_INLINE hmnk_vf hmnk_delayed_input_v(HMN_GLOBAL const float *inputs,
                                        HMN_GLOBAL const float *hist, hmnk_u32 s, hmnk_vf x_now,
                                        hmnk_vu tau, hmnk_u32 slot, hmnk_u32 i, hmnk_u32 valid) {
#if HMN_DELAY <= 8
  hmnk_vf xhat = x_now;
#pragma unroll
  for (hmnk_u32 d = 1; d < (hmnk_u32)HMN_DELAY; d++) {
    hmnk_vf x = hmnk_load_f(hmnk_delayed_row(inputs, hist, s, d, slot) + i, valid);
    xhat = tau == d ? x : xhat;
  }
  return xhat;
#else
  hmnk_u32 taus[HMN_VEC];
  float now[HMN_VEC], lanes[HMN_VEC];
  hmnk_vstore(tau, 0, taus);
  hmnk_vstore(x_now, 0, now);
  for (hmnk_u32 v = 0; v < (hmnk_u32)HMN_VEC; v++)
    lanes[v] = v >= valid      ? 0.0f
               : taus[v] == 0u ? now[v]
                               : hmnk_delayed_row(inputs, hist, s, taus[v], slot)[i + v];
  return hmnk_vload(0, lanes);
#endif
}

/* The L lanes of a row reduction, combined pairwise in a fixed tree (by
 * one item, after a barrier). */
HMN_INLINE float hmnk_lanes_total(HMN_LOCAL float *lane) {
  for (hmnk_u32 width = HMN_LANES / 2u; width > 0u; width /= 2u)
    for (hmnk_u32 l = 0; l < width; l++) lane[l] = lane[l] + lane[l + width];
  return lane[0];
}

/* Step 9's uniforms for the blocks q .. q + HMN_VEC - 1, stored in
 * synapse order (block m word k at 4m + k). */
HMN_INLINE void hmnk_block_uniforms(hmnk_rng_at at, hmnk_u32 q, HMN_LOCAL float *out) {
  hmnk_vu r[4];
  hmnk_philox_block_v(at, q + hmnk_lane_index(), HMN_STREAM_STOCHASTIC, r);
  hmnk_vf u0 = hmnk_uniform01_v(r[0]), u1 = hmnk_uniform01_v(r[1]);
  hmnk_vf u2 = hmnk_uniform01_v(r[2]), u3 = hmnk_uniform01_v(r[3]);
#if HMN_VEC == 16
  /* The 4 x 16 transpose as vectors built from swizzled components:
   * constant lane selections that compilers turn into permutes, where
   * PoCL makes gathers of the private-array transpose below.
   * [tool: Oclgrind 21.10 mishandles shuffle(), so no explicit shuffles] */
#define HMN__T4(a, k) vstore4((float4)(u0.a, u1.a, u2.a, u3.a), k, out)
  HMN__T4(s0, 0); HMN__T4(s1, 1); HMN__T4(s2, 2); HMN__T4(s3, 3);
  HMN__T4(s4, 4); HMN__T4(s5, 5); HMN__T4(s6, 6); HMN__T4(s7, 7);
  HMN__T4(s8, 8); HMN__T4(s9, 9); HMN__T4(sa, 10); HMN__T4(sb, 11);
  HMN__T4(sc, 12); HMN__T4(sd, 13); HMN__T4(se, 14); HMN__T4(sf, 15);
#undef HMN__T4
#else
  /* A 4 x HMN_VEC transpose through private memory (compilers make
   * shuffles of it). [tool: Oclgrind 21.10 mishandles shuffle()] */
  float w[4][HMN_VEC];
  hmnk_vstore(u0, 0, w[0]);
  hmnk_vstore(u1, 0, w[1]);
  hmnk_vstore(u2, 0, w[2]);
  hmnk_vstore(u3, 0, w[3]);
  for (hmnk_u32 m = 0; m < (hmnk_u32)HMN_VEC; m++)
    for (hmnk_u32 k = 0; k < 4u; k++) out[4u * m + k] = w[k][m];
#endif
}

/* Steps 1-2 of row j at step s of a launch, the item's share: the
 * delayed inputs into xhat_row and eq 1's sum with the row's weights into
 * the item's lanes of lane_f, chunks interleaved over the items as the
 * fixed reduction order needs (hmnk_lanes_total combines them after a
 * barrier). Where h_out is not 0 (group 0 of the fused step) it also
 * stores h(t). The fused step and the forward-only kernel both run this,
 * so their z are the same bits. */
HMN_INLINE void hmnk_row_drive(HMN_GLOBAL const float *inputs, HMN_GLOBAL const float *hist,
                               hmnk_u32 s, hmnk_u32 slot, HMN_GLOBAL const float *w_row,
                               HMN_GLOBAL const hmnk_u8 *tau_row, hmnk_u32 item,
                               HMN_GLOBAL float *h_out, HMN_LOCAL hmnk_vf *xhat_row,
                               HMN_LOCAL float *lane_f) {
  HMN_GLOBAL const float *step_in = inputs + s * HMN_SLOT_FLOATS;
  HMN_GLOBAL const float *x_in = step_in + HMN_IN_X;
  HMN_GLOBAL const float *h_in = step_in + HMN_IN_H;
  hmnk_vf acc = (hmnk_vf)(0.0f);
  for (hmnk_u32 ch = item; ch < HMN_ROW_CHUNKS; ch += HMN_ROW_ITEMS) {
    hmnk_u32 i = ch * (hmnk_u32)HMN_VEC;
    hmnk_u32 valid = ch < HMN_ROW_FULL ? (hmnk_u32)HMN_VEC : HMN_ROW_TAIL;
    hmnk_vf x = hmnk_load_f(x_in + i, valid);
    if (h_out != 0) hmnk_store_f(hmnk_load_f(h_in + i, valid), h_out + i, valid);
    hmnk_vf xhat = hmnk_delayed_input_v(inputs, hist, s, x, hmnk_load_u8(tau_row + i, valid),
                                        slot, i, valid);
    xhat_row[ch] = xhat;
    acc = acc + hmnk_load_f(w_row + i, valid) * xhat;
  }
  hmnk_vstore(acc, 0, lane_f + item * (hmnk_u32)HMN_VEC);
}

/* Row scalars that item 0 computes for the whole work-group. */
#define HMN_ROW_Z 0
#define HMN_ROW_C 1
#define HMN_ROW_RATE 2   /* eq 3's rate, hmnk_update_rate */
#define HMN_ROW_MAX 3
#define HMN_ROW_FACTOR 4 /* eq 11's factor, hmnk_attention_factor */
#define HMN_ROW_POST 5   /* step 4's postsynaptic factor, hmnk_post */
#define HMN_ROW_O1 6     /* the spike-timing families' o1_j, decayed */
#define HMN_ROW_O2 7     /* the triplet rule's o2_j, decayed */
#define HMN_ROW_THETA 8  /* BCM's theta_j before this step's update */
#define HMN_ROW_SCALE 9  /* synaptic scaling's new S_j / old S_j */
#define HMN_ROW_SCALARS 10

/* The whole step (SPEC section 3, steps 1-11) for neuron j = the
 * work-group's id, for each of the launch's steps in turn (1 to 16 of
 * them, whose inputs follow each other from `inputs` on). Within a launch
 * the rows do not meet: every per-step term that spans rows (h(t), G, the
 * extremes of beta h) comes from the host, so each group can run all the
 * steps of its row without waiting for the others, and one launch pays
 * the driver's time between launches once for all its steps.
 *
 * The delay line is the one thing the rows share. x_hist holds two copies
 * of it, halves of D rows each: the launch reads the history before its
 * first step from one half (HMN_SC_HIST_HALF) and later steps' inputs
 * from `inputs`, and the groups bring the other half up to date for the
 * next launch, which reads it. That half was last brought up to date two
 * launches ago, so the rows of the steps of the launch before this one
 * (HMN_SC_PREV_STEPS; 0 after the host writes both halves) and of this
 * one are written into it. No group reads what another writes. Group 0
 * also stores each step's h(t) into h, and the presynaptic traces after
 * the step's spikes into pre_trace, which only the host's copies read.
 *
 * The families' per-neuron state (post_trace, rate, theta, scale) is the
 * row's own, kept by item 0. With a z clamp (the step record's ACTION is
 * HMN_STEP_CLAMP) z_j is the imposed value from the step's inputs instead
 * of eq 1's.
 *
 * Step 5's logits need the row maximum. Where every h_i is 0 or has a
 * normal beta h_i (the plain case), the logit s_ji = beta h_i c_j of
 * hmnk_attention_logit is finite((beta h_i) c_j) for every row, a monotone
 * function of beta h_i: the maximum is then the logit of the least or the
 * largest beta h_i, exactly, without a pass over the row.
 *
 * counts[2j] gets the number of applied updates of the row and
 * counts[2j + 1] the number of candidates (non-zero dw dagger), for the
 * step statistics. */
HMN_KERNEL HMN_WORK_GROUP(HMN_SUM_LANES / HMN_VEC) void hmn_step_row(
    HMN_GLOBAL float *HMN_RESTRICT w, HMN_GLOBAL float *HMN_RESTRICT psi_f,
    HMN_GLOBAL float *HMN_RESTRICT psi_s, HMN_GLOBAL const float *HMN_RESTRICT cos_phi,
    HMN_GLOBAL const float *HMN_RESTRICT sin_phi, HMN_GLOBAL const hmnk_u8 *HMN_RESTRICT tau,
    HMN_GLOBAL float *HMN_RESTRICT x_hist, HMN_GLOBAL float *HMN_RESTRICT h,
    HMN_GLOBAL float *HMN_RESTRICT b, HMN_GLOBAL float *HMN_RESTRICT z,
    HMN_GLOBAL float *HMN_RESTRICT c, HMN_GLOBAL float *HMN_RESTRICT astro,
    HMN_GLOBAL const float *HMN_RESTRICT sign, HMN_GLOBAL const float *HMN_RESTRICT inputs,
    HMN_GLOBAL float *HMN_RESTRICT g_j, HMN_GLOBAL hmnk_u32 *HMN_RESTRICT counts,
    HMN_GLOBAL const hmnk_u32 *HMN_RESTRICT params, HMN_GLOBAL const float *HMN_RESTRICT pi,
    HMN_GLOBAL float *HMN_RESTRICT pre_trace, HMN_GLOBAL float *HMN_RESTRICT post_trace,
    HMN_GLOBAL float *HMN_RESTRICT rate_nu, HMN_GLOBAL float *HMN_RESTRICT theta,
    HMN_GLOBAL float *HMN_RESTRICT scale) {
  /* Per chunk of the row: its delayed inputs; its attention logits, then
   * numerators, then candidate updates (zeros past the row's end). Then
   * the row's uniforms, and the lanes of the reductions. */
  HMN_LOCAL hmnk_vf xhat_row[HMN_ROW_CHUNKS];
  HMN_LOCAL hmnk_vf num_row[HMN_ROW_CHUNKS];
  HMN_LOCAL float u_row[HMN_ROW_UNIFORMS] __attribute__((aligned(sizeof(hmnk_vf))));
  HMN_LOCAL float lane_f[HMN_SUM_LANES] __attribute__((aligned(sizeof(hmnk_vf))));
  HMN_LOCAL hmnk_u32 lane_n[2 * HMN_SUM_LANES];
  HMN_LOCAL float row_s[HMN_ROW_SCALARS];

  /* The layer's parameters (the shape words are the build's defines). */
  hmnk_layer L;
  hmnk_read_layer(params, &L);

  /* (integers read as integers, so that no float load touches a NaN
   * pattern) */
  HMN_GLOBAL const hmnk_u32 *first_u = (HMN_GLOBAL const hmnk_u32 *)inputs;
  hmnk_u32 steps = first_u[HMN_SC_STEPS];
  hmnk_u32 hist_half = first_u[HMN_SC_HIST_HALF];
  hmnk_u32 half_floats = (hmnk_u32)HMN_DELAY * (hmnk_u32)HMN_N_IN;
  HMN_GLOBAL const float *hist = x_hist + hist_half * half_floats;
  HMN_GLOBAL float *hist_next = x_hist + (1u - hist_half) * half_floats;
  hmnk_u32 j = (hmnk_u32)get_group_id(0);
  hmnk_u32 item = (hmnk_u32)get_local_id(0);
  hmnk_u32 row0 = j * (hmnk_u32)HMN_N_IN;
  HMN_GLOBAL float *w_row = w + row0;
  HMN_GLOBAL float *pf_row = psi_f + row0;
  HMN_GLOBAL float *ps_row = psi_s + row0;
  HMN_GLOBAL const float *cphi_row = cos_phi + row0;
  HMN_GLOBAL const float *sphi_row = sin_phi + row0;
  HMN_GLOBAL const hmnk_u8 *tau_row = tau + row0;
  hmnk_vu lane = hmnk_lane_index();

  /* The next launch's history: row k of the rows to write holds the input
   * of the k-th step before this launch's last (this launch's steps, then
   * the launch before's), rows spread over the groups. */
  hmnk_u32 prev = first_u[HMN_SC_PREV_STEPS];
  hmnk_u32 hist_rows = steps + prev < (hmnk_u32)HMN_DELAY ? steps + prev : (hmnk_u32)HMN_DELAY;
  hmnk_u32 first_slot = first_u[HMN_SC_SLOT];
  for (hmnk_u32 k = j; k < hist_rows; k += (hmnk_u32)HMN_N_OUT) {
    /* Launch step s = steps - 1 - k, or the step m = k - steps + 1 before
     * the launch, whose slot is (first_slot - m) mod D. */
    hmnk_u32 m = k + 1u - steps; /* (used only when k >= steps) */
    hmnk_u32 hist_slot =
        k < steps ? first_u[(steps - 1u - k) * HMN_SLOT_FLOATS + HMN_SC_SLOT]
                  : hmnk_delay_row(first_slot, m % (hmnk_u32)HMN_DELAY, (hmnk_u32)HMN_DELAY);
    HMN_GLOBAL const float *from =
        k < steps ? inputs + (steps - 1u - k) * HMN_SLOT_FLOATS + HMN_IN_X
                  : hist + hist_slot * (hmnk_u32)HMN_N_IN;
    HMN_GLOBAL float *to = hist_next + hist_slot * (hmnk_u32)HMN_N_IN;
    for (hmnk_u32 ch = item; ch < HMN_ROW_CHUNKS; ch += HMN_ROW_ITEMS) {
      hmnk_u32 i = ch * (hmnk_u32)HMN_VEC;
      hmnk_u32 valid = ch < HMN_ROW_FULL ? (hmnk_u32)HMN_VEC : HMN_ROW_TAIL;
      hmnk_store_f(hmnk_load_f(from + i, valid), to + i, valid);
    }
  }

  for (hmnk_u32 s = 0; s < steps; s++) {
    HMN_GLOBAL const float *step_in = inputs + s * HMN_SLOT_FLOATS;
    HMN_GLOBAL const hmnk_u32 *step_u = (HMN_GLOBAL const hmnk_u32 *)step_in;
    hmnk_u32 slot = step_u[HMN_SC_SLOT];
    hmnk_rng_at at = {L.seed_lo, L.seed_hi, step_u[HMN_SC_T_LO], step_u[HMN_SC_T_HI]};
    HMN_GLOBAL const float *h_in = step_in + HMN_IN_H;

    /* Step 9's uniforms: one Philox block of the stochastic stream per 4
     * synapses, drawn whether or not the mode uses them. They depend on
     * nothing else, so they come first: pure arithmetic during which the
     * row's weights and delays, which the item's chunks of eq 1 below read
     * first, are on their way in (HMN_PREFETCH). A vector of blocks covers
     * 4 HMN_VEC synapses, that is 4 of the item's chunks. */
    hmnk_u32 q0 = row0 / 4u;
    for (hmnk_u32 k = item, n = 0; k < HMN_ROW_BLOCK_VECS; k += HMN_ROW_ITEMS, n++) {
      for (hmnk_u32 l = 0; l < 4u; l++) {
        hmnk_u32 ch = item + HMN_ROW_ITEMS * (4u * n + l);
        if (ch < HMN_ROW_CHUNKS) {
          HMN_PREFETCH_WRITE(w_row + ch * (hmnk_u32)HMN_VEC);
          HMN_PREFETCH(tau_row + ch * (hmnk_u32)HMN_VEC);
        }
      }
      hmnk_block_uniforms(at, q0 + k * (hmnk_u32)HMN_VEC, u_row + 4u * (hmnk_u32)HMN_VEC * k);
    }

    /* Steps 1-2: h(t) into h (group 0); the delayed inputs, and eq 1's
     * sum with the weights of before this step's update. */
    hmnk_row_drive(inputs, hist, s, slot, w_row, tau_row, item, j == 0u ? h : 0, xhat_row,
                   lane_f);
#if HMN_TIMING
    if (j == 0u) {
      for (hmnk_u32 ch = item; ch < HMN_ROW_CHUNKS; ch += HMN_ROW_ITEMS) {
        hmnk_u32 i = ch * (hmnk_u32)HMN_VEC;
        hmnk_u32 valid = ch < HMN_ROW_FULL ? (hmnk_u32)HMN_VEC : HMN_ROW_TAIL;
        hmnk_vf x = hmnk_load_f(step_in + HMN_IN_X + i, valid);
        hmnk_store_f(hmnk_trace_spike_v(L.pairing, hmnk_load_f(step_in + HMN_IN_R1 + i, valid), x),
                     pre_trace + i, valid);
        hmnk_store_f(hmnk_trace_spike_v(L.pairing, hmnk_load_f(step_in + HMN_IN_R2 + i, valid), x),
                     pre_trace + (hmnk_u32)HMN_N_IN + i, valid);
      }
    }
#endif
    HMN_BARRIER();

    /* Eq 1's drive and z_j, step 3's c_j, step 6's astrocyte and G_j, step
     * 11's bias (from this step's c_j; the drive used the old bias). */
    if (item == 0u) {
      float b_j = b[j];
      hmnk_u32 action1 = step_u[HMN_SC_ACTION];
      float z_j = hmnk_output(L.activation, L.noise_sigma, at, j, hmnk_lanes_total(lane_f), b_j);
      if (action1 == HMN_STEP_CLAMP) z_j = step_in[HMN_IN_Z + j];
      float c_j = hmnk_ema(c[j], L.ctx_rate, z_j);
      z[j] = z_j;
      c[j] = c_j;
      float astro_j = astro[j];
      float m_astro =
          hmnk_astrocyte(&astro_j, L.astro_decay, L.astro_gain, step_in[HMN_SC_E_ASTRO]);
      astro[j] = astro_j;
      float g = hmnk_neuron_modulation(sign[j], step_in[HMN_SC_G], L.astro_lambda, m_astro);
      g_j[j] = g;
      b[j] = hmnk_bias_homeostasis(b_j, L.bias_rate, L.target_rate, c_j);
      row_s[HMN_ROW_Z] = z_j;
      /* (pi is read only with an action: a Hebbian step leaves it unset) */
      row_s[HMN_ROW_POST] = action1 == HMN_STEP_CLAMP
                                ? z_j
                                : hmnk_post(action1, j, z_j, action1 != 0u ? pi[j] : 0.0f);
#if HMN_TIMING
      /* The row's postsynaptic traces: decayed for this step's kappa, then
       * meeting this step's spike. */
      float o1 = hmnk_trace_decay(post_trace[j], L.lam_minus);
      float o2 = hmnk_trace_decay(post_trace[(hmnk_u32)HMN_N_OUT + j], L.lam_y);
      row_s[HMN_ROW_O1] = o1;
      row_s[HMN_ROW_O2] = o2;
      post_trace[j] = hmnk_trace_spike(L.pairing, o1, z_j);
      post_trace[(hmnk_u32)HMN_N_OUT + j] = hmnk_trace_spike(L.pairing, o2, z_j);
#endif
#if HMN_RATED
      /* Scaling from the rate of before this step; then the rate, and
       * BCM's threshold from the new rate (kappa takes the old theta). */
      float nu = rate_nu[j];
#ifdef HMN_WITH_SCALING
      float s_old = scale[j];
      float s_new = hmnk_synaptic_scale(s_old, L.lam_scale, nu, L.scale_target, L.scale_max);
      row_s[HMN_ROW_SCALE] = s_new / s_old;
      scale[j] = s_new;
#endif
      nu = hmnk_rate(nu, L.lam_rate, z_j);
      rate_nu[j] = nu;
#ifdef HMN_FAMILY_BCM
      float theta_j = theta[j];
      row_s[HMN_ROW_THETA] = theta_j;
      theta[j] = hmnk_bcm_theta(theta_j, L.lam_theta, nu, L.bcm_power, L.theta_min, L.theta_max);
#endif
#endif
      row_s[HMN_ROW_C] = c_j;
      row_s[HMN_ROW_RATE] =
          hmnk_update_rate(step_in[HMN_SC_ETA_LOCAL], step_in[HMN_SC_ETA_GLOBAL], g);
      /* Step 5's row maximum in the plain case: the logit of the largest
       * beta h_i for c_j > 0, of the least for c_j < 0. */
      row_s[HMN_ROW_MAX] = hmnk_finite_logit(
          (c_j > 0.0f ? step_in[HMN_SC_BH_MAX] : step_in[HMN_SC_BH_MIN]) * c_j);
    }
    HMN_BARRIER();

    /* Step 5 outside the plain case: the logits s_ji = beta h_i c_j and
     * their row maximum (exact in any order). Lanes past the row's end hold
     * -FLT_MAX. */
    int attend = L.attention != HMN_ATTN_OFF;
    int plain = step_u[HMN_SC_PLAIN] != 0u;
    float c_j = row_s[HMN_ROW_C];
    if (attend && !plain) {
      hmnk_vf s_max = (hmnk_vf)(-HMN_F32_MAX);
      for (hmnk_u32 ch = item; ch < HMN_ROW_CHUNKS; ch += HMN_ROW_ITEMS) {
        hmnk_u32 i = ch * (hmnk_u32)HMN_VEC;
        hmnk_u32 valid = ch < HMN_ROW_FULL ? (hmnk_u32)HMN_VEC : HMN_ROW_TAIL;
        hmnk_vf s = hmnk_attention_logit_v(L.beta_attn, hmnk_load_f(h_in + i, valid), c_j);
        s = lane < valid ? s : (hmnk_vf)(-HMN_F32_MAX);
        num_row[ch] = s;
        s_max = s > s_max ? s : s_max;
      }
      hmnk_vstore(s_max, 0, lane_f + item * (hmnk_u32)HMN_VEC);
      HMN_BARRIER();
      if (item == 0u) {
        float m = lane_f[0];
        for (hmnk_u32 k = 1; k < HMN_LANES; k++) m = lane_f[k] > m ? lane_f[k] : m;
        row_s[HMN_ROW_MAX] = m;
      }
      HMN_BARRIER();
    }

    /* Step 5: the numerators exp(s_ji - max) and their sum, the softmax
     * denominator; with attention off every numerator is 1 and the scale
     * and denominator are 1, so alpha = 1 exactly. Lanes past the row's end
     * hold 0. This is arithmetic on what the group holds already: the row's
     * traces and phase terms, which the loop after the barrier streams, are
     * on their way in meanwhile. */
    float m = row_s[HMN_ROW_MAX];
    hmnk_vf acc = (hmnk_vf)(0.0f);
    for (hmnk_u32 ch = item; ch < HMN_ROW_CHUNKS; ch += HMN_ROW_ITEMS) {
      hmnk_u32 i = ch * (hmnk_u32)HMN_VEC;
      hmnk_u32 valid = ch < HMN_ROW_FULL ? (hmnk_u32)HMN_VEC : HMN_ROW_TAIL;
      HMN_PREFETCH_WRITE(pf_row + i);
      HMN_PREFETCH_WRITE(ps_row + i);
      HMN_PREFETCH(cphi_row + i);
      HMN_PREFETCH(sphi_row + i);
      hmnk_vf e = (hmnk_vf)(1.0f);
      if (attend) {
        hmnk_vf s = plain ? hmnk_finite_logit_v((L.beta_attn * hmnk_load_f(h_in + i, valid)) * c_j)
                          : num_row[ch];
        e = hmnk_attention_numerator_v(s, m);
      }
      e = lane < valid ? e : (hmnk_vf)(0.0f);
      num_row[ch] = e;
      acc = acc + e;
    }
    hmnk_vstore(acc, 0, lane_f + item * (hmnk_u32)HMN_VEC);
    HMN_BARRIER();
    if (item == 0u) {
      row_s[HMN_ROW_FACTOR] =
          hmnk_attention_factor(L.attention, hmnk_lanes_total(lane_f), (float)HMN_N_IN);
    }
    /* A global fence too: below, an item writes weights that another item
     * read for eq 1's sum (the chunks are assigned differently there). */
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);

    /* Steps 4-10 per synapse, in two loops over the item's chunks: the
     * traces, eligibility, attention, eq 3 and the gate give the candidate
     * dw dagger (kept in num_row, whose numerator it replaces); then step 9
     * and the clamp. One loop doing both carried a dependency chain through
     * two exponentials' worth of work per chunk, longer than a CPU's
     * out-of-order window holds several of; two shorter loops let it
     * overlap more chunks. Lanes past the row's end have
     * zero inputs and traces, so their dw is 0 and they count nowhere.
     *
     * Nothing here is a float reduction (the counts are integers), so each
     * item takes a contiguous run of chunks rather than every
     * HMN_ROW_ITEMS-th: eight arrays stream through these loops, and
     * sequential runs let the CPU's prefetchers keep up better than the
     * interleaved order, which the reductions above need. */
    float post_j = row_s[HMN_ROW_POST], rate = row_s[HMN_ROW_RATE];
    float cos_phase = step_in[HMN_SC_COS_PHASE], sin_phase = step_in[HMN_SC_SIN_PHASE];
    float factor = row_s[HMN_ROW_FACTOR];
#if HMN_TIMING
    float o1_j = row_s[HMN_ROW_O1];
#endif
#ifdef HMN_FAMILY_TRIPLET
    float o2_j = row_s[HMN_ROW_O2];
#endif
#ifdef HMN_FAMILY_BCM
    float theta_j = row_s[HMN_ROW_THETA];
#endif
#ifdef HMN_WITH_SCALING
    float row_factor = row_s[HMN_ROW_SCALE];
#endif
    hmnk_u32 u_first = row0 - 4u * q0;
    hmnk_vi applied = (hmnk_vi)(0), candidates = (hmnk_vi)(0);
    hmnk_u32 ch_per = (HMN_ROW_CHUNKS + HMN_ROW_ITEMS - 1u) / HMN_ROW_ITEMS;
    hmnk_u32 ch_end = (item + 1u) * ch_per < HMN_ROW_CHUNKS ? (item + 1u) * ch_per : HMN_ROW_CHUNKS;
    for (hmnk_u32 ch = item * ch_per; ch < ch_end; ch++) {
      hmnk_u32 i = ch * (hmnk_u32)HMN_VEC;
      hmnk_u32 valid = ch < HMN_ROW_FULL ? (hmnk_u32)HMN_VEC : HMN_ROW_TAIL;
      /* Step 4, eligibility kappa_ji of the family: Hebbian xhat_ji post_j
       * (hmnk_post), or the build's family, plus heterosynaptic depression
       * (zero past the row's end, where xhat is 0). */
      hmnk_vf pf = hmnk_load_f(pf_row + i, valid), ps = hmnk_load_f(ps_row + i, valid);
#if HMN_TIMING
      hmnk_vf x_now = hmnk_load_f(step_in + HMN_IN_X + i, valid);
      hmnk_vf r1 = hmnk_load_f(step_in + HMN_IN_R1 + i, valid);
#ifdef HMN_FAMILY_STDP
      hmnk_vf kappa = hmnk_kappa_stdp_v(L.a_plus, L.a_minus, r1, o1_j, x_now, post_j);
#else
      hmnk_vf r2 = hmnk_load_f(step_in + HMN_IN_R2 + i, valid);
      hmnk_vf kappa = hmnk_kappa_triplet_v(L.a2_plus, L.a3_plus, L.a2_minus, L.a3_minus, r1, r2,
                                           o1_j, o2_j, x_now, post_j);
#endif
#elif defined(HMN_FAMILY_BCM)
      hmnk_vf kappa = hmnk_kappa_bcm_v(xhat_row[ch], post_j, theta_j);
#else
      hmnk_vf kappa = hmnk_kappa_v(xhat_row[ch], post_j);
#endif
#ifdef HMN_WITH_HETERO
      kappa = kappa + (lane < valid ? hmnk_hetero_v(L.hetero_ratio, xhat_row[ch], post_j)
                                    : (hmnk_vf)(0.0f));
#endif
      hmnk_composite_trace_v(&pf, &ps, L.lam_f, L.lam_s, kappa);
      hmnk_store_f(pf, pf_row + i, valid);
      hmnk_store_f(ps, ps_row + i, valid);
      hmnk_vf elig = hmnk_eligibility_v(L.rho_f, pf, L.rho_s, ps);
      /* Steps 5, 7 and 8. */
      hmnk_vf alpha = hmnk_local_attention_v(factor, num_row[ch]);
      hmnk_vf dw = hmnk_preliminary_update_v(rate, alpha * elig);
      dw = dw * hmnk_phase_gate_v(L.phase_gate, cos_phase, sin_phase,
                                  hmnk_load_f(cphi_row + i, valid),
                                  hmnk_load_f(sphi_row + i, valid));
      candidates -= dw != 0.0f;
      num_row[ch] = dw;
    }
    for (hmnk_u32 ch = item * ch_per; ch < ch_end; ch++) {
      hmnk_u32 i = ch * (hmnk_u32)HMN_VEC;
      hmnk_u32 valid = ch < HMN_ROW_FULL ? (hmnk_u32)HMN_VEC : HMN_ROW_TAIL;
      /* Step 9. */
      hmnk_vf dw = num_row[ch];
      hmnk_vf u = HMN_UNIFORMS_ALIGNED ? *(HMN_LOCAL const hmnk_vf *)(u_row + i)
                                  : hmnk_vload(0, u_row + u_first + i);
      dw = hmnk_stochastic_apply_v(L.stochastic, dw, u,
                                   hmnk_apply_probability_inv_v(L.beta_p, L.theta_p, dw));
      applied -= dw != 0.0f;
      /* Step 10, from the scaled weight under synaptic scaling. */
      hmnk_vf w_old = hmnk_load_f(w_row + i, valid);
#ifdef HMN_WITH_SCALING
      w_old = hmnk_scaled_weight_v(w_old, row_factor);
#endif
      hmnk_store_f(hmnk_clamp_weight_v(w_old, dw, L.w_min, L.w_max), w_row + i, valid);
    }
    hmnk_vstore(hmnk_vas_uint(applied), 0, lane_n + item * (hmnk_u32)HMN_VEC);
    hmnk_vstore(hmnk_vas_uint(candidates), 0, lane_n + HMN_LANES + item * (hmnk_u32)HMN_VEC);
    HMN_BARRIER();
    if (item == 0u) {
      hmnk_u32 n_applied = 0, n_candidates = 0;
      for (hmnk_u32 k = 0; k < HMN_LANES; k++) {
        n_applied += lane_n[k];
        n_candidates += lane_n[HMN_LANES + k];
      }
      counts[2u * j] = n_applied;
      counts[2u * j + 1u] = n_candidates;
    }
    /* The next step reuses the local arrays. */
    HMN_BARRIER();
  }
}

/* Eq 1 alone for x(t) (hmn_layer_forward): z_j of the step the next fused
 * launch runs, into z_out, through the same hmnk_row_drive and
 * hmnk_output as hmn_step_row, with the same noise draw, so the fused step
 * then computes the same z. One work-group per neuron; `inputs` is one
 * step's slot (its record's SLOT, T_LO, T_HI and HIST_HALF, then x(t)),
 * and the history is the half the next launch reads. Nothing of the state
 * is written. */
HMN_KERNEL HMN_WORK_GROUP(HMN_SUM_LANES / HMN_VEC) void hmn_forward_row(
    HMN_GLOBAL const float *HMN_RESTRICT w, HMN_GLOBAL const hmnk_u8 *HMN_RESTRICT tau,
    HMN_GLOBAL const float *HMN_RESTRICT x_hist, HMN_GLOBAL const float *HMN_RESTRICT b,
    HMN_GLOBAL const float *HMN_RESTRICT inputs, HMN_GLOBAL float *HMN_RESTRICT z_out,
    HMN_GLOBAL const hmnk_u32 *HMN_RESTRICT params) {
  HMN_LOCAL hmnk_vf xhat_row[HMN_ROW_CHUNKS];
  HMN_LOCAL float lane_f[HMN_SUM_LANES] __attribute__((aligned(sizeof(hmnk_vf))));
  hmnk_layer L;
  hmnk_read_layer(params, &L);
  HMN_GLOBAL const hmnk_u32 *step_u = (HMN_GLOBAL const hmnk_u32 *)inputs;
  hmnk_u32 half_floats = (hmnk_u32)HMN_DELAY * (hmnk_u32)HMN_N_IN;
  HMN_GLOBAL const float *hist = x_hist + step_u[HMN_SC_HIST_HALF] * half_floats;
  hmnk_u32 j = (hmnk_u32)get_group_id(0);
  hmnk_u32 item = (hmnk_u32)get_local_id(0);
  hmnk_u32 row0 = j * (hmnk_u32)HMN_N_IN;
  hmnk_rng_at at = {L.seed_lo, L.seed_hi, step_u[HMN_SC_T_LO], step_u[HMN_SC_T_HI]};
  hmnk_row_drive(inputs, hist, 0u, step_u[HMN_SC_SLOT], w + row0, tau + row0, item, 0, xhat_row,
                 lane_f);
  HMN_BARRIER();
  if (item == 0u)
    z_out[j] = hmnk_output(L.activation, L.noise_sigma, at, j, hmnk_lanes_total(lane_f), b[j]);
}
