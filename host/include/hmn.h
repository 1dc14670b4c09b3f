/*
 * hmn.h - the one public header of libhmn, a runtime for layers of Hybrid
 * Modulated Neurons (HMN).
 *
 * Conventions:
 *  - Every function that can fail returns int: 0 (HMN_OK) on success or a
 *    negative hmn_status code, and takes a last argument hmn_error *err
 *    (which may be NULL) that it fills with a message naming the file,
 *    key, value, device or step at fault. Results come back through
 *    pointer arguments, which are left alone (or set to NULL/0 where
 *    documented) on failure.
 *  - Functions that cannot fail (accessors of a valid object, destructors,
 *    pure computations, table lookups) return their value directly and
 *    take no hmn_error; destructors accept NULL.
 *  - A failed call leaves every object it was given exactly as it was,
 *    except where its comment says precisely what is left
 *    (hmn_layer_step_many).
 *  - The library never prints and never exits.
 */
#ifndef HMN_H
#define HMN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hmn_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Version: HMN_VERSION_MAJOR, _MINOR, _PATCH, _STRING and _NUMBER are the
 * header's (hmn_version.h); hmn_version() is the linked library's, so a
 * program can tell when the two differ. */
const char *hmn_version(void);

/* ------------------------------------------------------------------ */
/* Errors: one table; the enum, hmn_status_name() and
 * hmn_status_string() are generated from it. */

#define HMN_STATUS_TABLE(X)                                                   \
  X(OK, 0, "success")                                                         \
  X(EINVAL, -1, "invalid argument")                                           \
  X(ECONFIG, -2, "invalid configuration")                                     \
  X(ENOMEM, -3, "out of memory")                                              \
  X(EIO, -4, "input/output error")                                            \
  X(EFORMAT, -5, "malformed file")                                            \
  X(ECRC, -6, "checksum mismatch")                                            \
  X(EVERSION, -7, "unsupported format version")                               \
  X(ESHAPE, -8, "shape mismatch")                                             \
  X(EBACKEND, -9, "backend unavailable")                                      \
  X(EDEVICE, -10, "device error")                                             \
  X(EBUILD, -11, "kernel build failed")                                       \
  X(ENUMERIC, -12, "numerical error")                                         \
  X(EUNSUPPORTED, -13, "not supported")

typedef enum {
#define HMN__STATUS_ENUM(name, code, text) HMN_##name = (code),
  HMN_STATUS_TABLE(HMN__STATUS_ENUM)
#undef HMN__STATUS_ENUM
} hmn_status;

/* Name of a status code ("ECONFIG"), or "UNKNOWN". */
const char *hmn_status_name(int status);
/* Short generic description of a status code. */
const char *hmn_status_string(int status);

#define HMN_ERROR_MESSAGE_MAX 1024

/* Caller-owned error report. `message` names what failed. */
typedef struct {
  int status;
  char message[HMN_ERROR_MESSAGE_MAX];
} hmn_error;

/* ------------------------------------------------------------------ */
/* Configuration: every parameter of SPEC, each with a default. */

typedef enum { HMN_ACT_RELU, HMN_ACT_SIGMOID, HMN_ACT_TANH, HMN_ACT_LINEAR } hmn_activation;
typedef enum { HMN_ATTN_SOFTMAX, HMN_ATTN_SOFTMAX_N, HMN_ATTN_OFF } hmn_attention_mode;
typedef enum { HMN_SIM_COSINE, HMN_SIM_DOT } hmn_similarity;
typedef enum {
  HMN_RULE_HEBBIAN,
  HMN_RULE_POLICY,
  HMN_RULE_STDP,    /* pair STDP, separate tau_plus / tau_minus */
  HMN_RULE_TRIPLET, /* triplet STDP (Pfister & Gerstner 2006) */
  HMN_RULE_BCM      /* BCM with a sliding threshold theta_j */
} hmn_rule;
/* How a spike sets a spike-timing trace: all-to-all adds 1, nearest-
 * neighbour sets it to 1 (only the latest spike counts). */
typedef enum { HMN_PAIRING_ALL, HMN_PAIRING_NEAREST } hmn_pairing;
typedef enum { HMN_TASK_STREAM, HMN_TASK_BANDIT } hmn_task_kind;
typedef enum { HMN_BANDIT_SWITCHING, HMN_BANDIT_STATIONARY } hmn_bandit_variant;
typedef enum { HMN_ACTION_ARGMAX, HMN_ACTION_SOFTMAX, HMN_ACTION_RANDOM } hmn_action_rule;
typedef enum { HMN_EST_OFF, HMN_EST_SPSA, HMN_EST_FD, HMN_EST_REINFORCE } hmn_estimator;
typedef enum { HMN_META_LOOKAHEAD, HMN_META_ONLINE, HMN_META_PAIRED } hmn_meta_mode;
/* When a closed loop's reward reaches the learning step: `now`, the
 * step that earned it (forward, action, reward, E, learn); `late`, as
 * E_DA of the next step (one fused step before the action). */
typedef enum { HMN_CREDIT_NOW, HMN_CREDIT_LATE } hmn_credit;
/* The dopamine source's reward expectation: one for all steps, or one
 * per context (the largest entry of C_global), a critic of the context. */
typedef enum { HMN_RPE_GLOBAL, HMN_RPE_CONTEXT } hmn_rpe_baseline;
/* Both rates, or eta_global alone (eta_local stays at its config value). */
typedef enum { HMN_META_PARAMS_BOTH, HMN_META_PARAMS_GLOBAL } hmn_meta_params;
/* meta_mode = paired: whether the twin keeps its own state (persistent;
 * the layer then always runs the probe with the larger eta_global) or
 * takes the layer's at each window (resync); whether both copies learn
 * from the shared E (shared) or each from E weighted by its policy's
 * probability of the action over the behaviour's (weighted). */
typedef enum { HMN_PAIRED_PERSISTENT, HMN_PAIRED_RESYNC } hmn_paired_copies;
typedef enum { HMN_PAIRED_SHARED, HMN_PAIRED_WEIGHTED } hmn_paired_learn;

typedef struct {
  /* [shape] */
  int32_t n_in;          /* inputs N_in */
  int32_t n_out;         /* neurons N_out */
  int32_t n_mod;         /* neuromodulators K */
  int32_t d_ctx;         /* global context size D_c */
  int32_t delay_len;     /* delay line length D (steps) */
  /* [run] */
  uint64_t seed;         /* Philox key */
  float dt;              /* step length Delta t */
  /* [neuron] */
  int32_t activation;    /* hmn_activation */
  float noise_sigma;     /* sigma_n */
  float ctx_rate;        /* delta_c */
  float emb_rate;        /* delta_h */
  float bias_rate;       /* eta_b */
  float target_rate;     /* z* */
  float inhibitory_fraction; /* share of neurons with s_j = -1 */
  float d2_fraction;     /* share of neurons, the last ones, in the D2 population (s_j negated) */
  /* [trace] */
  int32_t rule;          /* hmn_rule */
  float tau_fast, tau_slow;
  float rho_fast, rho_slow;
  /* [attention] */
  int32_t attention;     /* hmn_attention_mode */
  float beta_attn;       /* beta_a */
  /* [modulation] */
  int32_t global_attention; /* 0 off, 1 on */
  int32_t similarity;    /* hmn_similarity */
  float beta_global;     /* beta_g */
  float astro_lambda;    /* lambda_astro */
  float astro_decay;     /* lambda_a */
  float astro_gain;      /* k_a */
  int32_t astro_source;  /* index k of the NE modulator feeding A_j */
  /* [plasticity] */
  float eta_local, eta_global;
  float w_min, w_max;
  float w_init;          /* initial weights uniform in [-w_init, w_init] */
  /* [gate] */
  int32_t phase_gate;    /* 0 off, 1 on */
  float phase0;          /* Phi_0 */
  float osc_freq;        /* f, cycles per unit time */
  /* [stochastic] */
  int32_t stochastic;    /* 0 off, 1 on */
  float beta_p, theta_p;
  /* [task] */
  int32_t task;          /* hmn_task_kind: what hmn run drives the layer with */
  int32_t bandit;        /* hmn_bandit_variant */
  int32_t contexts;      /* C, or 0 for min(d_ctx, n_in) */
  int32_t context_steps; /* steps each context is shown (a trial's length) */
  int32_t switch_period; /* P: steps between redraws of the arm probabilities */
  int32_t action;        /* hmn_action_rule */
  float temperature;     /* softmax action temperature; also pi's for rule policy */
  int32_t credit;        /* hmn_credit */
  /* [sources]: neuromodulator sources for tasks with a reward */
  int32_t dopamine;      /* 0 off, 1 on: E_DA = r - rbar */
  int32_t novelty;       /* 0 off, 1 on: E_NE from the input's distance to its mean */
  int32_t uncertainty;   /* 0 off, 1 on: E_ACh from the running reward variance */
  float reward_rate;     /* EMA rate of rbar and of the reward variance */
  float novelty_rate;    /* EMA rate of the input mean and of the novelty baseline */
  int32_t rpe_baseline;  /* hmn_rpe_baseline: what the RPE's expectation is conditioned on */
  /* [meta]: dual meta-learning of eta_local, eta_global (SPEC section 6) */
  int32_t estimator;     /* hmn_estimator */
  int32_t meta_mode;     /* hmn_meta_mode */
  int32_t meta_window;   /* steps per evaluation window */
  float meta_a, meta_c;  /* gains a_k = a/(k+1+A)^alpha, c_k = c/(k+1)^gamma */
  float meta_stability;  /* A */
  float meta_alpha, meta_gamma;
  float eta_min, eta_max; /* bounds of both learning rates */
  int32_t log_eta;       /* 0 off, 1 on: search in ln(eta) */
  int32_t meta_params;   /* hmn_meta_params: which rates the meta-learner tunes */
  int32_t paired_copies; /* hmn_paired_copies */
  int32_t paired_learn;  /* hmn_paired_learn */
  /* [rules]: the spike-timing, BCM and homeostatic families (docs/rules/) */
  float tau_plus, tau_minus; /* decay of the pre (LTP) and post (LTD) traces */
  float a_plus, a_minus;     /* pair STDP amplitudes */
  float tau_x, tau_y;        /* triplet: second pre and post traces */
  float a2_plus, a3_plus, a2_minus, a3_minus; /* triplet amplitudes */
  int32_t pairing;           /* hmn_pairing */
  float tau_rate;            /* time constant of the rate estimate nu_j */
  float bcm_power;           /* p of theta_j <- EMA of nu_j^p */
  float tau_theta;           /* time constant of theta_j */
  float theta_init, theta_min, theta_max;
  float hetero_ratio;        /* heterosynaptic depression of inactive synapses; 0 off */
  int32_t scaling;           /* 0 off, 1 on: homeostatic synaptic scaling */
  float scale_target;        /* target rate of the scaling */
  float tau_scale;           /* time constant of the scaling */
  float scale_max;           /* the scaling factor stays in [1/scale_max, scale_max] */
  /* [sources]: adenosine fatigue, a modulator source of the closed loop */
  int32_t adenosine;         /* 0 off, 1 on: E_Ado = -A, A rising with activity */
  float adenosine_decay;     /* A <- decay A + gain mean_j |z_j| */
  float adenosine_gain;
} hmn_config;

/* Fill every field with its default. */
void hmn_config_defaults(hmn_config *cfg);
/* Set one key from its text form ("tau_fast", "20"). Validates the value
 * alone; cross-key rules are checked by hmn_config_validate(). */
int hmn_config_set(hmn_config *cfg, const char *key, const char *value, hmn_error *err);
/* Apply "key=value". */
int hmn_config_set_pair(hmn_config *cfg, const char *pair, hmn_error *err);
/* Read an INI file over `cfg`. On error `cfg` is unchanged. */
int hmn_config_load_file(hmn_config *cfg, const char *path, hmn_error *err);
/* Read INI text over `cfg` (`origin` names it in messages). */
int hmn_config_load_string(hmn_config *cfg, const char *text, const char *origin, hmn_error *err);
/* Check every rule, including those between keys. */
int hmn_config_validate(const hmn_config *cfg, hmn_error *err);
/* Write the whole config as INI; it loads back unchanged. A value with no
 * text form (an enum out of range) is refused before anything is written. */
int hmn_config_write(const hmn_config *cfg, FILE *out, hmn_error *err);
/* The whole config as INI text in *out, malloc'd (the caller frees it);
 * *out is NULL on failure. */
int hmn_config_to_string(const hmn_config *cfg, char **out, hmn_error *err);
/* sizeof(hmn_config) in this library, for bindings that hold a config as
 * bytes (the Python package). */
size_t hmn_config_size(void);

/* Key reference, for documentation and `hmn config --keys`. */
typedef struct {
  const char *section;
  const char *key;
  const char *type;     /* "int", "uint64", "float", or "enum" */
  const char *range;    /* human-readable range or choice list */
  const char *meaning;
} hmn_config_key_info;
size_t hmn_config_key_count(void);
const hmn_config_key_info *hmn_config_key_at(size_t index);

/* ------------------------------------------------------------------ */
/* Layers. */

typedef struct hmn_layer hmn_layer;

/* State arrays that can be read (and, for tests and tools, written). */
#define HMN_ARRAY_TABLE(X)                                                    \
  X(W, "W", HMN_F32)                                                          \
  X(PSI_F, "psi_f", HMN_F32)                                                  \
  X(PSI_S, "psi_s", HMN_F32)                                                  \
  X(PHI, "phi", HMN_F32)                                                      \
  X(TAU, "tau", HMN_U8)                                                       \
  X(X_HIST, "x_hist", HMN_F32)                                                \
  X(B, "b", HMN_F32)                                                          \
  X(C, "c", HMN_F32)                                                          \
  X(H, "h", HMN_F32)                                                          \
  X(Z, "z", HMN_F32)                                                          \
  X(KAPPA, "kappa", HMN_F32)                                                  \
  X(W_K, "w_k", HMN_F32)                                                      \
  X(SIGN, "sign", HMN_F32)                                                    \
  X(ASTRO, "astro", HMN_F32)                                                  \
  X(PRE_TRACE, "tr_pre", HMN_F32)                                             \
  X(POST_TRACE, "tr_post", HMN_F32)                                          \
  X(RATE, "rate", HMN_F32)                                                    \
  X(THETA, "theta", HMN_F32)                                                  \
  X(SCALE, "scale", HMN_F32)

typedef enum { HMN_F32, HMN_U8 } hmn_elem_type;

typedef enum {
#define HMN__ARRAY_ENUM(name, text, type) HMN_ARRAY_##name,
  HMN_ARRAY_TABLE(HMN__ARRAY_ENUM)
#undef HMN__ARRAY_ENUM
  HMN_ARRAY_COUNT
} hmn_array;

const char *hmn_array_name(hmn_array which);
/* Element count of an array for a given config. */
size_t hmn_array_length(const hmn_config *cfg, hmn_array which);
hmn_elem_type hmn_array_type(hmn_array which);

/* Inputs of one step (SPEC section 3). `phase` NULL uses the built-in
 * oscillator Phi(t) = phase0 + 2*pi*osc_freq*t*dt. */
typedef struct {
  const float *x;        /* N_in */
  const float *mod;      /* E, K values */
  const float *ctx;      /* C_global, D_c values */
  const float *phase;    /* Phi(t) or NULL */
} hmn_step_input;

/* Per-step counters that tools report. */
typedef struct {
  uint64_t t;              /* steps taken so far */
  uint64_t applied;        /* synapse updates applied in the last step */
  uint64_t candidates;     /* non-zero Delta-w-dagger in the last step */
  float g_mean;            /* mean G_j of the last step */
} hmn_step_stats;

/* Backends: "ref" is the golden model; "opencl" runs the step as OpenCL
 * kernels with the state resident on the device. "opencl:SEL" picks the
 * device: SEL is an index of hmn_opencl_devices() or a case-insensitive
 * substring of the device or platform name. Plain "opencl" takes the
 * environment variable HMN_DEVICE, else the first GPU, else the first
 * device that can build kernels. NULL means "ref". */
int hmn_layer_create(const hmn_config *cfg, const char *backend, hmn_layer **out, hmn_error *err);
void hmn_layer_destroy(hmn_layer *layer);
const hmn_config *hmn_layer_config(const hmn_layer *layer);
const char *hmn_layer_backend(const hmn_layer *layer);
/* Where the layer runs: the OpenCL device name, or "host" for ref. */
const char *hmn_layer_device(const hmn_layer *layer);
uint64_t hmn_layer_step_count(const hmn_layer *layer);

int hmn_layer_step(hmn_layer *layer, const hmn_step_input *in, hmn_error *err);
/* `count` steps with the inputs in[0] .. in[count - 1]: the same state,
 * bits and statistics (those of the last step) as `count` calls of
 * hmn_layer_step, for inputs known in advance (a recorded or generated
 * stream, an open-loop task). The opencl backend runs up to 16 of them
 * in one kernel launch, which saves the driver's time between launches.
 * Every input is checked first: a bad one fails the call with nothing
 * stepped. A device error part-way through is the one exception to "a
 * failed call changes nothing" (undoing launches would cost a copy of the
 * whole state per call): the steps before it stay applied, and
 * hmn_layer_step_count() says how many (it advanced by exactly those).
 * If the error left the device's state undefined, every later step fails
 * with HMN_EDEVICE ("lost") until a snapshot or checkpoint is restored or
 * every array is rewritten with hmn_layer_write. */
int hmn_layer_step_many(hmn_layer *layer, const hmn_step_input *in, size_t count,
                        hmn_error *err);
/* One step with z(t) imposed: the N_out values `z_clamp` replace eq 1's
 * activation in everything that follows it (a postsynaptic clamp, so
 * that pairing protocols impose the post spikes). Backends ref and
 * opencl; others answer HMN_EUNSUPPORTED. */
int hmn_layer_step_clamped(hmn_layer *layer, const hmn_step_input *in, const float *z_clamp,
                           hmn_error *err);
/* The step in two halves (SPEC section 3, "Forward, then learn").
 * hmn_layer_forward computes eq 1 for x(t) and copies z (N_out floats)
 * to `z` (may be NULL); it changes no state but the kept x(t) and z.
 * hmn_layer_learn then runs the rest of step t with E(t), C_global(t),
 * Phi(t) and the action taken: the same state and bits as one
 * hmn_layer_step with x, mod, ctx, phase given together. Rule `policy`
 * needs the action (0 .. N_out - 1), so it steps only this way; with
 * rule `hebbian` the action is ignored (-1 is fine). Backends without
 * the split (see hmn_layer_has_split) answer HMN_EUNSUPPORTED. */
typedef struct {
  const float *mod;      /* E, K values */
  const float *ctx;      /* C_global, D_c values */
  const float *phase;    /* Phi(t) or NULL */
  int32_t action;        /* the action taken from z(t), or -1 */
} hmn_learn_input;

/* z is handed out, not stored: hmn_layer_output still gives the z of the
 * last whole step until learn completes this one. */
int hmn_layer_forward(hmn_layer *layer, const float *x, float *z, hmn_error *err);
/* HMN_EINVAL (nothing changed) without a forward of the same step. */
int hmn_layer_learn(hmn_layer *layer, const hmn_learn_input *in, hmn_error *err);
/* 1 when the layer's backend has forward/learn (ref), else 0. */
int hmn_layer_has_split(const hmn_layer *layer);
/* Copy the last activation z (N_out floats). */
int hmn_layer_output(hmn_layer *layer, float *z, hmn_error *err);
int hmn_layer_stats(hmn_layer *layer, hmn_step_stats *stats, hmn_error *err);
/* Copy a whole state array; `bytes` must equal its size. */
int hmn_layer_read(hmn_layer *layer, hmn_array which, void *dst, size_t bytes, hmn_error *err);
int hmn_layer_write(hmn_layer *layer, hmn_array which, const void *src, size_t bytes, hmn_error *err);
/* Where a state array lives when the layer keeps its state in host memory
 * (the ref backend): `*data` points at it until the layer is destroyed or
 * restored from a file, and reads and writes through it are the state
 * itself (without the checks of hmn_layer_write: tau stays below
 * delay_len). HMN_EUNSUPPORTED, with `*data` NULL, for backends whose
 * state lives on a device: copy with hmn_layer_read there. */
int hmn_layer_host_array(hmn_layer *layer, hmn_array which, void **data, hmn_error *err);
/* The two meta-learned learning rates. */
int hmn_layer_get_eta(const hmn_layer *layer, float *eta_local, float *eta_global,
                      hmn_error *err);
int hmn_layer_set_eta(hmn_layer *layer, float eta_local, float eta_global, hmn_error *err);

/* Snapshot of the whole layer state (every array, t, the learning rates,
 * the statistics and the config), kept where the state lives: buffer
 * copies on the device for opencl, host copies for ref. One snapshot per
 * layer; saving again replaces it, restoring keeps it, so one snapshot
 * can be restored many times (SPSA lookahead, SPEC section 6). */
int hmn_layer_snapshot_save(hmn_layer *layer, hmn_error *err);
/* Fails with HMN_EINVAL, changing nothing, when no snapshot was saved. */
int hmn_layer_snapshot_restore(hmn_layer *layer, hmn_error *err);

/* Per-kernel device times. Profiling is off by default because it costs
 * host work every step; turning it on (or off) clears the totals. */
#define HMN_PROFILE_NAME_MAX 32
/* What a profile entry times: a kernel, or the upload of the steps'
 * inputs (named HMN_PROFILE_UPLOAD_NAME), which is device time but no
 * kernel's. */
typedef enum { HMN_PROFILE_KERNEL = 0, HMN_PROFILE_UPLOAD = 1 } hmn_profile_kind;
#define HMN_PROFILE_UPLOAD_NAME "write inputs"
typedef struct {
  char name[HMN_PROFILE_NAME_MAX]; /* kernel, or HMN_PROFILE_UPLOAD_NAME */
  int kind;                        /* hmn_profile_kind */
  uint64_t calls;
  double seconds;                  /* sum of the device's start-to-end times */
} hmn_kernel_profile;

int hmn_layer_set_profiling(hmn_layer *layer, int enable, hmn_error *err);
/* Copies up to `max` entries; `*count` gets how many exist (0 for ref). */
int hmn_layer_profile(hmn_layer *layer, hmn_kernel_profile *out, size_t max, size_t *count,
                      hmn_error *err);

/* ------------------------------------------------------------------ */
/* OpenCL devices. */

typedef enum {
  HMN_DEVICE_CPU,
  HMN_DEVICE_GPU,
  HMN_DEVICE_ACCELERATOR,
  HMN_DEVICE_OTHER
} hmn_device_type;

#define HMN_DEVICE_TEXT_MAX 128
typedef struct {
  int index;                          /* what "opencl:SEL", --device and HMN_DEVICE take */
  char platform[HMN_DEVICE_TEXT_MAX]; /* platform name */
  char name[HMN_DEVICE_TEXT_MAX];     /* device name */
  int type;                           /* hmn_device_type */
  uint32_t compute_units;
  uint64_t global_mem_bytes;
  char version[HMN_DEVICE_TEXT_MAX];  /* OpenCL version the device reports */
  char driver[HMN_DEVICE_TEXT_MAX];   /* driver version */
  int compiler;                       /* 1 if it can build kernels from source */
} hmn_device_info;

/* "CPU", "GPU", "accelerator" or "other". */
const char *hmn_device_type_name(int type);
/* List every device of every platform, in index order: fills up to `max`
 * entries and sets `*count` to the number of devices (0, and success, when
 * there is no OpenCL platform at all). */
int hmn_opencl_devices(hmn_device_info *out, size_t max, size_t *count, hmn_error *err);
/* The folder of the kernel binary cache ($HMN_CACHE_DIR, else
 * $XDG_CACHE_HOME/hmn, else $HOME/.cache/hmn), created if missing: HMN_OK
 * with the folder in `out`, or with "" when the cache is off
 * (HMN_CACHE=off) or has no place. A folder that is not a directory, not
 * owned by the user or writable by group or others is refused (HMN_EIO,
 * the message names it and why); builds then go without the cache. */
int hmn_kernel_cache_dir(char *out, size_t size, hmn_error *err);

/* ------------------------------------------------------------------ */
/* Paths, checked before long work so that a name that cannot be used is
 * found before the first step, not after the last. An output must be a
 * regular file or a new name in a writable folder; an input a readable
 * regular file (a FIFO or device is refused without blocking). */
int hmn_path_check_output(const char *path, hmn_error *err);
int hmn_path_check_input(const char *path, hmn_error *err);

/* ------------------------------------------------------------------ */
/* Checkpoints (SPEC section 7). */

/* Write atomically: temp file, fsync, rename, fsync directory. */
int hmn_layer_save(hmn_layer *layer, const char *path, hmn_error *err);
/* Create a new layer from a checkpoint, on `backend`. */
int hmn_layer_load(const char *path, const char *backend, hmn_layer **out, hmn_error *err);
/* Replace the state of an existing layer. The file is validated whole
 * first; on any error the layer is unchanged. */
int hmn_layer_restore(hmn_layer *layer, const char *path, hmn_error *err);

/* Description of a checkpoint, for `hmn ckpt info`. */
#define HMN_CKPT_MAX_SECTIONS 64
typedef struct {
  char name[9];
  uint64_t offset;
  uint64_t length;
  uint32_t crc32;
} hmn_ckpt_section_info;

typedef struct {
  uint32_t version;
  int32_t n_in, n_out, n_mod, d_ctx, delay_len;
  uint64_t step;
  uint64_t seed;
  uint32_t n_sections;
  hmn_ckpt_section_info sections[HMN_CKPT_MAX_SECTIONS];
} hmn_ckpt_info;

/* Read and fully validate a checkpoint's header and sections. */
int hmn_ckpt_inspect(const char *path, hmn_ckpt_info *info, hmn_error *err);

/* ------------------------------------------------------------------ */
/* Recording: state arrays and learning signals as NumPy .npy files,
 * which numpy.load (and other tools) read without hmn. */

/* Write a checkpoint's arrays into folder `dir` (created if missing):
 * NAME.npy for every state array (W, psi_f, ... shaped as in
 * hmn_recorder_open), eta.npy (eta_local, eta_global) and t.npy (the
 * step, uint64). */
int hmn_ckpt_export(const char *path, const char *dir, hmn_error *err);

/* A recorder samples a layer every `every` steps into folder `dir`, one
 * file per variable whose first axis is the sample, plus t.npy (uint64:
 * the step of each sample). `vars` is a comma-separated list of:
 *   a state array name (W, psi_f, psi_s, phi, tau, x_hist, b, c, h, z,
 *   kappa, w_k, sign, astro), shaped (samples, n_out, n_in) for the
 *   synapse arrays, (samples, delay_len, n_in) for x_hist, (samples,
 *   n_mod, d_ctx) for kappa, (samples, n) for the others;
 *   NAME[a:b]: rows a .. b-1 of a two-axis array (W[0:4]: the weights of
 *   neurons 0..3), into NAME_a_b.npy;
 *   eta: (samples, 2) eta_local, eta_global;
 *   g_mean: the mean G_j of the last step (hmn_step_stats);
 *   reward: what the caller passes to hmn_recorder_sample (hmn run: the
 *   mean reward per step since the previous sample; NAN without one).
 * Every file is a whole .npy after each sample. On error nothing is left
 * behind. */
typedef struct hmn_recorder hmn_recorder;
int hmn_recorder_open(const char *dir, const char *vars, uint64_t every, const hmn_layer *layer,
                      hmn_recorder **out, hmn_error *err);
/* Steps from step t to the next step to sample (1 .. every). */
uint64_t hmn_recorder_steps_to_next(const hmn_recorder *rec, uint64_t t);
/* Record one sample when the layer's step count is a multiple of `every`
 * and was not recorded yet; otherwise do nothing. */
int hmn_recorder_sample(hmn_recorder *rec, hmn_layer *layer, double reward, hmn_error *err);
/* Samples recorded so far. */
uint64_t hmn_recorder_count(const hmn_recorder *rec);
/* Close the files; reports a failed last write. NULL is a no-op. */
int hmn_recorder_close(hmn_recorder *rec, hmn_error *err);

/* ------------------------------------------------------------------ */
/* Randomness (SPEC section 4): Philox4x32-10 keyed by the 64-bit seed,
 * counter (t mod 2^32, index, stream, t >> 32): the last word is 0 for the
 * first 2^32 steps, as SPEC writes it, and keeps longer runs unique. */

typedef enum {
  HMN_STREAM_NOISE = 0,
  HMN_STREAM_STOCHASTIC = 1,
  HMN_STREAM_META = 2,
  HMN_STREAM_TASK = 3,
  HMN_STREAM_INIT = 4
} hmn_stream;

/* One Philox4x32-10 block. */
void hmn_philox(uint64_t seed, uint64_t t, uint32_t index, uint32_t stream, uint32_t out[4]);
/* 32-bit word -> uniform [0,1) as (r >> 8) * 2^-24. */
float hmn_uniform(uint32_t r);

/* ------------------------------------------------------------------ */
/* Measurement (SPEC section 9): the memory traffic of a step, the memory
 * bandwidth of the device a layer runs on, and energy from real meters. */

/* Bytes one step must move between memory and the processor: every state
 * array the step reads is read once and every array it changes is written
 * once, at the element sizes of SPEC section 2, however the backend
 * schedules the work (so it bounds the step from below, and the bandwidth
 * roofline follows from it):
 *   per synapse  W, psi_f, psi_s read and written, phi and tau read:
 *                3*(4+4) + 4 + 1 = 29 bytes;
 *   per input    x(t) read, its row of x_hist written, the D rows of
 *                x_hist read (delays pick any of them), h read and
 *                written: 4 + 4 + 4*D + 8 bytes;
 *   per neuron   b, c, astro read and written, z written, sign read:
 *                3*8 + 4 + 4 = 32 bytes;
 *   modulation   kappa (K*D_c), w_k and E(t) (K each), C_global (D_c)
 *                read: 4*(K*D_c + 2*K + D_c) bytes. */
typedef struct {
  uint64_t synapses;   /* the per-synapse part */
  uint64_t inputs;     /* the per-input part */
  uint64_t neurons;    /* the per-neuron part */
  uint64_t modulation; /* the modulator part */
  uint64_t total;      /* their sum */
} hmn_step_traffic;
void hmn_step_traffic_of(const hmn_config *cfg, hmn_step_traffic *out);

/* STREAM-style memory bandwidth, measured where `layer` runs: copy
 * (c = a) and triad (a = b + s*c) kernels over float arrays on the
 * layer's OpenCL device (its own context, same device), or one host
 * thread for ref, whose step runs on one thread. Bytes count as STREAM
 * counts them: 2 arrays moved per copy element, 3 per triad element. The
 * best of `repeats` runs is kept. `array_bytes` 0 takes 256 MiB, less if
 * the device cannot hold three such arrays. */
typedef struct {
  char where[HMN_DEVICE_TEXT_MAX]; /* the device, or "host, 1 thread" */
  uint64_t array_bytes;            /* size of each of the three arrays */
  double copy_gbps;                /* 1e9 bytes per second */
  double triad_gbps;
  double best_gbps;                /* the larger of the two: the roof */
} hmn_bandwidth;
int hmn_bandwidth_probe(const hmn_layer *layer, uint64_t array_bytes, int repeats,
                        hmn_bandwidth *out, hmn_error *err);

/* Energy meters. Only real meters: RAPL energy counters through the
 * powercap sysfs (Intel and AMD CPUs), NVML (NVIDIA GPUs; libnvidia-ml is
 * loaded at run time, so there is no build dependency), and the XMC power
 * sensor of Alveo cards (xmc_power in sysfs, microwatts, sampled and
 * integrated). The sysfs root is /sys, or $HMN_SYSFS_ROOT. When a meter
 * cannot be opened, the error message says why ("RAPL energy_uj not
 * readable: Permission denied (/sys/class/powercap/intel-rapl:0/energy_uj)"),
 * which is what a report prints after "not measured: ".
 *
 * Specs: "rapl" (every package zone plus the dram zones: psys, core and
 * uncore zones overlap them and are left out), "nvml" or "nvml:INDEX",
 * "xmc" or "xmc:PCI" (a PCI address such as 0000:65:00.0, or a prefix of
 * one). `device` names the device the meter is for: NVML picks the GPU of
 * that name; NULL takes the only one. A meter started in one thread may
 * be stopped in another; one meter is not for concurrent use. */
typedef struct hmn_meter hmn_meter;

typedef struct {
  double joules;    /* energy over the interval */
  double seconds;   /* the interval, from start to stop */
  double watts;     /* joules / seconds */
  uint64_t samples; /* readings taken (start, the sampler's, stop) */
} hmn_energy;

int hmn_meter_open(const char *spec, const char *device, hmn_meter **out, hmn_error *err);
void hmn_meter_close(hmn_meter *meter);
/* What the meter reads, e.g. "RAPL package-0 + dram (powercap)". */
const char *hmn_meter_source(const hmn_meter *meter);
/* Period of the background sampler in seconds (default 0.1): it reads
 * power meters for the integral, and counters often enough to see every
 * wraparound. Takes effect at the next start. */
int hmn_meter_set_period(hmn_meter *meter, double seconds, hmn_error *err);
/* Start an interval: read the meter and start the sampler thread. */
int hmn_meter_start(hmn_meter *meter, hmn_error *err);
/* End it: stop the sampler, read once more, report the interval. */
int hmn_meter_stop(hmn_meter *meter, hmn_energy *out, hmn_error *err);

/* The meter for the device `layer` runs on. `spec` "auto" picks by the
 * device: RAPL for the host CPU (the ref backend) and OpenCL CPU devices,
 * NVML for NVIDIA GPUs, XMC for Alveo cards; where none fits it fails
 * with HMN_EUNSUPPORTED and a message naming the device and platform.
 * Any other spec is hmn_meter_open's, for the layer's device. */
int hmn_meter_open_for_layer(const hmn_layer *layer, const char *spec, hmn_meter **out,
                             hmn_error *err);

/* ------------------------------------------------------------------ */
/* Benchmark: timing a layer's steps (what `hmn bench` measures). */

#define HMN_BENCH_MAX_BATCH 1024
#define HMN_BENCH_MAX_KERNELS 32
/* Distinct inputs the steps cycle through: drawn once from the stream
 * task, so that drawing inputs is not part of the time measured. */
#define HMN_BENCH_INPUTS 8
#define HMN_BENCH_MAX_STEPS 10000000ULL

typedef struct {
  uint64_t steps;   /* per repeat; 0: double from 1 until a run lasts a
                     * fifth of `seconds`, then enough for `seconds` */
  double seconds;   /* target time of a repeat when steps is 0 */
  uint64_t repeats; /* timed repeats, >= 1 */
  uint64_t warmup;  /* untimed steps first */
  uint64_t batch;   /* steps per call: 1 (hmn_layer_step) .. HMN_BENCH_MAX_BATCH */
  int profile;      /* then `repeats` pairs of an unprofiled and a profiled pass */
  hmn_meter *meter; /* read over the timed repeats, or NULL */
} hmn_bench_spec;

typedef struct {
  uint64_t steps;         /* per repeat */
  uint64_t repeats;
  double *rep_seconds;    /* per repeat (`repeats` values) */
  double seconds_per_step_median;
  double sups_median, sups_min, sups_max; /* synapse updates per second */
  long long rss_start, rss_end;           /* bytes, -1 where unknown */
  int have_energy;        /* the meter read the timed repeats */
  hmn_energy energy;
  char energy_error[HMN_ERROR_MESSAGE_MAX]; /* why not, when a meter was given */
  /* Profiled passes (profile on): per-entry totals, their steps and wall
   * time, and per pair the host overhead (wall of the unprofiled pass
   * less the kernels' device time of the profiled one, over that wall). */
  hmn_kernel_profile prof[HMN_BENCH_MAX_KERNELS];
  size_t n_prof;
  uint64_t prof_steps;
  double prof_seconds;
  double device_seconds_per_step; /* kernels only (HMN_PROFILE_KERNEL), NAN unprofiled */
  double *pair_overhead;          /* n_pairs values */
  size_t n_pairs;
  double host_overhead_fraction;  /* median of the pairs, NAN without */
} hmn_bench_result;

/* Warm up, calibrate, time the repeats under the meter, then the
 * profiled pairs; the layer steps on (its state is not restored). Free
 * the result with hmn_bench_result_free, also after a failure. */
int hmn_bench_layer(hmn_layer *layer, const hmn_bench_spec *spec, hmn_bench_result *out,
                    hmn_error *err);
void hmn_bench_result_free(hmn_bench_result *result);

/* ------------------------------------------------------------------ */
/* Tasks that drive a layer. */

typedef struct hmn_task hmn_task;

/* Names of the built-in tasks, NULL-terminated, in hmn_task_kind order
 * (so hmn_task_names()[cfg->task] names the configured task). */
const char *const *hmn_task_names(void);
int hmn_task_create(const char *name, const hmn_config *cfg, hmn_task **out, hmn_error *err);
void hmn_task_destroy(hmn_task *task);
const char *hmn_task_name(const hmn_task *task);
/* Inputs for step t; the pointers stay valid until the next call. */
int hmn_task_input(hmn_task *task, uint64_t t, hmn_step_input *in, hmn_error *err);

/* What a rewarding task (the bandit) says about the action taken from z. */
typedef struct {
  int32_t action;  /* the arm taken */
  float reward;    /* 0 or 1 */
  float expected;  /* reward probability of the arm taken */
  float best;      /* reward probability of the best arm in this context */
  float regret;    /* best - expected: the expected regret of this step */
} hmn_feedback;

/* 1 if the task rewards actions (hmn_task_feedback works), else 0. */
int hmn_task_has_feedback(const hmn_task *task);
/* The action the task takes at step t from the layer's output z (N_out
 * values) and its reward. A pure function of (seed, t, z): calling it
 * again for the same step gives the same answer. HMN_EUNSUPPORTED for
 * tasks without a reward. */
int hmn_task_feedback(hmn_task *task, uint64_t t, const float *z, hmn_feedback *fb,
                      hmn_error *err);

/* Bandit baselines on the same draws as the closed loop of the same
 * config (baselines.c): the contexts and reward draws of steps t are the
 * task's, so a baseline and hmn run of one seed face the same bandit.
 * Each decides from the context it sees (the input pattern) and the
 * rewards it earned:
 *   oracle         the arm of highest p(c, a) at t (knows the bandit);
 *   random         the task's own uniform action (action = random);
 *   egreedy        epsilon 0.1, sample means per context, no forgetting;
 *   ucb1           UCB1 per context (Auer et al. 2002), no forgetting;
 *   swucb          sliding-window UCB over the last switch_period steps;
 *   dts            discounted Thompson, Beta posteriors per context
 *                  decayed by 0.99 at each visit of the context;
 *   ts_switch      Thompson told the switch times: posteriors reset at
 *                  every switch (an upper reference no learner gets).
 * Their own random draws come from the task stream at counters no step
 * reaches, so a baseline is a pure function of (seed, steps). */
typedef enum {
  HMN_BASELINE_ORACLE,
  HMN_BASELINE_RANDOM,
  HMN_BASELINE_EGREEDY,
  HMN_BASELINE_UCB1,
  HMN_BASELINE_SWUCB,
  HMN_BASELINE_DTS,
  HMN_BASELINE_TS_SWITCH,
  HMN_BASELINE_COUNT
} hmn_baseline;

const char *hmn_baseline_name(int which);
/* Runs baseline `which` over steps t_begin .. t_begin + steps - 1 of the
 * bandit of `cfg` (task must be bandit). `*mean_reward` gets the mean
 * reward per step; `window_reward`, if not NULL, gets the mean reward of
 * each `window` steps (steps / window values, the last partial one
 * dropped). */
int hmn_baseline_run(const hmn_config *cfg, int which, uint64_t t_begin, uint64_t steps,
                     uint64_t window, double *window_reward, double *mean_reward,
                     hmn_error *err);

/* Statistics for comparing runs over paired seeds (statistics.c). */
/* P(T <= t) for Student's t with `df` > 0 degrees of freedom. */
double hmn_student_t_cdf(double t, double df);
/* The t with P(T <= t) = p, 0 < p < 1. */
double hmn_student_t_quantile(double p, double df);

/* Paired comparison of a[i] with b[i], i < n (n >= 2): differences
 * d = a - b, their mean, sd (n - 1), Student's t, its two-sided p,
 * Cohen's d_z = mean / sd, and the 95% confidence interval of the mean. */
typedef struct {
  int n;
  double mean, sd, t, p, d_z, ci_lo, ci_hi;
} hmn_paired_test;
int hmn_paired_t_test(const double *a, const double *b, int n, hmn_paired_test *out,
                      hmn_error *err);
/* Holm's step-down adjustment of m p-values, in place: each becomes the
 * smallest family-wise level at which its hypothesis is rejected. */
void hmn_holm_adjust(double *p, int m);

/* ------------------------------------------------------------------ */
/* The closed loop (SPEC section 6): a layer driven by its configured
 * task (config key `task`), with the E_k of a rewarding task from the
 * neuromodulator sources (dopamine, novelty, uncertainty) and eta_local,
 * eta_global tuned by the meta-learner. Time is cut into windows of
 * meta_window steps counted from t = 0. The first window runs at the
 * configured rates; every later one starts with a meta-learning
 * iteration: in `lookahead` mode the probes run on snapshots of the
 * layer and of the sources over the window's own steps, then the window
 * runs live at the updated rates; in `online` mode the window itself is
 * the next probe. Tasks without a reward (stream) keep eta fixed.
 * A step of a rewarding task on a backend with the forward/learn split:
 * forward, the action and reward, E(t) from the sources, learn (credit =
 * now: the reward's RPE reaches the step that earned it); with credit =
 * late, E(t) comes before the step and carries the previous reward's RPE.
 * Backends without the split run only credit = late (creation refuses
 * credit = now there, naming the backend). */

typedef struct hmn_agent hmn_agent;

/* One window of live steps, as far as it has run. */
typedef struct {
  uint64_t t;          /* step count at the end */
  uint64_t steps;      /* steps of this window so far (those before a resume too) */
  int complete;        /* 1 when the window reached its end */
  double reward;       /* mean reward per step; NAN for a task without reward */
  double regret;       /* mean expected regret per step; NAN without reward */
  double g_mean;       /* mean over the steps of the layer's mean G_j */
  float eta_local;     /* the rates the layer ran with at the end */
  float eta_global;
  uint64_t meta_iterations; /* meta-learning iterations done so far */
} hmn_window;

/* A fresh layer on `backend` (as hmn_layer_create) and the task named by
 * cfg->task. */
int hmn_agent_create(const hmn_config *cfg, const char *backend, hmn_agent **out, hmn_error *err);
/* From a checkpoint written by hmn_agent_save; the file is validated
 * whole before anything is created. */
int hmn_agent_load(const char *path, const char *backend, hmn_agent **out, hmn_error *err);
/* The layer's checkpoint plus sections "meta" (the meta-learner and the
 * window in progress) and "sources" (the modulator sources). */
int hmn_agent_save(hmn_agent *agent, const char *path, hmn_error *err);
/* The backend ("ref", "opencl", ...) that wrote an hmn_agent_save
 * checkpoint, validated whole first; "" for a file from before the
 * backend was recorded. */
int hmn_agent_saved_backend(const char *path, char *out, size_t size, hmn_error *err);
void hmn_agent_destroy(hmn_agent *agent);
hmn_layer *hmn_agent_layer(hmn_agent *agent);
hmn_task *hmn_agent_task(hmn_agent *agent);
/* 1 when the meta-learner tunes eta: an estimator is set and the task
 * gives a reward. */
int hmn_agent_meta_active(const hmn_agent *agent);
/* Layer steps the lookahead probes have run since this agent was
 * created or loaded (they come on top of the live steps: throughput
 * counts both). */
uint64_t hmn_agent_probe_steps(const hmn_agent *agent);
/* The learning rates at the meta-learner's current theta (the centre of
 * its probes; the layer itself runs at a probe point in the online and
 * paired modes). The config's rates when nothing is tuned. */
void hmn_agent_eta(const hmn_agent *agent, float *eta_local, float *eta_global);
/* Run up to `max_steps` live steps, stopping early at the end of the
 * current window, and describe the window. A window that starts here at
 * t >= meta_window first takes its meta-learning iteration. The window
 * is `complete` in the call that runs its last step; a call with
 * max_steps 0 changes nothing and describes the window in progress
 * (reward, regret and g_mean NAN while it has no steps). */
int hmn_agent_run(hmn_agent *agent, uint64_t max_steps, hmn_window *win, hmn_error *err);

/* ------------------------------------------------------------------ */
/* FPGA (SPEC section 10): Alveo cards, their bitstreams, the throughput
 * model. Backends: "opencl-fpga" runs the FPGA kernel
 * (kernels/hmn_fpga.cl) through OpenCL, built from source where the device
 * has a compiler (PoCL, GPUs), from a bitstream on XRT's OpenCL platform;
 * "xrt" runs it on an Alveo card through XRT's native API ("xrt:SEL": SEL
 * is a card index of hmn_fpga_cards() or a prefix of its PCI address). */

#define HMN_FPGA_TEXT_MAX 256

/* An Alveo card, as XRT's driver presents it in sysfs. */
typedef struct {
  int index;
  char pci[HMN_DEVICE_TEXT_MAX];      /* PCI address of its user function */
  char platform[HMN_DEVICE_TEXT_MAX]; /* the platform (VBNV) the card reports */
} hmn_card_info;

/* List the Alveo cards: fills up to `max`, sets `*count` (0, and success,
 * when there is none). Reads sysfs only ($HMN_SYSFS_ROOT, default /sys). */
int hmn_fpga_cards(hmn_card_info *out, size_t max, size_t *count, hmn_error *err);
/* HMN_OK when the xrt backend can open a card (or an emulator) in this
 * process; HMN_EBACKEND when this libhmn was built without it; else
 * HMN_EDEVICE with a message that says what is missing (a card, XRT's
 * libraries, XILINX_XRT) and what to set. It never calls into XRT, which
 * aborts the whole process in some of these cases (XRT 2.13 with
 * XILINX_XRT unset). */
int hmn_xrt_check(hmn_error *err);

/* One entry of a bitstream manifest (bitstreams/manifest.json). */
typedef struct {
  char file[HMN_FPGA_TEXT_MAX];       /* the .xclbin, in the manifest's folder */
  char platform[HMN_DEVICE_TEXT_MAX]; /* the platform VBNV it was built for */
  char card[HMN_DEVICE_TEXT_MAX];     /* the VBNV a card of that platform reports */
  char target[16];                    /* hw, hw_emu or sw_emu */
  char route[8];                      /* hls (hw/hmn_step_hls.cpp) */
  char kernel[64];                    /* hmn_fpga_step */
  char arguments[512];                /* its arguments, space-separated */
  char uuid[40];
  char sha256[72];
  int abi;                            /* of kernels/hmn_fpga_params.h */
  int32_t max_in, max_out, max_delay; /* the on-chip maxima it was built for */
  double clock_mhz;                   /* kernel clock: the .xclbin's, else the build's request */
  char build[1024];                   /* how it was built (the v++ commands) */
} hmn_bitstream_info;

/* The bitstreams folder: $HMN_BITSTREAMS, else the source tree's. */
const char *hmn_bitstreams_dir(void);
/* The entries of `dir`'s manifest (NULL: hmn_bitstreams_dir()); no
 * manifest is 0 entries. */
int hmn_bitstreams_list(const char *dir, hmn_bitstream_info *out, size_t max, size_t *count,
                        hmn_error *err);
/* Check an entry against its file: sha256, the xclbin container, its
 * platform, UUID and mode, the kernel, the ABI. */
int hmn_bitstream_check(const char *dir, const hmn_bitstream_info *entry, hmn_error *err);
/* Add an .xclbin to `dir` (NULL: hmn_bitstreams_dir()): the file must
 * lie in `dir`; platform, UUID and sha256 come from it, the rest from
 * `meta` (target empty: from the file's mode). Replaces an entry of the
 * same file; the manifest is rewritten atomically. */
int hmn_bitstream_add(const char *dir, const char *file, const hmn_bitstream_info *meta,
                      hmn_error *err);

/* The throughput and resource model of the FPGA kernel (the HLS top,
 * hw/hmn_step_hls.cpp) on a card: a prediction, not a measurement (SPEC
 * section 9), computed from the structure as built and printed as a range
 * (docs/fpga.md has the derivation). With wpr = ceil(N_in/16) words per
 * padded row and W = N_out wpr words, in clocks:
 *   pre    = 32 + (D + 3) N_in + 4 N_out + K (D_c + 40) + 5 L_axi
 *            (the serial loads before the dataflow region)
 *   rows   = N_out max(a (2 wpr + d_att), wpr + d_sum) + wpr
 *            (a = 1 with attention on, else 0: the row stages, which the
 *            update of row j waits for)
 *   region = max(2 W, rows, 5 N_out) + d_fill
 *            (its processes overlap; the reader passes W twice)
 * and in seconds, with the busiest bank moving 192 bytes per word (W read
 * twice and written once):
 *   t_step = pre / f + max(region / f, 192 W / (e B_port)) + t_launch,
 *   SUPS = N_in N_out / t_step,  SUPS/W >= SUPS / P_card (board maximum).
 * The fast end takes f high, d and L_axi low, e high, t_launch low; the
 * slow end the opposite. Resources are estimated from the operator counts
 * of the processes (model.c) at typical UltraScale+ costs per operator. */
typedef struct {
  char name[16];                 /* u250, u280, u55c */
  char description[160];
  double clock_lo_hz, clock_hi_hz;   /* f: what v++ may close timing at */
  double mem_bytes_per_s;            /* the card's memory bandwidth */
  double port_bytes_per_s;           /* B_port: one bank or pseudo-channel */
  double port_eff_lo, port_eff_hi;   /* e: share of B_port mixed traffic gets */
  double launch_lo_s, launch_hi_s;   /* t_launch: start, finish and input upload */
  double power_w;                    /* P_card: the card's maximum board power */
  int slrs;                          /* super logic regions */
  int dsp, bram36, uram;             /* the card's totals */
  int lut_k;                         /* LUTs, thousands */
} hmn_fpga_card_model;

/* One side of the range. */
typedef struct {
  double f_hz;                    /* the clock assumed */
  int d_att, d_sum, d_fill, l_axi; /* the depths assumed, clocks */
  double pre_clocks, rows_clocks, region_clocks;
  double region_s;                /* max of the region's clocks and its memory time */
  const char *bound;              /* "compute" or "memory" */
  double step_s, sups, sups_per_watt;
} hmn_fpga_model_end;

typedef struct {
  hmn_fpga_card_model card;
  uint64_t synapses;          /* N_in N_out */
  uint64_t words;             /* W, padded */
  double mem_s_fast, mem_s_slow; /* 192 W / (e B_port) at e high and low */
  hmn_fpga_model_end fast, slow;
  /* Resource estimate of the whole kernel, low and high. */
  int dsp_lo, dsp_hi, lut_k_lo, lut_k_hi, bram36_lo, bram36_hi, uram;
  int fits_one_slr;           /* the high estimate within one SLR's share */
} hmn_fpga_prediction;

/* Names of the modelled cards, NULL-terminated. */
const char *const *hmn_fpga_model_cards(void);
int hmn_fpga_model(const char *card, const hmn_config *cfg, hmn_fpga_prediction *out,
                   hmn_error *err);

/* ------------------------------------------------------------------ */
/* Plasticity protocols (docs/rules/): the classic experiments on a small
 * layer with imposed spikes, each a table of results plus what was fitted. */

#define HMN_PROTOCOL_MAX_COLS 8
typedef struct {
  char name[32];
  int n_cols;
  size_t n_rows;
  char columns[HMN_PROTOCOL_MAX_COLS][32];
  double *values;     /* n_rows x n_cols, row by row */
  int n_fit;
  double fit[4];      /* stdp-window: A+, tau+, A-, tau-; bcm: each crossover;
                         bcm-theta: theta after each phase; scaling: final w_high, w_low */
  char summary[640];  /* the fit beside the configured values, a few lines */
} hmn_protocol_result;

size_t hmn_protocol_count(void);
const char *hmn_protocol_name_at(size_t index);
/* Run protocol `name` with the rule parameters of `base` on `backend`
 * (one that has the postsynaptic clamp: ref or opencl). Free with
 * hmn_protocol_result_free. */
int hmn_protocol_run(const char *name, const hmn_config *base, const char *backend,
                     hmn_protocol_result *res, hmn_error *err);
void hmn_protocol_result_free(hmn_protocol_result *res);
/* Pfister & Gerstner 2006's visual-cortex triplet parameters (all-to-all
 * or nearest-spike, hmn_pairing) into `cfg`, with rule = triplet. */
void hmn_protocol_triplet_visual_cortex(hmn_config *cfg, int pairing);

#ifdef __cplusplus
}
#endif
#endif /* HMN_H */
