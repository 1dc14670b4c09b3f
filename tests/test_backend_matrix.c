/*
 * test_backend_matrix.c - every device backend against ref (SPEC section
 * 5) as a matrix of backend x case, each case its own test: the 144
 * combinations of activation, local attention, global attention and
 * similarity, phase gate and stochastic application (one step from a
 * random state, then two more, one without a phase), and the odd shapes.
 * A failure names the backend, the case and its modes. The bounds on the
 * borderline stochastic flips are those of the whole sweep: per case, and
 * summed over all cases (the *_total tests).
 *
 * Tests are named SUITE::mode_HL with HL the case number in hex (00 to
 * 8f), SUITE being the backend (opencl, opencl_fpga); `--filter
 * 'opencl_fpga/mode_2*'` runs some.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "opencl_support.h"
#include "support.h"

/* Flip bounds of the sweeps: over all HMN_TEST_MODE_CASES cases (3 steps
 * each), and over all odd shapes. */
#define MODE_FLIPS_MAX 3
#define ODD_SHAPE_FLIPS_MAX 2

static void mode_case(const char *backend, size_t i) {
  HMN_TEST_REQUIRE_OPENCL();
  size_t flips = hmn_test_compare_mode_case(backend, i);
  cr_assert_leq(flips, MODE_FLIPS_MAX, "%s mode case %zu: %zu borderline flips", backend, i,
                flips);
}

static void odd_shape(const char *backend, size_t s) {
  HMN_TEST_REQUIRE_OPENCL();
  size_t flips = hmn_test_compare_odd_shape(backend, s);
  cr_assert_leq(flips, ODD_SHAPE_FLIPS_MAX, "%s odd shape %zu: %zu borderline flips", backend, s,
                flips);
}

/* The generated cases: SUITE is a Criterion suite name, BACKEND the
 * backend's name. 144 = 9 x 16 cases, numbered in hex. */
#define HMN__MODE(suite, backend, h, l) \
  Test(suite, mode_##h##l, .timeout = 300) { mode_case(backend, 0x##h##l); }
#define HMN__MODES16(suite, backend, h)                                                        \
  HMN__MODE(suite, backend, h, 0) HMN__MODE(suite, backend, h, 1)                            \
  HMN__MODE(suite, backend, h, 2) HMN__MODE(suite, backend, h, 3)                            \
  HMN__MODE(suite, backend, h, 4) HMN__MODE(suite, backend, h, 5)                            \
  HMN__MODE(suite, backend, h, 6) HMN__MODE(suite, backend, h, 7)                            \
  HMN__MODE(suite, backend, h, 8) HMN__MODE(suite, backend, h, 9)                            \
  HMN__MODE(suite, backend, h, a) HMN__MODE(suite, backend, h, b)                            \
  HMN__MODE(suite, backend, h, c) HMN__MODE(suite, backend, h, d)                            \
  HMN__MODE(suite, backend, h, e) HMN__MODE(suite, backend, h, f)
#define HMN__ODD(suite, backend, s) \
  Test(suite, odd_shape_##s, .timeout = 300) { odd_shape(backend, s); }
#define HMN__BACKEND_CASES(suite, backend)                                                     \
  HMN__MODES16(suite, backend, 0) HMN__MODES16(suite, backend, 1)                            \
  HMN__MODES16(suite, backend, 2) HMN__MODES16(suite, backend, 3)                            \
  HMN__MODES16(suite, backend, 4) HMN__MODES16(suite, backend, 5)                            \
  HMN__MODES16(suite, backend, 6) HMN__MODES16(suite, backend, 7)                            \
  HMN__MODES16(suite, backend, 8)                                                            \
  HMN__ODD(suite, backend, 0) HMN__ODD(suite, backend, 1) HMN__ODD(suite, backend, 2)        \
  HMN__ODD(suite, backend, 3) HMN__ODD(suite, backend, 4) HMN__ODD(suite, backend, 5)        \
  HMN__ODD(suite, backend, 6) HMN__ODD(suite, backend, 7) HMN__ODD(suite, backend, 8)        \
  Test(suite, modes_total, .timeout = 900) {                                                 \
    HMN_TEST_REQUIRE_OPENCL();                                                               \
    size_t flips = hmn_test_compare_modes(backend);                                          \
    cr_log_info("%s: %d mode combinations, 3 steps each: %zu borderline flips", backend,     \
                HMN_TEST_MODE_CASES, flips);                                                 \
    cr_assert_leq(flips, MODE_FLIPS_MAX, "%s: %zu borderline flips in %d single steps",      \
                  backend, flips, 3 * HMN_TEST_MODE_CASES);                                  \
  }                                                                                          \
  Test(suite, odd_shapes_total, .timeout = 900) {                                            \
    HMN_TEST_REQUIRE_OPENCL();                                                               \
    size_t flips = hmn_test_compare_odd_shapes(backend);                                     \
    cr_log_info("%s odd sizes: %zu borderline flips", backend, flips);                       \
    cr_assert_leq(flips, ODD_SHAPE_FLIPS_MAX, "%s odd shapes: %zu borderline flips",         \
                  backend, flips);                                                           \
  }

_Static_assert(HMN_TEST_MODE_CASES == 9 * 16, "the generated mode cases cover every case");
_Static_assert(HMN_TEST_ODD_SHAPES == 9, "the generated odd shapes cover every shape");

/* The backends of the matrix: one line each. */
HMN__BACKEND_CASES(opencl, "opencl")
HMN__BACKEND_CASES(opencl_fpga, "opencl-fpga")
