/*
 * bindings.c - what bindings to other languages need beyond the calls
 * that C programs make: the size of the config struct, and the host
 * memory of a layer's state arrays for zero-copy views (the Python
 * package's NumPy arrays).
 */
#include "internal.h"

size_t hmn_config_size(void) { return sizeof(hmn_config); }

int hmn_layer_host_array(hmn_layer *layer, hmn_array which, void **data, hmn_error *err) {
  if (data == NULL) return hmn__fail(err, HMN_EINVAL, "host array: data pointer is NULL");
  *data = NULL;
  if (layer == NULL) return hmn__fail(err, HMN_EINVAL, "host array: layer is NULL");
  if ((int)which < 0 || which >= HMN_ARRAY_COUNT)
    return hmn__fail(err, HMN_EINVAL, "host array: no state array %d", (int)which);
  if (layer->ops != &hmn__backend_ref)
    return hmn__fail(err, HMN_EUNSUPPORTED,
                     "state array '%s' lives on the device of backend '%s': read it with "
                     "hmn_layer_read",
                     hmn_array_name(which), hmn_layer_backend(layer));
  *data = layer->st.arr[which];
  return HMN_OK;
}
