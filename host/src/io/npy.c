/*
 * npy.c - NumPy's .npy format (version 1.0), which NumPy reads with
 * numpy.load and other tools (Julia's NPZ, R's RcppCNPy, MATLAB readers)
 * read too, without hmn: a magic string, a Python-literal header naming
 * the dtype, the order and the shape, then the elements in C order.
 *
 * Every header here is padded to HMN__NPY_HEADER bytes, so that a growing
 * file (hmn__npy_stream) can rewrite its shape in place; the format asks
 * for a multiple of 64.
 *
 * Also hmn_ckpt_export: a checkpoint's arrays as .npy files.
 */
#include "io/npy.h"
#include "io/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define HMN__NPY_HEADER 128

size_t hmn__npy_elem_size(hmn__npy_type type) {
  switch (type) {
  case HMN__NPY_F4:
    return 4;
  case HMN__NPY_F8:
  case HMN__NPY_U8:
    return 8;
  case HMN__NPY_U1:
    return 1;
  }
  return 0;
}

static int hmn__little_endian(void) {
  const uint16_t probe = 1;
  return *(const unsigned char *)&probe == 1;
}

static const char *hmn__npy_descr(hmn__npy_type type) {
  int le = hmn__little_endian();
  switch (type) {
  case HMN__NPY_F4:
    return le ? "<f4" : ">f4";
  case HMN__NPY_F8:
    return le ? "<f8" : ">f8";
  case HMN__NPY_U8:
    return le ? "<u8" : ">u8";
  case HMN__NPY_U1:
    return "|u1";
  }
  return "|u1";
}

/* The 128-byte header of an array of `shape`; 0, or -1 when the shape's
 * text does not fit. */
static int hmn__npy_header(char out[HMN__NPY_HEADER], hmn__npy_type type, int ndim,
                           const size_t *shape) {
  char dims[96];
  size_t used = 0;
  dims[0] = '\0';
  for (int d = 0; d < ndim; d++) {
    int n = snprintf(dims + used, sizeof dims - used, "%zu,%s", shape[d],
                     d + 1 < ndim ? " " : "");
    if (n < 0 || (size_t)n >= sizeof dims - used) return -1;
    used += (size_t)n;
  }
  /* A tuple of one needs its comma; of more, a trailing one is allowed;
   * () is a scalar. */
  if (ndim > 1 && used > 0 && dims[used - 1] == ',') dims[--used] = '\0';
  char dict[HMN__NPY_HEADER];
  int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
                   hmn__npy_descr(type), dims);
  const int body = HMN__NPY_HEADER - 10;
  if (n < 0 || n + 1 > body) return -1;
  memcpy(out, "\x93NUMPY\x01\x00", 8);
  out[8] = (char)(body & 0xff);
  out[9] = (char)(body >> 8);
  memset(out + 10, ' ', (size_t)body);
  memcpy(out + 10, dict, (size_t)n);
  out[HMN__NPY_HEADER - 1] = '\n';
  return 0;
}

int hmn__npy_array_shape(const hmn_config *cfg, hmn_array which, size_t shape[2]) {
  switch (which) {
  case HMN_ARRAY_W:
  case HMN_ARRAY_PSI_F:
  case HMN_ARRAY_PSI_S:
  case HMN_ARRAY_PHI:
  case HMN_ARRAY_TAU:
    shape[0] = (size_t)cfg->n_out;
    shape[1] = (size_t)cfg->n_in;
    return 2;
  case HMN_ARRAY_X_HIST:
    shape[0] = (size_t)cfg->delay_len;
    shape[1] = (size_t)cfg->n_in;
    return 2;
  case HMN_ARRAY_KAPPA:
    shape[0] = (size_t)cfg->n_mod;
    shape[1] = (size_t)cfg->d_ctx;
    return 2;
  default:
    shape[0] = hmn_array_length(cfg, which);
    return 1;
  }
}

/* One whole array, written atomically. */
static int hmn__npy_write(const char *path, hmn__npy_type type, int ndim, const size_t *shape,
                          const void *data, hmn_error *err) {
  size_t count = 1;
  for (int d = 0; d < ndim; d++) count *= shape[d];
  size_t bytes = count * hmn__npy_elem_size(type);
  unsigned char *buf = hmn__calloc(HMN__NPY_HEADER + bytes, 1);
  if (buf == NULL)
    return hmn__fail(err, HMN_ENOMEM, "out of memory writing '%s' (%zu bytes)", path, bytes);
  if (hmn__npy_header((char *)buf, type, ndim, shape) != 0) {
    hmn__free(buf);
    return hmn__fail(err, HMN_EINVAL, "'%s': shape too large for an .npy header", path);
  }
  if (bytes > 0) memcpy(buf + HMN__NPY_HEADER, data, bytes);
  int rc = hmn__write_file_atomic(path, buf, HMN__NPY_HEADER + bytes, err);
  hmn__free(buf);
  return rc;
}

/* ---- growing files ---- */

static int hmn__npy_stream_header(hmn__npy_stream *s, hmn_error *err) {
  size_t shape[HMN__NPY_MAX_DIMS + 1];
  shape[0] = (size_t)s->count;
  for (int d = 0; d < s->ndim; d++) shape[d + 1] = s->shape[d];
  char header[HMN__NPY_HEADER];
  if (hmn__npy_header(header, s->type, s->ndim + 1, shape) != 0)
    return hmn__fail(err, HMN_EINVAL, "'%s': shape too large for an .npy header", s->path);
  if (fseek(s->f, 0, SEEK_SET) != 0 || fwrite(header, 1, sizeof header, s->f) != sizeof header ||
      fseek(s->f, 0, SEEK_END) != 0 || fflush(s->f) != 0)
    return hmn__fail(err, HMN_EIO, "cannot write '%s': %s", s->path, strerror(errno));
  return HMN_OK;
}

int hmn__npy_stream_open(hmn__npy_stream *s, const char *path, hmn__npy_type type, int ndim,
                         const size_t *shape, hmn_error *err) {
  memset(s, 0, sizeof *s);
  if (ndim < 0 || ndim > HMN__NPY_MAX_DIMS)
    return hmn__fail(err, HMN_EINVAL, "'%s': %d axes (at most %d)", path, ndim, HMN__NPY_MAX_DIMS);
  s->type = type;
  s->ndim = ndim;
  s->record_bytes = hmn__npy_elem_size(type);
  for (int d = 0; d < ndim; d++) {
    s->shape[d] = shape[d];
    s->record_bytes *= shape[d];
  }
  if ((s->path = hmn__strdup(path)) == NULL)
    return hmn__fail(err, HMN_ENOMEM, "out of memory opening '%s'", path);
  if ((s->f = fopen(path, "wb")) == NULL) {
    int rc = hmn__fail(err, HMN_EIO, "cannot create '%s': %s", path, strerror(errno));
    hmn__free(s->path);
    s->path = NULL;
    return rc;
  }
  int rc = hmn__npy_stream_header(s, err);
  if (rc != HMN_OK) {
    fclose(s->f);
    remove(path);
    hmn__free(s->path);
    memset(s, 0, sizeof *s);
  }
  return rc;
}

int hmn__npy_stream_append(hmn__npy_stream *s, const void *record, hmn_error *err) {
  if (s->record_bytes > 0 && fwrite(record, 1, s->record_bytes, s->f) != s->record_bytes)
    return hmn__fail(err, HMN_EIO, "cannot write '%s': %s", s->path, strerror(errno));
  s->count++;
  int rc = hmn__npy_stream_header(s, err);
  if (rc != HMN_OK) s->count--;
  return rc;
}

int hmn__npy_stream_close(hmn__npy_stream *s, hmn_error *err) {
  int rc = HMN_OK;
  if (s->f != NULL && fclose(s->f) != 0)
    rc = hmn__fail(err, HMN_EIO, "cannot write '%s': %s", s->path, strerror(errno));
  hmn__free(s->path);
  memset(s, 0, sizeof *s);
  return rc;
}

/* ---- checkpoint export ---- */

/* DIR/NAME.npy into `buf` (of `size`); 0, or -1 when it does not fit. */
int hmn__npy_path(char *buf, size_t size, const char *dir, const char *name) {
  int n = snprintf(buf, size, "%s/%s.npy", dir, name);
  return n < 0 || (size_t)n >= size ? -1 : 0;
}

int hmn__npy_make_dir(const char *dir, hmn_error *err) {
  struct stat st;
  if (mkdir(dir, 0777) != 0 && errno != EEXIST)
    return hmn__fail(err, HMN_EIO, "cannot create folder '%s': %s", dir, strerror(errno));
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return hmn__fail(err, HMN_EIO, "'%s' is not a folder", dir);
  return HMN_OK;
}

int hmn_ckpt_export(const char *path, const char *dir, hmn_error *err) {
  if (path == NULL || dir == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_ckpt_export: NULL argument");
  if (strlen(dir) > 3900) return hmn__fail(err, HMN_EINVAL, "folder name too long: '%.64s...'", dir);
  hmn_layer *layer = NULL;
  int rc = hmn_layer_load(path, "ref", &layer, err);
  if (rc != HMN_OK) return rc;
  const hmn_config *cfg = hmn_layer_config(layer);
  size_t max_bytes = 0;
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    size_t bytes = hmn_array_length(cfg, (hmn_array)a) * (hmn_array_type((hmn_array)a) == HMN_U8 ? 1 : 4);
    if (bytes > max_bytes) max_bytes = bytes;
  }
  void *buf = hmn__calloc(max_bytes > 0 ? max_bytes : 1, 1);
  char file[4096];
  if (buf == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory exporting '%s'", path);
    goto done;
  }
  if ((rc = hmn__npy_make_dir(dir, err)) != HMN_OK) goto done;
  for (int a = 0; a < HMN_ARRAY_COUNT && rc == HMN_OK; a++) {
    hmn_array which = (hmn_array)a;
    size_t shape[2];
    int ndim = hmn__npy_array_shape(cfg, which, shape);
    int u8 = hmn_array_type(which) == HMN_U8;
    size_t bytes = hmn_array_length(cfg, which) * (u8 ? 1 : 4);
    hmn__npy_path(file, sizeof file, dir, hmn_array_name(which));
    rc = hmn_layer_read(layer, which, buf, bytes, err);
    if (rc == HMN_OK) rc = hmn__npy_write(file, u8 ? HMN__NPY_U1 : HMN__NPY_F4, ndim, shape, buf, err);
  }
  if (rc != HMN_OK) goto done;
  /* The learning rates and the step, beside the arrays. */
  float eta[2];
  if ((rc = hmn_layer_get_eta(layer, &eta[0], &eta[1], err)) != HMN_OK) goto done;
  size_t two = 2;
  uint64_t t = hmn_layer_step_count(layer);
  hmn__npy_path(file, sizeof file, dir, "eta");
  if ((rc = hmn__npy_write(file, HMN__NPY_F4, 1, &two, eta, err)) != HMN_OK) goto done;
  hmn__npy_path(file, sizeof file, dir, "t");
  rc = hmn__npy_write(file, HMN__NPY_U8, 0, NULL, &t, err);
done:
  hmn__free(buf);
  hmn_layer_destroy(layer);
  return rc;
}
