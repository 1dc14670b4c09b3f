/*
 * opencl_support.h - helpers of the OpenCL backend tests: pairs of layers
 * (ref and opencl) with the same state, and the comparison of one step by
 * SPEC section 5.
 */
#ifndef HMN_TEST_OPENCL_SUPPORT_H
#define HMN_TEST_OPENCL_SUPPORT_H

#include <stdbool.h>

#include "hmn.h"

/* True when at least one OpenCL device exists. */
bool hmn_test_have_opencl(void);
/* Skip the current test (cr_skip_test) when no OpenCL device exists. */
#define HMN_TEST_REQUIRE_OPENCL()                                   \
  do {                                                              \
    if (!hmn_test_have_opencl()) cr_skip_test("no OpenCL device");  \
  } while (0)

/* A layer of `backend`, or the test fails with the library's message. */
hmn_layer *hmn_test_layer(const hmn_config *cfg, const char *backend);

/* Two layers of one config: the golden model and the backend under test. */
typedef struct {
  hmn_layer *ref, *ocl;
} hmn_test_pair;

/* How hmn_test_step_and_compare steps the layer under test: hmn_layer_step
 * unless a test drives it otherwise (the HLS C-simulation steps a ref
 * layer's state with the hw/ kernel). NULL restores hmn_layer_step. Every
 * comparison helper below goes through it, so any step function (a new
 * kernel's host, a simulation) plugs into the same checks and bounds. */
typedef int (*hmn_test_step_fn)(hmn_layer *layer, const hmn_step_input *in, hmn_error *err);
void hmn_test_set_step(hmn_test_step_fn step);

void hmn_test_pair_create(const hmn_config *cfg, hmn_test_pair *pair);
/* The same with another backend under test ("opencl-fpga", "ref"). */
void hmn_test_pair_create_on(const hmn_config *cfg, const char *backend, hmn_test_pair *pair);
void hmn_test_pair_destroy(hmn_test_pair *pair);
/* Write the same pseudo-random values into every state array of both
 * layers and set both step counters to t. */
void hmn_test_pair_randomize(hmn_test_pair *pair, uint32_t seed, uint64_t t);
/* Copy every state array of `from` into `to` (hmn_layer_read/write). */
void hmn_test_copy_state(hmn_layer *from, hmn_layer *to);

/* Pseudo-random inputs of one step; `phase` NULL-or-not as asked. */
typedef struct {
  float *x, *mod, *ctx;
  float phase;
  hmn_step_input in;
} hmn_test_inputs;

void hmn_test_inputs_make(const hmn_config *cfg, uint32_t seed, bool with_phase,
                          hmn_test_inputs *inputs);
void hmn_test_inputs_free(hmn_test_inputs *inputs);

/* Step both layers of `pair` once with `in` and compare every array and
 * statistic by SPEC section 5. A weight that differs because one backend
 * applied its update and the other did not is a borderline flip when
 * |u - p| < 1e-6; it is counted (the return value), any other difference
 * fails the test with a message naming `what`, the array and the index. */
size_t hmn_test_step_and_compare(hmn_test_pair *pair, const hmn_step_input *in,
                                 const char *what);

/* Assert that two layers hold bit-identical state and step counters. */
void hmn_test_assert_same_bits(hmn_layer *a, hmn_layer *b, const char *what);

/* A config with every mechanism busy (noise, strong attention, astrocytes,
 * slow traces), n_mod 3, d_ctx 5, delay 3, at n_in x n_out. */
void hmn_test_busy_config(hmn_config *cfg, int n_in, int n_out);

/* Every combination of activation (4), local attention (3), global
 * attention off or on with either similarity (3), phase gate (2) and
 * stochastic application (2). */
#define HMN_TEST_MODE_CASES 144
/* Mode case i (< HMN_TEST_MODE_CASES) on a busy 37x13 config, the step
 * it starts at, and its name for messages. */
void hmn_test_mode_case(size_t i, hmn_config *cfg, uint64_t *t, char *what, size_t what_len);
/* Compare `backend` with ref on mode case i (hmn_test_compare_steps); a
 * failure names the backend, the case's number and its modes. Returns
 * the borderline flips. */
size_t hmn_test_compare_mode_case(const char *backend, size_t i);
/* All mode cases in one call; returns the sum of their flips. */
size_t hmn_test_compare_modes(const char *backend);
/* The same over odd shapes (n_in, n_out, D, K, D_c): single inputs and
 * neurons, primes, rows shorter than a 512-bit word or starting mid-word,
 * a one-step delay line, the longest delay line the FPGA kernel holds. */
#define HMN_TEST_ODD_SHAPES 9
size_t hmn_test_compare_odd_shape(const char *backend, size_t s);
size_t hmn_test_compare_odd_shapes(const char *backend);
/* A pair on `backend` from a random state at step t, then three steps
 * compared by hmn_test_step_and_compare (the second without a phase, so
 * the built-in oscillator runs). Returns the borderline flips. */
size_t hmn_test_compare_steps(const hmn_config *cfg, const char *backend, uint32_t seed,
                              uint64_t t, const char *what);

/* The stream task for `steps` steps on a pair (ref and `backend`) from
 * the same initial state, every step compared. After a borderline flip
 * the two weights differ by one update; copying ref's weights over keeps
 * one decision from failing every later comparison, while everything
 * else keeps accumulating its own rounding. Returns the flips. */
size_t hmn_test_long_run(const hmn_config *cfg, const char *backend, int steps, const char *what);

/* `hmn COMMAND_ARGS --backend BACKEND --quiet CONFIG` on Oclgrind's
 * device for each of `configs` (--set options), with `oclgrind_flags`
 * added to Oclgrind's; command_args is, say, "run --steps 3". Fails on any
 * report: Oclgrind exits 0 whatever it finds, so its output is read.
 * Skips when ctest gave no hmn binary or Oclgrind is missing. */
void hmn_test_oclgrind_clean(const char *command_args, const char *backend,
                             const char *oclgrind_flags, const char *const *configs,
                             size_t count);

/* Run a shell command and return its exit status (-1 if it did not run). */
int hmn_test_shell(const char *command);

#endif
