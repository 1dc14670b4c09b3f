/*
 * ref.c - the golden model: one HMN step written straight from SPEC
 * section 3, one function per equation, named after it. It favours being
 * obviously right over being fast: transcendentals and reductions are
 * evaluated in double and rounded once to float.
 */
#include "internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Large beta times large inputs can overflow float; clamping the logits
 * keeps every softmax finite (the largest logit then gives exp(0) = 1). */
static float hmn__finite_logit(double s) {
  if (s > FLT_MAX) return FLT_MAX;
  if (s < -FLT_MAX) return -FLT_MAX;
  return (float)s;
}

/* Step 4: lambda = exp(-dt / tau). Exact exponential decay stays in (0, 1]
 * for any dt, where 1 - dt/tau would turn negative once dt > tau. */
float hmn__ref_decay(float dt, float tau) { return (float)exp(-(double)dt / (double)tau); }

/* Eq 1, the nonlinearity: z = f(a). */
float hmn__ref_activation(int activation, float a) {
  switch (activation) {
  case HMN_ACT_RELU:
    return a > 0.0f ? a : 0.0f;
  case HMN_ACT_SIGMOID:
    return (float)(1.0 / (1.0 + exp(-(double)a)));
  case HMN_ACT_TANH:
    return (float)tanh((double)a);
  default:
    return a;
  }
}

/* Eq 1, the noise: eps_j ~ N(0,1) by Box-Muller from one Philox block of
 * the noise stream, counter (t, j, noise). 1 - u1 lies in (0, 1], so the
 * logarithm is finite. */
float hmn__ref_gaussian(uint64_t seed, uint64_t t, uint32_t neuron) {
  uint32_t r[4];
  hmn_philox(seed, t, neuron, HMN_STREAM_NOISE, r);
  double u1 = hmn_uniform(r[0]), u2 = hmn_uniform(r[1]);
  double radius = sqrt(-2.0 * log(1.0 - u1));
  return (float)(radius * cos(HMN__TWO_PI * u2));
}

/* Eq 1, the drive: a_j = sum_i w_ji xhat_ji + b_j + sigma_n eps_j, where
 * `noise` is sigma_n eps_j. */
float hmn__ref_forward(const float *w_row, const float *xhat, int n_in, float b, float noise) {
  double sum = 0.0;
  for (int i = 0; i < n_in; i++) sum += (double)w_row[i] * (double)xhat[i];
  return (float)(sum + (double)b + (double)noise);
}

/* App. 10.1: c_j <- (1 - delta_c) c_j + delta_c z_j, and likewise h_i. */
float hmn__ref_ema(float old, float rate, float value) { return (1.0f - rate) * old + rate * value; }

/* Eq 2: psi <- lambda psi + kappa_ji, for the fast and the slow component. */
void hmn__ref_composite_trace(float *psi_f, float *psi_s, float lam_f, float lam_s, float kappa) {
  *psi_f = lam_f * *psi_f + kappa;
  *psi_s = lam_s * *psi_s + kappa;
}

/* Eq 2: e_ji = rho_f psi_f + rho_s psi_s. */
float hmn__ref_eligibility(float rho_f, float psi_f, float rho_s, float psi_s) {
  return rho_f * psi_f + rho_s * psi_s;
}

/* Eqs 10-11: s_ji = beta_a h_i c_j; alpha_j = softmax_i(s_j), computed
 * with the row maximum subtracted. */
void hmn__ref_local_attention(int mode, float beta, const float *h, float c_j, int n_in,
                              float *alpha) {
  if (mode == HMN_ATTN_OFF) {
    for (int i = 0; i < n_in; i++) alpha[i] = 1.0f;
    return;
  }
  float s_max = -FLT_MAX;
  for (int i = 0; i < n_in; i++) {
    alpha[i] = hmn__finite_logit((double)beta * (double)h[i] * (double)c_j);
    if (alpha[i] > s_max) s_max = alpha[i];
  }
  double denom = 0.0;
  for (int i = 0; i < n_in; i++) denom += exp((double)alpha[i] - (double)s_max);
  /* softmax_n scales by N_in so that uniform attention is 1, not 1/N_in. */
  double scale = mode == HMN_ATTN_SOFTMAX_N ? (double)n_in : 1.0;
  for (int i = 0; i < n_in; i++)
    alpha[i] = (float)(scale * exp((double)alpha[i] - (double)s_max) / denom);
}

/* Eq 6: r_k = sim(kappa_k, C_global): cosine, or dot product / sqrt(D_c).
 * A zero vector has no direction, so its cosine similarity is 0. */
float hmn__ref_similarity(int mode, const float *kappa_k, const float *ctx, int d_ctx) {
  double dot = 0.0, nk = 0.0, nc = 0.0;
  for (int d = 0; d < d_ctx; d++) {
    dot += (double)kappa_k[d] * (double)ctx[d];
    nk += (double)kappa_k[d] * (double)kappa_k[d];
    nc += (double)ctx[d] * (double)ctx[d];
  }
  if (mode == HMN_SIM_DOT) return (float)(dot / sqrt((double)d_ctx));
  if (nk == 0.0 || nc == 0.0) return 0.0f;
  return (float)(dot / (sqrt(nk) * sqrt(nc)));
}

/* Eqs 6-7: gamma = softmax_k(beta_g r), G = sum_k gamma_k w_k E_k; with
 * global attention off, G = sum_k w_k E_k. */
float hmn__ref_global_modulation(const hmn_config *cfg, const float *kappa, const float *w_k,
                                 const float *mod, const float *ctx) {
  int n_mod = cfg->n_mod;
  double g = 0.0;
  if (!cfg->global_attention) {
    for (int k = 0; k < n_mod; k++) g += (double)w_k[k] * (double)mod[k];
    return (float)g;
  }
  float logit[64];
  float l_max = -FLT_MAX;
  for (int k = 0; k < n_mod; k++) {
    float r = hmn__ref_similarity(cfg->similarity, kappa + (size_t)k * cfg->d_ctx, ctx, cfg->d_ctx);
    logit[k] = hmn__finite_logit((double)cfg->beta_global * (double)r);
    if (logit[k] > l_max) l_max = logit[k];
  }
  double denom = 0.0;
  for (int k = 0; k < n_mod; k++) denom += exp((double)logit[k] - (double)l_max);
  for (int k = 0; k < n_mod; k++) {
    double gamma = exp((double)logit[k] - (double)l_max) / denom;
    g += gamma * (double)w_k[k] * (double)mod[k];
  }
  return (float)g;
}

/* Step 6, astrocyte: A_j <- lambda_a A_j + k_a E_NE; returns
 * M_astro,j = tanh(A_j). */
float hmn__ref_astrocyte(float *astro_j, float decay, float gain, float e_ne) {
  *astro_j = decay * *astro_j + gain * e_ne;
  return (float)tanh((double)*astro_j);
}

/* Step 6, per neuron: G_j = s_j (G + lambda_astro M_astro,j). */
float hmn__ref_neuron_modulation(float sign_j, float g, float astro_lambda, float m_astro) {
  return sign_j * (g + astro_lambda * m_astro);
}

/* Eq 3: dw*_ji = (eta_local + eta_global G_j) etilde_ji. */
float hmn__ref_preliminary_update(float eta_local, float eta_global, float g_j, float e_tilde) {
  return (eta_local + eta_global * g_j) * e_tilde;
}

/* Eq 4: gate = max(0, cos(Phi(t) - phi_ji)), or 1 with the gate off. */
float hmn__ref_phase_gate(int enabled, float phase, float phi_ji) {
  if (!enabled) return 1.0f;
  double g = cos((double)phase - (double)phi_ji);
  return g > 0.0 ? (float)g : 0.0f;
}

/* Eq 5: p_ji = sigmoid(beta_p (|dw|| - theta_p)). */
float hmn__ref_apply_probability(float beta_p, float theta_p, float dw) {
  double x = (double)beta_p * ((double)fabsf(dw) - (double)theta_p);
  return (float)(1.0 / (1.0 + exp(-x)));
}

/* Eq 5: apply dw when u < p; always with stochastic application off. */
float hmn__ref_stochastic_apply(int enabled, float dw, float u, float p) {
  if (!enabled) return dw;
  return u < p ? dw : 0.0f;
}

/* Step 10: w <- clamp(w + dw, w_min, w_max), the only clamp of the step. */
float hmn__ref_clamp_weight(float w, float dw, float w_min, float w_max) {
  float v = w + dw;
  if (v < w_min) return w_min;
  if (v > w_max) return w_max;
  return v;
}

/* Step 11: b_j <- b_j + eta_b (z* - c_j). */
float hmn__ref_bias_homeostasis(float b, float eta_b, float target, float c_j) {
  return b + eta_b * (target - c_j);
}

/* Inputs are checked before anything changes, so a bad input leaves the
 * layer as it was. */
static int hmn__check_vector(const float *v, int n, const char *name, uint64_t t, hmn_error *err) {
  if (v == NULL) return hmn__fail(err, HMN_EINVAL, "step %llu: input '%s' is NULL",
                                  (unsigned long long)t, name);
  for (int i = 0; i < n; i++)
    if (!isfinite(v[i]))
      return hmn__fail(err, HMN_ENUMERIC, "step %llu: %s[%d] is not finite (%g)",
                       (unsigned long long)t, name, i, (double)v[i]);
  return HMN_OK;
}

int hmn__step_check_input(const hmn_config *cfg, const hmn_step_input *in, uint64_t t,
                          hmn_error *err) {
  int rc;
  if (in == NULL) return hmn__fail(err, HMN_EINVAL, "step %llu: no input", (unsigned long long)t);
  if ((rc = hmn__check_vector(in->x, cfg->n_in, "x", t, err)) != HMN_OK) return rc;
  if ((rc = hmn__check_vector(in->mod, cfg->n_mod, "E", t, err)) != HMN_OK) return rc;
  if ((rc = hmn__check_vector(in->ctx, cfg->d_ctx, "C_global", t, err)) != HMN_OK) return rc;
  if (in->phase != NULL && (rc = hmn__check_vector(in->phase, 1, "phase", t, err)) != HMN_OK)
    return rc;
  return HMN_OK;
}

/* Step 1: xhat_ji = x_i(t - tau_ji). Delay 0 reads x(t) itself, the
 * others the ring buffer: the same values as reading slot t mod D after
 * x(t) was pushed there, so eq 1 can run before the push (forward). */
static void hmn__ref_delayed_row(const hmn__state *st, const float *x, int j, float *xhat) {
  const hmn_config *cfg = &st->cfg;
  const uint8_t *tau = HMN__U8(st, TAU) + (size_t)j * cfg->n_in;
  const float *x_hist = HMN__F32(st, X_HIST);
  uint64_t d = (uint64_t)cfg->delay_len;
  for (int i = 0; i < cfg->n_in; i++) {
    if (tau[i] == 0) {
      xhat[i] = x[i];
      continue;
    }
    uint64_t slot = (st->t + d - tau[i]) % d;
    xhat[i] = x_hist[slot * (uint64_t)cfg->n_in + (uint64_t)i];
  }
}

/* Eq 1 for every neuron at step t with input x(t), weights and biases of
 * before this step's update: the one body that the fused step and the
 * forward half both run, so their z are the same bits. */
static void hmn__ref_eq1(const hmn__state *st, const float *x, float *xhat, float *z) {
  const hmn_config *cfg = &st->cfg;
  const float *w = HMN__F32(st, W), *b = HMN__F32(st, B);
  for (int j = 0; j < cfg->n_out; j++) {
    hmn__ref_delayed_row(st, x, j, xhat);
    float noise = cfg->noise_sigma * hmn__ref_gaussian(cfg->seed, st->t, (uint32_t)j);
    float a = hmn__ref_forward(w + (size_t)j * cfg->n_in, xhat, cfg->n_in, b[j], noise);
    z[j] = hmn__ref_activation(cfg->activation, a);
  }
}

/* SPEC section 8, the policy-gradient family: pi = softmax(z / T) over
 * the neurons, with the maximum subtracted. */
void hmn__ref_policy(const float *z, int n_out, float temperature, float *pi) {
  double z_max = z[0];
  for (int j = 1; j < n_out; j++)
    if (z[j] > z_max) z_max = z[j];
  double denom = 0.0;
  for (int j = 0; j < n_out; j++) denom += exp(((double)z[j] - z_max) / (double)temperature);
  for (int j = 0; j < n_out; j++)
    pi[j] = (float)(exp(((double)z[j] - z_max) / (double)temperature) / denom);
}

/* Step 4's kappa_ji: Hebbian xhat_ji z_j, or, for the policy rule,
 * xhat_ji (1[j = a] - pi_j) with `post` = 1[j = a] - pi_j. */
float hmn__ref_kappa(float xhat, float post) { return xhat * post; }

/* Section 8, pair STDP: kappa_ji = A+ r1_i z_j - A- o1_j x_i. r1 (tau+)
 * and o1 (tau-) hold the earlier spikes only, so a pre spike k steps
 * before a post spike gives A+ exp(-k dt / tau+), and the reverse order
 * -A- exp(-k dt / tau-). */
float hmn__ref_kappa_stdp(float a_plus, float a_minus, float r1, float o1, float x, float z) {
  return a_plus * r1 * z - a_minus * o1 * x;
}

/* Section 8, triplet STDP (Pfister & Gerstner 2006): LTP at a post spike
 * r1 (A2+ + A3+ o2), LTD at a pre spike o1 (A2- + A3- r2), with o2 and
 * r2 of before this step's spikes. */
float hmn__ref_kappa_triplet(const hmn_config *cfg, float r1, float r2, float o1, float o2,
                             float x, float z) {
  return z * r1 * (cfg->a2_plus + cfg->a3_plus * o2) - x * o1 * (cfg->a2_minus + cfg->a3_minus * r2);
}

/* Section 8, BCM: kappa_ji = xhat_ji z_j (z_j - theta_j). */
float hmn__ref_kappa_bcm(float xhat, float z, float theta) { return xhat * z * (z - theta); }

/* Heterosynaptic depression: a synapse whose input is silent (xhat = 0)
 * while its neuron is active loses ratio * z_j. */
float hmn__ref_hetero(float ratio, float xhat, float z) { return xhat == 0.0f ? -ratio * z : 0.0f; }

/* A spike-timing trace after its decay, meeting this step's spike s: all
 * to all adds it, nearest-neighbour replaces the trace by it. */
float hmn__ref_trace_spike(int pairing, float trace, float s) {
  if (pairing == HMN_PAIRING_NEAREST) return s != 0.0f ? s : trace;
  return trace + s;
}

/* The rate estimate nu_j <- lambda nu_j + (1 - lambda) z_j, lambda =
 * exp(-dt / tau_rate). */
float hmn__ref_rate(float nu, float lam, float z) { return lam * nu + (1.0f - lam) * z; }

/* BCM's sliding threshold: theta_j <- lambda theta_j + (1 - lambda)
 * nu_j^p, lambda = exp(-dt / tau_theta), clamped to [theta_min, theta_max]. */
float hmn__ref_bcm_theta(const hmn_config *cfg, float theta, float lam, float nu) {
  float v = lam * theta + (1.0f - lam) * (float)pow((double)fabsf(nu), (double)cfg->bcm_power);
  if (v < cfg->theta_min) return cfg->theta_min;
  if (v > cfg->theta_max) return cfg->theta_max;
  return v;
}

/* Synaptic scaling: the neuron's total factor S_j moves by
 * 1 + (1 - lambda) (nu* - nu_j) / nu*, lambda = exp(-dt / tau_scale),
 * and stays in [1 / scale_max, scale_max]. Returns the new S_j; the
 * weights are multiplied by new S_j / old S_j. */
float hmn__ref_scale(const hmn_config *cfg, float s, float lam, float nu) {
  float v = s * (1.0f + (1.0f - lam) * (cfg->scale_target - nu) / cfg->scale_target);
  float lo = 1.0f / cfg->scale_max;
  if (v < lo) return lo;
  if (v > cfg->scale_max) return cfg->scale_max;
  return v;
}

const char *hmn__rule_family_name(const hmn_config *cfg) {
  switch (cfg->rule) {
  case HMN_RULE_STDP:
    return "rule 'stdp'";
  case HMN_RULE_TRIPLET:
    return "rule 'triplet'";
  case HMN_RULE_BCM:
    return "rule 'bcm'";
  default:
    break;
  }
  if (cfg->hetero_ratio != 0.0f) return "heterosynaptic depression (hetero_ratio)";
  if (cfg->scaling) return "synaptic scaling (scaling = on)";
  return NULL;
}

/* Spike-timing traces, before kappa: every trace decays by one step. */
static void hmn__ref_traces_decay(hmn__state *st) {
  const hmn_config *cfg = &st->cfg;
  float *pre = HMN__F32(st, PRE_TRACE), *post = HMN__F32(st, POST_TRACE);
  float lp = hmn__ref_decay(cfg->dt, cfg->tau_plus), lx = hmn__ref_decay(cfg->dt, cfg->tau_x);
  float lm = hmn__ref_decay(cfg->dt, cfg->tau_minus), ly = hmn__ref_decay(cfg->dt, cfg->tau_y);
  for (int i = 0; i < cfg->n_in; i++) {
    pre[i] *= lp;
    pre[cfg->n_in + i] *= lx;
  }
  for (int j = 0; j < cfg->n_out; j++) {
    post[j] *= lm;
    post[cfg->n_out + j] *= ly;
  }
}

/* Spike-timing traces, after kappa: this step's spikes x_i(t), z_j(t). */
static void hmn__ref_traces_spike(hmn__state *st, const float *x, const float *z) {
  const hmn_config *cfg = &st->cfg;
  float *pre = HMN__F32(st, PRE_TRACE), *post = HMN__F32(st, POST_TRACE);
  for (int i = 0; i < cfg->n_in; i++) {
    pre[i] = hmn__ref_trace_spike(cfg->pairing, pre[i], x[i]);
    pre[cfg->n_in + i] = hmn__ref_trace_spike(cfg->pairing, pre[cfg->n_in + i], x[i]);
  }
  for (int j = 0; j < cfg->n_out; j++) {
    post[j] = hmn__ref_trace_spike(cfg->pairing, post[j], z[j]);
    post[cfg->n_out + j] = hmn__ref_trace_spike(cfg->pairing, post[cfg->n_out + j], z[j]);
  }
}

/* Step 4's kappa_ji of every family. */
static float hmn__ref_family_kappa(const hmn__state *st, int i, int j, float xhat, float x,
                                   float post) {
  const hmn_config *cfg = &st->cfg;
  const float *pre_tr = HMN__F32(st, PRE_TRACE), *post_tr = HMN__F32(st, POST_TRACE);
  float kappa;
  switch (cfg->rule) {
  case HMN_RULE_STDP:
    kappa = hmn__ref_kappa_stdp(cfg->a_plus, cfg->a_minus, pre_tr[i], post_tr[j], x, post);
    break;
  case HMN_RULE_TRIPLET:
    kappa = hmn__ref_kappa_triplet(cfg, pre_tr[i], pre_tr[cfg->n_in + i], post_tr[j],
                                   post_tr[cfg->n_out + j], x, post);
    break;
  case HMN_RULE_BCM:
    kappa = hmn__ref_kappa_bcm(xhat, post, HMN__F32(st, THETA)[j]);
    break;
  default:
    kappa = hmn__ref_kappa(xhat, post);
    break;
  }
  if (cfg->hetero_ratio != 0.0f) kappa += hmn__ref_hetero(cfg->hetero_ratio, xhat, post);
  return kappa;
}

int hmn__ref_forward_z(hmn__state *st, const float *x, float *z, hmn_error *err) {
  float *xhat = hmn__calloc((size_t)st->cfg.n_in, sizeof(float));
  if (xhat == NULL)
    return hmn__fail(err, HMN_ENOMEM, "step %llu: out of memory for a scratch row",
                     (unsigned long long)st->t);
  hmn__ref_eq1(st, x, xhat, z);
  hmn__free(xhat);
  return HMN_OK;
}

static int hmn__ref_step_full(hmn__state *st, const hmn_step_input *in, int32_t action,
                              const float *z_clamp, hmn_error *err) {
  const hmn_config *cfg = &st->cfg;
  int n_in = cfg->n_in, n_out = cfg->n_out;
  int rc = hmn__step_check_input(cfg, in, st->t, err);
  if (rc != HMN_OK) return rc;
  if (z_clamp != NULL && (rc = hmn__check_vector(z_clamp, n_out, "z_clamp", st->t, err)) != HMN_OK)
    return rc;
  bool policy = cfg->rule == HMN_RULE_POLICY;
  if (policy && (action < 0 || action >= n_out))
    return hmn__fail(err, HMN_EINVAL,
                     "step %llu: rule policy needs the action taken (0 .. %d), got %d; step "
                     "with hmn_layer_forward, then hmn_layer_learn",
                     (unsigned long long)st->t, n_out - 1, (int)action);
  float *xhat = hmn__calloc((size_t)n_in, sizeof(float));
  float *alpha = hmn__calloc((size_t)n_in, sizeof(float));
  float *post = hmn__calloc((size_t)n_out, sizeof(float));
  if (xhat == NULL || alpha == NULL || post == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "step %llu: out of memory for scratch rows",
                   (unsigned long long)st->t);
    goto done;
  }

  float *w = HMN__F32(st, W), *psi_f = HMN__F32(st, PSI_F), *psi_s = HMN__F32(st, PSI_S);
  float *phi = HMN__F32(st, PHI), *b = HMN__F32(st, B), *c = HMN__F32(st, C);
  float *h = HMN__F32(st, H), *z = HMN__F32(st, Z), *astro = HMN__F32(st, ASTRO);
  const float *sign = HMN__F32(st, SIGN);
  uint64_t t = st->t;

  /* Step 2, with the weights of before this step's update; a clamp
   * imposes z(t). */
  hmn__ref_eq1(st, in->x, xhat, z);
  if (z_clamp != NULL) memcpy(z, z_clamp, (size_t)n_out * sizeof(float));
  bool timing = cfg->rule == HMN_RULE_STDP || cfg->rule == HMN_RULE_TRIPLET;
  bool rated = cfg->rule == HMN_RULE_BCM || cfg->scaling;
  if (timing) hmn__ref_traces_decay(st);
  /* Step 1: push x(t). */
  memcpy(HMN__F32(st, X_HIST) + (t % (uint64_t)cfg->delay_len) * (uint64_t)n_in, in->x,
         (size_t)n_in * sizeof(float));
  float phase = in->phase != NULL ? *in->phase : hmn__oscillator_phase(cfg, t);
  /* The postsynaptic factor of kappa: z_j, or 1[j = a] - pi_j. */
  if (policy) {
    hmn__ref_policy(z, n_out, cfg->temperature, post);
    for (int j = 0; j < n_out; j++) post[j] = (j == action ? 1.0f : 0.0f) - post[j];
  } else {
    memcpy(post, z, (size_t)n_out * sizeof(float));
  }
  /* Step 3. */
  for (int j = 0; j < n_out; j++) c[j] = hmn__ref_ema(c[j], cfg->ctx_rate, z[j]);
  for (int i = 0; i < n_in; i++) h[i] = hmn__ref_ema(h[i], cfg->emb_rate, in->x[i]);

  /* Step 6, the part shared by all neurons. */
  float g = hmn__ref_global_modulation(cfg, HMN__F32(st, KAPPA), HMN__F32(st, W_K), in->mod,
                                       in->ctx);
  float lam_f = hmn__ref_decay(cfg->dt, cfg->tau_fast);
  float lam_s = hmn__ref_decay(cfg->dt, cfg->tau_slow);
  float lam_scale = hmn__ref_decay(cfg->dt, cfg->tau_scale);
  float *rate = HMN__F32(st, RATE), *scale = HMN__F32(st, SCALE);
  uint64_t applied = 0, candidates = 0;
  double g_sum = 0.0;

  for (int j = 0; j < n_out; j++) {
    float m_astro = hmn__ref_astrocyte(&astro[j], cfg->astro_decay, cfg->astro_gain,
                                       in->mod[cfg->astro_source]);
    float g_j = hmn__ref_neuron_modulation(sign[j], g, cfg->astro_lambda, m_astro);
    g_sum += g_j;
    hmn__ref_delayed_row(st, in->x, j, xhat);
    hmn__ref_local_attention(cfg->attention, cfg->beta_attn, h, c[j], n_in, alpha);
    /* Synaptic scaling multiplies the row by new S_j / old S_j. */
    float row_factor = 1.0f;
    if (cfg->scaling) {
      float s_new = hmn__ref_scale(cfg, scale[j], lam_scale, rate[j]);
      row_factor = s_new / scale[j];
      scale[j] = s_new;
    }
    for (int i = 0; i < n_in; i++) {
      size_t e = (size_t)j * n_in + i;
      /* Step 4. */
      hmn__ref_composite_trace(&psi_f[e], &psi_s[e], lam_f, lam_s,
                               hmn__ref_family_kappa(st, i, j, xhat[i], in->x[i], post[j]));
      float elig = hmn__ref_eligibility(cfg->rho_fast, psi_f[e], cfg->rho_slow, psi_s[e]);
      /* Steps 5, 7, 8. */
      float dw = hmn__ref_preliminary_update(st->eta_local, st->eta_global, g_j, alpha[i] * elig);
      dw *= hmn__ref_phase_gate(cfg->phase_gate, phase, phi[e]);
      if (dw != 0.0f) candidates++;
      /* Step 9: one Philox block of the stochastic stream serves the 4
       * synapses 4*(e/4) .. 4*(e/4)+3. */
      if (cfg->stochastic) {
        uint32_t r[4];
        hmn_philox(cfg->seed, t, (uint32_t)(e >> 2), HMN_STREAM_STOCHASTIC, r);
        float u = hmn_uniform(r[e & 3]);
        float p = hmn__ref_apply_probability(cfg->beta_p, cfg->theta_p, dw);
        dw = hmn__ref_stochastic_apply(1, dw, u, p);
      }
      if (dw != 0.0f) applied++;
      /* Step 10. */
      float w_old = cfg->scaling ? w[e] * row_factor : w[e];
      w[e] = hmn__ref_clamp_weight(w_old, dw, cfg->w_min, cfg->w_max);
    }
  }
  /* The families' own state, from this step's spikes and rates. */
  if (timing) hmn__ref_traces_spike(st, in->x, z);
  if (rated) {
    float lam_rate = hmn__ref_decay(cfg->dt, cfg->tau_rate);
    float lam_theta = hmn__ref_decay(cfg->dt, cfg->tau_theta);
    float *theta = HMN__F32(st, THETA);
    for (int j = 0; j < n_out; j++) {
      rate[j] = hmn__ref_rate(rate[j], lam_rate, z[j]);
      if (cfg->rule == HMN_RULE_BCM) theta[j] = hmn__ref_bcm_theta(cfg, theta[j], lam_theta, rate[j]);
    }
  }
  /* Step 11. */
  for (int j = 0; j < n_out; j++)
    b[j] = hmn__ref_bias_homeostasis(b[j], cfg->bias_rate, cfg->target_rate, c[j]);

  /* Step 12. */
  st->t = t + 1;
  st->stats.t = st->t;
  st->stats.applied = applied;
  st->stats.candidates = candidates;
  st->stats.g_mean = (float)(g_sum / n_out);
  rc = HMN_OK;
done:
  hmn__free(xhat);
  hmn__free(alpha);
  hmn__free(post);
  return rc;
}

int hmn__ref_step_action(hmn__state *st, const hmn_step_input *in, int32_t action,
                         hmn_error *err) {
  return hmn__ref_step_full(st, in, action, NULL, err);
}

int hmn__ref_step_clamped(hmn__state *st, const hmn_step_input *in, const float *z_clamp,
                          hmn_error *err) {
  return hmn__ref_step_full(st, in, -1, z_clamp, err);
}

int hmn__ref_step(hmn__state *st, const hmn_step_input *in, hmn_error *err) {
  return hmn__ref_step_action(st, in, -1, err);
}

static int hmn__ref_init(hmn_layer *layer, hmn_error *err) {
  (void)layer;
  (void)err;
  return HMN_OK;
}

static void hmn__ref_fini(hmn_layer *layer) { (void)layer; }

static int hmn__ref_backend_step(hmn_layer *layer, const hmn_step_input *in, hmn_error *err) {
  return hmn__ref_step(&layer->st, in, err);
}

/* The host copy is the ref backend's only copy, so syncing is a no-op. */
static int hmn__ref_backend_forward(hmn_layer *layer, const float *x, float *z, hmn_error *err) {
  return hmn__ref_forward_z(&layer->st, x, z, err);
}

static int hmn__ref_backend_learn(hmn_layer *layer, const hmn_step_input *in, int32_t action,
                                  hmn_error *err) {
  return hmn__ref_step_action(&layer->st, in, action, err);
}

static int hmn__ref_backend_step_clamped(hmn_layer *layer, const hmn_step_input *in,
                                         const float *z_clamp, size_t count, hmn_error *err) {
  int rc = HMN_OK;
  size_t n_out = (size_t)layer->st.cfg.n_out;
  for (size_t k = 0; k < count && rc == HMN_OK; k++)
    rc = hmn__ref_step_clamped(&layer->st, &in[k], z_clamp + k * n_out, err);
  return rc;
}

static int hmn__ref_sync(hmn_layer *layer, hmn_array which, hmn_error *err) {
  (void)layer;
  (void)which;
  (void)err;
  return HMN_OK;
}

const hmn__backend_ops hmn__backend_ref = {
    .name = "ref",
    .init = hmn__ref_init,
    .fini = hmn__ref_fini,
    .step = hmn__ref_backend_step,
    .step_clamped = hmn__ref_backend_step_clamped,
    .forward = hmn__ref_backend_forward,
    .learn = hmn__ref_backend_learn,
    .pull = hmn__ref_sync,
    .push = hmn__ref_sync,
};
