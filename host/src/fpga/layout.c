/*
 * layout.c - padded synapse rows of the HLS kernel's device layout
 * (layout.h).
 */
#include "fpga/layout.h"

#include <string.h>

size_t hmn__fpga_row_words(const hmn_config *cfg) {
  return ((size_t)cfg->n_in + HMN_FPGA_LANES - 1) / HMN_FPGA_LANES;
}

static size_t hmn__fpga_elem(int arg) {
  return hmn_array_type((hmn_array)hmn__fpga_arg_array(arg)) == HMN_U8 ? 1 : sizeof(float);
}

size_t hmn__fpga_padded_bytes(const hmn_config *cfg, int arg) {
  if (arg < 0 || arg > 4) return hmn__fpga_arg_bytes(cfg, arg);
  return (size_t)cfg->n_out * hmn__fpga_row_words(cfg) * HMN_FPGA_LANES * hmn__fpga_elem(arg);
}

void hmn__fpga_pad_rows(const hmn_config *cfg, int arg, const void *src, void *dst) {
  size_t elem = hmn__fpga_elem(arg), row = (size_t)cfg->n_in * elem;
  size_t padded = hmn__fpga_row_words(cfg) * HMN_FPGA_LANES * elem;
  const unsigned char *s = src;
  unsigned char *d = dst;
  for (size_t j = 0; j < (size_t)cfg->n_out; j++) {
    memcpy(d + j * padded, s + j * row, row);
    memset(d + j * padded + row, 0, padded - row);
  }
}

void hmn__fpga_unpad_rows(const hmn_config *cfg, int arg, const void *src, void *dst) {
  size_t elem = hmn__fpga_elem(arg), row = (size_t)cfg->n_in * elem;
  size_t padded = hmn__fpga_row_words(cfg) * HMN_FPGA_LANES * elem;
  const unsigned char *s = src;
  unsigned char *d = dst;
  for (size_t j = 0; j < (size_t)cfg->n_out; j++) memcpy(d + j * row, s + j * padded, row);
}
