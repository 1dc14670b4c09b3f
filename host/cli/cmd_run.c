/*
 * cmd_run.c - `hmn run`: build a layer from a config (or resume one from a
 * checkpoint), drive it with a task, checkpoint as asked, and summarise.
 */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char hmn_run_help[] =
    "usage: hmn run [options]\n"
    "\n"
    "Runs a layer of Hybrid Modulated Neurons on a task and prints a summary.\n"
    "\n"
    "options:\n"
    "  --task NAME             task driving the layer (default: stream)\n"
    "  --config FILE           INI config file (see hmn config --defaults)\n"
    "  --set KEY=VALUE         override one config key; may be repeated\n"
    "  --steps N               steps this invocation runs (default: 1000)\n"
    "  --seed S                run seed (overrides the config's seed)\n"
    "  --backend NAME          opencl or ref (default: opencl where an OpenCL\n"
    "                          device exists, else ref)\n"
    "  --device SEL            OpenCL device: index or part of its name, see\n"
    "                          hmn devices (default: $HMN_DEVICE, else a GPU)\n"
    "  --checkpoint FILE       write a checkpoint here at the end\n"
    "  --checkpoint-every N    also write it whenever the step count is a multiple of N\n"
    "  --resume FILE           continue from a checkpoint (its config and step);\n"
    "                          cannot be combined with --config, --set or --seed\n"
    "  --quiet                 no progress line\n"
    "  --help                  this text\n";

#define HMN_RUN_MAX_SETS 256

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
  const char *checkpoint;
  uint64_t checkpoint_every;
  const char *resume;
  bool quiet;
} hmn_run_options;

static int hmn_run_parse(hmn_run_options *opt, int argc, char **argv, bool *help) {
  hmn_cli_args args;
  hmn_cli_args_init(&args, "hmn run", argc, argv);
  memset(opt, 0, sizeof *opt);
  opt->task = "stream";
  opt->steps = 1000;
  *help = false;
  while (hmn_cli_more(&args)) {
    if (hmn_cli_flag(&args, "--help") || hmn_cli_flag(&args, "-h")) {
      *help = true;
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
    } else if (hmn_cli_option(&args, "--checkpoint")) {
      opt->checkpoint = args.value;
    } else if (hmn_cli_option(&args, "--checkpoint-every")) {
      hmn_cli_u64(&args, "--checkpoint-every", &opt->checkpoint_every);
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
  if (opt->checkpoint_every > 0 && opt->checkpoint == NULL) {
    hmn_cli_error(args.command, "--checkpoint-every needs --checkpoint FILE");
    return HMN_EXIT_USAGE;
  }
  return HMN_EXIT_OK;
}

/* Config errors in --set are usage errors (exit 2); in a file they are
 * runtime errors (exit 1), as the command line itself was well formed. */
static int hmn_run_build_config(const hmn_run_options *opt, hmn_config *cfg) {
  hmn_error err;
  hmn_config_defaults(cfg);
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
  if (opt->seed_given) cfg->seed = opt->seed;
  if (hmn_config_validate(cfg, &err) != HMN_OK) {
    hmn_cli_error("hmn run", "%s", err.message);
    return opt->n_sets > 0 ? HMN_EXIT_USAGE : HMN_EXIT_RUNTIME;
  }
  return HMN_EXIT_OK;
}

static double hmn_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double hmn_mean_abs(const float *v, size_t n) {
  double s = 0.0;
  for (size_t k = 0; k < n; k++) s += fabs((double)v[k]);
  return n > 0 ? s / (double)n : 0.0;
}

static int hmn_run_summary(hmn_layer *layer, const hmn_run_options *opt, uint64_t t_start,
                           double seconds) {
  const hmn_config *cfg = hmn_layer_config(layer);
  size_t n_w = (size_t)cfg->n_in * (size_t)cfg->n_out;
  float *w = malloc(n_w * sizeof(float));
  float *z = malloc((size_t)cfg->n_out * sizeof(float));
  hmn_step_stats stats;
  hmn_error err;
  int rc = HMN_EXIT_RUNTIME;
  if (w == NULL || z == NULL) {
    hmn_cli_error("hmn run", "out of memory for the summary");
    goto done;
  }
  if (hmn_layer_read(layer, HMN_ARRAY_W, w, n_w * sizeof(float), &err) != HMN_OK ||
      hmn_layer_output(layer, z, &err) != HMN_OK || hmn_layer_stats(layer, &stats, &err) != HMN_OK) {
    hmn_cli_error("hmn run", "%s", err.message);
    goto done;
  }
  uint64_t t_end = hmn_layer_step_count(layer);
  uint64_t steps = t_end - t_start;
  float eta_l, eta_g;
  hmn_layer_get_eta(layer, &eta_l, &eta_g);
  printf("hmn run: task %s, backend %s (%s), %d inputs x %d neurons, seed %llu\n", opt->task,
         hmn_layer_backend(layer), hmn_layer_device(layer), cfg->n_in, cfg->n_out,
         (unsigned long long)cfg->seed);
  printf("  steps       %llu (t %llu -> %llu)\n", (unsigned long long)steps,
         (unsigned long long)t_start, (unsigned long long)t_end);
  if (seconds > 0 && steps > 0)
    printf("  time        %.3f s, %.1f steps/s, %.3g synaptic updates/s\n", seconds,
           (double)steps / seconds, (double)steps * (double)n_w / seconds);
  printf("  mean |z|    %.6g\n", hmn_mean_abs(z, (size_t)cfg->n_out));
  printf("  mean |w|    %.6g\n", hmn_mean_abs(w, n_w));
  printf("  last step   %llu of %llu candidate updates applied, mean G %.6g\n",
         (unsigned long long)stats.applied, (unsigned long long)stats.candidates,
         (double)stats.g_mean);
  printf("  eta         local %.6g, global %.6g\n", (double)eta_l, (double)eta_g);
  if (opt->checkpoint != NULL) printf("  checkpoint  %s (t %llu)\n", opt->checkpoint, (unsigned long long)t_end);
  rc = HMN_EXIT_OK;
done:
  free(w);
  free(z);
  return rc;
}

/* The backend spec for hmn_layer_create: opencl where a device exists
 * (or one was named), else ref with a note; "opencl:SEL" for --device. */
static int hmn_run_backend(const hmn_run_options *opt, char *buf, size_t size) {
  const char *backend = opt->backend;
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

static int hmn_run_loop(hmn_layer *layer, hmn_task *task, const hmn_run_options *opt) {
  hmn_error err;
  bool progress = !opt->quiet && isatty(STDERR_FILENO);
  uint64_t t_start = hmn_layer_step_count(layer);
  uint64_t t_end = t_start + opt->steps;
  double started = hmn_now(), last_report = started;
  for (uint64_t t = t_start; t < t_end; t++) {
    hmn_step_input in;
    if (hmn_task_input(task, t, &in, &err) != HMN_OK || hmn_layer_step(layer, &in, &err) != HMN_OK) {
      hmn_cli_error("hmn run", "%s", err.message);
      return HMN_EXIT_RUNTIME;
    }
    if (opt->checkpoint_every > 0 && (t + 1) % opt->checkpoint_every == 0 &&
        hmn_layer_save(layer, opt->checkpoint, &err) != HMN_OK) {
      hmn_cli_error("hmn run", "%s", err.message);
      return HMN_EXIT_RUNTIME;
    }
    if (progress) {
      double now = hmn_now();
      if (now - last_report > 0.2 || t + 1 == t_end) {
        fprintf(stderr, "\rstep %llu/%llu  %.0f steps/s", (unsigned long long)(t + 1 - t_start),
                (unsigned long long)opt->steps, (double)(t + 1 - t_start) / (now - started));
        last_report = now;
      }
    }
  }
  double seconds = hmn_now() - started;
  if (progress) fputc('\n', stderr);
  if (opt->checkpoint != NULL && hmn_layer_save(layer, opt->checkpoint, &err) != HMN_OK) {
    hmn_cli_error("hmn run", "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  return hmn_run_summary(layer, opt, t_start, seconds);
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
  char backend[256];
  if ((rc = hmn_run_backend(&opt, backend, sizeof backend)) != HMN_EXIT_OK) return rc;
  opt.backend = backend;
  hmn_config cfg;
  hmn_layer *layer = NULL;
  hmn_task *task = NULL;
  hmn_error err;
  if (opt.resume != NULL) {
    if (hmn_layer_load(opt.resume, opt.backend, &layer, &err) != HMN_OK) {
      hmn_cli_error("hmn run", "%s", err.message);
      return HMN_EXIT_RUNTIME;
    }
  } else {
    if ((rc = hmn_run_build_config(&opt, &cfg)) != HMN_EXIT_OK) return rc;
    if (hmn_layer_create(&cfg, opt.backend, &layer, &err) != HMN_OK) {
      hmn_cli_error("hmn run", "%s", err.message);
      return err.status == HMN_EBACKEND ? HMN_EXIT_USAGE : HMN_EXIT_RUNTIME;
    }
  }
  if (hmn_task_create(opt.task, hmn_layer_config(layer), &task, &err) != HMN_OK) {
    hmn_cli_error("hmn run", "%s", err.message);
    rc = HMN_EXIT_USAGE;
  } else {
    rc = hmn_run_loop(layer, task, &opt);
  }
  hmn_task_destroy(task);
  hmn_layer_destroy(layer);
  return rc;
}
