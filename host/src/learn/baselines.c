/*
 * baselines.c - classic bandit algorithms on the very draws the closed
 * loop sees (hmn.h, hmn_baseline_run), so that a reward of hmn run can be
 * read against the oracle, a random policy and what standard methods
 * reach on the same contexts and reward draws.
 *
 * A baseline acts through the task: it hands hmn_task_feedback a one-hot
 * z with the action rule set to argmax, so the reward of its arm is the
 * task's draw for that step. The oracle asks for every arm's expected
 * reward (feedback is a pure function of (seed, t, z)) and takes the best.
 * A context is known by its input pattern: the first input that is on.
 */
#include "internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define HMN__BASE_EPSILON 0.1
#define HMN__BASE_DISCOUNT 0.99
/* The baselines' own draws: task stream, step counters 2^62 + t, which
 * no run reaches (the bandit's period tables sit at 2^63 + n). */
#define HMN__BASE_COUNTER ((uint64_t)1 << 62)

static const char *const hmn__baseline_names[HMN_BASELINE_COUNT] = {
    "oracle", "random", "egreedy", "ucb1", "swucb", "dts", "ts_switch",
};

const char *hmn_baseline_name(int which) {
  return which >= 0 && which < HMN_BASELINE_COUNT ? hmn__baseline_names[which] : "unknown";
}

/* Uniforms for step t: words of consecutive blocks at counter 2^62 + t,
 * block index = which * 2^16 + k. */
typedef struct {
  uint64_t seed, t;
  uint32_t block;
  int word;
  uint32_t r[4];
} hmn__base_rng;

static void hmn__base_rng_at(hmn__base_rng *g, uint64_t seed, uint64_t t, int which) {
  g->seed = seed;
  g->t = t;
  g->block = (uint32_t)which << 16;
  g->word = 4;
}

static double hmn__base_uniform(hmn__base_rng *g) {
  if (g->word == 4) {
    hmn_philox(g->seed, HMN__BASE_COUNTER + g->t, g->block++, HMN_STREAM_TASK, g->r);
    g->word = 0;
  }
  return hmn_uniform(g->r[g->word++]);
}

static double hmn__base_normal(hmn__base_rng *g) {
  double u1 = hmn__base_uniform(g), u2 = hmn__base_uniform(g);
  return sqrt(-2.0 * log(1.0 - u1)) * cos(HMN__TWO_PI * u2);
}

/* Gamma(shape, 1) by Marsaglia and Tsang's squeeze; shape < 1 through
 * Gamma(shape + 1) U^(1/shape). */
static double hmn__base_gamma(hmn__base_rng *g, double shape) {
  if (shape < 1.0) {
    double u = hmn__base_uniform(g);
    return hmn__base_gamma(g, shape + 1.0) * pow(1.0 - u, 1.0 / shape);
  }
  double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x = hmn__base_normal(g), v = 1.0 + c * x;
    if (v <= 0.0) continue;
    v = v * v * v;
    double u = hmn__base_uniform(g);
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (log(1.0 - u) < 0.5 * x * x + d * (1.0 - v + log(v))) return d * v;
  }
}

static double hmn__base_beta(hmn__base_rng *g, double a, double b) {
  double x = hmn__base_gamma(g, a), y = hmn__base_gamma(g, b);
  return x / (x + y);
}

/* What a baseline keeps, per context slot and arm. */
typedef struct {
  int arms, slots;
  int *slot_of;    /* n_in: context slot of a first-on input, -1 none yet */
  double *n, *sum; /* slots x arms: pulls (or discounted pulls), rewards */
  double *visits;  /* slots */
  /* sliding window: ring of the last `len` steps' (slot, arm, reward) */
  uint64_t len;
  int *ring_slot, *ring_arm;
  float *ring_reward;
} hmn__base;

static void hmn__base_free(hmn__base *b) {
  hmn__free(b->slot_of);
  hmn__free(b->n);
  hmn__free(b->sum);
  hmn__free(b->visits);
  hmn__free(b->ring_slot);
  hmn__free(b->ring_arm);
  hmn__free(b->ring_reward);
}

static int hmn__base_alloc(hmn__base *b, const hmn_config *cfg, bool ring, hmn_error *err) {
  memset(b, 0, sizeof *b);
  b->arms = cfg->n_out;
  b->slots = cfg->n_in;
  size_t cells = (size_t)b->slots * (size_t)b->arms;
  b->slot_of = hmn__calloc((size_t)cfg->n_in, sizeof(int));
  b->n = hmn__calloc(cells, sizeof(double));
  b->sum = hmn__calloc(cells, sizeof(double));
  b->visits = hmn__calloc((size_t)b->slots, sizeof(double));
  bool ok = b->slot_of != NULL && b->n != NULL && b->sum != NULL && b->visits != NULL;
  if (ring) {
    b->len = (uint64_t)cfg->switch_period;
    b->ring_slot = hmn__calloc(b->len, sizeof(int));
    b->ring_arm = hmn__calloc(b->len, sizeof(int));
    b->ring_reward = hmn__calloc(b->len, sizeof(float));
    ok = ok && b->ring_slot != NULL && b->ring_arm != NULL && b->ring_reward != NULL;
  }
  if (!ok) {
    hmn__base_free(b);
    return hmn__fail(err, HMN_ENOMEM, "out of memory for a bandit baseline (%d inputs x %d arms)",
                     cfg->n_in, cfg->n_out);
  }
  for (int i = 0; i < cfg->n_in; i++) b->slot_of[i] = -1;
  return HMN_OK;
}

/* The context slot of input x: its first input that is on. */
static int hmn__base_slot(hmn__base *b, const float *x, int n_in) {
  int first = 0;
  while (first < n_in - 1 && x[first] == 0.0f) first++;
  if (b->slot_of[first] < 0) b->slot_of[first] = first;
  return b->slot_of[first];
}

static int hmn__base_argmax(const double *v, int n) {
  int best = 0;
  for (int a = 1; a < n; a++)
    if (v[a] > v[best]) best = a;
  return best;
}

/* The arm baseline `which` takes in context slot s. */
static int hmn__base_choose(hmn__base *b, int which, int s, uint64_t t, hmn__base_rng *g) {
  int arms = b->arms;
  double *n = b->n + (size_t)s * arms, *sum = b->sum + (size_t)s * arms;
  double score[64];
  switch (which) {
  case HMN_BASELINE_EGREEDY: {
    if (hmn__base_uniform(g) < HMN__BASE_EPSILON)
      return (int)(hmn__base_uniform(g) * arms) % arms;
    for (int a = 0; a < arms; a++) score[a] = n[a] > 0.0 ? sum[a] / n[a] : DBL_MAX;
    return hmn__base_argmax(score, arms);
  }
  case HMN_BASELINE_UCB1:
  case HMN_BASELINE_SWUCB: {
    double total = 0.0;
    for (int a = 0; a < arms; a++) total += n[a];
    for (int a = 0; a < arms; a++) {
      if (n[a] <= 0.0) return a;
      score[a] = sum[a] / n[a] + sqrt(2.0 * log(total) / n[a]);
    }
    return hmn__base_argmax(score, arms);
  }
  case HMN_BASELINE_DTS:
  case HMN_BASELINE_TS_SWITCH:
    (void)t;
    for (int a = 0; a < arms; a++) score[a] = hmn__base_beta(g, sum[a] + 1.0, n[a] - sum[a] + 1.0);
    return hmn__base_argmax(score, arms);
  default:
    return 0;
  }
}

/* The statistics after arm a in slot s paid r at step t. */
static void hmn__base_learn(hmn__base *b, int which, int s, int a, float r, uint64_t t) {
  int arms = b->arms;
  double *n = b->n + (size_t)s * arms, *sum = b->sum + (size_t)s * arms;
  if (which == HMN_BASELINE_DTS) {
    for (int k = 0; k < arms; k++) {
      n[k] *= HMN__BASE_DISCOUNT;
      sum[k] *= HMN__BASE_DISCOUNT;
    }
  }
  if (which == HMN_BASELINE_SWUCB) {
    uint64_t at = t % b->len;
    if (t >= b->len) {
      int os = b->ring_slot[at], oa = b->ring_arm[at];
      b->n[(size_t)os * arms + oa] -= 1.0;
      b->sum[(size_t)os * arms + oa] -= b->ring_reward[at];
    }
    b->ring_slot[at] = s;
    b->ring_arm[at] = a;
    b->ring_reward[at] = r;
  }
  n[a] += 1.0;
  sum[a] += r;
}

int hmn_baseline_run(const hmn_config *cfg, int which, uint64_t t_begin, uint64_t steps,
                     uint64_t window, double *window_reward, double *mean_reward,
                     hmn_error *err) {
  if (cfg == NULL || mean_reward == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_baseline_run: NULL argument");
  if (which < 0 || which >= HMN_BASELINE_COUNT)
    return hmn__fail(err, HMN_EINVAL, "unknown baseline %d", which);
  if (cfg->task != HMN_TASK_BANDIT)
    return hmn__fail(err, HMN_EINVAL, "baseline '%s' needs task=bandit, got task=%s",
                     hmn__baseline_names[which], hmn_task_names()[cfg->task]);
  if (cfg->n_out > 64)
    return hmn__fail(err, HMN_EINVAL, "baseline '%s': at most 64 arms, got n_out=%d",
                     hmn__baseline_names[which], cfg->n_out);
  if (window_reward != NULL && window == 0)
    return hmn__fail(err, HMN_EINVAL, "baseline '%s': window must be >= 1",
                     hmn__baseline_names[which]);
  hmn_config task_cfg = *cfg;
  task_cfg.rule = HMN_RULE_HEBBIAN;
  task_cfg.action = which == HMN_BASELINE_RANDOM ? HMN_ACTION_RANDOM : HMN_ACTION_ARGMAX;
  hmn_task *task = NULL;
  hmn__base b;
  memset(&b, 0, sizeof b);
  int rc = hmn_task_create("bandit", &task_cfg, &task, err);
  if (rc != HMN_OK) goto done;
  if ((rc = hmn__base_alloc(&b, cfg, which == HMN_BASELINE_SWUCB, err)) != HMN_OK) goto done;
  float z[64];
  double total = 0.0, win = 0.0;
  for (uint64_t k = 0; k < steps; k++) {
    uint64_t t = t_begin + k;
    hmn_step_input in;
    hmn_feedback fb;
    if ((rc = hmn_task_input(task, t, &in, err)) != HMN_OK) break;
    int s = hmn__base_slot(&b, in.x, cfg->n_in);
    memset(z, 0, sizeof z);
    if (which == HMN_BASELINE_RANDOM) {
      rc = hmn_task_feedback(task, t, z, &fb, err);
    } else if (which == HMN_BASELINE_ORACLE) {
      hmn_feedback arm;
      memset(&fb, 0, sizeof fb);
      for (int a = 0; a < cfg->n_out && rc == HMN_OK; a++) {
        memset(z, 0, sizeof z);
        z[a] = 1.0f;
        rc = hmn_task_feedback(task, t, z, &arm, err);
        if (a == 0 || arm.expected > fb.expected) fb = arm;
      }
    } else {
      hmn__base_rng g;
      hmn__base_rng_at(&g, cfg->seed, t, which);
      if (which == HMN_BASELINE_TS_SWITCH && t % (uint64_t)cfg->switch_period == 0 &&
          cfg->bandit == HMN_BANDIT_SWITCHING) {
        memset(b.n, 0, (size_t)b.slots * (size_t)b.arms * sizeof(double));
        memset(b.sum, 0, (size_t)b.slots * (size_t)b.arms * sizeof(double));
      }
      int a = hmn__base_choose(&b, which, s, t, &g);
      z[a] = 1.0f;
      if ((rc = hmn_task_feedback(task, t, z, &fb, err)) == HMN_OK)
        hmn__base_learn(&b, which, s, a, fb.reward, t);
    }
    if (rc != HMN_OK) break;
    total += fb.reward;
    win += fb.reward;
    if (window_reward != NULL && (k + 1) % window == 0) {
      window_reward[k / window] = win / (double)window;
      win = 0.0;
    }
  }
  if (rc == HMN_OK) *mean_reward = steps > 0 ? total / (double)steps : NAN;
done:
  hmn__base_free(&b);
  hmn_task_destroy(task);
  return rc;
}
