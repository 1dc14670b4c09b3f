/*
 * atomic_write.c - replacing a file so that a reader (or a crash) sees
 * either the old contents or the new, never a mixture: write a temporary
 * file next to the target, sync it, rename it over the target, sync the
 * directory.
 */
#include "io/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_uint hmn__temp_counter;

static int write_all(int fd, const unsigned char *data, size_t len) {
  while (len > 0) {
    size_t part = len > (1u << 30) ? (1u << 30) : len;
    ssize_t n = write(fd, data, part);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) {
      errno = EIO;
      return -1;
    }
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Directory part of `path` ("." when it has none), malloc'd. */
static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) return hmn__strdup(".");
  size_t n = (size_t)(slash - path);
  if (n == 0) n = 1; /* "/name" lives in "/" */
  char *dir = hmn__calloc(n + 1, 1);
  if (dir != NULL) memcpy(dir, path, n);
  return dir;
}

/* `what` is put before the quoted path in messages ("checkpoint "). */
static int write_atomic(const char *path, const void *data, size_t len, const char *what,
                        hmn_error *err) {
  char reason[256];
  if (path == NULL || path[0] == '\0' || (data == NULL && len > 0))
    return hmn__fail(err, HMN_EINVAL, "cannot write %s'%s': no path or no data", what,
                     path != NULL ? path : "(null)");

  size_t tmp_size = strlen(path) + 64;
  char *tmp = hmn__calloc(tmp_size, 1);
  char *dir = dir_of(path);
  if (tmp == NULL || dir == NULL) {
    hmn__free(tmp);
    hmn__free(dir);
    return hmn__fail(err, HMN_ENOMEM, "cannot write %s'%s': out of memory", what, path);
  }

  /* A fresh temporary name next to `path`, created exclusively with the
   * ordinary permissions (0666 less the umask). */
  int fd = -1;
  for (int attempt = 0; attempt < 1000 && fd < 0; attempt++) {
    unsigned n = atomic_fetch_add(&hmn__temp_counter, 1u);
    snprintf(tmp, tmp_size, "%s.tmp.%ld.%u", path, (long)getpid(), n);
    do {
      fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    int e = errno;
    hmn__error_text(e, reason, sizeof reason);
    hmn__free(tmp);
    hmn__free(dir);
    return hmn__fail(err, HMN_EIO, "cannot write %s'%s': cannot create a temporary file there: %s",
                     what, path, reason);
  }

  const char *step = NULL;
  if (write_all(fd, data, len) != 0)
    step = "writing";
  else if (fsync(fd) != 0)
    step = "syncing";
  int e = errno;
  if (close(fd) != 0 && step == NULL) {
    step = "closing";
    e = errno;
  }
  if (step == NULL && rename(tmp, path) != 0) {
    step = "renaming the temporary file onto it";
    e = errno;
  }
  if (step != NULL) {
    unlink(tmp);
    hmn__error_text(e, reason, sizeof reason);
    hmn__free(tmp);
    hmn__free(dir);
    return hmn__fail(err, HMN_EIO, "cannot write %s'%s': %s failed: %s", what, path, step, reason);
  }
  hmn__free(tmp);

  /* Make the rename itself durable. Some file systems cannot sync a
   * directory (EINVAL); that is not an error of ours. */
  int dfd;
  do {
    dfd = open(dir, O_RDONLY | O_DIRECTORY);
  } while (dfd < 0 && errno == EINTR);
  int rc = HMN_OK;
  if (dfd < 0 || (fsync(dfd) != 0 && errno != EINVAL)) {
    e = errno;
    hmn__error_text(e, reason, sizeof reason);
    rc = hmn__fail(err, HMN_EIO, "wrote %s'%s' but cannot sync its directory '%s': %s", what, path,
                   dir, reason);
  }
  if (dfd >= 0) close(dfd);
  hmn__free(dir);
  return rc;
}

int hmn__write_file_atomic_as(const char *path, const void *data, size_t len, const char *what,
                              hmn_error *err) {
  return write_atomic(path, data, len, what != NULL ? what : "", err);
}

int hmn__write_file_atomic(const char *path, const void *data, size_t len, hmn_error *err) {
  return write_atomic(path, data, len, "", err);
}
