/*
 * values.c - the values a layer's state may hold. One set of rules for
 * everything that puts values into a layer from outside: a checkpoint
 * being loaded, hmn_layer_write, hmn_layer_set_eta. A value outside them
 * would not fail at once; it would spread (a NaN weight reaches psi, b,
 * c and z in one step) and be saved again.
 */
#include "internal.h"

#include <math.h>

/* Weights start in [-w_init, w_init] and every update clamps them into
 * [w_min, w_max]; a weight that no update touched keeps its start. */
static void hmn__weight_range(const hmn_config *cfg, float *lo, float *hi) {
  *lo = fminf(cfg->w_min, -cfg->w_init);
  *hi = fmaxf(cfg->w_max, cfg->w_init);
}

int hmn__check_array_values(const hmn_config *cfg, hmn_array which, const void *data,
                            int status, const char *origin, hmn_error *err) {
  const char *name = hmn_array_name(which);
  size_t n = hmn_array_length(cfg, which);
  if (hmn_array_type(which) == HMN_U8) {
    const uint8_t *v = data;
    /* Delays index the delay line: one out of range would read past it. */
    for (size_t e = 0; which == HMN_ARRAY_TAU && e < n; e++)
      if (v[e] >= (unsigned)cfg->delay_len)
        return hmn__fail(err, status, "%s has %s[%zu]=%u, must be < delay_len (%d)", origin, name,
                         e, (unsigned)v[e], (int)cfg->delay_len);
    return HMN_OK;
  }
  const float *v = data;
  float lo = -INFINITY, hi = INFINITY;
  if (which == HMN_ARRAY_W) hmn__weight_range(cfg, &lo, &hi);
  for (size_t e = 0; e < n; e++) {
    if (!isfinite(v[e]))
      return hmn__fail(err, status, "%s has %s[%zu]=%g, must be finite", origin, name, e,
                       (double)v[e]);
    if (which == HMN_ARRAY_SIGN && v[e] != 1.0f && v[e] != -1.0f)
      return hmn__fail(err, status, "%s has %s[%zu]=%.9g, must be -1 or +1", origin, name, e,
                       (double)v[e]);
    if (v[e] < lo || v[e] > hi)
      return hmn__fail(err, status,
                       "%s has %s[%zu]=%.9g, outside [%.9g, %.9g] (w_min, w_max, w_init)", origin,
                       name, e, (double)v[e], (double)lo, (double)hi);
  }
  return HMN_OK;
}

/* The meta-learner keeps a rate within [eta_min, eta_max]; a rate may
 * also be the config's own starting value, or 0 (learning off). */
static int hmn__check_eta(const char *key, float eta, float start, const hmn_config *cfg,
                          int status, const char *origin, hmn_error *err) {
  float lo = fminf(fminf(cfg->eta_min, 0.0f), start);
  float hi = fmaxf(cfg->eta_max, start);
  if (!isfinite(eta))
    return hmn__fail(err, status, "%s has %s=%g, must be finite", origin, key, (double)eta);
  if (eta < lo || eta > hi)
    return hmn__fail(err, status,
                     "%s has %s=%.9g, outside [%.9g, %.9g] (0 or eta_min, eta_max, the "
                     "config's %s)",
                     origin, key, (double)eta, (double)lo, (double)hi, key);
  return HMN_OK;
}

int hmn__check_eta_values(const hmn_config *cfg, float eta_local, float eta_global, int status,
                          const char *origin, hmn_error *err) {
  int rc = hmn__check_eta("eta_local", eta_local, cfg->eta_local, cfg, status, origin, err);
  if (rc == HMN_OK)
    rc = hmn__check_eta("eta_global", eta_global, cfg->eta_global, cfg, status, origin, err);
  return rc;
}
