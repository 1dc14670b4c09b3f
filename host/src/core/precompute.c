/*
 * precompute.c - the terms of a step that the device backends form on the
 * host rather than in their kernels (kernels/hmn_step.cl explains why):
 * the trace decays lambda, step 3's h(t) and the extremes of beta h_i,
 * step 6's shared G (eqs 6-7), the phase gate's cos and sin terms, and
 * the spike-timing families' presynaptic traces.
 *
 * This is not the golden model: ref.c stays the independent witness that
 * the backends are checked against, and nothing here calls it. Where ref
 * evaluates the same term (lambda, h, G), the arithmetic below is the same
 * sequence of operations, so the device backends get the same bits and
 * their equivalence tests compare like with like.
 */
#include "internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* The largest n_mod the config accepts (config.c). */
#define HMN__PRE_MAX_MOD 64

float hmn__pre_decay(float dt, float tau) { return (float)exp(-(double)dt / (double)tau); }

float hmn__pre_ema(float old, float rate, float value) {
  return (1.0f - rate) * old + rate * value;
}

void hmn__pre_embedding(const hmn_config *cfg, const float *h_prev, const float *x, float *h,
                        hmn__pre_extremes *out) {
  float beta = cfg->beta_attn, lo = FLT_MAX, hi = -FLT_MAX;
  bool plain = true;
  for (int i = 0; i < cfg->n_in; i++) {
    float h_i = hmn__pre_ema(h_prev[i], cfg->emb_rate, x[i]);
    float bh = beta * h_i;
    h[i] = h_i;
    /* (beta = 0 makes every logit 0, which finite(0 c) is too.) */
    if (beta != 0.0f && h_i != 0.0f && !isnormal(bh)) plain = false;
    lo = bh < lo ? bh : lo;
    hi = bh > hi ? bh : hi;
  }
  out->bh_min = lo;
  out->bh_max = hi;
  out->plain = plain;
}

/* A logit clamped to +-FLT_MAX, so that every softmax stays finite. */
static float hmn__pre_clamp_logit(double s) {
  return s > FLT_MAX ? FLT_MAX : s < -FLT_MAX ? -FLT_MAX : (float)s;
}

/* Eq 6's r_k for key k: cosine similarity of kappa_k and C_global, or
 * their dot product over sqrt(D_c); no direction, no similarity. */
static float hmn__pre_similarity(int mode, const float *key, const float *ctx, int d_ctx) {
  double dot = 0.0, key_sq = 0.0, ctx_sq = 0.0;
  for (int d = 0; d < d_ctx; d++) {
    dot += (double)key[d] * (double)ctx[d];
    key_sq += (double)key[d] * (double)key[d];
    ctx_sq += (double)ctx[d] * (double)ctx[d];
  }
  if (mode == HMN_SIM_DOT) return (float)(dot / sqrt((double)d_ctx));
  if (key_sq == 0.0 || ctx_sq == 0.0) return 0.0f;
  return (float)(dot / (sqrt(key_sq) * sqrt(ctx_sq)));
}

float hmn__pre_global_modulation(const hmn_config *cfg, const float *kappa, const float *w_k,
                                 const float *mod, const float *ctx) {
  int n_mod = cfg->n_mod;
  double sum = 0.0;
  if (!cfg->global_attention) {
    for (int k = 0; k < n_mod; k++) sum += (double)w_k[k] * (double)mod[k];
    return (float)sum;
  }
  float logit[HMN__PRE_MAX_MOD];
  float top = -FLT_MAX;
  for (int k = 0; k < n_mod; k++) {
    float r = hmn__pre_similarity(cfg->similarity, kappa + (size_t)k * cfg->d_ctx, ctx, cfg->d_ctx);
    logit[k] = hmn__pre_clamp_logit((double)cfg->beta_global * (double)r);
    top = logit[k] > top ? logit[k] : top;
  }
  double denom = 0.0;
  for (int k = 0; k < n_mod; k++) denom += exp((double)logit[k] - (double)top);
  for (int k = 0; k < n_mod; k++)
    sum += exp((double)logit[k] - (double)top) / denom * (double)w_k[k] * (double)mod[k];
  return (float)sum;
}

/* The policy rule's pi (SPEC section 8) for a learning step on a device:
 * the softmax of z / temperature in double, rounded once. */
void hmn__pre_policy(const float *z, int n_out, float temperature, float *pi) {
  double z_max = z[0];
  for (int j = 1; j < n_out; j++)
    if (z[j] > z_max) z_max = z[j];
  double denom = 0.0;
  for (int j = 0; j < n_out; j++) denom += exp(((double)z[j] - z_max) / (double)temperature);
  for (int j = 0; j < n_out; j++)
    pi[j] = (float)(exp(((double)z[j] - z_max) / (double)temperature) / denom);
}

/* The spike-timing families' presynaptic traces for one step, in place:
 * `decayed` gets r1 (tau+) and r2 (tau_x) after the step's decay, which
 * kappa reads, and `pre` becomes the traces after the step's spikes x(t)
 * (all-to-all adds the spike, nearest-neighbour replaces the trace by
 * it). The same float expressions as the kernels' hmnk_trace_decay and
 * hmnk_trace_spike, so the host's copy and the device's agree. */
void hmn__pre_spike_traces(const hmn_config *cfg, float *pre, const float *x, float *decayed) {
  int n_in = cfg->n_in;
  float lam[2] = {hmn__pre_decay(cfg->dt, cfg->tau_plus), hmn__pre_decay(cfg->dt, cfg->tau_x)};
  for (int k = 0; k < 2; k++) {
    for (int i = 0; i < n_in; i++) {
      float r = pre[k * n_in + i] * lam[k];
      float spike = x[i];
      decayed[k * n_in + i] = r;
      if (cfg->pairing == HMN_PAIRING_NEAREST)
        pre[k * n_in + i] = spike != 0.0f ? spike : r;
      else
        pre[k * n_in + i] = r + spike;
    }
  }
}

void hmn__pre_cos_sin(double angle, float *cos_out, float *sin_out) {
  *cos_out = (float)cos(angle);
  *sin_out = (float)sin(angle);
}

/* ---- the records of kernels/hmn_iface.h ---- */

static uint32_t hmn__word_U32(uint64_t v) { return (uint32_t)v; }
static uint32_t hmn__word_I32(int v) { return (uint32_t)v; }
static uint32_t hmn__word_F32(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  return u;
}

void hmn__kernel_params(const hmn_config *cfg, uint32_t out[HMN_P_COUNT]) {
#define HMN__PARAM_WORD(NAME, field, KIND, source) out[HMN_P_##NAME] = hmn__word_##KIND(source);
  HMN_IFACE_LAYER(HMN__PARAM_WORD)
#undef HMN__PARAM_WORD
}

void hmn__step_record_store(const hmn__step_record *rec, float *slot) {
#define HMN__STEP_WORD(NAME, field, KIND, what) \
  memcpy(slot + HMN_SC_##NAME, &rec->field, sizeof rec->field);
  HMN_IFACE_STEP(HMN__STEP_WORD)
#undef HMN__STEP_WORD
}
