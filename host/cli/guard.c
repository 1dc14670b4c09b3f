/*
 * guard.c - checks and signal handling that keep a long command from
 * losing its work: output paths are checked before the first step (not
 * found unusable after hours of it), and SIGINT/SIGTERM ask the running
 * loop to stop at the next step boundary instead of killing the process,
 * so that it can still write its checkpoint, CSV and summary.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *hmn_cli_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

int hmn_cli_check_output(const char *command, const char *option, const char *path) {
  struct stat st;
  if (path == NULL || path[0] == '\0') {
    hmn_cli_error(command, "%s needs a file name", option);
    return HMN_EXIT_USAGE;
  }
  if (stat(path, &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      hmn_cli_error(command, "%s '%s' is %s; it needs a regular file (or a new name)", option,
                    path, hmn_cli_kind(st.st_mode));
      return HMN_EXIT_RUNTIME;
    }
    if (access(path, W_OK) != 0) {
      hmn_cli_error(command, "%s '%s' is not writable: %s", option, path, strerror(errno));
      return HMN_EXIT_RUNTIME;
    }
  } else if (errno != ENOENT) {
    hmn_cli_error(command, "%s '%s': %s", option, path, strerror(errno));
    return HMN_EXIT_RUNTIME;
  }
  /* The folder it goes into: it must exist, and take new files (the
   * checkpoint is written beside its target and renamed over it). */
  char parent[4096];
  const char *slash = strrchr(path, '/');
  if (slash == NULL)
    snprintf(parent, sizeof parent, ".");
  else if (slash == path)
    snprintf(parent, sizeof parent, "/");
  else
    snprintf(parent, sizeof parent, "%.*s", (int)(slash - path), path);
  if (stat(parent, &st) != 0) {
    hmn_cli_error(command, "%s '%s': folder '%s' %s", option, path, parent,
                  errno == ENOENT ? "does not exist" : strerror(errno));
    return HMN_EXIT_RUNTIME;
  }
  if (!S_ISDIR(st.st_mode)) {
    hmn_cli_error(command, "%s '%s': '%s' is not a folder", option, path, parent);
    return HMN_EXIT_RUNTIME;
  }
  if (access(parent, W_OK | X_OK) != 0) {
    hmn_cli_error(command, "%s '%s': folder '%s' is not writable: %s", option, path, parent,
                  strerror(errno));
    return HMN_EXIT_RUNTIME;
  }
  return HMN_EXIT_OK;
}

int hmn_cli_check_input(const char *command, const char *option, const char *path) {
  struct stat st;
  /* Without O_NONBLOCK, opening a FIFO would wait for a writer. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    hmn_cli_error(command, "%s '%s': %s", option, path, strerror(errno));
    return HMN_EXIT_RUNTIME;
  }
  int rc = HMN_EXIT_OK;
  if (fstat(fd, &st) != 0) {
    hmn_cli_error(command, "%s '%s': %s", option, path, strerror(errno));
    rc = HMN_EXIT_RUNTIME;
  } else if (!S_ISREG(st.st_mode)) {
    hmn_cli_error(command, "%s '%s' is %s; it needs a regular file", option, path,
                  hmn_cli_kind(st.st_mode));
    rc = HMN_EXIT_RUNTIME;
  }
  close(fd);
  return rc;
}

void hmn_cli_warn_cache(const char *command) {
  char dir[4096];
  hmn_error err;
  if (hmn_kernel_cache_dir(dir, sizeof dir, &err) != HMN_OK)
    fprintf(stderr, "%s: warning: %s\n", command, err.message);
}

/* ---- signals ---- */

static volatile sig_atomic_t hmn_cli_signal;

static void hmn_cli_on_signal(int sig) {
  /* The second signal: the user does not want to wait for the step. */
  if (hmn_cli_signal != 0) _exit(128 + sig);
  hmn_cli_signal = sig;
}

void hmn_cli_stop_on_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = hmn_cli_on_signal;
  sigemptyset(&sa.sa_mask);
  /* Reads and writes under way (the device's, the checkpoint's) go on. */
  sa.sa_flags = SA_RESTART;
  hmn_cli_signal = 0;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

int hmn_cli_stop_signal(void) { return (int)hmn_cli_signal; }
