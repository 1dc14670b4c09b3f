/*
 * test_fpga.c - the FPGA kernel (kernels/hmn_fpga.cl: one work-item,
 * 512-bit words, on-chip state, dataflow stages) run through PoCL as the
 * "opencl-fpga" backend agrees with ref by SPEC section 5: every mode and
 * activation, odd sizes (rows that start inside a 512-bit word, layers
 * below the on-chip maxima), 200-step runs with borderline flips counted,
 * snapshots and checkpoints across backends, a clear error when a layer
 * does not fit on chip, and Oclgrind's checks of the kernel (no invalid
 * or uninitialized access, on-chip arrays included).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "opencl_support.h"
#include "support.h"

TestSuite(fpga);

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
  hmn_test_pair_create_on(cfg, "opencl-fpga", &pair);
  hmn_test_pair_randomize(&pair, seed, t);
  size_t flips = 0;
  for (int s = 0; s < 3; s++) {
    hmn_test_inputs in;
    hmn_test_inputs_make(cfg, seed * 7u + (uint32_t)s, s != 1, &in);
    flips += hmn_test_step_and_compare(&pair, &in.in, what);
    hmn_test_inputs_free(&in);
  }
  hmn_test_pair_destroy(&pair);
  return flips;
}

Test(fpga, every_mode_and_activation_matches_ref, .timeout = 900) {
  HMN_TEST_REQUIRE_OPENCL();
  static const int activations[] = {HMN_ACT_RELU, HMN_ACT_SIGMOID, HMN_ACT_TANH, HMN_ACT_LINEAR};
  static const int attentions[] = {HMN_ATTN_SOFTMAX, HMN_ATTN_SOFTMAX_N, HMN_ATTN_OFF};
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
                     "opencl-fpga: activation %d attention %d global %d similarity %d gate %d "
                     "stochastic %d",
                     cfg.activation, cfg.attention, cfg.global_attention, cfg.similarity, gate,
                     stochastic);
            /* Every fourth case runs past t = 2^32 (the counter's high word). */
            uint64_t t = cases % 4 == 3 ? ((uint64_t)1 << 32) + 5 : 1000 + cases;
            flips += compare_steps(&cfg, (uint32_t)cases + 1u, t, what);
            cases++;
          }
  cr_log_info("opencl-fpga: %zu mode combinations, 3 steps each: %zu borderline flips", cases,
              flips);
  cr_assert_eq(cases, 144);
  cr_assert_leq(flips, 3, "%zu borderline flips in %zu single steps", flips, 3 * cases);
}

Test(fpga, odd_sizes_match_ref, .timeout = 900) {
  HMN_TEST_REQUIRE_OPENCL();
  /* n_in, n_out, delay_len, n_mod, d_ctx: a row shorter than a word
   * (several rows per word), rows that start mid-word, a row of exactly
   * one word, shapes just past a power of two (far below the maxima). */
  static const int shapes[][5] = {{1, 1, 1, 1, 1},   {1, 9, 2, 2, 3},    {11, 1, 4, 4, 1},
                                  {16, 5, 3, 3, 4},  {257, 131, 5, 3, 4}, {5, 3, 1, 3, 4},
                                  {33, 17, 7, 5, 6}, {1001, 3, 2, 2, 2}};
  size_t flips = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    hmn_config cfg;
    busy_config(&cfg, shapes[s][0], shapes[s][1]);
    cfg.delay_len = shapes[s][2];
    cfg.n_mod = shapes[s][3];
    cfg.d_ctx = shapes[s][4];
    cfg.astro_source = 0;
    char what[96];
    snprintf(what, sizeof what, "opencl-fpga: %d inputs x %d neurons, D=%d, K=%d, D_c=%d",
             shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], shapes[s][4]);
    flips += compare_steps(&cfg, 100u + (uint32_t)s, 77, what);
  }
  cr_log_info("opencl-fpga odd sizes: %zu borderline flips", flips);
  cr_assert_leq(flips, 2);
}

/* The stream task for 200 steps; after a borderline flip ref's weights
 * are copied over, so that one decision does not fail every later step. */
Test(fpga, two_hundred_steps_agree, .timeout = 900) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  busy_config(&cfg, 48, 24);
  cfg.eta_local = 0.01f;
  cfg.eta_global = 0.05f;
  hmn_test_pair pair;
  hmn_test_pair_create_on(&cfg, "opencl-fpga", &pair);
  hmn_task *task = NULL;
  hmn_error err;
  cr_assert_eq(hmn_task_create("stream", &cfg, &task, &err), HMN_OK, "%s", err.message);
  size_t flips = 0;
  for (int s = 0; s < 200; s++) {
    hmn_step_input in;
    cr_assert_eq(hmn_task_input(task, hmn_layer_step_count(pair.ref), &in, &err), HMN_OK);
    char what[64];
    snprintf(what, sizeof what, "opencl-fpga, step %d", s);
    size_t f = hmn_test_step_and_compare(&pair, &in, what);
    if (f > 0) {
      flips += f;
      size_t bytes = hmn__array_bytes(&cfg, HMN_ARRAY_W);
      float *w = malloc(bytes);
      cr_assert_not_null(w);
      cr_assert_eq(hmn_layer_read(pair.ref, HMN_ARRAY_W, w, bytes, &err), HMN_OK);
      cr_assert_eq(hmn_layer_write(pair.ocl, HMN_ARRAY_W, w, bytes, &err), HMN_OK);
      free(w);
    }
  }
  cr_log_info("opencl-fpga 48 x 24: 200 steps, %zu borderline flips", flips);
  cr_assert_leq(flips, 10);
  hmn_task_destroy(task);
  hmn_test_pair_destroy(&pair);
}

/* A snapshot restores bit-identically, and a checkpoint written by the
 * FPGA kernel's backend continues identically on it after a reload. */
Test(fpga, snapshot_and_checkpoint_round_trip, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  busy_config(&cfg, 21, 6);
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
  const char *bin = getenv("HMN_BIN");
  const char *oclgrind = getenv("HMN_OCLGRIND");
  if (bin == NULL) cr_skip_test("HMN_BIN is not set (run the tests through ctest)");
  if (oclgrind == NULL || oclgrind[0] == '\0' || strstr(oclgrind, "NOTFOUND") != NULL)
    cr_skip_test("oclgrind not found (Debian package 'oclgrind')");
  static const char *const configs[] = {
      "--set n_in=5 --set n_out=3",
      "--set n_in=7 --set n_out=2 --set attention=softmax_n --set similarity=dot "
      "--set activation=relu --set delay_len=1 --set inhibitory_fraction=0.5 "
      "--set astro_lambda=1",
      "--set n_in=1 --set n_out=1 --set n_mod=1 --set d_ctx=1 --set astro_source=0 "
      "--set attention=off --set global_attention=off --set phase_gate=off "
      "--set stochastic=off --set activation=sigmoid",
      "--set n_in=700 --set n_out=13 --set activation=linear --set noise_sigma=0",
  };
  char cache[700], log[700];
  snprintf(cache, sizeof cache, "%s/oclgrind-cache", hmn_test_tmpdir());
  snprintf(log, sizeof log, "%s/oclgrind.log", hmn_test_tmpdir());
  for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
    char command[2048];
    snprintf(command, sizeof command,
             "ASAN_OPTIONS=verify_asan_link_order=0 HMN_CACHE_DIR='%s' HMN_DEVICE= '%s' "
             "--data-races --uninitialized --local-mem-size 1048576 '%s' run "
             "--backend opencl-fpga --steps 3 --quiet %s > '%s' 2>&1",
             cache, oclgrind, bin, configs[c], log);
    int status = hmn_test_shell(command);
    size_t len = 0;
    unsigned char *text = hmn_test_read_file(log, &len);
    cr_assert_not_null(text);
    char *output = malloc(len + 1);
    cr_assert_not_null(output);
    memcpy(output, text, len);
    output[len] = '\0';
    free(text);
    cr_assert_eq(status, 0, "%s\n%s", command, output);
    cr_assert(strstr(output, "Oclgrind") != NULL, "not run on Oclgrind:\n%s", output);
    static const char *const reports[] = {"Kernel:", "Invalid", "Uninitialized",
                                          "uninitialized", "data race", "Oclgrind error",
                                          "Oclgrind warning"};
    for (size_t r = 0; r < sizeof reports / sizeof reports[0]; r++)
      cr_assert(strstr(output, reports[r]) == NULL, "Oclgrind reported '%s' for %s:\n%.4000s",
                reports[r], configs[c], output);
    free(output);
  }
}
