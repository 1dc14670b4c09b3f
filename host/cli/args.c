/*
 * args.c - the argument helpers of every subcommand (args.h).
 */
#include "args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hmn_cli_args_init(hmn_cli_args *args, const char *command, int argc, char **argv) {
  memset(args, 0, sizeof *args);
  args->argc = argc;
  args->argv = argv;
  args->command = command;
}

bool hmn_cli_more(const hmn_cli_args *args) {
  return !args->usage_error && args->index < args->argc;
}

/* Remember `name` as tried against the current argument. */
static void hmn_cli_tried(hmn_cli_args *args, const char *name) {
  if (args->tried_at != args->index) {
    args->tried_at = args->index;
    args->n_tried = 0;
  }
  if (args->n_tried < (int)(sizeof args->tried / sizeof args->tried[0]) - 1)
    args->tried[args->n_tried++] = name;
  args->tried[args->n_tried] = NULL;
}

bool hmn_cli_flag(hmn_cli_args *args, const char *name) {
  hmn_cli_tried(args, name);
  if (args->index >= args->argc || strcmp(args->argv[args->index], name) != 0) return false;
  args->index++;
  return true;
}

bool hmn_cli_option(hmn_cli_args *args, const char *name) {
  hmn_cli_tried(args, name);
  if (args->index >= args->argc) return false;
  const char *arg = args->argv[args->index];
  size_t n = strlen(name);
  if (strncmp(arg, name, n) != 0) return false;
  if (arg[n] == '=') {
    args->value = arg + n + 1;
    args->index++;
    return true;
  }
  if (arg[n] != '\0') return false;
  if (args->index + 1 >= args->argc) {
    hmn_cli_error(args->command, "option %s needs a value", name);
    args->usage_error = true;
    args->index++;
    return false;
  }
  args->value = args->argv[args->index + 1];
  args->index += 2;
  return true;
}

void hmn_cli_unknown(hmn_cli_args *args) {
  const char *arg = args->argv[args->index];
  char name[128];
  snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg); /* --stpes=5: --stpes */
  const char *near = args->tried_at == args->index && args->n_tried > 0
                         ? hmn_cli_suggest(name, args->tried)
                         : NULL;
  if (near != NULL)
    hmn_cli_error(args->command, "unknown argument '%s'; did you mean '%s'?", arg, near);
  else
    hmn_cli_error(args->command, "unknown argument '%s' (see --help)", arg);
  args->usage_error = true;
  args->index++;
}

bool hmn_cli_u64(hmn_cli_args *args, const char *name, uint64_t *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(args->value, &end, 0);
  if (errno != 0 || end == args->value || *end != '\0' || args->value[0] == '-') {
    hmn_cli_error(args->command, "%s must be a non-negative integer, got '%s'", name, args->value);
    args->usage_error = true;
    return false;
  }
  *out = (uint64_t)v;
  return true;
}

bool hmn_cli_u64_in(hmn_cli_args *args, const char *name, uint64_t lo, uint64_t hi,
                    uint64_t *out) {
  uint64_t v = 0;
  if (!hmn_cli_u64(args, name, &v)) return false;
  if (v < lo || v > hi) {
    hmn_cli_error(args->command, "%s must be in [%llu, %llu]", name, (unsigned long long)lo,
                  (unsigned long long)hi);
    args->usage_error = true;
    return false;
  }
  *out = v;
  return true;
}

void hmn_cli_error(const char *command, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", command);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}
