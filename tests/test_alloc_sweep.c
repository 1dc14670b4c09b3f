/*
 * test_alloc_sweep.c - every public entry point of libhmn under failed
 * allocations: for n = 1, 2, ... the n-th allocation of a whole use of a
 * module fails (hmn__alloc_fail_after), until a run makes fewer than n.
 * Each attempt must succeed (where the memory was optional, as for the
 * kernel cache) or fail with a status and a message; it must leave nothing
 * allocated, which LeakSanitizer checks at the end of each test in the
 * sanitizer build (explicitly, in the test's body: a leak found when
 * Criterion's worker exits, or in a .fini, is printed but fails nothing). Modules: layers on every backend there is (ref; opencl and
 * opencl-fpga where an OpenCL device exists; xrt where a card or emulator
 * is usable), checkpoints, the closed loop, tasks, modulator sources,
 * config text, bitstreams, energy meters, the bandwidth probe, the kernel
 * cache.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fpga/bitstreams.h"
#include "internal.h"
#include "opencl/opencl.h"
#include "support.h"

/* LeakSanitizer's interface where the build has it (HMN_SANITIZE). */
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static void no_leaks(void) {
  if (__lsan_do_recoverable_leak_check != NULL)
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0,
                 "LeakSanitizer found leaks (its report is above)");
}

TestSuite(alloc_sweep, .timeout = 900);

typedef int (*sweep_op)(void *ctx, hmn_error *err);

/* Fail each allocation of `op` in turn; returns the number swept. */
static long sweep(const char *what, sweep_op op, void *ctx, long max) {
  for (long n = 1; n <= max; n++) {
    hmn_error err;
    memset(&err, 0, sizeof err);
    hmn__alloc_fail_after(n);
    int rc = op(ctx, &err);
    bool pending = hmn__alloc_fail_pending();
    hmn__alloc_fail_after(0);
    if (rc != HMN_OK) {
      cr_assert_lt(rc, 0, "%s, allocation %ld failed: status %d", what, n, rc);
      cr_assert_eq(err.status, rc, "%s, allocation %ld failed: status %d, error says %d (%s)",
                   what, n, rc, err.status, err.message);
      cr_assert(err.message[0] != '\0', "%s, allocation %ld failed: status %s without a message",
                what, n, hmn_status_name(rc));
    }
    if (pending) {
      cr_assert_eq(rc, HMN_OK, "%s failed with every allocation granted: %s", what, err.message);
      cr_log_info("%s: %ld allocations, each failed once", what, n - 1);
      return n - 1;
    }
  }
  cr_assert_fail("%s makes more than %ld allocations", what, max);
  return max;
}

static void small_config(hmn_config *cfg, int task) {
  hmn_config_defaults(cfg);
  cfg->n_in = 5;
  cfg->n_out = 3;
  cfg->delay_len = 3;
  cfg->meta_window = 4;
  cfg->task = task;
  cfg->astro_lambda = 0.1f;
  cfg->inhibitory_fraction = 0.3f;
  hmn_error err;
  cr_assert_eq(hmn_config_validate(cfg, &err), HMN_OK, "%s", err.message);
}

/* ---- layers and checkpoints, on one backend ---- */

typedef struct {
  const char *backend;
  char path[800];
} layer_ctx;

static int op_layer(void *p, hmn_error *err) {
  layer_ctx *c = p;
  hmn_config cfg;
  small_config(&cfg, HMN_TASK_STREAM);
  hmn_layer *layer = NULL, *loaded = NULL;
  hmn_task *task = NULL;
  hmn_step_input in[3];
  hmn_step_stats stats;
  float w[15];
  int rc = hmn_layer_create(&cfg, c->backend, &layer, err);
  if (rc == HMN_OK) rc = hmn_task_create("stream", &cfg, &task, err);
  if (rc == HMN_OK) rc = hmn_task_input(task, 0, &in[0], err);
  if (rc == HMN_OK) rc = hmn_layer_step(layer, &in[0], err);
  /* The task's buffers serve every input of a batch: the same x thrice. */
  if (rc == HMN_OK) in[1] = in[2] = in[0];
  if (rc == HMN_OK) rc = hmn_layer_step_many(layer, in, 3, err);
  if (rc == HMN_OK) rc = hmn_layer_stats(layer, &stats, err);
  if (rc == HMN_OK) rc = hmn_layer_read(layer, HMN_ARRAY_W, w, sizeof w, err);
  if (rc == HMN_OK) rc = hmn_layer_snapshot_save(layer, err);
  if (rc == HMN_OK) rc = hmn_layer_step(layer, &in[0], err);
  if (rc == HMN_OK) rc = hmn_layer_snapshot_restore(layer, err);
  if (rc == HMN_OK) rc = hmn_layer_save(layer, c->path, err);
  if (rc == HMN_OK) rc = hmn_layer_restore(layer, c->path, err);
  if (rc == HMN_OK) rc = hmn_layer_load(c->path, c->backend, &loaded, err);
  if (rc == HMN_OK) rc = hmn_layer_set_eta(loaded, 0.01f, 0.02f, err);
  hmn_layer_destroy(loaded);
  hmn_task_destroy(task);
  hmn_layer_destroy(layer);
  return rc;
}

static void sweep_layer(const char *backend) {
  layer_ctx c = {backend, ""};
  snprintf(c.path, sizeof c.path, "%s/%s.ckpt", hmn_test_tmpdir(), backend);
  char what[64];
  snprintf(what, sizeof what, "a layer on %s", backend);
  cr_assert_gt(sweep(what, op_layer, &c, 2000), 0);
}

/* ---- the closed loop ---- */

typedef struct {
  const char *backend;
  int task;
  char path[800];
} agent_ctx;

static int op_agent(void *p, hmn_error *err) {
  agent_ctx *c = p;
  hmn_config cfg;
  small_config(&cfg, c->task);
  hmn_agent *agent = NULL, *loaded = NULL;
  hmn_window w;
  char saved[32];
  int rc = hmn_agent_create(&cfg, c->backend, &agent, err);
  /* Three windows: the second and third start with a lookahead. */
  for (int k = 0; k < 3 && rc == HMN_OK; k++) rc = hmn_agent_run(agent, 4, &w, err);
  if (rc == HMN_OK) rc = hmn_agent_save(agent, c->path, err);
  if (rc == HMN_OK) rc = hmn_agent_saved_backend(c->path, saved, sizeof saved, err);
  if (rc == HMN_OK) rc = hmn_agent_load(c->path, c->backend, &loaded, err);
  if (rc == HMN_OK) rc = hmn_agent_run(loaded, 4, &w, err);
  hmn_agent_destroy(loaded);
  hmn_agent_destroy(agent);
  return rc;
}

static void sweep_agent(const char *backend, int task, const char *what) {
  agent_ctx c = {backend, task, ""};
  snprintf(c.path, sizeof c.path, "%s/agent-%s-%d.ckpt", hmn_test_tmpdir(), backend, task);
  cr_assert_gt(sweep(what, op_agent, &c, 4000), 0);
}

Test(alloc_sweep, ref_layer_and_checkpoints) {
  sweep_layer("ref");
  no_leaks();
}

Test(alloc_sweep, closed_loop_on_ref) {
  sweep_agent("ref", HMN_TASK_BANDIT, "the bandit closed loop on ref");
  sweep_agent("ref", HMN_TASK_STREAM, "the stream closed loop on ref");
  no_leaks();
}

/* ---- tasks, sources, config, checkpoint inspection ---- */

static int op_task(void *p, hmn_error *err) {
  (void)p;
  hmn_config cfg;
  small_config(&cfg, HMN_TASK_BANDIT);
  hmn_task *task = NULL;
  hmn_step_input in;
  hmn_feedback fb;
  float z[3] = {0.1f, 0.7f, 0.2f};
  int rc = hmn_task_create("bandit", &cfg, &task, err);
  if (rc == HMN_OK) rc = hmn_task_input(task, 3, &in, err);
  if (rc == HMN_OK) rc = hmn_task_feedback(task, 3, z, &fb, err);
  hmn_task_destroy(task);
  return rc;
}

static int op_sources(void *p, hmn_error *err) {
  (void)p;
  hmn_config cfg;
  small_config(&cfg, HMN_TASK_BANDIT);
  hmn__sources src, copy;
  memset(&src, 0, sizeof src);
  memset(&copy, 0, sizeof copy);
  int rc = hmn__sources_init(&src, &cfg, err);
  if (rc == HMN_OK) rc = hmn__sources_init(&copy, &cfg, err);
  if (rc == HMN_OK) hmn__sources_copy(&copy, &src);
  hmn__sources_free(&copy);
  hmn__sources_free(&src);
  return rc;
}

static int op_config(void *p, hmn_error *err) {
  const char *path = p;
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  int rc = hmn_config_load_string(&cfg, "[shape]\nn_in = 7\nn_out = 2\n", "sweep", err);
  if (rc == HMN_OK) rc = hmn_config_set_pair(&cfg, "activation=tanh", err);
  if (rc == HMN_OK) rc = hmn_config_load_file(&cfg, path, err);
  if (rc == HMN_OK) rc = hmn_config_validate(&cfg, err);
  return rc;
}

static int op_inspect(void *p, hmn_error *err) {
  static hmn_ckpt_info info;
  return hmn_ckpt_inspect(p, &info, err);
}

Test(alloc_sweep, tasks_sources_config_inspect) {
  sweep("the bandit task", op_task, NULL, 1000);
  sweep("the modulator sources", op_sources, NULL, 1000);
  char ini[800];
  snprintf(ini, sizeof ini, "%s", hmn_test_path("sweep.ini"));
  const char *text = "[neuron]\nactivation = sigmoid\n";
  cr_assert_eq(hmn_test_write_file(ini, text, strlen(text)), 0);
  sweep("config text and files", op_config, ini, 1000);
  agent_ctx c = {"ref", HMN_TASK_BANDIT, ""};
  snprintf(c.path, sizeof c.path, "%s", hmn_test_path("inspect.ckpt"));
  hmn_error err;
  cr_assert_eq(op_agent(&c, &err), HMN_OK, "%s", err.message);
  sweep("checkpoint inspection", op_inspect, c.path, 1000);
  no_leaks();
}

/* ---- bitstreams ---- */

static int op_bitstreams(void *p, hmn_error *err) {
  const char *dir = p;
  hmn_bitstream_info meta, list[2];
  memset(&meta, 0, sizeof meta);
  snprintf(meta.route, sizeof meta.route, "hls");
  meta.max_in = 64;
  meta.max_out = 64;
  meta.max_delay = 16;
  meta.clock_mhz = 300.0;
  size_t n = 0;
  int rc = hmn_bitstream_add(dir, "k.xclbin", &meta, err);
  if (rc == HMN_OK) rc = hmn_bitstreams_list(dir, list, 2, &n, err);
  if (rc == HMN_OK) rc = hmn_bitstream_check(dir, &list[0], err);
  hmn__bitstream b;
  hmn_config cfg;
  small_config(&cfg, HMN_TASK_STREAM);
  if (rc == HMN_OK) rc = hmn__bitstream_pick(list[0].card, list[0].target, &cfg, &b, err);
  if (rc == HMN_OK) hmn__bitstream_free(&b);
  return rc;
}

Test(alloc_sweep, bitstreams) {
  char dir[800], src[1000], dst[1000];
  snprintf(dir, sizeof dir, "%s/bitstreams", hmn_test_tmpdir());
  cr_assert_eq(mkdir(dir, 0700), 0);
  snprintf(src, sizeof src, "%s/fuzz/corpus/xclbin/hmn_hw.xclbin", HMN_SOURCE_DIR);
  snprintf(dst, sizeof dst, "%s/k.xclbin", dir);
  size_t len = 0;
  unsigned char *file = hmn_test_read_file(src, &len);
  cr_assert_not_null(file, "%s", src);
  cr_assert_eq(hmn_test_write_file(dst, file, len), 0);
  free(file);
  setenv("HMN_BITSTREAMS", dir, 1);
  unsetenv("HMN_XCLBIN");
  hmn_error err;
  if (op_bitstreams(dir, &err) != HMN_OK) {
    /* Without XRT's xclbin.h this libhmn checks no bitstream at all. */
    cr_log_warn("bitstreams not swept: %s", err.message);
    no_leaks();
    return;
  }
  sweep("bitstreams add, list, check, pick", op_bitstreams, dir, 1000);
  no_leaks();
}

/* ---- energy meters and the bandwidth probe ---- */

static int op_meter(void *p, hmn_error *err) {
  const char *spec = p;
  hmn_meter *m = NULL;
  hmn_energy e;
  int rc = hmn_meter_open(spec, NULL, &m, err);
  if (rc == HMN_OK) rc = hmn_meter_set_period(m, 0.01, err);
  if (rc == HMN_OK) rc = hmn_meter_start(m, err);
  if (rc == HMN_OK) rc = hmn_meter_stop(m, &e, err);
  hmn_meter_close(m);
  return rc;
}

static int op_bandwidth(void *p, hmn_error *err) {
  (void)p;
  hmn_config cfg;
  small_config(&cfg, HMN_TASK_STREAM);
  hmn_layer *layer = NULL;
  hmn_bandwidth bw;
  int rc = hmn_layer_create(&cfg, "ref", &layer, err);
  if (rc == HMN_OK) rc = hmn_bandwidth_probe(layer, 1 << 20, 1, &bw, err);
  hmn_layer_destroy(layer);
  return rc;
}

Test(alloc_sweep, meters_and_bandwidth) {
  char root[800];
  snprintf(root, sizeof root, "%s/tests/fixtures/sysfs-intel", HMN_SOURCE_DIR);
  setenv("HMN_SYSFS_ROOT", root, 1);
  sweep("the RAPL meter", op_meter, "rapl", 1000);
  snprintf(root, sizeof root, "%s/tests/fixtures/sysfs-alveo", HMN_SOURCE_DIR);
  setenv("HMN_SYSFS_ROOT", root, 1);
  sweep("the XMC meter", op_meter, "xmc", 1000);
  sweep("the bandwidth probe", op_bandwidth, NULL, 1000);
  no_leaks();
}

/* ---- the kernel cache ---- */

static int op_cache(void *p, hmn_error *err) {
  (void)p;
  static const char *const parts[] = {"source", "options", "device"};
  unsigned char key[HMN__CL_KEY_BYTES];
  unsigned char bin[300];
  for (size_t k = 0; k < sizeof bin; k++) bin[k] = (unsigned char)(k * 7);
  hmn__cl_cache_key(parts, 3, key);
  hmn__cl_cache_store(key, bin, sizeof bin);
  unsigned char *back = NULL;
  size_t len = 0;
  char dir[4096];
  int rc = hmn_kernel_cache_dir(dir, sizeof dir, err);
  /* The cache is optional: a load may miss, but what loads is the binary. */
  if (hmn__cl_cache_load(key, &back, &len) && (len != sizeof bin || memcmp(back, bin, len) != 0))
    rc = hmn__fail(err, HMN_EFORMAT, "the cache gave back another binary");
  hmn__free(back);
  return rc;
}

Test(alloc_sweep, kernel_cache) {
  char dir[800];
  snprintf(dir, sizeof dir, "%s/cache", hmn_test_tmpdir());
  setenv("HMN_CACHE_DIR", dir, 1);
  sweep("the kernel cache", op_cache, NULL, 1000);
  no_leaks();
}

/* ---- device backends ---- */

static bool have_opencl(void) {
  size_t count = 0;
  hmn_error err;
  return hmn_opencl_devices(NULL, 0, &count, &err) == HMN_OK && count > 0;
}

/* Warm the kernel cache first: each attempt then loads the binary instead
 * of compiling the kernels again. */
static void warm_cache(const char *backend) {
  char dir[800];
  snprintf(dir, sizeof dir, "%s/cl-cache", hmn_test_tmpdir());
  setenv("HMN_CACHE_DIR", dir, 1);
  hmn_config cfg;
  small_config(&cfg, HMN_TASK_STREAM);
  hmn_layer *layer = NULL;
  hmn_error err;
  cr_assert_eq(hmn_layer_create(&cfg, backend, &layer, &err), HMN_OK, "%s", err.message);
  hmn_layer_destroy(layer);
}

Test(alloc_sweep, opencl_layer_and_closed_loop) {
  if (!have_opencl()) cr_skip_test("no OpenCL device");
  warm_cache("opencl");
  sweep_layer("opencl");
  sweep_agent("opencl", HMN_TASK_BANDIT, "the bandit closed loop on opencl");
  no_leaks();
}

Test(alloc_sweep, opencl_fpga_layer) {
  if (!have_opencl()) cr_skip_test("no OpenCL device");
  warm_cache("opencl-fpga");
  sweep_layer("opencl-fpga");
  no_leaks();
}

Test(alloc_sweep, xrt_layer) {
  hmn_error err;
  if (hmn_xrt_check(&err) != HMN_OK) cr_skip_test("xrt backend not usable: %s", err.message);
  sweep_layer("xrt");
  no_leaks();
}
