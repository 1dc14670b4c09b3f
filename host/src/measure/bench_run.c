/*
 * bench_run.c - timing a layer's steps: warm-up, calibration, timed
 * repeats under an energy meter, and pairs of unprofiled and profiled
 * passes for the host overhead (what `hmn bench` reports).
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double hmn__bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Resident set size of this process, or -1 where /proc is missing. */
static long long hmn__bench_rss(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL) return -1;
  unsigned long long size = 0, resident = 0;
  int n = fscanf(f, "%llu %llu", &size, &resident);
  fclose(f);
  long page = sysconf(_SC_PAGESIZE);
  return n == 2 && page > 0 ? (long long)(resident * (unsigned long long)page) : -1;
}

static int hmn__bench_compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median of v[0..n) (n > 0), which it sorts. */
static double hmn__bench_median(double *v, size_t n) {
  qsort(v, n, sizeof *v, hmn__bench_compare);
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Inputs for the steps, copied out of the stream task. */
typedef struct {
  float *x[HMN_BENCH_INPUTS], *mod[HMN_BENCH_INPUTS], *ctx[HMN_BENCH_INPUTS];
} hmn__bench_inputs;

static void hmn__bench_inputs_free(hmn__bench_inputs *in) {
  for (int k = 0; k < HMN_BENCH_INPUTS; k++) {
    hmn__free(in->x[k]);
    hmn__free(in->mod[k]);
    hmn__free(in->ctx[k]);
  }
}

static int hmn__bench_inputs_make(const hmn_config *cfg, hmn__bench_inputs *in, hmn_error *err) {
  hmn_task *task = NULL;
  memset(in, 0, sizeof *in);
  int rc = hmn_task_create("stream", cfg, &task, err);
  for (int k = 0; k < HMN_BENCH_INPUTS && rc == HMN_OK; k++) {
    hmn_step_input step;
    if ((rc = hmn_task_input(task, (uint64_t)k, &step, err)) != HMN_OK) break;
    /* calloc of at least one element: n_mod or d_ctx may be 0. */
    in->x[k] = hmn__calloc((size_t)cfg->n_in + 1, sizeof(float));
    in->mod[k] = hmn__calloc((size_t)cfg->n_mod + 1, sizeof(float));
    in->ctx[k] = hmn__calloc((size_t)cfg->d_ctx + 1, sizeof(float));
    if (in->x[k] == NULL || in->mod[k] == NULL || in->ctx[k] == NULL) {
      rc = hmn__fail(err, HMN_ENOMEM, "out of memory for the bench inputs");
      break;
    }
    memcpy(in->x[k], step.x, (size_t)cfg->n_in * sizeof(float));
    memcpy(in->mod[k], step.mod, (size_t)cfg->n_mod * sizeof(float));
    memcpy(in->ctx[k], step.ctx, (size_t)cfg->d_ctx * sizeof(float));
  }
  hmn_task_destroy(task);
  if (rc != HMN_OK) hmn__bench_inputs_free(in);
  return rc;
}

/* `steps` steps, `batch` to a call (hmn_layer_step_many when batch > 1),
 * then a read of z, which waits for the device to finish: the time
 * covers the work, not just its enqueueing. */
static int hmn__bench_steps(hmn_layer *layer, const hmn__bench_inputs *in, uint64_t steps,
                            uint64_t batch, float *z, hmn_error *err) {
  hmn_step_input many[HMN_BENCH_MAX_BATCH];
  for (uint64_t s = 0; s < steps;) {
    uint64_t t = hmn_layer_step_count(layer);
    uint64_t n = steps - s < batch ? steps - s : batch;
    for (uint64_t b = 0; b < n; b++) {
      uint64_t k = (t + b) % HMN_BENCH_INPUTS;
      many[b] = (hmn_step_input){in->x[k], in->mod[k], in->ctx[k], NULL};
    }
    int rc = batch == 1 ? hmn_layer_step(layer, many, err)
                        : hmn_layer_step_many(layer, many, (size_t)n, err);
    if (rc != HMN_OK) return rc;
    s += n;
  }
  return hmn_layer_output(layer, z, err);
}

/* Steps per repeat: given, or doubled from 1 until a run lasts a fifth
 * of the target (those steps warm up further). */
static int hmn__bench_calibrate(hmn_layer *layer, const hmn_bench_spec *spec,
                                const hmn__bench_inputs *in, float *z, uint64_t *steps,
                                hmn_error *err) {
  *steps = spec->steps;
  if (*steps != 0) return HMN_OK;
  uint64_t k = 1;
  double dt = 0.0;
  for (;;) {
    double c0 = hmn__bench_now();
    int rc = hmn__bench_steps(layer, in, k, spec->batch, z, err);
    if (rc != HMN_OK) return rc;
    dt = hmn__bench_now() - c0;
    if (dt >= 0.2 * spec->seconds || k >= (1u << 20)) break;
    k *= 2;
  }
  double per_step = dt / (double)k;
  double want = per_step > 0.0 ? ceil(spec->seconds / per_step) : 1.0;
  *steps = want < 1.0                        ? 1
           : want > (double)HMN_BENCH_MAX_STEPS ? HMN_BENCH_MAX_STEPS
                                              : (uint64_t)want;
  return HMN_OK;
}

/* The timed repeats, under the meter when there is one. */
static int hmn__bench_repeats(hmn_layer *layer, const hmn_bench_spec *spec,
                              const hmn__bench_inputs *in, float *z, hmn_bench_result *out,
                              hmn_error *err) {
  out->rss_start = hmn__bench_rss();
  hmn_error meter_err;
  bool metering = spec->meter != NULL && hmn_meter_start(spec->meter, &meter_err) == HMN_OK;
  if (spec->meter != NULL && !metering)
    snprintf(out->energy_error, sizeof out->energy_error, "%s", meter_err.message);
  for (uint64_t r = 0; r < spec->repeats; r++) {
    double r0 = hmn__bench_now();
    int rc = hmn__bench_steps(layer, in, out->steps, spec->batch, z, err);
    if (rc != HMN_OK) {
      if (metering) hmn_meter_stop(spec->meter, &out->energy, NULL);
      return rc;
    }
    out->rep_seconds[r] = hmn__bench_now() - r0;
  }
  if (metering) {
    if (hmn_meter_stop(spec->meter, &out->energy, &meter_err) == HMN_OK)
      out->have_energy = 1;
    else
      snprintf(out->energy_error, sizeof out->energy_error, "%s", meter_err.message);
  }
  out->rss_end = hmn__bench_rss();
  return HMN_OK;
}

/* Profiling is apart from the timed repeats: collecting the events costs
 * host time every step. Host overhead compares wall time with device
 * time, which only a profiled pass has; on a shared machine two passes
 * far apart can differ by more than the overhead, so each profiled pass
 * follows an unprofiled one of the same steps, and the pair gives one
 * overhead. Uploads are host-driven transfers: they count as overhead. */
static int hmn__bench_profiled_pairs(hmn_layer *layer, const hmn_bench_spec *spec,
                                     const hmn__bench_inputs *in, float *z,
                                     hmn_bench_result *out, hmn_error *err) {
  for (uint64_t r = 0; r < spec->repeats; r++) {
    double u0 = hmn__bench_now();
    int rc = hmn__bench_steps(layer, in, out->steps, spec->batch, z, err);
    if (rc != HMN_OK) return rc;
    double wall = hmn__bench_now() - u0;
    hmn_kernel_profile pass[HMN_BENCH_MAX_KERNELS];
    size_t n_pass = 0;
    if ((rc = hmn_layer_set_profiling(layer, 1, err)) != HMN_OK) return rc;
    double p0 = hmn__bench_now();
    if ((rc = hmn__bench_steps(layer, in, out->steps, spec->batch, z, err)) != HMN_OK) return rc;
    out->prof_seconds += hmn__bench_now() - p0;
    out->prof_steps += out->steps;
    if ((rc = hmn_layer_profile(layer, pass, HMN_BENCH_MAX_KERNELS, &n_pass, err)) != HMN_OK ||
        (rc = hmn_layer_set_profiling(layer, 0, err)) != HMN_OK)
      return rc;
    if (n_pass > HMN_BENCH_MAX_KERNELS) n_pass = HMN_BENCH_MAX_KERNELS;
    /* The backend lists the same entries in the same order each pass. */
    double device = 0.0;
    for (size_t k = 0; k < n_pass; k++) {
      if (r == 0) {
        out->prof[k] = pass[k];
      } else {
        out->prof[k].calls += pass[k].calls;
        out->prof[k].seconds += pass[k].seconds;
      }
      if (pass[k].kind == HMN_PROFILE_KERNEL) device += pass[k].seconds;
    }
    out->n_prof = n_pass;
    if (n_pass > 0) out->pair_overhead[out->n_pairs++] = (wall - device) / wall;
  }
  return HMN_OK;
}

/* The medians and extremes of what was measured. */
static void hmn__bench_summarise(const hmn_config *cfg, hmn_bench_result *out, double *scratch) {
  double synapses = (double)cfg->n_in * (double)cfg->n_out;
  size_t repeats = (size_t)out->repeats;
  for (size_t r = 0; r < repeats; r++) scratch[r] = out->rep_seconds[r] / (double)out->steps;
  /* SUPS from the median time, so that the two medians agree also for
   * an even number of repeats (where a median is a mean of two). */
  double step_median = hmn__bench_median(scratch, repeats);
  double fastest = scratch[0], slowest = scratch[repeats - 1];
  out->seconds_per_step_median = step_median;
  out->sups_median = synapses / step_median;
  out->sups_min = synapses / slowest;
  out->sups_max = synapses / fastest;
  double kernel_seconds = 0.0;
  for (size_t k = 0; k < out->n_prof; k++)
    if (out->prof[k].kind == HMN_PROFILE_KERNEL) kernel_seconds += out->prof[k].seconds;
  bool profiled = out->n_prof > 0 && out->prof_steps > 0;
  out->device_seconds_per_step = profiled ? kernel_seconds / (double)out->prof_steps : NAN;
  /* The pairs keep their order (a report lists them); the median sorts
   * a copy. */
  out->host_overhead_fraction = NAN;
  if (out->n_pairs > 0) {
    memcpy(scratch, out->pair_overhead, out->n_pairs * sizeof *scratch);
    out->host_overhead_fraction = hmn__bench_median(scratch, out->n_pairs);
  }
}

void hmn_bench_result_free(hmn_bench_result *result) {
  if (result == NULL) return;
  hmn__free(result->rep_seconds);
  hmn__free(result->pair_overhead);
  result->rep_seconds = NULL;
  result->pair_overhead = NULL;
}

int hmn_bench_layer(hmn_layer *layer, const hmn_bench_spec *spec, hmn_bench_result *out,
                    hmn_error *err) {
  if (out != NULL) memset(out, 0, sizeof *out);
  if (layer == NULL || spec == NULL || out == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_bench_layer: NULL argument");
  if (spec->repeats < 1 || spec->batch < 1 || spec->batch > HMN_BENCH_MAX_BATCH ||
      (spec->steps == 0 && !(spec->seconds > 0.0)))
    return hmn__fail(err, HMN_EINVAL,
                     "hmn_bench_layer: repeats=%llu batch=%llu steps=%llu seconds=%g: needs "
                     "repeats >= 1, batch in [1, %d], and steps or seconds > 0",
                     (unsigned long long)spec->repeats, (unsigned long long)spec->batch,
                     (unsigned long long)spec->steps, spec->seconds, HMN_BENCH_MAX_BATCH);
  const hmn_config *cfg = hmn_layer_config(layer);
  out->repeats = spec->repeats;
  out->rss_start = out->rss_end = -1;
  out->device_seconds_per_step = NAN;
  out->host_overhead_fraction = NAN;
  hmn__bench_inputs inputs;
  memset(&inputs, 0, sizeof inputs);
  float *z = hmn__calloc((size_t)cfg->n_out, sizeof(float));
  double *scratch = hmn__calloc((size_t)spec->repeats, sizeof(double));
  out->rep_seconds = hmn__calloc((size_t)spec->repeats, sizeof(double));
  out->pair_overhead = hmn__calloc((size_t)spec->repeats, sizeof(double));
  int rc = HMN_OK;
  if (z == NULL || scratch == NULL || out->rep_seconds == NULL || out->pair_overhead == NULL)
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory for a benchmark of %llu repeats",
                   (unsigned long long)spec->repeats);
  if (rc == HMN_OK) rc = hmn__bench_inputs_make(cfg, &inputs, err);
  if (rc == HMN_OK) rc = hmn__bench_steps(layer, &inputs, spec->warmup, spec->batch, z, err);
  if (rc == HMN_OK) rc = hmn__bench_calibrate(layer, spec, &inputs, z, &out->steps, err);
  if (rc == HMN_OK) rc = hmn__bench_repeats(layer, spec, &inputs, z, out, err);
  if (rc == HMN_OK && spec->profile)
    rc = hmn__bench_profiled_pairs(layer, spec, &inputs, z, out, err);
  if (rc == HMN_OK) hmn__bench_summarise(cfg, out, scratch);
  hmn__bench_inputs_free(&inputs);
  hmn__free(scratch);
  hmn__free(z);
  return rc;
}
