/*
 * opencl_support.c - helpers of the OpenCL backend tests (see
 * opencl_support.h).
 *
 * The comparison rebuilds, with ref's own functions, the quantities ref
 * used inside its step (G_j, alpha, the phase gate, dw dagger, p and u),
 * so that a differing weight can be classified as a borderline stochastic
 * decision or as a real error, and so that the tolerance of each value
 * can follow how it was computed.
 */
#include "opencl_support.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "internal.h"
#include "support.h"

bool hmn_test_have_opencl(void) {
  size_t count = 0;
  hmn_error err;
  return hmn_opencl_devices(NULL, 0, &count, &err) == HMN_OK && count > 0;
}

hmn_layer *hmn_test_layer(const hmn_config *cfg, const char *backend) {
  hmn_layer *layer = NULL;
  hmn_error err;
  cr_assert_eq(hmn_layer_create(cfg, backend, &layer, &err), HMN_OK, "%s: %s", backend,
               err.message);
  return layer;
}

void hmn_test_pair_create(const hmn_config *cfg, hmn_test_pair *pair) {
  hmn_test_pair_create_on(cfg, "opencl", pair);
}

static hmn_test_step_fn hmn_test_step = hmn_layer_step;

void hmn_test_set_step(hmn_test_step_fn step) {
  hmn_test_step = step != NULL ? step : hmn_layer_step;
}

void hmn_test_pair_create_on(const hmn_config *cfg, const char *backend, hmn_test_pair *pair) {
  pair->ref = hmn_test_layer(cfg, "ref");
  pair->ocl = hmn_test_layer(cfg, backend);
}

void hmn_test_pair_destroy(hmn_test_pair *pair) {
  hmn_layer_destroy(pair->ref);
  hmn_layer_destroy(pair->ocl);
  pair->ref = pair->ocl = NULL;
}

/* A small LCG: the test data must not come from the RNG under test. */
static uint32_t lcg_next(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return *s;
}

static float lcg_uniform(uint32_t *s, float lo, float hi) {
  return lo + (hi - lo) * (float)(lcg_next(s) >> 8) * (1.0f / 16777216.0f);
}

static void *read_array(hmn_layer *layer, hmn_array which) {
  hmn_error err;
  size_t bytes = hmn__array_bytes(hmn_layer_config(layer), which);
  void *data = malloc(bytes > 0 ? bytes : 1);
  cr_assert_not_null(data);
  cr_assert_eq(hmn_layer_read(layer, which, data, bytes, &err), HMN_OK, "%s", err.message);
  return data;
}

static void write_array(hmn_layer *layer, hmn_array which, const void *data) {
  hmn_error err;
  size_t bytes = hmn__array_bytes(hmn_layer_config(layer), which);
  cr_assert_eq(hmn_layer_write(layer, which, data, bytes, &err), HMN_OK, "%s: %s",
               hmn_array_name(which), err.message);
}

void hmn_test_copy_state(hmn_layer *from, hmn_layer *to) {
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    void *data = read_array(from, (hmn_array)a);
    write_array(to, (hmn_array)a, data);
    free(data);
  }
}

void hmn_test_pair_randomize(hmn_test_pair *pair, uint32_t seed, uint64_t t) {
  const hmn_config *cfg = hmn_layer_config(pair->ref);
  uint32_t s = seed * 2654435761u + 12345u;
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    size_t n = hmn_array_length(cfg, (hmn_array)a);
    void *data = malloc(n * sizeof(float) + 1);
    cr_assert_not_null(data);
    float *f = data;
    uint8_t *u8 = data;
    for (size_t k = 0; k < n; k++) {
      switch ((hmn_array)a) {
      case HMN_ARRAY_TAU:
        u8[k] = (uint8_t)(lcg_next(&s) % (uint32_t)cfg->delay_len);
        break;
      case HMN_ARRAY_PHI:
        f[k] = lcg_uniform(&s, 0.0f, 6.2831853f);
        break;
      case HMN_ARRAY_SIGN:
        f[k] = (lcg_next(&s) >> 31) ? -1.0f : 1.0f;
        break;
      case HMN_ARRAY_W:
        f[k] = lcg_uniform(&s, -0.5f, 0.5f);
        break;
      case HMN_ARRAY_PSI_F:
      case HMN_ARRAY_PSI_S:
        f[k] = lcg_uniform(&s, -2.0f, 2.0f);
        break;
      case HMN_ARRAY_B:
        f[k] = lcg_uniform(&s, -0.1f, 0.1f);
        break;
      default:
        f[k] = lcg_uniform(&s, -1.0f, 1.0f);
        break;
      }
    }
    write_array(pair->ref, (hmn_array)a, data);
    write_array(pair->ocl, (hmn_array)a, data);
    free(data);
  }
  pair->ref->st.t = t;
  pair->ocl->st.t = t;
}

void hmn_test_inputs_make(const hmn_config *cfg, uint32_t seed, bool with_phase,
                          hmn_test_inputs *inputs) {
  uint32_t s = seed * 747796405u + 2891336453u;
  inputs->x = malloc((size_t)cfg->n_in * sizeof(float));
  inputs->mod = malloc((size_t)cfg->n_mod * sizeof(float));
  inputs->ctx = malloc((size_t)cfg->d_ctx * sizeof(float));
  cr_assert(inputs->x != NULL && inputs->mod != NULL && inputs->ctx != NULL);
  for (int i = 0; i < cfg->n_in; i++) inputs->x[i] = lcg_uniform(&s, -1.0f, 1.0f);
  for (int k = 0; k < cfg->n_mod; k++) inputs->mod[k] = lcg_uniform(&s, -1.0f, 1.0f);
  for (int d = 0; d < cfg->d_ctx; d++) inputs->ctx[d] = lcg_uniform(&s, -1.0f, 1.0f);
  inputs->phase = lcg_uniform(&s, 0.0f, 6.2831853f);
  inputs->in.x = inputs->x;
  inputs->in.mod = inputs->mod;
  inputs->in.ctx = inputs->ctx;
  inputs->in.phase = with_phase ? &inputs->phase : NULL;
}

void hmn_test_inputs_free(hmn_test_inputs *inputs) {
  free(inputs->x);
  free(inputs->mod);
  free(inputs->ctx);
}

static double tol(double x) { return fmax(1e-6, 1e-5 * fabs(x)); }

/* All arrays of one layer. */
typedef struct {
  void *a[HMN_ARRAY_COUNT];
} state_copy;

static void state_read(hmn_layer *layer, state_copy *s) {
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) s->a[a] = read_array(layer, (hmn_array)a);
}

static void state_free(state_copy *s) {
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) free(s->a[a]);
}

#define F(s, name) ((float *)(s).a[HMN_ARRAY_##name])

static void check_exact(const state_copy *r, const state_copy *o, hmn_array which, size_t n,
                        const char *what) {
  if (memcmp(r->a[which], o->a[which], hmn_array_type(which) == HMN_U8 ? n : n * 4) == 0) return;
  for (size_t k = 0; k < n; k++) {
    if (hmn_array_type(which) == HMN_U8)
      cr_assert_eq(((uint8_t *)r->a[which])[k], ((uint8_t *)o->a[which])[k], "%s: %s[%zu]",
                   what, hmn_array_name(which), k);
    else
      cr_assert(((float *)r->a[which])[k] == ((float *)o->a[which])[k],
                "%s: %s[%zu] = %.9g, ref %.9g (must be identical)", what, hmn_array_name(which),
                k, (double)((float *)o->a[which])[k], (double)((float *)r->a[which])[k]);
  }
}

static void check_near(const char *what, hmn_array which, size_t k, float got, float want,
                       double bound) {
  cr_assert(fabs((double)got - (double)want) <= bound,
            "%s: %s[%zu] = %.9g, ref %.9g (|diff| %.3g > bound %.3g)", what, hmn_array_name(which),
            k, (double)got, (double)want, fabs((double)got - (double)want), bound);
}

size_t hmn_test_step_and_compare(hmn_test_pair *pair, const hmn_step_input *in,
                                 const char *what) {
  const hmn_config *cfg = hmn_layer_config(pair->ref);
  hmn_error err;
  int n_in = cfg->n_in, n_out = cfg->n_out;
  uint64_t t = hmn_layer_step_count(pair->ref);
  cr_assert_eq(t, hmn_layer_step_count(pair->ocl), "%s: step counters differ", what);
  float eta_l, eta_g;
  hmn_layer_get_eta(pair->ref, &eta_l, &eta_g, NULL);

  /* The layers may start apart by what earlier steps left (multi-step
   * runs): each bound below carries that difference through the step, so
   * that it limits only what this step adds. */
  state_copy before, o_before, r, o;
  state_read(pair->ref, &before);
  state_read(pair->ocl, &o_before);
  cr_assert_eq(hmn_layer_step(pair->ref, in, &err), HMN_OK, "%s: ref: %s", what, err.message);
  cr_assert_eq(hmn_test_step(pair->ocl, in, &err), HMN_OK, "%s: %s: %s", what,
               hmn_layer_backend(pair->ocl), err.message);
  state_read(pair->ref, &r);
  state_read(pair->ocl, &o);

  /* Values that are elementwise the same float operations in both. */
  check_exact(&r, &o, HMN_ARRAY_X_HIST, hmn_array_length(cfg, HMN_ARRAY_X_HIST), what);
  check_exact(&r, &o, HMN_ARRAY_H, (size_t)n_in, what);
  check_exact(&r, &o, HMN_ARRAY_ASTRO, (size_t)n_out, what);
  /* State the step never changes. */
  const hmn_array fixed[] = {HMN_ARRAY_PHI, HMN_ARRAY_TAU, HMN_ARRAY_KAPPA, HMN_ARRAY_W_K,
                             HMN_ARRAY_SIGN};
  for (size_t f = 0; f < sizeof fixed / sizeof fixed[0]; f++)
    check_exact(&r, &o, fixed[f], hmn_array_length(cfg, fixed[f]), what);

  /* What ref computed inside the step, rebuilt with its functions. */
  const uint8_t *tau = r.a[HMN_ARRAY_TAU];
  uint64_t d = (uint64_t)cfg->delay_len;
  float phase = in->phase != NULL ? *in->phase : hmn__oscillator_phase(cfg, t);
  float g = hmn__ref_global_modulation(cfg, F(r, KAPPA), F(r, W_K), in->mod, in->ctx);
  float *xhat = malloc((size_t)n_in * sizeof(float));
  float *alpha = malloc((size_t)n_in * sizeof(float));
  cr_assert(xhat != NULL && alpha != NULL);
  size_t flips = 0, loose_candidates = 0;
  double g_terms = fabs((double)cfg->astro_lambda);
  for (int k = 0; k < cfg->n_mod; k++) g_terms += fabs((double)F(r, W_K)[k] * in->mod[k]);

  double h_max = 0.0;
  for (int i = 0; i < n_in; i++) h_max = fmax(h_max, fabs((double)F(r, H)[i]));
  float lam_f = hmn__ref_decay(cfg->dt, cfg->tau_fast), lam_s = hmn__ref_decay(cfg->dt, cfg->tau_slow);
#define CARRIED(name, k) fabs((double)F(o_before, name)[k] - (double)F(before, name)[k])

  for (int j = 0; j < n_out; j++) {
    /* Eq 1's sum of absolute terms bounds the forward pass (SPEC 5). */
    float noise = cfg->noise_sigma * hmn__ref_gaussian(cfg->seed, t, (uint32_t)j);
    double terms = fabs((double)F(before, B)[j]) + fabs((double)noise);
    double carried = CARRIED(B, j);
    for (int i = 0; i < n_in; i++) {
      size_t e = (size_t)j * n_in + i;
      uint64_t slot = (t + d - tau[e]) % d;
      xhat[i] = F(r, X_HIST)[slot * (uint64_t)n_in + (uint64_t)i];
      terms += fabs((double)F(before, W)[e] * xhat[i]);
      carried += CARRIED(W, e) * fabs((double)xhat[i]);
    }
    /* Every activation is 1-Lipschitz. */
    double z_err = tol(F(r, Z)[j]) + 1e-5 * terms + carried;
    check_near(what, HMN_ARRAY_Z, (size_t)j, F(o, Z)[j], F(r, Z)[j], z_err);
    double c_err = tol(F(r, C)[j]) + (1.0 - cfg->ctx_rate) * CARRIED(C, j) + cfg->ctx_rate * z_err;
    check_near(what, HMN_ARRAY_C, (size_t)j, F(o, C)[j], F(r, C)[j], c_err);
    check_near(what, HMN_ARRAY_B, (size_t)j, F(o, B)[j], F(r, B)[j],
               tol(F(r, B)[j]) + CARRIED(B, j) + fabs((double)cfg->bias_rate) * c_err);

    float m_astro = (float)tanh((double)F(r, ASTRO)[j]);
    float g_j = hmn__ref_neuron_modulation(F(r, SIGN)[j], g, cfg->astro_lambda, m_astro);
    float coef = eta_l + eta_g * g_j;
    hmn__ref_local_attention(cfg->attention, cfg->beta_attn, F(r, H), F(r, C)[j], n_in, alpha);
    for (int i = 0; i < n_in; i++) {
      size_t e = (size_t)j * n_in + i;
      double psi_err_f =
          tol(F(r, PSI_F)[e]) + lam_f * CARRIED(PSI_F, e) + fabs((double)xhat[i]) * z_err;
      double psi_err_s =
          tol(F(r, PSI_S)[e]) + lam_s * CARRIED(PSI_S, e) + fabs((double)xhat[i]) * z_err;
      check_near(what, HMN_ARRAY_PSI_F, e, F(o, PSI_F)[e], F(r, PSI_F)[e], psi_err_f);
      check_near(what, HMN_ARRAY_PSI_S, e, F(o, PSI_S)[e], F(r, PSI_S)[e], psi_err_s);

      float elig = hmn__ref_eligibility(cfg->rho_fast, F(r, PSI_F)[e], cfg->rho_slow,
                                        F(r, PSI_S)[e]);
      float gate = hmn__ref_phase_gate(cfg->phase_gate, phase, F(r, PHI)[e]);
      float dw = hmn__ref_preliminary_update(eta_l, eta_g, g_j, alpha[i] * elig) * gate;
      /* A gate within rounding of zero, or an update that underflows,
       * may count as a candidate in one backend only. */
      if (cfg->phase_gate && fabs(cos((double)phase - (double)F(r, PHI)[e])) < 1e-6)
        loose_candidates++;
      else if (dw != 0.0f && fabs((double)dw) < 1e-30)
        loose_candidates++;
      /* Delta w comes from several reductions (G, the softmax
       * denominator, z through psi), each allowed 1e-5 relative; alpha
       * moves with c_j by at most 2 beta max|h| per unit of c. */
      double dw_ref = fabs((double)F(r, W)[e] - F(before, W)[e]);
      double w_err = tol(F(r, W)[e]) + CARRIED(W, e) + 1e-4 * dw_ref +
                     fabs((double)coef) * fabs((double)alpha[i]) * gate *
                         (fabs((double)cfg->rho_fast) * psi_err_f +
                          fabs((double)cfg->rho_slow) * psi_err_s);
      if (cfg->attention != HMN_ATTN_OFF) w_err += dw_ref * 2.0 * cfg->beta_attn * h_max * c_err;
      double diff = fabs((double)F(o, W)[e] - F(r, W)[e]);
      if (diff <= w_err) continue;
      float u = 2.0f, p = -1.0f;
      if (cfg->stochastic) {
        uint32_t block[4];
        hmn_philox(cfg->seed, t, (uint32_t)(e >> 2), HMN_STREAM_STOCHASTIC, block);
        u = hmn_uniform(block[e & 3]);
        p = hmn__ref_apply_probability(cfg->beta_p, cfg->theta_p, dw);
      }
      cr_assert(fabs((double)u - (double)p) < 1e-6,
                "%s: W[%zu] (j %d, i %d) = %.9g, ref %.9g, before %.9g (|diff| %.3g > %.3g) "
                "and the decision was not borderline (u %.9g, p %.9g)",
                what, e, j, i, (double)F(o, W)[e], (double)F(r, W)[e], (double)F(before, W)[e],
                diff, w_err, (double)u, (double)p);
      flips++;
    }
  }

  hmn_step_stats sr, so;
  cr_assert_eq(hmn_layer_stats(pair->ref, &sr, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_stats(pair->ocl, &so, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(so.t, sr.t, "%s: stats.t", what);
  cr_assert(llabs((long long)so.candidates - (long long)sr.candidates) <= (long long)loose_candidates,
            "%s: %llu candidate updates, ref %llu", what, (unsigned long long)so.candidates,
            (unsigned long long)sr.candidates);
  cr_assert(llabs((long long)so.applied - (long long)sr.applied) <=
                (long long)(flips + loose_candidates),
            "%s: %llu applied updates, ref %llu (%zu borderline flips)", what,
            (unsigned long long)so.applied, (unsigned long long)sr.applied, flips);
  cr_assert(fabs((double)so.g_mean - sr.g_mean) <= 1e-6 + 1e-5 * g_terms,
            "%s: mean G %.9g, ref %.9g", what, (double)so.g_mean, (double)sr.g_mean);

  free(xhat);
  free(alpha);
#undef CARRIED
  state_free(&before);
  state_free(&o_before);
  state_free(&r);
  state_free(&o);
  return flips;
}

void hmn_test_assert_same_bits(hmn_layer *a, hmn_layer *b, const char *what) {
  cr_assert_eq(hmn_layer_step_count(a), hmn_layer_step_count(b), "%s: step counters differ",
               what);
  for (int k = 0; k < HMN_ARRAY_COUNT; k++) {
    void *x = read_array(a, (hmn_array)k), *y = read_array(b, (hmn_array)k);
    size_t bytes = hmn__array_bytes(hmn_layer_config(a), (hmn_array)k);
    cr_assert_eq(memcmp(x, y, bytes), 0, "%s: state array '%s' differs", what,
                 hmn_array_name((hmn_array)k));
    free(x);
    free(y);
  }
}

int hmn_test_shell(const char *command) {
  int status = system(command);
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

void hmn_test_busy_config(hmn_config *cfg, int n_in, int n_out) {
  hmn_config_defaults(cfg);
  cfg->n_in = n_in;
  cfg->n_out = n_out;
  cfg->n_mod = 3;
  cfg->d_ctx = 5;
  cfg->delay_len = 3;
  cfg->noise_sigma = 0.1f;
  cfg->beta_attn = 2.0f;
  cfg->beta_global = 2.0f;
  cfg->astro_lambda = 0.5f;
  cfg->rho_slow = 0.5f;
}

/* Case `i` of the mode combinations on a busy 37x13 config, the step to
 * start it at (every fourth case past t = 2^32, where the counter's high
 * word starts to count) and its name for failure messages. */
void hmn_test_mode_case(size_t i, hmn_config *cfg, uint64_t *t, char *what, size_t what_len) {
  static const int activations[] = {HMN_ACT_RELU, HMN_ACT_SIGMOID, HMN_ACT_TANH, HMN_ACT_LINEAR};
  static const int attentions[] = {HMN_ATTN_SOFTMAX, HMN_ATTN_SOFTMAX_N, HMN_ATTN_OFF};
  static const int globals[][2] = {{0, HMN_SIM_COSINE}, {1, HMN_SIM_COSINE}, {1, HMN_SIM_DOT}};
  cr_assert_lt(i, (size_t)HMN_TEST_MODE_CASES);
  hmn_test_busy_config(cfg, 37, 13);
  /* Mixed radix, stochastic fastest: 4 x 3 x 3 x 2 x 2. */
  cfg->stochastic = (int32_t)(i % 2);
  cfg->phase_gate = (int32_t)(i / 2 % 2);
  cfg->global_attention = globals[i / 4 % 3][0];
  cfg->similarity = globals[i / 4 % 3][1];
  cfg->attention = attentions[i / 12 % 3];
  cfg->activation = activations[i / 36];
  *t = i % 4 == 3 ? ((uint64_t)1 << 32) + 5 : 1000 + i;
  snprintf(what, what_len,
           "activation %d attention %d global %d similarity %d gate %d stochastic %d",
           cfg->activation, cfg->attention, cfg->global_attention, cfg->similarity,
           cfg->phase_gate, cfg->stochastic);
}

size_t hmn_test_compare_steps(const hmn_config *cfg, const char *backend, uint32_t seed,
                              uint64_t t, const char *what) {
  hmn_test_pair pair;
  hmn_test_pair_create_on(cfg, backend, &pair);
  hmn_test_pair_randomize(&pair, seed, t);
  size_t flips = 0;
  for (int s = 0; s < 3; s++) {
    hmn_test_inputs in;
    hmn_test_inputs_make(cfg, seed * 7u + (uint32_t)s, s != 1, &in);
    flips += hmn_test_step_and_compare(&pair, &in.in, what);
    hmn_test_inputs_free(&in);
  }
  hmn_test_pair_destroy(&pair);
  return flips;
}

size_t hmn_test_compare_mode_case(const char *backend, size_t i) {
  hmn_config cfg;
  uint64_t t;
  char what[200];
  hmn_test_mode_case(i, &cfg, &t, what, sizeof what);
  char named[280];
  snprintf(named, sizeof named, "%s: mode case %zu (%s)", backend, i, what);
  return hmn_test_compare_steps(&cfg, backend, (uint32_t)i + 1u, t, named);
}

size_t hmn_test_compare_modes(const char *backend) {
  size_t flips = 0;
  for (size_t i = 0; i < HMN_TEST_MODE_CASES; i++) flips += hmn_test_compare_mode_case(backend, i);
  return flips;
}

size_t hmn_test_compare_odd_shape(const char *backend, size_t s) {
  static const int shapes[HMN_TEST_ODD_SHAPES][5] = {
      {1, 1, 1, 1, 1},    {1, 9, 2, 2, 3},   {11, 1, 4, 4, 1},
      {16, 5, 3, 3, 4},   {257, 131, 5, 3, 4}, {5, 3, 1, 3, 4},
      {33, 17, 7, 5, 6},  {33, 17, 16, 5, 6}, {1001, 3, 2, 2, 2}};
  cr_assert_lt(s, (size_t)HMN_TEST_ODD_SHAPES);
  hmn_config cfg;
  hmn_test_busy_config(&cfg, shapes[s][0], shapes[s][1]);
  cfg.delay_len = shapes[s][2];
  cfg.n_mod = shapes[s][3];
  cfg.d_ctx = shapes[s][4];
  cfg.astro_source = 0;
  char what[160];
  snprintf(what, sizeof what, "%s: odd shape %zu, %d inputs x %d neurons, D=%d, K=%d, D_c=%d",
           backend, s, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], shapes[s][4]);
  return hmn_test_compare_steps(&cfg, backend, 100u + (uint32_t)s, 77, what);
}

size_t hmn_test_compare_odd_shapes(const char *backend) {
  size_t flips = 0;
  for (size_t s = 0; s < HMN_TEST_ODD_SHAPES; s++) flips += hmn_test_compare_odd_shape(backend, s);
  return flips;
}

size_t hmn_test_long_run(const hmn_config *cfg, const char *backend, int steps, const char *what) {
  hmn_test_pair pair;
  hmn_test_pair_create_on(cfg, backend, &pair);
  hmn_task *task = NULL;
  hmn_error err;
  cr_assert_eq(hmn_task_create("stream", cfg, &task, &err), HMN_OK, "%s", err.message);
  size_t flips = 0, flip_steps = 0;
  for (int s = 0; s < steps; s++) {
    hmn_step_input in;
    cr_assert_eq(hmn_task_input(task, hmn_layer_step_count(pair.ref), &in, &err), HMN_OK);
    char step_what[160];
    snprintf(step_what, sizeof step_what, "%s, step %d", what, s);
    size_t f = hmn_test_step_and_compare(&pair, &in, step_what);
    if (f > 0) {
      flips += f;
      flip_steps++;
      void *w = read_array(pair.ref, HMN_ARRAY_W);
      write_array(pair.ocl, HMN_ARRAY_W, w);
      free(w);
    }
  }
  cr_log_info("%s: %d steps, %zu borderline flips in %zu steps (%zu decisions)", what, steps,
              flips, flip_steps, (size_t)steps * (size_t)cfg->n_in * (size_t)cfg->n_out);
  hmn_task_destroy(task);
  hmn_test_pair_destroy(&pair);
  return flips;
}

void hmn_test_oclgrind_clean(const char *command_args, const char *backend,
                             const char *oclgrind_flags, const char *const *configs,
                             size_t count) {
  const char *bin = getenv("HMN_BIN");
  const char *oclgrind = getenv("HMN_OCLGRIND");
  if (bin == NULL) cr_skip_test("HMN_BIN is not set (run the tests through ctest)");
  if (oclgrind == NULL || oclgrind[0] == '\0' || strstr(oclgrind, "NOTFOUND") != NULL)
    cr_skip_test("oclgrind not found (Debian package 'oclgrind')");
  /* Oclgrind simulates its own device: a fresh cache keeps binaries of
   * another driver out of its way. It preloads its runtime, which an ASan
   * build (HMN_SANITIZE) must be told to accept. */
  char cache[700], log[700];
  snprintf(cache, sizeof cache, "%s/oclgrind-cache", hmn_test_tmpdir());
  snprintf(log, sizeof log, "%s/oclgrind-%s.log", hmn_test_tmpdir(), backend);
  static const char *const reports[] = {"Kernel:",       "Invalid",   "Uninitialized",
                                        "uninitialized", "data race", "Oclgrind error",
                                        "Oclgrind warning"};
  for (size_t c = 0; c < count; c++) {
    char command[2048];
    snprintf(command, sizeof command,
             "ASAN_OPTIONS=verify_asan_link_order=0 HMN_CACHE_DIR='%s' HMN_DEVICE= '%s' "
             "--data-races --uninitialized %s '%s' %s --backend %s --quiet %s > '%s' 2>&1",
             cache, oclgrind, oclgrind_flags, bin, command_args, backend, configs[c], log);
    int status = hmn_test_shell(command);
    size_t len = 0;
    unsigned char *text = hmn_test_read_file(log, &len);
    cr_assert_not_null(text, "no output from: %s", command);
    char *output = malloc(len + 1);
    cr_assert_not_null(output);
    memcpy(output, text, len);
    output[len] = '\0';
    free(text);
    cr_log_info("oclgrind, %s: %s", backend, configs[c]);
    cr_assert_eq(status, 0, "%s\n%s", command, output);
    /* The run really went through Oclgrind's device. */
    cr_assert(strstr(output, "Oclgrind") != NULL, "not run on Oclgrind:\n%s", output);
    /* Its reports name the kernel, or the kind of error. */
    for (size_t r = 0; r < sizeof reports / sizeof reports[0]; r++)
      cr_assert(strstr(output, reports[r]) == NULL, "Oclgrind reported '%s' for %s:\n%.4000s",
                reports[r], configs[c], output);
    free(output);
  }
}
