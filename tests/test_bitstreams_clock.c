/*
 * test_bitstreams_clock.c - the kernel clock in the bitstream manifest
 * comes from the .xclbin's CLOCK_FREQ_TOPOLOGY section (the clock v++
 * closed timing at, which it lowers when a design misses the requested
 * frequency), not from the build's request; the request stays only for
 * files without that section.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xclbin.h>

#include "fpga/bitstreams.h"
#include "support.h"
#include "xclbin_support.h"

TestSuite(bitstreams_clock);

#define PLATFORM "xilinx_u250_gen3x16_xdma_4_1_202210_1"

/* An xclbin with two sections: IP_LAYOUT (the kernel) and
 * CLOCK_FREQ_TOPOLOGY (a data clock of `data_mhz`, a kernel clock of 500
 * MHz and a system clock). */
static unsigned char *xclbin_with_clocks(unsigned data_mhz, size_t *len) {
  size_t table = sizeof(struct axlf) + sizeof(struct axlf_section_header);
  size_t layout = offsetof(struct ip_layout, m_ip_data) + sizeof(struct ip_data);
  size_t clocks = offsetof(struct clock_freq_topology, m_clock_freq) + 3 * sizeof(struct clock_freq);
  size_t total = table + layout + clocks;
  unsigned char *file = calloc(1, total);
  cr_assert_not_null(file);
  struct axlf top;
  memset(&top, 0, sizeof top);
  memcpy(top.m_magic, "xclbin2", 8);
  top.m_header.m_length = total;
  top.m_header.m_mode = XCLBIN_FLAT;
  snprintf((char *)top.m_header.m_platformVBNV, sizeof top.m_header.m_platformVBNV, "%s",
           PLATFORM);
  for (int k = 0; k < 16; k++) top.m_header.uuid[k] = (unsigned char)(k * 13 + data_mhz);
  top.m_header.m_numSections = 2;
  top.m_sections[0].m_sectionKind = IP_LAYOUT;
  top.m_sections[0].m_sectionOffset = table;
  top.m_sections[0].m_sectionSize = layout;
  memcpy(file, &top, sizeof top);
  struct axlf_section_header second;
  memset(&second, 0, sizeof second);
  second.m_sectionKind = CLOCK_FREQ_TOPOLOGY;
  second.m_sectionOffset = table + layout;
  second.m_sectionSize = clocks;
  memcpy(file + sizeof(struct axlf), &second, sizeof second);

  int32_t count = 1;
  memcpy(file + table + offsetof(struct ip_layout, m_count), &count, sizeof count);
  struct ip_data ip;
  memset(&ip, 0, sizeof ip);
  ip.m_type = IP_KERNEL;
  snprintf((char *)ip.m_name, sizeof ip.m_name, "hmn_fpga_step:hmn_fpga_step_1");
  memcpy(file + table + offsetof(struct ip_layout, m_ip_data), &ip, sizeof ip);

  int16_t n = 3;
  size_t at = table + layout;
  memcpy(file + at + offsetof(struct clock_freq_topology, m_count), &n, sizeof n);
  struct clock_freq c[3];
  memset(c, 0, sizeof c);
  c[0].m_type = CT_SYSTEM;
  c[0].m_freq_Mhz = 100;
  c[1].m_type = CT_KERNEL;
  c[1].m_freq_Mhz = 500;
  c[2].m_type = CT_DATA;
  c[2].m_freq_Mhz = (uint16_t)data_mhz;
  memcpy(file + at + offsetof(struct clock_freq_topology, m_clock_freq), c, sizeof c);
  *len = total;
  return file;
}

static void write_file(const char *dir, const char *name, const unsigned char *data, size_t len) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "%s", path);
  cr_assert_eq(fwrite(data, 1, len, f), len);
  cr_assert_eq(fclose(f), 0);
}

Test(bitstreams_clock, the_data_clock_of_the_file) {
  size_t len = 0;
  unsigned char *file = xclbin_with_clocks(243, &len);
  hmn__xclbin_info info;
  hmn_error err;
  cr_assert_eq(hmn__xclbin_parse(file, len, "clocked.xclbin", &info, &err), HMN_OK, "%s",
               err.message);
  cr_assert_eq(info.clock_mhz, 243.0);
  /* A clock section that claims more entries than it holds is refused. */
  int16_t lie = 40;
  size_t at = sizeof(struct axlf) + sizeof(struct axlf_section_header) +
              offsetof(struct ip_layout, m_ip_data) + sizeof(struct ip_data);
  memcpy(file + at, &lie, sizeof lie);
  cr_assert_eq(hmn__xclbin_parse(file, len, "clocked.xclbin", &info, &err), HMN_EFORMAT);
  cr_assert(strstr(err.message, "CLOCK_FREQ_TOPOLOGY") != NULL, "%s", err.message);
  free(file);
}

Test(bitstreams_clock, the_manifest_records_the_files_clock) {
  const char *dir = hmn_test_tmpdir();
  size_t len = 0;
  unsigned char *clocked = xclbin_with_clocks(231, &len);
  write_file(dir, "clocked.xclbin", clocked, len);
  free(clocked);
  unsigned char *plain = hmn_test_xclbin(PLATFORM, "hmn_fpga_step", HMN_TEST_XCLBIN_SW_EMU, 5, &len);
  write_file(dir, "plain.xclbin", plain, len);
  free(plain);

  hmn_bitstream_info meta;
  memset(&meta, 0, sizeof meta);
  snprintf(meta.route, sizeof meta.route, "hls");
  meta.max_in = 4096;
  meta.max_out = 4096;
  meta.max_delay = 16;
  meta.clock_mhz = 300.0; /* what the build asked for */
  hmn_error err;
  cr_assert_eq(hmn_bitstream_add(dir, "clocked.xclbin", &meta, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_bitstream_add(dir, "plain.xclbin", &meta, &err), HMN_OK, "%s", err.message);
  hmn_bitstream_info list[4];
  size_t count = 0;
  cr_assert_eq(hmn_bitstreams_list(dir, list, 4, &count, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(count, 2);
  for (size_t k = 0; k < count; k++) {
    if (strcmp(list[k].file, "clocked.xclbin") == 0)
      cr_assert_eq(list[k].clock_mhz, 231.0, "the file's clock, not the request");
    else
      cr_assert_eq(list[k].clock_mhz, 300.0, "no clock section: the build's figure");
  }
}
