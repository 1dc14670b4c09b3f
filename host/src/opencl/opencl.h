/*
 * opencl.h - declarations shared by the OpenCL backend's modules:
 * opencl_device.c (platforms, devices, selection), opencl_build.c (kernel
 * sources and program builds), opencl_cache.c (the on-disk binary cache)
 * and backend_opencl.c (the hmn__backend_ops).
 */
#ifndef HMN_OPENCL_H
#define HMN_OPENCL_H

#include "internal.h"

#include <CL/cl.h>

/* ---- devices (opencl_device.c) ---- */

typedef struct {
  cl_platform_id platform;
  cl_device_id device;
  hmn_device_info info;
  char platform_version[HMN_DEVICE_TEXT_MAX];
  bool correct_div_sqrt; /* supports -cl-fp32-correctly-rounded-divide-sqrt */
} hmn__cl_device;

/* Name of an OpenCL error code ("CL_OUT_OF_RESOURCES"). */
const char *hmn__cl_error_name(cl_int code);
/* Pick the device `selector` names (index or name substring); NULL uses
 * $HMN_DEVICE, else the first GPU, else the first device with a compiler. */
int hmn__cl_device_select(const char *selector, hmn__cl_device *out, hmn_error *err);
/* The same for callers that can also load prebuilt binaries (XRT's OpenCL
 * platform builds nothing from source): a device without a compiler is
 * accepted when the selector names it. */
int hmn__cl_device_select_binary(const char *selector, hmn__cl_device *out, hmn_error *err);

/* ---- bitstreams for XRT's OpenCL platform (opencl_xclbin.c) ---- */

/* The program of the FPGA kernel from the bitstream that fits `dev` (its
 * device name is the card's platform) and holds `cfg`, checked first
 * (bitstreams.c). */
int hmn__cl_program_from_xclbin(cl_context ctx, const hmn__cl_device *dev, const hmn_config *cfg,
                                cl_program *out, hmn_error *err);

/* ---- kernel sources (kernels.c, generated from kernels/) ---- */

typedef struct {
  const char *name;
  const unsigned char *text;
  size_t length;
} hmn__kernel_file;

/* Every file of kernels/ that a build may name, headers first. */
extern const hmn__kernel_file hmn__kernel_files[];
extern const size_t hmn__kernel_file_count;

/* ---- program builds (opencl_build.c) ---- */

/* Build the kernels for `dev` with `defines` prepended: from the binary
 * cache when it holds this exact build, else from source (then cached). */
int hmn__cl_build(cl_context ctx, const hmn__cl_device *dev, const char *defines,
                  cl_program *out, hmn_error *err);
/* The same for another kernel: `files` (names in kernels/, in the order
 * they are concatenated, the kernel file last) instead of hmn_step.cl's. */
int hmn__cl_build_files(cl_context ctx, const hmn__cl_device *dev, const char *defines,
                        const char *const *files, size_t n_files, cl_program *out,
                        hmn_error *err);

/* ---- binary cache (opencl_cache.c) ---- */

/* A build's key: SHA-256 over `parts`, each with its terminating NUL. */
#define HMN__CL_KEY_BYTES 32
void hmn__cl_cache_key(const char *const *parts, size_t n, unsigned char key[HMN__CL_KEY_BYTES]);
/* The cached binary for `key`, or false when there is none, the cache is
 * off or refused (hmn_kernel_cache_dir), or the entry fails its checks
 * (the caller then builds from source). Caller frees `*data`. */
bool hmn__cl_cache_load(const unsigned char key[HMN__CL_KEY_BYTES], unsigned char **data,
                        size_t *len);
/* Store a binary; the cache is an optimisation, so failures are silent. */
void hmn__cl_cache_store(const unsigned char key[HMN__CL_KEY_BYTES], const unsigned char *data,
                         size_t len);

#endif /* HMN_OPENCL_H */
