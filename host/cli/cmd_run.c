/*
 * cmd_run.c - `hmn run`: the closed loop (hmn_agent) of a layer, its task,
 * the neuromodulator sources and the meta-learner, from a config or resumed
 * from a checkpoint; progress, per-window CSV, checkpoints, summary.
 */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char hmn_run_help[] =
    "usage: hmn run [options]\n"
    "\n"
    "Runs a layer of Hybrid Modulated Neurons in a closed loop with a task and\n"
    "prints a summary. The default is the switching contextual bandit with the\n"
    "learning rates tuned by SPSA (config keys task, estimator; hmn config --keys).\n"
    "\n"
    "options:\n"
    "  --task NAME             task driving the layer: bandit or stream (default:\n"
    "                          the config's key task, bandit)\n"
    "  --config FILE           INI config file (see hmn config --defaults)\n"
    "  --set KEY=VALUE         override one config key; may be repeated\n"
    "  --steps N               live steps this invocation runs (default: 20000)\n"
    "  --seed S                run seed (overrides the config's seed)\n"
    "  --backend NAME          ref (the golden model), opencl (OpenCL devices),\n"
    "                          opencl-fpga (the FPGA kernel through OpenCL) or\n"
    "                          xrt[:SEL] (an Alveo card; hmn devices); default:\n"
    "                          ref for the bandit and a resume, else opencl\n"
    "                          where an OpenCL device exists\n"
    "  --device SEL            OpenCL device: index or part of its name, see\n"
    "                          hmn devices (default: $HMN_DEVICE, else a GPU)\n"
    "  --csv FILE              one row per completed window: step, reward, regret,\n"
    "                          eta_local, eta_global, g_mean (flushed per row)\n"
    "  --checkpoint FILE       write a checkpoint here at the end\n"
    "  --checkpoint-every N    also write it after every N-th window (windows of\n"
    "                          meta_window steps, counted from step 0)\n"
    "  --resume FILE           continue from a checkpoint (its config and step, on\n"
    "                          the backend that wrote it unless --backend or\n"
    "                          --device says otherwise); cannot be combined with\n"
    "                          --config, --set or --seed\n"
    "  --record VARS           record variables every --record-every steps, one\n"
    "                          .npy file each in --record-dir: state arrays (W,\n"
    "                          psi_f, z, c, ...; W[a:b] for rows a..b-1), eta,\n"
    "                          g_mean, reward (mean per step since the last sample)\n"
    "  --record-every N        steps between samples (default: 100)\n"
    "  --record-dir DIR        folder of the .npy files (default: record)\n"
    "  --plot FILE.png         draw the run with gnuplot: per window, reward with\n"
    "                          the random-arm and oracle references and eta (bandit),\n"
    "                          or mean G and weight statistics (stream)\n"
    "  --json                  print the summary as one JSON object\n"
    "  --quiet                 no progress line\n"
    "  --help                  this text\n"
    "\n"
    "SIGINT or SIGTERM stops the run after the current step: the checkpoint and\n"
    "the CSV are written as at the end, the summary is printed, and the exit code\n"
    "is 130 (SIGINT) or 143 (SIGTERM). A second signal exits at once.\n";

#define HMN_RUN_MAX_SETS 256
#define HMN_RUN_DEFAULT_STEPS 20000

typedef struct {
  const char *task;
  const char *config_path;
  const char *sets[HMN_RUN_MAX_SETS];
  int n_sets;
  uint64_t steps;
  uint64_t seed;
  bool seed_given;
  const char *backend;
  const char *device;
  const char *csv;
  const char *checkpoint;
  uint64_t checkpoint_every;
  const char *resume;
  bool quiet;
  const char *record;
  uint64_t record_every;
  const char *record_dir;
  const char *plot;
  bool json;
} hmn_run_options;

static int hmn_run_parse(hmn_run_options *opt, int argc, char **argv, bool *help) {
  hmn_cli_args args;
  hmn_cli_args_init(&args, "hmn run", argc, argv);
  memset(opt, 0, sizeof *opt);
  opt->steps = HMN_RUN_DEFAULT_STEPS;
  opt->record_every = 100;
  opt->record_dir = "record";
  *help = false;
  while (hmn_cli_more(&args)) {
    if (hmn_cli_flag(&args, "--help") || hmn_cli_flag(&args, "-h")) {
      *help = true;
    } else if (hmn_cli_flag(&args, "--json")) {
      opt->json = true;
    } else if (hmn_cli_flag(&args, "--quiet")) {
      opt->quiet = true;
    } else if (hmn_cli_option(&args, "--task")) {
      opt->task = args.value;
    } else if (hmn_cli_option(&args, "--config")) {
      opt->config_path = args.value;
    } else if (hmn_cli_option(&args, "--set")) {
      if (opt->n_sets == HMN_RUN_MAX_SETS) {
        hmn_cli_error(args.command, "too many --set options (at most %d)", HMN_RUN_MAX_SETS);
        return HMN_EXIT_USAGE;
      }
      opt->sets[opt->n_sets++] = args.value;
    } else if (hmn_cli_option(&args, "--steps")) {
      hmn_cli_u64(&args, "--steps", &opt->steps);
    } else if (hmn_cli_option(&args, "--seed")) {
      opt->seed_given = hmn_cli_u64(&args, "--seed", &opt->seed);
    } else if (hmn_cli_option(&args, "--backend")) {
      opt->backend = args.value;
    } else if (hmn_cli_option(&args, "--device")) {
      opt->device = args.value;
    } else if (hmn_cli_option(&args, "--csv")) {
      opt->csv = args.value;
    } else if (hmn_cli_option(&args, "--checkpoint")) {
      opt->checkpoint = args.value;
    } else if (hmn_cli_option(&args, "--checkpoint-every")) {
      hmn_cli_u64(&args, "--checkpoint-every", &opt->checkpoint_every);
    } else if (hmn_cli_option(&args, "--record")) {
      opt->record = args.value;
    } else if (hmn_cli_option(&args, "--record-every")) {
      hmn_cli_u64(&args, "--record-every", &opt->record_every);
    } else if (hmn_cli_option(&args, "--plot")) {
      opt->plot = args.value;
    } else if (hmn_cli_option(&args, "--record-dir")) {
      opt->record_dir = args.value;
    } else if (hmn_cli_option(&args, "--resume")) {
      opt->resume = args.value;
    } else if (!args.usage_error) {
      hmn_cli_unknown(&args);
    }
  }
  if (args.usage_error) return HMN_EXIT_USAGE;
  if (opt->resume != NULL && (opt->config_path != NULL || opt->n_sets > 0 || opt->seed_given)) {
    hmn_cli_error(args.command,
                  "--resume takes the config and seed from the checkpoint; drop --config, --set "
                  "and --seed");
    return HMN_EXIT_USAGE;
  }
  if (opt->record != NULL && opt->record_every == 0) {
    hmn_cli_error(args.command, "--record-every must be at least 1");
    return HMN_EXIT_USAGE;
  }
  if (opt->checkpoint_every > 0 && opt->checkpoint == NULL) {
    hmn_cli_error(args.command, "--checkpoint-every needs --checkpoint FILE");
    return HMN_EXIT_USAGE;
  }
  return HMN_EXIT_OK;
}

/* Whether the backend asked for lacks the forward/learn split (ref,
 * opencl and the FPGA backends have it; --device selects an OpenCL
 * device, which has it). */
static bool hmn_run_no_split(const hmn_run_options *opt) {
  return opt->backend != NULL && strcmp(opt->backend, "ref") != 0 &&
         strcmp(opt->backend, "opencl") != 0 && strcmp(opt->backend, "opencl-fpga") != 0 &&
         strcmp(opt->backend, "xrt") != 0;
}

/* Config errors in --set or --task are usage errors (exit 2); in a file
 * they are runtime errors (exit 1), as the command line itself was well
 * formed. --task is the key `task`, applied after the --set options. */
static int hmn_run_build_config_from(const hmn_run_options *opt, bool preset, hmn_config *cfg) {
  hmn_error err;
  hmn_config_defaults(cfg);
  if (preset && hmn_cli_apply_preset(cfg, &err) != HMN_OK) {
    hmn_cli_error("hmn run", "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  /* The preset's policy rule learns after the outcome, through the
   * forward/learn split that ref and opencl have; on an FPGA backend the
   * preset runs as the Hebbian rule with the old timing, and says so.
   * --set can still ask for the policy rule there, which the library
   * refuses. */
  if (preset && hmn_run_no_split(opt)) {
    static const char *const fallback[] = {"rule=hebbian", "action=argmax", "credit=late",
                                           "meta_mode=online"};
    for (size_t k = 0; k < sizeof fallback / sizeof fallback[0]; k++)
      if (hmn_config_set_pair(cfg, fallback[k], &err) != HMN_OK) {
        hmn_cli_error("hmn run", "%s", err.message);
        return HMN_EXIT_RUNTIME;
      }
  }
  if (opt->config_path != NULL && hmn_config_load_file(cfg, opt->config_path, &err) != HMN_OK) {
    hmn_cli_error("hmn run", "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  for (int k = 0; k < opt->n_sets; k++) {
    if (hmn_config_set_pair(cfg, opt->sets[k], &err) != HMN_OK) {
      hmn_cli_error("hmn run", "--set %s: %s", opt->sets[k], err.message);
      return HMN_EXIT_USAGE;
    }
  }
  if (opt->task != NULL && hmn_config_set(cfg, "task", opt->task, &err) != HMN_OK) {
    hmn_cli_error("hmn run", "--task %s: %s", opt->task, err.message);
    return HMN_EXIT_USAGE;
  }
  if (opt->seed_given) cfg->seed = opt->seed;
  if (hmn_config_validate(cfg, &err) != HMN_OK) {
    hmn_cli_error("hmn run", "%s", err.message);
    return opt->n_sets > 0 ? HMN_EXIT_USAGE : HMN_EXIT_RUNTIME;
  }
  return HMN_EXIT_OK;
}

/* Without --config the bandit runs on the Phase-0 preset (preset.c);
 * whether the task is the bandit is known only after --set and --task. */
static int hmn_run_build_config(const hmn_run_options *opt, hmn_config *cfg) {
  if (opt->config_path != NULL) return hmn_run_build_config_from(opt, false, cfg);
  int rc = hmn_run_build_config_from(opt, true, cfg);
  if (rc == HMN_EXIT_OK && cfg->task == HMN_TASK_BANDIT && cfg->rule == HMN_RULE_HEBBIAN &&
      hmn_run_no_split(opt))
    fprintf(stderr, "hmn run: backend %s has no forward/learn split: the Phase-0 preset runs with "
                    "rule=hebbian, action=argmax, credit=late, meta_mode=online (its policy rule needs "
                    "--backend ref "
                    "or opencl)\n",
            opt->backend);
  if (rc != HMN_EXIT_OK || cfg->task == HMN_TASK_BANDIT) return rc;
  return hmn_run_build_config_from(opt, false, cfg);
}

static double hmn_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The backend spec for hmn_agent_create: opencl where a device exists
 * (or one was named), else ref with a note; "opencl:SEL" for --device.
 * The bandit (and a resume, whose task the checkpoint holds) defaults to
 * ref: its rule learns after the outcome through the forward/learn split,
 * which ref has, and a 64 x 4 layer steps faster on the host than a
 * kernel launch takes. */
static int hmn_run_backend(const hmn_run_options *opt, bool host_default, char *buf,
                           size_t size) {
  const char *backend = opt->backend;
  if (backend == NULL && opt->device == NULL && host_default) backend = "ref";
  if (backend == NULL && opt->device == NULL) {
    size_t count = 0;
    hmn_error err;
    if (hmn_opencl_devices(NULL, 0, &count, &err) != HMN_OK || count == 0) {
      fprintf(stderr, "hmn run: no OpenCL device found, using the ref backend\n");
      backend = "ref";
    }
  }
  if (backend == NULL) backend = "opencl";
  if (opt->device != NULL && strcmp(backend, "opencl") != 0) {
    hmn_cli_error("hmn run", "--device selects an OpenCL device; it needs --backend opencl");
    return HMN_EXIT_USAGE;
  }
  int n = opt->device != NULL ? snprintf(buf, size, "%s:%s", backend, opt->device)
                              : snprintf(buf, size, "%s", backend);
  if (n < 0 || (size_t)n >= size) {
    hmn_cli_error("hmn run", "--backend/--device value too long");
    return HMN_EXIT_USAGE;
  }
  return HMN_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* CSV: one row per completed window. Rows are flushed one by one, so a
 * run that dies leaves every finished window on disk. A resumed run keeps
 * the rows of windows that ended at or before the checkpoint's step and
 * drops later ones (written by the interrupted run after its last
 * checkpoint, and about to be written again), so the file ends up as the
 * uninterrupted run's. */

static const char hmn_csv_header[] = "step,reward,regret,eta_local,eta_global,g_mean\n";

static int hmn_csv_row(FILE *f, const hmn_window *w) {
  /* %.9g keeps every bit of a float, so rows of two runs compare equal
   * exactly when their values do. */
  int n = fprintf(f, "%llu,%.9g,%.9g,%.9g,%.9g,%.9g\n", (unsigned long long)w->t, w->reward,
                  w->regret, (double)w->eta_local, (double)w->eta_global, w->g_mean);
  return n < 0 || fflush(f) != 0 ? -1 : 0;
}

/* Rows of an existing file up to step t0, as text; NULL and *len 0 when
 * there is no file. Refuses a file that is not an hmn run CSV. */
static int hmn_csv_keep(const char *path, uint64_t t0, char **kept, size_t *len) {
  *kept = NULL;
  *len = 0;
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    if (errno == ENOENT) return HMN_EXIT_OK;
    hmn_cli_error("hmn run", "cannot read --csv file '%s': %s", path, strerror(errno));
    return HMN_EXIT_RUNTIME;
  }
  char line[512];
  size_t cap = 4096;
  char *buf = malloc(cap);
  int rc = HMN_EXIT_OK;
  if (buf == NULL) {
    hmn_cli_error("hmn run", "out of memory reading '%s'", path);
    fclose(f);
    return HMN_EXIT_RUNTIME;
  }
  bool first = true;
  while (fgets(line, sizeof line, f) != NULL) {
    if (first) {
      first = false;
      if (strcmp(line, hmn_csv_header) != 0) {
        hmn_cli_error("hmn run",
                      "--csv file '%s' exists and is not an hmn run CSV (its first line is not "
                      "the header '%.*s'); not overwriting it on --resume",
                      path, (int)strlen(hmn_csv_header) - 1, hmn_csv_header);
        rc = HMN_EXIT_RUNTIME;
        break;
      }
    } else {
      char *end;
      unsigned long long step = strtoull(line, &end, 10);
      if (end == line || *end != ',' || step > t0) continue;
    }
    size_t n = strlen(line);
    if (*len + n + 1 > cap) {
      char *bigger = realloc(buf, 2 * cap + n);
      if (bigger == NULL) {
        hmn_cli_error("hmn run", "out of memory reading '%s'", path);
        rc = HMN_EXIT_RUNTIME;
        break;
      }
      buf = bigger;
      cap = 2 * cap + n;
    }
    memcpy(buf + *len, line, n);
    *len += n;
  }
  fclose(f);
  if (rc != HMN_EXIT_OK) {
    free(buf);
    *len = 0;
    return rc;
  }
  *kept = buf;
  return HMN_EXIT_OK;
}

/* Open the CSV for this run: a new file with the header, or on resume the
 * kept rows of the old one followed by this run's. */
static FILE *hmn_csv_open(const char *path, bool resumed, uint64_t t0) {
  char *kept = NULL;
  size_t len = 0;
  if (resumed && hmn_csv_keep(path, t0, &kept, &len) != HMN_EXIT_OK) return NULL;
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    hmn_cli_error("hmn run", "cannot write --csv file '%s': %s", path, strerror(errno));
    free(kept);
    return NULL;
  }
  bool ok = len > 0 ? fwrite(kept, 1, len, f) == len : fputs(hmn_csv_header, f) >= 0;
  free(kept);
  if (!ok || fflush(f) != 0) {
    hmn_cli_error("hmn run", "cannot write --csv file '%s': %s", path, strerror(errno));
    fclose(f);
    return NULL;
  }
  return f;
}

/* ------------------------------------------------------------------ */
/* The loop. */

typedef struct {
  uint64_t t_start, t_end;
  uint64_t rewarded_steps; /* steps whose reward is in the sums */
  double reward, regret;   /* sums over this invocation's steps */
  double seconds;          /* in hmn_agent_run, checkpoints and CSV excluded */
} hmn_run_totals;

static void hmn_run_progress(const hmn_window *w, const hmn_run_totals *tot, uint64_t steps,
                             double seconds) {
  uint64_t done = w->t - tot->t_start;
  fprintf(stderr, "\rstep %llu/%llu", (unsigned long long)done, (unsigned long long)steps);
  if (tot->rewarded_steps > 0)
    fprintf(stderr, "  reward %.3f  regret %.3f", tot->reward / (double)tot->rewarded_steps,
            tot->regret / (double)tot->rewarded_steps);
  fprintf(stderr, "  eta_local %.3g  eta_global %.3g  %.0f steps/s  ", (double)w->eta_local,
          (double)w->eta_global, seconds > 0 ? (double)done / seconds : 0.0);
}

static void hmn_run_summary(hmn_agent *agent, const hmn_run_options *opt,
                            const hmn_run_totals *tot) {
  hmn_layer *layer = hmn_agent_layer(agent);
  const hmn_config *cfg = hmn_layer_config(layer);
  uint64_t steps = tot->t_end - tot->t_start;
  uint64_t probe = hmn_agent_probe_steps(agent);
  double synapses = (double)cfg->n_in * (double)cfg->n_out;
  float eta_l, eta_g;
  hmn_agent_eta(agent, &eta_l, &eta_g);
  printf("hmn run: task %s, backend %s (%s), %d inputs x %d neurons, seed %llu\n",
         hmn_task_name(hmn_agent_task(agent)), hmn_layer_backend(layer), hmn_layer_device(layer),
         cfg->n_in, cfg->n_out, (unsigned long long)cfg->seed);
  if (opt->config_path == NULL && opt->resume == NULL && cfg->task == HMN_TASK_BANDIT)
    printf("  config      the Phase-0 preset (hmn config --phase0)%s: rule %s, credit %s, "
           "eta_global by SPSA %s\n",
           opt->n_sets > 0 ? " with --set" : "", cfg->rule == HMN_RULE_POLICY ? "policy" : "hebbian",
           cfg->credit == HMN_CREDIT_NOW ? "now" : "late",
           cfg->meta_mode == HMN_META_ONLINE   ? "online"
           : cfg->meta_mode == HMN_META_PAIRED ? "paired (online, two copies)"
                                               : "lookahead");
  /* Where the config came from: --config of `hmn config --phase0`
   * reproduces a preset run, of `hmn config --defaults` does not. */
  else if (opt->resume != NULL)
    printf("  config      from the checkpoint %s\n", opt->resume);
  else if (opt->config_path != NULL)
    printf("  config      %s%s\n", opt->config_path, opt->n_sets > 0 ? " with --set" : "");
  else if (cfg->task != HMN_TASK_BANDIT)
    printf("  config      defaults%s (no preset for this task)\n", opt->n_sets > 0 ? " + --set" : "");
  printf("  steps       %llu (t %llu -> %llu)", (unsigned long long)steps,
         (unsigned long long)tot->t_start, (unsigned long long)tot->t_end);
  if (probe > 0) printf(", plus %llu lookahead probe steps", (unsigned long long)probe);
  if (hmn_agent_meta_active(agent) && cfg->meta_mode == HMN_META_PAIRED)
    printf(", each on two copies of the layer (one task interaction per step)");
  printf("\n");
  if (tot->rewarded_steps > 0) {
    printf("  reward      %.4f mean per step\n", tot->reward / (double)tot->rewarded_steps);
    printf("  regret      %.4f mean expected regret per step\n",
           tot->regret / (double)tot->rewarded_steps);
    /* The same steps' draws under the oracle and a random policy: the
     * two ends a reward is judged between. */
    double oracle, random;
    hmn_error err;
    if (cfg->task == HMN_TASK_BANDIT &&
        hmn_baseline_run(cfg, HMN_BASELINE_ORACLE, tot->t_start, steps, 0, NULL, &oracle, &err) ==
            HMN_OK &&
        hmn_baseline_run(cfg, HMN_BASELINE_RANDOM, tot->t_start, steps, 0, NULL, &random, &err) ==
            HMN_OK)
      printf("  same draws  oracle %.4f, random %.4f: %.1f%% of the gap closed (hmn baselines "
             "for more)\n",
             oracle, random,
             100.0 * (tot->reward / (double)tot->rewarded_steps - random) / (oracle - random));
  }
  const char *est = hmn_agent_meta_active(agent) ? "tuned by the meta-learner" : "fixed";
  printf("  eta         local %.6g, global %.6g (%s)\n", (double)eta_l, (double)eta_g, est);
  if (tot->seconds > 0 && steps > 0)
    printf("  time        %.3f s, %.1f live steps/s, %.3g synaptic updates/s (SUPS, probes "
           "included)\n",
           tot->seconds, (double)steps / tot->seconds,
           (double)(steps + probe) * synapses / tot->seconds);
  if (opt->csv != NULL) printf("  csv         %s\n", opt->csv);
  if (opt->checkpoint != NULL)
    printf("  checkpoint  %s (t %llu)\n", opt->checkpoint, (unsigned long long)tot->t_end);
}

/* The summary as one JSON object (--json): the same facts as the text,
 * with null for what does not apply. */
static int hmn_run_summary_json(hmn_agent *agent, const hmn_run_options *opt,
                                const hmn_run_totals *tot) {
  hmn_layer *layer = hmn_agent_layer(agent);
  const hmn_config *cfg = hmn_layer_config(layer);
  uint64_t steps = tot->t_end - tot->t_start;
  uint64_t probe = hmn_agent_probe_steps(agent);
  double synapses = (double)cfg->n_in * (double)cfg->n_out;
  float eta_l, eta_g;
  hmn_agent_eta(agent, &eta_l, &eta_g);
  const char *origin = opt->resume != NULL        ? "checkpoint"
                       : opt->config_path != NULL ? "file"
                       : cfg->task == HMN_TASK_BANDIT ? "defaults+phase0"
                                                      : "defaults";
  bool rewarded = tot->rewarded_steps > 0;
  bool timed = tot->seconds > 0 && steps > 0;
  json_t *o = json_object();
  int bad = o == NULL;
#define HMN_SET(key, value) bad |= json_object_set_new(o, key, value) != 0
#define HMN_TEXT_OR_NULL(s) ((s) != NULL ? json_string(s) : json_null())
  if (!bad) {
    HMN_SET("command", json_string("run"));
    HMN_SET("version", json_string(hmn_version()));
    HMN_SET("task", json_string(hmn_task_name(hmn_agent_task(agent))));
    HMN_SET("backend", json_string(hmn_layer_backend(layer)));
    HMN_SET("device", json_string(hmn_layer_device(layer)));
    HMN_SET("n_in", json_integer(cfg->n_in));
    HMN_SET("n_out", json_integer(cfg->n_out));
    HMN_SET("seed", json_integer((json_int_t)cfg->seed));
    HMN_SET("config", json_string(origin));
    HMN_SET("config_file", HMN_TEXT_OR_NULL(opt->resume != NULL ? opt->resume : opt->config_path));
    HMN_SET("t_start", json_integer((json_int_t)tot->t_start));
    HMN_SET("t_end", json_integer((json_int_t)tot->t_end));
    HMN_SET("steps", json_integer((json_int_t)steps));
    HMN_SET("probe_steps", json_integer((json_int_t)probe));
    HMN_SET("reward", rewarded ? json_real(tot->reward / (double)tot->rewarded_steps) : json_null());
    HMN_SET("regret", rewarded ? json_real(tot->regret / (double)tot->rewarded_steps) : json_null());
    HMN_SET("eta_local", json_real((double)eta_l));
    HMN_SET("eta_global", json_real((double)eta_g));
    HMN_SET("eta_tuned", json_boolean(hmn_agent_meta_active(agent)));
    HMN_SET("seconds", json_real(tot->seconds));
    HMN_SET("steps_per_second", timed ? json_real((double)steps / tot->seconds) : json_null());
    HMN_SET("sups", timed ? json_real((double)(steps + probe) * synapses / tot->seconds)
                          : json_null());
    HMN_SET("csv", HMN_TEXT_OR_NULL(opt->csv));
    HMN_SET("checkpoint", HMN_TEXT_OR_NULL(opt->checkpoint));
    HMN_SET("plot", HMN_TEXT_OR_NULL(opt->plot));
    HMN_SET("record_dir", opt->record != NULL ? json_string(opt->record_dir) : json_null());
  }
#undef HMN_SET
#undef HMN_TEXT_OR_NULL
  if (!bad) bad = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(9)) != 0;
  json_decref(o);
  if (bad || fputc('\n', stdout) == EOF) {
    hmn_cli_error("hmn run", "cannot write the JSON summary");
    return HMN_EXIT_RUNTIME;
  }
  return HMN_EXIT_OK;
}

static int hmn_run_loop(hmn_agent *agent, const hmn_run_options *opt) {
  hmn_error err;
  hmn_layer *layer = hmn_agent_layer(agent);
  const uint64_t window = (uint64_t)hmn_layer_config(layer)->meta_window;
  bool progress = !opt->quiet && isatty(STDERR_FILENO);
  hmn_run_totals tot;
  memset(&tot, 0, sizeof tot);
  tot.t_start = hmn_layer_step_count(layer);
  uint64_t t_end = tot.t_start + opt->steps;
  FILE *csv = NULL;
  int rc = HMN_EXIT_OK;
  if (opt->csv != NULL && (csv = hmn_csv_open(opt->csv, opt->resume != NULL, tot.t_start)) == NULL)
    return HMN_EXIT_RUNTIME;
  /* --record: samples at the steps that are multiples of --record-every,
   * the first one before any step when t starts at one. */
  hmn_recorder *rec = NULL;
  hmn_cli_plot_data plot;
  hmn_cli_plot_init(&plot);
  if (opt->plot != NULL && (rc = hmn_cli_plot_check("hmn run")) != HMN_EXIT_OK) goto done;
  double rec_reward = 0.0;
  uint64_t rec_steps = 0;
  if (opt->record != NULL &&
      (hmn_recorder_open(opt->record_dir, opt->record, opt->record_every, layer, &rec, &err) !=
           HMN_OK ||
       hmn_recorder_sample(rec, layer, NAN, &err) != HMN_OK)) {
    hmn_cli_error("hmn run", "--record: %s", err.message);
    rc = HMN_EXIT_RUNTIME;
    goto done;
  }

  /* The window in progress (after a resume) so far, so that only the
   * steps run here enter the totals. */
  hmn_window w;
  if (hmn_agent_run(agent, 0, &w, &err) != HMN_OK) {
    hmn_cli_error("hmn run", "%s", err.message);
    rc = HMN_EXIT_RUNTIME;
    goto done;
  }
  double seen_reward = w.steps > 0 ? w.reward * (double)w.steps : 0.0;
  double seen_regret = w.steps > 0 ? w.regret * (double)w.steps : 0.0;
  uint64_t seen_steps = w.steps;
  double last_report = 0.0;
  /* One step a call, so that a signal stops the run at the next step
   * boundary (resumed runs take the same path, so this changes no bits). */
  while (hmn_layer_step_count(layer) < t_end && hmn_cli_stop_signal() == 0) {
    double t0 = hmn_now();
    if (hmn_agent_run(agent, 1, &w, &err) != HMN_OK) {
      hmn_cli_error("hmn run", "%s", err.message);
      rc = HMN_EXIT_RUNTIME;
      goto done;
    }
    tot.seconds += hmn_now() - t0;
    if (!isnan(w.reward)) {
      /* Sums back from the window's means; the part seen before is
       * taken off while the window is the same one. */
      tot.reward += w.reward * (double)w.steps - seen_reward;
      tot.regret += w.regret * (double)w.steps - seen_regret;
      tot.rewarded_steps += w.steps - seen_steps;
    }
    if (w.complete) {
      seen_reward = seen_regret = 0.0;
      seen_steps = 0;
    } else {
      seen_reward = w.reward * (double)w.steps;
      seen_regret = w.regret * (double)w.steps;
      seen_steps = w.steps;
    }
    if (rec != NULL && hmn_recorder_steps_to_next(rec, w.t) == opt->record_every) {
      uint64_t n = tot.rewarded_steps - rec_steps;
      double mean = n > 0 ? (tot.reward - rec_reward) / (double)n : NAN;
      if (hmn_recorder_sample(rec, layer, mean, &err) != HMN_OK) {
        hmn_cli_error("hmn run", "--record: %s", err.message);
        rc = HMN_EXIT_RUNTIME;
        goto done;
      }
      rec_reward = tot.reward;
      rec_steps = tot.rewarded_steps;
    }
    if (w.complete && opt->plot != NULL &&
        (rc = hmn_cli_plot_add(&plot, agent, &w)) != HMN_EXIT_OK)
      goto done;
    if (w.complete && csv != NULL && hmn_csv_row(csv, &w) != 0) {
      hmn_cli_error("hmn run", "cannot write --csv file '%s': %s", opt->csv, strerror(errno));
      rc = HMN_EXIT_RUNTIME;
      goto done;
    }
    /* Every N-th window from step 0: a resumed run keeps the schedule. */
    if (w.complete && opt->checkpoint_every > 0 && (w.t / window) % opt->checkpoint_every == 0 &&
        hmn_agent_save(agent, opt->checkpoint, &err) != HMN_OK) {
      hmn_cli_error("hmn run", "%s", err.message);
      rc = HMN_EXIT_RUNTIME;
      goto done;
    }
    if (progress) {
      double now = hmn_now();
      if (now - last_report > 0.2 || w.t == t_end) {
        hmn_run_progress(&w, &tot, opt->steps, tot.seconds);
        last_report = now;
      }
    }
  }
  if (progress) fputc('\n', stderr);
  tot.t_end = hmn_layer_step_count(layer);
  if (opt->checkpoint != NULL && hmn_agent_save(agent, opt->checkpoint, &err) != HMN_OK) {
    hmn_cli_error("hmn run", "%s", err.message);
    rc = HMN_EXIT_RUNTIME;
    goto done;
  }
  if (opt->plot != NULL)
    rc = hmn_cli_plot_run(opt->plot, hmn_task_name(hmn_agent_task(agent)), &plot);
  if (rc == HMN_EXIT_OK && opt->json) {
    rc = hmn_run_summary_json(agent, opt, &tot);
  } else if (rc == HMN_EXIT_OK) {
    hmn_run_summary(agent, opt, &tot);
    if (opt->plot != NULL) printf("  plot        %s\n", opt->plot);
  }
  int sig = hmn_cli_stop_signal();
  if (sig != 0) {
    printf("  stopped     by %s after step %llu of %llu\n", sig == SIGINT ? "SIGINT" : "SIGTERM",
           (unsigned long long)(tot.t_end - tot.t_start), (unsigned long long)opt->steps);
    if (rc == HMN_EXIT_OK) rc = 128 + sig;
  }
done:
  hmn_cli_plot_free(&plot);
  if (hmn_recorder_close(rec, &err) != HMN_OK && rc == HMN_EXIT_OK) {
    hmn_cli_error("hmn run", "--record: %s", err.message);
    rc = HMN_EXIT_RUNTIME;
  }
  if (csv != NULL && fclose(csv) != 0 && rc == HMN_EXIT_OK) {
    hmn_cli_error("hmn run", "cannot write --csv file '%s': %s", opt->csv, strerror(errno));
    rc = HMN_EXIT_RUNTIME;
  }
  return rc;
}

int hmn_cmd_run(int argc, char **argv) {
  hmn_run_options opt;
  bool help;
  int rc = hmn_run_parse(&opt, argc, argv, &help);
  if (rc != HMN_EXIT_OK) return rc;
  if (help) {
    fputs(hmn_run_help, stdout);
    return HMN_EXIT_OK;
  }
  /* Outputs are checked now, not after the run. */
  if (opt.checkpoint != NULL &&
      (rc = hmn_cli_check_output("hmn run", "--checkpoint", opt.checkpoint)) != HMN_EXIT_OK)
    return rc;
  if (opt.csv != NULL && (rc = hmn_cli_check_output("hmn run", "--csv", opt.csv)) != HMN_EXIT_OK)
    return rc;
  if (opt.plot != NULL &&
      (rc = hmn_cli_check_output("hmn run", "--plot", opt.plot)) != HMN_EXIT_OK)
    return rc;
  hmn_agent *agent = NULL;
  hmn_error err;
  /* A resumed run stays on the backend that wrote the checkpoint (the
   * continuation is bit-identical there) unless one is asked for. */
  char saved[32] = "";
  if (opt.resume != NULL && opt.backend == NULL && opt.device == NULL) {
    if (hmn_agent_saved_backend(opt.resume, saved, sizeof saved, &err) != HMN_OK) {
      hmn_cli_error("hmn run", "%s", err.message);
      return HMN_EXIT_RUNTIME;
    }
    if (saved[0] != '\0') opt.backend = saved;
  }
  hmn_config cfg;
  if (opt.resume == NULL && (rc = hmn_run_build_config(&opt, &cfg)) != HMN_EXIT_OK) return rc;
  char backend[256];
  bool host_default = opt.resume != NULL || cfg.task == HMN_TASK_BANDIT;
  if ((rc = hmn_run_backend(&opt, host_default, backend, sizeof backend)) != HMN_EXIT_OK) return rc;
  opt.backend = backend;
  if (strncmp(backend, "opencl", 6) == 0) hmn_cli_warn_cache("hmn run");
  hmn_cli_stop_on_signals();
  /* The OpenCL kernels are compiled for each layer size when it is first
   * used (seconds on PoCL) and cached; say so rather than stall silently.
   * Whether this size is in the cache is known only once the layer is
   * built, so the line says both cases. */
  bool building = !opt.quiet && !opt.json && strncmp(opt.backend, "opencl", 6) == 0 &&
                  isatty(STDERR_FILENO);
  if (opt.resume != NULL) {
    if (hmn_agent_load(opt.resume, opt.backend, &agent, &err) != HMN_OK) {
      hmn_cli_error("hmn run", "%s", err.message);
      return err.status == HMN_EBACKEND ? HMN_EXIT_USAGE : HMN_EXIT_RUNTIME;
    }
    const char *saved = hmn_task_name(hmn_agent_task(agent));
    if (opt.task != NULL && strcmp(opt.task, saved) != 0) {
      hmn_cli_error("hmn run", "--task %s: the checkpoint '%s' continues task '%s'", opt.task,
                    opt.resume, saved);
      hmn_agent_destroy(agent);
      return HMN_EXIT_USAGE;
    }
  } else {
    if (building)
      fprintf(stderr,
              "hmn run: preparing the kernels for %dx%d (built on first use, then loaded from "
              "the cache)\n",
              cfg.n_in, cfg.n_out);
    if (hmn_agent_create(&cfg, opt.backend, &agent, &err) != HMN_OK) {
      hmn_cli_error("hmn run", "%s", err.message);
      return err.status == HMN_EBACKEND ? HMN_EXIT_USAGE : HMN_EXIT_RUNTIME;
    }
  }
  rc = hmn_run_loop(agent, &opt);
  hmn_agent_destroy(agent);
  return rc;
}
