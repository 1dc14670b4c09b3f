/*
 * test_opencl_math.c - the kernels' shared headers compiled as plain C99
 * (the HLS C-simulation path of SPEC section 10): the deterministic
 * transcendentals of kernels/hmn_math.h against double precision, and the
 * per-equation functions of kernels/hmn_synapse.h against ref's. Needs no
 * OpenCL device.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "internal.h"
/* (after hmn.h, whose mode enums the kernel headers then use) */
#include "../kernels/hmn_synapse.h"

TestSuite(opencl_math);

/* Error of `got` in units in the last place of the float nearest `want`
 * (subnormal results count in absolute steps of the smallest one). */
static double ulps(float got, double want) {
  float w = (float)want;
  double ulp = fabs(want) < FLT_MIN ? 1.4e-45 : (double)nextafterf(fabsf(w), INFINITY) - fabsf(w);
  return fabs((double)got - want) / ulp;
}

#define SWEEP(lo, hi, n, body)                                   \
  for (int step_ = 0; step_ <= (n); step_++) {                   \
    float x = (float)((lo) + ((hi) - (lo)) * step_ / (double)(n)); \
    body;                                                        \
  }

Test(opencl_math, exp_within_2_ulp) {
  double worst = 0.0;
  SWEEP(-87.0, 88.7, 400000, worst = fmax(worst, ulps(hmnk_exp(x), exp((double)x))));
  cr_log_info("exp: worst %.3f ulp", worst);
  cr_assert_leq(worst, 2.0);
  cr_assert_eq(hmnk_exp(0.0f), 1.0f, "exp(0) must be exactly 1 for the softmax");
  cr_assert_eq(hmnk_exp(-200.0f), 0.0f);
  cr_assert(isinf(hmnk_exp(100.0f)));
  cr_assert_eq(hmnk_exp(-INFINITY), 0.0f);
}

Test(opencl_math, log_within_2_ulp) {
  double worst = 0.0;
  for (float x = 1e-38f; x < 1e38f; x *= 1.0007f) worst = fmax(worst, ulps(hmnk_log(x), log((double)x)));
  /* Near 1, where Box-Muller takes log(1 - u1) for small u1. */
  for (uint32_t r = 0; r < (1u << 24); r += 97) {
    float x = 1.0f - (float)r * (1.0f / 16777216.0f);
    worst = fmax(worst, ulps(hmnk_log(x), log((double)x)));
  }
  cr_log_info("log: worst %.3f ulp", worst);
  cr_assert_leq(worst, 2.0);
  cr_assert_eq(hmnk_log(1.0f), 0.0f);
  float tiny = 1e-44f; /* subnormal */
  cr_assert(fabs(hmnk_log(tiny) - log((double)tiny)) < 1e-5, "subnormal input");
}

Test(opencl_math, tanh_sigmoid_expm1) {
  double worst_tanh = 0.0, worst_sig = 0.0, worst_expm1 = 0.0;
  SWEEP(-12.0, 12.0, 400000, {
    worst_tanh = fmax(worst_tanh, ulps(hmnk_tanh(x), tanh((double)x)));
    worst_sig = fmax(worst_sig, ulps(hmnk_sigmoid(x), 1.0 / (1.0 + exp(-(double)x))));
  });
  for (float x = 1e-30f; x < 1.0f; x *= 1.01f) worst_tanh = fmax(worst_tanh, ulps(hmnk_tanh(x), tanh((double)x)));
  SWEEP(-3.0, 3.0, 200000, worst_expm1 = fmax(worst_expm1, ulps(hmnk_expm1(x), expm1((double)x))));
  cr_log_info("tanh %.3f ulp, sigmoid %.3f ulp, expm1 %.3f ulp", worst_tanh, worst_sig, worst_expm1);
  cr_assert_leq(worst_tanh, 4.0);
  cr_assert_leq(worst_sig, 4.0);
  cr_assert_leq(worst_expm1, 3.0);
  cr_assert_eq(hmnk_tanh(20.0f), 1.0f);
  cr_assert_eq(hmnk_tanh(-20.0f), -1.0f);
  cr_assert_eq(hmnk_sigmoid(-1000.0f), 0.0f);
  cr_assert_eq(hmnk_sigmoid(1000.0f), 1.0f);
  cr_assert_eq(hmnk_sigmoid(0.0f), 0.5f);
}

Test(opencl_math, cosines_within_1e7_absolute) {
  double worst_turns = 0.0, worst_diff = 0.0;
  for (uint32_t r = 0; r < (1u << 24); r += 13) {
    float u = (float)r * (1.0f / 16777216.0f);
    worst_turns = fmax(worst_turns, fabs(hmnk_cos_turns(u) - cos(HMN__TWO_PI * u)));
  }
  for (float a = 0.0f; a < 6.3f; a += 0.0013f)
    for (float b = 0.0f; b < 6.3f; b += 0.037f)
      worst_diff = fmax(worst_diff, fabs(hmnk_cos_diff(a, 0.0f, b) - cos((double)a - b)));
  /* The low part of the phase counts: cos(pi/2 + lo) = -lo. */
  float half_pi = (float)(HMN__PI / 2);
  double lo = HMN__PI / 2 - (double)half_pi;
  cr_assert(fabs(hmnk_cos_diff(half_pi, (float)lo, 0.0f)) < 1e-12);
  cr_log_info("cos: worst %.3g (turns), %.3g (difference)", worst_turns, worst_diff);
  cr_assert_leq(worst_turns, 1.2e-7);
  cr_assert_leq(worst_diff, 1.2e-7);
}

/* The kernel functions agree with ref's, equation by equation. */
Test(opencl_math, equations_match_ref) {
  hmnk_rng_at at = {0x12345678u, 0x9u, 77u, 0u};
  uint64_t seed = ((uint64_t)0x9u << 32) | 0x12345678u;
  for (uint32_t j = 0; j < 5000; j++) {
    float got = hmnk_gaussian(at, j), want = hmn__ref_gaussian(seed, 77, j);
    cr_assert(fabs(got - want) <= 1e-6 * fmax(1.0, fabs(want)), "eps_%u = %.9g, ref %.9g", j,
              (double)got, (double)want);
  }
  for (int act = 0; act < 4; act++)
    SWEEP(-30.0, 30.0, 6000, {
      float want = hmn__ref_activation(act, x);
      cr_assert(fabs(hmnk_activation(act, x) - want) <= fmax(1e-6, 1e-5 * fabs(want)));
    });
  cr_assert_eq(hmnk_ema(0.2f, 0.1f, 1.0f), hmn__ref_ema(0.2f, 0.1f, 1.0f));
  cr_assert_eq(hmnk_eligibility(1.0f, 0.8f, 0.5f, 2.1f), hmn__ref_eligibility(1.0f, 0.8f, 0.5f, 2.1f));
  cr_assert_eq(hmnk_preliminary_update(hmnk_update_rate(0.01f, 0.1f, 2.0f), 3.0f),
               hmn__ref_preliminary_update(0.01f, 0.1f, 2.0f, 3.0f));
  cr_assert_eq(hmnk_clamp_weight(0.9f, 0.3f, -1.0f, 1.0f), hmn__ref_clamp_weight(0.9f, 0.3f, -1.0f, 1.0f));
  cr_assert_eq(hmnk_bias_homeostasis(0.1f, 0.01f, 0.1f, 0.6f),
               hmn__ref_bias_homeostasis(0.1f, 0.01f, 0.1f, 0.6f));
  cr_assert_eq(hmnk_neuron_modulation(-1.0f, 0.2f, 0.5f, 0.4f),
               hmn__ref_neuron_modulation(-1.0f, 0.2f, 0.5f, 0.4f));
  float a1 = 0.5f, a2 = 0.5f;
  float m1 = hmnk_astrocyte(&a1, 0.9f, 0.1f, 2.0f), m2 = hmn__ref_astrocyte(&a2, 0.9f, 0.1f, 2.0f);
  cr_assert(a1 == a2 && fabs(m1 - m2) < 1e-7);
  SWEEP(-0.01, 0.01, 2000, {
    float want = hmn__ref_apply_probability(1000.0f, 0.0005f, x);
    cr_assert(fabs(hmnk_apply_probability(1000.0f, 0.0005f, x) - want) < 1e-6, "p(%g)", (double)x);
  });
  /* Eq 4 from the rounded cos and sin of the phase and of phi: each
   * within half an ulp, so the gate is within a few 1e-7 of SPEC's. */
  SWEEP(0.0, 6.28, 2000, {
    float want = hmn__ref_phase_gate(1, 1.0f, x);
    float got = hmnk_phase_gate(1, (float)cos(1.0), (float)sin(1.0), (float)cos((double)x),
                                (float)sin((double)x));
    cr_assert(fabs(got - want) < 4e-7, "gate(%g) = %.9g, ref %.9g", (double)x, (double)got,
              (double)want);
  });
  cr_assert_eq(hmnk_phase_gate(0, 1.0f, 0.0f, -1.0f, 0.0f), 1.0f);
  /* Eq 5's decision u (1 / p) < 1 agrees with u < p away from the
   * rounding borderline, and eq 11's row factor with the quotient. */
  SWEEP(-0.01, 0.01, 2000, {
    float inv = hmnk_apply_probability_inv(1000.0f, 0.0005f, x);
    float p = hmn__ref_apply_probability(1000.0f, 0.0005f, x);
    for (float u = 0.0f; u < 1.0f; u += 0.0625f)
      if (fabs(u - p) > 1e-6)
        cr_assert_eq(hmnk_stochastic_apply(1, x, u, inv), hmn__ref_stochastic_apply(1, x, u, p),
                     "dw %g u %g p %g", (double)x, (double)u, (double)p);
  });
  cr_assert_eq(hmnk_stochastic_apply(0, 0.5f, 0.9f, 100.0f), 0.5f);
  cr_assert_eq(hmnk_attention_factor(HMN_ATTN_OFF, 7.0f, 64.0f), 1.0f);
  cr_assert_eq(hmnk_attention_factor(HMN_ATTN_SOFTMAX, 4.0f, 64.0f), 0.25f);
  cr_assert_eq(hmnk_attention_factor(HMN_ATTN_SOFTMAX_N, 4.0f, 64.0f), 16.0f);
  cr_assert(fabs(hmnk_local_attention(hmnk_attention_factor(HMN_ATTN_SOFTMAX, 3.0f, 8.0f),
                                      hmnk_attention_numerator(0.5f, 1.5f)) -
                 exp(-1.0) / 3.0) < 1e-7);
  cr_assert_eq(hmnk_delay_row(2, 0, 4), 2u);
  cr_assert_eq(hmnk_delay_row(2, 3, 4), 3u);
  cr_assert_eq(hmnk_delay_row(0, 1, 4), 3u);
}

/* Logits keep the reference's value where a float partial product would
 * overflow or underflow, and clamp where the true product does. */
Test(opencl_math, attention_logit_edges) {
  cr_assert_eq(hmnk_attention_logit(1e30f, 1e30f, 1e-30f), 1e30f);
  cr_assert_eq(hmnk_attention_logit(1e-30f, 1e30f, 1e30f), 1e30f);
  cr_assert_eq(hmnk_attention_logit(1e30f, 1e30f, 1e30f), FLT_MAX);
  cr_assert_eq(hmnk_attention_logit(-1e30f, 1e30f, 1e30f), -FLT_MAX);
  cr_assert_eq(hmnk_attention_logit(1e30f, 3e38f, 0.0f), 0.0f);
  cr_assert_eq(hmnk_attention_logit(1e-30f, 1e-30f, 1e-30f), 0.0f);
  cr_assert_eq(hmnk_attention_logit(2.0f, 0.5f, 3.0f), 3.0f);
}

/* The parameter record round trip: what the host writes
 * (hmn__kernel_params) is what every kernel reads (hmnk_read_layer), one
 * field per line of kernels/hmn_iface.h's table. */
Test(opencl_math, parameter_record_round_trip) {
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  cfg.n_in = 40;
  cfg.n_out = 24;
  cfg.seed = 0x123456789abcdefull;
  cfg.activation = HMN_ACT_TANH;
  cfg.attention = HMN_ATTN_SOFTMAX_N;
  cfg.phase_gate = 7;
  cfg.beta_p = -3.5f;
  cfg.w_max = 0.75f;
  cfg.dt = 1.0f;
  cfg.tau_fast = 4.0f;
  uint32_t words[HMN_P_COUNT];
  hmn__kernel_params(&cfg, words);
  hmnk_layer L;
  hmnk_read_layer(words, &L);
  cr_assert_eq(L.n_in, 40u);
  cr_assert_eq(L.n_out, 24u);
  cr_assert_eq(L.seed_lo, 0x89abcdefu);
  cr_assert_eq(L.seed_hi, 0x1234567u);
  cr_assert_eq(L.activation, HMN_ACT_TANH);
  cr_assert_eq(L.attention, HMN_ATTN_SOFTMAX_N);
  cr_assert_eq(L.phase_gate, 1, "a mode switch arrives as 0 or 1");
  cr_assert_eq(L.beta_p, -3.5f);
  cr_assert_eq(L.w_max, 0.75f);
  cr_assert_eq(L.lam_f, (float)exp(-0.25));
  cr_assert_eq(L.rho_s, cfg.rho_slow);
  cr_assert_eq(L.astro_source, (uint32_t)cfg.astro_source);
}

/* The step record's words sit where the kernel reads them. */
Test(opencl_math, step_record_layout) {
  float slot[HMN_STEP_SCALARS] = {0};
  hmn__step_record rec = {.slot = 3, .t_hi = 1, .g = 0.5f, .bh_max = -2.0f, .hist_half = 1};
  hmn__step_record_store(&rec, slot);
  uint32_t u[HMN_STEP_SCALARS];
  memcpy(u, slot, sizeof u);
  cr_assert_eq(u[HMN_SC_SLOT], 3u);
  cr_assert_eq(u[HMN_SC_T_HI], 1u);
  cr_assert_eq(slot[HMN_SC_G], 0.5f);
  cr_assert_eq(slot[HMN_SC_BH_MAX], -2.0f);
  cr_assert_eq(u[HMN_SC_HIST_HALF], 1u);
  cr_assert_eq(HMN_SC_HIST_HALF, 14, "the kernel's record layout");
}
