/*
 * sha256.c - SHA-256 (FIPS 180-4), for the bitstream manifest's checksums.
 * None of libhmn's dependencies (zlib, libinih, OpenCL) offers it, and
 * this page of code is cheaper than a crypto library dependency; the
 * tests check it against the FIPS 180-4 examples.
 */
#include "io/sha256.h"

#include <string.h>

static const uint32_t hmn__sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static uint32_t hmn__rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

/* One 64-byte block into the state (FIPS 180-4 section 6.2.2). */
static void hmn__sha256_block(uint32_t h[8], const unsigned char *p) {
  uint32_t w[64];
  for (int t = 0; t < 16; t++)
    w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 |
           (uint32_t)p[4 * t + 3];
  for (int t = 16; t < 64; t++) {
    uint32_t s0 = hmn__rotr(w[t - 15], 7) ^ hmn__rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
    uint32_t s1 = hmn__rotr(w[t - 2], 17) ^ hmn__rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int t = 0; t < 64; t++) {
    uint32_t t1 = k + (hmn__rotr(e, 6) ^ hmn__rotr(e, 11) ^ hmn__rotr(e, 25)) +
                  ((e & f) ^ (~e & g)) + hmn__sha256_k[t] + w[t];
    uint32_t t2 = (hmn__rotr(a, 2) ^ hmn__rotr(a, 13) ^ hmn__rotr(a, 22)) +
                  ((a & b) ^ (a & c) ^ (b & c));
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += k;
}

void hmn__sha256_init(hmn__sha256 *s) {
  static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(s->h, h0, sizeof h0);
  s->bytes = 0;
  s->fill = 0;
}

void hmn__sha256_update(hmn__sha256 *s, const void *data, size_t len) {
  const unsigned char *p = data;
  s->bytes += len;
  while (len > 0) {
    size_t take = sizeof s->buf - s->fill < len ? sizeof s->buf - s->fill : len;
    memcpy(s->buf + s->fill, p, take);
    s->fill += take;
    p += take;
    len -= take;
    if (s->fill == sizeof s->buf) {
      hmn__sha256_block(s->h, s->buf);
      s->fill = 0;
    }
  }
}

void hmn__sha256_final(hmn__sha256 *s, unsigned char out[HMN__SHA256_BYTES]) {
  /* Padding: 0x80, zeros to 56 mod 64, the length in bits big-endian. */
  uint64_t bits = s->bytes * 8u;
  unsigned char pad[72] = {0x80};
  size_t n = (s->fill < 56 ? 56 : 120) - s->fill;
  for (int k = 0; k < 8; k++) pad[n + (size_t)k] = (unsigned char)(bits >> (56 - 8 * k));
  hmn__sha256_update(s, pad, n + 8);
  for (int k = 0; k < 8; k++) {
    out[4 * k] = (unsigned char)(s->h[k] >> 24);
    out[4 * k + 1] = (unsigned char)(s->h[k] >> 16);
    out[4 * k + 2] = (unsigned char)(s->h[k] >> 8);
    out[4 * k + 3] = (unsigned char)s->h[k];
  }
}

void hmn__sha256_hex(const void *data, size_t len, char out[HMN__SHA256_HEX]) {
  hmn__sha256 s;
  unsigned char digest[HMN__SHA256_BYTES];
  hmn__sha256_init(&s);
  hmn__sha256_update(&s, data, len);
  hmn__sha256_final(&s, digest);
  for (int k = 0; k < HMN__SHA256_BYTES; k++) {
    static const char hex[] = "0123456789abcdef";
    out[2 * k] = hex[digest[k] >> 4];
    out[2 * k + 1] = hex[digest[k] & 15];
  }
  out[2 * HMN__SHA256_BYTES] = '\0';
}
