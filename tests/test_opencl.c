/*
 * test_opencl.c - the OpenCL backend agrees with ref (SPEC section 5) beyond
 * the backend matrix (test_backend_matrix.c: every mode combination, odd
 * shapes): a large layer, and 200-step runs whose borderline stochastic
 * flips are counted, reported and bounded; the vector exponential has the
 * scalar's bits.
 */
/* clCreateCommandQueue is the queue call that OpenCL 1.2 devices have. */
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hmn_math.h"
#include "internal.h"
#include "opencl/opencl.h"
#include "opencl_support.h"
#include "support.h"

TestSuite(opencl);

/* Parameters that make every mechanism matter in a random state. */


Test(opencl, large_layer_matches_ref, .timeout = 900) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_test_busy_config(&cfg, 4096, 4096);
  hmn_test_pair pair;
  hmn_test_pair_create(&cfg, &pair);
  hmn_test_pair_randomize(&pair, 4096, 31);
  size_t flips = 0;
  for (int s = 0; s < 2; s++) {
    hmn_test_inputs in;
    hmn_test_inputs_make(&cfg, 4096u + (uint32_t)s, s == 0, &in);
    flips += hmn_test_step_and_compare(&pair, &in.in, "4096 x 4096");
    hmn_test_inputs_free(&in);
  }
  hmn_test_pair_destroy(&pair);
  cr_log_info("4096 x 4096, 2 steps: %zu borderline stochastic flips of 33554432 decisions", flips);
  cr_assert_leq(flips, 20);
}

/* 200 steps of the stream task against ref. A flip needs |u - p| within
 * rounding: about 1e-6 of the decisions at most; the bound leaves room
 * for chance. */
static void long_run(const hmn_config *cfg, const char *what) {
  size_t decisions = (size_t)200 * (size_t)cfg->n_in * (size_t)cfg->n_out;
  size_t flips = hmn_test_long_run(cfg, "opencl", 200, what);
  cr_assert_leq(flips, 10 + decisions / 100000, "%s: %zu flips", what, flips);
}

Test(opencl, two_hundred_steps_agree, .timeout = 600) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_test_small_config(&cfg, 64, 32);
  long_run(&cfg, "defaults 64 x 32");
  /* Larger learning rates make many decisions close to p ~ 0.5. */
  hmn_test_busy_config(&cfg, 48, 24);
  cfg.eta_local = 0.01f;
  cfg.eta_global = 0.05f;
  cfg.activation = HMN_ACT_SIGMOID;
  long_run(&cfg, "busy 48 x 24");
}

Test(opencl, bad_input_leaves_layer_unchanged) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_test_busy_config(&cfg, 4, 3);
  hmn_layer *layer = NULL;
  hmn_error err;
  cr_assert_eq(hmn_layer_create(&cfg, "opencl", &layer, &err), HMN_OK, "%s", err.message);
  hmn_test_run_stream(layer, 2);
  float w0[12], w1[12];
  cr_assert_eq(hmn_layer_read(layer, HMN_ARRAY_W, w0, sizeof w0, &err), HMN_OK);
  hmn_test_inputs in;
  hmn_test_inputs_make(&cfg, 9, true, &in);
  in.x[2] = 1.0f / 0.0f;
  cr_assert_eq(hmn_layer_step(layer, &in.in, &err), HMN_ENUMERIC);
  cr_assert(strstr(err.message, "x[2]") != NULL && strstr(err.message, "step 2") != NULL, "%s",
            err.message);
  cr_assert_eq(hmn_layer_step_count(layer), 2);
  cr_assert_eq(hmn_layer_read(layer, HMN_ARRAY_W, w1, sizeof w1, &err), HMN_OK);
  cr_assert_eq(memcmp(w0, w1, sizeof w0), 0);
  hmn_test_inputs_free(&in);
  hmn_layer_destroy(layer);
}

/* Sharp attention: logits in the thousands, where a softmax without the
 * row maximum overflows, and beyond float range, where they clamp. */
Test(opencl, extreme_logits_match_ref, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  static const float betas[][2] = {{1e4f, 1e5f}, {3e38f, 3e38f}, {1e-30f, 1e-30f}};
  size_t flips = 0;
  for (size_t b = 0; b < sizeof betas / sizeof betas[0]; b++)
    for (int similarity = 0; similarity < 2; similarity++) {
      hmn_config cfg;
      hmn_test_busy_config(&cfg, 37, 13);
      cfg.beta_attn = betas[b][0];
      cfg.beta_global = betas[b][1];
      cfg.similarity = similarity;
      char what[96];
      snprintf(what, sizeof what, "beta_attn %g, beta_global %g, similarity %d",
               (double)betas[b][0], (double)betas[b][1], similarity);
      flips += hmn_test_compare_steps(&cfg, "opencl", 500u + (uint32_t)b, 3, what);
    }
  cr_log_info("extreme logits: %zu borderline stochastic flips", flips);
  cr_assert_leq(flips, 2);
}

/* The vector exponential (hmnk_exp_v, with its fast path for vectors
 * whose every lane is in range) gives, lane by lane, the bits of the
 * scalar hmnk_exp, here compiled as C on the host: the kernels rely on
 * the two being one function (hmn_math.h). Vectors in range take the
 * fast path, vectors with one lane out of range or special the general
 * one. */
Test(opencl, vector_exp_lanes_equal_scalar_bits) {
  HMN_TEST_REQUIRE_OPENCL();
  enum { LANES = 16, VECTORS = 4096 };
  static float x[LANES * VECTORS], y[LANES * VECTORS];
  static const float specials[] = {-200.0f, 100.0f, -104.5f, 89.5f, -87.5f, 88.5f,
                                   -86.0f,  88.0f,  0.0f,    -0.0f, INFINITY, -INFINITY, NAN};
  uint32_t state = 12345u;
  for (int v = 0; v < VECTORS; v++)
    for (int l = 0; l < LANES; l++) {
      state = state * 1664525u + 1013904223u;
      /* In [-86, 88], which every lane of the first half keeps. */
      x[v * LANES + l] = -86.0f + 174.0f * (float)(state >> 8) / 16777216.0f;
    }
  for (int v = VECTORS / 2; v < VECTORS; v++)
    x[v * LANES + v % LANES] = specials[(size_t)v % (sizeof specials / sizeof specials[0])];

  hmn__cl_device dev;
  hmn_error err;
  cr_assert_eq(hmn__cl_device_select(NULL, &dev, &err), HMN_OK, "%s", err.message);
  cl_int e = CL_SUCCESS;
  cl_context ctx = clCreateContext(NULL, 1, &dev.device, NULL, NULL, &e);
  cr_assert_eq(e, CL_SUCCESS);
  cl_command_queue queue = clCreateCommandQueue(ctx, dev.device, 0, &e);
  cr_assert_eq(e, CL_SUCCESS);
  const char *source = "#include \"hmn_math.h\"\n"
                       "__kernel void exp_lanes(__global const float *x, __global float *y) {\n"
                       "  size_t v = get_global_id(0);\n"
                       "  hmnk_vstore(hmnk_exp_v(hmnk_vload(v, x)), v, y);\n"
                       "}\n";
  cl_program program = clCreateProgramWithSource(ctx, 1, &source, NULL, &e);
  cr_assert_eq(e, CL_SUCCESS);
  e = clBuildProgram(program, 1, &dev.device, "-I " HMN_SOURCE_DIR "/kernels", NULL, NULL);
  if (e != CL_SUCCESS) {
    char log[4096] = "";
    clGetProgramBuildInfo(program, dev.device, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
    cr_assert_fail("building the exp test kernel on '%s': %s\n%s", dev.info.name,
                   hmn__cl_error_name(e), log);
  }
  cl_kernel kernel = clCreateKernel(program, "exp_lanes", &e);
  cr_assert_eq(e, CL_SUCCESS);
  cl_mem x_buf = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof x, x, &e);
  cr_assert_eq(e, CL_SUCCESS);
  cl_mem y_buf = clCreateBuffer(ctx, CL_MEM_WRITE_ONLY, sizeof y, NULL, &e);
  cr_assert_eq(e, CL_SUCCESS);
  cr_assert_eq(clSetKernelArg(kernel, 0, sizeof x_buf, &x_buf), CL_SUCCESS);
  cr_assert_eq(clSetKernelArg(kernel, 1, sizeof y_buf, &y_buf), CL_SUCCESS);
  size_t global = VECTORS;
  cr_assert_eq(clEnqueueNDRangeKernel(queue, kernel, 1, NULL, &global, NULL, 0, NULL, NULL),
               CL_SUCCESS);
  cr_assert_eq(clEnqueueReadBuffer(queue, y_buf, CL_TRUE, 0, sizeof y, y, 0, NULL, NULL),
               CL_SUCCESS);
  size_t differ = 0;
  for (size_t k = 0; k < LANES * VECTORS; k++) {
    float want = hmnk_exp(x[k]);
    uint32_t got_bits, want_bits;
    memcpy(&got_bits, &y[k], sizeof got_bits);
    memcpy(&want_bits, &want, sizeof want_bits);
    bool same = isnan(want) ? isnan(y[k]) : got_bits == want_bits;
    if (!same && differ++ < 5)
      cr_log_error("exp(%.9g): vector %.9g, scalar %.9g", (double)x[k], (double)y[k],
                   (double)want);
  }
  cr_assert_eq(differ, 0, "%zu of %d lanes differ from the scalar exp on '%s'", differ,
               LANES * VECTORS, dev.info.name);
  clReleaseMemObject(x_buf);
  clReleaseMemObject(y_buf);
  clReleaseKernel(kernel);
  clReleaseProgram(program);
  clReleaseCommandQueue(queue);
  clReleaseContext(ctx);
}
