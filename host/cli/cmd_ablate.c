/*
 * cmd_ablate.c - `hmn ablate`: the paper's Phase-3 ablations on the
 * bandit. The same runs as `hmn run` (the closed loop, hmn_agent) for a
 * set of variants of one base config (the paper's full rule), each over
 * the same paired seeds; each variant against the full rule by a paired
 * t-test, Holm-corrected over the variants, with the mean difference,
 * Cohen's d_z and the 95% confidence interval. The variants that change
 * the update's scale (attention, global attention, gate) are compared
 * once more at their own tuned eta_global (--tuned), since at the full
 * rule's rate they test the rate, not the mechanism.
 */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char hmn_ablate_help[] =
    "usage: hmn ablate [options]\n"
    "\n"
    "Runs the Phase-3 ablations: the closed loop of hmn run on the bandit with\n"
    "the paper's full rule (the Phase-0 preset with every mechanism on) as the\n"
    "base, every mechanism and neuromodulator source switched off in turn, all\n"
    "of them off at once (the Phase-0 preset), fixed eta, SPSA online and\n"
    "lookahead (the preset's SPSA is paired), the\n"
    "old reward timing, the Hebbian rule and a random policy, each over the same\n"
    "seeds. Each variant is compared with the full rule seed by seed: paired\n"
    "t-test, p Holm-corrected over the variants, mean difference of the reward,\n"
    "Cohen's d_z and the 95% CI. Deterministic from the seeds.\n"
    "\n"
    "options:\n"
    "  --seeds N               paired seeds: seed, seed+1, ... (default: 20)\n"
    "  --steps N               live steps per run (default: 20000)\n"
    "  --tuned                 second table: the full rule and the variants that\n"
    "                          rescale the update (attention, global attention,\n"
    "                          gate), each at its own best fixed eta_global from a\n"
    "                          grid (x1/1024 .. x4) tuned on 5 other seeds\n"
    "  --config FILE           base config (see hmn config --defaults)\n"
    "  --set KEY=VALUE         override one key of the base config; may be repeated\n"
    "  --csv FILE              also write the table as CSV\n"
    "  --json                  print the tables as one JSON object instead\n"
    "  --backend NAME          ref (default) or opencl\n"
    "  --device SEL            OpenCL device: index or part of its name\n"
    "  --quiet                 no progress line\n"
    "  --help                  this text\n";

#define HMN_ABLATE_MAX_SETS 256
#define HMN_ABLATE_MAX_KEYS 12

/* A variant: the base config with these keys set. */
typedef struct {
  const char *name;
  const char *sets[HMN_ABLATE_MAX_KEYS]; /* NULL-terminated */
} hmn_variant;

/* The astrocyte pathway is off in the defaults (SPEC section 3, lambda_astro
 * = 0), so it is the one mechanism this table switches on rather than off;
 * 0.1 lets the NE signal move G_j by about as much as the RPE does. */
static const hmn_variant hmn_variants[] = {
    {"full rule (paper)", {NULL}},
    {"no local attention", {"attention=off", NULL}},
    {"no global attention", {"global_attention=off", NULL}},
    {"+ astrocytes (NE)", {"astro_lambda=0.1", NULL}},
    {"no delays", {"delay_len=1", NULL}},
    {"no slow trace", {"rho_slow=0", NULL}},
    {"no stochastic apply", {"stochastic=off", NULL}},
    {"no phase gate", {"phase_gate=off", NULL}},
    {"no dopamine (RPE)", {"dopamine=off", NULL}},
    {"no novelty (NE)", {"novelty=off", NULL}},
    {"no uncertainty (ACh)", {"uncertainty=off", NULL}},
    {"all off (Phase-0 preset)",
     {"attention=off", "global_attention=off", "delay_len=1", "rho_slow=0", "stochastic=off",
      "phase_gate=off", "novelty=off", "uncertainty=off", "eta_global=128", "temperature=0.2",
      NULL}},
    {"fixed eta", {"estimator=off", NULL}},
    {"SPSA online (alternating windows)", {"meta_mode=online", NULL}},
    {"SPSA lookahead", {"meta_mode=lookahead", NULL}},
    {"credit late (old timing)", {"credit=late", NULL}},
    {"hebbian rule, argmax", {"rule=hebbian", "action=argmax", "meta_mode=online", NULL}},
    {"random policy", {"rule=hebbian", "action=random", "estimator=off", NULL}},
};
#define HMN_VARIANT_COUNT (sizeof hmn_variants / sizeof hmn_variants[0])

typedef struct {
  uint64_t seeds;
  uint64_t steps;
  const char *config_path;
  const char *sets[HMN_ABLATE_MAX_SETS];
  int n_sets;
  const char *csv;
  const char *backend;
  const char *device;
  bool quiet, tuned, json;
} hmn_ablate_options;

static int hmn_ablate_parse(hmn_ablate_options *opt, int argc, char **argv, bool *help) {
  hmn_cli_args args;
  hmn_cli_args_init(&args, "hmn ablate", argc, argv);
  memset(opt, 0, sizeof *opt);
  opt->seeds = 20;
  opt->steps = 20000;
  *help = false;
  while (hmn_cli_more(&args)) {
    if (hmn_cli_flag(&args, "--help") || hmn_cli_flag(&args, "-h")) {
      *help = true;
    } else if (hmn_cli_flag(&args, "--quiet")) {
      opt->quiet = true;
    } else if (hmn_cli_flag(&args, "--tuned")) {
      opt->tuned = true;
    } else if (hmn_cli_flag(&args, "--json")) {
      opt->json = true;
    } else if (hmn_cli_option(&args, "--seeds")) {
      hmn_cli_u64(&args, "--seeds", &opt->seeds);
    } else if (hmn_cli_option(&args, "--steps")) {
      hmn_cli_u64(&args, "--steps", &opt->steps);
    } else if (hmn_cli_option(&args, "--config")) {
      opt->config_path = args.value;
    } else if (hmn_cli_option(&args, "--set")) {
      if (opt->n_sets == HMN_ABLATE_MAX_SETS) {
        hmn_cli_error(args.command, "too many --set options (at most %d)", HMN_ABLATE_MAX_SETS);
        return HMN_EXIT_USAGE;
      }
      opt->sets[opt->n_sets++] = args.value;
    } else if (hmn_cli_option(&args, "--csv")) {
      opt->csv = args.value;
    } else if (hmn_cli_option(&args, "--backend")) {
      opt->backend = args.value;
    } else if (hmn_cli_option(&args, "--device")) {
      opt->device = args.value;
    } else if (!args.usage_error) {
      hmn_cli_unknown(&args);
    }
  }
  if (args.usage_error) return HMN_EXIT_USAGE;
  if (opt->seeds == 0 || opt->steps == 0) {
    hmn_cli_error(args.command, "--seeds and --steps must be at least 1");
    return HMN_EXIT_USAGE;
  }
  return HMN_EXIT_OK;
}

/* The base config: defaults, file, --set; it must have a reward. */
static int hmn_ablate_base(const hmn_ablate_options *opt, hmn_config *cfg) {
  hmn_error err;
  hmn_config_defaults(cfg);
  /* The ablations run on the main job's bandit: the Phase-0 preset
   * unless a config file says otherwise. */
  if (opt->config_path == NULL && hmn_cli_apply_preset(cfg, &err) != HMN_OK) {
    hmn_cli_error("hmn ablate", "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  /* Over the preset, the paper's full rule: the base every variant is
   * compared with. */
  if (opt->config_path == NULL) {
    char paper[512];
    snprintf(paper, sizeof paper, "%s", hmn_cli_phase0_paper());
    for (char *save = NULL, *pair = strtok_r(paper, ",", &save); pair != NULL;
         pair = strtok_r(NULL, ",", &save))
      if (hmn_config_set_pair(cfg, pair, &err) != HMN_OK) {
        hmn_cli_error("hmn ablate", "the paper rule: %s", err.message);
        return HMN_EXIT_RUNTIME;
      }
  }
  if (opt->config_path != NULL && hmn_config_load_file(cfg, opt->config_path, &err) != HMN_OK) {
    hmn_cli_error("hmn ablate", "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  for (int k = 0; k < opt->n_sets; k++) {
    if (hmn_config_set_pair(cfg, opt->sets[k], &err) != HMN_OK) {
      hmn_cli_error("hmn ablate", "--set %s: %s", opt->sets[k], err.message);
      return HMN_EXIT_USAGE;
    }
  }
  if (hmn_config_validate(cfg, &err) != HMN_OK) {
    hmn_cli_error("hmn ablate", "%s", err.message);
    return opt->n_sets > 0 ? HMN_EXIT_USAGE : HMN_EXIT_RUNTIME;
  }
  if (cfg->task != HMN_TASK_BANDIT) {
    hmn_cli_error("hmn ablate", "task '%s' gives no reward to compare; ablations need task=bandit",
                  hmn_task_names()[cfg->task]);
    return HMN_EXIT_USAGE;
  }
  return HMN_EXIT_OK;
}

/* ref by default: the layers are small, a step's launch overhead on an
 * OpenCL device costs more than the step, and the table is about the
 * learning rule, which both backends compute alike. */
static int hmn_ablate_backend(const hmn_ablate_options *opt, char *buf, size_t size) {
  const char *backend = opt->backend != NULL ? opt->backend : opt->device != NULL ? "opencl" : "ref";
  if (opt->device != NULL && strcmp(backend, "opencl") != 0) {
    hmn_cli_error("hmn ablate", "--device selects an OpenCL device; it needs --backend opencl");
    return HMN_EXIT_USAGE;
  }
  int n = opt->device != NULL ? snprintf(buf, size, "%s:%s", backend, opt->device)
                              : snprintf(buf, size, "%s", backend);
  if (n < 0 || (size_t)n >= size) {
    hmn_cli_error("hmn ablate", "--backend/--device value too long");
    return HMN_EXIT_USAGE;
  }
  return HMN_EXIT_OK;
}

/* One run's outcome. */
typedef struct {
  double reward, regret; /* means per step */
  float eta_local, eta_global;
} hmn_ablate_run;

static int hmn_ablate_one(const hmn_config *cfg, const char *backend, uint64_t steps,
                          hmn_ablate_run *out) {
  hmn_agent *agent = NULL;
  hmn_error err;
  if (hmn_agent_create(cfg, backend, &agent, &err) != HMN_OK) {
    hmn_cli_error("hmn ablate", "%s", err.message);
    return err.status == HMN_EBACKEND ? HMN_EXIT_USAGE : HMN_EXIT_RUNTIME;
  }
  hmn_layer *layer = hmn_agent_layer(agent);
  double reward = 0.0, regret = 0.0;
  hmn_window w;
  memset(&w, 0, sizeof w);
  while (hmn_layer_step_count(layer) < steps) {
    if (hmn_agent_run(agent, steps - hmn_layer_step_count(layer), &w, &err) != HMN_OK) {
      hmn_cli_error("hmn ablate", "seed %llu: %s", (unsigned long long)cfg->seed, err.message);
      hmn_agent_destroy(agent);
      return HMN_EXIT_RUNTIME;
    }
    /* A window's means cover all its steps: add them when it completes,
     * and the last, partial one at the end. */
    if (w.complete || hmn_layer_step_count(layer) == steps) {
      reward += w.reward * (double)w.steps;
      regret += w.regret * (double)w.steps;
    }
  }
  out->reward = reward / (double)steps;
  out->regret = regret / (double)steps;
  hmn_layer_get_eta(layer, &out->eta_local, &out->eta_global, NULL);
  hmn_agent_destroy(agent);
  return HMN_EXIT_OK;
}

typedef struct {
  double mean, sd;
} hmn_stat;

/* Mean and sample standard deviation (n - 1; 0 for one value). */
static hmn_stat hmn_ablate_stat(const double *v, uint64_t n) {
  double sum = 0.0, sq = 0.0;
  for (uint64_t i = 0; i < n; i++) sum += v[i];
  double mean = sum / (double)n;
  for (uint64_t i = 0; i < n; i++) sq += (v[i] - mean) * (v[i] - mean);
  return (hmn_stat){mean, n > 1 ? sqrt(sq / (double)(n - 1)) : 0.0};
}

/* The variant's settings as one CSV field: "a=b;c=d", or "defaults". */
static void hmn_ablate_settings(const hmn_variant *v, char *buf, size_t size) {
  size_t len = 0;
  buf[0] = '\0';
  for (int k = 0; v->sets[k] != NULL; k++) {
    int n = snprintf(buf + len, size - len, "%s%s", k > 0 ? ";" : "", v->sets[k]);
    if (n < 0 || (size_t)n >= size - len) break;
    len += (size_t)n;
  }
  if (len == 0) snprintf(buf, size, "defaults");
}

/* Rewards of `cfg` over seeds first_seed .. + n - 1. */
static int hmn_ablate_seeds(const hmn_config *base_cfg, const char *backend, uint64_t first_seed,
                            uint64_t n, uint64_t steps, bool progress, const char *label,
                            double *reward, double *eta_global) {
  for (uint64_t s = 0; s < n; s++) {
    hmn_config cfg = *base_cfg;
    cfg.seed = first_seed + s;
    if (progress)
      fprintf(stderr, "\r%-40s seed %llu/%llu   ", label, (unsigned long long)(s + 1),
              (unsigned long long)n);
    hmn_ablate_run run;
    int rc = hmn_ablate_one(&cfg, backend, steps, &run);
    if (rc != HMN_EXIT_OK) return rc;
    reward[s] = run.reward;
    if (eta_global != NULL) eta_global[s] = run.eta_global;
  }
  return HMN_EXIT_OK;
}

/* Paired tests of each row against row 0, Holm over rows 1 .. n - 1. */
static void hmn_ablate_table(const char *const *names, double *const *reward, int rows,
                             uint64_t seeds, const double *eta, json_t *json) {
  hmn_paired_test tests[32];
  double p[32];
  hmn_error err;
  for (int v = 1; v < rows; v++) {
    if (hmn_paired_t_test(reward[v], reward[0], (int)seeds, &tests[v], &err) != HMN_OK) {
      tests[v] = (hmn_paired_test){(int)seeds, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    }
    p[v - 1] = isnan(tests[v].p) ? 1.0 : tests[v].p;
  }
  hmn_holm_adjust(p, rows - 1);
  if (json != NULL) {
    for (int v = 0; v < rows; v++) {
      hmn_stat st = hmn_ablate_stat(reward[v], seeds);
      json_t *row = json_object();
      json_object_set_new(row, "variant", json_string(names[v]));
      json_object_set_new(row, "reward_mean", json_real(st.mean));
      json_object_set_new(row, "reward_sd", json_real(st.sd));
      if (eta != NULL) json_object_set_new(row, "eta_global", json_real(eta[v]));
      if (v > 0) {
        const hmn_paired_test *t = &tests[v];
        json_object_set_new(row, "diff", isnan(t->mean) ? json_null() : json_real(t->mean));
        json_object_set_new(row, "ci_lo", isnan(t->ci_lo) ? json_null() : json_real(t->ci_lo));
        json_object_set_new(row, "ci_hi", isnan(t->ci_hi) ? json_null() : json_real(t->ci_hi));
        json_object_set_new(row, "d_z", isnan(t->d_z) ? json_null() : json_real(t->d_z));
        json_object_set_new(row, "p", isnan(t->p) ? json_null() : json_real(t->p));
        json_object_set_new(row, "p_holm", json_real(p[v - 1]));
      }
      json_array_append_new(json, row);
    }
    return;
  }
  printf("%-26s  %-17s  %-9s  %-20s  %-7s  %-9s  %-9s  %s\n", "variant", "reward", "diff",
         "95% CI of diff", "d_z", "p", "p (Holm)", eta != NULL ? "eta_global" : "verdict");
  hmn_stat base = hmn_ablate_stat(reward[0], seeds);
  printf("%-26s  %.4f +- %.4f  %-9s  %-20s  %-7s  %-9s  %-9s  ", names[0], base.mean, base.sd,
         "", "", "", "", "");
  if (eta != NULL) printf("%.4g", eta[0]);
  printf("\n");
  for (int v = 1; v < rows; v++) {
    hmn_stat st = hmn_ablate_stat(reward[v], seeds);
    const hmn_paired_test *t = &tests[v];
    const char *verdict = p[v - 1] >= 0.05 ? "no significant difference"
                          : t->mean > 0.0  ? "better than the full rule"
                                           : "worse than the full rule";
    char ci[48];
    snprintf(ci, sizeof ci, "[%+.4f, %+.4f]", t->ci_lo, t->ci_hi);
    printf("%-26s  %.4f +- %.4f  %+.4f    %-20s  %+6.2f  %-9.2g  %-9.2g  ", names[v], st.mean,
           st.sd, t->mean, ci, t->d_z, t->p, p[v - 1]);
    if (eta != NULL)
      printf("%.4g (%s)", eta[v], verdict);
    else
      printf("%s", verdict);
    printf("\n");
  }
}

/* The rescaling variants at their own tuned rate: the grid's factors of
 * the base eta_global. */
static const double hmn_ablate_grid[] = {1.0 / 1024, 1.0 / 256, 1.0 / 64, 1.0 / 16,
                                         1.0 / 4,    1.0,       4.0};
#define HMN_ABLATE_GRID (sizeof hmn_ablate_grid / sizeof hmn_ablate_grid[0])
#define HMN_ABLATE_TUNE_SEEDS 5
#define HMN_ABLATE_TUNE_OFFSET 1000

static int hmn_ablate_tuned(const hmn_ablate_options *opt, const hmn_config *base,
                            const char *backend, bool progress, json_t *json) {
  static const hmn_variant scaled[] = {
      {"full rule (paper)", {NULL}},
      {"no local attention", {"attention=off", NULL}},
      {"no global attention", {"global_attention=off", NULL}},
      {"no phase gate", {"phase_gate=off", NULL}},
      {"none of the three", {"attention=off", "global_attention=off", "phase_gate=off", NULL}},
  };
  enum { ROWS = sizeof scaled / sizeof scaled[0] };
  const char *names[ROWS];
  double *reward[ROWS] = {NULL};
  double eta[ROWS], tune[HMN_ABLATE_TUNE_SEEDS];
  int rc = HMN_EXIT_OK;
  for (int v = 0; v < ROWS && rc == HMN_EXIT_OK; v++) {
    names[v] = scaled[v].name;
    hmn_config cfg = *base;
    hmn_error err;
    cfg.estimator = HMN_EST_OFF;
    for (int k = 0; scaled[v].sets[k] != NULL; k++)
      if (hmn_config_set_pair(&cfg, scaled[v].sets[k], &err) != HMN_OK) {
        hmn_cli_error("hmn ablate", "%s", err.message);
        return HMN_EXIT_RUNTIME;
      }
    double best = -1.0;
    for (size_t g = 0; g < HMN_ABLATE_GRID && rc == HMN_EXIT_OK; g++) {
      hmn_config c = cfg;
      c.eta_global = (float)(base->eta_global * hmn_ablate_grid[g]);
      char label[80];
      snprintf(label, sizeof label, "tuning %s, eta_global %.3g", scaled[v].name,
               (double)c.eta_global);
      rc = hmn_ablate_seeds(&c, backend, base->seed + HMN_ABLATE_TUNE_OFFSET,
                            HMN_ABLATE_TUNE_SEEDS, opt->steps, progress, label, tune, NULL);
      double m = hmn_ablate_stat(tune, HMN_ABLATE_TUNE_SEEDS).mean;
      if (rc == HMN_EXIT_OK && m > best) {
        best = m;
        eta[v] = c.eta_global;
      }
    }
    if (rc != HMN_EXIT_OK) break;
    cfg.eta_global = (float)eta[v];
    if ((reward[v] = calloc(opt->seeds, sizeof(double))) == NULL) {
      hmn_cli_error("hmn ablate", "out of memory");
      rc = HMN_EXIT_RUNTIME;
      break;
    }
    rc = hmn_ablate_seeds(&cfg, backend, base->seed, opt->seeds, opt->steps, progress,
                          scaled[v].name, reward[v], NULL);
  }
  if (progress) fprintf(stderr, "\r%-70s\r", "");
  if (rc == HMN_EXIT_OK && json != NULL) {
    hmn_ablate_table(names, reward, ROWS, opt->seeds, eta, json);
  } else if (rc == HMN_EXIT_OK) {
    printf("\nat their own rate: fixed eta_global, the best of x1/1024 .. x4 the base's on seeds "
           "%llu..%llu (mean reward), then compared on the paired seeds\n\n",
           (unsigned long long)(base->seed + HMN_ABLATE_TUNE_OFFSET),
           (unsigned long long)(base->seed + HMN_ABLATE_TUNE_OFFSET + HMN_ABLATE_TUNE_SEEDS - 1));
    hmn_ablate_table(names, reward, ROWS, opt->seeds, eta, NULL);
  }
  for (int v = 0; v < ROWS; v++) free(reward[v]);
  return rc;
}

int hmn_cmd_ablate(int argc, char **argv) {
  hmn_ablate_options opt;
  bool help;
  int rc = hmn_ablate_parse(&opt, argc, argv, &help);
  if (rc != HMN_EXIT_OK) return rc;
  if (help) {
    fputs(hmn_ablate_help, stdout);
    return HMN_EXIT_OK;
  }
  if (opt.seeds < 2) {
    hmn_cli_error("hmn ablate", "--seeds must be at least 2 for the paired tests");
    return HMN_EXIT_USAGE;
  }
  char backend[256];
  if ((rc = hmn_ablate_backend(&opt, backend, sizeof backend)) != HMN_EXIT_OK) return rc;
  hmn_config base;
  if ((rc = hmn_ablate_base(&opt, &base)) != HMN_EXIT_OK) return rc;
  /* Every variant's config must be valid before the first run: a typo
   * should not cost the minutes of the variants before it. */
  hmn_config cfgs[HMN_VARIANT_COUNT];
  for (size_t v = 0; v < HMN_VARIANT_COUNT; v++) {
    hmn_error err;
    cfgs[v] = base;
    for (int k = 0; hmn_variants[v].sets[k] != NULL; k++) {
      if (hmn_config_set_pair(&cfgs[v], hmn_variants[v].sets[k], &err) != HMN_OK) {
        hmn_cli_error("hmn ablate", "variant '%s': %s", hmn_variants[v].name, err.message);
        return HMN_EXIT_RUNTIME;
      }
    }
    if (hmn_config_validate(&cfgs[v], &err) != HMN_OK) {
      hmn_cli_error("hmn ablate", "variant '%s' of this base config: %s", hmn_variants[v].name,
                    err.message);
      return HMN_EXIT_USAGE;
    }
  }
  bool progress = !opt.quiet && isatty(STDERR_FILENO);
  json_t *doc = NULL, *table = NULL, *tuned = NULL;
  FILE *csv = NULL;
  if (opt.csv != NULL && (csv = fopen(opt.csv, "w")) == NULL) {
    hmn_cli_error("hmn ablate", "cannot write --csv file '%s': %s", opt.csv, strerror(errno));
    return HMN_EXIT_RUNTIME;
  }
  double *vals = calloc(2 * HMN_VARIANT_COUNT * (size_t)opt.seeds, sizeof(double));
  double *reward[HMN_VARIANT_COUNT], *eta_g[HMN_VARIANT_COUNT];
  const char *names[HMN_VARIANT_COUNT];
  if (vals == NULL) {
    hmn_cli_error("hmn ablate", "out of memory for %llu seeds", (unsigned long long)opt.seeds);
    rc = HMN_EXIT_RUNTIME;
    goto done;
  }
  for (size_t v = 0; v < HMN_VARIANT_COUNT; v++) {
    names[v] = hmn_variants[v].name;
    reward[v] = vals + 2 * v * opt.seeds;
    eta_g[v] = reward[v] + opt.seeds;
    rc = hmn_ablate_seeds(&cfgs[v], backend, base.seed, opt.seeds, opt.steps, progress, names[v],
                          reward[v], eta_g[v]);
    if (rc != HMN_EXIT_OK) goto done;
  }
  if (progress) fprintf(stderr, "\r%-70s\r", "");

  if (opt.json) {
    doc = json_object();
    table = json_array();
    json_object_set_new(doc, "task", json_string("bandit"));
    json_object_set_new(doc, "bandit", json_string(base.bandit == HMN_BANDIT_SWITCHING
                                                       ? "switching"
                                                       : "stationary"));
    json_object_set_new(doc, "seeds", json_integer((json_int_t)opt.seeds));
    json_object_set_new(doc, "first_seed", json_integer((json_int_t)base.seed));
    json_object_set_new(doc, "steps", json_integer((json_int_t)opt.steps));
    json_object_set_new(doc, "backend", json_string(backend));
    json_object_set_new(doc, "test", json_string("paired t-test, Holm over the variants"));
    hmn_ablate_table(names, reward, (int)HMN_VARIANT_COUNT, opt.seeds, NULL, table);
    json_object_set_new(doc, "variants", table);
  } else {
    printf("hmn ablate: task bandit (%s), %llu paired seeds (%llu..%llu), %llu steps each, backend "
           "%s\n",
           base.bandit == HMN_BANDIT_SWITCHING ? "switching" : "stationary",
           (unsigned long long)opt.seeds, (unsigned long long)base.seed,
           (unsigned long long)(base.seed + opt.seeds - 1), (unsigned long long)opt.steps, backend);
    printf("base: %s; meta-learning %s%s\n",
           opt.config_path != NULL ? "the config file" : "the paper's full rule over the Phase-0 preset",
           base.estimator == HMN_EST_OFF ? "off" : "SPSA ",
           base.estimator == HMN_EST_OFF       ? ""
           : base.meta_mode == HMN_META_ONLINE ? "online"
           : base.meta_mode == HMN_META_PAIRED ? "paired"
                                               : "lookahead");
    printf("reward: mean per step of a run, mean +- sd over seeds; diff: variant - full rule, "
           "paired by seed; p: two-sided paired t-test, Holm over the %zu variants\n\n",
           (size_t)HMN_VARIANT_COUNT - 1);
    hmn_ablate_table(names, reward, (int)HMN_VARIANT_COUNT, opt.seeds, NULL, NULL);
  }
  if (csv != NULL) {
    bool ok = fprintf(csv, "variant,settings,seed,steps,reward,eta_global\n") >= 0;
    for (size_t v = 0; v < HMN_VARIANT_COUNT; v++) {
      char settings[512];
      hmn_ablate_settings(&hmn_variants[v], settings, sizeof settings);
      for (uint64_t s = 0; s < opt.seeds; s++)
        ok = ok && fprintf(csv, "%s,%s,%llu,%llu,%.6f,%.6g\n", names[v], settings,
                           (unsigned long long)(base.seed + s), (unsigned long long)opt.steps,
                           reward[v][s], eta_g[v][s]) >= 0;
    }
    if (!ok || fflush(csv) != 0) {
      hmn_cli_error("hmn ablate", "cannot write --csv file '%s': %s", opt.csv, strerror(errno));
      rc = HMN_EXIT_RUNTIME;
    } else {
      if (!opt.json) printf("\ncsv: %s\n", opt.csv);
    }
  }
  if (rc == HMN_EXIT_OK && opt.tuned) {
    if (doc != NULL) tuned = json_array();
    rc = hmn_ablate_tuned(&opt, &base, backend, progress, tuned);
    if (doc != NULL) json_object_set_new(doc, "tuned", tuned);
  }
  if (rc == HMN_EXIT_OK && doc != NULL) {
    json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fputc('\n', stdout);
  }
done:
  if (progress && rc != HMN_EXIT_OK) fputc('\n', stderr);
  if (csv != NULL && fclose(csv) != 0 && rc == HMN_EXIT_OK) {
    hmn_cli_error("hmn ablate", "cannot write --csv file '%s': %s", opt.csv, strerror(errno));
    rc = HMN_EXIT_RUNTIME;
  }
  json_decref(doc);
  free(vals);
  return rc;
}
