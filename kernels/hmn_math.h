/*
 * hmn_math.h - deterministic single-precision transcendentals for the HMN
 * kernels: exp, expm1, log, cos, tanh and sigmoid.
 *
 * The built-in exp/cos/log differ by device (OpenCL allows them several
 * ulp of error, each vendor spends it differently) and are slow on PoCL.
 * These are built only from IEEE add, multiply, divide, integer <-> float
 * conversions and bit manipulation, evaluated in a fixed order with
 * contraction off, so every device that rounds add and multiply correctly
 * returns the same bits (SPEC section 5). Each function does a range
 * reduction that is exact (Cody-Waite with a short high constant) and a
 * Taylor polynomial whose truncation error is far below one ulp on the
 * reduced range; measured against double precision they stay within
 * about 2 ulp (tanh within 4).
 */
#ifndef HMN_MATH_H
#define HMN_MATH_H

#ifndef HMN_SOURCES_INLINED
#include "hmn_port.h"
#endif

/* Contraction off here too, for compilers that scope it per file. */
#ifdef HMN_OPENCL_C
#pragma OPENCL FP_CONTRACT OFF
#endif

#define HMN_F32_MAX 3.40282346638528859812e+38f
#define HMN_F32_INF_BITS 0x7f800000u
#define HMN_F32_ABS_MASK 0x7fffffffu
#define HMN_F32_SIGN_MASK 0x80000000u

/* ln 2 split so that n * HMN_LN2_HI is exact for |n| < 2^9 (15 bits). */
#define HMN_LN2_HI 0.693145751953125f
#define HMN_LN2_LO 1.428606765330187e-06f
#define HMN_LOG2E 1.4426950216293335f
/* pi/2 in three parts of which the first two have 12 significant bits,
 * so that k * part is exact for |k| < 2^12. */
#define HMN_PIO2_1 1.5703125f
#define HMN_PIO2_2 4.837512969970703e-04f
#define HMN_PIO2_3 7.549790126404332e-08f
#define HMN_TWO_OVER_PI 0.6366197466850281f
#define HMN_TWO_PI_HI 6.2831854820251465f
#define HMN_TWO_PI_LO (-1.7484555314695172e-07f)
#define HMN_SQRT2 1.4142135381698608f

HMN_INLINE float hmnk_fabs(float x) { return hmnk_as_float(hmnk_as_uint(x) & HMN_F32_ABS_MASK); }

/* |x| with the sign of s. */
HMN_INLINE float hmnk_copysign(float x, float s) {
  return hmnk_as_float((hmnk_as_uint(x) & HMN_F32_ABS_MASK) | (hmnk_as_uint(s) & HMN_F32_SIGN_MASK));
}

/* True for normal, non-zero finite numbers: the exponent field is neither
 * all zeros (zero, subnormal) nor all ones (inf, NaN). */
HMN_INLINE int hmnk_is_normal(float x) {
  hmnk_u32 e = (hmnk_as_uint(x) >> 23) & 0xffu;
  return e != 0u && e != 0xffu;
}

HMN_INLINE int hmnk_is_finite(float x) {
  return (hmnk_as_uint(x) & HMN_F32_INF_BITS) != HMN_F32_INF_BITS;
}

/* Nearest integer, ties away from zero, for the cosines' reductions (any
 * consistent choice of tie works for them; exp rounds with
 * HMN_ROUND_MAGIC below). */
HMN_INLINE hmnk_i32 hmnk_round_to_int(float x) {
  return (hmnk_i32)(x >= 0.0f ? x + 0.5f : x - 0.5f);
}

/* 2^n as a float for -126 <= n <= 127, straight from the exponent bits. */
HMN_INLINE float hmnk_pow2i(hmnk_i32 n) { return hmnk_as_float((hmnk_u32)(n + 127) << 23); }

/* p * 2^n for p in [0.5, 2] and -152 <= n <= 129. One multiplication where
 * the result is normal, so the scaling is exact; two steps at the ends of
 * the range, where the result overflows or becomes subnormal anyway. The
 * second factor is exactly 1 in the normal range, so the same two
 * multiplications serve every n without a branch (vector units and
 * pipelines take every lane through the same instructions). */
HMN_INLINE float hmnk_scale(float p, hmnk_i32 n) {
  hmnk_i32 n1 = n > 127 ? 127 : (n < -125 ? n + 64 : n);
  hmnk_i32 n2 = n > 127 ? n - 127 : (n < -125 ? -64 : 0);
  return (p * hmnk_pow2i(n1)) * hmnk_pow2i(n2);
}

/* Adding and then subtracting 1.5 * 2^23 rounds a float of magnitude
 * below 2^22 to the nearest integer (ties to even), exactly, in two
 * operations. */
#define HMN_ROUND_MAGIC 12582912.0f

/* e^r for |r| <= ln2/2 + a little: Taylor to r^7, truncation error
 * < 6e-9 relative, evaluated in Estrin's scheme: the four pairs, r^2 and
 * r^4 are independent, so the longest chain is four multiply-adds instead
 * of Horner's eight. On a CPU the vector kernels keep several synapses'
 * chains in flight only as far as the out-of-order window reaches, so a
 * shorter chain is a faster loop. */
#define HMNK_DEFINE_EXP_POLY(NAME, T)                       \
  HMN_INLINE T NAME(T r) {                                  \
    T r2 = r * r;                                           \
    T p01 = 1.0f + r;                                       \
    T p23 = 0.5f + r * (1.0f / 6.0f);                       \
    T p45 = 1.0f / 24.0f + r * (1.0f / 120.0f);             \
    T p67 = 1.0f / 720.0f + r * (1.0f / 5040.0f);           \
    T r4 = r2 * r2;                                         \
    return p01 + (r2 * p23 + r4 * (p45 + r2 * p67));        \
  }
/* One body for the scalar and the vector exp (below), so that every lane
 * of a vector gives the scalar's bits. */
HMNK_DEFINE_EXP_POLY(hmnk_exp_poly, float)

/* e^x. x = n ln2 + r with the reduction exact, then e^r * 2^n. exp(0) is
 * exactly 1, which the softmax relies on for its largest term. The
 * special cases are selected at the end rather than returned early, so
 * that the body has no branch; the reduction runs on x clamped to the
 * range where it is exact. */
HMN_INLINE float hmnk_exp(float x) {
  float xc = x >= -104.0f ? (x <= 89.0f ? x : 89.0f) : -104.0f; /* NaN: -104 */
  float nf = (xc * HMN_LOG2E + HMN_ROUND_MAGIC) - HMN_ROUND_MAGIC;
  hmnk_i32 n = (hmnk_i32)nf;
  float r = (xc - nf * HMN_LN2_HI) - nf * HMN_LN2_LO;
  float y = hmnk_scale(hmnk_exp_poly(r), n);
  y = x > 89.0f ? hmnk_as_float(HMN_F32_INF_BITS) : y;
  y = x < -104.0f ? 0.0f : y;
  return x != x ? x : y;
}

/* e^x - 1 without the cancellation of exp(x) - 1 near 0: Taylor to x^11
 * for |x| <= 1 (truncation < 3e-9 relative), exp(x) - 1 beyond, where
 * |e^x - 1| > 0.63 and the subtraction loses under one bit. */
HMN_INLINE float hmnk_expm1(float x) {
  if (hmnk_fabs(x) > 1.0f) return hmnk_exp(x) - 1.0f;
  float q = 1.0f / 39916800.0f;
  q = 1.0f / 3628800.0f + x * q;
  q = 1.0f / 362880.0f + x * q;
  q = 1.0f / 40320.0f + x * q;
  q = 1.0f / 5040.0f + x * q;
  q = 1.0f / 720.0f + x * q;
  q = 1.0f / 120.0f + x * q;
  q = 1.0f / 24.0f + x * q;
  q = 1.0f / 6.0f + x * q;
  q = 0.5f + x * q;
  return x + x * (x * q);
}

/* ln x for finite x > 0. x = m 2^k with m in [sqrt(1/2), sqrt(2)), then
 * ln m = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.172: the odd series to s^9
 * leaves < 3e-9 relative. m - 1 is exact (Sterbenz). */
HMN_INLINE float hmnk_log(float x) {
  hmnk_i32 k = 0;
  if (!hmnk_is_normal(x)) {
    x = x * 16777216.0f; /* subnormal: scale by 2^24 first */
    k = -24;
  }
  hmnk_u32 bits = hmnk_as_uint(x);
  k += (hmnk_i32)(bits >> 23) - 127;
  float m = hmnk_as_float((bits & 0x007fffffu) | 0x3f800000u);
  if (m > HMN_SQRT2) {
    m = m * 0.5f;
    k += 1;
  }
  float f = m - 1.0f;
  float s = f / (2.0f + f);
  float z = s * s;
  float q = 1.0f / 9.0f;
  q = 1.0f / 7.0f + z * q;
  q = 1.0f / 5.0f + z * q;
  q = 1.0f / 3.0f + z * q;
  float log_m = 2.0f * s + 2.0f * s * (z * q);
  float kf = (float)k;
  return kf * HMN_LN2_HI + (log_m + kf * HMN_LN2_LO);
}

/* cos(r + q pi/2) for |r| <= pi/4 (plus rounding) and any integer q, from
 * the Taylor series of sin and cos to r^11 / r^10 (truncation < 2e-10). */
HMN_INLINE float hmnk_cos_quadrant(float r, hmnk_i32 q) {
  float z = r * r;
  float c = -1.0f / 3628800.0f;
  c = 1.0f / 40320.0f + z * c;
  c = -1.0f / 720.0f + z * c;
  c = 1.0f / 24.0f + z * c;
  c = -0.5f + z * c;
  c = 1.0f + z * c;
  float s = -1.0f / 39916800.0f;
  s = 1.0f / 362880.0f + z * s;
  s = -1.0f / 5040.0f + z * s;
  s = 1.0f / 120.0f + z * s;
  s = -1.0f / 6.0f + z * s;
  s = r + r * (z * s);
  /* Quadrants 0..3 give c, -s, -c, s: a select and a sign, no switch
   * (which vectorizers and pipelines handle badly). */
  float v = (q & 1) ? s : c;
  return ((q + 1) & 2) ? -v : v;
}

/* cos(2 pi u) for a uniform u in [0, 1): the reduction is done in turns,
 * where it is exact (u - q/4 needs no rounding), so only the final
 * multiplication by 2 pi rounds. */
HMN_INLINE float hmnk_cos_turns(float u) {
  hmnk_i32 q = hmnk_round_to_int(4.0f * u);
  float f = u - 0.25f * (float)q;
  float r = f * HMN_TWO_PI_HI + f * HMN_TWO_PI_LO;
  return hmnk_cos_quadrant(r, q);
}

/* cos(a + a_lo - b), as the phase gate needs it: the difference a - b is
 * carried exactly as a sum of two floats (Knuth's TwoSum), so the angle is
 * as exact as the reference's double difference. Accurate for
 * |a - b| < 6400 (k < 2^12); phases and preferred phases live in
 * [0, 2 pi). */
HMN_INLINE float hmnk_cos_diff(float a, float a_lo, float b) {
  float d = a - b;
  float bv = d - a;
  float d_lo = (a - (d - bv)) + (-b - bv);
  hmnk_i32 k = hmnk_round_to_int(d * HMN_TWO_OVER_PI);
  float kf = (float)k;
  /* d - k*PIO2_1 is exact: the product is exact and lies within a factor
   * of two of d whenever k != 0 (Sterbenz). */
  float lo = (d_lo + a_lo) - kf * HMN_PIO2_3;
  float r = ((d - kf * HMN_PIO2_1) - kf * HMN_PIO2_2) + lo;
  return hmnk_cos_quadrant(r, k);
}

/* tanh x = -expm1(-2|x|) / (2 + expm1(-2|x|)) with the sign of x: no
 * cancellation anywhere, and tanh x = x to full precision near 0. Beyond
 * |x| = 9.1 the result rounds to +-1 in float. */
HMN_INLINE float hmnk_tanh(float x) {
  float ax = hmnk_fabs(x);
  if (x != x) return x;
  if (ax > 9.1f) return hmnk_copysign(1.0f, x);
  float e = hmnk_expm1(-2.0f * ax);
  return hmnk_copysign(-e / (2.0f + e), x);
}

/* 1 / (1 + e^-x); e^-x overflows to inf for x < -89 and the quotient
 * becomes 0, the correctly rounded answer there to within a subnormal. */
HMN_INLINE float hmnk_sigmoid(float x) { return 1.0f / (1.0f + hmnk_exp(-x)); }

/* ---- vector twins (OpenCL C only) ----
 *
 * The per-synapse kernel code runs on HMN_VEC synapses at once in OpenCL
 * vector types, so that CPU drivers emit SIMD instructions without
 * depending on their work-item vectorizer. Each twin below (suffix _v)
 * performs exactly the operations of its scalar function above, in the
 * same order, lane by lane; ternaries become lane selects (a comparison
 * of vectors is -1 or 0 per lane). IEEE add, multiply, divide and the
 * conversions are lane-wise the scalar operations, so a lane of a twin
 * returns the bits of the scalar function. */
#ifdef HMN_OPENCL_C

/* Lanes per vector: 2, 4, 8 or 16. */
#ifndef HMN_VEC
#define HMN_VEC 16
#endif
#if HMN_VEC != 2 && HMN_VEC != 4 && HMN_VEC != 8 && HMN_VEC != 16
#error "HMN_VEC must be 2, 4, 8 or 16"
#endif

#define HMN__PASTE(a, b) a##b
#define HMN__XPASTE(a, b) HMN__PASTE(a, b)
typedef HMN__XPASTE(float, HMN_VEC) hmnk_vf;
typedef HMN__XPASTE(uint, HMN_VEC) hmnk_vu;
typedef HMN__XPASTE(int, HMN_VEC) hmnk_vi;
typedef HMN__XPASTE(uchar, HMN_VEC) hmnk_vu8;
#define hmnk_vas_uint HMN__XPASTE(as_uint, HMN_VEC)
#define hmnk_vas_float HMN__XPASTE(as_float, HMN_VEC)
#define hmnk_vconvert_float HMN__XPASTE(convert_float, HMN_VEC)
#define hmnk_vconvert_uint HMN__XPASTE(convert_uint, HMN_VEC)
#define hmnk_vconvert_ulong HMN__XPASTE(convert_ulong, HMN_VEC)
/* Float to int rounds toward zero, as the C cast does. */
#define hmnk_vconvert_int_rtz HMN__XPASTE(HMN__XPASTE(convert_int, HMN_VEC), _rtz)
#define hmnk_vload HMN__XPASTE(vload, HMN_VEC)
#define hmnk_vstore HMN__XPASTE(vstore, HMN_VEC)

HMN_INLINE hmnk_vf hmnk_fabs_v(hmnk_vf x) {
  return hmnk_vas_float(hmnk_vas_uint(x) & HMN_F32_ABS_MASK);
}

/* -1 (true) or 0 per lane. */
HMN_INLINE hmnk_vi hmnk_is_normal_v(hmnk_vf x) {
  hmnk_vu e = (hmnk_vas_uint(x) >> 23) & 0xffu;
  return (e != 0u) & (e != 0xffu);
}

HMN_INLINE hmnk_vf hmnk_pow2i_v(hmnk_vi n) {
  return hmnk_vas_float(hmnk_vas_uint(n + 127) << 23);
}

HMN_INLINE hmnk_vf hmnk_scale_v(hmnk_vf p, hmnk_vi n) {
  hmnk_vi n1 = n > 127 ? (hmnk_vi)(127) : (n < -125 ? n + 64 : n);
  hmnk_vi n2 = n > 127 ? n - 127 : (n < -125 ? (hmnk_vi)(-64) : (hmnk_vi)(0));
  return (p * hmnk_pow2i_v(n1)) * hmnk_pow2i_v(n2);
}

HMNK_DEFINE_EXP_POLY(hmnk_exp_poly_v, hmnk_vf)

HMN_INLINE hmnk_vf hmnk_exp_v(hmnk_vf x) {
  /* Where every lane lies in [-86, 88] (the usual case: softmax
   * numerators, the stochastic application's probability), the clamps
   * and the final selects change nothing and n lies in [-124, 127], where
   * hmnk_scale multiplies by 2^n and then by 2^0: one multiplication by
   * 2^n gives the same bits in about two thirds of the operations. */
  if (all((x >= -86.0f) & (x <= 88.0f))) {
    hmnk_vf nf = (x * HMN_LOG2E + HMN_ROUND_MAGIC) - HMN_ROUND_MAGIC;
    hmnk_vf r = (x - nf * HMN_LN2_HI) - nf * HMN_LN2_LO;
    return hmnk_exp_poly_v(r) * hmnk_pow2i_v(hmnk_vconvert_int_rtz(nf));
  }
  hmnk_vf xc = x >= -104.0f ? (x <= 89.0f ? x : (hmnk_vf)(89.0f)) : (hmnk_vf)(-104.0f);
  hmnk_vf nf = (xc * HMN_LOG2E + HMN_ROUND_MAGIC) - HMN_ROUND_MAGIC;
  hmnk_vi n = hmnk_vconvert_int_rtz(nf);
  hmnk_vf r = (xc - nf * HMN_LN2_HI) - nf * HMN_LN2_LO;
  hmnk_vf y = hmnk_scale_v(hmnk_exp_poly_v(r), n);
  y = x > 89.0f ? hmnk_vas_float((hmnk_vu)(HMN_F32_INF_BITS)) : y;
  y = x < -104.0f ? (hmnk_vf)(0.0f) : y;
  return x != x ? x : y;
}

#endif /* HMN_OPENCL_C */

#endif /* HMN_MATH_H */
