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
/* Built-in oscillator phase at step t, wrapped to [0, 2*pi). */
float hmn__oscillator_phase(const hmn_config *cfg, uint64_t t);

/* ---- backends ---- */
typedef struct hmn__backend_ops {
  const char *name;
  /* Called once the host state is filled; uploads it. */
  int (*init)(hmn_layer *layer, hmn_error *err);
  void (*fini)(hmn_layer *layer);
  int (*step)(hmn_layer *layer, const hmn_step_input *in, hmn_error *err);
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
};

extern const hmn__backend_ops hmn__backend_ref;
extern const hmn__backend_ops hmn__backend_opencl;
/* Free a layer's snapshot (layer destruction). */
void hmn__snapshot_free(hmn_layer *layer);
const hmn__backend_ops *hmn__backend_find(const char *name);

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

/* ---- config (config.c) ---- */
const char *hmn__activation_name(int activation);

/* ---- checkpoint helpers (checkpoint.c) ---- */
int hmn__write_file_atomic(const char *path, const void *data, size_t len, hmn_error *err);

#endif /* HMN_INTERNAL_H */
