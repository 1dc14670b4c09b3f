/*
 * test_opencl_state.c - the OpenCL backend's state handling: same seed,
 * same bits; snapshots; checkpoints between ref and opencl; statistics;
 * profiling; device selection; the binary cache; build failures.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "opencl_support.h"
#include "support.h"

TestSuite(opencl_state);

Test(opencl_state, same_seed_same_bits_other_seed_differs) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_test_small_config(&cfg, 29, 11);
  hmn_layer *a = hmn_test_layer(&cfg, "opencl"), *b = hmn_test_layer(&cfg, "opencl");
  cfg.seed = 2;
  hmn_layer *c = hmn_test_layer(&cfg, "opencl");
  hmn_test_run_stream(a, 40);
  hmn_test_run_stream(b, 40);
  hmn_test_run_stream(c, 40);
  hmn_test_assert_same_bits(a, b, "same seed");
  float wa[29 * 11], wc[29 * 11];
  hmn_error err;
  cr_assert_eq(hmn_layer_read(a, HMN_ARRAY_W, wa, sizeof wa, &err), HMN_OK);
  cr_assert_eq(hmn_layer_read(c, HMN_ARRAY_W, wc, sizeof wc, &err), HMN_OK);
  cr_assert_neq(memcmp(wa, wc, sizeof wa), 0, "another seed gave the same weights");
  hmn_step_stats sa, sb;
  cr_assert_eq(hmn_layer_stats(a, &sa, &err), HMN_OK);
  cr_assert_eq(hmn_layer_stats(b, &sb, &err), HMN_OK);
  cr_assert(sa.applied == sb.applied && sa.candidates == sb.candidates && sa.g_mean == sb.g_mean);
  cr_assert_eq(sa.t, 40);
  cr_assert_leq(sa.applied, sa.candidates);
  hmn_layer_destroy(a);
  hmn_layer_destroy(b);
  hmn_layer_destroy(c);
}

/* Snapshot, run on, restore, run the same steps again: the second run is
 * bit for bit the first, and both equal a layer that never snapshotted. */
static void snapshot_round_trip(const char *backend) {
  hmn_config cfg;
  hmn_test_small_config(&cfg, 13, 7);
  hmn_layer *layer = hmn_test_layer(&cfg, backend), *plain = hmn_test_layer(&cfg, backend);
  hmn_error err;
  cr_assert_eq(hmn_layer_snapshot_restore(layer, &err), HMN_EINVAL, "restore without a snapshot");
  hmn_test_run_stream(layer, 10);
  cr_assert_eq(hmn_layer_snapshot_save(layer, &err), HMN_OK, "%s", err.message);
  hmn_step_stats at_snapshot, after;
  cr_assert_eq(hmn_layer_stats(layer, &at_snapshot, &err), HMN_OK);

  cr_assert_eq(hmn_layer_set_eta(layer, 0.5f, 0.5f, &err), HMN_OK);
  hmn_test_run_stream(layer, 10);
  cr_assert_eq(hmn_layer_snapshot_restore(layer, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_step_count(layer), 10);
  float eta_l, eta_g;
  hmn_layer_get_eta(layer, &eta_l, &eta_g, NULL);
  cr_assert(eta_l == cfg.eta_local && eta_g == cfg.eta_global, "learning rates not restored");
  cr_assert_eq(hmn_layer_stats(layer, &after, &err), HMN_OK);
  cr_assert(after.t == at_snapshot.t && after.applied == at_snapshot.applied &&
                after.candidates == at_snapshot.candidates && after.g_mean == at_snapshot.g_mean,
            "%s: statistics not restored", backend);

  /* Restore again after a second excursion: one snapshot serves many. */
  hmn_test_run_stream(layer, 3);
  cr_assert_eq(hmn_layer_snapshot_restore(layer, &err), HMN_OK, "%s", err.message);
  hmn_test_run_stream(layer, 10);
  hmn_test_run_stream(plain, 20);
  hmn_test_assert_same_bits(layer, plain, backend);
  hmn_layer_destroy(layer);
  hmn_layer_destroy(plain);
}

Test(opencl_state, snapshot_restore_continues_exactly) {
  HMN_TEST_REQUIRE_OPENCL();
  snapshot_round_trip("opencl");
}

Test(opencl_state, snapshot_restore_on_ref) { snapshot_round_trip("ref"); }

/* SPEC 7: on one backend, save + load + run gives the bits of an
 * uninterrupted run. */
Test(opencl_state, checkpoint_resumes_bit_identical_on_opencl) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_test_small_config(&cfg, 17, 9);
  hmn_layer *straight = hmn_test_layer(&cfg, "opencl"), *first = hmn_test_layer(&cfg, "opencl");
  hmn_error err;
  hmn_test_run_stream(straight, 30);
  hmn_test_run_stream(first, 12);
  const char *path = hmn_test_path("opencl.ckpt");
  cr_assert_eq(hmn_layer_save(first, path, &err), HMN_OK, "%s", err.message);
  hmn_layer_destroy(first);
  hmn_layer *resumed = NULL;
  cr_assert_eq(hmn_layer_load(path, "opencl", &resumed, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_step_count(resumed), 12);
  hmn_test_run_stream(resumed, 18);
  hmn_test_assert_same_bits(straight, resumed, "checkpoint resume");
  hmn_layer_destroy(straight);
  hmn_layer_destroy(resumed);
}

/* A checkpoint moves between backends in both directions: the state
 * arrives bit for bit, and the next step agrees by SPEC 5. */
static void cross_backend(const char *from, const char *to) {
  hmn_config cfg;
  hmn_test_small_config(&cfg, 21, 8);
  hmn_layer *src = hmn_test_layer(&cfg, from);
  hmn_error err;
  hmn_test_run_stream(src, 15);
  char name[64];
  snprintf(name, sizeof name, "%s-to-%s.ckpt", from, to);
  const char *path = hmn_test_path(name);
  cr_assert_eq(hmn_layer_save(src, path, &err), HMN_OK, "%s", err.message);
  hmn_layer *dst = NULL;
  cr_assert_eq(hmn_layer_load(path, to, &dst, &err), HMN_OK, "%s", err.message);
  cr_assert_str_eq(hmn_layer_backend(dst), to);
  hmn_test_assert_same_bits(src, dst, name);

  /* Continue both; the pair helper compares each step. */
  hmn_test_pair pair = {strcmp(from, "ref") == 0 ? src : dst, strcmp(from, "ref") == 0 ? dst : src};
  hmn_task *task = NULL;
  cr_assert_eq(hmn_task_create("stream", &cfg, &task, &err), HMN_OK);
  size_t flips = 0;
  for (int s = 0; s < 10; s++) {
    hmn_step_input in;
    cr_assert_eq(hmn_task_input(task, hmn_layer_step_count(src), &in, &err), HMN_OK);
    flips += hmn_test_step_and_compare(&pair, &in, name);
  }
  cr_assert_leq(flips, 2);
  hmn_task_destroy(task);

  /* The same file restores into an existing layer of the other backend. */
  cr_assert_eq(hmn_layer_restore(dst, path, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_step_count(dst), 15);
  hmn_layer_destroy(src);
  hmn_layer_destroy(dst);
}

Test(opencl_state, checkpoint_ref_to_opencl) {
  HMN_TEST_REQUIRE_OPENCL();
  cross_backend("ref", "opencl");
}

Test(opencl_state, checkpoint_opencl_to_ref) {
  HMN_TEST_REQUIRE_OPENCL();
  cross_backend("opencl", "ref");
}

/* A checkpoint restore with other modes takes effect on the next step
 * (the modes are kernel arguments). */
Test(opencl_state, restore_with_other_modes) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_test_small_config(&cfg, 6, 5);
  cfg.activation = HMN_ACT_RELU;
  cfg.attention = HMN_ATTN_OFF;
  cfg.stochastic = 0;
  hmn_layer *src = hmn_test_layer(&cfg, "ref");
  hmn_test_run_stream(src, 5);
  hmn_error err;
  const char *path = hmn_test_path("modes.ckpt");
  cr_assert_eq(hmn_layer_save(src, path, &err), HMN_OK, "%s", err.message);
  hmn_config other;
  hmn_test_small_config(&other, 6, 5);
  hmn_test_pair pair = {src, hmn_test_layer(&other, "opencl")};
  hmn_test_run_stream(pair.ocl, 3);
  cr_assert_eq(hmn_layer_restore(pair.ocl, path, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_config(pair.ocl)->activation, HMN_ACT_RELU);
  hmn_test_inputs in;
  hmn_test_inputs_make(&cfg, 5, true, &in);
  cr_assert_eq(hmn_test_step_and_compare(&pair, &in.in, "restored modes"), 0);
  hmn_test_inputs_free(&in);
  hmn_layer_destroy(pair.ref);
  hmn_layer_destroy(pair.ocl);
}

Test(opencl_state, profile_counts_kernels) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_test_small_config(&cfg, 8, 4);
  hmn_layer *layer = hmn_test_layer(&cfg, "opencl"), *ref = hmn_test_layer(&cfg, "ref");
  hmn_error err;
  hmn_kernel_profile prof[8];
  size_t count = 99;
  cr_assert_eq(hmn_layer_profile(ref, prof, 8, &count, &err), HMN_OK);
  cr_assert_eq(count, 0, "ref has no kernels");
  cr_assert_eq(hmn_layer_profile(layer, prof, 8, &count, &err), HMN_OK);
  for (size_t k = 0; k < count; k++) cr_assert_eq(prof[k].calls, 0, "profiling is off by default");
  cr_assert_eq(hmn_layer_set_profiling(layer, 1, &err), HMN_OK);
  hmn_test_run_stream(layer, 5);
  cr_assert_eq(hmn_layer_profile(layer, prof, 8, &count, &err), HMN_OK);
  cr_assert_eq(count, 2);
  static const char *const names[] = {"hmn_step_row", HMN_PROFILE_UPLOAD_NAME};
  static const int kinds[] = {HMN_PROFILE_KERNEL, HMN_PROFILE_UPLOAD};
  for (size_t k = 0; k < count; k++) {
    cr_assert_str_eq(prof[k].name, names[k]);
    cr_assert_eq(prof[k].kind, kinds[k], "%s: kind %d", prof[k].name, prof[k].kind);
    /* Where the inputs travel through shared memory there is no write. */
    if (k < 1 || prof[k].calls != 0)
      cr_assert_eq(prof[k].calls, 5u, "%s: %llu calls", prof[k].name,
                   (unsigned long long)prof[k].calls);
    cr_assert_geq(prof[k].seconds, 0.0);
  }
  cr_assert_gt(prof[0].seconds, 0.0, "the row kernel took no time");
  /* The way without shared memory writes the inputs every step. */
  setenv("HMN_OPENCL_INPUTS", "write", 1);
  hmn_layer *written = hmn_test_layer(&cfg, "opencl");
  unsetenv("HMN_OPENCL_INPUTS");
  cr_assert_eq(hmn_layer_set_profiling(written, 1, &err), HMN_OK);
  hmn_test_run_stream(written, 5);
  cr_assert_eq(hmn_layer_profile(written, prof, 8, &count, &err), HMN_OK);
  cr_assert_eq(count, 2);
  cr_assert_eq(prof[1].calls, 5u, "write inputs: %llu calls", (unsigned long long)prof[1].calls);
  hmn_layer_destroy(written);
  /* Fewer slots than entries: the count still says how many exist. */
  cr_assert_eq(hmn_layer_profile(layer, prof, 1, &count, &err), HMN_OK);
  cr_assert_eq(count, 2);
  cr_assert_eq(hmn_layer_set_profiling(layer, 0, &err), HMN_OK);
  hmn_test_run_stream(layer, 2);
  cr_assert_eq(hmn_layer_profile(layer, prof, 8, &count, &err), HMN_OK);
  cr_assert_eq(prof[0].calls, 0, "switching profiling clears the totals");
  hmn_layer_destroy(layer);
  hmn_layer_destroy(ref);
}

Test(opencl_state, device_listing_and_selection) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_device_info devs[16];
  size_t count = 0;
  hmn_error err;
  cr_assert_eq(hmn_opencl_devices(devs, 16, &count, &err), HMN_OK, "%s", err.message);
  cr_assert_gt(count, 0);
  for (size_t k = 0; k < count && k < 16; k++) {
    cr_assert_eq(devs[k].index, (int)k);
    cr_assert_gt(strlen(devs[k].name), 0);
    cr_assert_gt(strlen(devs[k].platform), 0);
    cr_assert_gt(strlen(devs[k].version), 0);
    cr_assert_gt(devs[k].compute_units, 0);
    cr_assert_gt(devs[k].global_mem_bytes, 0);
  }
  cr_assert_str_eq(hmn_device_type_name(HMN_DEVICE_GPU), "GPU");

  hmn_config cfg;
  hmn_test_small_config(&cfg, 4, 2);
  hmn_layer *layer = NULL;
  cr_assert_eq(hmn_layer_create(&cfg, "opencl:0", &layer, &err), HMN_OK, "%s", err.message);
  cr_assert_str_eq(hmn_layer_device(layer), devs[0].name);
  cr_assert_str_eq(hmn_layer_backend(layer), "opencl");
  hmn_layer_destroy(layer);

  /* A name substring, in another case. */
  char part[8] = {0};
  for (size_t k = 0; k < 4 && devs[0].name[k] != '\0'; k++)
    part[k] = (char)(devs[0].name[k] ^ ((devs[0].name[k] >= 'a' && devs[0].name[k] <= 'z') ? 32 : 0));
  char spec[32];
  snprintf(spec, sizeof spec, "opencl:%s", part);
  cr_assert_eq(hmn_layer_create(&cfg, spec, &layer, &err), HMN_OK, "%s: %s", spec, err.message);
  hmn_layer_destroy(layer);

  layer = NULL;
  cr_assert_eq(hmn_layer_create(&cfg, "opencl:999", &layer, &err), HMN_EDEVICE);
  cr_assert(strstr(err.message, "999") != NULL && strstr(err.message, devs[0].name) != NULL,
            "%s", err.message);
  cr_assert_null(layer);
  cr_assert_eq(hmn_layer_create(&cfg, "opencl:no-such-device-xyz", &layer, &err), HMN_EDEVICE);
  cr_assert(strstr(err.message, "no-such-device-xyz") != NULL, "%s", err.message);
  cr_assert_eq(hmn_layer_create(&cfg, "ref:0", &layer, &err), HMN_EINVAL);
  cr_assert_eq(hmn_layer_create(&cfg, "cuda", &layer, &err), HMN_EBACKEND);

  /* HMN_DEVICE applies when the backend names no device. */
  setenv("HMN_DEVICE", "no-such-device-xyz", 1);
  cr_assert_eq(hmn_layer_create(&cfg, "opencl", &layer, &err), HMN_EDEVICE);
  cr_assert(strstr(err.message, "HMN_DEVICE") != NULL, "%s", err.message);
  setenv("HMN_DEVICE", "0", 1);
  cr_assert_eq(hmn_layer_create(&cfg, "opencl", &layer, &err), HMN_OK, "%s", err.message);
  hmn_layer_destroy(layer);
  unsetenv("HMN_DEVICE");
}

/* The cache stores one file per build; a damaged file is ignored and the
 * kernels build from source (and the file is written anew). */
Test(opencl_state, binary_cache_and_corrupt_entries) {
  HMN_TEST_REQUIRE_OPENCL();
  char dir[600];
  snprintf(dir, sizeof dir, "%s/cache", hmn_test_tmpdir());
  setenv("HMN_CACHE_DIR", dir, 1);
  hmn_config cfg;
  hmn_test_small_config(&cfg, 5, 3);
  hmn_layer *a = hmn_test_layer(&cfg, "opencl");
  hmn_test_run_stream(a, 5);

  char cmd[1400], file[800];
  snprintf(cmd, sizeof cmd, "ls %s/kernels-*.bin > %s/list", dir, hmn_test_tmpdir());
  cr_assert_eq(hmn_test_shell(cmd), 0, "no cache file in %s", dir);
  snprintf(file, sizeof file, "%s/list", hmn_test_tmpdir());
  size_t len = 0;
  char *list = (char *)hmn_test_read_file(file, &len);
  cr_assert_not_null(list);
  char *nl = memchr(list, '\n', len);
  cr_assert_not_null(nl);
  *nl = '\0';
  snprintf(file, sizeof file, "%s", list);
  free(list);

  size_t bin_len = 0;
  unsigned char *bin = hmn_test_read_file(file, &bin_len);
  cr_assert(bin != NULL && bin_len > 64);
  /* Damaged body, then a truncated file: each must fall back. */
  bin[bin_len / 2] ^= 0xff;
  cr_assert_eq(hmn_test_write_file(file, bin, bin_len), 0);
  hmn_layer *b = hmn_test_layer(&cfg, "opencl");
  hmn_test_run_stream(b, 5);
  hmn_test_assert_same_bits(a, b, "after a corrupt cache entry");
  hmn_layer_destroy(b);
  cr_assert_eq(hmn_test_write_file(file, bin, 20), 0);
  hmn_layer *c = hmn_test_layer(&cfg, "opencl");
  hmn_test_run_stream(c, 5);
  hmn_test_assert_same_bits(a, c, "after a truncated cache entry");
  hmn_layer_destroy(c);
  free(bin);
  /* The rebuild replaced the truncated entry (drivers may produce
   * binaries of another size, e.g. with kernels compiled since). */
  size_t fixed_len = 0;
  unsigned char *fixed = hmn_test_read_file(file, &fixed_len);
  cr_assert(fixed != NULL && fixed_len > 64 && memcmp(fixed, "HMNCLBN2", 8) == 0,
            "the rebuilt binary was not cached again");
  free(fixed);
  hmn_layer_destroy(a);
}

/* Copy the kernel sources into the test's directory, damaged. */
static const char *broken_kernel_dir(void) {
  static char dir[600];
  char cmd[1600];
  snprintf(dir, sizeof dir, "%s/broken-kernels", hmn_test_tmpdir());
  snprintf(cmd, sizeof cmd, "mkdir -p %s && cp %s/kernels/*.h %s/kernels/*.cl %s/", dir,
           HMN_SOURCE_DIR, HMN_SOURCE_DIR, dir);
  cr_assert_eq(hmn_test_shell(cmd), 0, "%s", cmd);
  char path[700];
  snprintf(path, sizeof path, "%s/hmn_step.cl", dir);
  FILE *f = fopen(path, "a");
  cr_assert_not_null(f);
  fputs("\nthis_is_not_opencl_c broken_on_purpose;\n", f);
  fclose(f);
  return dir;
}

Test(opencl_state, failed_build_reports_the_log) {
  HMN_TEST_REQUIRE_OPENCL();
  setenv("HMN_KERNEL_DIR", broken_kernel_dir(), 1);
  hmn_config cfg;
  hmn_test_small_config(&cfg, 5, 3);
  hmn_layer *layer = NULL;
  hmn_error err;
  cr_assert_eq(hmn_layer_create(&cfg, "opencl", &layer, &err), HMN_EBUILD, "%s", err.message);
  cr_assert_null(layer);
  cr_log_info("%s", err.message);
  cr_assert(strstr(err.message, "build log") != NULL, "%s", err.message);
  cr_assert(strstr(err.message, "hmn_step.cl") != NULL, "%s", err.message);
  cr_assert(strstr(err.message, "this_is_not_opencl_c") != NULL, "%s", err.message);

  setenv("HMN_KERNEL_DIR", "/nonexistent-hmn-kernels", 1);
  cr_assert_eq(hmn_layer_create(&cfg, "opencl", &layer, &err), HMN_EIO, "%s", err.message);
  cr_assert(strstr(err.message, "/nonexistent-hmn-kernels/hmn_port.h") != NULL, "%s",
            err.message);
  unsetenv("HMN_KERNEL_DIR");
}

Test(opencl_state, kernel_defines_override_tunables) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_test_small_config(&cfg, 19, 6);
  hmn_layer *a = hmn_test_layer(&cfg, "opencl");
  /* Other work-group sizes and vector widths change scheduling only: the
   * same bits (19 inputs also leave a partial vector at every row's end). */
  setenv("HMN_KERNEL_DEFINES", "HMN_VEC=4", 1);
  hmn_layer *b = hmn_test_layer(&cfg, "opencl");
  setenv("HMN_KERNEL_DEFINES", "HMN_VEC=2 HMN_SUM_LANES=64", 1);
  hmn_layer *b2 = hmn_test_layer(&cfg, "opencl");
  unsetenv("HMN_KERNEL_DEFINES");
  /* The inputs written to a device buffer instead of read from shared
   * memory (where the device has it): the same bits. 80 steps pass the
   * ring of input slots (64) and its waits. */
  setenv("HMN_OPENCL_INPUTS", "write", 1);
  hmn_layer *b3 = hmn_test_layer(&cfg, "opencl");
  unsetenv("HMN_OPENCL_INPUTS");
  hmn_layer *a2 = hmn_test_layer(&cfg, "opencl");
  hmn_test_run_stream(a, 20);
  hmn_test_run_stream(b, 20);
  hmn_test_run_stream(b2, 20);
  hmn_test_run_stream(a2, 80);
  hmn_test_run_stream(b3, 80);
  hmn_test_assert_same_bits(a, b, "other work-group sizes");
  hmn_test_assert_same_bits(a, b2, "other vector widths");
  hmn_test_assert_same_bits(a2, b3, "inputs written, not shared");
  hmn_layer_destroy(a);
  hmn_layer_destroy(b);
  hmn_layer_destroy(b2);
  hmn_layer_destroy(a2);
  hmn_layer_destroy(b3);
  hmn_layer *c = NULL;
  hmn_error err;
  setenv("HMN_KERNEL_DEFINES", "HMN_SUM_LANES=3", 1);
  cr_assert_eq(hmn_layer_create(&cfg, "opencl", &c, &err), HMN_EBUILD);
  cr_assert(strstr(err.message, "HMN_SUM_LANES must be a power of two") != NULL, "%s",
            err.message);
  setenv("HMN_KERNEL_DEFINES", "9BAD=1", 1);
  cr_assert_eq(hmn_layer_create(&cfg, "opencl", &c, &err), HMN_EINVAL);
  unsetenv("HMN_KERNEL_DEFINES");
}

/* Fail each allocation of creating and running an OpenCL layer in turn:
 * every attempt fails cleanly with ENOMEM or gets by without the memory
 * (the binary cache is optional), and ASan sees no leak either way. */
Test(opencl_state, failed_allocations_leave_nothing_behind, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_test_small_config(&cfg, 4, 3);
  bool succeeded = false;
  for (long n = 1; n < 80 && !succeeded; n++) {
    hmn_layer *layer = NULL;
    hmn_error err;
    hmn__alloc_fail_after(n);
    int rc = hmn_layer_create(&cfg, "opencl", &layer, &err);
    if (rc == HMN_OK) {
      hmn_step_stats stats;
      hmn_test_inputs in;
      hmn_test_inputs_make(&cfg, 3, true, &in);
      rc = hmn_layer_step(layer, &in.in, &err);
      if (rc == HMN_OK) rc = hmn_layer_stats(layer, &stats, &err);
      if (rc == HMN_OK) rc = hmn_layer_snapshot_save(layer, &err);
      hmn_test_inputs_free(&in);
      hmn_layer_destroy(layer);
      succeeded = rc == HMN_OK && n > 40;
    } else {
      cr_assert_null(layer);
    }
    hmn__alloc_fail_after(0);
    cr_assert(rc == HMN_OK || rc == HMN_ENOMEM, "allocation %ld: %s", n, err.message);
  }
}

/* The names of the cache entries in `dir`, one per line, into `out`. */
static void cache_entries(const char *dir, char *out, size_t size) {
  char cmd[1400], list[800];
  snprintf(list, sizeof list, "%s/entries", hmn_test_tmpdir());
  snprintf(cmd, sizeof cmd, "ls %s/kernels-*.bin > %s 2>/dev/null; true", dir, list);
  cr_assert_eq(hmn_test_shell(cmd), 0);
  size_t len = 0;
  char *text = (char *)hmn_test_read_file(list, &len);
  cr_assert_not_null(text);
  snprintf(out, size, "%.*s", (int)len, text);
  free(text);
}

/* An entry of one build planted under another build's name, with the key
 * in its header rewritten to the other build's, must not load: its
 * kernels were compiled for another shape and would write past the
 * buffers. The layer builds from source and runs bit for bit as without
 * a cache. */
Test(opencl_state, planted_cache_entry_is_refused, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  char dir[600];
  snprintf(dir, sizeof dir, "%s/planted", hmn_test_tmpdir());
  setenv("HMN_CACHE_DIR", dir, 1);
  hmn_config small, big;
  hmn_test_small_config(&small, 3, 2);
  hmn_test_small_config(&big, 37, 9);
  hmn_layer *a = hmn_test_layer(&small, "opencl");
  hmn_layer_destroy(a);
  char before[4096], after[4096];
  cache_entries(dir, before, sizeof before);
  hmn_layer *b = hmn_test_layer(&big, "opencl");
  hmn_test_run_stream(b, 6);
  cache_entries(dir, after, sizeof after);
  /* The entries are sorted names: the small build's is the one line of
   * `before`, the big build's the line of `after` that is new. */
  char small_file[800], big_file[800];
  cr_assert_not_null(strchr(before, '\n'), "no cache entry in %s", dir);
  snprintf(small_file, sizeof small_file, "%.*s", (int)(strchr(before, '\n') - before), before);
  big_file[0] = '\0';
  for (char *line = after; *line != '\0';) {
    char *nl = strchr(line, '\n');
    cr_assert_not_null(nl);
    *nl = '\0';
    if (strcmp(line, small_file) != 0) snprintf(big_file, sizeof big_file, "%.700s", line);
    line = nl + 1;
  }
  cr_assert(big_file[0] != '\0', "the second shape left no entry of its own");

  size_t small_len = 0, big_len = 0;
  unsigned char *planted = hmn_test_read_file(small_file, &small_len);
  unsigned char *genuine = hmn_test_read_file(big_file, &big_len);
  cr_assert(planted != NULL && genuine != NULL && small_len > 80 && big_len > 80);
  /* The key: 32 bytes after the 8-byte magic. */
  memcpy(planted + 8, genuine + 8, 32);
  cr_assert_eq(hmn_test_write_file(big_file, planted, small_len), 0);

  hmn_layer *c = hmn_test_layer(&big, "opencl");
  hmn_test_run_stream(c, 6);
  hmn_test_assert_same_bits(b, c, "after a planted cache entry");
  hmn_layer_destroy(c);
  /* The rebuild put the genuine entry back. */
  size_t fixed_len = 0;
  unsigned char *fixed = hmn_test_read_file(big_file, &fixed_len);
  cr_assert_not_null(fixed);
  cr_assert(fixed_len != small_len || memcmp(fixed, planted, small_len) != 0,
            "the planted entry is still in place");
  free(fixed);
  free(planted);
  free(genuine);
  hmn_layer_destroy(b);
}

/* A cache folder that others may write into is refused with a message
 * that names it; the layer still builds (from source) and the folder
 * gets no entry. */
Test(opencl_state, cache_folder_writable_by_others_is_refused, .timeout = 300) {
  char dir[600], got[4096];
  hmn_error err;
  snprintf(dir, sizeof dir, "%s/shared-cache", hmn_test_tmpdir());
  cr_assert_eq(mkdir(dir, 0700), 0);
  setenv("HMN_CACHE_DIR", dir, 1);
  cr_assert_eq(hmn_kernel_cache_dir(got, sizeof got, &err), HMN_OK, "%s", err.message);
  cr_assert_str_eq(got, dir);
  cr_assert_eq(chmod(dir, 0777), 0);
  cr_assert_eq(hmn_kernel_cache_dir(got, sizeof got, &err), HMN_EIO);
  cr_assert(strstr(err.message, dir) != NULL && strstr(err.message, "writable") != NULL, "%s",
            err.message);
  cr_assert_eq(chmod(dir, 0720), 0);
  cr_assert_eq(hmn_kernel_cache_dir(got, sizeof got, &err), HMN_EIO);
  cr_assert(strstr(err.message, "group") != NULL, "%s", err.message);
  /* A file where the folder should be. */
  char file[700];
  snprintf(file, sizeof file, "%s/plain", dir);
  cr_assert_eq(hmn_test_write_file(file, "x", 1), 0);
  setenv("HMN_CACHE_DIR", file, 1);
  cr_assert_neq(hmn_kernel_cache_dir(got, sizeof got, &err), HMN_OK);
  cr_assert(strstr(err.message, file) != NULL, "%s", err.message);
  setenv("HMN_CACHE", "off", 1);
  cr_assert_eq(hmn_kernel_cache_dir(got, sizeof got, &err), HMN_OK);
  cr_assert_str_eq(got, "");
  unsetenv("HMN_CACHE");

  HMN_TEST_REQUIRE_OPENCL();
  setenv("HMN_CACHE_DIR", dir, 1);
  cr_assert_eq(chmod(dir, 0777), 0);
  hmn_config cfg;
  hmn_test_small_config(&cfg, 4, 3);
  hmn_layer *layer = hmn_test_layer(&cfg, "opencl");
  hmn_test_run_stream(layer, 3);
  hmn_layer_destroy(layer);
  char entries[4096];
  cache_entries(dir, entries, sizeof entries);
  cr_assert_str_eq(entries, "", "a refused folder got entries: %s", entries);
}
