/*
 * sha256.h - SHA-256 (sha256.c), for the checksums of the bitstream
 * manifest.
 */
#ifndef HMN_SHA256_H
#define HMN_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define HMN__SHA256_BYTES 32
/* 64 hex digits and the terminating NUL. */
#define HMN__SHA256_HEX 65

typedef struct {
  uint32_t h[8];
  uint64_t bytes;
  unsigned char buf[64];
  size_t fill;
} hmn__sha256;

void hmn__sha256_init(hmn__sha256 *s);
void hmn__sha256_update(hmn__sha256 *s, const void *data, size_t len);
void hmn__sha256_final(hmn__sha256 *s, unsigned char out[HMN__SHA256_BYTES]);
/* The digest of a buffer as lower-case hex. */
void hmn__sha256_hex(const void *data, size_t len, char out[HMN__SHA256_HEX]);

#endif /* HMN_SHA256_H */
