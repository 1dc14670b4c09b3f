/*
 * test_fpga.c - the FPGA kernel (kernels/hmn_fpga.cl: one work-item,
 * 512-bit words, on-chip state, dataflow stages) run through PoCL as the
 * "opencl-fpga" backend agrees with ref by SPEC section 5 (every mode and
 * activation and the odd sizes are in test_backend_matrix.c), 200-step
 * runs with borderline flips counted,
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
  };
  hmn_test_oclgrind_clean("run --steps 3", "opencl-fpga", "--local-mem-size 1048576", configs,
                          sizeof configs / sizeof configs[0]);
}
