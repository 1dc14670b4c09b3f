/*
 * opencl_build.c - the kernel program: its source, its build options, and
 * building it (through the binary cache).
 *
 * The source is the host's defines block followed by kernel files,
 * concatenated, each behind a #line directive so the compiler's messages
 * name the real file and line: kernels/hmn_port.h, hmn_math.h,
 * hmn_synapse.h and hmn_step.cl for the NDRange kernels; a variant such as
 * the FPGA kernel names its own list (hmn__cl_build_files).
 * The files come from the copy compiled into the library (kernels.c), so
 * an installed binary needs no source tree; HMN_KERNEL_DIR points at a
 * directory to read them from instead, to try kernel changes without
 * rebuilding. Random123 stays an #include, found through -I.
 */
#include "opencl/opencl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bumped when the way sources or options are put together changes, so
 * that old cache entries stop matching. */
#define HMN__BUILD_KEY_VERSION "hmn-build-1"

/* A growing string; `failed` sticks after the first allocation failure. */
typedef struct {
  char *text;
  size_t len, cap;
  bool failed;
} hmn__buf;

static void hmn__buf_add(hmn__buf *b, const char *data, size_t len) {
  if (b->failed) return;
  if (b->len + len + 1 > b->cap) {
    size_t cap = b->cap > 0 ? b->cap : 4096;
    while (cap < b->len + len + 1) cap *= 2;
    char *grown = hmn__calloc(cap, 1);
    if (grown == NULL) {
      b->failed = true;
      return;
    }
    if (b->len > 0) memcpy(grown, b->text, b->len);
    hmn__free(b->text);
    b->text = grown;
    b->cap = cap;
  }
  memcpy(b->text + b->len, data, len);
  b->len += len;
  b->text[b->len] = '\0';
}

static void hmn__buf_str(hmn__buf *b, const char *s) { hmn__buf_add(b, s, strlen(s)); }

/* Append one kernel file: the embedded copy, or $HMN_KERNEL_DIR/name. */
static int hmn__add_kernel_file(hmn__buf *b, const hmn__kernel_file *file, const char *dir,
                                hmn_error *err) {
  char line[256];
  snprintf(line, sizeof line, "#line 1 \"%s\"\n", file->name);
  hmn__buf_str(b, line);
  if (dir == NULL) {
    hmn__buf_add(b, (const char *)file->text, file->length);
    hmn__buf_str(b, "\n");
    return HMN_OK;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, file->name);
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return hmn__fail(err, HMN_EIO, "cannot read kernel source '%s' (from HMN_KERNEL_DIR): %s",
                     path, strerror(errno));
  char chunk[8192];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) hmn__buf_add(b, chunk, n);
  int failed = ferror(f);
  fclose(f);
  if (failed) return hmn__fail(err, HMN_EIO, "cannot read kernel source '%s'", path);
  hmn__buf_str(b, "\n");
  return HMN_OK;
}

static int hmn__kernel_source(const char *defines, const char *const *names, size_t n_names,
                              char **out, hmn_error *err) {
  hmn__buf b = {0};
  int rc = HMN_OK;
  const char *dir = getenv("HMN_KERNEL_DIR");
  if (dir != NULL && dir[0] == '\0') dir = NULL;
  hmn__buf_str(&b, defines);
  hmn__buf_str(&b, "#define HMN_SOURCES_INLINED 1\n");
  for (size_t n = 0; n < n_names && rc == HMN_OK; n++) {
    const hmn__kernel_file *file = NULL;
    for (size_t k = 0; k < hmn__kernel_file_count && file == NULL; k++)
      if (strcmp(hmn__kernel_files[k].name, names[n]) == 0) file = &hmn__kernel_files[k];
    if (file == NULL)
      rc = hmn__fail(err, HMN_EBUILD, "kernel file '%s' is not compiled into libhmn", names[n]);
    else
      rc = hmn__add_kernel_file(&b, file, dir, err);
  }
  if (rc == HMN_OK && b.failed)
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory assembling the kernel source");
  if (rc != HMN_OK) {
    hmn__free(b.text);
    return rc;
  }
  *out = b.text;
  return HMN_OK;
}

/* Correctly rounded division and sqrt make results device independent
 * (OpenCL otherwise allows 2.5 ulp); devices that cannot do it still run,
 * with last-bit differences. */
static void hmn__build_options(const hmn__cl_device *dev, char *buf, size_t size) {
  const char *r123 = getenv("HMN_RANDOM123_DIR");
  if (r123 == NULL || r123[0] == '\0') r123 = HMN_RANDOM123_INCLUDE_DIR;
  snprintf(buf, size, "-cl-std=CL1.2%s -I %s",
           dev->correct_div_sqrt ? " -cl-fp32-correctly-rounded-divide-sqrt" : "", r123);
}

static uint64_t hmn__build_key(const hmn__cl_device *dev, const char *source, const char *options) {
  const char *parts[] = {HMN__BUILD_KEY_VERSION, source,          dev->info.platform,
                         dev->platform_version,  dev->info.name,  dev->info.version,
                         dev->info.driver,       options};
  uint64_t h = HMN__FNV_OFFSET;
  /* Each part with its terminating NUL, so that moving text between
   * parts changes the key. */
  for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++)
    h = hmn__fnv1a(h, parts[k], strlen(parts[k]) + 1);
  return h;
}

/* The build log, squeezed into what an hmn_error can carry. */
static int hmn__build_failure(cl_program prog, const hmn__cl_device *dev, const char *what,
                              cl_int cl, hmn_error *err) {
  char log[HMN_ERROR_MESSAGE_MAX];
  size_t got = 0;
  log[0] = '\0';
  if (clGetProgramBuildInfo(prog, dev->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &got) ==
          CL_SUCCESS &&
      got > 0) {
    char *whole = hmn__calloc(got + 1, 1);
    if (whole != NULL &&
        clGetProgramBuildInfo(prog, dev->device, CL_PROGRAM_BUILD_LOG, got, whole, NULL) ==
            CL_SUCCESS) {
      snprintf(log, sizeof log, "%s", whole);
      if (strlen(whole) >= sizeof log) strcpy(log + sizeof log - 5, "...");
    }
    hmn__free(whole);
  }
  return hmn__fail(err, HMN_EBUILD, "building kernels/%s for OpenCL device '%s' failed (%s); build log:\n%s",
                   what, dev->info.name, hmn__cl_error_name(cl), log[0] != '\0' ? log : "(empty)");
}

/* A program from the cached binary, or NULL when there is none or the
 * driver rejects it (then the caller builds from source). */
static cl_program hmn__build_from_cache(cl_context ctx, const hmn__cl_device *dev, uint64_t key,
                                        const char *options) {
  unsigned char *bin = NULL;
  size_t len = 0;
  if (!hmn__cl_cache_load(key, &bin, &len)) return NULL;
  const unsigned char *bins[1] = {bin};
  cl_int status = CL_SUCCESS, cl = CL_SUCCESS;
  cl_program prog = clCreateProgramWithBinary(ctx, 1, &dev->device, &len, bins, &status, &cl);
  hmn__free(bin);
  if (prog == NULL) return NULL;
  if (cl != CL_SUCCESS || status != CL_SUCCESS ||
      clBuildProgram(prog, 1, &dev->device, options, NULL, NULL) != CL_SUCCESS) {
    clReleaseProgram(prog);
    return NULL;
  }
  return prog;
}

static void hmn__store_binary(cl_program prog, uint64_t key) {
  size_t len = 0;
  if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof len, &len, NULL) != CL_SUCCESS ||
      len == 0)
    return;
  unsigned char *bin = hmn__calloc(len, 1);
  unsigned char *bins[1] = {bin};
  if (bin != NULL && clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) ==
                         CL_SUCCESS)
    hmn__cl_cache_store(key, bin, len);
  hmn__free(bin);
}

int hmn__cl_build(cl_context ctx, const hmn__cl_device *dev, const char *defines,
                  cl_program *out, hmn_error *err) {
  static const char *const files[] = {"hmn_port.h", "hmn_math.h", "hmn_iface.h", "hmn_synapse.h",
                                      "hmn_step.cl"};
  return hmn__cl_build_files(ctx, dev, defines, files, sizeof files / sizeof files[0], out, err);
}

int hmn__cl_build_files(cl_context ctx, const hmn__cl_device *dev, const char *defines,
                        const char *const *files, size_t n_files, cl_program *out,
                        hmn_error *err) {
  char *source = NULL;
  char options[4400];
  cl_program prog = NULL;
  int rc = hmn__kernel_source(defines, files, n_files, &source, err);
  if (rc != HMN_OK) goto cleanup;
  hmn__build_options(dev, options, sizeof options);
  uint64_t key = hmn__build_key(dev, source, options);
  if ((prog = hmn__build_from_cache(ctx, dev, key, options)) != NULL) goto cleanup;

  cl_int cl = CL_SUCCESS;
  const char *sources[1] = {source};
  prog = clCreateProgramWithSource(ctx, 1, sources, NULL, &cl);
  if (prog == NULL || cl != CL_SUCCESS) {
    rc = hmn__fail(err, HMN_EBUILD, "cannot create the kernel program for OpenCL device '%s': %s",
                   dev->info.name, hmn__cl_error_name(cl));
    goto cleanup;
  }
  if ((cl = clBuildProgram(prog, 1, &dev->device, options, NULL, NULL)) != CL_SUCCESS) {
    rc = hmn__build_failure(prog, dev, files[n_files - 1], cl, err);
    goto cleanup;
  }
  hmn__store_binary(prog, key);
cleanup:
  hmn__free(source);
  if (rc != HMN_OK && prog != NULL) {
    clReleaseProgram(prog);
    prog = NULL;
  }
  *out = prog;
  return rc;
}
