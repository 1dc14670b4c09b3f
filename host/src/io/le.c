/*
 * le.c - little-endian encoding of the integers and floats that every
 * checkpoint section stores, independent of the host's byte order.
 */
#include "io/io.h"

#include <string.h>
#include <zlib.h>

void hmn__le_put_u32(unsigned char *p, uint32_t v) {
  for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
}

void hmn__le_put_u64(unsigned char *p, uint64_t v) {
  for (int k = 0; k < 8; k++) p[k] = (unsigned char)(v >> (8 * k));
}

void hmn__le_put_i32(unsigned char *p, int32_t v) { hmn__le_put_u32(p, (uint32_t)v); }

void hmn__le_put_f32(unsigned char *p, float v) {
  uint32_t bits;
  memcpy(&bits, &v, sizeof bits);
  hmn__le_put_u32(p, bits);
}

void hmn__le_put_f64(unsigned char *p, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  hmn__le_put_u64(p, bits);
}

uint32_t hmn__le_get_u32(const unsigned char *p) {
  uint32_t v = 0;
  for (int k = 0; k < 4; k++) v |= (uint32_t)p[k] << (8 * k);
  return v;
}

uint64_t hmn__le_get_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int k = 0; k < 8; k++) v |= (uint64_t)p[k] << (8 * k);
  return v;
}

int32_t hmn__le_get_i32(const unsigned char *p) {
  uint32_t u = hmn__le_get_u32(p);
  int32_t v;
  memcpy(&v, &u, sizeof v);
  return v;
}

float hmn__le_get_f32(const unsigned char *p) {
  uint32_t bits = hmn__le_get_u32(p);
  float v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

double hmn__le_get_f64(const unsigned char *p) {
  uint64_t bits = hmn__le_get_u64(p);
  double v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

/* zlib's crc32 takes an unsigned int length: feed large buffers in parts. */
uint32_t hmn__crc32(const void *data, size_t len) {
  const unsigned char *p = data;
  uLong crc = crc32(0L, Z_NULL, 0);
  while (len > 0) {
    uInt part = len > (1u << 30) ? (1u << 30) : (uInt)len;
    crc = crc32(crc, p, part);
    p += part;
    len -= part;
  }
  return (uint32_t)crc;
}
