/*
 * record.c - the recorder: chosen variables of a layer every N steps, each
 * into a growing .npy file (io/npy.c) whose first axis is the sample.
 */
#include "internal.h"
#include "io/npy.h"

#include <stdlib.h>
#include <string.h>

#define HMN__RECORD_MAX_VARS 64
#define HMN__RECORD_NAME_MAX 64

typedef enum { HMN__VAR_ARRAY, HMN__VAR_ETA, HMN__VAR_G_MEAN, HMN__VAR_REWARD } hmn__var_kind;

typedef struct {
  hmn__var_kind kind;
  hmn_array array;      /* HMN__VAR_ARRAY */
  size_t row0, rows;    /* the rows recorded, of a two-axis array */
  size_t row_elems;     /* elements per row (all of a one-axis array) */
  char name[HMN__RECORD_NAME_MAX + 48];
  hmn__npy_stream file;
} hmn__record_var;

struct hmn_recorder {
  uint64_t every;
  uint64_t last_t;      /* step of the last sample */
  int sampled;          /* 1 once a sample was taken */
  size_t n_vars;
  hmn__record_var vars[HMN__RECORD_MAX_VARS];
  hmn__npy_stream t_file;
  void *scratch;        /* the largest array, read whole */
  size_t scratch_bytes;
};

/* Parse one entry of `vars` ("W", "W[0:4]", "eta") into `v`. */
static int hmn__record_parse(const char *text, size_t len, const hmn_config *cfg,
                             hmn__record_var *v, hmn_error *err) {
  char entry[HMN__RECORD_NAME_MAX];
  if (len == 0 || len >= sizeof entry)
    return hmn__fail(err, HMN_EINVAL, "record: bad variable '%.*s'", (int)len, text);
  memcpy(entry, text, len);
  entry[len] = '\0';
  memset(v, 0, sizeof *v);
  char *bracket = strchr(entry, '[');
  if (bracket != NULL) *bracket = '\0';
  if (strcmp(entry, "eta") == 0 || strcmp(entry, "g_mean") == 0 || strcmp(entry, "reward") == 0) {
    if (bracket != NULL)
      return hmn__fail(err, HMN_EINVAL, "record: '%s' has no rows to select", entry);
    v->kind = entry[0] == 'e' ? HMN__VAR_ETA : entry[0] == 'g' ? HMN__VAR_G_MEAN : HMN__VAR_REWARD;
    snprintf(v->name, sizeof v->name, "%s", entry);
    return HMN_OK;
  }
  int found = -1;
  for (int a = 0; a < HMN_ARRAY_COUNT; a++)
    if (strcmp(entry, hmn_array_name((hmn_array)a)) == 0) found = a;
  if (found < 0)
    return hmn__fail(err, HMN_EINVAL,
                     "record: unknown variable '%s' (a state array such as W, psi_f, z, c, "
                     "or eta, g_mean, reward)",
                     entry);
  v->kind = HMN__VAR_ARRAY;
  v->array = (hmn_array)found;
  size_t shape[2];
  int ndim = hmn__npy_array_shape(cfg, v->array, shape);
  v->row0 = 0;
  v->rows = ndim == 2 ? shape[0] : 1;
  v->row_elems = ndim == 2 ? shape[1] : shape[0];
  snprintf(v->name, sizeof v->name, "%s", entry);
  if (bracket == NULL) return HMN_OK;
  unsigned long long a, b;
  char close;
  if (ndim != 2)
    return hmn__fail(err, HMN_EINVAL, "record: '%s' has one axis; rows select from W, psi_f, "
                     "psi_s, phi, tau, x_hist, kappa", entry);
  if (sscanf(bracket + 1, "%llu:%llu%c", &a, &b, &close) != 3 || close != ']' ||
      strchr(bracket + 1, ']')[1] != '\0')
    return hmn__fail(err, HMN_EINVAL, "record: '%.*s': rows are written NAME[a:b]", (int)len, text);
  if (a >= b || b > shape[0])
    return hmn__fail(err, HMN_EINVAL, "record: '%.*s': rows %llu..%llu outside 0..%zu", (int)len,
                     text, a, b, shape[0]);
  v->row0 = (size_t)a;
  v->rows = (size_t)(b - a);
  snprintf(v->name, sizeof v->name, "%s_%llu_%llu", entry, a, b);
  return HMN_OK;
}

static void hmn__recorder_free(hmn_recorder *rec, int remove_files, const char *dir) {
  for (size_t i = 0; i < rec->n_vars; i++) {
    char path[4096];
    hmn__npy_stream_close(&rec->vars[i].file, NULL);
    if (remove_files && hmn__npy_path(path, sizeof path, dir, rec->vars[i].name) == 0) remove(path);
  }
  hmn__npy_stream_close(&rec->t_file, NULL);
  if (remove_files) {
    char path[4096];
    if (hmn__npy_path(path, sizeof path, dir, "t") == 0) remove(path);
  }
  hmn__free(rec->scratch);
  hmn__free(rec);
}

int hmn_recorder_open(const char *dir, const char *vars, uint64_t every, const hmn_layer *layer,
                      hmn_recorder **out, hmn_error *err) {
  if (dir == NULL || vars == NULL || layer == NULL || out == NULL)
    return hmn__fail(err, HMN_EINVAL, "hmn_recorder_open: NULL argument");
  *out = NULL;
  if (every == 0) return hmn__fail(err, HMN_EINVAL, "record: every must be at least 1 step");
  if (strlen(dir) > 3900) return hmn__fail(err, HMN_EINVAL, "record: folder name too long");
  const hmn_config *cfg = hmn_layer_config(layer);
  hmn_recorder *rec = hmn__calloc(1, sizeof *rec);
  if (rec == NULL) return hmn__fail(err, HMN_ENOMEM, "out of memory opening a recorder");
  rec->every = every;
  /* Every entry is checked before any file is made. */
  int rc = HMN_OK;
  const char *p = vars;
  while (rc == HMN_OK) {
    const char *end = strchr(p, ',');
    size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
    if (rec->n_vars == HMN__RECORD_MAX_VARS) {
      rc = hmn__fail(err, HMN_EINVAL, "record: more than %d variables", HMN__RECORD_MAX_VARS);
      break;
    }
    hmn__record_var *v = &rec->vars[rec->n_vars];
    rc = hmn__record_parse(p, len, cfg, v, err);
    for (size_t i = 0; rc == HMN_OK && i < rec->n_vars; i++)
      if (strcmp(rec->vars[i].name, v->name) == 0)
        rc = hmn__fail(err, HMN_EINVAL, "record: '%s' named twice", v->name);
    if (rc == HMN_OK && v->kind == HMN__VAR_ARRAY) {
      size_t bytes = hmn_array_length(cfg, v->array) * (hmn_array_type(v->array) == HMN_U8 ? 1 : 4);
      if (bytes > rec->scratch_bytes) rec->scratch_bytes = bytes;
    }
    if (rc != HMN_OK) break;
    rec->n_vars++;
    if (end == NULL) break;
    p = end + 1;
  }
  if (rc == HMN_OK && rec->scratch_bytes > 0 &&
      (rec->scratch = hmn__calloc(rec->scratch_bytes, 1)) == NULL)
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory opening a recorder");
  if (rc == HMN_OK) rc = hmn__npy_make_dir(dir, err);
  char path[4096];
  size_t opened = 0;
  if (rc == HMN_OK) {
    hmn__npy_path(path, sizeof path, dir, "t");
    rc = hmn__npy_stream_open(&rec->t_file, path, HMN__NPY_U8, 0, NULL, err);
  }
  for (; rc == HMN_OK && opened < rec->n_vars; opened++) {
    hmn__record_var *v = &rec->vars[opened];
    size_t shape[2];
    int ndim = 1;
    hmn__npy_type type = HMN__NPY_F4;
    if (v->kind == HMN__VAR_ARRAY) {
      ndim = hmn__npy_array_shape(cfg, v->array, shape);
      if (ndim == 2) shape[0] = v->rows;
      if (hmn_array_type(v->array) == HMN_U8) type = HMN__NPY_U1;
    } else if (v->kind == HMN__VAR_ETA) {
      shape[0] = 2;
    } else {
      ndim = 0;
      if (v->kind == HMN__VAR_REWARD) type = HMN__NPY_F8;
    }
    hmn__npy_path(path, sizeof path, dir, v->name);
    rc = hmn__npy_stream_open(&v->file, path, type, ndim, shape, err);
  }
  if (rc != HMN_OK) {
    rec->n_vars = opened; /* those whose files exist */
    hmn__recorder_free(rec, 1, dir);
    return rc;
  }
  *out = rec;
  return HMN_OK;
}

uint64_t hmn_recorder_steps_to_next(const hmn_recorder *rec, uint64_t t) {
  return rec->every - t % rec->every;
}

uint64_t hmn_recorder_count(const hmn_recorder *rec) { return rec->t_file.count; }

int hmn_recorder_sample(hmn_recorder *rec, hmn_layer *layer, double reward, hmn_error *err) {
  if (rec == NULL || layer == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_recorder_sample: NULL argument");
  uint64_t t = hmn_layer_step_count(layer);
  if (t % rec->every != 0 || (rec->sampled && rec->last_t == t)) return HMN_OK;
  const hmn_config *cfg = hmn_layer_config(layer);
  int rc = HMN_OK;
  for (size_t i = 0; i < rec->n_vars && rc == HMN_OK; i++) {
    hmn__record_var *v = &rec->vars[i];
    if (v->kind == HMN__VAR_ARRAY) {
      size_t elem = hmn_array_type(v->array) == HMN_U8 ? 1 : 4;
      size_t bytes = hmn_array_length(cfg, v->array) * elem;
      rc = hmn_layer_read(layer, v->array, rec->scratch, bytes, err);
      if (rc == HMN_OK)
        rc = hmn__npy_stream_append(
            &v->file, (const unsigned char *)rec->scratch + v->row0 * v->row_elems * elem, err);
    } else if (v->kind == HMN__VAR_ETA) {
      float eta[2];
      rc = hmn_layer_get_eta(layer, &eta[0], &eta[1], err);
      if (rc == HMN_OK) rc = hmn__npy_stream_append(&v->file, eta, err);
    } else if (v->kind == HMN__VAR_G_MEAN) {
      hmn_step_stats st;
      rc = hmn_layer_stats(layer, &st, err);
      if (rc == HMN_OK) rc = hmn__npy_stream_append(&v->file, &st.g_mean, err);
    } else {
      rc = hmn__npy_stream_append(&v->file, &reward, err);
    }
  }
  if (rc == HMN_OK) rc = hmn__npy_stream_append(&rec->t_file, &t, err);
  if (rc != HMN_OK) return rc;
  rec->last_t = t;
  rec->sampled = 1;
  return HMN_OK;
}

int hmn_recorder_close(hmn_recorder *rec, hmn_error *err) {
  if (rec == NULL) return HMN_OK;
  int rc = HMN_OK;
  for (size_t i = 0; i < rec->n_vars; i++) {
    int r = hmn__npy_stream_close(&rec->vars[i].file, err);
    if (rc == HMN_OK) rc = r;
  }
  int r = hmn__npy_stream_close(&rec->t_file, err);
  if (rc == HMN_OK) rc = r;
  rec->n_vars = 0;
  hmn__recorder_free(rec, 0, NULL);
  return rc;
}
