/* consumer.c - a program that uses an installed libhmn through hmn.h
 * only: it steps a small layer on the reference backend and prints the
 * step count and a weight, so that the install test sees it ran. */
#include <hmn.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  hmn_error err = {0};
  if (hmn_config_set(&cfg, "n_in", "8", &err) != 0 || hmn_config_set(&cfg, "n_out", "4", &err) != 0) {
    fprintf(stderr, "consumer: %s\n", err.message);
    return 1;
  }
  hmn_layer *layer = NULL;
  if (hmn_layer_create(&cfg, "ref", &layer, &err) != 0) {
    fprintf(stderr, "consumer: %s\n", err.message);
    return 1;
  }
  float x[8], mod[16] = {0}, ctx[64] = {0};
  for (int i = 0; i < 8; i++) x[i] = 0.125f * (float)i;
  hmn_step_input in = {x, mod, ctx, NULL};
  int rc = 0;
  for (int t = 0; t < 5 && rc == 0; t++) rc = hmn_layer_step(layer, &in, &err);
  float w[32];
  if (rc == 0) rc = hmn_layer_read(layer, HMN_ARRAY_W, w, sizeof w, &err);
  if (rc != 0) {
    fprintf(stderr, "consumer: %s\n", err.message);
    hmn_layer_destroy(layer);
    return 1;
  }
  printf("steps %llu w0 %.9g\n", (unsigned long long)hmn_layer_step_count(layer), (double)w[0]);
  hmn_layer_destroy(layer);
  return 0;
}
