/*
 * hmn.h - the one public header of libhmn, a runtime for layers of Hybrid
 * Modulated Neurons (HMN).
 *
 * Conventions:
 *  - Every function that can fail returns 0 on success or a negative
 *    hmn_status code, and fills the caller's hmn_error (which may be NULL)
 *    with a message naming the file, key, value, device or step at fault.
 *  - A failed call leaves every object it was given exactly as it was.
 *  - The library never prints and never exits.
 */
#ifndef HMN_H
#define HMN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

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
typedef enum { HMN_RULE_HEBBIAN } hmn_rule;

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
/* Write the whole config as INI; it loads back unchanged. */
int hmn_config_write(const hmn_config *cfg, FILE *out);
/* Whole config as a malloc'd INI string (caller frees), or NULL. */
char *hmn_config_to_string(const hmn_config *cfg);

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
  X(ASTRO, "astro", HMN_F32)

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
/* Copy the last activation z (N_out floats). */
int hmn_layer_output(hmn_layer *layer, float *z, hmn_error *err);
int hmn_layer_stats(hmn_layer *layer, hmn_step_stats *stats, hmn_error *err);
/* Copy a whole state array; `bytes` must equal its size. */
int hmn_layer_read(hmn_layer *layer, hmn_array which, void *dst, size_t bytes, hmn_error *err);
int hmn_layer_write(hmn_layer *layer, hmn_array which, const void *src, size_t bytes, hmn_error *err);
/* The two meta-learned learning rates. */
int hmn_layer_get_eta(hmn_layer *layer, float *eta_local, float *eta_global);
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
typedef struct {
  char name[HMN_PROFILE_NAME_MAX]; /* kernel, or "write inputs" for the uploads */
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
/* Tasks that drive a layer. */

typedef struct hmn_task hmn_task;

/* Names of the built-in tasks, NULL-terminated. */
const char *const *hmn_task_names(void);
int hmn_task_create(const char *name, const hmn_config *cfg, hmn_task **out, hmn_error *err);
void hmn_task_destroy(hmn_task *task);
/* Inputs for step t; the pointers stay valid until the next call. */
int hmn_task_input(hmn_task *task, uint64_t t, hmn_step_input *in, hmn_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HMN_H */
