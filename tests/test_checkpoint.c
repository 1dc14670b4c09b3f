/*
 * test_checkpoint.c - saving, loading, restoring and inspecting
 * checkpoints (SPEC section 7), and their rejection when damaged.
 */
/* mknod() and makedev() are X/Open. */
#define _XOPEN_SOURCE 700

#include "internal.h"
#include "io/ckpt_format.h"
#include "io/io.h"
#include "support.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* Every offset, tag and size of the format comes from io/ckpt_format.h. */
#define SECTIONS HMN__SEC_LAYER_COUNT
#define HDR(field) HMN__CKPT_AT(header, field)
#define SEC(field) HMN__CKPT_AT(section, field)
#define SCL(field) HMN__CKPT_AT(scalars, field)
#define HEADER_BYTES HMN__CKPT_HEADER_BYTES
#define SECTION_BYTES HMN__CKPT_SECTION_HEADER_BYTES
#define ARRAY_SECTION(name) (HMN__SEC_ARRAY0 + HMN_ARRAY_##name)

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
  hmn_layer_get_eta(layer, &s->eta_local, &s->eta_global, NULL);
  s->cfg_text = hmn_test_config_text(cfg);
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
static void fix_header_crc(unsigned char *buf) { wr32(buf + HDR(crc), crc(buf, HDR(crc))); }

/* Where each section (its header included) lies, found by
 * walking the file independently of the library. */
typedef struct {
  char name[9];
  size_t start;   /* section header */
  size_t payload; /* payload offset */
  size_t length;  /* payload length */
} raw_section;

static void walk(const unsigned char *buf, size_t len, raw_section sec[SECTIONS]) {
  cr_assert_eq(rd32(buf + HDR(n_sections)), SECTIONS);
  size_t off = HEADER_BYTES;
  for (int s = 0; s < SECTIONS; s++) {
    cr_assert_leq(off + SECTION_BYTES, len);
    memset(sec[s].name, 0, sizeof sec[s].name);
    memcpy(sec[s].name, buf + off + SEC(tag), HMN__CKPT_TAG_BYTES);
    sec[s].start = off;
    sec[s].payload = off + SECTION_BYTES;
    sec[s].length = (size_t)rd64(buf + off + SEC(length));
    off = sec[s].payload + sec[s].length;
  }
  cr_assert_eq(off, len, "sections end at %zu, file has %zu bytes", off, len);
}

static const char *expected_section(int s) {
  const char *name = hmn__ckpt_section_name(s);
  cr_assert_not_null(name, "section %d has no name", s);
  return name;
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
  cr_assert_eq(hmn_layer_set_eta(layer, 0.0123f, 0.0456f, &err), 0, "%s", err.message);
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
  cr_assert_eq(b.eta_global, 0.0456f);
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
  cr_assert_eq(info.version, 2u);
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
  char *text = hmn_test_config_text(cfg);
  cr_assert_not_null(text);

  size_t off = HEADER_BYTES;
  for (int s = 0; s < SECTIONS; s++) {
    const hmn_ckpt_section_info *si = &info.sections[s];
    cr_assert_str_eq(si->name, expected_section(s), "section %d", s);
    size_t want = s == HMN__SEC_CONFIG    ? strlen(text)
                  : s == HMN__SEC_SCALARS ? HMN__CKPT_SCALARS_BYTES
                                          : array_size(cfg, (hmn_array)(s - HMN__SEC_ARRAY0));
    cr_assert_eq(si->length, want, "section %s length %llu, expected %zu", si->name,
                 (unsigned long long)si->length, want);
    cr_assert_eq(hmn__ckpt_section_kind(s) == HMN__SEC_TEXT ? want
                                                            : hmn__ckpt_section_bytes(cfg, s),
                 want, "the table's size of section %s", si->name);
    cr_assert_eq(si->offset, off + SECTION_BYTES, "section %s offset", si->name);
    /* The section header on disk agrees. */
    cr_assert_eq(memcmp(buf + off + SEC(tag), si->name, strlen(si->name)), 0);
    for (size_t k = strlen(si->name); k < HMN__CKPT_TAG_BYTES; k++)
      cr_assert_eq(buf[off + SEC(tag) + k], 0, "tag padding");
    cr_assert_eq(rd64(buf + off + SEC(length)), want);
    cr_assert_eq(rd32(buf + off + SEC(crc)), si->crc32);
    cr_assert_eq(rd32(buf + off + SEC(flags)), 0u, "flags");
    cr_assert_eq(crc(buf + si->offset, (size_t)si->length), si->crc32, "section %s CRC",
                 si->name);
    off = (size_t)(si->offset + si->length);
  }
  cr_assert_eq(off, len, "no bytes after the last section");

  /* Header bytes, little-endian. */
  cr_assert_eq(memcmp(buf + HDR(magic), "HMNCKPT\0", 8), 0);
  cr_assert_eq(rd32(buf + HDR(version)), 2u);
  cr_assert_eq(rd32(buf + HDR(header_bytes)), 64u);
  cr_assert_eq(rd32(buf + HDR(n_in)), 5u);
  cr_assert_eq(rd32(buf + HDR(n_out)), 3u);
  cr_assert_eq(rd32(buf + HDR(n_mod)), (uint32_t)cfg->n_mod);
  cr_assert_eq(rd32(buf + HDR(d_ctx)), (uint32_t)cfg->d_ctx);
  cr_assert_eq(rd32(buf + HDR(delay_len)), 3u);
  cr_assert_eq(rd32(buf + HDR(n_sections)), (uint32_t)SECTIONS);
  cr_assert_eq(rd64(buf + HDR(step)), 7u);
  cr_assert_eq(rd64(buf + HDR(seed)), 31337u);
  cr_assert_eq(rd32(buf + HDR(reserved)), 0u);
  cr_assert_eq(rd32(buf + HDR(crc)), crc(buf, HDR(crc)));

  /* Payloads: the config text verbatim, scalars, and W element by element. */
  cr_assert_eq(memcmp(buf + info.sections[HMN__SEC_CONFIG].offset, text, strlen(text)), 0);
  const unsigned char *sc = buf + info.sections[HMN__SEC_SCALARS].offset;
  cr_assert_eq(rd64(sc + SCL(t)), 7u);
  float f;
  uint32_t bits = rd32(sc + SCL(eta_local));
  memcpy(&f, &bits, 4);
  cr_assert_eq(f, 0.25f);
  bits = rd32(sc + SCL(eta_global));
  memcpy(&f, &bits, 4);
  cr_assert_eq(f, 0.5f);

  size_t nw = hmn_array_length(cfg, HMN_ARRAY_W);
  float *w = malloc(nw * 4);
  cr_assert_not_null(w);
  cr_assert_eq(hmn_layer_read(layer, HMN_ARRAY_W, w, nw * 4, &err), 0, "%s", err.message);
  const unsigned char *pw = buf + info.sections[ARRAY_SECTION(W)].offset;
  for (size_t e = 0; e < nw; e++) {
    uint32_t want;
    memcpy(&want, &w[e], 4);
    cr_assert_eq(rd32(pw + 4 * e), want, "W[%zu]", e);
  }
  uint8_t tau[15];
  cr_assert_eq(hmn_layer_read(layer, HMN_ARRAY_TAU, tau, sizeof tau, &err), 0, "%s", err.message);
  cr_assert_eq(memcmp(buf + info.sections[ARRAY_SECTION(TAU)].offset, tau, sizeof tau), 0);

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
  const size_t header_cuts[] = {0, 4, HDR(version), HDR(header_bytes), HDR(step),
                                HEADER_BYTES - 1};
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
    /* Inside its section header. */
    snprintf(label, sizeof label, "cut in header of %s", name);
    expect_rejected(label, buf, sec[s].start + SEC(length) + 5, HMN_EFORMAT, name);
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
  for (size_t b = 0; b < HEADER_BYTES; b++) {
    buf[b] ^= 0x01;
    snprintf(label, sizeof label, "flip header byte %zu", b);
    if (b < HDR(version))
      expect_rejected(label, buf, len, HMN_EFORMAT, "magic");
    else if (b < HDR(version) + 4)
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

  memcpy(buf + HDR(magic), "GGUF\0\0\0\0", 8);
  fix_header_crc(buf);
  expect_rejected("other magic", buf, len, HMN_EFORMAT, "bad magic");
  expect_rejected("text file", "hello world\n", 12, HMN_EFORMAT, "magic");
  memcpy(buf + HDR(magic), "HMNCKPT\0", 8);

  /* A valid header CRC, so the version check itself is what refuses. */
  wr32(buf + HDR(version), 7);
  fix_header_crc(buf);
  expect_rejected("version 7", buf, len, HMN_EVERSION, "version 7");
  wr32(buf + HDR(version), 0);
  fix_header_crc(buf);
  expect_rejected("version 0", buf, len, HMN_EVERSION, "version 0");
  wr32(buf + HDR(version), HMN__CKPT_VERSION);
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
  wr32(copy + HDR(n_in), 4);
  fix_header_crc(copy);
  expect_rejected("header n_in=4", copy, len, HMN_ESHAPE, "n_in");

  /* Header step that disagrees with the scalars section. */
  memcpy(copy, buf, len);
  wr64(copy + HDR(step), 8);
  fix_header_crc(copy);
  expect_rejected("header step 8", copy, len, HMN_EFORMAT, "step");

  /* Non-zero reserved word and header_bytes. */
  memcpy(copy, buf, len);
  wr32(copy + HDR(reserved), 1);
  fix_header_crc(copy);
  expect_rejected("reserved", copy, len, HMN_EFORMAT, "reserved");
  memcpy(copy, buf, len);
  wr32(copy + HDR(header_bytes), 128);
  fix_header_crc(copy);
  expect_rejected("header_bytes", copy, len, HMN_EFORMAT, "header_bytes");

  /* Fewer sections than the format has: the last one is missing. */
  memcpy(copy, buf, len);
  wr32(copy + HDR(n_sections), SECTIONS - 1);
  fix_header_crc(copy);
  expect_rejected("n_sections-1", copy, sec[SECTIONS - 1].start, HMN_EFORMAT, "scale");
  expect_rejected("n_sections-1", copy, sec[SECTIONS - 1].start, HMN_EFORMAT, "missing");

  /* A section flag set. */
  memcpy(copy, buf, len);
  wr32(copy + sec[ARRAY_SECTION(PSI_F)].start + SEC(flags), 1);
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
  size_t total = HEADER_BYTES;
  for (int k = 0; k < n; k++) total += SECTION_BYTES + pieces[k].sec->length;
  unsigned char *out = malloc(total);
  cr_assert_not_null(out);
  memcpy(out, header, HEADER_BYTES);
  size_t off = HEADER_BYTES;
  for (int k = 0; k < n; k++) {
    size_t bytes = SECTION_BYTES + pieces[k].sec->length;
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
  p[ARRAY_SECTION(PSI_F)] = (piece){buf, &sec[ARRAY_SECTION(PSI_S)]};
  p[ARRAY_SECTION(PSI_S)] = (piece){buf, &sec[ARRAY_SECTION(PSI_F)]};
  bad = assemble(buf, p, SECTIONS, &n);
  expect_rejected("psi_s before psi_f", bad, n, HMN_EFORMAT, "psi_s");
  expect_rejected("psi_s before psi_f", bad, n, HMN_EFORMAT, "order");
  free(bad);

  /* psi_f twice. */
  for (int s = 0; s < SECTIONS; s++) p[s] = (piece){buf, &sec[s]};
  p[ARRAY_SECTION(PSI_S)] = (piece){buf, &sec[ARRAY_SECTION(PSI_F)]};
  bad = assemble(buf, p, SECTIONS, &n);
  expect_rejected("psi_f twice", bad, n, HMN_EFORMAT, "duplicate section 'psi_f'");
  free(bad);

  /* tau left out (the header still lists 16 sections). */
  int m = 0;
  for (int s = 0; s < SECTIONS; s++)
    if (s != ARRAY_SECTION(TAU)) p[m++] = (piece){buf, &sec[s]};
  bad = assemble(buf, p, m, &n);
  expect_rejected("tau missing", bad, n, HMN_EFORMAT, "missing section 'tau'");
  free(bad);

  /* An unknown tag. */
  unsigned char *copy = malloc(len);
  cr_assert_not_null(copy);
  memcpy(copy, buf, len);
  memcpy(copy + sec[ARRAY_SECTION(PHI)].start + SEC(tag), "bogus\0\0\0", 8);
  expect_rejected("unknown tag", copy, len, HMN_EFORMAT, "bogus");
  /* A tag with junk after its NUL padding is not the name. */
  memcpy(copy + sec[ARRAY_SECTION(PHI)].start + SEC(tag), "phi\0\0\0x\0", 8);
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
  p[ARRAY_SECTION(W)] = (piece){small_buf, &small_sec[ARRAY_SECTION(W)]};
  bad = assemble(buf, p, SECTIONS, &n);
  expect_rejected("W of 4x3 in 5x3", bad, n, HMN_ESHAPE, "'W'");
  free(bad);

  /* Scalars whose t disagrees with the header step (with a valid CRC). */
  memcpy(copy, buf, len);
  const raw_section *ss = &sec[HMN__SEC_SCALARS];
  wr64(copy + ss->payload + SCL(t), 6);
  wr32(copy + ss->start + SEC(crc), crc(copy + ss->payload, ss->length));
  expect_rejected("scalars t=6", copy, len, HMN_EFORMAT, "scalars");

  /* A delay outside the delay line, with a valid CRC. */
  memcpy(copy, buf, len);
  const raw_section *ts = &sec[ARRAY_SECTION(TAU)];
  copy[ts->payload + 2] = 3; /* delay_len is 3 */
  wr32(copy + ts->start + SEC(crc), crc(copy + ts->payload, ts->length));
  expect_rejected("tau=3", copy, len, HMN_EFORMAT, "tau");

  free(copy);
  free(small_buf);
  free(path);
  free(buf);
}

/* A version-1 file (before the rule families) has no rule arrays: it
 * loads with every array it has unchanged and the missing ones at their
 * initial values. The same sections under version 2 are refused. */
Test(checkpoint, version_1_file_loads_without_rule_arrays) {
  size_t len;
  raw_section sec[SECTIONS];
  unsigned char *buf = reference_checkpoint(&len, sec);
  piece pieces[SECTIONS];
  int n = 0;
  for (int s = 0; s < SECTIONS; s++) {
    bool missing = s >= HMN__SEC_ARRAY0 + HMN__CKPT_V1_ARRAYS && s < HMN__SEC_LAYER_COUNT;
    if (!missing) pieces[n++] = (piece){buf, &sec[s]};
  }
  cr_assert_eq(n, SECTIONS - 5);
  size_t v1_len;
  unsigned char *v1 = assemble(buf, pieces, n, &v1_len);
  wr32(v1 + HDR(version), 1);
  wr32(v1 + HDR(n_sections), (uint32_t)n);
  fix_header_crc(v1);
  char *v1_path = tpath("v1.ckpt"), *v2_path = tpath("v2.ckpt");
  cr_assert_eq(hmn_test_write_file(v1_path, v1, v1_len), 0);
  cr_assert_eq(hmn_test_write_file(v2_path, buf, len), 0);

  hmn_error err;
  hmn_layer *old = NULL, *now = NULL;
  cr_assert_eq(hmn_layer_load(v1_path, "ref", &old, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_load(v2_path, "ref", &now, &err), HMN_OK, "%s", err.message);
  snapshot a, b;
  snap_take(old, &a);
  snap_take(now, &b);
  snap_assert_equal(&a, &b, "version 1 against version 2 of the same state");
  snap_free(&a);
  snap_free(&b);
  const hmn_config *cfg = hmn_layer_config(old);
  float *theta = malloc(array_size(cfg, HMN_ARRAY_THETA));
  cr_assert_eq(hmn_layer_read(old, HMN_ARRAY_THETA, theta, array_size(cfg, HMN_ARRAY_THETA), &err),
               HMN_OK);
  cr_assert_eq(theta[0], cfg->theta_init);
  free(theta);
  hmn_layer_destroy(old);
  hmn_layer_destroy(now);

  /* Version 2 must have them. */
  wr32(v1 + HDR(version), 2);
  fix_header_crc(v1);
  expect_rejected("version 2 without rule arrays", v1, v1_len, HMN_EFORMAT, "tr_pre");
  free(v1);
  free(buf);
  free(v1_path);
  free(v2_path);
}

/* Replace the config section's payload (fixing its length and CRC). */
static unsigned char *with_config(const unsigned char *buf, size_t len, const raw_section *sec,
                                  const char *text, size_t *out_len) {
  const raw_section *cs = &sec[HMN__SEC_CONFIG];
  size_t old = cs->length, tl = strlen(text);
  size_t n = len - old + tl;
  unsigned char *out = malloc(n);
  cr_assert_not_null(out);
  memcpy(out, buf, cs->payload);
  memcpy(out + cs->payload, text, tl);
  memcpy(out + cs->payload + tl, buf + cs->payload + old, len - cs->payload - old);
  wr64(out + cs->start + SEC(length), tl);
  wr32(out + cs->start + SEC(crc), crc((const unsigned char *)text, tl));
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
  char *text = hmn_test_config_text(&cfg);
  cr_assert_not_null(text);
  bad = with_config(buf, len, sec, text, &n);
  expect_rejected("config n_out=4", bad, n, HMN_ESHAPE, "n_out");
  free(bad);
  free(text);

  /* The file's own config text round-trips: accepted. */
  hmn_test_small_config(&cfg, 5, 3);
  cfg.seed = 42;
  text = hmn_test_config_text(&cfg);
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

/* A state that has run away (inputs near FLT_MAX drive the traces to
 * inf) is not written: the reader would refuse it, so the save names the
 * array and keeps the last good file. */
Test(checkpoint, runaway_state_is_not_saved_and_the_old_file_stays) {
  char *path = tpath("runaway.ckpt");
  hmn_config cfg;
  hmn_error err;
  hmn_layer *layer = NULL;
  hmn_test_small_config(&cfg, 4, 2);
  cfg.activation = HMN_ACT_LINEAR;
  cr_assert_eq(hmn_layer_create(&cfg, "ref", &layer, &err), 0, "%s", err.message);
  save_ok(layer, path);
  size_t old_len;
  unsigned char *old = hmn_test_read_file(path, &old_len);
  cr_assert_not_null(old);

  float x[4] = {3e38f, 3e38f, 3e38f, 3e38f}, mod[16] = {0}, ctx[64] = {0};
  cr_assert(cfg.n_mod <= 16 && cfg.d_ctx <= 64);
  hmn_step_input in = {x, mod, ctx, NULL};
  for (int k = 0; k < 3; k++) cr_assert_eq(hmn_layer_step(layer, &in, &err), 0, "%s", err.message);
  int rc = hmn_layer_save(layer, path, &err);
  cr_assert_eq(rc, HMN_ENUMERIC, "save of a non-finite state returned %d: %s", rc, err.message);
  cr_assert_not_null(strstr(err.message, path), "%s", err.message);
  cr_assert_not_null(strstr(err.message, "the state of step 3 has "), "%s", err.message);
  cr_assert_not_null(strstr(err.message, "must be finite"), "%s", err.message);

  size_t now_len;
  unsigned char *now = hmn_test_read_file(path, &now_len);
  cr_assert_not_null(now);
  cr_assert(now_len == old_len && memcmp(now, old, old_len) == 0, "the old checkpoint changed");
  hmn_ckpt_info info;
  cr_assert_eq(hmn_ckpt_inspect(path, &info, &err), 0, "%s", err.message);
  cr_assert_eq(info.step, 0u);
  free(now);
  free(old);
  hmn_layer_destroy(layer);
  free(path);
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

/* ------------------------------------------------------------------ */
/* Values, not just bytes: CRC-valid files with impossible values. */

/* Overwrite element `index` of an f32 array section (or the scalars'
 * field at byte `index` when `s` is the scalars) and recompute the
 * section's CRC, so that only the value check can refuse it. */
static void put_f32_valid_crc(unsigned char *buf, const raw_section *sec, int s, size_t at,
                              float v) {
  uint32_t bits;
  memcpy(&bits, &v, 4);
  wr32(buf + sec[s].payload + at, bits);
  wr32(buf + sec[s].start + SEC(crc), crc(buf + sec[s].payload, sec[s].length));
}

/* The `hmn ckpt info` of a file: its exit status and its stderr. */
static int ckpt_info_status(const char *path, char *out, size_t size) {
  const char *bin = getenv("HMN_BIN");
  cr_assert_not_null(bin, "HMN_BIN names the hmn binary");
  char cmd[4400];
  snprintf(cmd, sizeof cmd, "'%s' ckpt info '%s' 2>&1", bin, path);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t got = fread(out, 1, size - 1, p);
  out[got] = '\0';
  int status = pclose(p);
  cr_assert(WIFEXITED(status), "hmn ckpt info did not exit normally");
  return WEXITSTATUS(status);
}

Test(checkpoint, crc_valid_impossible_values_are_refused) {
  size_t len;
  raw_section sec[SECTIONS];
  unsigned char *ref = reference_checkpoint(&len, sec);
  unsigned char *copy = malloc(len);
  cr_assert_not_null(copy);
  const struct {
    int section;
    size_t at; /* byte offset in the payload */
    float value;
    const char *named; /* what the message must contain */
  } cases[] = {
      {ARRAY_SECTION(W), 4 * 4, NAN, "section 'W' has W[4]=nan"},
      {ARRAY_SECTION(W), 0, INFINITY, "section 'W' has W[0]=inf"},
      {ARRAY_SECTION(W), 4 * 2, -INFINITY, "section 'W' has W[2]=-inf"},
      {ARRAY_SECTION(W), 4 * 7, 1e30f, "section 'W' has W[7]=1.00000002e+30"},
      {ARRAY_SECTION(PSI_F), 4 * 1, NAN, "section 'psi_f' has psi_f[1]=nan"},
      {ARRAY_SECTION(PSI_S), 0, -NAN, "section 'psi_s' has psi_s[0]="},
      {ARRAY_SECTION(B), 4 * 2, NAN, "section 'b' has b[2]=nan"},
      {ARRAY_SECTION(PHI), 4 * 3, NAN, "section 'phi' has phi[3]=nan"},
      {ARRAY_SECTION(X_HIST), 4 * 5, NAN, "section 'x_hist' has x_hist[5]=nan"},
      {ARRAY_SECTION(KAPPA), 0, INFINITY, "section 'kappa' has kappa[0]=inf"},
      {ARRAY_SECTION(SIGN), 4 * 1, 0.5f, "section 'sign' has sign[1]=0.5"},
      {ARRAY_SECTION(SIGN), 0, 0.0f, "section 'sign' has sign[0]=0"},
      {HMN__SEC_SCALARS, SCL(eta_local), NAN, "section 'scalars' has eta_local=nan"},
      {HMN__SEC_SCALARS, SCL(eta_global), -1.0f, "section 'scalars' has eta_global=-1"},
      {HMN__SEC_SCALARS, SCL(eta_global), INFINITY, "section 'scalars' has eta_global=inf"},
  };
  char label[160], out[4096];
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    memcpy(copy, ref, len);
    put_f32_valid_crc(copy, sec, cases[k].section, cases[k].at, cases[k].value);
    snprintf(label, sizeof label, "case %zu (%s)", k, cases[k].named);
    expect_rejected(label, copy, len, HMN_EFORMAT, cases[k].named);
    /* `hmn ckpt info` reports the same and does not exit 0. */
    char *path = tpath("bad-value.ckpt");
    cr_assert_eq(hmn_test_write_file(path, copy, len), 0);
    int status = ckpt_info_status(path, out, sizeof out);
    cr_assert_neq(status, 0, "%s: hmn ckpt info exited 0:\n%s", label, out);
    cr_assert_not_null(strstr(out, cases[k].named), "%s: hmn ckpt info said:\n%s", label, out);
    free(path);
  }
  /* The untouched file still loads: the checks refuse only bad values. */
  char *path = tpath("good-value.ckpt");
  cr_assert_eq(hmn_test_write_file(path, ref, len), 0);
  hmn_ckpt_info info;
  hmn_error err;
  cr_assert_eq(hmn_ckpt_inspect(path, &info, &err), 0, "%s", err.message);
  cr_assert_eq(ckpt_info_status(path, out, sizeof out), 0, "%s", out);
  free(path);
  free(copy);
  free(ref);
}

Test(checkpoint, config_values_go_through_the_set_validation) {
  size_t len;
  raw_section sec[SECTIONS];
  unsigned char *buf = reference_checkpoint(&len, sec);
  /* The reference checkpoint's config (reference_checkpoint). */
  hmn_config cfg;
  hmn_error err;
  hmn_test_small_config(&cfg, 5, 3);
  cfg.seed = 42;
  /* Each value that --set refuses is refused inside a checkpoint too,
   * with the key and the value named. */
  const char *const bad[][2] = {
      {"tau_fast", "-1"}, {"tau_fast", "nan"}, {"astro_decay", "inf"}, {"w_max", "nan"}};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    hmn_config probe = cfg;
    cr_assert_neq(hmn_config_set(&probe, bad[k][0], bad[k][1], &err), 0,
                  "--set %s=%s was accepted", bad[k][0], bad[k][1]);
    char *text = hmn_test_config_text(&cfg);
    cr_assert_not_null(text);
    /* Replace the key's line with the bad value. */
    char needle[64];
    snprintf(needle, sizeof needle, "\n%s = ", bad[k][0]);
    char *line = strstr(text, needle);
    cr_assert_not_null(line, "%s not in the config text", bad[k][0]);
    char *eol = strchr(line + 1, '\n');
    cr_assert_not_null(eol);
    size_t head = (size_t)(line - text);
    char edited[16384];
    snprintf(edited, sizeof edited, "%.*s\n%s = %s%s", (int)head, text, bad[k][0], bad[k][1], eol);
    size_t n;
    unsigned char *file = with_config(buf, len, sec, edited, &n);
    char label[96];
    snprintf(label, sizeof label, "config %s = %s", bad[k][0], bad[k][1]);
    expect_rejected(label, file, n, HMN_ECONFIG, bad[k][0]);
    free(file);
    free(text);
  }
  free(buf);
}

Test(checkpoint, set_values_follow_the_load_rules) {
  /* What the library accepts it can save and load: the setters refuse
   * the values that loading refuses. */
  hmn_layer *layer = make_layer(5, 3, 42, 2);
  hmn_error err;
  cr_assert_eq(hmn_layer_set_eta(layer, 0.01f, -1.0f, &err), HMN_EINVAL);
  cr_assert_not_null(strstr(err.message, "eta_global=-1"), "%s", err.message);
  cr_assert_eq(hmn_layer_set_eta(layer, INFINITY, 0.01f, &err), HMN_EINVAL);
  cr_assert_eq(hmn_layer_set_eta(layer, 0.0f, 0.0f, &err), 0, "learning off is allowed: %s",
               err.message);
  const hmn_config *cfg = hmn_layer_config(layer);
  size_t nw = hmn_array_length(cfg, HMN_ARRAY_W);
  float *w = calloc(nw, sizeof(float));
  cr_assert_not_null(w);
  w[3] = NAN;
  cr_assert_eq(hmn_layer_write(layer, HMN_ARRAY_W, w, nw * 4, &err), HMN_EINVAL);
  cr_assert_not_null(strstr(err.message, "W[3]=nan"), "%s", err.message);
  w[3] = cfg->w_max * 2.0f;
  cr_assert_eq(hmn_layer_write(layer, HMN_ARRAY_W, w, nw * 4, &err), HMN_EINVAL);
  w[3] = cfg->w_max;
  cr_assert_eq(hmn_layer_write(layer, HMN_ARRAY_W, w, nw * 4, &err), 0, "%s", err.message);
  float sign[3] = {1.0f, 0.5f, -1.0f};
  cr_assert_eq(hmn_layer_write(layer, HMN_ARRAY_SIGN, sign, sizeof sign, &err), HMN_EINVAL);
  cr_assert_not_null(strstr(err.message, "sign[1]"), "%s", err.message);
  char *path = tpath("set-values.ckpt");
  save_ok(layer, path);
  hmn_layer *back = NULL;
  cr_assert_eq(hmn_layer_load(path, "ref", &back, &err), 0, "%s", err.message);
  hmn_layer_destroy(back);
  free(path);
  free(w);
  hmn_layer_destroy(layer);
}

Test(checkpoint, every_byte_flip_of_a_small_checkpoint_is_refused) {
  hmn_config cfg;
  hmn_error err;
  hmn_layer *layer = NULL;
  hmn_test_small_config(&cfg, 2, 2);
  cfg.n_mod = 1;
  cfg.astro_source = 0;
  cfg.d_ctx = 1;
  cfg.delay_len = 2;
  cr_assert_eq(hmn_layer_create(&cfg, "ref", &layer, &err), 0, "%s", err.message);
  hmn_test_run_stream(layer, 3);
  char *path = tpath("small-flip.ckpt");
  save_ok(layer, path);
  hmn_layer_destroy(layer);
  size_t len;
  unsigned char *buf = hmn_test_read_file(path, &len);
  cr_assert_not_null(buf);
  for (size_t b = 0; b < len; b++) {
    buf[b] ^= 0xff;
    cr_assert_eq(hmn_test_write_file(path, buf, len), 0);
    hmn_ckpt_info info;
    int rc = hmn_ckpt_inspect(path, &info, &err);
    cr_assert_neq(rc, 0, "flipping byte %zu of %zu was accepted", b, len);
    hmn_layer *loaded = NULL;
    cr_assert_neq(hmn_layer_load(path, "ref", &loaded, &err), 0, "byte %zu loaded", b);
    cr_assert_null(loaded);
    buf[b] ^= 0xff;
  }
  cr_assert_eq(hmn_test_write_file(path, buf, len), 0);
  hmn_ckpt_info info;
  cr_assert_eq(hmn_ckpt_inspect(path, &info, &err), 0, "%s", err.message);
  free(buf);
  free(path);
}

/* ------------------------------------------------------------------ */
/* What a save may replace. */

/* A save onto `target` fails, names it, and leaves it as it was. */
static void expect_save_refused(hmn_layer *layer, const char *target, const char *kind) {
  struct stat before, after;
  cr_assert_eq(lstat(target, &before), 0);
  hmn_error err;
  int rc = hmn_layer_save(layer, target, &err);
  cr_assert_eq(rc, HMN_EIO, "save onto %s: %s (%s)", kind, hmn_status_name(rc), err.message);
  cr_assert_not_null(strstr(err.message, target), "%s", err.message);
  cr_assert_not_null(strstr(err.message, kind), "%s", err.message);
  cr_assert_eq(lstat(target, &after), 0);
  cr_assert_eq(after.st_mode, before.st_mode, "%s changed type", kind);
  cr_assert_eq(after.st_ino, before.st_ino, "%s was replaced", kind);
  cr_assert_eq(after.st_rdev, before.st_rdev);
}

Test(checkpoint, save_refuses_fifo_device_and_directory_targets) {
  char *dir = tpath("targets");
  cr_assert_eq(mkdir(dir, 0777), 0);
  hmn_layer *layer = make_layer(5, 3, 42, 2);
  char fifo[1200], dev[1200], sub[1200];
  snprintf(fifo, sizeof fifo, "%s/fifo.ckpt", dir);
  cr_assert_eq(mkfifo(fifo, 0666), 0);
  expect_save_refused(layer, fifo, "a FIFO");
  snprintf(sub, sizeof sub, "%s/dir.ckpt", dir);
  cr_assert_eq(mkdir(sub, 0777), 0);
  expect_save_refused(layer, sub, "a directory");
  /* Reading refuses a FIFO too, without waiting for a writer. */
  hmn_ckpt_info info;
  hmn_error err;
  cr_assert_eq(hmn_ckpt_inspect(fifo, &info, &err), HMN_EIO);
  cr_assert_not_null(strstr(err.message, "FIFO"), "%s", err.message);

  /* A character device like /dev/full (1, 7), made here: mknod needs
   * privileges a test run may not have. */
  snprintf(dev, sizeof dev, "%s/full.ckpt", dir);
  if (mknod(dev, S_IFCHR | 0666, makedev(1, 7)) != 0) {
    cr_log_warn("mknod not permitted here (%s): the character device case is skipped",
                strerror(errno));
  } else {
    expect_save_refused(layer, dev, "a character device");
  }
  cr_assert(!dir_has_temp_files(dir), "a refused save left a temporary file");
  hmn_layer_destroy(layer);
  free(dir);
}

Test(checkpoint, save_writes_through_a_symlink) {
  char *dir = tpath("links");
  cr_assert_eq(mkdir(dir, 0777), 0);
  char real_dir[1200], real[1300], link[1200], dangling[1200];
  snprintf(real_dir, sizeof real_dir, "%s/store", dir);
  cr_assert_eq(mkdir(real_dir, 0777), 0);
  snprintf(real, sizeof real, "%s/real.ckpt", real_dir);
  snprintf(link, sizeof link, "%s/latest.ckpt", dir);
  cr_assert_eq(symlink("store/real.ckpt", link), 0);
  hmn_layer *layer = make_layer(5, 3, 42, 2);

  /* The link leads to a file not yet there: it is created. */
  save_ok(layer, link);
  struct stat sb;
  cr_assert_eq(lstat(link, &sb), 0);
  cr_assert(S_ISLNK(sb.st_mode), "the link was replaced by a file");
  cr_assert_eq(lstat(real, &sb), 0);
  cr_assert(S_ISREG(sb.st_mode));

  /* And replaced, atomically, in its own directory. */
  hmn_test_run_stream(layer, 3);
  save_ok(layer, link);
  cr_assert_eq(lstat(link, &sb), 0);
  cr_assert(S_ISLNK(sb.st_mode), "the link was replaced by a file");
  hmn_ckpt_info info;
  hmn_error err;
  cr_assert_eq(hmn_ckpt_inspect(real, &info, &err), 0, "%s", err.message);
  cr_assert_eq(info.step, 5u);
  cr_assert_eq(count_dir_entries(real_dir), 1, "a temporary file was left in the target's folder");
  cr_assert_eq(count_dir_entries(dir), 2, "store/ and the link, nothing else");

  /* A link into a missing folder leads nowhere: refused, left alone. */
  snprintf(dangling, sizeof dangling, "%s/nowhere.ckpt", dir);
  cr_assert_eq(symlink("missing/x.ckpt", dangling), 0);
  cr_assert_eq(hmn_layer_save(layer, dangling, &err), HMN_EIO);
  cr_assert_not_null(strstr(err.message, dangling), "%s", err.message);
  cr_assert_eq(lstat(dangling, &sb), 0);
  cr_assert(S_ISLNK(sb.st_mode));
  hmn_layer_destroy(layer);
  free(dir);
}

/* The pid of a process that has exited and been reaped. */
static pid_t dead_pid(void) {
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) _exit(0);
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  return pid;
}

Test(checkpoint, stale_temp_files_of_dead_processes_are_removed) {
  char *dir = tpath("stale");
  cr_assert_eq(mkdir(dir, 0777), 0);
  char path[1200], stale[1300], live[1300], other[1300], odd[1300];
  snprintf(path, sizeof path, "%s/c.ckpt", dir);
  pid_t gone = dead_pid();
  snprintf(stale, sizeof stale, "%s.tmp.%ld.3", path, (long)gone);
  /* Pid 1 is alive: its temporary file is in use and stays. */
  snprintf(live, sizeof live, "%s.tmp.1.0", path);
  /* Another checkpoint's temporary file, and a name that only looks
   * like one, are not this save's business. */
  snprintf(other, sizeof other, "%s/d.ckpt.tmp.%ld.0", dir, (long)gone);
  snprintf(odd, sizeof odd, "%s.tmp.%ld.x", path, (long)gone);
  const char *files[] = {stale, live, other, odd};
  for (size_t k = 0; k < 4; k++) cr_assert_eq(hmn_test_write_file(files[k], "partial", 7), 0);

  hmn_layer *layer = make_layer(5, 3, 42, 2);
  save_ok(layer, path);
  struct stat sb;
  cr_assert_neq(stat(stale, &sb), 0, "the dead process's temporary file is still there");
  cr_assert_eq(stat(live, &sb), 0, "a live process's temporary file was removed");
  cr_assert_eq(stat(other, &sb), 0, "another target's temporary file was removed");
  cr_assert_eq(stat(odd, &sb), 0, "a file not named like a temporary file was removed");
  hmn_layer_destroy(layer);
  free(dir);
}

Test(checkpoint, sigkill_during_saves_leaves_a_loadable_checkpoint) {
  char *dir = tpath("killed");
  cr_assert_eq(mkdir(dir, 0777), 0);
  char path[1200];
  snprintf(path, sizeof path, "%s/c.ckpt", dir);
  hmn_layer *layer = make_layer(24, 16, 42, 2);
  save_ok(layer, path);
  hmn_error err;
  /* A few dozen kills at spread-out moments of a loop of saves. */
  for (int k = 0; k < 36; k++) {
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
      for (;;) {
        hmn_test_run_stream(layer, 1);
        if (hmn_layer_save(layer, path, NULL) != 0) _exit(3);
      }
    }
    struct timespec pause = {0, 200000L + 150000L * (k % 13)};
    nanosleep(&pause, NULL);
    cr_assert_eq(kill(pid, SIGKILL), 0);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status), "kill %d: the saver exited by itself (%d)", k,
              WEXITSTATUS(status));
    hmn_layer *loaded = NULL;
    cr_assert_eq(hmn_layer_load(path, "ref", &loaded, &err), 0, "after kill %d: %s", k,
                 err.message);
    hmn_layer_destroy(loaded);
  }
  /* The next save removes what the killed savers left. */
  save_ok(layer, path);
  cr_assert(!dir_has_temp_files(dir), "temporary files of killed savers survived a save");
  cr_assert_eq(count_dir_entries(dir), 1);
  hmn_layer_destroy(layer);
  free(dir);
}
