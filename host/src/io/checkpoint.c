/*
 * checkpoint.c - saving and loading a layer's whole state (SPEC section 7).
 *
 * The byte layout is io/ckpt_format.h. A file is read whole into memory
 * and validated completely, section by section, before any layer is
 * touched.
 */
#include "io/ckpt_format.h"
#include "io/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HDR(field) HMN__CKPT_AT(header, field)
#define SEC(field) HMN__CKPT_AT(section, field)
#define SCL(field) HMN__CKPT_AT(scalars, field)

/* ------------------------------------------------------------------ */
/* Save. */

/* Write a section header before `payload` (which follows it) and return
 * the position after the payload. */
static unsigned char *put_section(unsigned char *p, int s, uint64_t len) {
  const char *name = hmn__ckpt_section_name(s);
  const unsigned char *payload = p + HMN__CKPT_SECTION_HEADER_BYTES;
  memset(p, 0, HMN__CKPT_SECTION_HEADER_BYTES);
  memcpy(p + SEC(tag), name, strlen(name));
  hmn__le_put_u64(p + SEC(length), len);
  hmn__le_put_u32(p + SEC(crc), hmn__crc32(payload, (size_t)len));
  hmn__le_put_u32(p + SEC(flags), 0);
  return p + HMN__CKPT_SECTION_HEADER_BYTES + len;
}

static void put_header(unsigned char *p, const hmn__state *st, int n_sections) {
  const hmn_config *cfg = &st->cfg;
  memcpy(p + HDR(magic), HMN__CKPT_MAGIC, HMN__CKPT_MAGIC_BYTES);
  hmn__le_put_u32(p + HDR(version), HMN__CKPT_VERSION);
  hmn__le_put_u32(p + HDR(header_bytes), (uint32_t)HMN__CKPT_HEADER_BYTES);
  hmn__le_put_i32(p + HDR(n_in), cfg->n_in);
  hmn__le_put_i32(p + HDR(n_out), cfg->n_out);
  hmn__le_put_i32(p + HDR(n_mod), cfg->n_mod);
  hmn__le_put_i32(p + HDR(d_ctx), cfg->d_ctx);
  hmn__le_put_i32(p + HDR(delay_len), cfg->delay_len);
  hmn__le_put_u32(p + HDR(n_sections), (uint32_t)n_sections);
  hmn__le_put_u64(p + HDR(step), st->t);
  hmn__le_put_u64(p + HDR(seed), cfg->seed);
  hmn__le_put_u32(p + HDR(reserved), 0);
  hmn__le_put_u32(p + HDR(crc), hmn__crc32(p, HDR(crc)));
}

static void put_array(unsigned char *payload, const hmn__state *st, hmn_array a, size_t bytes) {
  if (hmn_array_type(a) == HMN_F32) {
    const float *src = st->arr[a];
    for (size_t k = 0; k < bytes / 4; k++) hmn__le_put_f32(payload + 4 * k, src[k]);
  } else if (bytes > 0) {
    memcpy(payload, st->arr[a], bytes);
  }
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
    if (strlen(hmn_array_name((hmn_array)a)) > HMN__CKPT_TAG_BYTES)
      return hmn__fail(err, HMN_EINVAL, "cannot write checkpoint '%s': array name '%s' is too long",
                       path, hmn_array_name((hmn_array)a));
  }

  /* The host copy must hold the device's truth. */
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    int rc = layer->ops->pull(layer, (hmn_array)a, err);
    if (rc != 0) return rc;
  }

  const hmn__state *st = &layer->st;
  /* Only what the reader accepts is written (the same rules, values.c): a
   * state that has run away, a trace at inf, is reported now, naming the
   * array and the element, and the file at `path` keeps its contents. */
  char origin[64];
  snprintf(origin, sizeof origin, "the state of step %llu", (unsigned long long)st->t);
  hmn_error why;
  hmn__clear(&why);
  int bad = hmn__check_eta_values(&st->cfg, st->eta_local, st->eta_global, HMN_ENUMERIC, origin,
                                  &why);
  for (int a = 0; a < HMN_ARRAY_COUNT && bad == HMN_OK; a++)
    bad = hmn__check_array_values(&st->cfg, (hmn_array)a, st->arr[a], HMN_ENUMERIC, origin, &why);
  if (bad != HMN_OK)
    return hmn__fail(err, bad, "cannot write checkpoint '%s': %s; the file was left as it was",
                     path, why.message);

  char *text = NULL;
  hmn_error inner;
  hmn__clear(&inner);
  if (hmn_config_to_string(&st->cfg, &text, &inner) != HMN_OK)
    return hmn__fail(err, inner.status, "cannot write checkpoint '%s': formatting the config: %s",
                     path, inner.message);

  int n_sections = extra != NULL ? HMN__SEC_COUNT : HMN__SEC_LAYER_COUNT;
  size_t payload_bytes[HMN__SEC_COUNT];
  for (int s = 0; s < n_sections; s++) {
    switch (hmn__ckpt_section_kind(s)) {
      case HMN__SEC_TEXT: payload_bytes[s] = strlen(text); break;
      case HMN__SEC_OPAQUE: payload_bytes[s] = extra[s - HMN__SEC_LAYER_COUNT].len; break;
      default: payload_bytes[s] = hmn__ckpt_section_bytes(&st->cfg, s); break;
    }
  }
  size_t total = HMN__CKPT_HEADER_BYTES + (size_t)n_sections * HMN__CKPT_SECTION_HEADER_BYTES;
  bool overflow = false;
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

  put_header(buf, st, n_sections);
  unsigned char *p = buf + HMN__CKPT_HEADER_BYTES;
  for (int s = 0; s < n_sections; s++) {
    unsigned char *payload = p + HMN__CKPT_SECTION_HEADER_BYTES;
    size_t bytes = payload_bytes[s];
    switch (hmn__ckpt_section_kind(s)) {
      case HMN__SEC_TEXT: memcpy(payload, text, bytes); break;
      case HMN__SEC_FIXED:
        hmn__le_put_u64(payload + SCL(t), st->t);
        hmn__le_put_f32(payload + SCL(eta_local), st->eta_local);
        hmn__le_put_f32(payload + SCL(eta_global), st->eta_global);
        break;
      case HMN__SEC_ARRAY: put_array(payload, st, (hmn_array)(s - HMN__SEC_ARRAY0), bytes); break;
      case HMN__SEC_OPAQUE:
        if (bytes > 0) memcpy(payload, extra[s - HMN__SEC_LAYER_COUNT].data, bytes);
        break;
    }
    p = put_section(p, s, bytes);
  }
  free(text);

  int rc = hmn__write_file_atomic_as(path, buf, total, "checkpoint ", err);
  hmn__free(buf);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Reading and validation, one function per part of the file. */

typedef struct {
  const char *path;
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

/* Printable form of a section tag for messages: up to its last non-NUL
 * byte, others escaped. */
static void tag_text(const unsigned char *tag, char out[4 * HMN__CKPT_TAG_BYTES + 1]) {
  size_t end = 0;
  for (size_t k = 0; k < HMN__CKPT_TAG_BYTES; k++)
    if (tag[k] != '\0') end = k + 1;
  size_t o = 0;
  for (size_t k = 0; k < end; k++) {
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

/* The header: magic, version, CRC, then the shape into ck->info. */
static int read_header(ckpt_file *ck, hmn_error *err) {
  const unsigned char *buf = ck->buf;
  size_t len = ck->len;
  const char *path = ck->path;
  hmn_ckpt_info *info = &ck->info;
  size_t magic_seen = len < HMN__CKPT_MAGIC_BYTES ? len : HMN__CKPT_MAGIC_BYTES;
  if (memcmp(buf, HMN__CKPT_MAGIC, magic_seen) != 0)
    return hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': bad magic (not an hmn checkpoint)", path);
  if (len < HMN__CKPT_HEADER_BYTES)
    return hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': truncated in the header (needs %zu bytes, file has %zu)",
                     path, HMN__CKPT_HEADER_BYTES, len);
  info->version = hmn__le_get_u32(buf + HDR(version));
  if (info->version != HMN__CKPT_VERSION && info->version != 1u)
    return hmn__fail(err, HMN_EVERSION,
                     "checkpoint '%s': version %lu is not supported (this build reads versions 1 "
                     "to %u)",
                     path, (unsigned long)info->version, HMN__CKPT_VERSION);
  uint32_t stored_crc = hmn__le_get_u32(buf + HDR(crc));
  uint32_t actual_crc = hmn__crc32(buf, HDR(crc));
  if (stored_crc != actual_crc)
    return hmn__fail(err, HMN_ECRC,
                     "checkpoint '%s': header CRC32 mismatch (stored 0x%08lx, computed 0x%08lx)",
                     path, (unsigned long)stored_crc, (unsigned long)actual_crc);
  uint32_t header_bytes = hmn__le_get_u32(buf + HDR(header_bytes));
  if (header_bytes != HMN__CKPT_HEADER_BYTES)
    return hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': header_bytes is %lu, expected %zu", path,
                     (unsigned long)header_bytes, HMN__CKPT_HEADER_BYTES);
  uint32_t reserved = hmn__le_get_u32(buf + HDR(reserved));
  if (reserved != 0)
    return hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': reserved header field is 0x%08lx, not 0",
                     path, (unsigned long)reserved);
  info->n_in = hmn__le_get_i32(buf + HDR(n_in));
  info->n_out = hmn__le_get_i32(buf + HDR(n_out));
  info->n_mod = hmn__le_get_i32(buf + HDR(n_mod));
  info->d_ctx = hmn__le_get_i32(buf + HDR(d_ctx));
  info->delay_len = hmn__le_get_i32(buf + HDR(delay_len));
  info->n_sections = hmn__le_get_u32(buf + HDR(n_sections));
  info->step = hmn__le_get_u64(buf + HDR(step));
  info->seed = hmn__le_get_u64(buf + HDR(seed));
  if (info->n_sections > HMN_CKPT_MAX_SECTIONS)
    return hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': header lists %lu sections (at most %d)",
                     path, (unsigned long)info->n_sections, HMN_CKPT_MAX_SECTIONS);
  return HMN_OK;
}

/* Sections a version-1 file lacks (ckpt_format.h). */
static int missing_sections(const ckpt_file *ck) {
  return ck->info.version == 1u ? HMN_ARRAY_COUNT - HMN__CKPT_V1_ARRAYS : 0;
}

/* The format's index of the file's s-th section: the same, except after
 * the arrays a version-1 file lacks. */
static int logical_section(const ckpt_file *ck, uint32_t s) {
  int first_missing = HMN__SEC_ARRAY0 + HMN__CKPT_V1_ARRAYS;
  return (int)s >= first_missing ? (int)s + missing_sections(ck) : (int)s;
}

/* The header of section number s at `off`: in bounds, the expected tag,
 * flags 0, the size its kind needs, the payload present and its CRC. On
 * success the section's entry in ck->info is filled. */
static int read_section_header(ckpt_file *ck, uint32_t s, size_t off, hmn_error *err) {
  const unsigned char *buf = ck->buf;
  size_t len = ck->len;
  const char *path = ck->path;
  int want_index = logical_section(ck, s);
  const char *expected = hmn__ckpt_section_name(want_index);
  if (len - off < HMN__CKPT_SECTION_HEADER_BYTES) {
    if (expected != NULL)
      return hmn__fail(err, HMN_EFORMAT,
                       "checkpoint '%s': truncated before section '%s' (needs %zu bytes at offset "
                       "%zu, file has %zu)",
                       path, expected, HMN__CKPT_SECTION_HEADER_BYTES, off, len);
    return hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': truncated before section #%lu (needs %zu bytes at offset "
                     "%zu, file has %zu)",
                     path, (unsigned long)s + 1, HMN__CKPT_SECTION_HEADER_BYTES, off, len);
  }
  const unsigned char *tag = buf + off + SEC(tag);
  char shown[4 * HMN__CKPT_TAG_BYTES + 1];
  tag_text(tag, shown);
  int index = hmn__ckpt_section_find(tag);
  if (index < 0)
    return hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': unknown section '%s' at offset %zu",
                     path, shown, off);
  if (index < want_index)
    return hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': duplicate section '%s' at offset %zu",
                     path, shown, off);
  if (index > want_index)
    return hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': section '%s' out of order at offset %zu (missing section "
                     "'%s' before it)",
                     path, shown, off, expected);
  uint64_t plen = hmn__le_get_u64(buf + off + SEC(length));
  uint32_t scrc = hmn__le_get_u32(buf + off + SEC(crc));
  uint32_t flags = hmn__le_get_u32(buf + off + SEC(flags));
  if (flags != 0)
    return hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': section '%s' has flags 0x%08lx, not 0",
                     path, shown, (unsigned long)flags);
  size_t want = hmn__ckpt_section_bytes(&ck->cfg, index);
  hmn__ckpt_kind kind = hmn__ckpt_section_kind(index);
  if (kind == HMN__SEC_FIXED && plen != (uint64_t)want)
    return hmn__fail(err, HMN_EFORMAT, "checkpoint '%s': section '%s' has %llu bytes, expected %zu",
                     path, shown, (unsigned long long)plen, want);
  const hmn_ckpt_info *info = &ck->info;
  if (kind == HMN__SEC_ARRAY && plen != (uint64_t)want)
    return hmn__fail(err, HMN_ESHAPE,
                     "checkpoint '%s': section '%s' has %llu bytes, the shape n_in=%d n_out=%d "
                     "n_mod=%d d_ctx=%d delay_len=%d needs %zu",
                     path, shown, (unsigned long long)plen, (int)info->n_in, (int)info->n_out,
                     (int)info->n_mod, (int)info->d_ctx, (int)info->delay_len, want);
  size_t poff = off + HMN__CKPT_SECTION_HEADER_BYTES;
  if (plen > (uint64_t)(len - poff))
    return hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': truncated in section '%s' (needs %llu bytes at offset %zu, "
                     "file has %zu)",
                     path, shown, (unsigned long long)plen, poff, len);
  uint32_t actual = hmn__crc32(buf + poff, (size_t)plen);
  if (actual != scrc)
    return hmn__fail(err, HMN_ECRC,
                     "checkpoint '%s': section '%s' CRC32 mismatch (stored 0x%08lx, computed "
                     "0x%08lx)",
                     path, shown, (unsigned long)scrc, (unsigned long)actual);
  hmn_ckpt_section_info *si = &ck->info.sections[s];
  memset(si->name, 0, sizeof si->name);
  memcpy(si->name, tag, HMN__CKPT_TAG_BYTES);
  si->offset = poff;
  si->length = plen;
  si->crc32 = scrc;
  return HMN_OK;
}

static int read_scalars(ckpt_file *ck, const unsigned char *payload, hmn_error *err) {
  ck->t = hmn__le_get_u64(payload + SCL(t));
  ck->eta_local = hmn__le_get_f32(payload + SCL(eta_local));
  ck->eta_global = hmn__le_get_f32(payload + SCL(eta_global));
  if (ck->t != ck->info.step)
    return hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': section 'scalars' has t=%llu but the header has step=%llu",
                     ck->path, (unsigned long long)ck->t, (unsigned long long)ck->info.step);
  char origin[HMN_ERROR_MESSAGE_MAX / 2];
  snprintf(origin, sizeof origin, "checkpoint '%s': section 'scalars'", ck->path);
  return hmn__check_eta_values(&ck->cfg, ck->eta_local, ck->eta_global, HMN_EFORMAT, origin, err);
}

static int read_array(ckpt_file *ck, hmn_array which, const unsigned char *payload, size_t bytes,
                      hmn_error *err) {
  /* Values, not just bytes: decoded into a scratch copy (the payload is
   * little-endian and unaligned) and checked by the layer's own rules. */
  void *values = hmn__calloc(bytes > 0 ? bytes : 1, 1);
  if (values == NULL)
    return hmn__fail(err, HMN_ENOMEM, "checkpoint '%s': out of memory checking section '%s'",
                     ck->path, hmn_array_name(which));
  if (hmn_array_type(which) == HMN_F32) {
    float *dst = values;
    for (size_t k = 0; k < bytes / 4; k++) dst[k] = hmn__le_get_f32(payload + 4 * k);
  } else if (bytes > 0) {
    memcpy(values, payload, bytes);
  }
  char origin[HMN_ERROR_MESSAGE_MAX / 2];
  snprintf(origin, sizeof origin, "checkpoint '%s': section '%s'", ck->path,
           hmn_array_name(which));
  int rc = hmn__check_array_values(&ck->cfg, which, values, HMN_EFORMAT, origin, err);
  hmn__free(values);
  if (rc == HMN_OK) ck->payload[which] = payload;
  return rc;
}

/* Every section the header lists, in order, and nothing after them. */
static int read_sections(ckpt_file *ck, hmn_error *err) {
  const hmn_ckpt_info *info = &ck->info;
  size_t off = HMN__CKPT_HEADER_BYTES;
  for (uint32_t s = 0; s < info->n_sections; s++) {
    int rc = read_section_header(ck, s, off, err);
    if (rc != HMN_OK) return rc;
    const hmn_ckpt_section_info *si = &info->sections[s];
    const unsigned char *payload = ck->buf + si->offset;
    size_t bytes = (size_t)si->length;
    int index = logical_section(ck, s);
    switch (hmn__ckpt_section_kind(index)) {
      case HMN__SEC_TEXT:
        rc = parse_config_section(ck->path, payload, si->length, info, &ck->cfg, err);
        break;
      case HMN__SEC_FIXED: rc = read_scalars(ck, payload, err); break;
      case HMN__SEC_ARRAY:
        rc = read_array(ck, (hmn_array)(index - HMN__SEC_ARRAY0), payload, bytes, err);
        break;
      case HMN__SEC_OPAQUE:
        /* Their owners check the content (hmn__layer_load_extra's caller). */
        ck->extra[index - HMN__SEC_LAYER_COUNT].data = payload;
        ck->extra[index - HMN__SEC_LAYER_COUNT].len = bytes;
        break;
    }
    if (rc != HMN_OK) return rc;
    off = (size_t)(si->offset + si->length);
  }
  uint32_t layer_count = (uint32_t)(HMN__SEC_LAYER_COUNT - missing_sections(ck));
  uint32_t all_count = (uint32_t)(HMN__SEC_COUNT - missing_sections(ck));
  if (info->n_sections < layer_count ||
      (info->n_sections > layer_count && info->n_sections < all_count)) {
    uint32_t expected = info->n_sections < layer_count ? layer_count : all_count;
    return hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': missing section '%s' (header lists %lu sections, expected "
                     "%lu)",
                     ck->path, hmn__ckpt_section_name(logical_section(ck, info->n_sections)),
                     (unsigned long)info->n_sections, (unsigned long)expected);
  }
  if (off != ck->len)
    return hmn__fail(err, HMN_EFORMAT,
                     "checkpoint '%s': %zu trailing bytes after the last section (offset %zu)",
                     ck->path, ck->len - off, off);
  return HMN_OK;
}

/* Read `path` and check everything; on success `ck` owns the buffer. */
static int ckpt_read(const char *path, ckpt_file *ck, hmn_error *err) {
  memset(ck, 0, sizeof *ck);
  ck->path = path;
  int rc = hmn__read_file(path, SIZE_MAX - 1, "checkpoint ", &ck->buf, &ck->len, err);
  if (rc == HMN_OK) rc = read_header(ck, err);
  if (rc == HMN_OK) rc = read_sections(ck, err);
  if (rc != HMN_OK) ckpt_file_free(ck);
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
  /* A version-1 file has no rule-family arrays: their initial values. */
  if (ck->info.version == 1u) hmn__state_init_rule_arrays(st);
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    size_t bytes = hmn__array_bytes(&st->cfg, (hmn_array)a);
    const unsigned char *src = ck->payload[a];
    if (src == NULL) continue;
    if (hmn_array_type((hmn_array)a) == HMN_F32) {
      float *dst = st->arr[a];
      for (size_t k = 0; k < bytes / 4; k++) dst[k] = hmn__le_get_f32(src + 4 * k);
    } else if (bytes > 0) {
      memcpy(st->arr[a], src, bytes);
    }
  }
  for (int a = 0; a < HMN_ARRAY_COUNT; a++) {
    int rc = hmn__layer_push(layer, (hmn_array)a, err);
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
