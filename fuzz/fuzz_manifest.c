/*
 * fuzz_manifest.c - libFuzzer target: the bitstream manifest
 * (manifest.json) through hmn_bitstreams_list and, for each entry it
 * accepts, hmn_bitstream_check (whose files are absent or wrong: it must
 * refuse them cleanly). The input is written into a private folder.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[4200];
  if (dir[0] == '\0') {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/hmn-fuzz-manifest-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
      dir[0] = '\0';
      return 0;
    }
  }
  snprintf(path, sizeof path, "%s/manifest.json", dir);
  FILE *f = fopen(path, "wb");
  if (f == NULL) return 0;
  size_t n = size > 0 ? fwrite(data, 1, size, f) : 0;
  if (fclose(f) != 0 || n != size) return 0;
  hmn_error err;
  size_t count = 0;
  if (hmn_bitstreams_list(dir, NULL, 0, &count, &err) != HMN_OK || count == 0) return 0;
  if (count > 64) count = 64;
  hmn_bitstream_info *list = calloc(count, sizeof *list);
  if (list == NULL) return 0;
  if (hmn_bitstreams_list(dir, list, count, &count, &err) == HMN_OK)
    for (size_t k = 0; k < count && k < 64; k++) (void)hmn_bitstream_check(dir, &list[k], &err);
  free(list);
  return 0;
}
