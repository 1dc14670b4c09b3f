/*
 * xclbin.c - checking an .xclbin before anything loads it: the container
 * layout of XRT's public xclbin.h (struct axlf: magic "xclbin2", header,
 * section table), its platform, UUID and mode, and the kernels its
 * IP_LAYOUT section instantiates. A card or emulator given a wrong or
 * damaged file fails late and obscurely; this says what is wrong and
 * where.
 *
 * The file is read field by field with memcpy, so a damaged file cannot
 * make the reader touch memory outside it or misaligned. xclbin files are
 * little-endian, as are the hosts Alveo cards plug into.
 */
#include "fpga/bitstreams.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* XRT's header; its directory is on the include path when found. */
#include <xclbin.h>

/* Bytes before the section table: struct axlf without m_sections. */
#define HMN__AXLF_FIXED offsetof(struct axlf, m_sections)

static void hmn__uuid_text(const unsigned char u[16], char out[HMN__UUID_TEXT]) {
  static const char hex[] = "0123456789abcdef";
  size_t n = 0;
  for (int k = 0; k < 16; k++) {
    if (k == 4 || k == 6 || k == 8 || k == 10) out[n++] = '-';
    out[n++] = hex[u[k] >> 4];
    out[n++] = hex[u[k] & 15];
  }
  out[n] = '\0';
}

static const char *hmn__mode_name(unsigned mode) {
  switch (mode) {
  case XCLBIN_FLAT:
  case XCLBIN_PR:
  case XCLBIN_TANDEM_STAGE2:
  case XCLBIN_TANDEM_STAGE2_WITH_PR:
    return "hw";
  case XCLBIN_HW_EMU:
  case XCLBIN_HW_EMU_PR:
    return "hw_emu";
  case XCLBIN_SW_EMU:
    return "sw_emu";
  default:
    return "unknown";
  }
}

/* The kernels of the IP_LAYOUT section: IP_KERNEL entries are named
 * "kernel:instance". */
static int hmn__ip_layout(const unsigned char *sec, uint64_t size, const char *path,
                          hmn__xclbin_info *info, hmn_error *err) {
  int32_t count = 0;
  if (size < offsetof(struct ip_layout, m_ip_data))
    return hmn__fail(err, HMN_EFORMAT, "xclbin '%s': IP_LAYOUT section of %llu bytes is too short",
                     path, (unsigned long long)size);
  memcpy(&count, sec + offsetof(struct ip_layout, m_count), sizeof count);
  uint64_t need = offsetof(struct ip_layout, m_ip_data) + (uint64_t)(count < 0 ? 0 : count) *
                                                              sizeof(struct ip_data);
  if (count < 0 || need > size)
    return hmn__fail(err, HMN_EFORMAT,
                     "xclbin '%s': IP_LAYOUT lists %d IPs, more than its %llu bytes hold", path,
                     (int)count, (unsigned long long)size);
  for (int32_t k = 0; k < count; k++) {
    struct ip_data ip;
    memcpy(&ip, sec + offsetof(struct ip_layout, m_ip_data) + (size_t)k * sizeof ip, sizeof ip);
    if (ip.m_type != IP_KERNEL) continue;
    char name[sizeof ip.m_name + 1];
    memcpy(name, ip.m_name, sizeof ip.m_name);
    name[sizeof ip.m_name] = '\0';
    name[strcspn(name, ":")] = '\0';
    bool known = false;
    for (size_t n = 0; n < info->n_kernels && !known; n++)
      known = strcmp(info->kernels[n], name) == 0;
    if (!known && info->n_kernels < HMN__XCLBIN_MAX_KERNELS)
      snprintf(info->kernels[info->n_kernels++], sizeof info->kernels[0], "%s", name);
  }
  return HMN_OK;
}

/* The clock an HLS kernel runs at, as v++ closed timing: the data clock
 * (clock 0 of an Alveo shell, which v++ scales down when the design does
 * not meet the requested frequency) of the CLOCK_FREQ_TOPOLOGY section;
 * the kernel clock when there is no data clock. */
static int hmn__clock_topology(const unsigned char *sec, uint64_t size, const char *path,
                               hmn__xclbin_info *info, hmn_error *err) {
  int16_t count = 0;
  size_t first = offsetof(struct clock_freq_topology, m_clock_freq);
  if (size < first)
    return hmn__fail(err, HMN_EFORMAT,
                     "xclbin '%s': CLOCK_FREQ_TOPOLOGY section of %llu bytes is too short", path,
                     (unsigned long long)size);
  memcpy(&count, sec + offsetof(struct clock_freq_topology, m_count), sizeof count);
  if (count < 0 || first + (uint64_t)count * sizeof(struct clock_freq) > size)
    return hmn__fail(err, HMN_EFORMAT,
                     "xclbin '%s': CLOCK_FREQ_TOPOLOGY lists %d clocks, more than its %llu bytes "
                     "hold",
                     path, (int)count, (unsigned long long)size);
  double data = 0.0, kernel = 0.0;
  for (int16_t k = 0; k < count; k++) {
    struct clock_freq c;
    memcpy(&c, sec + first + (size_t)k * sizeof c, sizeof c);
    if (c.m_type == CT_DATA && data == 0.0) data = c.m_freq_Mhz;
    if (c.m_type == CT_KERNEL && kernel == 0.0) kernel = c.m_freq_Mhz;
  }
  info->clock_mhz = data > 0.0 ? data : kernel;
  return HMN_OK;
}

int hmn__xclbin_parse(const unsigned char *data, size_t len, const char *path,
                      hmn__xclbin_info *info, hmn_error *err) {
  struct axlf top;
  memset(info, 0, sizeof *info);
  memset(&top, 0, sizeof top);
  if (len < HMN__AXLF_FIXED)
    return hmn__fail(err, HMN_EFORMAT,
                     "xclbin '%s' is truncated: %zu bytes, less than its %zu-byte header", path,
                     len, (size_t)HMN__AXLF_FIXED);
  memcpy(&top, data, HMN__AXLF_FIXED);
  if (memcmp(top.m_magic, "xclbin2", 8) != 0)
    return hmn__fail(err, HMN_EFORMAT, "'%s' is not an xclbin: its magic is not \"xclbin2\"",
                     path);
  const struct axlf_header *hd = &top.m_header;
  if (hd->m_length != (uint64_t)len)
    return hmn__fail(err, HMN_EFORMAT,
                     "xclbin '%s' is %s: its header says %llu bytes, the file has %zu", path,
                     hd->m_length > (uint64_t)len ? "truncated" : "damaged (trailing bytes)",
                     (unsigned long long)hd->m_length, len);
  uint64_t table_end = HMN__AXLF_FIXED + (uint64_t)hd->m_numSections * sizeof(struct axlf_section_header);
  if (hd->m_numSections > XCLBIN_MAX_NUM_SECTION || table_end > (uint64_t)len)
    return hmn__fail(err, HMN_EFORMAT,
                     "xclbin '%s' is truncated: its header lists %u sections, more than the file "
                     "holds",
                     path, (unsigned)hd->m_numSections);
  if (memchr(hd->m_platformVBNV, '\0', sizeof hd->m_platformVBNV) == NULL)
    return hmn__fail(err, HMN_EFORMAT, "xclbin '%s': the platform name is not terminated", path);
  snprintf(info->platform, sizeof info->platform, "%s", (const char *)hd->m_platformVBNV);
  memcpy(info->uuid, hd->uuid, sizeof info->uuid);
  hmn__uuid_text(info->uuid, info->uuid_text);
  static const unsigned char zero[16] = {0};
  if (memcmp(info->uuid, zero, sizeof zero) == 0)
    return hmn__fail(err, HMN_EFORMAT, "xclbin '%s' has no UUID (all zero)", path);
  snprintf(info->mode, sizeof info->mode, "%s", hmn__mode_name(hd->m_mode));
  info->sections = hd->m_numSections;

  bool have_layout = false, have_clocks = false;
  int rc = HMN_OK;
  for (uint32_t s = 0; s < hd->m_numSections && rc == HMN_OK; s++) {
    struct axlf_section_header sh;
    memcpy(&sh, data + HMN__AXLF_FIXED + (size_t)s * sizeof sh, sizeof sh);
    if (sh.m_sectionOffset > (uint64_t)len || sh.m_sectionSize > (uint64_t)len - sh.m_sectionOffset)
      rc = hmn__fail(err, HMN_EFORMAT,
                     "xclbin '%s' is truncated: section %u (kind %u) runs to byte %llu of %zu",
                     path, (unsigned)s, (unsigned)sh.m_sectionKind,
                     (unsigned long long)(sh.m_sectionOffset + sh.m_sectionSize), len);
    else if (sh.m_sectionKind == IP_LAYOUT && !have_layout) {
      have_layout = true;
      rc = hmn__ip_layout(data + sh.m_sectionOffset, sh.m_sectionSize, path, info, err);
    } else if (sh.m_sectionKind == CLOCK_FREQ_TOPOLOGY && !have_clocks) {
      have_clocks = true;
      rc = hmn__clock_topology(data + sh.m_sectionOffset, sh.m_sectionSize, path, info, err);
    }
  }
  if (rc == HMN_OK && !have_layout)
    rc = hmn__fail(err, HMN_EFORMAT, "xclbin '%s' has no IP_LAYOUT section: it holds no kernels",
                   path);
  return rc;
}

bool hmn__xclbin_has_kernel(const hmn__xclbin_info *info, const char *kernel) {
  for (size_t k = 0; k < info->n_kernels; k++)
    if (strcmp(info->kernels[k], kernel) == 0) return true;
  return false;
}

void hmn__xclbin_kernel_list(const hmn__xclbin_info *info, char *out, size_t size) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t k = 0; k < info->n_kernels && used + 1 < size; k++) {
    int w = snprintf(out + used, size - used, "%s%s", k > 0 ? ", " : "", info->kernels[k]);
    if (w < 0) break;
    used += (size_t)w;
  }
  if (info->n_kernels == 0) snprintf(out, size, "none");
}
