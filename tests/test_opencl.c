/*
 * test_opencl.c - the OpenCL backend agrees with ref (SPEC section 5): one
 * step from the same state for every mode combination and activation, odd
 * and large sizes, and 200-step runs whose borderline stochastic flips are
 * counted, reported and bounded.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "opencl_support.h"
#include "support.h"

TestSuite(opencl);

/* Parameters that make every mechanism matter in a random state. */
static void busy_config(hmn_config *cfg, int n_in, int n_out) {
  hmn_config_defaults(cfg);
  cfg->n_in = n_in;
  cfg->n_out = n_out;
  cfg->n_mod = 3;
  cfg->d_ctx = 5;
  cfg->delay_len = 3;
  cfg->noise_sigma = 0.1f;
  cfg->beta_attn = 2.0f;
  cfg->beta_global = 2.0f;
  cfg->astro_lambda = 0.5f;
  cfg->rho_slow = 0.5f;
}

/* One step from a random state, then two more from where it got to. */
static size_t compare_steps(const hmn_config *cfg, uint32_t seed, uint64_t t, const char *what) {
  hmn_test_pair pair;
  hmn_test_pair_create(cfg, &pair);
  hmn_test_pair_randomize(&pair, seed, t);
  size_t flips = 0;
  for (int s = 0; s < 3; s++) {
    hmn_test_inputs in;
    /* Alternate a given phase and the built-in oscillator. */
    hmn_test_inputs_make(cfg, seed * 7u + (uint32_t)s, s != 1, &in);
    flips += hmn_test_step_and_compare(&pair, &in.in, what);
    hmn_test_inputs_free(&in);
  }
  hmn_test_pair_destroy(&pair);
  return flips;
}

Test(opencl, every_mode_and_activation_matches_ref, .timeout = 600) {
  HMN_TEST_REQUIRE_OPENCL();
  static const int activations[] = {HMN_ACT_RELU, HMN_ACT_SIGMOID, HMN_ACT_TANH, HMN_ACT_LINEAR};
  static const int attentions[] = {HMN_ATTN_SOFTMAX, HMN_ATTN_SOFTMAX_N, HMN_ATTN_OFF};
  /* Global attention off, or on with either similarity. */
  static const int globals[][2] = {{0, HMN_SIM_COSINE}, {1, HMN_SIM_COSINE}, {1, HMN_SIM_DOT}};
  size_t cases = 0, flips = 0;
  for (size_t a = 0; a < 4; a++)
    for (size_t m = 0; m < 3; m++)
      for (size_t g = 0; g < 3; g++)
        for (int gate = 0; gate < 2; gate++)
          for (int stochastic = 0; stochastic < 2; stochastic++) {
            hmn_config cfg;
            busy_config(&cfg, 37, 13);
            cfg.activation = activations[a];
            cfg.attention = attentions[m];
            cfg.global_attention = globals[g][0];
            cfg.similarity = globals[g][1];
            cfg.phase_gate = gate;
            cfg.stochastic = stochastic;
            char what[160];
            snprintf(what, sizeof what,
                     "activation %d attention %d global %d similarity %d gate %d stochastic %d",
                     cfg.activation, cfg.attention, cfg.global_attention, cfg.similarity, gate,
                     stochastic);
            /* Every fourth case runs past t = 2^32, where the counter's
             * high word starts to count. */
            uint64_t t = cases % 4 == 3 ? ((uint64_t)1 << 32) + 5 : 1000 + cases;
            flips += compare_steps(&cfg, (uint32_t)cases + 1u, t, what);
            cases++;
          }
  cr_log_info("%zu mode combinations, 3 steps each: %zu borderline stochastic flips", cases,
              flips);
  cr_assert_eq(cases, 144);
  cr_assert_leq(flips, 3, "%zu borderline flips in %zu single steps", flips, 3 * cases);
}

Test(opencl, odd_sizes_match_ref, .timeout = 600) {
  HMN_TEST_REQUIRE_OPENCL();
  /* n_in, n_out, delay_len, n_mod, d_ctx: single inputs and neurons,
   * primes, sizes off every vector width, a one-step delay line. */
  static const int shapes[][5] = {{1, 1, 1, 1, 1},   {1, 9, 2, 2, 3},  {11, 1, 4, 4, 1},
                                  {257, 131, 5, 3, 4}, {5, 3, 1, 3, 4}, {33, 17, 7, 5, 6},
                                  {1001, 3, 2, 2, 2}};
  size_t flips = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    hmn_config cfg;
    busy_config(&cfg, shapes[s][0], shapes[s][1]);
    cfg.delay_len = shapes[s][2];
    cfg.n_mod = shapes[s][3];
    cfg.d_ctx = shapes[s][4];
    cfg.astro_source = 0;
    char what[96];
    snprintf(what, sizeof what, "%d inputs x %d neurons, D=%d, K=%d, D_c=%d", shapes[s][0],
             shapes[s][1], shapes[s][2], shapes[s][3], shapes[s][4]);
    flips += compare_steps(&cfg, 100u + (uint32_t)s, 77, what);
  }
  cr_log_info("odd sizes: %zu borderline stochastic flips", flips);
  cr_assert_leq(flips, 2);
}

Test(opencl, large_layer_matches_ref, .timeout = 900) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  busy_config(&cfg, 4096, 4096);
  hmn_test_pair pair;
  hmn_test_pair_create(&cfg, &pair);
  hmn_test_pair_randomize(&pair, 4096, 31);
  size_t flips = 0;
  for (int s = 0; s < 2; s++) {
    hmn_test_inputs in;
    hmn_test_inputs_make(&cfg, 4096u + (uint32_t)s, s == 0, &in);
    flips += hmn_test_step_and_compare(&pair, &in.in, "4096 x 4096");
    hmn_test_inputs_free(&in);
  }
  hmn_test_pair_destroy(&pair);
  cr_log_info("4096 x 4096, 2 steps: %zu borderline stochastic flips of 33554432 decisions", flips);
  cr_assert_leq(flips, 20);
}

/* The stream task for 200 steps from the same initial state. After a
 * borderline flip the two weights differ by one update; copying ref's
 * weights over keeps one decision from failing every later comparison,
 * while everything else keeps accumulating its own rounding. */
static void long_run(hmn_config *cfg, const char *what) {
  hmn_test_pair pair;
  hmn_test_pair_create(cfg, &pair);
  hmn_task *task = NULL;
  hmn_error err;
  cr_assert_eq(hmn_task_create("stream", cfg, &task, &err), HMN_OK, "%s", err.message);
  size_t flips = 0, flip_steps = 0;
  for (int s = 0; s < 200; s++) {
    hmn_step_input in;
    cr_assert_eq(hmn_task_input(task, hmn_layer_step_count(pair.ref), &in, &err), HMN_OK);
    char step_what[128];
    snprintf(step_what, sizeof step_what, "%s, step %d", what, s);
    size_t f = hmn_test_step_and_compare(&pair, &in, step_what);
    if (f > 0) {
      flips += f;
      flip_steps++;
      size_t bytes = hmn__array_bytes(cfg, HMN_ARRAY_W);
      float *w = malloc(bytes);
      cr_assert_not_null(w);
      cr_assert_eq(hmn_layer_read(pair.ref, HMN_ARRAY_W, w, bytes, &err), HMN_OK);
      cr_assert_eq(hmn_layer_write(pair.ocl, HMN_ARRAY_W, w, bytes, &err), HMN_OK);
      free(w);
    }
  }
  size_t decisions = (size_t)200 * (size_t)cfg->n_in * (size_t)cfg->n_out;
  cr_log_info("%s: 200 steps, %zu borderline flips in %zu steps (%zu decisions)", what, flips,
              flip_steps, decisions);
  /* A flip needs |u - p| within rounding: about 1e-6 of the decisions at
   * most; the bound leaves room for chance. */
  cr_assert_leq(flips, 10 + decisions / 100000, "%s: %zu flips", what, flips);
  hmn_task_destroy(task);
  hmn_test_pair_destroy(&pair);
}

Test(opencl, two_hundred_steps_agree, .timeout = 600) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_test_small_config(&cfg, 64, 32);
  long_run(&cfg, "defaults 64 x 32");
  /* Larger learning rates make many decisions close to p ~ 0.5. */
  busy_config(&cfg, 48, 24);
  cfg.eta_local = 0.01f;
  cfg.eta_global = 0.05f;
  cfg.activation = HMN_ACT_SIGMOID;
  long_run(&cfg, "busy 48 x 24");
}

Test(opencl, bad_input_leaves_layer_unchanged) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  busy_config(&cfg, 4, 3);
  hmn_layer *layer = NULL;
  hmn_error err;
  cr_assert_eq(hmn_layer_create(&cfg, "opencl", &layer, &err), HMN_OK, "%s", err.message);
  hmn_test_run_stream(layer, 2);
  float w0[12], w1[12];
  cr_assert_eq(hmn_layer_read(layer, HMN_ARRAY_W, w0, sizeof w0, &err), HMN_OK);
  hmn_test_inputs in;
  hmn_test_inputs_make(&cfg, 9, true, &in);
  in.x[2] = 1.0f / 0.0f;
  cr_assert_eq(hmn_layer_step(layer, &in.in, &err), HMN_ENUMERIC);
  cr_assert(strstr(err.message, "x[2]") != NULL && strstr(err.message, "step 2") != NULL, "%s",
            err.message);
  cr_assert_eq(hmn_layer_step_count(layer), 2);
  cr_assert_eq(hmn_layer_read(layer, HMN_ARRAY_W, w1, sizeof w1, &err), HMN_OK);
  cr_assert_eq(memcmp(w0, w1, sizeof w0), 0);
  hmn_test_inputs_free(&in);
  hmn_layer_destroy(layer);
}

/* Sharp attention: logits in the thousands, where a softmax without the
 * row maximum overflows, and beyond float range, where they clamp. */
Test(opencl, extreme_logits_match_ref, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  static const float betas[][2] = {{1e4f, 1e5f}, {3e38f, 3e38f}, {1e-30f, 1e-30f}};
  size_t flips = 0;
  for (size_t b = 0; b < sizeof betas / sizeof betas[0]; b++)
    for (int similarity = 0; similarity < 2; similarity++) {
      hmn_config cfg;
      busy_config(&cfg, 37, 13);
      cfg.beta_attn = betas[b][0];
      cfg.beta_global = betas[b][1];
      cfg.similarity = similarity;
      char what[96];
      snprintf(what, sizeof what, "beta_attn %g, beta_global %g, similarity %d",
               (double)betas[b][0], (double)betas[b][1], similarity);
      flips += compare_steps(&cfg, 500u + (uint32_t)b, 3, what);
    }
  cr_log_info("extreme logits: %zu borderline stochastic flips", flips);
  cr_assert_leq(flips, 2);
}
