/*
 * agent.c - the closed loop: a layer driven by a task, fed E_k by the
 * neuromodulator sources, its learning rates tuned by the meta-learner
 * in windows of meta_window steps (SPEC section 6).
 *
 * One live step at time t: the task's input x(t), C_global(t). For a
 * rewarding task with credit = now (the default): the layer's forward
 * half (z(t)), the action from z(t) and its reward, the sources' update
 * by it, E(t) from the sources (the RPE of this step's reward, the
 * novelty of x(t), the reward uncertainty), then the learning half with
 * E(t) and the action. With credit = late, E(t) is computed before the
 * step, so it carries the RPE of step t - 1 (the timing of a fused step).
 *
 * Windows are aligned to t = 0, so the schedule is a function of t alone
 * and a run cut at any step and resumed from its checkpoint follows the
 * same path: the window in progress (its sums; its step count is
 * t mod meta_window) and the meta-learner's state are in the checkpoint.
 * The first window runs at the configured rates: the layer and the
 * sources' running means start from nothing, and a probe of that window
 * would measure the start-up, not the rates.
 */
#include "internal.h"
#include "io/io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Section "meta": the meta-learner, then f64 sums of the window in
 * progress: reward, regret, G; then the name of the backend that wrote
 * it, NUL-padded (files written before it was recorded end after the
 * sums and still load). */
#define HMN__AGENT_META_BYTES (HMN__META_BYTES + 3 * 8)
#define HMN__AGENT_BACKEND_BYTES 16

static void hmn__agent_free(hmn_agent *agent) {
  hmn_task_destroy(agent->task);
  hmn_layer_destroy(agent->layer);
  hmn_layer_destroy(agent->twin);
  hmn__free(agent->z_twin);
  hmn__free(agent->mod_twin);
  hmn__free(agent->copy_buf);
  hmn__free(agent->twin_saved);
  hmn__sources_free(&agent->src);
  hmn__sources_free(&agent->src_snap);
  hmn__free(agent->z);
  hmn__free(agent->mod);
  hmn__free(agent);
}

void hmn_agent_destroy(hmn_agent *agent) {
  if (agent != NULL) hmn__agent_free(agent);
}

hmn_layer *hmn_agent_layer(hmn_agent *agent) { return agent->layer; }
hmn_task *hmn_agent_task(hmn_agent *agent) { return agent->task; }

uint64_t hmn_agent_probe_steps(const hmn_agent *agent) { return agent->probe_steps; }

int hmn_agent_meta_active(const hmn_agent *agent) {
  return agent->rewarded && hmn__meta_probes(hmn_layer_config(agent->layer)) > 0;
}

void hmn_agent_eta(const hmn_agent *agent, float *eta_local, float *eta_global) {
  float eta[HMN__META_DIM];
  const hmn_config *cfg = hmn_layer_config(agent->layer);
  if (hmn_agent_meta_active(agent)) {
    hmn__meta_eta(&agent->meta, cfg, eta);
  } else {
    hmn_layer_get_eta(agent->layer, &eta[0], &eta[1], NULL);
  }
  *eta_local = eta[0];
  *eta_global = eta[1];
}

/* ------------------------------------------------------------------ */
/* meta_mode = paired.
 *
 * Both probes of an SPSA iteration run live in the same window, the
 * layer at one (theta +- c_k Delta) and a twin copy of it at the other.
 * With paired_copies = resync the layer runs probe 0 and the twin takes
 * the layer's state when each window starts; with persistent the twin
 * keeps its own state and the layer always runs the probe with the
 * larger eta_global, so each copy keeps to one side of theta and their
 * difference measures the rates' long-run effect. Both see the same x(t) and the same neuron noise, and both
 * learn from the one action taken and its one reward. The action comes
 * from the mixture of their policies (a fair coin from the meta stream at
 * counter (t, 1) picks whose z the task samples), so the task is asked
 * once per step, as in the online mode. The reward each probe's own
 * policy would have earned is estimated off-policy: with pi_p the
 * probe's softmax and mu = (pi_0 + pi_1) / 2 the behaviour,
 *
 *   R_p += (r - rbar) pi_p(a) / mu(a),
 *
 * unbiased for the sum of E_pi_p[r] - rbar, with weights below 2; rbar,
 * the sources' reward expectation before this step, is a baseline that
 * cuts the variance and cancels from R_0 - R_1 in expectation. The
 * probes share every random draw, so R_0 - R_1 carries little noise
 * where the two policies agree (common random numbers without a replay).
 * Each copy learns from an action drawn from the mixture, not from its
 * own policy; paired_learn = weighted scales each copy's E by
 * pi_p(a) / mu(a) to make its update on-policy in expectation (and
 * noisier). docs/phase0.md measures both.
 */

static bool hmn__agent_paired(const hmn_agent *agent) { return agent->twin != NULL; }

/* Bytes of the twin's part of section "meta": f64 eta_local, eta_global,
 * is_sum[2], then every state array of the twin. */
static size_t hmn__twin_bytes(const hmn_config *cfg) {
  size_t n = 4 * 8;
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) n += hmn__array_bytes(cfg, (hmn_array)a);
  return n;
}

static bool hmn__wants_twin(const hmn_config *cfg, bool rewarded) {
  return rewarded && cfg->meta_mode == HMN_META_PAIRED && hmn__meta_probes(cfg) > 0;
}

/* The twin's state arrays := the layer's. */
static int hmn__twin_sync(hmn_agent *agent, hmn_error *err) {
  const hmn_config *cfg = hmn_layer_config(agent->layer);
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    size_t bytes = hmn__array_bytes(cfg, (hmn_array)a);
    int rc = hmn_layer_read(agent->layer, (hmn_array)a, agent->copy_buf, bytes, err);
    if (rc == HMN_OK) rc = hmn_layer_write(agent->twin, (hmn_array)a, agent->copy_buf, bytes, err);
    if (rc != HMN_OK) return rc;
  }
  return HMN_OK;
}

/* The twin's buffers, and the checks of what paired needs. */
static int hmn__twin_parts(hmn_agent *agent, const hmn_config *cfg, hmn_error *err) {
  if (cfg->estimator != HMN_EST_SPSA)
    return hmn__fail(err, HMN_EINVAL,
                     "meta_mode=paired runs SPSA's two probes side by side: it needs "
                     "estimator=spsa, not estimator=%s",
                     hmn__estimator_find(cfg->estimator)->name);
  if (cfg->action != HMN_ACTION_SOFTMAX)
    return hmn__fail(err, HMN_EINVAL,
                     "meta_mode=paired weighs each probe's reward by its policy's probability "
                     "of the action: it needs action=softmax");
  if (!hmn_layer_has_split(agent->layer))
    return hmn__fail(err, HMN_EUNSUPPORTED,
                     "meta_mode=paired needs the forward/learn split, which backend '%s' lacks: "
                     "use meta_mode=online there",
                     hmn_layer_backend(agent->layer));
  size_t most = 0;
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    size_t b = hmn__array_bytes(cfg, (hmn_array)a);
    if (b > most) most = b;
  }
  agent->z_twin = hmn__calloc((size_t)cfg->n_out, sizeof(float));
  agent->mod_twin = hmn__calloc((size_t)cfg->n_mod, sizeof(float));
  agent->copy_buf = hmn__calloc(most > 0 ? most : 1, 1);
  if (agent->z_twin == NULL || agent->mod_twin == NULL || agent->copy_buf == NULL)
    return hmn__fail(err, HMN_ENOMEM, "out of memory for the paired probe's buffers");
  return HMN_OK;
}

/* Which probe the layer runs: with persistent copies the one with the
 * larger eta_global, so that each copy keeps to one side of theta. */
static int hmn__paired_upper(const hmn_agent *agent, const hmn_config *cfg) {
  if (cfg->paired_copies == HMN_PAIRED_RESYNC) return 0;
  double d[HMN__META_DIM];
  hmn__meta_rademacher(cfg->seed, agent->meta.k, d);
  return d[1] > 0 ? 0 : 1;
}

/* The probability of arm a under softmax(z / temperature), in double as
 * the task samples it. */
static double hmn__softmax_prob(const float *z, int n, float temperature, int a) {
  double zmax = z[0];
  for (int j = 1; j < n; j++)
    if (z[j] > zmax) zmax = z[j];
  double total = 0.0;
  for (int j = 0; j < n; j++) total += exp(((double)z[j] - zmax) / temperature);
  return exp(((double)z[a] - zmax) / temperature) / total;
}

/* Everything but the layer and the states, which create and load fill. */
static int hmn__agent_parts(hmn_agent *agent, const hmn_config *cfg, hmn_error *err) {
  int rc;
  if (agent->src.x_mean == NULL && (rc = hmn__sources_init(&agent->src, cfg, err)) != HMN_OK)
    return rc;
  if ((rc = hmn__sources_init(&agent->src_snap, cfg, err)) != HMN_OK) return rc;
  agent->z = hmn__calloc((size_t)cfg->n_out, sizeof(float));
  agent->mod = hmn__calloc((size_t)cfg->n_mod, sizeof(float));
  if (agent->z == NULL || agent->mod == NULL)
    return hmn__fail(err, HMN_ENOMEM, "out of memory for the closed loop's buffers");
  if ((rc = hmn_task_create(hmn_task_names()[cfg->task], cfg, &agent->task, err)) != HMN_OK)
    return rc;
  agent->rewarded = hmn_task_has_feedback(agent->task) != 0;
  if (agent->rewarded && cfg->credit == HMN_CREDIT_NOW && !hmn_layer_has_split(agent->layer))
    return hmn__fail(err, HMN_EUNSUPPORTED,
                     "credit=now needs the forward/learn split, which backend '%s' lacks: use "
                     "backend ref, or credit=late (the reward as E_DA of the next step)",
                     hmn_layer_backend(agent->layer));
  return HMN_OK;
}

int hmn_agent_create(const hmn_config *cfg, const char *backend, hmn_agent **out, hmn_error *err) {
  if (cfg == NULL || out == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_agent_create: NULL argument");
  int rc;
  hmn_agent *agent = hmn__calloc(1, sizeof *agent);
  if (agent == NULL) return hmn__fail(err, HMN_ENOMEM, "out of memory creating the closed loop");
  if ((rc = hmn_layer_create(cfg, backend, &agent->layer, err)) != HMN_OK) goto fail;
  if ((rc = hmn__agent_parts(agent, cfg, err)) != HMN_OK) goto fail;
  if (hmn__wants_twin(cfg, agent->rewarded)) {
    if ((rc = hmn__twin_parts(agent, cfg, err)) != HMN_OK) goto fail;
    if ((rc = hmn_layer_create(cfg, backend, &agent->twin, err)) != HMN_OK) goto fail;
    if ((rc = hmn__twin_sync(agent, err)) != HMN_OK) goto fail;
  }
  hmn__meta_init(&agent->meta, cfg);
  /* The layer starts at theta: the config's rates, clipped into the
   * meta-learner's bounds. */
  if (hmn_agent_meta_active(agent)) {
    float eta[HMN__META_DIM];
    hmn__meta_eta(&agent->meta, cfg, eta);
    if ((rc = hmn_layer_set_eta(agent->layer, eta[0], eta[1], err)) != HMN_OK) goto fail;
    if (agent->twin != NULL && (rc = hmn_layer_set_eta(agent->twin, eta[0], eta[1], err)) != HMN_OK)
      goto fail;
  }
  *out = agent;
  return HMN_OK;

fail:
  hmn__agent_free(agent);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Checkpoints. */

int hmn_agent_save(hmn_agent *agent, const char *path, hmn_error *err) {
  if (agent == NULL || path == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_agent_save: agent and path are required");
  const hmn_config *cfg = hmn_layer_config(agent->layer);
  size_t src_bytes = hmn__sources_bytes(cfg);
  size_t twin_bytes = hmn__agent_paired(agent) ? hmn__twin_bytes(cfg) : 0;
  size_t meta_bytes = HMN__AGENT_META_BYTES + HMN__AGENT_BACKEND_BYTES + twin_bytes;
  unsigned char *meta = hmn__calloc(meta_bytes, 1);
  unsigned char *sources = hmn__calloc(src_bytes, 1);
  if (sources == NULL || meta == NULL) {
    hmn__free(meta);
    hmn__free(sources);
    return hmn__fail(err, HMN_ENOMEM, "cannot write checkpoint '%s': out of memory", path);
  }
  hmn__meta_encode(&agent->meta, meta);
  hmn__le_put_f64(meta + HMN__META_BYTES, agent->win.reward);
  hmn__le_put_f64(meta + HMN__META_BYTES + 8, agent->win.regret);
  hmn__le_put_f64(meta + HMN__META_BYTES + 16, agent->win.g);
  memset(meta + HMN__AGENT_META_BYTES, 0, HMN__AGENT_BACKEND_BYTES);
  const char *backend = hmn_layer_backend(agent->layer);
  memcpy(meta + HMN__AGENT_META_BYTES, backend,
         strlen(backend) < HMN__AGENT_BACKEND_BYTES ? strlen(backend) : HMN__AGENT_BACKEND_BYTES - 1);
  int rc = HMN_OK;
  if (twin_bytes > 0) {
    unsigned char *p = meta + HMN__AGENT_META_BYTES + HMN__AGENT_BACKEND_BYTES;
    float el, eg;
    hmn_layer_get_eta(agent->twin, &el, &eg, NULL);
    hmn__le_put_f64(p, (double)el);
    hmn__le_put_f64(p + 8, (double)eg);
    hmn__le_put_f64(p + 16, agent->is_sum[0]);
    hmn__le_put_f64(p + 24, agent->is_sum[1]);
    p += 32;
    for (int a = 0; rc == HMN_OK && a < HMN_ARRAY_COUNT; a++) {
      size_t bytes = hmn__array_bytes(cfg, (hmn_array)a);
      rc = hmn_layer_read(agent->twin, (hmn_array)a, p, bytes, err);
      p += bytes;
    }
  }
  hmn__sources_encode(&agent->src, cfg, sources);
  const hmn__ckpt_blob extra[HMN__CKPT_EXTRA_COUNT] = {
      [HMN__CKPT_META] = {meta, meta_bytes},
      [HMN__CKPT_SOURCES] = {sources, src_bytes},
  };
  if (rc == HMN_OK) rc = hmn__layer_save_extra(agent->layer, path, extra, err);
  hmn__free(meta);
  hmn__free(sources);
  return rc;
}

/* Checks and takes the extra sections, before the layer exists. */
static int hmn__agent_accept(void *user, const hmn_config *cfg, const char *path,
                             const hmn__ckpt_blob extra[HMN__CKPT_EXTRA_COUNT], hmn_error *err) {
  hmn_agent *agent = user;
  const hmn__ckpt_blob *meta = &extra[HMN__CKPT_META];
  if (meta->data == NULL)
    return hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': no section 'meta' (a layer-only checkpoint, from "
                     "hmn_layer_save; the closed loop resumes from hmn run's or hmn_agent_save's)",
                     path);
  size_t with_twin = HMN__AGENT_META_BYTES + HMN__AGENT_BACKEND_BYTES + hmn__twin_bytes(cfg);
  if (meta->len != HMN__AGENT_META_BYTES &&
      meta->len != HMN__AGENT_META_BYTES + HMN__AGENT_BACKEND_BYTES && meta->len != with_twin)
    return hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': section 'meta' has %zu bytes, expected %d, %d or %zu",
                     path, meta->len, HMN__AGENT_META_BYTES,
                     HMN__AGENT_META_BYTES + HMN__AGENT_BACKEND_BYTES, with_twin);
  int rc = hmn__meta_decode(&agent->meta, cfg, meta->data, path, err);
  if (rc != HMN_OK) return rc;
  static const char *const names[3] = {"reward", "regret", "G"};
  double sums[3];
  for (int s = 0; s < 3; s++) {
    sums[s] = hmn__le_get_f64(meta->data + HMN__META_BYTES + 8 * s);
    if (!isfinite(sums[s]))
      return hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': section 'meta' has a window %s sum of %g",
                       path, names[s], sums[s]);
  }
  agent->win = (hmn__sums){sums[0], sums[1], sums[2]};
  if (meta->len == with_twin) {
    size_t n = with_twin - HMN__AGENT_META_BYTES - HMN__AGENT_BACKEND_BYTES;
    if ((agent->twin_saved = hmn__calloc(n, 1)) == NULL)
      return hmn__fail(err, HMN_ENOMEM, "out of memory reading checkpoint '%s'", path);
    memcpy(agent->twin_saved, meta->data + HMN__AGENT_META_BYTES + HMN__AGENT_BACKEND_BYTES, n);
    agent->twin_saved_len = n;
  }
  if ((rc = hmn__sources_init(&agent->src, cfg, err)) != HMN_OK) return rc;
  return hmn__sources_decode(&agent->src, cfg, &extra[HMN__CKPT_SOURCES], path, err);
}

int hmn_agent_saved_backend(const char *path, char *out, size_t size, hmn_error *err) {
  if (path == NULL || out == NULL || size == 0)
    return hmn__fail(err, HMN_EINVAL, "hmn_agent_saved_backend: path and out are required");
  out[0] = '\0';
  hmn_ckpt_info *info = hmn__calloc(1, sizeof *info);
  if (info == NULL) return hmn__fail(err, HMN_ENOMEM, "out of memory reading checkpoint '%s'", path);
  int rc = hmn_ckpt_inspect(path, info, err);
  const hmn_ckpt_section_info *meta = NULL;
  for (uint32_t k = 0; rc == HMN_OK && k < info->n_sections; k++)
    if (strcmp(info->sections[k].name, "meta") == 0) meta = &info->sections[k];
  if (rc == HMN_OK && meta == NULL)
    rc = hmn__fail(err, HMN_EFORMAT,
                   "checkpoint '%s': no section 'meta' (a layer-only checkpoint, from "
                   "hmn_layer_save)",
                   path);
  char name[HMN__AGENT_BACKEND_BYTES + 1] = {0};
  if (rc == HMN_OK && meta->length >= HMN__AGENT_META_BYTES + HMN__AGENT_BACKEND_BYTES) {
    FILE *f = fopen(path, "rb");
    bool ok = f != NULL &&
              fseek(f, (long)(meta->offset + HMN__AGENT_META_BYTES), SEEK_SET) == 0 &&
              fread(name, 1, HMN__AGENT_BACKEND_BYTES, f) == HMN__AGENT_BACKEND_BYTES;
    if (f != NULL) fclose(f);
    if (!ok) rc = hmn__fail(err, HMN_EIO, "cannot read checkpoint '%s'", path);
  }
  /* A name is letters, digits and '-': anything else is not one. */
  for (size_t k = 0; rc == HMN_OK && name[k] != '\0'; k++)
    if (!((name[k] >= 'a' && name[k] <= 'z') || (name[k] >= '0' && name[k] <= '9') ||
          name[k] == '-'))
      rc = hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': section 'meta' names no backend", path);
  if (rc == HMN_OK && strlen(name) >= size)
    rc = hmn__fail(err, HMN_EINVAL, "hmn_agent_saved_backend: buffer too small");
  if (rc == HMN_OK) memcpy(out, name, strlen(name) + 1);
  hmn__free(info);
  return rc;
}

int hmn_agent_load(const char *path, const char *backend, hmn_agent **out, hmn_error *err) {
  if (path == NULL || out == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_agent_load: path and out are required");
  int rc;
  hmn_agent *agent = hmn__calloc(1, sizeof *agent);
  if (agent == NULL) return hmn__fail(err, HMN_ENOMEM, "out of memory creating the closed loop");
  rc = hmn__layer_load_extra(path, backend, hmn__agent_accept, agent, &agent->layer, err);
  if (rc != HMN_OK) goto fail;
  const hmn_config *cfg = hmn_layer_config(agent->layer);
  if ((rc = hmn__agent_parts(agent, cfg, err)) != HMN_OK) goto fail;
  if (hmn__wants_twin(cfg, agent->rewarded)) {
    if (agent->twin_saved == NULL) {
      rc = hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': meta_mode is paired but section 'meta' has no twin "
                     "layer",
                     path);
      goto fail;
    }
    if ((rc = hmn__twin_parts(agent, cfg, err)) != HMN_OK) goto fail;
    /* The twin is the layer of the file (its t, config, statistics), then
     * its own arrays and rates. */
    if ((rc = hmn__layer_load_extra(path, backend, NULL, NULL, &agent->twin, err)) != HMN_OK)
      goto fail;
    const unsigned char *p = agent->twin_saved;
    double el = hmn__le_get_f64(p), eg = hmn__le_get_f64(p + 8);
    agent->is_sum[0] = hmn__le_get_f64(p + 16);
    agent->is_sum[1] = hmn__le_get_f64(p + 24);
    if (!isfinite(agent->is_sum[0]) || !isfinite(agent->is_sum[1])) {
      rc = hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': section 'meta' has a paired sum of %g",
                     path, isfinite(agent->is_sum[0]) ? agent->is_sum[1] : agent->is_sum[0]);
      goto fail;
    }
    if ((rc = hmn_layer_set_eta(agent->twin, (float)el, (float)eg, err)) != HMN_OK) goto fail;
    p += 32;
    for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
      size_t bytes = hmn__array_bytes(cfg, (hmn_array)a);
      if ((rc = hmn_layer_write(agent->twin, (hmn_array)a, p, bytes, err)) != HMN_OK) goto fail;
      p += bytes;
    }
  }
  hmn__free(agent->twin_saved);
  agent->twin_saved = NULL;
  *out = agent;
  return HMN_OK;

fail:
  hmn__agent_free(agent);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Stepping. */

/* One step at the layer's t, its outcome added to `sums`. A rewarding
 * task on a backend with the forward/learn split: forward (z from x(t)),
 * the action and its reward, the sources, then learn with E(t) and the
 * action. With credit = now E_DA(t) is the RPE of this step's own
 * reward; with credit = late it is the previous step's (E(t) computed
 * before the step, as a fused step must). Without the split only the
 * late timing and the Hebbian rule exist (agent creation checks). */
static int hmn__agent_step(hmn_agent *agent, hmn__sums *sums, hmn_error *err) {
  hmn_layer *layer = agent->layer;
  const hmn_config *cfg = hmn_layer_config(layer);
  uint64_t t = hmn_layer_step_count(layer);
  hmn_step_input in;
  hmn_step_stats stats;
  hmn_feedback fb;
  int rc = hmn_task_input(agent->task, t, &in, err);
  if (rc != HMN_OK) return rc;
  if (!agent->rewarded) {
    if ((rc = hmn_layer_step(layer, &in, err)) != HMN_OK) return rc;
    if ((rc = hmn_layer_stats(layer, &stats, err)) != HMN_OK) return rc;
    sums->g += stats.g_mean;
    return HMN_OK;
  }
  bool late = cfg->credit == HMN_CREDIT_LATE;
  if (late) hmn__sources_signals(&agent->src, cfg, in.x, agent->z, agent->mod);
  if (hmn_layer_has_split(layer)) {
    if ((rc = hmn_layer_forward(layer, in.x, agent->z, err)) != HMN_OK) return rc;
    if ((rc = hmn_task_feedback(agent->task, t, agent->z, &fb, err)) != HMN_OK) return rc;
    hmn__sources_context(&agent->src, cfg, in.ctx);
    hmn__sources_observe(&agent->src, cfg, fb.reward);
    if (!late) hmn__sources_signals(&agent->src, cfg, in.x, agent->z, agent->mod);
    hmn_learn_input learn = {agent->mod, in.ctx, in.phase, fb.action};
    if ((rc = hmn_layer_learn(layer, &learn, err)) != HMN_OK) return rc;
  } else {
    in.mod = agent->mod;
    if ((rc = hmn_layer_step(layer, &in, err)) != HMN_OK) return rc;
    if ((rc = hmn_layer_output(layer, agent->z, err)) != HMN_OK) return rc;
    if ((rc = hmn_task_feedback(agent->task, t, agent->z, &fb, err)) != HMN_OK) return rc;
    hmn__sources_context(&agent->src, cfg, in.ctx);
    hmn__sources_observe(&agent->src, cfg, fb.reward);
  }
  if ((rc = hmn_layer_stats(layer, &stats, err)) != HMN_OK) return rc;
  sums->g += stats.g_mean;
  sums->reward += fb.reward;
  sums->regret += fb.regret;
  return HMN_OK;
}

/* One step of the paired mode (see above): both copies forward, the
 * action from the mixture, the probes' weighted rewards, then both learn
 * from the one outcome. */
static int hmn__agent_step_paired(hmn_agent *agent, hmn__sums *sums, hmn_error *err) {
  hmn_layer *layer = agent->layer;
  const hmn_config *cfg = hmn_layer_config(layer);
  uint64_t t = hmn_layer_step_count(layer);
  hmn_step_input in;
  hmn_step_stats stats;
  hmn_feedback fb;
  int rc = hmn_task_input(agent->task, t, &in, err);
  if (rc != HMN_OK) return rc;
  bool late = cfg->credit == HMN_CREDIT_LATE;
  if (late) hmn__sources_signals(&agent->src, cfg, in.x, agent->z, agent->mod);
  if ((rc = hmn_layer_forward(layer, in.x, agent->z, err)) != HMN_OK) return rc;
  if ((rc = hmn_layer_forward(agent->twin, in.x, agent->z_twin, err)) != HMN_OK) return rc;
  uint32_t coin[4];
  hmn_philox(cfg->seed, t, 1, HMN_STREAM_META, coin);
  const float *zb = (coin[0] >> 31) != 0 ? agent->z_twin : agent->z;
  if ((rc = hmn_task_feedback(agent->task, t, zb, &fb, err)) != HMN_OK) return rc;
  double p0 = hmn__softmax_prob(agent->z, cfg->n_out, cfg->temperature, fb.action);
  double p1 = hmn__softmax_prob(agent->z_twin, cfg->n_out, cfg->temperature, fb.action);
  double mu = 0.5 * (p0 + p1);
  double centred = (double)fb.reward - (double)agent->src.rbar;
  agent->is_sum[0] += centred * p0 / mu;
  agent->is_sum[1] += centred * p1 / mu;
  hmn__sources_context(&agent->src, cfg, in.ctx);
  hmn__sources_observe(&agent->src, cfg, fb.reward);
  if (!late) hmn__sources_signals(&agent->src, cfg, in.x, zb, agent->mod);
  hmn_learn_input learn = {agent->mod, in.ctx, in.phase, fb.action};
  bool weighted = cfg->paired_learn == HMN_PAIRED_WEIGHTED;
  if (weighted) {
    for (int k = 0; k < cfg->n_mod; k++) agent->mod_twin[k] = (float)((double)agent->mod[k] * p0 / mu);
    learn.mod = agent->mod_twin;
  }
  if ((rc = hmn_layer_learn(layer, &learn, err)) != HMN_OK) return rc;
  if (weighted)
    for (int k = 0; k < cfg->n_mod; k++) agent->mod_twin[k] = (float)((double)agent->mod[k] * p1 / mu);
  if ((rc = hmn_layer_learn(agent->twin, &learn, err)) != HMN_OK) return rc;
  if (zb != agent->z) memcpy(agent->z, zb, (size_t)cfg->n_out * sizeof(float));
  if ((rc = hmn_layer_stats(layer, &stats, err)) != HMN_OK) return rc;
  sums->g += stats.g_mean;
  sums->reward += fb.reward;
  sums->regret += fb.regret;
  return HMN_OK;
}

/* The layer and the sources back to the snapshot. */
static int hmn__agent_restore(hmn_agent *agent, hmn_error *err) {
  int rc = hmn_layer_snapshot_restore(agent->layer, err);
  if (rc == HMN_OK) hmn__sources_copy(&agent->src, &agent->src_snap);
  return rc;
}

int hmn__agent_lookahead(hmn_agent *agent, hmn_error *err) {
  hmn_layer *layer = agent->layer;
  const hmn_config *cfg = hmn_layer_config(layer);
  int n_probes = hmn__meta_probes(cfg);
  hmn__meta before = agent->meta;
  float eta[HMN__META_DIM];
  int rc = hmn_layer_snapshot_save(layer, err);
  if (rc != HMN_OK) return rc;
  hmn__sources_copy(&agent->src_snap, &agent->src);
  for (int p = 0; p < n_probes; p++) {
    /* Every probe covers the same steps t .. t + W - 1: with the task a
     * function of t, they see the same contexts and reward draws. */
    hmn__sums sums = {0.0, 0.0, 0.0};
    hmn__meta_probe_eta(&agent->meta, cfg, p, eta);
    rc = hmn_layer_set_eta(layer, eta[0], eta[1], err);
    for (int32_t s = 0; rc == HMN_OK && s < cfg->meta_window; s++) rc = hmn__agent_step(agent, &sums, err);
    /* Put back what the probe changed even when it failed; the first
     * error is the one to report. */
    int restored = hmn__agent_restore(agent, rc == HMN_OK ? err : NULL);
    if (rc == HMN_OK) rc = restored;
    if (rc != HMN_OK) {
      agent->meta = before;
      return rc;
    }
    hmn__meta_record(&agent->meta, cfg, -sums.reward / (double)cfg->meta_window);
  }
  hmn__meta_eta(&agent->meta, cfg, eta);
  return hmn_layer_set_eta(layer, eta[0], eta[1], err);
}

int hmn_agent_run(hmn_agent *agent, uint64_t max_steps, hmn_window *out, hmn_error *err) {
  if (agent == NULL || out == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_agent_run: NULL argument");
  hmn_layer *layer = agent->layer;
  const hmn_config *cfg = hmn_layer_config(layer);
  uint64_t window = (uint64_t)cfg->meta_window;
  uint64_t t = hmn_layer_step_count(layer);
  int rc = HMN_OK;
  bool meta = hmn_agent_meta_active(agent) != 0;
  if (max_steps > 0 && meta && t % window == 0 && t >= window) {
    uint64_t k_before = agent->meta.k;
    if (cfg->meta_mode == HMN_META_LOOKAHEAD) {
      rc = hmn__agent_lookahead(agent, err);
      if (rc == HMN_OK)
        agent->probe_steps += (agent->meta.k - k_before) * (uint64_t)hmn__meta_probes(cfg) * window;
    } else if (hmn__agent_paired(agent)) {
      /* Probe 0 on the layer, probe 1 on the twin, both from the
       * layer's state. */
      float eta[HMN__META_DIM];
      int up = hmn__paired_upper(agent, cfg);
      hmn__meta_probe_eta(&agent->meta, cfg, up, eta);
      rc = hmn_layer_set_eta(layer, eta[0], eta[1], err);
      hmn__meta_probe_eta(&agent->meta, cfg, 1 - up, eta);
      if (rc == HMN_OK) rc = hmn_layer_set_eta(agent->twin, eta[0], eta[1], err);
      if (rc == HMN_OK && cfg->paired_copies == HMN_PAIRED_RESYNC) rc = hmn__twin_sync(agent, err);
    } else {
      float eta[HMN__META_DIM];
      (void)k_before;
      hmn__meta_probe_eta(&agent->meta, cfg, agent->meta.probe, eta);
      rc = hmn_layer_set_eta(layer, eta[0], eta[1], err);
    }
  }
  uint64_t room = window - t % window;
  uint64_t n = max_steps < room ? max_steps : room;
  for (uint64_t s = 0; rc == HMN_OK && s < n; s++)
    rc = hmn__agent_paired(agent) ? hmn__agent_step_paired(agent, &agent->win, err)
                                  : hmn__agent_step(agent, &agent->win, err);
  if (rc != HMN_OK) return rc;

  t = hmn_layer_step_count(layer);
  /* A window completes in the call that runs its last step: a call that
   * runs nothing (max_steps 0) at a boundary describes the next window,
   * still empty, and must not record the previous one a second time. */
  bool complete = n > 0 && t % window == 0;
  uint64_t steps = complete ? window : t % window;
  memset(out, 0, sizeof *out);
  out->t = t;
  out->steps = steps;
  out->complete = complete;
  double per = steps > 0 ? 1.0 / (double)steps : NAN;
  out->reward = agent->rewarded ? agent->win.reward * per : NAN;
  out->regret = agent->rewarded ? agent->win.regret * per : NAN;
  out->g_mean = agent->win.g * per;
  hmn_layer_get_eta(layer, &out->eta_local, &out->eta_global, NULL);
  if (complete) {
    /* In online mode every window after the first was a probe. */
    if (meta && cfg->meta_mode == HMN_META_ONLINE && t >= 2 * window)
      hmn__meta_record(&agent->meta, cfg, -out->reward);
    if (hmn__agent_paired(agent)) {
      /* Both probes of the iteration at once; the window reports the
       * rates at the new theta (the layer ran at a probe). */
      if (t >= 2 * window) {
        int up = hmn__paired_upper(agent, cfg);
        hmn__meta_record(&agent->meta, cfg, -agent->is_sum[up] / (double)window);
        hmn__meta_record(&agent->meta, cfg, -agent->is_sum[1 - up] / (double)window);
      }
      agent->is_sum[0] = agent->is_sum[1] = 0.0;
      hmn_agent_eta(agent, &out->eta_local, &out->eta_global);
    }
    agent->win = (hmn__sums){0.0, 0.0, 0.0};
  }
  out->meta_iterations = agent->meta.k;
  return HMN_OK;
}
