/*
 * backend_opencl.c - the "opencl" backend: one HMN step as the kernels of
 * kernels/hmn_step.cl, with the whole layer state resident on the device.
 *
 * Per step, only x(t), E(t) and C_global(t) are written, and the step's
 * scalars (t, phase, learning rates) are set as kernel arguments; nothing
 * is read back. z, the other arrays and the statistics cross to the host
 * only when a caller asks (pull, stats).
 *
 * The program is built once per layer for its shape (the defines block);
 * modes and parameters are kernel arguments, so a checkpoint or snapshot
 * restore with another config only sets the arguments again.
 */
#include "opencl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kernels take the mode values as numbers (kernels/hmn_synapse.h). */
_Static_assert(HMN_ACT_RELU == 0 && HMN_ACT_SIGMOID == 1 && HMN_ACT_TANH == 2 &&
                   HMN_ACT_LINEAR == 3,
               "activation values differ from kernels/hmn_synapse.h");
_Static_assert(HMN_ATTN_SOFTMAX == 0 && HMN_ATTN_SOFTMAX_N == 1 && HMN_ATTN_OFF == 2,
               "attention values differ from kernels/hmn_synapse.h");
_Static_assert(HMN_SIM_COSINE == 0 && HMN_SIM_DOT == 1,
               "similarity values differ from kernels/hmn_synapse.h");

enum { HMN__K_INPUTS, HMN__K_ROW, HMN__K_COUNT };
static const char *const hmn__kernel_names[HMN__K_COUNT] = {"hmn_step_inputs", "hmn_step_row"};
/* Profile entries: the kernels, then the per-step uploads. */
#define HMN__PROF_WRITE HMN__K_COUNT
#define HMN__PROF_COUNT (HMN__K_COUNT + 1)

/* Device buffers beyond the state arrays and the step's inputs: what
 * hmn_step_inputs leaves for the rows (G and the extremes of beta h, and
 * beta h itself), G_j, and per-neuron counts of applied and candidate
 * updates. G_J and COUNTS feed the statistics, so snapshots keep them. */
enum { HMN__X_STEP_G, HMN__X_BH, HMN__X_G_J, HMN__X_COUNTS, HMN__X_COUNT };
/* Values in STEP_G (hmn_step.cl's HMN_STEP_VALUES). */
#define HMN__STEP_VALUES 4

/* Positions of the arguments that change every step (hmn_step.cl). */
enum { HMN__IN_SLOT = 7 };
enum {
  HMN__ROW_SLOT = 18,
  HMN__ROW_T_LO = 21,
  HMN__ROW_T_HI = 22,
  HMN__ROW_ETA_LOCAL = 38,
  HMN__ROW_ETA_GLOBAL = 39,
  HMN__ROW_COS_PHASE = 40,
  HMN__ROW_SIN_PHASE = 41
};

/* st.stats.applied holds this while the last step's counts are still on
 * the device; hmn_layer_stats adds them up on demand. Whoever resets the
 * host stats (a checkpoint restore) thereby makes the host copy the truth
 * again, and a snapshot carries the marker along with the device counts. */
#define HMN__STATS_ON_DEVICE UINT64_MAX

/* Steps whose inputs may be in flight at once. Each step's x, E and
 * C_global go, one after the other, into a host copy of their own (the
 * caller's arrays need not outlive the call) and from there by a write
 * that the step does not wait for into the device buffer of the step's
 * inputs: the host prepares the next step while the device runs this one.
 * A copy is reused HMN__STAGES steps later, once its write has finished
 * (almost always long before). The queue is in order, so the write of
 * the next step's inputs waits for the kernels of this one. */
#define HMN__STAGES 4
/* Profiling events not yet added to the totals; they are taken in order
 * as they finish, and only a full ring makes a step wait for one. */
#define HMN__PROF_RING 64

typedef struct {
  hmn__cl_device dev;
  cl_context ctx;
  cl_command_queue queue;
  cl_program program;
  cl_kernel kernels[HMN__K_COUNT];
  size_t wg[HMN__K_COUNT];        /* each kernel's compiled work-group size */
  cl_mem arr[HMN_ARRAY_COUNT];
  cl_mem extra[HMN__X_COUNT];
  cl_mem snap_arr[HMN_ARRAY_COUNT];
  cl_mem snap_extra[HMN__X_COUNT];
  /* cos phi and sin phi per synapse, for the phase gate (eq 4 in
   * hmn_synapse.h's hmnk_phase_gate_v): derived from phi whenever phi is
   * written. phi_version counts those writes; a snapshot remembers the
   * one it saw, so that restoring it after phi changed derives them again. */
  cl_mem phase_terms[2];
  uint64_t phi_version, snap_phi_version;
  bool args_stale;                /* the config may have changed since arguments were set */
  bool broken;                    /* a device error mid-step left the state undefined */
  uint32_t pushed;                /* arrays rewritten since; all of them mend `broken` */
  cl_mem inputs;                    /* the step's x, E, C_global on the device */
  float *stage[HMN__STAGES];        /* host copies of the inputs of steps in flight */
  cl_event stage_done[HMN__STAGES]; /* the write of each copy, or NULL */
  size_t stage_next;
  bool profiling;
  cl_event pending[HMN__PROF_RING]; /* a FIFO ring, oldest at pending_head */
  int pending_kind[HMN__PROF_RING];
  size_t pending_head, n_pending;
  hmn_kernel_profile prof[HMN__PROF_COUNT];
} hmn__cl_layer;

_Static_assert(HMN_ARRAY_COUNT < 32, "hmn__cl_layer.pushed has one bit per array");

static void hmn__cl_mark_broken(hmn__cl_layer *cl) {
  cl->broken = true;
  cl->pushed = 0;
}

/* One step's inputs: x(t), E(t), C_global(t). */
static size_t hmn__inputs_bytes(const hmn_config *cfg) {
  return (size_t)(cfg->n_in + cfg->n_mod + cfg->d_ctx) * sizeof(float);
}

static size_t hmn__extra_bytes(const hmn_config *cfg, int which) {
  size_t n_out = (size_t)cfg->n_out;
  switch (which) {
  case HMN__X_STEP_G:
    return HMN__STEP_VALUES * sizeof(float);
  case HMN__X_BH:
    return (size_t)cfg->n_in * sizeof(float);
  case HMN__X_COUNTS:
    return 2 * n_out * sizeof(cl_uint);
  default:
    return n_out * sizeof(float);
  }
}

/* ---- the program ---- */

/* The defines block: the shape, then any HMN_KERNEL_DEFINES
 * ("NAME=VALUE NAME2=VALUE2") for tuning without rebuilding libhmn. */
static int hmn__cl_defines(const hmn_config *cfg, char **out, hmn_error *err) {
  const char *extra = getenv("HMN_KERNEL_DEFINES");
  /* Each NAME or NAME=VALUE of n characters becomes at most n + 11
   * ("#define NAME 1\n"), and there are at most (length + 1) / 2 of them. */
  size_t size = 512 + (extra != NULL ? 12 * (strlen(extra) + 1) : 0);
  int rc = HMN_OK;
  char *text = hmn__calloc(size, 1);
  if (text == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory for kernel defines");
    goto cleanup;
  }
  int used = snprintf(text, size,
                      "#define HMN_N_IN %d\n#define HMN_N_OUT %d\n#define HMN_N_MOD %d\n"
                      "#define HMN_D_CTX %d\n#define HMN_DELAY %d\n",
                      cfg->n_in, cfg->n_out, cfg->n_mod, cfg->d_ctx, cfg->delay_len);
  for (const char *p = extra; p != NULL && *p != '\0' && rc == HMN_OK; p += strcspn(p, " \t")) {
    p += strspn(p, " \t");
    size_t len = strcspn(p, " \t"), name_len = strcspn(p, "= \t");
    if (len == 0) break;
    bool valid = name_len > 0;
    for (size_t k = 0; k < name_len; k++) {
      char ch = p[k];
      valid = valid && (ch == '_' || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                        (k > 0 && ch >= '0' && ch <= '9'));
    }
    if (!valid)
      rc = hmn__fail(err, HMN_EINVAL, "HMN_KERNEL_DEFINES: '%.*s' is not NAME or NAME=VALUE",
                     (int)len, p);
    else if (name_len < len)
      used += snprintf(text + used, size - (size_t)used, "#define %.*s %.*s\n", (int)name_len, p,
                       (int)(len - name_len - 1), p + name_len + 1);
    else
      used += snprintf(text + used, size - (size_t)used, "#define %.*s 1\n", (int)len, p);
  }
cleanup:
  if (rc != HMN_OK) {
    hmn__free(text);
    text = NULL;
  }
  *out = text;
  return rc;
}

static void hmn__cl_release_program(hmn__cl_layer *cl) {
  for (int k = 0; k < HMN__K_COUNT; k++) {
    if (cl->kernels[k] != NULL) clReleaseKernel(cl->kernels[k]);
    cl->kernels[k] = NULL;
  }
  if (cl->program != NULL) clReleaseProgram(cl->program);
  cl->program = NULL;
}

/* Build (or fetch from the cache) the program for the layer's shape and
 * create its kernels. On failure the layer has no program. */
static int hmn__cl_load_program(hmn__cl_layer *cl, const hmn_config *cfg, hmn_error *err) {
  char *defines = NULL;
  int rc = hmn__cl_defines(cfg, &defines, err);
  if (rc != HMN_OK) goto cleanup;
  if ((rc = hmn__cl_build(cl->ctx, &cl->dev, defines, &cl->program, err)) != HMN_OK) goto cleanup;
  for (int k = 0; k < HMN__K_COUNT; k++) {
    cl_int e = CL_SUCCESS;
    cl->kernels[k] = clCreateKernel(cl->program, hmn__kernel_names[k], &e);
    size_t wg[3] = {0, 0, 0};
    if (e == CL_SUCCESS)
      e = clGetKernelWorkGroupInfo(cl->kernels[k], cl->dev.device,
                                   CL_KERNEL_COMPILE_WORK_GROUP_SIZE, sizeof wg, wg, NULL);
    if (e != CL_SUCCESS) {
      rc = hmn__fail(err, HMN_EBUILD, "OpenCL device '%s': cannot create kernel %s: %s",
                     cl->dev.info.name, hmn__kernel_names[k], hmn__cl_error_name(e));
      goto cleanup;
    }
    /* Every kernel declares its size; 1 is safe should one not. */
    cl->wg[k] = wg[0] > 0 ? wg[0] : 1;
  }
cleanup:
  hmn__free(defines);
  if (rc != HMN_OK) hmn__cl_release_program(cl);
  return rc;
}

/* ---- kernel arguments ---- */

/* Sets arguments in order and keeps the first error. */
typedef struct {
  cl_kernel kernel;
  cl_uint index;
  cl_int status;
} hmn__args;

static void hmn__arg(hmn__args *a, size_t size, const void *value) {
  if (a->status == CL_SUCCESS) a->status = clSetKernelArg(a->kernel, a->index, size, value);
  a->index++;
}
/* A placeholder for an argument each step sets; it checks that the
 * position the step writes to (HMN__IN_SLOT, ...) is really this one. */
static void hmn__arg_step(hmn__args *a, cl_uint position) {
  const cl_uint zero = 0; /* also 0.0f: every per-step argument has 4 bytes */
  if (a->index != position && a->status == CL_SUCCESS) a->status = CL_INVALID_ARG_INDEX;
  hmn__arg(a, sizeof zero, &zero);
}
#define HMN__ARG_MEM(a, mem) hmn__arg(a, sizeof(cl_mem), &(mem))
#define HMN__ARG_U32(a, v)           \
  do {                               \
    cl_uint v_ = (cl_uint)(v);       \
    hmn__arg(a, sizeof v_, &v_);     \
  } while (0)
#define HMN__ARG_I32(a, v)           \
  do {                               \
    cl_int v_ = (cl_int)(v);         \
    hmn__arg(a, sizeof v_, &v_);     \
  } while (0)
#define HMN__ARG_F32(a, v)           \
  do {                               \
    cl_float v_ = (cl_float)(v);     \
    hmn__arg(a, sizeof v_, &v_);     \
  } while (0)

/* Every argument, in hmn_step.cl's order; the per-step ones get
 * placeholders that each step overwrites. */
static int hmn__cl_bind(hmn_layer *layer, hmn_error *err) {
  hmn__cl_layer *cl = layer->backend_data;
  const hmn_config *cfg = &layer->st.cfg;
  cl_mem *m = cl->arr, *x = cl->extra;
  uint32_t seed_lo = (uint32_t)cfg->seed, seed_hi = (uint32_t)(cfg->seed >> 32);
  float lam_f = hmn__ref_decay(cfg->dt, cfg->tau_fast);
  float lam_s = hmn__ref_decay(cfg->dt, cfg->tau_slow);

  hmn__args a[HMN__K_COUNT];
  for (int k = 0; k < HMN__K_COUNT; k++) a[k] = (hmn__args){cl->kernels[k], 0, CL_SUCCESS};

  hmn__args *in = &a[HMN__K_INPUTS];
  HMN__ARG_MEM(in, m[HMN_ARRAY_H]);
  HMN__ARG_MEM(in, m[HMN_ARRAY_X_HIST]);
  HMN__ARG_MEM(in, cl->inputs);
  HMN__ARG_MEM(in, m[HMN_ARRAY_KAPPA]);
  HMN__ARG_MEM(in, m[HMN_ARRAY_W_K]);
  HMN__ARG_MEM(in, x[HMN__X_STEP_G]);
  HMN__ARG_MEM(in, x[HMN__X_BH]);
  hmn__arg_step(in, HMN__IN_SLOT);
  HMN__ARG_F32(in, cfg->emb_rate);
  HMN__ARG_F32(in, cfg->beta_attn);
  HMN__ARG_F32(in, cfg->beta_global);
  HMN__ARG_I32(in, cfg->global_attention != 0);
  HMN__ARG_I32(in, cfg->similarity);

  hmn__args *row = &a[HMN__K_ROW];
  HMN__ARG_MEM(row, m[HMN_ARRAY_W]);
  HMN__ARG_MEM(row, m[HMN_ARRAY_PSI_F]);
  HMN__ARG_MEM(row, m[HMN_ARRAY_PSI_S]);
  HMN__ARG_MEM(row, cl->phase_terms[0]);
  HMN__ARG_MEM(row, cl->phase_terms[1]);
  HMN__ARG_MEM(row, m[HMN_ARRAY_TAU]);
  HMN__ARG_MEM(row, m[HMN_ARRAY_X_HIST]);
  HMN__ARG_MEM(row, m[HMN_ARRAY_H]);
  HMN__ARG_MEM(row, m[HMN_ARRAY_B]);
  HMN__ARG_MEM(row, m[HMN_ARRAY_Z]);
  HMN__ARG_MEM(row, m[HMN_ARRAY_C]);
  HMN__ARG_MEM(row, m[HMN_ARRAY_ASTRO]);
  HMN__ARG_MEM(row, m[HMN_ARRAY_SIGN]);
  HMN__ARG_MEM(row, cl->inputs);
  HMN__ARG_MEM(row, x[HMN__X_STEP_G]);
  HMN__ARG_MEM(row, x[HMN__X_BH]);
  HMN__ARG_MEM(row, x[HMN__X_G_J]);
  HMN__ARG_MEM(row, x[HMN__X_COUNTS]);
  hmn__arg_step(row, HMN__ROW_SLOT);
  HMN__ARG_U32(row, seed_lo);
  HMN__ARG_U32(row, seed_hi);
  hmn__arg_step(row, HMN__ROW_T_LO);
  hmn__arg_step(row, HMN__ROW_T_HI);
  HMN__ARG_F32(row, cfg->noise_sigma);
  HMN__ARG_F32(row, cfg->ctx_rate);
  HMN__ARG_I32(row, cfg->activation);
  HMN__ARG_U32(row, cfg->astro_source);
  HMN__ARG_F32(row, cfg->astro_decay);
  HMN__ARG_F32(row, cfg->astro_gain);
  HMN__ARG_F32(row, cfg->astro_lambda);
  HMN__ARG_F32(row, cfg->bias_rate);
  HMN__ARG_F32(row, cfg->target_rate);
  HMN__ARG_F32(row, cfg->beta_attn);
  HMN__ARG_I32(row, cfg->attention);
  HMN__ARG_F32(row, lam_f);
  HMN__ARG_F32(row, lam_s);
  HMN__ARG_F32(row, cfg->rho_fast);
  HMN__ARG_F32(row, cfg->rho_slow);
  hmn__arg_step(row, HMN__ROW_ETA_LOCAL);
  hmn__arg_step(row, HMN__ROW_ETA_GLOBAL);
  hmn__arg_step(row, HMN__ROW_COS_PHASE);
  hmn__arg_step(row, HMN__ROW_SIN_PHASE);
  HMN__ARG_I32(row, cfg->phase_gate != 0);
  HMN__ARG_F32(row, cfg->beta_p);
  HMN__ARG_F32(row, cfg->theta_p);
  HMN__ARG_I32(row, cfg->stochastic != 0);
  HMN__ARG_F32(row, cfg->w_min);
  HMN__ARG_F32(row, cfg->w_max);

  for (int k = 0; k < HMN__K_COUNT; k++)
    if (a[k].status != CL_SUCCESS)
      return hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': setting the arguments of %s: %s",
                       cl->dev.info.name, hmn__kernel_names[k], hmn__cl_error_name(a[k].status));
  return HMN_OK;
}

/* After the config may have changed (init, checkpoint restore, snapshot
 * restore): set every argument again. The shape never changes. */
static int hmn__cl_refresh(hmn_layer *layer, hmn_error *err) {
  hmn__cl_layer *cl = layer->backend_data;
  int rc = hmn__cl_bind(layer, err);
  if (rc == HMN_OK) cl->args_stale = false;
  return rc;
}

/* ---- profiling ---- */

/* Add the oldest pending event to the totals; `wait` waits for it, else
 * only a finished one is taken. Returns whether one was taken. */
static bool hmn__cl_harvest_one(hmn__cl_layer *cl, bool wait) {
  if (cl->n_pending == 0) return false;
  cl_event ev = cl->pending[cl->pending_head];
  cl_int status = CL_COMPLETE;
  if (!wait && clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status,
                              NULL) == CL_SUCCESS &&
      status > CL_COMPLETE)
    return false;
  cl_ulong start = 0, end = 0;
  hmn_kernel_profile *p = &cl->prof[cl->pending_kind[cl->pending_head]];
  if (clWaitForEvents(1, &ev) == CL_SUCCESS &&
      clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL) ==
          CL_SUCCESS &&
      clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) ==
          CL_SUCCESS &&
      end >= start)
    p->seconds += 1e-9 * (double)(end - start);
  p->calls++;
  clReleaseEvent(ev);
  cl->pending_head = (cl->pending_head + 1) % HMN__PROF_RING;
  cl->n_pending--;
  return true;
}

/* Every pending event into the totals (waits for the device). */
static void hmn__cl_harvest(hmn__cl_layer *cl) {
  while (hmn__cl_harvest_one(cl, true)) {
  }
}

/* Keep `ev` (a new reference) for the totals of `kind`. */
static void hmn__cl_keep_event(hmn__cl_layer *cl, cl_event ev, int kind) {
  if (cl->n_pending == HMN__PROF_RING) hmn__cl_harvest_one(cl, true);
  size_t slot = (cl->pending_head + cl->n_pending) % HMN__PROF_RING;
  cl->pending[slot] = ev;
  cl->pending_kind[slot] = kind;
  cl->n_pending++;
}

static void hmn__cl_reset_profile(hmn__cl_layer *cl) {
  for (int k = 0; k < HMN__PROF_COUNT; k++) {
    memset(&cl->prof[k], 0, sizeof cl->prof[k]);
    snprintf(cl->prof[k].name, sizeof cl->prof[k].name, "%s",
             k < HMN__K_COUNT ? hmn__kernel_names[k] : "write inputs");
  }
}

static int hmn__cl_set_profiling(hmn_layer *layer, bool enable, hmn_error *err) {
  (void)err;
  hmn__cl_layer *cl = layer->backend_data;
  hmn__cl_harvest(cl);
  hmn__cl_reset_profile(cl);
  cl->profiling = enable;
  return HMN_OK;
}

static int hmn__cl_profile(hmn_layer *layer, hmn_kernel_profile *out, size_t max, size_t *count,
                           hmn_error *err) {
  (void)err;
  hmn__cl_layer *cl = layer->backend_data;
  hmn__cl_harvest(cl);
  for (size_t k = 0; k < HMN__PROF_COUNT && k < max; k++) out[k] = cl->prof[k];
  *count = HMN__PROF_COUNT;
  return HMN_OK;
}

/* ---- the backend ---- */

static void hmn__cl_release(hmn__cl_layer *cl) {
  if (cl->queue != NULL) clFinish(cl->queue);
  for (size_t k = 0; k < cl->n_pending; k++)
    clReleaseEvent(cl->pending[(cl->pending_head + k) % HMN__PROF_RING]);
  for (int k = 0; k < HMN__STAGES; k++) {
    if (cl->stage_done[k] != NULL) clReleaseEvent(cl->stage_done[k]);
    hmn__free(cl->stage[k]);
  }
  hmn__cl_release_program(cl);
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    if (cl->arr[a] != NULL) clReleaseMemObject(cl->arr[a]);
    if (cl->snap_arr[a] != NULL) clReleaseMemObject(cl->snap_arr[a]);
  }
  for (int x = 0; x < HMN__X_COUNT; x++) {
    if (cl->extra[x] != NULL) clReleaseMemObject(cl->extra[x]);
    if (cl->snap_extra[x] != NULL) clReleaseMemObject(cl->snap_extra[x]);
  }
  for (int k = 0; k < 2; k++)
    if (cl->phase_terms[k] != NULL) clReleaseMemObject(cl->phase_terms[k]);
  if (cl->inputs != NULL) clReleaseMemObject(cl->inputs);
  if (cl->queue != NULL) clReleaseCommandQueue(cl->queue);
  if (cl->ctx != NULL) clReleaseContext(cl->ctx);
  hmn__free(cl);
}

static int hmn__cl_push(hmn_layer *layer, hmn_array which, hmn_error *err);

static int hmn__cl_create_buffer(hmn__cl_layer *cl, size_t bytes, const char *what, cl_mem *out,
                                 hmn_error *err) {
  cl_int e = CL_SUCCESS;
  *out = clCreateBuffer(cl->ctx, CL_MEM_READ_WRITE, bytes, NULL, &e);
  if (*out == NULL || e != CL_SUCCESS)
    return hmn__fail(err, e == CL_MEM_OBJECT_ALLOCATION_FAILURE ? HMN_ENOMEM : HMN_EDEVICE,
                     "OpenCL device '%s': cannot allocate %zu bytes for '%s': %s",
                     cl->dev.info.name, bytes, what, hmn__cl_error_name(e));
  return HMN_OK;
}

static int hmn__cl_init(hmn_layer *layer, hmn_error *err) {
  const hmn_config *cfg = &layer->st.cfg;
  hmn__cl_layer *cl = hmn__calloc(1, sizeof *cl);
  unsigned char *zeros = NULL;
  int rc = HMN_OK;
  cl_int e = CL_SUCCESS;
  if (cl == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory creating an OpenCL layer");
    goto cleanup;
  }
  layer->backend_data = cl;
  hmn__cl_reset_profile(cl);
  if ((rc = hmn__cl_device_select(layer->device_selector, &cl->dev, err)) != HMN_OK) goto cleanup;
  cl->ctx = clCreateContext(NULL, 1, &cl->dev.device, NULL, NULL, &e);
  if (cl->ctx == NULL || e != CL_SUCCESS) {
    rc = hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': cannot create a context: %s",
                   cl->dev.info.name, hmn__cl_error_name(e));
    goto cleanup;
  }
  /* Profiling is enabled on the queue so that it can be switched on
   * later; without events requested it costs nothing per command. */
  cl->queue = clCreateCommandQueue(cl->ctx, cl->dev.device, CL_QUEUE_PROFILING_ENABLE, &e);
  if (cl->queue == NULL || e != CL_SUCCESS) {
    rc = hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': cannot create a command queue: %s",
                   cl->dev.info.name, hmn__cl_error_name(e));
    goto cleanup;
  }
  for (int a = 0; a < HMN_ARRAY_COUNT && rc == HMN_OK; a++)
    rc = hmn__cl_create_buffer(cl, hmn__array_bytes(cfg, (hmn_array)a),
                               hmn_array_name((hmn_array)a), &cl->arr[a], err);
  for (int x = 0; x < HMN__X_COUNT && rc == HMN_OK; x++)
    rc = hmn__cl_create_buffer(cl, hmn__extra_bytes(cfg, x), "step intermediates", &cl->extra[x],
                               err);
  if (rc == HMN_OK)
    rc = hmn__cl_create_buffer(cl, hmn__inputs_bytes(cfg), "step inputs", &cl->inputs, err);
  for (int k = 0; k < 2 && rc == HMN_OK; k++)
    rc = hmn__cl_create_buffer(cl, hmn__array_bytes(cfg, HMN_ARRAY_PHI), "the phase gate's terms",
                               &cl->phase_terms[k], err);
  for (int k = 0; k < HMN__STAGES && rc == HMN_OK; k++)
    if ((cl->stage[k] = hmn__calloc(hmn__inputs_bytes(cfg), 1)) == NULL)
      rc = hmn__fail(err, HMN_ENOMEM, "out of memory creating an OpenCL layer");
  for (int a = 0; a < HMN_ARRAY_COUNT && rc == HMN_OK; a++)
    rc = hmn__cl_push(layer, (hmn_array)a, err);
  if (rc != HMN_OK) goto cleanup;
  if ((rc = hmn__cl_load_program(cl, cfg, err)) != HMN_OK) goto cleanup;
  if ((rc = hmn__cl_refresh(layer, err)) != HMN_OK) goto cleanup;
  /* The intermediates are rewritten every step before they are read, but
   * the statistics may read them before the first step. Zeros are written
   * rather than filled: Oclgrind 21.10 marks filled buffers uninitialized
   * for good, which would hide real reports among false ones. */
  size_t most = 0;
  for (int x = 0; x < HMN__X_COUNT; x++)
    if (hmn__extra_bytes(cfg, x) > most) most = hmn__extra_bytes(cfg, x);
  if (rc == HMN_OK && (zeros = hmn__calloc(most, 1)) == NULL)
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory creating an OpenCL layer");
  for (int x = 0; x < HMN__X_COUNT && rc == HMN_OK; x++) {
    e = clEnqueueWriteBuffer(cl->queue, cl->extra[x], CL_TRUE, 0, hmn__extra_bytes(cfg, x), zeros,
                             0, NULL, NULL);
    if (e != CL_SUCCESS)
      rc = hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': cannot clear step intermediates: %s",
                     cl->dev.info.name, hmn__cl_error_name(e));
  }
cleanup:
  hmn__free(zeros);
  if (rc != HMN_OK && cl != NULL) {
    hmn__cl_release(cl);
    layer->backend_data = NULL;
  }
  return rc;
}

static void hmn__cl_fini(hmn_layer *layer) {
  if (layer->backend_data != NULL) hmn__cl_release(layer->backend_data);
  layer->backend_data = NULL;
}

static int hmn__cl_step(hmn_layer *layer, const hmn_step_input *in, hmn_error *err) {
  hmn__cl_layer *cl = layer->backend_data;
  hmn__state *st = &layer->st;
  const hmn_config *cfg = &st->cfg;
  uint64_t t = st->t;
  int rc = hmn__step_check_input(cfg, in, t, err);
  if (rc != HMN_OK) return rc;
  if (cl->broken)
    return hmn__fail(err, HMN_EDEVICE,
                     "step %llu: the state on OpenCL device '%s' was lost to an earlier device "
                     "error; restore a checkpoint or snapshot",
                     (unsigned long long)t, cl->dev.info.name);
  if (cl->args_stale && (rc = hmn__cl_refresh(layer, err)) != HMN_OK) return rc;
  /* Profiling takes what has finished and never waits here. */
  while (hmn__cl_harvest_one(cl, false)) {
  }

  cl_uint slot = (cl_uint)(t % (uint64_t)cfg->delay_len);
  cl_uint t_lo = (cl_uint)t, t_hi = (cl_uint)(t >> 32);
  /* The gate's cos Phi and sin Phi, in double from the phase the
   * reference uses, then rounded (see hmnk_phase_gate_v). */
  double phase = in->phase != NULL ? (double)*in->phase : (double)hmn__oscillator_phase(cfg, t);
  cl_float cos_phase = (cl_float)cos(phase), sin_phase = (cl_float)sin(phase);
  cl_float eta_local = st->eta_local, eta_global = st->eta_global;

  cl_kernel *k = cl->kernels;
  /* The inputs: host copy, then a write the step does not wait for. */
  const char *what = "writing the step's inputs";
  size_t stage = cl->stage_next;
  cl_int e = CL_SUCCESS;
  if (cl->stage_done[stage] != NULL) {
    e = clWaitForEvents(1, &cl->stage_done[stage]);
    clReleaseEvent(cl->stage_done[stage]);
    cl->stage_done[stage] = NULL;
  }
  float *staged = cl->stage[stage];
  memcpy(staged, in->x, (size_t)cfg->n_in * sizeof(float));
  memcpy(staged + cfg->n_in, in->mod, (size_t)cfg->n_mod * sizeof(float));
  memcpy(staged + cfg->n_in + cfg->n_mod, in->ctx, (size_t)cfg->d_ctx * sizeof(float));
  if (e == CL_SUCCESS)
    e = clEnqueueWriteBuffer(cl->queue, cl->inputs, CL_FALSE, 0, hmn__inputs_bytes(cfg), staged, 0,
                             NULL, &cl->stage_done[stage]);
  if (e != CL_SUCCESS) cl->stage_done[stage] = NULL;
  if (e == CL_SUCCESS && cl->profiling && clRetainEvent(cl->stage_done[stage]) == CL_SUCCESS)
    hmn__cl_keep_event(cl, cl->stage_done[stage], HMN__PROF_WRITE);
  /* The step's scalars, each 4 bytes like its placeholder in bind. */
  const struct {
    int kernel;
    cl_uint index;
    const void *value;
  } step_args[] = {
      {HMN__K_INPUTS, HMN__IN_SLOT, &slot},
      {HMN__K_ROW, HMN__ROW_SLOT, &slot},
      {HMN__K_ROW, HMN__ROW_T_LO, &t_lo},
      {HMN__K_ROW, HMN__ROW_T_HI, &t_hi},
      {HMN__K_ROW, HMN__ROW_ETA_LOCAL, &eta_local},
      {HMN__K_ROW, HMN__ROW_ETA_GLOBAL, &eta_global},
      {HMN__K_ROW, HMN__ROW_COS_PHASE, &cos_phase},
      {HMN__K_ROW, HMN__ROW_SIN_PHASE, &sin_phase},
  };
  for (size_t a = 0; a < sizeof step_args / sizeof step_args[0] && e == CL_SUCCESS; a++) {
    what = "setting the step's arguments";
    e = clSetKernelArg(k[step_args[a].kernel], step_args[a].index, 4, step_args[a].value);
  }
  /* One work-group for the inputs; one per neuron. */
  const size_t global_size[HMN__K_COUNT] = {cl->wg[HMN__K_INPUTS],
                                            (size_t)cfg->n_out * cl->wg[HMN__K_ROW]};
  int launched = 0;
  for (int q = 0; q < HMN__K_COUNT && e == CL_SUCCESS; q++) {
    what = hmn__kernel_names[q];
    size_t global = global_size[q];
    cl_event ev = NULL;
    e = clEnqueueNDRangeKernel(cl->queue, k[q], 1, NULL, &global, &cl->wg[q], 0, NULL,
                               cl->profiling ? &ev : NULL);
    if (e == CL_SUCCESS) launched++;
    if (e == CL_SUCCESS && ev != NULL) hmn__cl_keep_event(cl, ev, q);
  }
  if (e != CL_SUCCESS) {
    /* Kernels already on their way change part of the state; before the
     * first one nothing has changed (the inputs have buffers of their own). */
    if (launched > 0) hmn__cl_mark_broken(cl);
    return hmn__fail(err, HMN_EDEVICE, "step %llu on OpenCL device '%s': %s failed: %s",
                     (unsigned long long)t, cl->dev.info.name, what, hmn__cl_error_name(e));
  }
  cl->stage_next = (stage + 1) % HMN__STAGES;
  /* Commands start without waiting for the next blocking call. */
  clFlush(cl->queue);
  st->t = t + 1;
  st->stats.t = st->t;
  st->stats.applied = HMN__STATS_ON_DEVICE;
  return HMN_OK;
}

static int hmn__cl_transfer(hmn_layer *layer, hmn_array which, bool to_device, hmn_error *err) {
  hmn__cl_layer *cl = layer->backend_data;
  size_t bytes = hmn__array_bytes(&layer->st.cfg, which);
  void *host = layer->st.arr[which];
  cl_int e = to_device ? clEnqueueWriteBuffer(cl->queue, cl->arr[which], CL_TRUE, 0, bytes, host,
                                              0, NULL, NULL)
                       : clEnqueueReadBuffer(cl->queue, cl->arr[which], CL_TRUE, 0, bytes, host,
                                             0, NULL, NULL);
  if (e != CL_SUCCESS)
    return hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': %s state array '%s' (step %llu): %s",
                     cl->dev.info.name, to_device ? "writing" : "reading", hmn_array_name(which),
                     (unsigned long long)layer->st.t, hmn__cl_error_name(e));
  return HMN_OK;
}

static int hmn__cl_pull(hmn_layer *layer, hmn_array which, hmn_error *err) {
  return hmn__cl_transfer(layer, which, false, err);
}

/* cos phi and sin phi for every synapse, from phi, into phase_terms: in
 * double and rounded, like the step's cos Phi and sin Phi. */
static int hmn__cl_write_phase_terms(hmn__cl_layer *cl, const hmn_config *cfg, const float *phi,
                                     hmn_error *err) {
  size_t n = (size_t)cfg->n_in * (size_t)cfg->n_out;
  float *terms = hmn__calloc(2 * n, sizeof(float));
  if (terms == NULL) return hmn__fail(err, HMN_ENOMEM, "out of memory for the phase gate's terms");
  for (size_t e = 0; e < n; e++) {
    terms[e] = (float)cos((double)phi[e]);
    terms[n + e] = (float)sin((double)phi[e]);
  }
  cl_int e = CL_SUCCESS;
  for (int k = 0; k < 2 && e == CL_SUCCESS; k++)
    e = clEnqueueWriteBuffer(cl->queue, cl->phase_terms[k], CL_TRUE, 0, n * sizeof(float),
                             terms + (size_t)k * n, 0, NULL, NULL);
  hmn__free(terms);
  if (e != CL_SUCCESS)
    return hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': writing the phase gate's terms: %s",
                     cl->dev.info.name, hmn__cl_error_name(e));
  cl->phi_version++;
  return HMN_OK;
}

static int hmn__cl_push(hmn_layer *layer, hmn_array which, hmn_error *err) {
  hmn__cl_layer *cl = layer->backend_data;
  /* A checkpoint restore changes the config before it pushes. */
  cl->args_stale = true;
  int rc = hmn__cl_transfer(layer, which, true, err);
  if (rc == HMN_OK && which == HMN_ARRAY_PHI)
    rc = hmn__cl_write_phase_terms(cl, &layer->st.cfg, layer->st.arr[HMN_ARRAY_PHI], err);
  /* Rewriting every array (a checkpoint restore) mends a broken state. */
  if (rc == HMN_OK) cl->pushed |= 1u << which;
  if (cl->pushed == (1u << HMN_ARRAY_COUNT) - 1u) cl->broken = false;
  return rc;
}

/* Add up the last step's per-neuron counts and G_j on the host, as ref
 * does (G_j summed in double, in order). */
static int hmn__cl_stats(hmn_layer *layer, hmn_error *err) {
  hmn__cl_layer *cl = layer->backend_data;
  hmn__state *st = &layer->st;
  if (st->stats.applied != HMN__STATS_ON_DEVICE) return HMN_OK;
  size_t n_out = (size_t)st->cfg.n_out;
  cl_uint *counts = hmn__calloc(2 * n_out, sizeof(cl_uint));
  float *g_j = hmn__calloc(n_out, sizeof(float));
  int rc = HMN_OK;
  if (counts == NULL || g_j == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory reading the step statistics");
    goto cleanup;
  }
  cl_int e = clEnqueueReadBuffer(cl->queue, cl->extra[HMN__X_COUNTS], CL_TRUE, 0,
                                 2 * n_out * sizeof(cl_uint), counts, 0, NULL, NULL);
  if (e == CL_SUCCESS)
    e = clEnqueueReadBuffer(cl->queue, cl->extra[HMN__X_G_J], CL_TRUE, 0, n_out * sizeof(float),
                            g_j, 0, NULL, NULL);
  if (e != CL_SUCCESS) {
    rc = hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': reading the statistics of step %llu: %s",
                   cl->dev.info.name, (unsigned long long)st->t, hmn__cl_error_name(e));
    goto cleanup;
  }
  uint64_t applied = 0, candidates = 0;
  for (size_t j = 0; j < n_out; j++) {
    applied += counts[2 * j];
    candidates += counts[2 * j + 1];
  }
  double g_sum = 0.0;
  for (size_t j = 0; j < n_out; j++) g_sum += g_j[j];
  st->stats.applied = applied;
  st->stats.candidates = candidates;
  st->stats.g_mean = (float)(g_sum / (double)n_out);
cleanup:
  hmn__free(counts);
  hmn__free(g_j);
  return rc;
}

/* Buffer copies on the device, in queue order after the last step. */
static int hmn__cl_snapshot(hmn_layer *layer, bool restore, hmn_error *err) {
  hmn__cl_layer *cl = layer->backend_data;
  const hmn_config *cfg = &layer->st.cfg;
  int rc = HMN_OK;
  const int stats_buffers[2] = {HMN__X_G_J, HMN__X_COUNTS};
  /* Allocated on the first save, kept for the next ones. */
  for (int a = 0; a < HMN_ARRAY_COUNT && rc == HMN_OK; a++)
    if (cl->snap_arr[a] == NULL)
      rc = hmn__cl_create_buffer(cl, hmn__array_bytes(cfg, (hmn_array)a), "the snapshot",
                                 &cl->snap_arr[a], err);
  for (int s = 0; s < 2 && rc == HMN_OK; s++)
    if (cl->snap_extra[stats_buffers[s]] == NULL)
      rc = hmn__cl_create_buffer(cl, hmn__extra_bytes(cfg, stats_buffers[s]), "the snapshot",
                                 &cl->snap_extra[stats_buffers[s]], err);
  if (rc != HMN_OK) return rc;
  cl_int e = CL_SUCCESS;
  for (int a = 0; a < HMN_ARRAY_COUNT && e == CL_SUCCESS; a++) {
    cl_mem live = cl->arr[a], saved = cl->snap_arr[a];
    e = clEnqueueCopyBuffer(cl->queue, restore ? saved : live, restore ? live : saved, 0, 0,
                            hmn__array_bytes(cfg, (hmn_array)a), 0, NULL, NULL);
  }
  for (int s = 0; s < 2 && e == CL_SUCCESS; s++) {
    cl_mem live = cl->extra[stats_buffers[s]], saved = cl->snap_extra[stats_buffers[s]];
    e = clEnqueueCopyBuffer(cl->queue, restore ? saved : live, restore ? live : saved, 0, 0,
                            hmn__extra_bytes(cfg, stats_buffers[s]), 0, NULL, NULL);
  }
  if (e != CL_SUCCESS) {
    /* A restore that stopped half way left a mixed state. */
    if (restore) hmn__cl_mark_broken(cl);
    return hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': %s the snapshot at step %llu: %s",
                     cl->dev.info.name, restore ? "restoring" : "saving",
                     (unsigned long long)layer->st.t, hmn__cl_error_name(e));
  }
  if (!restore) cl->snap_phi_version = cl->phi_version;
  if (restore && cl->snap_phi_version != cl->phi_version) {
    /* phi was written since the save: derive the terms from the restored
     * phi (read from the device: the host copy may be older). */
    size_t bytes = hmn__array_bytes(cfg, HMN_ARRAY_PHI);
    float *phi = hmn__calloc(bytes, 1);
    if (phi == NULL) {
      rc = hmn__fail(err, HMN_ENOMEM, "out of memory restoring the snapshot");
    } else if ((e = clEnqueueReadBuffer(cl->queue, cl->arr[HMN_ARRAY_PHI], CL_TRUE, 0, bytes, phi,
                                        0, NULL, NULL)) != CL_SUCCESS) {
      rc = hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': restoring the snapshot: %s",
                     cl->dev.info.name, hmn__cl_error_name(e));
    } else {
      rc = hmn__cl_write_phase_terms(cl, cfg, phi, err);
    }
    hmn__free(phi);
    if (rc != HMN_OK) {
      hmn__cl_mark_broken(cl);
      return rc;
    }
    cl->snap_phi_version = cl->phi_version;
  }
  if (restore) {
    cl->broken = false;
    cl->args_stale = true; /* the snapshot's config comes back too */
  }
  return HMN_OK;
}

static const char *hmn__cl_device_name(const hmn_layer *layer) {
  const hmn__cl_layer *cl = layer->backend_data;
  return cl->dev.info.name;
}

const hmn__backend_ops hmn__backend_opencl = {
    .name = "opencl",
    .init = hmn__cl_init,
    .fini = hmn__cl_fini,
    .step = hmn__cl_step,
    .pull = hmn__cl_pull,
    .push = hmn__cl_push,
    .stats = hmn__cl_stats,
    .snapshot = hmn__cl_snapshot,
    .set_profiling = hmn__cl_set_profiling,
    .profile = hmn__cl_profile,
    .device = hmn__cl_device_name,
};
