/*
 * test_meta.c - the meta-learner (SPEC section 6): the estimators on a
 * known noisy quadratic, Spall's gains, bounds, the lookahead's promise to
 * leave the live layer as it was, and resume of a run in the middle of
 * meta-learning; the paired mode's twin (a copy of the layer until the
 * probes start, one task interaction per step, saved and resumed).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "io/io.h"
#include "support.h"

/* Loss of the quadratic at eta with its minimum at `opt`, plus uniform
 * noise of +-noise from the test's own Philox stream (not the meta
 * stream, so the noise is independent of the perturbations). */
static double quad_loss(const float *eta, const double *opt, double noise, uint64_t draw) {
  uint32_t r[4];
  hmn_philox(12345, draw, 0, HMN_STREAM_TASK, r);
  double d0 = (double)eta[0] - opt[0], d1 = (double)eta[1] - opt[1];
  /* Different curvatures per axis: an estimator that mixed them up would
   * still go down, but not to the minimum. */
  return d0 * d0 + 4.0 * d1 * d1 + noise * (2.0 * (double)hmn_uniform(r[0]) - 1.0);
}

static void quad_config(hmn_config *cfg, int estimator) {
  hmn_config_defaults(cfg);
  cfg->estimator = estimator;
  cfg->log_eta = 0;
  cfg->eta_min = 0.0f;
  cfg->eta_max = 1.0f;
  cfg->eta_local = 0.9f;
  cfg->eta_global = 0.05f;
  cfg->meta_a = 0.1f;
  cfg->meta_c = 0.05f;
  cfg->meta_stability = 10.0f;
}

/* Runs `iters` iterations; checks every probe and theta against the
 * bounds on the way. Returns the noise-free loss at the final theta. */
static double run_quadratic(const hmn_config *cfg, const double *opt, double noise, int iters,
                            float *final_eta) {
  hmn__meta meta;
  hmn__meta_init(&meta, cfg);
  int probes = hmn__meta_probes(cfg);
  cr_assert_gt(probes, 0);
  uint64_t draw = 0;
  for (int it = 0; it < iters; it++) {
    cr_assert_eq(meta.k, (uint64_t)it);
    for (int p = 0; p < probes; p++) {
      float eta[2];
      hmn__meta_probe_eta(&meta, cfg, p, eta);
      for (int i = 0; i < 2; i++)
        cr_assert(eta[i] >= cfg->eta_min && eta[i] <= cfg->eta_max,
                  "iteration %d probe %d: eta[%d] = %g outside [%g, %g]", it, p, i,
                  (double)eta[i], (double)cfg->eta_min, (double)cfg->eta_max);
      hmn__meta_record(&meta, cfg, quad_loss(eta, opt, noise, draw++));
    }
    float eta[2];
    hmn__meta_eta(&meta, cfg, eta);
    for (int i = 0; i < 2; i++)
      cr_assert(eta[i] >= cfg->eta_min && eta[i] <= cfg->eta_max, "iteration %d: eta[%d] = %g", it,
                i, (double)eta[i]);
  }
  hmn__meta_eta(&meta, cfg, final_eta);
  return quad_loss(final_eta, opt, 0.0, 0);
}

TestSuite(meta);

Test(meta, spall_gains) {
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  cfg.meta_a = 0.5f;
  cfg.meta_c = 0.25f;
  cfg.meta_stability = 10.0f;
  cfg.meta_alpha = 0.602f;
  cfg.meta_gamma = 0.101f;
  for (uint64_t k = 0; k < 100; k += 33) {
    double ak = 0.5 / pow((double)k + 11.0, (double)0.602f);
    double ck = 0.25 / pow((double)k + 1.0, (double)0.101f);
    cr_assert(fabs(hmn__meta_gain_a(&cfg, k) - ak) < 1e-12, "a_%llu", (unsigned long long)k);
    cr_assert(fabs(hmn__meta_gain_c(&cfg, k) - ck) < 1e-12, "c_%llu", (unsigned long long)k);
  }
  cr_assert_float_eq(hmn__meta_gain_c(&cfg, 0), 0.25, 1e-12);
}

Test(meta, spsa_converges_to_the_minimum_of_a_noisy_quadratic) {
  hmn_config cfg;
  quad_config(&cfg, HMN_EST_SPSA);
  const double opt[2] = {0.3, 0.6};
  float eta[2];
  double loss = run_quadratic(&cfg, opt, 0.01, 3000, eta);
  cr_assert(fabs(eta[0] - opt[0]) < 0.02 && fabs(eta[1] - opt[1]) < 0.02,
            "SPSA ended at (%g, %g), minimum (%g, %g)", (double)eta[0], (double)eta[1], opt[0],
            opt[1]);
  cr_assert_lt(loss, 1e-3);
}

Test(meta, spsa_in_log_eta_converges_and_stays_positive) {
  hmn_config cfg;
  quad_config(&cfg, HMN_EST_SPSA);
  cfg.log_eta = 1;
  cfg.eta_min = 1e-4f;
  cfg.meta_a = 0.2f;
  cfg.meta_c = 0.1f;
  const double opt[2] = {0.3, 0.6};
  float eta[2];
  run_quadratic(&cfg, opt, 0.01, 3000, eta);
  cr_assert(fabs(eta[0] - opt[0]) < 0.03 && fabs(eta[1] - opt[1]) < 0.03,
            "SPSA in ln(eta) ended at (%g, %g)", (double)eta[0], (double)eta[1]);
}

Test(meta, spsa_stops_at_the_bound_when_the_minimum_is_outside) {
  hmn_config cfg;
  quad_config(&cfg, HMN_EST_SPSA);
  cfg.eta_max = 0.5f;
  /* Minimum of the first rate beyond eta_max, of the second below 0. */
  const double opt[2] = {0.8, -0.3};
  float eta[2];
  run_quadratic(&cfg, opt, 0.01, 2000, eta);
  /* Near the bound the probes are clipped on one side, which biases the
   * estimate a little: close to the bound, never past it (run_quadratic
   * checked every probe and iterate). */
  cr_assert(eta[0] > 0.48f && eta[0] <= 0.5f, "eta_local %g, expected near the bound 0.5",
            (double)eta[0]);
  cr_assert(eta[1] >= 0.0f && eta[1] < 0.02f, "eta_global %g, expected near the bound 0",
            (double)eta[1]);
}

Test(meta, fd_and_reinforce_reduce_the_quadratic) {
  const double opt[2] = {0.3, 0.6};
  const int est[2] = {HMN_EST_FD, HMN_EST_REINFORCE};
  for (int e = 0; e < 2; e++) {
    hmn_config cfg;
    quad_config(&cfg, est[e]);
    hmn__meta meta;
    hmn__meta_init(&meta, &cfg);
    float start_eta[2];
    hmn__meta_eta(&meta, &cfg, start_eta);
    double start = quad_loss(start_eta, opt, 0.0, 0);
    float eta[2];
    double end = run_quadratic(&cfg, opt, 0.01, 2000, eta);
    /* FD is a gradient method with exact directions: near the minimum.
     * REINFORCE is noisier: a clear reduction. */
    double limit = est[e] == HMN_EST_FD ? 1e-3 : 0.1 * start;
    cr_assert_lt(end, limit, "%s: loss %g -> %g at (%g, %g)", hmn__estimator_find(est[e])->name,
                 start, end, (double)eta[0], (double)eta[1]);
  }
}

Test(meta, estimator_off_keeps_eta) {
  hmn_config cfg;
  quad_config(&cfg, HMN_EST_OFF);
  cr_assert_eq(hmn__meta_probes(&cfg), 0);
  hmn__meta meta;
  hmn__meta_init(&meta, &cfg);
  hmn__meta_record(&meta, &cfg, 1.0);
  float eta[2];
  hmn__meta_eta(&meta, &cfg, eta);
  cr_assert_eq(meta.k, 0);
  cr_assert(eta[0] == 0.9f && eta[1] == 0.05f);
}

Test(meta, meta_state_round_trips_and_bad_state_is_refused) {
  hmn_config cfg;
  quad_config(&cfg, HMN_EST_REINFORCE);
  hmn__meta meta, back;
  hmn__meta_init(&meta, &cfg);
  for (int k = 0; k < 5; k++) hmn__meta_record(&meta, &cfg, 0.1 * k);
  unsigned char buf[HMN__META_BYTES];
  hmn__meta_encode(&meta, buf);
  hmn_error err;
  memset(&back, 0, sizeof back);
  cr_assert_eq(hmn__meta_decode(&back, &cfg, buf, "x.ckpt", &err), HMN_OK, "%s", err.message);
  cr_assert_eq(back.k, meta.k);
  cr_assert(back.theta[0] == meta.theta[0] && back.theta[1] == meta.theta[1]);
  cr_assert(back.est.baseline == meta.est.baseline && back.est.has_baseline == 1);
  /* theta outside the bounds: refused, naming the file; `back` unchanged. */
  hmn__le_put_f64(buf + 8, 7.0);
  hmn__meta keep = back;
  cr_assert_eq(hmn__meta_decode(&back, &cfg, buf, "x.ckpt", &err), HMN_EFORMAT);
  cr_assert(strstr(err.message, "x.ckpt") != NULL && strstr(err.message, "theta[0]") != NULL,
            "%s", err.message);
  cr_assert_eq(memcmp(&keep, &back, sizeof keep), 0);
}

/* ------------------------------------------------------------------ */
/* The closed loop. */

static void loop_config(hmn_config *cfg) {
  hmn_test_small_config(cfg, 12, 4);
  cfg->task = HMN_TASK_BANDIT;
  cfg->contexts = 3;
  cfg->switch_period = 150;
  cfg->meta_window = 40;
  /* Rates and gains at which the probes' losses differ, so that theta
   * really moves: a lookahead that changed nothing would pass trivially. */
  cfg->eta_local = 0.01f;
  cfg->eta_global = 0.5f;
  cfg->meta_a = 2.0f;
  cfg->meta_c = 1.0f;
  /* Sampled actions follow small changes of z, argmax ones rarely do. */
  cfg->action = HMN_ACTION_SOFTMAX;
  cfg->temperature = 0.02f;
}

/* Every state array, t, the statistics and the sources of two agents are
 * bit-identical. */
static void assert_same_arrays(hmn_layer *la, hmn_layer *lb, const char *when) {
  const hmn_config *cfg = hmn_layer_config(la);
  hmn_error err;
  cr_assert_eq(hmn_layer_step_count(la), hmn_layer_step_count(lb), "%s: t", when);
  for (int arr = 0; arr < HMN_ARRAY_COUNT; arr++) {
    size_t bytes = hmn__array_bytes(cfg, (hmn_array)arr);
    unsigned char *da = malloc(bytes), *db = malloc(bytes);
    cr_assert(da != NULL && db != NULL);
    cr_assert_eq(hmn_layer_read(la, (hmn_array)arr, da, bytes, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(hmn_layer_read(lb, (hmn_array)arr, db, bytes, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(memcmp(da, db, bytes), 0, "%s: array %s differs", when,
                 hmn_array_name((hmn_array)arr));
    free(da);
    free(db);
  }
}

static void assert_same_state(hmn_agent *a, hmn_agent *b, const char *when) {
  hmn_layer *la = hmn_agent_layer(a), *lb = hmn_agent_layer(b);
  const hmn_config *cfg = hmn_layer_config(la);
  hmn_error err;
  assert_same_arrays(la, lb, when);
  hmn_step_stats sa, sb;
  cr_assert_eq(hmn_layer_stats(la, &sa, &err), HMN_OK);
  cr_assert_eq(hmn_layer_stats(lb, &sb, &err), HMN_OK);
  cr_assert(sa.t == sb.t && sa.applied == sb.applied && sa.candidates == sb.candidates &&
                memcmp(&sa.g_mean, &sb.g_mean, sizeof sa.g_mean) == 0,
            "%s: stats differ", when);
  size_t sbytes = hmn__sources_bytes(cfg);
  unsigned char *ea = malloc(sbytes), *eb = malloc(sbytes);
  cr_assert(ea != NULL && eb != NULL);
  hmn__sources_encode(&a->src, cfg, ea);
  hmn__sources_encode(&b->src, cfg, eb);
  cr_assert_eq(memcmp(ea, eb, sbytes), 0, "%s: modulator sources differ", when);
  free(ea);
  free(eb);
  cr_assert(memcmp(&a->win, &b->win, sizeof a->win) == 0, "%s: window sums differ", when);
}

Test(meta, lookahead_leaves_the_live_layer_as_it_was_but_theta) {
  hmn_config cfg;
  loop_config(&cfg);
  hmn_agent *a, *b;
  hmn_error err;
  cr_assert_eq(hmn_agent_create(&cfg, "ref", &a, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_agent_create(&cfg, "ref", &b, &err), HMN_OK, "%s", err.message);
  hmn_window w;
  /* The first window and half the second, so that the layer, the traces
   * and the sources are far from their initial values. */
  uint64_t warm = (uint64_t)cfg.meta_window * 3 / 2;
  for (int n = 0; n < 2; n++) {
    hmn_agent *ag = n == 0 ? a : b;
    while (hmn_layer_step_count(hmn_agent_layer(ag)) < warm)
      cr_assert_eq(hmn_agent_run(ag, warm - hmn_layer_step_count(hmn_agent_layer(ag)), &w, &err),
                   HMN_OK, "%s", err.message);
  }
  assert_same_state(a, b, "before");
  float before[2], after[2];
  hmn_layer_get_eta(hmn_agent_layer(a), &before[0], &before[1], NULL);
  /* The second window's iteration ran inside hmn_agent_run. */
  cr_assert_eq(a->meta.k, 1);
  cr_assert_eq(hmn_agent_probe_steps(a), 2 * (uint64_t)cfg.meta_window);
  /* Iterations whose two probes earn the same rewards leave theta where
   * it was; repeat until one moves it (each restores the live state). */
  int tries = 0;
  do {
    cr_assert_eq(hmn__agent_lookahead(a, &err), HMN_OK, "%s", err.message);
    tries++;
    cr_assert_eq(a->meta.k, (uint64_t)(1 + tries));
    hmn_layer_get_eta(hmn_agent_layer(a), &after[0], &after[1], NULL);
  } while (after[0] == before[0] && after[1] == before[1] && tries < 20);
  cr_assert(after[0] != before[0] || after[1] != before[1],
            "theta did not move in %d iterations: the test would prove nothing", tries);
  assert_same_state(a, b, "after the lookahead");
  /* Nothing hidden differs either: at the same rates, both go on alike
   * to the end of the window (the next one starts with an iteration of
   * their meta-learners, whose k now differ). */
  cr_assert_eq(hmn_layer_set_eta(hmn_agent_layer(b), after[0], after[1], &err), HMN_OK);
  uint64_t rest = (uint64_t)cfg.meta_window - warm % (uint64_t)cfg.meta_window;
  for (uint64_t s = 0; s < rest; s++) {
    cr_assert_eq(hmn_agent_run(a, 1, &w, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(hmn_agent_run(b, 1, &w, &err), HMN_OK, "%s", err.message);
  }
  assert_same_state(a, b, "at the end of the window");
  hmn_agent_destroy(a);
  hmn_agent_destroy(b);
}

/* Runs to step `to`, appending each completed window's eta to `etas`. */
static void run_to(hmn_agent *ag, uint64_t to, float (*etas)[2], double *rewards, int *n) {
  hmn_error err;
  hmn_window w;
  while (hmn_layer_step_count(hmn_agent_layer(ag)) < to) {
    cr_assert_eq(hmn_agent_run(ag, to - hmn_layer_step_count(hmn_agent_layer(ag)), &w, &err),
                 HMN_OK, "%s", err.message);
    if (w.complete) {
      etas[*n][0] = w.eta_local;
      etas[*n][1] = w.eta_global;
      rewards[*n] = w.reward;
      (*n)++;
    }
  }
}

Test(meta, resume_mid_meta_learning_gives_the_same_eta_trajectory) {
  static const struct {
    int estimator, mode, copies, learn;
  } cases[] = {{HMN_EST_SPSA, HMN_META_LOOKAHEAD, 0, 0},
               {HMN_EST_SPSA, HMN_META_ONLINE, 0, 0},
               {HMN_EST_FD, HMN_META_ONLINE, 0, 0},
               {HMN_EST_REINFORCE, HMN_META_LOOKAHEAD, 0, 0},
               {HMN_EST_SPSA, HMN_META_PAIRED, HMN_PAIRED_PERSISTENT, HMN_PAIRED_SHARED},
               {HMN_EST_SPSA, HMN_META_PAIRED, HMN_PAIRED_RESYNC, HMN_PAIRED_WEIGHTED}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    hmn_config cfg;
    loop_config(&cfg);
    cfg.estimator = cases[c].estimator;
    cfg.meta_mode = cases[c].mode;
    cfg.paired_copies = cases[c].copies;
    cfg.paired_learn = cases[c].learn;
    const uint64_t total = 12 * (uint64_t)cfg.meta_window;
    /* Cut in the middle of a window, and (online) in the middle of an
     * iteration: window 5 is the second probe of SPSA's iteration 1. */
    const uint64_t cut = 5 * (uint64_t)cfg.meta_window + 17;
    float full_eta[16][2], part_eta[16][2];
    double full_rew[16], part_rew[16];
    int nf = 0, np = 0;
    hmn_agent *a, *b, *c2;
    hmn_error err;
    cr_assert_eq(hmn_agent_create(&cfg, "ref", &a, &err), HMN_OK, "%s", err.message);
    run_to(a, total, full_eta, full_rew, &nf);
    cr_assert_eq(hmn_agent_create(&cfg, "ref", &b, &err), HMN_OK, "%s", err.message);
    run_to(b, cut, part_eta, part_rew, &np);
    char path[1024];
    snprintf(path, sizeof path, "%s", hmn_test_path("meta.ckpt"));
    cr_assert_eq(hmn_agent_save(b, path, &err), HMN_OK, "%s", err.message);
    hmn_agent_destroy(b);
    cr_assert_eq(hmn_agent_load(path, "ref", &c2, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(hmn_layer_step_count(hmn_agent_layer(c2)), cut);
    run_to(c2, total, part_eta, part_rew, &np);
    cr_assert_eq(nf, 12);
    cr_assert_eq(np, nf);
    bool moved = false;
    for (int k = 0; k < nf; k++) {
      cr_assert(memcmp(full_eta[k], part_eta[k], sizeof full_eta[k]) == 0,
                "case %zu window %d: eta (%.9g, %.9g) uninterrupted, (%.9g, %.9g) resumed", c, k,
                (double)full_eta[k][0], (double)full_eta[k][1], (double)part_eta[k][0],
                (double)part_eta[k][1]);
      cr_assert(memcmp(&full_rew[k], &part_rew[k], sizeof full_rew[k]) == 0,
                "case %zu window %d: reward", c, k);
      moved |= memcmp(full_eta[k], full_eta[0], sizeof full_eta[0]) != 0;
    }
    cr_assert(moved, "case %zu: eta never moved, the test would prove nothing", c);
    cr_assert_eq(a->meta.k, c2->meta.k);
    cr_assert(memcmp(a->meta.theta, c2->meta.theta, sizeof a->meta.theta) == 0);
    assert_same_state(a, c2, "end");
    cr_assert_eq(a->twin != NULL, cases[c].mode == HMN_META_PAIRED);
    if (a->twin != NULL) assert_same_arrays(a->twin, c2->twin, "end, the twins");
    hmn_agent_destroy(a);
    hmn_agent_destroy(c2);
  }
}

Test(meta, layer_only_checkpoint_is_refused_by_the_closed_loop) {
  hmn_config cfg;
  loop_config(&cfg);
  hmn_layer *layer;
  hmn_agent *agent = NULL;
  hmn_error err;
  cr_assert_eq(hmn_layer_create(&cfg, "ref", &layer, &err), HMN_OK, "%s", err.message);
  char path[1024];
  snprintf(path, sizeof path, "%s", hmn_test_path("layer.ckpt"));
  cr_assert_eq(hmn_layer_save(layer, path, &err), HMN_OK, "%s", err.message);
  hmn_layer_destroy(layer);
  cr_assert_eq(hmn_agent_load(path, "ref", &agent, &err), HMN_EFORMAT);
  cr_assert_null(agent);
  cr_assert(strstr(err.message, "layer.ckpt") != NULL && strstr(err.message, "meta") != NULL,
            "%s", err.message);
}

Test(meta, max_steps_zero_changes_nothing_at_a_window_boundary) {
  hmn_config cfg;
  loop_config(&cfg);
  cfg.meta_mode = HMN_META_ONLINE;
  hmn_agent *a;
  hmn_error err;
  hmn_window w;
  cr_assert_eq(hmn_agent_create(&cfg, "ref", &a, &err), HMN_OK, "%s", err.message);
  for (int k = 0; k < 3; k++) cr_assert_eq(hmn_agent_run(a, 1000, &w, &err), HMN_OK);
  cr_assert(w.complete);
  unsigned char before[HMN__META_BYTES], after[HMN__META_BYTES];
  hmn__meta_encode(&a->meta, before);
  for (int k = 0; k < 3; k++) {
    cr_assert_eq(hmn_agent_run(a, 0, &w, &err), HMN_OK);
    cr_assert(!w.complete && w.steps == 0 && isnan(w.reward));
  }
  hmn__meta_encode(&a->meta, after);
  cr_assert_eq(memcmp(before, after, sizeof before), 0, "an empty call recorded a probe");
  hmn_agent_destroy(a);
}

/* Paired mode: until the probes start (the first window runs at the
 * config's rates) the twin learns exactly what the layer learns, from the
 * same x, noise, action and reward, so the two stay bit-identical; from
 * the second window they run different rates and part. No step is a
 * probe on top of the live ones: one task interaction per step. */
Test(meta, paired_twin_is_the_layer_until_the_probes_start) {
  hmn_config cfg;
  loop_config(&cfg);
  cfg.meta_mode = HMN_META_PAIRED;
  hmn_agent *a;
  hmn_error err;
  hmn_window w;
  cr_assert_eq(hmn_agent_create(&cfg, "ref", &a, &err), HMN_OK, "%s", err.message);
  cr_assert_not_null(a->twin);
  cr_assert_eq(hmn_agent_run(a, 1000, &w, &err), HMN_OK, "%s", err.message);
  cr_assert(w.complete && w.t == (uint64_t)cfg.meta_window);
  assert_same_arrays(hmn_agent_layer(a), a->twin, "after the first window");
  cr_assert_eq(hmn_agent_run(a, 1000, &w, &err), HMN_OK, "%s", err.message);
  float l0, g0, l1, g1;
  hmn_layer_get_eta(hmn_agent_layer(a), &l0, &g0, NULL);
  hmn_layer_get_eta(a->twin, &l1, &g1, NULL);
  /* persistent copies: the layer runs the higher eta_global */
  cr_assert_gt(g0, g1);
  size_t bytes = hmn__array_bytes(&cfg, HMN_ARRAY_W);
  float *wa = malloc(bytes), *wb = malloc(bytes);
  cr_assert(wa != NULL && wb != NULL);
  cr_assert_eq(hmn_layer_read(hmn_agent_layer(a), HMN_ARRAY_W, wa, bytes, &err), HMN_OK);
  cr_assert_eq(hmn_layer_read(a->twin, HMN_ARRAY_W, wb, bytes, &err), HMN_OK);
  cr_assert_neq(memcmp(wa, wb, bytes), 0, "the twin learned nothing of its own");
  free(wa);
  free(wb);
  cr_assert_eq(hmn_agent_probe_steps(a), 0);
  /* The first iteration recorded both probes of one window at once. */
  cr_assert_eq(a->meta.k, 1);
  float el, eg;
  hmn_agent_eta(a, &el, &eg);
  cr_assert_float_eq(w.eta_global, eg, 0.0f);
  hmn_agent_destroy(a);
}

/* Paired needs SPSA's two probes, a policy to weigh the action by, and
 * the split; everything else is refused at creation with the key named. */
Test(meta, paired_refuses_what_it_cannot_weigh) {
  hmn_config cfg;
  hmn_agent *a = NULL;
  hmn_error err;
  loop_config(&cfg);
  cfg.meta_mode = HMN_META_PAIRED;
  cfg.estimator = HMN_EST_FD;
  cr_assert_eq(hmn_agent_create(&cfg, "ref", &a, &err), HMN_EINVAL);
  cr_assert_null(a);
  cr_assert(strstr(err.message, "estimator=spsa") != NULL, "%s", err.message);
  loop_config(&cfg);
  cfg.meta_mode = HMN_META_PAIRED;
  cfg.action = HMN_ACTION_ARGMAX;
  cr_assert_eq(hmn_agent_create(&cfg, "ref", &a, &err), HMN_EINVAL);
  cr_assert_null(a);
  cr_assert(strstr(err.message, "action=softmax") != NULL, "%s", err.message);
}
