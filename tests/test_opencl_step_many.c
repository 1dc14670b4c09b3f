/*
 * test_opencl_step_many.c - hmn_layer_step_many: several steps to a call (on
 * opencl, up to 16 to a kernel launch, with a delay line of two halves)
 * give the bits of the same steps taken one at a time, whatever the shape,
 * the delay line's length against the launch's, the ring's group
 * boundaries, snapshots and writes in between; a bad input steps nothing.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "opencl_support.h"
#include "support.h"

TestSuite(opencl_step_many);

/* Distinct pseudo-random inputs for `count` steps, every third without a
 * phase (the built-in oscillator). */
typedef struct {
  hmn_test_inputs *each;
  hmn_step_input *in;
  size_t count;
} inputs_run;

static void inputs_run_make(const hmn_config *cfg, uint32_t seed, size_t count, inputs_run *run) {
  run->each = calloc(count, sizeof *run->each);
  run->in = calloc(count, sizeof *run->in);
  cr_assert(run->each != NULL && run->in != NULL);
  run->count = count;
  for (size_t k = 0; k < count; k++) {
    hmn_test_inputs_make(cfg, seed + (uint32_t)k, k % 3 != 2, &run->each[k]);
    run->in[k] = run->each[k].in;
  }
}

static void inputs_run_free(inputs_run *run) {
  for (size_t k = 0; k < run->count; k++) hmn_test_inputs_free(&run->each[k]);
  free(run->each);
  free(run->in);
}

static void assert_same_stats(hmn_layer *a, hmn_layer *b, const char *what) {
  hmn_step_stats sa, sb;
  hmn_error err;
  cr_assert_eq(hmn_layer_stats(a, &sa, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_stats(b, &sb, &err), HMN_OK, "%s", err.message);
  cr_assert(sa.t == sb.t && sa.applied == sb.applied && sa.candidates == sb.candidates &&
                memcmp(&sa.g_mean, &sb.g_mean, sizeof sa.g_mean) == 0,
            "%s: statistics differ (t %llu/%llu, applied %llu/%llu, candidates %llu/%llu)", what,
            (unsigned long long)sa.t, (unsigned long long)sb.t, (unsigned long long)sa.applied,
            (unsigned long long)sb.applied, (unsigned long long)sa.candidates,
            (unsigned long long)sb.candidates);
}

/* Two layers of `backend` from the same random state at step t0: `one`
 * takes the steps one at a time, `many` in calls of the sizes `chunks`
 * (cycled). After every call both hold the same bits and statistics. */
static void compare_chunks(const hmn_config *cfg, const char *backend, uint64_t t0,
                           const size_t *chunks, size_t n_chunks, size_t steps, const char *what) {
  hmn_layer *one = hmn_test_layer(cfg, backend), *many = hmn_test_layer(cfg, backend);
  hmn_test_pair pair = {one, many};
  hmn_test_pair_randomize(&pair, 7u + (uint32_t)cfg->n_in, t0);
  inputs_run run;
  inputs_run_make(cfg, 1000u + (uint32_t)cfg->delay_len, steps, &run);
  hmn_error err;
  char label[200];
  size_t done = 0;
  for (size_t c = 0; done < steps; c++) {
    size_t n = chunks[c % n_chunks];
    if (n > steps - done) n = steps - done;
    for (size_t k = 0; k < n; k++)
      cr_assert_eq(hmn_layer_step(one, &run.in[done + k], &err), HMN_OK, "%s", err.message);
    cr_assert_eq(hmn_layer_step_many(many, &run.in[done], n, &err), HMN_OK, "%s", err.message);
    done += n;
    snprintf(label, sizeof label, "%s, %s, after %zu steps (a call of %zu)", what, backend, done,
             n);
    hmn_test_assert_same_bits(one, many, label);
    assert_same_stats(one, many, label);
  }
  inputs_run_free(&run);
  hmn_layer_destroy(one);
  hmn_layer_destroy(many);
}

/* Shapes (n_in, n_out, D) against call sizes: a one-step delay line;
 * calls longer than the delay line and shorter; the element-by-element
 * delay path (D > 8); rows of whole aligned vectors and rows with tails;
 * fewer neurons than delay rows to copy (each group copies several); calls
 * that cross the ring's groups of 16 slots and runs longer than the ring;
 * a step counter past 2^32. */
static void many_matches_single(const char *backend) {
  static const size_t mixed[] = {1, 5, 16, 3, 40, 2, 7};
  static const size_t long_calls[] = {37};
  static const size_t pairs[] = {2};
  static const struct {
    int n_in, n_out, delay;
    uint64_t t0;
    const size_t *chunks;
    size_t n_chunks;
    size_t steps;
  } cases[] = {
      {29, 11, 3, 0, mixed, 7, 74},
      {5, 3, 1, 5, mixed, 7, 74},
      {64, 4, 4, 11, long_calls, 1, 150},
      {70, 2, 12, 3, mixed, 7, 74},
      {33, 1, 2, 0, pairs, 1, 9},
      {16, 5, 20, 0x100000000ull - 9u, mixed, 7, 74},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    hmn_config cfg;
    hmn_test_busy_config(&cfg, cases[c].n_in, cases[c].n_out);
    cfg.delay_len = cases[c].delay;
    char what[120];
    snprintf(what, sizeof what, "%dx%d, D=%d, from t=%llu", cases[c].n_in, cases[c].n_out,
             cases[c].delay, (unsigned long long)cases[c].t0);
    compare_chunks(&cfg, backend, cases[c].t0, cases[c].chunks, cases[c].n_chunks,
                   cases[c].steps, what);
  }
}

Test(opencl_step_many, opencl_matches_single_steps, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  many_matches_single("opencl");
}

Test(opencl_step_many, ref_matches_single_steps) { many_matches_single("ref"); }

/* Snapshots, writes of the delay line and of other arrays between calls:
 * the two halves of the delay line come back as the state says. */
Test(opencl_step_many, snapshots_and_writes_between_calls) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_test_busy_config(&cfg, 21, 6);
  cfg.delay_len = 5;
  hmn_layer *one = hmn_test_layer(&cfg, "opencl"), *many = hmn_test_layer(&cfg, "opencl");
  hmn_test_pair pair = {one, many};
  hmn_test_pair_randomize(&pair, 3u, 2u);
  inputs_run run;
  inputs_run_make(&cfg, 77u, 40, &run);
  hmn_error err;
  size_t t = 0;

  /* 3 steps in a call, a snapshot, 9 more (whose second launch must carry
   * the first's rows), back to the snapshot, then the 9 again. */
  cr_assert_eq(hmn_layer_step_many(many, run.in, 3, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_snapshot_save(many, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_step_many(many, run.in + 3, 9, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_snapshot_restore(many, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_step_count(many), 2 + 3);
  cr_assert_eq(hmn_layer_step_many(many, run.in + 3, 9, &err), HMN_OK, "%s", err.message);
  for (; t < 12; t++) cr_assert_eq(hmn_layer_step(one, &run.in[t], &err), HMN_OK);
  hmn_test_assert_same_bits(one, many, "after a snapshot restored between calls");

  /* A new delay line written between two calls reaches both halves. */
  size_t hist_floats = (size_t)cfg.delay_len * (size_t)cfg.n_in;
  float *hist = malloc(hist_floats * sizeof(float));
  cr_assert_not_null(hist);
  for (size_t k = 0; k < hist_floats; k++) hist[k] = (float)k * 0.03125f - 1.0f;
  cr_assert_eq(hmn_layer_write(one, HMN_ARRAY_X_HIST, hist, hist_floats * sizeof(float), &err),
               HMN_OK);
  cr_assert_eq(hmn_layer_write(many, HMN_ARRAY_X_HIST, hist, hist_floats * sizeof(float), &err),
               HMN_OK);
  free(hist);
  for (size_t k = 0; k < 2; k++)
    cr_assert_eq(hmn_layer_step_many(many, run.in + t + 7 * k, 7, &err), HMN_OK, "%s",
                 err.message);
  for (size_t end = t + 14; t < end; t++)
    cr_assert_eq(hmn_layer_step(one, &run.in[t], &err), HMN_OK);
  hmn_test_assert_same_bits(one, many, "after the delay line was written between calls");

  /* A single step and a call mixed, a snapshot taken right after a call
   * (the halves apart), restored after single steps. */
  cr_assert_eq(hmn_layer_step(many, &run.in[t], &err), HMN_OK);
  cr_assert_eq(hmn_layer_step_many(many, run.in + t + 1, 4, &err), HMN_OK);
  cr_assert_eq(hmn_layer_snapshot_save(many, &err), HMN_OK);
  for (size_t k = 5; k < 9; k++) cr_assert_eq(hmn_layer_step(many, &run.in[t + k], &err), HMN_OK);
  cr_assert_eq(hmn_layer_snapshot_restore(many, &err), HMN_OK);
  cr_assert_eq(hmn_layer_step_many(many, run.in + t + 5, 9, &err), HMN_OK);
  for (size_t end = t + 14; t < end; t++)
    cr_assert_eq(hmn_layer_step(one, &run.in[t], &err), HMN_OK);
  hmn_test_assert_same_bits(one, many, "after a snapshot between a call and single steps");
  assert_same_stats(one, many, "the last call");
  inputs_run_free(&run);
  hmn_layer_destroy(one);
  hmn_layer_destroy(many);
}

/* Every input is checked before any step: a NaN in the fifth step's x
 * fails the call, names that step, and leaves the state as it was. */
static void bad_input_steps_nothing(const char *backend) {
  hmn_config cfg;
  hmn_test_small_config(&cfg, 9, 4);
  hmn_layer *layer = hmn_test_layer(&cfg, backend), *untouched = hmn_test_layer(&cfg, backend);
  inputs_run run;
  inputs_run_make(&cfg, 5u, 8, &run);
  hmn_error err;
  cr_assert_eq(hmn_layer_step_many(layer, run.in, 2, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_step_many(untouched, run.in, 2, &err), HMN_OK, "%s", err.message);
  run.each[6].x[3] = NAN; /* step 2 + 4 = 6 of the layer */
  cr_assert_eq(hmn_layer_step_many(layer, run.in + 2, 6, &err), HMN_ENUMERIC);
  cr_assert(strstr(err.message, "step 6: x[3]") != NULL, "%s: the message names no step: %s", backend,
            err.message);
  cr_assert_eq(hmn_layer_step_count(layer), 2, "%s: a failed call stepped", backend);
  hmn_test_assert_same_bits(layer, untouched, "a failed call");
  /* No steps is no change; inputs are needed only for steps. */
  cr_assert_eq(hmn_layer_step_many(layer, NULL, 0, &err), HMN_OK);
  cr_assert_eq(hmn_layer_step_many(layer, NULL, 3, &err), HMN_EINVAL);
  cr_assert_eq(hmn_layer_step_many(NULL, run.in, 1, &err), HMN_EINVAL);
  cr_assert_eq(hmn_layer_step_count(layer), 2);
  inputs_run_free(&run);
  hmn_layer_destroy(layer);
  hmn_layer_destroy(untouched);
}

Test(opencl_step_many, opencl_bad_input_steps_nothing) {
  HMN_TEST_REQUIRE_OPENCL();
  bad_input_steps_nothing("opencl");
}

Test(opencl_step_many, ref_bad_input_steps_nothing) { bad_input_steps_nothing("ref"); }
