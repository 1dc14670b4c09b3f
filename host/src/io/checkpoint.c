/*
 * checkpoint.c - saving and loading a layer's whole state (SPEC section 7).
 *
 * File layout, every integer and float little-endian:
 *
 *   header, 64 bytes
 *     0  magic "HMNCKPT\0"         8 bytes
 *     8  u32 version = 1
 *    12  u32 header_bytes = 64
 *    16  i32 n_in, n_out, n_mod, d_ctx, delay_len
 *    36  u32 n_sections
 *    40  u64 step (t)
 *    48  u64 seed
 *    56  u32 reserved = 0
 *    60  u32 crc32 of bytes 0..59
 *   then n_sections sections back to back, each
 *     8-byte tag (name, NUL-padded), u64 payload length,
 *     u32 crc32 of the payload, u32 flags = 0, payload.
 *
 * Sections, in this order: "config" (INI text, no NUL), "scalars"
 * (u64 t, f32 eta_local, f32 eta_global), then one per hmn_array in enum
 * order, named by hmn_array_name(), holding its elements. A checkpoint of
 * the closed loop (agent.c) then has "meta" and "sources", whose payloads
 * meta.c and modulators.c define and check; hmn_layer_load skips them.
 *
 * A file is read whole into memory and validated completely before any
 * layer is touched.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>

#define CKPT_MAGIC "HMNCKPT" /* plus its terminating NUL: 8 bytes */
#define CKPT_MAGIC_BYTES 8
#define CKPT_VERSION 1u
#define CKPT_HEADER_BYTES 64u
#define CKPT_SECTION_HEADER_BYTES 24u
#define CKPT_TAG_BYTES 8
#define CKPT_SCALARS_BYTES 16u
/* config, scalars, then every array. */
#define CKPT_SECTION_COUNT (2 + HMN_ARRAY_COUNT)
/* Then, in a checkpoint of the closed loop, the extras. */
#define CKPT_ALL_SECTIONS (CKPT_SECTION_COUNT + HMN__CKPT_EXTRA_COUNT)

_Static_assert(CKPT_ALL_SECTIONS <= HMN_CKPT_MAX_SECTIONS, "too many checkpoint sections");

/* ------------------------------------------------------------------ */
/* Little-endian byte helpers. */

static void put_u32(unsigned char *p, uint32_t v) {
  for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
}

static void put_u64(unsigned char *p, uint64_t v) {
  for (int k = 0; k < 8; k++) p[k] = (unsigned char)(v >> (8 * k));
}

static void put_i32(unsigned char *p, int32_t v) { put_u32(p, (uint32_t)v); }

static void put_f32(unsigned char *p, float v) {
  uint32_t bits;
  memcpy(&bits, &v, sizeof bits);
  put_u32(p, bits);
}

static uint32_t get_u32(const unsigned char *p) {
  uint32_t v = 0;
  for (int k = 0; k < 4; k++) v |= (uint32_t)p[k] << (8 * k);
  return v;
}

static uint64_t get_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int k = 0; k < 8; k++) v |= (uint64_t)p[k] << (8 * k);
  return v;
}

static int32_t get_i32(const unsigned char *p) {
  uint32_t u = get_u32(p);
  int32_t v;
  memcpy(&v, &u, sizeof v);
  return v;
}

static float get_f32(const unsigned char *p) {
  uint32_t bits = get_u32(p);
  float v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

void hmn__le_put_u64(unsigned char *p, uint64_t v) { put_u64(p, v); }
void hmn__le_put_f32(unsigned char *p, float v) { put_f32(p, v); }
uint64_t hmn__le_get_u64(const unsigned char *p) { return get_u64(p); }
float hmn__le_get_f32(const unsigned char *p) { return get_f32(p); }

void hmn__le_put_f64(unsigned char *p, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  put_u64(p, bits);
}

double hmn__le_get_f64(const unsigned char *p) {
  uint64_t bits = get_u64(p);
  double v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

/* zlib's crc32 takes an unsigned int length: feed large buffers in parts. */
static uint32_t crc_of(const unsigned char *data, size_t len) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (len > 0) {
    uInt part = len > (1u << 30) ? (1u << 30) : (uInt)len;
    crc = crc32(crc, data, part);
    data += part;
    len -= part;
  }
  return (uint32_t)crc;
}

static void error_text(int errnum, char *buf, size_t size) {
  if (strerror_r(errnum, buf, size) != 0) snprintf(buf, size, "error %d", errnum);
}

/* Section names in file order. */
static const char *section_name(int index) {
  static const char *const extras[HMN__CKPT_EXTRA_COUNT] = {"meta", "sources"};
  if (index == 0) return "config";
  if (index == 1) return "scalars";
  if (index < CKPT_SECTION_COUNT) return hmn_array_name((hmn_array)(index - 2));
  if (index < CKPT_ALL_SECTIONS) return extras[index - CKPT_SECTION_COUNT];
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Atomic write. */

static atomic_uint ckpt_temp_counter;

static int write_all(int fd, const unsigned char *data, size_t len) {
  while (len > 0) {
    size_t part = len > (1u << 30) ? (1u << 30) : len;
    ssize_t n = write(fd, data, part);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) {
      errno = EIO;
      return -1;
    }
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Directory part of `path` ("." when it has none), malloc'd. */
static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) return hmn__strdup(".");
  size_t n = (size_t)(slash - path);
  if (n == 0) n = 1; /* "/name" lives in "/" */
  char *dir = hmn__calloc(n + 1, 1);
  if (dir != NULL) memcpy(dir, path, n);
  return dir;
}

/* `what` is put before the quoted path in messages ("checkpoint "). */
static int write_atomic(const char *path, const void *data, size_t len, const char *what,
                        hmn_error *err) {
  char reason[256];
  if (path == NULL || path[0] == '\0' || (data == NULL && len > 0))
    return hmn__fail(err, HMN_EINVAL, "cannot write %s'%s': no path or no data", what,
                     path != NULL ? path : "(null)");

  size_t tmp_size = strlen(path) + 64;
  char *tmp = hmn__calloc(tmp_size, 1);
  char *dir = dir_of(path);
  if (tmp == NULL || dir == NULL) {
    hmn__free(tmp);
    hmn__free(dir);
    return hmn__fail(err, HMN_ENOMEM, "cannot write %s'%s': out of memory", what, path);
  }

  /* A fresh temporary name next to `path`, created exclusively with the
   * ordinary permissions (0666 less the umask). */
  int fd = -1;
  for (int attempt = 0; attempt < 1000 && fd < 0; attempt++) {
    unsigned n = atomic_fetch_add(&ckpt_temp_counter, 1u);
    snprintf(tmp, tmp_size, "%s.tmp.%ld.%u", path, (long)getpid(), n);
    do {
      fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    int e = errno;
    error_text(e, reason, sizeof reason);
    hmn__free(tmp);
    hmn__free(dir);
    return hmn__fail(err, HMN_EIO, "cannot write %s'%s': cannot create a temporary file there: %s",
                     what, path, reason);
  }

  const char *step = NULL;
  if (write_all(fd, data, len) != 0)
    step = "writing";
  else if (fsync(fd) != 0)
    step = "syncing";
  int e = errno;
  if (close(fd) != 0 && step == NULL) {
    step = "closing";
    e = errno;
  }
  if (step == NULL && rename(tmp, path) != 0) {
    step = "renaming the temporary file onto it";
    e = errno;
  }
  if (step != NULL) {
    unlink(tmp);
    error_text(e, reason, sizeof reason);
    hmn__free(tmp);
    hmn__free(dir);
    return hmn__fail(err, HMN_EIO, "cannot write %s'%s': %s failed: %s", what, path, step, reason);
  }
  hmn__free(tmp);

  /* Make the rename itself durable. Some file systems cannot sync a
   * directory (EINVAL); that is not an error of ours. */
  int dfd;
  do {
    dfd = open(dir, O_RDONLY | O_DIRECTORY);
  } while (dfd < 0 && errno == EINTR);
  int rc = HMN_OK;
  if (dfd < 0 || (fsync(dfd) != 0 && errno != EINVAL)) {
    e = errno;
    error_text(e, reason, sizeof reason);
    rc = hmn__fail(err, HMN_EIO, "wrote %s'%s' but cannot sync its directory '%s': %s", what, path,
                   dir, reason);
  }
  if (dfd >= 0) close(dfd);
  hmn__free(dir);
  return rc;
}

int hmn__write_file_atomic(const char *path, const void *data, size_t len, hmn_error *err) {
  return write_atomic(path, data, len, "", err);
}

/* ------------------------------------------------------------------ */
/* Save. */

static unsigned char *put_section_header(unsigned char *p, const char *name,
                                         const unsigned char *payload, uint64_t len) {
  memset(p, 0, CKPT_TAG_BYTES);
  memcpy(p, name, strlen(name));
  put_u64(p + 8, len);
  put_u32(p + 16, crc_of(payload, (size_t)len));
  put_u32(p + 20, 0);
  return p + CKPT_SECTION_HEADER_BYTES;
}

int hmn_layer_save(hmn_layer *layer, const char *path, hmn_error *err) {
  return hmn__layer_save_extra(layer, path, NULL, err);
}

/* `extra` NULL: a layer-only checkpoint. */
int hmn__layer_save_extra(hmn_layer *layer, const char *path,
                          const hmn__ckpt_blob extra[HMN__CKPT_EXTRA_COUNT], hmn_error *err) {
  if (layer == NULL || path == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_layer_save: layer and path are required");
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    if (strlen(hmn_array_name((hmn_array)a)) > CKPT_TAG_BYTES)
      return hmn__fail(err, HMN_EINVAL, "cannot write checkpoint '%s': array name '%s' is too long",
                       path, hmn_array_name((hmn_array)a));
  }

  /* The host copy must hold the device's truth. */
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    int rc = layer->ops->pull(layer, (hmn_array)a, err);
    if (rc != 0) return rc;
  }

  const hmn__state *st = &layer->st;
  const hmn_config *cfg = &st->cfg;
  char *text = hmn_config_to_string(cfg);
  if (text == NULL)
    return hmn__fail(err, HMN_ENOMEM, "cannot write checkpoint '%s': out of memory formatting "
                     "the config", path);
  size_t text_len = strlen(text);

  int n_sections = extra != NULL ? CKPT_ALL_SECTIONS : CKPT_SECTION_COUNT;
  size_t total = CKPT_HEADER_BYTES + (size_t)n_sections * CKPT_SECTION_HEADER_BYTES;
  bool overflow = false;
  size_t payload_bytes[CKPT_ALL_SECTIONS];
  payload_bytes[0] = text_len;
  payload_bytes[1] = CKPT_SCALARS_BYTES;
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) payload_bytes[2 + a] = hmn__array_bytes(cfg, (hmn_array)a);
  for (int x = 0; extra != NULL && x < HMN__CKPT_EXTRA_COUNT; x++)
    payload_bytes[CKPT_SECTION_COUNT + x] = extra[x].len;
  for (int s = 0; s < n_sections; s++) {
    if (payload_bytes[s] > SIZE_MAX - total) overflow = true;
    else total += payload_bytes[s];
  }
  unsigned char *buf = overflow ? NULL : hmn__calloc(total, 1);
  if (buf == NULL) {
    free(text);
    return hmn__fail(err, HMN_ENOMEM, "cannot write checkpoint '%s': out of memory for %zu bytes",
                     path, total);
  }

  /* Header. */
  unsigned char *p = buf;
  memcpy(p, CKPT_MAGIC, CKPT_MAGIC_BYTES);
  put_u32(p + 8, CKPT_VERSION);
  put_u32(p + 12, CKPT_HEADER_BYTES);
  put_i32(p + 16, cfg->n_in);
  put_i32(p + 20, cfg->n_out);
  put_i32(p + 24, cfg->n_mod);
  put_i32(p + 28, cfg->d_ctx);
  put_i32(p + 32, cfg->delay_len);
  put_u32(p + 36, (uint32_t)n_sections);
  put_u64(p + 40, st->t);
  put_u64(p + 48, cfg->seed);
  put_u32(p + 56, 0);
  put_u32(p + 60, crc_of(p, 60));
  p += CKPT_HEADER_BYTES;

  /* config */
  unsigned char *payload = p + CKPT_SECTION_HEADER_BYTES;
  memcpy(payload, text, text_len);
  p = put_section_header(p, "config", payload, text_len) + text_len;
  free(text);

  /* scalars */
  payload = p + CKPT_SECTION_HEADER_BYTES;
  put_u64(payload, st->t);
  put_f32(payload + 8, st->eta_local);
  put_f32(payload + 12, st->eta_global);
  p = put_section_header(p, "scalars", payload, CKPT_SCALARS_BYTES) + CKPT_SCALARS_BYTES;

  /* arrays */
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    size_t bytes = payload_bytes[2 + a];
    payload = p + CKPT_SECTION_HEADER_BYTES;
    if (hmn_array_type((hmn_array)a) == HMN_F32) {
      const float *src = st->arr[a];
      for (size_t k = 0; k < bytes / 4; k++) put_f32(payload + 4 * k, src[k]);
    } else if (bytes > 0) {
      memcpy(payload, st->arr[a], bytes);
    }
    p = put_section_header(p, hmn_array_name((hmn_array)a), payload, bytes) + bytes;
  }

  /* extras, already encoded */
  for (int x = 0; extra != NULL && x < HMN__CKPT_EXTRA_COUNT; x++) {
    payload = p + CKPT_SECTION_HEADER_BYTES;
    if (extra[x].len > 0) memcpy(payload, extra[x].data, extra[x].len);
    p = put_section_header(p, section_name(CKPT_SECTION_COUNT + x), payload, extra[x].len) +
        extra[x].len;
  }

  int rc = write_atomic(path, buf, total, "checkpoint ", err);
  hmn__free(buf);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Reading and validation. */

typedef struct {
  unsigned char *buf; /* the whole file */
  size_t len;
  hmn_ckpt_info info;
  hmn_config cfg;     /* parsed from the "config" section */
  uint64_t t;
  float eta_local, eta_global;
  const unsigned char *payload[HMN_ARRAY_COUNT];
  hmn__ckpt_blob extra[HMN__CKPT_EXTRA_COUNT]; /* {NULL, 0} when absent */
} ckpt_file;

static void ckpt_file_free(ckpt_file *ck) {
  hmn__free(ck->buf);
  ck->buf = NULL;
}

static int read_whole_file(const char *path, ckpt_file *ck, hmn_error *err) {
  char reason[256];
  int fd;
  do {
    fd = open(path, O_RDONLY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    error_text(errno, reason, sizeof reason);
    return hmn__fail(err, HMN_EIO, "cannot read checkpoint '%s': %s", path, reason);
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    error_text(errno, reason, sizeof reason);
    close(fd);
    return hmn__fail(err, HMN_EIO, "cannot read checkpoint '%s': %s", path, reason);
  }
  if (S_ISDIR(sb.st_mode)) {
    close(fd);
    return hmn__fail(err, HMN_EIO, "cannot read checkpoint '%s': it is a directory", path);
  }
  if (sb.st_size < 0 || (uintmax_t)sb.st_size > (uintmax_t)SIZE_MAX - 1) {
    close(fd);
    return hmn__fail(err, HMN_EIO, "cannot read checkpoint '%s': file too large", path);
  }
  size_t size = (size_t)sb.st_size;
  unsigned char *buf = hmn__calloc(size + 1, 1);
  if (buf == NULL) {
    close(fd);
    return hmn__fail(err, HMN_ENOMEM, "cannot read checkpoint '%s': out of memory for %zu bytes",
                     path, size);
  }
  size_t got = 0;
  while (got < size) {
    size_t part = size - got > (1u << 30) ? (1u << 30) : size - got;
    ssize_t n = read(fd, buf + got, part);
    if (n < 0) {
      if (errno == EINTR) continue;
      error_text(errno, reason, sizeof reason);
      close(fd);
      hmn__free(buf);
      return hmn__fail(err, HMN_EIO, "cannot read checkpoint '%s': %s", path, reason);
    }
    if (n == 0) break; /* shrank while reading: judge what is there */
    got += (size_t)n;
  }
  close(fd);
  ck->buf = buf;
  ck->len = got;
  return HMN_OK;
}

/* Printable form of a section tag for messages: up to its first NUL, or
 * all 8 bytes when anything but NULs follows that. */
static void tag_text(const unsigned char *tag, char out[4 * CKPT_TAG_BYTES + 1]) {
  int end = 0;
  for (int k = 0; k < CKPT_TAG_BYTES; k++)
    if (tag[k] != '\0') end = k + 1;
  size_t o = 0;
  for (int k = 0; k < end; k++) {
    unsigned char c = tag[k];
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out[o++] = (char)c;
    } else {
      snprintf(out + o, 5, "\\x%02x", c);
      o += 4;
    }
  }
  out[o] = '\0';
}

/* Index of the known section a tag names, or -1 (also for a badly padded
 * tag). */
static int tag_index(const unsigned char *tag) {
  size_t n = 0;
  while (n < CKPT_TAG_BYTES && tag[n] != '\0') n++;
  for (size_t k = n; k < CKPT_TAG_BYTES; k++)
    if (tag[k] != '\0') return -1;
  for (int s = 0; s < CKPT_ALL_SECTIONS; s++) {
    const char *name = section_name(s);
    if (strlen(name) == n && memcmp(name, tag, n) == 0) return s;
  }
  return -1;
}

static int parse_config_section(const char *path, const unsigned char *payload, uint64_t len,
                                const hmn_ckpt_info *info, hmn_config *cfg, hmn_error *err) {
  if (memchr(payload, '\0', (size_t)len) != NULL)
    return hmn__fail(err, HMN_ECONFIG, "checkpoint '%s': section 'config' contains a NUL byte",
                     path);
  char *text = hmn__calloc((size_t)len + 1, 1);
  if (text == NULL)
    return hmn__fail(err, HMN_ENOMEM, "checkpoint '%s': out of memory for the config section",
                     path);
  memcpy(text, payload, (size_t)len);
  hmn_error inner;
  hmn__clear(&inner);
  hmn_config_defaults(cfg);
  int rc = hmn_config_load_string(cfg, text, "section 'config'", &inner);
  hmn__free(text);
  if (rc != 0) /* the message already starts with the origin */
    return hmn__fail(err, rc == HMN_ENOMEM ? HMN_ENOMEM : HMN_ECONFIG, "checkpoint '%s': %s", path,
                     inner.message);
  rc = hmn_config_validate(cfg, &inner);
  if (rc != 0)
    return hmn__fail(err, rc == HMN_ENOMEM ? HMN_ENOMEM : HMN_ECONFIG,
                     "checkpoint '%s': section 'config': %s", path, inner.message);

  const struct {
    const char *key;
    int32_t in_config, in_header;
  } dims[] = {
      {"n_in", cfg->n_in, info->n_in},       {"n_out", cfg->n_out, info->n_out},
      {"n_mod", cfg->n_mod, info->n_mod},    {"d_ctx", cfg->d_ctx, info->d_ctx},
      {"delay_len", cfg->delay_len, info->delay_len},
  };
  for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++) {
    if (dims[k].in_config != dims[k].in_header)
      return hmn__fail(err, HMN_ESHAPE,
                       "checkpoint '%s': section 'config' has %s=%d but the header has %s=%d",
                       path, dims[k].key, (int)dims[k].in_config, dims[k].key,
                       (int)dims[k].in_header);
  }
  if (cfg->seed != info->seed)
    return hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': section 'config' has seed=%llu but the header has seed=%llu",
                     path, (unsigned long long)cfg->seed, (unsigned long long)info->seed);
  return HMN_OK;
}

/* Read `path` and check everything; on success `ck` owns the buffer. */
static int ckpt_read(const char *path, ckpt_file *ck, hmn_error *err) {
  memset(ck, 0, sizeof *ck);
  int rc = read_whole_file(path, ck, err);
  if (rc != 0) return rc;
  const unsigned char *buf = ck->buf;
  size_t len = ck->len;
  hmn_ckpt_info *info = &ck->info;

  /* Header. */
  size_t magic_seen = len < CKPT_MAGIC_BYTES ? len : CKPT_MAGIC_BYTES;
  if (memcmp(buf, CKPT_MAGIC, magic_seen) != 0) {
    rc = hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': bad magic (not an hmn checkpoint)", path);
    goto fail;
  }
  if (len < CKPT_HEADER_BYTES) {
    rc = hmn__fail(err, HMN_EFORMAT,
                   "checkpoint '%s': truncated in the header (needs %u bytes, file has %zu)", path,
                   CKPT_HEADER_BYTES, len);
    goto fail;
  }
  info->version = get_u32(buf + 8);
  if (info->version != CKPT_VERSION) {
    rc = hmn__fail(err, HMN_EVERSION,
                   "checkpoint '%s': version %lu is not supported (this build reads version %u)",
                   path, (unsigned long)info->version, CKPT_VERSION);
    goto fail;
  }
  uint32_t stored_crc = get_u32(buf + 60);
  uint32_t actual_crc = crc_of(buf, 60);
  if (stored_crc != actual_crc) {
    rc = hmn__fail(err, HMN_ECRC,
                   "checkpoint '%s': header CRC32 mismatch (stored 0x%08lx, computed 0x%08lx)",
                   path, (unsigned long)stored_crc, (unsigned long)actual_crc);
    goto fail;
  }
  uint32_t header_bytes = get_u32(buf + 12);
  if (header_bytes != CKPT_HEADER_BYTES) {
    rc = hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': header_bytes is %lu, expected %u", path,
                   (unsigned long)header_bytes, CKPT_HEADER_BYTES);
    goto fail;
  }
  uint32_t reserved = get_u32(buf + 56);
  if (reserved != 0) {
    rc = hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': reserved header field is 0x%08lx, not 0",
                   path, (unsigned long)reserved);
    goto fail;
  }
  info->n_in = get_i32(buf + 16);
  info->n_out = get_i32(buf + 20);
  info->n_mod = get_i32(buf + 24);
  info->d_ctx = get_i32(buf + 28);
  info->delay_len = get_i32(buf + 32);
  info->n_sections = get_u32(buf + 36);
  info->step = get_u64(buf + 40);
  info->seed = get_u64(buf + 48);
  if (info->n_sections > HMN_CKPT_MAX_SECTIONS) {
    rc = hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': header lists %lu sections (at most %d)",
                   path, (unsigned long)info->n_sections, HMN_CKPT_MAX_SECTIONS);
    goto fail;
  }

  /* Sections, strictly in order. */
  size_t off = CKPT_HEADER_BYTES;
  for (uint32_t s = 0; s < info->n_sections; s++) {
    const char *expected = section_name((int)s);
    char shown[4 * CKPT_TAG_BYTES + 1];
    if (len - off < CKPT_SECTION_HEADER_BYTES) {
      if (expected != NULL)
        rc = hmn__fail(err, HMN_EFORMAT,
                       "checkpoint '%s': truncated before section '%s' (needs %u bytes at offset "
                       "%zu, file has %zu)",
                       path, expected, CKPT_SECTION_HEADER_BYTES, off, len);
      else
        rc = hmn__fail(err, HMN_EFORMAT,
                       "checkpoint '%s': truncated before section #%lu (needs %u bytes at offset "
                       "%zu, file has %zu)",
                       path, (unsigned long)s + 1, CKPT_SECTION_HEADER_BYTES, off, len);
      goto fail;
    }
    const unsigned char *tag = buf + off;
    tag_text(tag, shown);
    int index = tag_index(tag);
    if (index < 0) {
      rc = hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': unknown section '%s' at offset %zu",
                     path, shown, off);
      goto fail;
    }
    if (index < (int)s) {
      rc = hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': duplicate section '%s' at offset %zu",
                     path, shown, off);
      goto fail;
    }
    if (index > (int)s) {
      rc = hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': section '%s' out of order at offset %zu (missing section "
                     "'%s' before it)",
                     path, shown, off, expected);
      goto fail;
    }
    uint64_t plen = get_u64(buf + off + 8);
    uint32_t scrc = get_u32(buf + off + 16);
    uint32_t flags = get_u32(buf + off + 20);
    if (flags != 0) {
      rc = hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': section '%s' has flags 0x%08lx, not 0",
                     path, shown, (unsigned long)flags);
      goto fail;
    }
    if (index == 1 && plen != CKPT_SCALARS_BYTES) {
      rc = hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': section 'scalars' has %llu bytes, expected %u", path,
                     (unsigned long long)plen, CKPT_SCALARS_BYTES);
      goto fail;
    }
    if (index >= 2 && index < CKPT_SECTION_COUNT) {
      hmn_array which = (hmn_array)(index - 2);
      size_t want = hmn__array_bytes(&ck->cfg, which);
      if (plen != (uint64_t)want) {
        rc = hmn__fail(err, HMN_ESHAPE,
                       "checkpoint '%s': section '%s' has %llu bytes, the shape n_in=%d n_out=%d "
                       "n_mod=%d d_ctx=%d delay_len=%d needs %zu",
                       path, shown, (unsigned long long)plen, (int)info->n_in, (int)info->n_out,
                       (int)info->n_mod, (int)info->d_ctx, (int)info->delay_len, want);
        goto fail;
      }
    }
    size_t poff = off + CKPT_SECTION_HEADER_BYTES;
    if (plen > (uint64_t)(len - poff)) {
      rc = hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': truncated in section '%s' (needs %llu bytes at offset %zu, "
                     "file has %zu)",
                     path, shown, (unsigned long long)plen, poff, len);
      goto fail;
    }
    const unsigned char *payload = buf + poff;
    uint32_t actual = crc_of(payload, (size_t)plen);
    if (actual != scrc) {
      rc = hmn__fail(err, HMN_ECRC,
                     "checkpoint '%s': section '%s' CRC32 mismatch (stored 0x%08lx, computed "
                     "0x%08lx)",
                     path, shown, (unsigned long)scrc, (unsigned long)actual);
      goto fail;
    }

    if (index == 0) {
      rc = parse_config_section(path, payload, plen, info, &ck->cfg, err);
      if (rc != 0) goto fail;
    } else if (index == 1) {
      ck->t = get_u64(payload);
      ck->eta_local = get_f32(payload + 8);
      ck->eta_global = get_f32(payload + 12);
      if (ck->t != info->step) {
        rc = hmn__fail(err, HMN_EFORMAT,
                       "checkpoint '%s': section 'scalars' has t=%llu but the header has "
                       "step=%llu",
                       path, (unsigned long long)ck->t, (unsigned long long)info->step);
        goto fail;
      }
    } else if (index >= CKPT_SECTION_COUNT) {
      /* Their owners check the content (hmn__layer_load_extra's caller). */
      ck->extra[index - CKPT_SECTION_COUNT].data = payload;
      ck->extra[index - CKPT_SECTION_COUNT].len = (size_t)plen;
    } else {
      /* Delays index the delay line: one out of range would read past it. */
      if (index - 2 == HMN_ARRAY_TAU) {
        for (size_t e = 0; e < (size_t)plen; e++) {
          if (payload[e] >= (unsigned)ck->cfg.delay_len) {
            rc = hmn__fail(err, HMN_EFORMAT,
                           "checkpoint '%s': section 'tau' has tau[%zu]=%u, must be < "
                           "delay_len (%d)",
                           path, e, (unsigned)payload[e], (int)ck->cfg.delay_len);
            goto fail;
          }
        }
      }
      ck->payload[index - 2] = payload;
    }

    hmn_ckpt_section_info *si = &info->sections[s];
    memset(si->name, 0, sizeof si->name);
    memcpy(si->name, tag, CKPT_TAG_BYTES);
    si->offset = poff;
    si->length = plen;
    si->crc32 = scrc;
    off = poff + (size_t)plen;
  }

  if (info->n_sections < CKPT_SECTION_COUNT ||
      (info->n_sections > CKPT_SECTION_COUNT && info->n_sections < CKPT_ALL_SECTIONS)) {
    int expected = info->n_sections < CKPT_SECTION_COUNT ? CKPT_SECTION_COUNT : CKPT_ALL_SECTIONS;
    rc = hmn__fail(err, HMN_EFORMAT,
                   "checkpoint '%s': missing section '%s' (header lists %lu sections, expected %d)",
                   path, section_name((int)info->n_sections), (unsigned long)info->n_sections,
                   expected);
    goto fail;
  }
  if (off != len) {
    rc = hmn__fail(err, HMN_EFORMAT,
                   "checkpoint '%s': %zu trailing bytes after the last section (offset %zu)", path,
                   len - off, off);
    goto fail;
  }
  return HMN_OK;

fail:
  ckpt_file_free(ck);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Public entry points. */

int hmn_ckpt_inspect(const char *path, hmn_ckpt_info *info, hmn_error *err) {
  if (path == NULL || info == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_ckpt_inspect: path and info are required");
  ckpt_file ck;
  int rc = ckpt_read(path, &ck, err);
  if (rc != 0) return rc;
  *info = ck.info;
  ckpt_file_free(&ck);
  return HMN_OK;
}

/* Put a validated checkpoint into a layer of the same shape. */
static int ckpt_apply(hmn_layer *layer, const ckpt_file *ck, const char *path, hmn_error *err) {
  const hmn_config *have = &layer->st.cfg;
  const hmn_ckpt_info *in = &ck->info;
  if (in->n_in != have->n_in || in->n_out != have->n_out || in->n_mod != have->n_mod ||
      in->d_ctx != have->d_ctx || in->delay_len != have->delay_len)
    return hmn__fail(err, HMN_ESHAPE,
                     "checkpoint '%s' has shape n_in=%d n_out=%d n_mod=%d d_ctx=%d delay_len=%d, "
                     "layer has n_in=%d n_out=%d n_mod=%d d_ctx=%d delay_len=%d",
                     path, (int)in->n_in, (int)in->n_out, (int)in->n_mod, (int)in->d_ctx,
                     (int)in->delay_len, (int)have->n_in, (int)have->n_out, (int)have->n_mod,
                     (int)have->d_ctx, (int)have->delay_len);

  hmn__state *st = &layer->st;
  st->cfg = ck->cfg;
  st->t = ck->t;
  st->eta_local = ck->eta_local;
  st->eta_global = ck->eta_global;
  memset(&st->stats, 0, sizeof st->stats);
  st->stats.t = ck->t;
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    size_t bytes = hmn__array_bytes(&st->cfg, (hmn_array)a);
    const unsigned char *src = ck->payload[a];
    if (hmn_array_type((hmn_array)a) == HMN_F32) {
      float *dst = st->arr[a];
      for (size_t k = 0; k < bytes / 4; k++) dst[k] = get_f32(src + 4 * k);
    } else if (bytes > 0) {
      memcpy(st->arr[a], src, bytes);
    }
  }
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    int rc = layer->ops->push(layer, (hmn_array)a, err);
    if (rc != 0) return rc;
  }
  return HMN_OK;
}

int hmn_layer_restore(hmn_layer *layer, const char *path, hmn_error *err) {
  if (layer == NULL || path == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_layer_restore: layer and path are required");
  ckpt_file ck;
  int rc = ckpt_read(path, &ck, err);
  if (rc != 0) return rc;
  rc = ckpt_apply(layer, &ck, path, err);
  ckpt_file_free(&ck);
  return rc;
}

int hmn_layer_load(const char *path, const char *backend, hmn_layer **out, hmn_error *err) {
  return hmn__layer_load_extra(path, backend, NULL, NULL, out, err);
}

int hmn__layer_load_extra(const char *path, const char *backend, hmn__ckpt_extra_fn accept,
                          void *user, hmn_layer **out, hmn_error *err) {
  if (path == NULL || out == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_layer_load: path and out are required");
  ckpt_file ck;
  int rc = ckpt_read(path, &ck, err);
  if (rc != 0) return rc;
  hmn_layer *layer = NULL;
  if (accept != NULL) rc = accept(user, &ck.cfg, path, ck.extra, err);
  if (rc == 0) rc = hmn_layer_create(&ck.cfg, backend, &layer, err);
  if (rc == 0) {
    rc = ckpt_apply(layer, &ck, path, err);
    if (rc != 0) hmn_layer_destroy(layer);
  }
  ckpt_file_free(&ck);
  if (rc == 0) *out = layer;
  return rc;
}
