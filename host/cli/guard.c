/*
 * guard.c - checks and signal handling that keep a long command from
 * losing its work: output paths are checked before the first step (not
 * found unusable after hours of it), and SIGINT/SIGTERM ask the running
 * loop to stop at the next step boundary instead of killing the process,
 * so that it can still write its checkpoint, CSV and summary.
 */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int hmn_cli_check_output(const char *command, const char *option, const char *path) {
  hmn_error err;
  if (hmn_path_check_output(path, &err) == HMN_OK) return HMN_EXIT_OK;
  hmn_cli_error(command, "%s %s", option, err.message);
  return err.status == HMN_EINVAL ? HMN_EXIT_USAGE : HMN_EXIT_RUNTIME;
}

int hmn_cli_check_input(const char *command, const char *option, const char *path) {
  hmn_error err;
  if (hmn_path_check_input(path, &err) == HMN_OK) return HMN_EXIT_OK;
  hmn_cli_error(command, "%s %s", option, err.message);
  return err.status == HMN_EINVAL ? HMN_EXIT_USAGE : HMN_EXIT_RUNTIME;
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
