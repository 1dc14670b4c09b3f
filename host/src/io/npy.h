/*
 * npy.h - NumPy .npy files (npy.c): whole arrays written atomically, and
 * files that grow by one record at a time for the recorder (record.c).
 */
#ifndef HMN_NPY_H
#define HMN_NPY_H

#include "internal.h"

#include <stdio.h>

#define HMN__NPY_MAX_DIMS 4

/* Element types, as NumPy's dtype codes without the byte order. */
typedef enum { HMN__NPY_F4, HMN__NPY_F8, HMN__NPY_U1, HMN__NPY_U8 } hmn__npy_type;

size_t hmn__npy_elem_size(hmn__npy_type type);
/* Shape of a layer's state array as hmn writes it: (n_out, n_in) for the
 * synapse arrays, (delay_len, n_in) for x_hist, (n_mod, d_ctx) for kappa,
 * one axis for the others. Returns the number of axes. */
int hmn__npy_array_shape(const hmn_config *cfg, hmn_array which, size_t shape[2]);

/* DIR/NAME.npy into `buf` (of `size`); 0, or -1 when it does not fit. */
int hmn__npy_path(char *buf, size_t size, const char *dir, const char *name);
/* Create folder `dir` unless it exists (its parent must). */
int hmn__npy_make_dir(const char *dir, hmn_error *err);

/* A file of records: shape (count, record shape...), the count rewritten
 * in the header after every record, so the file is whole after any one. */
typedef struct {
  FILE *f;
  char *path;
  hmn__npy_type type;
  int ndim;                         /* axes of one record */
  size_t shape[HMN__NPY_MAX_DIMS];  /* shape of one record */
  size_t record_bytes;
  uint64_t count;
} hmn__npy_stream;

int hmn__npy_stream_open(hmn__npy_stream *s, const char *path, hmn__npy_type type, int ndim,
                         const size_t *shape, hmn_error *err);
int hmn__npy_stream_append(hmn__npy_stream *s, const void *record, hmn_error *err);
/* Closes the file (and frees the path) whatever happens; reports a
 * failed final write. */
int hmn__npy_stream_close(hmn__npy_stream *s, hmn_error *err);

#endif /* HMN_NPY_H */
