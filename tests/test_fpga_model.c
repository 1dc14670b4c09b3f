/*
 * test_fpga_model.c - the FPGA throughput model (hmn_fpga_model) against
 * numbers worked out by hand from its formula (hmn.h), and `hmn bench
 * --model`, which must label every prediction a model.
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
  /* N_syn = 16777216. Rows, attention on: 4096 * (2*256 + 200) clocks
   * = 2916352 at 300 MHz = 9.7212 ms; the W port 4*N/19.2e9 = 3.495 ms,
   * memory 5*N/76.8e9 = 1.092 ms: compute-bound. */
  cr_assert_eq(p.synapses, 16777216u);
  near(p.rows_s, 2916352.0 / 300e6, "t_rows");
  cr_assert_str_eq(p.rows_bound, "compute");
  /* Synapses: 1048576 words + 2048 blocks * 200 = 1458176 clocks =
   * 4.861 ms; the W port 8*N/19.2e9 = 6.991 ms; memory 29*N/76.8e9 =
   * 6.335 ms: port-bound. */
  near(p.synapses_s, 8.0 * 16777216.0 / 19.2e9, "t_syn");
  cr_assert_str_eq(p.synapses_bound, "port");
  double step = 2916352.0 / 300e6 + 8.0 * 16777216.0 / 19.2e9 + 30e-6;
  near(p.step_s, step, "t_step");
  near(p.sups, 16777216.0 / step, "SUPS");
  near(p.sups_per_watt, 16777216.0 / step / 225.0, "SUPS/W");
}

Test(fpga_model, hbm_cards_and_attention) {
  hmn_config cfg;
  layer(&cfg, 4096, 4096);
  hmn_fpga_prediction u280, u55c;
  hmn_error err;
  cr_assert_eq(hmn_fpga_model("u280", &cfg, &u280, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_fpga_model("u55c", &cfg, &u55c, &err), HMN_OK, "%s", err.message);
  /* One HBM pseudo-channel per port: 460e9/32 B/s, so the synapse pass
   * takes 8*N/14.375e9 = 9.337 ms. */
  near(u280.synapses_s, 8.0 * 16777216.0 / (460e9 / 32), "U280 t_syn");
  cr_assert_str_eq(u280.synapses_bound, "port");
  /* The same kernel and memory: the same speed; the U55C's 150 W make it
   * 1.5 times the SUPS per watt. */
  near(u55c.sups, u280.sups, "U55C SUPS");
  near(u55c.sups_per_watt, 1.5 * u280.sups_per_watt, "U55C SUPS/W");
  /* Attention off: the neuron stage reads a row once, not twice. */
  hmn_fpga_prediction off;
  cfg.attention = HMN_ATTN_OFF;
  cr_assert_eq(hmn_fpga_model("u250", &cfg, &off, &err), HMN_OK);
  near(off.rows_s, 4096.0 * (256 + 200) / 300e6, "t_rows, attention off");
  /* A tiny layer is dominated by the launch and the pipeline fills. */
  layer(&cfg, 16, 16);
  cr_assert_eq(hmn_fpga_model("u250", &cfg, &off, &err), HMN_OK);
  near(off.rows_s, 16.0 * (2 + 200) / 300e6, "t_rows, 16x16");
  near(off.synapses_s, (16.0 + 200.0) / 300e6, "t_syn, 16x16");
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
  cr_assert(strstr(out, "1.002e+09") != NULL, "the hand-worked 4096x4096 U250 figure:\n%s", out);
  snprintf(cmd, sizeof cmd, "'%s' bench --model u55c --size 64x16 --json 2>&1", bin);
  p = popen(cmd, "r");
  cr_assert_not_null(p);
  n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  status = pclose(p);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", out);
  cr_assert(strstr(out, "\"model\": true") != NULL && strstr(out, "\"model_sups\"") != NULL,
            "%s", out);
  snprintf(cmd, sizeof cmd, "'%s' bench --model u200 > /dev/null 2>&1", bin);
  status = system(cmd);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2);
}
