/*
 * test_fpga.c - the FPGA kernel (kernels/hmn_fpga.cl: one work-item,
 * 512-bit words, on-chip state, dataflow stages) run through PoCL as the
 * "opencl-fpga" backend agrees with ref by SPEC section 5 (every mode and
 * activation and the odd sizes are in test_backend_matrix.c), 200-step
 * runs with borderline flips counted,
 * snapshots and checkpoints across backends, a clear error when a layer
 * does not fit on chip, and Oclgrind's checks of the kernel (no invalid
 * or uninitialized access, on-chip arrays included). The rule families
 * (stdp, triplet all-to-all and nearest, bcm, heterosynaptic depression,
 * synaptic scaling, D1/D2) against ref, each a test of its own.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "opencl_support.h"
#include "support.h"

TestSuite(fpga);

/* Every mode combination and the odd shapes against ref:
 * test_backend_matrix.c. */

/* The stream task for 200 steps; after a borderline flip ref's weights
 * are copied over, so that one decision does not fail every later step. */
Test(fpga, two_hundred_steps_agree, .timeout = 900) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_test_busy_config(&cfg, 48, 24);
  cfg.eta_local = 0.01f;
  cfg.eta_global = 0.05f;
  size_t flips = hmn_test_long_run(&cfg, "opencl-fpga", 200, "opencl-fpga 48 x 24");
  cr_assert_leq(flips, 10);
}

/* A snapshot restores bit-identically, and a checkpoint written by the
 * FPGA kernel's backend continues identically on it after a reload. */
Test(fpga, snapshot_and_checkpoint_round_trip, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_test_busy_config(&cfg, 21, 6);
  hmn_error err;
  hmn_layer *a = NULL, *b = NULL;
  cr_assert_eq(hmn_layer_create(&cfg, "opencl-fpga", &a, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_create(&cfg, "opencl-fpga", &b, &err), HMN_OK, "%s", err.message);
  hmn_test_run_stream(a, 5);
  cr_assert_eq(hmn_layer_snapshot_save(a, &err), HMN_OK, "%s", err.message);
  hmn_test_run_stream(a, 4);
  hmn_step_stats before, after;
  cr_assert_eq(hmn_layer_stats(a, &before, &err), HMN_OK);
  cr_assert_eq(hmn_layer_snapshot_restore(a, &err), HMN_OK, "%s", err.message);
  hmn_test_run_stream(a, 4);
  cr_assert_eq(hmn_layer_stats(a, &after, &err), HMN_OK);
  cr_assert_eq(before.applied, after.applied);
  cr_assert_eq(before.candidates, after.candidates);

  const char *path = hmn_test_path("fpga.ckpt");
  cr_assert_eq(hmn_layer_save(a, path, &err), HMN_OK, "%s", err.message);
  hmn_test_run_stream(a, 3);
  hmn_layer_destroy(b);
  b = NULL;
  cr_assert_eq(hmn_layer_load(path, "opencl-fpga", &b, &err), HMN_OK, "%s", err.message);
  hmn_test_run_stream(b, 3);
  hmn_test_assert_same_bits(a, b, "opencl-fpga checkpoint, 3 more steps");
  hmn_layer_destroy(a);
  hmn_layer_destroy(b);
}

Test(fpga, layer_too_large_for_chip_is_refused) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  /* A 64 MiB delay line: more local memory than PoCL offers. */
  cfg.n_in = 65536;
  cfg.n_out = 1;
  cfg.delay_len = 256;
  hmn_layer *layer = NULL;
  hmn_error err;
  cr_assert_eq(hmn_layer_create(&cfg, "opencl-fpga", &layer, &err), HMN_ESHAPE);
  cr_assert_null(layer);
  cr_assert(strstr(err.message, "on-chip") != NULL && strstr(err.message, "n_in=65536") != NULL,
            "%s", err.message);
}

/* Between them the runs take every branch of the kernel: every mode,
 * rows shorter and longer than a word, a one-step delay line, several
 * blocks. Oclgrind's device gets the local memory PoCL offers. */
Test(fpga, oclgrind_finds_nothing, .timeout = 300) {
  static const char *const configs[] = {
      "--set n_in=5 --set n_out=3",
      "--set n_in=7 --set n_out=2 --set attention=softmax_n --set similarity=dot "
      "--set activation=relu --set delay_len=1 --set inhibitory_fraction=0.5 "
      "--set astro_lambda=1",
      "--set n_in=1 --set n_out=1 --set n_mod=1 --set d_ctx=1 --set astro_source=0 "
      "--set attention=off --set global_attention=off --set phase_gate=off "
      "--set stochastic=off --set activation=sigmoid",
      "--set n_in=700 --set n_out=13 --set activation=linear --set noise_sigma=0",
      "--set n_in=9 --set n_out=4 --set rule=triplet --set hetero_ratio=0.1",
      "--set n_in=9 --set n_out=4 --set rule=bcm --set scaling=on",
  };
  hmn_test_oclgrind_clean("run --steps 3", "opencl-fpga", "--local-mem-size 1048576", configs,
                          sizeof configs / sizeof configs[0]);
}

/* ---- the rule families on the FPGA kernel, against ref ----
 *
 * From the same state (ref's, copied over before each step), one step on
 * each; every state array agrees by SPEC section 5: exactly where the
 * step computes it elementwise from the same values (x_hist, h, astro, the
 * presynaptic traces, the arrays a step leaves alone), else within
 * 1e-5 + 1e-4 |ref| (z comes from a reduction whose order differs, and
 * carries its rounding into c, b, kappa, the traces, rate, theta, S_j
 * and W). Stochastic rounding is off, so no decision can flip. */
static void family_agrees_with_ref(hmn_config *cfg, const char *what) {
  hmn_error err;
  cfg->stochastic = 0;
  cfg->eta_global = 5.0f;
  hmn_layer *ref = hmn_test_layer(cfg, "ref"), *dev = hmn_test_layer(cfg, "opencl-fpga");
  hmn_task *task;
  cr_assert_eq(hmn_task_create("stream", cfg, &task, &err), HMN_OK, "%s", err.message);
  static const hmn_array exact[] = {HMN_ARRAY_X_HIST, HMN_ARRAY_H,     HMN_ARRAY_ASTRO,
                                    HMN_ARRAY_PHI,    HMN_ARRAY_KAPPA, HMN_ARRAY_W_K,
                                    HMN_ARRAY_SIGN,   HMN_ARRAY_PRE_TRACE};
  for (int s = 0; s < 30; s++) {
    hmn_test_copy_state(ref, dev);
    hmn_step_input in;
    cr_assert_eq(hmn_task_input(task, (uint64_t)s, &in, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(hmn_layer_step(ref, &in, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(hmn_layer_step(dev, &in, &err), HMN_OK, "%s", err.message);
    for (int k = 0; k < HMN_ARRAY_COUNT; k++) {
      if (k == HMN_ARRAY_TAU) continue;
      size_t n = hmn_array_length(cfg, (hmn_array)k);
      float *r = calloc(n, sizeof(float)), *d = calloc(n, sizeof(float));
      cr_assert(r != NULL && d != NULL);
      cr_assert_eq(hmn_layer_read(ref, (hmn_array)k, r, n * 4, &err), HMN_OK, "%s", err.message);
      cr_assert_eq(hmn_layer_read(dev, (hmn_array)k, d, n * 4, &err), HMN_OK, "%s", err.message);
      bool bits = false;
      for (size_t q = 0; q < sizeof exact / sizeof exact[0]; q++) bits |= exact[q] == (hmn_array)k;
      for (size_t e = 0; e < n; e++) {
        if (bits)
          cr_assert(memcmp(&d[e], &r[e], 4) == 0, "%s, step %d: %s[%zu] %.9g, ref %.9g", what, s,
                    hmn_array_name((hmn_array)k), e, (double)d[e], (double)r[e]);
        else
          cr_assert(fabs((double)d[e] - r[e]) <= 1e-5 + 1e-4 * fabs((double)r[e]),
                    "%s, step %d: %s[%zu] %.9g, ref %.9g", what, s, hmn_array_name((hmn_array)k),
                    e, (double)d[e], (double)r[e]);
      }
      free(r);
      free(d);
    }
  }
  hmn_task_destroy(task);
  hmn_layer_destroy(ref);
  hmn_layer_destroy(dev);
}

/* The family's own state moved (a comparison of idle traces would show
 * nothing): `which` has an element away from its initial value. */
static void family_state_moved(hmn_config *cfg, hmn_array which, float initial) {
  hmn_layer *dev = hmn_test_layer(cfg, "opencl-fpga");
  hmn_test_run_stream(dev, 20);
  size_t n = hmn_array_length(cfg, which);
  float *v = calloc(n, sizeof(float));
  hmn_error err;
  cr_assert_not_null(v);
  cr_assert_eq(hmn_layer_read(dev, which, v, n * 4, &err), HMN_OK, "%s", err.message);
  size_t moved = 0;
  for (size_t e = 0; e < n; e++) moved += v[e] != initial;
  cr_assert_gt(moved, 0, "%s stayed at %g", hmn_array_name(which), (double)initial);
  free(v);
  hmn_layer_destroy(dev);
}

static void family_config(hmn_config *cfg) {
  hmn_test_busy_config(cfg, 37, 6);
  cfg->rho_slow = 0.5f;
}

Test(fpga, family_stdp_agrees_with_ref, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  family_config(&cfg);
  cfg.rule = HMN_RULE_STDP;
  cfg.tau_plus = 20.0f;
  cfg.tau_minus = 40.0f;
  family_agrees_with_ref(&cfg, "opencl-fpga stdp");
  family_state_moved(&cfg, HMN_ARRAY_POST_TRACE, 0.0f);
}

Test(fpga, family_triplet_all_to_all_agrees_with_ref, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  family_config(&cfg);
  cfg.rule = HMN_RULE_TRIPLET;
  cfg.pairing = HMN_PAIRING_ALL;
  family_agrees_with_ref(&cfg, "opencl-fpga triplet all-to-all");
  family_state_moved(&cfg, HMN_ARRAY_PRE_TRACE, 0.0f);
}

Test(fpga, family_triplet_nearest_agrees_with_ref, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  family_config(&cfg);
  cfg.rule = HMN_RULE_TRIPLET;
  cfg.pairing = HMN_PAIRING_NEAREST;
  family_agrees_with_ref(&cfg, "opencl-fpga triplet nearest");
}

Test(fpga, family_bcm_agrees_with_ref, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  family_config(&cfg);
  cfg.rule = HMN_RULE_BCM;
  family_agrees_with_ref(&cfg, "opencl-fpga bcm");
  family_state_moved(&cfg, HMN_ARRAY_RATE, 0.0f);
  cfg.bcm_power = 1.5f; /* the general power: exp(p ln nu), within SPEC 5 of pow */
  family_agrees_with_ref(&cfg, "opencl-fpga bcm, power 1.5");
}

Test(fpga, family_hetero_agrees_with_ref, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  family_config(&cfg);
  cfg.hetero_ratio = 0.2f;
  family_agrees_with_ref(&cfg, "opencl-fpga hebbian + heterosynaptic");
  cfg.rule = HMN_RULE_STDP;
  family_agrees_with_ref(&cfg, "opencl-fpga stdp + heterosynaptic");
}

Test(fpga, family_scaling_agrees_with_ref, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  family_config(&cfg);
  cfg.scaling = 1;
  family_agrees_with_ref(&cfg, "opencl-fpga hebbian + scaling");
  family_state_moved(&cfg, HMN_ARRAY_SCALE, 1.0f);
  cfg.rule = HMN_RULE_BCM;
  family_agrees_with_ref(&cfg, "opencl-fpga bcm + scaling");
}

Test(fpga, family_d1d2_agrees_with_ref, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  family_config(&cfg);
  cfg.d2_fraction = 0.5f;
  cfg.rule = HMN_RULE_STDP;
  family_agrees_with_ref(&cfg, "opencl-fpga stdp, half D2");
  family_state_moved(&cfg, HMN_ARRAY_SIGN, 1.0f);
}

/* A checkpoint written mid-run with a family's state (traces, rate,
 * theta, S_j) continues bit-identically after a reload on the FPGA
 * kernel, as on ref. */
Test(fpga, family_checkpoint_resumes_bit_identically, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  static const int rules[] = {HMN_RULE_TRIPLET, HMN_RULE_BCM};
  for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
    hmn_config cfg;
    family_config(&cfg);
    cfg.rule = rules[r];
    cfg.scaling = 1;
    cfg.hetero_ratio = 0.1f;
    hmn_error err;
    hmn_layer *a = hmn_test_layer(&cfg, "opencl-fpga"), *b = NULL;
    hmn_test_run_stream(a, 6);
    const char *path = hmn_test_path("fpga-family.ckpt");
    cr_assert_eq(hmn_layer_save(a, path, &err), HMN_OK, "%s", err.message);
    hmn_test_run_stream(a, 4);
    cr_assert_eq(hmn_layer_load(path, "opencl-fpga", &b, &err), HMN_OK, "%s", err.message);
    hmn_test_run_stream(b, 4);
    hmn_test_assert_same_bits(a, b, "opencl-fpga family checkpoint, 4 more steps");
    hmn_layer_destroy(a);
    hmn_layer_destroy(b);
  }
}
