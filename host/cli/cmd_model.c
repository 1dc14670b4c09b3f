/*
 * cmd_model.c - `hmn bench --model CARD`: the FPGA model's prediction
 * (hmn_fpga_model) at each bench size, a range printed with its inputs and
 * the resource estimate, labelled a model on every line that carries a
 * number, so that it is never read as a measurement (SPEC section 9).
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
          "{s:b, s:s, s:s, s:i, s:i, s:I, s:I, "
          "s:{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}, "
          "s:{s:f, s:f, s:s, s:f, s:f, s:f, s:f, s:f}, "
          "s:{s:f, s:f, s:s, s:f, s:f, s:f, s:f, s:f}, "
          "s:{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:i, s:i, s:i, s:i, s:i}}",
          "model", 1, "card", m->name, "description", m->description, "n_in", cfg.n_in, "n_out",
          cfg.n_out, "synapses", (json_int_t)p.synapses, "words", (json_int_t)p.words, "inputs",
          "clock_lo_hz", m->clock_lo_hz, "clock_hi_hz", m->clock_hi_hz, "port_bytes_per_s",
          m->port_bytes_per_s, "port_eff_lo", m->port_eff_lo, "port_eff_hi", m->port_eff_hi,
          "launch_lo_s", m->launch_lo_s, "launch_hi_s", m->launch_hi_s, "power_w", m->power_w,
          "fast", "f_hz", p.fast.f_hz, "region_s", p.fast.region_s, "bound", p.fast.bound,
          "pre_clocks", p.fast.pre_clocks, "region_clocks", p.fast.region_clocks, "step_s",
          p.fast.step_s, "model_sups", p.fast.sups, "model_sups_per_watt_at_least",
          p.fast.sups_per_watt, "slow", "f_hz", p.slow.f_hz, "region_s", p.slow.region_s,
          "bound", p.slow.bound, "pre_clocks", p.slow.pre_clocks, "region_clocks",
          p.slow.region_clocks, "step_s", p.slow.step_s, "model_sups", p.slow.sups,
          "model_sups_per_watt_at_least", p.slow.sups_per_watt, "resources", "dsp_lo", p.dsp_lo,
          "dsp_hi", p.dsp_hi, "lut_k_lo", p.lut_k_lo, "lut_k_hi", p.lut_k_hi, "bram36_lo",
          p.bram36_lo, "bram36_hi", p.bram36_hi, "uram", p.uram, "fits_one_slr",
          p.fits_one_slr, "card_slrs", m->slrs, "card_dsp", m->dsp, "card_lut_k", m->lut_k,
          "card_bram36", m->bram36, "card_uram", m->uram);
      if (o == NULL || json_array_append_new(all, o) != 0) {
        hmn_cli_error("hmn bench", "out of memory");
        rc = HMN_EXIT_RUNTIME;
      }
      continue;
    }
    if (s == 0) {
      printf("MODEL, not a measurement: the HLS kernel hmn_fpga_step on the %s\n",
             m->description);
      printf("model inputs: f = %g-%g MHz, bank share e = %.0f-%.0f %% of %.2f GB/s, "
             "t_launch = %g-%g us,\n"
             "  depths d_att %d-%d, d_sum %d-%d, d_fill %d-%d, L_axi %d-%d clocks; "
             "P_card = %g W (board maximum)\n",
             m->clock_lo_hz / 1e6, m->clock_hi_hz / 1e6, m->port_eff_lo * 100.0,
             m->port_eff_hi * 100.0, m->port_bytes_per_s / 1e9, m->launch_lo_s * 1e6,
             m->launch_hi_s * 1e6, p.fast.d_att, p.slow.d_att, p.fast.d_sum, p.slow.d_sum,
             p.fast.d_fill, p.slow.d_fill, p.fast.l_axi, p.slow.l_axi, m->power_w);
      printf("model resources (estimate from operator counts): DSP %d-%d of %d, LUT %d-%d k of "
             "%d k, BRAM36 %d-%d of %d, URAM %d of %d;\n"
             "  one SLR holds 1/%d of the card: the kernel %s one SLR\n",
             p.dsp_lo, p.dsp_hi, m->dsp, p.lut_k_lo, p.lut_k_hi, m->lut_k, p.bram36_lo,
             p.bram36_hi, m->bram36, p.uram, m->uram, m->slrs,
             p.fits_one_slr ? "fits in" : "does NOT fit in");
      printf("%-12s %12s %24s %24s %26s %22s\n", "size", "synapses", "t_region (bound)",
             "t_step", "model SUPS (range)", "model SUPS/W >=");
    }
    char size[32], region[48], step[48], sups[48], per_w[48];
    snprintf(size, sizeof size, "%dx%d", cfg.n_in, cfg.n_out);
    snprintf(region, sizeof region, "%.3g-%.3g ms (%s)", p.fast.region_s * 1e3,
             p.slow.region_s * 1e3, strcmp(p.fast.bound, p.slow.bound) == 0 ? p.fast.bound
                                                                          : "mixed");
    snprintf(step, sizeof step, "%.3g-%.3g ms", p.fast.step_s * 1e3, p.slow.step_s * 1e3);
    snprintf(sups, sizeof sups, "%.3e-%.3e", p.slow.sups, p.fast.sups);
    snprintf(per_w, sizeof per_w, "%.3e-%.3e", p.slow.sups_per_watt, p.fast.sups_per_watt);
    printf("%-12s %12llu %24s %24s %26s %22s\n", size, (unsigned long long)p.synapses, region,
           step, sups, per_w);
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
    printf("(a range predicted by hmn_fpga_model's formula, hmn.h and docs/fpga.md; not "
           "synthesized, not measured: measure on a card with --backend xrt)\n");
  }
  json_decref(all);
  return rc;
}
