/*
 * opencl_cache.c - the on-disk cache of built kernel binaries. Building
 * from source takes seconds on PoCL; a cached binary loads in
 * milliseconds.
 *
 * Location: $HMN_CACHE_DIR, else $XDG_CACHE_HOME/hmn, else
 * $HOME/.cache/hmn; HMN_CACHE=off turns the cache off. One file per build,
 * named by a 64-bit hash of everything that decides the binary (kernel
 * source with its defines, platform, device, driver, build options).
 * Files are written atomically (temporary file, rename), so readers never
 * see half a file; a file that fails its checks is ignored and rebuilt.
 */
#include "io/io.h"
#include "opencl/opencl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define HMN__CACHE_MAGIC "HMNCLBN1"
#define HMN__CACHE_HEADER_BYTES 32 /* magic, key, length, crc32, reserved */

uint64_t hmn__fnv1a(uint64_t hash, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t k = 0; k < len; k++) {
    hash ^= p[k];
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

/* mkdir -p, each new directory private to the user. */
static bool hmn__mkdirs(char *path) {
  for (char *p = path + 1; *p != '\0'; p++) {
    if (*p != '/') continue;
    *p = '\0';
    bool ok = mkdir(path, 0700) == 0 || errno == EEXIST;
    *p = '/';
    if (!ok) return false;
  }
  return mkdir(path, 0700) == 0 || errno == EEXIST;
}

/* The cache file for `key`, creating its directory; false when the cache
 * is off or has no usable place. */
static bool hmn__cache_path(uint64_t key, char *buf, size_t size) {
  const char *off = getenv("HMN_CACHE");
  if (off != NULL && strcmp(off, "off") == 0) return false;
  const char *dir = getenv("HMN_CACHE_DIR");
  const char *xdg = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  char base[4096];
  int n;
  if (dir != NULL && dir[0] != '\0')
    n = snprintf(base, sizeof base, "%s", dir);
  else if (xdg != NULL && xdg[0] == '/')
    n = snprintf(base, sizeof base, "%s/hmn", xdg);
  else if (home != NULL && home[0] != '\0')
    n = snprintf(base, sizeof base, "%s/.cache/hmn", home);
  else
    return false;
  if (n < 0 || (size_t)n >= sizeof base || !hmn__mkdirs(base)) return false;
  n = snprintf(buf, size, "%s/kernels-%016llx.bin", base, (unsigned long long)key);
  return n > 0 && (size_t)n < size;
}

static uint64_t hmn__get_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int k = 7; k >= 0; k--) v = (v << 8) | p[k];
  return v;
}

static void hmn__put_u64(unsigned char *p, uint64_t v) {
  for (int k = 0; k < 8; k++) p[k] = (unsigned char)(v >> (8 * k));
}

bool hmn__cl_cache_load(uint64_t key, unsigned char **data, size_t *len) {
  char path[4200];
  unsigned char header[HMN__CACHE_HEADER_BYTES];
  unsigned char *bin = NULL;
  bool ok = false;
  *data = NULL;
  *len = 0;
  if (!hmn__cache_path(key, path, sizeof path)) return false;
  FILE *f = fopen(path, "rb");
  if (f == NULL) return false;
  if (fread(header, 1, sizeof header, f) != sizeof header) goto cleanup;
  uint64_t length = hmn__get_u64(header + 16);
  if (memcmp(header, HMN__CACHE_MAGIC, 8) != 0 || hmn__get_u64(header + 8) != key ||
      length == 0 || length > ((uint64_t)1 << 30))
    goto cleanup;
  bin = hmn__calloc((size_t)length, 1);
  if (bin == NULL || fread(bin, 1, (size_t)length, f) != (size_t)length || fgetc(f) != EOF)
    goto cleanup;
  if (crc32(0L, bin, (uInt)length) != (uLong)(hmn__get_u64(header + 24) & 0xffffffffu))
    goto cleanup;
  *data = bin;
  *len = (size_t)length;
  bin = NULL;
  ok = true;
cleanup:
  hmn__free(bin);
  fclose(f);
  return ok;
}

void hmn__cl_cache_store(uint64_t key, const unsigned char *data, size_t len) {
  char path[4200];
  if (len == 0 || len > ((size_t)1 << 30) || !hmn__cache_path(key, path, sizeof path)) return;
  unsigned char *file = hmn__calloc(HMN__CACHE_HEADER_BYTES + len, 1);
  if (file == NULL) return;
  memcpy(file, HMN__CACHE_MAGIC, 8);
  hmn__put_u64(file + 8, key);
  hmn__put_u64(file + 16, len);
  hmn__put_u64(file + 24, crc32(0L, data, (uInt)len));
  memcpy(file + HMN__CACHE_HEADER_BYTES, data, len);
  /* A cache that cannot be written only costs the next run a rebuild. */
  hmn__write_file_atomic(path, file, HMN__CACHE_HEADER_BYTES + len, NULL);
  hmn__free(file);
}
