/*
 * layer.c - creating, stepping, reading and destroying layers, and the
 * dispatch to backends.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

#include "fpga/fpga.h"

static const hmn__backend_ops *const hmn__backends[] = {
    &hmn__backend_ref,
    &hmn__backend_opencl,
    &hmn__backend_opencl_fpga,
    &hmn__backend_xrt,
};

const hmn__backend_ops *hmn__backend_find(const char *name) {
  for (size_t k = 0; k < sizeof hmn__backends / sizeof hmn__backends[0]; k++)
    if (strcmp(hmn__backends[k]->name, name) == 0) return hmn__backends[k];
  return NULL;
}

int hmn_layer_create(const hmn_config *cfg, const char *backend, hmn_layer **out, hmn_error *err) {
  int rc;
  hmn_layer *layer = NULL;
  if (cfg == NULL || out == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_layer_create: NULL argument");
  if ((rc = hmn_config_validate(cfg, err)) != HMN_OK) return rc;
  /* "name:selector" names a backend and one of its devices. */
  char name[32];
  const char *spec = backend != NULL ? backend : "ref";
  const char *colon = strchr(spec, ':');
  size_t name_len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
  const hmn__backend_ops *ops = NULL;
  if (name_len < sizeof name) {
    memcpy(name, spec, name_len);
    name[name_len] = '\0';
    ops = hmn__backend_find(name);
  }
  if (ops == NULL) return hmn__fail(err, HMN_EBACKEND, "unknown backend '%s'", spec);
  if (cfg->rule == HMN_RULE_POLICY && (ops->forward == NULL || ops->learn == NULL))
    return hmn__fail(err, HMN_EUNSUPPORTED,
                     "backend '%s' has no rule 'policy' (it needs the forward/learn split, which "
                     "backend ref has)",
                     name);
  /* The spike-timing, BCM and homeostatic families run in ref, opencl and
   * on the FPGA kernel (opencl-fpga, xrt). */
  const char *family = hmn__rule_family_name(cfg);
  if (family != NULL && strcmp(name, "ref") != 0 && strcmp(name, "opencl") != 0 &&
      strcmp(name, "opencl-fpga") != 0 && strcmp(name, "xrt") != 0)
    return hmn__fail(err, HMN_EUNSUPPORTED,
                     "backend '%s' has no %s yet (backends ref, opencl, opencl-fpga and xrt have "
                     "it)",
                     name, family);
  if (colon != NULL && ops->device == NULL)
    return hmn__fail(err, HMN_EINVAL, "backend '%s' runs on the host and takes no device ('%s')",
                     name, spec);

  layer = hmn__calloc(1, sizeof *layer);
  if (layer == NULL) return hmn__fail(err, HMN_ENOMEM, "out of memory creating a layer");
  if ((rc = hmn__state_alloc(&layer->st, cfg, err)) != HMN_OK) goto fail_state;
  if (colon != NULL && (layer->device_selector = hmn__strdup(colon + 1)) == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory creating a layer");
    goto fail_selector;
  }
  hmn__state_init(&layer->st);
  layer->ops = ops;
  if ((rc = ops->init(layer, err)) != HMN_OK) goto fail_backend;
  *out = layer;
  return HMN_OK;

fail_backend:
  hmn__free(layer->device_selector);
fail_selector:
  hmn__state_free(&layer->st);
fail_state:
  hmn__free(layer);
  return rc;
}

void hmn_layer_destroy(hmn_layer *layer) {
  if (layer == NULL) return;
  layer->ops->fini(layer);
  hmn__snapshot_free(layer);
  hmn__state_free(&layer->st);
  hmn__free(layer->device_selector);
  hmn__free(layer->fwd_x);
  hmn__free(layer);
}

const hmn_config *hmn_layer_config(const hmn_layer *layer) { return &layer->st.cfg; }
const char *hmn_layer_backend(const hmn_layer *layer) { return layer->ops->name; }
const char *hmn_layer_device(const hmn_layer *layer) {
  return layer->ops->device != NULL ? layer->ops->device(layer) : "host";
}
uint64_t hmn_layer_step_count(const hmn_layer *layer) { return layer->st.t; }

/* ------------------------------------------------------------------ */
/* The backend contract: what every backend may rely on and must keep. */

void hmn__layer_lose_state(hmn_layer *layer) {
  layer->state_lost = true;
  layer->pushed = 0;
}

void hmn__layer_state_restored(hmn_layer *layer) {
  layer->state_lost = false;
  layer->pushed = 0;
}

int hmn__layer_push(hmn_layer *layer, hmn_array which, hmn_error *err) {
  int rc = layer->ops->push(layer, which, err);
  if (rc != HMN_OK) return rc;
  layer->pushed |= 1u << which;
  if (layer->pushed == (1u << HMN_ARRAY_COUNT) - 1u) layer->state_lost = false;
  return HMN_OK;
}

/* Refuse to step a layer whose device state is undefined. */
static int hmn__check_state(const hmn_layer *layer, hmn_error *err) {
  if (!layer->state_lost) return HMN_OK;
  return hmn__fail(err, HMN_EDEVICE,
                   "step %llu: the state on %s device '%s' was lost to an earlier device error; "
                   "restore a checkpoint or snapshot",
                   (unsigned long long)layer->st.t, layer->ops->name, hmn_layer_device(layer));
}

int hmn_layer_step(hmn_layer *layer, const hmn_step_input *in, hmn_error *err) {
  if (layer == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_layer_step: NULL layer");
  int rc = hmn__step_check_input(&layer->st.cfg, in, layer->st.t, err);
  if (rc == HMN_OK) rc = hmn__check_state(layer, err);
  if (rc == HMN_OK) rc = layer->ops->step(layer, in, err);
  return rc;
}

int hmn__layer_step_clamped_many(hmn_layer *layer, const hmn_step_input *in,
                                 const float *z_clamp, size_t count, hmn_error *err) {
  uint64_t t = layer->st.t;
  if (layer->ops->step_clamped == NULL)
    return hmn__fail(err, HMN_EUNSUPPORTED,
                     "step %llu: backend '%s' has no postsynaptic clamp; backends ref and opencl "
                     "have it",
                     (unsigned long long)t, layer->ops->name);
  /* All inputs first, so that a bad one steps nothing. */
  int n_out = layer->st.cfg.n_out, rc = HMN_OK;
  for (size_t k = 0; k < count; k++) {
    if ((rc = hmn__step_check_input(&layer->st.cfg, &in[k], t + k, err)) != HMN_OK) return rc;
    if (z_clamp == NULL)
      return hmn__fail(err, HMN_EINVAL, "step %llu: input 'z_clamp' is NULL",
                       (unsigned long long)(t + k));
    for (int j = 0; j < n_out; j++)
      if (!isfinite(z_clamp[k * (size_t)n_out + (size_t)j]))
        return hmn__fail(err, HMN_ENUMERIC, "step %llu: z_clamp[%d] is not finite (%g)",
                         (unsigned long long)(t + k), j, (double)z_clamp[k * (size_t)n_out + j]);
  }
  if ((rc = hmn__check_state(layer, err)) != HMN_OK || count == 0) return rc;
  return layer->ops->step_clamped(layer, in, z_clamp, count, err);
}

int hmn_layer_step_clamped(hmn_layer *layer, const hmn_step_input *in, const float *z_clamp,
                           hmn_error *err) {
  if (layer == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_layer_step_clamped: NULL layer");
  return hmn__layer_step_clamped_many(layer, in, z_clamp, 1, err);
}

int hmn_layer_step_many(hmn_layer *layer, const hmn_step_input *in, size_t count,
                        hmn_error *err) {
  if (layer == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_layer_step_many: NULL layer");
  if (count > 0 && in == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_layer_step_many: NULL inputs for %zu steps", count);
  /* All inputs first, so that a bad one steps nothing. */
  for (size_t k = 0; k < count; k++) {
    int rc = hmn__step_check_input(&layer->st.cfg, &in[k], layer->st.t + k, err);
    if (rc != HMN_OK) return rc;
  }
  int rc = hmn__check_state(layer, err);
  if (rc != HMN_OK || count == 0) return rc;
  if (layer->ops->step_many != NULL) return layer->ops->step_many(layer, in, count, err);
  for (size_t k = 0; k < count && rc == HMN_OK; k++) rc = layer->ops->step(layer, &in[k], err);
  return rc;
}

int hmn_layer_output(hmn_layer *layer, float *z, hmn_error *err) {
  return hmn_layer_read(layer, HMN_ARRAY_Z, z, hmn__array_bytes(&layer->st.cfg, HMN_ARRAY_Z), err);
}

int hmn_layer_stats(hmn_layer *layer, hmn_step_stats *stats, hmn_error *err) {
  /* Device backends count on the device and add up only when asked. */
  if (layer->ops->stats != NULL) {
    int rc = layer->ops->stats(layer, err);
    if (rc != HMN_OK) return rc;
  }
  *stats = layer->st.stats;
  return HMN_OK;
}

int hmn_layer_set_profiling(hmn_layer *layer, int enable, hmn_error *err) {
  if (layer == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_layer_set_profiling: NULL layer");
  if (layer->ops->set_profiling == NULL) return HMN_OK; /* nothing to time on the host */
  return layer->ops->set_profiling(layer, enable != 0, err);
}

int hmn_layer_profile(hmn_layer *layer, hmn_kernel_profile *out, size_t max, size_t *count,
                      hmn_error *err) {
  if (layer == NULL || count == NULL || (out == NULL && max > 0))
    return hmn__fail(err, HMN_EINVAL, "hmn_layer_profile: NULL argument");
  *count = 0;
  if (layer->ops->profile == NULL) return HMN_OK;
  return layer->ops->profile(layer, out, max, count, err);
}

static int hmn__check_array(const hmn_layer *layer, hmn_array which, size_t bytes, hmn_error *err) {
  if ((unsigned)which >= HMN_ARRAY_COUNT)
    return hmn__fail(err, HMN_EINVAL, "unknown state array %d", (int)which);
  size_t want = hmn__array_bytes(&layer->st.cfg, which);
  if (bytes != want)
    return hmn__fail(err, HMN_ESHAPE, "state array '%s' has %zu bytes, caller gave %zu",
                     hmn_array_name(which), want, bytes);
  return HMN_OK;
}

int hmn_layer_read(hmn_layer *layer, hmn_array which, void *dst, size_t bytes, hmn_error *err) {
  int rc = hmn__check_array(layer, which, bytes, err);
  if (rc == HMN_OK) rc = layer->ops->pull(layer, which, err);
  if (rc == HMN_OK) memcpy(dst, layer->st.arr[which], bytes);
  return rc;
}

int hmn_layer_write(hmn_layer *layer, hmn_array which, const void *src, size_t bytes, hmn_error *err) {
  int rc = hmn__check_array(layer, which, bytes, err);
  if (rc != HMN_OK) return rc;
  rc = hmn__check_array_values(&layer->st.cfg, which, src, HMN_EINVAL, "hmn_layer_write", err);
  if (rc != HMN_OK) return rc;
  memcpy(layer->st.arr[which], src, bytes);
  return hmn__layer_push(layer, which, err);
}

int hmn_layer_get_eta(const hmn_layer *layer, float *eta_local, float *eta_global,
                      hmn_error *err) {
  if (layer == NULL || eta_local == NULL || eta_global == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_layer_get_eta: NULL argument");
  *eta_local = layer->st.eta_local;
  *eta_global = layer->st.eta_global;
  return HMN_OK;
}

int hmn_layer_set_eta(hmn_layer *layer, float eta_local, float eta_global, hmn_error *err) {
  if (layer == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_layer_set_eta: NULL layer");
  int rc = hmn__check_eta_values(&layer->st.cfg, eta_local, eta_global, HMN_EINVAL,
                                 "hmn_layer_set_eta", err);
  if (rc != HMN_OK) return rc;
  layer->st.eta_local = eta_local;
  layer->st.eta_global = eta_global;
  return HMN_OK;
}
