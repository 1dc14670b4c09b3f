/*
 * io/io.h - the library's file and byte helpers: little-endian encoding,
 * reading a file whole, replacing a file atomically, and the sysfs root.
 * Checkpoints, the closed loop's sections, the bitstream manifest, the
 * kernel cache and the meters all build on these.
 */
#ifndef HMN_IO_H
#define HMN_IO_H

#include "internal.h"

#include <stddef.h>
#include <stdint.h>

/* ---- little-endian codec (le.c) ---- */
void hmn__le_put_u32(unsigned char *p, uint32_t v);
void hmn__le_put_i32(unsigned char *p, int32_t v);
void hmn__le_put_u64(unsigned char *p, uint64_t v);
void hmn__le_put_f32(unsigned char *p, float v);
void hmn__le_put_f64(unsigned char *p, double v);
uint32_t hmn__le_get_u32(const unsigned char *p);
int32_t hmn__le_get_i32(const unsigned char *p);
uint64_t hmn__le_get_u64(const unsigned char *p);
float hmn__le_get_f32(const unsigned char *p);
double hmn__le_get_f64(const unsigned char *p);
/* zlib's CRC-32 of any length. */
uint32_t hmn__crc32(const void *data, size_t len);

/* ---- paths (paths.c) ---- */
/* "a directory", "a FIFO", ... for a st_mode, in messages. */
const char *hmn__file_kind(unsigned mode);

/* ---- files (file.c) ---- */
/* Text of an errno value (thread-safe). */
void hmn__error_text(int errnum, char *buf, size_t size);
/* Read a regular file whole into a fresh buffer with one NUL byte after
 * its `*len` bytes (free with hmn__free). Anything but a regular file
 * (directory, FIFO, device) is refused without blocking, as is a file of
 * more than `max_bytes`. `what` goes before the quoted path in messages
 * ("checkpoint "). */
int hmn__read_file(const char *path, size_t max_bytes, const char *what, unsigned char **data,
                   size_t *len, hmn_error *err);
/* The same for a file the caller has opened (and still owns): the checks
 * and the reading of hmn__read_file, `path` only for messages. */
int hmn__read_fd(int fd, const char *path, size_t max_bytes, const char *what,
                 unsigned char **data, size_t *len, hmn_error *err);
/* Replace `path` with `data` atomically (atomic_write.c). */
int hmn__write_file_atomic(const char *path, const void *data, size_t len, hmn_error *err);
/* Same, `what` naming the file in messages ("checkpoint "). */
int hmn__write_file_atomic_as(const char *path, const void *data, size_t len, const char *what,
                              hmn_error *err);

/* ---- sysfs (sysfs.c) ---- */
/* "/sys", or $HMN_SYSFS_ROOT when set (the tests' fixtures). */
const char *hmn__sysfs_root(void);

#endif /* HMN_IO_H */
