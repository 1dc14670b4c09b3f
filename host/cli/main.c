/*
 * main.c - `hmn`: dispatch to subcommands, and the argument helpers they
 * share.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char hmn_usage[] =
    "usage: hmn <command> [options]\n"
    "\n"
    "commands:\n"
    "  run       run a layer on a task (default: the switching bandit, eta tuned by SPSA)\n"
    "  ablate    the ablation table: each mechanism off in turn, over several seeds\n"
    "  baselines HMN beside oracle, random and classic bandit algorithms, same draws\n"
    "  ckpt      inspect checkpoints (hmn ckpt info FILE)\n"
    "  config    print configurations (hmn config --defaults)\n"
    "  devices   list the OpenCL devices and Alveo cards (hmn run --device takes an index)\n"
    "  bitstreams  list and check the FPGA bitstreams, or add one (hmn bitstreams add)\n"
    "  bench     synaptic updates per second, roofline and energy (hmn bench --help)\n"
    "  protocol  classic plasticity experiments: STDP window, triplet, BCM, scaling\n"
    "\n"
    "Each command takes --help. Exit codes: 0 success, 1 runtime error, 2 usage error.\n";

void hmn_cli_args_init(hmn_cli_args *args, const char *command, int argc, char **argv) {
  memset(args, 0, sizeof *args);
  args->argc = argc;
  args->argv = argv;
  args->command = command;
}

bool hmn_cli_more(const hmn_cli_args *args) {
  return !args->usage_error && args->index < args->argc;
}

bool hmn_cli_flag(hmn_cli_args *args, const char *name) {
  if (args->index >= args->argc || strcmp(args->argv[args->index], name) != 0) return false;
  args->index++;
  return true;
}

bool hmn_cli_option(hmn_cli_args *args, const char *name) {
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
  hmn_cli_error(args->command, "unknown argument '%s' (see --help)", args->argv[args->index]);
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

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(hmn_usage, stderr);
    return HMN_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    fputs(hmn_usage, stdout);
    return HMN_EXIT_OK;
  }
  if (strcmp(cmd, "run") == 0) return hmn_cmd_run(argc - 2, argv + 2);
  if (strcmp(cmd, "ablate") == 0) return hmn_cmd_ablate(argc - 2, argv + 2);
  if (strcmp(cmd, "baselines") == 0) return hmn_cmd_baselines(argc - 2, argv + 2);
  if (strcmp(cmd, "ckpt") == 0) return hmn_cmd_ckpt(argc - 2, argv + 2);
  if (strcmp(cmd, "config") == 0) return hmn_cmd_config(argc - 2, argv + 2);
  if (strcmp(cmd, "devices") == 0) return hmn_cmd_devices(argc - 2, argv + 2);
  if (strcmp(cmd, "bitstreams") == 0) return hmn_cmd_bitstreams(argc - 2, argv + 2);
  if (strcmp(cmd, "bench") == 0) return hmn_cmd_bench(argc - 2, argv + 2);
  if (strcmp(cmd, "protocol") == 0) return hmn_cmd_protocol(argc - 2, argv + 2);
  fprintf(stderr, "hmn: unknown command '%s'\n\n%s", cmd, hmn_usage);
  return HMN_EXIT_USAGE;
}
