/*
 * task.c - built-in tasks that drive a layer, and the built-in `stream`.
 * Every task input is a pure function of (seed, t) drawn from the task
 * stream, so a resumed run sees exactly the inputs an uninterrupted one
 * would. Tasks other than stream live in files of their own
 * (task_bandit.c) behind hmn__task_ops.
 *
 * `stream`: at each step one of HMN__STREAM_PATTERNS prototype input
 * patterns is shown with a little noise; the modulators E_k are uniform in
 * [-1, 1]; C_global is a one-hot code of the pattern; the phase comes from
 * the built-in oscillator.
 */
#include "internal.h"

#include <string.h>

#define HMN__STREAM_PATTERNS 4
#define HMN__STREAM_INPUT_NOISE 0.1f

/* Counter index ranges within the task stream for one step. */
enum { HMN__TASK_IDX_CHOICE = 0, HMN__TASK_IDX_MOD = 1, HMN__TASK_IDX_INPUT = 0x10000 };

/* In hmn_task_kind order, as hmn_task_names() promises. */
static const hmn__task_ops hmn__task_stream;
static const hmn__task_ops *const hmn__tasks[] = {&hmn__task_stream, &hmn__task_bandit};
static const char *const hmn__task_list[] = {"stream", "bandit", NULL};

const char *const *hmn_task_names(void) { return hmn__task_list; }

float hmn__task_uniform(uint64_t seed, uint64_t t, uint32_t base, size_t index) {
  uint32_t r[4];
  hmn_philox(seed, t, base + (uint32_t)(index >> 2), HMN_STREAM_TASK, r);
  return hmn_uniform(r[index & 3]);
}

/* ------------------------------------------------------------------ */
/* stream */

static int hmn__stream_create(hmn_task *task, hmn_error *err) {
  const hmn_config *cfg = &task->cfg;
  float *prototypes = hmn__calloc((size_t)HMN__STREAM_PATTERNS * cfg->n_in, sizeof(float));
  if (prototypes == NULL) return hmn__fail(err, HMN_ENOMEM, "out of memory creating task 'stream'");
  /* Prototypes are drawn at a time no run reaches, so they never share
   * counters with per-step draws. */
  for (int p = 0; p < HMN__STREAM_PATTERNS; p++)
    for (int i = 0; i < cfg->n_in; i++)
      prototypes[(size_t)p * cfg->n_in + i] =
          hmn__task_uniform(cfg->seed, UINT64_MAX - (uint64_t)p, HMN__TASK_IDX_INPUT, (size_t)i);
  task->data = prototypes;
  return HMN_OK;
}

static void hmn__stream_destroy(hmn_task *task) { hmn__free(task->data); }

static int hmn__stream_input(hmn_task *task, uint64_t t, hmn_step_input *in, hmn_error *err) {
  (void)err;
  const hmn_config *cfg = &task->cfg;
  const float *prototypes = task->data;
  uint32_t r[4];
  hmn_philox(cfg->seed, t, HMN__TASK_IDX_CHOICE, HMN_STREAM_TASK, r);
  int pattern = (int)(r[0] % HMN__STREAM_PATTERNS);
  const float *proto = prototypes + (size_t)pattern * cfg->n_in;
  for (int i = 0; i < cfg->n_in; i++) {
    float u = hmn__task_uniform(cfg->seed, t, HMN__TASK_IDX_INPUT, (size_t)i);
    task->x[i] = proto[i] + HMN__STREAM_INPUT_NOISE * (2.0f * u - 1.0f);
  }
  for (int k = 0; k < cfg->n_mod; k++)
    task->mod[k] = 2.0f * hmn__task_uniform(cfg->seed, t, HMN__TASK_IDX_MOD, (size_t)k) - 1.0f;
  memset(task->ctx, 0, (size_t)cfg->d_ctx * sizeof(float));
  task->ctx[pattern % cfg->d_ctx] = 1.0f;
  in->x = task->x;
  in->mod = task->mod;
  in->ctx = task->ctx;
  in->phase = NULL;
  return HMN_OK;
}

static const hmn__task_ops hmn__task_stream = {
    .name = "stream",
    .create = hmn__stream_create,
    .destroy = hmn__stream_destroy,
    .input = hmn__stream_input,
    .feedback = NULL,
};

/* ------------------------------------------------------------------ */
/* The public interface, common to all tasks. */

void hmn_task_destroy(hmn_task *task) {
  if (task == NULL) return;
  if (task->data != NULL) task->ops->destroy(task);
  hmn__free(task->x);
  hmn__free(task->mod);
  hmn__free(task->ctx);
  hmn__free(task);
}

int hmn_task_create(const char *name, const hmn_config *cfg, hmn_task **out, hmn_error *err) {
  const hmn__task_ops *ops = NULL;
  for (size_t k = 0; name != NULL && k < sizeof hmn__tasks / sizeof hmn__tasks[0]; k++)
    if (strcmp(hmn__tasks[k]->name, name) == 0) ops = hmn__tasks[k];
  if (ops == NULL)
    return hmn__fail(err, HMN_EINVAL, "unknown task '%s' (built-in tasks: stream, bandit)",
                     name != NULL ? name : "(null)");
  if (cfg == NULL || out == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_task_create: NULL argument");
  int rc = hmn_config_validate(cfg, err);
  if (rc != HMN_OK) return rc;
  hmn_task *task = hmn__calloc(1, sizeof *task);
  if (task == NULL) return hmn__fail(err, HMN_ENOMEM, "out of memory creating task '%s'", name);
  task->ops = ops;
  task->cfg = *cfg;
  task->x = hmn__calloc((size_t)cfg->n_in, sizeof(float));
  task->mod = hmn__calloc((size_t)cfg->n_mod, sizeof(float));
  task->ctx = hmn__calloc((size_t)cfg->d_ctx, sizeof(float));
  if (task->x == NULL || task->mod == NULL || task->ctx == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory creating task '%s'", name);
    goto fail;
  }
  if ((rc = ops->create(task, err)) != HMN_OK) goto fail;
  *out = task;
  return HMN_OK;

fail:
  hmn_task_destroy(task);
  return rc;
}

const char *hmn_task_name(const hmn_task *task) { return task->ops->name; }

int hmn_task_input(hmn_task *task, uint64_t t, hmn_step_input *in, hmn_error *err) {
  if (task == NULL || in == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_task_input: NULL argument");
  return task->ops->input(task, t, in, err);
}

int hmn_task_has_feedback(const hmn_task *task) { return task != NULL && task->ops->feedback != NULL; }

int hmn_task_feedback(hmn_task *task, uint64_t t, const float *z, hmn_feedback *fb,
                      hmn_error *err) {
  if (task == NULL || z == NULL || fb == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_task_feedback: NULL argument");
  if (task->ops->feedback == NULL)
    return hmn__fail(err, HMN_EUNSUPPORTED, "task '%s' gives no reward (step %llu)",
                     task->ops->name, (unsigned long long)t);
  return task->ops->feedback(task, t, z, fb, err);
}
