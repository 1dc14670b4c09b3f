/*
 * test_fpga_philox.c - the hardware path's own Philox4x32-10
 * (kernels/hmn_philox.h) has Random123's bits: the published known-answer
 * vectors of philox4x32 with 10 rounds, and Random123 itself over many
 * counters and keys, including the step coordinates the kernels use.
 */
#include <criterion/criterion.h>
#include <stdint.h>

#include <Random123/philox.h>

#include "hmn_philox.h"

TestSuite(fpga_philox);

static hmnk_philox_ctr ours(const uint32_t ctr[4], const uint32_t key[2]) {
  hmnk_philox_ctr c = {{ctr[0], ctr[1], ctr[2], ctr[3]}};
  hmnk_philox_key k = {{key[0], key[1]}};
  return hmnk_philox4x32_10(c, k);
}

static philox4x32_ctr_t theirs(const uint32_t ctr[4], const uint32_t key[2]) {
  philox4x32_ctr_t c = {{ctr[0], ctr[1], ctr[2], ctr[3]}};
  philox4x32_key_t k = {{key[0], key[1]}};
  return philox4x32(c, k);
}

/* Random123's kat_vectors for philox4x32 10 (counter, key, result). */
Test(fpga_philox, known_answer_vectors) {
  static const uint32_t kat[3][10] = {
      {0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u,
       0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u},
      {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
       0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu},
      {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u,
       0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u},
  };
  for (int v = 0; v < 3; v++) {
    hmnk_philox_ctr got = ours(&kat[v][0], &kat[v][4]);
    philox4x32_ctr_t ref = theirs(&kat[v][0], &kat[v][4]);
    for (int w = 0; w < 4; w++) {
      cr_assert_eq(got.v[w], kat[v][6 + w], "vector %d word %d: %08x, published %08x", v, w,
                   got.v[w], kat[v][6 + w]);
      cr_assert_eq(ref.v[w], kat[v][6 + w], "Random123 itself disagrees, vector %d", v);
    }
  }
}

/* A simple 64-bit mixer picks the inputs, so that every bit of counter and
 * key is exercised. */
static uint64_t next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Test(fpga_philox, matches_random123_over_random_blocks) {
  uint64_t s = 12345;
  for (int n = 0; n < 200000; n++) {
    uint64_t a = next(&s), b = next(&s), c = next(&s);
    uint32_t ctr[4] = {(uint32_t)a, (uint32_t)(a >> 32), (uint32_t)b, (uint32_t)(b >> 32)};
    uint32_t key[2] = {(uint32_t)c, (uint32_t)(c >> 32)};
    hmnk_philox_ctr got = ours(ctr, key);
    philox4x32_ctr_t ref = theirs(ctr, key);
    for (int w = 0; w < 4; w++)
      cr_assert_eq(got.v[w], ref.v[w], "block %d word %d", n, w);
  }
}

/* The kernels' layout (SPEC section 4): counter {t lo, index, stream, t hi}
 * under key {seed lo, seed hi}, over consecutive steps and indices. */
Test(fpga_philox, matches_random123_on_the_step_layout) {
  const uint32_t seeds[3][2] = {{0u, 0u}, {42u, 0u}, {0xdeadbeefu, 0x01234567u}};
  for (int sd = 0; sd < 3; sd++)
    for (uint32_t t = 0; t < 40; t++)
      for (uint32_t index = 0; index < 300; index++)
        for (uint32_t stream = 0; stream < 3; stream++) {
          uint32_t ctr[4] = {t, index, stream, t / 7u};
          hmnk_philox_ctr got = ours(ctr, seeds[sd]);
          philox4x32_ctr_t ref = theirs(ctr, seeds[sd]);
          for (int w = 0; w < 4; w++) cr_assert_eq(got.v[w], ref.v[w]);
        }
}
