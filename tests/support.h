/*
 * support.h - helpers shared by the Criterion tests.
 */
#ifndef HMN_TEST_SUPPORT_H
#define HMN_TEST_SUPPORT_H

#include "hmn.h"

/* A fresh temporary directory for this test process (mkdtemp under
 * $TMPDIR or /tmp); returns a static buffer. */
const char *hmn_test_tmpdir(void);
/* Join the temporary directory and a file name into a static buffer. */
const char *hmn_test_path(const char *name);
/* Read a whole file into a malloc'd buffer; returns NULL on error. */
unsigned char *hmn_test_read_file(const char *path, size_t *len);
/* Write a buffer to a file; returns 0 on success. */
int hmn_test_write_file(const char *path, const void *data, size_t len);
/* A small config with every mechanism on, for n_in x n_out. */
void hmn_test_small_config(hmn_config *cfg, int n_in, int n_out);
/* Step a layer `steps` times on the built-in stream task. */
void hmn_test_run_stream(hmn_layer *layer, uint64_t steps);
/* The config as INI text (hmn_config_to_string), malloc'd; NULL when it
 * is refused. */
char *hmn_test_config_text(const hmn_config *cfg);

#endif
