/*
 * test_rules.c - the rule families (stdp, triplet, bcm) and the options
 * that combine with them (heterosynaptic depression, synaptic scaling):
 * one step against the equations, the protocols' curve shapes, and
 * checkpoints written mid-protocol, on ref (suite rules); the same curves
 * and checkpoints on opencl, and each family's steps on opencl against
 * ref by SPEC section 5 (suite rules_opencl, skipped where no OpenCL
 * device exists).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "hmn.h"
#include "internal.h"
#include "opencl_support.h"
#include "support.h"

/* A layer whose one-step weight change is exactly kappa (as the
 * protocols build it). */
static void plain_config(hmn_config *cfg, int rule, int n_in, int n_out) {
  hmn_config_defaults(cfg);
  cfg->rule = rule;
  cfg->n_in = n_in;
  cfg->n_out = n_out;
  cfg->n_mod = 1;
  cfg->d_ctx = 1;
  cfg->delay_len = 1;
  cfg->astro_source = 0;
  cfg->activation = HMN_ACT_LINEAR;
  cfg->noise_sigma = 0.0f;
  cfg->bias_rate = 0.0f;
  cfg->attention = HMN_ATTN_OFF;
  cfg->global_attention = 0;
  cfg->eta_local = 1.0f;
  cfg->eta_global = 0.0f;
  cfg->rho_fast = 1.0f;
  cfg->rho_slow = 0.0f;
  cfg->tau_fast = 1e-6f;
  cfg->w_min = -100.0f;
  cfg->w_max = 100.0f;
  cfg->w_init = 0.0f;
  cfg->phase_gate = 0;
  cfg->stochastic = 0;
}

static hmn_layer *make_layer_on(const hmn_config *cfg, const char *backend) {
  hmn_layer *layer = NULL;
  hmn_error err = {0};
  cr_assert_eq(hmn_config_validate(cfg, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_create(cfg, backend, &layer, &err), HMN_OK, "%s: %s", backend,
               err.message);
  return layer;
}

static hmn_layer *make_layer(const hmn_config *cfg) { return make_layer_on(cfg, "ref"); }

static void step_clamped(hmn_layer *layer, const float *x, const float *z) {
  float mod = 0.0f, ctx = 0.0f;
  hmn_step_input in = {x, &mod, &ctx, NULL};
  hmn_error err = {0};
  cr_assert_eq(hmn_layer_step_clamped(layer, &in, z, &err), HMN_OK, "%s", err.message);
}

static float read1(hmn_layer *layer, hmn_array which, size_t index) {
  hmn_config cfg = *hmn_layer_config(layer);
  size_t n = hmn_array_length(&cfg, which);
  float *v = calloc(n, sizeof(float));
  hmn_error err = {0};
  cr_assert_eq(hmn_layer_read(layer, which, v, n * sizeof(float), &err), HMN_OK);
  float out = v[index];
  free(v);
  return out;
}

/* ---- one step against the equations ---- */

Test(rules, stdp_one_step_is_the_pair_rule) {
  hmn_config cfg;
  plain_config(&cfg, HMN_RULE_STDP, 1, 1);
  cfg.tau_plus = 20.0f;
  cfg.tau_minus = 40.0f;
  hmn_layer *layer = make_layer(&cfg);
  hmn_error err = {0};
  float pre[2] = {0.5f, 0.0f}, post[2] = {0.25f, 0.0f};
  cr_assert_eq(hmn_layer_write(layer, HMN_ARRAY_PRE_TRACE, pre, sizeof pre, &err), HMN_OK);
  cr_assert_eq(hmn_layer_write(layer, HMN_ARRAY_POST_TRACE, post, sizeof post, &err), HMN_OK);
  float x = 1.0f, z = 1.0f;
  step_clamped(layer, &x, &z);
  double want = 0.01 * 0.5 * exp(-1.0 / 20.0) - 0.012 * 0.25 * exp(-1.0 / 40.0);
  cr_assert_float_eq(read1(layer, HMN_ARRAY_W, 0), want, 1e-7);
  /* The traces decayed, then took this step's spikes (all-to-all adds). */
  cr_assert_float_eq(read1(layer, HMN_ARRAY_PRE_TRACE, 0), 0.5 * exp(-1.0 / 20.0) + 1.0, 1e-6);
  cr_assert_float_eq(read1(layer, HMN_ARRAY_POST_TRACE, 0), 0.25 * exp(-1.0 / 40.0) + 1.0, 1e-6);
  hmn_layer_destroy(layer);
}

Test(rules, triplet_one_step_uses_the_second_traces) {
  hmn_config cfg;
  plain_config(&cfg, HMN_RULE_TRIPLET, 1, 1);
  hmn_protocol_triplet_visual_cortex(&cfg, HMN_PAIRING_ALL);
  hmn_layer *layer = make_layer(&cfg);
  hmn_error err = {0};
  float pre[2] = {0.5f, 0.8f}, post[2] = {0.3f, 0.6f};
  cr_assert_eq(hmn_layer_write(layer, HMN_ARRAY_PRE_TRACE, pre, sizeof pre, &err), HMN_OK);
  cr_assert_eq(hmn_layer_write(layer, HMN_ARRAY_POST_TRACE, post, sizeof post, &err), HMN_OK);
  float x = 1.0f, z = 1.0f;
  step_clamped(layer, &x, &z);
  double r1 = 0.5 * exp(-1 / 16.8), r2 = 0.8 * exp(-1 / 101.0);
  double o1 = 0.3 * exp(-1 / 33.7), o2 = 0.6 * exp(-1 / 125.0);
  double want = r1 * (5e-10 + 6.2e-3 * o2) - o1 * (7e-3 + 2.3e-4 * r2);
  cr_assert_float_eq(read1(layer, HMN_ARRAY_W, 0), want, 1e-7);
  hmn_layer_destroy(layer);
}

Test(rules, nearest_pairing_keeps_only_the_latest_spike) {
  hmn_config cfg;
  plain_config(&cfg, HMN_RULE_TRIPLET, 1, 1);
  hmn_protocol_triplet_visual_cortex(&cfg, HMN_PAIRING_NEAREST);
  hmn_layer *layer = make_layer(&cfg);
  float x = 1.0f, z = 0.0f;
  step_clamped(layer, &x, &z);
  step_clamped(layer, &x, &z);
  cr_assert_float_eq(read1(layer, HMN_ARRAY_PRE_TRACE, 0), 1.0, 1e-7);
  hmn_layer_destroy(layer);
  cfg.pairing = HMN_PAIRING_ALL;
  layer = make_layer(&cfg);
  step_clamped(layer, &x, &z);
  step_clamped(layer, &x, &z);
  cr_assert_float_eq(read1(layer, HMN_ARRAY_PRE_TRACE, 0), 1.0 + exp(-1 / 16.8), 1e-6);
  hmn_layer_destroy(layer);
}

Test(rules, bcm_one_step_is_x_z_z_minus_theta) {
  hmn_config cfg;
  plain_config(&cfg, HMN_RULE_BCM, 1, 1);
  cfg.theta_init = 0.4f;
  hmn_layer *layer = make_layer(&cfg);
  float x = 0.5f, z = 0.7f;
  step_clamped(layer, &x, &z);
  cr_assert_float_eq(read1(layer, HMN_ARRAY_W, 0), 0.5 * 0.7 * (0.7 - 0.4), 1e-7);
  /* nu moved toward z, theta toward nu^2, both at their rates. */
  double nu = (1 - exp(-1 / 100.0)) * 0.7;
  cr_assert_float_eq(read1(layer, HMN_ARRAY_RATE, 0), nu, 1e-7);
  double th = exp(-1 / 1000.0) * 0.4 + (1 - exp(-1 / 1000.0)) * nu * nu;
  cr_assert_float_eq(read1(layer, HMN_ARRAY_THETA, 0), th, 1e-7);
  hmn_layer_destroy(layer);
}

Test(rules, bcm_theta_stays_in_its_bounds) {
  hmn_config cfg;
  plain_config(&cfg, HMN_RULE_BCM, 1, 1);
  cfg.theta_init = 0.1f;
  cfg.theta_max = 0.3f;
  cfg.tau_rate = 5.0f;
  cfg.tau_theta = 5.0f;
  hmn_layer *layer = make_layer(&cfg);
  float x = 1.0f, z = 0.9f;
  for (int s = 0; s < 200; s++) step_clamped(layer, &x, &z);
  cr_assert_float_eq(read1(layer, HMN_ARRAY_THETA, 0), 0.3, 1e-7);
  hmn_layer_destroy(layer);
}

Test(rules, heterosynaptic_depression_hits_silent_inputs_only) {
  hmn_config cfg;
  plain_config(&cfg, HMN_RULE_HEBBIAN, 2, 1);
  cfg.hetero_ratio = 0.5f;
  hmn_layer *layer = make_layer(&cfg);
  float x[2] = {0.8f, 0.0f}, z = 0.6f;
  step_clamped(layer, x, &z);
  cr_assert_float_eq(read1(layer, HMN_ARRAY_W, 0), 0.8 * 0.6, 1e-7);
  cr_assert_float_eq(read1(layer, HMN_ARRAY_W, 1), -0.5 * 0.6, 1e-7);
  hmn_layer_destroy(layer);
}

Test(rules, scaling_factor_is_bounded_by_scale_max) {
  hmn_config cfg;
  plain_config(&cfg, HMN_RULE_HEBBIAN, 1, 1);
  cfg.eta_local = 0.0f;
  cfg.scaling = 1;
  cfg.scale_max = 1.25f;
  cfg.tau_scale = 50.0f;
  hmn_layer *layer = make_layer(&cfg);
  hmn_error err = {0};
  float w = 0.4f;
  cr_assert_eq(hmn_layer_write(layer, HMN_ARRAY_W, &w, sizeof w, &err), HMN_OK);
  float x = 0.0f, z = 0.0f; /* silent: far below the target */
  for (int s = 0; s < 2000; s++) step_clamped(layer, &x, &z);
  cr_assert_float_eq(read1(layer, HMN_ARRAY_SCALE, 0), 1.25, 1e-6);
  cr_assert_float_eq(read1(layer, HMN_ARRAY_W, 0), 0.4 * 1.25, 1e-5);
  hmn_layer_destroy(layer);
}

/* ---- the protocols' curves ---- */

static hmn_protocol_result run_protocol(const char *name, const hmn_config *base,
                                        const char *backend) {
  hmn_protocol_result res;
  hmn_error err = {0};
  cr_assert_eq(hmn_protocol_run(name, base, backend, &res, &err), HMN_OK, "%s on %s: %s", name,
               backend, err.message);
  return res;
}

/* Each curve is checked by one function, run on ref (suite rules) and on
 * opencl (suite rules_opencl) with the same margins. */
#define HMN__BOTH_BACKENDS(name, check)                   \
  Test(rules, name) { check("ref"); }                     \
  Test(rules_opencl, name, .timeout = 600) {              \
    HMN_TEST_REQUIRE_OPENCL();                            \
    check("opencl");                                      \
  }

static void check_stdp_window(const char *backend) {
  hmn_config base;
  hmn_config_defaults(&base);
  base.tau_plus = 20.0f; /* the thalamocortical window */
  base.tau_minus = 40.0f;
  hmn_protocol_result res = run_protocol("stdp-window", &base, backend);
  cr_assert_eq(res.n_fit, 4);
  cr_assert(fabs(res.fit[0] / 0.01 - 1) < 0.02, "A+ %g", res.fit[0]);
  cr_assert(fabs(res.fit[1] / 20.0 - 1) < 0.02, "tau+ %g", res.fit[1]);
  cr_assert(fabs(res.fit[2] / 0.012 - 1) < 0.02, "A- %g", res.fit[2]);
  cr_assert(fabs(res.fit[3] / 40.0 - 1) < 0.02, "tau- %g", res.fit[3]);
  /* LTP for pre before post, LTD for post before pre, nothing at 0. */
  for (size_t r = 0; r < res.n_rows; r++) {
    double dt = res.values[r * 2], dw = res.values[r * 2 + 1];
    if (dt > 0) cr_assert_gt(dw, 0.0, "dt %g", dt);
    if (dt < 0) cr_assert_lt(dw, 0.0, "dt %g", dt);
    /* At 0 only the previous pairing's traces are left: 60 A- e^(-1000/40) ~ 1e-11. */
    if (dt == 0) cr_assert(fabs(dw) < 1e-9, "%g", dw);
  }
  hmn_protocol_result_free(&res);
}
HMN__BOTH_BACKENDS(stdp_window_fits_the_configured_time_constants, check_stdp_window)

static void check_stdp_window_ca3(const char *backend) {
  hmn_config base;
  hmn_config_defaults(&base);
  base.tau_plus = 20.0f;
  base.tau_minus = 10.0f;
  hmn_protocol_result res = run_protocol("stdp-window", &base, backend);
  cr_assert(fabs(res.fit[1] / 20.0 - 1) < 0.02, "tau+ %g", res.fit[1]);
  cr_assert(fabs(res.fit[3] / 10.0 - 1) < 0.02, "tau- %g", res.fit[3]);
  hmn_protocol_result_free(&res);
}
HMN__BOTH_BACKENDS(stdp_window_with_ca3_time_constants, check_stdp_window_ca3)

/* Sjostrom et al. 2001 as Pfister & Gerstner 2006 fit it: post-before-pre
 * depresses at low frequency, both orders potentiate at 50 Hz. */
static void check_triplet_frequency(const char *backend) {
  hmn_config base;
  hmn_config_defaults(&base);
  hmn_protocol_result res = run_protocol("triplet-frequency", &base, backend);
  const double *lo = &res.values[0], *hi = &res.values[(res.n_rows - 1) * 5];
  cr_assert_float_eq(lo[0], 0.1, 1e-12);
  cr_assert_float_eq(hi[0], 50.0, 1e-12);
  for (int p = 0; p < 2; p++) {
    double pre_post_lo = lo[1 + 2 * p], post_pre_lo = lo[2 + 2 * p];
    double pre_post_hi = hi[1 + 2 * p], post_pre_hi = hi[2 + 2 * p];
    cr_assert(fabs(pre_post_lo) < 0.01, "pairing %d: pre-post at 0.1 Hz %g", p, pre_post_lo);
    cr_assert(post_pre_lo < -0.2 && post_pre_lo > -0.5, "pairing %d: post-pre 0.1 Hz %g", p,
              post_pre_lo);
    cr_assert(pre_post_hi > 0.4 && pre_post_hi < 1.0, "pairing %d: pre-post 50 Hz %g", p,
              pre_post_hi);
    cr_assert(post_pre_hi > 0.4 && post_pre_hi < 1.0, "pairing %d: post-pre 50 Hz %g", p,
              post_pre_hi);
  }
  /* pre-post grows with frequency. */
  for (size_t r = 1; r < res.n_rows; r++) cr_assert_gt(res.values[r * 5 + 1], res.values[(r - 1) * 5 + 1]);
  hmn_protocol_result_free(&res);
}
HMN__BOTH_BACKENDS(triplet_frequency_has_the_published_shape, check_triplet_frequency)

static void check_bcm_crossover(const char *backend) {
  hmn_config base;
  hmn_config_defaults(&base);
  hmn_protocol_result res = run_protocol("bcm", &base, backend);
  static const double theta[] = {0.25, 0.5, 0.75};
  for (int k = 0; k < 3; k++) cr_assert(fabs(res.fit[k] - theta[k]) < 0.01, "%g", res.fit[k]);
  for (size_t r = 1; r < res.n_rows; r++) {
    double rate = res.values[r * 4];
    for (int k = 0; k < 3; k++) {
      double dw = res.values[r * 4 + 1 + k];
      if (rate < theta[k] - 1e-9) cr_assert_lt(dw, 0.0);
      if (rate > theta[k] + 1e-9) cr_assert_gt(dw, 0.0);
    }
  }
  hmn_protocol_result_free(&res);
}
HMN__BOTH_BACKENDS(bcm_crosses_zero_at_theta, check_bcm_crossover)

static void check_bcm_theta(const char *backend) {
  hmn_config base;
  hmn_config_defaults(&base);
  hmn_protocol_result res = run_protocol("bcm-theta", &base, backend);
  /* 0.8^2 = 0.64 after the high phase, 0.3^2 = 0.09 after the low one. */
  cr_assert(res.fit[0] > 0.55 && res.fit[0] < 0.64, "%g", res.fit[0]);
  cr_assert(res.fit[1] > 0.09 && res.fit[1] < 0.15, "%g", res.fit[1]);
  hmn_protocol_result_free(&res);
}
HMN__BOTH_BACKENDS(bcm_theta_follows_the_recent_rate, check_bcm_theta)

static void check_scaling(const char *backend) {
  hmn_config base;
  hmn_config_defaults(&base);
  hmn_protocol_result res = run_protocol("scaling", &base, backend);
  const double *end = &res.values[(res.n_rows - 1) * 5];
  cr_assert(end[1] < 0.5 && end[2] > 0.5, "w_high %g w_low %g", end[1], end[2]);
  /* Exact balance is w = 1/3 and 5/6: rates 0.15 and 0.06 to 0.1. */
  cr_assert(fabs(end[1] / (1.0 / 3.0) - 1) < 0.03, "w_high %g", end[1]);
  cr_assert(fabs(end[2] / (5.0 / 6.0) - 1) < 0.03, "w_low %g", end[2]);
  cr_assert(fabs(end[3] - 0.1) < 0.005 && fabs(end[4] - 0.1) < 0.005);
  hmn_protocol_result_free(&res);
}
HMN__BOTH_BACKENDS(scaling_brings_both_neurons_back_to_target, check_scaling)

Test(rules, unknown_protocol_is_named) {
  hmn_config base;
  hmn_config_defaults(&base);
  hmn_protocol_result res;
  hmn_error err = {0};
  cr_assert_eq(hmn_protocol_run("oja", &base, "ref", &res, &err), HMN_EINVAL);
  cr_assert(strstr(err.message, "'oja'") != NULL, "%s", err.message);
}

/* ---- state and backends ---- */

/* A checkpoint written mid-protocol resumes with the same bits as the
 * layer that kept going. */
static void resume_case(int rule, int pairing, const char *backend) {
  hmn_config cfg;
  plain_config(&cfg, rule, 3, 2);
  cfg.pairing = pairing;
  cfg.hetero_ratio = 0.1f;
  cfg.scaling = 1;
  cfg.tau_scale = 200.0f;
  cfg.tau_theta = 50.0f;
  cfg.eta_local = 0.01f;
  cfg.rho_slow = 0.5f;
  hmn_layer *a = make_layer_on(&cfg, backend);
  hmn_error err = {0};
  uint32_t rng = 12345;
  float xs[600][3], zs[600][2];
  for (int s = 0; s < 600; s++) {
    for (int i = 0; i < 3; i++) {
      rng = rng * 1664525u + 1013904223u;
      xs[s][i] = (rng >> 28) == 0 ? 1.0f : 0.0f;
    }
    for (int j = 0; j < 2; j++) {
      rng = rng * 1664525u + 1013904223u;
      zs[s][j] = (rng >> 28) < 2 ? 1.0f : 0.0f;
    }
  }
  for (int s = 0; s < 300; s++) step_clamped(a, xs[s], zs[s]);
  const char *path = hmn_test_path("rules-mid.ckpt");
  cr_assert_eq(hmn_layer_save(a, path, &err), HMN_OK, "%s", err.message);
  hmn_layer *b = NULL;
  cr_assert_eq(hmn_layer_load(path, backend, &b, &err), HMN_OK, "%s", err.message);
  for (int s = 300; s < 600; s++) {
    step_clamped(a, xs[s], zs[s]);
    step_clamped(b, xs[s], zs[s]);
  }
  for (int k = 0; k < HMN_ARRAY_COUNT; k++) {
    size_t bytes = hmn_array_length(&cfg, (hmn_array)k) * (hmn_array_type((hmn_array)k) == HMN_U8 ? 1 : 4);
    unsigned char *va = malloc(bytes), *vb = malloc(bytes);
    cr_assert_eq(hmn_layer_read(a, (hmn_array)k, va, bytes, &err), HMN_OK);
    cr_assert_eq(hmn_layer_read(b, (hmn_array)k, vb, bytes, &err), HMN_OK);
    cr_assert(memcmp(va, vb, bytes) == 0, "%s: array %s differs after resume", backend,
              hmn_array_name((hmn_array)k));
    free(va);
    free(vb);
  }
  /* The run changed the families' state, so the comparison saw it. */
  cr_assert_neq(read1(a, HMN_ARRAY_SCALE, 0), 1.0f);
  hmn_layer_destroy(a);
  hmn_layer_destroy(b);
}

static void resume_stdp(const char *backend) { resume_case(HMN_RULE_STDP, HMN_PAIRING_ALL, backend); }
static void resume_triplet_nearest(const char *backend) {
  resume_case(HMN_RULE_TRIPLET, HMN_PAIRING_NEAREST, backend);
}
static void resume_bcm(const char *backend) { resume_case(HMN_RULE_BCM, HMN_PAIRING_ALL, backend); }
HMN__BOTH_BACKENDS(checkpoint_mid_protocol_resumes_stdp, resume_stdp)
HMN__BOTH_BACKENDS(checkpoint_mid_protocol_resumes_triplet_nearest, resume_triplet_nearest)
HMN__BOTH_BACKENDS(checkpoint_mid_protocol_resumes_bcm, resume_bcm)

/* Every backend takes the families: a layer is created, or fails for a
 * reason of its own (no device, no card), never by refusing the family. */
Test(rules, every_backend_takes_the_families) {
  static const struct {
    int rule;
    float hetero;
    int scaling;
    const char *what;
  } cases[] = {{HMN_RULE_STDP, 0, 0, "rule 'stdp'"},
               {HMN_RULE_TRIPLET, 0, 0, "rule 'triplet'"},
               {HMN_RULE_BCM, 0, 0, "rule 'bcm'"},
               {HMN_RULE_HEBBIAN, 0.5f, 0, "heterosynaptic"},
               {HMN_RULE_HEBBIAN, 0, 1, "scaling"}};
  static const char *const backends[] = {"ref", "opencl", "opencl-fpga", "xrt"};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    for (size_t b = 0; b < sizeof backends / sizeof backends[0]; b++) {
      hmn_config cfg;
      hmn_config_defaults(&cfg);
      cfg.rule = cases[c].rule;
      cfg.hetero_ratio = cases[c].hetero;
      cfg.scaling = cases[c].scaling;
      hmn_layer *layer = NULL;
      hmn_error err = {0};
      int rc = hmn_layer_create(&cfg, backends[b], &layer, &err);
      if (rc == HMN_EBACKEND) continue; /* a build without this backend */
      if (b == 0) cr_assert_eq(rc, HMN_OK, "%s on ref: %s", cases[c].what, err.message);
      cr_assert(rc != HMN_EUNSUPPORTED || strstr(err.message, cases[c].what) == NULL,
                "%s on %s refused: %s", cases[c].what, backends[b], err.message);
      hmn_layer_destroy(layer);
    }
}

Test(rules, clamp_must_be_finite) {
  hmn_config cfg;
  plain_config(&cfg, HMN_RULE_STDP, 1, 1);
  hmn_layer *layer = make_layer(&cfg);
  float x = 1.0f, z = NAN, mod = 0.0f, ctx = 0.0f;
  hmn_step_input in = {&x, &mod, &ctx, NULL};
  hmn_error err = {0};
  cr_assert_eq(hmn_layer_step_clamped(layer, &in, &z, &err), HMN_ENUMERIC);
  cr_assert(strstr(err.message, "z_clamp") != NULL, "%s", err.message);
  cr_assert_eq(hmn_layer_step_count(layer), 0);
  hmn_layer_destroy(layer);
}

/* ---- adenosine fatigue, a modulator source ---- */

Test(rules, adenosine_rises_with_activity_and_decays_at_rest) {
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  cfg.n_in = 2;
  cfg.n_out = 2;
  cfg.n_mod = 4;
  cfg.adenosine = 1;
  cfg.adenosine_decay = 0.9f;
  cfg.adenosine_gain = 0.5f;
  hmn_error err = {0};
  cr_assert_eq(hmn_config_validate(&cfg, &err), HMN_OK, "%s", err.message);
  hmn__sources src;
  cr_assert_eq(hmn__sources_init(&src, &cfg, &err), HMN_OK);
  float x[2] = {0, 0}, busy[2] = {1.0f, -0.6f}, rest[2] = {0, 0}, mod[4];
  double a = 0.0;
  for (int s = 0; s < 20; s++) {
    hmn__sources_signals(&src, &cfg, x, busy, mod);
    a = 0.9 * a + 0.5 * 0.8; /* mean |z| = 0.8 */
    cr_assert_float_eq(mod[3], -a, 1e-5, "step %d", s);
  }
  float high = src.adenosine;
  cr_assert_gt(high, 3.0f); /* on its way to 0.4 / 0.1 = 4 */
  for (int s = 0; s < 20; s++) hmn__sources_signals(&src, &cfg, x, rest, mod);
  cr_assert_float_eq(src.adenosine, high * pow(0.9, 20), 1e-5);
  /* It travels in the sources' checkpoint section. */
  size_t bytes = hmn__sources_bytes(&cfg);
  unsigned char *buf = malloc(bytes);
  hmn__sources_encode(&src, &cfg, buf);
  hmn__sources back;
  cr_assert_eq(hmn__sources_init(&back, &cfg, &err), HMN_OK);
  hmn__ckpt_blob blob = {buf, bytes};
  cr_assert_eq(hmn__sources_decode(&back, &cfg, &blob, "mem", &err), HMN_OK, "%s", err.message);
  cr_assert(memcmp(&back.adenosine, &src.adenosine, sizeof(float)) == 0);
  free(buf);
  hmn__sources_free(&src);
  hmn__sources_free(&back);
}

Test(rules, adenosine_needs_a_modulator_of_its_own) {
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  cfg.adenosine = 1;
  hmn_error err = {0};
  cr_assert_eq(hmn_config_validate(&cfg, &err), HMN_ECONFIG);
  cr_assert(strstr(err.message, "n_mod >= 4") != NULL, "%s", err.message);
}

/* ---- D1/D2 populations ---- */

Test(rules, d2_fraction_negates_the_last_neurons) {
  hmn_config cfg;
  plain_config(&cfg, HMN_RULE_HEBBIAN, 1, 8);
  cfg.d2_fraction = 0.25f;
  cfg.eta_local = 0.0f;
  cfg.eta_global = 1.0f;
  hmn_layer *layer = make_layer(&cfg);
  for (int j = 0; j < 8; j++)
    cr_assert_eq(read1(layer, HMN_ARRAY_SIGN, (size_t)j), j >= 6 ? -1.0f : 1.0f, "neuron %d", j);
  /* The same modulated Hebbian step moves D1 and D2 weights apart. */
  float x = 1.0f, z[8] = {1, 1, 1, 1, 1, 1, 1, 1}, mod = 0.5f, ctx = 1.0f;
  hmn_step_input in = {&x, &mod, &ctx, NULL};
  hmn_error err = {0};
  cr_assert_eq(hmn_layer_step_clamped(layer, &in, z, &err), HMN_OK, "%s", err.message);
  cr_assert_float_eq(read1(layer, HMN_ARRAY_W, 0), 0.5, 1e-6);
  cr_assert_float_eq(read1(layer, HMN_ARRAY_W, 7), -0.5, 1e-6);
  hmn_layer_destroy(layer);
}

/* ---- hmn protocol ---- */

/* Runs `hmn ARGS` with stdout into `out_name`; returns the exit code. */
static int run_hmn(const char *args, const char *out_name) {
  const char *bin = getenv("HMN_BIN");
  cr_assert_not_null(bin, "HMN_BIN is not set (run through ctest)");
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "'%s' %s > '%s' 2>&1", bin, args, hmn_test_path(out_name));
  int status = system(cmd);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(rules, cli_protocol_writes_the_csv_and_prints_the_fit) {
  char args[1024];
  snprintf(args, sizeof args, "protocol bcm --csv '%s'", hmn_test_path("bcm.csv"));
  cr_assert_eq(run_hmn(args, "bcm.out"), 0);
  size_t len = 0;
  char *out = (char *)hmn_test_read_file(hmn_test_path("bcm.out"), &len);
  cr_assert_not_null(out);
  cr_assert(strstr(out, "theta = 0.50: dw crosses 0 at rate 0.5000") != NULL, "%s", out);
  free(out);
  char *csv = (char *)hmn_test_read_file(hmn_test_path("bcm.csv"), &len);
  cr_assert_not_null(csv);
  cr_assert(strncmp(csv, "rate,dw_theta_0.25,dw_theta_0.5,dw_theta_0.75\n0,", 47) == 0, "%s", csv);
  int lines = 0;
  for (size_t k = 0; k < len; k++) lines += csv[k] == '\n';
  cr_assert_eq(lines, 22); /* the header and 21 rates */
  free(csv);
}

Test(rules, cli_protocol_names_what_it_refuses) {
  cr_assert_eq(run_hmn("protocol oja", "oja.out"), 2);
  char *out = (char *)hmn_test_read_file(hmn_test_path("oja.out"), &(size_t){0});
  cr_assert(strstr(out, "unknown protocol 'oja'") != NULL, "%s", out);
  free(out);
  cr_assert_eq(run_hmn("protocol stdp-window --backend opencl-fpga", "fpga.out"), 1);
  out = (char *)hmn_test_read_file(hmn_test_path("fpga.out"), &(size_t){0});
  /* (the FPGA kernel has the families, not the clamp the protocols step with) */
  cr_assert(strstr(out, "backend 'opencl-fpga' has no postsynaptic clamp") != NULL, "%s", out);
  free(out);
}

/* ---- each family on opencl against ref (SPEC section 5) ----
 *
 * A busy 37 x 13 layer (noise, attention, astrocytes, slow traces, the
 * phase gate) with the family on, from the same pseudo-random state on
 * both backends, stepped with z imposed (as the protocols step): z, c,
 * the bias, the traces, the rates and thresholds and the scaling factors
 * are then elementwise the same float operations on both backends and
 * are held to max(1e-6, 1e-5 |x|) after every step. The weights also
 * take the softmax denominators and G (reductions, 1e-5 of the update
 * they scale), so each step adds tol(w) + 1e-5 |dw| to their bound; the
 * bound is carried from step to step (times the scaling factor, which
 * multiplies the weight and any difference it holds). */

typedef struct {
  const char *name;
  int rule, pairing, scaling, adenosine;
  float hetero, d2;
} family_case;

static const family_case families[] = {
    {"stdp", HMN_RULE_STDP, HMN_PAIRING_ALL, 0, 0, 0.0f, 0.0f},
    {"triplet all-to-all", HMN_RULE_TRIPLET, HMN_PAIRING_ALL, 0, 0, 0.0f, 0.0f},
    {"triplet nearest", HMN_RULE_TRIPLET, HMN_PAIRING_NEAREST, 0, 0, 0.0f, 0.0f},
    {"bcm", HMN_RULE_BCM, HMN_PAIRING_ALL, 0, 0, 0.0f, 0.0f},
    {"hetero", HMN_RULE_HEBBIAN, HMN_PAIRING_ALL, 0, 0, 0.3f, 0.0f},
    {"scaling", HMN_RULE_HEBBIAN, HMN_PAIRING_ALL, 1, 0, 0.0f, 0.0f},
    {"d2_fraction", HMN_RULE_HEBBIAN, HMN_PAIRING_ALL, 0, 0, 0.0f, 0.4f},
    {"adenosine", HMN_RULE_HEBBIAN, HMN_PAIRING_ALL, 0, 1, 0.0f, 0.0f},
    {"stdp + hetero + scaling", HMN_RULE_STDP, HMN_PAIRING_ALL, 1, 0, 0.2f, 0.0f},
    {"bcm + hetero + scaling", HMN_RULE_BCM, HMN_PAIRING_ALL, 1, 0, 0.2f, 0.0f},
};
enum { FAMILY_COUNT = sizeof families / sizeof families[0] };

static void family_config(const family_case *fc, hmn_config *cfg) {
  hmn_test_busy_config(cfg, 37, 13);
  cfg->phase_gate = 1;
  cfg->stochastic = 0;
  cfg->eta_local = 0.05f;
  cfg->eta_global = 0.02f;
  cfg->rule = fc->rule;
  cfg->pairing = fc->pairing;
  cfg->hetero_ratio = fc->hetero;
  cfg->scaling = fc->scaling;
  cfg->d2_fraction = fc->d2;
  /* Fast enough that a few steps move the rate, theta and S_j. */
  cfg->tau_rate = 5.0f;
  cfg->tau_theta = 10.0f;
  cfg->tau_scale = 20.0f;
  cfg->scale_target = 0.3f;
  if (fc->adenosine) {
    cfg->n_mod = 4;
    cfg->adenosine = 1;
    cfg->adenosine_gain = 0.2f;
  }
}

static uint32_t family_lcg(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return *s;
}

/* Uniform in [lo, hi), or exactly 0 with probability 3/10. */
static float family_value(uint32_t *s, float lo, float hi) {
  if (family_lcg(s) % 10u < 3u) return 0.0f;
  return lo + (hi - lo) * (float)(family_lcg(s) >> 8) * (1.0f / 16777216.0f);
}

static float *read_all(hmn_layer *layer, hmn_array which) {
  size_t bytes = hmn__array_bytes(hmn_layer_config(layer), which);
  float *v = malloc(bytes > 0 ? bytes : 1);
  hmn_error err = {0};
  cr_assert_not_null(v);
  cr_assert_eq(hmn_layer_read(layer, which, v, bytes, &err), HMN_OK, "%s", err.message);
  return v;
}

static void write_both(hmn_test_pair *pair, hmn_array which, const float *v) {
  size_t bytes = hmn__array_bytes(hmn_layer_config(pair->ref), which);
  hmn_error err = {0};
  cr_assert_eq(hmn_layer_write(pair->ref, which, v, bytes, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_write(pair->ocl, which, v, bytes, &err), HMN_OK, "%s", err.message);
}

/* The families' arrays within their domains (traces and rates >= 0,
 * theta in its bounds, S_j > 0); the D1/D2 signs as the config made them. */
static void family_state(hmn_test_pair *pair, const hmn_config *cfg, const float *sign,
                         uint32_t seed) {
  static const hmn_array arrays[] = {HMN_ARRAY_PRE_TRACE, HMN_ARRAY_POST_TRACE, HMN_ARRAY_RATE,
                                     HMN_ARRAY_THETA, HMN_ARRAY_SCALE};
  uint32_t s = seed * 2246822519u + 7u;
  for (size_t a = 0; a < sizeof arrays / sizeof arrays[0]; a++) {
    size_t n = hmn_array_length(cfg, arrays[a]);
    float *v = calloc(n, sizeof(float));
    cr_assert_not_null(v);
    for (size_t k = 0; k < n; k++)
      v[k] = arrays[a] == HMN_ARRAY_SCALE ? 0.7f + 0.7f * (float)(family_lcg(&s) >> 8) / 16777216.0f
                                          : family_value(&s, 0.0f, 1.0f);
    write_both(pair, arrays[a], v);
    free(v);
  }
  write_both(pair, HMN_ARRAY_SIGN, sign);
}

static double family_tol(double x) { return fmax(1e-6, 1e-5 * fabs(x)); }

/* `steps` clamped steps of family case `c` on ref and opencl, compared
 * after each. */
static void family_run(size_t c, int steps) {
  HMN_TEST_REQUIRE_OPENCL();
  const family_case *fc = &families[c];
  hmn_config cfg;
  family_config(fc, &cfg);
  hmn_test_pair pair;
  hmn_test_pair_create_on(&cfg, "opencl", &pair);
  float *sign = read_all(pair.ref, HMN_ARRAY_SIGN);
  if (fc->d2 > 0.0f) cr_assert_eq(sign[cfg.n_out - 1], -1.0f, "%s: the D2 population", fc->name);
  hmn_test_pair_randomize(&pair, 31u + (uint32_t)c, 500);
  family_state(&pair, &cfg, sign, (uint32_t)c);
  free(sign);
  hmn__sources src;
  hmn_error err = {0};
  cr_assert_eq(hmn__sources_init(&src, &cfg, &err), HMN_OK, "%s", err.message);

  size_t n_w = hmn_array_length(&cfg, HMN_ARRAY_W);
  double *w_bound = calloc(n_w, sizeof(double));
  float *x = calloc((size_t)cfg.n_in, sizeof(float)), *mod = calloc((size_t)cfg.n_mod, sizeof(float));
  float *ctx = calloc((size_t)cfg.d_ctx, sizeof(float)), *z = calloc((size_t)cfg.n_out, sizeof(float));
  cr_assert(w_bound != NULL && x != NULL && mod != NULL && ctx != NULL && z != NULL);
  uint32_t s = 977u + (uint32_t)c;
  bool moved = false;
  for (int step = 0; step < steps; step++) {
    for (int i = 0; i < cfg.n_in; i++) x[i] = family_value(&s, -1.0f, 1.0f);
    for (int d = 0; d < cfg.d_ctx; d++) ctx[d] = family_value(&s, -1.0f, 1.0f);
    /* Adenosine's E follows the previous step's activity, as in a loop. */
    if (fc->adenosine)
      hmn__sources_signals(&src, &cfg, x, z, mod);
    else
      for (int k = 0; k < cfg.n_mod; k++) mod[k] = family_value(&s, -1.0f, 1.0f);
    for (int j = 0; j < cfg.n_out; j++) z[j] = family_value(&s, 0.0f, 1.0f);
    float phase = 6.2831853f * (float)(family_lcg(&s) >> 8) / 16777216.0f;
    hmn_step_input in = {x, mod, ctx, step % 2 == 0 ? &phase : NULL};

    float *w0 = read_all(pair.ref, HMN_ARRAY_W), *s0 = read_all(pair.ref, HMN_ARRAY_SCALE);
    cr_assert_eq(hmn_layer_step_clamped(pair.ref, &in, z, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(hmn_layer_step_clamped(pair.ocl, &in, z, &err), HMN_OK, "%s: opencl: %s",
                 fc->name, err.message);
    float *s1 = read_all(pair.ref, HMN_ARRAY_SCALE);
    for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
      hmn_array which = (hmn_array)a;
      size_t n = hmn_array_length(&cfg, which);
      float *r = read_all(pair.ref, which), *o = read_all(pair.ocl, which);
      if (hmn_array_type(which) == HMN_U8) {
        cr_assert(memcmp(r, o, n) == 0, "%s, step %d: %s differs", fc->name, step,
                  hmn_array_name(which));
      } else {
        for (size_t k = 0; k < n; k++) {
          double bound = family_tol(r[k]);
          if (which == HMN_ARRAY_W) {
            size_t j = k / (size_t)cfg.n_in;
            double factor = cfg.scaling ? fabs((double)s1[j] / (double)s0[j]) : 1.0;
            double dw = fabs((double)r[k] - (double)w0[k] * factor);
            w_bound[k] = w_bound[k] * fmax(1.0, factor) + family_tol(r[k]) + 1e-5 * dw;
            bound = w_bound[k];
            moved = moved || dw > 1e-4;
          }
          cr_assert(fabs((double)o[k] - (double)r[k]) <= bound,
                    "%s, step %d: %s[%zu] = %.9g on opencl, ref %.9g (bound %.3g)", fc->name,
                    step, hmn_array_name(which), k, (double)o[k], (double)r[k], bound);
        }
      }
      free(r);
      free(o);
    }
    hmn_step_stats sr, so;
    cr_assert_eq(hmn_layer_stats(pair.ref, &sr, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(hmn_layer_stats(pair.ocl, &so, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(so.candidates, sr.candidates, "%s, step %d: candidate updates", fc->name, step);
    free(w0);
    free(s0);
    free(s1);
  }
  /* The steps did learn, so the comparison saw the family at work. */
  cr_assert(moved, "%s: no weight moved", fc->name);
  hmn__sources_free(&src);
  free(w_bound);
  free(x);
  free(mod);
  free(ctx);
  free(z);
  hmn_test_pair_destroy(&pair);
}

#define HMN__FAMILY_CASE(c, slug)                                                          \
  Test(rules_opencl, slug##_one_step, .timeout = 300) { family_run(c, 1); }                \
  Test(rules_opencl, slug##_50_steps, .timeout = 300) { family_run(c, 50); }
HMN__FAMILY_CASE(0, stdp)
HMN__FAMILY_CASE(1, triplet_all)
HMN__FAMILY_CASE(2, triplet_nearest)
HMN__FAMILY_CASE(3, bcm)
HMN__FAMILY_CASE(4, hetero)
HMN__FAMILY_CASE(5, scaling)
HMN__FAMILY_CASE(6, d2_fraction)
HMN__FAMILY_CASE(7, adenosine)
HMN__FAMILY_CASE(8, stdp_hetero_scaling)
HMN__FAMILY_CASE(9, bcm_hetero_scaling)
_Static_assert(FAMILY_COUNT == 10, "every family case has its tests");

/* A layer's family can change under it: a checkpoint of another family
 * loaded into an opencl layer runs that family (the program is built
 * again), with the same bits as ref from there on. */
Test(rules_opencl, checkpoint_of_another_family_switches_the_program, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config heb, stdp;
  plain_config(&heb, HMN_RULE_HEBBIAN, 3, 2);
  stdp = heb;
  stdp.rule = HMN_RULE_STDP;
  stdp.scaling = 1;
  hmn_layer *saved = make_layer(&stdp), *ocl = make_layer_on(&heb, "opencl");
  float x[3] = {1, 0, 1}, z[2] = {0, 1};
  for (int s = 0; s < 5; s++) step_clamped(saved, x, z);
  const char *path = hmn_test_path("rules-switch.ckpt");
  hmn_error err = {0};
  cr_assert_eq(hmn_layer_save(saved, path, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_restore(ocl, path, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_config(ocl)->rule, HMN_RULE_STDP);
  float x2[3] = {0, 1, 1}, z2[2] = {1, 1};
  for (int s = 0; s < 7; s++) {
    step_clamped(saved, s % 2 ? x : x2, s % 3 ? z : z2);
    step_clamped(ocl, s % 2 ? x : x2, s % 3 ? z : z2);
  }
  hmn_test_assert_same_bits(saved, ocl, "stdp restored into a Hebbian opencl layer");
  hmn_layer_destroy(saved);
  hmn_layer_destroy(ocl);
}

/* Oclgrind finds no out-of-bounds access, race or uninitialized read in
 * a family's kernel: rows with a partial last chunk (the padded lanes that
 * heterosynaptic depression must leave alone), several steps to a launch,
 * and each family with the options on. */
Test(rules_opencl, oclgrind_finds_nothing_in_the_families, .timeout = 600) {
  static const char *const configs[] = {
      "--size 19x3 --rule triplet --set hetero_ratio=0.2 --set scaling=on --set delay_len=3",
      "--size 7x2 --rule bcm --set hetero_ratio=0.2 --set scaling=on",
      "--size 33x2 --rule stdp --set pairing=nearest --set delay_len=1",
  };
  hmn_test_oclgrind_clean("bench --batch 7 --steps 20 --repeats 1 --warmup 0 --no-probe "
                          "--no-profile --meter none",
                          "opencl", "", configs, sizeof configs / sizeof configs[0]);
}

/* ---- hmn bench --rule ---- */

Test(rules, bench_rule_names_the_family_in_its_json) {
  static const char *const rules[][2] = {
      {"stdp", "\"rule\": \"stdp\""}, {"hetero", "\"rule\": \"hebbian+hetero\""},
      {"scaling", "\"rule\": \"hebbian+scaling\""}};
  for (size_t k = 0; k < 3; k++) {
    char args[512];
    snprintf(args, sizeof args,
             "bench --backend ref --size 8 --rule %s --steps 3 --repeats 1 --warmup 0 "
             "--no-profile --no-probe --meter none --json --quiet",
             rules[k][0]);
    cr_assert_eq(run_hmn(args, "bench.json"), 0, "--rule %s", rules[k][0]);
    char *out = (char *)hmn_test_read_file(hmn_test_path("bench.json"), &(size_t){0});
    cr_assert_not_null(out);
    cr_assert(strstr(out, rules[k][1]) != NULL, "--rule %s: %s", rules[k][0], out);
    free(out);
  }
  cr_assert_eq(run_hmn("bench --rule oja", "bench.out"), 2);
  char *out = (char *)hmn_test_read_file(hmn_test_path("bench.out"), &(size_t){0});
  cr_assert(strstr(out, "--rule must be") != NULL && strstr(out, "'oja'") != NULL, "%s", out);
  free(out);
}
