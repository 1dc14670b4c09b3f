/*
 * hmn_philox.h - Philox4x32-10 for the hardware path: one block at a time,
 * in plain C that also compiles as C++ and under the HLS front end.
 *
 * The CPU and GPU kernels take Philox from Random123, whose feature headers
 * stop with #error unless a host architecture macro is predefined and whose
 * round function checks its round count with assert; neither holds under
 * the HLS synthesis front end, which targets an FPGA triple and has no
 * assert. This is the same generator written out: the result is
 * bit-identical to Random123's philox4x32(ctr, key) with its default 10
 * rounds (tests/test_fpga_philox.c checks it against Random123 and the
 * published known-answer vectors).
 *
 * Structure (Salmon et al., SC'11): each round multiplies words 0 and 2 by
 * fixed constants to 64-bit products, and the new block is
 *   { hi(M1*c2) ^ c1 ^ k0, lo(M1*c2), hi(M0*c0) ^ c3 ^ k1, lo(M0*c0) },
 * with the key bumped by the Weyl constants between rounds. In hardware the
 * ten rounds unroll into a chain of 20 32x32 multipliers (each two to four
 * DSP48 slices) that a pipelined loop starts once per clock.
 */
#ifndef HMN_PHILOX_H
#define HMN_PHILOX_H

#ifndef HMN_SOURCES_INLINED
#include "hmn_port.h"
#include "hmn_hls.h"
#endif

#define HMN_PHILOX_ROUNDS 10
#define HMN_PHILOX_M0 0xD2511F53u
#define HMN_PHILOX_M1 0xCD9E8D57u
#define HMN_PHILOX_W0 0x9E3779B9u
#define HMN_PHILOX_W1 0xBB67AE85u

/* A counter block and its key, as plain arrays so that C, C++ and HLS
 * (which maps them to wires) all copy them by value. */
typedef struct {
  hmnk_u32 v[4];
} hmnk_philox_ctr;
typedef struct {
  hmnk_u32 v[2];
} hmnk_philox_key;

/* The high and low halves of the 64-bit product a * b. */
HMN_INLINE hmnk_u32 hmnk_philox_mulhi(hmnk_u32 a, hmnk_u32 b) {
  return (hmnk_u32)(((hmnk_u64)a * (hmnk_u64)b) >> 32);
}
HMN_INLINE hmnk_u32 hmnk_philox_mullo(hmnk_u32 a, hmnk_u32 b) {
  return (hmnk_u32)((hmnk_u64)a * (hmnk_u64)b);
}

/* One round with round key (k0, k1). */
HMN_INLINE hmnk_philox_ctr hmnk_philox_round(hmnk_philox_ctr c, hmnk_u32 k0, hmnk_u32 k1) {
  hmnk_philox_ctr out;
  out.v[0] = hmnk_philox_mulhi(HMN_PHILOX_M1, c.v[2]) ^ c.v[1] ^ k0;
  out.v[1] = hmnk_philox_mullo(HMN_PHILOX_M1, c.v[2]);
  out.v[2] = hmnk_philox_mulhi(HMN_PHILOX_M0, c.v[0]) ^ c.v[3] ^ k1;
  out.v[3] = hmnk_philox_mullo(HMN_PHILOX_M0, c.v[0]);
  return out;
}

/* Philox4x32-10 of counter `ctr` under `key`. The round loop has constant
 * bounds, so it unrolls completely in a pipelined caller. */
HMN_INLINE hmnk_philox_ctr hmnk_philox4x32_10(hmnk_philox_ctr ctr, hmnk_philox_key key) {
  hmnk_u32 k0 = key.v[0], k1 = key.v[1];
philox_rounds:
  for (int r = 0; r < HMN_PHILOX_ROUNDS; r++) {
    HMN_HLS_PRAGMA(HLS UNROLL)
    HMN_HLS_TRIPCOUNT(HMN_PHILOX_ROUNDS, HMN_PHILOX_ROUNDS)
    ctr = hmnk_philox_round(ctr, k0, k1);
    k0 += HMN_PHILOX_W0;
    k1 += HMN_PHILOX_W1;
  }
  return ctr;
}

#endif /* HMN_PHILOX_H */
