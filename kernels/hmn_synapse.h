/*
 * hmn_synapse.h - the per-synapse and per-neuron math of one HMN step, one
 * function per equation, named after the reference model's functions in
 * host/src/ref.c: hmn__ref_X there is hmnk_X here (the hmnk_ prefix keeps
 * kernel names apart from the host API where both meet, as in the HLS
 * C-simulation). The kernels in hmn_step.cl only index memory and call
 * these.
 *
 * Randomness is Philox4x32-10 with exactly the reference's layout
 * (SPEC section 4, host/src/rng.c): key = {seed lo, seed hi}, counter =
 * {t lo, index, stream, t hi}.
 */
#ifndef HMN_SYNAPSE_H
#define HMN_SYNAPSE_H

#ifndef HMN_SOURCES_INLINED
#include "hmn_port.h"
#include "hmn_math.h"
#endif

/* Contraction off here too, for compilers that scope it per file. */
#ifdef HMN_OPENCL_C
#pragma OPENCL FP_CONTRACT OFF
#endif

#include <Random123/philox.h>

/* Mode values, as the kernels receive them in their arguments; the host
 * checks at compile time that they equal hmn.h's enums. */
#define HMN_ACTIVATION_RELU 0
#define HMN_ACTIVATION_SIGMOID 1
#define HMN_ACTIVATION_TANH 2
#define HMN_ACTIVATION_LINEAR 3
#define HMN_ATTENTION_SOFTMAX 0
#define HMN_ATTENTION_SOFTMAX_N 1
#define HMN_ATTENTION_OFF 2
#define HMN_SIMILARITY_COSINE 0
#define HMN_SIMILARITY_DOT 1

#define HMN_STREAM_NOISE_ID 0u
#define HMN_STREAM_STOCHASTIC_ID 1u

/* The step's counter-RNG coordinates, passed to every kernel that draws. */
typedef struct {
  hmnk_u32 seed_lo, seed_hi, t_lo, t_hi;
} hmnk_rng_at;

/* One Philox4x32-10 block at (t, index, stream). */
HMN_INLINE philox4x32_ctr_t hmnk_philox_block(hmnk_rng_at at, hmnk_u32 index, hmnk_u32 stream) {
  philox4x32_ctr_t ctr = {{at.t_lo, index, stream, at.t_hi}};
  philox4x32_key_t key = {{at.seed_lo, at.seed_hi}};
  return philox4x32(ctr, key);
}

/* 32-bit word -> uniform [0, 1) as (r >> 8) * 2^-24: exact in float. */
HMN_INLINE float hmnk_uniform01(hmnk_u32 r) {
  return (float)(r >> 8) * (1.0f / 16777216.0f);
}

/* Large beta times large inputs can overflow float; the logits are clamped
 * to +-FLT_MAX like the reference's, so every softmax stays finite. */
HMN_INLINE float hmnk_finite_logit(float s) {
  if (s > HMN_F32_MAX) return HMN_F32_MAX;
  if (s < -HMN_F32_MAX) return -HMN_F32_MAX;
  return s;
}

/* Eq 1, the nonlinearity: z = f(a). */
HMN_INLINE float hmnk_activation(int activation, float a) {
  switch (activation) {
  case HMN_ACTIVATION_RELU:
    return a > 0.0f ? a : 0.0f;
  case HMN_ACTIVATION_SIGMOID:
    return hmnk_sigmoid(a);
  case HMN_ACTIVATION_TANH:
    return hmnk_tanh(a);
  default:
    return a;
  }
}

/* Eq 1, the noise: eps_j ~ N(0,1) by Box-Muller from words 0 and 1 of the
 * block (t, j, noise). 1 - u1 is exact and lies in (0, 1], so the
 * logarithm is finite. */
HMN_INLINE float hmnk_gaussian(hmnk_rng_at at, hmnk_u32 neuron) {
  philox4x32_ctr_t r = hmnk_philox_block(at, neuron, HMN_STREAM_NOISE_ID);
  float u1 = hmnk_uniform01(r.v[0]), u2 = hmnk_uniform01(r.v[1]);
  float radius = hmnk_sqrt(-2.0f * hmnk_log(1.0f - u1));
  return radius * hmnk_cos_turns(u2);
}

/* Eq 1, the drive: a_j = (sum_i w_ji xhat_ji) + b_j + sigma_n eps_j, in
 * that order, with `sum` reduced by the caller in a fixed order. */
HMN_INLINE float hmnk_forward(float sum, float b, float noise) { return (sum + b) + noise; }

/* App. 10.1: c_j <- (1 - delta_c) c_j + delta_c z_j, and likewise h_i. */
HMN_INLINE float hmnk_ema(float old, float rate, float value) {
  return (1.0f - rate) * old + rate * value;
}

/* Eq 2: psi <- lambda psi + kappa_ji, for the fast and the slow component
 * (lambda = exp(-dt/tau) comes from the host, computed once per run). */
HMN_INLINE void hmnk_composite_trace(float *psi_f, float *psi_s, float lam_f, float lam_s,
                                    float kappa) {
  *psi_f = lam_f * *psi_f + kappa;
  *psi_s = lam_s * *psi_s + kappa;
}

/* Eq 2: e_ji = rho_f psi_f + rho_s psi_s. */
HMN_INLINE float hmnk_eligibility(float rho_f, float psi_f, float rho_s, float psi_s) {
  return rho_f * psi_f + rho_s * psi_s;
}

/* Eq 10: s_ji = beta_a h_i c_j, clamped to +-FLT_MAX. The reference forms
 * the product in double; here it is formed in the order that keeps the
 * first partial product a normal number, so that an intermediate
 * overflow or underflow never changes the result (1e30 * 1e30 * 1e-30 is
 * 1e30, not inf). When no order avoids it, the true product itself is out
 * of range. */
HMN_INLINE float hmnk_attention_logit(float beta, float h, float c) {
  if (beta == 0.0f || h == 0.0f || c == 0.0f) return 0.0f;
  float p = beta * h;
  if (hmnk_is_normal(p)) return hmnk_finite_logit(p * c);
  p = beta * c;
  if (hmnk_is_normal(p)) return hmnk_finite_logit(p * h);
  p = h * c;
  if (hmnk_is_normal(p)) return hmnk_finite_logit(p * beta);
  return hmnk_finite_logit((beta * h) * c);
}

/* Eq 11: alpha_ji = softmax over i of s_ji, given the row maximum and the
 * denominator sum_i exp(s_ji - max) that the neuron kernel reduced.
 * softmax_n scales by N_in so that uniform attention is 1; off is 1. */
HMN_INLINE float hmnk_local_attention(int mode, float s, float s_max, float denom, float n_in) {
  if (mode == HMN_ATTENTION_OFF) return 1.0f;
  float scale = mode == HMN_ATTENTION_SOFTMAX_N ? n_in : 1.0f;
  return (scale * hmnk_exp(s - s_max)) / denom;
}

/* Eq 6: r_k = sim(kappa_k, C_global): cosine, or dot product / sqrt(D_c).
 * A zero vector has no direction, so its cosine similarity is 0. */
HMN_INLINE float hmnk_similarity(int mode, HMN_GLOBAL const float *kappa_k,
                                HMN_GLOBAL const float *ctx, int d_ctx) {
  float dot = 0.0f, nk = 0.0f, nc = 0.0f;
  for (int d = 0; d < d_ctx; d++) {
    dot = dot + kappa_k[d] * ctx[d];
    nk = nk + kappa_k[d] * kappa_k[d];
    nc = nc + ctx[d] * ctx[d];
  }
  if (mode == HMN_SIMILARITY_DOT) return dot / hmnk_sqrt((float)d_ctx);
  if (nk == 0.0f || nc == 0.0f) return 0.0f;
  return dot / (hmnk_sqrt(nk) * hmnk_sqrt(nc));
}

/* Eqs 6-7: gamma = softmax_k(beta_g r), G = sum_k gamma_k w_k E_k; with
 * global attention off, G = sum_k w_k E_k. */
HMN_INLINE float hmnk_global_modulation(int attention, int mode, float beta_g,
                                       HMN_GLOBAL const float *kappa,
                                       HMN_GLOBAL const float *w_k, HMN_GLOBAL const float *mod,
                                       HMN_GLOBAL const float *ctx, int n_mod, int d_ctx) {
  float g = 0.0f;
  if (!attention) {
    for (int k = 0; k < n_mod; k++) g = g + w_k[k] * mod[k];
    return g;
  }
  float l_max = -HMN_F32_MAX;
  for (int k = 0; k < n_mod; k++) {
    float r = hmnk_similarity(mode, kappa + k * d_ctx, ctx, d_ctx);
    float logit = hmnk_finite_logit(beta_g * r);
    if (logit > l_max) l_max = logit;
  }
  /* The logits are recomputed rather than stored: K is at most 64 and
   * this keeps the function free of a private array sized by K. */
  float denom = 0.0f;
  for (int k = 0; k < n_mod; k++) {
    float logit = hmnk_finite_logit(beta_g * hmnk_similarity(mode, kappa + k * d_ctx, ctx, d_ctx));
    denom = denom + hmnk_exp(logit - l_max);
  }
  for (int k = 0; k < n_mod; k++) {
    float logit = hmnk_finite_logit(beta_g * hmnk_similarity(mode, kappa + k * d_ctx, ctx, d_ctx));
    float gamma = hmnk_exp(logit - l_max) / denom;
    g = g + (gamma * w_k[k]) * mod[k];
  }
  return g;
}

/* Step 6, astrocyte: A_j <- lambda_a A_j + k_a E_NE; returns
 * M_astro,j = tanh(A_j). */
HMN_INLINE float hmnk_astrocyte(float *astro_j, float decay, float gain, float e_ne) {
  *astro_j = decay * *astro_j + gain * e_ne;
  return hmnk_tanh(*astro_j);
}

/* Step 6, per neuron: G_j = s_j (G + lambda_astro M_astro,j). */
HMN_INLINE float hmnk_neuron_modulation(float sign_j, float g, float astro_lambda, float m_astro) {
  return sign_j * (g + astro_lambda * m_astro);
}

/* Eq 3: dw*_ji = (eta_local + eta_global G_j) etilde_ji. */
HMN_INLINE float hmnk_preliminary_update(float eta_local, float eta_global, float g_j,
                                        float e_tilde) {
  return (eta_local + eta_global * g_j) * e_tilde;
}

/* Eq 4: gate = max(0, cos(Phi(t) - phi_ji)), or 1 with the gate off. The
 * phase arrives as phase_hi + phase_lo, the host's double split in two. */
HMN_INLINE float hmnk_phase_gate(int enabled, float phase_hi, float phase_lo, float phi_ji) {
  if (!enabled) return 1.0f;
  float g = hmnk_cos_diff(phase_hi, phase_lo, phi_ji);
  return g > 0.0f ? g : 0.0f;
}

/* Eq 5: p_ji = sigmoid(beta_p (|dw| - theta_p)). */
HMN_INLINE float hmnk_apply_probability(float beta_p, float theta_p, float dw) {
  return hmnk_sigmoid(beta_p * (hmnk_fabs(dw) - theta_p));
}

/* Eq 5: apply dw when u < p; always with stochastic application off. */
HMN_INLINE float hmnk_stochastic_apply(int enabled, float dw, float u, float p) {
  if (!enabled) return dw;
  return u < p ? dw : 0.0f;
}

/* Step 10: w <- clamp(w + dw, w_min, w_max), the only clamp of the step. */
HMN_INLINE float hmnk_clamp_weight(float w, float dw, float w_min, float w_max) {
  float v = w + dw;
  if (v < w_min) return w_min;
  if (v > w_max) return w_max;
  return v;
}

/* Step 11: b_j <- b_j + eta_b (z* - c_j). */
HMN_INLINE float hmnk_bias_homeostasis(float b, float eta_b, float target, float c_j) {
  return b + eta_b * (target - c_j);
}

/* ---- vector twins (OpenCL C only; see the end of hmn_math.h) ----
 * Lane by lane the operations of the scalar functions above, except
 * where a twin says it evaluates the same equation another way for speed
 * (eqs 4, 5 and 11), within SPEC section 5's tolerances. Arguments that
 * are the same for the whole row (beta, c_j, the phase, the rates) stay
 * scalars. */
#ifdef HMN_OPENCL_C

/* The high word of the 64-bit products a * m, lane by lane; written as
 * the widening product so that compilers emit their widening multiply
 * (a driver's mul_hi may be a slow emulation). */
HMN_INLINE hmnk_vu hmnk_mul_hi_v(hmnk_vu a, hmnk_u32 m) {
  return hmnk_vconvert_uint((hmnk_vconvert_ulong(a) * (ulong)m) >> 32);
}

/* Philox4x32-10 on HMN_VEC blocks at once: lane m of r[k] is word k of
 * the block at (t, index[m], stream), as philox4x32 computes it. */
HMN_INLINE void hmnk_philox_block_v(hmnk_rng_at at, hmnk_vu index, hmnk_u32 stream,
                                    hmnk_vu r[4]) {
  hmnk_vu c0 = (hmnk_vu)(at.t_lo), c1 = index, c2 = (hmnk_vu)(stream), c3 = (hmnk_vu)(at.t_hi);
  hmnk_u32 k0 = at.seed_lo, k1 = at.seed_hi;
#pragma unroll
  for (int round = 0; round < 10; round++) {
    hmnk_vu hi0 = hmnk_mul_hi_v(c0, PHILOX_M4x32_0), lo0 = c0 * PHILOX_M4x32_0;
    hmnk_vu hi1 = hmnk_mul_hi_v(c2, PHILOX_M4x32_1), lo1 = c2 * PHILOX_M4x32_1;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += PHILOX_W32_0;
    k1 += PHILOX_W32_1;
  }
  r[0] = c0;
  r[1] = c1;
  r[2] = c2;
  r[3] = c3;
}

HMN_INLINE hmnk_vf hmnk_uniform01_v(hmnk_vu r) {
  return hmnk_vconvert_float(r >> 8) * (1.0f / 16777216.0f);
}

HMN_INLINE hmnk_vf hmnk_finite_logit_v(hmnk_vf s) {
  s = s > HMN_F32_MAX ? (hmnk_vf)(HMN_F32_MAX) : s;
  return s < -HMN_F32_MAX ? (hmnk_vf)(-HMN_F32_MAX) : s;
}

/* Eq 10 for the lanes h of one row (beta and c the row's). Every order's
 * candidate is formed and the scalar function's choice selected. */
HMN_INLINE hmnk_vf hmnk_attention_logit_v(float beta, hmnk_vf h, float c) {
  hmnk_vf p1 = beta * h;
  float p2 = beta * c;
  hmnk_vf p3 = h * c;
  hmnk_vf s = hmnk_finite_logit_v((beta * h) * c);
  s = hmnk_is_normal_v(p3) != 0 ? hmnk_finite_logit_v(p3 * beta) : s;
  s = hmnk_is_normal(p2) ? hmnk_finite_logit_v(p2 * h) : s;
  s = hmnk_is_normal_v(p1) != 0 ? hmnk_finite_logit_v(p1 * c) : s;
  return (beta == 0.0f || c == 0.0f) ? (hmnk_vf)(0.0f) : (h == 0.0f ? (hmnk_vf)(0.0f) : s);
}

HMN_INLINE hmnk_vf hmnk_ema_v(hmnk_vf old, float rate, hmnk_vf value) {
  return (1.0f - rate) * old + rate * value;
}

HMN_INLINE void hmnk_composite_trace_v(hmnk_vf *psi_f, hmnk_vf *psi_s, float lam_f, float lam_s,
                                       hmnk_vf kappa) {
  *psi_f = lam_f * *psi_f + kappa;
  *psi_s = lam_s * *psi_s + kappa;
}

HMN_INLINE hmnk_vf hmnk_eligibility_v(float rho_f, hmnk_vf psi_f, float rho_s, hmnk_vf psi_s) {
  return rho_f * psi_f + rho_s * psi_s;
}

/* Eq 11 with the row's factor scale / denominator formed once: one
 * multiplication per synapse instead of a division, within 1.5 ulp of
 * hmnk_local_attention (far inside SPEC section 5's 1e-5). */
HMN_INLINE hmnk_vf hmnk_local_attention_v(float scale_over_denom, hmnk_vf numerator) {
  return numerator * scale_over_denom;
}

/* Eq 3 with the row's factor (eta_local + eta_global G_j) formed once:
 * the same product as hmnk_preliminary_update. */
HMN_INLINE hmnk_vf hmnk_preliminary_update_v(float coef, hmnk_vf e_tilde) {
  return coef * e_tilde;
}

/* Eq 4 as the vector kernels evaluate it: cos(Phi - phi_ji) = cos Phi
 * cos phi_ji + sin Phi sin phi_ji, from the step's cos Phi and sin Phi and
 * each synapse's cos phi_ji and sin phi_ji, all four formed once in
 * double on the host and rounded (phi is fixed after init). Two products
 * and a sum per synapse instead of a range reduction and two polynomials:
 * the gate was a quarter of the row kernel's time on PoCL. Each input is
 * within half an ulp, so the gate is within about 2e-7 of the exact
 * cosine (SPEC section 5 allows 1e-6); the scalar hmnk_phase_gate keeps
 * the reduction for the FPGA variant, which has no room for two more
 * state arrays. */
HMN_INLINE hmnk_vf hmnk_phase_gate_v(int enabled, float cos_phase, float sin_phase,
                                     hmnk_vf cos_phi, hmnk_vf sin_phi) {
  if (!enabled) return (hmnk_vf)(1.0f);
  hmnk_vf g = cos_phase * cos_phi + sin_phase * sin_phi;
  return g > 0.0f ? g : (hmnk_vf)(0.0f);
}

/* Eq 5 as the vector kernels use it: 1 / p_ji = 1 + e^(-beta_p (|dw| -
 * theta_p)), the sigmoid's denominator, so that the decision below needs
 * no division. */
HMN_INLINE hmnk_vf hmnk_apply_probability_inv_v(float beta_p, float theta_p, hmnk_vf dw) {
  return 1.0f + hmnk_exp_v(-(beta_p * (hmnk_fabs_v(dw) - theta_p)));
}

/* Eq 5: u < p as u (1 / p) < 1. The two differ only where u and p agree
 * to rounding (|u - p| of an ulp, the borderline cases SPEC section 5
 * allows); 1 / p = inf (p = 0) never applies, as u < 0 never holds. */
HMN_INLINE hmnk_vf hmnk_stochastic_apply_v(int enabled, hmnk_vf dw, hmnk_vf u, hmnk_vf inv_p) {
  if (!enabled) return dw;
  return u * inv_p < 1.0f ? dw : (hmnk_vf)(0.0f);
}

HMN_INLINE hmnk_vf hmnk_clamp_weight_v(hmnk_vf w, hmnk_vf dw, float w_min, float w_max) {
  hmnk_vf v = w + dw;
  v = v < w_min ? (hmnk_vf)(w_min) : v;
  return v > w_max ? (hmnk_vf)(w_max) : v;
}

#endif /* HMN_OPENCL_C */

#endif /* HMN_SYNAPSE_H */
