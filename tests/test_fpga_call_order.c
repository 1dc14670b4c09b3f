/*
 * test_fpga_call_order.c - the opencl-fpga backend binds every buffer to
 * its kernel argument before it enqueues anything on it. XRT's OpenCL
 * layer picks the memory bank of a buffer from the port of the argument
 * it is bound to, and only when the binding precedes the buffer's first
 * use (UG1393, "Buffer Allocation on the Device"); PoCL does not care,
 * so the order is checked directly.
 *
 * The interposer: this executable defines the OpenCL entry points the
 * backend uses, so that the library's calls (linked into it statically)
 * land here, are recorded, and go on to the ICD loader through
 * dlsym(RTLD_NEXT).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <string.h>

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include "opencl_support.h"
#include "support.h"
/* (after hmn.h, as the interface tables ask) */
#include "hmn_fpga_params.h"

TestSuite(fpga_call_order);

enum { REC_CREATE, REC_SET_ARG, REC_ENQUEUE };
typedef struct {
  int what;
  cl_mem mem; /* NULL for an enqueue that names no buffer (a launch) */
  cl_uint arg;
} rec_entry;

#define REC_MAX 4096
static rec_entry rec_log[REC_MAX];
static size_t rec_count;
static bool rec_on;

static void rec(int what, cl_mem mem, cl_uint arg) {
  if (!rec_on || rec_count >= REC_MAX) return;
  rec_log[rec_count].what = what;
  rec_log[rec_count].mem = mem;
  rec_log[rec_count].arg = arg;
  rec_count++;
}

/* The next definition of `name` after this executable's: the loader's. */
static void *next_fn(const char *name) {
  void *fn = dlsym(RTLD_NEXT, name);
  cr_assert_not_null(fn, "no %s after the interposer", name);
  return fn;
}

cl_mem clCreateBuffer(cl_context ctx, cl_mem_flags flags, size_t size, void *host, cl_int *e) {
  cl_mem (*real)(cl_context, cl_mem_flags, size_t, void *, cl_int *) =
      (cl_mem(*)(cl_context, cl_mem_flags, size_t, void *, cl_int *))next_fn("clCreateBuffer");
  cl_mem m = real(ctx, flags, size, host, e);
  rec(REC_CREATE, m, 0);
  return m;
}

cl_int clSetKernelArg(cl_kernel k, cl_uint index, size_t size, const void *value) {
  cl_int (*real)(cl_kernel, cl_uint, size_t, const void *) =
      (cl_int(*)(cl_kernel, cl_uint, size_t, const void *))next_fn("clSetKernelArg");
  cl_mem m = NULL;
  if (size == sizeof(cl_mem) && value != NULL) memcpy(&m, value, sizeof m);
  /* Only values that are buffers this run created count as bindings. */
  bool is_buffer = false;
  for (size_t k2 = 0; k2 < rec_count && m != NULL; k2++)
    if (rec_log[k2].what == REC_CREATE && rec_log[k2].mem == m) is_buffer = true;
  if (is_buffer) rec(REC_SET_ARG, m, index);
  return real(k, index, size, value);
}

cl_int clEnqueueWriteBuffer(cl_command_queue q, cl_mem m, cl_bool blocking, size_t off,
                            size_t size, const void *p, cl_uint n, const cl_event *wait,
                            cl_event *ev) {
  cl_int (*real)(cl_command_queue, cl_mem, cl_bool, size_t, size_t, const void *, cl_uint,
                 const cl_event *, cl_event *) =
      (cl_int(*)(cl_command_queue, cl_mem, cl_bool, size_t, size_t, const void *, cl_uint,
                 const cl_event *, cl_event *))next_fn("clEnqueueWriteBuffer");
  rec(REC_ENQUEUE, m, 0);
  return real(q, m, blocking, off, size, p, n, wait, ev);
}

cl_int clEnqueueReadBuffer(cl_command_queue q, cl_mem m, cl_bool blocking, size_t off,
                           size_t size, void *p, cl_uint n, const cl_event *wait, cl_event *ev) {
  cl_int (*real)(cl_command_queue, cl_mem, cl_bool, size_t, size_t, void *, cl_uint,
                 const cl_event *, cl_event *) =
      (cl_int(*)(cl_command_queue, cl_mem, cl_bool, size_t, size_t, void *, cl_uint,
                 const cl_event *, cl_event *))next_fn("clEnqueueReadBuffer");
  rec(REC_ENQUEUE, m, 0);
  return real(q, m, blocking, off, size, p, n, wait, ev);
}

cl_int clEnqueueCopyBuffer(cl_command_queue q, cl_mem src, cl_mem dst, size_t so, size_t d_off,
                           size_t size, cl_uint n, const cl_event *wait, cl_event *ev) {
  cl_int (*real)(cl_command_queue, cl_mem, cl_mem, size_t, size_t, size_t, cl_uint,
                 const cl_event *, cl_event *) =
      (cl_int(*)(cl_command_queue, cl_mem, cl_mem, size_t, size_t, size_t, cl_uint,
                 const cl_event *, cl_event *))next_fn("clEnqueueCopyBuffer");
  rec(REC_ENQUEUE, src, 0);
  rec(REC_ENQUEUE, dst, 0);
  return real(q, src, dst, so, d_off, size, n, wait, ev);
}

cl_int clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dims, const size_t *off,
                              const size_t *global, const size_t *local, cl_uint n,
                              const cl_event *wait, cl_event *ev) {
  cl_int (*real)(cl_command_queue, cl_kernel, cl_uint, const size_t *, const size_t *,
                 const size_t *, cl_uint, const cl_event *, cl_event *) =
      (cl_int(*)(cl_command_queue, cl_kernel, cl_uint, const size_t *, const size_t *,
                 const size_t *, cl_uint, const cl_event *,
                 cl_event *))next_fn("clEnqueueNDRangeKernel");
  rec(REC_ENQUEUE, NULL, 0);
  return real(q, k, dims, off, global, local, n, wait, ev);
}

/* Creating a layer and stepping it: every buffer that is ever a kernel
 * argument was bound before the first enqueue of any kind, and all
 * HMN_FPGA_ARG buffers were bound. */
Test(fpga_call_order, arguments_are_bound_before_the_first_enqueue, .timeout = 600) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_test_busy_config(&cfg, 21, 6);
  rec_count = 0;
  rec_on = true;
  hmn_layer *layer = hmn_test_layer(&cfg, "opencl-fpga");
  hmn_test_inputs in;
  hmn_test_inputs_make(&cfg, 7, false, &in);
  hmn_error err;
  cr_assert_eq(hmn_layer_step(layer, &in.in, &err), HMN_OK, "%s", err.message);
  hmn_test_inputs_free(&in);
  rec_on = false;
  hmn_layer_destroy(layer);

  size_t first_enqueue = rec_count, bound = 0;
  for (size_t k = 0; k < rec_count; k++)
    if (rec_log[k].what == REC_ENQUEUE) {
      first_enqueue = k;
      break;
    }
  cr_assert_lt(first_enqueue, rec_count, "the run enqueued nothing: the log saw no calls");
  for (size_t k = 0; k < rec_count; k++) {
    if (rec_log[k].what != REC_SET_ARG) continue;
    bool seen_before = false;
    for (size_t j = 0; j < k; j++)
      if (rec_log[j].what == REC_SET_ARG && rec_log[j].mem == rec_log[k].mem) seen_before = true;
    if (seen_before) continue;
    bound++;
    cr_assert_lt(k, first_enqueue,
                 "kernel argument %u is bound at call %zu, after the first enqueue (call %zu)",
                 rec_log[k].arg, k, first_enqueue);
  }
  cr_assert_geq(bound, 12, "only %zu buffers were bound as kernel arguments", bound);
}

/* The split's launches: forward is one launch of the bound kernel (its
 * inputs written before, z read from the stats buffer after), learn one
 * more; neither creates nor binds a buffer, so the bank placement above
 * holds for them too. */
Test(fpga_call_order, forward_and_learn_are_one_launch_each, .timeout = 600) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_test_busy_config(&cfg, 21, 6);
  cfg.rule = HMN_RULE_POLICY;
  cfg.action = HMN_ACTION_SOFTMAX;
  rec_count = 0;
  rec_on = true;
  hmn_layer *layer = hmn_test_layer(&cfg, "opencl-fpga");
  size_t created = rec_count;
  /* The buffers bound as inputs (argument 15) and stats (16). */
  cl_mem inputs = NULL, stats = NULL;
  for (size_t k = 0; k < created; k++)
    if (rec_log[k].what == REC_SET_ARG && rec_log[k].arg == HMN_FPGA_ARG_INPUTS)
      inputs = rec_log[k].mem;
    else if (rec_log[k].what == REC_SET_ARG && rec_log[k].arg == HMN_FPGA_ARG_STATS)
      stats = rec_log[k].mem;
  cr_assert(inputs != NULL && stats != NULL);
  hmn_test_inputs in;
  hmn_test_inputs_make(&cfg, 7, false, &in);
  hmn_error err;
  float z[6];
  cr_assert_eq(hmn_layer_forward(layer, in.in.x, z, &err), HMN_OK, "%s", err.message);
  size_t forwarded = rec_count;
  hmn_learn_input learn = {in.in.mod, in.in.ctx, NULL, 2};
  cr_assert_eq(hmn_layer_learn(layer, &learn, &err), HMN_OK, "%s", err.message);
  rec_on = false;
  size_t learned = rec_count;
  hmn_test_inputs_free(&in);
  hmn_layer_destroy(layer);

  for (size_t k = created; k < learned; k++)
    cr_assert_eq(rec_log[k].what, REC_ENQUEUE, "call %zu creates or binds a buffer", k);
  /* forward: the inputs, the launch, the stats (z) */
  cr_assert_eq(forwarded - created, 3, "forward made %zu calls", forwarded - created);
  cr_assert_eq(rec_log[created].mem, inputs);
  cr_assert_null(rec_log[created + 1].mem);
  cr_assert_eq(rec_log[created + 2].mem, stats);
  /* learn: the inputs (record, values and pi), the launch */
  cr_assert_eq(learned - forwarded, 2, "learn made %zu calls", learned - forwarded);
  cr_assert_eq(rec_log[forwarded].mem, inputs);
  cr_assert_null(rec_log[forwarded + 1].mem);
}
