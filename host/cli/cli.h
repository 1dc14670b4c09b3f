/*
 * cli.h - the `hmn` command-line tool's subcommands and presets; the
 * argument helpers they share are args.h.
 */
#ifndef HMN_CLI_H
#define HMN_CLI_H

#include "hmn.h"

#include <stdbool.h>

#include "args.h"

/* The main job's Phase-0 preset (preset.c): INI text applied over the
 * defaults by `hmn run` and `hmn ablate` when no --config is given and
 * the task is the bandit. */
const char *hmn_cli_phase0_preset(void);
/* The paper's full rule as "key=value,..." over the preset. */
const char *hmn_cli_phase0_paper(void);
int hmn_cli_apply_preset(hmn_config *cfg, hmn_error *err);

/* Output and input paths, checked before any work (guard.c): an output
 * must be a regular file or a new name in a writable folder, an input a
 * readable regular file (opened without waiting on a FIFO). They print
 * the error and return an exit code. */
int hmn_cli_check_output(const char *command, const char *option, const char *path);
int hmn_cli_check_input(const char *command, const char *option, const char *path);
/* Prints to stderr why the kernel cache folder is refused, if it is
 * (builds then go without it). */
void hmn_cli_warn_cache(const char *command);
/* SIGINT and SIGTERM set a flag that loops poll between steps; a second
 * one exits at once with 128 + its number. */
void hmn_cli_stop_on_signals(void);
/* The signal that asked to stop, or 0. */
int hmn_cli_stop_signal(void);

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
