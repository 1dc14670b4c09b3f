/*
 * bench.c - what `hmn bench` needs from the library besides stepping: the
 * bytes a step must move, and a STREAM-style bandwidth probe on the device
 * a layer runs on, so that the step's achieved bandwidth can be set
 * against a roof measured on the same device in the same run.
 */
#include "opencl/opencl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Defaults of the probe: arrays far larger than any last-level cache, so
 * that the probe measures memory and not cache. */
#define HMN__PROBE_DEFAULT_BYTES ((uint64_t)256 << 20)
#define HMN__PROBE_MIN_BYTES ((uint64_t)1 << 20)
#define HMN__PROBE_SCALAR 3.0f

void hmn_step_traffic_of(const hmn_config *cfg, hmn_step_traffic *out) {
  uint64_t n_in = (uint64_t)cfg->n_in, n_out = (uint64_t)cfg->n_out;
  uint64_t k = (uint64_t)cfg->n_mod, d_ctx = (uint64_t)cfg->d_ctx, d = (uint64_t)cfg->delay_len;
  const uint64_t f = sizeof(float);
  memset(out, 0, sizeof *out);
  /* W, psi_f, psi_s read and written; phi (f32) and tau (u8) read. */
  out->synapses = n_in * n_out * (3 * 2 * f + f + 1);
  /* x(t) read; its x_hist row written; all D rows read; h read and written. */
  out->inputs = n_in * (f + f + d * f + 2 * f);
  /* b, c, astro read and written; z written; sign read. */
  out->neurons = n_out * (3 * 2 * f + f + f);
  /* kappa, w_k, E(t), C_global read. */
  out->modulation = f * (k * d_ctx + 2 * k + d_ctx);
  out->total = out->synapses + out->inputs + out->neurons + out->modulation;
}

/* ---- the host probe (for ref, which steps on one thread) ---- */

static double hmn__seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Keeps the compiler from proving the probe's stores dead. */
static volatile float hmn__probe_sink;

static int hmn__host_probe(uint64_t array_bytes, int repeats, hmn_bandwidth *out,
                           hmn_error *err) {
  size_t n = (size_t)(array_bytes / sizeof(float));
  float *a = hmn__calloc(n, sizeof(float));
  float *b = hmn__calloc(n, sizeof(float));
  float *c = hmn__calloc(n, sizeof(float));
  int rc = HMN_OK;
  if (a == NULL || b == NULL || c == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "bandwidth probe: cannot allocate 3 x %llu bytes on the host",
                   (unsigned long long)array_bytes);
    goto cleanup;
  }
  /* Touch every page before timing: the first touch maps it. */
  for (size_t i = 0; i < n; i++) {
    a[i] = 1.0f;
    b[i] = 2.0f;
    c[i] = 0.5f;
  }
  double best_copy = 0.0, best_triad = 0.0;
  const float s = HMN__PROBE_SCALAR;
  /* One untimed round first, then the best of `repeats`. */
  for (int r = 0; r <= repeats; r++) {
    double t0 = hmn__seconds_now();
    memcpy(c, a, n * sizeof(float));
    double t1 = hmn__seconds_now();
    for (size_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
    double t2 = hmn__seconds_now();
    hmn__probe_sink = a[n / 2] + c[n / 3];
    if (r == 0) continue;
    double copy = t1 > t0 ? 2.0 * (double)array_bytes / (t1 - t0) : 0.0;
    double triad = t2 > t1 ? 3.0 * (double)array_bytes / (t2 - t1) : 0.0;
    if (copy > best_copy) best_copy = copy;
    if (triad > best_triad) best_triad = triad;
  }
  snprintf(out->where, sizeof out->where, "host, 1 thread");
  out->array_bytes = array_bytes;
  out->copy_gbps = 1e-9 * best_copy;
  out->triad_gbps = 1e-9 * best_triad;
cleanup:
  hmn__free(a);
  hmn__free(b);
  hmn__free(c);
  return rc;
}

/* ---- the OpenCL probe ---- */

/* One float4 per work-item: simple enough that every OpenCL compiler
 * turns it into streaming loads and stores. */
static const char hmn__probe_source[] =
    "__kernel void hmn_probe_copy(__global const float4 *restrict a,\n"
    "                             __global float4 *restrict c) {\n"
    "  size_t i = get_global_id(0);\n"
    "  c[i] = a[i];\n"
    "}\n"
    "__kernel void hmn_probe_triad(__global float4 *restrict a, __global const float4 *restrict b,\n"
    "                              __global const float4 *restrict c, float s) {\n"
    "  size_t i = get_global_id(0);\n"
    "  a[i] = b[i] + s * c[i];\n"
    "}\n";

/* Device time of one launch, from its profiling event. */
static cl_int hmn__probe_launch(cl_command_queue queue, cl_kernel kernel, size_t items,
                                double *seconds) {
  cl_event ev = NULL;
  cl_int e = clEnqueueNDRangeKernel(queue, kernel, 1, NULL, &items, NULL, 0, NULL, &ev);
  cl_ulong start = 0, end = 0;
  if (e == CL_SUCCESS) e = clWaitForEvents(1, &ev);
  if (e == CL_SUCCESS)
    e = clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL);
  if (e == CL_SUCCESS)
    e = clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL);
  if (ev != NULL) clReleaseEvent(ev);
  *seconds = end > start ? 1e-9 * (double)(end - start) : 0.0;
  return e;
}

static int hmn__opencl_probe(const char *selector, uint64_t array_bytes, int repeats,
                             hmn_bandwidth *out, hmn_error *err) {
  hmn__cl_device dev;
  cl_context ctx = NULL;
  cl_command_queue queue = NULL;
  cl_program program = NULL;
  cl_kernel copy = NULL, triad = NULL;
  cl_mem buf[3] = {NULL, NULL, NULL};
  cl_int e = CL_SUCCESS;
  const char *what = "";
  int rc = hmn__cl_device_select(selector, &dev, err);
  if (rc != HMN_OK) return rc;

  /* Three arrays must fit in the device's memory and each in one buffer. */
  cl_ulong max_alloc = 0;
  clGetDeviceInfo(dev.device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL);
  if (max_alloc > 0 && array_bytes > max_alloc) array_bytes = max_alloc;
  if (dev.info.global_mem_bytes > 0 && array_bytes > dev.info.global_mem_bytes / 4)
    array_bytes = dev.info.global_mem_bytes / 4;
  array_bytes -= array_bytes % 16;
  if (array_bytes < HMN__PROBE_MIN_BYTES) {
    rc = hmn__fail(err, HMN_EDEVICE, "bandwidth probe: OpenCL device '%s' has too little memory",
                   dev.info.name);
    goto cleanup;
  }
  ctx = clCreateContext(NULL, 1, &dev.device, NULL, NULL, &e);
  what = "creating a context";
  if (e != CL_SUCCESS) goto cleanup;
  queue = clCreateCommandQueue(ctx, dev.device, CL_QUEUE_PROFILING_ENABLE, &e);
  what = "creating a command queue";
  if (e != CL_SUCCESS) goto cleanup;
  const char *text = hmn__probe_source;
  program = clCreateProgramWithSource(ctx, 1, &text, NULL, &e);
  what = "creating the probe program";
  if (e != CL_SUCCESS) goto cleanup;
  what = "building the probe program";
  if ((e = clBuildProgram(program, 1, &dev.device, "", NULL, NULL)) != CL_SUCCESS) goto cleanup;
  what = "creating the probe kernels";
  copy = clCreateKernel(program, "hmn_probe_copy", &e);
  if (e != CL_SUCCESS) goto cleanup;
  triad = clCreateKernel(program, "hmn_probe_triad", &e);
  if (e != CL_SUCCESS) goto cleanup;
  what = "allocating the probe arrays";
  for (int k = 0; k < 3; k++) {
    buf[k] = clCreateBuffer(ctx, CL_MEM_READ_WRITE, (size_t)array_bytes, NULL, &e);
    if (e != CL_SUCCESS) goto cleanup;
  }
  /* Fill every array before timing: drivers allocate (and CPU drivers
   * map pages) on first use. */
  const float init[3] = {1.0f, 2.0f, 0.5f};
  what = "filling the probe arrays";
  for (int k = 0; k < 3 && e == CL_SUCCESS; k++)
    e = clEnqueueFillBuffer(queue, buf[k], &init[k], sizeof init[k], 0, (size_t)array_bytes, 0,
                            NULL, NULL);
  if (e == CL_SUCCESS) e = clFinish(queue);
  if (e != CL_SUCCESS) goto cleanup;
  const cl_float s = HMN__PROBE_SCALAR;
  what = "setting the probe arguments";
  e = clSetKernelArg(copy, 0, sizeof(cl_mem), &buf[0]);
  if (e == CL_SUCCESS) e = clSetKernelArg(copy, 1, sizeof(cl_mem), &buf[2]);
  if (e == CL_SUCCESS) e = clSetKernelArg(triad, 0, sizeof(cl_mem), &buf[0]);
  if (e == CL_SUCCESS) e = clSetKernelArg(triad, 1, sizeof(cl_mem), &buf[1]);
  if (e == CL_SUCCESS) e = clSetKernelArg(triad, 2, sizeof(cl_mem), &buf[2]);
  if (e == CL_SUCCESS) e = clSetKernelArg(triad, 3, sizeof s, &s);
  if (e != CL_SUCCESS) goto cleanup;
  size_t items = (size_t)(array_bytes / 16);
  double best_copy = 0.0, best_triad = 0.0;
  what = "running the probe kernels";
  for (int r = 0; r <= repeats; r++) {
    double t_copy = 0.0, t_triad = 0.0;
    if ((e = hmn__probe_launch(queue, copy, items, &t_copy)) != CL_SUCCESS) goto cleanup;
    if ((e = hmn__probe_launch(queue, triad, items, &t_triad)) != CL_SUCCESS) goto cleanup;
    if (r == 0) continue; /* the untimed round */
    if (t_copy > 0.0 && 2.0 * (double)array_bytes / t_copy > best_copy)
      best_copy = 2.0 * (double)array_bytes / t_copy;
    if (t_triad > 0.0 && 3.0 * (double)array_bytes / t_triad > best_triad)
      best_triad = 3.0 * (double)array_bytes / t_triad;
  }
  snprintf(out->where, sizeof out->where, "%s", dev.info.name);
  out->array_bytes = array_bytes;
  out->copy_gbps = 1e-9 * best_copy;
  out->triad_gbps = 1e-9 * best_triad;
cleanup:
  /* Every OpenCL failure above left `what` naming the stage. */
  if (e != CL_SUCCESS)
    rc = hmn__fail(err, e == CL_MEM_OBJECT_ALLOCATION_FAILURE ? HMN_ENOMEM : HMN_EDEVICE,
                   "bandwidth probe on OpenCL device '%s': %s: %s", dev.info.name, what,
                   hmn__cl_error_name(e));
  for (int k = 0; k < 3; k++)
    if (buf[k] != NULL) clReleaseMemObject(buf[k]);
  if (copy != NULL) clReleaseKernel(copy);
  if (triad != NULL) clReleaseKernel(triad);
  if (program != NULL) clReleaseProgram(program);
  if (queue != NULL) clReleaseCommandQueue(queue);
  if (ctx != NULL) clReleaseContext(ctx);
  return rc;
}

int hmn_bandwidth_probe(const hmn_layer *layer, uint64_t array_bytes, int repeats,
                        hmn_bandwidth *out, hmn_error *err) {
  if (layer == NULL || out == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_bandwidth_probe: NULL argument");
  if (repeats < 1) return hmn__fail(err, HMN_EINVAL, "bandwidth probe: repeats must be >= 1");
  if (array_bytes == 0) array_bytes = HMN__PROBE_DEFAULT_BYTES;
  if (array_bytes < HMN__PROBE_MIN_BYTES)
    return hmn__fail(err, HMN_EINVAL, "bandwidth probe: arrays of %llu bytes are too small "
                                      "(at least %llu)",
                     (unsigned long long)array_bytes, (unsigned long long)HMN__PROBE_MIN_BYTES);
  hmn_bandwidth result;
  memset(&result, 0, sizeof result);
  /* The OpenCL probe picks its device as the layer did, from the same
   * selector, so it measures the device the layer runs on. Other
   * backends (FPGA cards take no kernels from source) have no probe. */
  int rc;
  if (layer->ops == &hmn__backend_opencl)
    rc = hmn__opencl_probe(layer->device_selector, array_bytes, repeats, &result, err);
  else if (layer->ops == &hmn__backend_ref)
    rc = hmn__host_probe(array_bytes, repeats, &result, err);
  else
    rc = hmn__fail(err, HMN_EUNSUPPORTED, "no bandwidth probe for backend '%s'",
                   layer->ops->name);
  if (rc != HMN_OK) return rc;
  result.best_gbps = result.copy_gbps > result.triad_gbps ? result.copy_gbps : result.triad_gbps;
  *out = result;
  return HMN_OK;
}
