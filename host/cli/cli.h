/*
 * cli.h - shared pieces of the `hmn` command-line tool: exit codes,
 * option parsing, and the subcommands.
 */
#ifndef HMN_CLI_H
#define HMN_CLI_H

#include "hmn.h"

#include <stdbool.h>

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
} hmn_cli_args;

void hmn_cli_args_init(hmn_cli_args *args, const char *command, int argc, char **argv);
/* True while arguments remain. */
bool hmn_cli_more(const hmn_cli_args *args);
/* Matches a flag without a value. */
bool hmn_cli_flag(hmn_cli_args *args, const char *name);
/* Matches an option with a value (stored in args->value). */
bool hmn_cli_option(hmn_cli_args *args, const char *name);
/* Reports the current argument as unknown and marks a usage error. */
void hmn_cli_unknown(hmn_cli_args *args);
/* Parses args->value as an unsigned integer; on failure reports a usage
 * error naming the option. */
bool hmn_cli_u64(hmn_cli_args *args, const char *name, uint64_t *out);
/* The same, and within [lo, hi]: otherwise "NAME must be in [lo, hi]"
 * and a usage error. */
bool hmn_cli_u64_in(hmn_cli_args *args, const char *name, uint64_t lo, uint64_t hi,
                    uint64_t *out);
/* Prints "hmn <cmd>: <message>" to stderr. */
/* The main job's Phase-0 preset (preset.c): INI text applied over the
 * defaults by `hmn run` and `hmn ablate` when no --config is given and
 * the task is the bandit. */
const char *hmn_cli_phase0_preset(void);
/* The paper's full rule as "key=value,..." over the preset. */
const char *hmn_cli_phase0_paper(void);
int hmn_cli_apply_preset(hmn_config *cfg, hmn_error *err);

void hmn_cli_error(const char *command, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

int hmn_cmd_run(int argc, char **argv);
/* `hmn ablate` (cmd_ablate.c): the Phase-3 ablation table on the bandit. */
int hmn_cmd_ablate(int argc, char **argv);
/* `hmn baselines` (cmd_baselines.c): HMN beside the bandit baselines. */
int hmn_cmd_baselines(int argc, char **argv);
int hmn_cmd_ckpt(int argc, char **argv);
int hmn_cmd_config(int argc, char **argv);
int hmn_cmd_devices(int argc, char **argv);
int hmn_cmd_bitstreams(int argc, char **argv);
/* `hmn bench --model CARD` (cmd_model.c): the FPGA throughput model at
 * each size, labelled a model; table or JSON. */
bool hmn_cli_model_card_known(const char *card);
int hmn_cli_bench_model(const char *card, const hmn_config *base, const int *n_in,
                        const int *n_out, int n_sizes, bool json);
int hmn_cmd_bench(int argc, char **argv);
/* `hmn protocol NAME` (cmd_protocol.c): the classic plasticity experiments. */
int hmn_cmd_protocol(int argc, char **argv);

#endif
