/*
 * test_xrt.c - Alveo cards and the xrt backend where there is no card:
 * cards are found in sysfs fixtures; without a card `hmn devices` says so
 * and `--backend xrt` fails with a clear message; each missing piece of
 * XRT's environment (XILINX_XRT, its libraries, an emulator's
 * emconfig.json) is named before anything calls into XRT, and where XRT
 * is called (a card that XRT cannot open) the process fails cleanly
 * instead of aborting.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fpga/bitstreams.h"
#include "support.h"

TestSuite(xrt);

/* A card that no machine has, so that XRT itself never finds it. */
#define PCI "0000:fe:1f.1"
#define SHELL "xilinx_u250_gen3x16_xdma_shell_4_1"

static void mkdirs(const char *path) {
  char buf[1024];
  int len = snprintf(buf, sizeof buf, "%s", path);
  cr_assert(len > 0 && (size_t)len < sizeof buf, "path too long for the fixture: %s", path);
  for (char *p = buf + 1; *p != '\0'; p++) {
    if (*p != '/') continue;
    *p = '\0';
    mkdir(buf, 0755);
    *p = '/';
  }
  mkdir(buf, 0755);
}

static void write_text(const char *path, const char *text) {
  cr_assert_eq(hmn_test_write_file(path, text, strlen(text)), 0, "%s", path);
}

/* An empty sysfs root: no card. */
static const char *no_card_root(void) {
  static char root[600];
  snprintf(root, sizeof root, "%s/sys-empty", hmn_test_tmpdir());
  mkdirs(root);
  return root;
}

/* A sysfs root with one Alveo card bound to xocl, its management function
 * bound to xclmgmt (not a card for XRT), and a second xocl function
 * whose feature ROM is unreadable. */
static const char *card_root(void) {
  static char root[600];
  char path[1024];
  snprintf(root, sizeof root, "%s/sys-card", hmn_test_tmpdir());
  snprintf(path, sizeof path, "%s/bus/pci/drivers/xocl/" PCI, root);
  mkdirs(path);
  snprintf(path, sizeof path, "%s/bus/pci/drivers/xclmgmt/0000:fe:1f.0", root);
  mkdirs(path);
  snprintf(path, sizeof path, "%s/bus/pci/devices/" PCI "/rom.u.1025", root);
  mkdirs(path);
  snprintf(path, sizeof path, "%s/bus/pci/devices/" PCI "/rom.u.1025/VBNV", root);
  write_text(path, SHELL "\n");
  snprintf(path, sizeof path, "%s/bus/pci/drivers/xocl/0000:fe:1f.3", root);
  mkdirs(path);
  return root;
}

Test(xrt, cards_come_from_sysfs) {
  cr_assert_eq(setenv("HMN_SYSFS_ROOT", card_root(), 1), 0);
  hmn_card_info cards[4];
  size_t n = 0;
  hmn_error err;
  cr_assert_eq(hmn_fpga_cards(cards, 4, &n, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(n, 2);
  cr_assert_str_eq(cards[0].pci, PCI);
  cr_assert_str_eq(cards[0].platform, SHELL);
  cr_assert_eq(cards[0].index, 0);
  cr_assert_str_eq(cards[1].pci, "0000:fe:1f.3");
  cr_assert_str_eq(cards[1].platform, "?");
  /* Counting without room. */
  cr_assert_eq(hmn_fpga_cards(NULL, 0, &n, &err), HMN_OK);
  cr_assert_eq(n, 2);
  cr_assert_eq(setenv("HMN_SYSFS_ROOT", no_card_root(), 1), 0);
  cr_assert_eq(hmn_fpga_cards(cards, 4, &n, &err), HMN_OK);
  cr_assert_eq(n, 0);
}

Test(xrt, no_card_fails_clearly) {
  cr_assert_eq(setenv("HMN_SYSFS_ROOT", no_card_root(), 1), 0);
  unsetenv("XCL_EMULATION_MODE");
  hmn_error err;
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  hmn_layer *layer = NULL;
  int rc = hmn_layer_create(&cfg, "xrt", &layer, &err);
  cr_assert_null(layer);
#ifdef HMN_HAVE_XRT
  cr_assert_eq(rc, HMN_EDEVICE);
  cr_assert(strstr(err.message, "no Alveo card found") != NULL &&
                strstr(err.message, "XCL_EMULATION_MODE") != NULL,
            "%s", err.message);
#else
  cr_assert_eq(rc, HMN_EBACKEND);
  cr_assert(strstr(err.message, "built without XRT") != NULL, "%s", err.message);
#endif
  cr_assert_eq(hmn_xrt_check(&err), rc);
}

/* ---- through the tool ---- */

static const char *hmn_bin(void) {
  const char *bin = getenv("HMN_BIN");
  cr_assert_not_null(bin, "HMN_BIN is not set (run through ctest)");
  return bin;
}

/* Run `ENV hmn ARGS`, stdout and stderr together; the exit code, or -1
 * when the process did not exit (an abort). */
static int run_hmn(const char *env, const char *args, const char **out) {
  static char buf[65536];
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s '%s' %s 2>&1", env, hmn_bin(), args);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  buf[n] = '\0';
  int status = pclose(p);
  *out = buf;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(xrt, tool_without_a_card) {
  char env[1024];
  const char *out;
  snprintf(env, sizeof env, "env -u XCL_EMULATION_MODE HMN_SYSFS_ROOT='%s'", no_card_root());
  cr_assert_eq(run_hmn(env, "devices", &out), 0, "%s", out);
  cr_assert(strstr(out, "No Alveo card found") != NULL, "%s", out);
  cr_assert_eq(run_hmn(env, "run --backend xrt --steps 1", &out), 1, "%s", out);
#ifdef HMN_HAVE_XRT
  cr_assert(strstr(out, "no Alveo card found") != NULL, "%s", out);
#else
  cr_assert(strstr(out, "built without XRT") != NULL, "%s", out);
#endif
}

#ifdef HMN_HAVE_XRT
/* A card in sysfs: what XRT needs from the environment is named before
 * XRT runs; and where XRT runs and cannot open the card, hmn exits 1. */
Test(xrt, environment_is_checked_before_xrt_runs) {
  char env[2048], xrt[1024], lib[1100];
  const char *out;
  const char *root = card_root();
  cr_assert_eq(setenv("HMN_SYSFS_ROOT", root, 1), 0);
  unsetenv("XCL_EMULATION_MODE");

  /* XILINX_XRT unset: XRT 2.13 would abort the process. */
  snprintf(env, sizeof env, "env -u XCL_EMULATION_MODE -u XILINX_XRT HMN_SYSFS_ROOT='%s'", root);
  cr_assert_eq(run_hmn(env, "run --backend xrt --steps 1", &out), 1, "%s", out);
  cr_assert(strstr(out, "XILINX_XRT is not set") != NULL && strstr(out, "ln -sfn") != NULL, "%s",
            out);
  cr_assert(strstr(out, "terminate called") == NULL, "%s", out);

  /* A folder without the libraries. */
  snprintf(xrt, sizeof xrt, "%s/xrt-empty", hmn_test_tmpdir());
  mkdirs(xrt);
  snprintf(env, sizeof env, "env -u XCL_EMULATION_MODE HMN_SYSFS_ROOT='%s' XILINX_XRT='%s'", root,
           xrt);
  cr_assert_eq(run_hmn(env, "run --backend xrt --steps 1", &out), 1, "%s", out);
  cr_assert(strstr(out, "has no lib/libxrt_core.so.2") != NULL, "%s", out);

  /* The README's recipe for Debian's XRT: lib/ links to the libraries.
   * XRT now runs, finds no such card, and hmn says so and exits 1. */
  snprintf(xrt, sizeof xrt, "%s/xrt", hmn_test_tmpdir());
  mkdirs(xrt);
  snprintf(lib, sizeof lib, "%s/lib", xrt);
  cr_assert_eq(symlink(HMN_XRT_LIBRARY_DIR, lib), 0);
  snprintf(env, sizeof env, "env -u XCL_EMULATION_MODE HMN_SYSFS_ROOT='%s' XILINX_XRT='%s'", root,
           xrt);
  cr_assert_eq(run_hmn(env, "run --backend xrt:" PCI " --steps 1", &out), 1, "%s", out);
  cr_assert(strstr(out, "Alveo card " PCI " (" SHELL "): XRT cannot open it") != NULL, "%s", out);
  cr_assert(strstr(out, "terminate called") == NULL, "%s", out);
  /* A selector that names no card. */
  cr_assert_eq(run_hmn(env, "run --backend xrt:0000:aa --steps 1", &out), 1, "%s", out);
  cr_assert(strstr(out, "no Alveo card matches '0000:aa'") != NULL, "%s", out);
}

Test(xrt, emulation_settings_are_checked) {
  hmn_error err;
  char xrt[1024], path[1200], cfgdir[1024];
  cr_assert_eq(setenv("HMN_SYSFS_ROOT", no_card_root(), 1), 0);
  cr_assert_eq(setenv("XCL_EMULATION_MODE", "hw-emu", 1), 0);
  cr_assert_eq(hmn_xrt_check(&err), HMN_EDEVICE);
  cr_assert(strstr(err.message, "must be sw_emu or hw_emu") != NULL, "%s", err.message);
  /* Empty is not unset: XRT 2.13 aborts on it. */
  cr_assert_eq(setenv("XCL_EMULATION_MODE", "", 1), 0);
  cr_assert_eq(hmn_xrt_check(&err), HMN_EDEVICE);
  cr_assert(strstr(err.message, "unset (not empty)") != NULL, "%s", err.message);

  cr_assert_eq(setenv("XCL_EMULATION_MODE", "sw_emu", 1), 0);
  snprintf(xrt, sizeof xrt, "%s/xrt-emu", hmn_test_tmpdir());
  snprintf(path, sizeof path, "%s/lib", xrt);
  mkdirs(path);
  cr_assert_eq(setenv("XILINX_XRT", xrt, 1), 0);
  cr_assert_eq(hmn_xrt_check(&err), HMN_EDEVICE);
  cr_assert(strstr(err.message, "has no lib/libxrt_swemu.so.2") != NULL, "%s", err.message);

  snprintf(path, sizeof path, "%s/lib/libxrt_swemu.so.2", xrt);
  write_text(path, "");
  snprintf(cfgdir, sizeof cfgdir, "%s/emu", hmn_test_tmpdir());
  mkdirs(cfgdir);
  cr_assert_eq(setenv("EMCONFIG_PATH", cfgdir, 1), 0);
  cr_assert_eq(hmn_xrt_check(&err), HMN_EDEVICE);
  cr_assert(strstr(err.message, "emconfig.json") != NULL &&
                strstr(err.message, "emconfigutil") != NULL,
            "%s", err.message);
  snprintf(path, sizeof path, "%s/emconfig.json", cfgdir);
  write_text(path, "{}\n");
  cr_assert_eq(hmn_xrt_check(&err), HMN_OK, "%s", err.message);
}
#endif
