/*
 * opencl_device.c - OpenCL platforms and devices: the listing behind
 * `hmn devices`, and picking the device a layer runs on.
 */
#include "opencl/opencl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Not in every cl.h: returned by the ICD loader when no platform is
 * installed. */
#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

const char *hmn__cl_error_name(cl_int code) {
  switch (code) {
#define HMN__CL_CASE(name) \
  case name:               \
    return #name;
    HMN__CL_CASE(CL_SUCCESS)
    HMN__CL_CASE(CL_DEVICE_NOT_FOUND)
    HMN__CL_CASE(CL_DEVICE_NOT_AVAILABLE)
    HMN__CL_CASE(CL_COMPILER_NOT_AVAILABLE)
    HMN__CL_CASE(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    HMN__CL_CASE(CL_OUT_OF_RESOURCES)
    HMN__CL_CASE(CL_OUT_OF_HOST_MEMORY)
    HMN__CL_CASE(CL_PROFILING_INFO_NOT_AVAILABLE)
    HMN__CL_CASE(CL_MEM_COPY_OVERLAP)
    HMN__CL_CASE(CL_BUILD_PROGRAM_FAILURE)
    HMN__CL_CASE(CL_MAP_FAILURE)
    HMN__CL_CASE(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    HMN__CL_CASE(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    HMN__CL_CASE(CL_COMPILE_PROGRAM_FAILURE)
    HMN__CL_CASE(CL_LINKER_NOT_AVAILABLE)
    HMN__CL_CASE(CL_LINK_PROGRAM_FAILURE)
    HMN__CL_CASE(CL_INVALID_VALUE)
    HMN__CL_CASE(CL_INVALID_DEVICE_TYPE)
    HMN__CL_CASE(CL_INVALID_PLATFORM)
    HMN__CL_CASE(CL_INVALID_DEVICE)
    HMN__CL_CASE(CL_INVALID_CONTEXT)
    HMN__CL_CASE(CL_INVALID_QUEUE_PROPERTIES)
    HMN__CL_CASE(CL_INVALID_COMMAND_QUEUE)
    HMN__CL_CASE(CL_INVALID_MEM_OBJECT)
    HMN__CL_CASE(CL_INVALID_BINARY)
    HMN__CL_CASE(CL_INVALID_BUILD_OPTIONS)
    HMN__CL_CASE(CL_INVALID_PROGRAM)
    HMN__CL_CASE(CL_INVALID_PROGRAM_EXECUTABLE)
    HMN__CL_CASE(CL_INVALID_KERNEL_NAME)
    HMN__CL_CASE(CL_INVALID_KERNEL)
    HMN__CL_CASE(CL_INVALID_ARG_INDEX)
    HMN__CL_CASE(CL_INVALID_ARG_VALUE)
    HMN__CL_CASE(CL_INVALID_ARG_SIZE)
    HMN__CL_CASE(CL_INVALID_KERNEL_ARGS)
    HMN__CL_CASE(CL_INVALID_WORK_DIMENSION)
    HMN__CL_CASE(CL_INVALID_WORK_GROUP_SIZE)
    HMN__CL_CASE(CL_INVALID_WORK_ITEM_SIZE)
    HMN__CL_CASE(CL_INVALID_GLOBAL_OFFSET)
    HMN__CL_CASE(CL_INVALID_EVENT_WAIT_LIST)
    HMN__CL_CASE(CL_INVALID_EVENT)
    HMN__CL_CASE(CL_INVALID_OPERATION)
    HMN__CL_CASE(CL_INVALID_BUFFER_SIZE)
    HMN__CL_CASE(CL_INVALID_GLOBAL_WORK_SIZE)
    HMN__CL_CASE(CL_INVALID_PROPERTY)
    HMN__CL_CASE(CL_PLATFORM_NOT_FOUND_KHR)
#undef HMN__CL_CASE
  }
  return "unknown OpenCL error";
}

const char *hmn_device_type_name(int type) {
  switch (type) {
  case HMN_DEVICE_CPU:
    return "CPU";
  case HMN_DEVICE_GPU:
    return "GPU";
  case HMN_DEVICE_ACCELERATOR:
    return "accelerator";
  default:
    return "other";
  }
}

/* A string property, always terminated; drivers may report more than
 * fits, and the listing only needs the start. */
static void hmn__cl_text(cl_device_id dev, cl_device_info what, char *buf, size_t size) {
  size_t got = 0;
  buf[0] = '\0';
  if (clGetDeviceInfo(dev, what, size, buf, &got) != CL_SUCCESS) {
    /* Too long for buf: read it whole, keep the start. */
    char *whole = got > 0 ? hmn__calloc(got, 1) : NULL;
    if (whole != NULL && clGetDeviceInfo(dev, what, got, whole, NULL) == CL_SUCCESS) {
      memcpy(buf, whole, size - 1);
      buf[size - 1] = '\0';
    }
    hmn__free(whole);
  }
  buf[size - 1] = '\0';
}

static void hmn__cl_describe(cl_platform_id platform, cl_device_id dev, int index,
                             hmn__cl_device *out) {
  hmn_device_info *info = &out->info;
  memset(out, 0, sizeof *out);
  out->platform = platform;
  out->device = dev;
  info->index = index;
  if (clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof info->platform, info->platform, NULL) !=
      CL_SUCCESS)
    strcpy(info->platform, "?");
  info->platform[sizeof info->platform - 1] = '\0';
  if (clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof out->platform_version,
                        out->platform_version, NULL) != CL_SUCCESS)
    out->platform_version[0] = '\0';
  out->platform_version[sizeof out->platform_version - 1] = '\0';
  hmn__cl_text(dev, CL_DEVICE_NAME, info->name, sizeof info->name);
  hmn__cl_text(dev, CL_DEVICE_VERSION, info->version, sizeof info->version);
  hmn__cl_text(dev, CL_DRIVER_VERSION, info->driver, sizeof info->driver);
  cl_device_type type = 0;
  clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL);
  info->type = (type & CL_DEVICE_TYPE_GPU)           ? HMN_DEVICE_GPU
               : (type & CL_DEVICE_TYPE_CPU)         ? HMN_DEVICE_CPU
               : (type & CL_DEVICE_TYPE_ACCELERATOR) ? HMN_DEVICE_ACCELERATOR
                                                     : HMN_DEVICE_OTHER;
  cl_uint units = 0;
  clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
  info->compute_units = units;
  cl_ulong mem = 0;
  clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
  info->global_mem_bytes = mem;
  cl_bool compiler = CL_FALSE;
  clGetDeviceInfo(dev, CL_DEVICE_COMPILER_AVAILABLE, sizeof compiler, &compiler, NULL);
  info->compiler = compiler == CL_TRUE;
  cl_device_fp_config fp = 0;
  clGetDeviceInfo(dev, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, NULL);
  out->correct_div_sqrt = (fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
}

/* Every device of every platform, in index order, into a fresh array
 * (*count may be 0, with *out NULL). */
static int hmn__cl_enumerate(hmn__cl_device **out, size_t *count, hmn_error *err) {
  cl_platform_id *platforms = NULL;
  cl_device_id *devices = NULL;
  hmn__cl_device *list = NULL;
  size_t n_list = 0;
  cl_uint n_platforms = 0;
  int rc = HMN_OK;
  *out = NULL;
  *count = 0;

  cl_int cl = clGetPlatformIDs(0, NULL, &n_platforms);
  /* No ICD installed at all is not an error: there are just no devices. */
  if (cl == CL_PLATFORM_NOT_FOUND_KHR || (cl == CL_SUCCESS && n_platforms == 0)) goto cleanup;
  if (cl != CL_SUCCESS) {
    rc = hmn__fail(err, HMN_EDEVICE, "cannot list OpenCL platforms: %s", hmn__cl_error_name(cl));
    goto cleanup;
  }
  platforms = hmn__calloc(n_platforms, sizeof *platforms);
  if (platforms == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory listing OpenCL platforms");
    goto cleanup;
  }
  if ((cl = clGetPlatformIDs(n_platforms, platforms, NULL)) != CL_SUCCESS) {
    rc = hmn__fail(err, HMN_EDEVICE, "cannot list OpenCL platforms: %s", hmn__cl_error_name(cl));
    goto cleanup;
  }
  for (cl_uint p = 0; p < n_platforms; p++) {
    cl_uint n_dev = 0;
    /* A platform without devices (CL_DEVICE_NOT_FOUND) or a broken one
     * is skipped; the others still serve. */
    if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &n_dev) != CL_SUCCESS ||
        n_dev == 0)
      continue;
    hmn__free(devices);
    devices = hmn__calloc(n_dev, sizeof *devices);
    hmn__cl_device *grown = hmn__calloc(n_list + n_dev, sizeof *grown);
    if (devices == NULL || grown == NULL) {
      hmn__free(grown);
      rc = hmn__fail(err, HMN_ENOMEM, "out of memory listing OpenCL devices");
      goto cleanup;
    }
    if (n_list > 0) memcpy(grown, list, n_list * sizeof *list);
    hmn__free(list);
    list = grown;
    if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, n_dev, devices, NULL) != CL_SUCCESS)
      continue;
    for (cl_uint d = 0; d < n_dev; d++, n_list++)
      hmn__cl_describe(platforms[p], devices[d], (int)n_list, &list[n_list]);
  }
  *out = list;
  *count = n_list;
  list = NULL;
cleanup:
  hmn__free(list);
  hmn__free(devices);
  hmn__free(platforms);
  return rc;
}

int hmn_opencl_devices(hmn_device_info *out, size_t max, size_t *count, hmn_error *err) {
  if (count == NULL || (out == NULL && max > 0))
    return hmn__fail(err, HMN_EINVAL, "hmn_opencl_devices: NULL argument");
  hmn__cl_device *list = NULL;
  size_t n = 0;
  int rc = hmn__cl_enumerate(&list, &n, err);
  if (rc == HMN_OK) {
    for (size_t k = 0; k < n && k < max; k++) out[k] = list[k].info;
    *count = n;
  }
  hmn__free(list);
  return rc;
}

bool hmn__contains_nocase(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay != '\0'; hay++) {
    size_t k = 0;
    while (k < n && hay[k] != '\0' &&
           tolower((unsigned char)hay[k]) == tolower((unsigned char)needle[k]))
      k++;
    if (k == n) return true;
  }
  return n == 0;
}

static bool hmn__all_digits(const char *s) {
  if (*s == '\0') return false;
  for (; *s != '\0'; s++)
    if (!isdigit((unsigned char)*s)) return false;
  return true;
}

/* "0 'name' (platform), 1 ..." for messages that say what exists. */
static void hmn__cl_list_text(const hmn__cl_device *list, size_t n, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t k = 0; k < n && used + 1 < size; k++) {
    int w = snprintf(buf + used, size - used, "%s%d '%s' (%s)", k > 0 ? ", " : "",
                     list[k].info.index, list[k].info.name, list[k].info.platform);
    if (w < 0) break;
    used += (size_t)w;
  }
}

static int hmn__cl_select(const char *selector, bool binaries, hmn__cl_device *out,
                          hmn_error *err);

int hmn__cl_device_select(const char *selector, hmn__cl_device *out, hmn_error *err) {
  return hmn__cl_select(selector, false, out, err);
}

int hmn__cl_device_select_binary(const char *selector, hmn__cl_device *out, hmn_error *err) {
  return hmn__cl_select(selector, true, out, err);
}

/* `binaries`: the caller can load prebuilt programs, so a device without
 * a compiler is fine when the selector names it. */
static int hmn__cl_select(const char *selector, bool binaries, hmn__cl_device *out,
                          hmn_error *err) {
  hmn__cl_device *list = NULL;
  size_t n = 0;
  char names[512];
  const char *origin = "device selector";
  if (selector == NULL || selector[0] == '\0') {
    selector = getenv("HMN_DEVICE");
    origin = "HMN_DEVICE";
    if (selector != NULL && selector[0] == '\0') selector = NULL;
  }
  int rc = hmn__cl_enumerate(&list, &n, err);
  if (rc != HMN_OK) goto cleanup;
  if (n == 0) {
    rc = hmn__fail(err, HMN_EBACKEND,
                   "no OpenCL device found: install an OpenCL driver (for CPUs, the Debian "
                   "package 'pocl-opencl-icd') or use the 'ref' backend");
    goto cleanup;
  }
  hmn__cl_list_text(list, n, names, sizeof names);

  const hmn__cl_device *pick = NULL;
  if (selector == NULL) {
    /* A GPU is what a user with one expects; devices without a compiler
     * (FPGA cards) need prebuilt binaries and are never picked silently. */
    for (size_t k = 0; k < n && pick == NULL; k++)
      if (list[k].info.type == HMN_DEVICE_GPU && list[k].info.compiler) pick = &list[k];
    for (size_t k = 0; k < n && pick == NULL; k++)
      if (list[k].info.compiler) pick = &list[k];
    if (pick == NULL) {
      rc = hmn__fail(err, HMN_EDEVICE,
                     "no OpenCL device can build kernels from source (devices: %s)", names);
      goto cleanup;
    }
  } else if (hmn__all_digits(selector)) {
    unsigned long index = strtoul(selector, NULL, 10);
    if (index >= n) {
      rc = hmn__fail(err, HMN_EDEVICE, "%s '%s': no OpenCL device has that index (devices: %s)",
                     origin, selector, names);
      goto cleanup;
    }
    pick = &list[index];
  } else {
    for (size_t k = 0; k < n && pick == NULL; k++)
      if (hmn__contains_nocase(list[k].info.name, selector) ||
          hmn__contains_nocase(list[k].info.platform, selector))
        pick = &list[k];
    if (pick == NULL) {
      rc = hmn__fail(err, HMN_EDEVICE, "%s '%s' matches no OpenCL device (devices: %s)", origin,
                     selector, names);
      goto cleanup;
    }
  }
  if (!pick->info.compiler && !(binaries && selector != NULL)) {
    rc = hmn__fail(err, HMN_EDEVICE,
                   "OpenCL device %d '%s' cannot build kernels from source (no compiler)",
                   pick->info.index, pick->info.name);
    goto cleanup;
  }
  *out = *pick;
cleanup:
  hmn__free(list);
  return rc;
}
