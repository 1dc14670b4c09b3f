/*
 * task.c - built-in tasks that drive a layer. Every task input is a pure
 * function of (seed, t) drawn from the task stream, so a resumed run sees
 * exactly the inputs an uninterrupted one would.
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

struct hmn_task {
  hmn_config cfg;
  float *prototypes; /* HMN__STREAM_PATTERNS x N_in */
  float *x, *mod, *ctx;
};

static const char *const hmn__task_list[] = {"stream", NULL};

const char *const *hmn_task_names(void) { return hmn__task_list; }

static float hmn__task_uniform(uint64_t seed, uint64_t t, uint32_t base, size_t index) {
  uint32_t r[4];
  hmn_philox(seed, t, base + (uint32_t)(index >> 2), HMN_STREAM_TASK, r);
  return hmn_uniform(r[index & 3]);
}

void hmn_task_destroy(hmn_task *task) {
  if (task == NULL) return;
  hmn__free(task->prototypes);
  hmn__free(task->x);
  hmn__free(task->mod);
  hmn__free(task->ctx);
  hmn__free(task);
}

int hmn_task_create(const char *name, const hmn_config *cfg, hmn_task **out, hmn_error *err) {
  if (name == NULL || strcmp(name, "stream") != 0)
    return hmn__fail(err, HMN_EINVAL, "unknown task '%s' (built-in tasks: stream)",
                     name != NULL ? name : "(null)");
  hmn_task *task = hmn__calloc(1, sizeof *task);
  if (task == NULL) return hmn__fail(err, HMN_ENOMEM, "out of memory creating task '%s'", name);
  task->cfg = *cfg;
  task->prototypes = hmn__calloc((size_t)HMN__STREAM_PATTERNS * cfg->n_in, sizeof(float));
  task->x = hmn__calloc((size_t)cfg->n_in, sizeof(float));
  task->mod = hmn__calloc((size_t)cfg->n_mod, sizeof(float));
  task->ctx = hmn__calloc((size_t)cfg->d_ctx, sizeof(float));
  if (task->prototypes == NULL || task->x == NULL || task->mod == NULL || task->ctx == NULL) {
    hmn_task_destroy(task);
    return hmn__fail(err, HMN_ENOMEM, "out of memory creating task '%s'", name);
  }
  /* Prototypes are drawn at a time no run reaches, so they never share
   * counters with per-step draws. */
  for (int p = 0; p < HMN__STREAM_PATTERNS; p++)
    for (int i = 0; i < cfg->n_in; i++)
      task->prototypes[(size_t)p * cfg->n_in + i] =
          hmn__task_uniform(cfg->seed, UINT64_MAX - (uint64_t)p, HMN__TASK_IDX_INPUT, (size_t)i);
  *out = task;
  return HMN_OK;
}

int hmn_task_input(hmn_task *task, uint64_t t, hmn_step_input *in, hmn_error *err) {
  (void)err;
  const hmn_config *cfg = &task->cfg;
  uint32_t r[4];
  hmn_philox(cfg->seed, t, HMN__TASK_IDX_CHOICE, HMN_STREAM_TASK, r);
  int pattern = (int)(r[0] % HMN__STREAM_PATTERNS);
  const float *proto = task->prototypes + (size_t)pattern * cfg->n_in;
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
