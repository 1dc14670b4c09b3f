/*
 * args.h - the command line's building blocks, shared by every
 * subcommand: exit codes, a cursor over argv with option matching and
 * number parsing, and error messages. It depends on nothing else of the
 * CLI.
 */
#ifndef HMN_CLI_ARGS_H
#define HMN_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/* Exit codes: 0 success, 1 runtime error, 2 usage error. */
enum { HMN_EXIT_OK = 0, HMN_EXIT_RUNTIME = 1, HMN_EXIT_USAGE = 2 };

/* A cursor over argv for subcommands. Options take "--name value" or
 * "--name=value". */
typedef struct {
  int argc;
  char **argv;
  int index;
  const char *command; /* for messages: "hmn run" */
  const char *value;   /* value of the last matched option */
  bool usage_error;
  /* The names tried against the current argument, for "did you mean". */
  const char *tried[64];
  int n_tried, tried_at;
} hmn_cli_args;

void hmn_cli_args_init(hmn_cli_args *args, const char *command, int argc, char **argv);
/* True while arguments remain. */
bool hmn_cli_more(const hmn_cli_args *args);
/* Matches a flag without a value. */
bool hmn_cli_flag(hmn_cli_args *args, const char *name);
/* Matches an option with a value (stored in args->value). */
bool hmn_cli_option(hmn_cli_args *args, const char *name);
/* Reports the current argument as unknown (with the closest name tried
 * against it, if one is close) and marks a usage error. */
void hmn_cli_unknown(hmn_cli_args *args);
/* Parses args->value as an unsigned integer; on failure reports a usage
 * error naming the option. */
bool hmn_cli_u64(hmn_cli_args *args, const char *name, uint64_t *out);
/* The same, and within [lo, hi]: otherwise "NAME must be in [lo, hi]"
 * and a usage error. */
bool hmn_cli_u64_in(hmn_cli_args *args, const char *name, uint64_t lo, uint64_t hi,
                    uint64_t *out);
/* Prints "<command>: <message>" to stderr. */
void hmn_cli_error(const char *command, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The name of `names` (NULL-terminated) closest to `typed`, or NULL when
 * none is close (suggest.c). */
const char *hmn_cli_suggest(const char *typed, const char *const *names);

#endif
