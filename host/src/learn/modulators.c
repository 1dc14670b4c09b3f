/*
 * modulators.c - the neuromodulator sources: the E_k of a task that gives
 * a reward, computed from what the layer sees and earns (SPEC sections 2
 * and 8, the paper's section 4.3.1 and 7.4).
 *
 *  - Dopamine (DA), the reward-prediction error r - rbar, with rbar an
 *    EMA of the reward. The reward of step t is known only after z(t)
 *    (the action comes from it): with credit = now the closed loop asks
 *    for E after the outcome and its RPE is E_DA of step t itself (the
 *    layer's learning half runs then); with credit = late it is E_DA of
 *    step t + 1, and the traces carry the credit across that step.
 *  - Norepinephrine (NE), novelty: the RMS distance d of the input x(t)
 *    from its running mean, less the usual distance (an EMA of d). The
 *    usual part is taken away because the E_k enter G additively: a
 *    constant positive E would act as one more Hebbian learning rate and
 *    saturate the weights; what carries information is an input that is
 *    further from the mean than inputs usually are. NE also feeds the
 *    astrocytes: it sits at index astro_source.
 *  - Acetylcholine (ACh), uncertainty: the running standard deviation of
 *    the reward, sigma = sqrt(EMA of (r - rbar)^2), as the weight of the
 *    prediction error: E_ACh = sigma * (r - rbar). sigma alone is always
 *    positive and, added into G like the others, would be one more
 *    Hebbian rate that locks the layer onto whichever arm it already
 *    prefers (measured: worse than chance on the bandit). As a weight of
 *    the RPE it plays the part uncertainty plays in learning (Pearce-Hall,
 *    Yu and Dayan): learn more from surprises while the outcomes are
 *    uncertain, e.g. after the arm probabilities switch.
 *  - Adenosine (Ado), fatigue: a level A that rises with the layer's
 *    activity and decays at rest, A <- decay A + gain mean_j |z_j|, with
 *    z the newest output the loop has (this step's with credit = now,
 *    the last step's with credit = late). It enters G as E_Ado = -A:
 *    sustained activity damps the modulated learning rate, and rest
 *    restores it. It takes the modulator after DA, NE and ACh (index 3
 *    with astro_source among the first three).
 *
 * The state (rbar, the variance, the pending RPE, the usual novelty and
 * the input mean) is part of the closed loop's checkpoint (section
 * "sources") and of the meta-learner's lookahead snapshot.
 */
#include "internal.h"
#include "io/io.h"

#include <math.h>
#include <string.h>

/* Section "sources": f32 rbar, rvar, rpe, usual, then N_in f32 x_mean. */
#define HMN__SOURCES_SCALARS 4

int hmn__sources_init(hmn__sources *src, const hmn_config *cfg, hmn_error *err) {
  memset(src, 0, sizeof *src);
  src->x_mean = hmn__calloc((size_t)cfg->n_in + (size_t)cfg->d_ctx, sizeof(float));
  if (src->x_mean == NULL)
    return hmn__fail(err, HMN_ENOMEM, "out of memory for the modulator sources (%d inputs)",
                     cfg->n_in);
  src->n_in = cfg->n_in;
  src->d_ctx = cfg->d_ctx;
  src->rbar_ctx = src->x_mean + cfg->n_in;
  return HMN_OK;
}

void hmn__sources_free(hmn__sources *src) {
  hmn__free(src->x_mean);
  src->x_mean = NULL;
}

void hmn__sources_copy(hmn__sources *dst, const hmn__sources *src) {
  float *keep = dst->x_mean;
  memcpy(keep, src->x_mean, ((size_t)src->n_in + (size_t)src->d_ctx) * sizeof(float));
  *dst = *src;
  dst->x_mean = keep;
  dst->rbar_ctx = keep + src->n_in;
}

void hmn__sources_context(hmn__sources *src, const hmn_config *cfg, const float *ctx) {
  int best = 0;
  for (int d = 1; d < cfg->d_ctx; d++)
    if (ctx[d] > ctx[best]) best = d;
  src->ctx_index = best;
}

void hmn__sources_indices(const hmn_config *cfg, int *da, int *ne, int *ach) {
  int next = 0, *order[2] = {da, ach};
  *ne = cfg->astro_source;
  for (int s = 0; s < 2; s++) {
    if (next == *ne) next++;
    *order[s] = next < cfg->n_mod ? next : -1;
    next++;
  }
}

/* Adenosine's modulator: the first index DA, NE and ACh leave free. */
static int hmn__sources_adenosine_index(const hmn_config *cfg) {
  int da, ne, ach;
  hmn__sources_indices(cfg, &da, &ne, &ach);
  for (int k = 0; k < cfg->n_mod; k++)
    if (k != da && k != ne && k != ach) return k;
  return -1;
}

void hmn__sources_signals(hmn__sources *src, const hmn_config *cfg, const float *x, const float *z,
                          float *mod) {
  int da, ne, ach;
  hmn__sources_indices(cfg, &da, &ne, &ach);
  double d2 = 0.0;
  for (int i = 0; i < cfg->n_in; i++) {
    double diff = (double)x[i] - (double)src->x_mean[i];
    d2 += diff * diff;
    src->x_mean[i] = hmn__pre_ema(src->x_mean[i], cfg->novelty_rate, x[i]);
  }
  float novelty = (float)sqrt(d2 / (double)cfg->n_in);
  float surprise = novelty - src->usual;
  src->usual = hmn__pre_ema(src->usual, cfg->novelty_rate, novelty);

  memset(mod, 0, (size_t)cfg->n_mod * sizeof(float));
  if (da >= 0 && cfg->dopamine) mod[da] = src->rpe;
  if (cfg->novelty) mod[ne] = surprise;
  if (ach >= 0 && cfg->uncertainty) mod[ach] = sqrtf(src->rvar) * src->rpe;
  int ado = cfg->adenosine ? hmn__sources_adenosine_index(cfg) : -1;
  if (ado >= 0) {
    double activity = 0.0;
    for (int j = 0; j < cfg->n_out; j++) activity += fabs((double)z[j]);
    activity /= (double)cfg->n_out;
    src->adenosine = cfg->adenosine_decay * src->adenosine + cfg->adenosine_gain * (float)activity;
    mod[ado] = -src->adenosine;
  }
}

void hmn__sources_observe(hmn__sources *src, const hmn_config *cfg, float reward) {
  float rpe = reward - src->rbar;
  if (cfg->rpe_baseline == HMN_RPE_CONTEXT) {
    float *rbar_c = &src->rbar_ctx[src->ctx_index];
    rpe = reward - *rbar_c;
    *rbar_c = hmn__ref_ema(*rbar_c, cfg->reward_rate, reward);
  }
  src->rpe = rpe;
  src->rbar = hmn__pre_ema(src->rbar, cfg->reward_rate, reward);
  src->rvar = hmn__pre_ema(src->rvar, cfg->reward_rate, rpe * rpe);
}

/* Floats after the scalars: x_mean, then with rpe_baseline = context the
 * expectation of each context (the same allocation, in that order). */
static size_t hmn__sources_vector(const hmn_config *cfg) {
  return (size_t)cfg->n_in + (cfg->rpe_baseline == HMN_RPE_CONTEXT ? (size_t)cfg->d_ctx : 0);
}

/* With adenosine on, its level A follows the vector. */
size_t hmn__sources_bytes(const hmn_config *cfg) {
  return 4 * (HMN__SOURCES_SCALARS + hmn__sources_vector(cfg) + (cfg->adenosine ? 1 : 0));
}

void hmn__sources_encode(const hmn__sources *src, const hmn_config *cfg, unsigned char *out) {
  const float scalars[HMN__SOURCES_SCALARS] = {src->rbar, src->rvar, src->rpe, src->usual};
  for (int s = 0; s < HMN__SOURCES_SCALARS; s++) hmn__le_put_f32(out + 4 * s, scalars[s]);
  size_t n = hmn__sources_vector(cfg);
  for (size_t i = 0; i < n; i++)
    hmn__le_put_f32(out + 4 * (HMN__SOURCES_SCALARS + i), src->x_mean[i]);
  if (cfg->adenosine) hmn__le_put_f32(out + 4 * (HMN__SOURCES_SCALARS + n), src->adenosine);
}

int hmn__sources_decode(hmn__sources *src, const hmn_config *cfg, const hmn__ckpt_blob *blob,
                        const char *path, hmn_error *err) {
  size_t want = hmn__sources_bytes(cfg);
  if (blob->data == NULL)
    return hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': no section 'sources' (a layer-only checkpoint; the closed "
                     "loop needs one written by hmn run or hmn_agent_save)",
                     path);
  if (blob->len != want)
    return hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': section 'sources' has %zu bytes, n_in=%d, rpe_baseline=%s "
                     "needs %zu",
                     path, blob->len, cfg->n_in,
                     cfg->rpe_baseline == HMN_RPE_CONTEXT ? "context" : "global", want);
  static const char *const names[HMN__SOURCES_SCALARS] = {"rbar", "rvar", "rpe", "usual"};
  size_t vec = hmn__sources_vector(cfg), n = HMN__SOURCES_SCALARS + vec;
  if (cfg->adenosine) {
    float a = hmn__le_get_f32(blob->data + 4 * n);
    if (!isfinite(a))
      return hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': section 'sources' has adenosine = %g",
                       path, (double)a);
  }
  for (size_t e = 0; e < n; e++) {
    float v = hmn__le_get_f32(blob->data + 4 * e);
    /* A variance is never negative: sqrt of one would be NaN. */
    if (!isfinite(v) || (e == 1 && v < 0.0f)) {
      if (e < HMN__SOURCES_SCALARS)
        return hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': section 'sources' has %s = %g", path,
                         names[e], (double)v);
      size_t i = e - HMN__SOURCES_SCALARS;
      if (i < (size_t)cfg->n_in)
        return hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': section 'sources' has x_mean[%zu] = %g",
                         path, i, (double)v);
      return hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': section 'sources' has rbar_ctx[%zu] = %g",
                       path, i - (size_t)cfg->n_in, (double)v);
    }
  }
  src->rbar = hmn__le_get_f32(blob->data);
  src->rvar = hmn__le_get_f32(blob->data + 4);
  src->rpe = hmn__le_get_f32(blob->data + 8);
  src->usual = hmn__le_get_f32(blob->data + 12);
  for (size_t i = 0; i < vec; i++)
    src->x_mean[i] = hmn__le_get_f32(blob->data + 4 * (HMN__SOURCES_SCALARS + i));
  src->adenosine = cfg->adenosine ? hmn__le_get_f32(blob->data + 4 * n) : 0.0f;
  return HMN_OK;
}
