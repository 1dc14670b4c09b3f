/*
 * split.c - the step in two halves (SPEC section 3, "Forward, then
 * learn"): hmn_layer_forward computes z for x(t) and keeps x(t);
 * hmn_layer_learn runs the whole step t with the kept x and the inputs
 * that exist only after the outcome (E, C_global, Phi, the action). The
 * backend's learn is its fused step, which recomputes eq 1 with the same
 * code and the same noise draw (counter t), so forward + learn equals
 * one fused step bit for bit by construction.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

int hmn_layer_has_split(const hmn_layer *layer) {
  return layer != NULL && layer->ops->forward != NULL && layer->ops->learn != NULL;
}

static int hmn__split_check(hmn_layer *layer, const char *fn, hmn_error *err) {
  if (layer == NULL) return hmn__fail(err, HMN_EINVAL, "%s: NULL layer", fn);
  if (!hmn_layer_has_split(layer))
    return hmn__fail(err, HMN_EUNSUPPORTED,
                     "%s: backend '%s' has no forward/learn split (backend ref has it); step "
                     "with hmn_layer_step",
                     fn, layer->ops->name);
  return HMN_OK;
}

int hmn_layer_forward(hmn_layer *layer, const float *x, float *z, hmn_error *err) {
  int rc = hmn__split_check(layer, "hmn_layer_forward", err);
  if (rc != HMN_OK) return rc;
  const hmn_config *cfg = &layer->st.cfg;
  uint64_t t = layer->st.t;
  /* Only x enters eq 1; E, C_global and Phi are checked by learn. */
  if (x == NULL) return hmn__fail(err, HMN_EINVAL, "step %llu: input 'x' is NULL", (unsigned long long)t);
  for (int i = 0; i < cfg->n_in; i++)
    if (!isfinite(x[i]))
      return hmn__fail(err, HMN_ENUMERIC, "step %llu: x[%d] is not finite (%g)",
                       (unsigned long long)t, i, (double)x[i]);
  if (layer->fwd_x == NULL && (layer->fwd_x = hmn__calloc((size_t)cfg->n_in, sizeof(float))) == NULL)
    return hmn__fail(err, HMN_ENOMEM, "step %llu: out of memory keeping x for learn",
                     (unsigned long long)t);
  float *out = hmn__calloc((size_t)cfg->n_out, sizeof(float));
  if (out == NULL)
    return hmn__fail(err, HMN_ENOMEM, "step %llu: out of memory for z", (unsigned long long)t);
  rc = layer->ops->forward(layer, x, out, err);
  if (rc == HMN_OK) {
    memcpy(layer->fwd_x, x, (size_t)cfg->n_in * sizeof(float));
    layer->fwd_pending = true;
    layer->fwd_t = t;
    if (z != NULL) memcpy(z, out, (size_t)cfg->n_out * sizeof(float));
  }
  hmn__free(out);
  return rc;
}

int hmn_layer_learn(hmn_layer *layer, const hmn_learn_input *in, hmn_error *err) {
  int rc = hmn__split_check(layer, "hmn_layer_learn", err);
  if (rc != HMN_OK) return rc;
  if (in == NULL)
    return hmn__fail(err, HMN_EINVAL, "step %llu: no learn input", (unsigned long long)layer->st.t);
  if (!layer->fwd_pending || layer->fwd_t != layer->st.t)
    return hmn__fail(err, HMN_EINVAL,
                     "step %llu: hmn_layer_learn without hmn_layer_forward of this step",
                     (unsigned long long)layer->st.t);
  hmn_step_input step = {layer->fwd_x, in->mod, in->ctx, in->phase};
  /* Checked here once, as hmn_layer_step checks its input, so that no
   * backend's learn does it again. */
  rc = hmn__step_check_input(&layer->st.cfg, &step, layer->st.t, err);
  if (rc != HMN_OK) return rc;
  rc = layer->ops->learn(layer, &step, in->action, err);
  if (rc == HMN_OK) layer->fwd_pending = false;
  return rc;
}
