/*
 * xclbin_support.c - synthetic .xclbin files (see xclbin_support.h).
 */
#include "xclbin_support.h"

#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xclbin.h>

unsigned char *hmn_test_xclbin(const char *platform, const char *kernel, int mode,
                               unsigned uuid_seed, size_t *len) {
  /* Header with one section header, then the IP_LAYOUT section: a memory
   * bank and the kernel instance. */
  size_t section = sizeof(struct axlf);
  size_t layout_bytes = offsetof(struct ip_layout, m_ip_data) + 2 * sizeof(struct ip_data);
  size_t total = section + layout_bytes;
  unsigned char *file = calloc(1, total);
  cr_assert_not_null(file);
  struct axlf top;
  memset(&top, 0, sizeof top);
  memcpy(top.m_magic, "xclbin2", 8);
  top.m_signature_length = -1;
  memset(top.reserved, 0xff, sizeof top.reserved);
  top.m_header.m_length = total;
  top.m_header.m_versionMajor = 2;
  top.m_header.m_mode = (uint16_t)mode;
  snprintf((char *)top.m_header.m_platformVBNV, sizeof top.m_header.m_platformVBNV, "%s",
           platform);
  for (int k = 0; k < 16; k++) top.m_header.uuid[k] = (unsigned char)(uuid_seed * 31u + 7u * (unsigned)k + 1u);
  top.m_header.m_numSections = 1;
  top.m_sections[0].m_sectionKind = IP_LAYOUT;
  snprintf(top.m_sections[0].m_sectionName, sizeof top.m_sections[0].m_sectionName, "ip_layout");
  top.m_sections[0].m_sectionOffset = section;
  top.m_sections[0].m_sectionSize = layout_bytes;
  memcpy(file, &top, sizeof top);

  int32_t count = 2;
  memcpy(file + section + offsetof(struct ip_layout, m_count), &count, sizeof count);
  struct ip_data ip[2];
  memset(ip, 0, sizeof ip);
  ip[0].m_type = IP_MEM_DDR4;
  snprintf((char *)ip[0].m_name, sizeof ip[0].m_name, "bank0");
  ip[1].m_type = IP_KERNEL;
  ip[1].m_base_address = 0x1800000;
  snprintf((char *)ip[1].m_name, sizeof ip[1].m_name, "%s:%s_1", kernel, kernel);
  memcpy(file + section + offsetof(struct ip_layout, m_ip_data), ip, sizeof ip);
  *len = total;
  return file;
}

void hmn_test_xclbin_uuid(const unsigned char *xclbin, char out[37]) {
  struct axlf top;
  memcpy(&top, xclbin, sizeof top);
  size_t n = 0;
  for (int k = 0; k < 16; k++) {
    if (k == 4 || k == 6 || k == 8 || k == 10) out[n++] = '-';
    n += (size_t)snprintf(out + n, 3, "%02x", top.m_header.uuid[k]);
  }
  out[n] = '\0';
}
