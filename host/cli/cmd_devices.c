/*
 * cmd_devices.c - `hmn devices`: the OpenCL platforms and devices this
 * machine offers, with the index that --device and HMN_DEVICE take, and
 * the Alveo cards the xrt backend can use.
 */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char hmn_devices_help[] =
    "usage: hmn devices [--json]\n"
    "\n"
    "Lists the OpenCL platforms and devices. Select one for the opencl backend\n"
    "with `hmn run --device SEL` or the environment variable HMN_DEVICE, where\n"
    "SEL is the index shown here or part of the device or platform name.\n"
    "\n"
    "Then lists the Alveo cards (from sysfs, $HMN_SYSFS_ROOT or /sys) for the xrt\n"
    "backend (`--backend xrt:SEL`, SEL a card index or PCI address), and whether\n"
    "that backend can run here, or what is missing.\n"
    "\n"
    "--json prints one JSON object instead: opencl (the devices), cards and xrt\n"
    "(ready, and the reason when not).\n";

/* `hmn devices --json`. */
static int hmn_devices_json(void) {
  hmn_error err;
  size_t count = 0;
  hmn_device_info *devs = NULL;
  hmn_card_info cards[16];
  size_t n_cards = 0;
  int rc = hmn_opencl_devices(NULL, 0, &count, &err);
  if (rc == HMN_OK && count > 0) {
    devs = calloc(count, sizeof *devs);
    if (devs == NULL) {
      snprintf(err.message, sizeof err.message, "out of memory");
      rc = HMN_ENOMEM;
    } else {
      rc = hmn_opencl_devices(devs, count, &count, &err);
    }
  }
  if (rc == HMN_OK) rc = hmn_fpga_cards(cards, sizeof cards / sizeof cards[0], &n_cards, &err);
  if (rc != HMN_OK) {
    hmn_cli_error("hmn devices", "%s", err.message);
    free(devs);
    return HMN_EXIT_RUNTIME;
  }
  json_t *o = json_object(), *list = json_array(), *clist = json_array(), *xrt = json_object();
  int bad = o == NULL || list == NULL || clist == NULL || xrt == NULL;
  for (size_t k = 0; !bad && k < count; k++) {
    const hmn_device_info *d = &devs[k];
    json_t *e = json_pack("{s:i, s:s, s:s, s:s, s:i, s:I, s:s, s:s, s:b}", "index", d->index,
                          "platform", d->platform, "name", d->name, "type",
                          hmn_device_type_name(d->type), "compute_units", (int)d->compute_units,
                          "global_mem_bytes", (json_int_t)d->global_mem_bytes, "version",
                          d->version, "driver", d->driver, "compiler", d->compiler != 0);
    bad = e == NULL || json_array_append_new(list, e) != 0;
  }
  for (size_t k = 0; !bad && k < n_cards && k < sizeof cards / sizeof cards[0]; k++) {
    json_t *e = json_pack("{s:i, s:s, s:s}", "index", cards[k].index, "pci", cards[k].pci,
                          "platform", cards[k].platform);
    bad = e == NULL || json_array_append_new(clist, e) != 0;
  }
  int ready = hmn_xrt_check(&err) == HMN_OK;
  if (!bad)
    bad = json_object_set_new(xrt, "ready", json_boolean(ready)) != 0 ||
          json_object_set_new(xrt, "reason", ready ? json_null() : json_string(err.message)) != 0;
  if (!bad)
    bad = json_object_set(o, "opencl", list) != 0 || json_object_set(o, "cards", clist) != 0 ||
          json_object_set(o, "xrt", xrt) != 0;
  if (!bad) bad = json_dumpf(o, stdout, JSON_INDENT(2)) != 0 || fputc('\n', stdout) == EOF;
  json_decref(o);
  json_decref(list);
  json_decref(clist);
  json_decref(xrt);
  free(devs);
  if (bad) {
    hmn_cli_error("hmn devices", "cannot write the JSON");
    return HMN_EXIT_RUNTIME;
  }
  return HMN_EXIT_OK;
}

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
  bool json = false;
  while (hmn_cli_more(&args)) {
    if (hmn_cli_flag(&args, "--help") || hmn_cli_flag(&args, "-h")) {
      fputs(hmn_devices_help, stdout);
      return HMN_EXIT_OK;
    }
    if (hmn_cli_flag(&args, "--json")) {
      json = true;
      continue;
    }
    hmn_cli_unknown(&args);
  }
  if (args.usage_error) return HMN_EXIT_USAGE;
  if (json) return hmn_devices_json();

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
