/*
 * hmn_synapse.h - the per-synapse and per-neuron math of one HMN step, one
 * body per equation, named after the reference model's functions in
 * host/src/ref/ref.c: hmn__ref_X there is hmnk_X here (the hmnk_ prefix
 * keeps kernel names apart from the host API where both meet, as in the
 * HLS C-simulation). Every kernel path (hmn_step.cl, hmn_fpga.h and the
 * HLS top in hw/) only indexes memory and calls these.
 *
 * Where an equation has a cheaper algebraic form than SPEC's (eq 4 from
 * cos and sin terms, eq 5 without a division, eq 11 with a per-row
 * factor), that form is the definition here, and ref keeps SPEC's form as
 * the independent witness; the difference stays within SPEC section 5.
 *
 * A per-synapse equation is written once as a body macro HMN__EQ_X(V, T)
 * and instantiated twice: hmnk_X on float (plain C, also C++, for every
 * path) and, in OpenCL C, hmnk_X_v on HMN_VEC lanes. V is the suffix of
 * the helper twins it calls (empty or _v), T the per-synapse type. Lane
 * selects are written as ternaries, which OpenCL C applies lane by lane,
 * so each lane of a twin computes the scalar function's bits.
 *
 * Randomness is Philox4x32-10 with exactly the reference's layout
 * (SPEC section 4, host/src/core/rng.c): key = {seed lo, seed hi}, counter =
 * {t lo, index, stream, t hi}.
 */
#ifndef HMN_SYNAPSE_H
#define HMN_SYNAPSE_H

#ifndef HMN_SOURCES_INLINED
#include "hmn_port.h"
#include "hmn_math.h"
#include "hmn_iface.h"
#include "hmn_hls.h"
#endif
/* The OpenCL programs are built without the synthesis hints. */
#ifndef HMN_HLS_TRIPCOUNT
#define HMN_HLS_TRIPCOUNT(lo, hi)
#endif

/* Contraction off here too, for compilers that scope it per file. */
#ifdef HMN_OPENCL_C
#pragma OPENCL FP_CONTRACT OFF
#endif

#include <Random123/philox.h>

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
  case HMN_ACT_RELU:
    return a > 0.0f ? a : 0.0f;
  case HMN_ACT_SIGMOID:
    return hmnk_sigmoid(a);
  case HMN_ACT_TANH:
    return hmnk_tanh(a);
  default:
    return a;
  }
}

/* Eq 1, the noise: eps_j ~ N(0,1) by Box-Muller from words 0 and 1 of the
 * block (t, j, noise). 1 - u1 is exact and lies in (0, 1], so the
 * logarithm is finite. */
HMN_INLINE float hmnk_gaussian(hmnk_rng_at at, hmnk_u32 neuron) {
  philox4x32_ctr_t r = hmnk_philox_block(at, neuron, HMN_STREAM_NOISE);
  float u1 = hmnk_uniform01(r.v[0]), u2 = hmnk_uniform01(r.v[1]);
  float radius = hmnk_sqrt(-2.0f * hmnk_log(1.0f - u1));
  return radius * hmnk_cos_turns(u2);
}

/* Eq 1, the drive: a_j = (sum_i w_ji xhat_ji) + b_j + sigma_n eps_j, in
 * that order, with `sum` reduced by the caller in a fixed order. */
HMN_INLINE float hmnk_forward(float sum, float b, float noise) { return (sum + b) + noise; }

/* Eq 1 for neuron j at the step `at`: z_j = f(a_j) with the noise draw of
 * (t, j). The one body that the fused step and the forward-only kernel
 * both call, so that forward's z is the step's z bit for bit. */
HMN_INLINE float hmnk_output(int activation, float noise_sigma, hmnk_rng_at at, hmnk_u32 j,
                             float sum, float b_j) {
  float noise = noise_sigma * hmnk_gaussian(at, j);
  return hmnk_activation(activation, hmnk_forward(sum, b_j, noise));
}

/* Step 4's postsynaptic factor of kappa_ji = xhat_ji post_j: z_j for the
 * Hebbian rule; 1[j = a] - pi_j for the policy rule (SPEC section 8),
 * where action1 = a + 1 (0: no action, Hebbian) and pi_j is the host's
 * softmax of the step's z. */
HMN_INLINE float hmnk_post(hmnk_u32 action1, hmnk_u32 j, float z_j, float pi_j) {
  if (action1 == 0u) return z_j;
  return (j + 1u == action1 ? 1.0f : 0.0f) - pi_j;
}

/* The vector helpers the bodies below call under suffix _v: the twins of
 * hmn_math.h, and these. */
#ifdef HMN_OPENCL_C
HMN_INLINE hmnk_vf hmnk_finite_logit_v(hmnk_vf s) {
  s = s > HMN_F32_MAX ? (hmnk_vf)(HMN_F32_MAX) : s;
  return s < -HMN_F32_MAX ? (hmnk_vf)(-HMN_F32_MAX) : s;
}
#endif

/* Step 1: xhat_ji = x_i(t - tau_ji), from the ring row written at step
 * t - tau: (t + D - tau) mod D, given slot = t mod D and tau < D. */
HMN_INLINE hmnk_u32 hmnk_delay_row(hmnk_u32 slot, hmnk_u32 tau, hmnk_u32 delay) {
  return slot >= tau ? slot - tau : slot + delay - tau;
}

/* App. 10.1: c_j <- (1 - delta_c) c_j + delta_c z_j, and likewise h_i. */
#define HMN__EQ_EMA(V, T)                                        \
  HMN_INLINE T hmnk_ema##V(T old, float rate, T value) {          \
    return (1.0f - rate) * old + rate * value;                    \
  }

/* Eq 2: psi <- lambda psi + kappa_ji, for the fast and the slow component
 * (lambda = exp(-dt/tau) comes from the host, computed once per run). */
#define HMN__EQ_COMPOSITE_TRACE(V, T)                                                 \
  HMN_INLINE void hmnk_composite_trace##V(T *psi_f, T *psi_s, float lam_f, float lam_s, \
                                          T kappa) {                                   \
    *psi_f = lam_f * *psi_f + kappa;                                                   \
    *psi_s = lam_s * *psi_s + kappa;                                                   \
  }

/* Eq 2: e_ji = rho_f psi_f + rho_s psi_s. */
#define HMN__EQ_ELIGIBILITY(V, T)                                           \
  HMN_INLINE T hmnk_eligibility##V(float rho_f, T psi_f, float rho_s, T psi_s) { \
    return rho_f * psi_f + rho_s * psi_s;                                     \
  }

/* Eq 10: s_ji = beta_a h_i c_j, clamped to +-FLT_MAX. The reference forms
 * the product in double; here it is formed in the order that keeps the
 * first partial product a normal number, so that an intermediate
 * overflow or underflow never changes the result (1e30 * 1e30 * 1e-30 is
 * 1e30, not inf). When no order avoids it, the true product itself is out
 * of range. Every order's candidate is formed and the first normal one
 * selected (lane selects, no branches); beta and c are the row's. */
#define HMN__EQ_ATTENTION_LOGIT(V, T)                                            \
  HMN_INLINE T hmnk_attention_logit##V(float beta, T h, float c) {               \
    T p1 = beta * h;                                                             \
    float p2 = beta * c;                                                         \
    T p3 = h * c;                                                                \
    T s = hmnk_finite_logit##V((beta * h) * c);                                  \
    s = hmnk_is_normal##V(p3) != 0 ? hmnk_finite_logit##V(p3 * beta) : s;        \
    s = hmnk_is_normal(p2) ? hmnk_finite_logit##V(p2 * h) : s;                   \
    s = hmnk_is_normal##V(p1) != 0 ? hmnk_finite_logit##V(p1 * c) : s;           \
    return (beta == 0.0f || c == 0.0f) ? (T)(0.0f) : (h == 0.0f ? (T)(0.0f) : s); \
  }

/* Eq 11's numerator exp(s_ji - max_i s_ji), given the row maximum. */
#define HMN__EQ_ATTENTION_NUMERATOR(V, T)                           \
  HMN_INLINE T hmnk_attention_numerator##V(T s, float s_max) {      \
    return hmnk_exp##V(s - s_max);                                  \
  }

/* Eq 11: alpha_ji = numerator_ji * factor_j, where the row's factor
 * (hmnk_attention_factor) is scale / denominator: one multiplication per
 * synapse instead of a division, within 1.5 ulp of the quotient. */
#define HMN__EQ_LOCAL_ATTENTION(V, T)                                      \
  HMN_INLINE T hmnk_local_attention##V(float factor, T numerator) {        \
    return numerator * factor;                                             \
  }

/* Eq 3: dw*_ji = rate_j etilde_ji with the row's rate (eta_local +
 * eta_global G_j) from hmnk_update_rate. */
#define HMN__EQ_PRELIMINARY_UPDATE(V, T)                             \
  HMN_INLINE T hmnk_preliminary_update##V(float rate, T e_tilde) {   \
    return rate * e_tilde;                                           \
  }

/* Eq 4: gate = max(0, cos(Phi(t) - phi_ji)), or 1 with the gate off, as
 * cos Phi cos phi_ji + sin Phi sin phi_ji: two products and a sum per
 * synapse instead of a range reduction and a polynomial. cos Phi and
 * sin Phi are the step's, cos phi_ji and sin phi_ji the synapse's (phi is
 * fixed after init), each within half an ulp (formed in double on the
 * host and rounded), so the gate is within about 2e-7 of the exact
 * cosine (SPEC section 5 allows 1e-6). */
#define HMN__EQ_PHASE_GATE(V, T)                                                   \
  HMN_INLINE T hmnk_phase_gate##V(int enabled, float cos_phase, float sin_phase,    \
                                  T cos_phi, T sin_phi) {                           \
    if (!enabled) return (T)(1.0f);                                                 \
    T g = cos_phase * cos_phi + sin_phase * sin_phi;                                \
    return g > 0.0f ? g : (T)(0.0f);                                                \
  }

/* Eq 5: p_ji = sigmoid(beta_p (|dw| - theta_p)), kept as its reciprocal
 * 1 / p_ji = 1 + e^(-beta_p (|dw| - theta_p)), the sigmoid's denominator,
 * so that the decision below needs no division. */
#define HMN__EQ_APPLY_PROBABILITY_INV(V, T)                                      \
  HMN_INLINE T hmnk_apply_probability_inv##V(float beta_p, float theta_p, T dw) { \
    return 1.0f + hmnk_exp##V(-(beta_p * (hmnk_fabs##V(dw) - theta_p)));          \
  }

/* Eq 5: apply dw when u < p, evaluated as u (1 / p) < 1; always with
 * stochastic application off. The two differ only where u and p agree to
 * rounding (the borderline cases SPEC section 5 allows); 1 / p = inf
 * (p = 0) never applies, as u < 0 never holds. */
#define HMN__EQ_STOCHASTIC_APPLY(V, T)                                          \
  HMN_INLINE T hmnk_stochastic_apply##V(int enabled, T dw, T u, T inv_p) {      \
    if (!enabled) return dw;                                                    \
    return u * inv_p < 1.0f ? dw : (T)(0.0f);                                   \
  }

/* Step 10: w <- clamp(w + dw, w_min, w_max), the only clamp of the step. */
#define HMN__EQ_CLAMP_WEIGHT(V, T)                                                  \
  HMN_INLINE T hmnk_clamp_weight##V(T w, T dw, float w_min, float w_max) {          \
    T v = w + dw;                                                                   \
    v = v < w_min ? (T)(w_min) : v;                                                 \
    return v > w_max ? (T)(w_max) : v;                                              \
  }

/* ---- the rule families (SPEC section 8, docs/rules/) ----
 *
 * Step 4's kappa_ji of each family. The spike-timing families read
 * presynaptic traces r1, r2 (per input i) and postsynaptic traces o1, o2
 * (per neuron j) after this step's decay and before this step's spikes,
 * and the spikes x_i(t), z_j(t) themselves; the products are formed in
 * the reference's order, so a lane gives ref's bits. */

/* Hebbian: kappa_ji = xhat_ji post_j (hmnk_post). */
#define HMN__EQ_KAPPA(V, T) \
  HMN_INLINE T hmnk_kappa##V(T xhat, float post) { return xhat * post; }

/* Pair STDP: kappa_ji = A+ r1_i z_j - A- o1_j x_i. r1 (tau+) and o1
 * (tau-) hold the earlier spikes only, so a pre spike k steps before a
 * post spike gives A+ exp(-k dt / tau+), the reverse order -A- exp(-k dt
 * / tau-). */
#define HMN__EQ_KAPPA_STDP(V, T)                                                    \
  HMN_INLINE T hmnk_kappa_stdp##V(float a_plus, float a_minus, T r1, float o1, T x, \
                                  float z) {                                        \
    return a_plus * r1 * z - a_minus * o1 * x;                                      \
  }

/* Triplet STDP (Pfister & Gerstner 2006): LTP at a post spike r1 (A2+ +
 * A3+ o2), LTD at a pre spike o1 (A2- + A3- r2). */
#define HMN__EQ_KAPPA_TRIPLET(V, T)                                                  \
  HMN_INLINE T hmnk_kappa_triplet##V(float a2_plus, float a3_plus, float a2_minus,   \
                                     float a3_minus, T r1, T r2, float o1, float o2, \
                                     T x, float z) {                                 \
    return z * r1 * (a2_plus + a3_plus * o2) - x * o1 * (a2_minus + a3_minus * r2);  \
  }

/* BCM: kappa_ji = xhat_ji z_j (z_j - theta_j), theta_j of before this
 * step's update. */
#define HMN__EQ_KAPPA_BCM(V, T)                                  \
  HMN_INLINE T hmnk_kappa_bcm##V(T xhat, float z, float theta) { \
    return xhat * z * (z - theta);                               \
  }

/* Heterosynaptic depression, added to any family's kappa: a synapse
 * whose input is silent (xhat = 0) while its neuron is active loses
 * ratio z_j. */
#define HMN__EQ_HETERO(V, T)                                  \
  HMN_INLINE T hmnk_hetero##V(float ratio, T xhat, float z) { \
    return xhat == 0.0f ? (T)(-ratio * z) : (T)(0.0f);        \
  }

/* A spike-timing trace's exact exponential decay over one step,
 * lambda = exp(-dt / tau) from the host. */
#define HMN__EQ_TRACE_DECAY(V, T) \
  HMN_INLINE T hmnk_trace_decay##V(T trace, float lam) { return trace * lam; }

/* A decayed trace meeting this step's spike s: all-to-all pairing adds
 * it, nearest-neighbour replaces the trace by it. */
#define HMN__EQ_TRACE_SPIKE(V, T)                                     \
  HMN_INLINE T hmnk_trace_spike##V(int pairing, T trace, T s) {       \
    if (pairing == HMN_PAIRING_NEAREST) return s != 0.0f ? s : trace; \
    return trace + s;                                                 \
  }

/* Synaptic scaling, before step 10's clamp: the weight times the row's
 * factor new S_j / old S_j (hmnk_synaptic_scale). */
#define HMN__EQ_SCALED_WEIGHT(V, T) \
  HMN_INLINE T hmnk_scaled_weight##V(T w, float factor) { return w * factor; }

/* Every per-synapse equation, on the type T with helpers of suffix V. */
#define HMN__EQ_ALL(V, T)              \
  HMN__EQ_KAPPA(V, T)                  \
  HMN__EQ_KAPPA_STDP(V, T)             \
  HMN__EQ_KAPPA_TRIPLET(V, T)          \
  HMN__EQ_KAPPA_BCM(V, T)              \
  HMN__EQ_HETERO(V, T)                 \
  HMN__EQ_TRACE_DECAY(V, T)            \
  HMN__EQ_TRACE_SPIKE(V, T)            \
  HMN__EQ_SCALED_WEIGHT(V, T)          \
  HMN__EQ_EMA(V, T)                    \
  HMN__EQ_COMPOSITE_TRACE(V, T)        \
  HMN__EQ_ELIGIBILITY(V, T)            \
  HMN__EQ_ATTENTION_LOGIT(V, T)        \
  HMN__EQ_ATTENTION_NUMERATOR(V, T)    \
  HMN__EQ_LOCAL_ATTENTION(V, T)        \
  HMN__EQ_PRELIMINARY_UPDATE(V, T)     \
  HMN__EQ_PHASE_GATE(V, T)             \
  HMN__EQ_APPLY_PROBABILITY_INV(V, T)  \
  HMN__EQ_STOCHASTIC_APPLY(V, T)       \
  HMN__EQ_CLAMP_WEIGHT(V, T)

HMN__EQ_ALL(, float)
#ifdef HMN_OPENCL_C
HMN__EQ_ALL(_v, hmnk_vf)
#endif

/* ---- the per-row and per-neuron terms ---- */

/* Eq 11's row factor: softmax divides by the denominator sum_i exp(s_ji -
 * max), softmax_n also scales by N_in so that uniform attention is 1;
 * with attention off every alpha is 1 (numerators of 1, factor 1). */
HMN_INLINE float hmnk_attention_factor(int mode, float denom, float n_in) {
  if (mode == HMN_ATTN_OFF) return 1.0f;
  return (mode == HMN_ATTN_SOFTMAX_N ? n_in : 1.0f) / denom;
}

/* Eq 3's rate of row j: eta_local + eta_global G_j. */
HMN_INLINE float hmnk_update_rate(float eta_local, float eta_global, float g_j) {
  return eta_local + eta_global * g_j;
}

/* Eq 6: r_k = sim(kappa_k, C_global): cosine, or dot product / sqrt(D_c).
 * A zero vector has no direction, so its cosine similarity is 0. */
HMN_INLINE float hmnk_similarity(int mode, HMN_GLOBAL const float *kappa_k,
                                HMN_GLOBAL const float *ctx, int d_ctx) {
  float dot = 0.0f, nk = 0.0f, nc = 0.0f;
similarity_dims:
  for (int d = 0; d < d_ctx; d++) {
    HMN_HLS_TRIPCOUNT(1, 256)
    dot = dot + kappa_k[d] * ctx[d];
    nk = nk + kappa_k[d] * kappa_k[d];
    nc = nc + ctx[d] * ctx[d];
  }
  if (mode == HMN_SIM_DOT) return dot / hmnk_sqrt((float)d_ctx);
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
  g_plain_sum:
    for (int k = 0; k < n_mod; k++) {
      HMN_HLS_TRIPCOUNT(1, 64)
      g = g + w_k[k] * mod[k];
    }
    return g;
  }
  float l_max = -HMN_F32_MAX;
g_logit_max:
  for (int k = 0; k < n_mod; k++) {
    HMN_HLS_TRIPCOUNT(1, 64)
    float r = hmnk_similarity(mode, kappa + k * d_ctx, ctx, d_ctx);
    float logit = hmnk_finite_logit(beta_g * r);
    if (logit > l_max) l_max = logit;
  }
  /* The logits are recomputed rather than stored: K is at most 64 and
   * this keeps the function free of a private array sized by K. */
  float denom = 0.0f;
g_softmax_denom:
  for (int k = 0; k < n_mod; k++) {
    HMN_HLS_TRIPCOUNT(1, 64)
    float logit = hmnk_finite_logit(beta_g * hmnk_similarity(mode, kappa + k * d_ctx, ctx, d_ctx));
    denom = denom + hmnk_exp(logit - l_max);
  }
g_weighted_sum:
  for (int k = 0; k < n_mod; k++) {
    HMN_HLS_TRIPCOUNT(1, 64)
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

/* Step 11: b_j <- b_j + eta_b (z* - c_j). */
HMN_INLINE float hmnk_bias_homeostasis(float b, float eta_b, float target, float c_j) {
  return b + eta_b * (target - c_j);
}

/* ---- the rule families' per-neuron terms ---- */

/* The rate estimate nu_j <- lambda nu_j + (1 - lambda) z_j, lambda =
 * exp(-dt / tau_rate) (BCM, scaling). */
HMN_INLINE float hmnk_rate(float nu, float lam, float z) { return lam * nu + (1.0f - lam) * z; }

/* |nu|^p for BCM's threshold: exact products for p = 1 and 2 (then the
 * correctly rounded power, as the reference's), exp(p ln |nu|) otherwise. */
HMN_INLINE float hmnk_bcm_power(float nu, float p) {
  float a = hmnk_fabs(nu);
  if (p == 2.0f) return a * a;
  if (p == 1.0f) return a;
  if (a == 0.0f) return 0.0f;
  return hmnk_exp(p * hmnk_log(a));
}

/* BCM's sliding threshold: theta_j <- lambda theta_j + (1 - lambda)
 * nu_j^p, lambda = exp(-dt / tau_theta), clamped to [theta_min,
 * theta_max]; nu_j is this step's rate. */
HMN_INLINE float hmnk_bcm_theta(float theta, float lam, float nu, float p, float theta_min,
                                float theta_max) {
  float v = lam * theta + (1.0f - lam) * hmnk_bcm_power(nu, p);
  if (v < theta_min) return theta_min;
  if (v > theta_max) return theta_max;
  return v;
}

/* Synaptic scaling (ref's hmn__ref_scale; hmnk_scale is hmn_math.h's
 * power-of-two scaling): the neuron's total factor S_j moves by 1 + (1 -
 * lambda) (nu* - nu_j) / nu*, lambda = exp(-dt / tau_scale), nu_j of
 * before this step, and stays in [1 / scale_max, scale_max]. Returns the
 * new S_j; the row's weights are multiplied by new S_j / old S_j. */
HMN_INLINE float hmnk_synaptic_scale(float s, float lam, float nu, float target,
                                     float scale_max) {
  float v = s * (1.0f + (1.0f - lam) * (target - nu) / target);
  float lo = 1.0f / scale_max;
  if (v < lo) return lo;
  if (v > scale_max) return scale_max;
  return v;
}

/* Whether the layer's rule keeps spike-timing traces, and whether it
 * keeps the rate estimate nu_j (and so theta_j or S_j). */
HMN_INLINE int hmnk_rule_timing(int rule) {
  return rule == HMN_RULE_STDP || rule == HMN_RULE_TRIPLET;
}
HMN_INLINE int hmnk_rule_rated(int rule, int scaling) {
  return rule == HMN_RULE_BCM || scaling != 0;
}

/* Step 4's kappa_ji of the layer's family for one synapse, plus
 * heterosynaptic depression where its ratio is not 0: the scalar
 * dispatch for kernels that select the family at run time (the NDRange
 * kernel selects it at build time and calls the bodies above). xhat =
 * xhat_ji, x = x_i(t); r1, r2 the synapse's presynaptic traces and o1,
 * o2 the neuron's postsynaptic ones (decayed, before this step's
 * spikes); post = hmnk_post's factor (z_j outside rule policy); theta =
 * theta_j before this step's update. */
HMN_INLINE float hmnk_family_kappa(int rule, float a_plus, float a_minus, float a2_plus,
                                   float a3_plus, float a2_minus, float a3_minus,
                                   float hetero_ratio, float xhat, float x, float r1, float r2,
                                   float o1, float o2, float post, float theta) {
  float kappa;
  if (rule == HMN_RULE_STDP)
    kappa = hmnk_kappa_stdp(a_plus, a_minus, r1, o1, x, post);
  else if (rule == HMN_RULE_TRIPLET)
    kappa = hmnk_kappa_triplet(a2_plus, a3_plus, a2_minus, a3_minus, r1, r2, o1, o2, x, post);
  else if (rule == HMN_RULE_BCM)
    kappa = hmnk_kappa_bcm(xhat, post, theta);
  else
    kappa = hmnk_kappa(xhat, post);
  if (hetero_ratio != 0.0f) kappa = kappa + hmnk_hetero(hetero_ratio, xhat, post);
  return kappa;
}

/* Eq 5's probability itself, p_ji = 1 / (1 / p_ji), for checks and
 * statistics; the kernels decide from the reciprocal. */
HMN_INLINE float hmnk_apply_probability(float beta_p, float theta_p, float dw) {
  return 1.0f / hmnk_apply_probability_inv(beta_p, theta_p, dw);
}

/* ---- the counter RNG on HMN_VEC lanes (OpenCL C only) ---- */
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


#endif /* HMN_OPENCL_C */

#endif /* HMN_SYNAPSE_H */
