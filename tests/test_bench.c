/*
 * test_bench.c - `hmn bench`: the bytes-per-step formula against counts by
 * hand, and the --json output of the CLI binary ($HMN_BIN) read back with
 * jansson: every field present and of its type, energy null with a reason
 * when no meter is readable, and a number when a (fixture) meter is. The
 * bench is not a test of speed: nothing here asserts a time.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "hmn.h"
#include "support.h"

/* ------------------------------------------------------------------ */
/* Bytes per step */

/* 3 inputs, 2 neurons, K = 3 modulators, D_c = 4, D = 4 delay slots:
 *   synapses   6 x (W, psi_f, psi_s read+written = 24; phi 4; tau 1) = 174
 *   inputs     3 x (x 4; x_hist row written 4; 4 rows read 16; h r+w 8) = 96
 *   neurons    2 x (b, c, astro r+w 24; z written 4; sign 4) = 64
 *   modulation kappa 12 x 4 = 48, w_k 12, E 12, C_global 16 = 88
 *   total      422 */
Test(bench, bytes_per_step_by_hand) {
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  cfg.n_in = 3;
  cfg.n_out = 2;
  cfg.n_mod = 3;
  cfg.d_ctx = 4;
  cfg.delay_len = 4;
  hmn_step_traffic t;
  hmn_step_traffic_of(&cfg, &t);
  cr_assert_eq(t.synapses, 174);
  cr_assert_eq(t.inputs, 96);
  cr_assert_eq(t.neurons, 64);
  cr_assert_eq(t.modulation, 88);
  cr_assert_eq(t.total, 422);
}

/* The smallest layer: 29 + (4 + 4 + 4 + 8) + 32 + 4 x (1 + 2 + 1) = 97. */
Test(bench, bytes_per_step_smallest) {
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  cfg.n_in = cfg.n_out = cfg.n_mod = cfg.d_ctx = cfg.delay_len = 1;
  hmn_step_traffic t;
  hmn_step_traffic_of(&cfg, &t);
  cr_assert_eq(t.total, 97);
}

/* At 4096 x 4096 the synapses dominate: 29 bytes each. */
Test(bench, bytes_per_step_large) {
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  cfg.n_in = cfg.n_out = 4096;
  hmn_step_traffic t;
  hmn_step_traffic_of(&cfg, &t);
  cr_assert_eq(t.synapses, UINT64_C(29) * 4096 * 4096);
  cr_assert_eq(t.total, t.synapses + 4096 * (4 + 4 + 4 * 4 + 8) + 4096 * 32 + 4 * (12 + 6 + 4));
}

/* ------------------------------------------------------------------ */
/* The CLI */

typedef struct {
  int status;      /* exit status, or -1 */
  char *out;       /* stdout (and stderr when merged) */
} run_result;

/* Run `hmn bench ARGS` through the shell with `env` prepended; stderr is
 * merged into the output when `merge` is set. */
static run_result run_bench(const char *env, const char *args, int merge) {
  const char *bin = getenv("HMN_BIN");
  if (bin == NULL) cr_skip_test("HMN_BIN is not set (run the tests through ctest)");
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s '%s' bench %s %s", env != NULL ? env : "", bin, args,
           merge ? "2>&1" : "2>/dev/null");
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p, "popen %s", cmd);
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  cr_assert_not_null(buf);
  size_t n;
  while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
    len += n;
    if (cap - len < 1024) {
      cap *= 2;
      buf = realloc(buf, cap);
      cr_assert_not_null(buf);
    }
  }
  buf[len] = '\0';
  int st = pclose(p);
  run_result r = {WIFEXITED(st) ? WEXITSTATUS(st) : -1, buf};
  return r;
}

/* The bench's JSON array, checked to be an array of `count` objects. */
static json_t *bench_json(const char *env, const char *args, size_t count) {
  run_result r = run_bench(env, args, 0);
  cr_assert_eq(r.status, 0, "hmn bench %s exited %d:\n%s", args, r.status, r.out);
  json_error_t jerr;
  json_t *root = json_loads(r.out, 0, &jerr);
  cr_assert_not_null(root, "not JSON (%s, line %d):\n%s", jerr.text, jerr.line, r.out);
  free(r.out);
  cr_assert(json_is_array(root));
  cr_assert_eq(json_array_size(root), count);
  return root;
}

#define TINY "--backend ref --size 8x4 --steps 2 --repeats 2 --warmup 1 --probe-mib 1 --json --quiet"

static void expect_type(const json_t *o, const char *key, int (*is)(const json_t *),
                        const char *type) {
  const json_t *v = json_object_get(o, key);
  cr_assert_not_null(v, "field '%s' missing", key);
  cr_assert(is(v), "field '%s' is not %s", key, type);
}
static int is_string(const json_t *v) { return json_is_string(v); }
static int is_integer(const json_t *v) { return json_is_integer(v); }
static int is_number(const json_t *v) { return json_is_number(v); }
static int is_null(const json_t *v) { return json_is_null(v); }
static int is_array(const json_t *v) { return json_is_array(v); }
static int is_object(const json_t *v) { return json_is_object(v); }

static double num(const json_t *o, const char *key) {
  return json_number_value(json_object_get(o, key));
}

/* The JSON carries 10 significant digits. */
#define ASSERT_REL_EQ(a, b)                                                          \
  cr_assert(fabs((a) - (b)) <= 1e-8 * fabs(b), "%s = %.12g, expected %s = %.12g", #a, \
            (double)(a), #b, (double)(b))

Test(bench, json_fields_on_ref) {
  json_t *root = bench_json(NULL, TINY " --meter none", 1);
  const json_t *o = json_array_get(root, 0);
  expect_type(o, "backend", is_string, "a string");
  cr_assert_str_eq(json_string_value(json_object_get(o, "backend")), "ref");
  /* Provenance: which hmn, when, where, and the config measured. */
  expect_type(o, "hmn_version", is_string, "a string");
  cr_assert_str_eq(json_string_value(json_object_get(o, "hmn_version")), hmn_version());
  expect_type(o, "commit", is_string, "a string");
  expect_type(o, "time", is_string, "a string");
  cr_assert_eq(strlen(json_string_value(json_object_get(o, "time"))), 20, "ISO 8601 UTC");
  expect_type(o, "host", is_string, "a string");
  expect_type(o, "driver", is_null, "null (the host model has no driver)");
  expect_type(o, "config", is_string, "a string");
  cr_assert_not_null(strstr(json_string_value(json_object_get(o, "config")), "n_in = 8\n"));
  expect_type(o, "device", is_string, "a string");
  cr_assert_str_eq(json_string_value(json_object_get(o, "device")), "host");
  expect_type(o, "n_in", is_integer, "an integer");
  expect_type(o, "n_out", is_integer, "an integer");
  cr_assert_eq(json_integer_value(json_object_get(o, "n_in")), 8);
  cr_assert_eq(json_integer_value(json_object_get(o, "n_out")), 4);
  expect_type(o, "synapses", is_integer, "an integer");
  cr_assert_eq(json_integer_value(json_object_get(o, "synapses")), 32);
  expect_type(o, "steps", is_integer, "an integer");
  cr_assert_eq(json_integer_value(json_object_get(o, "steps")), 2);
  expect_type(o, "repeats", is_integer, "an integer");
  cr_assert_eq(json_integer_value(json_object_get(o, "repeats")), 2);
  /* Steps go 16 to a call of hmn_layer_step_many unless --batch says. */
  expect_type(o, "batch", is_integer, "an integer");
  cr_assert_eq(json_integer_value(json_object_get(o, "batch")), 16);
  expect_type(o, "sups_median", is_number, "a number");
  cr_assert_gt(num(o, "sups_median"), 0.0);
  expect_type(o, "seconds_per_step_median", is_number, "a number");
  cr_assert_gt(num(o, "seconds_per_step_median"), 0.0);
  /* SUPS is the synapses over the time per step. */
  ASSERT_REL_EQ(num(o, "sups_median") * num(o, "seconds_per_step_median"), 32.0);
  expect_type(o, "setup_seconds", is_number, "a number");

  /* The bytes, as the library counts them for this config. */
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  cfg.n_in = 8;
  cfg.n_out = 4;
  hmn_step_traffic t;
  hmn_step_traffic_of(&cfg, &t);
  expect_type(o, "bytes_per_step", is_integer, "an integer");
  cr_assert_eq(json_integer_value(json_object_get(o, "bytes_per_step")), (json_int_t)t.total);
  expect_type(o, "bytes_per_step_parts", is_object, "an object");
  expect_type(o, "achieved_gbps", is_number, "a number");
  /* The probe ran (host, 1 MiB arrays): a roof and a fraction. */
  expect_type(o, "bandwidth_probe", is_object, "an object");
  expect_type(o, "roofline_gbps", is_number, "a number");
  expect_type(o, "roofline_fraction", is_number, "a number");
  cr_assert_gt(num(o, "roofline_fraction"), 0.0);

  /* ref has no kernels, so no breakdown and no host/device split. */
  expect_type(o, "kernels", is_array, "an array");
  cr_assert_eq(json_array_size(json_object_get(o, "kernels")), 0);
  expect_type(o, "host_overhead_fraction", is_null, "null");

  expect_type(o, "rss_start_bytes", is_integer, "an integer");
  expect_type(o, "rss_end_bytes", is_integer, "an integer");

  /* No meter: null energy, and why. */
  expect_type(o, "energy_joules", is_null, "null");
  expect_type(o, "energy_source", is_string, "a string");
  cr_assert_str_eq(json_string_value(json_object_get(o, "energy_source")),
                   "not measured: --meter none");
  expect_type(o, "watts", is_null, "null");
  expect_type(o, "sups_per_watt", is_null, "null");
  expect_type(o, "nominal_watts", is_null, "null");
  expect_type(o, "ratio_to_peer", is_null, "null");
  json_decref(root);
}

/* Where no RAPL is readable (an empty sysfs), the reason is reported. */
Test(bench, json_energy_not_measured_says_why) {
  char env[1200];
  snprintf(env, sizeof env, "HMN_SYSFS_ROOT='%s'", hmn_test_tmpdir());
  json_t *root = bench_json(env, TINY, 1);
  const json_t *o = json_array_get(root, 0);
  expect_type(o, "energy_joules", is_null, "null");
  char want[1400];
  snprintf(want, sizeof want,
           "not measured: RAPL not available: cannot open %s/class/powercap: No such file or "
           "directory",
           hmn_test_tmpdir());
  cr_assert_str_eq(json_string_value(json_object_get(o, "energy_source")), want);
  json_decref(root);
}

/* With a (fixture) Alveo card's constant 24.682 W, the energy is that
 * power over the metered interval, and SUPS/W follows from it. */
Test(bench, json_energy_from_a_meter) {
  char env[1200];
  snprintf(env, sizeof env, "HMN_SYSFS_ROOT='%s/tests/fixtures/sysfs-alveo'", HMN_SOURCE_DIR);
  json_t *root = bench_json(env, TINY " --meter xmc", 1);
  const json_t *o = json_array_get(root, 0);
  expect_type(o, "energy_joules", is_number, "a number");
  expect_type(o, "watts", is_number, "a number");
  expect_type(o, "sups_per_watt", is_number, "a number");
  expect_type(o, "joules_per_step", is_number, "a number");
  ASSERT_REL_EQ(num(o, "watts"), 24.682);
  ASSERT_REL_EQ(num(o, "energy_joules"), 24.682 * num(o, "energy_seconds"));
  cr_assert_str_eq(json_string_value(json_object_get(o, "energy_source")),
                   "XMC xmc_power of Alveo card 0000:65:00.0 (sampled, integrated)");
  json_decref(root);
}

/* --watts is nominal: it never becomes a measured energy. */
Test(bench, json_nominal_watts) {
  json_t *root = bench_json(NULL, TINY " --meter none --watts 50", 1);
  const json_t *o = json_array_get(root, 0);
  cr_assert_float_eq(num(o, "nominal_watts"), 50.0, 0.0);
  ASSERT_REL_EQ(num(o, "sups_per_nominal_watt"), num(o, "sups_median") / 50.0);
  expect_type(o, "energy_joules", is_null, "null");
  expect_type(o, "watts", is_null, "null");
  json_decref(root);
}

Test(bench, json_two_sizes) {
  json_t *root = bench_json(NULL, TINY " --meter none --size 3 --no-probe --batch 1", 2);
  const json_t *o = json_array_get(root, 1);
  cr_assert_eq(json_integer_value(json_object_get(o, "batch")), 1);
  cr_assert_eq(json_integer_value(json_object_get(o, "n_in")), 3);
  cr_assert_eq(json_integer_value(json_object_get(o, "n_out")), 3);
  expect_type(o, "roofline_fraction", is_null, "null");
  json_decref(root);
}

Test(bench, peer_ratio) {
  const char *peer = hmn_test_path("peer.json");
  const char *text = "[{\"backend\": \"torch\", \"n_in\": 8, \"n_out\": 4, \"sups_median\": 1000.0}]";
  cr_assert_eq(hmn_test_write_file(peer, text, strlen(text)), 0);
  char args[2048];
  snprintf(args, sizeof args, TINY " --meter none --peer '%s'", peer);
  json_t *root = bench_json(NULL, args, 1);
  const json_t *o = json_array_get(root, 0);
  cr_assert_str_eq(json_string_value(json_object_get(o, "peer")), "torch");
  cr_assert_float_eq(num(o, "peer_sups"), 1000.0, 0.0);
  ASSERT_REL_EQ(num(o, "ratio_to_peer"), num(o, "sups_median") / 1000.0);
  json_decref(root);
}

Test(bench, table_for_people) {
  run_result r = run_bench(NULL, "--backend ref --size 8x4 --steps 2 --repeats 1 --warmup 0 "
                                 "--no-probe --meter none --watts 20 --quiet", 0);
  cr_assert_eq(r.status, 0, "%s", r.out);
  cr_assert(strstr(r.out, "ref on host") != NULL, "%s", r.out);
  cr_assert(strstr(r.out, "energy: not measured: --meter none") != NULL, "%s", r.out);
  cr_assert(strstr(r.out, "nominal power: 20 W (given with --watts, not measured)") != NULL, "%s",
            r.out);
  cr_assert(strstr(r.out, "8x4") != NULL, "%s", r.out);
  free(r.out);
}

static void expect_usage_error(const char *args, const char *message) {
  run_result r = run_bench(NULL, args, 1);
  cr_assert_eq(r.status, 2, "hmn bench %s exited %d:\n%s", args, r.status, r.out);
  cr_assert(strstr(r.out, message) != NULL, "hmn bench %s said:\n%s", args, r.out);
  free(r.out);
}

Test(bench, usage_errors) {
  expect_usage_error("--size 0", "--size must be NxM or N with 1 <= N, M <= 65536, got '0'");
  expect_usage_error("--size 4x", "--size must be NxM");
  expect_usage_error("--backend cuda", "unknown backend 'cuda' (opencl, ref, opencl-fpga or xrt)");
  expect_usage_error("--backend ref --device 0", "--device selects an OpenCL device");
  expect_usage_error("--steps 0", "--steps must be in [1, ");
  expect_usage_error("--repeats 0", "--repeats must be in [1, 1000]");
  expect_usage_error("--batch 0", "--batch must be in [1, 1024]");
  expect_usage_error("--batch 1025", "--batch must be in [1, 1024]");
  expect_usage_error("--watts -3", "--watts must be a positive number, got '-3'");
  expect_usage_error("--bogus", "unknown argument '--bogus'");
  expect_usage_error("--backend ref --set tau_fast=-1", "--set tau_fast=-1:");
}

Test(bench, bad_peer_file) {
  const char *peer = hmn_test_path("bad-peer.json");
  cr_assert_eq(hmn_test_write_file(peer, "{\"n_in\": 1}", 11), 0);
  char args[2048];
  snprintf(args, sizeof args, TINY " --meter none --peer '%s'", peer);
  run_result r = run_bench(NULL, args, 1);
  cr_assert_eq(r.status, 1, "%s", r.out);
  cr_assert(strstr(r.out, "expected a JSON array of results") != NULL, "%s", r.out);
  free(r.out);
}

/* The figure: two sizes with error bars and, where a meter measured the
 * energy (the fixture card), a per-watt series on the second axis. */
Test(bench, plot_with_measured_energy) {
  char env[1200], args[2048];
  const char *png = hmn_test_path("bw.png");
  snprintf(env, sizeof env, "HMN_SYSFS_ROOT='%s/tests/fixtures/sysfs-alveo'", HMN_SOURCE_DIR);
  snprintf(args, sizeof args,
           "--backend ref --size 8x4 --size 16x8 --steps 2 --repeats 2 --warmup 1 --no-probe "
           "--quiet --meter xmc --plot '%s'",
           png);
  run_result r = run_bench(env, args, 0);
  cr_assert_eq(r.status, 0, "%s", r.out);
  free(r.out);
  size_t len = 0;
  unsigned char *data = hmn_test_read_file(png, &len);
  cr_assert(data != NULL && len > 2000 && memcmp(data, "\x89PNG", 4) == 0, "no PNG written");
  free(data);
}

/* Without gnuplot the plot fails with the package to install. */
Test(bench, plot_without_gnuplot) {
  char args[2048];
  snprintf(args, sizeof args, TINY " --meter none --plot '%s'", hmn_test_path("p.png"));
  run_result r = run_bench("PATH=/nonexistent", args, 1);
  cr_assert_eq(r.status, 1, "%s", r.out);
  cr_assert(strstr(r.out, "install the Debian package 'gnuplot-nox'") != NULL, "%s", r.out);
  free(r.out);
}

/* ------------------------------------------------------------------ */
/* The library's engine (hmn_bench_layer) and meter policy, directly. */

static hmn_layer *bench_ref_layer(void) {
  hmn_config cfg;
  hmn_test_small_config(&cfg, 6, 4);
  hmn_layer *layer = NULL;
  hmn_error err;
  cr_assert_eq(hmn_layer_create(&cfg, "ref", &layer, &err), 0, "%s", err.message);
  return layer;
}

Test(bench_engine, times_the_given_steps) {
  hmn_layer *layer = bench_ref_layer();
  hmn_bench_spec spec = {.steps = 5, .repeats = 3, .warmup = 2, .batch = 2, .profile = 1};
  hmn_bench_result r;
  hmn_error err;
  cr_assert_eq(hmn_bench_layer(layer, &spec, &r, &err), 0, "%s", err.message);
  cr_assert_eq(r.steps, 5u);
  cr_assert_eq(r.repeats, 3u);
  /* Warm-up, repeats and the profiled pairs all stepped the layer. */
  cr_assert_eq(hmn_layer_step_count(layer), 2u + 3u * 5u + 3u * 2u * 5u);
  for (size_t k = 0; k < 3; k++) cr_assert_gt(r.rep_seconds[k], 0.0);
  cr_assert(r.sups_min <= r.sups_median && r.sups_median <= r.sups_max, "%g %g %g", r.sups_min,
            r.sups_median, r.sups_max);
  cr_assert_float_eq(r.sups_median * r.seconds_per_step_median, 24.0, 1e-6);
  /* ref profiles nothing: no kernels, no overhead pairs. */
  cr_assert_eq(r.n_prof, 0u);
  cr_assert_eq(r.n_pairs, 0u);
  cr_assert(isnan(r.host_overhead_fraction));
  cr_assert(isnan(r.device_seconds_per_step));
  cr_assert_eq(r.have_energy, 0);
  hmn_bench_result_free(&r);
  hmn_layer_destroy(layer);
}

Test(bench_engine, calibrates_and_refuses_bad_specs) {
  hmn_layer *layer = bench_ref_layer();
  hmn_bench_spec spec = {.seconds = 0.01, .repeats = 1, .batch = 1};
  hmn_bench_result r;
  hmn_error err;
  cr_assert_eq(hmn_bench_layer(layer, &spec, &r, &err), 0, "%s", err.message);
  cr_assert_geq(r.steps, 1u);
  hmn_bench_result_free(&r);
  hmn_bench_spec bad = {.steps = 1, .repeats = 0, .batch = 1};
  cr_assert_eq(hmn_bench_layer(layer, &bad, &r, &err), HMN_EINVAL);
  cr_assert_not_null(strstr(err.message, "repeats=0"), "%s", err.message);
  bad = (hmn_bench_spec){.steps = 1, .repeats = 1, .batch = HMN_BENCH_MAX_BATCH + 1};
  cr_assert_eq(hmn_bench_layer(layer, &bad, &r, &err), HMN_EINVAL);
  bad = (hmn_bench_spec){.steps = 0, .seconds = 0.0, .repeats = 1, .batch = 1};
  cr_assert_eq(hmn_bench_layer(layer, &bad, &r, &err), HMN_EINVAL);
  cr_assert_eq(hmn_bench_layer(NULL, &spec, &r, &err), HMN_EINVAL);
  hmn_bench_result_free(&r);
  hmn_layer_destroy(layer);
}

Test(bench_engine, auto_meter_of_the_host_is_rapl) {
  hmn_layer *layer = bench_ref_layer();
  hmn_meter *m = NULL;
  hmn_error err;
  /* An empty sysfs: the policy picks RAPL for the host CPU, which then
   * says why it cannot read. */
  char root[1100];
  snprintf(root, sizeof root, "%s", hmn_test_path("empty-sysfs"));
  cr_assert_eq(mkdir(root, 0777), 0);
  setenv("HMN_SYSFS_ROOT", root, 1);
  int rc = hmn_meter_open_for_layer(layer, "auto", &m, &err);
  unsetenv("HMN_SYSFS_ROOT");
  cr_assert_neq(rc, 0);
  cr_assert_null(m);
  cr_assert_not_null(strstr(err.message, "RAPL"), "%s", err.message);
  cr_assert_eq(hmn_meter_open_for_layer(NULL, "auto", &m, &err), HMN_EINVAL);
  hmn_layer_destroy(layer);
}
