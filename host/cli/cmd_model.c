/*
 * cmd_model.c - `hmn bench --model CARD`: the FPGA throughput model's
 * prediction (hmn_fpga_model) at each bench size, printed with its inputs
 * and labelled a model on every line that carries a number, so that it is
 * never read as a measurement (SPEC section 9).
 */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool hmn_cli_model_card_known(const char *card) {
  for (const char *const *n = hmn_fpga_model_cards(); *n != NULL; n++)
    if (strcmp(*n, card) == 0) return true;
  return false;
}

int hmn_cli_bench_model(const char *card, const hmn_config *base, const int *n_in,
                        const int *n_out, int n_sizes, bool json) {
  hmn_error err;
  json_t *all = json ? json_array() : NULL;
  if (json && all == NULL) {
    hmn_cli_error("hmn bench", "out of memory");
    return HMN_EXIT_RUNTIME;
  }
  int rc = HMN_EXIT_OK;
  for (int s = 0; s < n_sizes && rc == HMN_EXIT_OK; s++) {
    hmn_config cfg = *base;
    cfg.n_in = n_in[s];
    cfg.n_out = n_out[s];
    hmn_fpga_prediction p;
    if (hmn_fpga_model(card, &cfg, &p, &err) != HMN_OK) {
      hmn_cli_error("hmn bench", "--model %s: %s", card, err.message);
      rc = HMN_EXIT_USAGE;
      break;
    }
    const hmn_fpga_card_model *m = &p.card;
    if (json) {
      json_t *o = json_pack(
          "{s:b, s:s, s:s, s:i, s:i, s:I, s:{s:f, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:f}, "
          "s:f, s:s, s:f, s:s, s:f, s:f, s:f}",
          "model", 1, "card", m->name, "description", m->description, "n_in", cfg.n_in,
          "n_out", cfg.n_out, "synapses", (json_int_t)p.synapses, "inputs", "clock_hz",
          m->clock_hz, "lanes", m->lanes, "ii", m->ii, "pipeline_depth", m->pipeline_depth,
          "block_words", m->block_words, "mem_bytes_per_s", m->mem_bytes_per_s,
          "port_bytes_per_s", m->port_bytes_per_s, "launch_s", m->launch_s, "power_w",
          m->power_w, "rows_s", p.rows_s, "rows_bound", p.rows_bound, "synapses_s",
          p.synapses_s, "synapses_bound", p.synapses_bound, "step_s", p.step_s,
          "model_sups", p.sups, "model_sups_per_watt", p.sups_per_watt);
      if (o == NULL || json_array_append_new(all, o) != 0) {
        hmn_cli_error("hmn bench", "out of memory");
        rc = HMN_EXIT_RUNTIME;
      }
      continue;
    }
    if (s == 0) {
      printf("MODEL, not a measurement: the FPGA kernel hmn_fpga_step on the %s\n",
             m->description);
      printf("model inputs: f = %g MHz, %d lanes, II = %d, pipeline depth %d clocks "
             "(estimate), blocks of %d words,\n"
             "              B_port = %.1f GB/s, B_mem = %.1f GB/s, t_launch = %g us, "
             "P_card = %g W (board maximum)\n",
             m->clock_hz / 1e6, m->lanes, m->ii, m->pipeline_depth, m->block_words,
             m->port_bytes_per_s / 1e9, m->mem_bytes_per_s / 1e9, m->launch_s * 1e6,
             m->power_w);
      printf("%-12s %12s %20s %20s %12s %14s %16s\n", "size", "synapses", "t_rows (bound)",
             "t_syn (bound)", "t_step", "model SUPS", "model SUPS/W");
    }
    char size[32], rows[40], syn[40];
    snprintf(size, sizeof size, "%dx%d", cfg.n_in, cfg.n_out);
    snprintf(rows, sizeof rows, "%.3g ms (%s)", p.rows_s * 1e3, p.rows_bound);
    snprintf(syn, sizeof syn, "%.3g ms (%s)", p.synapses_s * 1e3, p.synapses_bound);
    printf("%-12s %12llu %20s %20s %9.3g ms %14.3e %16.3e\n", size,
           (unsigned long long)p.synapses, rows, syn, p.step_s * 1e3, p.sups, p.sups_per_watt);
  }
  if (json && rc == HMN_EXIT_OK) {
    char *text = json_dumps(all, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text == NULL) {
      hmn_cli_error("hmn bench", "out of memory");
      rc = HMN_EXIT_RUNTIME;
    } else {
      printf("%s\n", text);
      free(text);
    }
  } else if (rc == HMN_EXIT_OK) {
    printf("(predicted from hmn_fpga_model's formula, hmn.h and README; measure on a card with "
           "--backend xrt)\n");
  }
  json_decref(all);
  return rc;
}
