/*
 * bitstreams.c - the bitstreams/ folder: its manifest (manifest.json, read
 * and written with jansson), checking an entry against its .xclbin, and
 * picking the bitstream that fits a card.
 *
 * manifest.json:
 *   { "format": "hmn-bitstreams", "version": 1,
 *     "bitstreams": [ { "file": "hmn_fpga.hw.<platform>.xclbin",
 *       "platform": "<VBNV the xclbin was built for>",
 *       "card": "<VBNV the card reports, when it differs>",
 *       "target": "hw" | "hw_emu" | "sw_emu", "route": "hls",
 *       "kernel": "hmn_fpga_step", "arguments": ["w", "psi_f", ...],
 *       "abi": 3, "limits": {"max_in": 4096, "max_out": 4096, "max_delay": 16},
 *       "clock_mhz": 300, "build": "<the v++ commands>",
 *       "uuid": "<xclbin UUID>", "sha256": "<of the file>" }, ... ] }
 *
 * Platform, UUID and sha256 are taken from the file when it is added
 * (hmn_bitstream_add, `hmn bitstreams add`), and checked against it before
 * it is loaded: a stale entry, a rebuilt file or a damaged copy is caught
 * here rather than by the card.
 *
 * Every file is opened as a file of the folder: its real path (links
 * resolved) must lie inside the folder's real path, and it must be a
 * regular file. It is opened with O_NONBLOCK and checked with fstat before
 * anything is read, so a FIFO or a device under a manifest or .xclbin name
 * is refused at once instead of blocking or being read without end; a
 * link that leaves the folder is refused, because the manifest vouches only
 * for what the folder holds.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "fpga/bitstreams.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"
#include "io/sha256.h"

#define HMN__MANIFEST "manifest.json"
#define HMN__MANIFEST_FORMAT "hmn-bitstreams"
#define HMN__MANIFEST_VERSION 1
/* Larger than any Alveo xclbin (U55C ones are about 100 MB). */
#define HMN__XCLBIN_MAX_BYTES ((size_t)1 << 30)
/* A manifest of thousands of entries stays far below this. */
#define HMN__MANIFEST_MAX_BYTES ((size_t)16 << 20)

const char *hmn_bitstreams_dir(void) {
  const char *dir = getenv("HMN_BITSTREAMS");
  return dir != NULL && dir[0] != '\0' ? dir : HMN_BITSTREAMS_DEFAULT_DIR;
}

static void hmn__manifest_path(const char *dir, char *out, size_t size) {
  snprintf(out, size, "%s/%s", dir, HMN__MANIFEST);
}

/* Open `name` of the folder `dir` for reading (see the banner): its real
 * path inside the folder's, a regular file, never blocking. With
 * `missing_ok`, a name (or folder) that does not exist gives *fd = -1 and
 * success. `path` receives dir/name for messages. */
static int hmn__folder_open(const char *dir, const char *name, bool missing_ok, int *fd,
                            char *path, size_t size, hmn_error *err) {
  char real_dir[PATH_MAX], real[PATH_MAX];
  *fd = -1;
  snprintf(path, size, "%s/%s", dir, name);
  if (realpath(dir, real_dir) == NULL) {
    if (errno == ENOENT && missing_ok) return HMN_OK;
    return hmn__fail(err, HMN_EIO, "cannot open bitstreams folder '%s': %s", dir, strerror(errno));
  }
  if (realpath(path, real) == NULL) {
    if (errno == ENOENT && missing_ok) return HMN_OK;
    return hmn__fail(err, HMN_EIO, "cannot read '%s': %s", path, strerror(errno));
  }
  size_t n = strlen(real_dir);
  bool inside = n == 1 ? real[0] == '/' && real[1] != '\0'
                       : strncmp(real, real_dir, n) == 0 && real[n] == '/' && real[n + 1] != '\0';
  if (!inside)
    return hmn__fail(err, HMN_EIO,
                     "'%s' leads to '%s', outside the bitstreams folder '%s': refused (files of "
                     "the folder must lie in it, also through links)",
                     path, real, real_dir);
  int f = open(real, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (f < 0) return hmn__fail(err, HMN_EIO, "cannot read '%s': %s", path, strerror(errno));
  struct stat st;
  if (fstat(f, &st) != 0) {
    int e = errno;
    close(f);
    return hmn__fail(err, HMN_EIO, "cannot read '%s': %s", path, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(f);
    return hmn__fail(err, HMN_EIO, "'%s' is %s, not a regular file: refused", path,
                     S_ISFIFO(st.st_mode)  ? "a FIFO"
                     : S_ISCHR(st.st_mode) ? "a character device"
                     : S_ISBLK(st.st_mode) ? "a block device"
                     : S_ISDIR(st.st_mode) ? "a directory"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                           : "something else");
  }
  *fd = f;
  return HMN_OK;
}

/* Read `name` of the folder whole (hmn__folder_open's rules). */
static int hmn__read_whole(const char *dir, const char *name, size_t max, bool missing_ok,
                           unsigned char **data, size_t *len, char *path, size_t size,
                           hmn_error *err) {
  int fd = -1;
  *data = NULL;
  *len = 0;
  int rc = hmn__folder_open(dir, name, missing_ok, &fd, path, size, err);
  if (rc != HMN_OK || fd < 0) return rc;
  rc = hmn__read_fd(fd, path, max, NULL, data, len, err);
  close(fd);
  return rc;
}

/* The manifest's JSON, or *root NULL (and success) when there is none. */
static int hmn__manifest_read(const char *dir, json_t **root, hmn_error *err) {
  char path[4200];
  unsigned char *text = NULL;
  size_t len = 0;
  *root = NULL;
  int rc = hmn__read_whole(dir, HMN__MANIFEST, HMN__MANIFEST_MAX_BYTES, true, &text, &len, path,
                           sizeof path, err);
  if (rc != HMN_OK || text == NULL) return rc;
  json_error_t je;
  json_t *doc = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &je);
  hmn__free(text);
  if (doc == NULL)
    return hmn__fail(err, HMN_EFORMAT, "bitstream manifest '%s':%d: %s", path, je.line, je.text);
  json_t *format = json_object_get(doc, "format"), *version = json_object_get(doc, "version");
  json_t *list = json_object_get(doc, "bitstreams");
  if (!json_is_string(format) || strcmp(json_string_value(format), HMN__MANIFEST_FORMAT) != 0)
    rc = hmn__fail(err, HMN_EFORMAT, "bitstream manifest '%s': \"format\" must be \"%s\"", path,
                   HMN__MANIFEST_FORMAT);
  else if (!json_is_integer(version) || json_integer_value(version) != HMN__MANIFEST_VERSION)
    rc = hmn__fail(err, HMN_EVERSION, "bitstream manifest '%s': \"version\" must be %d", path,
                   HMN__MANIFEST_VERSION);
  else if (!json_is_array(list))
    rc = hmn__fail(err, HMN_EFORMAT, "bitstream manifest '%s': \"bitstreams\" must be a list",
                   path);
  if (rc != HMN_OK) {
    json_decref(doc);
    return rc;
  }
  *root = doc;
  return HMN_OK;
}

/* Copy a string member; `required` members must be there. */
static int hmn__get_text(json_t *obj, const char *key, bool required, char *out, size_t size,
                         const char *where, hmn_error *err) {
  json_t *v = json_object_get(obj, key);
  out[0] = '\0';
  if (v == NULL && !required) return HMN_OK;
  if (!json_is_string(v))
    return hmn__fail(err, HMN_EFORMAT, "%s: \"%s\" must be a string", where, key);
  if (strlen(json_string_value(v)) >= size)
    return hmn__fail(err, HMN_EFORMAT, "%s: \"%s\" is longer than %zu characters", where, key,
                     size - 1);
  snprintf(out, size, "%s", json_string_value(v));
  return HMN_OK;
}

static int hmn__get_int(json_t *obj, const char *key, int32_t lo, int32_t hi, int32_t *out,
                        const char *where, hmn_error *err) {
  json_t *v = json_object_get(obj, key);
  if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
    return hmn__fail(err, HMN_EFORMAT, "%s: \"%s\" must be an integer in [%d, %d]", where, key,
                     (int)lo, (int)hi);
  *out = (int32_t)json_integer_value(v);
  return HMN_OK;
}

static int hmn__entry(json_t *obj, const char *where, hmn_bitstream_info *b, hmn_error *err) {
  memset(b, 0, sizeof *b);
  if (!json_is_object(obj)) return hmn__fail(err, HMN_EFORMAT, "%s must be an object", where);
  int rc = hmn__get_text(obj, "file", true, b->file, sizeof b->file, where, err);
  if (rc == HMN_OK && (strchr(b->file, '/') != NULL || b->file[0] == '.' || b->file[0] == '\0'))
    rc = hmn__fail(err, HMN_EFORMAT, "%s: \"file\" must name a file in the folder, got '%s'",
                   where, b->file);
  if (rc == HMN_OK)
    rc = hmn__get_text(obj, "platform", true, b->platform, sizeof b->platform, where, err);
  if (rc == HMN_OK) rc = hmn__get_text(obj, "card", false, b->card, sizeof b->card, where, err);
  if (rc == HMN_OK && b->card[0] == '\0') snprintf(b->card, sizeof b->card, "%s", b->platform);
  if (rc == HMN_OK) rc = hmn__get_text(obj, "target", true, b->target, sizeof b->target, where, err);
  if (rc == HMN_OK && strcmp(b->target, "hw") != 0 && strcmp(b->target, "hw_emu") != 0 &&
      strcmp(b->target, "sw_emu") != 0)
    rc = hmn__fail(err, HMN_EFORMAT, "%s: \"target\" must be hw, hw_emu or sw_emu, got '%s'",
                   where, b->target);
  if (rc == HMN_OK) rc = hmn__get_text(obj, "route", false, b->route, sizeof b->route, where, err);
  if (rc == HMN_OK) rc = hmn__get_text(obj, "kernel", true, b->kernel, sizeof b->kernel, where, err);
  if (rc == HMN_OK) rc = hmn__get_text(obj, "uuid", true, b->uuid, sizeof b->uuid, where, err);
  if (rc == HMN_OK) rc = hmn__get_text(obj, "sha256", true, b->sha256, sizeof b->sha256, where, err);
  if (rc == HMN_OK) rc = hmn__get_text(obj, "build", false, b->build, sizeof b->build, where, err);
  if (rc == HMN_OK) rc = hmn__get_int(obj, "abi", 0, INT32_MAX, &b->abi, where, err);
  json_t *limits = json_object_get(obj, "limits");
  if (rc == HMN_OK && !json_is_object(limits))
    rc = hmn__fail(err, HMN_EFORMAT, "%s: \"limits\" must be an object", where);
  if (rc == HMN_OK) rc = hmn__get_int(limits, "max_in", 1, 65536, &b->max_in, where, err);
  if (rc == HMN_OK) rc = hmn__get_int(limits, "max_out", 1, 65536, &b->max_out, where, err);
  if (rc == HMN_OK) rc = hmn__get_int(limits, "max_delay", 1, 256, &b->max_delay, where, err);
  json_t *clock = json_object_get(obj, "clock_mhz");
  if (rc == HMN_OK && clock != NULL && !json_is_number(clock))
    rc = hmn__fail(err, HMN_EFORMAT, "%s: \"clock_mhz\" must be a number", where);
  if (rc == HMN_OK && clock != NULL) b->clock_mhz = json_number_value(clock);
  json_t *args = json_object_get(obj, "arguments");
  if (rc == HMN_OK && !json_is_array(args))
    rc = hmn__fail(err, HMN_EFORMAT, "%s: \"arguments\" must be a list of names", where);
  size_t used = 0;
  for (size_t k = 0; rc == HMN_OK && k < json_array_size(args); k++) {
    json_t *a = json_array_get(args, k);
    if (!json_is_string(a))
      rc = hmn__fail(err, HMN_EFORMAT, "%s: \"arguments\" must be a list of names", where);
    else if (used + strlen(json_string_value(a)) + 2 > sizeof b->arguments)
      rc = hmn__fail(err, HMN_EFORMAT, "%s: \"arguments\" is too long", where);
    else
      used += (size_t)snprintf(b->arguments + used, sizeof b->arguments - used, "%s%s",
                               k > 0 ? " " : "", json_string_value(a));
  }
  return rc;
}

int hmn_bitstreams_list(const char *dir, hmn_bitstream_info *out, size_t max, size_t *count,
                        hmn_error *err) {
  if (count == NULL || (out == NULL && max > 0))
    return hmn__fail(err, HMN_EINVAL, "hmn_bitstreams_list: NULL argument");
  if (dir == NULL) dir = hmn_bitstreams_dir();
  *count = 0;
  json_t *root = NULL;
  int rc = hmn__manifest_read(dir, &root, err);
  if (rc != HMN_OK || root == NULL) return rc;
  json_t *list = json_object_get(root, "bitstreams");
  char path[4200];
  hmn__manifest_path(dir, path, sizeof path);
  for (size_t k = 0; k < json_array_size(list) && rc == HMN_OK; k++) {
    char where[4400];
    hmn_bitstream_info entry;
    snprintf(where, sizeof where, "bitstream manifest '%s': entry %zu", path, k);
    rc = hmn__entry(json_array_get(list, k), where, &entry, err);
    if (rc == HMN_OK && k < max) out[k] = entry;
  }
  if (rc == HMN_OK) *count = json_array_size(list);
  json_decref(root);
  return rc;
}

void hmn__bitstream_free(hmn__bitstream *b) {
  hmn__free(b->data);
  b->data = NULL;
  b->len = 0;
}

/* Read an entry's file and check it against the entry and this libhmn. */
static int hmn__bitstream_load(const char *dir, const hmn_bitstream_info *entry,
                               hmn__bitstream *out, hmn_error *err) {
  char path[4400];
  memset(out, 0, sizeof *out);
  out->info = *entry;
  int rc = hmn__read_whole(dir, entry->file, HMN__XCLBIN_MAX_BYTES, false, &out->data, &out->len,
                           path, sizeof path, err);
  if (rc != HMN_OK) return rc;
  char sum[HMN__SHA256_HEX], kernels[512];
  hmn__sha256_hex(out->data, out->len, sum);
  if (strcmp(sum, entry->sha256) != 0)
    rc = hmn__fail(err, HMN_ECRC,
                   "bitstream '%s': sha256 %s, the manifest says %s (rebuilt, damaged, or the "
                   "manifest is stale: `hmn bitstreams add` it again)",
                   path, sum, entry->sha256);
  if (rc == HMN_OK) rc = hmn__xclbin_parse(out->data, out->len, path, &out->xclbin, err);
  if (rc == HMN_OK && strcmp(out->xclbin.platform, entry->platform) != 0)
    rc = hmn__fail(err, HMN_EFORMAT,
                   "bitstream '%s' is built for platform '%s'; the manifest says '%s'", path,
                   out->xclbin.platform, entry->platform);
  if (rc == HMN_OK && strcmp(out->xclbin.uuid_text, entry->uuid) != 0)
    rc = hmn__fail(err, HMN_EFORMAT, "bitstream '%s' has UUID %s; the manifest says %s", path,
                   out->xclbin.uuid_text, entry->uuid);
  if (rc == HMN_OK && strcmp(out->xclbin.mode, entry->target) != 0)
    rc = hmn__fail(err, HMN_EFORMAT, "bitstream '%s' is a %s build; the manifest says %s", path,
                   out->xclbin.mode, entry->target);
  if (rc == HMN_OK && (strcmp(entry->kernel, HMN_FPGA_KERNEL_NAME) != 0 ||
                       !hmn__xclbin_has_kernel(&out->xclbin, HMN_FPGA_KERNEL_NAME))) {
    hmn__xclbin_kernel_list(&out->xclbin, kernels, sizeof kernels);
    rc = hmn__fail(err, HMN_EFORMAT, "bitstream '%s' lacks kernel %s (it has: %s)", path,
                   HMN_FPGA_KERNEL_NAME, kernels);
  }
  if (rc == HMN_OK && (entry->abi != HMN_FPGA_ABI || strcmp(entry->arguments, HMN_FPGA_ARG_NAMES) != 0))
    rc = hmn__fail(err, HMN_EVERSION,
                   "bitstream '%s' was built for kernel interface %d (arguments: %s); this "
                   "libhmn drives interface %d (arguments: %s): rebuild it from this source",
                   path, entry->abi, entry->arguments, HMN_FPGA_ABI, HMN_FPGA_ARG_NAMES);
  if (rc != HMN_OK) hmn__bitstream_free(out);
  return rc;
}

int hmn_bitstream_check(const char *dir, const hmn_bitstream_info *entry, hmn_error *err) {
  if (entry == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_bitstream_check: NULL entry");
  hmn__bitstream b;
  int rc = hmn__bitstream_load(dir != NULL ? dir : hmn_bitstreams_dir(), entry, &b, err);
  if (rc == HMN_OK) hmn__bitstream_free(&b);
  return rc;
}

int hmn__bitstream_pick(const char *card_vbnv, const char *target, const hmn_config *cfg,
                        hmn__bitstream *out, hmn_error *err) {
  const char *dir = hmn_bitstreams_dir();
  const char *forced = getenv("HMN_XCLBIN");
  if (forced != NULL && forced[0] == '\0') forced = NULL;
  hmn_bitstream_info *list = NULL;
  size_t n = 0;
  char have[1024] = "", manifest[4200];
  size_t used = 0;
  hmn__manifest_path(dir, manifest, sizeof manifest);
  int rc = hmn_bitstreams_list(dir, NULL, 0, &n, err);
  if (rc != HMN_OK) goto cleanup;
  if (n > 0 && (list = hmn__calloc(n, sizeof *list)) == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory reading '%s'", manifest);
    goto cleanup;
  }
  if (n > 0 && (rc = hmn_bitstreams_list(dir, list, n, &n, err)) != HMN_OK) goto cleanup;
  const hmn_bitstream_info *fits = NULL, *too_small = NULL;
  for (size_t k = 0; k < n; k++) {
    const hmn_bitstream_info *b = &list[k];
    if (used < sizeof have)
      used += (size_t)snprintf(have + used, sizeof have - used, "%s%s (%s, %s)",
                               k > 0 ? "; " : "", b->file, b->card, b->target);
    if (forced != NULL && strcmp(forced, b->file) != 0) continue;
    if (strcmp(b->target, target) != 0) continue;
    if (card_vbnv != NULL && strcmp(b->card, card_vbnv) != 0) continue;
    hmn__fpga_limits lim = {b->max_in, b->max_out, b->max_delay};
    if (hmn__fpga_check_limits(cfg, &lim, "", NULL) != HMN_OK) {
      if (too_small == NULL) too_small = b;
      continue;
    }
    if (fits == NULL) fits = b;
  }
  if (fits == NULL && too_small != NULL) {
    char build[300];
    snprintf(build, sizeof build, "bitstream '%s'", too_small->file);
    hmn__fpga_limits lim = {too_small->max_in, too_small->max_out, too_small->max_delay};
    rc = hmn__fpga_check_limits(cfg, &lim, build, err);
    goto cleanup;
  }
  if (fits == NULL) {
    rc = hmn__fail(err, HMN_EUNSUPPORTED,
                   "no bitstream for platform '%s' (target %s)%s%s in %s, which lists: %s. Build "
                   "one with hw/ (see hw/README.md) and add it with `hmn bitstreams add`",
                   card_vbnv != NULL ? card_vbnv : "any", target,
                   forced != NULL ? " named by HMN_XCLBIN=" : "", forced != NULL ? forced : "",
                   manifest, n > 0 ? have : "nothing");
    goto cleanup;
  }
  rc = hmn__bitstream_load(dir, fits, out, err);
cleanup:
  hmn__free(list);
  return rc;
}

/* `file` of hmn_bitstream_add must name a file of `dir`: a bare name is
 * one, a path is one when its folder is `dir` by real path (so that
 * "out/k.xclbin" is not recorded as a different "dir/k.xclbin"). */
static int hmn__check_in_folder(const char *dir, const char *file, hmn_error *err) {
  const char *slash = strrchr(file, '/');
  if (slash == NULL) return HMN_OK;
  char parent[PATH_MAX], real_parent[PATH_MAX], real_dir[PATH_MAX];
  size_t n = slash == file ? 1 : (size_t)(slash - file);
  if (n >= sizeof parent)
    return hmn__fail(err, HMN_EINVAL, "bitstream path '%.200s...' is too long", file);
  memcpy(parent, file, n);
  parent[n] = '\0';
  if (realpath(dir, real_dir) == NULL)
    return hmn__fail(err, HMN_EIO, "cannot open bitstreams folder '%s': %s", dir, strerror(errno));
  if (realpath(parent, real_parent) == NULL)
    return hmn__fail(err, HMN_EIO, "cannot read '%s': %s", file, strerror(errno));
  if (strcmp(real_parent, real_dir) != 0)
    return hmn__fail(err, HMN_EINVAL,
                     "'%s' is not in the bitstreams folder '%s' (it is in '%s'): copy it into "
                     "the folder first, then add it",
                     file, dir, real_parent);
  return HMN_OK;
}

int hmn_bitstream_add(const char *dir, const char *file, const hmn_bitstream_info *meta,
                      hmn_error *err) {
  if (file == NULL || meta == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_bitstream_add: NULL argument");
  if (dir == NULL) dir = hmn_bitstreams_dir();
  const char *base = strrchr(file, '/') != NULL ? strrchr(file, '/') + 1 : file;
  char path[4400], manifest[4200], where[4500];
  unsigned char *data = NULL;
  size_t len = 0;
  json_t *root = NULL, *entry = NULL;
  char *text = NULL, *with_newline = NULL;
  hmn__xclbin_info x;
  hmn_bitstream_info b = *meta;
  hmn__manifest_path(dir, manifest, sizeof manifest);
  int rc = hmn__check_in_folder(dir, file, err);
  if (rc == HMN_OK)
    rc = hmn__read_whole(dir, base, HMN__XCLBIN_MAX_BYTES, false, &data, &len, path, sizeof path,
                         err);
  if (rc != HMN_OK) goto cleanup;
  if ((rc = hmn__xclbin_parse(data, len, path, &x, err)) != HMN_OK) goto cleanup;
  if (!hmn__xclbin_has_kernel(&x, HMN_FPGA_KERNEL_NAME)) {
    char kernels[512];
    hmn__xclbin_kernel_list(&x, kernels, sizeof kernels);
    rc = hmn__fail(err, HMN_EFORMAT, "bitstream '%s' lacks kernel %s (it has: %s)", path,
                   HMN_FPGA_KERNEL_NAME, kernels);
    goto cleanup;
  }
  if (b.target[0] == '\0') snprintf(b.target, sizeof b.target, "%s", x.mode);
  /* The clock v++ closed timing at, from the file; the builder's figure
   * only for files without a clock section (software emulation). */
  if (x.clock_mhz > 0.0) b.clock_mhz = x.clock_mhz;
  if ((rc = hmn__manifest_read(dir, &root, err)) != HMN_OK) goto cleanup;
  if (root == NULL)
    root = json_pack("{s:s, s:i, s:[]}", "format", HMN__MANIFEST_FORMAT, "version",
                     HMN__MANIFEST_VERSION, "bitstreams");
  char sum[HMN__SHA256_HEX];
  hmn__sha256_hex(data, len, sum);
  entry = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[], s:i, s:{s:i, s:i, s:i}, s:f, s:s, s:s, "
                    "s:s}",
                    "file", base, "platform", x.platform, "card",
                    b.card[0] != '\0' ? b.card : x.platform, "target", b.target, "route", b.route,
                    "kernel", HMN_FPGA_KERNEL_NAME, "arguments", "abi", HMN_FPGA_ABI, "limits",
                    "max_in", (int)b.max_in, "max_out", (int)b.max_out, "max_delay",
                    (int)b.max_delay, "clock_mhz", b.clock_mhz, "build", b.build, "uuid",
                    x.uuid_text, "sha256", sum);
  if (root == NULL || entry == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory writing '%s'", manifest);
    goto cleanup;
  }
  json_t *args = json_object_get(entry, "arguments");
  for (const char *p = HMN_FPGA_ARG_NAMES; *p != '\0'; p += strspn(p, " ")) {
    size_t n = strcspn(p, " ");
    json_array_append_new(args, json_stringn(p, n));
    p += n;
  }
  /* The entry must read back as one (limits in range, and so on). */
  snprintf(where, sizeof where, "bitstream '%s'", path);
  hmn_bitstream_info check;
  if ((rc = hmn__entry(entry, where, &check, err)) != HMN_OK) goto cleanup;
  json_t *list = json_object_get(root, "bitstreams");
  for (size_t k = json_array_size(list); k-- > 0;) {
    json_t *old = json_object_get(json_array_get(list, k), "file");
    if (json_is_string(old) && strcmp(json_string_value(old), base) == 0)
      json_array_remove(list, k);
  }
  json_array_append(list, entry);
  text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (text == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory writing '%s'", manifest);
    goto cleanup;
  }
  /* The file ends in a newline, as text files do. */
  size_t text_len = strlen(text);
  if ((with_newline = hmn__calloc(text_len + 2, 1)) == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory writing '%s'", manifest);
    goto cleanup;
  }
  memcpy(with_newline, text, text_len);
  with_newline[text_len] = '\n';
  rc = hmn__write_file_atomic(manifest, with_newline, text_len + 1, err);
cleanup:
  hmn__free(with_newline);
  free(text);
  json_decref(entry);
  json_decref(root);
  hmn__free(data);
  return rc;
}
