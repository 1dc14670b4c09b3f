/*
 * backend_opencl_fpga.c - the "opencl-fpga" backend: the FPGA variant of
 * the step (kernels/hmn_fpga.cl, one work-item, 512-bit words, on-chip
 * state, dataflow) through OpenCL. On a device with a compiler (PoCL in
 * CI, a GPU) the kernel is built from source with on-chip maxima fitted
 * to the layer; that is how CI checks the FPGA kernel against ref. On
 * XRT's OpenCL platform, which builds nothing from source, the program
 * comes from a bitstream (opencl_xclbin.c).
 *
 * Per step: the inputs buffer (step record and values) is written and the
 * one work-item launched; nothing is read back until a caller asks.
 *
 * The split (hmn_layer_forward, hmn_layer_learn): forward is a launch of
 * the same kernel with the step record's FORWARD word set, which runs eq 1
 * alone, writes z into the statistics buffer and no state; z is read back.
 * learn is the step's launch with the action in the record and, for rule
 * policy, pi = softmax(z / temperature) formed on the host from forward's
 * z (hmn__pre_policy), after C_global in the inputs.
 */
#include "fpga/fpga.h"
#include "fpga/layout.h"
#include "opencl/opencl.h"

#include <string.h>

/* st.stats.applied while the last step's counts are still on the device
 * (as in backend_opencl.c). */
#define HMN__STATS_ON_DEVICE UINT64_MAX

typedef struct {
  hmn__cl_device dev;
  cl_context ctx;
  cl_command_queue queue;
  cl_program program;
  cl_kernel kernel;
  cl_mem buf[HMN__FPGA_BUFFERS];
  cl_mem snap[HMN__FPGA_BUFFERS];
  float *inputs;     /* host staging of the inputs buffer */
  unsigned char *padded; /* host staging of a synapse array with its padding */
  float *fwd_z;      /* z as the last forward read it (n_out) */
  float *pi;         /* the policy rule's pi of the learning step (n_out) */
  bool padded_rows;  /* the HLS kernel's layout (layout.h): a loaded xclbin */
  bool params_stale; /* the config may have changed since params were written */
} hmn__clf_layer;

static void hmn__clf_release(hmn__clf_layer *f) {
  if (f->queue != NULL) clFinish(f->queue);
  if (f->kernel != NULL) clReleaseKernel(f->kernel);
  if (f->program != NULL) clReleaseProgram(f->program);
  for (int k = 0; k < HMN__FPGA_BUFFERS; k++) {
    if (f->buf[k] != NULL) clReleaseMemObject(f->buf[k]);
    if (f->snap[k] != NULL) clReleaseMemObject(f->snap[k]);
  }
  if (f->queue != NULL) clReleaseCommandQueue(f->queue);
  if (f->ctx != NULL) clReleaseContext(f->ctx);
  hmn__free(f->inputs);
  hmn__free(f->padded);
  hmn__free(f->fwd_z);
  hmn__free(f->pi);
  hmn__free(f);
}

static int hmn__clf_buffer(hmn__clf_layer *f, size_t bytes, const char *what, cl_mem *out,
                           hmn_error *err) {
  cl_int e = CL_SUCCESS;
  *out = clCreateBuffer(f->ctx, CL_MEM_READ_WRITE, bytes, NULL, &e);
  if (*out == NULL || e != CL_SUCCESS)
    return hmn__fail(err, e == CL_MEM_OBJECT_ALLOCATION_FAILURE ? HMN_ENOMEM : HMN_EDEVICE,
                     "OpenCL device '%s': cannot allocate %zu bytes for '%s': %s",
                     f->dev.info.name, bytes, what, hmn__cl_error_name(e));
  return HMN_OK;
}

static int32_t hmn__pow2_at_least(int32_t n, int32_t floor) {
  int32_t p = floor;
  while (p < n) p *= 2;
  return p;
}

/* The kernel, built from source with on-chip maxima the layer fits in:
 * powers of two, so that layers of similar shapes share one build (and,
 * as on a card, the kernel mostly runs below its maxima). The arrays must
 * fit the device's local memory. */
static int hmn__clf_build(hmn__clf_layer *f, const hmn_config *cfg, hmn_error *err) {
  hmn__fpga_limits lim = {hmn__pow2_at_least(cfg->n_in, HMN_FPGA_LANES),
                          hmn__pow2_at_least(cfg->n_out, 1),
                          hmn__pow2_at_least(cfg->delay_len, 1)};
  cl_ulong local = 0;
  if (clGetDeviceInfo(f->dev.device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL) !=
      CL_SUCCESS)
    local = 0;
  size_t need = hmn__fpga_chip_bytes(&lim);
  if ((cl_ulong)need > local)
    return hmn__fail(err, HMN_ESHAPE,
                     "opencl-fpga: the layer (n_in=%d, n_out=%d, delay_len=%d) needs %zu bytes of "
                     "on-chip (local) memory; OpenCL device '%s' has %llu",
                     cfg->n_in, cfg->n_out, cfg->delay_len, need, f->dev.info.name,
                     (unsigned long long)local);
  char defines[160];
  snprintf(defines, sizeof defines,
           "#define HMN_FPGA_MAX_IN %d\n#define HMN_FPGA_MAX_OUT %d\n#define HMN_FPGA_MAX_DELAY %d\n",
           lim.max_in, lim.max_out, lim.max_delay);
  static const char *const files[] = {"hmn_port.h",        "hmn_math.h", "hmn_iface.h",
                                      "hmn_synapse.h",     "hmn_fpga_params.h",
                                      "hmn_fpga.h",        "hmn_fpga.cl"};
  return hmn__cl_build_files(f->ctx, &f->dev, defines, files, sizeof files / sizeof files[0],
                             &f->program, err);
}

static int hmn__clf_write_params(hmn_layer *layer, hmn_error *err) {
  hmn__clf_layer *f = layer->backend_data;
  uint32_t params[HMN_FPGA_PARAM_WORDS];
  hmn__fpga_params(&layer->st.cfg, params);
  cl_int e = clEnqueueWriteBuffer(f->queue, f->buf[HMN__FPGA_PARAMS], CL_TRUE, 0, sizeof params,
                                  params, 0, NULL, NULL);
  if (e != CL_SUCCESS)
    return hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': writing the kernel parameters: %s",
                     f->dev.info.name, hmn__cl_error_name(e));
  f->params_stale = false;
  return HMN_OK;
}

/* Device bytes of argument `arg`: the HLS kernel of an xclbin keeps its
 * synapse rows padded to whole words (layout.h); the OpenCL C model built
 * from source keeps them flat, padded only at the end (fpga.c). */
static size_t hmn__clf_bytes(const hmn__clf_layer *f, const hmn_config *cfg, int arg) {
  return f->padded_rows ? hmn__fpga_padded_bytes(cfg, arg) : hmn__fpga_arg_bytes(cfg, arg);
}

static int hmn__clf_transfer(hmn_layer *layer, hmn_array which, bool to_device, hmn_error *err) {
  hmn__clf_layer *f = layer->backend_data;
  const hmn_config *cfg = &layer->st.cfg;
  int arg = hmn__fpga_array_arg(which);
  if (arg < 0) return HMN_OK;
  size_t bytes = hmn__array_bytes(cfg, which);
  size_t whole = hmn__clf_bytes(f, cfg, arg);
  void *host = layer->st.arr[which];
  bool staged = false;
  /* A synapse buffer is padded to whole words; the array is its first
   * `bytes`, or (padded rows) its rows' first N_in elements. Writes cover
   * the whole buffer, padding (zeros) included: Oclgrind 21.10 forgets
   * that the rest of a buffer was written when a write covers only part of
   * it, and would then report the padding the kernel reads as
   * uninitialized. */
  if (arg <= 4 && f->padded_rows) {
    if (to_device) hmn__fpga_pad_rows(cfg, arg, host, f->padded);
    host = f->padded;
    bytes = whole;
    staged = !to_device;
  } else if (to_device && whole > bytes) {
    memcpy(f->padded, host, bytes);
    host = f->padded;
    bytes = whole;
  }
  cl_int e = to_device ? clEnqueueWriteBuffer(f->queue, f->buf[arg], CL_TRUE, 0, bytes, host, 0,
                                              NULL, NULL)
                       : clEnqueueReadBuffer(f->queue, f->buf[arg], CL_TRUE, 0, bytes, host, 0,
                                             NULL, NULL);
  if (e != CL_SUCCESS)
    return hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': %s state array '%s' (step %llu): %s",
                     f->dev.info.name, to_device ? "writing" : "reading", hmn_array_name(which),
                     (unsigned long long)layer->st.t, hmn__cl_error_name(e));
  if (staged) hmn__fpga_unpad_rows(cfg, arg, f->padded, layer->st.arr[which]);
  return HMN_OK;
}

static int hmn__clf_pull(hmn_layer *layer, hmn_array which, hmn_error *err) {
  return hmn__clf_transfer(layer, which, false, err);
}

static int hmn__clf_push(hmn_layer *layer, hmn_array which, hmn_error *err) {
  hmn__clf_layer *f = layer->backend_data;
  /* A checkpoint restore changes the config before it pushes. */
  f->params_stale = true;
  int rc = hmn__clf_transfer(layer, which, true, err);
  return rc;
}

static int hmn__clf_init(hmn_layer *layer, hmn_error *err) {
  const hmn_config *cfg = &layer->st.cfg;
  hmn__clf_layer *f = hmn__calloc(1, sizeof *f);
  unsigned char *zeros = NULL;
  int rc = HMN_OK;
  cl_int e = CL_SUCCESS;
  if (f == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory creating an opencl-fpga layer");
    goto cleanup;
  }
  layer->backend_data = f;
  if ((rc = hmn__cl_device_select_binary(layer->device_selector, &f->dev, err)) != HMN_OK)
    goto cleanup;
  f->ctx = clCreateContext(NULL, 1, &f->dev.device, NULL, NULL, &e);
  if (f->ctx == NULL || e != CL_SUCCESS) {
    rc = hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': cannot create a context: %s",
                   f->dev.info.name, hmn__cl_error_name(e));
    goto cleanup;
  }
  f->queue = clCreateCommandQueue(f->ctx, f->dev.device, 0, &e);
  if (f->queue == NULL || e != CL_SUCCESS) {
    rc = hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': cannot create a command queue: %s",
                   f->dev.info.name, hmn__cl_error_name(e));
    goto cleanup;
  }
  rc = f->dev.info.compiler ? hmn__clf_build(f, cfg, err)
                            : hmn__cl_program_from_xclbin(f->ctx, &f->dev, cfg, &f->program, err);
  if (rc != HMN_OK) goto cleanup;
  f->kernel = clCreateKernel(f->program, HMN_FPGA_KERNEL_NAME, &e);
  if (f->kernel == NULL || e != CL_SUCCESS) {
    rc = hmn__fail(err, HMN_EBUILD, "OpenCL device '%s': cannot create kernel %s: %s",
                   f->dev.info.name, HMN_FPGA_KERNEL_NAME, hmn__cl_error_name(e));
    goto cleanup;
  }
  f->padded_rows = !f->dev.info.compiler;
  size_t most = 0;
  for (int arg = 0; arg < HMN__FPGA_BUFFERS; arg++)
    if (hmn__clf_bytes(f, cfg, arg) > most) most = hmn__clf_bytes(f, cfg, arg);
  f->inputs = hmn__calloc(hmn__fpga_arg_bytes(cfg, HMN__FPGA_INPUTS), 1);
  f->padded = hmn__calloc(hmn__clf_bytes(f, cfg, 0), 1); /* the largest synapse array */
  f->fwd_z = hmn__calloc((size_t)cfg->n_out, sizeof(float));
  f->pi = hmn__calloc((size_t)cfg->n_out, sizeof(float));
  zeros = hmn__calloc(most, 1);
  if (f->inputs == NULL || f->padded == NULL || f->fwd_z == NULL || f->pi == NULL ||
      zeros == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory creating an opencl-fpga layer");
    goto cleanup;
  }
  /* Every buffer becomes its kernel argument before anything is enqueued
   * on it: XRT's OpenCL layer places a buffer in the memory bank of the
   * port it is bound to only when the binding comes before the buffer's
   * first use (UG1393, "Buffer Allocation on the Device"); a buffer
   * written first lands in a default bank the port may not reach. */
  for (int arg = 0; arg < HMN__FPGA_BUFFERS && rc == HMN_OK; arg++) {
    rc = hmn__clf_buffer(f, hmn__clf_bytes(f, cfg, arg), hmn__fpga_arg_name(arg), &f->buf[arg],
                         err);
    if (rc == HMN_OK &&
        (e = clSetKernelArg(f->kernel, (cl_uint)arg, sizeof(cl_mem), &f->buf[arg])) != CL_SUCCESS)
      rc = hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': setting argument '%s' of %s: %s",
                     f->dev.info.name, hmn__fpga_arg_name(arg), HMN_FPGA_KERNEL_NAME,
                     hmn__cl_error_name(e));
  }
  /* Then every buffer starts as zeros, so the padding of the last synapse
   * word and the statistics read before a first step are defined. */
  for (int arg = 0; arg < HMN__FPGA_BUFFERS && rc == HMN_OK; arg++) {
    size_t bytes = hmn__clf_bytes(f, cfg, arg);
    if ((e = clEnqueueWriteBuffer(f->queue, f->buf[arg], CL_TRUE, 0, bytes, zeros, 0, NULL,
                                  NULL)) != CL_SUCCESS)
      rc = hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': cannot clear '%s': %s",
                     f->dev.info.name, hmn__fpga_arg_name(arg), hmn__cl_error_name(e));
  }
  for (int a = 0; a < HMN_ARRAY_COUNT && rc == HMN_OK; a++)
    rc = hmn__clf_push(layer, (hmn_array)a, err);
  if (rc == HMN_OK) rc = hmn__clf_write_params(layer, err);
cleanup:
  hmn__free(zeros);
  if (rc != HMN_OK && f != NULL) {
    hmn__clf_release(f);
    layer->backend_data = NULL;
  }
  return rc;
}

static void hmn__clf_fini(hmn_layer *layer) {
  if (layer->backend_data != NULL) hmn__clf_release(layer->backend_data);
  layer->backend_data = NULL;
}

/* One launch of the kernel on the inputs staged in f->inputs: a step, or
 * (forward) eq 1 alone. */
static int hmn__clf_launch(hmn_layer *layer, bool forward, hmn_error *err) {
  hmn__clf_layer *f = layer->backend_data;
  hmn__state *st = &layer->st;
  const hmn_config *cfg = &st->cfg;
  /* Blocking: the staging buffer is rewritten by the next step, and the
   * write also waits for the previous step's kernel. */
  const char *what = "writing the inputs";
  cl_int e = clEnqueueWriteBuffer(f->queue, f->buf[HMN__FPGA_INPUTS], CL_TRUE, 0,
                                  hmn__fpga_arg_bytes(cfg, HMN__FPGA_INPUTS), f->inputs, 0, NULL,
                                  NULL);
  bool launching = false;
  if (e == CL_SUCCESS) {
    const size_t one = 1;
    what = HMN_FPGA_KERNEL_NAME;
    launching = true;
    e = clEnqueueNDRangeKernel(f->queue, f->kernel, 1, NULL, &one, &one, 0, NULL, NULL);
  }
  if (e == CL_SUCCESS && forward) {
    what = "reading forward's z";
    launching = false; /* a forward launch writes no state */
    e = clEnqueueReadBuffer(f->queue, f->buf[HMN__FPGA_STATS], CL_TRUE,
                            hmn__fpga_forward_z_offset(cfg), hmn__fpga_forward_z_bytes(cfg),
                            f->fwd_z, 0, NULL, NULL);
  }
  if (e != CL_SUCCESS) {
    /* Nothing has changed before the launch; a failed launch may have
     * started, so the state is no longer known. */
    if (launching) hmn__layer_lose_state(layer);
    return hmn__fail(err, HMN_EDEVICE, "step %llu%s on OpenCL device '%s': %s failed: %s",
                     (unsigned long long)st->t, forward ? " (forward)" : "", f->dev.info.name,
                     what, hmn__cl_error_name(e));
  }
  if (forward) return HMN_OK;
  clFlush(f->queue);
  st->t++;
  st->stats.t = st->t;
  st->stats.applied = HMN__STATS_ON_DEVICE;
  return HMN_OK;
}

static int hmn__clf_step(hmn_layer *layer, const hmn_step_input *in, hmn_error *err) {
  hmn__clf_layer *f = layer->backend_data;
  int rc = HMN_OK;
  if (f->params_stale && (rc = hmn__clf_write_params(layer, err)) != HMN_OK) return rc;
  hmn__fpga_pack_inputs(&layer->st, in, -1, NULL, f->inputs);
  return hmn__clf_launch(layer, false, err);
}

/* Eq 1 for x(t) (hmn_layer_forward): a forward launch, z read back. */
static int hmn__clf_forward(hmn_layer *layer, const float *x, float *z, hmn_error *err) {
  hmn__clf_layer *f = layer->backend_data;
  int rc = hmn__fpga_check_state(layer, "forward", err);
  if (rc == HMN_OK && f->params_stale) rc = hmn__clf_write_params(layer, err);
  if (rc != HMN_OK) return rc;
  hmn__fpga_pack_forward(&layer->st, x, f->inputs);
  if ((rc = hmn__clf_launch(layer, true, err)) != HMN_OK) return rc;
  memcpy(z, f->fwd_z, hmn__fpga_forward_z_bytes(&layer->st.cfg));
  return HMN_OK;
}

/* The whole step t with x as forward had it (split.c keeps it), the
 * action in the record and, for rule policy, pi from forward's z: the z
 * that the step computes again. */
static int hmn__clf_learn(hmn_layer *layer, const hmn_step_input *in, int32_t action,
                          hmn_error *err) {
  hmn__clf_layer *f = layer->backend_data;
  hmn__state *st = &layer->st;
  const hmn_config *cfg = &st->cfg;
  int32_t act = -1;
  int rc = hmn__fpga_check_state(layer, "learn", err);
  if (rc == HMN_OK) rc = hmn__fpga_learn_action(st, action, &act, err);
  if (rc == HMN_OK && f->params_stale) rc = hmn__clf_write_params(layer, err);
  if (rc != HMN_OK) return rc;
  if (act >= 0) hmn__pre_policy(f->fwd_z, cfg->n_out, cfg->temperature, f->pi);
  hmn__fpga_pack_inputs(st, in, act, act >= 0 ? f->pi : NULL, f->inputs);
  return hmn__clf_launch(layer, false, err);
}

static int hmn__clf_stats(hmn_layer *layer, hmn_error *err) {
  hmn__clf_layer *f = layer->backend_data;
  hmn__state *st = &layer->st;
  if (st->stats.applied != HMN__STATS_ON_DEVICE) return HMN_OK;
  size_t bytes = hmn__fpga_arg_bytes(&st->cfg, HMN__FPGA_STATS);
  uint32_t *stats = hmn__calloc(bytes, 1);
  int rc = HMN_OK;
  if (stats == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory reading the step statistics");
    goto cleanup;
  }
  cl_int e = clEnqueueReadBuffer(f->queue, f->buf[HMN__FPGA_STATS], CL_TRUE, 0, bytes, stats, 0,
                                 NULL, NULL);
  if (e != CL_SUCCESS) {
    rc = hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': reading the statistics of step %llu: %s",
                   f->dev.info.name, (unsigned long long)st->t, hmn__cl_error_name(e));
    goto cleanup;
  }
  hmn__fpga_decode_stats(&st->cfg, stats, st->t, &st->stats);
cleanup:
  hmn__free(stats);
  return rc;
}

/* Buffer copies on the device: the state arrays and the statistics. */
static int hmn__clf_snapshot(hmn_layer *layer, bool restore, hmn_error *err) {
  hmn__clf_layer *f = layer->backend_data;
  const hmn_config *cfg = &layer->st.cfg;
  int rc = HMN_OK;
  for (int arg = 0; arg < HMN__FPGA_BUFFERS && rc == HMN_OK; arg++)
    if (arg != HMN__FPGA_PARAMS && arg != HMN__FPGA_INPUTS && f->snap[arg] == NULL)
      rc = hmn__clf_buffer(f, hmn__clf_bytes(f, cfg, arg), "the snapshot", &f->snap[arg], err);
  if (rc != HMN_OK) return rc;
  cl_int e = CL_SUCCESS;
  for (int arg = 0; arg < HMN__FPGA_BUFFERS && e == CL_SUCCESS; arg++) {
    if (f->snap[arg] == NULL) continue;
    cl_mem live = f->buf[arg], saved = f->snap[arg];
    e = clEnqueueCopyBuffer(f->queue, restore ? saved : live, restore ? live : saved, 0, 0,
                            hmn__clf_bytes(f, cfg, arg), 0, NULL, NULL);
  }
  if (e == CL_SUCCESS) e = clFinish(f->queue);
  if (e != CL_SUCCESS) {
    if (restore) hmn__layer_lose_state(layer);
    return hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': %s the snapshot at step %llu: %s",
                     f->dev.info.name, restore ? "restoring" : "saving",
                     (unsigned long long)layer->st.t, hmn__cl_error_name(e));
  }
  if (restore) {
    f->params_stale = true; /* the snapshot's config comes back too */
  }
  return HMN_OK;
}

static const char *hmn__clf_device(const hmn_layer *layer) {
  const hmn__clf_layer *f = layer->backend_data;
  return f->dev.info.name;
}

const hmn__backend_ops hmn__backend_opencl_fpga = {
    .name = "opencl-fpga",
    .init = hmn__clf_init,
    .fini = hmn__clf_fini,
    .step = hmn__clf_step,
    .forward = hmn__clf_forward,
    .learn = hmn__clf_learn,
    .pull = hmn__clf_pull,
    .push = hmn__clf_push,
    .stats = hmn__clf_stats,
    .snapshot = hmn__clf_snapshot,
    .device = hmn__clf_device,
};
