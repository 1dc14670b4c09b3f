/*
 * main.c - `hmn`: dispatch to subcommands.
 */
#include "cli.h"

#include <stdio.h>
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
    "Each command takes --help; hmn --version prints the version.\n"
    "Exit codes: 0 success, 1 runtime error, 2 usage error.\n";

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
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
    printf("hmn %s\n", hmn_version());
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
