/*
 * test_opencl_tools.c - the OpenCL backend seen from outside: Oclgrind
 * finds no race and no uninitialized or invalid access in any kernel; the
 * result does not depend on PoCL's thread count; `hmn devices` and the
 * default backend of `hmn run`, with and without a device.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "opencl_support.h"
#include "support.h"

TestSuite(opencl_tools);

static const char *hmn_bin(void) {
  const char *bin = getenv("HMN_BIN");
  if (bin == NULL) cr_skip_test("HMN_BIN is not set (run the tests through ctest)");
  return bin;
}

/* Run `command` through the shell with its output in `out_name` (under
 * the test's directory); returns the exit status and the output. */
static int run_capture(const char *command, const char *out_name, char **output) {
  char full[4096];
  const char *out = hmn_test_path(out_name);
  snprintf(full, sizeof full, "%s > '%s' 2>&1", command, out);
  int status = hmn_test_shell(full);
  size_t len = 0;
  unsigned char *text = hmn_test_read_file(hmn_test_path(out_name), &len);
  cr_assert_not_null(text, "no output file for: %s", command);
  char *s = malloc(len + 1);
  cr_assert_not_null(s);
  memcpy(s, text, len);
  s[len] = '\0';
  free(text);
  *output = s;
  return status;
}

Test(opencl_tools, oclgrind_finds_nothing, .timeout = 300) {
  /* Between them the runs take every branch of every kernel, the fourth
   * spans several work-groups of each, and the last has rows of whole
   * aligned vectors (the HMN_ROW_ALIGNED loads and stores). */
  static const char *const configs[] = {
      "--set n_in=5 --set n_out=3",
      "--set n_in=7 --set n_out=2 --set attention=softmax_n --set similarity=dot "
      "--set activation=relu --set delay_len=1 --set inhibitory_fraction=0.5 "
      "--set astro_lambda=1",
      "--set n_in=1 --set n_out=1 --set n_mod=1 --set d_ctx=1 --set astro_source=0 "
      "--set attention=off --set global_attention=off --set phase_gate=off "
      "--set stochastic=off --set activation=sigmoid",
      "--set n_in=70 --set n_out=17 --set activation=linear --set noise_sigma=0",
      "--set n_in=64 --set n_out=3 --set delay_len=3",
  };
  hmn_test_oclgrind_clean("run --steps 3", "opencl", "", configs,
                          sizeof configs / sizeof configs[0]);
}

/* Several steps to a launch (hmn_layer_step_many, through the bench's
 * --batch): 20 steps in calls of 7 are launches of 7, 7, 2 (the end of the
 * ring's group of 16 slots) and 4, each reading one half of the delay line
 * and writing the other. The delay lines are shorter than a launch, one
 * step long, and long enough for the element-by-element path (D > 8). */
Test(opencl_tools, oclgrind_finds_nothing_in_step_many, .timeout = 300) {
  static const char *const configs[] = {
      "--size 7x3 --set delay_len=3",
      "--size 64x2 --set delay_len=1",
      "--size 19x2 --set delay_len=10",
  };
  hmn_test_oclgrind_clean("bench --batch 7 --steps 20 --repeats 1 --warmup 0 --no-probe "
                          "--no-profile --meter none",
                          "opencl", "", configs, sizeof configs / sizeof configs[0]);
}

/* Work-groups run on however many threads PoCL has; the bits must not
 * care. Each run saves a checkpoint; loaded back, they must be equal. */
Test(opencl_tools, thread_count_does_not_change_bits, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  const char *bin = hmn_bin();
  static const int threads[] = {1, 2, 3};
  hmn_layer *first = NULL;
  for (size_t k = 0; k < sizeof threads / sizeof threads[0]; k++) {
    char ckpt[64], command[2048];
    snprintf(ckpt, sizeof ckpt, "threads-%d.ckpt", threads[k]);
    snprintf(command, sizeof command,
             "POCL_MAX_PTHREAD_COUNT=%d POCL_CPU_MAX_CU_COUNT=%d '%s' run --backend opencl "
             "--steps 25 --set n_in=203 --set n_out=53 --checkpoint '%s' --quiet",
             threads[k], threads[k], bin, hmn_test_path(ckpt));
    char *output = NULL;
    int status = run_capture(command, "threads.log", &output);
    cr_assert_eq(status, 0, "%s\n%s", command, output);
    free(output);
    hmn_layer *layer = NULL;
    hmn_error err;
    cr_assert_eq(hmn_layer_load(hmn_test_path(ckpt), "ref", &layer, &err), HMN_OK, "%s",
                 err.message);
    cr_assert_eq(hmn_layer_step_count(layer), 25);
    if (first == NULL) {
      first = layer;
    } else {
      char what[64];
      snprintf(what, sizeof what, "%d threads vs %d", threads[k], threads[0]);
      hmn_test_assert_same_bits(first, layer, what);
      hmn_layer_destroy(layer);
    }
  }
  hmn_layer_destroy(first);
}

Test(opencl_tools, devices_command_and_default_backend) {
  HMN_TEST_REQUIRE_OPENCL();
  const char *bin = hmn_bin();
  hmn_device_info dev;
  size_t count = 0;
  hmn_error err;
  cr_assert_eq(hmn_opencl_devices(&dev, 1, &count, &err), HMN_OK);
  char command[1200];
  char *output = NULL;
  snprintf(command, sizeof command, "'%s' devices", bin);
  cr_assert_eq(run_capture(command, "devices.log", &output), 0, "%s", output);
  cr_assert(strstr(output, "platform: ") != NULL && strstr(output, dev.name) != NULL &&
                strstr(output, "compute units") != NULL,
            "%s", output);
  free(output);

  /* The stream task: the bandit defaults to ref (its policy rule needs
   * the forward/learn split). */
  snprintf(command, sizeof command, "HMN_DEVICE= '%s' run --steps 3 --quiet --task stream --set n_in=4",
           bin);
  cr_assert_eq(run_capture(command, "run.log", &output), 0, "%s", output);
  cr_assert(strstr(output, "backend opencl") != NULL, "not on opencl by default:\n%s", output);
  free(output);

  snprintf(command, sizeof command, "'%s' run --device 0 --steps 2 --quiet --set n_in=4", bin);
  cr_assert_eq(run_capture(command, "run.log", &output), 0, "%s", output);
  cr_assert(strstr(output, dev.name) != NULL, "%s", output);
  free(output);

  snprintf(command, sizeof command, "'%s' run --backend ref --device 0 --steps 2 --quiet", bin);
  cr_assert_eq(run_capture(command, "run.log", &output), 2, "%s", output);
  cr_assert(strstr(output, "--device") != NULL, "%s", output);
  free(output);

  snprintf(command, sizeof command, "'%s' run --device no-such-device-xyz --steps 2 --quiet",
           bin);
  cr_assert_eq(run_capture(command, "run.log", &output), 1, "%s", output);
  cr_assert(strstr(output, "no-such-device-xyz") != NULL, "%s", output);
  free(output);
}

/* With no OpenCL platform at all (the ICD loader pointed at an empty
 * directory), `hmn devices` says so and `hmn run` falls back to ref. */
Test(opencl_tools, no_device_falls_back_to_ref) {
  const char *bin = hmn_bin();
  char empty[700], command[2048];
  snprintf(empty, sizeof empty, "%s/no-icds", hmn_test_tmpdir());
  snprintf(command, sizeof command, "mkdir -p '%s'", empty);
  cr_assert_eq(hmn_test_shell(command), 0);
  char *output = NULL;
  snprintf(command, sizeof command, "OCL_ICD_VENDORS='%s' '%s' devices", empty, bin);
  cr_assert_eq(run_capture(command, "none.log", &output), 0, "%s", output);
  cr_assert(strstr(output, "No OpenCL device found") != NULL, "%s", output);
  free(output);
  /* The stream task, which defaults to opencl (the bandit defaults to ref). */
  snprintf(command, sizeof command, "OCL_ICD_VENDORS='%s' '%s' run --steps 3 --quiet --task stream",
           empty, bin);
  cr_assert_eq(run_capture(command, "none.log", &output), 0, "%s", output);
  cr_assert(strstr(output, "no OpenCL device found, using the ref backend") != NULL &&
                strstr(output, "backend ref") != NULL,
            "%s", output);
  free(output);
  snprintf(command, sizeof command, "OCL_ICD_VENDORS='%s' '%s' run --backend opencl --steps 3",
           empty, bin);
  cr_assert_eq(run_capture(command, "none.log", &output), 2, "%s", output);
  cr_assert(strstr(output, "no OpenCL device found") != NULL, "%s", output);
  free(output);
}
