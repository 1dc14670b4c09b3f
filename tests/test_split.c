/*
 * test_split.c - the step in two halves: hmn_layer_forward +
 * hmn_layer_learn give the same state, bit for bit, as the fused step
 * with the same inputs (Hebbian through hmn_layer_step; the policy rule
 * against the fused step with the action); forward changes no state; the
 * policy rule's eligibility against a hand computation; clear errors.
 * On ref, opencl and opencl-fpga (the FPGA kernel's OpenCL C model).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "opencl_support.h"
#include "support.h"

/* Bring a device layer's arrays to its host state (no-op on ref). */
static void pull_all(hmn_layer *layer) {
  hmn_error err;
  for (int k = 0; k < HMN_ARRAY_COUNT; k++)
    cr_assert_eq(layer->ops->pull(layer, (hmn_array)k, &err), HMN_OK, "%s", err.message);
  if (layer->ops->stats != NULL)
    cr_assert_eq(layer->ops->stats(layer, &err), HMN_OK, "%s", err.message);
}

/* Every state array, t and the rates of two layers must be the same bits. */
static void expect_same_state(hmn_layer *a, hmn_layer *b) {
  pull_all(a);
  pull_all(b);
  cr_assert_eq(a->st.t, b->st.t);
  for (int k = 0; k < HMN_ARRAY_COUNT; k++) {
    size_t bytes = hmn__array_bytes(&a->st.cfg, (hmn_array)k);
    cr_assert(memcmp(a->st.arr[k], b->st.arr[k], bytes) == 0, "array %s differs at t %llu",
              hmn_array_name((hmn_array)k), (unsigned long long)a->st.t);
  }
  cr_assert_eq(a->st.stats.applied, b->st.stats.applied);
  cr_assert_eq(a->st.stats.candidates, b->st.stats.candidates);
}

/* A small layer with every mechanism on and delays, noise and modulators
 * that move the weights. */
static void split_config(hmn_config *cfg, int rule) {
  hmn_test_small_config(cfg, 11, 5);
  cfg->noise_sigma = 0.1f;
  cfg->eta_global = 5.0f;
  cfg->theta_p = 0.0f;
  cfg->rule = rule;
  if (rule == HMN_RULE_POLICY) cfg->action = HMN_ACTION_SOFTMAX;
}

/* The fused step with the action, on either backend: ref's with the
 * action, a device's learn half right after its own forward (whose z it
 * then compares). */
static void fused_with_action(hmn_layer *fused, const hmn_step_input *in, int32_t action) {
  hmn_error err;
  if (strcmp(fused->ops->name, "ref") == 0) {
    cr_assert_eq(hmn__ref_step_action(&fused->st, in, action, &err), HMN_OK, "%s", err.message);
    return;
  }
  float z[5];
  cr_assert_eq(fused->ops->forward(fused, in->x, z, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(fused->ops->learn(fused, in, action, &err), HMN_OK, "%s", err.message);
}

static void split_equals_fused(const char *backend, int rule, int steps) {
  hmn_config cfg;
  hmn_error err;
  split_config(&cfg, rule);
  hmn_layer *fused, *split;
  cr_assert_eq(hmn_layer_create(&cfg, backend, &fused, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_create(&cfg, backend, &split, &err), HMN_OK, "%s", err.message);
  hmn_task *task;
  cr_assert_eq(hmn_task_create("stream", &cfg, &task, &err), HMN_OK, "%s", err.message);
  float z[5], zf[5];
  for (int s = 0; s < steps; s++) {
    hmn_step_input in;
    cr_assert_eq(hmn_task_input(task, (uint64_t)s, &in, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(hmn_layer_forward(split, in.x, z, &err), HMN_OK, "%s", err.message);
    /* The action depends on z, as in a closed loop. */
    int32_t action = 0;
    for (int j = 1; j < cfg.n_out; j++)
      if (z[j] > z[action]) action = j;
    action = (action + s) % cfg.n_out;
    hmn_learn_input learn = {in.mod, in.ctx, in.phase, action};
    cr_assert_eq(hmn_layer_learn(split, &learn, &err), HMN_OK, "%s", err.message);
    if (rule != HMN_RULE_POLICY)
      cr_assert_eq(hmn_layer_step(fused, &in, &err), HMN_OK, "%s", err.message);
    else
      fused_with_action(fused, &in, action);
    /* forward's z is the fused step's z. */
    cr_assert_eq(hmn_layer_output(fused, zf, &err), HMN_OK, "%s", err.message);
    cr_assert(memcmp(z, zf, sizeof z) == 0, "z differs at step %d", s);
    expect_same_state(fused, split);
  }
  /* The weights did move: the comparison is not of two idle layers. */
  hmn_layer *fresh;
  cr_assert_eq(hmn_layer_create(&cfg, "ref", &fresh, &err), HMN_OK, "%s", err.message);
  pull_all(split);
  cr_assert(memcmp(fresh->st.arr[HMN_ARRAY_W], split->st.arr[HMN_ARRAY_W],
                   hmn__array_bytes(&cfg, HMN_ARRAY_W)) != 0);
  hmn_layer_destroy(fresh);
  hmn_task_destroy(task);
  hmn_layer_destroy(fused);
  hmn_layer_destroy(split);
}

Test(split, forward_learn_equals_fused_step_hebbian) {
  split_equals_fused("ref", HMN_RULE_HEBBIAN, 200);
}
Test(split, forward_learn_equals_fused_step_policy) {
  split_equals_fused("ref", HMN_RULE_POLICY, 200);
}
/* On opencl the Hebbian comparison is against hmn_layer_step itself, a
 * launch without forward before it: the forward kernel computes the z of
 * the fused kernel and changes nothing. */
Test(split, opencl_forward_learn_equals_fused_step_hebbian, .timeout = 600) {
  HMN_TEST_REQUIRE_OPENCL();
  split_equals_fused("opencl", HMN_RULE_HEBBIAN, 60);
}
Test(split, opencl_forward_learn_equals_fused_step_policy, .timeout = 600) {
  HMN_TEST_REQUIRE_OPENCL();
  split_equals_fused("opencl", HMN_RULE_POLICY, 60);
}

/* On opencl-fpga the same: the Hebbian split against hmn_layer_step, a
 * launch with no forward launch before it. */
Test(split, opencl_fpga_forward_learn_equals_fused_step_hebbian, .timeout = 600) {
  HMN_TEST_REQUIRE_OPENCL();
  split_equals_fused("opencl-fpga", HMN_RULE_HEBBIAN, 60);
}
Test(split, opencl_fpga_forward_learn_equals_fused_step_policy, .timeout = 600) {
  HMN_TEST_REQUIRE_OPENCL();
  split_equals_fused("opencl-fpga", HMN_RULE_POLICY, 60);
}
/* The families through the split on the FPGA kernel: the learning launch
 * is the fused step's, traces, rates and S_j included. */
Test(split, opencl_fpga_forward_learn_equals_fused_step_families, .timeout = 600) {
  HMN_TEST_REQUIRE_OPENCL();
  split_equals_fused("opencl-fpga", HMN_RULE_STDP, 30);
  split_equals_fused("opencl-fpga", HMN_RULE_TRIPLET, 30);
  split_equals_fused("opencl-fpga", HMN_RULE_BCM, 30);
}

/* The policy rule on a device backend against ref by SPEC section 5:
 * from the same state (ref's, copied over before each step), forward's z
 * and one learning step with the same action. The action follows ref's
 * z, as in a closed loop, so the state visits what a learning run
 * visits. */
static void policy_agrees_with_ref(const char *backend) {
  hmn_config cfg;
  hmn_error err;
  split_config(&cfg, HMN_RULE_POLICY);
  cfg.stochastic = 0; /* every update applied: no borderline flips to count */
  cfg.temperature = 0.3f;
  hmn_layer *ref = hmn_test_layer(&cfg, "ref"), *ocl = hmn_test_layer(&cfg, backend);
  hmn_task *task;
  cr_assert_eq(hmn_task_create("stream", &cfg, &task, &err), HMN_OK, "%s", err.message);
  size_t n_w = hmn_array_length(&cfg, HMN_ARRAY_W);
  float *w_r = calloc(n_w, sizeof(float)), *w_o = calloc(n_w, sizeof(float));
  float *p_r = calloc(n_w, sizeof(float)), *p_o = calloc(n_w, sizeof(float));
  cr_assert(w_r != NULL && w_o != NULL && p_r != NULL && p_o != NULL);
  double moved = 0.0;
  for (int s = 0; s < 40; s++) {
    hmn_test_copy_state(ref, ocl);
    hmn_step_input in;
    cr_assert_eq(hmn_task_input(task, (uint64_t)s, &in, &err), HMN_OK, "%s", err.message);
    float zr[5], zo[5];
    cr_assert_eq(hmn_layer_forward(ref, in.x, zr, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(hmn_layer_forward(ocl, in.x, zo, &err), HMN_OK, "%s", err.message);
    for (int j = 0; j < cfg.n_out; j++)
      cr_assert_float_eq(zo[j], zr[j], 1e-4, "step %d: z[%d] %g vs ref %g", s, j, (double)zo[j],
                         (double)zr[j]);
    int32_t action = (int32_t)((uint32_t)s * 3u % (uint32_t)cfg.n_out);
    hmn_learn_input learn = {in.mod, in.ctx, in.phase, action};
    cr_assert_eq(hmn_layer_learn(ref, &learn, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(hmn_layer_learn(ocl, &learn, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(hmn_layer_read(ref, HMN_ARRAY_W, w_r, n_w * 4, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(hmn_layer_read(ocl, HMN_ARRAY_W, w_o, n_w * 4, &err), HMN_OK, "%s", err.message);
    cr_assert_eq(hmn_layer_read(ref, HMN_ARRAY_PSI_F, p_r, n_w * 4, &err), HMN_OK);
    cr_assert_eq(hmn_layer_read(ocl, HMN_ARRAY_PSI_F, p_o, n_w * 4, &err), HMN_OK);
    for (size_t e = 0; e < n_w; e++) {
      /* z carries a reduction's rounding into pi and kappa: the bound of
       * the forward sum's terms, scaled by what kappa multiplies. */
      cr_assert_float_eq(p_o[e], p_r[e], 1e-4 + 1e-4 * fabs(p_r[e]), "step %d: psi_f[%zu]", s, e);
      cr_assert_float_eq(w_o[e], w_r[e], 1e-4 + 1e-4 * fabs(w_r[e]), "step %d: w[%zu]", s, e);
    }
    /* The learning half did act: the policy's credit reaches the traces. */
    for (size_t e = 0; e < n_w; e++) moved += fabs((double)p_r[e]);
  }
  cr_assert_gt(moved, 1e-3, "the policy traces stayed at zero");
  free(w_r);
  free(w_o);
  free(p_r);
  free(p_o);
  hmn_task_destroy(task);
  hmn_layer_destroy(ref);
  hmn_layer_destroy(ocl);
}

Test(split, opencl_policy_agrees_with_ref, .timeout = 600) {
  HMN_TEST_REQUIRE_OPENCL();
  policy_agrees_with_ref("opencl");
}
Test(split, opencl_fpga_policy_agrees_with_ref, .timeout = 600) {
  HMN_TEST_REQUIRE_OPENCL();
  policy_agrees_with_ref("opencl-fpga");
}

static void forward_changes_no_state(const char *backend) {
  hmn_config cfg;
  hmn_error err;
  split_config(&cfg, HMN_RULE_HEBBIAN);
  hmn_layer *a, *b;
  cr_assert_eq(hmn_layer_create(&cfg, backend, &a, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_create(&cfg, backend, &b, &err), HMN_OK, "%s", err.message);
  hmn_test_run_stream(a, 7);
  hmn_test_run_stream(b, 7);
  float x[11], z1[5], z2[5];
  for (int i = 0; i < 11; i++) x[i] = 0.1f * (float)i;
  cr_assert_eq(hmn_layer_forward(a, x, z1, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_forward(a, x, z2, &err), HMN_OK, "%s", err.message);
  cr_assert(memcmp(z1, z2, sizeof z1) == 0);
  expect_same_state(a, b);
  /* and the statistics of the last step are still that step's */
  hmn_step_stats sa, sb;
  cr_assert_eq(hmn_layer_stats(a, &sa, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_stats(b, &sb, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(sa.t, sb.t);
  cr_assert_eq(sa.g_mean, sb.g_mean);
  hmn_layer_destroy(a);
  hmn_layer_destroy(b);
}

Test(split, forward_changes_no_state) { forward_changes_no_state("ref"); }
Test(split, opencl_fpga_forward_changes_no_state, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  forward_changes_no_state("opencl-fpga");
}

Test(split, errors_are_clear_and_change_nothing) {
  hmn_config cfg;
  hmn_error err;
  split_config(&cfg, HMN_RULE_POLICY);
  hmn_layer *layer;
  cr_assert_eq(hmn_layer_create(&cfg, "ref", &layer, &err), HMN_OK, "%s", err.message);
  float x[11] = {0}, mod[3] = {0}, ctx[4] = {0};
  hmn_learn_input learn = {mod, ctx, NULL, 0};
  /* learn without forward */
  cr_assert_eq(hmn_layer_learn(layer, &learn, &err), HMN_EINVAL);
  cr_assert(strstr(err.message, "without hmn_layer_forward") != NULL, "%s", err.message);
  /* the policy rule needs the action: not through the fused step */
  hmn_step_input in = {x, mod, ctx, NULL};
  cr_assert_eq(hmn_layer_step(layer, &in, &err), HMN_EINVAL);
  cr_assert(strstr(err.message, "rule policy needs the action") != NULL, "%s", err.message);
  /* an action out of range */
  cr_assert_eq(hmn_layer_forward(layer, x, NULL, &err), HMN_OK, "%s", err.message);
  learn.action = 5;
  cr_assert_eq(hmn_layer_learn(layer, &learn, &err), HMN_EINVAL);
  cr_assert_eq(hmn_layer_step_count(layer), 0);
  /* a non-finite E: refused before any backend sees it */
  learn.action = 1;
  mod[1] = NAN;
  cr_assert_eq(hmn_layer_learn(layer, &learn, &err), HMN_ENUMERIC);
  cr_assert(strstr(err.message, "E[1]") != NULL, "%s", err.message);
  cr_assert_eq(hmn_layer_step_count(layer), 0);
  mod[1] = 0.0f;
  /* a non-finite x */
  x[3] = NAN;
  cr_assert_eq(hmn_layer_forward(layer, x, NULL, &err), HMN_ENUMERIC);
  cr_assert(strstr(err.message, "x[3]") != NULL, "%s", err.message);
  hmn_layer_destroy(layer);
  /* (every backend has the split now: ref, opencl, opencl-fpga, xrt) */
  static const char *const backends[] = {"ref", "opencl", "opencl-fpga", "xrt"};
  for (size_t k = 0; k < sizeof backends / sizeof backends[0]; k++) {
    const hmn__backend_ops *ops = hmn__backend_find(backends[k]);
    if (ops == NULL) continue; /* xrt where XRT was not found */
    cr_assert(ops->forward != NULL && ops->learn != NULL, "backend %s has no split", backends[k]);
  }
}

/* kappa_ji = xhat_ji (1[j = a] - pi_j): one step from zero traces with the
 * fast trace alone, psi_f = kappa. */
Test(split, policy_eligibility_is_chosen_minus_pi) {
  hmn_config cfg;
  hmn_error err;
  hmn_config_defaults(&cfg);
  cfg.n_in = 3;
  cfg.n_out = 4;
  cfg.delay_len = 1;
  cfg.rule = HMN_RULE_POLICY;
  cfg.action = HMN_ACTION_SOFTMAX;
  cfg.temperature = 0.5f;
  cfg.noise_sigma = 0.0f;
  hmn_layer *layer;
  cr_assert_eq(hmn_layer_create(&cfg, "ref", &layer, &err), HMN_OK, "%s", err.message);
  float x[3] = {1.0f, 0.5f, -2.0f}, mod[3] = {0}, ctx[4] = {1, 0, 0, 0}, z[4];
  cr_assert_eq(hmn_layer_forward(layer, x, z, &err), HMN_OK, "%s", err.message);
  hmn_learn_input learn = {mod, ctx, NULL, 2};
  cr_assert_eq(hmn_layer_learn(layer, &learn, &err), HMN_OK, "%s", err.message);
  double zmax = z[0], den = 0.0, pi[4];
  for (int j = 1; j < 4; j++) zmax = fmax(zmax, z[j]);
  for (int j = 0; j < 4; j++) den += exp((z[j] - zmax) / 0.5);
  for (int j = 0; j < 4; j++) pi[j] = exp((z[j] - zmax) / 0.5) / den;
  float psi[12];
  cr_assert_eq(hmn_layer_read(layer, HMN_ARRAY_PSI_F, psi, sizeof psi, &err), HMN_OK);
  double total = 0.0;
  for (int j = 0; j < 4; j++)
    for (int i = 0; i < 3; i++) {
      double want = x[i] * ((j == 2 ? 1.0 : 0.0) - pi[j]);
      cr_assert_float_eq(psi[j * 3 + i], want, 1e-6, "psi_f[%d][%d]", j, i);
      total += psi[j * 3 + i];
    }
  /* sum_j (1[j = a] - pi_j) = 0: the credit moves between arms. */
  cr_assert_float_eq(total, 0.0, 1e-6);
  hmn_layer_destroy(layer);
}

/* The FPGA path's learn refuses a policy step without a valid action and
 * changes nothing. */
Test(split, opencl_fpga_policy_action_out_of_range, .timeout = 300) {
  HMN_TEST_REQUIRE_OPENCL();
  hmn_config cfg;
  hmn_error err;
  split_config(&cfg, HMN_RULE_POLICY);
  hmn_layer *layer = hmn_test_layer(&cfg, "opencl-fpga");
  float x[11] = {0}, mod[3] = {0}, ctx[4] = {0};
  hmn_learn_input learn = {mod, ctx, NULL, 5};
  cr_assert_eq(hmn_layer_forward(layer, x, NULL, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_learn(layer, &learn, &err), HMN_EINVAL);
  cr_assert(strstr(err.message, "rule policy needs the action") != NULL, "%s", err.message);
  cr_assert_eq(hmn_layer_step_count(layer), 0);
  learn.action = 4;
  cr_assert_eq(hmn_layer_learn(layer, &learn, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_step_count(layer), 1);
  hmn_layer_destroy(layer);
}
