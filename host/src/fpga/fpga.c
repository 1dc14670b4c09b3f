/*
 * fpga.c - the host's side of the FPGA kernel's interface
 * (kernels/hmn_fpga_params.h): which buffer each argument is, how large,
 * and what the params, inputs and stats buffers hold. The opencl-fpga and
 * xrt backends both drive the kernel through these, so they cannot
 * disagree about it.
 */
#include "fpga/fpga.h"

#include <string.h>

_Static_assert(HMN__FPGA_BUFFERS == HMN_FPGA_ARG_COUNT, "every argument is a buffer");
_Static_assert(HMN__FPGA_PARAMS == HMN_FPGA_ARG_PARAMS && HMN__FPGA_INPUTS == HMN_FPGA_ARG_INPUTS &&
                   HMN__FPGA_STATS == HMN_FPGA_ARG_STATS,
               "the host's argument positions are hmn_fpga_params.h's");

/* Arguments 0 .. 18 in hmn_fpga_params.h's order. */
static const hmn_array hmn__fpga_arrays[HMN__FPGA_PARAMS] = {
    HMN_ARRAY_W,          HMN_ARRAY_PSI_F,      HMN_ARRAY_PSI_S, HMN_ARRAY_PHI,   HMN_ARRAY_TAU,
    HMN_ARRAY_X_HIST,     HMN_ARRAY_H,          HMN_ARRAY_B,     HMN_ARRAY_C,     HMN_ARRAY_Z,
    HMN_ARRAY_ASTRO,      HMN_ARRAY_SIGN,       HMN_ARRAY_KAPPA, HMN_ARRAY_W_K,   HMN_ARRAY_PRE_TRACE,
    HMN_ARRAY_POST_TRACE, HMN_ARRAY_RATE,       HMN_ARRAY_THETA, HMN_ARRAY_SCALE};
_Static_assert((int)HMN__FPGA_PARAMS == (int)HMN_ARRAY_COUNT, "every state array is a kernel argument");

/* Synapse arrays are arguments 0-4 (read in whole words of 16). */
#define HMN__FPGA_WIDE_ARGS 5

int hmn__fpga_arg_array(int arg) {
  return arg >= 0 && arg < HMN__FPGA_PARAMS ? (int)hmn__fpga_arrays[arg] : -1;
}

int hmn__fpga_array_arg(hmn_array which) {
  for (int arg = 0; arg < HMN__FPGA_PARAMS; arg++)
    if (hmn__fpga_arg_array(arg) == (int)which) return arg;
  return -1;
}

size_t hmn__fpga_arg_bytes(const hmn_config *cfg, int arg) {
  if (arg >= 0 && arg < HMN__FPGA_WIDE_ARGS) {
    /* The kernel reads and writes the last word whole. */
    size_t words = ((size_t)cfg->n_in * (size_t)cfg->n_out + HMN_FPGA_LANES - 1) / HMN_FPGA_LANES;
    size_t elem = hmn_array_type(hmn__fpga_arrays[arg]) == HMN_U8 ? 1 : sizeof(float);
    return words * HMN_FPGA_LANES * elem;
  }
  if (arg >= HMN__FPGA_WIDE_ARGS && arg < HMN__FPGA_PARAMS)
    return hmn__array_bytes(cfg, hmn__fpga_arrays[arg]);
  switch (arg) {
  case HMN__FPGA_PARAMS:
    return HMN_FPGA_PARAM_WORDS * sizeof(uint32_t);
  case HMN__FPGA_INPUTS:
    return ((size_t)HMN_FPGA_IN_X + (size_t)cfg->n_in + (size_t)cfg->n_mod + (size_t)cfg->d_ctx +
            (size_t)cfg->n_out) *
           sizeof(float);
  case HMN__FPGA_STATS:
    /* the counts, G_j, and forward's z */
    return (HMN_FPGA_S_G_J + 2 * (size_t)cfg->n_out) * sizeof(uint32_t);
  default:
    return 0;
  }
}

const char *hmn__fpga_arg_name(int arg) {
  static const char *const names[HMN_FPGA_ARG_COUNT] = {
      "w",      "psi_f",   "psi_s", "phi",   "tau",   "x_hist", "h",      "b",
      "c",      "z",       "astro", "sign",  "kappa", "w_k",    "tr_pre", "tr_post",
      "rate",   "theta",   "scale", "params", "inputs", "stats"};
  return arg >= 0 && arg < HMN_FPGA_ARG_COUNT ? names[arg] : "?";
}

int hmn__fpga_check_limits(const hmn_config *cfg, const hmn__fpga_limits *lim, const char *build,
                           hmn_error *err) {
  if (cfg->n_in > lim->max_in || cfg->n_out > lim->max_out || cfg->delay_len > lim->max_delay)
    return hmn__fail(err, HMN_ESHAPE,
                     "%s holds at most n_in=%d, n_out=%d, delay_len=%d on chip; the layer has "
                     "n_in=%d, n_out=%d, delay_len=%d",
                     build, lim->max_in, lim->max_out, lim->max_delay, cfg->n_in, cfg->n_out,
                     cfg->delay_len);
  return HMN_OK;
}

size_t hmn__fpga_chip_bytes(const hmn__fpga_limits *lim) {
  /* hmnk_fpga_chip: the delay line, h and two traces per input,
   * seventeen arrays per neuron, and a block: seven float arrays and the
   * delays. */
  size_t block = (size_t)HMN__FPGA_BLOCK_WORDS * HMN_FPGA_LANES;
  size_t in = (size_t)lim->max_in, out = (size_t)lim->max_out;
  return sizeof(float) * ((size_t)lim->max_delay * in + 3 * in + 17 * out + 7 * block) + block;
}

_Static_assert(HMN_FPGA_PARAM_WORDS == 54, "the parameter record is the bitstreams' ABI: a change "
                                          "to it changes HMN_FPGA_ABI and this count");

void hmn__fpga_params(const hmn_config *cfg, uint32_t out[HMN_FPGA_PARAM_WORDS]) {
  hmn__kernel_params(cfg, out);
}

void hmn__fpga_pack_inputs(const hmn__state *st, const hmn_step_input *in, int32_t action,
                           const float *pi, float *out) {
  const hmn_config *cfg = &st->cfg;
  uint64_t t = st->t;
  double phase = in->phase != NULL ? (double)*in->phase : (double)hmn__oscillator_phase(cfg, t);
  float cos_phase, sin_phase;
  hmn__pre_cos_sin(phase, &cos_phase, &sin_phase);
  /* The FPGA kernel derives G and the attention extremes on chip from the
   * buffers it holds, and steps once per launch: the words that serve the
   * NDRange kernel alone stay zero (hmn_fpga.h says which it reads). */
  hmn__step_record rec = {.slot = (uint32_t)(t % (uint64_t)cfg->delay_len),
                          .t_lo = (uint32_t)t,
                          .t_hi = (uint32_t)(t >> 32),
                          .eta_local = st->eta_local,
                          .eta_global = st->eta_global,
                          .cos_phase = cos_phase,
                          .sin_phase = sin_phase,
                          .e_astro = in->mod[cfg->astro_source],
                          .steps = 1,
                          .action1 = action >= 0 && pi != NULL ? (uint32_t)action + 1u : 0u};
  memset(out, 0, HMN_FPGA_IN_X * sizeof(float));
  hmn__step_record_store(&rec, out);
  float *x = out + HMN_FPGA_IN_X;
  memcpy(x, in->x, (size_t)cfg->n_in * sizeof(float));
  memcpy(x + cfg->n_in, in->mod, (size_t)cfg->n_mod * sizeof(float));
  memcpy(x + cfg->n_in + cfg->n_mod, in->ctx, (size_t)cfg->d_ctx * sizeof(float));
  float *pi_out = x + cfg->n_in + cfg->n_mod + cfg->d_ctx;
  if (rec.action1 != 0u)
    memcpy(pi_out, pi, (size_t)cfg->n_out * sizeof(float));
  else
    memset(pi_out, 0, (size_t)cfg->n_out * sizeof(float));
}

void hmn__fpga_pack_forward(const hmn__state *st, const float *x, float *out) {
  const hmn_config *cfg = &st->cfg;
  uint64_t t = st->t;
  hmn__step_record rec = {.slot = (uint32_t)(t % (uint64_t)cfg->delay_len),
                          .t_lo = (uint32_t)t,
                          .t_hi = (uint32_t)(t >> 32),
                          .steps = 1,
                          .forward = 1};
  memset(out, 0, hmn__fpga_arg_bytes(cfg, HMN__FPGA_INPUTS));
  hmn__step_record_store(&rec, out);
  memcpy(out + HMN_FPGA_IN_X, x, (size_t)cfg->n_in * sizeof(float));
}

size_t hmn__fpga_forward_z_offset(const hmn_config *cfg) {
  return (HMN_FPGA_S_G_J + (size_t)cfg->n_out) * sizeof(uint32_t);
}

size_t hmn__fpga_forward_z_bytes(const hmn_config *cfg) {
  return (size_t)cfg->n_out * sizeof(float);
}

int hmn__fpga_learn_action(const hmn__state *st, int32_t action, int32_t *out, hmn_error *err) {
  const hmn_config *cfg = &st->cfg;
  *out = -1;
  if (cfg->rule != HMN_RULE_POLICY) return HMN_OK;
  if (action < 0 || action >= cfg->n_out)
    return hmn__fail(err, HMN_EINVAL,
                     "step %llu: rule policy needs the action taken (0 .. %d), got %d; step "
                     "with hmn_layer_forward, then hmn_layer_learn",
                     (unsigned long long)st->t, cfg->n_out - 1, (int)action);
  *out = action;
  return HMN_OK;
}

int hmn__fpga_check_state(hmn_layer *layer, const char *half, hmn_error *err) {
  if (!layer->state_lost) return HMN_OK;
  return hmn__fail(err, HMN_EDEVICE,
                   "step %llu (%s): the state on %s device '%s' was lost to an earlier device "
                   "error; restore a checkpoint or snapshot",
                   (unsigned long long)layer->st.t, half, layer->ops->name,
                   hmn_layer_device(layer));
}

void hmn__fpga_decode_stats(const hmn_config *cfg, const uint32_t *stats, uint64_t t,
                            hmn_step_stats *out) {
  double g_sum = 0.0;
  for (int j = 0; j < cfg->n_out; j++) {
    float g_j;
    memcpy(&g_j, &stats[HMN_FPGA_S_G_J + j], sizeof g_j);
    g_sum += g_j;
  }
  out->t = t;
  out->applied = stats[HMN_FPGA_S_APPLIED_LO] | (uint64_t)stats[HMN_FPGA_S_APPLIED_HI] << 32;
  out->candidates =
      stats[HMN_FPGA_S_CANDIDATES_LO] | (uint64_t)stats[HMN_FPGA_S_CANDIDATES_HI] << 32;
  out->g_mean = (float)(g_sum / cfg->n_out);
}
