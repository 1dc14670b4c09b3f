/*
 * cmd_baselines.c - `hmn baselines`: HMN in its closed loop beside the
 * bandit baselines (oracle, random, epsilon-greedy, UCB1, sliding-window
 * UCB, discounted Thompson, Thompson told the switch times), every method
 * over the same seeds and steps, so on the same contexts and reward
 * draws; the share of the oracle - random gap each closes, HMN's recovery
 * after a switch, and optionally a figure (gnuplot).
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char hmn_baselines_help[] =
    "usage: hmn baselines [options]\n"
    "\n"
    "Runs the closed loop of hmn run (HMN with its config) and the bandit\n"
    "baselines over the same seeds and steps, so every method sees the same\n"
    "contexts and reward draws, and prints for each the mean reward per step\n"
    "(mean +- sd over seeds) and the share of the oracle - random gap it closes.\n"
    "For HMN rows also the steps after a switch until the seed-averaged reward\n"
    "per 100 steps reaches 90% of the period's plateau (mean of its second half).\n"
    "\n"
    "options:\n"
    "  --seeds N               seeds seed, seed+1, ... (default: 20)\n"
    "  --seed S                first seed (default: the config's)\n"
    "  --steps N               steps per run (default: 20000)\n"
    "  --config FILE           base config (default: the Phase-0 preset)\n"
    "  --set KEY=VALUE         override one key of the base config; may be repeated\n"
    "  --hmn NAME:K=V,K=V      one more HMN row: the base config with these keys\n"
    "                          (may be repeated; the base config is the first row)\n"
    "  --no-hmn                baselines only\n"
    "  --eta-grid              instead of the table: HMN at fixed eta_global x1/8 .. x8\n"
    "                          the config's (the grid optimum), at that optimum with\n"
    "                          eta_local 1e-6, 1e-4, 1e-2, and SPSA (the config's\n"
    "                          mode; online if off) started at 1/4, 1 and 4 times the\n"
    "                          optimum: where eta_global ends, seed by seed\n"
    "  --plot FILE.png         figure: reward per 200 steps of every method (mean over\n"
    "                          seeds) with the switches marked, and HMN's eta_global\n"
    "  --quiet                 no progress line\n"
    "  --help                  this text\n";

#define HMN_BL_MAX_SETS 64
#define HMN_BL_MAX_HMN 8
#define HMN_BL_BIN 100

typedef struct {
  uint64_t seeds, steps, seed;
  bool seed_given, no_hmn, quiet, eta_grid;
  const char *config_path, *plot;
  const char *sets[HMN_BL_MAX_SETS];
  int n_sets;
  const char *hmn[HMN_BL_MAX_HMN];
  int n_hmn;
} hmn_bl_options;

static int hmn_bl_parse(hmn_bl_options *opt, int argc, char **argv, bool *help) {
  hmn_cli_args args;
  hmn_cli_args_init(&args, "hmn baselines", argc, argv);
  memset(opt, 0, sizeof *opt);
  opt->seeds = 20;
  opt->steps = 20000;
  *help = false;
  while (hmn_cli_more(&args)) {
    if (hmn_cli_flag(&args, "--help") || hmn_cli_flag(&args, "-h")) {
      *help = true;
    } else if (hmn_cli_flag(&args, "--quiet")) {
      opt->quiet = true;
    } else if (hmn_cli_flag(&args, "--no-hmn")) {
      opt->no_hmn = true;
    } else if (hmn_cli_flag(&args, "--eta-grid")) {
      opt->eta_grid = true;
    } else if (hmn_cli_option(&args, "--seeds")) {
      hmn_cli_u64_in(&args, "--seeds", 1, 100000, &opt->seeds);
    } else if (hmn_cli_option(&args, "--seed")) {
      opt->seed_given = hmn_cli_u64(&args, "--seed", &opt->seed);
    } else if (hmn_cli_option(&args, "--steps")) {
      hmn_cli_u64_in(&args, "--steps", HMN_BL_BIN, 1000000000, &opt->steps);
    } else if (hmn_cli_option(&args, "--config")) {
      opt->config_path = args.value;
    } else if (hmn_cli_option(&args, "--plot")) {
      opt->plot = args.value;
    } else if (hmn_cli_option(&args, "--set")) {
      if (opt->n_sets == HMN_BL_MAX_SETS) {
        hmn_cli_error(args.command, "too many --set options (at most %d)", HMN_BL_MAX_SETS);
        return HMN_EXIT_USAGE;
      }
      opt->sets[opt->n_sets++] = args.value;
    } else if (hmn_cli_option(&args, "--hmn")) {
      if (opt->n_hmn == HMN_BL_MAX_HMN - 1) {
        hmn_cli_error(args.command, "too many --hmn options (at most %d)", HMN_BL_MAX_HMN - 1);
        return HMN_EXIT_USAGE;
      }
      opt->hmn[opt->n_hmn++] = args.value;
    } else if (!args.usage_error) {
      hmn_cli_unknown(&args);
    }
  }
  return args.usage_error ? HMN_EXIT_USAGE : HMN_EXIT_OK;
}

/* A row of the table: its name, config, and per-seed results. */
typedef struct {
  char name[64];
  hmn_config cfg;
  bool is_hmn;
  int baseline;
  double *mean;    /* seeds */
  double *bins;    /* steps / HMN_BL_BIN: sum over seeds of each bin's mean */
  double *eta;     /* steps / HMN_BL_BIN: sum over seeds of ln eta_global */
  uint64_t probes; /* probe steps over all seeds */
} hmn_bl_row;

/* "NAME:K=V,K=V" over the base config. */
static int hmn_bl_variant(const char *spec, const hmn_config *base, hmn_bl_row *row) {
  const char *colon = strchr(spec, ':');
  size_t len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
  if (len == 0 || len >= sizeof row->name) {
    hmn_cli_error("hmn baselines", "--hmn '%s': expected NAME:KEY=VALUE,...", spec);
    return HMN_EXIT_USAGE;
  }
  snprintf(row->name, sizeof row->name, "%.*s", (int)len, spec);
  row->cfg = *base;
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", colon != NULL ? colon + 1 : "");
  hmn_error err;
  for (char *save = NULL, *pair = strtok_r(buf, ",", &save); pair != NULL;
       pair = strtok_r(NULL, ",", &save)) {
    if (hmn_config_set_pair(&row->cfg, pair, &err) != HMN_OK) {
      hmn_cli_error("hmn baselines", "--hmn '%s': %s", spec, err.message);
      return HMN_EXIT_USAGE;
    }
  }
  if (hmn_config_validate(&row->cfg, &err) != HMN_OK) {
    hmn_cli_error("hmn baselines", "--hmn '%s': %s", spec, err.message);
    return HMN_EXIT_USAGE;
  }
  return HMN_EXIT_OK;
}

static int hmn_bl_base(const hmn_bl_options *opt, hmn_config *cfg) {
  hmn_error err;
  hmn_config_defaults(cfg);
  int rc = opt->config_path != NULL ? hmn_config_load_file(cfg, opt->config_path, &err)
                                    : hmn_cli_apply_preset(cfg, &err);
  if (rc != HMN_OK) {
    hmn_cli_error("hmn baselines", "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  for (int k = 0; k < opt->n_sets; k++)
    if (hmn_config_set_pair(cfg, opt->sets[k], &err) != HMN_OK) {
      hmn_cli_error("hmn baselines", "--set %s: %s", opt->sets[k], err.message);
      return HMN_EXIT_USAGE;
    }
  if (opt->seed_given) cfg->seed = opt->seed;
  if (hmn_config_validate(cfg, &err) != HMN_OK) {
    hmn_cli_error("hmn baselines", "%s", err.message);
    return HMN_EXIT_USAGE;
  }
  if (cfg->task != HMN_TASK_BANDIT) {
    hmn_cli_error("hmn baselines", "baselines need task=bandit, got task=%s",
                  hmn_task_names()[cfg->task]);
    return HMN_EXIT_USAGE;
  }
  return HMN_EXIT_OK;
}

/* One HMN run: per-bin rewards and ln eta_global added into the row. */
static int hmn_bl_hmn_run(hmn_bl_row *row, const hmn_config *cfg, uint64_t steps, double *mean) {
  hmn_agent *agent = NULL;
  hmn_error err;
  if (hmn_agent_create(cfg, "ref", &agent, &err) != HMN_OK) {
    hmn_cli_error("hmn baselines", "%s: %s", row->name, err.message);
    return HMN_EXIT_RUNTIME;
  }
  hmn_layer *layer = hmn_agent_layer(agent);
  double total = 0.0, seen = 0.0;
  uint64_t bin = 0;
  while (hmn_layer_step_count(layer) < steps) {
    hmn_window w;
    uint64_t left = steps - hmn_layer_step_count(layer);
    if (hmn_agent_run(agent, left < HMN_BL_BIN ? left : HMN_BL_BIN, &w, &err) != HMN_OK) {
      hmn_cli_error("hmn baselines", "%s, seed %llu: %s", row->name,
                    (unsigned long long)cfg->seed, err.message);
      hmn_agent_destroy(agent);
      return HMN_EXIT_RUNTIME;
    }
    /* The window's mean covers its steps so far; the bin is what is new. */
    double sum = w.reward * (double)w.steps;
    double part = sum - seen;
    seen = w.complete ? 0.0 : sum;
    total += part;
    if (bin < steps / HMN_BL_BIN && hmn_layer_step_count(layer) % HMN_BL_BIN == 0) {
      row->bins[bin] += part / HMN_BL_BIN;
      row->eta[bin] += log((double)w.eta_global);
      bin++;
    }
  }
  *mean = total / (double)steps;
  row->probes += hmn_agent_probe_steps(agent);
  hmn_agent_destroy(agent);
  return HMN_EXIT_OK;
}

typedef struct {
  double mean, sd;
} hmn_bl_stat;

static hmn_bl_stat hmn_bl_stat_of(const double *v, uint64_t n) {
  double sum = 0.0, sq = 0.0;
  for (uint64_t i = 0; i < n; i++) sum += v[i];
  double m = sum / (double)n;
  for (uint64_t i = 0; i < n; i++) sq += (v[i] - m) * (v[i] - m);
  return (hmn_bl_stat){m, n > 1 ? sqrt(sq / (double)(n - 1)) : 0.0};
}

/* Mean over the switches after the first period of the steps until the
 * seed-averaged bin reward reaches 90% of the period's plateau (the mean
 * of its second half); NAN without a switch. `*worst` the largest. */
static double hmn_bl_recovery(const double *bins, uint64_t n_bins, uint64_t seeds,
                              const hmn_config *cfg, double *worst) {
  uint64_t per = (uint64_t)cfg->switch_period / HMN_BL_BIN;
  *worst = NAN;
  if (cfg->bandit != HMN_BANDIT_SWITCHING || per < 2 || n_bins < 2 * per) return NAN;
  double total = 0.0;
  int count = 0;
  for (uint64_t start = per; start + per <= n_bins; start += per) {
    double plateau = 0.0;
    for (uint64_t b = start + per / 2; b < start + per; b++) plateau += bins[b] / (double)seeds;
    plateau /= (double)(per - per / 2);
    uint64_t b = start;
    while (b < start + per && bins[b] / (double)seeds < 0.9 * plateau) b++;
    double steps = (double)((b - start + 1) * HMN_BL_BIN);
    total += steps;
    if (count == 0 || steps > *worst) *worst = steps;
    count++;
  }
  return total / count;
}

static int hmn_bl_plot(const hmn_bl_options *opt, const hmn_bl_row *rows, int n_rows,
                       const hmn_config *base) {
  char data[1100];
  snprintf(data, sizeof data, "%s.dat", opt->plot);
  FILE *f = fopen(data, "w");
  if (f == NULL) {
    hmn_cli_error("hmn baselines", "cannot write '%s': %s", data, strerror(errno));
    return HMN_EXIT_RUNTIME;
  }
  uint64_t n_bins = opt->steps / HMN_BL_BIN;
  /* Pairs of bins: 200 steps a point. */
  fprintf(f, "# step");
  for (int r = 0; r < n_rows; r++) fprintf(f, "\t%s", rows[r].name);
  for (int r = 0; r < n_rows; r++)
    if (rows[r].is_hmn) fprintf(f, "\teta_global(%s)", rows[r].name);
  fprintf(f, "\n");
  for (uint64_t b = 0; b + 1 < n_bins; b += 2) {
    fprintf(f, "%llu", (unsigned long long)((b + 2) * HMN_BL_BIN));
    for (int r = 0; r < n_rows; r++)
      fprintf(f, "\t%.5f", (rows[r].bins[b] + rows[r].bins[b + 1]) / (2.0 * (double)opt->seeds));
    for (int r = 0; r < n_rows; r++)
      if (rows[r].is_hmn) fprintf(f, "\t%.5g", exp(rows[r].eta[b + 1] / (double)opt->seeds));
    fprintf(f, "\n");
  }
  if (fclose(f) != 0) {
    hmn_cli_error("hmn baselines", "cannot write '%s': %s", data, strerror(errno));
    return HMN_EXIT_RUNTIME;
  }
  FILE *gp = popen("gnuplot", "w");
  if (gp == NULL) {
    hmn_cli_error("hmn baselines", "cannot run gnuplot: %s", strerror(errno));
    return HMN_EXIT_RUNTIME;
  }
  int n_hmn = 0;
  for (int r = 0; r < n_rows; r++) n_hmn += rows[r].is_hmn;
  fprintf(gp, "set terminal pngcairo noenhanced size 1200,900\nset output '%s'\n", opt->plot);
  fprintf(gp, "set datafile separator '\\t'\nset multiplot layout 2,1\n");
  fprintf(gp, "set title 'reward per 200 steps, mean over %llu seeds (switches dashed)'\n",
          (unsigned long long)opt->seeds);
  fprintf(gp, "set xlabel 'step'\nset ylabel 'reward'\nset key outside right\n");
  if (base->bandit == HMN_BANDIT_SWITCHING)
    for (uint64_t s = (uint64_t)base->switch_period; s < opt->steps; s += (uint64_t)base->switch_period)
      fprintf(gp, "set arrow from %llu, graph 0 to %llu, graph 1 nohead dt 2 lc rgb 'gray'\n",
              (unsigned long long)s, (unsigned long long)s);
  fprintf(gp, "plot ");
  for (int r = 0; r < n_rows; r++)
    fprintf(gp, "%s'%s' using 1:%d with lines lw %d title '%s'", r > 0 ? ", " : "", data, r + 2,
            rows[r].is_hmn ? 2 : 1, rows[r].name);
  fprintf(gp, "\nunset arrow\nset title 'eta_global of the HMN rows (geometric mean over seeds)'\n");
  fprintf(gp, "set logscale y\nset ylabel 'eta_global'\n");
  if (n_hmn > 0) {
    fprintf(gp, "plot ");
    for (int k = 0, r = 0; r < n_rows; r++)
      if (rows[r].is_hmn) {
        fprintf(gp, "%s'%s' using 1:%d with lines lw 2 title '%s'", k > 0 ? ", " : "", data,
                n_rows + 2 + k, rows[r].name);
        k++;
      }
    fprintf(gp, "\n");
  }
  fprintf(gp, "unset multiplot\n");
  if (pclose(gp) != 0) {
    hmn_cli_error("hmn baselines", "gnuplot failed writing '%s'", opt->plot);
    return HMN_EXIT_RUNTIME;
  }
  printf("\nplot: %s (data: %s)\n", opt->plot, data);
  return HMN_EXIT_OK;
}

/* One HMN run: mean reward and the final eta_global. */
static int hmn_bl_eta_run(const hmn_config *cfg, uint64_t steps, double *reward, double *eta) {
  hmn_agent *agent = NULL;
  hmn_error err;
  if (hmn_agent_create(cfg, "ref", &agent, &err) != HMN_OK) {
    hmn_cli_error("hmn baselines", "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  hmn_layer *layer = hmn_agent_layer(agent);
  double total = 0.0;
  hmn_window w;
  while (hmn_layer_step_count(layer) < steps) {
    if (hmn_agent_run(agent, steps - hmn_layer_step_count(layer), &w, &err) != HMN_OK) {
      hmn_cli_error("hmn baselines", "seed %llu: %s", (unsigned long long)cfg->seed, err.message);
      hmn_agent_destroy(agent);
      return HMN_EXIT_RUNTIME;
    }
    if (w.complete || hmn_layer_step_count(layer) == steps) total += w.reward * (double)w.steps;
  }
  /* theta's rate: the layer itself may run at a probe point. */
  float el, eg;
  hmn_agent_eta(agent, &el, &eg);
  *reward = total / (double)steps;
  *eta = eg;
  hmn_agent_destroy(agent);
  return HMN_EXIT_OK;
}

/* Mean reward over the seeds; final eta_global per seed into `eta`. */
static int hmn_bl_eta_seeds(const hmn_bl_options *opt, const hmn_config *cfg, bool progress,
                            const char *label, double *mean, double *eta) {
  double sum = 0.0;
  for (uint64_t s = 0; s < opt->seeds; s++) {
    hmn_config c = *cfg;
    c.seed = cfg->seed + s;
    if (progress)
      fprintf(stderr, "\r%-40s seed %llu/%llu  ", label, (unsigned long long)(s + 1),
              (unsigned long long)opt->seeds);
    double r, e;
    int rc = hmn_bl_eta_run(&c, opt->steps, &r, &e);
    if (rc != HMN_EXIT_OK) return rc;
    sum += r;
    if (eta != NULL) eta[s] = e;
  }
  *mean = sum / (double)opt->seeds;
  return HMN_EXIT_OK;
}

static const char *hmn_bl_mode(const hmn_config *c) {
  return c->meta_mode == HMN_META_ONLINE   ? "online"
         : c->meta_mode == HMN_META_PAIRED ? "paired"
                                           : "lookahead";
}

static int hmn_bl_eta(const hmn_bl_options *opt, const hmn_config *base) {
  static const double factors[] = {0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0};
  enum { N_F = sizeof factors / sizeof factors[0] };
  bool progress = !opt->quiet && isatty(STDERR_FILENO);
  double *eta = calloc(opt->seeds, sizeof(double));
  if (eta == NULL) {
    hmn_cli_error("hmn baselines", "out of memory");
    return HMN_EXIT_RUNTIME;
  }
  int rc = HMN_EXIT_OK;
  printf("hmn baselines --eta-grid: task bandit, %llu seeds (%llu..%llu), %llu steps each\n\n",
         (unsigned long long)opt->seeds, (unsigned long long)base->seed,
         (unsigned long long)(base->seed + opt->seeds - 1), (unsigned long long)opt->steps);
  printf("fixed eta_global (estimator off), eta_local %.3g:\n", (double)base->eta_local);
  double best_r = -1.0, best_eta = base->eta_global;
  for (int f = 0; f < N_F && rc == HMN_EXIT_OK; f++) {
    hmn_config c = *base;
    c.estimator = HMN_EST_OFF;
    c.eta_global = (float)(base->eta_global * factors[f]);
    double m;
    if ((rc = hmn_bl_eta_seeds(opt, &c, progress, "grid", &m, NULL)) != HMN_EXIT_OK) break;
    if (progress) fprintf(stderr, "\r%-70s\r", "");
    printf("  eta_global %-10.4g reward %.4f\n", (double)c.eta_global, m);
    if (m > best_r) {
      best_r = m;
      best_eta = c.eta_global;
    }
  }
  if (rc == HMN_EXIT_OK) printf("  grid optimum: eta_global %.4g (reward %.4f)\n\n", best_eta, best_r);
  static const float locals[] = {1e-6f, 1e-4f, 1e-2f};
  if (rc == HMN_EXIT_OK) printf("eta_local at the optimum (fixed rates):\n");
  for (int l = 0; l < 3 && rc == HMN_EXIT_OK; l++) {
    hmn_config c = *base;
    c.estimator = HMN_EST_OFF;
    c.eta_global = (float)best_eta;
    c.eta_local = locals[l];
    double m;
    if ((rc = hmn_bl_eta_seeds(opt, &c, progress, "eta_local", &m, NULL)) != HMN_EXIT_OK) break;
    if (progress) fprintf(stderr, "\r%-70s\r", "");
    printf("  eta_local %-10.3g reward %.4f\n", (double)locals[l], m);
  }
  static const double starts[] = {0.25, 1.0, 4.0};
  int starts_inside = 0;
  uint64_t seeds_inside = 0;
  if (rc == HMN_EXIT_OK) {
    hmn_config c = *base;
    if (c.estimator == HMN_EST_OFF) {
      c.estimator = HMN_EST_SPSA;
      c.meta_mode = HMN_META_ONLINE;
    }
    char mode[96];
    snprintf(mode, sizeof mode, "%s%s%s", hmn_bl_mode(&c),
             c.meta_mode != HMN_META_PAIRED ? ""
             : c.paired_copies == HMN_PAIRED_RESYNC ? ", copies resynced"
                                                    : ", persistent copies",
             c.meta_mode != HMN_META_PAIRED ? ""
             : c.paired_learn == HMN_PAIRED_WEIGHTED ? ", weighted learning"
                                                     : ", shared learning");
    printf("\nSPSA (%s, meta_a %g, meta_c %g, tunes %s) from x1/4, x1, x4 the optimum: final "
           "eta_global over seeds\n",
           mode, (double)c.meta_a, (double)c.meta_c, c.meta_params == HMN_META_PARAMS_GLOBAL ? "eta_global" : "both rates");
  }
  for (int k = 0; k < 3 && rc == HMN_EXIT_OK; k++) {
    hmn_config c = *base;
    if (c.estimator == HMN_EST_OFF) {
      c.estimator = HMN_EST_SPSA;
      c.meta_mode = HMN_META_ONLINE;
    }
    c.eta_global = (float)(best_eta * starts[k]);
    double m;
    if ((rc = hmn_bl_eta_seeds(opt, &c, progress, "SPSA", &m, eta)) != HMN_EXIT_OK) break;
    if (progress) fprintf(stderr, "\r%-70s\r", "");
    double lg = 0.0, lo = INFINITY, hi = 0.0;
    uint64_t inside = 0;
    for (uint64_t s = 0; s < opt->seeds; s++) {
      lg += log(eta[s]) / (double)opt->seeds;
      lo = fmin(lo, eta[s]);
      hi = fmax(hi, eta[s]);
      inside += eta[s] <= 1.5 * best_eta && eta[s] >= best_eta / 1.5;
    }
    printf("  start %-9.4g end: geometric mean %.4g (x%.2f the optimum), range %.4g .. %.4g, "
           "%llu/%llu seeds within x1.5; reward %.4f\n",
           (double)c.eta_global, exp(lg), exp(lg) / best_eta, lo, hi, (unsigned long long)inside,
           (unsigned long long)opt->seeds, m);
    starts_inside += exp(lg) <= 1.5 * best_eta && exp(lg) >= best_eta / 1.5;
    seeds_inside += inside;
  }
  /* The convergence measure of docs/phase0.md: every start's geometric mean
   * within x1.5 of the grid optimum; the seeds' count shows the spread. */
  if (rc == HMN_EXIT_OK)
    printf("  converged: %s (%d of 3 starts within x1.5 of %.4g by the geometric mean; "
           "%llu of %llu seed runs)\n",
           starts_inside == 3 ? "yes" : "no", starts_inside, best_eta,
           (unsigned long long)seeds_inside, (unsigned long long)(3 * opt->seeds));
  free(eta);
  return rc;
}

int hmn_cmd_baselines(int argc, char **argv) {
  hmn_bl_options opt;
  bool help;
  int rc = hmn_bl_parse(&opt, argc, argv, &help);
  if (rc != HMN_EXIT_OK) return rc;
  if (help) {
    fputs(hmn_baselines_help, stdout);
    return HMN_EXIT_OK;
  }
  hmn_config base;
  if ((rc = hmn_bl_base(&opt, &base)) != HMN_EXIT_OK) return rc;
  if (opt.eta_grid) return hmn_bl_eta(&opt, &base);
  hmn_bl_row rows[HMN_BL_MAX_HMN + HMN_BASELINE_COUNT];
  memset(rows, 0, sizeof rows);
  int n_rows = 0;
  if (!opt.no_hmn) {
    snprintf(rows[0].name, sizeof rows[0].name, "hmn (%s)",
             opt.config_path != NULL ? "config" : "preset");
    rows[0].cfg = base;
    n_rows = 1;
    for (int k = 0; k < opt.n_hmn; k++, n_rows++)
      if ((rc = hmn_bl_variant(opt.hmn[k], &base, &rows[n_rows])) != HMN_EXIT_OK) return rc;
    for (int r = 0; r < n_rows; r++) rows[r].is_hmn = true;
  }
  for (int b = 0; b < HMN_BASELINE_COUNT; b++, n_rows++) {
    snprintf(rows[n_rows].name, sizeof rows[n_rows].name, "%s", hmn_baseline_name(b));
    rows[n_rows].cfg = base;
    rows[n_rows].baseline = b;
  }
  uint64_t n_bins = opt.steps / HMN_BL_BIN;
  bool progress = !opt.quiet && isatty(STDERR_FILENO);
  for (int r = 0; r < n_rows; r++) {
    rows[r].mean = calloc(opt.seeds, sizeof(double));
    rows[r].bins = calloc(n_bins, sizeof(double));
    rows[r].eta = calloc(n_bins, sizeof(double));
    if (rows[r].mean == NULL || rows[r].bins == NULL || rows[r].eta == NULL) {
      hmn_cli_error("hmn baselines", "out of memory");
      rc = HMN_EXIT_RUNTIME;
      goto done;
    }
  }
  double *bins = calloc(n_bins, sizeof(double));
  if (bins == NULL) {
    hmn_cli_error("hmn baselines", "out of memory");
    rc = HMN_EXIT_RUNTIME;
    goto done;
  }
  for (int r = 0; r < n_rows && rc == HMN_EXIT_OK; r++) {
    for (uint64_t s = 0; s < opt.seeds; s++) {
      hmn_config cfg = rows[r].cfg;
      cfg.seed = base.seed + s;
      if (progress)
        fprintf(stderr, "\rrow %d/%d, seed %llu/%llu: %-28s", r + 1, n_rows,
                (unsigned long long)(s + 1), (unsigned long long)opt.seeds, rows[r].name);
      if (rows[r].is_hmn) {
        if ((rc = hmn_bl_hmn_run(&rows[r], &cfg, opt.steps, &rows[r].mean[s])) != HMN_EXIT_OK) break;
      } else {
        hmn_error err;
        if (hmn_baseline_run(&cfg, rows[r].baseline, 0, opt.steps, HMN_BL_BIN, bins,
                             &rows[r].mean[s], &err) != HMN_OK) {
          hmn_cli_error("hmn baselines", "%s: %s", rows[r].name, err.message);
          rc = HMN_EXIT_RUNTIME;
          break;
        }
        for (uint64_t b = 0; b < n_bins; b++) rows[r].bins[b] += bins[b];
      }
    }
  }
  free(bins);
  if (progress) fprintf(stderr, "\r%-70s\r", "");
  if (rc != HMN_EXIT_OK) goto done;

  int first_base = n_rows - HMN_BASELINE_COUNT;
  double oracle = hmn_bl_stat_of(rows[first_base + HMN_BASELINE_ORACLE].mean, opt.seeds).mean;
  double random = hmn_bl_stat_of(rows[first_base + HMN_BASELINE_RANDOM].mean, opt.seeds).mean;
  printf("hmn baselines: task bandit (%s, switch every %d steps), %llu seeds (%llu..%llu), %llu "
         "steps each, every method on the same draws\n",
         base.bandit == HMN_BANDIT_SWITCHING ? "switching" : "stationary", base.switch_period,
         (unsigned long long)opt.seeds, (unsigned long long)base.seed,
         (unsigned long long)(base.seed + opt.seeds - 1), (unsigned long long)opt.steps);
  printf("gap: share of (oracle - random) closed, from the means over seeds; recovery: steps "
         "after a switch to 90%% of the plateau (mean, worst)\n\n");
  printf("%-30s  %-17s  %-7s  %-16s  %s\n", "method", "reward", "gap %", "recovery", "meta");
  for (int r = 0; r < n_rows; r++) {
    hmn_bl_stat st = hmn_bl_stat_of(rows[r].mean, opt.seeds);
    char rec[32] = "", meta[96] = "";
    if (rows[r].is_hmn) {
      double worst, mean = hmn_bl_recovery(rows[r].bins, n_bins, opt.seeds, &rows[r].cfg, &worst);
      if (!isnan(mean)) snprintf(rec, sizeof rec, "%.0f, %.0f", mean, worst);
      const hmn_config *c = &rows[r].cfg;
      snprintf(meta, sizeof meta, "%s%s, %llu task steps/seed",
               c->estimator == HMN_EST_OFF ? "fixed eta" : "SPSA ",
               c->estimator == HMN_EST_OFF ? "" : hmn_bl_mode(c),
               (unsigned long long)(opt.steps + rows[r].probes / opt.seeds));
    }
    printf("%-30s  %.4f +- %.4f  %6.1f   %-16s  %s\n", rows[r].name, st.mean, st.sd,
           100.0 * (st.mean - random) / (oracle - random), rec, meta);
  }
  if (opt.plot != NULL) rc = hmn_bl_plot(&opt, rows, n_rows, &base);
done:
  for (int r = 0; r < n_rows; r++) {
    free(rows[r].mean);
    free(rows[r].bins);
    free(rows[r].eta);
  }
  return rc;
}
