/*
 * test_bitstreams_paths.c - what the bitstreams folder may hold: a FIFO or
 * a device under the name of an .xclbin or of manifest.json is refused at
 * once (no read that waits for a writer), a link that leaves the folder
 * is refused, and `add` refuses a file that is not in the folder.
 */
#define _XOPEN_SOURCE 700 /* mknod, S_IFCHR */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fpga/bitstreams.h"
#include "io/sha256.h"
#include "support.h"
#include "xclbin_support.h"

#define PLATFORM "xilinx_u250_gen3x16_xdma_4_1_202210_1"

TestSuite(bitstreams_paths, .timeout = 30);

static char dir[700];

/* A bitstreams folder inside the test's directory, and an empty sibling. */
static void make_folder(void) {
  snprintf(dir, sizeof dir, "%s/bs", hmn_test_tmpdir());
  cr_assert_eq(mkdir(dir, 0700), 0);
  unsetenv("HMN_XCLBIN");
}

static void put_xclbin(const char *path, unsigned seed) {
  size_t len = 0;
  unsigned char *file = hmn_test_xclbin(PLATFORM, HMN_FPGA_KERNEL_NAME, HMN_TEST_XCLBIN_HW, seed,
                                        &len);
  cr_assert_eq(hmn_test_write_file(path, file, len), 0);
  free(file);
}

static hmn_bitstream_info meta(void) {
  hmn_bitstream_info m;
  memset(&m, 0, sizeof m);
  snprintf(m.route, sizeof m.route, "hls");
  m.max_in = 1024;
  m.max_out = 1024;
  m.max_delay = 16;
  m.clock_mhz = 300.0;
  return m;
}

static const char *in_dir(const char *name) {
  static char path[900];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

static void layer_config(hmn_config *cfg) {
  hmn_config_defaults(cfg);
  cfg->n_in = 64;
  cfg->n_out = 16;
}

Test(bitstreams_paths, fifo_as_xclbin_is_refused_without_blocking) {
  make_folder();
  put_xclbin(in_dir("k.xclbin"), 1);
  hmn_bitstream_info m = meta();
  hmn_error err;
  cr_assert_eq(hmn_bitstream_add(dir, "k.xclbin", &m, &err), HMN_OK, "%s", err.message);
  /* The file replaced by a FIFO no one writes to. */
  cr_assert_eq(unlink(in_dir("k.xclbin")), 0);
  cr_assert_eq(mkfifo(in_dir("k.xclbin"), 0600), 0);
  hmn_bitstream_info list[2];
  size_t n = 0;
  cr_assert_eq(hmn_bitstreams_list(dir, list, 2, &n, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(n, 1);
  cr_assert_eq(hmn_bitstream_check(dir, &list[0], &err), HMN_EIO);
  cr_assert(strstr(err.message, "a FIFO, not a regular file") != NULL &&
                strstr(err.message, "k.xclbin") != NULL,
            "%s", err.message);
  setenv("HMN_BITSTREAMS", dir, 1);
  hmn_config cfg;
  layer_config(&cfg);
  hmn__bitstream b;
  cr_assert_eq(hmn__bitstream_pick(PLATFORM, "hw", &cfg, &b, &err), HMN_EIO);
  cr_assert(strstr(err.message, "FIFO") != NULL, "%s", err.message);
  /* Adding it again refuses as well. */
  cr_assert_eq(hmn_bitstream_add(dir, "k.xclbin", &m, &err), HMN_EIO);
  cr_assert(strstr(err.message, "FIFO") != NULL, "%s", err.message);
}

Test(bitstreams_paths, fifo_as_manifest_is_refused_without_blocking) {
  make_folder();
  cr_assert_eq(mkfifo(in_dir("manifest.json"), 0600), 0);
  hmn_bitstream_info list[1];
  size_t n = 0;
  hmn_error err;
  cr_assert_eq(hmn_bitstreams_list(dir, list, 1, &n, &err), HMN_EIO);
  cr_assert(strstr(err.message, "manifest.json' is a FIFO") != NULL, "%s", err.message);
  put_xclbin(in_dir("k.xclbin"), 2);
  hmn_bitstream_info m = meta();
  cr_assert_eq(hmn_bitstream_add(dir, "k.xclbin", &m, &err), HMN_EIO);
  cr_assert(strstr(err.message, "FIFO") != NULL, "%s", err.message);
  /* The FIFO is still there: nothing was renamed over it. */
  struct stat st;
  cr_assert_eq(lstat(in_dir("manifest.json"), &st), 0);
  cr_assert(S_ISFIFO(st.st_mode));
}

/* A device node under the manifest's name (creating one needs the right
 * to; without it a link to /dev/zero stands in, refused as leaving the
 * folder). Either way nothing reads from the device. */
Test(bitstreams_paths, device_as_manifest_is_refused) {
  make_folder();
  hmn_error err;
  hmn_bitstream_info list[1];
  size_t n = 0;
  if (mknod(in_dir("manifest.json"), S_IFCHR | 0600, makedev(1, 5)) == 0) {
    cr_assert_eq(hmn_bitstreams_list(dir, list, 1, &n, &err), HMN_EIO);
    cr_assert(strstr(err.message, "a character device, not a regular file") != NULL, "%s",
              err.message);
    cr_assert_eq(unlink(in_dir("manifest.json")), 0);
  } else {
    cr_log_warn("mknod: %s; the device node case is skipped", strerror(errno));
  }
  cr_assert_eq(symlink("/dev/zero", in_dir("manifest.json")), 0);
  cr_assert_eq(hmn_bitstreams_list(dir, list, 1, &n, &err), HMN_EIO);
  cr_assert(strstr(err.message, "outside the bitstreams folder") != NULL, "%s", err.message);
}

Test(bitstreams_paths, links_out_of_the_folder_are_refused) {
  make_folder();
  char outside[900];
  snprintf(outside, sizeof outside, "%s/elsewhere.xclbin", hmn_test_tmpdir());
  put_xclbin(outside, 3);
  cr_assert_eq(symlink(outside, in_dir("k.xclbin")), 0);
  hmn_bitstream_info m = meta();
  hmn_error err;
  cr_assert_eq(hmn_bitstream_add(dir, "k.xclbin", &m, &err), HMN_EIO);
  cr_assert(strstr(err.message, "outside the bitstreams folder") != NULL &&
                strstr(err.message, "elsewhere.xclbin") != NULL,
            "%s", err.message);
  /* A link that stays inside the folder is fine. */
  put_xclbin(in_dir("real.xclbin"), 4);
  cr_assert_eq(symlink("real.xclbin", in_dir("alias.xclbin")), 0);
  cr_assert_eq(hmn_bitstream_add(dir, "alias.xclbin", &m, &err), HMN_OK, "%s", err.message);
  hmn_bitstream_info list[2];
  size_t n = 0;
  cr_assert_eq(hmn_bitstreams_list(dir, list, 2, &n, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(n, 1);
  cr_assert_eq(hmn_bitstream_check(dir, &list[0], &err), HMN_OK, "%s", err.message);
  /* Re-pointed out of the folder after it was added: the check refuses. */
  cr_assert_eq(unlink(in_dir("alias.xclbin")), 0);
  cr_assert_eq(symlink(outside, in_dir("alias.xclbin")), 0);
  cr_assert_eq(hmn_bitstream_check(dir, &list[0], &err), HMN_EIO);
  cr_assert(strstr(err.message, "outside the bitstreams folder") != NULL, "%s", err.message);
  /* The manifest itself as a link out of the folder. */
  char other[900];
  snprintf(other, sizeof other, "%s/manifest-elsewhere.json", hmn_test_tmpdir());
  cr_assert_eq(rename(in_dir("manifest.json"), other), 0);
  cr_assert_eq(symlink(other, in_dir("manifest.json")), 0);
  cr_assert_eq(hmn_bitstreams_list(dir, list, 2, &n, &err), HMN_EIO);
  cr_assert(strstr(err.message, "outside the bitstreams folder") != NULL, "%s", err.message);
}

/* `add out/k.xclbin` with the folder elsewhere used to record the
 * folder's own k.xclbin, a different file. */
Test(bitstreams_paths, add_refuses_a_file_outside_the_folder) {
  make_folder();
  char out_dir[800], out_file[900];
  snprintf(out_dir, sizeof out_dir, "%s/out", hmn_test_tmpdir());
  cr_assert_eq(mkdir(out_dir, 0700), 0);
  snprintf(out_file, sizeof out_file, "%s/k.xclbin", out_dir);
  put_xclbin(out_file, 5);
  put_xclbin(in_dir("k.xclbin"), 6);
  hmn_bitstream_info m = meta();
  hmn_error err;
  cr_assert_eq(hmn_bitstream_add(dir, out_file, &m, &err), HMN_EINVAL);
  cr_assert(strstr(err.message, "is not in the bitstreams folder") != NULL &&
                strstr(err.message, out_file) != NULL,
            "%s", err.message);
  struct stat st;
  cr_assert_neq(stat(in_dir("manifest.json"), &st), 0, "a manifest was written");
  /* The same file named through the folder's path is in it. */
  cr_assert_eq(hmn_bitstream_add(dir, in_dir("k.xclbin"), &m, &err), HMN_OK, "%s", err.message);
  char relative[900];
  snprintf(relative, sizeof relative, "%s/../bs/k.xclbin", out_dir);
  cr_assert_eq(hmn_bitstream_add(dir, relative, &m, &err), HMN_OK, "%s", err.message);
}

/* The command line: `add` of a file elsewhere fails and says why; `add`
 * of a file of the folder prints what it recorded, with its checksum. */
Test(bitstreams_paths, cli_add_reports_what_it_recorded) {
  make_folder();
  const char *bin = getenv("HMN_BIN");
  cr_assert_not_null(bin, "HMN_BIN is not set (run through ctest)");
  char out_dir[800], out_file[900], cmd[4096], log[900];
  snprintf(out_dir, sizeof out_dir, "%s/out", hmn_test_tmpdir());
  cr_assert_eq(mkdir(out_dir, 0700), 0);
  snprintf(out_file, sizeof out_file, "%s/k.xclbin", out_dir);
  put_xclbin(out_file, 7);
  put_xclbin(in_dir("k.xclbin"), 8);
  snprintf(log, sizeof log, "%s/add.log", hmn_test_tmpdir());
  snprintf(cmd, sizeof cmd, "'%s' bitstreams add %s --dir %s > %s 2>&1", bin, out_file, dir, log);
  int status = system(cmd);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status 0x%x", status);
  size_t len = 0;
  char *text = (char *)hmn_test_read_file(log, &len);
  cr_assert_not_null(text);
  text = realloc(text, len + 1);
  text[len] = '\0';
  cr_assert(strstr(text, "is not in the bitstreams folder") != NULL, "%s", text);
  cr_assert_null(strstr(text, "recorded"), "%s", text);
  free(text);

  snprintf(cmd, sizeof cmd, "'%s' bitstreams add %s --dir %s > %s 2>&1", bin, in_dir("k.xclbin"),
           dir, log);
  status = system(cmd);
  text = (char *)hmn_test_read_file(log, &len);
  cr_assert_not_null(text);
  text = realloc(text, len + 1);
  text[len] = '\0';
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x: %s", status, text);
  size_t xlen = 0;
  unsigned char *x = hmn_test_read_file(in_dir("k.xclbin"), &xlen);
  char sum[HMN__SHA256_HEX], want[1600];
  hmn__sha256_hex(x, xlen, sum);
  free(x);
  snprintf(want, sizeof want, "recorded %s/k.xclbin in %s/manifest.json", dir, dir);
  cr_assert(strstr(text, want) != NULL && strstr(text, sum) != NULL, "%s", text);
  free(text);
}
