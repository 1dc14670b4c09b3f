/*
 * cards.c - Alveo cards as XRT's driver presents them in sysfs, and
 * whether the xrt backend can run in this process. Everything here reads
 * files only and never calls into XRT, because XRT 2.13 answers some of
 * these questions by aborting the whole process (xrtDeviceOpen with
 * XILINX_XRT unset throws an uncaught C++ exception).
 *
 * A card's user function is bound to the xocl driver, so it appears as
 * bus/pci/drivers/xocl/<PCI address>; its feature ROM names the platform
 * in bus/pci/devices/<PCI address>/rom.<n>/VBNV. The sysfs root is /sys, or
 * $HMN_SYSFS_ROOT (as for the energy meters), so the tests use fixtures.
 */
#include "fpga/bitstreams.h"
#include "io/io.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first line of a small text file, without its newline; false when
 * it cannot be read. */
static bool hmn__read_line(const char *path, char *out, size_t size) {
  FILE *f = fopen(path, "r");
  if (f == NULL) return false;
  bool ok = fgets(out, (int)size, f) != NULL;
  fclose(f);
  if (ok) out[strcspn(out, "\r\n")] = '\0';
  return ok;
}

int hmn_fpga_cards(hmn_card_info *out, size_t max, size_t *count, hmn_error *err) {
  if (count == NULL || (out == NULL && max > 0))
    return hmn__fail(err, HMN_EINVAL, "hmn_fpga_cards: NULL argument");
  *count = 0;
  const char *root = hmn__sysfs_root();
  char pattern[4200];
  if (snprintf(pattern, sizeof pattern, "%s/bus/pci/drivers/xocl/*:*:*.*", root) >=
      (int)sizeof pattern)
    return hmn__fail(err, HMN_EINVAL, "HMN_SYSFS_ROOT is too long");
  glob_t g;
  int g_rc = glob(pattern, 0, NULL, &g);
  /* No match is the usual case: there is no card. */
  if (g_rc != 0 && g_rc != GLOB_NOMATCH) {
    globfree(&g);
    return hmn__fail(err, HMN_EIO, "cannot list %s/bus/pci/drivers/xocl", root);
  }
  for (size_t k = 0; g_rc == 0 && k < g.gl_pathc; k++) {
    if (*count < max) {
      hmn_card_info *c = &out[*count];
      memset(c, 0, sizeof *c);
      c->index = (int)*count;
      const char *pci = strrchr(g.gl_pathv[k], '/') + 1;
      snprintf(c->pci, sizeof c->pci, "%s", pci);
      /* The VBNV of the feature ROM, or "?" when the ROM is not readable. */
      char rom[4400];
      glob_t r;
      snprintf(rom, sizeof rom, "%s/bus/pci/devices/%s/rom.*/VBNV", root, pci);
      if (glob(rom, 0, NULL, &r) != 0 || !hmn__read_line(r.gl_pathv[0], c->platform,
                                                        sizeof c->platform))
        snprintf(c->platform, sizeof c->platform, "?");
      globfree(&r);
    }
    (*count)++;
  }
  globfree(&g);
  return HMN_OK;
}

static bool hmn__is_file(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* What XILINX_XRT must provide: the shim XRT's core library loads, by
 * the emulation mode. */
static const char *hmn__xrt_shim(const char *emulation) {
  if (emulation == NULL) return "libxrt_core.so.2";
  return strcmp(emulation, "sw_emu") == 0 ? "libxrt_swemu.so.2" : "libxrt_hwemu.so.2";
}

int hmn_xrt_check(hmn_error *err) {
#ifndef HMN_HAVE_XRT
  return hmn__fail(err, HMN_EBACKEND,
                   "backend 'xrt' unavailable: this libhmn was built without XRT (install "
                   "libxrt-dev, or AMD's xrt package, and rebuild; configure with -DHMN_XRT=ON to "
                   "make a missing XRT an error)");
#else
  /* Set at all, even empty, XCL_EMULATION_MODE makes XRT look for an
   * emulator, and XRT 2.13 aborts on a value it does not know. */
  const char *emulation = getenv("XCL_EMULATION_MODE");
  if (emulation != NULL && strcmp(emulation, "sw_emu") != 0 && strcmp(emulation, "hw_emu") != 0)
    return hmn__fail(err, HMN_EDEVICE,
                     "backend 'xrt': XCL_EMULATION_MODE is '%s'; it must be sw_emu or hw_emu, or "
                     "unset (not empty) for a card",
                     emulation);
  if (emulation == NULL) {
    size_t n = 0;
    int rc = hmn_fpga_cards(NULL, 0, &n, err);
    if (rc != HMN_OK) return rc;
    if (n == 0)
      return hmn__fail(err, HMN_EDEVICE,
                       "backend 'xrt': no Alveo card found (no PCI function is bound to XRT's "
                       "xocl driver in %s/bus/pci/drivers/xocl). Install the card and AMD's XRT, "
                       "or set XCL_EMULATION_MODE=sw_emu or hw_emu to run an emulator (see "
                       "sim/README.md)",
                       hmn__sysfs_root());
  }
  const char *xrt = getenv("XILINX_XRT");
  if (xrt == NULL || xrt[0] == '\0')
    return hmn__fail(err, HMN_EDEVICE,
                     "backend 'xrt': XILINX_XRT is not set, and XRT aborts the process without it. "
                     "Set it to XRT's folder: `source /opt/xilinx/xrt/setup.sh` for AMD's package; "
                     "for Debian's libxrt packages a folder whose lib/ holds the XRT libraries, "
                     "e.g. `mkdir -p ~/xrt && ln -sfn /usr/lib/x86_64-linux-gnu ~/xrt/lib && "
                     "export XILINX_XRT=~/xrt`");
  char shim[4200];
  snprintf(shim, sizeof shim, "%s/lib/%s", xrt, hmn__xrt_shim(emulation));
  if (!hmn__is_file(shim))
    return hmn__fail(err, HMN_EDEVICE,
                     "backend 'xrt': XILINX_XRT=%s has no lib/%s, which XRT loads %s; point "
                     "XILINX_XRT at a folder whose lib/ holds it",
                     xrt, hmn__xrt_shim(emulation),
                     emulation != NULL ? "for emulation" : "to reach a card");
  if (emulation != NULL) {
    /* XRT reads the emulated platform from emconfig.json: in $EMCONFIG_PATH,
     * else next to the executable. */
    char config[4200];
    const char *dir = getenv("EMCONFIG_PATH");
    if (dir != NULL && dir[0] != '\0') {
      snprintf(config, sizeof config, "%s/emconfig.json", dir);
    } else {
      char exe[4096];
      ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
      exe[n > 0 ? n : 0] = '\0';
      char *slash = strrchr(exe, '/');
      if (slash != NULL) *slash = '\0';
      snprintf(config, sizeof config, "%s/emconfig.json", exe);
    }
    if (!hmn__is_file(config))
      return hmn__fail(err, HMN_EDEVICE,
                       "backend 'xrt': %s emulation needs %s: create it with `emconfigutil "
                       "--platform PLATFORM` (see sim/README.md), or set EMCONFIG_PATH to its "
                       "folder",
                       emulation, config);
  }
  return HMN_OK;
#endif
}

#ifndef HMN_HAVE_XRT
/* Without XRT the backend exists only to say why it cannot run. */
static int hmn__xrt_absent(hmn_layer *layer, hmn_error *err) {
  (void)layer;
  return hmn_xrt_check(err);
}

static const char *hmn__xrt_absent_device(const hmn_layer *layer) {
  (void)layer;
  return "none";
}

const hmn__backend_ops hmn__backend_xrt = {
    .name = "xrt", .init = hmn__xrt_absent, .device = hmn__xrt_absent_device};
#endif
