/*
 * support.c - helpers shared by the Criterion tests.
 */
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *hmn_test_tmpdir(void) {
  static char dir[512];
  if (dir[0] == '\0') {
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/hmn-test-XXXXXX", base != NULL ? base : "/tmp");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp failed");
  }
  return dir;
}

const char *hmn_test_path(const char *name) {
  static char path[1024];
  snprintf(path, sizeof path, "%s/%s", hmn_test_tmpdir(), name);
  return path;
}

unsigned char *hmn_test_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(size > 0 ? (size_t)size : 1);
  if (buf != NULL && fread(buf, 1, (size_t)size, f) != (size_t)size) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf != NULL) *len = (size_t)size;
  return buf;
}

int hmn_test_write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) return -1;
  size_t n = fwrite(data, 1, len, f);
  return (fclose(f) == 0 && n == len) ? 0 : -1;
}

void hmn_test_small_config(hmn_config *cfg, int n_in, int n_out) {
  hmn_config_defaults(cfg);
  cfg->n_in = n_in;
  cfg->n_out = n_out;
  cfg->delay_len = 3;
  cfg->inhibitory_fraction = 0.5f;
  cfg->astro_lambda = 0.5f;
}

void hmn_test_run_stream(hmn_layer *layer, uint64_t steps) {
  hmn_task *task = NULL;
  hmn_error err;
  cr_assert_eq(hmn_task_create("stream", hmn_layer_config(layer), &task, &err), 0, "%s",
               err.message);
  for (uint64_t k = 0; k < steps; k++) {
    hmn_step_input in;
    cr_assert_eq(hmn_task_input(task, hmn_layer_step_count(layer), &in, &err), 0, "%s",
                 err.message);
    cr_assert_eq(hmn_layer_step(layer, &in, &err), 0, "%s", err.message);
  }
  hmn_task_destroy(task);
}

char *hmn_test_config_text(const hmn_config *cfg) {
  char *text = NULL;
  hmn_error err;
  if (hmn_config_to_string(cfg, &text, &err) != HMN_OK) {
    cr_assert_null(text, "a refused config leaves no text");
    return NULL;
  }
  cr_assert_not_null(text);
  return text;
}
