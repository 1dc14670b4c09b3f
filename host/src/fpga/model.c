/*
 * model.c - the throughput model of the FPGA kernel on Alveo cards
 * (hmn.h, hmn_fpga_model): predicted SUPS and SUPS per watt from the
 * kernel's schedule (lanes, II, pipeline depth, block size) and each
 * card's clock, memory bandwidth and board power. It is a model: `hmn
 * bench --model` labels it so, and the README gives the formula and
 * where each number comes from.
 */
#include "fpga/fpga.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The kernel's side (kernels/hmn_fpga.h): 16 lanes at II = 1, blocks of
 * HMN__FPGA_BLOCK_WORDS words; a pipeline fill of about 200 clocks (the
 * longest chain, Philox-4x32-10 then the exp, cos and sigmoid
 * polynomials, is estimated at that from its operation count). The
 * cards' side: AMD's product data sheets for the memory and the maximum
 * board power; the default kernel clock of their
 * Vitis platforms (300 MHz); XRT's run start, wait and one small input
 * upload at about 30 microseconds. */
#define HMN__MODEL_KERNEL(clock)                                                          \
  .clock_hz = (clock), .lanes = HMN_FPGA_LANES, .ii = 1, .pipeline_depth = 200,           \
  .block_words = HMN__FPGA_BLOCK_WORDS, .launch_s = 30e-6

static const hmn_fpga_card_model hmn__cards_modelled[] = {
    {.name = "u250",
     .description = "Alveo U250: 4 DDR4-2400 banks of 16 GiB (19.2 GB/s each), 225 W",
     HMN__MODEL_KERNEL(300e6), .mem_bytes_per_s = 4 * 19.2e9, .port_bytes_per_s = 19.2e9,
     .power_w = 225.0},
    {.name = "u280",
     .description = "Alveo U280: 8 GiB HBM2 in 32 pseudo-channels (460 GB/s, 14.4 each), 225 W",
     HMN__MODEL_KERNEL(300e6), .mem_bytes_per_s = 460e9, .port_bytes_per_s = 460e9 / 32,
     .power_w = 225.0},
    {.name = "u55c",
     .description = "Alveo U55C: 16 GiB HBM2 in 32 pseudo-channels (460 GB/s, 14.4 each), 150 W",
     HMN__MODEL_KERNEL(300e6), .mem_bytes_per_s = 460e9, .port_bytes_per_s = 460e9 / 32,
     .power_w = 150.0},
};
#define HMN__N_MODELLED (sizeof hmn__cards_modelled / sizeof hmn__cards_modelled[0])

const char *const *hmn_fpga_model_cards(void) {
  static const char *const names[] = {"u250", "u280", "u55c", NULL};
  _Static_assert(sizeof names / sizeof names[0] == HMN__N_MODELLED + 1, "one name per card");
  return names;
}

/* The longest of a pass's three times, and which one it is. */
static double hmn__pass(double clocks_s, double port_s, double mem_s, const char **bound) {
  *bound = "compute";
  double t = clocks_s;
  if (port_s > t) {
    t = port_s;
    *bound = "port";
  }
  if (mem_s > t) {
    t = mem_s;
    *bound = "memory";
  }
  return t;
}

int hmn_fpga_model(const char *card, const hmn_config *cfg, hmn_fpga_prediction *out,
                   hmn_error *err) {
  if (card == NULL || cfg == NULL || out == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_fpga_model: NULL argument");
  const hmn_fpga_card_model *m = NULL;
  for (size_t k = 0; k < HMN__N_MODELLED && m == NULL; k++)
    if (strcmp(hmn__cards_modelled[k].name, card) == 0) m = &hmn__cards_modelled[k];
  if (m == NULL)
    return hmn__fail(err, HMN_EINVAL, "no model of card '%s' (u250, u280 or u55c)", card);
  int rc = hmn_config_validate(cfg, err);
  if (rc != HMN_OK) return rc;
  memset(out, 0, sizeof *out);
  out->card = *m;
  double n_syn = (double)cfg->n_in * (double)cfg->n_out, lanes = m->lanes;
  double per_clock = (double)m->ii / m->clock_hz;
  /* Rows: the neuron stage reads each row twice with attention on (row
   * maximum, then softmax denominator), the forward stage once; the two
   * overlap, so the slower sets the pace. */
  double row_passes = cfg->attention != HMN_ATTN_OFF ? 2.0 : 1.0;
  double rows_clocks =
      (double)cfg->n_out * (row_passes * ceil((double)cfg->n_in / lanes) + m->pipeline_depth);
  out->rows_s = hmn__pass(rows_clocks * per_clock, 4.0 * n_syn / m->port_bytes_per_s,
                          5.0 * n_syn / m->mem_bytes_per_s, &out->rows_bound);
  double words = ceil(n_syn / lanes);
  double syn_clocks = words + ceil(words / m->block_words) * m->pipeline_depth;
  out->synapses_s = hmn__pass(syn_clocks * per_clock, 8.0 * n_syn / m->port_bytes_per_s,
                              29.0 * n_syn / m->mem_bytes_per_s, &out->synapses_bound);
  out->synapses = (uint64_t)n_syn;
  out->step_s = out->rows_s + out->synapses_s + m->launch_s;
  out->sups = n_syn / out->step_s;
  out->sups_per_watt = out->sups / m->power_w;
  return HMN_OK;
}
