/*
 * cmd_ablate.c - `hmn ablate`: the paper's Phase-3 ablations on the
 * bandit. The same runs as `hmn run` (the closed loop, hmn_agent) for a
 * set of variants of one base config, each over several seeds, reported
 * as mean +- sd over the seeds of each run's mean reward and regret.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char hmn_ablate_help[] =
    "usage: hmn ablate [options]\n"
    "\n"
    "Runs the Phase-3 ablations: the closed loop of hmn run (task bandit, SPSA)\n"
    "with every mechanism and every neuromodulator source switched off in turn,\n"
    "all of them off at once (the basic three-factor rule), fixed eta against\n"
    "SPSA, and a random policy, each over several seeds. Prints the mean +- sd\n"
    "over seeds of the mean reward and regret per step; deterministic from the\n"
    "seeds.\n"
    "\n"
    "options:\n"
    "  --seeds N               seeds per variant: seed, seed+1, ... (default: 5)\n"
    "  --steps N               live steps per run (default: 10000)\n"
    "  --config FILE           base config (see hmn config --defaults)\n"
    "  --set KEY=VALUE         override one key of the base config; may be repeated\n"
    "  --csv FILE              also write the table as CSV\n"
    "  --backend NAME          ref or opencl (default: ref, the fastest for these\n"
    "                          small layers on a CPU; results differ from opencl\n"
    "                          only by rare borderline flips)\n"
    "  --device SEL            OpenCL device: index or part of its name\n"
    "  --quiet                 no progress line\n"
    "  --help                  this text\n";

#define HMN_ABLATE_MAX_SETS 256
#define HMN_ABLATE_MAX_KEYS 10

/* A variant: the base config with these keys set. */
typedef struct {
  const char *name;
  const char *sets[HMN_ABLATE_MAX_KEYS]; /* NULL-terminated */
} hmn_variant;

/* The astrocyte pathway is off in the defaults (SPEC section 3, lambda_astro
 * = 0), so it is the one mechanism this table switches on rather than off;
 * 0.1 lets the NE signal move G_j by about as much as the RPE does. */
static const hmn_variant hmn_variants[] = {
    {"full (HMN+SPSA)", {NULL}},
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
    {"three-factor only",
     {"attention=off", "global_attention=off", "astro_lambda=0", "delay_len=1", "stochastic=off",
      "phase_gate=off", "novelty=off", "uncertainty=off", NULL}},
    {"fixed eta", {"estimator=off", NULL}},
    {"SPSA online", {"meta_mode=online", NULL}},
    {"random policy", {"action=random", "estimator=off", NULL}},
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
  bool quiet;
} hmn_ablate_options;

static int hmn_ablate_parse(hmn_ablate_options *opt, int argc, char **argv, bool *help) {
  hmn_cli_args args;
  hmn_cli_args_init(&args, "hmn ablate", argc, argv);
  memset(opt, 0, sizeof *opt);
  opt->seeds = 5;
  opt->steps = 10000;
  *help = false;
  while (hmn_cli_more(&args)) {
    if (hmn_cli_flag(&args, "--help") || hmn_cli_flag(&args, "-h")) {
      *help = true;
    } else if (hmn_cli_flag(&args, "--quiet")) {
      opt->quiet = true;
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
  hmn_layer_get_eta(layer, &out->eta_local, &out->eta_global);
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

typedef struct {
  hmn_stat reward, regret, eta_local, eta_global;
} hmn_ablate_row;

int hmn_cmd_ablate(int argc, char **argv) {
  hmn_ablate_options opt;
  bool help;
  int rc = hmn_ablate_parse(&opt, argc, argv, &help);
  if (rc != HMN_EXIT_OK) return rc;
  if (help) {
    fputs(hmn_ablate_help, stdout);
    return HMN_EXIT_OK;
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
  FILE *csv = NULL;
  if (opt.csv != NULL && (csv = fopen(opt.csv, "w")) == NULL) {
    hmn_cli_error("hmn ablate", "cannot write --csv file '%s': %s", opt.csv, strerror(errno));
    return HMN_EXIT_RUNTIME;
  }
  double *vals = calloc(4 * (size_t)opt.seeds, sizeof(double));
  hmn_ablate_row *rows = calloc(HMN_VARIANT_COUNT, sizeof *rows);
  if (vals == NULL || rows == NULL) {
    hmn_cli_error("hmn ablate", "out of memory for %llu seeds", (unsigned long long)opt.seeds);
    rc = HMN_EXIT_RUNTIME;
    goto done;
  }
  for (size_t v = 0; v < HMN_VARIANT_COUNT; v++) {
    double *rew = vals, *reg = vals + opt.seeds, *el = vals + 2 * opt.seeds,
           *eg = vals + 3 * opt.seeds;
    for (uint64_t s = 0; s < opt.seeds; s++) {
      hmn_config cfg = cfgs[v];
      cfg.seed = base.seed + s;
      if (progress)
        fprintf(stderr, "\rvariant %zu/%zu, seed %llu/%llu: %-24s", v + 1,
                (size_t)HMN_VARIANT_COUNT, (unsigned long long)(s + 1),
                (unsigned long long)opt.seeds, hmn_variants[v].name);
      hmn_ablate_run run;
      if ((rc = hmn_ablate_one(&cfg, backend, opt.steps, &run)) != HMN_EXIT_OK) goto done;
      rew[s] = run.reward;
      reg[s] = run.regret;
      el[s] = run.eta_local;
      eg[s] = run.eta_global;
    }
    rows[v] = (hmn_ablate_row){hmn_ablate_stat(rew, opt.seeds), hmn_ablate_stat(reg, opt.seeds),
                               hmn_ablate_stat(el, opt.seeds), hmn_ablate_stat(eg, opt.seeds)};
  }
  if (progress) fprintf(stderr, "\r%-70s\r", "");

  printf("hmn ablate: task bandit (%s), %llu seeds (%llu..%llu), %llu steps each, backend %s\n",
         base.bandit == HMN_BANDIT_SWITCHING ? "switching" : "stationary",
         (unsigned long long)opt.seeds, (unsigned long long)base.seed,
         (unsigned long long)(base.seed + opt.seeds - 1), (unsigned long long)opt.steps, backend);
  printf(opt.seeds > 1
             ? "mean per step over each run, then mean +- sd over the seeds; eta: final, mean\n\n"
             : "mean per step over the run; eta: final\n\n");
  printf("%-22s  %-17s  %-17s  %-10s  %-10s\n", "variant", "reward", "regret", "eta_local",
         "eta_global");
  for (size_t v = 0; v < HMN_VARIANT_COUNT; v++) {
    const hmn_ablate_row *r = &rows[v];
    if (opt.seeds > 1)
      printf("%-22s  %.4f +- %.4f   %.4f +- %.4f   %-10.3g  %-10.3g\n", hmn_variants[v].name,
             r->reward.mean, r->reward.sd, r->regret.mean, r->regret.sd, r->eta_local.mean,
             r->eta_global.mean);
    else /* one seed: no spread to show */
      printf("%-22s  %-17.4f  %-17.4f  %-10.3g  %-10.3g\n", hmn_variants[v].name,
             r->reward.mean, r->regret.mean, r->eta_local.mean, r->eta_global.mean);
  }
  if (csv != NULL) {
    bool ok = fprintf(csv,
                      "variant,settings,seeds,steps,reward_mean,reward_sd,regret_mean,regret_sd,"
                      "eta_local_mean,eta_global_mean\n") >= 0;
    for (size_t v = 0; v < HMN_VARIANT_COUNT; v++) {
      const hmn_ablate_row *r = &rows[v];
      char settings[512];
      hmn_ablate_settings(&hmn_variants[v], settings, sizeof settings);
      ok = ok && fprintf(csv, "%s,%s,%llu,%llu,%.6f,%.6f,%.6f,%.6f,%.6g,%.6g\n",
                         hmn_variants[v].name, settings, (unsigned long long)opt.seeds,
                         (unsigned long long)opt.steps, r->reward.mean, r->reward.sd,
                         r->regret.mean, r->regret.sd, r->eta_local.mean,
                         r->eta_global.mean) >= 0;
    }
    if (!ok || fflush(csv) != 0) {
      hmn_cli_error("hmn ablate", "cannot write --csv file '%s': %s", opt.csv, strerror(errno));
      rc = HMN_EXIT_RUNTIME;
    } else {
      printf("\ncsv: %s\n", opt.csv);
    }
  }
done:
  if (progress && rc != HMN_EXIT_OK) fputc('\n', stderr);
  if (csv != NULL && fclose(csv) != 0 && rc == HMN_EXIT_OK) {
    hmn_cli_error("hmn ablate", "cannot write --csv file '%s': %s", opt.csv, strerror(errno));
    rc = HMN_EXIT_RUNTIME;
  }
  free(vals);
  free(rows);
  return rc;
}
