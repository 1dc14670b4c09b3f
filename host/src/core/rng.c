/*
 * rng.c - Philox4x32-10 from Random123 with the stream layout of SPEC
 * section 4. No RNG state exists anywhere: every draw is a pure function
 * of (seed, t, index, stream).
 */
#include "internal.h"

#include <Random123/philox.h>

void hmn_philox(uint64_t seed, uint64_t t, uint32_t index, uint32_t stream, uint32_t out[4]) {
  philox4x32_ctr_t ctr = {{(uint32_t)t, index, stream, (uint32_t)(t >> 32)}};
  philox4x32_key_t key = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
  philox4x32_ctr_t r = philox4x32(ctr, key);
  for (int k = 0; k < 4; k++) out[k] = r.v[k];
}

float hmn_uniform(uint32_t r) { return (float)(r >> 8) * (1.0f / 16777216.0f); }
