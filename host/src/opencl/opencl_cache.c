/*
 * opencl_cache.c - the on-disk cache of built kernel binaries. Building
 * from source takes seconds on PoCL; a cached binary loads in
 * milliseconds.
 *
 * Location: $HMN_CACHE_DIR, else $XDG_CACHE_HOME/hmn, else
 * $HOME/.cache/hmn; HMN_CACHE=off turns the cache off. The folder must be
 * a directory owned by the user and writable by nobody else: a binary
 * from the cache runs with the user's rights and writes into the layer's
 * buffers, so a folder that others may write into is refused and the
 * kernels are built from source.
 *
 * One file per build, named by the SHA-256 of everything that decides the
 * binary (kernel source with its defines, platform, device, driver, build
 * options). The entry carries that key and a SHA-256 over the key and the
 * binary together, so an entry only loads for the build it was made for:
 * a binary copied from another build (another shape, other defines) with
 * its key rewritten fails the check. Files are written atomically
 * (temporary file, rename), so readers never see half a file; a file that
 * fails its checks is ignored and rebuilt.
 */
#include "io/io.h"
#include "opencl/opencl.h"

#include "io/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HMN__CACHE_MAGIC "HMNCLBN2"
/* magic (8), key (32), binary length (8), digest of key and binary (32) */
#define HMN__CACHE_HEADER_BYTES (8 + 2 * HMN__CL_KEY_BYTES + 8)
#define HMN__CACHE_MAX_BINARY ((uint64_t)1 << 30)

void hmn__cl_cache_key(const char *const *parts, size_t n, unsigned char key[HMN__CL_KEY_BYTES]) {
  hmn__sha256 s;
  hmn__sha256_init(&s);
  /* Each part with its terminating NUL, so that moving text between parts
   * changes the key. */
  for (size_t k = 0; k < n; k++) hmn__sha256_update(&s, parts[k], strlen(parts[k]) + 1);
  hmn__sha256_final(&s, key);
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

int hmn_kernel_cache_dir(char *out, size_t size, hmn_error *err) {
  char base[4096];
  int n;
  if (out == NULL || size == 0) return hmn__fail(err, HMN_EINVAL, "no buffer for the cache folder");
  out[0] = '\0';
  const char *off = getenv("HMN_CACHE");
  if (off != NULL && strcmp(off, "off") == 0) return HMN_OK;
  const char *dir = getenv("HMN_CACHE_DIR");
  const char *xdg = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  if (dir != NULL && dir[0] != '\0')
    n = snprintf(base, sizeof base, "%s", dir);
  else if (xdg != NULL && xdg[0] == '/')
    n = snprintf(base, sizeof base, "%s/hmn", xdg);
  else if (home != NULL && home[0] != '\0')
    n = snprintf(base, sizeof base, "%s/.cache/hmn", home);
  else
    return HMN_OK;
  if (n < 0 || (size_t)n >= sizeof base || (size_t)n >= size)
    return hmn__fail(err, HMN_EINVAL, "kernel cache folder name is too long: '%.200s...'", base);
  if (!hmn__mkdirs(base))
    return hmn__fail(err, HMN_EIO, "cannot create the kernel cache folder '%s': %s", base,
                     strerror(errno));
  struct stat st;
  if (stat(base, &st) != 0)
    return hmn__fail(err, HMN_EIO, "cannot read the kernel cache folder '%s': %s", base,
                     strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return hmn__fail(err, HMN_EIO, "kernel cache folder '%s' is not a directory", base);
  if (st.st_uid != geteuid())
    return hmn__fail(err, HMN_EIO,
                     "kernel cache folder '%s' is owned by uid %lu, not by this user (uid %lu): "
                     "refused, kernels are built without the cache",
                     base, (unsigned long)st.st_uid, (unsigned long)geteuid());
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return hmn__fail(err, HMN_EIO,
                     "kernel cache folder '%s' is writable by %s (mode %03o): refused, kernels "
                     "are built without the cache (chmod go-w '%s' to use it)",
                     base, (st.st_mode & S_IWOTH) != 0 ? "others" : "its group",
                     (unsigned)(st.st_mode & 0777), base);
  memcpy(out, base, (size_t)n + 1);
  return HMN_OK;
}

/* The cache file for `key`; false when the cache is off or refused. */
static bool hmn__cache_path(const unsigned char key[HMN__CL_KEY_BYTES], char *buf, size_t size) {
  char base[4096];
  if (hmn_kernel_cache_dir(base, sizeof base, NULL) != HMN_OK || base[0] == '\0') return false;
  char hex[2 * HMN__CL_KEY_BYTES + 1];
  for (int k = 0; k < HMN__CL_KEY_BYTES; k++) snprintf(hex + 2 * k, 3, "%02x", key[k]);
  int n = snprintf(buf, size, "%s/kernels-%s.bin", base, hex);
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

/* The digest that binds a binary to its key. */
static void hmn__cache_digest(const unsigned char key[HMN__CL_KEY_BYTES], const unsigned char *bin,
                              size_t len, unsigned char out[HMN__SHA256_BYTES]) {
  hmn__sha256 s;
  unsigned char n[8];
  hmn__put_u64(n, len);
  hmn__sha256_init(&s);
  hmn__sha256_update(&s, HMN__CACHE_MAGIC, 8);
  hmn__sha256_update(&s, key, HMN__CL_KEY_BYTES);
  hmn__sha256_update(&s, n, sizeof n);
  hmn__sha256_update(&s, bin, len);
  hmn__sha256_final(&s, out);
}

/* Read exactly `len` bytes. */
static bool hmn__read_all(int fd, unsigned char *buf, size_t len) {
  while (len > 0) {
    ssize_t got = read(fd, buf, len);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    buf += got;
    len -= (size_t)got;
  }
  return true;
}

bool hmn__cl_cache_load(const unsigned char key[HMN__CL_KEY_BYTES], unsigned char **data,
                        size_t *len) {
  char path[4300];
  unsigned char header[HMN__CACHE_HEADER_BYTES];
  unsigned char digest[HMN__SHA256_BYTES];
  unsigned char *bin = NULL;
  bool ok = false;
  *data = NULL;
  *len = 0;
  if (!hmn__cache_path(key, path, sizeof path)) return false;
  /* Neither a link nor anything but a regular file of this user, and no
   * waiting on a FIFO planted under the entry's name. */
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
      st.st_size < HMN__CACHE_HEADER_BYTES)
    goto cleanup;
  if (!hmn__read_all(fd, header, sizeof header)) goto cleanup;
  uint64_t length = hmn__get_u64(header + 8 + HMN__CL_KEY_BYTES);
  if (memcmp(header, HMN__CACHE_MAGIC, 8) != 0 ||
      memcmp(header + 8, key, HMN__CL_KEY_BYTES) != 0 || length == 0 ||
      length > HMN__CACHE_MAX_BINARY ||
      (uint64_t)st.st_size != HMN__CACHE_HEADER_BYTES + length)
    goto cleanup;
  bin = hmn__calloc((size_t)length, 1);
  if (bin == NULL || !hmn__read_all(fd, bin, (size_t)length)) goto cleanup;
  hmn__cache_digest(key, bin, (size_t)length, digest);
  if (memcmp(digest, header + 16 + HMN__CL_KEY_BYTES, HMN__SHA256_BYTES) != 0) goto cleanup;
  *data = bin;
  *len = (size_t)length;
  bin = NULL;
  ok = true;
cleanup:
  hmn__free(bin);
  close(fd);
  return ok;
}

void hmn__cl_cache_store(const unsigned char key[HMN__CL_KEY_BYTES], const unsigned char *data,
                         size_t len) {
  char path[4300];
  if (len == 0 || len > HMN__CACHE_MAX_BINARY || !hmn__cache_path(key, path, sizeof path)) return;
  unsigned char *file = hmn__calloc(HMN__CACHE_HEADER_BYTES + len, 1);
  if (file == NULL) return;
  memcpy(file, HMN__CACHE_MAGIC, 8);
  memcpy(file + 8, key, HMN__CL_KEY_BYTES);
  hmn__put_u64(file + 8 + HMN__CL_KEY_BYTES, len);
  hmn__cache_digest(key, data, len, file + 16 + HMN__CL_KEY_BYTES);
  memcpy(file + HMN__CACHE_HEADER_BYTES, data, len);
  /* A cache that cannot be written only costs the next run a rebuild. */
  hmn__write_file_atomic(path, file, HMN__CACHE_HEADER_BYTES + len, NULL);
  hmn__free(file);
}
