/*
 * atomic_write.c - replacing a file so that a reader (or a crash) sees
 * either the old contents or the new, never a mixture: write a temporary
 * file next to the target, sync it, rename it over the target, sync the
 * directory.
 *
 * What may be replaced: a regular file, or nothing (a new file). Anything
 * else at the path (a directory, FIFO, device, socket) is refused and
 * left as it was: renaming over /dev/null would replace the system's
 * node. A symbolic link is written through: the file it leads to is
 * replaced (or created), atomically, by a temporary file in that file's
 * directory, and the link stays; a link into a missing folder, or to
 * anything but a regular file, is refused. The check and the rename are
 * two steps: a node created at the path between them is not detected.
 *
 * Temporary files are named TARGET.tmp.PID.N. One that a killed process
 * left behind is removed by the next save of the same target, once its
 * process is gone (kill(PID, 0) fails with ESRCH) and it is a regular
 * file of this user; those of live processes are never touched.
 */
#include "io/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Replace `path`, a regular file or nothing; `what` is put before the
 * quoted path in messages ("checkpoint "). */
static int replace_file(const char *path, const void *data, size_t len, const char *what,
                        hmn_error *err) {
  char reason[256];
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

/* Where the symbolic link `link` leads (malloc'd), relative to the
 * link's own directory; NULL with errno set on failure. */
static char *follow_link(const char *link) {
  char buf[4096];
  ssize_t n = readlink(link, buf, sizeof buf - 1);
  if (n < 0) return NULL;
  if ((size_t)n >= sizeof buf - 1) {
    errno = ENAMETOOLONG;
    return NULL;
  }
  buf[n] = '\0';
  char *dir = buf[0] == '/' ? NULL : dir_of(link);
  if (buf[0] != '/' && dir == NULL) {
    errno = ENOMEM;
    return NULL;
  }
  size_t size = (dir != NULL ? strlen(dir) + 1 : 0) + (size_t)n + 1;
  char *next = hmn__calloc(size, 1);
  if (next != NULL)
    snprintf(next, size, "%s%s%s", dir != NULL ? dir : "", dir != NULL ? "/" : "", buf);
  else
    errno = ENOMEM;
  hmn__free(dir);
  return next;
}

/* The file a save of `path` replaces (free with hmn__free): `path`
 * itself, or the end of the chain of symbolic links at `path`, which
 * may not exist yet (it is created) but must be in a folder that does. */
static int resolve_target(const char *path, const char *what, char **target, hmn_error *err) {
  char reason[256];
  char *cur = hmn__strdup(path);
  *target = NULL;
  if (cur == NULL)
    return hmn__fail(err, HMN_ENOMEM, "cannot write %s'%s': out of memory", what, path);
  for (int hops = 0;; hops++) {
    struct stat sb;
    if (lstat(cur, &sb) != 0) {
      int e = errno;
      if (e == ENOENT && hops > 0) {
        /* A link to a file to be created: its folder must exist. */
        char *dir = dir_of(cur);
        bool ok = dir != NULL && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
        hmn__free(dir);
        if (ok) break;
      }
      if (e == ENOENT && hops == 0) break; /* a new file */
      hmn__error_text(e, reason, sizeof reason);
      int rc = hops > 0 ? hmn__fail(err, HMN_EIO,
                                    "cannot write %s'%s': it is a symbolic link that leads to "
                                    "'%s', which cannot be written (%s); nothing was written",
                                    what, path, cur, reason)
                        : hmn__fail(err, HMN_EIO, "cannot write %s'%s': %s", what, path, reason);
      hmn__free(cur);
      return rc;
    }
    if (S_ISREG(sb.st_mode)) break;
    if (!S_ISLNK(sb.st_mode)) {
      int rc = hmn__fail(err, HMN_EIO,
                         "cannot write %s'%s': %s%s%s is %s, not a regular file; it was left "
                         "unchanged",
                         what, path, hops > 0 ? "it leads to '" : "it", hops > 0 ? cur : "",
                         hops > 0 ? "', which" : "", hmn__file_kind(sb.st_mode));
      hmn__free(cur);
      return rc;
    }
    if (hops >= 40) {
      hmn__free(cur);
      return hmn__fail(err, HMN_EIO, "cannot write %s'%s': too many levels of symbolic links",
                       what, path);
    }
    char *next = follow_link(cur);
    if (next == NULL) {
      hmn__error_text(errno, reason, sizeof reason);
      hmn__free(cur);
      return hmn__fail(err, HMN_EIO, "cannot write %s'%s': reading the link: %s", what, path,
                       reason);
    }
    hmn__free(cur);
    cur = next;
  }
  *target = cur;
  return HMN_OK;
}

/* The pid in a temporary name of `base` ("BASE.tmp.PID.N"), or 0. */
static long temp_owner(const char *name, const char *base) {
  size_t n = strlen(base);
  if (strncmp(name, base, n) != 0 || strncmp(name + n, ".tmp.", 5) != 0) return 0;
  const char *p = name + n + 5;
  char *end = NULL;
  errno = 0;
  long pid = strtol(p, &end, 10);
  if (errno != 0 || end == p || *end != '.' || pid <= 0) return 0;
  const char *q = end + 1;
  if (*q == '\0') return 0;
  for (; *q != '\0'; q++)
    if (*q < '0' || *q > '9') return 0;
  return pid;
}

/* Remove the temporary files of `target` that dead processes left
 * behind. Best effort: a save does not fail because of them. */
static void remove_stale_temps(const char *target) {
  char *dir = dir_of(target);
  if (dir == NULL) return;
  const char *slash = strrchr(target, '/');
  const char *base = slash != NULL ? slash + 1 : target;
  DIR *d = opendir(dir);
  if (d == NULL) {
    hmn__free(dir);
    return;
  }
  int dfd = dirfd(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    long pid = temp_owner(e->d_name, base);
    if (pid == 0 || pid == (long)getpid()) continue;
    struct stat sb;
    if (fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode) ||
        sb.st_uid != geteuid())
      continue;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) unlinkat(dfd, e->d_name, 0);
  }
  closedir(d);
  hmn__free(dir);
}

int hmn__write_file_atomic_as(const char *path, const void *data, size_t len, const char *what,
                              hmn_error *err) {
  if (what == NULL) what = "";
  if (path == NULL || path[0] == '\0' || (data == NULL && len > 0))
    return hmn__fail(err, HMN_EINVAL, "cannot write %s'%s': no path or no data", what,
                     path != NULL ? path : "(null)");
  char *target = NULL;
  int rc = resolve_target(path, what, &target, err);
  if (rc != HMN_OK) return rc;
  remove_stale_temps(target);
  rc = replace_file(target, data, len, what, err);
  hmn__free(target);
  return rc;
}

int hmn__write_file_atomic(const char *path, const void *data, size_t len, hmn_error *err) {
  return hmn__write_file_atomic_as(path, data, len, "", err);
}
