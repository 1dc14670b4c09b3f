/*
 * file.c - reading a file whole: checkpoints, bitstreams and manifests
 * are judged from one complete copy in memory.
 */
#include "io/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void hmn__error_text(int errnum, char *buf, size_t size) {
  if (strerror_r(errnum, buf, size) != 0) snprintf(buf, size, "error %d", errnum);
}

int hmn__read_fd(int fd, const char *path, size_t max_bytes, const char *what,
                 unsigned char **data, size_t *len, hmn_error *err) {
  char reason[256];
  *data = NULL;
  *len = 0;
  if (what == NULL) what = "";
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    hmn__error_text(errno, reason, sizeof reason);
    return hmn__fail(err, HMN_EIO, "cannot read %s'%s': %s", what, path, reason);
  }
  if (!S_ISREG(sb.st_mode))
    return hmn__fail(err, HMN_EIO, "cannot read %s'%s': it is %s", what, path,
                     hmn__file_kind(sb.st_mode));
  if (sb.st_size < 0 || (uintmax_t)sb.st_size > (uintmax_t)max_bytes ||
      (uintmax_t)sb.st_size > (uintmax_t)SIZE_MAX - 1)
    return hmn__fail(err, HMN_EFORMAT, "cannot read %s'%s': %jd bytes is too large (at most %zu)",
                     what, path, (intmax_t)sb.st_size, max_bytes);
  size_t size = (size_t)sb.st_size;
  unsigned char *buf = hmn__calloc(size + 1, 1);
  if (buf == NULL)
    return hmn__fail(err, HMN_ENOMEM, "cannot read %s'%s': out of memory for %zu bytes", what,
                     path, size);
  size_t got = 0;
  while (got < size) {
    size_t part = size - got > (1u << 30) ? (1u << 30) : size - got;
    ssize_t n = read(fd, buf + got, part);
    if (n < 0) {
      if (errno == EINTR) continue;
      hmn__error_text(errno, reason, sizeof reason);
      hmn__free(buf);
      return hmn__fail(err, HMN_EIO, "cannot read %s'%s': %s", what, path, reason);
    }
    if (n == 0) break; /* shrank while reading: the caller judges what is there */
    got += (size_t)n;
  }
  *data = buf;
  *len = got;
  return HMN_OK;
}

int hmn__read_file(const char *path, size_t max_bytes, const char *what, unsigned char **data,
                   size_t *len, hmn_error *err) {
  *data = NULL;
  *len = 0;
  if (what == NULL) what = "";
  /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
  int fd;
  do {
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    char reason[256];
    hmn__error_text(errno, reason, sizeof reason);
    return hmn__fail(err, HMN_EIO, "cannot read %s'%s': %s", what, path, reason);
  }
  int rc = hmn__read_fd(fd, path, max_bytes, what, data, len, err);
  close(fd);
  return rc;
}
