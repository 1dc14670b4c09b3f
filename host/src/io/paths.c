/*
 * paths.c - what kind of file a path names, and whether a path can take
 * an output or give an input. Commands check their paths with these
 * before the first step, so that hours of work are not lost to a name
 * that was never usable; the savers check again when they write.
 */
#include "io/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *hmn__file_kind(unsigned mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

int hmn_path_check_output(const char *path, hmn_error *err) {
  char reason[256];
  struct stat st;
  hmn__clear(err);
  if (path == NULL || path[0] == '\0') return hmn__fail(err, HMN_EINVAL, "no file name given");
  if (stat(path, &st) == 0) {
    if (!S_ISREG(st.st_mode))
      return hmn__fail(err, HMN_EIO, "'%s' is %s; it needs a regular file (or a new name)", path,
                       hmn__file_kind(st.st_mode));
    if (access(path, W_OK) != 0) {
      hmn__error_text(errno, reason, sizeof reason);
      return hmn__fail(err, HMN_EIO, "'%s' is not writable: %s", path, reason);
    }
  } else if (errno != ENOENT) {
    hmn__error_text(errno, reason, sizeof reason);
    return hmn__fail(err, HMN_EIO, "'%s': %s", path, reason);
  }
  /* The folder it goes into must exist and take new files: savers write
   * a temporary file beside the target and rename it over. */
  char parent[4096];
  const char *slash = strrchr(path, '/');
  if (slash == NULL)
    snprintf(parent, sizeof parent, ".");
  else if (slash == path)
    snprintf(parent, sizeof parent, "/");
  else if ((size_t)(slash - path) < sizeof parent)
    snprintf(parent, sizeof parent, "%.*s", (int)(slash - path), path);
  else
    return hmn__fail(err, HMN_EINVAL, "'%s': the folder name is too long", path);
  if (stat(parent, &st) != 0) {
    hmn__error_text(errno, reason, sizeof reason);
    return hmn__fail(err, HMN_EIO, "'%s': folder '%s' %s", path, parent,
                     errno == ENOENT ? "does not exist" : reason);
  }
  if (!S_ISDIR(st.st_mode))
    return hmn__fail(err, HMN_EIO, "'%s': '%s' is not a folder", path, parent);
  if (access(parent, W_OK | X_OK) != 0) {
    hmn__error_text(errno, reason, sizeof reason);
    return hmn__fail(err, HMN_EIO, "'%s': folder '%s' is not writable: %s", path, parent, reason);
  }
  return HMN_OK;
}

int hmn_path_check_input(const char *path, hmn_error *err) {
  char reason[256];
  struct stat st;
  hmn__clear(err);
  if (path == NULL || path[0] == '\0') return hmn__fail(err, HMN_EINVAL, "no file name given");
  /* Without O_NONBLOCK, opening a FIFO would wait for a writer. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    hmn__error_text(errno, reason, sizeof reason);
    return hmn__fail(err, HMN_EIO, "'%s': %s", path, reason);
  }
  int rc = HMN_OK;
  if (fstat(fd, &st) != 0) {
    hmn__error_text(errno, reason, sizeof reason);
    rc = hmn__fail(err, HMN_EIO, "'%s': %s", path, reason);
  } else if (!S_ISREG(st.st_mode)) {
    rc = hmn__fail(err, HMN_EIO, "'%s' is %s; it needs a regular file", path,
                   hmn__file_kind(st.st_mode));
  }
  close(fd);
  return rc;
}
