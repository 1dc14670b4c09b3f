/*
 * test_bitstreams.c - the FPGA bitstream loader without a card: SHA-256
 * against the FIPS 180-4 examples; .xclbin files built from XRT's struct
 * axlf layout (a good one, truncated ones, a wrong magic, a missing
 * kernel, a wrong platform); the manifest (add, list, check) and picking
 * the file that fits a card, with a clear message when none does.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpga/bitstreams.h"
#include "io/sha256.h"
#include "support.h"
#include "xclbin_support.h"

#include <xclbin.h>

#define PLATFORM "xilinx_u250_gen3x16_xdma_4_1_202210_1"
#define SHELL "xilinx_u250_gen3x16_xdma_shell_4_1"

TestSuite(bitstreams);

static void sha_hex_of(const char *text, char out[HMN__SHA256_HEX]) {
  hmn__sha256_hex(text, strlen(text), out);
}

Test(bitstreams, sha256_fips_examples) {
  char hex[HMN__SHA256_HEX];
  sha_hex_of("", hex);
  cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  sha_hex_of("abc", hex);
  cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  /* 56 bytes: the length no longer fits the first block. */
  sha_hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", hex);
  cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* A million 'a', fed in uneven pieces. */
  static char a[1000000];
  memset(a, 'a', sizeof a);
  hmn__sha256 s;
  unsigned char digest[HMN__SHA256_BYTES];
  hmn__sha256_init(&s);
  for (size_t at = 0, piece = 1; at < sizeof a; at += piece, piece = piece % 97 + 1)
    hmn__sha256_update(&s, a + at, at + piece <= sizeof a ? piece : sizeof a - at);
  hmn__sha256_final(&s, digest);
  static const unsigned char want[HMN__SHA256_BYTES] = {
      0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
      0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};
  cr_assert_arr_eq(digest, want, sizeof want);
  /* Every length around the block boundaries: pieces equal one shot. */
  for (size_t n = 50; n < 140; n++) {
    char one[HMN__SHA256_HEX], two[HMN__SHA256_HEX];
    hmn__sha256_hex(a, n, one);
    hmn__sha256_init(&s);
    hmn__sha256_update(&s, a, n / 3);
    hmn__sha256_update(&s, a, n - n / 3);
    hmn__sha256_final(&s, digest);
    for (int k = 0; k < HMN__SHA256_BYTES; k++) snprintf(two + 2 * k, 3, "%02x", digest[k]);
    cr_assert_str_eq(one, two, "length %zu", n);
  }
}

Test(bitstreams, good_xclbin_parses) {
  size_t len = 0;
  unsigned char *file = hmn_test_xclbin(PLATFORM, HMN_FPGA_KERNEL_NAME, HMN_TEST_XCLBIN_HW, 1, &len);
  hmn__xclbin_info info;
  hmn_error err;
  cr_assert_eq(hmn__xclbin_parse(file, len, "good.xclbin", &info, &err), HMN_OK, "%s", err.message);
  cr_assert_str_eq(info.platform, PLATFORM);
  cr_assert_str_eq(info.mode, "hw");
  cr_assert_eq(info.sections, 1);
  cr_assert_eq(info.n_kernels, 1);
  cr_assert(hmn__xclbin_has_kernel(&info, HMN_FPGA_KERNEL_NAME));
  char uuid[37];
  hmn_test_xclbin_uuid(file, uuid);
  cr_assert_str_eq(info.uuid_text, uuid);
  free(file);
  file = hmn_test_xclbin(PLATFORM, HMN_FPGA_KERNEL_NAME, HMN_TEST_XCLBIN_SW_EMU, 2, &len);
  cr_assert_eq(hmn__xclbin_parse(file, len, "emu.xclbin", &info, &err), HMN_OK, "%s", err.message);
  cr_assert_str_eq(info.mode, "sw_emu");
  free(file);
}

Test(bitstreams, damaged_xclbins_are_named) {
  size_t len = 0;
  unsigned char *file = hmn_test_xclbin(PLATFORM, HMN_FPGA_KERNEL_NAME, HMN_TEST_XCLBIN_HW, 3, &len);
  hmn__xclbin_info info;
  hmn_error err;
  /* Truncated anywhere: in the header, in the section table, in the
   * section, by one byte. */
  const size_t cuts[] = {0, 7, 100, 455, 470, len - 50, len - 1};
  for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
    cr_assert_eq(hmn__xclbin_parse(file, cuts[c], "cut.xclbin", &info, &err), HMN_EFORMAT,
                 "cut at %zu", cuts[c]);
    cr_assert(strstr(err.message, "cut.xclbin") != NULL &&
                  (strstr(err.message, "truncated") != NULL || strstr(err.message, "magic") != NULL),
              "cut at %zu: %s", cuts[c], err.message);
  }
  /* A wrong magic. */
  unsigned char *bad = malloc(len);
  cr_assert_not_null(bad);
  memcpy(bad, file, len);
  memcpy(bad, "xclbin1", 8);
  cr_assert_eq(hmn__xclbin_parse(bad, len, "old.xclbin", &info, &err), HMN_EFORMAT);
  cr_assert(strstr(err.message, "not an xclbin") != NULL, "%s", err.message);
  /* A section that runs past the end while the header's length agrees. */
  memcpy(bad, file, len);
  struct axlf top;
  memcpy(&top, bad, sizeof top);
  top.m_sections[0].m_sectionSize += 8;
  memcpy(bad, &top, sizeof top);
  cr_assert_eq(hmn__xclbin_parse(bad, len, "short.xclbin", &info, &err), HMN_EFORMAT);
  cr_assert(strstr(err.message, "section 0") != NULL, "%s", err.message);
  /* No UUID. */
  memcpy(bad, file, len);
  memcpy(&top, bad, sizeof top);
  memset(top.m_header.uuid, 0, sizeof top.m_header.uuid);
  memcpy(bad, &top, sizeof top);
  cr_assert_eq(hmn__xclbin_parse(bad, len, "anon.xclbin", &info, &err), HMN_EFORMAT);
  cr_assert(strstr(err.message, "UUID") != NULL, "%s", err.message);
  free(bad);
  free(file);
  /* A kernel of another name parses, and says what it has. */
  file = hmn_test_xclbin(PLATFORM, "vadd", HMN_TEST_XCLBIN_HW, 4, &len);
  cr_assert_eq(hmn__xclbin_parse(file, len, "vadd.xclbin", &info, &err), HMN_OK);
  cr_assert_not(hmn__xclbin_has_kernel(&info, HMN_FPGA_KERNEL_NAME));
  char list[128];
  hmn__xclbin_kernel_list(&info, list, sizeof list);
  cr_assert_str_eq(list, "vadd");
  free(file);
}

/* ---- the manifest ---- */

static const char *dir;

static void fresh_folder(void) {
  dir = hmn_test_tmpdir();
  cr_assert_eq(setenv("HMN_BITSTREAMS", dir, 1), 0);
  unsetenv("HMN_XCLBIN");
}

/* Write a synthetic xclbin into the folder. */
static void put_xclbin(const char *name, const char *platform, const char *kernel, int mode,
                       unsigned seed) {
  size_t len = 0;
  unsigned char *file = hmn_test_xclbin(platform, kernel, mode, seed, &len);
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  cr_assert_eq(hmn_test_write_file(path, file, len), 0);
  free(file);
}

static hmn_bitstream_info meta_for(const char *card) {
  hmn_bitstream_info meta;
  memset(&meta, 0, sizeof meta);
  snprintf(meta.card, sizeof meta.card, "%s", card != NULL ? card : "");
  snprintf(meta.route, sizeof meta.route, "hls");
  meta.max_in = 4096;
  meta.max_out = 4096;
  meta.max_delay = 16;
  meta.clock_mhz = 300.0;
  snprintf(meta.build, sizeof meta.build, "v++ -l -t hw --platform %s ...", PLATFORM);
  return meta;
}

static void add(const char *name, const char *card) {
  hmn_bitstream_info meta = meta_for(card);
  hmn_error err;
  cr_assert_eq(hmn_bitstream_add(NULL, name, &meta, &err), HMN_OK, "%s", err.message);
}

/* Replace text in the manifest, as a hand edit (or a stale copy) would. */
static void edit_manifest(const char *from, const char *to) {
  char path[1024];
  snprintf(path, sizeof path, "%s/manifest.json", dir);
  size_t len = 0;
  unsigned char *text = hmn_test_read_file(path, &len);
  cr_assert_not_null(text);
  char *at = strstr((char *)text, from);
  cr_assert_not_null(at, "'%s' not in the manifest", from);
  size_t head = (size_t)(at - (char *)text), tail = len - head - strlen(from);
  char *out = malloc(len + strlen(to) + 1);
  cr_assert_not_null(out);
  memcpy(out, text, head);
  memcpy(out + head, to, strlen(to));
  memcpy(out + head + strlen(to), at + strlen(from), tail);
  cr_assert_eq(hmn_test_write_file(path, out, head + strlen(to) + tail), 0);
  free(out);
  free(text);
}

static void layer_config(hmn_config *cfg) {
  hmn_config_defaults(cfg);
  cfg->n_in = 256;
  cfg->n_out = 64;
}

Test(bitstreams, add_list_check_pick) {
  fresh_folder();
  put_xclbin("hmn.hw.xclbin", PLATFORM, HMN_FPGA_KERNEL_NAME, HMN_TEST_XCLBIN_HW, 5);
  put_xclbin("hmn.sw_emu.xclbin", PLATFORM, HMN_FPGA_KERNEL_NAME, HMN_TEST_XCLBIN_SW_EMU, 6);
  add("hmn.hw.xclbin", SHELL);
  add("hmn.sw_emu.xclbin", NULL);
  /* Adding again replaces the entry. */
  add("hmn.hw.xclbin", SHELL);

  hmn_bitstream_info list[4];
  size_t n = 0;
  hmn_error err;
  cr_assert_eq(hmn_bitstreams_list(NULL, list, 4, &n, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(n, 2);
  cr_assert_str_eq(list[0].file, "hmn.sw_emu.xclbin");
  cr_assert_str_eq(list[0].target, "sw_emu");
  cr_assert_str_eq(list[0].card, PLATFORM, "the card defaults to the platform");
  cr_assert_str_eq(list[1].file, "hmn.hw.xclbin");
  cr_assert_str_eq(list[1].platform, PLATFORM);
  cr_assert_str_eq(list[1].card, SHELL);
  cr_assert_str_eq(list[1].target, "hw");
  cr_assert_str_eq(list[1].kernel, HMN_FPGA_KERNEL_NAME);
  cr_assert_str_eq(list[1].arguments, HMN_FPGA_ARG_NAMES);
  cr_assert_eq(list[1].abi, HMN_FPGA_ABI);
  cr_assert_eq(list[1].max_in, 4096);
  cr_assert_eq(list[1].clock_mhz, 300.0);
  cr_assert_eq(strlen(list[1].sha256), 64);
  for (size_t k = 0; k < n; k++)
    cr_assert_eq(hmn_bitstream_check(NULL, &list[k], &err), HMN_OK, "%s", err.message);

  hmn_config cfg;
  layer_config(&cfg);
  hmn__bitstream b;
  cr_assert_eq(hmn__bitstream_pick(SHELL, "hw", &cfg, &b, &err), HMN_OK, "%s", err.message);
  cr_assert_str_eq(b.info.file, "hmn.hw.xclbin");
  cr_assert_str_eq(b.xclbin.platform, PLATFORM);
  cr_assert_gt(b.len, 0);
  hmn__bitstream_free(&b);
  /* Emulation picks by target, for any platform. */
  cr_assert_eq(hmn__bitstream_pick(NULL, "sw_emu", &cfg, &b, &err), HMN_OK, "%s", err.message);
  cr_assert_str_eq(b.info.file, "hmn.sw_emu.xclbin");
  hmn__bitstream_free(&b);
}

Test(bitstreams, wrong_platform_says_what_exists) {
  fresh_folder();
  put_xclbin("hmn.hw.xclbin", PLATFORM, HMN_FPGA_KERNEL_NAME, HMN_TEST_XCLBIN_HW, 7);
  add("hmn.hw.xclbin", NULL);
  hmn_config cfg;
  layer_config(&cfg);
  hmn__bitstream b;
  hmn_error err;
  const char *card = "xilinx_u280_gen3x16_xdma_base_1";
  cr_assert_eq(hmn__bitstream_pick(card, "hw", &cfg, &b, &err), HMN_EUNSUPPORTED);
  cr_assert(strstr(err.message, "no bitstream for platform 'xilinx_u280_gen3x16_xdma_base_1'") !=
                    NULL &&
                strstr(err.message, "hmn.hw.xclbin (" PLATFORM ", hw)") != NULL &&
                strstr(err.message, "hw/README.md") != NULL,
            "%s", err.message);
  /* An entry that claims another platform than its file is caught. */
  edit_manifest("\"platform\": \"" PLATFORM "\"", "\"platform\": \"xilinx_u250_other\"");
  edit_manifest("\"card\": \"" PLATFORM "\"", "\"card\": \"xilinx_u250_other\"");
  cr_assert_eq(hmn__bitstream_pick("xilinx_u250_other", "hw", &cfg, &b, &err), HMN_EFORMAT);
  cr_assert(strstr(err.message, "built for platform '" PLATFORM "'") != NULL, "%s", err.message);
  /* No manifest at all. */
  cr_assert_eq(setenv("HMN_BITSTREAMS", "/nonexistent/bitstreams", 1), 0);
  cr_assert_eq(hmn__bitstream_pick(PLATFORM, "hw", &cfg, &b, &err), HMN_EUNSUPPORTED);
  cr_assert(strstr(err.message, "which lists: nothing") != NULL, "%s", err.message);
}

Test(bitstreams, missing_kernel_is_refused) {
  fresh_folder();
  put_xclbin("vadd.xclbin", PLATFORM, "vadd", HMN_TEST_XCLBIN_HW, 8);
  hmn_bitstream_info meta = meta_for(NULL);
  hmn_error err;
  cr_assert_eq(hmn_bitstream_add(NULL, "vadd.xclbin", &meta, &err), HMN_EFORMAT);
  cr_assert(strstr(err.message, "lacks kernel hmn_fpga_step (it has: vadd)") != NULL, "%s",
            err.message);
  /* The same file behind a hand-made entry fails its check. */
  put_xclbin("hmn.xclbin", PLATFORM, HMN_FPGA_KERNEL_NAME, HMN_TEST_XCLBIN_HW, 8);
  add("hmn.xclbin", NULL);
  char src[1024], dst[1024];
  snprintf(src, sizeof src, "%s/vadd.xclbin", dir);
  snprintf(dst, sizeof dst, "%s/hmn.xclbin", dir);
  cr_assert_eq(rename(src, dst), 0);
  size_t len = 0;
  unsigned char *file = hmn_test_read_file(dst, &len);
  char sum[HMN__SHA256_HEX];
  hmn__sha256_hex(file, len, sum);
  free(file);
  hmn_bitstream_info list[1];
  size_t n = 0;
  cr_assert_eq(hmn_bitstreams_list(NULL, list, 1, &n, &err), HMN_OK);
  edit_manifest(list[0].sha256, sum);
  hmn_config cfg;
  layer_config(&cfg);
  hmn__bitstream b;
  cr_assert_eq(hmn__bitstream_pick(PLATFORM, "hw", &cfg, &b, &err), HMN_EFORMAT);
  cr_assert(strstr(err.message, "lacks kernel hmn_fpga_step") != NULL, "%s", err.message);
}

Test(bitstreams, truncated_or_changed_file_is_refused) {
  fresh_folder();
  put_xclbin("hmn.xclbin", PLATFORM, HMN_FPGA_KERNEL_NAME, HMN_TEST_XCLBIN_HW, 9);
  add("hmn.xclbin", NULL);
  char path[1024];
  snprintf(path, sizeof path, "%s/hmn.xclbin", dir);
  size_t len = 0;
  unsigned char *file = hmn_test_read_file(path, &len);
  cr_assert_not_null(file);
  cr_assert_eq(hmn_test_write_file(path, file, len - 40), 0);
  hmn_config cfg;
  layer_config(&cfg);
  hmn__bitstream b;
  hmn_error err;
  /* The checksum catches it first... */
  cr_assert_eq(hmn__bitstream_pick(PLATFORM, "hw", &cfg, &b, &err), HMN_ECRC);
  cr_assert(strstr(err.message, "sha256") != NULL && strstr(err.message, "hmn.xclbin") != NULL,
            "%s", err.message);
  /* ...and with a checksum that matches the cut file, the container does. */
  char sum[HMN__SHA256_HEX];
  hmn__sha256_hex(file, len - 40, sum);
  hmn_bitstream_info list[1];
  size_t n = 0;
  cr_assert_eq(hmn_bitstreams_list(NULL, list, 1, &n, &err), HMN_OK);
  edit_manifest(list[0].sha256, sum);
  cr_assert_eq(hmn__bitstream_pick(PLATFORM, "hw", &cfg, &b, &err), HMN_EFORMAT);
  cr_assert(strstr(err.message, "truncated") != NULL, "%s", err.message);
  free(file);
}

Test(bitstreams, interface_limits_and_choice_are_checked) {
  fresh_folder();
  put_xclbin("hmn.xclbin", PLATFORM, HMN_FPGA_KERNEL_NAME, HMN_TEST_XCLBIN_HW, 10);
  add("hmn.xclbin", NULL);
  hmn_config cfg;
  layer_config(&cfg);
  hmn__bitstream b;
  hmn_error err;
  /* A layer beyond the on-chip maxima. */
  cfg.n_in = 5000;
  cr_assert_eq(hmn__bitstream_pick(PLATFORM, "hw", &cfg, &b, &err), HMN_ESHAPE);
  cr_assert(strstr(err.message, "bitstream 'hmn.xclbin' holds at most n_in=4096") != NULL, "%s",
            err.message);
  layer_config(&cfg);
  /* HMN_XCLBIN names one file of the folder. */
  cr_assert_eq(setenv("HMN_XCLBIN", "other.xclbin", 1), 0);
  cr_assert_eq(hmn__bitstream_pick(PLATFORM, "hw", &cfg, &b, &err), HMN_EUNSUPPORTED);
  cr_assert(strstr(err.message, "HMN_XCLBIN=other.xclbin") != NULL, "%s", err.message);
  cr_assert_eq(setenv("HMN_XCLBIN", "hmn.xclbin", 1), 0);
  cr_assert_eq(hmn__bitstream_pick(PLATFORM, "hw", &cfg, &b, &err), HMN_OK, "%s", err.message);
  hmn__bitstream_free(&b);
  unsetenv("HMN_XCLBIN");
  /* A bitstream of another kernel interface. */
  char abi_now[32];
  snprintf(abi_now, sizeof abi_now, "\"abi\": %d", HMN_FPGA_ABI);
  edit_manifest(abi_now, "\"abi\": 0");
  cr_assert_eq(hmn__bitstream_pick(PLATFORM, "hw", &cfg, &b, &err), HMN_EVERSION);
  cr_assert(strstr(err.message, "rebuild it") != NULL, "%s", err.message);
  edit_manifest("\"abi\": 0", abi_now);
  /* A target the file is not. */
  edit_manifest("\"target\": \"hw\"", "\"target\": \"hw_emu\"");
  cr_assert_eq(hmn__bitstream_pick(PLATFORM, "hw_emu", &cfg, &b, &err), HMN_EFORMAT);
  cr_assert(strstr(err.message, "is a hw build; the manifest says hw_emu") != NULL, "%s",
            err.message);
  /* A malformed manifest names the file and line. */
  edit_manifest("\"bitstreams\": [", "\"bitstreams\": [,");
  hmn_bitstream_info list[1];
  size_t n = 0;
  cr_assert_eq(hmn_bitstreams_list(NULL, list, 1, &n, &err), HMN_EFORMAT);
  cr_assert(strstr(err.message, "manifest.json':4: ") != NULL, "%s", err.message);
}
