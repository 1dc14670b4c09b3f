/*
 * test_fpga_model.c - the FPGA model (hmn_fpga_model) against numbers
 * worked out by hand from its formula (hmn.h): both ends of its range,
 * what bounds each, the resource estimate; and `hmn bench --model`, which
 * must print a range labelled a model.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "hmn.h"

TestSuite(fpga_model);

static void layer(hmn_config *cfg, int n_in, int n_out) {
  hmn_config_defaults(cfg);
  cfg->n_in = n_in;
  cfg->n_out = n_out;
}

static void near(double got, double want, const char *what) {
  cr_assert(fabs(got - want) <= 1e-3 * fabs(want), "%s: %.6g, by hand %.6g", what, got, want);
}

Test(fpga_model, u250_by_hand) {
  hmn_config cfg;
  layer(&cfg, 4096, 4096);
  hmn_fpga_prediction p;
  hmn_error err;
  cr_assert_eq(hmn_fpga_model("u250", &cfg, &p, &err), HMN_OK, "%s", err.message);
  /* wpr = 256, W = 1048576 words; defaults D = 4, K = 3, D_c = 4,
   * attention on. */
  cr_assert_eq(p.synapses, 16777216u);
  cr_assert_eq(p.words, 1048576u);
  /* The busiest bank: 192 W = 201326592 bytes at 90 % / 70 % of
   * 19.2 GB/s. */
  near(p.mem_s_fast, 201326592.0 / (0.9 * 19.2e9), "memory, fast");
  near(p.mem_s_slow, 201326592.0 / (0.7 * 19.2e9), "memory, slow");
  /* Fast end, 300 MHz: pre = 32 + 7*4096 + 4*4096 + 3*44 + 5*60 = 45520;
   * rows = 4096 * max(2*256 + 80, 256 + 30) + 256 = 2425088, above
   * 2 W = 2097152, so the region is 2425088 + 300 clocks = 8.08 ms,
   * below the memory's 11.65 ms. */
  near(p.fast.pre_clocks, 45520.0, "pre, fast");
  near(p.fast.rows_clocks, 2425088.0, "rows, fast");
  near(p.fast.region_clocks, 2425388.0, "region, fast");
  cr_assert_str_eq(p.fast.bound, "memory");
  double fast = 45520.0 / 300e6 + 201326592.0 / (0.9 * 19.2e9) + 20e-6;
  near(p.fast.step_s, fast, "t_step, fast");
  near(p.fast.sups, 16777216.0 / fast, "SUPS, fast");
  near(p.fast.sups_per_watt, 16777216.0 / fast / 225.0, "SUPS/W, fast");
  /* Slow end, 200 MHz: pre = 45970; rows = 4096 * 662 + 256 = 2711808;
   * region 2712408 clocks = 13.56 ms, below the memory's 14.98 ms. */
  near(p.slow.pre_clocks, 45970.0, "pre, slow");
  near(p.slow.region_clocks, 2712408.0, "region, slow");
  cr_assert_str_eq(p.slow.bound, "memory");
  double slow = 45970.0 / 200e6 + 201326592.0 / (0.7 * 19.2e9) + 50e-6;
  near(p.slow.step_s, slow, "t_step, slow");
  near(p.slow.sups, 16777216.0 / slow, "SUPS, slow");
  cr_assert_lt(p.slow.sups, p.fast.sups);
  /* Resources: 4326 DSPs from the operator counts, -20 % / +30 %; one of
   * the U250's 4 SLRs has 3072. */
  cr_assert_eq(p.dsp_lo, 3460);
  cr_assert_eq(p.dsp_hi, 5623);
  cr_assert_eq(p.uram, 32);
  cr_assert_eq(p.fits_one_slr, 0);
}

Test(fpga_model, hbm_cards_attention_and_small_layers) {
  hmn_config cfg;
  layer(&cfg, 4096, 4096);
  hmn_fpga_prediction u280, u55c;
  hmn_error err;
  cr_assert_eq(hmn_fpga_model("u280", &cfg, &u280, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_fpga_model("u55c", &cfg, &u55c, &err), HMN_OK, "%s", err.message);
  /* One HBM pseudo-channel per port: 460e9/32 B/s. */
  near(u280.mem_s_fast, 201326592.0 / (0.9 * 460e9 / 32), "U280 memory, fast");
  cr_assert_str_eq(u280.fast.bound, "memory");
  /* The same kernel and memory: the same speed; the U55C's 150 W make its
   * lower bound on SUPS per watt 1.5 times the U280's. */
  near(u55c.fast.sups, u280.fast.sups, "U55C SUPS");
  near(u55c.fast.sups_per_watt, 1.5 * u280.fast.sups_per_watt, "U55C SUPS/W");
  /* Attention off: the rows take N_out (wpr + d_sum) + wpr = 1171712
   * clocks, below the reader's 2 W, which then sets the region. */
  hmn_fpga_prediction off;
  cfg.attention = HMN_ATTN_OFF;
  cr_assert_eq(hmn_fpga_model("u250", &cfg, &off, &err), HMN_OK);
  near(off.fast.rows_clocks, 1171712.0, "rows, attention off");
  near(off.fast.region_clocks, 2097152.0 + 300.0, "region, attention off");
  /* A tiny layer is compute-bound: rows 16 * (2 + 80) + 1 = 1313 clocks,
   * region 1613, against 3072 bytes of memory traffic. */
  layer(&cfg, 16, 16);
  cr_assert_eq(hmn_fpga_model("u250", &cfg, &off, &err), HMN_OK);
  near(off.fast.region_clocks, 1613.0, "region, 16x16");
  cr_assert_str_eq(off.fast.bound, "compute");
  near(off.fast.region_s, 1613.0 / 300e6, "t_region, 16x16");
  /* Unknown cards and invalid configs are refused. */
  cr_assert_eq(hmn_fpga_model("u200", &cfg, &off, &err), HMN_EINVAL);
  cr_assert(strstr(err.message, "u250, u280 or u55c") != NULL, "%s", err.message);
  cfg.n_in = 0;
  cr_assert_eq(hmn_fpga_model("u250", &cfg, &off, &err), HMN_ECONFIG);
  const char *const *names = hmn_fpga_model_cards();
  cr_assert_str_eq(names[0], "u250");
  cr_assert_str_eq(names[2], "u55c");
  cr_assert_null(names[3]);
}

/* `hmn bench --model`: every number comes labelled a model. */
Test(fpga_model, bench_prints_a_labelled_model) {
  const char *bin = getenv("HMN_BIN");
  if (bin == NULL) cr_skip_test("HMN_BIN is not set (run the tests through ctest)");
  static char out[16384];
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s' bench --model u250 --size 4096 --size 256x64 2>&1", bin);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  int status = pclose(p);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", out);
  cr_assert(strstr(out, "MODEL, not a measurement") != NULL, "%s", out);
  cr_assert(strstr(out, "model SUPS") != NULL && strstr(out, "model SUPS/W") != NULL, "%s", out);
  cr_assert(strstr(out, "4096x4096") != NULL && strstr(out, "256x64") != NULL, "%s", out);
  cr_assert(strstr(out, "1.099e+09-1.419e+09") != NULL,
            "the hand-worked 4096x4096 U250 range:\n%s", out);
  cr_assert(strstr(out, "does NOT fit in one SLR") != NULL, "%s", out);
  cr_assert(strstr(out, "not synthesized, not measured") != NULL, "%s", out);
  snprintf(cmd, sizeof cmd, "'%s' bench --model u55c --size 64x16 --json 2>&1", bin);
  p = popen(cmd, "r");
  cr_assert_not_null(p);
  n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  status = pclose(p);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", out);
  cr_assert(strstr(out, "\"model\": true") != NULL && strstr(out, "\"model_sups\"") != NULL &&
                strstr(out, "\"fits_one_slr\": false") != NULL,
            "%s", out);
  snprintf(cmd, sizeof cmd, "'%s' bench --model u200 > /dev/null 2>&1", bin);
  status = system(cmd);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2);
}
