/*
 * state.c - the host copy of a layer's state (SPEC section 2): array
 * shapes, allocation, and deterministic initial values.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

static const char *const hmn__array_names[HMN_ARRAY_COUNT] = {
#define HMN__ARRAY_NAME(name, text, type) text,
    HMN_ARRAY_TABLE(HMN__ARRAY_NAME)
#undef HMN__ARRAY_NAME
};

static const hmn_elem_type hmn__array_types[HMN_ARRAY_COUNT] = {
#define HMN__ARRAY_TYPE(name, text, type) type,
    HMN_ARRAY_TABLE(HMN__ARRAY_TYPE)
#undef HMN__ARRAY_TYPE
};

const char *hmn_array_name(hmn_array which) {
  return (unsigned)which < HMN_ARRAY_COUNT ? hmn__array_names[which] : "unknown";
}

hmn_elem_type hmn_array_type(hmn_array which) {
  return (unsigned)which < HMN_ARRAY_COUNT ? hmn__array_types[which] : HMN_F32;
}

size_t hmn_array_length(const hmn_config *cfg, hmn_array which) {
  size_t synapses = (size_t)cfg->n_in * (size_t)cfg->n_out;
  switch (which) {
  case HMN_ARRAY_W:
  case HMN_ARRAY_PSI_F:
  case HMN_ARRAY_PSI_S:
  case HMN_ARRAY_PHI:
  case HMN_ARRAY_TAU:
    return synapses;
  case HMN_ARRAY_X_HIST:
    return (size_t)cfg->delay_len * (size_t)cfg->n_in;
  case HMN_ARRAY_B:
  case HMN_ARRAY_C:
  case HMN_ARRAY_Z:
  case HMN_ARRAY_SIGN:
  case HMN_ARRAY_ASTRO:
    return (size_t)cfg->n_out;
  case HMN_ARRAY_RATE:
  case HMN_ARRAY_THETA:
  case HMN_ARRAY_SCALE:
    return (size_t)cfg->n_out;
  case HMN_ARRAY_PRE_TRACE:
    return 2 * (size_t)cfg->n_in; /* r1 then r2 */
  case HMN_ARRAY_POST_TRACE:
    return 2 * (size_t)cfg->n_out; /* o1 then o2 */
  case HMN_ARRAY_H:
    return (size_t)cfg->n_in;
  case HMN_ARRAY_KAPPA:
    return (size_t)cfg->n_mod * (size_t)cfg->d_ctx;
  case HMN_ARRAY_W_K:
    return (size_t)cfg->n_mod;
  case HMN_ARRAY_COUNT:
    break;
  }
  return 0;
}

size_t hmn__array_bytes(const hmn_config *cfg, hmn_array which) {
  size_t elem = hmn_array_type(which) == HMN_U8 ? 1 : sizeof(float);
  return hmn_array_length(cfg, which) * elem;
}

int hmn__state_alloc(hmn__state *st, const hmn_config *cfg, hmn_error *err) {
  memset(st, 0, sizeof *st);
  st->cfg = *cfg;
  st->eta_local = cfg->eta_local;
  st->eta_global = cfg->eta_global;
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    st->arr[a] = hmn__calloc(hmn__array_bytes(cfg, (hmn_array)a), 1);
    if (st->arr[a] == NULL) {
      hmn__state_free(st);
      return hmn__fail(err, HMN_ENOMEM, "out of memory allocating state array '%s' (%zu bytes)",
                       hmn_array_name((hmn_array)a), hmn__array_bytes(cfg, (hmn_array)a));
    }
  }
  return HMN_OK;
}

void hmn__state_free(hmn__state *st) {
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    hmn__free(st->arr[a]);
    st->arr[a] = NULL;
  }
}

/* Initial values come from the init stream with the array's id in the
 * counter's time word, so that each array draws independent numbers and
 * resizing one array never shifts another's. */
enum { HMN__INIT_W = 0, HMN__INIT_PHI = 1, HMN__INIT_TAU = 2, HMN__INIT_KAPPA = 3, HMN__INIT_SIGN = 4 };

static float hmn__init_uniform(uint64_t seed, uint32_t array_id, size_t index) {
  uint32_t block[4];
  hmn_philox(seed, array_id, (uint32_t)(index >> 2), HMN_STREAM_INIT, block);
  return hmn_uniform(block[index & 3]);
}

void hmn__state_init(hmn__state *st) {
  const hmn_config *cfg = &st->cfg;
  size_t synapses = hmn_array_length(cfg, HMN_ARRAY_W);
  float *w = HMN__F32(st, W), *phi = HMN__F32(st, PHI);
  uint8_t *tau = HMN__U8(st, TAU);
  for (size_t e = 0; e < synapses; e++) {
    w[e] = cfg->w_init * (2.0f * hmn__init_uniform(cfg->seed, HMN__INIT_W, e) - 1.0f);
    phi[e] = (float)HMN__TWO_PI * hmn__init_uniform(cfg->seed, HMN__INIT_PHI, e);
    /* The uniform is < 1, so the product is < delay_len; the clamp guards
     * against float rounding at the top of the range. */
    uint32_t d = (uint32_t)(hmn__init_uniform(cfg->seed, HMN__INIT_TAU, e) * (float)cfg->delay_len);
    tau[e] = (uint8_t)(d < (uint32_t)cfg->delay_len ? d : (uint32_t)cfg->delay_len - 1);
  }
  size_t n_kappa = hmn_array_length(cfg, HMN_ARRAY_KAPPA);
  float *kappa = HMN__F32(st, KAPPA);
  for (size_t e = 0; e < n_kappa; e++)
    kappa[e] = 2.0f * hmn__init_uniform(cfg->seed, HMN__INIT_KAPPA, e) - 1.0f;
  float *w_k = HMN__F32(st, W_K);
  for (int k = 0; k < cfg->n_mod; k++) w_k[k] = 1.0f;
  float *sign = HMN__F32(st, SIGN);
  for (int j = 0; j < cfg->n_out; j++)
    sign[j] = hmn__init_uniform(cfg->seed, HMN__INIT_SIGN, (size_t)j) < cfg->inhibitory_fraction
                  ? -1.0f
                  : 1.0f;
  /* D1/D2: the last neurons form the D2 population, whose modulated
   * learning has the opposite sign (a block, so that populations are read
   * off by index). */
  int n_d2 = (int)lround((double)cfg->d2_fraction * (double)cfg->n_out);
  for (int j = cfg->n_out - n_d2; j < cfg->n_out; j++) sign[j] = -sign[j];
  float *theta = HMN__F32(st, THETA), *scale = HMN__F32(st, SCALE);
  for (int j = 0; j < cfg->n_out; j++) {
    theta[j] = cfg->theta_init;
    scale[j] = 1.0f;
  }
  st->t = 0;
  st->eta_local = cfg->eta_local;
  st->eta_global = cfg->eta_global;
}

float hmn__oscillator_phase(const hmn_config *cfg, uint64_t t) {
  /* Double precision and wrapping keep the phase exact over long runs,
   * where t*dt*f in float would lose the fractional cycle. */
  double cycles = (double)cfg->osc_freq * (double)t * (double)cfg->dt;
  double frac = cycles - floor(cycles);
  double phase = fmod((double)cfg->phase0 + HMN__TWO_PI * frac, HMN__TWO_PI);
  if (phase < 0) phase += HMN__TWO_PI;
  return (float)phase;
}
