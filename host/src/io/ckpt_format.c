/*
 * ckpt_format.c - the names and sizes of the checkpoint's sections
 * (ckpt_format.h holds the byte layout).
 */
#include "io/ckpt_format.h"

#include <stdint.h>
#include <string.h>

const char *hmn__ckpt_section_name(int s) {
  switch (hmn__ckpt_section_kind(s)) {
    case HMN__SEC_TEXT: return "config";
    case HMN__SEC_FIXED: return "scalars";
    case HMN__SEC_ARRAY: return hmn_array_name((hmn_array)(s - HMN__SEC_ARRAY0));
    case HMN__SEC_OPAQUE: break;
  }
  if (s == HMN__SEC_META) return "meta";
  if (s == HMN__SEC_SOURCES) return "sources";
  return NULL;
}

hmn__ckpt_kind hmn__ckpt_section_kind(int s) {
  if (s == HMN__SEC_CONFIG) return HMN__SEC_TEXT;
  if (s == HMN__SEC_SCALARS) return HMN__SEC_FIXED;
  if (s >= HMN__SEC_ARRAY0 && s < HMN__SEC_LAYER_COUNT) return HMN__SEC_ARRAY;
  return HMN__SEC_OPAQUE;
}

size_t hmn__ckpt_section_bytes(const hmn_config *cfg, int s) {
  switch (hmn__ckpt_section_kind(s)) {
    case HMN__SEC_FIXED: return HMN__CKPT_SCALARS_BYTES;
    case HMN__SEC_ARRAY: return hmn__array_bytes(cfg, (hmn_array)(s - HMN__SEC_ARRAY0));
    case HMN__SEC_TEXT:
    case HMN__SEC_OPAQUE: break;
  }
  return SIZE_MAX;
}

int hmn__ckpt_section_find(const unsigned char tag[8]) {
  size_t n = 0;
  while (n < HMN__CKPT_TAG_BYTES && tag[n] != '\0') n++;
  for (size_t k = n; k < HMN__CKPT_TAG_BYTES; k++)
    if (tag[k] != '\0') return -1;
  for (int s = 0; s < HMN__SEC_COUNT; s++) {
    const char *name = hmn__ckpt_section_name(s);
    if (strlen(name) == n && memcmp(name, tag, n) == 0) return s;
  }
  return -1;
}
