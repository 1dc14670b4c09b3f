/*
 * backend_opencl.c - the "opencl" backend: one HMN step as the kernels of
 * kernels/hmn_step.cl, with the whole layer state resident on the device.
 *
 * A launch of hmn_step_row runs one step, or up to HMN__GROUP of them for
 * hmn_layer_step_many. Each step's inputs travel in one slot of a ring:
 * the step's scalars (t, the learning rates, the phase's cos and sin, and
 * what the host forms from the inputs: G, h(t) and the extremes of beta
 * h, see hmn_step.cl) and x(t); a launch's steps take consecutive slots.
 * Nothing is read back. z, the other arrays and the statistics cross to
 * the host only when a caller asks (pull, stats).
 *
 * x_hist is two halves on the device (see hmn_step.cl): the state is the
 * half that the next launch reads, hist_half.
 *
 * The program is built once per layer for its shape and rule family (the
 * defines block); modes and parameters are the parameter record
 * (kernels/hmn_iface.h), so a checkpoint or snapshot restore with another
 * config only writes the record again, and builds the program again only
 * where the family changed.
 *
 * The rule families' state arrays (tr_pre, tr_post, rate, theta, scale)
 * live on the device like the others. The presynaptic traces follow from
 * x alone, so the host keeps a copy, as of h, and sends each step's
 * decayed traces with its inputs (hmn_step.cl).
 */
/* Shared virtual memory (OpenCL 2.0) carries the step's inputs where the
 * device has it; the build targets 1.2 otherwise, so this file asks for
 * the 2.0 declarations and calls them only on devices that report them. */
#undef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 200
/* clCreateCommandQueue, deprecated in 2.0, is the one 1.2 devices have. */
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include "opencl/opencl.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HMN__K_ROW, HMN__K_COUNT };
static const char *const hmn__kernel_names[HMN__K_COUNT] = {"hmn_step_row"};
/* Eq 1 alone (hmn_layer_forward): a kernel of its own, outside the step's
 * launches and the profile, which count the steps. */
#define HMN__FORWARD_NAME "hmn_forward_row"
/* Profile entries: the kernels, then the per-step uploads. */
#define HMN__PROF_WRITE HMN__K_COUNT
#define HMN__PROF_COUNT (HMN__K_COUNT + 1)

/* Device buffers beyond the state arrays and the step's inputs: G_j and
 * per-neuron counts of applied and candidate updates. Both feed the
 * statistics, so snapshots keep them. */
enum { HMN__X_G_J, HMN__X_COUNTS, HMN__X_COUNT };

/* Each step's inputs begin with its record (kernels/hmn_iface.h's
 * HMN_IFACE_STEP, HMN_STEP_SCALARS words), then x(t) and h(t): the
 * per-step values travel in the one upload of the step instead of as
 * kernel arguments, so a step makes no clSetKernelArg call beyond naming
 * its slot of shared memory. The layer's parameters are a record of their
 * own (HMN_IFACE_LAYER), written when the config may have changed. */

/* st.stats.applied holds this while the last step's counts are still on
 * the device; hmn_layer_stats adds them up on demand. Whoever resets the
 * host stats (a checkpoint restore) thereby makes the host copy the truth
 * again, and a snapshot carries the marker along with the device counts. */
#define HMN__STATS_ON_DEVICE UINT64_MAX

/* Steps whose inputs may be in flight at once. Each step's scalars, x(t)
 * and h(t) go into a slot of a ring of their own (the caller's arrays
 * need not outlive the call), so that the host prepares later steps while
 * the device runs this one and seldom waits for it:
 * - where the device has fine-grained SVM (PoCL does), the ring is shared
 *   memory that the kernel reads directly: a step is one command, one
 *   launch, where a write and a launch cost a CPU driver two rounds of
 *   its scheduler (and waking a thread each);
 * - elsewhere (OpenCL 1.2, Oclgrind, or HMN_OPENCL_INPUTS=write) a write
 *   that the step does not wait for copies the slot into one device
 *   buffer; the queue is in order, so it waits for the step before.
 * A slot is reused HMN__RING slots later, once its step is done. Rather
 * than an event per step (and a wake-up of the host per step), only the
 * launch that ends a group of HMN__GROUP slots asks for one, a marker: the
 * first launch of a group waits for the marker of the group that used
 * its slots last. A launch never spans two groups, which caps it at
 * HMN__GROUP steps. */
#define HMN__GROUP 16
#define HMN__MARKERS 4
#define HMN__RING (HMN__GROUP * HMN__MARKERS)
/* Position of the inputs among hmn_step_row's arguments. */
#define HMN__ROW_INPUTS 13
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
  cl_kernel forward;              /* hmn_forward_row, of the row kernel's size */
  /* The split (hmn_layer_forward, hmn_layer_learn): forward's one-step
   * slot (its record and x(t)) and z on the device, z as forward read it
   * (the z that learn's step computes again), and the policy rule's pi
   * for the learning step, formed on the host from that z. */
  cl_mem fwd_inputs, fwd_z, pi;
  float *fwd_slot, *fwd_z_host, *pi_host;
  cl_mem arr[HMN_ARRAY_COUNT];
  cl_mem extra[HMN__X_COUNT];
  cl_mem snap_arr[HMN_ARRAY_COUNT];
  cl_mem snap_extra[HMN__X_COUNT];
  /* cos phi and sin phi per synapse, for the phase gate (eq 4 in
   * hmn_synapse.h's hmnk_phase_gate_v): derived from phi whenever phi is
   * written. phi_version counts those writes; a snapshot remembers the
   * one it saw, so that restoring it after phi changed derives them again. */
  cl_mem phase_terms[2];
  cl_mem params; /* the layer's parameter record */
  uint64_t phi_version, snap_phi_version;
  bool args_stale;                /* the config may have changed since arguments were set */
  /* Step 3's h(t), step 5's extremes of beta h and step 6's G (eqs 6-7)
   * depend only on the step's inputs and on h, kappa and w_k, which
   * change only through the step itself: the host forms them and sends
   * them with the step's scalars (see hmn_step.cl). These are copies of
   * h, kappa and w_k as they are on the device: taken when they are
   * written, h carried along each step; a snapshot keeps its own. */
  float *h_copy, *keys, *key_weights;
  float *snap_h_copy, *snap_keys, *snap_key_weights;
  /* The spike-timing families' presynaptic traces as on the device, a
   * launch's working copy of them, and the snapshot's. */
  float *pre_copy, *pre_work, *snap_pre_copy;
  /* The family the program was built for (hmn__cl_family); -1: none. */
  int family_built;
  bool svm;                         /* the ring is fine-grained shared memory */
  cl_mem inputs;                    /* without SVM: the step's inputs on the device */
  float *ring;                      /* HMN__RING slots of a step's inputs */
  size_t slot_floats;               /* floats per slot (a multiple of 128 bytes) */
  size_t slot_capacity;             /* the most floats a slot may take, any family */
  uint64_t slots_used;              /* ring slots taken so far */
  uint32_t hist_half;               /* the half of x_hist that holds the state */
  uint32_t prev_steps;              /* steps of the last launch; 0: both halves equal */
  uint32_t snap_hist_half, snap_prev_steps;
  cl_event marker[HMN__MARKERS];    /* the last step of each group, or NULL */
  bool profiling;
  cl_event pending[HMN__PROF_RING]; /* a FIFO ring, oldest at pending_head */
  int pending_kind[HMN__PROF_RING];
  size_t pending_head, n_pending;
  hmn_kernel_profile prof[HMN__PROF_COUNT];
} hmn__cl_layer;

/* Whether the layer's rule keeps spike-timing traces. */
static bool hmn__cl_timing(const hmn_config *cfg) {
  return cfg->rule == HMN_RULE_STDP || cfg->rule == HMN_RULE_TRIPLET;
}

/* Where a step's imposed z (a clamped step's) begin in its slot. */
static size_t hmn__slot_z(const hmn_config *cfg, bool timing) {
  return (size_t)(HMN_STEP_SCALARS + (timing ? 4 : 2) * cfg->n_in);
}

/* One step's inputs: its scalars, x(t), h(t), the decayed presynaptic
 * traces r1 and r2 of the spike-timing families, and room for z. */
static size_t hmn__inputs_bytes(const hmn_config *cfg, bool timing) {
  return (hmn__slot_z(cfg, timing) + (size_t)cfg->n_out) * sizeof(float);
}

/* Floats per slot: a whole number of 128-byte lines (hmn_step.cl's
 * HMN_SLOT_FLOATS). */
static size_t hmn__slot_floats(const hmn_config *cfg, bool timing) {
  return (hmn__inputs_bytes(cfg, timing) + 127) / 128 * (128 / sizeof(float));
}

/* What the program is built for beyond the shape: the family's kappa,
 * and the options that add per-synapse work. */
enum { HMN__FAM_HETERO = 8, HMN__FAM_SCALING = 16 };
static int hmn__cl_family(const hmn_config *cfg) {
  int family = cfg->rule == HMN_RULE_STDP || cfg->rule == HMN_RULE_TRIPLET ||
                       cfg->rule == HMN_RULE_BCM
                   ? cfg->rule
                   : 0;
  if (cfg->hetero_ratio != 0.0f) family |= HMN__FAM_HETERO;
  if (cfg->scaling) family |= HMN__FAM_SCALING;
  return family;
}

/* An array's device buffer: x_hist holds two halves (hmn_step.cl). The
 * host moves it whole, at offset 0, never a half by offset: Oclgrind
 * 21.10's uninitialized-value check marks the wrong bytes for writes and
 * copies at a non-zero offset, and would report every later read. */
static size_t hmn__cl_buffer_bytes(const hmn_config *cfg, hmn_array which) {
  return (which == HMN_ARRAY_X_HIST ? 2u : 1u) * hmn__array_bytes(cfg, which);
}

static size_t hmn__extra_bytes(const hmn_config *cfg, int which) {
  size_t n_out = (size_t)cfg->n_out;
  return which == HMN__X_COUNTS ? 2 * n_out * sizeof(cl_uint) : n_out * sizeof(float);
}

/* ---- the program ---- */

/* The defines block: the shape, HMN_CPU_PREFETCH on CPU devices (see
 * HMN_PREFETCH in hmn_port.h), the rule family (hmn_step.cl), then any
 * HMN_KERNEL_DEFINES ("NAME=VALUE NAME2=VALUE2") for tuning without
 * rebuilding libhmn. */
static int hmn__cl_defines(const hmn_config *cfg, const hmn__cl_device *dev, char **out,
                           hmn_error *err) {
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
  int family = hmn__cl_family(cfg), kappa = family & 7;
  int used = snprintf(text, size,
                      "#define HMN_N_IN %d\n#define HMN_N_OUT %d\n#define HMN_N_MOD %d\n"
                      "#define HMN_D_CTX %d\n#define HMN_DELAY %d\n%s%s%s",
                      cfg->n_in, cfg->n_out, cfg->n_mod, cfg->d_ctx, cfg->delay_len,
                      dev->info.type == HMN_DEVICE_CPU ? "#define HMN_CPU_PREFETCH 1\n" : "",
                      kappa == HMN_RULE_STDP      ? "#define HMN_FAMILY_STDP 1\n"
                      : kappa == HMN_RULE_TRIPLET ? "#define HMN_FAMILY_TRIPLET 1\n"
                      : kappa == HMN_RULE_BCM     ? "#define HMN_FAMILY_BCM 1\n"
                                                  : "",
                      (family & HMN__FAM_HETERO) != 0 ? "#define HMN_WITH_HETERO 1\n" : "");
  if ((family & HMN__FAM_SCALING) != 0)
    used += snprintf(text + used, size - (size_t)used, "#define HMN_WITH_SCALING 1\n");
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
  if (cl->forward != NULL) clReleaseKernel(cl->forward);
  cl->forward = NULL;
  if (cl->program != NULL) clReleaseProgram(cl->program);
  cl->program = NULL;
}

/* Build (or fetch from the cache) the program for the layer's shape and
 * create its kernels. On failure the layer has no program. */
static int hmn__cl_load_program(hmn__cl_layer *cl, const hmn_config *cfg, hmn_error *err) {
  char *defines = NULL;
  int rc = hmn__cl_defines(cfg, &cl->dev, &defines, err);
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
  cl_int e = CL_SUCCESS;
  cl->forward = clCreateKernel(cl->program, HMN__FORWARD_NAME, &e);
  if (e != CL_SUCCESS) {
    rc = hmn__fail(err, HMN_EBUILD, "OpenCL device '%s': cannot create kernel %s: %s",
                   cl->dev.info.name, HMN__FORWARD_NAME, hmn__cl_error_name(e));
    goto cleanup;
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

/* The parameter record, then every argument in hmn_step.cl's order; the
 * per-step values travel in the inputs buffer. */
static int hmn__cl_bind(hmn_layer *layer, hmn_error *err) {
  hmn__cl_layer *cl = layer->backend_data;
  cl_mem *m = cl->arr, *x = cl->extra;
  cl_uint params[HMN_P_COUNT];
  hmn__kernel_params(&layer->st.cfg, params);
  /* (blocking, and in order after every launch that read the record before) */
  cl_int e = clEnqueueWriteBuffer(cl->queue, cl->params, CL_TRUE, 0, sizeof params, params, 0,
                                  NULL, NULL);
  if (e != CL_SUCCESS)
    return hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': writing the parameter record: %s",
                     cl->dev.info.name, hmn__cl_error_name(e));

  hmn__args a[HMN__K_COUNT];
  for (int k = 0; k < HMN__K_COUNT; k++) a[k] = (hmn__args){cl->kernels[k], 0, CL_SUCCESS};

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
  /* (the first slot of the ring with SVM; each step names its own) */
  if (cl->svm && row->status == CL_SUCCESS)
    row->status = clSetKernelArgSVMPointer(row->kernel, row->index, cl->ring);
  if (cl->svm)
    row->index++;
  else
    HMN__ARG_MEM(row, cl->inputs);
  if (row->index != HMN__ROW_INPUTS + 1 && row->status == CL_SUCCESS)
    row->status = CL_INVALID_ARG_INDEX;
  HMN__ARG_MEM(row, x[HMN__X_G_J]);
  HMN__ARG_MEM(row, x[HMN__X_COUNTS]);
  HMN__ARG_MEM(row, cl->params);
  HMN__ARG_MEM(row, cl->pi);
  HMN__ARG_MEM(row, m[HMN_ARRAY_PRE_TRACE]);
  HMN__ARG_MEM(row, m[HMN_ARRAY_POST_TRACE]);
  HMN__ARG_MEM(row, m[HMN_ARRAY_RATE]);
  HMN__ARG_MEM(row, m[HMN_ARRAY_THETA]);
  HMN__ARG_MEM(row, m[HMN_ARRAY_SCALE]);

  hmn__args fwd = {cl->forward, 0, CL_SUCCESS};
  HMN__ARG_MEM(&fwd, m[HMN_ARRAY_W]);
  HMN__ARG_MEM(&fwd, m[HMN_ARRAY_TAU]);
  HMN__ARG_MEM(&fwd, m[HMN_ARRAY_X_HIST]);
  HMN__ARG_MEM(&fwd, m[HMN_ARRAY_B]);
  HMN__ARG_MEM(&fwd, cl->fwd_inputs);
  HMN__ARG_MEM(&fwd, cl->fwd_z);
  HMN__ARG_MEM(&fwd, cl->params);
  if (fwd.status != CL_SUCCESS)
    return hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': setting the arguments of %s: %s",
                     cl->dev.info.name, HMN__FORWARD_NAME, hmn__cl_error_name(fwd.status));

  for (int k = 0; k < HMN__K_COUNT; k++)
    if (a[k].status != CL_SUCCESS)
      return hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': setting the arguments of %s: %s",
                       cl->dev.info.name, hmn__kernel_names[k], hmn__cl_error_name(a[k].status));
  return HMN_OK;
}

static int hmn__cl_load_program(hmn__cl_layer *cl, const hmn_config *cfg, hmn_error *err);

/* After the config may have changed (init, checkpoint restore, snapshot
 * restore): set every argument again, with the program built again first
 * where the rule family changed. The shape never changes. */
static int hmn__cl_refresh(hmn_layer *layer, hmn_error *err) {
  hmn__cl_layer *cl = layer->backend_data;
  const hmn_config *cfg = &layer->st.cfg;
  int rc = HMN_OK;
  if (cl->family_built != hmn__cl_family(cfg)) {
    /* The slots change their size: no launch may still read them. */
    cl_int e = clFinish(cl->queue);
    if (e != CL_SUCCESS)
      return hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': waiting for the steps: %s",
                       cl->dev.info.name, hmn__cl_error_name(e));
    hmn__cl_release_program(cl);
    cl->family_built = -1;
    if ((rc = hmn__cl_load_program(cl, cfg, err)) != HMN_OK) return rc;
    cl->family_built = hmn__cl_family(cfg);
    cl->slot_floats = hmn__slot_floats(cfg, hmn__cl_timing(cfg));
  }
  rc = hmn__cl_bind(layer, err);
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
             k < HMN__K_COUNT ? hmn__kernel_names[k] : HMN_PROFILE_UPLOAD_NAME);
    cl->prof[k].kind = k < HMN__K_COUNT ? HMN_PROFILE_KERNEL : HMN_PROFILE_UPLOAD;
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
  for (int k = 0; k < HMN__MARKERS; k++)
    if (cl->marker[k] != NULL) clReleaseEvent(cl->marker[k]);
  /* (the queue has finished: nothing reads the ring any more) */
  if (cl->svm && cl->ring != NULL) clSVMFree(cl->ctx, cl->ring);
  if (!cl->svm) hmn__free(cl->ring);
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
  if (cl->params != NULL) clReleaseMemObject(cl->params);
  cl_mem split_mem[3] = {cl->fwd_inputs, cl->fwd_z, cl->pi};
  for (int k = 0; k < 3; k++)
    if (split_mem[k] != NULL) clReleaseMemObject(split_mem[k]);
  hmn__free(cl->fwd_slot);
  hmn__free(cl->fwd_z_host);
  hmn__free(cl->pi_host);
  hmn__free(cl->h_copy);
  hmn__free(cl->snap_h_copy);
  hmn__free(cl->keys);
  hmn__free(cl->key_weights);
  hmn__free(cl->snap_keys);
  hmn__free(cl->snap_key_weights);
  hmn__free(cl->pre_copy);
  hmn__free(cl->pre_work);
  hmn__free(cl->snap_pre_copy);
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

/* Whether the step's inputs can travel through fine-grained SVM: an
 * OpenCL 2.0 or later platform and device that report it, unless
 * HMN_OPENCL_INPUTS=write asks for the write (as on devices without it). */
static bool hmn__cl_has_fine_grain_svm(const hmn__cl_device *dev) {
  const char *inputs = getenv("HMN_OPENCL_INPUTS");
  if (inputs != NULL && strcmp(inputs, "write") == 0) return false;
  int platform_major = 0, device_major = 0;
  if (sscanf(dev->platform_version, "OpenCL %d", &platform_major) != 1 || platform_major < 2 ||
      sscanf(dev->info.version, "OpenCL %d", &device_major) != 1 || device_major < 2)
    return false;
  cl_device_svm_capabilities caps = 0;
  return clGetDeviceInfo(dev->device, CL_DEVICE_SVM_CAPABILITIES, sizeof caps, &caps, NULL) ==
             CL_SUCCESS &&
         (caps & CL_DEVICE_SVM_FINE_GRAIN_BUFFER) != 0;
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
  cl->svm = hmn__cl_has_fine_grain_svm(&cl->dev);
  /* Profiling is enabled on the queue so that it can be switched on
   * later; without events requested it costs nothing per command. */
  cl->queue = clCreateCommandQueue(cl->ctx, cl->dev.device, CL_QUEUE_PROFILING_ENABLE, &e);
  if (cl->queue == NULL || e != CL_SUCCESS) {
    rc = hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': cannot create a command queue: %s",
                   cl->dev.info.name, hmn__cl_error_name(e));
    goto cleanup;
  }
  for (int a = 0; a < HMN_ARRAY_COUNT && rc == HMN_OK; a++)
    rc = hmn__cl_create_buffer(cl, hmn__cl_buffer_bytes(cfg, (hmn_array)a),
                               hmn_array_name((hmn_array)a), &cl->arr[a], err);
  for (int x = 0; x < HMN__X_COUNT && rc == HMN_OK; x++)
    rc = hmn__cl_create_buffer(cl, hmn__extra_bytes(cfg, x), "step intermediates", &cl->extra[x],
                               err);

  for (int k = 0; k < 2 && rc == HMN_OK; k++)
    rc = hmn__cl_create_buffer(cl, hmn__array_bytes(cfg, HMN_ARRAY_PHI), "the phase gate's terms",
                               &cl->phase_terms[k], err);
  if (rc == HMN_OK)
    rc = hmn__cl_create_buffer(cl, HMN_P_COUNT * sizeof(cl_uint), "the parameter record",
                               &cl->params, err);
  /* Slots have room for any family's inputs, so that a restore that
   * changes the family keeps the ring. */
  cl->family_built = -1;
  cl->slot_floats = hmn__slot_floats(cfg, hmn__cl_timing(cfg));
  cl->slot_capacity = hmn__slot_floats(cfg, true);
  size_t out_bytes = (size_t)cfg->n_out * sizeof(float);
  if (rc == HMN_OK)
    rc = hmn__cl_create_buffer(cl, cl->slot_capacity * sizeof(float), "forward's input",
                               &cl->fwd_inputs, err);
  if (rc == HMN_OK) rc = hmn__cl_create_buffer(cl, out_bytes, "forward's z", &cl->fwd_z, err);
  if (rc == HMN_OK) rc = hmn__cl_create_buffer(cl, out_bytes, "the policy's pi", &cl->pi, err);
  if (rc == HMN_OK && ((cl->fwd_slot = hmn__calloc(cl->slot_capacity, sizeof(float))) == NULL ||
                       (cl->fwd_z_host = hmn__calloc((size_t)cfg->n_out, sizeof(float))) == NULL ||
                       (cl->pi_host = hmn__calloc((size_t)cfg->n_out, sizeof(float))) == NULL))
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory creating an OpenCL layer");
  size_t ring_bytes = HMN__RING * cl->slot_capacity * sizeof(float);
  if (rc == HMN_OK && cl->svm &&
      (cl->ring = clSVMAlloc(cl->ctx, CL_MEM_READ_ONLY | CL_MEM_SVM_FINE_GRAIN_BUFFER, ring_bytes,
                             128)) == NULL)
    cl->svm = false; /* then the way without SVM */
  if (rc == HMN_OK && !cl->svm && (cl->ring = hmn__calloc(ring_bytes, 1)) == NULL)
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory creating an OpenCL layer");
  if (rc == HMN_OK && !cl->svm)
    rc = hmn__cl_create_buffer(cl, HMN__GROUP * cl->slot_capacity * sizeof(float), "step inputs",
                               &cl->inputs, err);
  if (rc == HMN_OK &&
      ((cl->h_copy = hmn__calloc(hmn__array_bytes(cfg, HMN_ARRAY_H), 1)) == NULL ||
       (cl->snap_h_copy = hmn__calloc(hmn__array_bytes(cfg, HMN_ARRAY_H), 1)) == NULL ||
       (cl->keys = hmn__calloc(hmn__array_bytes(cfg, HMN_ARRAY_KAPPA), 1)) == NULL ||
       (cl->key_weights = hmn__calloc(hmn__array_bytes(cfg, HMN_ARRAY_W_K), 1)) == NULL ||
       (cl->snap_keys = hmn__calloc(hmn__array_bytes(cfg, HMN_ARRAY_KAPPA), 1)) == NULL ||
       (cl->snap_key_weights = hmn__calloc(hmn__array_bytes(cfg, HMN_ARRAY_W_K), 1)) == NULL ||
       (cl->pre_copy = hmn__calloc(hmn__array_bytes(cfg, HMN_ARRAY_PRE_TRACE), 1)) == NULL ||
       (cl->pre_work = hmn__calloc(hmn__array_bytes(cfg, HMN_ARRAY_PRE_TRACE), 1)) == NULL ||
       (cl->snap_pre_copy = hmn__calloc(hmn__array_bytes(cfg, HMN_ARRAY_PRE_TRACE), 1)) == NULL))
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory creating an OpenCL layer");
  for (int a = 0; a < HMN_ARRAY_COUNT && rc == HMN_OK; a++)
    rc = hmn__cl_push(layer, (hmn_array)a, err);
  if (rc != HMN_OK) goto cleanup;
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

/* Steps t .. t + count - 1 (inputs checked, count <= HMN__GROUP) as one
 * launch, in consecutive slots of one group of the ring. action1 is the
 * step record's ACTION word: an action (a launch of one step), or
 * HMN_STEP_CLAMP with count rows of imposed z in z_clamp. */
static int hmn__cl_launch(hmn_layer *layer, const hmn_step_input *in, uint32_t count,
                          uint32_t action1, const float *z_clamp, hmn_error *err) {
  hmn__cl_layer *cl = layer->backend_data;
  hmn__state *st = &layer->st;
  const hmn_config *cfg = &st->cfg;
  uint64_t t = st->t;
  int rc = HMN_OK;
  if (cl->args_stale && (rc = hmn__cl_refresh(layer, err)) != HMN_OK) return rc;
  /* Profiling takes what has finished and never waits here. */
  while (hmn__cl_harvest_one(cl, false)) {
  }

  /* The scalars and inputs into the next slots of the ring, once the
   * launch that used them last is done (see HMN__RING). */
  const char *what = "waiting for an earlier step";
  uint64_t u = cl->slots_used;
  cl_int e = CL_SUCCESS;
  if (u % HMN__GROUP == 0 && u >= HMN__RING) {
    cl_event *marker = &cl->marker[(u / HMN__GROUP) % HMN__MARKERS];
    e = *marker != NULL ? clWaitForEvents(1, marker) : clFinish(cl->queue);
    if (*marker != NULL) clReleaseEvent(*marker);
    *marker = NULL;
  }
  /* (Without the wait the slot may still be read: nothing is written.) */
  if (e != CL_SUCCESS)
    return hmn__fail(err, HMN_EDEVICE, "step %llu on OpenCL device '%s': %s failed: %s",
                     (unsigned long long)t, cl->dev.info.name, what, hmn__cl_error_name(e));
  float *first = cl->ring + (size_t)(u % HMN__RING) * cl->slot_floats;
  const float *h_prev = cl->h_copy;
  bool timing = hmn__cl_timing(cfg);
  if (timing) memcpy(cl->pre_work, cl->pre_copy, hmn__array_bytes(cfg, HMN_ARRAY_PRE_TRACE));
  for (uint32_t s = 0; s < count; s++) {
    float *staged = first + (size_t)s * cl->slot_floats;
    float *x_part = staged + HMN_STEP_SCALARS, *h_part = x_part + cfg->n_in;
    memcpy(x_part, in[s].x, (size_t)cfg->n_in * sizeof(float));
    /* Step 3's h(t) (hmnk_ema's expression, so the kernel's bits), and
     * step 5's extremes of beta h_i and whether the case is plain, as
     * hmn_step_row defines it. */
    hmn__pre_extremes bh;
    hmn__pre_embedding(cfg, h_prev, in[s].x, h_part, &bh);
    h_prev = h_part;
    /* The spike-timing traces r1, r2 after the decay, for kappa. */
    if (timing) hmn__pre_spike_traces(cfg, cl->pre_work, in[s].x, h_part + cfg->n_in);
    if (z_clamp != NULL)
      memcpy(staged + hmn__slot_z(cfg, timing), z_clamp + (size_t)s * (size_t)cfg->n_out,
             (size_t)cfg->n_out * sizeof(float));
    /* The gate's cos Phi and sin Phi (eq 4, hmnk_phase_gate). */
    uint64_t ts = t + s;
    double phase =
        in[s].phase != NULL ? (double)*in[s].phase : (double)hmn__oscillator_phase(cfg, ts);
    float cos_phase, sin_phase;
    hmn__pre_cos_sin(phase, &cos_phase, &sin_phase);
    hmn__step_record rec = {
        .slot = (uint32_t)(ts % (uint64_t)cfg->delay_len),
        .t_lo = (uint32_t)ts,
        .t_hi = (uint32_t)(ts >> 32),
        .plain = bh.plain ? 1u : 0u,
        .eta_local = st->eta_local,
        .eta_global = st->eta_global,
        .cos_phase = cos_phase,
        .sin_phase = sin_phase,
        .g = hmn__pre_global_modulation(cfg, cl->keys, cl->key_weights, in[s].mod, in[s].ctx),
        .e_astro = in[s].mod[cfg->astro_source],
        .bh_min = bh.bh_min,
        .bh_max = bh.bh_max,
        /* What the whole launch shares, read from its first slot only. */
        .steps = count,
        .prev_steps = cl->prev_steps,
        .hist_half = cl->hist_half,
        /* (a learning or clamped step's, which is a launch of one step) */
        .action1 = action1};
    hmn__step_record_store(&rec, staged);
  }
  if (cl->svm) {
    what = "setting the step's inputs";
    e = clSetKernelArgSVMPointer(cl->kernels[HMN__K_ROW], HMN__ROW_INPUTS, first);
  } else {
    what = "writing the step's inputs";
    cl_event ev = NULL;
    e = clEnqueueWriteBuffer(cl->queue, cl->inputs, CL_FALSE, 0,
                             count * cl->slot_floats * sizeof(float), first, 0, NULL,
                             cl->profiling ? &ev : NULL);
    if (e == CL_SUCCESS && ev != NULL) hmn__cl_keep_event(cl, ev, HMN__PROF_WRITE);
  }
  /* One work-group per neuron. */
  int launched = 0;
  for (int q = 0; q < HMN__K_COUNT && e == CL_SUCCESS; q++) {
    what = hmn__kernel_names[q];
    size_t global = (size_t)cfg->n_out * cl->wg[q];
    cl_event ev = NULL;
    bool marks = q == HMN__K_COUNT - 1 && (u + count) % HMN__GROUP == 0;
    e = clEnqueueNDRangeKernel(cl->queue, cl->kernels[q], 1, NULL, &global, &cl->wg[q], 0, NULL,
                               cl->profiling || marks ? &ev : NULL);
    if (e == CL_SUCCESS) launched++;
    if (e == CL_SUCCESS && marks) {
      cl->marker[(u / HMN__GROUP) % HMN__MARKERS] = ev;
      if (cl->profiling && clRetainEvent(ev) != CL_SUCCESS) ev = NULL;
    }
    if (e == CL_SUCCESS && ev != NULL && cl->profiling) hmn__cl_keep_event(cl, ev, q);
  }
  if (e != CL_SUCCESS) {
    /* Kernels already on their way change part of the state; before the
     * first one nothing has changed (the inputs have buffers of their own). */
    if (launched > 0) hmn__layer_lose_state(layer);
    return hmn__fail(err, HMN_EDEVICE, "step %llu on OpenCL device '%s': %s failed: %s",
                     (unsigned long long)t, cl->dev.info.name, what, hmn__cl_error_name(e));
  }
  cl->slots_used = u + count;
  cl->hist_half ^= 1u;
  cl->prev_steps = count;
  /* The device's h is the last step's h(t) now (group 0 stores it), and
   * likewise its presynaptic traces. */
  memcpy(cl->h_copy, h_prev, (size_t)cfg->n_in * sizeof(float));
  if (timing) memcpy(cl->pre_copy, cl->pre_work, hmn__array_bytes(cfg, HMN_ARRAY_PRE_TRACE));
  /* Commands start without waiting for the next blocking call. */
  clFlush(cl->queue);
  st->t = t + count;
  st->stats.t = st->t;
  st->stats.applied = HMN__STATS_ON_DEVICE;
  return HMN_OK;
}

static int hmn__cl_step(hmn_layer *layer, const hmn_step_input *in, hmn_error *err) {
  return hmn__cl_launch(layer, in, 1, 0u, NULL, err);
}

/* Checked inputs with z(t) imposed (hmn__layer_step_clamped_many): each
 * step's z travels in its slot, and its record says so (HMN_STEP_CLAMP);
 * launches of as many steps as fit in the ring's current group. */
static int hmn__cl_step_clamped(hmn_layer *layer, const hmn_step_input *in, const float *z_clamp,
                                size_t count, hmn_error *err) {
  hmn__cl_layer *cl = layer->backend_data;
  size_t n_out = (size_t)layer->st.cfg.n_out;
  for (size_t done = 0; done < count;) {
    uint32_t room = HMN__GROUP - (uint32_t)(cl->slots_used % HMN__GROUP);
    uint32_t n = count - done < room ? (uint32_t)(count - done) : room;
    int rc = hmn__cl_launch(layer, in + done, n, HMN_STEP_CLAMP, z_clamp + done * n_out, err);
    if (rc != HMN_OK) return rc;
    done += n;
  }
  return HMN_OK;
}

/* Checked inputs (hmn_layer_step_many): launches of as many steps as fit
 * in the ring's current group. */
static int hmn__cl_step_many(hmn_layer *layer, const hmn_step_input *in, size_t count,
                             hmn_error *err) {
  hmn__cl_layer *cl = layer->backend_data;
  for (size_t done = 0; done < count;) {
    uint32_t room = HMN__GROUP - (uint32_t)(cl->slots_used % HMN__GROUP);
    uint32_t n = count - done < room ? (uint32_t)(count - done) : room;
    int rc = hmn__cl_launch(layer, in + done, n, 0u, NULL, err);
    if (rc != HMN_OK) return rc;
    done += n;
  }
  return HMN_OK;
}

/* Eq 1 for x(t) (hmn_layer_forward): the forward kernel on a slot of its
 * own, z read back. It reads the state in queue order after every step
 * before it and writes nothing of it. */
static int hmn__cl_forward(hmn_layer *layer, const float *x, float *z, hmn_error *err) {
  hmn__cl_layer *cl = layer->backend_data;
  hmn__state *st = &layer->st;
  const hmn_config *cfg = &st->cfg;
  uint64_t t = st->t;
  int rc = HMN_OK;
  if (layer->state_lost)
    return hmn__fail(err, HMN_EDEVICE,
                     "step %llu: the state on opencl device '%s' was lost to an earlier device "
                     "error; restore a checkpoint or snapshot",
                     (unsigned long long)t, cl->dev.info.name);
  if (cl->args_stale && (rc = hmn__cl_refresh(layer, err)) != HMN_OK) return rc;
  hmn__step_record rec = {.slot = (uint32_t)(t % (uint64_t)cfg->delay_len),
                          .t_lo = (uint32_t)t,
                          .t_hi = (uint32_t)(t >> 32),
                          .steps = 1,
                          .hist_half = cl->hist_half};
  hmn__step_record_store(&rec, cl->fwd_slot);
  memcpy(cl->fwd_slot + HMN_STEP_SCALARS, x, (size_t)cfg->n_in * sizeof(float));
  const char *what = "writing forward's input";
  cl_int e = clEnqueueWriteBuffer(cl->queue, cl->fwd_inputs, CL_TRUE, 0,
                                  (HMN_STEP_SCALARS + (size_t)cfg->n_in) * sizeof(float),
                                  cl->fwd_slot, 0, NULL, NULL);
  size_t global = (size_t)cfg->n_out * cl->wg[HMN__K_ROW];
  if (e == CL_SUCCESS) {
    what = HMN__FORWARD_NAME;
    e = clEnqueueNDRangeKernel(cl->queue, cl->forward, 1, NULL, &global, &cl->wg[HMN__K_ROW], 0,
                               NULL, NULL);
  }
  if (e == CL_SUCCESS) {
    what = "reading forward's z";
    e = clEnqueueReadBuffer(cl->queue, cl->fwd_z, CL_TRUE, 0, (size_t)cfg->n_out * sizeof(float),
                            cl->fwd_z_host, 0, NULL, NULL);
  }
  if (e != CL_SUCCESS)
    return hmn__fail(err, HMN_EDEVICE, "step %llu (forward) on OpenCL device '%s': %s failed: %s",
                     (unsigned long long)t, cl->dev.info.name, what, hmn__cl_error_name(e));
  memcpy(z, cl->fwd_z_host, (size_t)cfg->n_out * sizeof(float));
  return HMN_OK;
}

/* The whole step t with x as forward had it (split.c keeps it) and the
 * action: the fused launch of one step, whose record carries the action
 * and whose pi (rule policy) the host forms from forward's z, the z that
 * the step computes again. */
static int hmn__cl_learn(hmn_layer *layer, const hmn_step_input *in, int32_t action,
                         hmn_error *err) {
  hmn__cl_layer *cl = layer->backend_data;
  hmn__state *st = &layer->st;
  const hmn_config *cfg = &st->cfg;
  if (layer->state_lost)
    return hmn__fail(err, HMN_EDEVICE,
                     "step %llu: the state on opencl device '%s' was lost to an earlier device "
                     "error; restore a checkpoint or snapshot",
                     (unsigned long long)st->t, cl->dev.info.name);
  if (cfg->rule != HMN_RULE_POLICY) return hmn__cl_launch(layer, in, 1, 0u, NULL, err);
  if (action < 0 || action >= cfg->n_out)
    return hmn__fail(err, HMN_EINVAL,
                     "step %llu: rule policy needs the action taken (0 .. %d), got %d; step "
                     "with hmn_layer_forward, then hmn_layer_learn",
                     (unsigned long long)st->t, cfg->n_out - 1, (int)action);
  hmn__pre_policy(cl->fwd_z_host, cfg->n_out, cfg->temperature, cl->pi_host);
  /* (blocking: in queue order after every step that read pi before) */
  cl_int e = clEnqueueWriteBuffer(cl->queue, cl->pi, CL_TRUE, 0,
                                  (size_t)cfg->n_out * sizeof(float), cl->pi_host, 0, NULL, NULL);
  if (e != CL_SUCCESS)
    return hmn__fail(err, HMN_EDEVICE, "step %llu on OpenCL device '%s': writing pi failed: %s",
                     (unsigned long long)st->t, cl->dev.info.name, hmn__cl_error_name(e));
  return hmn__cl_launch(layer, in, 1, (uint32_t)action + 1u, NULL, err);
}

/* One array between host and device. x_hist is read from the half that
 * holds the state and written into both, in one write of the whole
 * buffer (hmn__cl_buffer_bytes). */
static int hmn__cl_transfer(hmn_layer *layer, hmn_array which, bool to_device, hmn_error *err) {
  hmn__cl_layer *cl = layer->backend_data;
  size_t bytes = hmn__array_bytes(&layer->st.cfg, which);
  void *host = layer->st.arr[which];
  bool hist = which == HMN_ARRAY_X_HIST;
  float *halves = NULL;
  if (to_device && hist) {
    if ((halves = hmn__calloc(2, bytes)) == NULL)
      return hmn__fail(err, HMN_ENOMEM, "out of memory writing state array '%s'",
                       hmn_array_name(which));
    memcpy(halves, host, bytes);
    memcpy((char *)halves + bytes, host, bytes);
  }
  cl_int e = to_device ? clEnqueueWriteBuffer(cl->queue, cl->arr[which], CL_TRUE, 0,
                                              hist ? 2 * bytes : bytes, hist ? halves : host, 0,
                                              NULL, NULL)
                       : clEnqueueReadBuffer(cl->queue, cl->arr[which], CL_TRUE,
                                             hist ? cl->hist_half * bytes : 0, bytes, host, 0,
                                             NULL, NULL);
  hmn__free(halves);
  if (to_device && hist && e == CL_SUCCESS) cl->prev_steps = 0;
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
  for (size_t e = 0; e < n; e++) hmn__pre_cos_sin((double)phi[e], &terms[e], &terms[n + e]);
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
  float *copy = which == HMN_ARRAY_H           ? cl->h_copy
                : which == HMN_ARRAY_KAPPA     ? cl->keys
                : which == HMN_ARRAY_W_K       ? cl->key_weights
                : which == HMN_ARRAY_PRE_TRACE ? cl->pre_copy
                                               : NULL;
  if (rc == HMN_OK && copy != NULL)
    memcpy(copy, layer->st.arr[which], hmn__array_bytes(&layer->st.cfg, which));
  if (rc == HMN_OK && which == HMN_ARRAY_PHI)
    rc = hmn__cl_write_phase_terms(cl, &layer->st.cfg, layer->st.arr[HMN_ARRAY_PHI], err);
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
      rc = hmn__cl_create_buffer(cl, hmn__cl_buffer_bytes(cfg, (hmn_array)a), "the snapshot",
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
                            hmn__cl_buffer_bytes(cfg, (hmn_array)a), 0, NULL, NULL);
  }
  for (int s = 0; s < 2 && e == CL_SUCCESS; s++) {
    cl_mem live = cl->extra[stats_buffers[s]], saved = cl->snap_extra[stats_buffers[s]];
    e = clEnqueueCopyBuffer(cl->queue, restore ? saved : live, restore ? live : saved, 0, 0,
                            hmn__extra_bytes(cfg, stats_buffers[s]), 0, NULL, NULL);
  }
  if (e != CL_SUCCESS) {
    /* A restore that stopped half way left a mixed state. */
    if (restore) hmn__layer_lose_state(layer);
    return hmn__fail(err, HMN_EDEVICE, "OpenCL device '%s': %s the snapshot at step %llu: %s",
                     cl->dev.info.name, restore ? "restoring" : "saving",
                     (unsigned long long)layer->st.t, hmn__cl_error_name(e));
  }
  size_t h_bytes = hmn__array_bytes(cfg, HMN_ARRAY_H);
  memcpy(restore ? cl->h_copy : cl->snap_h_copy, restore ? cl->snap_h_copy : cl->h_copy, h_bytes);
  size_t key_bytes = hmn__array_bytes(cfg, HMN_ARRAY_KAPPA);
  size_t weight_bytes = hmn__array_bytes(cfg, HMN_ARRAY_W_K);
  memcpy(restore ? cl->keys : cl->snap_keys, restore ? cl->snap_keys : cl->keys, key_bytes);
  memcpy(restore ? cl->key_weights : cl->snap_key_weights,
         restore ? cl->snap_key_weights : cl->key_weights, weight_bytes);
  size_t pre_bytes = hmn__array_bytes(cfg, HMN_ARRAY_PRE_TRACE);
  memcpy(restore ? cl->pre_copy : cl->snap_pre_copy, restore ? cl->snap_pre_copy : cl->pre_copy,
         pre_bytes);
  if (!restore) {
    cl->snap_phi_version = cl->phi_version;
    /* Both halves of x_hist were saved: which one holds the state, and
     * how far the other is behind, come along. */
    cl->snap_hist_half = cl->hist_half;
    cl->snap_prev_steps = cl->prev_steps;
  }
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
      hmn__layer_lose_state(layer);
      return rc;
    }
    cl->snap_phi_version = cl->phi_version;
  }
  if (restore) {
    cl->hist_half = cl->snap_hist_half;
    cl->prev_steps = cl->snap_prev_steps;
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
    .step_many = hmn__cl_step_many,
    .step_clamped = hmn__cl_step_clamped,
    .forward = hmn__cl_forward,
    .learn = hmn__cl_learn,
    .pull = hmn__cl_pull,
    .push = hmn__cl_push,
    .stats = hmn__cl_stats,
    .snapshot = hmn__cl_snapshot,
    .set_profiling = hmn__cl_set_profiling,
    .profile = hmn__cl_profile,
    .device = hmn__cl_device_name,
};
