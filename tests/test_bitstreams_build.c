/*
 * test_bitstreams_build.c - the hw/ build without Vitis: hw/CMakeLists.txt
 * configured on its own with a stand-in `v++` on PATH that logs its
 * arguments and writes a synthetic .xclbin, then built. Checks the v++
 * compile and link commands of the HLS route (the OpenCL C route is
 * refused), that the link uses the card's
 * connectivity file, and that packaging records the bitstream in the
 * manifest where the host finds it.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fpga/bitstreams.h"
#include "support.h"
#include "xclbin_support.h"

#define PLATFORM "xilinx_u280_gen3x16_xdma_1_202211_1"

TestSuite(bitstreams_build);

static int shell(const char *command) {
  int status = system(command);
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *read_text(const char *path) {
  size_t len = 0;
  unsigned char *data = hmn_test_read_file(path, &len);
  cr_assert_not_null(data, "cannot read %s", path);
  char *text = malloc(len + 1);
  cr_assert_not_null(text);
  memcpy(text, data, len);
  text[len] = '\0';
  free(data);
  return text;
}

/* Configure and build hw/ for `route` and target hw; returns the v++ log,
 * or (expect_ok false) asserts that configuring fails and returns its
 * log. */
static char *build(const char *route, const char *tag, bool expect_ok) {
  const char *bin = getenv("HMN_BIN");
  cr_assert_not_null(bin, "HMN_BIN is not set (run through ctest)");
  char dir[600], path[800], cmd[8192];
  snprintf(dir, sizeof dir, "%s/%s", hmn_test_tmpdir(), tag);
  snprintf(path, sizeof path, "%s/bin", dir);
  cr_assert_eq(shell((snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path), cmd)), 0);
  /* The synthetic bitstream the stand-in v++ links. */
  size_t len = 0;
  unsigned char *xclbin = hmn_test_xclbin(PLATFORM, HMN_FPGA_KERNEL_NAME, HMN_TEST_XCLBIN_HW, 42,
                                          &len);
  snprintf(path, sizeof path, "%s/linked.xclbin", dir);
  cr_assert_eq(hmn_test_write_file(path, xclbin, len), 0);
  free(xclbin);
  snprintf(path, sizeof path, "%s/bin/v++", dir);
  const char *script =
      "#!/bin/sh\n"
      "echo \"$*\" >> \"$HMN_FAKE_VPP_LOG\"\n"
      "out=; prev=\n"
      "for a in \"$@\"; do [ \"$prev\" = -o ] && out=$a; prev=$a; done\n"
      "case \" $* \" in *' -l '*) cp \"$HMN_FAKE_XCLBIN\" \"$out\" ;; *) echo xo > \"$out\" ;; esac\n";
  cr_assert_eq(hmn_test_write_file(path, script, strlen(script)), 0);
  cr_assert_eq(chmod(path, 0755), 0);
  snprintf(cmd, sizeof cmd,
           "cd '%s' && export PATH='%s/bin':\"$PATH\" HMN_FAKE_VPP_LOG='%s/vpp.log' "
           "HMN_FAKE_XCLBIN='%s/linked.xclbin' && "
           "cmake -S '%s/hw' -B build -DHMN_BIN='%s' -DHMN_FPGA_PLATFORM=" PLATFORM
           " -DHMN_FPGA_ROUTE=%s -DHMN_FPGA_MAX_IN=1024 -DHMN_BITSTREAMS_DIR='%s/bits' "
           "> cmake.log 2>&1 && cmake --build build --target hmn_fpga_package_hw >> cmake.log 2>&1",
           dir, dir, dir, dir, HMN_SOURCE_DIR, bin, route, dir);
  int rc = shell(cmd);
  snprintf(path, sizeof path, "%s/cmake.log", dir);
  char *log = read_text(path);
  if (!expect_ok) {
    cr_assert_neq(rc, 0, "hw/ configured for route '%s':\n%s", route, log);
    return log;
  }
  cr_assert_eq(rc, 0, "hw/ build failed:\n%s", log);
  free(log);
  snprintf(path, sizeof path, "%s/vpp.log", dir);
  return read_text(path);
}

Test(bitstreams_build, hls_route_compiles_links_and_packages, .timeout = 300) {
  char *log = build("hls", "hls", true);
  const char *compile = strstr(log, "-c -t hw --platform " PLATFORM);
  const char *link = strstr(log, "-l -t hw --platform " PLATFORM);
  cr_assert(compile != NULL && link != NULL && compile < link, "%s", log);
  cr_assert(strstr(log, "hw/hmn_compile.cfg -k hmn_fpga_step") != NULL, "%s", log);
  cr_assert(strstr(log, "-DHMN_FPGA_MAX_IN=1024") != NULL, "%s", log);
  cr_assert(strstr(log, "hw/hmn_step_hls.cpp") != NULL, "%s", log);
  /* The hardware path's include path: hw/include's Philox stand-in, no
   * Random123. */
  cr_assert(strstr(log, "hw/include") != NULL, "%s", log);
  cr_assert(strstr(log, "random123") == NULL && strstr(log, "Random123") == NULL, "%s", log);
  cr_assert(strstr(log, "--config ") != NULL && strstr(log, "hw/u280.cfg") != NULL,
            "the link must use the U280's HBM connectivity:\n%s", log);
  free(log);

  /* Packaged: in the folder, in the manifest, and it checks out. */
  char bits[700];
  snprintf(bits, sizeof bits, "%s/hls/bits", hmn_test_tmpdir());
  hmn_bitstream_info list[2];
  size_t n = 0;
  hmn_error err;
  cr_assert_eq(hmn_bitstreams_list(bits, list, 2, &n, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(n, 1);
  cr_assert_str_eq(list[0].file, "hmn_fpga.hw." PLATFORM ".xclbin");
  cr_assert_str_eq(list[0].target, "hw");
  cr_assert_str_eq(list[0].route, "hls");
  cr_assert_eq(list[0].max_in, 1024);
  cr_assert_eq(list[0].max_delay, 16);
  cr_assert(strstr(list[0].build, "--config hw/u280.cfg") != NULL, "%s", list[0].build);
  cr_assert(strstr(list[0].build, HMN_SOURCE_DIR) == NULL, "no machine paths: %s", list[0].build);
  cr_assert_eq(hmn_bitstream_check(bits, &list[0], &err), HMN_OK, "%s", err.message);

  /* `hmn bitstreams` lists and checks it; a damaged copy fails, exit 1. */
  char cmd[2048], listing[800];
  snprintf(listing, sizeof listing, "%s/hls/list.log", hmn_test_tmpdir());
  snprintf(cmd, sizeof cmd, "'%s' bitstreams --dir '%s' > '%s' 2>&1", getenv("HMN_BIN"), bits,
           listing);
  cr_assert_eq(shell(cmd), 0);
  char *text = read_text(listing);
  cr_assert(strstr(text, "bitstreams in") != NULL && strstr(text, "check: ok") != NULL &&
                strstr(text, "route hls") != NULL,
            "%s", text);
  free(text);
  char file[900];
  snprintf(file, sizeof file, "%s/hmn_fpga.hw." PLATFORM ".xclbin", bits);
  FILE *f = fopen(file, "r+b");
  cr_assert_not_null(f);
  fseek(f, 600, SEEK_SET);
  fputc(0x5a, f);
  fclose(f);
  cr_assert_eq(shell(cmd), 1);
  text = read_text(listing);
  cr_assert(strstr(text, "CHECK FAILED") != NULL && strstr(text, "sha256") != NULL, "%s", text);
  free(text);
}

/* The OpenCL C route for Vitis 2023.1 and older is not a hardware build
 * any more (hw/README.md says why): asking for it fails with a message. */
Test(bitstreams_build, cl_route_is_refused_with_a_reason, .timeout = 300) {
  char *log = build("cl", "cl", false);
  cr_assert(strstr(log, "HMN_FPGA_ROUTE") != NULL && strstr(log, "hw/README.md") != NULL, "%s",
            log);
  free(log);
}
