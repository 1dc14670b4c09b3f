/*
 * protocol.c - the classic plasticity experiments run on a layer: pairing
 * protocols with imposed pre and post spikes (stdp-window,
 * triplet-frequency), BCM's rate dependence and sliding threshold (bcm,
 * bcm-theta), and homeostatic synaptic scaling (scaling). Each returns a
 * table (one row per condition) and a summary of what was fitted or found.
 *
 * The layers are built so that one step's weight change is exactly the
 * family's kappa: eta_local 1, eta_global 0, rho_fast 1 with a fast trace
 * that forgets in one step, rho_slow 0, and no attention, gate, noise or
 * stochastic application. Times are in ms, one step is cfg->dt ms.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define HMN__PAIRINGS 60

static const char *const hmn__protocol_names[] = {"stdp-window", "triplet-frequency", "bcm",
                                                  "bcm-theta", "scaling"};
#define HMN__PROTOCOL_COUNT (sizeof hmn__protocol_names / sizeof hmn__protocol_names[0])

size_t hmn_protocol_count(void) { return HMN__PROTOCOL_COUNT; }
const char *hmn_protocol_name_at(size_t index) {
  return index < HMN__PROTOCOL_COUNT ? hmn__protocol_names[index] : NULL;
}

void hmn_protocol_result_free(hmn_protocol_result *res) {
  if (res == NULL) return;
  hmn__free(res->values);
  res->values = NULL;
  res->n_rows = 0;
}

/* The base config with everything that is not the family turned off. */
static hmn_config hmn__protocol_config(const hmn_config *base, int rule, int n_in, int n_out) {
  hmn_config cfg = *base;
  cfg.rule = rule;
  cfg.n_in = n_in;
  cfg.n_out = n_out;
  cfg.n_mod = 1;
  cfg.d_ctx = 1;
  cfg.delay_len = 1;
  cfg.activation = HMN_ACT_LINEAR;
  cfg.noise_sigma = 0.0f;
  cfg.bias_rate = 0.0f;
  cfg.inhibitory_fraction = 0.0f;
  cfg.attention = HMN_ATTN_OFF;
  cfg.global_attention = 0;
  cfg.astro_lambda = 0.0f;
  cfg.astro_source = 0;
  cfg.eta_local = 1.0f;
  cfg.eta_global = 0.0f;
  cfg.rho_fast = 1.0f;
  cfg.rho_slow = 0.0f;
  cfg.tau_fast = 1e-6f * cfg.dt; /* lambda_f = exp(-1e6) = 0 */
  cfg.w_min = -100.0f;
  cfg.w_max = 100.0f;
  cfg.w_init = 0.0f;
  cfg.phase_gate = 0;
  cfg.stochastic = 0;
  cfg.hetero_ratio = 0.0f;
  cfg.scaling = 0;
  return cfg;
}

static int hmn__protocol_layer(const hmn_config *cfg, const char *backend, hmn_layer **out,
                               const char *name, hmn_error *err) {
  int rc = hmn_config_validate(cfg, err);
  if (rc == HMN_OK) rc = hmn_layer_create(cfg, backend, out, err);
  if (rc != HMN_OK) {
    hmn_error inner = *err;
    return hmn__fail(err, rc, "protocol %s: %s", name, inner.message);
  }
  return HMN_OK;
}

/* Steps of a time in ms. */
static long hmn__steps(const hmn_config *cfg, double ms) { return lround(ms / (double)cfg->dt); }

/* Clamped steps, queued and handed to the layer HMN__BATCH at a time, so
 * that a device backend runs several in one launch. The protocols' layers
 * have at most HMN__BATCH_WIDTH inputs and neurons. */
#define HMN__BATCH 64
#define HMN__BATCH_WIDTH 2
typedef struct {
  hmn_layer *layer;
  int n_in, n_out;
  size_t queued;
  float x[HMN__BATCH][HMN__BATCH_WIDTH], z[HMN__BATCH * HMN__BATCH_WIDTH];
  float mod, ctx;
  hmn_step_input in[HMN__BATCH];
} hmn__batch;

static void hmn__batch_init(hmn__batch *b, hmn_layer *layer, const hmn_config *cfg) {
  memset(b, 0, sizeof *b);
  b->layer = layer;
  b->n_in = cfg->n_in;
  b->n_out = cfg->n_out;
}

/* Run the queued steps. */
static int hmn__batch_flush(hmn__batch *b, hmn_error *err) {
  for (size_t k = 0; k < b->queued; k++)
    b->in[k] = (hmn_step_input){b->x[k], &b->mod, &b->ctx, NULL};
  size_t n = b->queued;
  b->queued = 0;
  return n > 0 ? hmn__layer_step_clamped_many(b->layer, b->in, b->z, n, err) : HMN_OK;
}

/* Queue one step with inputs x and imposed z. */
static int hmn__batch_step(hmn__batch *b, const float *x, const float *z, hmn_error *err) {
  memcpy(b->x[b->queued], x, (size_t)b->n_in * sizeof(float));
  memcpy(b->z + b->queued * (size_t)b->n_out, z, (size_t)b->n_out * sizeof(float));
  b->queued++;
  return b->queued == HMN__BATCH ? hmn__batch_flush(b, err) : HMN_OK;
}

/* 60 pairings of one pre spike (input 0) and one post spike (neuron 0,
 * clamped) `delta_ms` after it (before it when negative), one pairing
 * every `period_ms`; returns the change of w_00. */
static int hmn__pairing_run(const hmn_config *cfg, const char *backend, double delta_ms,
                            double period_ms, double *dw, hmn_error *err) {
  hmn_layer *layer = NULL;
  int rc = hmn__protocol_layer(cfg, backend, &layer, "pairing", err);
  if (rc != HMN_OK) return rc;
  long delta = hmn__steps(cfg, delta_ms), period = hmn__steps(cfg, period_ms);
  long lead = hmn__steps(cfg, 200.0), start = lead + (delta < 0 ? -delta : 0);
  long total = start + HMN__PAIRINGS * period + lead;
  float x = 0.0f, z = 0.0f, w0 = 0.0f, w1 = 0.0f;
  hmn__batch batch;
  hmn__batch_init(&batch, layer, cfg);
  for (long s = 0; s < total && rc == HMN_OK; s++) {
    long k = s - start;
    bool pre = k >= 0 && k % period == 0 && k / period < HMN__PAIRINGS;
    long kp = s - start - delta;
    bool post = kp >= 0 && kp % period == 0 && kp / period < HMN__PAIRINGS;
    x = pre ? 1.0f : 0.0f;
    z = post ? 1.0f : 0.0f;
    rc = hmn__batch_step(&batch, &x, &z, err);
  }
  if (rc == HMN_OK) rc = hmn__batch_flush(&batch, err);
  if (rc == HMN_OK) rc = hmn_layer_read(layer, HMN_ARRAY_W, &w1, sizeof w1, err);
  hmn_layer_destroy(layer);
  *dw = (double)w1 - (double)w0;
  return rc;
}

static int hmn__result_alloc(hmn_protocol_result *res, const char *name, size_t rows, int cols,
                             const char *const *columns, hmn_error *err) {
  memset(res, 0, sizeof *res);
  res->values = hmn__calloc(rows * (size_t)cols, sizeof(double));
  if (res->values == NULL)
    return hmn__fail(err, HMN_ENOMEM, "protocol %s: out of memory for %zu rows", name, rows);
  snprintf(res->name, sizeof res->name, "%s", name);
  res->n_rows = rows;
  res->n_cols = cols;
  for (int c = 0; c < cols; c++) snprintf(res->columns[c], sizeof res->columns[c], "%s", columns[c]);
  return HMN_OK;
}

/* Least squares of ln|y| against |x| over the points of one sign:
 * |y| = A exp(-|x| / tau). */
static int hmn__fit_exponential(const double *x, const double *y, size_t n, int sign, double *amp,
                                double *tau) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  size_t m = 0;
  for (size_t k = 0; k < n; k++) {
    if (x[k] * sign <= 0 || y[k] * sign <= 0) continue;
    double u = fabs(x[k]), v = log(fabs(y[k]));
    sx += u;
    sy += v;
    sxx += u * u;
    sxy += u * v;
    m++;
  }
  if (m < 2) return -1;
  double slope = ((double)m * sxy - sx * sy) / ((double)m * sxx - sx * sx);
  double icpt = (sy - slope * sx) / (double)m;
  *tau = -1.0 / slope;
  *amp = exp(icpt);
  return 0;
}

static int hmn__protocol_stdp_window(const hmn_config *base, const char *backend,
                                     hmn_protocol_result *res, hmn_error *err) {
  int rule = base->rule == HMN_RULE_TRIPLET ? HMN_RULE_TRIPLET : HMN_RULE_STDP;
  hmn_config cfg = hmn__protocol_config(base, rule, 1, 1);
  static const char *const cols[] = {"dt_ms", "dw"};
  size_t rows = 41;
  int rc = hmn__result_alloc(res, "stdp-window", rows, 2, cols, err);
  if (rc != HMN_OK) return rc;
  double xs[41], ys[41];
  for (size_t r = 0; r < rows && rc == HMN_OK; r++) {
    double delta = -100.0 + 5.0 * (double)r;
    rc = hmn__pairing_run(&cfg, backend, delta, 1000.0, &ys[r], err);
    xs[r] = delta;
    res->values[r * 2] = delta;
    res->values[r * 2 + 1] = ys[r];
  }
  if (rc != HMN_OK) {
    hmn_protocol_result_free(res);
    return rc;
  }
  double ap = 0, tp = 0, am = 0, tm = 0;
  int ok_p = hmn__fit_exponential(xs, ys, rows, 1, &ap, &tp);
  int ok_m = hmn__fit_exponential(xs, ys, rows, -1, &am, &tm);
  /* The fit sees 60 pairings' change; the amplitudes are per pairing. */
  res->fit[0] = ok_p == 0 ? ap / HMN__PAIRINGS : NAN;
  res->fit[1] = ok_p == 0 ? tp : NAN;
  res->fit[2] = ok_m == 0 ? am / HMN__PAIRINGS : NAN;
  res->fit[3] = ok_m == 0 ? tm : NAN;
  res->n_fit = 4;
  float cp = rule == HMN_RULE_STDP ? cfg.a_plus : cfg.a2_plus;
  float cm = rule == HMN_RULE_STDP ? cfg.a_minus : cfg.a2_minus;
  snprintf(res->summary, sizeof res->summary,
           "rule %s, %d pairings at 1 Hz\n"
           "fit  A+ = %.5g  tau+ = %.4g ms   (configured A+ = %.5g, tau_plus = %.4g ms)\n"
           "fit  A- = %.5g  tau- = %.4g ms   (configured A- = %.5g, tau_minus = %.4g ms)\n",
           rule == HMN_RULE_STDP ? "stdp" : "triplet", HMN__PAIRINGS, res->fit[0], res->fit[1],
           (double)cp, (double)cfg.tau_plus, res->fit[2], res->fit[3], (double)cm,
           (double)cfg.tau_minus);
  return HMN_OK;
}

/* Pfister & Gerstner 2006, Table 4, visual cortex (Sjostrom et al. 2001),
 * the full model: all-to-all and nearest-spike sets. */
void hmn_protocol_triplet_visual_cortex(hmn_config *cfg, int pairing) {
  cfg->rule = HMN_RULE_TRIPLET;
  cfg->pairing = pairing;
  cfg->tau_plus = 16.8f;
  cfg->tau_minus = 33.7f;
  if (pairing == HMN_PAIRING_NEAREST) {
    cfg->tau_x = 714.0f;
    cfg->tau_y = 40.0f;
    cfg->a2_plus = 8.8e-11f;
    cfg->a3_plus = 5.3e-2f;
    cfg->a2_minus = 6.6e-3f;
    cfg->a3_minus = 3.1e-3f;
  } else {
    cfg->tau_x = 101.0f;
    cfg->tau_y = 125.0f;
    cfg->a2_plus = 5e-10f;
    cfg->a3_plus = 6.2e-3f;
    cfg->a2_minus = 7e-3f;
    cfg->a3_minus = 2.3e-4f;
  }
}

static int hmn__protocol_triplet_frequency(const hmn_config *base, const char *backend,
                                           hmn_protocol_result *res, hmn_error *err) {
  static const double freq[] = {0.1, 1, 5, 10, 20, 30, 40, 50};
  static const char *const cols[] = {"freq_hz", "all_pre_post", "all_post_pre",
                                     "nearest_pre_post", "nearest_post_pre"};
  size_t rows = sizeof freq / sizeof freq[0];
  int rc = hmn__result_alloc(res, "triplet-frequency", rows, 5, cols, err);
  if (rc != HMN_OK) return rc;
  for (size_t r = 0; r < rows && rc == HMN_OK; r++) {
    res->values[r * 5] = freq[r];
    for (int p = 0; p < 2 && rc == HMN_OK; p++) {
      hmn_config cfg = hmn__protocol_config(base, HMN_RULE_TRIPLET, 1, 1);
      hmn_protocol_triplet_visual_cortex(&cfg, p == 0 ? HMN_PAIRING_ALL : HMN_PAIRING_NEAREST);
      for (int o = 0; o < 2 && rc == HMN_OK; o++)
        rc = hmn__pairing_run(&cfg, backend, o == 0 ? 10.0 : -10.0, 1000.0 / freq[r],
                              &res->values[r * 5 + 1 + 2 * p + o], err);
    }
  }
  if (rc != HMN_OK) {
    hmn_protocol_result_free(res);
    return rc;
  }
  const double *lo = &res->values[0], *hi = &res->values[(rows - 1) * 5];
  snprintf(res->summary, sizeof res->summary,
           "Pfister & Gerstner 2006 visual-cortex sets, %d pairings at dt = +-10 ms\n"
           "all-to-all: 0.1 Hz  pre-post %+.4f  post-pre %+.4f;  50 Hz  pre-post %+.4f  "
           "post-pre %+.4f\n"
           "nearest:    0.1 Hz  pre-post %+.4f  post-pre %+.4f;  50 Hz  pre-post %+.4f  "
           "post-pre %+.4f\n",
           HMN__PAIRINGS, lo[1], lo[2], hi[1], hi[2], lo[3], lo[4], hi[3], hi[4]);
  return HMN_OK;
}

/* One input at x = 1, one neuron clamped at `rate` for `steps` steps,
 * theta fixed at `theta`: the change of w. */
static int hmn__bcm_run(const hmn_config *cfg, const char *backend, double rate, long steps,
                        double *dw, hmn_error *err) {
  hmn_layer *layer = NULL;
  int rc = hmn__protocol_layer(cfg, backend, &layer, "bcm", err);
  if (rc != HMN_OK) return rc;
  float x = 1.0f, z = (float)rate, w = 0.0f;
  hmn__batch batch;
  hmn__batch_init(&batch, layer, cfg);
  for (long s = 0; s < steps && rc == HMN_OK; s++) rc = hmn__batch_step(&batch, &x, &z, err);
  if (rc == HMN_OK) rc = hmn__batch_flush(&batch, err);
  if (rc == HMN_OK) rc = hmn_layer_read(layer, HMN_ARRAY_W, &w, sizeof w, err);
  hmn_layer_destroy(layer);
  *dw = w;
  return rc;
}

static int hmn__protocol_bcm(const hmn_config *base, const char *backend,
                             hmn_protocol_result *res, hmn_error *err) {
  static const double theta[] = {0.25, 0.5, 0.75};
  static const char *const cols[] = {"rate", "dw_theta_0.25", "dw_theta_0.5", "dw_theta_0.75"};
  size_t rows = 21;
  int rc = hmn__result_alloc(res, "bcm", rows, 4, cols, err);
  if (rc != HMN_OK) return rc;
  for (size_t r = 0; r < rows && rc == HMN_OK; r++) {
    double rate = 0.05 * (double)r;
    res->values[r * 4] = rate;
    for (int k = 0; k < 3 && rc == HMN_OK; k++) {
      hmn_config cfg = hmn__protocol_config(base, HMN_RULE_BCM, 1, 1);
      cfg.theta_init = (float)theta[k];
      cfg.theta_min = 0.0f;
      cfg.theta_max = 10.0f;
      cfg.tau_theta = 1e12f; /* theta held: lambda_theta = 1 */
      rc = hmn__bcm_run(&cfg, backend, rate, 100, &res->values[r * 4 + 1 + k], err);
    }
  }
  if (rc != HMN_OK) {
    hmn_protocol_result_free(res);
    return rc;
  }
  /* The crossover of each curve: where dw turns from negative to
   * positive, by linear interpolation. */
  int len = snprintf(res->summary, sizeof res->summary, "100 steps at x = 1, theta held\n");
  for (int k = 0; k < 3; k++) {
    double cross = NAN;
    for (size_t r = 1; r + 1 < rows; r++) {
      double a = res->values[r * 4 + 1 + k], b = res->values[(r + 1) * 4 + 1 + k];
      if (a < 0 && b >= 0) {
        double ra = res->values[r * 4], rb = res->values[(r + 1) * 4];
        cross = ra + (rb - ra) * (-a) / (b - a);
        break;
      }
    }
    res->fit[k] = cross;
    if (len >= 0 && (size_t)len < sizeof res->summary)
      len += snprintf(res->summary + len, sizeof res->summary - (size_t)len,
                      "theta = %.2f: dw crosses 0 at rate %.4f\n", theta[k], cross);
  }
  res->n_fit = 3;
  return HMN_OK;
}

static int hmn__protocol_bcm_theta(const hmn_config *base, const char *backend,
                                   hmn_protocol_result *res, hmn_error *err) {
  static const char *const cols[] = {"t_ms", "z", "nu", "theta", "nu_pow_p"};
  hmn_config cfg = hmn__protocol_config(base, HMN_RULE_BCM, 1, 1);
  cfg.eta_local = 0.0f; /* the threshold alone */
  long phase = 3000, every = 25;
  size_t rows = (size_t)(2 * phase / every);
  int rc = hmn__result_alloc(res, "bcm-theta", rows, 5, cols, err);
  if (rc != HMN_OK) return rc;
  hmn_layer *layer = NULL;
  rc = hmn__protocol_layer(&cfg, backend, &layer, "bcm-theta", err);
  float x = 1.0f, z = 0.0f;
  hmn__batch batch;
  hmn__batch_init(&batch, layer, &cfg);
  size_t row = 0;
  for (long s = 0; s < 2 * phase && rc == HMN_OK; s++) {
    z = s < phase ? 0.8f : 0.3f;
    rc = hmn__batch_step(&batch, &x, &z, err);
    if (rc == HMN_OK && (s + 1) % every == 0 && row < rows) {
      float nu = 0.0f, th = 0.0f;
      rc = hmn__batch_flush(&batch, err);
      if (rc == HMN_OK) rc = hmn_layer_read(layer, HMN_ARRAY_RATE, &nu, sizeof nu, err);
      if (rc == HMN_OK) rc = hmn_layer_read(layer, HMN_ARRAY_THETA, &th, sizeof th, err);
      double *v = &res->values[row * 5];
      v[0] = (double)(s + 1) * (double)cfg.dt;
      v[1] = z;
      v[2] = nu;
      v[3] = th;
      v[4] = pow(fabs((double)nu), (double)cfg.bcm_power);
      row++;
    }
  }
  hmn_layer_destroy(layer);
  if (rc != HMN_OK) {
    hmn_protocol_result_free(res);
    return rc;
  }
  const double *mid = &res->values[(rows / 2 - 1) * 5], *end = &res->values[(rows - 1) * 5];
  res->fit[0] = mid[3];
  res->fit[1] = end[3];
  res->n_fit = 2;
  snprintf(res->summary, sizeof res->summary,
           "z = 0.8 for %ld steps, then 0.3 (tau_rate %.4g, tau_theta %.4g, p %.3g)\n"
           "theta = %.4f after the first phase (nu^p = %.4f), %.4f after the second (nu^p = "
           "%.4f)\n",
           phase, (double)cfg.tau_rate, (double)cfg.tau_theta, (double)cfg.bcm_power, mid[3],
           mid[4], end[3], end[4]);
  return HMN_OK;
}

static int hmn__protocol_scaling(const hmn_config *base, const char *backend,
                                 hmn_protocol_result *res, hmn_error *err) {
  static const char *const cols[] = {"t_ms", "w_high", "w_low", "nu_high", "nu_low"};
  /* Neuron 0 hears input 0 only, neuron 1 input 1 only; with w = 0.5
   * they fire at 0.15 and 0.06 around a target of 0.1. */
  hmn_config cfg = hmn__protocol_config(base, HMN_RULE_HEBBIAN, 2, 2);
  cfg.eta_local = 0.0f;
  cfg.scaling = 1;
  cfg.scale_target = 0.1f;
  enum { every = 500 };
  long steps = 50000;
  size_t rows = (size_t)(steps / every) + 1;
  int rc = hmn__result_alloc(res, "scaling", rows, 5, cols, err);
  if (rc != HMN_OK) return rc;
  hmn_layer *layer = NULL;
  rc = hmn__protocol_layer(&cfg, backend, &layer, "scaling", err);
  float w[4] = {0.5f, 0.0f, 0.0f, 0.5f}, x[2] = {0.3f, 0.12f}, mod = 0.0f, ctx = 0.0f;
  if (rc == HMN_OK) rc = hmn_layer_write(layer, HMN_ARRAY_W, w, sizeof w, err);
  /* The input is the same every step: `every` steps at once. */
  hmn_step_input in[every];
  for (long k = 0; k < every; k++) in[k] = (hmn_step_input){x, &mod, &ctx, NULL};
  size_t row = 0;
  for (long s = 0; s <= steps && rc == HMN_OK; s += every) {
    if (s % every == 0) {
      float nu[2] = {0, 0};
      rc = hmn_layer_read(layer, HMN_ARRAY_W, w, sizeof w, err);
      if (rc == HMN_OK) rc = hmn_layer_read(layer, HMN_ARRAY_RATE, nu, sizeof nu, err);
      double *v = &res->values[row * 5];
      v[0] = (double)s * (double)cfg.dt;
      v[1] = w[0];
      v[2] = w[3];
      v[3] = nu[0];
      v[4] = nu[1];
      row++;
    }
    if (rc == HMN_OK && s < steps) rc = hmn_layer_step_many(layer, in, (size_t)every, err);
  }
  hmn_layer_destroy(layer);
  if (rc != HMN_OK) {
    hmn_protocol_result_free(res);
    return rc;
  }
  const double *end = &res->values[(rows - 1) * 5];
  res->fit[0] = end[1];
  res->fit[1] = end[2];
  res->n_fit = 2;
  snprintf(res->summary, sizeof res->summary,
           "target %.3g, tau_scale %.4g, scale_max %.3g; start w = 0.5, rates 0.15 and 0.06\n"
           "after %ld steps: w_high = %.4f (rate %.4f), w_low = %.4f (rate %.4f)\n",
           (double)cfg.scale_target, (double)cfg.tau_scale, (double)cfg.scale_max, steps, end[1],
           end[3], end[2], end[4]);
  return HMN_OK;
}

int hmn_protocol_run(const char *name, const hmn_config *base, const char *backend,
                     hmn_protocol_result *res, hmn_error *err) {
  if (name == NULL || base == NULL || res == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_protocol_run: NULL argument");
  memset(res, 0, sizeof *res);
  if (strcmp(name, "stdp-window") == 0) return hmn__protocol_stdp_window(base, backend, res, err);
  if (strcmp(name, "triplet-frequency") == 0)
    return hmn__protocol_triplet_frequency(base, backend, res, err);
  if (strcmp(name, "bcm") == 0) return hmn__protocol_bcm(base, backend, res, err);
  if (strcmp(name, "bcm-theta") == 0) return hmn__protocol_bcm_theta(base, backend, res, err);
  if (strcmp(name, "scaling") == 0) return hmn__protocol_scaling(base, backend, res, err);
  return hmn__fail(err, HMN_EINVAL,
                   "unknown protocol '%s' (stdp-window, triplet-frequency, bcm, bcm-theta, "
                   "scaling)",
                   name);
}
