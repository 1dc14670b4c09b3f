/*
 * task_bandit.c - the contextual bandit of the paper's Phase 0.
 *
 * C contexts, each shown as an input pattern: context c sets the inputs
 * of block c (the inputs i with floor(i*C/N_in) = c) to 1/(block size)
 * and the others to 0, so contexts use disjoint synapses. C_global is a one-hot code of
 * c mod D_c; the phase comes from the built-in oscillator; the task's own
 * E_k are 0 (the modulator sources supply them, modulators.c). The arms
 * are the layer's N_out neurons; the action is taken from z by argmax,
 * softmax sampling, or (as a baseline) uniformly at random. Arm a in
 * context c pays 1 with probability p(c, a), uniform in [0, 1): fixed
 * (stationary) or redrawn every switch_period steps (switching).
 *
 * Everything is a pure function of (seed, t): the context, the reward
 * draw and the sampling draw of step t come from one block of the task
 * stream at counter t, and the probabilities of period n = t / P from
 * counters that no step reaches. The task keeps no state, so resuming
 * needs nothing from it, and the meta-learner's two lookahead evaluations
 * of one window see the same contexts and the same reward draws.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

/* Counter index of the per-step block, and the base of the probability
 * table's blocks at the period counters. */
enum { HMN__BANDIT_IDX_STEP = 0, HMN__BANDIT_IDX_PROB = 0 };
/* Period n uses step counter 2^63 + n: no run reaches it. */
#define HMN__BANDIT_PERIOD_BASE ((uint64_t)1 << 63)

typedef struct {
  int contexts, arms;
  uint64_t period;  /* whose probabilities `prob` holds; UINT64_MAX: none yet */
  float *prob;      /* contexts x arms: a cache of a pure function */
} hmn__bandit;

/* floor(r * n / 2^32): an index in [0, n) from a 32-bit word. */
static int hmn__bandit_pick(uint32_t r, int n) { return (int)(((uint64_t)r * (uint64_t)n) >> 32); }

static int hmn__bandit_contexts(const hmn_config *cfg) {
  if (cfg->contexts > 0) return cfg->contexts;
  return cfg->d_ctx < cfg->n_in ? cfg->d_ctx : cfg->n_in;
}

static int hmn__bandit_create(hmn_task *task, hmn_error *err) {
  const hmn_config *cfg = &task->cfg;
  hmn__bandit *b = hmn__calloc(1, sizeof *b);
  if (b == NULL) return hmn__fail(err, HMN_ENOMEM, "out of memory creating task 'bandit'");
  b->contexts = hmn__bandit_contexts(cfg);
  b->arms = cfg->n_out;
  b->period = UINT64_MAX;
  b->prob = hmn__calloc((size_t)b->contexts * (size_t)b->arms, sizeof(float));
  if (b->prob == NULL) {
    int contexts = b->contexts, arms = b->arms;
    hmn__free(b);
    return hmn__fail(err, HMN_ENOMEM, "out of memory creating task 'bandit' (%d contexts x %d arms)",
                     contexts, arms);
  }
  task->data = b;
  return HMN_OK;
}

static void hmn__bandit_destroy(hmn_task *task) {
  hmn__bandit *b = task->data;
  hmn__free(b->prob);
  hmn__free(b);
}

/* The arm probabilities in force at step t. */
static const float *hmn__bandit_probs(hmn_task *task, uint64_t t) {
  hmn__bandit *b = task->data;
  const hmn_config *cfg = &task->cfg;
  uint64_t period = cfg->bandit == HMN_BANDIT_SWITCHING ? t / (uint64_t)cfg->switch_period : 0;
  if (period != b->period) {
    size_t n = (size_t)b->contexts * (size_t)b->arms;
    for (size_t e = 0; e < n; e++)
      b->prob[e] =
          hmn__task_uniform(cfg->seed, HMN__BANDIT_PERIOD_BASE + period, HMN__BANDIT_IDX_PROB, e);
    b->period = period;
  }
  return b->prob;
}

/* Words of the step block: 0 context, 1 reward draw, 2 softmax draw,
 * 3 random action or argmax tie-break. */
static void hmn__bandit_block(const hmn_config *cfg, uint64_t t, uint32_t r[4]) {
  hmn_philox(cfg->seed, t, HMN__BANDIT_IDX_STEP, HMN_STREAM_TASK, r);
}

/* The context of step t: drawn by the first step of its trial of
 * context_steps steps, so a context stays while the delay line and the
 * traces carry the previous step's credit (the RPE of step t arrives as
 * E_DA of step t + 1). */
static int hmn__bandit_context(const hmn_task *task, uint64_t t) {
  const hmn_config *cfg = &task->cfg;
  const hmn__bandit *b = task->data;
  uint32_t r[4];
  hmn__bandit_block(cfg, t - t % (uint64_t)cfg->context_steps, r);
  return hmn__bandit_pick(r[0], b->contexts);
}

static int hmn__bandit_input(hmn_task *task, uint64_t t, hmn_step_input *in, hmn_error *err) {
  (void)err;
  const hmn_config *cfg = &task->cfg;
  const hmn__bandit *b = task->data;
  int c = hmn__bandit_context(task, t);
  /* Block c is inputs ceil(c N / C) .. ceil((c+1) N / C) - 1. Its inputs
   * are 1/size, so a_j is the mean of the block's weights and stays in
   * tanh's working range whatever the block size. */
  int first = (int)(((int64_t)c * cfg->n_in + b->contexts - 1) / b->contexts);
  int end = (int)(((int64_t)(c + 1) * cfg->n_in + b->contexts - 1) / b->contexts);
  float value = 1.0f / (float)(end - first);
  for (int i = 0; i < cfg->n_in; i++) task->x[i] = i >= first && i < end ? value : 0.0f;
  memset(task->mod, 0, (size_t)cfg->n_mod * sizeof(float));
  memset(task->ctx, 0, (size_t)cfg->d_ctx * sizeof(float));
  task->ctx[c % cfg->d_ctx] = 1.0f;
  in->x = task->x;
  in->mod = task->mod;
  in->ctx = task->ctx;
  in->phase = NULL;
  return HMN_OK;
}

/* Softmax sampling: the first arm whose cumulative weight passes u. */
static int hmn__bandit_softmax(const float *z, int arms, float temperature, float u) {
  double zmax = z[0];
  for (int a = 1; a < arms; a++)
    if (z[a] > zmax) zmax = z[a];
  double total = 0.0;
  for (int a = 0; a < arms; a++) total += exp(((double)z[a] - zmax) / temperature);
  double target = (double)u * total, acc = 0.0;
  for (int a = 0; a < arms; a++) {
    acc += exp(((double)z[a] - zmax) / temperature);
    if (target < acc) return a;
  }
  return arms - 1; /* rounding left target at the total */
}

static int hmn__bandit_feedback(hmn_task *task, uint64_t t, const float *z, hmn_feedback *fb,
                                hmn_error *err) {
  const hmn_config *cfg = &task->cfg;
  const hmn__bandit *b = task->data;
  for (int a = 0; a < b->arms; a++)
    if (!isfinite(z[a]))
      return hmn__fail(err, HMN_ENUMERIC, "bandit step %llu: z[%d] is %g, not a number to act on",
                       (unsigned long long)t, a, (double)z[a]);
  uint32_t r[4];
  hmn__bandit_block(cfg, t, r);
  int c = hmn__bandit_context(task, t);
  int action = 0;
  switch (cfg->action) {
  case HMN_ACTION_SOFTMAX:
    action = hmn__bandit_softmax(z, b->arms, cfg->temperature, hmn_uniform(r[2]));
    break;
  case HMN_ACTION_RANDOM:
    action = hmn__bandit_pick(r[3], b->arms);
    break;
  default: {
    /* argmax, ties broken uniformly (word 3): a layer whose weights sit
     * at w_max gives equal z to several arms, and the lowest index would
     * always win them. */
    int ties = 1;
    for (int a = 1; a < b->arms; a++) {
      if (z[a] > z[action]) {
        action = a;
        ties = 1;
      } else if (z[a] == z[action]) {
        ties++;
      }
    }
    if (ties > 1) {
      int pick = hmn__bandit_pick(r[3], ties);
      for (int a = action; a < b->arms; a++)
        if (z[a] == z[action] && pick-- == 0) {
          action = a;
          break;
        }
    }
    break;
  }
  }
  const float *p = hmn__bandit_probs(task, t) + (size_t)c * b->arms;
  float best = p[0];
  for (int a = 1; a < b->arms; a++)
    if (p[a] > best) best = p[a];
  fb->action = action;
  fb->expected = p[action];
  fb->best = best;
  fb->regret = best - p[action];
  fb->reward = hmn_uniform(r[1]) < p[action] ? 1.0f : 0.0f;
  return HMN_OK;
}

const hmn__task_ops hmn__task_bandit = {
    .name = "bandit",
    .create = hmn__bandit_create,
    .destroy = hmn__bandit_destroy,
    .input = hmn__bandit_input,
    .feedback = hmn__bandit_feedback,
};
