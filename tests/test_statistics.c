/*
 * test_statistics.c - Student's t distribution against closed forms and
 * table values, the paired t-test against a hand computation, Holm's
 * adjustment against a worked example.
 */
#include <criterion/criterion.h>
#include <math.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#include "hmn.h"

Test(statistics, t_cdf_matches_closed_forms) {
  /* df = 1 is the Cauchy distribution: F(t) = 1/2 + atan(t)/pi. */
  for (double t = -5.0; t <= 5.0; t += 0.75)
    cr_assert_float_eq(hmn_student_t_cdf(t, 1.0), 0.5 + atan(t) / M_PI, 1e-12, "t %g", t);
  /* df = 2: F(t) = 1/2 + t / (2 sqrt(2 + t^2)). */
  for (double t = -6.0; t <= 6.0; t += 0.5)
    cr_assert_float_eq(hmn_student_t_cdf(t, 2.0), 0.5 + t / (2.0 * sqrt(2.0 + t * t)), 1e-12,
                       "t %g", t);
  /* Large df approaches the normal: Phi(1.96) = 0.9750021. */
  cr_assert_float_eq(hmn_student_t_cdf(1.959963985, 1e7), 0.975, 1e-6);
  cr_assert_float_eq(hmn_student_t_cdf(0.0, 7.0), 0.5, 1e-15);
}

Test(statistics, t_quantiles_match_tables) {
  /* Two-sided 95% critical values. */
  cr_assert_float_eq(hmn_student_t_quantile(0.975, 1.0), 12.706204736, 1e-7);
  cr_assert_float_eq(hmn_student_t_quantile(0.975, 4.0), 2.776445105, 1e-8);
  cr_assert_float_eq(hmn_student_t_quantile(0.975, 10.0), 2.228138852, 1e-8);
  cr_assert_float_eq(hmn_student_t_quantile(0.975, 19.0), 2.093024054, 1e-8);
  cr_assert_float_eq(hmn_student_t_quantile(0.995, 30.0), 2.749995652, 1e-8);
  cr_assert_float_eq(hmn_student_t_quantile(0.025, 19.0), -2.093024054, 1e-8);
  cr_assert(isnan(hmn_student_t_quantile(1.0, 5.0)));
}

Test(statistics, paired_t_test_by_hand) {
  /* Differences 1, 2, 3: mean 2, sd 1, t = 2 sqrt(3), df 2. */
  const double a[3] = {2.0, 4.0, 6.0}, b[3] = {1.0, 2.0, 3.0};
  hmn_paired_test r;
  hmn_error err;
  cr_assert_eq(hmn_paired_t_test(a, b, 3, &r, &err), HMN_OK, "%s", err.message);
  double t = 2.0 * sqrt(3.0);
  cr_assert_float_eq(r.mean, 2.0, 1e-15);
  cr_assert_float_eq(r.sd, 1.0, 1e-15);
  cr_assert_float_eq(r.t, t, 1e-12);
  cr_assert_float_eq(r.d_z, 2.0, 1e-12);
  /* two-sided p from the df = 2 closed form */
  cr_assert_float_eq(r.p, 1.0 - t / sqrt(2.0 + t * t), 1e-12);
  /* CI: mean +- t_{0.975,2} sd / sqrt(3), t_{0.975,2} = 4.302652730 */
  cr_assert_float_eq(r.ci_lo, 2.0 - 4.302652730 / sqrt(3.0), 1e-8);
  cr_assert_float_eq(r.ci_hi, 2.0 + 4.302652730 / sqrt(3.0), 1e-8);
  cr_assert_eq(hmn_paired_t_test(a, b, 1, &r, &err), HMN_EINVAL);
}

Test(statistics, holm_adjusts_step_down) {
  double p[4] = {0.01, 0.04, 0.03, 0.005};
  hmn_holm_adjust(p, 4);
  /* sorted 0.005 x4, 0.01 x3, 0.03 x2, 0.04 x1, made monotone */
  cr_assert_float_eq(p[3], 0.02, 1e-15);
  cr_assert_float_eq(p[0], 0.03, 1e-15);
  cr_assert_float_eq(p[2], 0.06, 1e-15);
  cr_assert_float_eq(p[1], 0.06, 1e-15);
  double q[2] = {0.9, 0.8};
  hmn_holm_adjust(q, 2);
  cr_assert_float_eq(q[1], 1.0, 1e-15);
  cr_assert_float_eq(q[0], 1.0, 1e-15);
}
