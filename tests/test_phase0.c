/*
 * test_phase0.c - Phase 0 learns: the bandit baselines are sane on the
 * same draws (oracle >= each method >= random, on average over seeds;
 * deterministic), and `hmn run` on its preset closes most of the
 * oracle - random gap over several seeds, with margins set from the
 * 20-seed measurement in docs/phase0.md (a short horizon here, so the
 * bars sit well below the full result), and learns more with the reward
 * credited to its own step than one step late; its paired SPSA earns
 * more than alternating windows and moves eta_global towards the grid
 * optimum from both sides, and with per-copy weighted learning lands
 * near it from x1/4 and x4.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmn.h"

#define SEEDS 5

static void bandit_config(hmn_config *cfg, uint64_t seed) {
  hmn_config_defaults(cfg);
  cfg->n_out = 4;
  cfg->context_steps = 4;
  cfg->seed = seed;
}

Test(phase0, baselines_sit_between_random_and_oracle) {
  double mean[HMN_BASELINE_COUNT] = {0};
  hmn_error err;
  for (uint64_t s = 1; s <= SEEDS; s++) {
    hmn_config cfg;
    bandit_config(&cfg, s);
    for (int b = 0; b < HMN_BASELINE_COUNT; b++) {
      double r;
      cr_assert_eq(hmn_baseline_run(&cfg, b, 0, 6000, 0, NULL, &r, &err), HMN_OK, "%s",
                   err.message);
      mean[b] += r / SEEDS;
    }
  }
  double oracle = mean[HMN_BASELINE_ORACLE], random = mean[HMN_BASELINE_RANDOM];
  /* 4 arms with p uniform in [0, 1): E max = 0.8, E p = 0.5. */
  cr_assert(oracle > 0.72 && oracle < 0.88, "oracle %g", oracle);
  cr_assert(random > 0.42 && random < 0.58, "random %g", random);
  for (int b = HMN_BASELINE_EGREEDY; b < HMN_BASELINE_COUNT; b++) {
    cr_assert(mean[b] < oracle, "%s %g >= oracle %g", hmn_baseline_name(b), mean[b], oracle);
    cr_assert(mean[b] > random + 0.03, "%s %g vs random %g", hmn_baseline_name(b), mean[b], random);
  }
  /* Knowing the switch times helps Thompson sampling. */
  cr_assert(mean[HMN_BASELINE_TS_SWITCH] > mean[HMN_BASELINE_DTS]);
}

Test(phase0, baselines_are_deterministic_and_windowed) {
  hmn_config cfg;
  hmn_error err;
  bandit_config(&cfg, 9);
  double a, b, win[10];
  cr_assert_eq(hmn_baseline_run(&cfg, HMN_BASELINE_DTS, 0, 1000, 100, win, &a, &err), HMN_OK);
  cr_assert_eq(hmn_baseline_run(&cfg, HMN_BASELINE_DTS, 0, 1000, 0, NULL, &b, &err), HMN_OK);
  cr_assert_eq(a, b);
  double sum = 0.0;
  for (int k = 0; k < 10; k++) sum += win[k] / 10.0;
  cr_assert_float_eq(sum, a, 1e-12);
  cfg.task = HMN_TASK_STREAM;
  cr_assert_eq(hmn_baseline_run(&cfg, HMN_BASELINE_UCB1, 0, 10, 0, NULL, &a, &err), HMN_EINVAL);
  cr_assert(strstr(err.message, "task=bandit") != NULL, "%s", err.message);
}

/* The "% of the gap closed" of one `hmn run`, and its final eta_global
 * (theta's) into `eta` when not NULL. */
static double run_gap_eta(const char *args, double *eta) {
  const char *bin = getenv("HMN_BIN");
  cr_assert_not_null(bin, "HMN_BIN is not set");
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s' run --quiet %s", bin, args);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  char line[512];
  double gap = NAN, oracle, random, local, global = NAN;
  while (fgets(line, sizeof line, p) != NULL) {
    if (sscanf(line, " same draws oracle %lf, random %lf: %lf%%", &oracle, &random, &gap) == 3)
      continue;
    if (sscanf(line, " eta local %lf, global %lf", &local, &global) == 2) continue;
  }
  cr_assert_eq(pclose(p), 0, "%s failed", cmd);
  cr_assert(!isnan(gap), "no gap line from %s", cmd);
  cr_assert(!isnan(global), "no eta line from %s", cmd);
  if (eta != NULL) *eta = global;
  return gap;
}

static double run_gap(const char *args) { return run_gap_eta(args, NULL); }

/* Measured (8000 steps, seeds 1..5): 78% of the gap on average, every
 * seed above 73%; with credit=late 66%. */
Test(phase0, preset_closes_most_of_the_gap, .timeout = 300) {
  double now = 0.0, late = 0.0;
  for (int s = 1; s <= SEEDS; s++) {
    char args[128];
    snprintf(args, sizeof args, "--steps 8000 --seed %d", s);
    double g = run_gap(args);
    cr_assert(g > 50.0, "seed %d closes only %.1f%% of the gap", s, g);
    now += g / SEEDS;
    snprintf(args, sizeof args, "--steps 8000 --seed %d --set credit=late", s);
    late += run_gap(args) / SEEDS;
  }
  cr_assert(now > 65.0, "the preset closes %.1f%% of the gap on average", now);
  cr_assert(now > late + 10.0, "credit now %.1f%% vs late %.1f%%", now, late);
}

/* Paired SPSA (the preset, from 128) against alternating windows
 * (online, at its old gains, from the grid optimum 32), 20000 steps.
 * Measured over seeds 1..5: 77.0% against 75.6% of the gap (20 seeds:
 * 77.3 / 73.5). */
Test(phase0, paired_spsa_earns_more_than_alternating_windows, .timeout = 300) {
  double paired = 0.0, online = 0.0;
  for (int s = 1; s <= SEEDS; s++) {
    char args[160];
    snprintf(args, sizeof args, "--seed %d", s);
    paired += run_gap(args) / SEEDS;
    snprintf(args, sizeof args,
             "--seed %d --set meta_mode=online --set meta_a=0.5 --set meta_c=0.1 --set eta_global=32", s);
    online += run_gap(args) / SEEDS;
  }
  cr_assert(paired > online + 1.0, "paired %.1f%% vs online %.1f%% of the gap", paired, online);
}

/* Geometric mean of the final eta_global of `hmn run ARGS --seed s` over
 * the seeds; every seed's into `each`. */
static double geo_eta(const char *args, double *each) {
  double lg = 0.0;
  for (int s = 1; s <= SEEDS; s++) {
    char full[320];
    snprintf(full, sizeof full, "%s --seed %d", args, s);
    run_gap_eta(full, &each[s - 1]);
    lg += log(each[s - 1]) / SEEDS;
  }
  return exp(lg);
}

/* The preset's SPSA, started at x1/4 and x4 the grid optimum (32), moves
 * eta_global towards it on every seed and lands near it. Measured over
 * seeds 1..5, 20000 steps: from 8 to 17.1 .. 34.6 (geometric mean 23.6);
 * over 20 seeds 14.4 .. 34.6 (22.7, x0.71) from 8 and 16.1 .. 32.3
 * (23.8, x0.74) from 128. The docs' target is x1.5 of 32 over 20 seeds;
 * the bars here, on 5 seeds: every seed moved by x1.2 towards 32, the
 * geometric mean within x2 of 32. */
Test(phase0, paired_spsa_moves_eta_towards_the_optimum_from_both_sides, .timeout = 300) {
  double each[SEEDS];
  double up = geo_eta("--set eta_global=8", each);
  for (int s = 0; s < SEEDS; s++) cr_assert_gt(each[s], 8.0 * 1.2, "seed %d from 8: %g", s + 1, each[s]);
  cr_assert(up > 16.0 && up < 64.0, "from 8: geometric mean %g", up);
  double down = geo_eta("--set eta_global=128", each);
  for (int s = 0; s < SEEDS; s++)
    cr_assert_lt(each[s], 128.0 / 1.2, "seed %d from 128: %g", s + 1, each[s]);
  cr_assert(down > 16.0 && down < 64.0, "from 128: geometric mean %g", down);
}

/* With each copy's E weighted by its policy's share of the action
 * (paired_learn = weighted, resync, meta_c 0.5, meta_a 30), the starts
 * at x1/4 and x4 land near 32. Measured over seeds 1..5: geometric means
 * 33.5 and 32.3 (seeds 11.1 .. 76.3); over 20 seeds 36.1 and 41.8. Bars:
 * within x2 of 32 (the docs' target is x1.5 over 20 seeds). */
Test(phase0, weighted_paired_spsa_lands_near_the_optimum_from_both_sides, .timeout = 300) {
  static const char w[] = "--set paired_learn=weighted --set paired_copies=resync --set meta_c=0.5 "
                          "--set meta_a=30";
  char args[256];
  double each[SEEDS];
  snprintf(args, sizeof args, "%s --set eta_global=8", w);
  double up = geo_eta(args, each);
  snprintf(args, sizeof args, "%s --set eta_global=128", w);
  double down = geo_eta(args, each);
  cr_assert(up > 16.0 && up < 64.0, "from 8: geometric mean %g", up);
  cr_assert(down > 16.0 && down < 64.0, "from 128: geometric mean %g", down);
}

/* meta_params = global: SPSA moves eta_global and leaves eta_local at its
 * config value; with both, eta_local moves too. */
Test(phase0, meta_params_global_tunes_eta_global_alone) {
  for (int both = 0; both <= 1; both++) {
    hmn_config cfg;
    hmn_error err;
    bandit_config(&cfg, 3);
    cfg.estimator = HMN_EST_SPSA;
    cfg.meta_mode = HMN_META_ONLINE;
    cfg.meta_window = 50;
    cfg.meta_a = 2.0f;
    cfg.eta_local = 1e-4f;
    cfg.eta_global = 20.0f;
    cfg.eta_max = 1000.0f;
    cfg.meta_params = both ? HMN_META_PARAMS_BOTH : HMN_META_PARAMS_GLOBAL;
    hmn_agent *agent;
    cr_assert_eq(hmn_agent_create(&cfg, "ref", &agent, &err), HMN_OK, "%s", err.message);
    hmn_window w;
    while (hmn_layer_step_count(hmn_agent_layer(agent)) < 1000)
      cr_assert_eq(hmn_agent_run(agent, 1000, &w, &err), HMN_OK, "%s", err.message);
    cr_assert_gt(w.meta_iterations, 5);
    cr_assert_neq(w.eta_global, 20.0f);
    if (both)
      cr_assert_neq(w.eta_local, 1e-4f);
    else
      cr_assert_eq(w.eta_local, 1e-4f);
    hmn_agent_destroy(agent);
  }
}

/* `hmn baselines` prints every method with its share of the gap: the
 * oracle closes all of it and random none, by definition. */
Test(phase0, baselines_command_prints_the_table, .timeout = 120) {
  const char *bin = getenv("HMN_BIN");
  cr_assert_not_null(bin, "HMN_BIN is not set");
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s' baselines --seeds 2 --steps 1000 --quiet --hmn 'late:credit=late'",
           bin);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  char line[512];
  int seen = 0, preset = 0;
  while (fgets(line, sizeof line, p) != NULL) {
    double r, sd, gap;
    if (strncmp(line, "hmn (preset) ", 13) == 0) preset++;
    char name[64];
    if (sscanf(line, "%63s %lf +- %lf %lf", name, &r, &sd, &gap) != 4) continue;
    if (strcmp(name, "oracle") == 0) cr_assert_float_eq(gap, 100.0, 1e-9, "%s", line);
    if (strcmp(name, "random") == 0) cr_assert_float_eq(gap, 0.0, 1e-9, "%s", line);
    if (strcmp(name, "late") == 0 || strcmp(name, "ts_switch") == 0) cr_assert(r > 0.3, "%s", line);
    seen++;
  }
  cr_assert_eq(pclose(p), 0);
  /* the row "late" and the 7 baselines, and the preset's row */
  cr_assert_eq(seen, 8);
  cr_assert_eq(preset, 1);
}
