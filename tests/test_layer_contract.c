/*
 * test_layer_contract.c - what layer.c promises for every backend: input
 * checks before anything runs, the "state lost" guard after a device
 * error and what mends it, and how much of hmn_layer_step_many a device
 * error part-way leaves applied. A stand-in backend (the ref backend with
 * a step that fails on request) plays the device.
 */
#include "internal.h"
#include "support.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The stand-in: ref's step, except that the step with index fail_at
 * (counted over the layer's life) fails like a device error; with
 * lose_state it also leaves the state undefined. */
static uint64_t fail_at = UINT64_MAX;
static bool lose_state;
static uint64_t backend_steps; /* calls of the backend's step */

static int flaky_step(hmn_layer *layer, const hmn_step_input *in, hmn_error *err) {
  backend_steps++;
  if (layer->st.t == fail_at) {
    if (lose_state) hmn__layer_lose_state(layer);
    return hmn__fail(err, HMN_EDEVICE, "step %llu: injected device error",
                     (unsigned long long)layer->st.t);
  }
  return hmn__backend_ref.step(layer, in, err);
}

static hmn__backend_ops flaky;

static hmn_layer *make_flaky(void) {
  flaky = hmn__backend_ref;
  flaky.name = "flaky";
  flaky.step = flaky_step;
  flaky.step_many = NULL; /* one at a time through layer.c */
  fail_at = UINT64_MAX;
  lose_state = false;
  backend_steps = 0;
  hmn_config cfg;
  hmn_test_small_config(&cfg, 6, 4);
  hmn_layer *layer = NULL;
  hmn_error err;
  cr_assert_eq(hmn_layer_create(&cfg, "ref", &layer, &err), 0, "%s", err.message);
  layer->ops = &flaky;
  return layer;
}

/* count inputs from the stream task, from the layer's current step. */
typedef struct {
  hmn_task *task;
  hmn_step_input in[8];
  float *bufs[8][3];
} inputs;

static void make_inputs(inputs *io, hmn_layer *layer, size_t count) {
  hmn_error err;
  const hmn_config *cfg = hmn_layer_config(layer);
  cr_assert_leq(count, 8);
  cr_assert_eq(hmn_task_create("stream", cfg, &io->task, &err), 0, "%s", err.message);
  size_t n[3] = {(size_t)cfg->n_in, (size_t)cfg->n_mod, (size_t)cfg->d_ctx};
  for (size_t k = 0; k < count; k++) {
    hmn_step_input in;
    cr_assert_eq(hmn_task_input(io->task, hmn_layer_step_count(layer) + k, &in, &err), 0, "%s",
                 err.message);
    const float *src[3] = {in.x, in.mod, in.ctx};
    for (int b = 0; b < 3; b++) {
      io->bufs[k][b] = malloc((n[b] > 0 ? n[b] : 1) * sizeof(float));
      cr_assert_not_null(io->bufs[k][b]);
      if (n[b] > 0) memcpy(io->bufs[k][b], src[b], n[b] * sizeof(float));
    }
    io->in[k] = in;
    io->in[k].x = io->bufs[k][0];
    io->in[k].mod = io->bufs[k][1];
    io->in[k].ctx = io->bufs[k][2];
  }
  for (size_t k = count; k < 8; k++)
    for (int b = 0; b < 3; b++) io->bufs[k][b] = NULL;
}

static void free_inputs(inputs *io) {
  for (size_t k = 0; k < 8; k++)
    for (int b = 0; b < 3; b++) free(io->bufs[k][b]);
  hmn_task_destroy(io->task);
}

Test(layer_contract, bad_input_is_refused_before_the_backend_runs) {
  hmn_layer *layer = make_flaky();
  inputs io;
  make_inputs(&io, layer, 4);
  io.bufs[2][0][1] = NAN;
  hmn_error err;
  cr_assert_eq(hmn_layer_step_many(layer, io.in, 4, &err), HMN_ENUMERIC);
  cr_assert_not_null(strstr(err.message, "step 2: x[1]"), "%s", err.message);
  cr_assert_eq(backend_steps, 0, "no step ran");
  cr_assert_eq(hmn_layer_step_count(layer), 0);
  cr_assert_eq(hmn_layer_step(layer, &io.in[2], &err), HMN_ENUMERIC);
  cr_assert_eq(backend_steps, 0, "the single step checks too, before the backend");
  free_inputs(&io);
  hmn_layer_destroy(layer);
}

Test(layer_contract, step_many_leaves_the_steps_before_a_device_error) {
  hmn_layer *layer = make_flaky();
  inputs io;
  make_inputs(&io, layer, 6);
  fail_at = 3;
  hmn_error err;
  cr_assert_eq(hmn_layer_step_many(layer, io.in, 6, &err), HMN_EDEVICE);
  cr_assert_not_null(strstr(err.message, "injected"), "%s", err.message);
  /* As hmn.h says: the step count tells exactly what stayed applied. */
  cr_assert_eq(hmn_layer_step_count(layer), 3);
  cr_assert_eq(backend_steps, 4, "nothing runs after the failing step");

  /* The state was not lost: the same layer carries on, and matches a
   * layer that stepped the same inputs without an error. */
  fail_at = UINT64_MAX;
  cr_assert_eq(hmn_layer_step_many(layer, io.in + 3, 3, &err), 0, "%s", err.message);
  hmn_layer *clean = make_flaky();
  cr_assert_eq(hmn_layer_step_many(clean, io.in, 6, &err), 0, "%s", err.message);
  size_t bytes = hmn_array_length(hmn_layer_config(layer), HMN_ARRAY_W) * sizeof(float);
  float *a = malloc(bytes), *b = malloc(bytes);
  cr_assert(a != NULL && b != NULL);
  cr_assert_eq(hmn_layer_read(layer, HMN_ARRAY_W, a, bytes, &err), 0, "%s", err.message);
  cr_assert_eq(hmn_layer_read(clean, HMN_ARRAY_W, b, bytes, &err), 0, "%s", err.message);
  cr_assert_eq(memcmp(a, b, bytes), 0, "W differs after a resumed step_many");
  free(a);
  free(b);
  hmn_layer_destroy(clean);
  free_inputs(&io);
  hmn_layer_destroy(layer);
}

Test(layer_contract, lost_state_refuses_steps_until_restored) {
  hmn_layer *layer = make_flaky();
  inputs io;
  make_inputs(&io, layer, 4);
  hmn_error err;
  cr_assert_eq(hmn_layer_step(layer, &io.in[0], &err), 0, "%s", err.message);
  cr_assert_eq(hmn_layer_snapshot_save(layer, &err), 0, "%s", err.message);
  fail_at = 1;
  lose_state = true;
  cr_assert_eq(hmn_layer_step_many(layer, io.in + 1, 3, &err), HMN_EDEVICE);
  cr_assert_eq(hmn_layer_step_count(layer), 1);
  fail_at = UINT64_MAX;

  /* Every later step is refused by layer.c, without reaching the
   * backend, and the message names the step and the backend. */
  uint64_t before = backend_steps;
  cr_assert_eq(hmn_layer_step(layer, &io.in[1], &err), HMN_EDEVICE);
  cr_assert_not_null(strstr(err.message, "lost"), "%s", err.message);
  cr_assert_not_null(strstr(err.message, "step 1"), "%s", err.message);
  cr_assert_not_null(strstr(err.message, "flaky"), "%s", err.message);
  cr_assert_eq(hmn_layer_step_many(layer, io.in + 1, 2, &err), HMN_EDEVICE);
  cr_assert_not_null(strstr(err.message, "lost"), "%s", err.message);
  cr_assert_eq(backend_steps, before);

  /* A snapshot restore mends it. */
  cr_assert_eq(hmn_layer_snapshot_restore(layer, &err), 0, "%s", err.message);
  cr_assert_eq(hmn_layer_step(layer, &io.in[1], &err), 0, "%s", err.message);

  /* So does rewriting every array, and nothing less. */
  fail_at = 2;
  cr_assert_eq(hmn_layer_step(layer, &io.in[2], &err), HMN_EDEVICE);
  fail_at = UINT64_MAX;
  const hmn_config *cfg = hmn_layer_config(layer);
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    cr_assert_eq(hmn_layer_step(layer, &io.in[2], &err), HMN_EDEVICE,
                 "still lost with %d of %d arrays rewritten", a, HMN_ARRAY_COUNT);
    size_t elem = hmn_array_type((hmn_array)a) == HMN_U8 ? 1 : 4;
    size_t bytes = hmn_array_length(cfg, (hmn_array)a) * elem;
    void *buf = malloc(bytes > 0 ? bytes : 1);
    cr_assert_not_null(buf);
    cr_assert_eq(hmn_layer_read(layer, (hmn_array)a, buf, bytes, &err), 0, "%s", err.message);
    cr_assert_eq(hmn_layer_write(layer, (hmn_array)a, buf, bytes, &err), 0, "%s", err.message);
    free(buf);
  }
  cr_assert_eq(hmn_layer_step(layer, &io.in[2], &err), 0, "%s", err.message);
  free_inputs(&io);
  hmn_layer_destroy(layer);
}

Test(layer_contract, eta_accessor_follows_the_error_convention) {
  hmn_layer *layer = make_flaky();
  float l = -1.0f, g = -1.0f;
  hmn_error err;
  cr_assert_eq(hmn_layer_get_eta(layer, &l, &g, &err), 0, "%s", err.message);
  cr_assert_eq(l, layer->st.eta_local);
  cr_assert_eq(g, layer->st.eta_global);
  cr_assert_eq(hmn_layer_get_eta(NULL, &l, &g, &err), HMN_EINVAL);
  cr_assert_not_null(strstr(err.message, "hmn_layer_get_eta"), "%s", err.message);
  cr_assert_eq(hmn_layer_get_eta(layer, NULL, &g, NULL), HMN_EINVAL);
  hmn_layer_destroy(layer);
}
