/*
 * test_energy.c - the energy meters on fixture sysfs trees
 * (tests/fixtures/sysfs-*): which RAPL zones are summed, counter
 * differences across a wraparound, the XMC power integral, and every way
 * a meter is unavailable giving "why" in its message. Each test copies a
 * fixture into a temporary directory and points HMN_SYSFS_ROOT at it, so
 * it can change the numbers between readings. Readings are fed at chosen
 * times through the test hooks (hmn__meter_sample), so no result depends
 * on how fast the machine is.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hmn.h"
#include "internal.h"
#include "support.h"

/* ------------------------------------------------------------------ */
/* Fixture trees */

static char copy_from[1024], copy_to[1024];

static int copy_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)ftw;
  char dest[2048];
  snprintf(dest, sizeof dest, "%s%s", copy_to, path + strlen(copy_from));
  if (type == FTW_D) return mkdir(dest, 0755) == 0 || errno == EEXIST ? 0 : -1;
  if (type != FTW_F) return -1;
  size_t len = 0;
  unsigned char *data = hmn_test_read_file(path, &len);
  if (data == NULL) return -1;
  int rc = hmn_test_write_file(dest, data, len);
  free(data);
  (void)st;
  return rc;
}

/* A fresh copy of tests/fixtures/<name> (or an empty tree when name is
 * NULL) as HMN_SYSFS_ROOT; returns the root. */
static const char *use_fixture(const char *name) {
  static int serial;
  static char root[1024];
  snprintf(root, sizeof root, "%s/sysfs-%d", hmn_test_tmpdir(), serial++);
  cr_assert_eq(mkdir(root, 0755), 0, "mkdir %s: %s", root, strerror(errno));
  if (name != NULL) {
    snprintf(copy_from, sizeof copy_from, "%s/tests/fixtures/%s", HMN_SOURCE_DIR, name);
    snprintf(copy_to, sizeof copy_to, "%s", root);
    cr_assert_eq(nftw(copy_from, copy_entry, 16, FTW_PHYS), 0, "copying fixture %s", name);
  }
  cr_assert_eq(setenv("HMN_SYSFS_ROOT", root, 1), 0);
  return root;
}

/* Write one sysfs value as the kernel does: the number and a newline. */
static void put(const char *root, const char *rel, unsigned long long value) {
  char path[2048], text[32];
  snprintf(path, sizeof path, "%s/%s", root, rel);
  int n = snprintf(text, sizeof text, "%llu\n", value);
  cr_assert_eq(hmn_test_write_file(path, text, (size_t)n), 0, "writing %s", path);
}

static void put_text(const char *root, const char *rel, const char *text) {
  char path[2048];
  snprintf(path, sizeof path, "%s/%s", root, rel);
  cr_assert_eq(hmn_test_write_file(path, text, strlen(text)), 0, "writing %s", path);
}

static void open_ok(const char *spec, hmn_meter **m) {
  hmn_error err = {0};
  cr_assert_eq(hmn_meter_open(spec, NULL, m, &err), HMN_OK, "%s: %s", spec, err.message);
}

/* The meter must not open; its message is the "why" of "not measured". */
static void expect_open_error(const char *spec, int status, const char *message) {
  hmn_meter *m = (hmn_meter *)&m; /* must come back NULL */
  hmn_error err = {0};
  cr_assert_eq(hmn_meter_open(spec, NULL, &m, &err), status, "%s: %s", spec, err.message);
  cr_assert_null(m);
  cr_assert_eq(err.status, status);
  cr_assert_str_eq(err.message, message);
}

#define RAPL "class/powercap/"
#define XMC0 "bus/pci/devices/0000:65:00.0/xmc.m.12582912/xmc_power"

/* ------------------------------------------------------------------ */
/* RAPL */

Test(energy, rapl_sums_packages_and_dram_only) {
  use_fixture("sysfs-intel");
  hmn_meter *m = NULL;
  open_ok("rapl", &m);
  /* Zones in name order: intel-rapl:0, intel-rapl:0:1 (dram), intel-rapl:1,
   * intel-rapl:1:0 (dram); no core, psys or mmio. */
  cr_assert_str_eq(hmn_meter_source(m),
                   "RAPL package-0 + dram-0 + package-1 + dram-1 (powercap energy counters)");
  hmn_meter_close(m);
}

Test(energy, rapl_counts_differences_of_every_zone) {
  const char *root = use_fixture("sysfs-intel");
  hmn_meter *m = NULL;
  hmn_error err = {0};
  open_ok("rapl", &m);
  hmn__meter_reset(m);
  cr_assert_eq(hmn__meter_sample(m, 10.0, &err), HMN_OK, "%s", err.message);
  cr_assert_float_eq(hmn__meter_joules(m), 0.0, 0.0, "the first reading is the baseline");
  /* +2 J and +1.5 J on the packages, +0.25 J on each dram; the core,
   * psys and mmio zones change too but must not count. */
  put(root, RAPL "intel-rapl:0/energy_uj", 71227612954ULL + 2000000);
  put(root, RAPL "intel-rapl:1/energy_uj", 69872031117ULL + 1500000);
  put(root, RAPL "intel-rapl:0:1/energy_uj", 9183401882ULL + 250000);
  put(root, RAPL "intel-rapl:1:0/energy_uj", 9001240331ULL + 250000);
  put(root, RAPL "intel-rapl:0:0/energy_uj", 40113847220ULL + 9000000);
  put(root, RAPL "intel-rapl:2/energy_uj", 180336901552ULL + 9000000);
  put(root, RAPL "intel-rapl-mmio:0/energy_uj", 71227500111ULL + 9000000);
  cr_assert_eq(hmn__meter_sample(m, 11.0, &err), HMN_OK, "%s", err.message);
  cr_assert_float_eq(hmn__meter_joules(m), 4.0, 1e-9);
  hmn_meter_close(m);
}

Test(energy, rapl_wraparound) {
  const char *root = use_fixture("sysfs-intel");
  const unsigned long long range = 262143328850ULL;
  put(root, RAPL "intel-rapl:0/energy_uj", range - 1000000); /* 1 J before the wrap */
  hmn_meter *m = NULL;
  hmn_error err = {0};
  open_ok("rapl", &m);
  hmn__meter_reset(m);
  cr_assert_eq(hmn__meter_sample(m, 0.0, &err), HMN_OK, "%s", err.message);
  /* The counter passed max_energy_range_uj and restarted from 0. */
  put(root, RAPL "intel-rapl:0/energy_uj", 2500000);
  cr_assert_eq(hmn__meter_sample(m, 1.0, &err), HMN_OK, "%s", err.message);
  cr_assert_float_eq(hmn__meter_joules(m), 3.5, 1e-9);
  /* And counts on from there. */
  put(root, RAPL "intel-rapl:0/energy_uj", 3000000);
  cr_assert_eq(hmn__meter_sample(m, 2.0, &err), HMN_OK, "%s", err.message);
  cr_assert_float_eq(hmn__meter_joules(m), 4.0, 1e-9);
  hmn_meter_close(m);
}

Test(energy, rapl_amd) {
  const char *root = use_fixture("sysfs-amd");
  hmn_meter *m = NULL;
  hmn_error err = {0};
  open_ok("rapl", &m);
  cr_assert_str_eq(hmn_meter_source(m), "RAPL package-0 (powercap energy counters)");
  hmn__meter_reset(m);
  cr_assert_eq(hmn__meter_sample(m, 0.0, &err), HMN_OK, "%s", err.message);
  /* AMD's range is smaller (65532610987 uJ); wrap across it. */
  put(root, RAPL "intel-rapl:0/energy_uj", 65532610987ULL - 10);
  cr_assert_eq(hmn__meter_sample(m, 1.0, &err), HMN_OK, "%s", err.message);
  put(root, RAPL "intel-rapl:0/energy_uj", 990);
  cr_assert_eq(hmn__meter_sample(m, 2.0, &err), HMN_OK, "%s", err.message);
  double expect = 1e-6 * (double)((65532610987ULL - 10 - 31415926535ULL) + 10 + 990);
  cr_assert_float_eq(hmn__meter_joules(m), expect, 1e-9);
  hmn_meter_close(m);
}

Test(energy, rapl_missing_powercap) {
  const char *root = use_fixture(NULL);
  char message[4096];
  snprintf(message, sizeof message,
           "RAPL not available: cannot open %s/class/powercap: No such file or directory", root);
  expect_open_error("rapl", HMN_EUNSUPPORTED, message);
}

Test(energy, rapl_no_package_zone) {
  const char *root = use_fixture(NULL);
  char dir[2048];
  snprintf(dir, sizeof dir, "%s/class", root);
  cr_assert_eq(mkdir(dir, 0755), 0);
  snprintf(dir, sizeof dir, "%s/class/powercap", root);
  cr_assert_eq(mkdir(dir, 0755), 0);
  char message[4096];
  snprintf(message, sizeof message,
           "RAPL not available: no package zone (intel-rapl:N named package-N) under %s", dir);
  expect_open_error("rapl", HMN_EUNSUPPORTED, message);
}

Test(energy, rapl_counter_missing) {
  const char *root = use_fixture("sysfs-amd");
  char path[2048], message[4096];
  snprintf(path, sizeof path, "%s/" RAPL "intel-rapl:0/energy_uj", root);
  cr_assert_eq(unlink(path), 0);
  snprintf(message, sizeof message,
           "RAPL energy_uj not readable: No such file or directory (%s)", path);
  expect_open_error("rapl", HMN_EUNSUPPORTED, message);
}

/* A directory where the counter should be: open works, read fails. */
Test(energy, rapl_counter_unreadable) {
  const char *root = use_fixture("sysfs-amd");
  char path[2048], message[4096];
  snprintf(path, sizeof path, "%s/" RAPL "intel-rapl:0/energy_uj", root);
  cr_assert_eq(unlink(path), 0);
  cr_assert_eq(mkdir(path, 0755), 0);
  snprintf(message, sizeof message, "RAPL energy_uj not readable: Is a directory (%s)", path);
  expect_open_error("rapl", HMN_EIO, message);
}

/* Since Linux 5.10 energy_uj is readable by root only; as a user the
 * message says so. Root reads files whatever their mode, so this runs
 * only for other users. */
Test(energy, rapl_counter_permission_denied) {
  if (geteuid() == 0) cr_skip_test("running as root, which file modes do not stop");
  const char *root = use_fixture("sysfs-amd");
  char path[2048], message[4096];
  snprintf(path, sizeof path, "%s/" RAPL "intel-rapl:0/energy_uj", root);
  cr_assert_eq(chmod(path, 0), 0);
  snprintf(message, sizeof message, "RAPL energy_uj not readable: Permission denied (%s)", path);
  expect_open_error("rapl", HMN_EIO, message);
}

Test(energy, rapl_counter_malformed) {
  const char *root = use_fixture("sysfs-amd");
  char path[2048], message[4096];
  snprintf(path, sizeof path, "%s/" RAPL "intel-rapl:0/energy_uj", root);
  put_text(root, RAPL "intel-rapl:0/energy_uj", "12ab\n");
  snprintf(message, sizeof message, "RAPL energy_uj not a number: '12ab' (%s)", path);
  expect_open_error("rapl", HMN_EFORMAT, message);
}

/* A counter that becomes unreadable during the run fails that reading. */
Test(energy, rapl_counter_lost_mid_run) {
  const char *root = use_fixture("sysfs-amd");
  hmn_meter *m = NULL;
  hmn_error err = {0};
  open_ok("rapl", &m);
  hmn__meter_reset(m);
  cr_assert_eq(hmn__meter_sample(m, 0.0, &err), HMN_OK, "%s", err.message);
  char path[2048];
  snprintf(path, sizeof path, "%s/" RAPL "intel-rapl:0/energy_uj", root);
  cr_assert_eq(unlink(path), 0);
  cr_assert_eq(hmn__meter_sample(m, 1.0, &err), HMN_EUNSUPPORTED);
  cr_assert(strstr(err.message, "RAPL energy_uj not readable") != NULL, "%s", err.message);
  hmn_meter_close(m);
}

/* ------------------------------------------------------------------ */
/* Alveo XMC */

Test(energy, xmc_one_card_two_functions) {
  use_fixture("sysfs-alveo");
  hmn_meter *m = NULL;
  open_ok("xmc", &m);
  cr_assert_str_eq(hmn_meter_source(m),
                   "XMC xmc_power of Alveo card 0000:65:00.0 (sampled, integrated)");
  hmn_meter_close(m);
}

/* Trapezoids between readings: 10 W at 0 s, 20 W at 1 s and 3 s,
 * 0 W at 4 s: 15 + 40 + 10 = 65 J. */
Test(energy, xmc_integrates_power) {
  const char *root = use_fixture("sysfs-alveo");
  hmn_meter *m = NULL;
  hmn_error err = {0};
  open_ok("xmc", &m);
  hmn__meter_reset(m);
  put(root, XMC0, 10000000);
  cr_assert_eq(hmn__meter_sample(m, 100.0, &err), HMN_OK, "%s", err.message);
  put(root, XMC0, 20000000);
  cr_assert_eq(hmn__meter_sample(m, 101.0, &err), HMN_OK, "%s", err.message);
  cr_assert_float_eq(hmn__meter_joules(m), 15.0, 1e-9);
  cr_assert_eq(hmn__meter_sample(m, 103.0, &err), HMN_OK, "%s", err.message);
  put(root, XMC0, 0);
  cr_assert_eq(hmn__meter_sample(m, 104.0, &err), HMN_OK, "%s", err.message);
  cr_assert_float_eq(hmn__meter_joules(m), 65.0, 1e-9);
  hmn_meter_close(m);
}

/* With the sampler thread: whatever the interval's length, a constant
 * 24.682 W integrates to 24.682 W times it. */
Test(energy, xmc_sampler_thread_constant_power) {
  use_fixture("sysfs-alveo");
  hmn_meter *m = NULL;
  hmn_error err = {0};
  hmn_energy e;
  open_ok("xmc", &m);
  cr_assert_eq(hmn_meter_set_period(m, 0.01, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_meter_start(m, &err), HMN_OK, "%s", err.message);
  struct timespec nap = {0, 50 * 1000 * 1000};
  nanosleep(&nap, NULL);
  cr_assert_eq(hmn_meter_stop(m, &e, &err), HMN_OK, "%s", err.message);
  cr_assert_geq(e.samples, 2);
  cr_assert_gt(e.seconds, 0.0);
  cr_assert_float_eq(e.watts, 24.682, 1e-9);
  cr_assert_float_eq(e.joules, 24.682 * e.seconds, 1e-9);
  /* A meter can measure interval after interval. */
  cr_assert_eq(hmn_meter_start(m, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_meter_stop(m, &e, &err), HMN_OK, "%s", err.message);
  cr_assert_float_eq(e.joules, 24.682 * e.seconds, 1e-9);
  hmn_meter_close(m);
}

Test(energy, xmc_two_cards_need_a_choice) {
  const char *root = use_fixture("sysfs-alveo");
  char dir[2048];
  const char *parts[] = {"bus/pci/devices/0000:b3:00.0", "bus/pci/devices/0000:b3:00.0/xmc.m.1"};
  for (int k = 0; k < 2; k++) {
    snprintf(dir, sizeof dir, "%s/%s", root, parts[k]);
    cr_assert_eq(mkdir(dir, 0755), 0);
  }
  put(root, "bus/pci/devices/0000:b3:00.0/xmc.m.1/xmc_power", 30000000);
  expect_open_error("xmc", HMN_EINVAL,
                    "XMC: 2 Alveo cards (0000:65:00.0, 0000:b3:00.0); name one, e.g. xmc:0000:65:00.0");
  hmn_meter *m = NULL;
  open_ok("xmc:0000:b3", &m);
  cr_assert_str_eq(hmn_meter_source(m),
                   "XMC xmc_power of Alveo card 0000:b3:00.0 (sampled, integrated)");
  hmn_meter_close(m);
}

Test(energy, xmc_missing) {
  const char *root = use_fixture(NULL);
  char message[4096];
  snprintf(message, sizeof message,
           "XMC not available: no Alveo power sensor (xmc.*/xmc_power) under %s/bus/pci/devices "
           "(is XRT's xclmgmt or xocl driver loaded?)",
           root);
  expect_open_error("xmc", HMN_EUNSUPPORTED, message);
}

Test(energy, xmc_unreadable) {
  const char *root = use_fixture("sysfs-alveo");
  char path[2048], message[4096];
  snprintf(path, sizeof path, "%s/" XMC0, root);
  cr_assert_eq(unlink(path), 0);
  cr_assert_eq(mkdir(path, 0755), 0);
  snprintf(message, sizeof message, "XMC xmc_power not readable: Is a directory (%s)", path);
  expect_open_error("xmc", HMN_EIO, message);
}

/* ------------------------------------------------------------------ */
/* NVML, through a stand-in library (tests/fixtures/fake_nvml.c) */

/* Compile the stand-in with the system's C compiler and point
 * HMN_NVML_LIBRARY at it; `names` are its GPUs. Skips without a compiler. */
static void use_fake_nvml(const char *names) {
  char lib[1200], cmd[4096];
  snprintf(lib, sizeof lib, "%s/libfake-nvml.so", hmn_test_tmpdir());
  snprintf(cmd, sizeof cmd, "cc -shared -fPIC -o '%s' '%s/tests/fixtures/fake_nvml.c' 2>&1", lib,
           HMN_SOURCE_DIR);
  if (system(cmd) != 0) cr_skip_test("no C compiler (cc) to build the NVML stand-in");
  cr_assert_eq(setenv("HMN_NVML_LIBRARY", lib, 1), 0);
  cr_assert_eq(setenv("FAKE_NVML_NAMES", names, 1), 0);
  unsetenv("FAKE_NVML_ENERGY_FILE");
  unsetenv("FAKE_NVML_POWER_FILE");
}

/* A stand-in reading: the file and the variable that names it. */
static void fake_nvml_value(const char *var, unsigned long long value) {
  const char *path = hmn_test_path(var);
  char text[32];
  int n = snprintf(text, sizeof text, "%llu\n", value);
  cr_assert_eq(hmn_test_write_file(path, text, (size_t)n), 0);
  cr_assert_eq(setenv(var, path, 1), 0);
}

Test(energy, nvml_energy_counter) {
  use_fake_nvml("NVIDIA A100-SXM4-40GB,NVIDIA H200");
  fake_nvml_value("FAKE_NVML_ENERGY_FILE", 1000);
  fake_nvml_value("FAKE_NVML_POWER_FILE", 99000);
  hmn_meter *m = NULL;
  hmn_error err = {0};
  /* The GPU whose name the OpenCL device carries. */
  cr_assert_eq(hmn_meter_open("nvml", "NVIDIA H200", &m, &err), HMN_OK, "%s", err.message);
  cr_assert_str_eq(hmn_meter_source(m), "NVML total energy of GPU 1 (NVIDIA H200)");
  hmn__meter_reset(m);
  cr_assert_eq(hmn__meter_sample(m, 0.0, &err), HMN_OK, "%s", err.message);
  fake_nvml_value("FAKE_NVML_ENERGY_FILE", 3500); /* mJ */
  cr_assert_eq(hmn__meter_sample(m, 1.0, &err), HMN_OK, "%s", err.message);
  cr_assert_float_eq(hmn__meter_joules(m), 2.5, 1e-12);
  /* A counter that restarts (driver reload) adds nothing. */
  fake_nvml_value("FAKE_NVML_ENERGY_FILE", 10);
  cr_assert_eq(hmn__meter_sample(m, 2.0, &err), HMN_OK, "%s", err.message);
  cr_assert_float_eq(hmn__meter_joules(m), 2.5, 1e-12);
  hmn_meter_close(m);
}

/* GPUs without the energy counter: power samples, integrated. */
Test(energy, nvml_power_samples) {
  use_fake_nvml("Tesla P100-PCIE-16GB");
  fake_nvml_value("FAKE_NVML_POWER_FILE", 250000); /* mW */
  hmn_meter *m = NULL;
  hmn_error err = {0};
  cr_assert_eq(hmn_meter_open("nvml", NULL, &m, &err), HMN_OK, "%s", err.message);
  cr_assert_str_eq(hmn_meter_source(m),
                   "NVML power of GPU 0 (Tesla P100-PCIE-16GB), sampled, integrated");
  hmn__meter_reset(m);
  cr_assert_eq(hmn__meter_sample(m, 5.0, &err), HMN_OK, "%s", err.message);
  fake_nvml_value("FAKE_NVML_POWER_FILE", 350000);
  cr_assert_eq(hmn__meter_sample(m, 7.0, &err), HMN_OK, "%s", err.message);
  cr_assert_float_eq(hmn__meter_joules(m), 600.0, 1e-9);
  hmn_meter_close(m);
}

Test(energy, nvml_choosing_the_gpu) {
  use_fake_nvml("NVIDIA H200,NVIDIA H200");
  fake_nvml_value("FAKE_NVML_ENERGY_FILE", 1);
  hmn_meter *m = NULL;
  hmn_error err = {0};
  cr_assert_eq(hmn_meter_open("nvml", "NVIDIA H200", &m, &err), HMN_EINVAL);
  cr_assert_str_eq(err.message, "NVML: 2 GPUs match 'NVIDIA H200'; name one by index, e.g. nvml:0");
  cr_assert_eq(hmn_meter_open("nvml", "Radeon", &m, &err), HMN_EUNSUPPORTED);
  cr_assert_str_eq(err.message, "NVML: no NVIDIA GPU named 'Radeon' among 2");
  cr_assert_eq(hmn_meter_open("nvml:2", NULL, &m, &err), HMN_EINVAL);
  cr_assert_str_eq(err.message, "NVML: no GPU with index '2' (there are 2)");
  cr_assert_eq(hmn_meter_open("nvml:1", NULL, &m, &err), HMN_OK, "%s", err.message);
  cr_assert_str_eq(hmn_meter_source(m), "NVML total energy of GPU 1 (NVIDIA H200)");
  hmn_meter_close(m);
}

Test(energy, nvml_no_gpu) {
  use_fake_nvml("");
  hmn_meter *m = NULL;
  hmn_error err = {0};
  cr_assert_eq(hmn_meter_open("nvml", NULL, &m, &err), HMN_EUNSUPPORTED);
  cr_assert_str_eq(err.message, "NVML not available: no NVIDIA GPU (count 0)");
}

Test(energy, nvml_neither_energy_nor_power) {
  use_fake_nvml("NVIDIA T4");
  hmn_meter *m = NULL;
  hmn_error err = {0};
  cr_assert_eq(hmn_meter_open("nvml", NULL, &m, &err), HMN_EUNSUPPORTED);
  cr_assert_str_eq(err.message,
                   "NVML: GPU 0 (NVIDIA T4) reports neither energy nor power: Not Supported");
}

Test(energy, nvml_library_missing) {
  cr_assert_eq(setenv("HMN_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1), 0);
  hmn_meter *m = NULL;
  hmn_error err = {0};
  cr_assert_eq(hmn_meter_open("nvml", NULL, &m, &err), HMN_EUNSUPPORTED);
  const char *start = "NVML not available: cannot load /nonexistent/libnvidia-ml.so.1 (";
  cr_assert(strncmp(err.message, start, strlen(start)) == 0, "%s", err.message);
}

/* ------------------------------------------------------------------ */
/* Specs, misuse */

/* Without NVIDIA's driver the meter says why; with it, it opens. */
Test(energy, nvml_unavailable_says_why) {
  hmn_meter *m = NULL;
  hmn_error err = {0};
  int rc = hmn_meter_open("nvml", NULL, &m, &err);
  if (rc == HMN_OK) {
    cr_assert(strncmp(hmn_meter_source(m), "NVML ", 5) == 0, "%s", hmn_meter_source(m));
    hmn_meter_close(m);
    return;
  }
  cr_assert_null(m);
  cr_assert(strncmp(err.message, "NVML", 4) == 0, "%s", err.message);
}

Test(energy, unknown_specs) {
  const char *msg = "unknown energy meter '%s' (rapl, nvml[:INDEX], xmc[:PCI])";
  const char *specs[] = {"", "watts", "rapl:0", "averyveryverylongmetername"};
  for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
    char message[256];
    snprintf(message, sizeof message, msg, specs[k]);
    expect_open_error(specs[k], HMN_EINVAL, message);
  }
}

Test(energy, misuse) {
  use_fixture("sysfs-alveo");
  hmn_meter *m = NULL;
  hmn_error err = {0};
  hmn_energy e;
  open_ok("xmc", &m);
  cr_assert_eq(hmn_meter_stop(m, &e, &err), HMN_EINVAL);
  cr_assert_str_eq(err.message, "energy meter not started");
  cr_assert_eq(hmn_meter_set_period(m, 0.0, &err), HMN_EINVAL);
  cr_assert_eq(hmn_meter_start(m, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_meter_start(m, &err), HMN_EINVAL);
  cr_assert_str_eq(err.message, "energy meter already started");
  cr_assert_eq(hmn_meter_set_period(m, 1.0, &err), HMN_EINVAL);
  /* Closing a running meter stops its thread. */
  hmn_meter_close(m);
  hmn_meter_close(NULL);
}
