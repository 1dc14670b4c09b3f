/*
 * internal.h - declarations shared by libhmn's modules. Nothing here is
 * part of the public API; internal names start with hmn__.
 */
#ifndef HMN_INTERNAL_H
#define HMN_INTERNAL_H

#include "hmn.h"

#include <stdarg.h>
#include <stdbool.h>

#define HMN__PI 3.14159265358979323846
#define HMN__TWO_PI 6.28318530717958647692

/* Largest synapse count a layer may hold: the Philox counter's element
 * index is 32 bits and one block serves 4 synapses. */
#define HMN__MAX_SYNAPSES ((uint64_t)1 << 32)
#define HMN__MAX_DELAY 256

/* ---- errors (error.c) ---- */
int hmn__fail(hmn_error *err, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void hmn__clear(hmn_error *err);

/* ---- memory (alloc.c): one place, so tests can make it fail ---- */
void *hmn__calloc(size_t count, size_t size);
void hmn__free(void *ptr);
char *hmn__strdup(const char *s);
/* Test hook: fail the n-th allocation from now (0 disables). */
void hmn__alloc_fail_after(long n);
/* True while the failure set by hmn__alloc_fail_after has not happened:
 * the code since then made fewer allocations (a sweep is complete). */
bool hmn__alloc_fail_pending(void);

/* ---- host copy of a layer's state (state.c) ---- */
typedef struct {
  hmn_config cfg;
  void *arr[HMN_ARRAY_COUNT]; /* indexed by hmn_array */
  uint64_t t;
  float eta_local, eta_global;
  hmn_step_stats stats;
} hmn__state;

#define HMN__F32(st, name) ((float *)(st)->arr[HMN_ARRAY_##name])
#define HMN__U8(st, name) ((uint8_t *)(st)->arr[HMN_ARRAY_##name])

size_t hmn__array_bytes(const hmn_config *cfg, hmn_array which);
/* Allocate zeroed arrays for `cfg`. */
int hmn__state_alloc(hmn__state *st, const hmn_config *cfg, hmn_error *err);
void hmn__state_free(hmn__state *st);
/* Deterministic initial values from the seed (SPEC section 4, stream init). */
void hmn__state_init(hmn__state *st);
/* ---- the values a state may hold (values.c) ---- */
/* Every element of array `which` (shaped by cfg) finite and within its
 * rule: W within [min(w_min, -w_init), max(w_max, w_init)], sign -1 or
 * +1, tau < delay_len. The message starts with `origin` and names the
 * element and its value; `status` is the code a violation returns. */
int hmn__check_array_values(const hmn_config *cfg, hmn_array which, const void *data,
                            int status, const char *origin, hmn_error *err);
/* Both learning rates finite and within [min(0, eta_min, start),
 * max(eta_max, start)], start being the config's eta_local/eta_global. */
int hmn__check_eta_values(const hmn_config *cfg, float eta_local, float eta_global, int status,
                          const char *origin, hmn_error *err);

/* The rule families' traces, rates, thresholds and scales at their
 * initial values (part of hmn__state_init; loading a version-1
 * checkpoint, which has none). */
void hmn__state_init_rule_arrays(hmn__state *st);
/* Built-in oscillator phase at step t, wrapped to [0, 2*pi). */
float hmn__oscillator_phase(const hmn_config *cfg, uint64_t t);

/* ---- backends ---- */
typedef struct hmn__backend_ops {
  const char *name;
  /* Called once the host state is filled; uploads it. */
  int (*init)(hmn_layer *layer, hmn_error *err);
  void (*fini)(hmn_layer *layer);
  /* One step. layer.c has checked the input (hmn__step_check_input) and
   * that the state is not lost. On failure st.t and st.stats are
   * unchanged; a backend whose device state an error left undefined
   * calls hmn__layer_lose_state. */
  int (*step)(hmn_layer *layer, const hmn_step_input *in, hmn_error *err);
  /* Optional: `count` checked steps at once (hmn_layer_step_many), with
   * st.t advanced by exactly the steps whose effect is on the device;
   * NULL steps one at a time. */
  int (*step_many)(hmn_layer *layer, const hmn_step_input *in, size_t count, hmn_error *err);
  /* Optional: `count` checked steps with z(t) imposed, z_clamp holding
   * count rows of n_out finite values (hmn_layer_step_clamped), st.t
   * advanced as step_many does; NULL: the backend has no clamp. */
  int (*step_clamped)(hmn_layer *layer, const hmn_step_input *in, const float *z_clamp,
                      size_t count, hmn_error *err);
  /* Optional, both or neither: the step in two halves (hmn_layer_forward,
   * hmn_layer_learn). forward computes z for x(t) and changes no state;
   * learn is the whole step t (x as given to forward) with the action
   * for rules that need it; split.c has checked its input. NULL: the backend has no split, and rules
   * other than hebbian are refused at layer creation. */
  int (*forward)(hmn_layer *layer, const float *x, float *z, hmn_error *err);
  int (*learn)(hmn_layer *layer, const hmn_step_input *in, int32_t action, hmn_error *err);
  /* Device -> host copy of one array (no-op where host is the truth). */
  int (*pull)(hmn_layer *layer, hmn_array which, hmn_error *err);
  /* Host -> device copy of one array. */
  int (*push)(hmn_layer *layer, hmn_array which, hmn_error *err);
  /* The optional rest may be NULL, where the host holds the truth. */
  /* Bring st.stats up to date from the device. */
  int (*stats)(hmn_layer *layer, hmn_error *err);
  /* Copy every state array into the snapshot (restore = false) or back;
   * NULL: snapshot.c copies the host arrays. */
  int (*snapshot)(hmn_layer *layer, bool restore, hmn_error *err);
  /* Per-kernel timing: switch it, and read the totals. */
  int (*set_profiling)(hmn_layer *layer, bool enable, hmn_error *err);
  int (*profile)(hmn_layer *layer, hmn_kernel_profile *out, size_t max, size_t *count,
                 hmn_error *err);
  /* Name of the device the layer runs on. */
  const char *(*device)(const hmn_layer *layer);
} hmn__backend_ops;

/* The scalars of a snapshot; the arrays live with the backend (or in
 * `host` where the backend keeps none). */
typedef struct {
  hmn_config cfg;
  uint64_t t;
  float eta_local, eta_global;
  hmn_step_stats stats;
  void *host[HMN_ARRAY_COUNT];
} hmn__snapshot;

struct hmn_layer {
  hmn__state st;
  const hmn__backend_ops *ops;
  void *backend_data;
  /* Device selector from "backend:SEL", or NULL. */
  char *device_selector;
  /* The saved snapshot, or NULL (snapshot.c). */
  hmn__snapshot *snap;
  /* A device error part-way through a step or a restore left the
   * backend's copy of the state undefined: steps are refused until every
   * array is rewritten (`pushed` counts them) or a snapshot is restored
   * (layer.c holds this contract for every backend). */
  bool state_lost;
  uint32_t pushed;
  /* x(t) kept by hmn_layer_forward for hmn_layer_learn (split.c). */
  float *fwd_x;
  bool fwd_pending;
  uint64_t fwd_t;
};
_Static_assert(HMN_ARRAY_COUNT < 32, "hmn_layer.pushed has one bit per array");

/* ---- the backend contract (layer.c) ---- */
/* A backend calls this where a device error leaves its state undefined. */
void hmn__layer_lose_state(hmn_layer *layer);
/* Host -> backend copy of one array (hmn_layer_write, a checkpoint
 * restore); rewriting all of them after a loss makes the layer usable. */
int hmn__layer_push(hmn_layer *layer, hmn_array which, hmn_error *err);
/* A successful snapshot restore replaced the whole state. */
void hmn__layer_state_restored(hmn_layer *layer);

extern const hmn__backend_ops hmn__backend_ref;
extern const hmn__backend_ops hmn__backend_opencl;
/* Free a layer's snapshot (layer destruction). */
void hmn__snapshot_free(hmn_layer *layer);
const hmn__backend_ops *hmn__backend_find(const char *name);

/* The kernels (OpenCL and FPGA) take the mode values and stream ids as
 * numbers, under hmn.h's names, from kernels/hmn_iface.h's table. */
#include "hmn_iface.h"
#define HMN__IFACE_MODE_CHECK(name, value) \
  _Static_assert((int)(name) == (value), #name " differs from kernels/hmn_iface.h");
HMN_IFACE_MODES(HMN__IFACE_MODE_CHECK)
#undef HMN__IFACE_MODE_CHECK

/* ---- what the device backends form on the host (precompute.c); none
 * of it calls ref ---- */
/* lambda = exp(-dt / tau), a trace's decay per step. */
float hmn__pre_decay(float dt, float tau);
/* (1 - rate) old + rate value: step 3's c and h, and the host's running
 * means. */
float hmn__pre_ema(float old, float rate, float value);
/* Step 5's least and largest beta h_i(t), and whether every h_i is 0 or
 * has a normal beta h_i (the plain case of hmn_step.cl). */
typedef struct {
  float bh_min, bh_max;
  bool plain;
} hmn__pre_extremes;
/* Step 3's h(t) from h(t - 1) and x(t), and its extremes. */
void hmn__pre_embedding(const hmn_config *cfg, const float *h_prev, const float *x, float *h,
                        hmn__pre_extremes *out);
/* Step 6's shared G (eqs 6-7) from the keys kappa, the weights w_k, E(t)
 * and C_global(t). */
float hmn__pre_global_modulation(const hmn_config *cfg, const float *kappa, const float *w_k,
                                 const float *mod, const float *ctx);
/* pi = softmax(z / temperature) over the neurons (rule policy, SPEC
 * section 8), in double with the maximum subtracted, then rounded. */
void hmn__pre_policy(const float *z, int n_out, float temperature, float *pi);
/* cos and sin of an angle, in double and rounded: eq 4's terms. */
void hmn__pre_cos_sin(double angle, float *cos_out, float *sin_out);
/* The spike-timing families' presynaptic traces (2 n_in: r1, r2) for a
 * step with inputs x: decayed gets them after the decay, pre after the
 * spikes. */
void hmn__pre_spike_traces(const hmn_config *cfg, float *pre, const float *x, float *decayed);

/* The layer's parameter record (kernels/hmn_iface.h, HMN_IFACE_LAYER),
 * which every device kernel reads its parameters from. */
void hmn__kernel_params(const hmn_config *cfg, uint32_t out[HMN_P_COUNT]);
/* One step's record (HMN_IFACE_STEP): a member per line of the table. */
#define HMN__STEP_TYPE_U32 uint32_t
#define HMN__STEP_TYPE_F32 float
#define HMN__STEP_FIELD(NAME, field, KIND, what) HMN__STEP_TYPE_##KIND field;
typedef struct {
  HMN_IFACE_STEP(HMN__STEP_FIELD)
} hmn__step_record;
#undef HMN__STEP_FIELD
_Static_assert(HMN_SC_COUNT <= HMN_STEP_SCALARS, "the step record outgrew its HMN_STEP_SCALARS words");
_Static_assert(sizeof(hmn__step_record) == HMN_SC_COUNT * 4, "every step word is 32 bits");
/* Store a step record at the head of a step's inputs. */
void hmn__step_record_store(const hmn__step_record *rec, float *slot);

/* ---- ref model (ref.c): one function per equation, SPEC section 3 ---- */
float hmn__ref_decay(float dt, float tau);
float hmn__ref_activation(int activation, float a);
float hmn__ref_gaussian(uint64_t seed, uint64_t t, uint32_t neuron);
float hmn__ref_forward(const float *w_row, const float *xhat, int n_in, float b, float noise);
float hmn__ref_ema(float old, float rate, float value);
void hmn__ref_composite_trace(float *psi_f, float *psi_s, float lam_f, float lam_s, float kappa);
float hmn__ref_eligibility(float rho_f, float psi_f, float rho_s, float psi_s);
void hmn__ref_local_attention(int mode, float beta, const float *h, float c_j, int n_in,
                              float *alpha);
float hmn__ref_similarity(int mode, const float *kappa_k, const float *ctx, int d_ctx);
float hmn__ref_global_modulation(const hmn_config *cfg, const float *kappa, const float *w_k,
                                 const float *mod, const float *ctx);
float hmn__ref_astrocyte(float *astro_j, float decay, float gain, float e_ne);
float hmn__ref_neuron_modulation(float sign_j, float g, float astro_lambda, float m_astro);
float hmn__ref_preliminary_update(float eta_local, float eta_global, float g_j, float e_tilde);
float hmn__ref_phase_gate(int enabled, float phase, float phi_ji);
float hmn__ref_apply_probability(float beta_p, float theta_p, float dw);
float hmn__ref_stochastic_apply(int enabled, float dw, float u, float p);
float hmn__ref_clamp_weight(float w, float dw, float w_min, float w_max);
float hmn__ref_bias_homeostasis(float b, float eta_b, float target, float c_j);
/* Reject missing or non-finite inputs before a step changes anything. */
int hmn__step_check_input(const hmn_config *cfg, const hmn_step_input *in, uint64_t t,
                          hmn_error *err);
/* The whole step on a host state. */
int hmn__ref_step(hmn__state *st, const hmn_step_input *in, hmn_error *err);
/* The same with the action taken (-1: none; rule policy needs one). */
int hmn__ref_step_action(hmn__state *st, const hmn_step_input *in, int32_t action,
                         hmn_error *err);
/* Eq 1 for x(t) at the state's t into z (N_out), no state changed. */
int hmn__ref_forward_z(hmn__state *st, const float *x, float *z, hmn_error *err);
/* pi = softmax(z / temperature) over the neurons (rule policy). */
void hmn__ref_policy(const float *z, int n_out, float temperature, float *pi);
float hmn__ref_kappa(float xhat, float post);
/* What of the spike-timing, BCM and homeostatic families `cfg` uses, as
 * an error message names it ("rule 'stdp'"), or NULL for none. */
const char *hmn__rule_family_name(const hmn_config *cfg);
/* A ref step with z(t) imposed (z_clamp, N_out values; NULL: eq 1's). */
/* Steps t .. t + count - 1 with z imposed (count rows of n_out in
 * z_clamp): hmn_layer_step_clamped's checks for each, then the
 * backend's clamp. The protocols step through this. */
int hmn__layer_step_clamped_many(hmn_layer *layer, const hmn_step_input *in,
                                 const float *z_clamp, size_t count, hmn_error *err);
int hmn__ref_step_clamped(hmn__state *st, const hmn_step_input *in, const float *z_clamp,
                          hmn_error *err);

/* ---- tasks (task.c, and one file per task beyond stream) ---- */
typedef struct hmn__task_ops {
  const char *name;
  /* Set up task->data; task->cfg and the input buffers exist already. */
  int (*create)(hmn_task *task, hmn_error *err);
  void (*destroy)(hmn_task *task);
  int (*input)(hmn_task *task, uint64_t t, hmn_step_input *in, hmn_error *err);
  /* NULL for tasks without a reward. */
  int (*feedback)(hmn_task *task, uint64_t t, const float *z, hmn_feedback *fb, hmn_error *err);
} hmn__task_ops;

struct hmn_task {
  const hmn__task_ops *ops;
  hmn_config cfg;
  float *x, *mod, *ctx; /* the step inputs handed out */
  void *data;           /* the task's own */
};

extern const hmn__task_ops hmn__task_bandit;
/* Uniform [0, 1) from the task stream: word (index & 3) of the block
 * (t, base + index / 4). */
float hmn__task_uniform(uint64_t seed, uint64_t t, uint32_t base, size_t index);

/* ---- config (config.c) ---- */
const char *hmn__activation_name(int activation);

/* ---- checkpoints (io/checkpoint.c; the byte helpers are io/io.h) ---- */
/* Optional sections after the arrays, in this order: the closed loop's
 * state (agent.c). A checkpoint has all of them or none. */
enum { HMN__CKPT_META, HMN__CKPT_SOURCES, HMN__CKPT_EXTRA_COUNT };
typedef struct {
  const unsigned char *data;
  size_t len;
} hmn__ckpt_blob;
/* hmn_layer_save plus the extra sections. */
int hmn__layer_save_extra(hmn_layer *layer, const char *path,
                          const hmn__ckpt_blob extra[HMN__CKPT_EXTRA_COUNT], hmn_error *err);
/* Called by hmn__layer_load_extra once the whole file is valid and before
 * a layer exists; `extra` entries are {NULL, 0} in a file without them.
 * A non-zero return stops the load with that error. */
typedef int (*hmn__ckpt_extra_fn)(void *user, const hmn_config *cfg, const char *path,
                                  const hmn__ckpt_blob extra[HMN__CKPT_EXTRA_COUNT],
                                  hmn_error *err);
int hmn__layer_load_extra(const char *path, const char *backend, hmn__ckpt_extra_fn accept,
                          void *user, hmn_layer **out, hmn_error *err);

/* ---- neuromodulator sources (modulators.c) ---- */
typedef struct {
  int n_in;
  float rbar;    /* reward expectation: EMA of r */
  float rvar;    /* EMA of (r - rbar)^2 */
  float rpe;     /* r - rbar of the last outcome: E_DA of the next step */
  float usual;   /* EMA of the novelty, the baseline it is measured against */
  float *x_mean; /* N_in: EMA of the input */
  int d_ctx;
  float *rbar_ctx; /* D_c: reward expectation per context (rpe_baseline context),
                    * in the allocation of x_mean */
  int ctx_index;   /* the context of the step being credited */
  float adenosine; /* A, the adenosine level (adenosine = on) */
} hmn__sources;

int hmn__sources_init(hmn__sources *src, const hmn_config *cfg, hmn_error *err);
void hmn__sources_free(hmn__sources *src);
/* Copy the state of a source of the same shape (snapshots). */
void hmn__sources_copy(hmn__sources *dst, const hmn__sources *src);
/* Which E_k each source drives: NE is astro_source (the astrocytes'
 * input); DA and ACh take the lowest other indices; -1 where n_mod has no
 * room. */
void hmn__sources_indices(const hmn_config *cfg, int *da, int *ne, int *ach);
/* E(t) for the step that shows input x (n_mod values), and the update
 * of the input statistics by x. */
void hmn__sources_signals(hmn__sources *src, const hmn_config *cfg, const float *x, const float *z,
                          float *mod);
/* The context the next outcome belongs to: the largest entry of C_global
 * (rpe_baseline = context keeps a reward expectation per context). */
void hmn__sources_context(hmn__sources *src, const hmn_config *cfg, const float *ctx);
/* The outcome of the step: reward r. */
void hmn__sources_observe(hmn__sources *src, const hmn_config *cfg, float reward);
size_t hmn__sources_bytes(const hmn_config *cfg);
void hmn__sources_encode(const hmn__sources *src, const hmn_config *cfg, unsigned char *out);
/* Validates, then fills `src` (already initialised for cfg); on error
 * `src` is unchanged and the message names the file and section. */
int hmn__sources_decode(hmn__sources *src, const hmn_config *cfg, const hmn__ckpt_blob *blob,
                        const char *path, hmn_error *err);

/* ---- meta-learning gradient estimators (estimators.c) ---- */
#define HMN__META_DIM 2    /* theta = (eta_local, eta_global) */
#define HMN__META_PROBES 4 /* most evaluations one iteration needs (fd) */

typedef struct {
  double baseline;  /* REINFORCE: running mean of the probe losses */
  int has_baseline;
} hmn__estimator_state;

typedef struct {
  const char *name;
  int n_probes; /* evaluations per iteration */
  /* Unclipped probe point p of iteration k around theta, perturbation
   * size ck. The random directions come from the meta stream at
   * counter (k, 0): a pure function of (seed, k). */
  void (*probe)(uint64_t seed, uint64_t k, int p, const double *theta, double ck, double *out);
  /* Gradient estimate from the n_probes losses of iteration k. */
  void (*gradient)(uint64_t seed, uint64_t k, const double *loss, double ck,
                   hmn__estimator_state *st, double *g);
} hmn__estimator_ops;

/* NULL for HMN_EST_OFF. */
const hmn__estimator_ops *hmn__estimator_find(int estimator);
/* Rademacher direction of SPSA iteration k: +-1 per component. */
void hmn__meta_rademacher(uint64_t seed, uint64_t k, double *delta);
/* Standard normal direction of REINFORCE iteration k. */
void hmn__meta_gaussian(uint64_t seed, uint64_t k, double *eps);

/* ---- the meta-learner (meta.c), SPEC section 6 ---- */
typedef struct {
  uint64_t k;                     /* iterations done */
  double theta[HMN__META_DIM];    /* eta, or ln(eta) with log_eta */
  int probe;                      /* next probe of iteration k */
  double loss[HMN__META_PROBES];  /* losses of iteration k's probes so far */
  hmn__estimator_state est;
} hmn__meta;

/* Starts at the config's eta, clipped into [eta_min, eta_max]. */
void hmn__meta_init(hmn__meta *meta, const hmn_config *cfg);
/* Spall's gains for iteration k. */
double hmn__meta_gain_a(const hmn_config *cfg, uint64_t k);
double hmn__meta_gain_c(const hmn_config *cfg, uint64_t k);
/* Evaluations per iteration (0 with the estimator off). */
int hmn__meta_probes(const hmn_config *cfg);
/* The learning rates at theta, and at probe p of the current iteration. */
void hmn__meta_eta(const hmn__meta *meta, const hmn_config *cfg, float *eta);
void hmn__meta_probe_eta(const hmn__meta *meta, const hmn_config *cfg, int p, float *eta);
/* Record the loss of the next probe; after the iteration's last one,
 * update theta and start iteration k + 1. */
void hmn__meta_record(hmn__meta *meta, const hmn_config *cfg, double loss);
/* The meta-learner's part of checkpoint section "meta". */
#define HMN__META_BYTES (8 * (4 + HMN__META_DIM + HMN__META_PROBES))
void hmn__meta_encode(const hmn__meta *meta, unsigned char *out);
/* Validates HMN__META_BYTES at `in`; on error `meta` is unchanged. */
int hmn__meta_decode(hmn__meta *meta, const hmn_config *cfg, const unsigned char *in,
                     const char *path, hmn_error *err);

/* ---- the closed loop (agent.c) ---- */
/* Sums over the steps of a window. */
typedef struct {
  double reward, regret, g;
} hmn__sums;

struct hmn_agent {
  hmn_layer *layer;
  hmn_task *task;
  bool rewarded;         /* the task gives feedback: sources and meta-learning apply */
  hmn__sources src;      /* the modulator sources */
  hmn__sources src_snap; /* their copy while a lookahead runs */
  hmn__meta meta;
  hmn__sums win;         /* the live window so far; its step count is t mod meta_window */
  float *z, *mod;        /* scratch: N_out outputs, K modulators */
  uint64_t probe_steps;  /* layer steps the lookahead probes ran in this process */
  /* meta_mode = paired: the copy that runs probe 1 (the layer runs probe
   * 0) on the same stream, its z, and the window's importance-weighted
   * reward sums of the two probes; a scratch buffer for the state copy. */
  hmn_layer *twin;
  float *z_twin, *mod_twin; /* the twin's z; E weighted per copy (paired_learn) */
  double is_sum[2];
  void *copy_buf;
  /* Loading: the twin's part of section "meta" until the twin exists. */
  unsigned char *twin_saved;
  size_t twin_saved_len;
};

/* One lookahead iteration at the current step: every probe over the next
 * meta_window steps from a snapshot, restoring the layer and the sources
 * after each, then theta's update and the layer's new rates. */
int hmn__agent_lookahead(hmn_agent *agent, hmn_error *err);

/* ---- energy meters (energy.c): hooks for the unit tests, which feed
 * readings at chosen times instead of running the sampler thread ---- */
/* Start an empty interval (no reading). */
void hmn__meter_reset(hmn_meter *m);
/* One reading at time `now` (seconds): the first sets the baseline. */
int hmn__meter_sample(hmn_meter *m, double now, hmn_error *err);
/* Joules of the interval so far. */
double hmn__meter_joules(const hmn_meter *m);

/* Case-insensitive substring test (opencl_device.c): matching a device
 * selector, and an OpenCL device name against NVML's name of the GPU. */
bool hmn__contains_nocase(const char *hay, const char *needle);


#endif /* HMN_INTERNAL_H */
