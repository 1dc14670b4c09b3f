/*
 * cmd_devices.c - `hmn devices`: the OpenCL platforms and devices this
 * machine offers, with the index that --device and HMN_DEVICE take, and
 * the Alveo cards the xrt backend can use.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char hmn_devices_help[] =
    "usage: hmn devices\n"
    "\n"
    "Lists the OpenCL platforms and devices. Select one for the opencl backend\n"
    "with `hmn run --device SEL` or the environment variable HMN_DEVICE, where\n"
    "SEL is the index shown here or part of the device or platform name.\n"
    "\n"
    "Then lists the Alveo cards (from sysfs, $HMN_SYSFS_ROOT or /sys) for the xrt\n"
    "backend (`--backend xrt:SEL`, SEL a card index or PCI address), and whether\n"
    "that backend can run here, or what is missing.\n";

/* The Alveo cards and the xrt backend's readiness. */
static int hmn_list_cards(void) {
  hmn_error err;
  hmn_card_info cards[16];
  size_t n = 0;
  if (hmn_fpga_cards(cards, sizeof cards / sizeof cards[0], &n, &err) != HMN_OK) {
    hmn_cli_error("hmn devices", "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  if (n == 0) {
    printf("No Alveo card found (no PCI function is bound to XRT's xocl driver): the xrt\n"
           "backend has nothing to run on. The FPGA kernel still runs through OpenCL\n"
           "(--backend opencl-fpga) and in XRT's emulators (sim/README.md).\n");
  } else {
    printf("Alveo cards (backend xrt):\n");
    for (size_t k = 0; k < n && k < sizeof cards / sizeof cards[0]; k++)
      printf("  %d  %s  platform %s\n", cards[k].index, cards[k].pci, cards[k].platform);
  }
  if (hmn_xrt_check(&err) == HMN_OK)
    printf("xrt backend: ready\n");
  else if (n > 0 || strstr(err.message, "without XRT") != NULL)
    printf("xrt backend: not usable: %s\n", err.message);
  return HMN_EXIT_OK;
}

int hmn_cmd_devices(int argc, char **argv) {
  hmn_cli_args args;
  hmn_cli_args_init(&args, "hmn devices", argc, argv);
  while (hmn_cli_more(&args)) {
    if (hmn_cli_flag(&args, "--help") || hmn_cli_flag(&args, "-h")) {
      fputs(hmn_devices_help, stdout);
      return HMN_EXIT_OK;
    }
    hmn_cli_unknown(&args);
  }
  if (args.usage_error) return HMN_EXIT_USAGE;

  hmn_error err;
  size_t count = 0;
  if (hmn_opencl_devices(NULL, 0, &count, &err) != HMN_OK) {
    hmn_cli_error("hmn devices", "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  if (count == 0) {
    printf("No OpenCL device found. Install an OpenCL driver (for CPUs the Debian package\n"
           "pocl-opencl-icd); until then `hmn run` uses the ref backend.\n");
    return hmn_list_cards();
  }
  hmn_device_info *devs = calloc(count, sizeof *devs);
  if (devs == NULL) {
    hmn_cli_error("hmn devices", "out of memory");
    return HMN_EXIT_RUNTIME;
  }
  int rc = HMN_EXIT_OK;
  if (hmn_opencl_devices(devs, count, &count, &err) != HMN_OK) {
    hmn_cli_error("hmn devices", "%s", err.message);
    rc = HMN_EXIT_RUNTIME;
  } else {
    const char *platform = NULL;
    for (size_t k = 0; k < count; k++) {
      const hmn_device_info *d = &devs[k];
      if (platform == NULL || strcmp(platform, d->platform) != 0) {
        printf("platform: %s\n", d->platform);
        platform = d->platform;
      }
      printf("  %d  %s\n", d->index, d->name);
      printf("       type %s, %u compute units, %.1f GiB, %s, driver %s%s\n",
             hmn_device_type_name(d->type), (unsigned)d->compute_units,
             (double)d->global_mem_bytes / (1024.0 * 1024.0 * 1024.0), d->version, d->driver,
             d->compiler ? "" : ", no compiler (cannot build kernels)");
    }
  }
  free(devs);
  char cache[4096];
  if (hmn_kernel_cache_dir(cache, sizeof cache, &err) != HMN_OK)
    printf("kernel cache: not used: %s\n", err.message);
  else
    printf("kernel cache: %s\n", cache[0] != '\0' ? cache : "off");
  return rc == HMN_EXIT_OK ? hmn_list_cards() : rc;
}
