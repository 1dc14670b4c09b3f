/*
 * test_ref.c - the golden model, equation by equation on tiny cases whose
 * values are worked out by hand (in the comments), then whole steps
 * against the independent Python model in ref_expected.py.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "internal.h"
#include "ref_expected.h"
#include "support.h"

#define near(actual, expected, tol) \
  cr_assert(fabs((double)(actual) - (double)(expected)) <= (tol), "%s = %.9g, expected %.9g", \
            #actual, (double)(actual), (double)(expected))

TestSuite(ref);

Test(ref, philox_known_answer) {
  /* Random123's published answer for counter 0, key 0. */
  uint32_t r[4];
  hmn_philox(0, 0, 0, 0, r);
  cr_assert_eq(r[0], 0x6627e8d5u);
  cr_assert_eq(r[1], 0xe169c58du);
  cr_assert_eq(r[2], 0xbc57ac4cu);
  cr_assert_eq(r[3], 0x9b00dbd8u);
}

Test(ref, uniform_mapping) {
  cr_assert_eq(hmn_uniform(0), 0.0f);
  cr_assert_eq(hmn_uniform(0xFFFFFFFFu), 16777215.0f / 16777216.0f);
  cr_assert_eq(hmn_uniform(0x80000000u), 0.5f);
}

Test(ref, decay_is_exact_and_positive) {
  near(hmn__ref_decay(1.0f, 5.0f), 0.818730753, 1e-7);  /* exp(-0.2) */
  /* dt > tau: 1 - dt/tau would be -4; the exact decay is exp(-5). */
  float lam = hmn__ref_decay(10.0f, 2.0f);
  cr_assert_gt(lam, 0.0f);
  near(lam, 0.006737947, 1e-9);
  cr_assert_gt(hmn__ref_decay(50.0f, 1.0f), 0.0f); /* exp(-50) = 1.9e-22 */
}

Test(ref, activations) {
  cr_assert_eq(hmn__ref_activation(HMN_ACT_RELU, -1.0f), 0.0f);
  cr_assert_eq(hmn__ref_activation(HMN_ACT_RELU, 2.0f), 2.0f);
  cr_assert_eq(hmn__ref_activation(HMN_ACT_SIGMOID, 0.0f), 0.5f);
  near(hmn__ref_activation(HMN_ACT_SIGMOID, 2.0f), 0.880797078, 1e-7);
  cr_assert_eq(hmn__ref_activation(HMN_ACT_SIGMOID, -1000.0f), 0.0f);
  cr_assert_eq(hmn__ref_activation(HMN_ACT_SIGMOID, 1000.0f), 1.0f);
  near(hmn__ref_activation(HMN_ACT_TANH, 0.5f), 0.462117157, 1e-7);
  cr_assert_eq(hmn__ref_activation(HMN_ACT_LINEAR, -3.25f), -3.25f);
}

Test(ref, forward_eq1) {
  /* 0.5*1 - 1*2 + 2*3 + 0.1 + 0.05 = 4.65 */
  const float w[3] = {0.5f, -1.0f, 2.0f}, x[3] = {1.0f, 2.0f, 3.0f};
  near(hmn__ref_forward(w, x, 3, 0.1f, 0.05f), 4.65, 1e-6);
}

Test(ref, gaussian_noise_statistics) {
  /* Box-Muller from the noise stream: over 20000 draws the mean is near 0
   * and the variance near 1 (standard errors 0.007 and 0.01). */
  double sum = 0.0, sq = 0.0;
  for (uint32_t j = 0; j < 20000; j++) {
    float e = hmn__ref_gaussian(42, 3, j);
    cr_assert(isfinite(e));
    sum += e;
    sq += (double)e * e;
  }
  double mean = sum / 20000, var = sq / 20000 - mean * mean;
  cr_assert(fabs(mean) < 0.04, "mean %g", mean);
  cr_assert(fabs(var - 1.0) < 0.05, "variance %g", var);
}

Test(ref, contexts_ema) {
  near(hmn__ref_ema(0.2f, 0.1f, 1.0f), 0.28, 1e-7); /* 0.9*0.2 + 0.1*1 */
}

Test(ref, composite_trace_eq2) {
  float pf = 1.0f, ps = 2.0f;
  hmn__ref_composite_trace(&pf, &ps, 0.5f, 0.9f, 0.3f);
  near(pf, 0.8, 1e-7); /* 0.5*1 + 0.3 */
  near(ps, 2.1, 1e-6); /* 0.9*2 + 0.3 */
  near(hmn__ref_eligibility(1.0f, pf, 0.5f, ps), 1.85, 1e-6);
}

Test(ref, local_attention_eqs10_11) {
  /* s = beta h c = [2, 0, -2]; softmax = [e^2, 1, e^-2] / 8.524391 */
  const float h[3] = {1.0f, 0.0f, -1.0f};
  float a[3];
  hmn__ref_local_attention(HMN_ATTN_SOFTMAX, 1.0f, h, 2.0f, 3, a);
  near(a[0], 0.866813332, 1e-7);
  near(a[1], 0.117310428, 1e-7);
  near(a[2], 0.015876239, 1e-7);
  hmn__ref_local_attention(HMN_ATTN_SOFTMAX_N, 1.0f, h, 2.0f, 3, a);
  near(a[0], 3 * 0.866813332, 3e-7);
  near(a[2], 3 * 0.015876239, 3e-7);
  hmn__ref_local_attention(HMN_ATTN_OFF, 1.0f, h, 2.0f, 3, a);
  cr_assert(a[0] == 1.0f && a[1] == 1.0f && a[2] == 1.0f);
}

Test(ref, softmax_finite_with_huge_beta_and_inputs) {
  const float h[4] = {1e30f, -1e30f, 3e38f, 0.0f};
  float a[4];
  hmn__ref_local_attention(HMN_ATTN_SOFTMAX, 1e30f, h, 1e30f, 4, a);
  double total = 0.0;
  for (int i = 0; i < 4; i++) {
    cr_assert(isfinite(a[i]), "alpha[%d] = %g", i, (double)a[i]);
    total += a[i];
  }
  near(total, 1.0, 1e-6);
  /* The two inputs whose logits saturate at +FLT_MAX share the mass. */
  near(a[0], 0.5, 1e-7);
  near(a[2], 0.5, 1e-7);

  hmn_config cfg;
  hmn_config_defaults(&cfg);
  cfg.n_mod = 2;
  cfg.d_ctx = 2;
  cfg.beta_global = 3e38f;
  const float kappa[4] = {1.0f, 0.0f, 0.0f, 1.0f}, w_k[2] = {1.0f, 1.0f};
  const float mod[2] = {2.0f, 5.0f}, ctx[2] = {1.0f, 0.0f};
  /* gamma becomes one-hot on the matching key: G = w_0 E_0 = 2. */
  near(hmn__ref_global_modulation(&cfg, kappa, w_k, mod, ctx), 2.0, 1e-6);
}

Test(ref, similarity_eq6) {
  const float k[2] = {1.0f, 2.0f}, c[2] = {3.0f, 4.0f}, zero[2] = {0.0f, 0.0f};
  near(hmn__ref_similarity(HMN_SIM_COSINE, k, c, 2), 0.983869910, 1e-7); /* 11/(5 sqrt 5) */
  near(hmn__ref_similarity(HMN_SIM_DOT, k, c, 2), 7.778174593, 1e-6);    /* 11/sqrt 2 */
  cr_assert_eq(hmn__ref_similarity(HMN_SIM_COSINE, k, zero, 2), 0.0f);
}

Test(ref, global_modulation_eqs6_7) {
  /* r = [1, 0]; gamma = [e/(e+1), 1/(e+1)];
   * G = 0.7310586*1*0.5 + 0.2689414*2*(-1) = -0.1723535 */
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  cfg.n_mod = 2;
  cfg.d_ctx = 2;
  cfg.beta_global = 1.0f;
  const float kappa[4] = {1.0f, 0.0f, 0.0f, 1.0f}, w_k[2] = {1.0f, 2.0f};
  const float mod[2] = {0.5f, -1.0f}, ctx[2] = {1.0f, 0.0f};
  near(hmn__ref_global_modulation(&cfg, kappa, w_k, mod, ctx), -0.172353459, 1e-7);
  cfg.global_attention = 0; /* G = 0.5 - 2 */
  near(hmn__ref_global_modulation(&cfg, kappa, w_k, mod, ctx), -1.5, 1e-7);
}

Test(ref, astrocyte_and_sign) {
  float a = 0.5f;
  float m = hmn__ref_astrocyte(&a, 0.9f, 0.1f, 2.0f);
  near(a, 0.65, 1e-7);           /* 0.9*0.5 + 0.1*2 */
  near(m, 0.571669966, 1e-7);    /* tanh(0.65) */
  near(hmn__ref_neuron_modulation(-1.0f, 0.2f, 0.5f, 0.4f), -0.4, 1e-7); /* -(0.2 + 0.2) */
  near(hmn__ref_neuron_modulation(1.0f, 0.2f, 0.0f, 0.4f), 0.2, 1e-7);
}

Test(ref, preliminary_update_eq3) {
  near(hmn__ref_preliminary_update(0.01f, 0.1f, 2.0f, 3.0f), 0.63, 1e-6); /* 0.21*3 */
}

Test(ref, phase_gate_eq4) {
  near(hmn__ref_phase_gate(1, 0.0f, (float)(HMN__PI / 3)), 0.5, 1e-7);
  cr_assert_eq(hmn__ref_phase_gate(1, 0.0f, (float)HMN__PI), 0.0f); /* cos = -1 -> 0 */
  cr_assert_eq(hmn__ref_phase_gate(0, 0.0f, (float)HMN__PI), 1.0f);
}

Test(ref, stochastic_application_eq5) {
  near(hmn__ref_apply_probability(1000.0f, 0.001f, 0.001f), 0.5, 1e-6);
  near(hmn__ref_apply_probability(1000.0f, 0.001f, -0.003f), 0.880797078, 1e-6); /* sigmoid(2) */
  cr_assert_eq(hmn__ref_stochastic_apply(1, 0.25f, 0.3f, 0.5f), 0.25f);
  cr_assert_eq(hmn__ref_stochastic_apply(1, 0.25f, 0.7f, 0.5f), 0.0f);
  cr_assert_eq(hmn__ref_stochastic_apply(0, 0.25f, 0.7f, 0.5f), 0.25f);
}

Test(ref, clamp_and_bias) {
  cr_assert_eq(hmn__ref_clamp_weight(0.9f, 0.3f, -1.0f, 1.0f), 1.0f);
  cr_assert_eq(hmn__ref_clamp_weight(-0.9f, -0.3f, -1.0f, 1.0f), -1.0f);
  cr_assert_eq(hmn__ref_clamp_weight(0.0f, 0.25f, -1.0f, 1.0f), 0.25f);
  near(hmn__ref_bias_homeostasis(0.1f, 0.01f, 0.1f, 0.6f), 0.095, 1e-7);
}

/* ---- whole steps against the independent Python model ---- */

static hmn_layer *expected_layer(void) {
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  cfg.n_in = EXP_N_IN;
  cfg.n_out = EXP_N_OUT;
  cfg.n_mod = EXP_K;
  cfg.d_ctx = EXP_DC;
  cfg.delay_len = EXP_D;
  cfg.seed = EXP_SEED;
  cfg.activation = HMN_ACT_TANH;
  cfg.dt = EXP_CFG_DT;
  cfg.noise_sigma = EXP_CFG_NOISE_SIGMA;
  cfg.ctx_rate = EXP_CFG_CTX_RATE;
  cfg.emb_rate = EXP_CFG_EMB_RATE;
  cfg.bias_rate = EXP_CFG_BIAS_RATE;
  cfg.target_rate = EXP_CFG_TARGET_RATE;
  cfg.tau_fast = EXP_CFG_TAU_FAST;
  cfg.tau_slow = EXP_CFG_TAU_SLOW;
  cfg.rho_fast = EXP_CFG_RHO_FAST;
  cfg.rho_slow = EXP_CFG_RHO_SLOW;
  cfg.attention = HMN_ATTN_SOFTMAX;
  cfg.beta_attn = EXP_CFG_BETA_ATTN;
  cfg.global_attention = 1;
  cfg.similarity = HMN_SIM_COSINE;
  cfg.beta_global = EXP_CFG_BETA_GLOBAL;
  cfg.astro_lambda = EXP_CFG_ASTRO_LAMBDA;
  cfg.astro_decay = EXP_CFG_ASTRO_DECAY;
  cfg.astro_gain = EXP_CFG_ASTRO_GAIN;
  cfg.astro_source = EXP_CFG_ASTRO_SOURCE;
  cfg.eta_local = EXP_CFG_ETA_LOCAL;
  cfg.eta_global = EXP_CFG_ETA_GLOBAL;
  cfg.w_min = EXP_CFG_W_MIN;
  cfg.w_max = EXP_CFG_W_MAX;
  cfg.phase_gate = 1;
  cfg.stochastic = 1;
  cfg.beta_p = EXP_CFG_BETA_P;
  cfg.theta_p = EXP_CFG_THETA_P;
  hmn_layer *layer = NULL;
  hmn_error err;
  cr_assert_eq(hmn_layer_create(&cfg, "ref", &layer, &err), 0, "%s", err.message);
#define SET(arr, src) \
  cr_assert_eq(hmn_layer_write(layer, HMN_ARRAY_##arr, src, sizeof src, &err), 0, "%s", err.message)
  SET(W, exp_init_W);
  SET(PSI_F, exp_init_psi_f);
  SET(PSI_S, exp_init_psi_s);
  SET(PHI, exp_init_phi);
  SET(TAU, exp_init_tau);
  SET(X_HIST, exp_init_x_hist);
  SET(B, exp_init_b);
  SET(C, exp_init_c);
  SET(H, exp_init_h);
  SET(Z, exp_init_z);
  SET(KAPPA, exp_init_kappa);
  SET(W_K, exp_init_w_k);
  SET(SIGN, exp_init_sign);
  SET(ASTRO, exp_init_astro);
#undef SET
  layer->st.t = EXP_T0;
  return layer;
}

static void check_array(hmn_layer *layer, hmn_array which, const float *expected, size_t n, int step) {
  float got[16];
  hmn_error err;
  cr_assert_leq(n, 16);
  cr_assert_eq(hmn_layer_read(layer, which, got, n * sizeof(float), &err), 0, "%s", err.message);
  for (size_t k = 0; k < n; k++)
    cr_assert(fabs((double)got[k] - expected[k]) <= 2e-6 * (1.0 + fabs(expected[k])),
              "step %d: %s[%zu] = %.9g, independent model says %.9g", step, hmn_array_name(which),
              k, (double)got[k], (double)expected[k]);
}

#define CHECK_STEP(n)                                                                  \
  do {                                                                                 \
    float phase = exp_in##n##_phase;                                                   \
    hmn_step_input in = {exp_in##n##_x, exp_in##n##_E, exp_in##n##_C, &phase};         \
    cr_assert_eq(hmn_layer_step(layer, &in, &err), 0, "%s", err.message);              \
    check_array(layer, HMN_ARRAY_W, exp_step##n##_W, 6, n);                            \
    check_array(layer, HMN_ARRAY_PSI_F, exp_step##n##_psi_f, 6, n);                    \
    check_array(layer, HMN_ARRAY_PSI_S, exp_step##n##_psi_s, 6, n);                    \
    check_array(layer, HMN_ARRAY_X_HIST, exp_step##n##_x_hist, 6, n);                  \
    check_array(layer, HMN_ARRAY_B, exp_step##n##_b, 2, n);                            \
    check_array(layer, HMN_ARRAY_C, exp_step##n##_c, 2, n);                            \
    check_array(layer, HMN_ARRAY_H, exp_step##n##_h, 3, n);                            \
    check_array(layer, HMN_ARRAY_Z, exp_step##n##_z, 2, n);                            \
    check_array(layer, HMN_ARRAY_ASTRO, exp_step##n##_astro, 2, n);                    \
    hmn_layer_stats(layer, &stats, &err);                                              \
    cr_assert_eq(stats.applied, exp_step##n##_applied, "step %d applied %llu", n,      \
                 (unsigned long long)stats.applied);                                   \
  } while (0)

Test(ref, three_steps_match_independent_model) {
  hmn_error err;
  hmn_step_stats stats;
  hmn_layer *layer = expected_layer();
  CHECK_STEP(0);
  CHECK_STEP(1);
  CHECK_STEP(2);
  cr_assert_eq(hmn_layer_step_count(layer), EXP_T0 + EXP_STEPS);
  hmn_layer_destroy(layer);
}

Test(ref, bad_input_leaves_layer_unchanged) {
  hmn_error err;
  hmn_layer *layer = expected_layer();
  float x[3] = {1.0f, NAN, 0.0f};
  float phase = 0.0f;
  hmn_step_input in = {x, exp_in0_E, exp_in0_C, &phase};
  cr_assert_eq(hmn_layer_step(layer, &in, &err), HMN_ENUMERIC);
  cr_assert(strstr(err.message, "x[1]") != NULL, "%s", err.message);
  cr_assert(strstr(err.message, "step 5") != NULL, "%s", err.message);
  float w[6];
  hmn_layer_read(layer, HMN_ARRAY_W, w, sizeof w, &err);
  cr_assert_eq(memcmp(w, exp_init_W, sizeof w), 0);
  cr_assert_eq(hmn_layer_step_count(layer), EXP_T0);
  in.x = exp_in0_x;
  in.mod = NULL;
  cr_assert_eq(hmn_layer_step(layer, &in, &err), HMN_EINVAL);
  cr_assert(strstr(err.message, "'E'") != NULL, "%s", err.message);
  hmn_layer_destroy(layer);
}

/* Every mode switch and activation runs and stays finite on the stream
 * task; switching a mechanism off changes the weights it governs. */
Test(ref, every_mode_runs) {
  static const char *const settings[][2] = {
      {"attention", "softmax_n"}, {"attention", "off"},     {"global_attention", "off"},
      {"similarity", "dot"},      {"phase_gate", "off"},    {"stochastic", "off"},
      {"activation", "relu"},     {"activation", "sigmoid"}, {"activation", "linear"},
      {"delay_len", "1"},         {"inhibitory_fraction", "1"}, {"astro_lambda", "2"},
  };
  hmn_config base;
  hmn_test_small_config(&base, 6, 4);
  hmn_layer *ref_layer = NULL;
  hmn_error err;
  cr_assert_eq(hmn_layer_create(&base, "ref", &ref_layer, &err), 0, "%s", err.message);
  hmn_test_run_stream(ref_layer, 30);
  float w_base[24];
  hmn_layer_read(ref_layer, HMN_ARRAY_W, w_base, sizeof w_base, &err);
  hmn_layer_destroy(ref_layer);
  for (size_t s = 0; s < sizeof settings / sizeof settings[0]; s++) {
    hmn_config cfg = base;
    cr_assert_eq(hmn_config_set(&cfg, settings[s][0], settings[s][1], &err), 0, "%s", err.message);
    hmn_layer *layer = NULL;
    cr_assert_eq(hmn_layer_create(&cfg, "ref", &layer, &err), 0, "%s", err.message);
    hmn_test_run_stream(layer, 30);
    float w[24];
    hmn_layer_read(layer, HMN_ARRAY_W, w, sizeof w, &err);
    for (int k = 0; k < 24; k++) cr_assert(isfinite(w[k]), "%s=%s: w[%d] not finite", settings[s][0], settings[s][1], k);
    cr_assert_neq(memcmp(w, w_base, sizeof w), 0, "%s=%s changed nothing", settings[s][0],
                  settings[s][1]);
    hmn_layer_destroy(layer);
  }
}

Test(ref, same_seed_same_bits_other_seed_differs) {
  hmn_config cfg;
  hmn_test_small_config(&cfg, 7, 5);
  hmn_layer *a = NULL, *b = NULL, *c = NULL;
  hmn_error err;
  cr_assert_eq(hmn_layer_create(&cfg, "ref", &a, &err), 0);
  cr_assert_eq(hmn_layer_create(&cfg, "ref", &b, &err), 0);
  cfg.seed = 2;
  cr_assert_eq(hmn_layer_create(&cfg, "ref", &c, &err), 0);
  hmn_test_run_stream(a, 40);
  hmn_test_run_stream(b, 40);
  hmn_test_run_stream(c, 40);
  float wa[35], wb[35], wc[35];
  hmn_layer_read(a, HMN_ARRAY_W, wa, sizeof wa, &err);
  hmn_layer_read(b, HMN_ARRAY_W, wb, sizeof wb, &err);
  hmn_layer_read(c, HMN_ARRAY_W, wc, sizeof wc, &err);
  cr_assert_eq(memcmp(wa, wb, sizeof wa), 0);
  cr_assert_neq(memcmp(wa, wc, sizeof wa), 0);
  hmn_layer_destroy(a);
  hmn_layer_destroy(b);
  hmn_layer_destroy(c);
}

Test(ref, oscillator_phase) {
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  cfg.phase0 = 1.0f;
  cfg.osc_freq = 0.25f;
  cfg.dt = 1.0f;
  near(hmn__oscillator_phase(&cfg, 0), 1.0, 1e-7);
  near(hmn__oscillator_phase(&cfg, 1), 1.0 + HMN__PI / 2, 1e-6);
  /* Four steps make a whole cycle; after 4e9 steps the phase is still exact. */
  near(hmn__oscillator_phase(&cfg, 4000000000ULL), 1.0, 1e-6);
}

Test(ref, failed_allocation_leaves_nothing_behind) {
  /* Fail each allocation of layer creation in turn: every attempt must
   * fail cleanly (ASan reports any leak) and the next must succeed. */
  hmn_config cfg;
  hmn_test_small_config(&cfg, 4, 3);
  for (long n = 1; n < 40; n++) {
    hmn_layer *layer = NULL;
    hmn_error err;
    hmn__alloc_fail_after(n);
    int rc = hmn_layer_create(&cfg, "ref", &layer, &err);
    hmn__alloc_fail_after(0);
    if (rc == HMN_OK) {
      hmn_layer_destroy(layer);
      cr_assert_gt(n, 2, "creation cannot succeed with its first allocations failing");
      return;
    }
    cr_assert_eq(rc, HMN_ENOMEM, "allocation %ld: %s", n, err.message);
    cr_assert_null(layer);
  }
  cr_assert_fail("layer creation never succeeded");
}
