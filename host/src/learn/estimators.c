/*
 * estimators.c - the gradient estimators of the meta-learner (SPEC
 * section 6, the paper's App. 10.2-10.3), behind one interface: each
 * names the points at which iteration k evaluates the meta-loss L, and
 * turns the losses into an estimate of grad L at theta.
 *
 *  - spsa: two probes theta +- c_k Delta, Delta Rademacher;
 *    g_i = (L+ - L-) / (2 c_k Delta_i).
 *  - fd: central finite differences, one coordinate at a time: four
 *    probes theta +- c_k e_i; g_i = (L(+e_i) - L(-e_i)) / (2 c_k).
 *  - reinforce: one probe theta + c_k eps, eps standard normal, as a
 *    Gaussian search distribution of width c_k around theta; the score
 *    function gives g = (L - b) eps / c_k, with b a running mean of the
 *    probe losses (the baseline, the estimator's state) that cuts the
 *    variance without biasing the estimate.
 *
 * The directions are a pure function of (seed, k): the meta stream of
 * the RNG at counter (k, 0), so that a resumed run draws the same ones.
 */
#include "internal.h"

#include <math.h>

/* The REINFORCE baseline's EMA rate: it follows the losses over about
 * ten iterations, long enough to average the noise, short enough to
 * follow a layer that improves. */
#define HMN__REINFORCE_BASELINE_RATE 0.1

void hmn__meta_rademacher(uint64_t seed, uint64_t k, double *delta) {
  uint32_t r[4];
  hmn_philox(seed, k, 0, HMN_STREAM_META, r);
  for (int i = 0; i < HMN__META_DIM; i++) delta[i] = (r[i] >> 31) != 0 ? 1.0 : -1.0;
}

void hmn__meta_gaussian(uint64_t seed, uint64_t k, double *eps) {
  uint32_t r[4];
  hmn_philox(seed, k, 0, HMN_STREAM_META, r);
  /* Box-Muller on words (0, 1): its cosine and sine halves are two
   * independent normals. 1 - u keeps the logarithm finite. */
  double radius = sqrt(-2.0 * log(1.0 - (double)hmn_uniform(r[0])));
  double angle = HMN__TWO_PI * (double)hmn_uniform(r[1]);
  eps[0] = radius * cos(angle);
  eps[1] = radius * sin(angle);
}

/* ------------------------------------------------------------------ */
/* spsa */

static void hmn__spsa_probe(uint64_t seed, uint64_t k, int p, const double *theta, double ck,
                            double *out) {
  double delta[HMN__META_DIM];
  hmn__meta_rademacher(seed, k, delta);
  double sign = p == 0 ? 1.0 : -1.0;
  for (int i = 0; i < HMN__META_DIM; i++) out[i] = theta[i] + sign * ck * delta[i];
}

static void hmn__spsa_gradient(uint64_t seed, uint64_t k, const double *loss, double ck,
                               hmn__estimator_state *st, double *g) {
  (void)st;
  double delta[HMN__META_DIM];
  hmn__meta_rademacher(seed, k, delta);
  for (int i = 0; i < HMN__META_DIM; i++) g[i] = (loss[0] - loss[1]) / (2.0 * ck * delta[i]);
}

/* ------------------------------------------------------------------ */
/* fd: probes +e_0, -e_0, +e_1, -e_1 */

static void hmn__fd_probe(uint64_t seed, uint64_t k, int p, const double *theta, double ck,
                          double *out) {
  (void)seed;
  (void)k;
  for (int i = 0; i < HMN__META_DIM; i++) out[i] = theta[i];
  out[p / 2] += (p % 2 == 0 ? 1.0 : -1.0) * ck;
}

static void hmn__fd_gradient(uint64_t seed, uint64_t k, const double *loss, double ck,
                             hmn__estimator_state *st, double *g) {
  (void)seed;
  (void)k;
  (void)st;
  for (int i = 0; i < HMN__META_DIM; i++) g[i] = (loss[2 * i] - loss[2 * i + 1]) / (2.0 * ck);
}

/* ------------------------------------------------------------------ */
/* reinforce */

static void hmn__reinforce_probe(uint64_t seed, uint64_t k, int p, const double *theta, double ck,
                                 double *out) {
  (void)p;
  double eps[HMN__META_DIM];
  hmn__meta_gaussian(seed, k, eps);
  for (int i = 0; i < HMN__META_DIM; i++) out[i] = theta[i] + ck * eps[i];
}

static void hmn__reinforce_gradient(uint64_t seed, uint64_t k, const double *loss, double ck,
                                    hmn__estimator_state *st, double *g) {
  double eps[HMN__META_DIM];
  hmn__meta_gaussian(seed, k, eps);
  /* The first loss only sets the baseline: with none yet, L - b has no
   * meaning. */
  if (!st->has_baseline) {
    st->baseline = loss[0];
    st->has_baseline = 1;
  }
  for (int i = 0; i < HMN__META_DIM; i++) g[i] = (loss[0] - st->baseline) * eps[i] / ck;
  st->baseline += HMN__REINFORCE_BASELINE_RATE * (loss[0] - st->baseline);
}

static const hmn__estimator_ops hmn__estimators[] = {
    [HMN_EST_SPSA] = {"spsa", 2, hmn__spsa_probe, hmn__spsa_gradient},
    [HMN_EST_FD] = {"fd", 4, hmn__fd_probe, hmn__fd_gradient},
    [HMN_EST_REINFORCE] = {"reinforce", 1, hmn__reinforce_probe, hmn__reinforce_gradient},
};

const hmn__estimator_ops *hmn__estimator_find(int estimator) {
  if (estimator <= HMN_EST_OFF ||
      (size_t)estimator >= sizeof hmn__estimators / sizeof hmn__estimators[0])
    return NULL;
  return &hmn__estimators[estimator];
}
