/*
 * fuzz_config.c - libFuzzer target: INI config text through the parser
 * (hmn_config_load_string) and, where it parses, the rules between keys
 * and the writer. Any input must give a clean status, never a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (text == NULL) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  hmn_config cfg;
  hmn_error err;
  hmn_config_defaults(&cfg);
  if (hmn_config_load_string(&cfg, text, "fuzz", &err) == HMN_OK &&
      hmn_config_validate(&cfg, &err) == HMN_OK) {
    /* What validates must write out and load back to the same text. */
    char *once = NULL, *twice = NULL;
    hmn_config back;
    hmn_config_defaults(&back);
    if (hmn_config_to_string(&cfg, &once, &err) != HMN_OK ||
        hmn_config_load_string(&back, once, "fuzz round trip", &err) != HMN_OK ||
        hmn_config_to_string(&back, &twice, &err) != HMN_OK || strcmp(once, twice) != 0)
      abort();
    free(once);
    free(twice);
  }
  free(text);
  return 0;
}
