/*
 * cmd_bench.c - `hmn bench`: synaptic updates per second of the full step
 * (SPEC section 9) at several sizes and on several backends, with the
 * per-kernel breakdown, host overhead, the bytes a step must move against
 * a bandwidth roof measured on the same device in the same run, memory
 * over the run, and energy from a real meter or the reason there is none.
 * Prints a table, or one JSON array (--json); draws a figure with gnuplot
 * (--plot); sets the numbers against a peer's (--peer).
 */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char hmn_bench_help[] =
    "usage: hmn bench [options]\n"
    "\n"
    "Measures the full HMN step (every mechanism on, delays on) and reports, per\n"
    "backend and size: median synaptic updates per second (SUPS = N_in*N_out*steps\n"
    "/ seconds of stepping; kernel build and upload are timed apart), time per\n"
    "step, per-kernel device time, host overhead, the bytes a step must move,\n"
    "achieved GB/s and its fraction of the memory bandwidth measured on the same\n"
    "device by a STREAM-style probe, process memory before and after, and energy\n"
    "from a real meter (RAPL, NVML, Alveo XMC) or why it was not measured.\n"
    "\n"
    "options:\n"
    "  --size NxM          N_in x N_out (N alone: N x N); may be repeated\n"
    "                      (default: 256x256 1024x1024 2048x2048 4096x4096)\n"
    "  --backend NAME      opencl, ref, opencl-fpga or xrt; may be repeated (default:\n"
    "                      opencl where an OpenCL device exists, else ref)\n"
    "  --device SEL        OpenCL device: index or part of its name (hmn devices)\n"
    "  --config FILE       layer config over the bench's (hmn config --defaults\n"
    "                      with astro_lambda=0.1, inhibitory_fraction=0.2)\n"
    "  --set KEY=VALUE     override one config key; may be repeated (the sizes\n"
    "                      set n_in and n_out)\n"
    "  --rule NAME         the step with a rule family (docs/rules/): hebbian (the\n"
    "                      default), stdp, triplet, bcm, or hebbian with hetero\n"
    "                      (hetero_ratio = 0.1) or scaling (scaling = on); applied\n"
    "                      before --set\n"
    "  --steps N           steps per timed repeat (default: as many as take\n"
    "                      --seconds, from a calibration run)\n"
    "  --seconds S         target length of one repeat for automatic steps (0.5)\n"
    "  --repeats N         timed repeats; the median is reported (default: 5)\n"
    "  --warmup N          untimed steps first (default: 3)\n"
    "  --batch N           steps to a call of hmn_layer_step_many, as for inputs\n"
    "                      known in advance (default: 16, which the opencl backend\n"
    "                      runs as one kernel launch); 1 steps one at a time with\n"
    "                      hmn_layer_step, as a closed loop must\n"
    "  --no-profile        skip the paired passes (per-kernel times, host overhead)\n"
    "  --probe-mib N       size of each bandwidth probe array in MiB (default: 256)\n"
    "  --no-probe          skip the bandwidth probe (no roofline fraction)\n"
    "  --meter SPEC        energy meter: auto (default: RAPL for CPUs, NVML for\n"
    "                      NVIDIA GPUs, XMC for Alveo cards), none, rapl,\n"
    "                      nvml[:INDEX], xmc[:PCI]\n"
    "  --model CARD        print the FPGA throughput model's prediction for CARD\n"
    "                      (u250, u280, u55c) at each size instead of measuring;\n"
    "                      labelled a model, never a measurement\n"
    "  --watts W           nominal power in watts, printed as nominal (it is never\n"
    "                      reported as measured)\n"
    "  --peer FILE         a peer's results (scripts/peer_torch.py --json): adds\n"
    "                      hmn's SUPS over the peer's at each size\n"
    "  --json              print one JSON array, one object per configuration\n"
    "  --save FILE.json    also write that JSON array to FILE.json\n"
    "  --plot FILE.png     draw SUPS against synapse count with gnuplot\n"
    "  --quiet             no progress lines on stderr\n"
    "  --help              this text\n"
    "\n"
    "Host overhead: after the timed repeats, --repeats pairs of passes of the same\n"
    "steps, one unprofiled and one profiled right after it; per pair (wall time of\n"
    "the unprofiled pass - the kernels' device time in the profiled one) / that\n"
    "wall time, and the median of the pairs is reported. Input uploads count as\n"
    "overhead. A pair's passes are still two, so on a busy machine it can come\n"
    "out negative; it is printed as measured. The JSON also has every pair's\n"
    "value and the profiled passes' own share (profiled_host_overhead_fraction),\n"
    "which includes the cost of collecting the events.\n"
    "\n"
    "Environment: HMN_SYSFS_ROOT replaces /sys for the RAPL and XMC meters.\n";

#define HMN_BENCH_MAX_SIZES 64
#define HMN_BENCH_MAX_BACKENDS 8
#define HMN_BENCH_MAX_SETS 256

typedef struct {
  int n_in[HMN_BENCH_MAX_SIZES], n_out[HMN_BENCH_MAX_SIZES];
  int n_sizes;
  const char *backends[HMN_BENCH_MAX_BACKENDS];
  int n_backends;
  const char *device;
  const char *config_path;
  const char *sets[HMN_BENCH_MAX_SETS];
  int n_sets;
  const char *rule; /* --rule NAME, or NULL */
  uint64_t steps; /* 0: automatic */
  double seconds;
  uint64_t repeats, warmup;
  uint64_t batch; /* steps per hmn_layer_step_many call */
  bool profile, probe;
  uint64_t probe_mib;
  const char *meter;
  const char *model; /* --model CARD, or NULL */
  double watts; /* NAN: not given */
  const char *peer;
  const char *plot;
  const char *save;
  bool json, quiet;
} hmn_bench_options;

/* What is measured once per backend: the bandwidth roof and the meter. */
typedef struct {
  const char *name; /* the backend: "opencl", "ref" */
  char spec[256];   /* for hmn_layer_create: "opencl", "opencl:SEL", "ref" */
  bool probed;
  json_t *probe;  /* the probe's result, or NULL */
  char probe_note[HMN_ERROR_MESSAGE_MAX + 64];
  double roof_gbps; /* NAN without a probe */
  bool metered;
  hmn_meter *meter;
  char energy_note[HMN_ERROR_MESSAGE_MAX + 64]; /* the source, or why none */
} hmn_bench_backend;

static double hmn_bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- options ---- */

static bool hmn_bench_parse_size(const char *text, int *n_in, int *n_out) {
  char *end = NULL;
  errno = 0;
  long a = strtol(text, &end, 10), b = a;
  if (end == text || errno != 0) return false;
  if (*end == 'x' || *end == 'X') {
    const char *second = end + 1;
    b = strtol(second, &end, 10);
    if (end == second || errno != 0) return false;
  }
  if (*end != '\0' || a < 1 || b < 1 || a > 65536 || b > 65536) return false;
  *n_in = (int)a;
  *n_out = (int)b;
  return true;
}

static bool hmn_bench_parse_double(hmn_cli_args *args, const char *name, double *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(args->value, &end);
  if (errno != 0 || end == args->value || *end != '\0' || !(v > 0.0) || !isfinite(v)) {
    hmn_cli_error(args->command, "%s must be a positive number, got '%s'", name, args->value);
    args->usage_error = true;
    return false;
  }
  *out = v;
  return true;
}

/* The config setting that --rule NAME stands for, or NULL for an unknown
 * name. */
static const char *hmn_bench_rule_setting(const char *name) {
  static const char *const rules[][2] = {
      {"hebbian", "rule=hebbian"}, {"stdp", "rule=stdp"},         {"triplet", "rule=triplet"},
      {"bcm", "rule=bcm"},         {"hetero", "hetero_ratio=0.1"}, {"scaling", "scaling=on"}};
  for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++)
    if (strcmp(name, rules[k][0]) == 0) return rules[k][1];
  return NULL;
}

/* The layer's rule family as the table and the JSON name it: the rule,
 * then +hetero and +scaling where those options are on. */
static void hmn_bench_rule_label(const hmn_config *cfg, char *out, size_t size) {
  static const char *const names[] = {"hebbian", "policy", "stdp", "triplet", "bcm"};
  const char *rule = cfg->rule >= 0 && cfg->rule < 5 ? names[cfg->rule] : "?";
  snprintf(out, size, "%s%s%s", rule, cfg->hetero_ratio != 0.0f ? "+hetero" : "",
           cfg->scaling ? "+scaling" : "");
}

static int hmn_bench_parse(hmn_bench_options *opt, int argc, char **argv, bool *help) {
  hmn_cli_args args;
  hmn_cli_args_init(&args, "hmn bench", argc, argv);
  memset(opt, 0, sizeof *opt);
  opt->seconds = 0.5;
  opt->repeats = 5;
  opt->warmup = 3;
  opt->batch = 16;
  opt->profile = opt->probe = true;
  opt->probe_mib = 256;
  opt->meter = "auto";
  opt->watts = NAN;
  *help = false;
  while (hmn_cli_more(&args)) {
    if (hmn_cli_flag(&args, "--help") || hmn_cli_flag(&args, "-h")) {
      *help = true;
    } else if (hmn_cli_flag(&args, "--json")) {
      opt->json = true;
    } else if (hmn_cli_flag(&args, "--quiet")) {
      opt->quiet = true;
    } else if (hmn_cli_flag(&args, "--no-profile")) {
      opt->profile = false;
    } else if (hmn_cli_flag(&args, "--no-probe")) {
      opt->probe = false;
    } else if (hmn_cli_option(&args, "--size")) {
      if (opt->n_sizes == HMN_BENCH_MAX_SIZES) {
        hmn_cli_error(args.command, "too many --size options (at most %d)", HMN_BENCH_MAX_SIZES);
        return HMN_EXIT_USAGE;
      }
      if (!hmn_bench_parse_size(args.value, &opt->n_in[opt->n_sizes], &opt->n_out[opt->n_sizes])) {
        hmn_cli_error(args.command, "--size must be NxM or N with 1 <= N, M <= 65536, got '%s'",
                      args.value);
        return HMN_EXIT_USAGE;
      }
      opt->n_sizes++;
    } else if (hmn_cli_option(&args, "--backend")) {
      if (opt->n_backends == HMN_BENCH_MAX_BACKENDS) {
        hmn_cli_error(args.command, "too many --backend options (at most %d)",
                      HMN_BENCH_MAX_BACKENDS);
        return HMN_EXIT_USAGE;
      }
      opt->backends[opt->n_backends++] = args.value;
    } else if (hmn_cli_option(&args, "--device")) {
      opt->device = args.value;
    } else if (hmn_cli_option(&args, "--config")) {
      opt->config_path = args.value;
    } else if (hmn_cli_option(&args, "--set")) {
      if (opt->n_sets == HMN_BENCH_MAX_SETS) {
        hmn_cli_error(args.command, "too many --set options (at most %d)", HMN_BENCH_MAX_SETS);
        return HMN_EXIT_USAGE;
      }
      opt->sets[opt->n_sets++] = args.value;
    } else if (hmn_cli_option(&args, "--rule")) {
      if (hmn_bench_rule_setting(args.value) == NULL) {
        hmn_cli_error(args.command,
                      "--rule must be hebbian, stdp, triplet, bcm, hetero or scaling, got '%s'",
                      args.value);
        return HMN_EXIT_USAGE;
      }
      opt->rule = args.value;
    } else if (hmn_cli_option(&args, "--steps")) {
      hmn_cli_u64_in(&args, "--steps", 1, HMN_BENCH_MAX_STEPS, &opt->steps);
    } else if (hmn_cli_option(&args, "--seconds")) {
      hmn_bench_parse_double(&args, "--seconds", &opt->seconds);
    } else if (hmn_cli_option(&args, "--repeats")) {
      hmn_cli_u64_in(&args, "--repeats", 1, 1000, &opt->repeats);
    } else if (hmn_cli_option(&args, "--batch")) {
      hmn_cli_u64_in(&args, "--batch", 1, HMN_BENCH_MAX_BATCH, &opt->batch);
    } else if (hmn_cli_option(&args, "--warmup")) {
      hmn_cli_u64_in(&args, "--warmup", 0, HMN_BENCH_MAX_STEPS, &opt->warmup);
    } else if (hmn_cli_option(&args, "--probe-mib")) {
      hmn_cli_u64_in(&args, "--probe-mib", 1, 65536, &opt->probe_mib);
    } else if (hmn_cli_option(&args, "--meter")) {
      opt->meter = args.value;
    } else if (hmn_cli_option(&args, "--model")) {
      if (!hmn_cli_model_card_known(args.value)) {
        hmn_cli_error(args.command, "--model must be u250, u280 or u55c, got '%s'", args.value);
        return HMN_EXIT_USAGE;
      }
      opt->model = args.value;
    } else if (hmn_cli_option(&args, "--watts")) {
      hmn_bench_parse_double(&args, "--watts", &opt->watts);
    } else if (hmn_cli_option(&args, "--peer")) {
      opt->peer = args.value;
    } else if (hmn_cli_option(&args, "--plot")) {
      opt->plot = args.value;
    } else if (hmn_cli_option(&args, "--save")) {
      opt->save = args.value;
    } else if (!args.usage_error) {
      hmn_cli_unknown(&args);
    }
  }
  if (args.usage_error) return HMN_EXIT_USAGE;
  if (opt->n_sizes == 0) {
    static const int defaults[] = {256, 1024, 2048, 4096};
    for (int k = 0; k < 4; k++) opt->n_in[k] = opt->n_out[k] = defaults[k];
    opt->n_sizes = 4;
  }
  return HMN_EXIT_OK;
}

/* The bench's layer: the defaults with every mechanism of SPEC section 3
 * doing work (the astrocyte term and inhibitory neurons are off by
 * default), then --config, then each --set. Errors in --set are usage
 * errors, as in hmn run. */
static int hmn_bench_config(const hmn_bench_options *opt, hmn_config *cfg) {
  hmn_error err;
  hmn_config_defaults(cfg);
  cfg->astro_lambda = 0.1f;
  cfg->inhibitory_fraction = 0.2f;
  if (opt->config_path != NULL && hmn_config_load_file(cfg, opt->config_path, &err) != HMN_OK) {
    hmn_cli_error("hmn bench", "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  if (opt->rule != NULL &&
      hmn_config_set_pair(cfg, hmn_bench_rule_setting(opt->rule), &err) != HMN_OK) {
    hmn_cli_error("hmn bench", "--rule %s: %s", opt->rule, err.message);
    return HMN_EXIT_USAGE;
  }
  for (int k = 0; k < opt->n_sets; k++) {
    if (hmn_config_set_pair(cfg, opt->sets[k], &err) != HMN_OK) {
      hmn_cli_error("hmn bench", "--set %s: %s", opt->sets[k], err.message);
      return HMN_EXIT_USAGE;
    }
  }
  for (int s = 0; s < opt->n_sizes; s++) {
    hmn_config sized = *cfg;
    sized.n_in = opt->n_in[s];
    sized.n_out = opt->n_out[s];
    if (hmn_config_validate(&sized, &err) != HMN_OK) {
      hmn_cli_error("hmn bench", "size %dx%d: %s", sized.n_in, sized.n_out, err.message);
      return HMN_EXIT_USAGE;
    }
  }
  return HMN_EXIT_OK;
}

/* ---- measurements (the engine is the library's hmn_bench_layer) ---- */

static json_t *hmn_bench_number(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* The meter for the device a backend runs on (the library's policy:
 * hmn_meter_open_for_layer), or the note why there is none. */
static void hmn_bench_open_meter(const hmn_bench_options *opt, hmn_bench_backend *be,
                                 hmn_layer *layer) {
  be->metered = true;
  if (strcmp(opt->meter, "none") == 0) {
    snprintf(be->energy_note, sizeof be->energy_note, "not measured: --meter none");
    return;
  }
  hmn_error err;
  if (hmn_meter_open_for_layer(layer, opt->meter, &be->meter, &err) != HMN_OK) {
    snprintf(be->energy_note, sizeof be->energy_note, "not measured: %s", err.message);
    be->meter = NULL;
    return;
  }
  snprintf(be->energy_note, sizeof be->energy_note, "%s", hmn_meter_source(be->meter));
}

static void hmn_bench_run_probe(const hmn_bench_options *opt, hmn_bench_backend *be,
                                hmn_layer *layer) {
  be->probed = true;
  be->roof_gbps = NAN;
  if (!opt->probe) {
    snprintf(be->probe_note, sizeof be->probe_note, "no probe: --no-probe");
    return;
  }
  hmn_bandwidth bw;
  hmn_error err;
  if (hmn_bandwidth_probe(layer, opt->probe_mib << 20, 5, &bw, &err) != HMN_OK) {
    snprintf(be->probe_note, sizeof be->probe_note, "no probe: %s", err.message);
    return;
  }
  be->roof_gbps = bw.best_gbps;
  be->probe = json_object();
  json_object_set_new(be->probe, "where", json_string(bw.where));
  json_object_set_new(be->probe, "array_bytes", json_integer((json_int_t)bw.array_bytes));
  json_object_set_new(be->probe, "copy_gbps", hmn_bench_number(bw.copy_gbps));
  json_object_set_new(be->probe, "triad_gbps", hmn_bench_number(bw.triad_gbps));
  snprintf(be->probe_note, sizeof be->probe_note,
           "STREAM-style probe on %s, 3 x %llu MiB: copy %.1f GB/s, triad %.1f GB/s", bw.where,
           (unsigned long long)(bw.array_bytes >> 20), bw.copy_gbps, bw.triad_gbps);
}

/* What a record needs to be read later without guessing: which hmn
 * (version and source commit), when, on which host, which device driver,
 * and the whole layer config as INI text. */
static void hmn_bench_provenance(json_t *o, hmn_layer *layer) {
  json_object_set_new(o, "hmn_version", json_string(hmn_version()));
  json_object_set_new(o, "commit", json_string(HMN_GIT_COMMIT));
  char when[32] = "";
  time_t now = time(NULL);
  struct tm utc;
  if (gmtime_r(&now, &utc) != NULL) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
  json_object_set_new(o, "time", json_string(when));
  struct utsname u;
  char host[3 * sizeof u.nodename + 8] = "unknown";
  if (uname(&u) == 0) snprintf(host, sizeof host, "%s (%s %s)", u.nodename, u.sysname, u.machine);
  json_object_set_new(o, "host", json_string(host));
  /* The driver of the layer's OpenCL device; none for the host model. */
  json_t *driver = json_null();
  hmn_device_info dev[16];
  size_t n = 0;
  hmn_error err;
  if (strncmp(hmn_layer_backend(layer), "opencl", 6) == 0 &&
      hmn_opencl_devices(dev, 16, &n, &err) == HMN_OK) {
    for (size_t k = 0; k < n && k < 16; k++)
      if (strcmp(dev[k].name, hmn_layer_device(layer)) == 0) {
        json_decref(driver);
        driver = json_string(dev[k].driver);
        break;
      }
  }
  json_object_set_new(o, "driver", driver);
  char *ini = NULL;
  json_object_set_new(o, "config",
                      hmn_config_to_string(hmn_layer_config(layer), &ini, &err) == HMN_OK
                          ? json_string(ini)
                          : json_null());
  free(ini);
}

/* Everything measured for one backend and size, into a JSON object. */
static json_t *hmn_bench_record(const hmn_bench_options *opt, const hmn_bench_backend *be,
                                hmn_layer *layer, double setup_seconds,
                                const hmn_bench_result *s) {
  const hmn_config *cfg = hmn_layer_config(layer);
  double synapses = (double)cfg->n_in * (double)cfg->n_out;
  double step_median = s->seconds_per_step_median;
  double sups_median = s->sups_median;
  hmn_step_traffic traffic;
  hmn_step_traffic_of(cfg, &traffic);
  double gbps = 1e-9 * (double)traffic.total / step_median;

  json_t *o = json_object();
  hmn_bench_provenance(o, layer);
  json_object_set_new(o, "backend", json_string(hmn_layer_backend(layer)));
  json_object_set_new(o, "device", json_string(hmn_layer_device(layer)));
  char rule[64];
  hmn_bench_rule_label(cfg, rule, sizeof rule);
  json_object_set_new(o, "rule", json_string(rule));
  json_object_set_new(o, "n_in", json_integer(cfg->n_in));
  json_object_set_new(o, "n_out", json_integer(cfg->n_out));
  json_object_set_new(o, "synapses", json_integer((json_int_t)cfg->n_in * cfg->n_out));
  json_object_set_new(o, "steps", json_integer((json_int_t)s->steps));
  json_object_set_new(o, "repeats", json_integer((json_int_t)opt->repeats));
  json_object_set_new(o, "warmup_steps", json_integer((json_int_t)opt->warmup));
  json_object_set_new(o, "batch", json_integer((json_int_t)opt->batch));
  json_object_set_new(o, "setup_seconds", hmn_bench_number(setup_seconds));
  json_object_set_new(o, "sups_median", hmn_bench_number(sups_median));
  json_object_set_new(o, "sups_min", hmn_bench_number(s->sups_min));
  json_object_set_new(o, "sups_max", hmn_bench_number(s->sups_max));
  json_object_set_new(o, "seconds_per_step_median", hmn_bench_number(step_median));

  /* Per-kernel device time from the profiled passes. Host overhead is
   * what a user pays beyond the kernels: per pair of passes, the wall
   * time of the unprofiled pass (run as a user's steps are) less the
   * kernels' device time of the profiled pass right after it, over that
   * wall time; the median of the pairs is reported. Uploads ("write
   * inputs") are host-driven transfers, so they count as overhead. A
   * profiled pass's own wall time is not the measure: on PoCL collecting
   * the events costs host time that an unprofiled step never pays, and the
   * gaps between commands change with it. The two passes of a pair are
   * still two, so on a busy machine the difference can come out negative:
   * it is reported as measured, never clamped. The profiled passes' share
   * (wall less device, over their wall) is reported beside it. */
  json_t *kernels = json_array();
  for (size_t k = 0; k < s->n_prof; k++) {
    const hmn_kernel_profile *p = &s->prof[k];
    double per = s->prof_steps > 0 ? p->seconds / (double)s->prof_steps : NAN;
    json_t *entry = json_object();
    json_object_set_new(entry, "name", json_string(p->name));
    json_object_set_new(entry, "calls", json_integer((json_int_t)p->calls));
    json_object_set_new(entry, "seconds_per_step", hmn_bench_number(per));
    json_object_set_new(entry, "share_of_step",
                        hmn_bench_number(per * (double)s->prof_steps / s->prof_seconds));
    json_array_append_new(kernels, entry);
  }
  json_object_set_new(o, "kernels", kernels);
  bool profiled = s->n_prof > 0 && s->prof_steps > 0;
  double device_step = s->device_seconds_per_step;
  double profiled_step = profiled ? s->prof_seconds / (double)s->prof_steps : NAN;
  json_t *pairs = json_array();
  for (size_t k = 0; k < s->n_pairs; k++)
    json_array_append_new(pairs, hmn_bench_number(s->pair_overhead[k]));
  double overhead = s->host_overhead_fraction;
  json_object_set_new(o, "profiled_seconds_per_step", hmn_bench_number(profiled_step));
  json_object_set_new(o, "device_seconds_per_step", hmn_bench_number(device_step));
  json_object_set_new(o, "host_overhead_seconds_per_step",
                      hmn_bench_number(overhead * step_median));
  json_object_set_new(o, "host_overhead_fraction", hmn_bench_number(overhead));
  json_object_set_new(o, "host_overhead_fraction_pairs", pairs);
  json_object_set_new(o, "profiled_host_overhead_fraction",
                      hmn_bench_number((profiled_step - device_step) / profiled_step));

  json_object_set_new(o, "bytes_per_step", json_integer((json_int_t)traffic.total));
  json_t *parts = json_object();
  json_object_set_new(parts, "synapses", json_integer((json_int_t)traffic.synapses));
  json_object_set_new(parts, "inputs", json_integer((json_int_t)traffic.inputs));
  json_object_set_new(parts, "neurons", json_integer((json_int_t)traffic.neurons));
  json_object_set_new(parts, "modulation", json_integer((json_int_t)traffic.modulation));
  json_object_set_new(o, "bytes_per_step_parts", parts);
  json_object_set_new(o, "achieved_gbps", hmn_bench_number(gbps));
  json_object_set_new(o, "bandwidth_probe", be->probe != NULL ? json_deep_copy(be->probe) : json_null());
  json_object_set_new(o, "roofline_gbps", hmn_bench_number(be->roof_gbps));
  json_object_set_new(o, "roofline_fraction", hmn_bench_number(gbps / be->roof_gbps));
  json_object_set_new(o, "rss_start_bytes",
                      s->rss_start >= 0 ? json_integer(s->rss_start) : json_null());
  json_object_set_new(o, "rss_end_bytes", s->rss_end >= 0 ? json_integer(s->rss_end) : json_null());

  /* Energy only from the meter; a nominal --watts stays apart. */
  double updates = synapses * (double)s->steps * (double)opt->repeats;
  if (s->have_energy) {
    json_object_set_new(o, "energy_joules", hmn_bench_number(s->energy.joules));
    json_object_set_new(o, "energy_source", json_string(be->energy_note));
    json_object_set_new(o, "energy_seconds", hmn_bench_number(s->energy.seconds));
    json_object_set_new(o, "watts", hmn_bench_number(s->energy.watts));
    json_object_set_new(o, "joules_per_step",
                        hmn_bench_number(s->energy.joules / ((double)s->steps * (double)opt->repeats)));
    json_object_set_new(o, "sups_per_watt", hmn_bench_number(updates / s->energy.joules));
  } else {
    char note[HMN_ERROR_MESSAGE_MAX + 64];
    if (s->energy_error[0] != '\0')
      snprintf(note, sizeof note, "not measured: %s", s->energy_error);
    else
      snprintf(note, sizeof note, "%s", be->energy_note);
    json_object_set_new(o, "energy_joules", json_null());
    json_object_set_new(o, "energy_source", json_string(note));
    json_object_set_new(o, "energy_seconds", json_null());
    json_object_set_new(o, "watts", json_null());
    json_object_set_new(o, "joules_per_step", json_null());
    json_object_set_new(o, "sups_per_watt", json_null());
  }
  json_object_set_new(o, "nominal_watts", hmn_bench_number(opt->watts));
  json_object_set_new(o, "sups_per_nominal_watt", hmn_bench_number(sups_median / opt->watts));
  json_object_set_new(o, "peer", json_null());
  json_object_set_new(o, "peer_sups", json_null());
  json_object_set_new(o, "ratio_to_peer", json_null());
  return o;
}

static void hmn_bench_progress(const hmn_bench_options *opt, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void hmn_bench_progress(const hmn_bench_options *opt, const char *fmt, ...) {
  if (opt->quiet) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("hmn bench: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* One backend at one size: create, probe and meter (first time only),
 * then the library's measurement (hmn_bench_layer). */
static int hmn_bench_measure(const hmn_bench_options *opt, hmn_bench_backend *be,
                             const hmn_config *base, int n_in, int n_out, json_t *results) {
  hmn_config cfg = *base;
  cfg.n_in = n_in;
  cfg.n_out = n_out;
  hmn_layer *layer = NULL;
  hmn_bench_result s;
  memset(&s, 0, sizeof s);
  hmn_error err;
  int rc = HMN_EXIT_RUNTIME;

  double t0 = hmn_bench_now();
  if (hmn_layer_create(&cfg, be->spec, &layer, &err) != HMN_OK) {
    hmn_cli_error("hmn bench", "%s %dx%d: %s", be->spec, n_in, n_out, err.message);
    return err.status == HMN_EBACKEND ? HMN_EXIT_USAGE : HMN_EXIT_RUNTIME;
  }
  double setup_seconds = hmn_bench_now() - t0;
  if (!be->probed) {
    if (opt->probe)
      hmn_bench_progress(opt, "%s on %s: measuring memory bandwidth", hmn_layer_backend(layer),
                         hmn_layer_device(layer));
    hmn_bench_run_probe(opt, be, layer);
  }
  if (!be->metered) hmn_bench_open_meter(opt, be, layer);
  hmn_bench_progress(opt, "%s %dx%d: setup %.2f s, measuring %llu repeats", be->spec, n_in, n_out,
                     setup_seconds, (unsigned long long)opt->repeats);

  hmn_bench_spec spec = {.steps = opt->steps,
                         .seconds = opt->seconds,
                         .repeats = opt->repeats,
                         .warmup = opt->warmup,
                         .batch = opt->batch,
                         .profile = opt->profile,
                         .meter = be->meter};
  if (hmn_bench_layer(layer, &spec, &s, &err) != HMN_OK) {
    hmn_cli_error("hmn bench", "%s %dx%d: %s", be->spec, n_in, n_out, err.message);
    goto cleanup;
  }
  hmn_bench_progress(opt, "%s %dx%d: %llu repeats of %llu steps", be->spec, n_in, n_out,
                     (unsigned long long)opt->repeats, (unsigned long long)s.steps);
  json_t *record = hmn_bench_record(opt, be, layer, setup_seconds, &s);
  if (record == NULL) {
    hmn_cli_error("hmn bench", "out of memory");
    goto cleanup;
  }
  json_array_append_new(results, record);
  rc = HMN_EXIT_OK;
cleanup:
  hmn_bench_result_free(&s);
  hmn_layer_destroy(layer);
  return rc;
}

/* ---- the peer ---- */

/* Adds the peer's SUPS at the same size and hmn's ratio over it. */
static int hmn_bench_apply_peer(const char *path, json_t *results, json_t **peer_out) {
  json_error_t jerr;
  json_t *peer = json_load_file(path, 0, &jerr);
  if (peer == NULL) {
    hmn_cli_error("hmn bench", "--peer %s: %s (line %d)", path, jerr.text, jerr.line);
    return HMN_EXIT_RUNTIME;
  }
  if (!json_is_array(peer)) {
    hmn_cli_error("hmn bench", "--peer %s: expected a JSON array of results", path);
    json_decref(peer);
    return HMN_EXIT_RUNTIME;
  }
  size_t i;
  json_t *p;
  json_array_foreach(peer, i, p) {
    if (!json_is_integer(json_object_get(p, "n_in")) || !json_is_integer(json_object_get(p, "n_out")) ||
        !json_is_number(json_object_get(p, "sups_median"))) {
      hmn_cli_error("hmn bench", "--peer %s: entry %zu lacks n_in, n_out or sups_median", path, i);
      json_decref(peer);
      return HMN_EXIT_RUNTIME;
    }
  }
  size_t k;
  json_t *o;
  json_array_foreach(results, k, o) {
    json_int_t n_in = json_integer_value(json_object_get(o, "n_in"));
    json_int_t n_out = json_integer_value(json_object_get(o, "n_out"));
    double sups = json_number_value(json_object_get(o, "sups_median"));
    json_array_foreach(peer, i, p) {
      if (json_integer_value(json_object_get(p, "n_in")) != n_in ||
          json_integer_value(json_object_get(p, "n_out")) != n_out)
        continue;
      double peer_sups = json_number_value(json_object_get(p, "sups_median"));
      const char *label = json_string_value(json_object_get(p, "backend"));
      json_object_set_new(o, "peer", json_string(label != NULL ? label : "peer"));
      json_object_set_new(o, "peer_sups", hmn_bench_number(peer_sups));
      json_object_set_new(o, "ratio_to_peer", hmn_bench_number(sups / peer_sups));
      break;
    }
  }
  *peer_out = peer;
  return HMN_EXIT_OK;
}

/* ---- output ---- */

static double hmn_bench_get(const json_t *o, const char *key) {
  const json_t *v = json_object_get(o, key);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

static void hmn_bench_fmt(char *buf, size_t size, const char *fmt, double v) {
  if (isfinite(v))
    snprintf(buf, size, fmt, v);
  else
    snprintf(buf, size, "-");
}

static void hmn_bench_print_table(const hmn_bench_options *opt, const json_t *results,
                                  const hmn_bench_backend *backends, int n_backends) {
  bool any_peer = false;
  size_t k;
  json_t *o;
  json_array_foreach(results, k, o) any_peer = any_peer || json_is_number(json_object_get(o, "peer_sups"));
  for (int b = 0; b < n_backends; b++) {
    const hmn_bench_backend *be = &backends[b];
    bool header = false;
    json_array_foreach(results, k, o) {
      if (strcmp(json_string_value(json_object_get(o, "backend")),
                 be->name) != 0)
        continue;
      if (!header) {
        printf("%s on %s, rule %s\n", json_string_value(json_object_get(o, "backend")),
               json_string_value(json_object_get(o, "device")),
               json_string_value(json_object_get(o, "rule")));
        printf("  bandwidth roof: %s\n", be->probe_note);
        printf("  energy: %s\n", be->energy_note);
        if (isfinite(opt->watts))
          printf("  nominal power: %g W (given with --watts, not measured)\n", opt->watts);
        printf("\n  %-11s %10s %9s %8s %9s %10s %8s %8s %10s%s\n", "size", "SUPS", "ms/step",
               "setup s", "host ovh", "MB/step", "GB/s", "roofline", "J/step",
               any_peer ? "  vs peer" : "");
        header = true;
      }
      char size[32], sups[16], ms[16], setup[16], ovh[16], mb[16], gbps[16], roof[16], joules[24],
          ratio[24];
      snprintf(size, sizeof size, "%lldx%lld", (long long)json_integer_value(json_object_get(o, "n_in")),
               (long long)json_integer_value(json_object_get(o, "n_out")));
      hmn_bench_fmt(sups, sizeof sups, "%.3g", hmn_bench_get(o, "sups_median"));
      hmn_bench_fmt(ms, sizeof ms, "%.3f", 1e3 * hmn_bench_get(o, "seconds_per_step_median"));
      hmn_bench_fmt(setup, sizeof setup, "%.2f", hmn_bench_get(o, "setup_seconds"));
      hmn_bench_fmt(ovh, sizeof ovh, "%.1f%%", 100.0 * hmn_bench_get(o, "host_overhead_fraction"));
      hmn_bench_fmt(mb, sizeof mb, "%.2f", 1e-6 * hmn_bench_get(o, "bytes_per_step"));
      hmn_bench_fmt(gbps, sizeof gbps, "%.2f", hmn_bench_get(o, "achieved_gbps"));
      hmn_bench_fmt(roof, sizeof roof, "%.0f%%", 100.0 * hmn_bench_get(o, "roofline_fraction"));
      double j = hmn_bench_get(o, "joules_per_step");
      if (isfinite(j))
        snprintf(joules, sizeof joules, "%.3g", j);
      else
        snprintf(joules, sizeof joules, "n/m");
      ratio[0] = '\0';
      if (any_peer) {
        double r = hmn_bench_get(o, "ratio_to_peer");
        if (isfinite(r))
          snprintf(ratio, sizeof ratio, "  %6.2fx", r);
        else
          snprintf(ratio, sizeof ratio, "  %7s", "-");
      }
      printf("  %-11s %10s %9s %8s %9s %10s %8s %8s %10s%s\n", size, sups, ms, setup, ovh, mb, gbps,
             roof, joules, ratio);
    }
    if (!header) continue;
    /* Details per size: kernels, memory, energy. */
    printf("\n");
    json_array_foreach(results, k, o) {
      if (strcmp(json_string_value(json_object_get(o, "backend")),
                 be->name) != 0)
        continue;
      printf("  %lldx%lld: %lld steps x %lld repeats, %lld to a call",
             (long long)json_integer_value(json_object_get(o, "n_in")),
             (long long)json_integer_value(json_object_get(o, "n_out")),
             (long long)json_integer_value(json_object_get(o, "steps")),
             (long long)json_integer_value(json_object_get(o, "repeats")),
             (long long)json_integer_value(json_object_get(o, "batch")));
      double rss0 = hmn_bench_get(o, "rss_start_bytes"), rss1 = hmn_bench_get(o, "rss_end_bytes");
      if (isfinite(rss0) && isfinite(rss1))
        printf(", RSS %.1f -> %.1f MiB (%+.0f KiB)", rss0 / 1048576.0, rss1 / 1048576.0,
               (rss1 - rss0) / 1024.0);
      double w = hmn_bench_get(o, "watts");
      if (isfinite(w))
        printf(", %.3g W measured, %.3g SUPS/W", w, hmn_bench_get(o, "sups_per_watt"));
      if (isfinite(opt->watts))
        printf(", %.3g SUPS/W at the nominal %g W", hmn_bench_get(o, "sups_per_nominal_watt"),
               opt->watts);
      double peer = hmn_bench_get(o, "peer_sups");
      if (isfinite(peer))
        printf(", peer %s %.3g SUPS", json_string_value(json_object_get(o, "peer")), peer);
      printf("\n");
      const json_t *kernels = json_object_get(o, "kernels");
      size_t i;
      const json_t *kern;
      if (json_array_size(kernels) > 0) printf("    device ms/step:");
      json_array_foreach(kernels, i, kern) {
        /* (a command the backend never issued: the input upload where the
         * inputs travel through shared memory) */
        if (json_integer_value(json_object_get(kern, "calls")) == 0) continue;
        printf(" %s %.3f (%.0f%%)", json_string_value(json_object_get(kern, "name")),
               1e3 * hmn_bench_get(kern, "seconds_per_step"),
               100.0 * hmn_bench_get(kern, "share_of_step"));
      }
      if (json_array_size(kernels) > 0)
        printf("; profiled passes %.3f ms/step, %.1f%% outside the kernels\n",
               1e3 * hmn_bench_get(o, "profiled_seconds_per_step"),
               100.0 * hmn_bench_get(o, "profiled_host_overhead_fraction"));
    }
    printf("\n");
  }
  printf("SUPS: synaptic updates per second, median of the repeats. host ovh: share of an\n"
         "unprofiled pass's wall time outside the kernels' device time in the profiled\n"
         "pass right after it, median of --repeats such pairs (the kernel shares are of\n"
         "the profiled passes' wall time).\n"
         "MB/step: bytes the step must move (every state array read once, changed ones\n"
         "written once). roofline: achieved GB/s over the probe's. J/step: n/m = not\n"
         "measured (see energy).\n");
}

/* gnuplot on the PATH, or false. */
static bool hmn_bench_have_gnuplot(void) {
  const char *path = getenv("PATH");
  if (path == NULL) return false;
  char dir[4096];
  while (*path != '\0') {
    size_t n = strcspn(path, ":");
    if (n > 0 && n + 9 < sizeof dir) {
      snprintf(dir, sizeof dir, "%.*s/gnuplot", (int)n, path);
      if (access(dir, X_OK) == 0) return true;
    }
    path += n;
    if (*path == ':') path++;
  }
  return false;
}

/* A gnuplot single-quoted string: a quote is written twice. */
static void hmn_bench_gp_string(FILE *gp, const char *s) {
  fputc('\'', gp);
  for (; *s != '\0'; s++) {
    if (*s == '\'') fputc('\'', gp);
    if (*s != '\n') fputc(*s, gp);
  }
  fputc('\'', gp);
}

/* The series a result belongs to: hmn's by backend and device; the
 * peer's by name alone, as its device text may differ between sizes (the
 * PyTorch peer names the thread count that won there). */
static void hmn_bench_series(const json_t *o, bool peer, char *label, size_t size) {
  const char *backend = json_string_value(json_object_get(o, "backend"));
  const char *device = peer ? NULL : json_string_value(json_object_get(o, "device"));
  snprintf(label, size, "%s%s%s%s%s", peer ? "peer: " : "", backend != NULL ? backend : "?",
           device != NULL ? " (" : "", device != NULL ? device : "", device != NULL ? ")" : "");
}

static int hmn_bench_plot(const char *file, const json_t *results, const json_t *peer) {
  if (!hmn_bench_have_gnuplot()) {
    hmn_cli_error("hmn bench", "--plot needs gnuplot, which is not on the PATH: install the "
                               "Debian package 'gnuplot-nox'");
    return HMN_EXIT_RUNTIME;
  }
  /* The series: one per backend and device of the results, and the peer. */
  const json_t *sets[2] = {results, peer};
  char labels[16][256];
  int n_series = 0;
  for (int set = 0; set < 2; set++) {
    size_t k;
    const json_t *o;
    json_array_foreach(sets[set], k, o) {
      char label[256];
      hmn_bench_series(o, set == 1, label, sizeof label);
      bool seen = false;
      for (int s = 0; s < n_series && !seen; s++) seen = strcmp(labels[s], label) == 0;
      if (!seen && n_series < 16) snprintf(labels[n_series++], sizeof labels[0], "%s", label);
    }
  }
  /* The x range with a factor of 2 to spare on each side: gnuplot warns
   * about, and draws badly, a range of one point. */
  double x_min = INFINITY, x_max = 0.0;
  for (int set = 0; set < 2; set++) {
    size_t k;
    const json_t *o;
    json_array_foreach(sets[set], k, o) {
      double syn = (double)json_integer_value(json_object_get(o, "n_in")) *
                   (double)json_integer_value(json_object_get(o, "n_out"));
      if (syn > 0.0 && syn < x_min) x_min = syn;
      if (syn > x_max) x_max = syn;
    }
  }
  if (!(x_max > 0.0)) {
    hmn_cli_error("hmn bench", "--plot: nothing was measured");
    return HMN_EXIT_RUNTIME;
  }
  FILE *gp = popen("gnuplot", "w");
  if (gp == NULL) {
    hmn_cli_error("hmn bench", "cannot start gnuplot: %s", strerror(errno));
    return HMN_EXIT_RUNTIME;
  }
  fputs("set terminal pngcairo size 960,640 font ',11'\nset output ", gp);
  hmn_bench_gp_string(gp, file);
  fprintf(gp, "\nset xrange [%.17g:%.17g]\n", x_min / 2.0, x_max * 2.0);
  fputs("set logscale xy\nset grid\nset key below\nset format x '%.0s%c'\n"
        "set format y '%.0s%c'\n"
        "set title 'hmn bench: full HMN step'\n"
        "set xlabel 'synapses N_{in} x N_{out} (k = 10^3, M = 10^6)'\n"
        "set ylabel 'synaptic updates per second, median and range of the repeats'\n",
        gp);
  /* Per series: the median with the repeats' range as error bars, and
   * SUPS per watt where a meter measured the energy (never a nominal
   * --watts figure). */
  bool per_watt[16] = {false};
  for (int s = 0; s < n_series; s++) {
    for (int kind = 0; kind < 2; kind++) {
      fprintf(gp, "$%c%d << EOD\n", kind == 0 ? 's' : 'w', s);
      for (int set = 0; set < 2; set++) {
        size_t k;
        const json_t *o;
        json_array_foreach(sets[set], k, o) {
          char label[256];
          hmn_bench_series(o, set == 1, label, sizeof label);
          if (strcmp(label, labels[s]) != 0) continue;
          double syn = (double)json_integer_value(json_object_get(o, "n_in")) *
                       (double)json_integer_value(json_object_get(o, "n_out"));
          double sups = hmn_bench_get(o, "sups_median");
          if (kind == 0 && isfinite(sups) && sups > 0.0) {
            double lo = hmn_bench_get(o, "sups_min"), hi = hmn_bench_get(o, "sups_max");
            if (!(isfinite(lo) && lo > 0.0)) lo = sups;
            if (!(isfinite(hi) && hi > 0.0)) hi = sups;
            fprintf(gp, "%.17g %.17g %.17g %.17g\n", syn, sups, lo, hi);
          }
          double spw = hmn_bench_get(o, "sups_per_watt");
          if (kind == 1 && isfinite(spw) && spw > 0.0) {
            fprintf(gp, "%.17g %.17g\n", syn, spw);
            per_watt[s] = true;
          }
        }
      }
      fputs("EOD\n", gp);
    }
  }
  bool any_watt = false;
  for (int s = 0; s < n_series; s++) any_watt = any_watt || per_watt[s];
  if (any_watt)
    fputs("set logscale y2\nset y2tics\nset format y2 '%.0s%c'\n"
          "set y2label 'SUPS per watt, measured (dashed)'\n",
          gp);
  fputs("plot ", gp);
  for (int s = 0; s < n_series; s++) {
    fprintf(gp, "%s$s%d using 1:2:3:4 with yerrorlines lw 2 pt 7 lc %d title ", s > 0 ? ", " : "",
            s, s + 1);
    hmn_bench_gp_string(gp, labels[s]);
    if (per_watt[s]) {
      fprintf(gp, ", $w%d using 1:2 axes x1y2 with linespoints dt 2 lw 2 pt 6 lc %d title ", s,
              s + 1);
      char title[300];
      snprintf(title, sizeof title, "%s, per watt", labels[s]);
      hmn_bench_gp_string(gp, title);
    }
  }
  fputs("\n", gp);
  int status = pclose(gp);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    hmn_cli_error("hmn bench", "gnuplot failed to draw %s (see its message above)", file);
    return HMN_EXIT_RUNTIME;
  }
  return HMN_EXIT_OK;
}

/* ---- the command ---- */

int hmn_cmd_bench(int argc, char **argv) {
  hmn_bench_options opt;
  bool help;
  int rc = hmn_bench_parse(&opt, argc, argv, &help);
  if (rc != HMN_EXIT_OK) return rc;
  if (help) {
    fputs(hmn_bench_help, stdout);
    return HMN_EXIT_OK;
  }
  hmn_config base;
  if ((rc = hmn_bench_config(&opt, &base)) != HMN_EXIT_OK) return rc;
  if (opt.model != NULL)
    return hmn_cli_bench_model(opt.model, &base, opt.n_in, opt.n_out, opt.n_sizes, opt.json);
  /* Said before measuring, not after minutes of it. */
  if ((opt.save != NULL &&
       (rc = hmn_cli_check_output("hmn bench", "--save", opt.save)) != HMN_EXIT_OK) ||
      (opt.plot != NULL &&
       (rc = hmn_cli_check_output("hmn bench", "--plot", opt.plot)) != HMN_EXIT_OK) ||
      (opt.peer != NULL && (rc = hmn_cli_check_input("hmn bench", "--peer", opt.peer)) != HMN_EXIT_OK))
    return rc;
  if (opt.plot != NULL && !hmn_bench_have_gnuplot()) {
    hmn_cli_error("hmn bench", "--plot needs gnuplot, which is not on the PATH: install the "
                               "Debian package 'gnuplot-nox'");
    return HMN_EXIT_RUNTIME;
  }

  /* Backends as hmn run picks them: opencl where a device exists. */
  if (opt.n_backends == 0) {
    size_t count = 0;
    hmn_error err;
    if (opt.device == NULL &&
        (hmn_opencl_devices(NULL, 0, &count, &err) != HMN_OK || count == 0)) {
      if (!opt.quiet) fprintf(stderr, "hmn bench: no OpenCL device found, using the ref backend\n");
      opt.backends[opt.n_backends++] = "ref";
    } else {
      opt.backends[opt.n_backends++] = "opencl";
    }
  }
  hmn_bench_backend backends[HMN_BENCH_MAX_BACKENDS];
  memset(backends, 0, sizeof backends);
  for (int b = 0; b < opt.n_backends; b++) {
    const char *name = opt.backends[b];
    if (strcmp(name, "opencl") != 0 && strcmp(name, "ref") != 0 &&
        strcmp(name, "opencl-fpga") != 0 && strcmp(name, "xrt") != 0) {
      hmn_cli_error("hmn bench", "unknown backend '%s' (opencl, ref, opencl-fpga or xrt)", name);
      return HMN_EXIT_USAGE;
    }
    backends[b].name = name;
    if (strcmp(name, "opencl") == 0 && opt.device != NULL)
      snprintf(backends[b].spec, sizeof backends[b].spec, "opencl:%s", opt.device);
    else
      snprintf(backends[b].spec, sizeof backends[b].spec, "%s", name);
  }
  if (opt.device != NULL) {
    bool any_opencl = false;
    for (int b = 0; b < opt.n_backends; b++) any_opencl = any_opencl || strcmp(opt.backends[b], "opencl") == 0;
    if (!any_opencl) {
      hmn_cli_error("hmn bench", "--device selects an OpenCL device; it needs --backend opencl");
      return HMN_EXIT_USAGE;
    }
  }

  json_t *results = json_array(), *peer = NULL;
  rc = HMN_EXIT_OK;
  for (int b = 0; b < opt.n_backends; b++) {
    for (int s = 0; s < opt.n_sizes; s++) {
      int one = hmn_bench_measure(&opt, &backends[b], &base, opt.n_in[s], opt.n_out[s], results);
      /* An unknown backend or device fails every size alike. */
      if (one == HMN_EXIT_USAGE) {
        rc = one;
        goto cleanup;
      }
      if (one != HMN_EXIT_OK) rc = one;
    }
  }
  if (opt.peer != NULL) {
    int peer_rc = hmn_bench_apply_peer(opt.peer, results, &peer);
    if (peer_rc != HMN_EXIT_OK) rc = peer_rc;
  }
  if (opt.json) {
    json_dumpf(results, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fputc('\n', stdout);
  } else {
    hmn_bench_print_table(&opt, results, backends, opt.n_backends);
  }
  fflush(stdout);
  if (opt.save != NULL &&
      json_dump_file(results, opt.save, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0) {
    hmn_cli_error("hmn bench", "cannot write %s", opt.save);
    rc = HMN_EXIT_RUNTIME;
  }
  if (opt.plot != NULL) {
    json_t *none = json_array();
    int plot_rc = hmn_bench_plot(opt.plot, results, peer != NULL ? peer : none);
    json_decref(none);
    if (plot_rc != HMN_EXIT_OK)
      rc = plot_rc;
    else if (!opt.quiet)
      fprintf(stderr, "hmn bench: wrote %s\n", opt.plot);
  }
cleanup:
  for (int b = 0; b < opt.n_backends; b++) {
    hmn_meter_close(backends[b].meter);
    json_decref(backends[b].probe);
  }
  json_decref(peer);
  json_decref(results);
  return rc;
}
