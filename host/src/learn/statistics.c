/*
 * statistics.c - what the ablation table needs to say only what the data
 * support: Student's t distribution (through the regularized incomplete
 * beta function, evaluated by its continued fraction), the paired t-test
 * with effect size and confidence interval, and Holm's correction for
 * many comparisons.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>

/* The continued fraction of I_x(a, b) (modified Lentz), good for
 * x < (a + 1) / (a + b + 2). */
static double hmn__beta_fraction(double a, double b, double x) {
  const double tiny = 1e-300, eps = 1e-15;
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
  if (fabs(d) < tiny) d = tiny;
  d = 1.0 / d;
  double f = d;
  for (int m = 1; m <= 1000; m++) {
    double m2 = 2.0 * m;
    /* even step */
    double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + num * d;
    c = 1.0 + num / c;
    if (fabs(d) < tiny) d = tiny;
    if (fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    f *= d * c;
    /* odd step */
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + num * d;
    c = 1.0 + num / c;
    if (fabs(d) < tiny) d = tiny;
    if (fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    double step = d * c;
    f *= step;
    if (fabs(step - 1.0) < eps) break;
  }
  return f;
}

/* Regularized incomplete beta I_x(a, b). */
static double hmn__beta_regularized(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  double log_front = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
  if (x < (a + 1.0) / (a + b + 2.0)) return exp(log_front) * hmn__beta_fraction(a, b, x) / a;
  return 1.0 - exp(log_front) * hmn__beta_fraction(b, a, 1.0 - x) / b;
}

double hmn_student_t_cdf(double t, double df) {
  if (isnan(t) || !(df > 0.0)) return NAN;
  if (isinf(t)) return t > 0 ? 1.0 : 0.0;
  /* P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2). */
  double tail = 0.5 * hmn__beta_regularized(0.5 * df, 0.5, df / (df + t * t));
  return t > 0.0 ? 1.0 - tail : tail;
}

double hmn_student_t_quantile(double p, double df) {
  if (!(p > 0.0 && p < 1.0) || !(df > 0.0)) return NAN;
  if (p == 0.5) return 0.0;
  /* Bracket, then bisect: the cdf is monotone, and 200 halvings reach
   * double precision from any bracket found here. */
  double lo = -1.0, hi = 1.0;
  while (hmn_student_t_cdf(lo, df) > p) lo *= 2.0;
  while (hmn_student_t_cdf(hi, df) < p) hi *= 2.0;
  for (int k = 0; k < 200; k++) {
    double mid = 0.5 * (lo + hi);
    if (mid == lo || mid == hi) break;
    if (hmn_student_t_cdf(mid, df) < p)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

int hmn_paired_t_test(const double *a, const double *b, int n, hmn_paired_test *out,
                      hmn_error *err) {
  if (a == NULL || b == NULL || out == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_paired_t_test: NULL argument");
  if (n < 2) return hmn__fail(err, HMN_EINVAL, "a paired t-test needs n >= 2 pairs, got %d", n);
  double sum = 0.0, sq = 0.0;
  for (int i = 0; i < n; i++) sum += a[i] - b[i];
  double mean = sum / n;
  for (int i = 0; i < n; i++) sq += (a[i] - b[i] - mean) * (a[i] - b[i] - mean);
  double sd = sqrt(sq / (n - 1));
  double se = sd / sqrt((double)n), df = n - 1.0;
  hmn_paired_test r = {n, mean, sd, NAN, NAN, NAN, NAN, NAN};
  double q = hmn_student_t_quantile(0.975, df);
  r.ci_lo = mean - q * se;
  r.ci_hi = mean + q * se;
  if (sd > 0.0) {
    r.t = mean / se;
    r.p = 2.0 * hmn_student_t_cdf(-fabs(r.t), df);
    r.d_z = mean / sd;
  } else {
    /* Identical differences: no spread to test against. */
    r.t = mean == 0.0 ? 0.0 : copysign(INFINITY, mean);
    r.p = mean == 0.0 ? 1.0 : 0.0;
    r.d_z = r.t;
  }
  *out = r;
  return HMN_OK;
}

void hmn_holm_adjust(double *p, int m) {
  if (m <= 0) return;
  int *order = hmn__calloc((size_t)m, sizeof(int));
  if (order == NULL) {
    /* Bonferroni bounds Holm from above: still a valid correction. */
    for (int i = 0; i < m; i++) p[i] = fmin(1.0, p[i] * m);
    return;
  }
  for (int i = 0; i < m; i++) order[i] = i;
  /* insertion sort by p, ascending (m is small) */
  for (int i = 1; i < m; i++) {
    int k = order[i], j = i;
    while (j > 0 && p[order[j - 1]] > p[k]) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = k;
  }
  double running = 0.0;
  for (int r = 0; r < m; r++) {
    double adj = fmin(1.0, (double)(m - r) * p[order[r]]);
    running = fmax(running, adj);
    p[order[r]] = running;
  }
  hmn__free(order);
}
