/*
 * meta.c - the dual meta-learner of eta_local and eta_global (SPEC
 * section 6, the paper's eqs 8-9 and App. 10.3).
 *
 * theta is (eta_local, eta_global), or their logarithms with log_eta:
 * in ln(eta) both rates stay positive, and one perturbation size fits
 * rates of different scales (the defaults differ tenfold). Iteration k
 * evaluates the meta-loss at the estimator's probe points, each clipped
 * into the bounds, then steps
 *
 *   theta <- clip(theta - a_k g),  a_k = a / (k + 1 + A)^alpha,
 *                                   c_k = c / (k + 1)^gamma   (Spall),
 *
 * with g the estimator's gradient (estimators.c) and c_k its probe size.
 * Where the probes run (on snapshots, or live) is the closed loop's
 * business (agent.c); this file only keeps the state: k, theta, the
 * probe in progress and its predecessors' losses, and the estimator's
 * state. The random directions are a pure function of (seed, k), so k
 * is all the RNG position there is.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

_Static_assert(HMN__META_PROBES >= 4, "fd needs four probes per iteration");

static double hmn__meta_lo(const hmn_config *cfg) {
  return cfg->log_eta ? log((double)cfg->eta_min) : (double)cfg->eta_min;
}

static double hmn__meta_hi(const hmn_config *cfg) {
  return cfg->log_eta ? log((double)cfg->eta_max) : (double)cfg->eta_max;
}

static void hmn__meta_clip(const hmn_config *cfg, double *theta) {
  double lo = hmn__meta_lo(cfg), hi = hmn__meta_hi(cfg);
  for (int i = 0; i < HMN__META_DIM; i++) theta[i] = fmin(fmax(theta[i], lo), hi);
}

/* theta -> the rates the layer gets. Rounding in exp() and to float must
 * not leave the bounds. */
static void hmn__meta_to_eta(const hmn_config *cfg, const double *theta, float *eta) {
  for (int i = 0; i < HMN__META_DIM; i++) {
    float e = (float)(cfg->log_eta ? exp(theta[i]) : theta[i]);
    eta[i] = fminf(fmaxf(e, cfg->eta_min), cfg->eta_max);
  }
}

void hmn__meta_init(hmn__meta *meta, const hmn_config *cfg) {
  memset(meta, 0, sizeof *meta);
  const float eta[HMN__META_DIM] = {cfg->eta_local, cfg->eta_global};
  for (int i = 0; i < HMN__META_DIM; i++) {
    /* Clip first: ln of a rate <= 0 has no value. */
    double e = fmin(fmax((double)eta[i], (double)cfg->eta_min), (double)cfg->eta_max);
    meta->theta[i] = cfg->log_eta ? log(e) : e;
  }
  hmn__meta_clip(cfg, meta->theta);
}

double hmn__meta_gain_a(const hmn_config *cfg, uint64_t k) {
  return (double)cfg->meta_a /
         pow((double)k + 1.0 + (double)cfg->meta_stability, (double)cfg->meta_alpha);
}

double hmn__meta_gain_c(const hmn_config *cfg, uint64_t k) {
  return (double)cfg->meta_c / pow((double)k + 1.0, (double)cfg->meta_gamma);
}

int hmn__meta_probes(const hmn_config *cfg) {
  const hmn__estimator_ops *est = hmn__estimator_find(cfg->estimator);
  return est != NULL ? est->n_probes : 0;
}

void hmn__meta_eta(const hmn__meta *meta, const hmn_config *cfg, float *eta) {
  hmn__meta_to_eta(cfg, meta->theta, eta);
}

void hmn__meta_probe_eta(const hmn__meta *meta, const hmn_config *cfg, int p, float *eta) {
  const hmn__estimator_ops *est = hmn__estimator_find(cfg->estimator);
  double point[HMN__META_DIM];
  memcpy(point, meta->theta, sizeof point);
  if (est != NULL)
    est->probe(cfg->seed, meta->k, p, meta->theta, hmn__meta_gain_c(cfg, meta->k), point);
  /* meta_params = global: eta_local is not perturbed (nor moved). */
  if (cfg->meta_params == HMN_META_PARAMS_GLOBAL) point[0] = meta->theta[0];
  hmn__meta_clip(cfg, point);
  hmn__meta_to_eta(cfg, point, eta);
}

void hmn__meta_record(hmn__meta *meta, const hmn_config *cfg, double loss) {
  const hmn__estimator_ops *est = hmn__estimator_find(cfg->estimator);
  if (est == NULL) return;
  meta->loss[meta->probe++] = loss;
  if (meta->probe < est->n_probes) return;
  double g[HMN__META_DIM];
  est->gradient(cfg->seed, meta->k, meta->loss, hmn__meta_gain_c(cfg, meta->k), &meta->est, g);
  if (cfg->meta_params == HMN_META_PARAMS_GLOBAL) g[0] = 0.0;
  double ak = hmn__meta_gain_a(cfg, meta->k);
  for (int i = 0; i < HMN__META_DIM; i++) meta->theta[i] -= ak * g[i];
  hmn__meta_clip(cfg, meta->theta);
  meta->k++;
  meta->probe = 0;
  memset(meta->loss, 0, sizeof meta->loss);
}

/* Section "meta" starts with: u64 k, f64 theta[2], u64 probe,
 * f64 loss[4], f64 baseline, u64 has_baseline. */
void hmn__meta_encode(const hmn__meta *meta, unsigned char *out) {
  unsigned char *p = out;
  hmn__le_put_u64(p, meta->k);
  p += 8;
  for (int i = 0; i < HMN__META_DIM; i++, p += 8) hmn__le_put_f64(p, meta->theta[i]);
  hmn__le_put_u64(p, (uint64_t)meta->probe);
  p += 8;
  for (int i = 0; i < HMN__META_PROBES; i++, p += 8) hmn__le_put_f64(p, meta->loss[i]);
  hmn__le_put_f64(p, meta->est.baseline);
  hmn__le_put_u64(p + 8, (uint64_t)meta->est.has_baseline);
}

int hmn__meta_decode(hmn__meta *meta, const hmn_config *cfg, const unsigned char *in,
                     const char *path, hmn_error *err) {
  hmn__meta m;
  memset(&m, 0, sizeof m);
  const unsigned char *p = in;
  m.k = hmn__le_get_u64(p);
  p += 8;
  for (int i = 0; i < HMN__META_DIM; i++, p += 8) m.theta[i] = hmn__le_get_f64(p);
  uint64_t probe = hmn__le_get_u64(p);
  p += 8;
  for (int i = 0; i < HMN__META_PROBES; i++, p += 8) m.loss[i] = hmn__le_get_f64(p);
  m.est.baseline = hmn__le_get_f64(p);
  uint64_t has_baseline = hmn__le_get_u64(p + 8);

  int n_probes = hmn__meta_probes(cfg);
  if (probe >= (uint64_t)(n_probes > 0 ? n_probes : 1))
    return hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': section 'meta' has probe %llu, estimator %s has %d per "
                     "iteration",
                     path, (unsigned long long)probe,
                     n_probes > 0 ? hmn__estimator_find(cfg->estimator)->name : "off", n_probes);
  if (has_baseline > 1)
    return hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': section 'meta' has has_baseline %llu",
                     path, (unsigned long long)has_baseline);
  double lo = hmn__meta_lo(cfg), hi = hmn__meta_hi(cfg);
  for (int i = 0; i < HMN__META_DIM; i++)
    if (!(m.theta[i] >= lo && m.theta[i] <= hi))
      return hmn__fail(err, HMN_EFORMAT,
                       "checkpoint '%s': section 'meta' has theta[%d] = %.17g, outside the "
                       "bounds [%.17g, %.17g]",
                       path, i, m.theta[i], lo, hi);
  for (int i = 0; i < HMN__META_PROBES; i++)
    if (!isfinite(m.loss[i]))
      return hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': section 'meta' has loss[%d] = %g",
                       path, i, m.loss[i]);
  if (!isfinite(m.est.baseline))
    return hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': section 'meta' has baseline %g", path,
                     m.est.baseline);
  m.probe = (int)probe;
  m.est.has_baseline = (int)has_baseline;
  *meta = m;
  return HMN_OK;
}
