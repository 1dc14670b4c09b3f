/*
 * model.c - the throughput and resource model of the FPGA kernel (the HLS
 * top hw/hmn_step_hls.cpp) on Alveo cards (hmn.h, hmn_fpga_model). It
 * follows the structure as built: which loops run one after another
 * before the dataflow region, which processes overlap inside it, what
 * each loop's II and trip count are, and how many bytes the busiest bank
 * moves. What no one has measured (the clock v++ closes at, pipeline
 * depths, the share of a bank's bandwidth mixed traffic gets, the launch
 * cost) enters as a range, and so does the answer. `hmn bench --model`
 * prints it labelled a model; docs/fpga.md derives it.
 */
#include "fpga/fpga.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The cards: AMD's data sheets for memory, board power, SLRs and the
 * programmable-logic totals; clocks from 200 MHz (what a design of this
 * size often closes at) to 300 MHz (the platforms' default kernel
 * clock); a bank's share for mixed reads and writes from 70 % to 90 %
 * (AMD's hbm_bandwidth example reaches about 92 % of an HBM pseudo-channel
 * for pure streams); XRT's start, wait and input upload 20-50 us. */
#define HMN__MODEL_COMMON                                                                  \
  .clock_lo_hz = 200e6, .clock_hi_hz = 300e6, .port_eff_lo = 0.70, .port_eff_hi = 0.90, \
  .launch_lo_s = 20e-6, .launch_hi_s = 50e-6

static const hmn_fpga_card_model hmn__cards_modelled[] = {
    {.name = "u250",
     .description = "Alveo U250: 4 DDR4-2400 banks of 16 GiB (19.2 GB/s each), 225 W, 4 SLRs",
     HMN__MODEL_COMMON, .mem_bytes_per_s = 4 * 19.2e9, .port_bytes_per_s = 19.2e9,
     .power_w = 225.0, .slrs = 4, .dsp = 12288, .bram36 = 2688, .uram = 1280, .lut_k = 1728},
    {.name = "u280",
     .description = "Alveo U280: 8 GiB HBM2 in 32 pseudo-channels (460 GB/s, 14.4 each), 225 W, "
                    "3 SLRs",
     HMN__MODEL_COMMON, .mem_bytes_per_s = 460e9, .port_bytes_per_s = 460e9 / 32,
     .power_w = 225.0, .slrs = 3, .dsp = 9024, .bram36 = 2016, .uram = 960, .lut_k = 1304},
    {.name = "u55c",
     .description = "Alveo U55C: 16 GiB HBM2 in 32 pseudo-channels (460 GB/s, 14.4 each), 150 W, "
                    "3 SLRs",
     HMN__MODEL_COMMON, .mem_bytes_per_s = 460e9, .port_bytes_per_s = 460e9 / 32,
     .power_w = 150.0, .slrs = 3, .dsp = 9024, .bram36 = 2016, .uram = 960, .lut_k = 1304},
};
#define HMN__N_MODELLED (sizeof hmn__cards_modelled / sizeof hmn__cards_modelled[0])

const char *const *hmn_fpga_model_cards(void) {
  static const char *const names[] = {"u250", "u280", "u55c", NULL};
  _Static_assert(sizeof names / sizeof names[0] == HMN__N_MODELLED + 1, "one name per card");
  return names;
}

/* Depths in clocks, fast end then slow end: d_att, the two attention
 * loops' fills and the maximum and sum trees per row (exp is the longest
 * lane); d_sum, a row's partial-sum drain and tree of 8; d_fill, the
 * region's first word through reader, row chain (Philox, log, sqrt, cos,
 * activation), update lane and writer; L_axi, an AXI read's latency and a
 * loop's fill, paid by each serial load loop. */
static const int hmn__d_att[2] = {80, 150}, hmn__d_sum[2] = {30, 60},
                 hmn__d_fill[2] = {300, 600}, hmn__l_axi[2] = {60, 150};

/* Bytes the busiest bank moves per 512-bit word and step: W read by the
 * rows pass and by the update, and written once. */
#define HMN__BUSIEST_BYTES_PER_WORD 192.0

/* Operator counts of the kernel's processes, per instance, from the code
 * (hw/hmn_step_hls.cpp and the bodies of kernels/hmn_synapse.h and
 * hmn_math.h it calls; the polynomial exp, cos, log count as their
 * multiplies and adds): fmul, fadd (adds, subtracts, compares), fdiv,
 * 32x32-bit integer multiplies (Philox), and instances. */
typedef struct {
  const char *unit;
  int fmul, fadd, fdiv, mul32, instances;
} hmn__op_count;

static const hmn__op_count hmn__ops[] = {
    /* update: traces, eligibility, logit, exp numerator, row factor,
     * eq 3, cosine and sine of phi and the gate, the exp of 1/p, clamp,
     * per lane (no division: the row factor and 1/p avoid it) */
    {"update lane", 34, 30, 0, 0, 16},
    /* update: five Philox-4x32-10 blocks per word */
    {"update draws", 0, 0, 0, 100, 1},
    /* row_products: a product per lane, the 16-leaf tree */
    {"row_products", 16, 15, 0, 0, 1},
    /* row_sums: the rotating add and the 8-leaf tree */
    {"row_sums", 0, 8, 0, 0, 1},
    /* attention: logit and exp per lane for the sum, logit per lane for
     * the maximum, the trees */
    {"attention lane", 12, 12, 0, 0, 16},
    /* neurons: noise (log, sqrt, cos), activation, EMAs, astrocyte,
     * G_j, and two Philox blocks' worth of multiplies */
    {"neurons", 40, 40, 3, 20, 1},
};

/* Typical UltraScale+ costs of AMD's floating-point cores as HLS binds
 * them (full-DSP multiply, DSP add, LUT divide) and of a 32x32 multiply. */
static const int hmn__dsp_fmul = 3, hmn__dsp_fadd = 2, hmn__dsp_mul32 = 4;
static const int hmn__lut_fmul = 110, hmn__lut_fadd = 230, hmn__lut_fdiv = 800,
                 hmn__lut_mul32 = 80;

static void hmn__resources(const hmn_fpga_card_model *m, hmn_fpga_prediction *out) {
  double dsp = 0.0, lut = 0.0;
  for (size_t k = 0; k < sizeof hmn__ops / sizeof hmn__ops[0]; k++) {
    const hmn__op_count *o = &hmn__ops[k];
    dsp += o->instances * (double)(o->fmul * hmn__dsp_fmul + o->fadd * hmn__dsp_fadd +
                                   o->mul32 * hmn__dsp_mul32);
    lut += o->instances * (double)(o->fmul * hmn__lut_fmul + o->fadd * hmn__lut_fadd +
                                   o->fdiv * hmn__lut_fdiv + o->mul32 * hmn__lut_mul32);
  }
  /* Control, stream FIFOs and five 512-bit AXI masters: 60-120 k LUTs. */
  out->dsp_lo = (int)(0.8 * dsp);
  out->dsp_hi = (int)(1.3 * dsp);
  out->lut_k_lo = (int)(lut / 1000.0 * 0.8 + 60.0);
  out->lut_k_hi = (int)(lut / 1000.0 * 1.3 + 120.0);
  /* On chip: the two delay-line copies, 16 banks each of D_max wpr_max
   * floats (one UltraRAM per bank at the default 16 x 256); h's two
   * copies and the per-neuron arrays in BRAM; the row-deep streams; the
   * AXI masters' burst buffers. */
  out->uram = 2 * 16 * (int)ceil((double)HMN__FPGA_DEFAULT_MAX_DELAY *
                                 (HMN__FPGA_DEFAULT_MAX_IN / 16) / 4096.0);
  out->bram36_lo = 150;
  out->bram36_hi = 300;
  out->fits_one_slr = out->dsp_hi <= m->dsp / m->slrs && out->lut_k_hi <= m->lut_k / m->slrs &&
                      out->bram36_hi <= m->bram36 / m->slrs && out->uram <= m->uram / m->slrs;
}

/* One end of the range: `end` 0 is the fast end, 1 the slow one. */
static void hmn__model_end(const hmn_fpga_card_model *m, const hmn_config *cfg, int end,
                           hmn_fpga_prediction *p, hmn_fpga_model_end *out) {
  double n_in = cfg->n_in, n_out = cfg->n_out, wpr = ceil(n_in / 16.0), words = n_out * wpr;
  out->f_hz = end == 0 ? m->clock_hi_hz : m->clock_lo_hz;
  out->d_att = hmn__d_att[end];
  out->d_sum = hmn__d_sum[end];
  out->d_fill = hmn__d_fill[end];
  out->l_axi = hmn__l_axi[end];
  out->pre_clocks = 32.0 + ((double)cfg->delay_len + 3.0) * n_in + 4.0 * n_out +
                    (double)cfg->n_mod * ((double)cfg->d_ctx + 40.0) + 5.0 * out->l_axi;
  double att = cfg->attention != HMN_ATTN_OFF ? 2.0 * wpr + out->d_att : 0.0;
  double sum = wpr + out->d_sum;
  out->rows_clocks = n_out * (att > sum ? att : sum) + wpr;
  double region = 2.0 * words;
  if (out->rows_clocks > region) region = out->rows_clocks;
  if (5.0 * n_out > region) region = 5.0 * n_out;
  out->region_clocks = region + out->d_fill;
  double mem_s = end == 0 ? p->mem_s_fast : p->mem_s_slow;
  double compute_s = out->region_clocks / out->f_hz;
  out->bound = mem_s > compute_s ? "memory" : "compute";
  out->region_s = mem_s > compute_s ? mem_s : compute_s;
  out->step_s = out->pre_clocks / out->f_hz + out->region_s +
                (end == 0 ? m->launch_lo_s : m->launch_hi_s);
  out->sups = n_in * n_out / out->step_s;
  out->sups_per_watt = out->sups / m->power_w;
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
  out->synapses = (uint64_t)cfg->n_in * (uint64_t)cfg->n_out;
  out->words = (uint64_t)cfg->n_out * (((uint64_t)cfg->n_in + 15u) / 16u);
  double bytes = HMN__BUSIEST_BYTES_PER_WORD * (double)out->words;
  out->mem_s_fast = bytes / (m->port_eff_hi * m->port_bytes_per_s);
  out->mem_s_slow = bytes / (m->port_eff_lo * m->port_bytes_per_s);
  hmn__model_end(m, cfg, 0, out, &out->fast);
  hmn__model_end(m, cfg, 1, out, &out->slow);
  hmn__resources(m, out);
  return HMN_OK;
}
