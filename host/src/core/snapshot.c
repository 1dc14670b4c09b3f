/*
 * snapshot.c - one saved copy of a layer's whole state, restorable any
 * number of times: the meta-learner's lookahead (SPEC section 6) runs a
 * window, restores, runs it again. The scalars live here; the arrays stay
 * where the state lives, so a device backend copies buffers on the device
 * and nothing crosses to the host.
 */
#include "internal.h"

#include <string.h>

void hmn__snapshot_free(hmn_layer *layer) {
  if (layer->snap == NULL) return;
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) hmn__free(layer->snap->host[a]);
  hmn__free(layer->snap);
  layer->snap = NULL;
}

/* Host copies of every array, for backends whose state is the host's. */
static int hmn__snapshot_host_save(hmn_layer *layer, hmn__snapshot *snap, hmn_error *err) {
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    size_t bytes = hmn__array_bytes(&layer->st.cfg, (hmn_array)a);
    if (snap->host[a] == NULL && (snap->host[a] = hmn__calloc(bytes, 1)) == NULL)
      return hmn__fail(err, HMN_ENOMEM, "out of memory for the snapshot of '%s' (%zu bytes)",
                       hmn_array_name((hmn_array)a), bytes);
  }
  for (int a = 0; a < HMN_ARRAY_COUNT; a++)
    memcpy(snap->host[a], layer->st.arr[a], hmn__array_bytes(&layer->st.cfg, (hmn_array)a));
  return HMN_OK;
}

int hmn_layer_snapshot_save(hmn_layer *layer, hmn_error *err) {
  if (layer == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_layer_snapshot_save: NULL layer");
  if (layer->snap == NULL && (layer->snap = hmn__calloc(1, sizeof *layer->snap)) == NULL)
    return hmn__fail(err, HMN_ENOMEM, "out of memory for a snapshot");
  hmn__snapshot *snap = layer->snap;
  int rc = layer->ops->snapshot != NULL ? layer->ops->snapshot(layer, false, err)
                                        : hmn__snapshot_host_save(layer, snap, err);
  if (rc != HMN_OK) {
    /* A half-written snapshot must not be restorable (the backend keeps
     * its buffers for the next save). */
    hmn__snapshot_free(layer);
    return rc;
  }
  snap->cfg = layer->st.cfg;
  snap->t = layer->st.t;
  snap->eta_local = layer->st.eta_local;
  snap->eta_global = layer->st.eta_global;
  snap->stats = layer->st.stats;
  return HMN_OK;
}

int hmn_layer_snapshot_restore(hmn_layer *layer, hmn_error *err) {
  if (layer == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_layer_snapshot_restore: NULL layer");
  hmn__snapshot *snap = layer->snap;
  if (snap == NULL)
    return hmn__fail(err, HMN_EINVAL, "no snapshot to restore: save one first (step %llu)",
                     (unsigned long long)layer->st.t);
  int rc = HMN_OK;
  if (layer->ops->snapshot != NULL) {
    rc = layer->ops->snapshot(layer, true, err);
  } else {
    for (int a = 0; a < HMN_ARRAY_COUNT; a++)
      memcpy(layer->st.arr[a], snap->host[a], hmn__array_bytes(&snap->cfg, (hmn_array)a));
  }
  if (rc != HMN_OK) return rc;
  hmn__layer_state_restored(layer);
  layer->st.cfg = snap->cfg;
  layer->st.t = snap->t;
  layer->st.eta_local = snap->eta_local;
  layer->st.eta_global = snap->eta_global;
  layer->st.stats = snap->stats;
  return HMN_OK;
}
