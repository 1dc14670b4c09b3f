/*
 * test_checkpoint.c - saving, loading, restoring and inspecting
 * checkpoints (SPEC section 7), and their rejection when damaged.
 */
#include "internal.h"
#include "support.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SECTIONS (2 + HMN_ARRAY_COUNT)

/* ------------------------------------------------------------------ */
/* Helpers. */

static char *dup_str(const char *s) {
  char *c = strdup(s);
  cr_assert_not_null(c);
  return c;
}

/* hmn_test_path() returns a static buffer: keep a copy. */
static char *tpath(const char *name) { return dup_str(hmn_test_path(name)); }

static size_t elem_size(hmn_array a) { return hmn_array_type(a) == HMN_U8 ? 1 : 4; }

static size_t array_size(const hmn_config *cfg, hmn_array a) {
  return hmn_array_length(cfg, a) * elem_size(a);
}

static hmn_layer *make_layer(int n_in, int n_out, uint64_t seed, uint64_t steps) {
  hmn_config cfg;
  hmn_error err;
  hmn_layer *layer = NULL;
  hmn_test_small_config(&cfg, n_in, n_out);
  cfg.seed = seed;
  cr_assert_eq(hmn_layer_create(&cfg, "ref", &layer, &err), 0, "%s", err.message);
  hmn_test_run_stream(layer, steps);
  return layer;
}

static void save_ok(hmn_layer *layer, const char *path) {
  hmn_error err;
  cr_assert_eq(hmn_layer_save(layer, path, &err), 0, "%s", err.message);
}

/* Everything observable about a layer. */
typedef struct {
  void *arr[HMN_ARRAY_COUNT];
  size_t bytes[HMN_ARRAY_COUNT];
  uint64_t t;
  float eta_local, eta_global;
  char *cfg_text;
} snapshot;

static void snap_take(hmn_layer *layer, snapshot *s) {
  hmn_error err;
  const hmn_config *cfg = hmn_layer_config(layer);
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    s->bytes[a] = array_size(cfg, (hmn_array)a);
    s->arr[a] = malloc(s->bytes[a] + 1);
    cr_assert_not_null(s->arr[a]);
    cr_assert_eq(hmn_layer_read(layer, (hmn_array)a, s->arr[a], s->bytes[a], &err), 0, "%s",
                 err.message);
  }
  s->t = hmn_layer_step_count(layer);
  hmn_layer_get_eta(layer, &s->eta_local, &s->eta_global);
  s->cfg_text = hmn_config_to_string(cfg);
  cr_assert_not_null(s->cfg_text);
}

static void snap_free(snapshot *s) {
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) free(s->arr[a]);
  free(s->cfg_text);
}

/* Bit-identical, or report what differs. */
static void snap_assert_equal(const snapshot *x, const snapshot *y, const char *what) {
  cr_assert_eq(x->t, y->t, "%s: t %llu vs %llu", what, (unsigned long long)x->t,
               (unsigned long long)y->t);
  cr_assert_eq(memcmp(&x->eta_local, &y->eta_local, sizeof(float)), 0, "%s: eta_local %g vs %g",
               what, (double)x->eta_local, (double)y->eta_local);
  cr_assert_eq(memcmp(&x->eta_global, &y->eta_global, sizeof(float)), 0,
               "%s: eta_global %g vs %g", what, (double)x->eta_global, (double)y->eta_global);
  cr_assert_str_eq(x->cfg_text, y->cfg_text, "%s: configs differ", what);
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    cr_assert_eq(x->bytes[a], y->bytes[a], "%s: array %s size", what,
                 hmn_array_name((hmn_array)a));
    cr_assert_eq(memcmp(x->arr[a], y->arr[a], x->bytes[a]), 0, "%s: array %s differs", what,
                 hmn_array_name((hmn_array)a));
  }
}

static int snap_arrays_differ(const snapshot *x, const snapshot *y) {
  for (int a = 0; a < HMN_ARRAY_COUNT; a++)
    if (x->bytes[a] != y->bytes[a] || memcmp(x->arr[a], y->arr[a], x->bytes[a]) != 0) return 1;
  return 0;
}

/* Raw little-endian access for building damaged files. */
static uint32_t rd32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(unsigned char *p, uint32_t v) {
  for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
}
static void wr64(unsigned char *p, uint64_t v) {
  for (int k = 0; k < 8; k++) p[k] = (unsigned char)(v >> (8 * k));
}
static uint32_t crc(const unsigned char *p, size_t n) {
  return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}
static void fix_header_crc(unsigned char *buf) { wr32(buf + 60, crc(buf, 60)); }

/* Where each section (its 24-byte header included) lies, found by
 * walking the file independently of the library. */
typedef struct {
  char name[9];
  size_t start;   /* section header */
  size_t payload; /* payload offset */
  size_t length;  /* payload length */
} raw_section;

static void walk(const unsigned char *buf, size_t len, raw_section sec[SECTIONS]) {
  cr_assert_eq(rd32(buf + 36), SECTIONS);
  size_t off = 64;
  for (int s = 0; s < SECTIONS; s++) {
    cr_assert_leq(off + 24, len);
    memset(sec[s].name, 0, sizeof sec[s].name);
    memcpy(sec[s].name, buf + off, 8);
    sec[s].start = off;
    sec[s].payload = off + 24;
    sec[s].length = (size_t)rd64(buf + off + 8);
    off = sec[s].payload + sec[s].length;
  }
  cr_assert_eq(off, len, "sections end at %zu, file has %zu bytes", off, len);
}

static const char *expected_section(int s) {
  if (s == 0) return "config";
  if (s == 1) return "scalars";
  return hmn_array_name((hmn_array)(s - 2));
}

static size_t count_dir_entries(const char *dir) {
  DIR *d = opendir(dir);
  cr_assert_not_null(d, "opendir %s", dir);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

static int dir_has_temp_files(const char *dir) {
  DIR *d = opendir(dir);
  cr_assert_not_null(d, "opendir %s", dir);
  int found = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strstr(e->d_name, ".tmp") != NULL) found = 1;
  closedir(d);
  return found;
}

/* The reference checkpoint of the corruption tests: 5x3, 7 steps. */
static unsigned char *reference_checkpoint(size_t *len, raw_section sec[SECTIONS]) {
  hmn_layer *layer = make_layer(5, 3, 42, 7);
  char *path = tpath("reference.ckpt");
  save_ok(layer, path);
  hmn_layer_destroy(layer);
  unsigned char *buf = hmn_test_read_file(path, len);
  cr_assert_not_null(buf);
  free(path);
  walk(buf, *len, sec);
  return buf;
}

/*
 * Write `data` as a checkpoint and check that restore, load and inspect
 * all refuse it with `status`, a message naming the file and containing
 * `word`, and that the live layer and the load output are untouched.
 */
static void expect_rejected(const char *label, const void *data, size_t len, int status,
                            const char *word) {
  static int serial;
  char name[64];
  snprintf(name, sizeof name, "bad-%d.ckpt", serial++);
  char *path = tpath(name);
  cr_assert_eq(hmn_test_write_file(path, data, len), 0);

  /* A live layer with other contents than the file: 4 steps, seed 7. */
  hmn_layer *live = make_layer(5, 3, 7, 4);
  snapshot before, after;
  snap_take(live, &before);

  hmn_error err;
  memset(&err, 0, sizeof err);
  int rc = hmn_layer_restore(live, path, &err);
  cr_assert_eq(rc, status, "%s: restore gave %s (%s), expected %s", label, hmn_status_name(rc),
               err.message, hmn_status_name(status));
  cr_assert_eq(err.status, status, "%s: err.status", label);
  cr_assert_not_null(strstr(err.message, path), "%s: message does not name the file: %s", label,
                     err.message);
  cr_assert_not_null(strstr(err.message, word), "%s: message lacks '%s': %s", label, word,
                     err.message);
  snap_take(live, &after);
  snap_assert_equal(&before, &after, label);
  snap_free(&after);
  snap_free(&before);
  hmn_layer_destroy(live);

  hmn_layer *sentinel = (hmn_layer *)&serial, *out = sentinel;
  rc = hmn_layer_load(path, "ref", &out, &err);
  cr_assert_eq(rc, status, "%s: load gave %s (%s)", label, hmn_status_name(rc), err.message);
  cr_assert_eq(out, sentinel, "%s: load changed *out on failure", label);

  hmn_ckpt_info info;
  memset(&info, 0xab, sizeof info);
  rc = hmn_ckpt_inspect(path, &info, &err);
  cr_assert_eq(rc, status, "%s: inspect gave %s (%s)", label, hmn_status_name(rc), err.message);
  cr_assert_eq(info.version, 0xababababu, "%s: inspect changed info on failure", label);

  remove(path);
  free(path);
}

/* ------------------------------------------------------------------ */
/* Round trips. */

Test(checkpoint, round_trip_is_bit_identical) {
  hmn_layer *layer = make_layer(5, 3, 1234, 7);
  hmn_error err;
  /* Non-default learning rates prove that eta comes from the file. */
  cr_assert_eq(hmn_layer_set_eta(layer, 0.0123f, -0.0456f, &err), 0, "%s", err.message);
  char *path = tpath("round.ckpt");
  save_ok(layer, path);

  hmn_layer *loaded = NULL;
  cr_assert_eq(hmn_layer_load(path, "ref", &loaded, &err), 0, "%s", err.message);
  cr_assert_not_null(loaded);
  cr_assert_str_eq(hmn_layer_backend(loaded), "ref");
  cr_assert_eq(hmn_layer_step_count(loaded), 7);

  snapshot a, b;
  snap_take(layer, &a);
  snap_take(loaded, &b);
  snap_assert_equal(&a, &b, "loaded vs saved");
  cr_assert_eq(b.eta_local, 0.0123f);
  cr_assert_eq(b.eta_global, -0.0456f);
  cr_assert_eq(hmn_layer_config(loaded)->seed, 1234u);

  /* The state is not what a fresh layer starts with, so the comparison
   * above tested restored data. */
  hmn_layer *fresh = make_layer(5, 3, 1234, 0);
  snapshot f;
  snap_take(fresh, &f);
  cr_assert(snap_arrays_differ(&a, &f), "7 steps left every array at its initial value");
  snap_free(&f);
  hmn_layer_destroy(fresh);

  snap_free(&a);
  snap_free(&b);
  hmn_layer_destroy(loaded);
  hmn_layer_destroy(layer);
  free(path);
}

Test(checkpoint, restore_replaces_state_and_config) {
  hmn_layer *src = make_layer(5, 3, 99, 7);
  char *path = tpath("restore.ckpt");
  save_ok(src, path);

  /* Same shape, other seed, other step count. */
  hmn_layer *dst = make_layer(5, 3, 5, 2);
  hmn_error err;
  cr_assert_eq(hmn_layer_restore(dst, path, &err), 0, "%s", err.message);
  cr_assert_eq(hmn_layer_config(dst)->seed, 99u);
  snapshot a, b;
  snap_take(src, &a);
  snap_take(dst, &b);
  snap_assert_equal(&a, &b, "restored vs saved");
  snap_free(&a);
  snap_free(&b);

  /* Both continue identically. */
  hmn_test_run_stream(src, 3);
  hmn_test_run_stream(dst, 3);
  snap_take(src, &a);
  snap_take(dst, &b);
  snap_assert_equal(&a, &b, "3 steps after restore");
  snap_free(&a);
  snap_free(&b);

  hmn_layer_destroy(src);
  hmn_layer_destroy(dst);
  free(path);
}

Test(checkpoint, same_run_gives_identical_files) {
  char *p1 = tpath("same-1.ckpt"), *p2 = tpath("same-2.ckpt"), *p3 = tpath("other-seed.ckpt");
  hmn_layer *l1 = make_layer(5, 3, 77, 7);
  hmn_layer *l2 = make_layer(5, 3, 77, 7);
  hmn_layer *l3 = make_layer(5, 3, 78, 7);
  save_ok(l1, p1);
  save_ok(l2, p2);
  save_ok(l3, p3);
  size_t n1, n2, n3;
  unsigned char *b1 = hmn_test_read_file(p1, &n1);
  unsigned char *b2 = hmn_test_read_file(p2, &n2);
  unsigned char *b3 = hmn_test_read_file(p3, &n3);
  cr_assert(b1 && b2 && b3);
  cr_assert_eq(n1, n2);
  cr_assert_eq(memcmp(b1, b2, n1), 0, "two identical runs wrote different checkpoints");
  /* The comparison can fail: another seed gives another file. */
  cr_assert(n1 != n3 || memcmp(b1, b3, n1) != 0, "seed does not reach the checkpoint");
  /* Saving the same layer again rewrites the same bytes. */
  save_ok(l1, p2);
  free(b2);
  b2 = hmn_test_read_file(p2, &n2);
  cr_assert(n1 == n2 && memcmp(b1, b2, n1) == 0);
  free(b1);
  free(b2);
  free(b3);
  hmn_layer_destroy(l1);
  hmn_layer_destroy(l2);
  hmn_layer_destroy(l3);
  free(p1);
  free(p2);
  free(p3);
}

Test(checkpoint, resume_matches_uninterrupted_run) {
  hmn_layer *straight = make_layer(5, 3, 2024, 20);
  hmn_layer *first = make_layer(5, 3, 2024, 8);
  char *path = tpath("resume.ckpt");
  save_ok(first, path);
  hmn_layer_destroy(first);

  hmn_layer *resumed = NULL;
  hmn_error err;
  cr_assert_eq(hmn_layer_load(path, "ref", &resumed, &err), 0, "%s", err.message);
  cr_assert_eq(hmn_layer_step_count(resumed), 8);
  hmn_test_run_stream(resumed, 12);
  cr_assert_eq(hmn_layer_step_count(resumed), 20);

  snapshot a, b;
  snap_take(straight, &a);
  snap_take(resumed, &b);
  snap_assert_equal(&a, &b, "20 straight vs 8+12 resumed");
  snap_free(&a);
  snap_free(&b);

  /* A resumed run that skipped the checkpoint's state would differ: a
   * fresh layer stepped from t=0 for 12 steps is not the same. */
  hmn_layer *fresh = make_layer(5, 3, 2024, 12);
  snap_take(straight, &a);
  snap_take(fresh, &b);
  cr_assert(snap_arrays_differ(&a, &b));
  snap_free(&a);
  snap_free(&b);
  hmn_layer_destroy(fresh);

  hmn_layer_destroy(resumed);
  hmn_layer_destroy(straight);
  free(path);
}

/* ------------------------------------------------------------------ */
/* The format on disk and as inspect reports it. */

Test(checkpoint, inspect_and_layout) {
  hmn_layer *layer = make_layer(5, 3, 31337, 7);
  hmn_error err;
  cr_assert_eq(hmn_layer_set_eta(layer, 0.25f, 0.5f, &err), 0, "%s", err.message);
  char *path = tpath("inspect.ckpt");
  save_ok(layer, path);
  const hmn_config *cfg = hmn_layer_config(layer);

  hmn_ckpt_info info;
  cr_assert_eq(hmn_ckpt_inspect(path, &info, &err), 0, "%s", err.message);
  cr_assert_eq(info.version, 1u);
  cr_assert_eq(info.n_in, 5);
  cr_assert_eq(info.n_out, 3);
  cr_assert_eq(info.n_mod, cfg->n_mod);
  cr_assert_eq(info.d_ctx, cfg->d_ctx);
  cr_assert_eq(info.delay_len, 3);
  cr_assert_eq(info.step, 7u);
  cr_assert_eq(info.seed, 31337u);
  cr_assert_eq(info.n_sections, SECTIONS);

  size_t len;
  unsigned char *buf = hmn_test_read_file(path, &len);
  cr_assert_not_null(buf);
  char *text = hmn_config_to_string(cfg);
  cr_assert_not_null(text);

  size_t off = 64;
  for (int s = 0; s < SECTIONS; s++) {
    const hmn_ckpt_section_info *si = &info.sections[s];
    cr_assert_str_eq(si->name, expected_section(s), "section %d", s);
    size_t want = s == 0   ? strlen(text)
                  : s == 1 ? 16
                           : array_size(cfg, (hmn_array)(s - 2));
    cr_assert_eq(si->length, want, "section %s length %llu, expected %zu", si->name,
                 (unsigned long long)si->length, want);
    cr_assert_eq(si->offset, off + 24, "section %s offset", si->name);
    /* The section header on disk agrees. */
    cr_assert_eq(memcmp(buf + off, si->name, strlen(si->name)), 0);
    for (size_t k = strlen(si->name); k < 8; k++) cr_assert_eq(buf[off + k], 0, "tag padding");
    cr_assert_eq(rd64(buf + off + 8), want);
    cr_assert_eq(rd32(buf + off + 16), si->crc32);
    cr_assert_eq(rd32(buf + off + 20), 0u, "flags");
    cr_assert_eq(crc(buf + si->offset, (size_t)si->length), si->crc32, "section %s CRC",
                 si->name);
    off = (size_t)(si->offset + si->length);
  }
  cr_assert_eq(off, len, "no bytes after the last section");

  /* Header bytes, little-endian. */
  cr_assert_eq(memcmp(buf, "HMNCKPT\0", 8), 0);
  cr_assert_eq(rd32(buf + 8), 1u);
  cr_assert_eq(rd32(buf + 12), 64u);
  cr_assert_eq(rd32(buf + 16), 5u);
  cr_assert_eq(rd32(buf + 20), 3u);
  cr_assert_eq(rd32(buf + 24), (uint32_t)cfg->n_mod);
  cr_assert_eq(rd32(buf + 28), (uint32_t)cfg->d_ctx);
  cr_assert_eq(rd32(buf + 32), 3u);
  cr_assert_eq(rd32(buf + 36), (uint32_t)SECTIONS);
  cr_assert_eq(rd64(buf + 40), 7u);
  cr_assert_eq(rd64(buf + 48), 31337u);
  cr_assert_eq(rd32(buf + 56), 0u);
  cr_assert_eq(rd32(buf + 60), crc(buf, 60));

  /* Payloads: the config text verbatim, scalars, and W element by element. */
  cr_assert_eq(memcmp(buf + info.sections[0].offset, text, strlen(text)), 0);
  const unsigned char *sc = buf + info.sections[1].offset;
  cr_assert_eq(rd64(sc), 7u);
  float f;
  uint32_t bits = rd32(sc + 8);
  memcpy(&f, &bits, 4);
  cr_assert_eq(f, 0.25f);
  bits = rd32(sc + 12);
  memcpy(&f, &bits, 4);
  cr_assert_eq(f, 0.5f);

  size_t nw = hmn_array_length(cfg, HMN_ARRAY_W);
  float *w = malloc(nw * 4);
  cr_assert_not_null(w);
  cr_assert_eq(hmn_layer_read(layer, HMN_ARRAY_W, w, nw * 4, &err), 0, "%s", err.message);
  const unsigned char *pw = buf + info.sections[2].offset;
  for (size_t e = 0; e < nw; e++) {
    uint32_t want;
    memcpy(&want, &w[e], 4);
    cr_assert_eq(rd32(pw + 4 * e), want, "W[%zu]", e);
  }
  uint8_t tau[15];
  cr_assert_eq(hmn_layer_read(layer, HMN_ARRAY_TAU, tau, sizeof tau, &err), 0, "%s", err.message);
  cr_assert_eq(memcmp(buf + info.sections[2 + HMN_ARRAY_TAU].offset, tau, sizeof tau), 0);

  free(w);
  free(text);
  free(buf);
  hmn_layer_destroy(layer);
  free(path);
}

/* ------------------------------------------------------------------ */
/* Damaged files. */

Test(checkpoint, missing_file_is_eio) {
  char *path = tpath("does-not-exist.ckpt");
  hmn_layer *live = make_layer(5, 3, 1, 2);
  snapshot before, after;
  snap_take(live, &before);
  hmn_error err;
  cr_assert_eq(hmn_layer_restore(live, path, &err), HMN_EIO);
  cr_assert_not_null(strstr(err.message, path), "%s", err.message);
  snap_take(live, &after);
  snap_assert_equal(&before, &after, "missing file");
  hmn_ckpt_info info;
  cr_assert_eq(hmn_ckpt_inspect(path, &info, &err), HMN_EIO);
  hmn_layer *out = NULL;
  cr_assert_eq(hmn_layer_load(path, "ref", &out, &err), HMN_EIO);
  cr_assert_null(out);
  snap_free(&before);
  snap_free(&after);
  hmn_layer_destroy(live);
  free(path);
}

Test(checkpoint, truncation_anywhere_is_rejected) {
  size_t len;
  raw_section sec[SECTIONS];
  unsigned char *buf = reference_checkpoint(&len, sec);
  char label[128];

  /* Inside the header (an empty file included). */
  const size_t header_cuts[] = {0, 4, 8, 12, 40, 63};
  for (size_t k = 0; k < sizeof header_cuts / sizeof header_cuts[0]; k++) {
    snprintf(label, sizeof label, "cut at %zu (header)", header_cuts[k]);
    expect_rejected(label, buf, header_cuts[k], HMN_EFORMAT, "truncated");
  }
  for (int s = 0; s < SECTIONS; s++) {
    const char *name = expected_section(s);
    /* At the boundary before the section. */
    snprintf(label, sizeof label, "cut before %s", name);
    expect_rejected(label, buf, sec[s].start, HMN_EFORMAT, name);
    expect_rejected(label, buf, sec[s].start, HMN_EFORMAT, "truncated");
    /* Inside its 24-byte header. */
    snprintf(label, sizeof label, "cut in header of %s", name);
    expect_rejected(label, buf, sec[s].start + 13, HMN_EFORMAT, name);
    /* Inside its payload. */
    cr_assert_gt(sec[s].length, 1, "section %s is empty", name);
    snprintf(label, sizeof label, "cut in payload of %s", name);
    expect_rejected(label, buf, sec[s].payload + sec[s].length / 2, HMN_EFORMAT, name);
    /* One byte short of its end. */
    snprintf(label, sizeof label, "cut at last byte of %s", name);
    expect_rejected(label, buf, sec[s].payload + sec[s].length - 1, HMN_EFORMAT, "truncated");
  }
  free(buf);
}

Test(checkpoint, trailing_bytes_are_rejected) {
  size_t len;
  raw_section sec[SECTIONS];
  unsigned char *buf = reference_checkpoint(&len, sec);
  unsigned char *longer = malloc(len + 5);
  cr_assert_not_null(longer);
  memcpy(longer, buf, len);
  memset(longer + len, 0, 5);
  expect_rejected("5 trailing zero bytes", longer, len + 5, HMN_EFORMAT, "trailing");
  free(longer);
  free(buf);
}

Test(checkpoint, flipped_payload_byte_is_crc_error) {
  size_t len;
  raw_section sec[SECTIONS];
  unsigned char *buf = reference_checkpoint(&len, sec);
  char label[128];
  for (int s = 0; s < SECTIONS; s++) {
    const size_t where[] = {sec[s].payload, sec[s].payload + sec[s].length - 1};
    for (int k = 0; k < 2; k++) {
      buf[where[k]] ^= 0x10;
      snprintf(label, sizeof label, "flip at %zu in %s", where[k], expected_section(s));
      expect_rejected(label, buf, len, HMN_ECRC, expected_section(s));
      expect_rejected(label, buf, len, HMN_ECRC, "CRC");
      buf[where[k]] ^= 0x10;
    }
  }
  free(buf);
}

Test(checkpoint, flipped_header_byte_is_rejected) {
  size_t len;
  raw_section sec[SECTIONS];
  unsigned char *buf = reference_checkpoint(&len, sec);
  char label[128];
  for (size_t b = 0; b < 64; b++) {
    buf[b] ^= 0x01;
    snprintf(label, sizeof label, "flip header byte %zu", b);
    if (b < 8)
      expect_rejected(label, buf, len, HMN_EFORMAT, "magic");
    else if (b < 12)
      expect_rejected(label, buf, len, HMN_EVERSION, "version");
    else
      expect_rejected(label, buf, len, HMN_ECRC, "header CRC32");
    buf[b] ^= 0x01;
  }
  free(buf);
}

Test(checkpoint, wrong_magic_and_version) {
  size_t len;
  raw_section sec[SECTIONS];
  unsigned char *buf = reference_checkpoint(&len, sec);

  memcpy(buf, "GGUF\0\0\0\0", 8);
  fix_header_crc(buf);
  expect_rejected("other magic", buf, len, HMN_EFORMAT, "bad magic");
  expect_rejected("text file", "hello world\n", 12, HMN_EFORMAT, "magic");
  memcpy(buf, "HMNCKPT\0", 8);

  /* A valid header CRC, so the version check itself is what refuses. */
  wr32(buf + 8, 7);
  fix_header_crc(buf);
  expect_rejected("version 7", buf, len, HMN_EVERSION, "version 7");
  wr32(buf + 8, 0);
  fix_header_crc(buf);
  expect_rejected("version 0", buf, len, HMN_EVERSION, "version 0");
  wr32(buf + 8, 1);
  fix_header_crc(buf);

  /* Unchanged again: accepted. */
  char *path = tpath("fixed.ckpt");
  cr_assert_eq(hmn_test_write_file(path, buf, len), 0);
  hmn_ckpt_info info;
  hmn_error err;
  cr_assert_eq(hmn_ckpt_inspect(path, &info, &err), 0, "%s", err.message);
  free(path);
  free(buf);
}

Test(checkpoint, header_fields_must_agree) {
  size_t len;
  raw_section sec[SECTIONS];
  unsigned char *buf = reference_checkpoint(&len, sec);
  unsigned char *copy = malloc(len);
  cr_assert_not_null(copy);

  /* Header dims that disagree with the config section. */
  memcpy(copy, buf, len);
  wr32(copy + 16, 4);
  fix_header_crc(copy);
  expect_rejected("header n_in=4", copy, len, HMN_ESHAPE, "n_in");

  /* Header step that disagrees with the scalars section. */
  memcpy(copy, buf, len);
  wr64(copy + 40, 8);
  fix_header_crc(copy);
  expect_rejected("header step 8", copy, len, HMN_EFORMAT, "step");

  /* Non-zero reserved word and header_bytes. */
  memcpy(copy, buf, len);
  wr32(copy + 56, 1);
  fix_header_crc(copy);
  expect_rejected("reserved", copy, len, HMN_EFORMAT, "reserved");
  memcpy(copy, buf, len);
  wr32(copy + 12, 128);
  fix_header_crc(copy);
  expect_rejected("header_bytes", copy, len, HMN_EFORMAT, "header_bytes");

  /* Fewer sections than the format has: the last one is missing. */
  memcpy(copy, buf, len);
  wr32(copy + 36, SECTIONS - 1);
  fix_header_crc(copy);
  expect_rejected("n_sections-1", copy, sec[SECTIONS - 1].start, HMN_EFORMAT, "scale");
  expect_rejected("n_sections-1", copy, sec[SECTIONS - 1].start, HMN_EFORMAT, "missing");

  /* A section flag set. */
  memcpy(copy, buf, len);
  wr32(copy + sec[3].start + 20, 1);
  expect_rejected("flags", copy, len, HMN_EFORMAT, "flags");

  free(copy);
  free(buf);
}

/* Build a file from the reference header and a list of (source, section)
 * pairs. */
typedef struct {
  const unsigned char *src;
  const raw_section *sec;
} piece;

static unsigned char *assemble(const unsigned char *header, const piece *pieces, int n,
                               size_t *out_len) {
  size_t total = 64;
  for (int k = 0; k < n; k++) total += 24 + pieces[k].sec->length;
  unsigned char *out = malloc(total);
  cr_assert_not_null(out);
  memcpy(out, header, 64);
  size_t off = 64;
  for (int k = 0; k < n; k++) {
    size_t bytes = 24 + pieces[k].sec->length;
    memcpy(out + off, pieces[k].src + pieces[k].sec->start, bytes);
    off += bytes;
  }
  *out_len = total;
  return out;
}

Test(checkpoint, section_order_names_and_shapes) {
  size_t len;
  raw_section sec[SECTIONS];
  unsigned char *buf = reference_checkpoint(&len, sec);
  piece p[SECTIONS];
  size_t n;
  unsigned char *bad;

  /* Swap psi_f and psi_s. */
  for (int s = 0; s < SECTIONS; s++) p[s] = (piece){buf, &sec[s]};
  p[3] = (piece){buf, &sec[4]};
  p[4] = (piece){buf, &sec[3]};
  bad = assemble(buf, p, SECTIONS, &n);
  expect_rejected("psi_s before psi_f", bad, n, HMN_EFORMAT, "psi_s");
  expect_rejected("psi_s before psi_f", bad, n, HMN_EFORMAT, "order");
  free(bad);

  /* psi_f twice. */
  for (int s = 0; s < SECTIONS; s++) p[s] = (piece){buf, &sec[s]};
  p[4] = (piece){buf, &sec[3]};
  bad = assemble(buf, p, SECTIONS, &n);
  expect_rejected("psi_f twice", bad, n, HMN_EFORMAT, "duplicate section 'psi_f'");
  free(bad);

  /* tau left out (the header still lists 16 sections). */
  int m = 0;
  for (int s = 0; s < SECTIONS; s++)
    if (s != 2 + HMN_ARRAY_TAU) p[m++] = (piece){buf, &sec[s]};
  bad = assemble(buf, p, m, &n);
  expect_rejected("tau missing", bad, n, HMN_EFORMAT, "missing section 'tau'");
  free(bad);

  /* An unknown tag. */
  unsigned char *copy = malloc(len);
  cr_assert_not_null(copy);
  memcpy(copy, buf, len);
  memcpy(copy + sec[2 + HMN_ARRAY_PHI].start, "bogus\0\0\0", 8);
  expect_rejected("unknown tag", copy, len, HMN_EFORMAT, "bogus");
  /* A tag with junk after its NUL padding is not the name. */
  memcpy(copy + sec[2 + HMN_ARRAY_PHI].start, "phi\0\0\0x\0", 8);
  expect_rejected("badly padded tag", copy, len, HMN_EFORMAT, "unknown");

  /* A section length that disagrees with the shape: W of a 4x3 layer in
   * a 5x3 file, with its own valid CRC. */
  hmn_layer *small = make_layer(4, 3, 42, 1);
  char *path = tpath("small.ckpt");
  save_ok(small, path);
  hmn_layer_destroy(small);
  size_t small_len;
  unsigned char *small_buf = hmn_test_read_file(path, &small_len);
  cr_assert_not_null(small_buf);
  raw_section small_sec[SECTIONS];
  walk(small_buf, small_len, small_sec);
  for (int s = 0; s < SECTIONS; s++) p[s] = (piece){buf, &sec[s]};
  p[2] = (piece){small_buf, &small_sec[2]};
  bad = assemble(buf, p, SECTIONS, &n);
  expect_rejected("W of 4x3 in 5x3", bad, n, HMN_ESHAPE, "'W'");
  free(bad);

  /* Scalars whose t disagrees with the header step (with a valid CRC). */
  memcpy(copy, buf, len);
  wr64(copy + sec[1].payload, 6);
  wr32(copy + sec[1].start + 16, crc(copy + sec[1].payload, 16));
  expect_rejected("scalars t=6", copy, len, HMN_EFORMAT, "scalars");

  /* A delay outside the delay line, with a valid CRC. */
  memcpy(copy, buf, len);
  const raw_section *ts = &sec[2 + HMN_ARRAY_TAU];
  copy[ts->payload + 2] = 3; /* delay_len is 3 */
  wr32(copy + ts->start + 16, crc(copy + ts->payload, ts->length));
  expect_rejected("tau=3", copy, len, HMN_EFORMAT, "tau");

  free(copy);
  free(small_buf);
  free(path);
  free(buf);
}

/* Replace the config section's payload (fixing its length and CRC). */
static unsigned char *with_config(const unsigned char *buf, size_t len, const raw_section *sec,
                                  const char *text, size_t *out_len) {
  size_t old = sec[0].length, tl = strlen(text);
  size_t n = len - old + tl;
  unsigned char *out = malloc(n);
  cr_assert_not_null(out);
  memcpy(out, buf, sec[0].payload);
  memcpy(out + sec[0].payload, text, tl);
  memcpy(out + sec[0].payload + tl, buf + sec[0].payload + old, len - sec[0].payload - old);
  wr64(out + sec[0].start + 8, tl);
  wr32(out + sec[0].start + 16, crc((const unsigned char *)text, tl));
  *out_len = n;
  return out;
}

Test(checkpoint, bad_config_section) {
  size_t len;
  raw_section sec[SECTIONS];
  unsigned char *buf = reference_checkpoint(&len, sec);
  size_t n;
  unsigned char *bad;

  bad = with_config(buf, len, sec, "[shape]\nno_such_key = 1\n", &n);
  expect_rejected("unknown key", bad, n, HMN_ECONFIG, "config");
  free(bad);

  /* Parses, but dims differ from the header: config says n_out=4. */
  hmn_config cfg;
  hmn_test_small_config(&cfg, 5, 4);
  cfg.seed = 42;
  char *text = hmn_config_to_string(&cfg);
  cr_assert_not_null(text);
  bad = with_config(buf, len, sec, text, &n);
  expect_rejected("config n_out=4", bad, n, HMN_ESHAPE, "n_out");
  free(bad);
  free(text);

  /* The file's own config text round-trips: accepted. */
  hmn_test_small_config(&cfg, 5, 3);
  cfg.seed = 42;
  text = hmn_config_to_string(&cfg);
  cr_assert_not_null(text);
  bad = with_config(buf, len, sec, text, &n);
  char *path = tpath("same-config.ckpt");
  cr_assert_eq(hmn_test_write_file(path, bad, n), 0);
  hmn_ckpt_info info;
  hmn_error err;
  cr_assert_eq(hmn_ckpt_inspect(path, &info, &err), 0, "%s", err.message);
  free(path);
  free(bad);
  free(text);
  free(buf);
}

Test(checkpoint, restore_into_other_shape_is_eshape) {
  hmn_layer *src = make_layer(5, 3, 42, 7);
  char *path = tpath("five-by-three.ckpt");
  save_ok(src, path);
  hmn_layer_destroy(src);

  hmn_layer *live = make_layer(4, 3, 42, 3);
  snapshot before, after;
  snap_take(live, &before);
  hmn_error err;
  cr_assert_eq(hmn_layer_restore(live, path, &err), HMN_ESHAPE, "%s", err.message);
  cr_assert_not_null(strstr(err.message, path), "%s", err.message);
  cr_assert_not_null(strstr(err.message, "n_in=5"), "%s", err.message);
  cr_assert_not_null(strstr(err.message, "layer has n_in=4"), "%s", err.message);
  snap_take(live, &after);
  snap_assert_equal(&before, &after, "after shape mismatch");
  snap_free(&before);
  snap_free(&after);
  hmn_layer_destroy(live);
  free(path);
}

/* ------------------------------------------------------------------ */
/* Atomic writing. */

Test(checkpoint, save_into_missing_directory_is_eio) {
  hmn_layer *layer = make_layer(5, 3, 42, 2);
  char *path = tpath("no-such-dir/x.ckpt");
  hmn_error err;
  cr_assert_eq(hmn_layer_save(layer, path, &err), HMN_EIO);
  cr_assert_eq(err.status, HMN_EIO);
  cr_assert_not_null(strstr(err.message, path), "%s", err.message);
  cr_assert_not_null(strstr(err.message, "checkpoint"), "%s", err.message);

  /* A parent that is a regular file fails even for root. */
  char *file = tpath("plain-file");
  cr_assert_eq(hmn_test_write_file(file, "x", 1), 0);
  char *under = tpath("plain-file/x.ckpt");
  cr_assert_eq(hmn_layer_save(layer, under, &err), HMN_EIO);
  cr_assert_not_null(strstr(err.message, under), "%s", err.message);

  hmn_layer_destroy(layer);
  free(path);
  free(file);
  free(under);
}

Test(checkpoint, successful_saves_leave_no_temp_files) {
  char *dir = tpath("clean");
  cr_assert_eq(mkdir(dir, 0777), 0);
  char path[1100];
  snprintf(path, sizeof path, "%s/a.ckpt", dir);
  hmn_layer *layer = make_layer(5, 3, 42, 2);
  save_ok(layer, path);
  hmn_test_run_stream(layer, 2);
  save_ok(layer, path); /* overwrite */
  cr_assert_eq(count_dir_entries(dir), 1, "expected only a.ckpt in the directory");
  cr_assert(!dir_has_temp_files(dir));
  hmn_ckpt_info info;
  hmn_error err;
  cr_assert_eq(hmn_ckpt_inspect(path, &info, &err), 0, "%s", err.message);
  cr_assert_eq(info.step, 4u, "the overwrite took effect");

  /* A relative path (no directory part) works too. */
  char cwd[1100];
  cr_assert_not_null(getcwd(cwd, sizeof cwd));
  cr_assert_eq(chdir(dir), 0);
  save_ok(layer, "b.ckpt");
  cr_assert_eq(chdir(cwd), 0);
  cr_assert_eq(count_dir_entries(dir), 2);
  hmn_layer_destroy(layer);
  free(dir);
}

Test(checkpoint, failed_write_keeps_old_file) {
  char *dir = tpath("keep");
  cr_assert_eq(mkdir(dir, 0777), 0);
  char path[1100];
  snprintf(path, sizeof path, "%s/a.ckpt", dir);
  hmn_layer *layer = make_layer(5, 3, 42, 2);
  save_ok(layer, path);
  size_t old_len;
  unsigned char *old = hmn_test_read_file(path, &old_len);
  cr_assert_not_null(old);
  cr_assert_gt(old_len, 600);

  /* A file size limit makes the write of the temporary file fail (as
   * root too, unlike permissions). */
  hmn_test_run_stream(layer, 3);
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit saved, small;
  cr_assert_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
  small = saved;
  small.rlim_cur = 512;
  cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
  hmn_error err;
  int rc = hmn_layer_save(layer, path, &err);
  cr_assert_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
  cr_assert_eq(rc, HMN_EIO, "%s", err.message);
  cr_assert_not_null(strstr(err.message, path), "%s", err.message);

  size_t now_len;
  unsigned char *now = hmn_test_read_file(path, &now_len);
  cr_assert_not_null(now);
  cr_assert(now_len == old_len && memcmp(now, old, old_len) == 0, "old checkpoint was changed");
  cr_assert_eq(count_dir_entries(dir), 1, "a temporary file was left behind");
  free(now);

  /* The target is a directory: the rename fails, the temporary goes. */
  char sub[1200];
  snprintf(sub, sizeof sub, "%s/d.ckpt", dir);
  cr_assert_eq(mkdir(sub, 0777), 0);
  char inner[1300];
  snprintf(inner, sizeof inner, "%s/keep-me", sub);
  cr_assert_eq(hmn_test_write_file(inner, "x", 1), 0);
  cr_assert_eq(hmn_layer_save(layer, sub, &err), HMN_EIO);
  cr_assert_not_null(strstr(err.message, sub), "%s", err.message);
  cr_assert_eq(count_dir_entries(dir), 2, "a temporary file was left behind");
  cr_assert_eq(count_dir_entries(sub), 1);

  free(old);
  hmn_layer_destroy(layer);
  free(dir);
}

Test(checkpoint, write_file_atomic_replaces_whole_file) {
  char *path = tpath("atomic.txt");
  hmn_error err;
  const char *longer = "a much longer first version of the file\n";
  cr_assert_eq(hmn__write_file_atomic(path, longer, strlen(longer), &err), 0, "%s", err.message);
  cr_assert_eq(hmn__write_file_atomic(path, "short\n", 6, &err), 0, "%s", err.message);
  size_t n;
  unsigned char *got = hmn_test_read_file(path, &n);
  cr_assert_not_null(got);
  cr_assert_eq(n, 6);
  cr_assert_eq(memcmp(got, "short\n", 6), 0);
  free(got);

  /* Ordinary permissions: 0666 less the umask, not mkstemp's 0600. */
  mode_t old = umask(022);
  cr_assert_eq(hmn__write_file_atomic(path, "x", 1, &err), 0, "%s", err.message);
  umask(old);
  struct stat sb;
  cr_assert_eq(stat(path, &sb), 0);
  cr_assert_eq(sb.st_mode & 0777, 0644, "mode %o", (unsigned)(sb.st_mode & 0777));

  /* Empty content is a valid file. */
  cr_assert_eq(hmn__write_file_atomic(path, "", 0, &err), 0, "%s", err.message);
  cr_assert_eq(stat(path, &sb), 0);
  cr_assert_eq(sb.st_size, 0);
  free(path);
}

/* ------------------------------------------------------------------ */
/* Running out of memory anywhere leaves everything as it was. */

Test(checkpoint, allocation_failures_change_nothing) {
  hmn_layer *src = make_layer(5, 3, 42, 7);
  char *path = tpath("alloc.ckpt");
  save_ok(src, path);
  size_t good_len;
  unsigned char *good = hmn_test_read_file(path, &good_len);
  cr_assert_not_null(good);

  hmn_layer *live = make_layer(5, 3, 8, 3);
  snapshot before, after;
  snap_take(live, &before);
  hmn_error err;
  int done = 0;
  for (long n = 1; n < 200 && !done; n++) {
    hmn__alloc_fail_after(n);
    int rc = hmn_layer_restore(live, path, &err);
    hmn__alloc_fail_after(0);
    if (rc == 0) {
      done = 1;
      break;
    }
    cr_assert_eq(rc, HMN_ENOMEM, "restore, allocation %ld: %s", n, err.message);
    snap_take(live, &after);
    snap_assert_equal(&before, &after, "restore under allocation failure");
    snap_free(&after);
  }
  cr_assert(done, "restore never succeeded");

  done = 0;
  for (long n = 1; n < 200 && !done; n++) {
    hmn_layer *sentinel = (hmn_layer *)&done, *out = sentinel;
    hmn__alloc_fail_after(n);
    int rc = hmn_layer_load(path, "ref", &out, &err);
    hmn__alloc_fail_after(0);
    if (rc == 0) {
      cr_assert_neq(out, sentinel);
      hmn_layer_destroy(out);
      done = 1;
      break;
    }
    cr_assert_eq(rc, HMN_ENOMEM, "load, allocation %ld: %s", n, err.message);
    cr_assert_eq(out, sentinel);
  }
  cr_assert(done, "load never succeeded");

  /* A save that runs out of memory keeps the old file. */
  hmn_test_run_stream(src, 1);
  done = 0;
  for (long n = 1; n < 200 && !done; n++) {
    hmn__alloc_fail_after(n);
    int rc = hmn_layer_save(src, path, &err);
    hmn__alloc_fail_after(0);
    if (rc == 0) {
      done = 1;
      break;
    }
    cr_assert_eq(rc, HMN_ENOMEM, "save, allocation %ld: %s", n, err.message);
    size_t len;
    unsigned char *now = hmn_test_read_file(path, &len);
    cr_assert(now != NULL && len == good_len && memcmp(now, good, len) == 0);
    free(now);
  }
  cr_assert(done, "save never succeeded");

  snap_free(&before);
  free(good);
  hmn_layer_destroy(live);
  hmn_layer_destroy(src);
  free(path);
}
