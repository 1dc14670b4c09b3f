/*
 * hmn_step.cl - the kernels of one HMN step (SPEC section 3), in launch
 * order:
 *
 *   (host)               writes x(t), E(t), C_global(t)
 *   hmn_step_inputs      per input:  x(t) into x_hist slot t mod D, h_i EMA;
 *                        item 0: G (eqs 6-7)
 *   hmn_step_forward     per neuron: delayed inputs, a_j, z_j (eq 1), c_j EMA
 *   hmn_step_neuron      per neuron: astrocyte, G_j, attention row max and
 *                        softmax denominator, bias homeostasis
 *   hmn_step_plasticity  per 4 synapses: traces, local attention, eq 3,
 *                        phase gate, stochastic application, clamp
 *
 * Every reduction runs inside one work-item in a fixed order, so no result
 * depends on how work-items are scheduled or how many threads run them.
 *
 * The host prepends a defines block with the layer's shape (HMN_N_IN,
 * HMN_N_OUT, HMN_N_MOD, HMN_D_CTX, HMN_DELAY) and any tunable it
 * overrides. The modes (activation, attention, global attention and its
 * similarity, phase gate, stochastic application) are kernel arguments
 * like the continuous parameters: each is one branch that is the same for
 * every work-item, and one build then serves every ablation of a shape.
 */
#ifndef HMN_SOURCES_INLINED
#include "hmn_port.h"
#include "hmn_math.h"
#include "hmn_synapse.h"
#endif

/* Contraction off here too, for compilers that scope it per file. */
#ifdef HMN_OPENCL_C
#pragma OPENCL FP_CONTRACT OFF
#endif

/* ---- tunables ---- */

/* Work-group size of hmn_step_inputs (one item per input). */
#ifndef HMN_WG_INPUT
#define HMN_WG_INPUT 64
#endif
/* Work-group size of hmn_step_forward and hmn_step_neuron (one item per neuron). */
#ifndef HMN_WG_NEURON
#define HMN_WG_NEURON 16
#endif
/* Work-group size of hmn_step_plasticity (one item per 4 synapses). */
#ifndef HMN_WG_SYNAPSE
#define HMN_WG_SYNAPSE 64
#endif
/* Partial sums per row reduction, a power of two: lane l adds terms l,
 * l + L, l + 2L, ...; the lanes then combine pairwise. More lanes mean
 * shorter dependency chains and smaller rounding error; changing it
 * changes result bits (within SPEC section 5's reduction bound). */
#ifndef HMN_SUM_LANES
#define HMN_SUM_LANES 8
#endif

/* ---- the layer, from the host ---- */

#if !defined(HMN_N_IN) || !defined(HMN_N_OUT) || !defined(HMN_N_MOD) || !defined(HMN_D_CTX) || \
    !defined(HMN_DELAY)
#error "the host defines the layer shape: HMN_N_IN, HMN_N_OUT, HMN_N_MOD, HMN_D_CTX, HMN_DELAY"
#endif
#if (HMN_SUM_LANES & (HMN_SUM_LANES - 1)) != 0
#error "HMN_SUM_LANES must be a power of two"
#endif

/* Synapses, and the 4-synapse groups that share one Philox block. */
#define HMN_N_SYN ((hmnk_u32)HMN_N_IN * (hmnk_u32)HMN_N_OUT)
#define HMN_N_QUADS ((HMN_N_SYN + 3u) / 4u)

/* Step 1: xhat_ji = x_i(t - tau_ji), from the ring slot written at step
 * t - tau: (t + D - tau) mod D, with slot = t mod D. */
HMN_INLINE float hmnk_delayed_input(HMN_GLOBAL const float *x_hist, hmnk_u32 tau, hmnk_u32 slot,
                                   hmnk_u32 i) {
  hmnk_u32 row = slot >= tau ? slot - tau : slot + (hmnk_u32)HMN_DELAY - tau;
  return x_hist[row * (hmnk_u32)HMN_N_IN + i];
}

/* The lanes of a row reduction, combined pairwise in a fixed tree. */
HMN_INLINE float hmnk_lanes_total(float *acc) {
  for (int width = HMN_SUM_LANES / 2; width > 0; width /= 2)
    for (int l = 0; l < width; l++) acc[l] = acc[l] + acc[l + width];
  return acc[0];
}

/* Eq 1's sum over i of w_ji xhat_ji for one row, in the fixed lane order. */
HMN_INLINE float hmnk_forward_sum(HMN_GLOBAL const float *w_row, HMN_GLOBAL const hmnk_u8 *tau_row,
                                 HMN_GLOBAL const float *x_hist, hmnk_u32 slot) {
  float acc[HMN_SUM_LANES];
  for (int l = 0; l < HMN_SUM_LANES; l++) acc[l] = 0.0f;
  for (hmnk_u32 i0 = 0; i0 < (hmnk_u32)HMN_N_IN; i0 += HMN_SUM_LANES) {
    HMN_PIPELINE
    for (int l = 0; l < HMN_SUM_LANES; l++) {
      hmnk_u32 i = i0 + (hmnk_u32)l;
      if (i < (hmnk_u32)HMN_N_IN)
        acc[l] = acc[l] + w_row[i] * hmnk_delayed_input(x_hist, tau_row[i], slot, i);
    }
  }
  return hmnk_lanes_total(acc);
}

/* Step 5's reductions for neuron j: the row maximum of the logits
 * s_ji = beta h_i c_j and the softmax denominator sum_i exp(s_ji - max),
 * the latter in the fixed lane order. */
HMN_INLINE void hmnk_attention_row(HMN_GLOBAL const float *h, float beta, float c_j, float *s_max,
                                  float *denom) {
  float m = -HMN_F32_MAX;
  for (hmnk_u32 i = 0; i < (hmnk_u32)HMN_N_IN; i++) {
    HMN_PIPELINE
    float s = hmnk_attention_logit(beta, h[i], c_j);
    if (s > m) m = s;
  }
  float acc[HMN_SUM_LANES];
  for (int l = 0; l < HMN_SUM_LANES; l++) acc[l] = 0.0f;
  for (hmnk_u32 i0 = 0; i0 < (hmnk_u32)HMN_N_IN; i0 += HMN_SUM_LANES) {
    HMN_PIPELINE
    for (int l = 0; l < HMN_SUM_LANES; l++) {
      hmnk_u32 i = i0 + (hmnk_u32)l;
      if (i < (hmnk_u32)HMN_N_IN) acc[l] = acc[l] + hmnk_exp(hmnk_attention_logit(beta, h[i], c_j) - m);
    }
  }
  *s_max = m;
  *denom = hmnk_lanes_total(acc);
}

/* Step 1's push of x(t) into ring slot t mod D, step 3's h, and step 6's
 * shared part G (to g_global[0]): everything that depends only on this
 * step's inputs. (The host writes x(t) to x_in rather than into x_hist at
 * an offset: whole-buffer writes keep every device and tool, Oclgrind's
 * uninitialized-memory check included, on the simplest path.) */
HMN_KERNEL HMN_WORK_GROUP(HMN_WG_INPUT) void hmn_step_inputs(
    HMN_GLOBAL float *HMN_RESTRICT h, HMN_GLOBAL float *HMN_RESTRICT x_hist,
    HMN_GLOBAL const float *HMN_RESTRICT x_in, HMN_GLOBAL const float *HMN_RESTRICT mod,
    HMN_GLOBAL const float *HMN_RESTRICT ctx, HMN_GLOBAL const float *HMN_RESTRICT kappa,
    HMN_GLOBAL const float *HMN_RESTRICT w_k, HMN_GLOBAL float *HMN_RESTRICT g_global,
    hmnk_u32 slot, float emb_rate, float beta_global, int global_attention, int similarity) {
  HMN_ONCE {
    g_global[0] = hmnk_global_modulation(global_attention, similarity, beta_global, kappa, w_k,
                                        mod, ctx, HMN_N_MOD, HMN_D_CTX);
  }
  HMN_ITEM_LOOP(i, HMN_N_IN) {
    HMN_PIPELINE
    float x_i = x_in[i];
    x_hist[slot * (hmnk_u32)HMN_N_IN + i] = x_i;
    h[i] = hmnk_ema(h[i], emb_rate, x_i);
  }
}

/* Steps 1-3 for neuron j: a_j from the weights of before this step's
 * update, z_j = f(a_j), then the context c_j. */
HMN_KERNEL HMN_WORK_GROUP(HMN_WG_NEURON) void hmn_step_forward(
    HMN_GLOBAL const float *HMN_RESTRICT w, HMN_GLOBAL const hmnk_u8 *HMN_RESTRICT tau,
    HMN_GLOBAL const float *HMN_RESTRICT x_hist, HMN_GLOBAL const float *HMN_RESTRICT b,
    HMN_GLOBAL float *HMN_RESTRICT z, HMN_GLOBAL float *HMN_RESTRICT c, hmnk_u32 slot,
    hmnk_u32 seed_lo, hmnk_u32 seed_hi, hmnk_u32 t_lo, hmnk_u32 t_hi, float noise_sigma,
    float ctx_rate, int activation) {
  hmnk_rng_at at = {seed_lo, seed_hi, t_lo, t_hi};
  HMN_ITEM_LOOP(j, HMN_N_OUT) {
    float sum = hmnk_forward_sum(w + j * (hmnk_u32)HMN_N_IN, tau + j * (hmnk_u32)HMN_N_IN, x_hist,
                                slot);
    float noise = noise_sigma * hmnk_gaussian(at, j);
    float a = hmnk_forward(sum, b[j], noise);
    float z_j = hmnk_activation(activation, a);
    z[j] = z_j;
    c[j] = hmnk_ema(c[j], ctx_rate, z_j);
  }
}

/* Step 6's per-neuron part, the attention softmax reductions of step 5,
 * and step 11, for neuron j (after hmn_step_forward updated c_j and
 * hmn_step_inputs updated h). */
HMN_KERNEL HMN_WORK_GROUP(HMN_WG_NEURON) void hmn_step_neuron(
    HMN_GLOBAL const float *HMN_RESTRICT h, HMN_GLOBAL const float *HMN_RESTRICT c,
    HMN_GLOBAL float *HMN_RESTRICT b, HMN_GLOBAL float *HMN_RESTRICT astro,
    HMN_GLOBAL const float *HMN_RESTRICT sign, HMN_GLOBAL const float *HMN_RESTRICT mod,
    HMN_GLOBAL const float *HMN_RESTRICT g_global, HMN_GLOBAL float *HMN_RESTRICT g_j,
    HMN_GLOBAL float *HMN_RESTRICT attn_max, HMN_GLOBAL float *HMN_RESTRICT attn_denom,
    hmnk_u32 astro_source, float beta_attn, float astro_decay, float astro_gain,
    float astro_lambda, float bias_rate, float target_rate, int attention) {
  HMN_ITEM_LOOP(j, HMN_N_OUT) {
    float astro_j = astro[j];
    float m_astro = hmnk_astrocyte(&astro_j, astro_decay, astro_gain, mod[astro_source]);
    astro[j] = astro_j;
    g_j[j] = hmnk_neuron_modulation(sign[j], g_global[0], astro_lambda, m_astro);
    float c_j = c[j];
    if (attention != HMN_ATTENTION_OFF) {
      float s_max, denom;
      hmnk_attention_row(h, beta_attn, c_j, &s_max, &denom);
      attn_max[j] = s_max;
      attn_denom[j] = denom;
    }
    b[j] = hmnk_bias_homeostasis(b[j], bias_rate, target_rate, c_j);
  }
}

/* Steps 4-10 for the synapses e = 4q .. 4q+3 (e = j N_in + i), which share
 * one Philox block of the stochastic stream. counts[q] gets the number of
 * applied updates in its low nibble and of candidates (non-zero dw
 * dagger) in its high nibble, for the step statistics. */
HMN_KERNEL HMN_WORK_GROUP(HMN_WG_SYNAPSE) void hmn_step_plasticity(
    HMN_GLOBAL float *HMN_RESTRICT w, HMN_GLOBAL float *HMN_RESTRICT psi_f,
    HMN_GLOBAL float *HMN_RESTRICT psi_s, HMN_GLOBAL const float *HMN_RESTRICT phi,
    HMN_GLOBAL const hmnk_u8 *HMN_RESTRICT tau, HMN_GLOBAL const float *HMN_RESTRICT x_hist,
    HMN_GLOBAL const float *HMN_RESTRICT h, HMN_GLOBAL const float *HMN_RESTRICT z,
    HMN_GLOBAL const float *HMN_RESTRICT c, HMN_GLOBAL const float *HMN_RESTRICT g_j,
    HMN_GLOBAL const float *HMN_RESTRICT attn_max,
    HMN_GLOBAL const float *HMN_RESTRICT attn_denom, HMN_GLOBAL hmnk_u8 *HMN_RESTRICT counts,
    hmnk_u32 slot, hmnk_u32 seed_lo, hmnk_u32 seed_hi, hmnk_u32 t_lo, hmnk_u32 t_hi, float lam_f,
    float lam_s, float rho_f, float rho_s, float beta_attn, float eta_local, float eta_global,
    float phase_hi, float phase_lo, float beta_p, float theta_p, float w_min, float w_max,
    int attention, int phase_gate, int stochastic) {
  hmnk_rng_at at = {seed_lo, seed_hi, t_lo, t_hi};
  HMN_ITEM_LOOP(q, HMN_N_QUADS) {
    HMN_PIPELINE
    philox4x32_ctr_t r = {{0u, 0u, 0u, 0u}};
    if (stochastic) r = hmnk_philox_block(at, q, HMN_STREAM_STOCHASTIC_ID);
    hmnk_u32 e0 = 4u * q;
    hmnk_u32 j = e0 / (hmnk_u32)HMN_N_IN;
    hmnk_u32 i = e0 - j * (hmnk_u32)HMN_N_IN;
    hmnk_u32 applied = 0, candidates = 0;
    for (hmnk_u32 k = 0; k < 4u; k++) {
      hmnk_u32 e = e0 + k;
      if (e < HMN_N_SYN) {
        /* Step 4, Hebbian eligibility kappa_ji = xhat_ji z_j. */
        float xhat = hmnk_delayed_input(x_hist, tau[e], slot, i);
        float pf = psi_f[e], ps = psi_s[e];
        hmnk_composite_trace(&pf, &ps, lam_f, lam_s, xhat * z[j]);
        psi_f[e] = pf;
        psi_s[e] = ps;
        float elig = hmnk_eligibility(rho_f, pf, rho_s, ps);
        /* Step 5. */
        float alpha = 1.0f;
        if (attention != HMN_ATTENTION_OFF)
          alpha = hmnk_local_attention(attention, hmnk_attention_logit(beta_attn, h[i], c[j]),
                                      attn_max[j], attn_denom[j], (float)HMN_N_IN);
        /* Steps 7 and 8. */
        float dw = hmnk_preliminary_update(eta_local, eta_global, g_j[j], alpha * elig);
        dw = dw * hmnk_phase_gate(phase_gate, phase_hi, phase_lo, phi[e]);
        if (dw != 0.0f) candidates++;
        /* Step 9. */
        if (stochastic)
          dw = hmnk_stochastic_apply(1, dw, hmnk_uniform01(r.v[k]),
                                    hmnk_apply_probability(beta_p, theta_p, dw));
        if (dw != 0.0f) applied++;
        /* Step 10. */
        w[e] = hmnk_clamp_weight(w[e], dw, w_min, w_max);
      }
      if (++i == (hmnk_u32)HMN_N_IN) {
        i = 0;
        j++;
      }
    }
    counts[q] = (hmnk_u8)(applied | (candidates << 4));
  }
}
