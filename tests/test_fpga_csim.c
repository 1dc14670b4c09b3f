/*
 * test_fpga_csim.c - the HLS C-simulation: the hw/ top function of the
 * FPGA kernel (hw/hmn_step_hls.cpp, compiled by g++ against AMD's
 * arbitrary-precision types with the HLS pragmas ignored, sim/) steps a
 * layer's state, and the result agrees with ref by SPEC section 5, for
 * every mode and activation, odd sizes and a 200-step run; every step is
 * also checked by the bank audit (no on-chip bank accessed more than twice
 * in one pipelined iteration). The state is a ref layer's host copy: the
 * harness hands its arrays to the top function as a card's buffers would
 * be, each synapse row padded to whole 16-lane words.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpga/fpga.h"
#include "fpga/layout.h"
#include "hmn_fpga.h"
#include "hmn_step_hls.h"
#include "opencl_support.h"
#include "support.h"

TestSuite(fpga_csim);

/* One launch of the C-simulated kernel on `layer` (a ref layer, whose
 * host arrays are its state) with the inputs buffer `inputs`, on the
 * device layout: rows padded to whole 16-lane words, padding zero. */
static void csim_launch(hmn_layer *layer, const uint32_t *inputs, uint32_t *stats) {
  hmn__state *st = &layer->st;
  const hmn_config *cfg = &st->cfg;

  /* The host's own padding (layout.h), as the xrt backend sends it. */
  size_t n_in = (size_t)cfg->n_in, n_out = (size_t)cfg->n_out;
  size_t wpr = hmn_hls_words_per_row(n_in), n_words = wpr * n_out;
  cr_assert_eq(hmn__fpga_row_words(cfg), wpr);
  cr_assert_eq(hmn__fpga_padded_bytes(cfg, 0), n_words * sizeof(hmnk_wide));
  cr_assert_eq(hmn__fpga_padded_bytes(cfg, 4), n_words * sizeof(hmnk_wide_u8));
  hmnk_wide *wide[4];
  for (int arg = 0; arg < 4; arg++) {
    wide[arg] = malloc(n_words * sizeof(hmnk_wide));
    cr_assert_not_null(wide[arg]);
    hmn__fpga_pad_rows(cfg, arg, st->arr[hmn__fpga_arg_array(arg)], wide[arg]);
  }
  hmnk_wide_u8 *taus = malloc(n_words * sizeof(hmnk_wide_u8));
  cr_assert_not_null(taus);
  hmn__fpga_pad_rows(cfg, 4, st->arr[hmn__fpga_arg_array(4)], taus);

  uint32_t params[HMN_FPGA_PARAM_WORDS];
  hmn__fpga_params(cfg, params);
  hmn_hls_csim_step(wide[0], wide[1], wide[2], wide[3], taus, n_words, HMN__F32(st, X_HIST),
                    HMN__F32(st, H), HMN__F32(st, B), HMN__F32(st, C), HMN__F32(st, Z),
                    HMN__F32(st, ASTRO), HMN__F32(st, SIGN), HMN__F32(st, KAPPA),
                    HMN__F32(st, W_K), HMN__F32(st, PRE_TRACE), HMN__F32(st, POST_TRACE),
                    HMN__F32(st, RATE), HMN__F32(st, THETA), HMN__F32(st, SCALE), params,
                    inputs, stats);

  for (int arg = 0; arg < 4; arg++) {
    hmn__fpga_unpad_rows(cfg, arg, wide[arg], st->arr[hmn__fpga_arg_array(arg)]);
    for (size_t j = 0; j < n_out; j++) {
      /* The padding lanes come back as they went: zero. */
      for (size_t l = n_in; l < wpr * 16; l++)
        cr_assert_eq(hmnk_as_uint(wide[arg][j * wpr + l / 16].v[l % 16]), 0u,
                     "array %d row %zu: padding lane %zu changed", arg, j, l);
    }
    free(wide[arg]);
  }
  free(taus);
  /* A threaded run did not deadlock. */
  cr_assert_null(hmn_hls_csim_deadlock(), "dataflow: %s", hmn_hls_csim_deadlock());
  /* Every pipelined loop kept each on-chip bank within its two ports. */
  cr_assert_eq(hmn_hls_csim_audit_violations(), 0, "bank audit: %s", hmn_hls_csim_audit_first());
}

/* A learning step of the C-simulated kernel: the fused step with the
 * action (-1: none) and pi (NULL: none) in its inputs. */
static int csim_learn_step(hmn_layer *layer, const hmn_step_input *in, int32_t action,
                           const float *pi, hmn_error *err) {
  hmn__state *st = &layer->st;
  const hmn_config *cfg = &st->cfg;
  int rc = hmn__step_check_input(cfg, in, st->t, err);
  if (rc != HMN_OK) return rc;
  hmn__fpga_limits lim = {HMN_HLS_MAX_IN, HMN_HLS_MAX_OUT, HMN_HLS_MAX_DELAY};
  if ((rc = hmn__fpga_check_limits(cfg, &lim, "the C-simulation", err)) != HMN_OK) return rc;
  /* The inputs as the kernel reads them: 32-bit words, the step record
   * first (the host stages them as floats). */
  uint32_t *inputs = malloc(hmn__fpga_arg_bytes(cfg, HMN__FPGA_INPUTS));
  uint32_t *stats = calloc(1, hmn__fpga_arg_bytes(cfg, HMN__FPGA_STATS));
  cr_assert(inputs != NULL && stats != NULL);
  hmn__fpga_pack_inputs(st, in, action, pi, (float *)(void *)inputs);
  csim_launch(layer, inputs, stats);
  st->t++;
  hmn__fpga_decode_stats(cfg, stats, st->t, &st->stats);
  free(inputs);
  free(stats);
  return HMN_OK;
}

/* One fused step of the C-simulated kernel. */
static int csim_step(hmn_layer *layer, const hmn_step_input *in, hmn_error *err) {
  return csim_learn_step(layer, in, -1, NULL, err);
}

/* A forward launch of the C-simulated kernel: z for x(t) from the
 * statistics buffer. The statistics words before z (counts and G_j) must
 * come back as they went. */
static void csim_forward(hmn_layer *layer, const float *x, float *z) {
  const hmn_config *cfg = &layer->st.cfg;
  uint32_t *inputs = malloc(hmn__fpga_arg_bytes(cfg, HMN__FPGA_INPUTS));
  size_t stats_bytes = hmn__fpga_arg_bytes(cfg, HMN__FPGA_STATS);
  uint32_t *stats = malloc(stats_bytes);
  cr_assert(inputs != NULL && stats != NULL);
  memset(stats, 0xcd, stats_bytes);
  hmn__fpga_pack_forward(&layer->st, x, (float *)(void *)inputs);
  csim_launch(layer, inputs, stats);
  size_t z_at = hmn__fpga_forward_z_offset(cfg) / sizeof(uint32_t);
  for (size_t k = 0; k < z_at; k++) cr_assert_eq(stats[k], 0xcdcdcdcdu, "stats word %zu", k);
  memcpy(z, stats + z_at, hmn__fpga_forward_z_bytes(cfg));
  free(inputs);
  free(stats);
}

/* The host's account of the on-chip bytes (which decides whether a layer
 * fits a device) is the kernel's struct. */
Test(fpga_csim, chip_bytes_match_the_kernel) {
  hmn__fpga_limits lim = {HMN_FPGA_MAX_IN, HMN_FPGA_MAX_OUT, HMN_FPGA_MAX_DELAY};
  cr_assert_eq(hmn__fpga_chip_bytes(&lim), sizeof(hmnk_fpga_chip));
  cr_assert_eq(HMN_FPGA_BLOCK, HMN__FPGA_BLOCK_WORDS);
  cr_assert_eq(HMN_FPGA_MAX_IN, HMN__FPGA_DEFAULT_MAX_IN);
  cr_assert_eq(HMN_FPGA_MAX_OUT, HMN__FPGA_DEFAULT_MAX_OUT);
  cr_assert_eq(HMN_FPGA_MAX_DELAY, HMN__FPGA_DEFAULT_MAX_DELAY);
  /* The HLS top's maxima are the host's defaults too. */
  cr_assert_eq(HMN_HLS_MAX_IN, HMN__FPGA_DEFAULT_MAX_IN);
  cr_assert_eq(HMN_HLS_MAX_OUT, HMN__FPGA_DEFAULT_MAX_OUT);
  cr_assert_eq(HMN_HLS_MAX_DELAY, HMN__FPGA_DEFAULT_MAX_DELAY);
  for (int arg = 0; arg < HMN_FPGA_ARG_COUNT; arg++) {
    /* The names the manifest lists are the kernel's, in order. */
    const char *names = HMN_FPGA_ARG_NAMES;
    for (int skip = 0; skip < arg; skip++) names = strchr(names, ' ') + 1;
    size_t len = strcspn(names, " ");
    cr_assert(strlen(hmn__fpga_arg_name(arg)) == len &&
                  strncmp(names, hmn__fpga_arg_name(arg), len) == 0,
              "argument %d: '%s'", arg, hmn__fpga_arg_name(arg));
  }
}

Test(fpga_csim, every_mode_and_activation_matches_ref, .timeout = 900) {
  hmn_test_set_step(csim_step);
  size_t flips = hmn_test_compare_modes("ref");
  cr_log_info("fpga_csim: %d mode combinations, 3 steps each: %zu borderline flips",
              HMN_TEST_MODE_CASES, flips);
  cr_assert_leq(flips, 3, "%zu borderline flips in %d single steps", flips,
                3 * HMN_TEST_MODE_CASES);
}

Test(fpga_csim, odd_sizes_match_ref, .timeout = 900) {
  hmn_test_set_step(csim_step);
  size_t flips = hmn_test_compare_odd_shapes("ref");
  cr_log_info("fpga_csim odd sizes: %zu borderline flips", flips);
  cr_assert_leq(flips, 2);
}

Test(fpga_csim, two_hundred_steps_agree, .timeout = 600) {
  hmn_config cfg;
  hmn_test_busy_config(&cfg, 48, 24);
  cfg.eta_local = 0.01f;
  cfg.eta_global = 0.05f;
  hmn_test_set_step(csim_step);
  size_t flips = hmn_test_long_run(&cfg, "ref", 200, "C-sim 48 x 24");
  cr_assert_leq(flips, 10);
}

/* The inputs buffer as the host packs it is what the kernels read: the
 * step record through hmnk_read_step (the table's reader), the values
 * after it. A t past 2^32 and a given phase make every word distinct. */
Test(fpga_csim, inputs_carry_the_step_record) {
  hmn_config cfg;
  hmn_test_busy_config(&cfg, 20, 3);
  hmn_layer *layer = hmn_test_layer(&cfg, "ref");
  hmn_test_inputs in;
  hmn_test_inputs_make(&cfg, 9, true, &in);
  hmn__state *st = &layer->st;
  st->t = ((uint64_t)5 << 32) | 7u;
  st->eta_local = 0.25f;
  st->eta_global = -0.125f;
  size_t bytes = hmn__fpga_arg_bytes(&cfg, HMN__FPGA_INPUTS);
  cr_assert_eq(bytes, (HMN_FPGA_IN_X + (size_t)cfg.n_in + (size_t)cfg.n_mod + (size_t)cfg.d_ctx +
                       (size_t)cfg.n_out) *
                          sizeof(float));
  uint32_t *inputs = malloc(bytes);
  cr_assert_not_null(inputs);
  memset(inputs, 0xee, bytes);
  hmn__fpga_pack_inputs(st, &in.in, -1, NULL, (float *)(void *)inputs);
  hmnk_step S;
  hmnk_read_step(inputs, &S);
  cr_assert_eq(S.slot, (uint32_t)(st->t % (uint64_t)cfg.delay_len));
  cr_assert_eq(S.t_lo, 7u);
  cr_assert_eq(S.t_hi, 5u);
  cr_assert_eq(S.eta_local, 0.25f);
  cr_assert_eq(S.eta_global, -0.125f);
  float c, s;
  hmn__pre_cos_sin((double)in.phase, &c, &s);
  cr_assert_eq(S.cos_phase, c);
  cr_assert_eq(S.sin_phase, s);
  /* The words no FPGA kernel reads are zero, not left over. */
  for (int k = HMN_SC_COUNT; k < HMN_STEP_SCALARS; k++) cr_assert_eq(inputs[k], 0u);
  const float *values = (const float *)(const void *)(inputs + HMN_FPGA_IN_X);
  cr_assert(memcmp(values, in.x, (size_t)cfg.n_in * sizeof(float)) == 0);
  cr_assert(memcmp(values + cfg.n_in, in.mod, (size_t)cfg.n_mod * sizeof(float)) == 0);
  cr_assert(memcmp(values + cfg.n_in + cfg.n_mod, in.ctx, (size_t)cfg.d_ctx * sizeof(float)) == 0);
  /* No action: ACTION and FORWARD 0, pi zeros. */
  const float *pi_in = values + cfg.n_in + cfg.n_mod + cfg.d_ctx;
  cr_assert_eq(S.action1, 0u);
  cr_assert_eq(S.forward, 0u);
  for (int j = 0; j < cfg.n_out; j++) cr_assert_eq(hmnk_as_uint(pi_in[j]), 0u);
  /* With an action: 1 + the action, and pi after C_global. */
  float pi[3] = {0.25f, 0.5f, 0.125f};
  hmn__fpga_pack_inputs(st, &in.in, 2, pi, (float *)(void *)inputs);
  hmnk_read_step(inputs, &S);
  cr_assert_eq(S.action1, 3u);
  cr_assert_eq(S.forward, 0u);
  cr_assert(memcmp(pi_in, pi, sizeof pi) == 0);
  /* A forward launch: FORWARD 1, the step's slot and t, x(t), nothing
   * else. */
  memset(inputs, 0xee, bytes);
  hmn__fpga_pack_forward(st, in.x, (float *)(void *)inputs);
  hmnk_read_step(inputs, &S);
  cr_assert_eq(S.forward, 1u);
  cr_assert_eq(S.slot, (uint32_t)(st->t % (uint64_t)cfg.delay_len));
  cr_assert_eq(S.t_lo, 7u);
  cr_assert_eq(S.t_hi, 5u);
  cr_assert_eq(S.action1, 0u);
  cr_assert(memcmp(values, in.x, (size_t)cfg.n_in * sizeof(float)) == 0);
  for (size_t k = HMN_FPGA_IN_X + (size_t)cfg.n_in; k < bytes / 4; k++)
    cr_assert_eq(inputs[k], 0u, "word %zu", k);
  free(inputs);
  hmn_test_inputs_free(&in);
  hmn_layer_destroy(layer);
}

/* A params buffer beyond the build's maxima leaves every buffer alone:
 * the kernel's own guard, behind the host's check. */
Test(fpga_csim, kernel_ignores_a_shape_beyond_its_maxima) {
  uint32_t params[HMN_FPGA_PARAM_WORDS] = {0};
  params[HMN_FPGA_P_N_IN] = HMN_HLS_MAX_IN + 1;
  params[HMN_FPGA_P_N_OUT] = 1;
  params[HMN_FPGA_P_N_MOD] = 1;
  params[HMN_FPGA_P_D_CTX] = 1;
  params[HMN_FPGA_P_DELAY] = 1;
  uint32_t stats[HMN_FPGA_S_G_J + 1];
  memset(stats, 0xab, sizeof stats);
  float one[1] = {0.0f};
  hmnk_wide word;
  memset(&word, 0, sizeof word);
  hmnk_wide_u8 taus;
  memset(&taus, 0, sizeof taus);
  uint32_t inputs[HMN_FPGA_IN_X + 2] = {0};
  hmn_hls_csim_step(&word, &word, &word, &word, &taus, 1, one, one, one, one, one, one, one, one,
                    one, one, one, one, one, one, params, inputs, stats);
  for (size_t k = 0; k < sizeof stats / sizeof stats[0]; k++) cr_assert_eq(stats[k], 0xababababu);
}

/* The bank audit itself: two accesses to a bank in one iteration pass,
 * three are reported with the loop and the array. */
Test(fpga_csim, bank_audit_catches_a_third_access) {
  hmn_hls_csim_audit_reset();
  hmn_hls_csim_audit_probe(2);
  cr_assert_eq(hmn_hls_csim_audit_violations(), 0);
  hmn_hls_csim_audit_probe(3);
  cr_assert_eq(hmn_hls_csim_audit_violations(), 1);
  cr_assert(strstr(hmn_hls_csim_audit_first(), "audit_probe") != NULL &&
                strstr(hmn_hls_csim_audit_first(), "probe") != NULL,
            "%s", hmn_hls_csim_audit_first());
  hmn_hls_csim_audit_reset();
}

/* Every pipelined loop that touches a banked array ran in the audit (an
 * audit that never saw a loop proves nothing about it). */
Test(fpga_csim, bank_audit_sees_every_banked_loop, .timeout = 300) {
  static const char *const loops[] = {"load_x_hist", "load_h",        "load_neuron_state",
                                      "push_x",      "products",      "neurons_rows",
                                      "attention_max", "attention_sum", "update_words"};
  hmn_hls_csim_audit_reset();
  hmn_config cfg;
  hmn_test_busy_config(&cfg, 37, 5);
  hmn_test_set_step(csim_step);
  size_t flips = hmn_test_compare_steps(&cfg, "ref", 11, 5, "C-sim 37 x 5, audited");
  cr_assert_leq(flips, 1);
  for (size_t k = 0; k < sizeof loops / sizeof loops[0]; k++)
    cr_assert_gt(hmn_hls_csim_audit_iterations(loops[k]), 0, "loop %s never ran", loops[k]);
  cr_assert_eq(hmn_hls_csim_audit_violations(), 0, "%s", hmn_hls_csim_audit_first());
}

/* The hardware precision contract (docs/fpga.md): AMD's floating-point
 * cores flush subnormals, so the card's bits can differ from ref's where
 * an intermediate is subnormal; every such difference stays within SPEC
 * section 5's bounds. The C-simulation runs the kernel flushed and is held
 * to the same comparisons. */
Test(fpga_csim, flushed_subnormals_stay_within_spec, .timeout = 900) {
  if (!hmn_hls_csim_flush_subnormals(1)) cr_skip_test("this host cannot flush subnormals");
  /* Flushing is on for the kernel, and off for the test itself. */
  cr_assert_eq(hmn_hls_csim_product(1e-30f, 1e-10f), 0.0f);
  volatile float tiny = 1e-30f;
  cr_assert_gt(tiny * 1e-10f, 0.0f);
  hmn_test_set_step(csim_step);
  size_t flips = hmn_test_compare_modes("ref");
  flips += hmn_test_compare_odd_shapes("ref");
  hmn_config cfg;
  hmn_test_busy_config(&cfg, 48, 24);
  cfg.eta_local = 0.01f;
  cfg.eta_global = 0.05f;
  flips += hmn_test_long_run(&cfg, "ref", 200, "C-sim flushed, 48 x 24");
  hmn_hls_csim_flush_subnormals(0);
  cr_assert_leq(flips, 15);
}

/* The region as on the card: every process in a thread of its own, every
 * stream at its declared depth. It completes (no deadlock) and agrees with
 * ref as the sequential run does. */
Test(fpga_csim, threaded_dataflow_completes_and_matches_ref, .timeout = 900) {
  hmn_hls_csim_clear_deadlock();
  hmn_hls_csim_threaded(1);
  hmn_test_set_step(csim_step);
  size_t flips = hmn_test_compare_odd_shapes("ref");
  hmn_config cfg;
  hmn_test_busy_config(&cfg, 48, 24);
  flips += hmn_test_compare_steps(&cfg, "ref", 3, 9, "C-sim threaded 48 x 24");
  /* The shape that deadlocks with a 2-deep row_vals (below) runs at the
   * declared depths. */
  hmn_test_busy_config(&cfg, 64, 80);
  flips += hmn_test_compare_steps(&cfg, "ref", 4, 2, "C-sim threaded 64 x 80");
  hmn_hls_csim_threaded(0);
  cr_assert_null(hmn_hls_csim_deadlock(), "%s", hmn_hls_csim_deadlock());
  cr_assert_leq(flips, 2);
}

/* The depths matter: row_vals must hold a layer's rows, because the
 * update reads its second row only after the reader has passed every row
 * once. With two entries, a layer of more rows than the streams before it
 * can buffer (64 x 80: 320 words against about 200) deadlocks, and the
 * simulation says so instead of hanging. */
Test(fpga_csim, a_too_shallow_row_stream_deadlocks, .timeout = 300) {
  hmn_hls_csim_clear_deadlock();
  hmn_hls_csim_override_depth("row_vals", 2);
  hmn_hls_csim_threaded(1);
  hmn_config cfg;
  hmn_test_busy_config(&cfg, 64, 80);
  hmn_layer *layer = hmn_test_layer(&cfg, "ref");
  hmn_test_inputs in;
  hmn_test_inputs_make(&cfg, 5, false, &in);
  hmn__state *st = &layer->st;
  hmn_hls_csim_audit_reset();
  /* The kernel call itself, as csim_step makes it, without its checks of
   * the result. */
  size_t wpr = hmn_hls_words_per_row((size_t)cfg.n_in), n_words = wpr * (size_t)cfg.n_out;
  hmnk_wide *wide[4];
  for (int arg = 0; arg < 4; arg++) {
    wide[arg] = malloc(n_words * sizeof(hmnk_wide));
    cr_assert_not_null(wide[arg]);
    hmn__fpga_pad_rows(&cfg, arg, st->arr[hmn__fpga_arg_array(arg)], wide[arg]);
  }
  hmnk_wide_u8 *taus = malloc(n_words * sizeof(hmnk_wide_u8));
  cr_assert_not_null(taus);
  hmn__fpga_pad_rows(&cfg, 4, st->arr[hmn__fpga_arg_array(4)], taus);
  uint32_t params[HMN_FPGA_PARAM_WORDS];
  hmn__fpga_params(&cfg, params);
  /* The inputs as the kernel reads them: 32-bit words, the step record
   * first (the host stages them as floats). */
  uint32_t *inputs = malloc(hmn__fpga_arg_bytes(&cfg, HMN__FPGA_INPUTS));
  uint32_t *stats = calloc(1, hmn__fpga_arg_bytes(&cfg, HMN__FPGA_STATS));
  cr_assert(inputs != NULL && stats != NULL);
  hmn__fpga_pack_inputs(st, &in.in, -1, NULL, (float *)(void *)inputs);
  hmn_hls_csim_step(wide[0], wide[1], wide[2], wide[3], taus, n_words, HMN__F32(st, X_HIST),
                    HMN__F32(st, H), HMN__F32(st, B), HMN__F32(st, C), HMN__F32(st, Z),
                    HMN__F32(st, ASTRO), HMN__F32(st, SIGN), HMN__F32(st, KAPPA),
                    HMN__F32(st, W_K), HMN__F32(st, PRE_TRACE), HMN__F32(st, POST_TRACE),
                    HMN__F32(st, RATE), HMN__F32(st, THETA), HMN__F32(st, SCALE), params,
                    inputs, stats);
  hmn_hls_csim_threaded(0);
  hmn_hls_csim_override_depth("row_vals", 0);
  const char *deadlock = hmn_hls_csim_deadlock();
  cr_assert_not_null(deadlock, "a 2-deep row_vals did not deadlock an 80-row layer");
  cr_log_info("fpga_csim: %s", deadlock);
  hmn_hls_csim_clear_deadlock();
  for (int arg = 0; arg < 4; arg++) free(wide[arg]);
  free(taus);
  free(inputs);
  free(stats);
  hmn_test_inputs_free(&in);
  hmn_layer_destroy(layer);
}

/* The split in the C-simulation: a forward launch writes no state and
 * gives the z of the fused step; forward + learn gives the fused step's
 * state bit for bit, every array, every step. */
static void csim_split_equals_fused(bool threaded) {
  hmn_config cfg;
  hmn_error err;
  hmn_test_busy_config(&cfg, 37, 6);
  cfg.noise_sigma = 0.1f;
  cfg.eta_local = 0.01f;
  cfg.eta_global = 0.05f;
  hmn_layer *fused = hmn_test_layer(&cfg, "ref"), *split = hmn_test_layer(&cfg, "ref");
  hmn_task *task;
  cr_assert_eq(hmn_task_create("stream", &cfg, &task, &err), HMN_OK, "%s", err.message);
  size_t total = 0;
  for (int k = 0; k < HMN_ARRAY_COUNT; k++) total += hmn__array_bytes(&cfg, (hmn_array)k);
  unsigned char *before = malloc(total);
  float z[6];
  cr_assert_not_null(before);
  hmn_hls_csim_clear_deadlock();
  hmn_hls_csim_threaded(threaded ? 1 : 0);
  for (int s = 0; s < 40; s++) {
    hmn_step_input in;
    cr_assert_eq(hmn_task_input(task, (uint64_t)s, &in, &err), HMN_OK, "%s", err.message);
    size_t at = 0;
    for (int k = 0; k < HMN_ARRAY_COUNT; k++) {
      size_t bytes = hmn__array_bytes(&cfg, (hmn_array)k);
      memcpy(before + at, split->st.arr[k], bytes);
      at += bytes;
    }
    csim_forward(split, in.x, z);
    at = 0;
    for (int k = 0; k < HMN_ARRAY_COUNT; k++) {
      size_t bytes = hmn__array_bytes(&cfg, (hmn_array)k);
      cr_assert(memcmp(before + at, split->st.arr[k], bytes) == 0,
                "step %d: forward changed '%s'", s, hmn_array_name((hmn_array)k));
      at += bytes;
    }
    cr_assert_eq(csim_learn_step(split, &in, -1, NULL, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(csim_step(fused, &in, &err), HMN_OK, "%s", err.message);
    cr_assert(memcmp(z, fused->st.arr[HMN_ARRAY_Z], sizeof z) == 0, "step %d: z differs", s);
    for (int k = 0; k < HMN_ARRAY_COUNT; k++)
      cr_assert(memcmp(fused->st.arr[k], split->st.arr[k],
                       hmn__array_bytes(&cfg, (hmn_array)k)) == 0,
                "step %d: '%s' differs", s, hmn_array_name((hmn_array)k));
    cr_assert_eq(fused->st.stats.applied, split->st.stats.applied);
    cr_assert_eq(fused->st.stats.candidates, split->st.stats.candidates);
  }
  hmn_hls_csim_threaded(0);
  cr_assert_null(hmn_hls_csim_deadlock(), "%s", hmn_hls_csim_deadlock());
  /* The layers did learn: the comparison is not of two idle layers. */
  hmn_layer *fresh = hmn_test_layer(&cfg, "ref");
  cr_assert(memcmp(fresh->st.arr[HMN_ARRAY_W], split->st.arr[HMN_ARRAY_W],
                   hmn__array_bytes(&cfg, HMN_ARRAY_W)) != 0);
  hmn_layer_destroy(fresh);
  free(before);
  hmn_task_destroy(task);
  hmn_layer_destroy(fused);
  hmn_layer_destroy(split);
}

Test(fpga_csim, forward_learn_equals_fused_step, .timeout = 600) {
  hmn_hls_csim_audit_reset();
  csim_split_equals_fused(false);
  cr_assert_gt(hmn_hls_csim_audit_iterations("forward_rows"), 0, "the forward region never ran");
}

Test(fpga_csim, threaded_forward_learn_equals_fused_step, .timeout = 600) {
  csim_split_equals_fused(true);
}

/* The policy rule in the C-simulation against ref by SPEC section 5: from
 * the same state (ref's, copied before each step), forward's z, and one
 * learning step with the action and pi = softmax(z / T) formed on the
 * host from the C-simulation's z, as the FPGA backends form it. */
Test(fpga_csim, policy_rule_agrees_with_ref, .timeout = 600) {
  hmn_config cfg;
  hmn_error err;
  hmn_test_busy_config(&cfg, 21, 5);
  cfg.rule = HMN_RULE_POLICY;
  cfg.action = HMN_ACTION_SOFTMAX;
  cfg.temperature = 0.3f;
  cfg.noise_sigma = 0.1f;
  cfg.stochastic = 0; /* every update applied: no borderline flips to count */
  cfg.eta_global = 5.0f;
  hmn_layer *ref = hmn_test_layer(&cfg, "ref"), *sim = hmn_test_layer(&cfg, "ref");
  hmn_task *task;
  cr_assert_eq(hmn_task_create("stream", &cfg, &task, &err), HMN_OK, "%s", err.message);
  size_t n_w = hmn_array_length(&cfg, HMN_ARRAY_W);
  double moved = 0.0;
  for (int s = 0; s < 30; s++) {
    hmn_test_copy_state(ref, sim);
    hmn_step_input in;
    cr_assert_eq(hmn_task_input(task, (uint64_t)s, &in, &err), HMN_OK, "%s", err.message);
    float zr[5], zs[5], pi[5];
    cr_assert_eq(hmn_layer_forward(ref, in.x, zr, &err), HMN_OK, "%s", err.message);
    csim_forward(sim, in.x, zs);
    for (int j = 0; j < cfg.n_out; j++)
      cr_assert_float_eq(zs[j], zr[j], 1e-4, "step %d: z[%d] %g vs ref %g", s, j, (double)zs[j],
                         (double)zr[j]);
    int32_t action = (int32_t)((uint32_t)s * 3u % (uint32_t)cfg.n_out);
    hmn_learn_input learn = {in.mod, in.ctx, in.phase, action};
    cr_assert_eq(hmn_layer_learn(ref, &learn, &err), HMN_OK, "%s", err.message);
    hmn__pre_policy(zs, cfg.n_out, cfg.temperature, pi);
    cr_assert_eq(csim_learn_step(sim, &in, action, pi, &err), HMN_OK, "%s", err.message);
    const float *w_r = ref->st.arr[HMN_ARRAY_W], *w_s = sim->st.arr[HMN_ARRAY_W];
    const float *p_r = ref->st.arr[HMN_ARRAY_PSI_F], *p_s = sim->st.arr[HMN_ARRAY_PSI_F];
    for (size_t e = 0; e < n_w; e++) {
      /* z carries a reduction's rounding into pi and kappa. */
      cr_assert_float_eq(p_s[e], p_r[e], 1e-4 + 1e-4 * fabs(p_r[e]), "step %d: psi_f[%zu]", s, e);
      cr_assert_float_eq(w_s[e], w_r[e], 1e-4 + 1e-4 * fabs(w_r[e]), "step %d: w[%zu]", s, e);
    }
    for (size_t e = 0; e < n_w; e++) moved += fabs((double)p_r[e]);
  }
  cr_assert_gt(moved, 1e-3, "the policy traces stayed at zero");
  hmn_task_destroy(task);
  hmn_layer_destroy(ref);
  hmn_layer_destroy(sim);
}

/* ---- the rule families in the C-simulation, against ref ----
 *
 * From the same state (ref's, copied over before each step), one step of
 * ref and one of the C-simulated kernel; every state array agrees by SPEC
 * section 5: exactly where the step computes it elementwise from the same
 * values, else within 1e-5 + 1e-4 |ref| (z comes from a reduction in
 * another order and carries its rounding into the rest). Stochastic
 * rounding is off, so no decision can flip; every step is audited. */
static void csim_family_agrees_with_ref(hmn_config *cfg, const char *what) {
  hmn_error err;
  cfg->stochastic = 0;
  cfg->eta_global = 5.0f;
  hmn_layer *ref = hmn_test_layer(cfg, "ref"), *sim = hmn_test_layer(cfg, "ref");
  hmn_task *task;
  cr_assert_eq(hmn_task_create("stream", cfg, &task, &err), HMN_OK, "%s", err.message);
  static const hmn_array exact[] = {HMN_ARRAY_X_HIST, HMN_ARRAY_H,     HMN_ARRAY_ASTRO,
                                    HMN_ARRAY_PHI,    HMN_ARRAY_KAPPA, HMN_ARRAY_W_K,
                                    HMN_ARRAY_SIGN,   HMN_ARRAY_PRE_TRACE};
  hmn_hls_csim_audit_reset();
  for (int s = 0; s < 30; s++) {
    hmn_test_copy_state(ref, sim);
    hmn_step_input in;
    cr_assert_eq(hmn_task_input(task, (uint64_t)s, &in, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(hmn_layer_step(ref, &in, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(csim_step(sim, &in, &err), HMN_OK, "%s", err.message);
    for (int k = 0; k < HMN_ARRAY_COUNT; k++) {
      if (k == HMN_ARRAY_TAU) continue;
      size_t n = hmn_array_length(cfg, (hmn_array)k);
      const float *r = ref->st.arr[k], *d = sim->st.arr[k];
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
    }
  }
  hmn_task_destroy(task);
  hmn_layer_destroy(ref);
  hmn_layer_destroy(sim);
}

static void csim_family_config(hmn_config *cfg) {
  hmn_test_busy_config(cfg, 37, 6);
  cfg->rho_slow = 0.5f;
}

Test(fpga_csim, family_stdp_agrees_with_ref, .timeout = 300) {
  hmn_config cfg;
  csim_family_config(&cfg);
  cfg.rule = HMN_RULE_STDP;
  cfg.tau_plus = 20.0f;
  cfg.tau_minus = 40.0f;
  csim_family_agrees_with_ref(&cfg, "C-sim stdp");
  cr_assert_gt(hmn_hls_csim_audit_iterations("load_pre_traces"), 0);
  cr_assert_gt(hmn_hls_csim_audit_iterations("store_post_traces"), 0);
}

Test(fpga_csim, family_triplet_all_to_all_agrees_with_ref, .timeout = 300) {
  hmn_config cfg;
  csim_family_config(&cfg);
  cfg.rule = HMN_RULE_TRIPLET;
  cfg.pairing = HMN_PAIRING_ALL;
  csim_family_agrees_with_ref(&cfg, "C-sim triplet all-to-all");
}

Test(fpga_csim, family_triplet_nearest_agrees_with_ref, .timeout = 300) {
  hmn_config cfg;
  csim_family_config(&cfg);
  cfg.rule = HMN_RULE_TRIPLET;
  cfg.pairing = HMN_PAIRING_NEAREST;
  csim_family_agrees_with_ref(&cfg, "C-sim triplet nearest");
}

Test(fpga_csim, family_bcm_agrees_with_ref, .timeout = 300) {
  hmn_config cfg;
  csim_family_config(&cfg);
  cfg.rule = HMN_RULE_BCM;
  csim_family_agrees_with_ref(&cfg, "C-sim bcm");
  cr_assert_gt(hmn_hls_csim_audit_iterations("store_rates"), 0);
  cfg.bcm_power = 1.5f;
  csim_family_agrees_with_ref(&cfg, "C-sim bcm, power 1.5");
}

Test(fpga_csim, family_hetero_agrees_with_ref, .timeout = 300) {
  hmn_config cfg;
  csim_family_config(&cfg);
  cfg.hetero_ratio = 0.2f;
  csim_family_agrees_with_ref(&cfg, "C-sim hebbian + heterosynaptic");
  cfg.rule = HMN_RULE_STDP;
  csim_family_agrees_with_ref(&cfg, "C-sim stdp + heterosynaptic");
}

Test(fpga_csim, family_scaling_agrees_with_ref, .timeout = 300) {
  hmn_config cfg;
  csim_family_config(&cfg);
  cfg.scaling = 1;
  csim_family_agrees_with_ref(&cfg, "C-sim hebbian + scaling");
  cfg.rule = HMN_RULE_BCM;
  csim_family_agrees_with_ref(&cfg, "C-sim bcm + scaling");
}

Test(fpga_csim, family_d1d2_agrees_with_ref, .timeout = 300) {
  hmn_config cfg;
  csim_family_config(&cfg);
  cfg.d2_fraction = 0.5f;
  cfg.rule = HMN_RULE_STDP;
  csim_family_agrees_with_ref(&cfg, "C-sim stdp, half D2");
}

/* The families with the region as on the card: every process in a thread
 * of its own at its declared stream depths. */
Test(fpga_csim, threaded_families_agree_with_ref, .timeout = 300) {
  hmn_hls_csim_clear_deadlock();
  hmn_hls_csim_threaded(1);
  hmn_config cfg;
  csim_family_config(&cfg);
  cfg.rule = HMN_RULE_TRIPLET;
  cfg.hetero_ratio = 0.1f;
  cfg.scaling = 1;
  csim_family_agrees_with_ref(&cfg, "C-sim threaded triplet + hetero + scaling");
  hmn_hls_csim_threaded(0);
  cr_assert_null(hmn_hls_csim_deadlock(), "%s", hmn_hls_csim_deadlock());
}
