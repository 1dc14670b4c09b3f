/*
 * test_record.c - the recorder and hmn_ckpt_export: the .npy files they
 * write are read back with a small .npy reader written here from the
 * format's description (magic, version, header length, a Python-literal
 * header, the data), and compared with what the layer holds.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support.h"

typedef struct {
  char descr[8];
  int fortran;
  int ndim;
  size_t shape[4];
  size_t header_total; /* bytes before the data */
  const unsigned char *data;
  size_t data_len;
  unsigned char *file;
} npy;

/* Parse an .npy file; fails the test on anything malformed. */
static npy npy_read(const char *path) {
  npy a;
  memset(&a, 0, sizeof a);
  size_t len = 0;
  a.file = hmn_test_read_file(path, &len);
  cr_assert_not_null(a.file, "cannot read %s", path);
  cr_assert(len >= 10 && memcmp(a.file, "\x93NUMPY", 6) == 0, "%s: no .npy magic", path);
  cr_assert_eq(a.file[6], 1, "%s: version %d", path, a.file[6]);
  size_t hlen = (size_t)a.file[8] | ((size_t)a.file[9] << 8);
  a.header_total = 10 + hlen;
  cr_assert_eq(a.header_total % 64, 0, "%s: header of %zu bytes is not 64-aligned", path,
               a.header_total);
  cr_assert(a.header_total <= len);
  cr_assert_eq(a.file[a.header_total - 1], '\n');
  char header[1024];
  cr_assert(hlen < sizeof header);
  memcpy(header, a.file + 10, hlen);
  header[hlen] = '\0';
  const char *d = strstr(header, "'descr': '");
  cr_assert_not_null(d, "%s: no descr in %s", path, header);
  d += strlen("'descr': '");
  size_t dl = strcspn(d, "'");
  cr_assert(dl < sizeof a.descr);
  memcpy(a.descr, d, dl);
  a.fortran = strstr(header, "'fortran_order': True") != NULL;
  cr_assert(a.fortran || strstr(header, "'fortran_order': False") != NULL);
  const char *s = strstr(header, "'shape': (");
  cr_assert_not_null(s);
  s += strlen("'shape': (");
  while (*s != ')') {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    cr_assert(end != s, "%s: bad shape in %s", path, header);
    cr_assert(a.ndim < 4);
    a.shape[a.ndim++] = (size_t)v;
    s = end;
    while (*s == ',' || *s == ' ') s++;
  }
  a.data = a.file + a.header_total;
  a.data_len = len - a.header_total;
  return a;
}

static size_t npy_count(const npy *a) {
  size_t n = 1;
  for (int d = 0; d < a->ndim; d++) n *= a->shape[d];
  return n;
}

static void npy_free(npy *a) { free(a->file); }

static int dir_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

static hmn_layer *small_layer(void) {
  hmn_config cfg;
  hmn_test_small_config(&cfg, 6, 4);
  hmn_layer *layer = NULL;
  hmn_error err;
  cr_assert_eq(hmn_layer_create(&cfg, "ref", &layer, &err), HMN_OK, "%s", err.message);
  return layer;
}

Test(record, samples_every_n_steps_as_npy) {
  hmn_layer *layer = small_layer();
  hmn_recorder *rec = NULL;
  hmn_error err;
  const char *dir = hmn_test_path("rec");
  cr_assert_eq(hmn_recorder_open(dir, "W,W[1:3],z,eta,g_mean,reward,tau", 5, layer, &rec, &err),
               HMN_OK, "%s", err.message);
  float w_at[5][24];
  int samples = 0;
  for (uint64_t t = 0; t <= 20; t++) {
    if (t > 0) hmn_test_run_stream(layer, 1);
    cr_assert_eq(hmn_recorder_sample(rec, layer, (double)t * 0.5, &err), HMN_OK, "%s",
                 err.message);
    /* A second call at the same step records nothing. */
    cr_assert_eq(hmn_recorder_sample(rec, layer, 0.0, &err), HMN_OK);
    if (t % 5 == 0) {
      cr_assert_eq(hmn_layer_read(layer, HMN_ARRAY_W, w_at[samples], sizeof w_at[0], &err), HMN_OK);
      samples++;
    }
  }
  cr_assert_eq(hmn_recorder_count(rec), 5);
  cr_assert_eq(hmn_recorder_steps_to_next(rec, 20), 5);
  cr_assert_eq(hmn_recorder_steps_to_next(rec, 23), 2);
  cr_assert_eq(hmn_recorder_close(rec, &err), HMN_OK, "%s", err.message);

  char path[4096];
  snprintf(path, sizeof path, "%s/W.npy", dir);
  npy w = npy_read(path);
  cr_assert_str_eq(w.descr, "<f4");
  cr_assert(!w.fortran);
  cr_assert_eq(w.ndim, 3);
  cr_assert(w.shape[0] == 5 && w.shape[1] == 4 && w.shape[2] == 6);
  cr_assert_eq(w.data_len, npy_count(&w) * 4);
  cr_assert(memcmp(w.data, w_at, sizeof w_at) == 0, "recorded W differs from the layer's");
  npy_free(&w);

  snprintf(path, sizeof path, "%s/W_1_3.npy", dir);
  npy rows = npy_read(path);
  cr_assert(rows.ndim == 3 && rows.shape[0] == 5 && rows.shape[1] == 2 && rows.shape[2] == 6);
  for (int s = 0; s < 5; s++)
    cr_assert(memcmp(rows.data + (size_t)s * 12 * 4, &w_at[s][6], 12 * 4) == 0);
  npy_free(&rows);

  snprintf(path, sizeof path, "%s/t.npy", dir);
  npy t = npy_read(path);
  cr_assert_str_eq(t.descr, "<u8");
  cr_assert(t.ndim == 1 && t.shape[0] == 5);
  for (int s = 0; s < 5; s++) {
    uint64_t v;
    memcpy(&v, t.data + 8 * s, 8);
    cr_assert_eq(v, (uint64_t)(5 * s));
  }
  npy_free(&t);

  snprintf(path, sizeof path, "%s/reward.npy", dir);
  npy r = npy_read(path);
  cr_assert_str_eq(r.descr, "<f8");
  cr_assert(r.ndim == 1 && r.shape[0] == 5);
  double r4;
  memcpy(&r4, r.data + 8 * 4, 8);
  cr_assert_eq(r4, 10.0);
  npy_free(&r);

  snprintf(path, sizeof path, "%s/eta.npy", dir);
  npy e = npy_read(path);
  cr_assert(e.ndim == 2 && e.shape[0] == 5 && e.shape[1] == 2);
  float eta[2], el, eg;
  memcpy(eta, e.data, 8);
  cr_assert_eq(hmn_layer_get_eta(layer, &el, &eg, NULL), HMN_OK);
  cr_assert(eta[0] == el && eta[1] == eg);
  npy_free(&e);

  snprintf(path, sizeof path, "%s/tau.npy", dir);
  npy tau = npy_read(path);
  cr_assert_str_eq(tau.descr, "|u1");
  cr_assert_eq(tau.data_len, 5 * 24);
  npy_free(&tau);

  snprintf(path, sizeof path, "%s/g_mean.npy", dir);
  npy g = npy_read(path);
  cr_assert(g.ndim == 1 && g.shape[0] == 5);
  npy_free(&g);
  hmn_layer_destroy(layer);
}

Test(record, bad_variables_leave_nothing) {
  hmn_layer *layer = small_layer();
  hmn_recorder *rec = NULL;
  hmn_error err;
  const char *dir = hmn_test_path("bad");
  cr_assert_eq(mkdir(dir, 0777), 0);
  const char *bad[] = {"W,nonsense", "W[0:9]", "z[0:1]", "W[2:1]", "W[0:2", "eta[0:1]", "W,W", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(hmn_recorder_open(dir, bad[i], 10, layer, &rec, &err), HMN_EINVAL, "'%s'", bad[i]);
    cr_assert_null(rec);
    cr_assert_eq(dir_entries(dir), 0, "'%s' left files behind", bad[i]);
  }
  cr_assert(strstr((hmn_recorder_open(dir, "W,nonsense", 10, layer, &rec, &err), err.message),
                   "nonsense") != NULL);
  cr_assert_eq(hmn_recorder_open(dir, "W", 0, layer, &rec, &err), HMN_EINVAL);
  cr_assert_eq(hmn_recorder_close(NULL, &err), HMN_OK);
  hmn_layer_destroy(layer);
}

Test(record, ckpt_export_matches_the_layer) {
  hmn_layer *layer = small_layer();
  hmn_test_run_stream(layer, 17);
  hmn_error err;
  char ckpt[2048];
  snprintf(ckpt, sizeof ckpt, "%s", hmn_test_path("l.ckpt")); /* a static buffer */
  cr_assert_eq(hmn_layer_save(layer, ckpt, &err), HMN_OK, "%s", err.message);
  char dir[2048];
  snprintf(dir, sizeof dir, "%s", hmn_test_path("export"));
  cr_assert_eq(hmn_ckpt_export(ckpt, dir, &err), HMN_OK, "%s", err.message);
  const hmn_config *cfg = hmn_layer_config(layer);
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.npy", dir, hmn_array_name((hmn_array)a));
    npy f = npy_read(path);
    size_t elem = hmn_array_type((hmn_array)a) == HMN_U8 ? 1 : 4;
    size_t bytes = hmn_array_length(cfg, (hmn_array)a) * elem;
    cr_assert_eq(npy_count(&f), hmn_array_length(cfg, (hmn_array)a), "%s", path);
    cr_assert_eq(f.data_len, bytes);
    unsigned char *want = malloc(bytes);
    cr_assert_eq(hmn_layer_read(layer, (hmn_array)a, want, bytes, &err), HMN_OK);
    cr_assert(memcmp(f.data, want, bytes) == 0, "%s differs from the layer", path);
    free(want);
    npy_free(&f);
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/W.npy", dir);
  npy w = npy_read(path);
  cr_assert(w.ndim == 2 && w.shape[0] == 4 && w.shape[1] == 6);
  npy_free(&w);
  snprintf(path, sizeof path, "%s/t.npy", dir);
  npy t = npy_read(path);
  cr_assert_eq(t.ndim, 0);
  uint64_t step;
  memcpy(&step, t.data, 8);
  cr_assert_eq(step, 17);
  npy_free(&t);
  /* A file that is not a checkpoint: an error naming it, no folder. */
  snprintf(dir, sizeof dir, "%s", hmn_test_path("export2"));
  cr_assert_neq(hmn_ckpt_export(path, dir, &err), HMN_OK);
  cr_assert(strstr(err.message, "t.npy") != NULL, "%s", err.message);
  struct stat st;
  cr_assert_neq(stat(dir, &st), 0);
  hmn_layer_destroy(layer);
}
