/*
 * fuzz_checkpoint.c - libFuzzer target: checkpoint files through the
 * loader. The input is written to a private temporary file (the loader
 * reads files), then inspected (hmn_ckpt_inspect, as `hmn ckpt info`) and
 * loaded as a closed loop (hmn_agent_load, which also decodes the "meta"
 * and "sources" sections) and as a bare layer, on the ref backend.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hmn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[4096];

static int write_input(const uint8_t *data, size_t size) {
  if (path[0] == '\0') {
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/hmn-fuzz-ckpt-XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    close(fd);
  }
  FILE *f = fopen(path, "wb");
  if (f == NULL) return -1;
  size_t n = size > 0 ? fwrite(data, 1, size, f) : 0;
  return fclose(f) == 0 && n == size ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (write_input(data, size) != 0) return 0;
  hmn_error err;
  hmn_ckpt_info *info = malloc(sizeof *info);
  if (info != NULL) {
    (void)hmn_ckpt_inspect(path, info, &err);
    free(info);
  }
  hmn_agent *agent = NULL;
  if (hmn_agent_load(path, "ref", &agent, &err) == HMN_OK) {
    hmn_window w;
    /* A loaded state must also step. */
    (void)hmn_agent_run(agent, 2, &w, &err);
    hmn_agent_destroy(agent);
  }
  hmn_layer *layer = NULL;
  if (hmn_layer_load(path, "ref", &layer, &err) == HMN_OK) hmn_layer_destroy(layer);
  return 0;
}
