/*
 * meter_policy.c - which energy meter reads the device a layer runs on.
 */
#include "internal.h"

#include <string.h>

/* The device's entry in the OpenCL listing, by name. */
static bool hmn__device_by_name(const char *name, hmn_device_info *out) {
  size_t count = 0;
  bool found = false;
  if (hmn_opencl_devices(NULL, 0, &count, NULL) != HMN_OK || count == 0) return false;
  hmn_device_info *devs = hmn__calloc(count, sizeof *devs);
  if (devs != NULL && hmn_opencl_devices(devs, count, &count, NULL) == HMN_OK) {
    for (size_t k = 0; k < count && !found; k++) {
      if (strcmp(devs[k].name, name) == 0) {
        *out = devs[k];
        found = true;
      }
    }
  }
  hmn__free(devs);
  return found;
}

int hmn_meter_open_for_layer(const hmn_layer *layer, const char *spec, hmn_meter **out,
                             hmn_error *err) {
  if (layer == NULL || spec == NULL || out == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_meter_open_for_layer: NULL argument");
  *out = NULL;
  const char *device = hmn_layer_device(layer);
  const char *backend = hmn_layer_backend(layer);
  if (strcmp(spec, "auto") == 0) {
    hmn_device_info info;
    bool host = strcmp(backend, "ref") == 0;
    bool known = !host && hmn__device_by_name(device, &info);
    if (host || (known && info.type == HMN_DEVICE_CPU)) {
      spec = "rapl";
    } else if (known && info.type == HMN_DEVICE_GPU &&
               hmn__contains_nocase(info.platform, "NVIDIA")) {
      spec = "nvml";
    } else if (strcmp(backend, "xrt") == 0 ||
               (known && info.type == HMN_DEVICE_ACCELERATOR &&
                (hmn__contains_nocase(info.platform, "Xilinx") ||
                 hmn__contains_nocase(info.platform, "XRT") ||
                 hmn__contains_nocase(info.platform, "AMD")))) {
      spec = "xmc";
    } else {
      return hmn__fail(err, HMN_EUNSUPPORTED,
                       "no meter for %s device '%s' on platform '%s' (hmn reads RAPL on CPUs, "
                       "NVML on NVIDIA GPUs, XMC on Alveo cards)",
                       known ? hmn_device_type_name(info.type) : "this", device,
                       known ? info.platform : "?");
    }
  }
  return hmn_meter_open(spec, device, out, err);
}
