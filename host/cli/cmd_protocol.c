/*
 * cmd_protocol.c - `hmn protocol NAME`: one of the classic plasticity
 * experiments (hmn_protocol_run) on a layer; writes its table as CSV, a
 * figure with gnuplot, and prints the fit beside the configured values.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HMN_PROTO_MAX_SETS 64

static void hmn_proto_usage(FILE *out) {
  fprintf(out,
          "usage: hmn protocol NAME [--config FILE] [--set KEY=VALUE]... [--backend NAME]\n"
          "                         [--csv FILE] [--plot FILE.png]\n"
          "  NAME  stdp-window        dw after 60 pairings vs dt in -100..100 ms; fits A+-, tau+-\n"
          "        triplet-frequency  dw after 60 pairings at dt = +-10 ms vs 0.1..50 Hz\n"
          "                           (Pfister & Gerstner 2006 visual-cortex parameters)\n"
          "        bcm                dw vs postsynaptic rate for theta = 0.25, 0.5, 0.75\n"
          "        bcm-theta          theta following the recent rate (z = 0.8, then 0.3)\n"
          "        scaling            neurons above and below the target rate, scaled back\n"
          "  The rule parameters come from the config ([rules] keys); one step is dt ms.\n"
          "  --backend ref (default) or opencl: the backends with the postsynaptic clamp.\n"
          "  --csv defaults to NAME.csv; --plot draws a PNG with gnuplot.\n");
}

static int hmn_proto_plot(const hmn_protocol_result *res, const char *csv, const char *png) {
  FILE *gp = popen("gnuplot", "w");
  if (gp == NULL) {
    hmn_cli_error("hmn protocol", "cannot run gnuplot: %s", strerror(errno));
    return HMN_EXIT_RUNTIME;
  }
  fprintf(gp, "set terminal pngcairo noenhanced size 900,600\nset output '%s'\n", png);
  fprintf(gp, "set datafile separator ','\nset key autotitle columnhead top left box opaque\nset grid\n");
  fprintf(gp, "set title 'hmn protocol %s'\nset xlabel '%s'\n", res->name, res->columns[0]);
  if (strcmp(res->name, "triplet-frequency") == 0) fprintf(gp, "set logscale x\n");
  fprintf(gp, "set xzeroaxis lt -1\n");
  int first = 1, last = res->n_cols;
  fprintf(gp, "plot ");
  for (int c = first; c < last; c++)
    fprintf(gp, "%s'%s' using 1:%d with linespoints pt 7 ps 0.6", c > first ? ", " : "", csv,
            c + 1);
  fprintf(gp, "\n");
  if (pclose(gp) != 0) {
    hmn_cli_error("hmn protocol", "gnuplot failed writing '%s'", png);
    return HMN_EXIT_RUNTIME;
  }
  return HMN_EXIT_OK;
}

int hmn_cmd_protocol(int argc, char **argv) {
  hmn_cli_args args;
  hmn_cli_args_init(&args, "hmn protocol", argc, argv);
  const char *name = NULL, *config_path = NULL, *backend = "ref", *csv = NULL, *png = NULL;
  const char *sets[HMN_PROTO_MAX_SETS];
  int n_sets = 0;
  while (hmn_cli_more(&args)) {
    if (hmn_cli_flag(&args, "--help") || hmn_cli_flag(&args, "-h")) {
      hmn_proto_usage(stdout);
      return HMN_EXIT_OK;
    } else if (hmn_cli_option(&args, "--config")) {
      config_path = args.value;
    } else if (hmn_cli_option(&args, "--set")) {
      if (n_sets == HMN_PROTO_MAX_SETS) {
        hmn_cli_error("hmn protocol", "at most %d --set options", HMN_PROTO_MAX_SETS);
        return HMN_EXIT_USAGE;
      }
      sets[n_sets++] = args.value;
    } else if (hmn_cli_option(&args, "--backend")) {
      backend = args.value;
    } else if (hmn_cli_option(&args, "--csv")) {
      csv = args.value;
    } else if (hmn_cli_option(&args, "--plot")) {
      png = args.value;
    } else if (name == NULL && args.argv[args.index][0] != '-') {
      name = args.argv[args.index++];
    } else {
      hmn_cli_unknown(&args);
    }
    if (args.usage_error) return HMN_EXIT_USAGE;
  }
  if (name == NULL) {
    hmn_proto_usage(stderr);
    return HMN_EXIT_USAGE;
  }
  hmn_config cfg;
  hmn_error err;
  hmn_config_defaults(&cfg);
  if (config_path != NULL && hmn_config_load_file(&cfg, config_path, &err) != HMN_OK) {
    hmn_cli_error("hmn protocol", "%s", err.message);
    return HMN_EXIT_USAGE;
  }
  for (int k = 0; k < n_sets; k++)
    if (hmn_config_set_pair(&cfg, sets[k], &err) != HMN_OK) {
      hmn_cli_error("hmn protocol", "--set %s: %s", sets[k], err.message);
      return HMN_EXIT_USAGE;
    }
  hmn_protocol_result res;
  int rc = hmn_protocol_run(name, &cfg, backend, &res, &err);
  if (rc != HMN_OK) {
    hmn_cli_error("hmn protocol", "%s", err.message);
    return rc == HMN_EINVAL ? HMN_EXIT_USAGE : HMN_EXIT_RUNTIME;
  }
  char csv_default[64];
  if (csv == NULL) {
    snprintf(csv_default, sizeof csv_default, "%s.csv", name);
    csv = csv_default;
  }
  FILE *f = fopen(csv, "w");
  if (f == NULL) {
    hmn_cli_error("hmn protocol", "cannot write '%s': %s", csv, strerror(errno));
    hmn_protocol_result_free(&res);
    return HMN_EXIT_RUNTIME;
  }
  for (int c = 0; c < res.n_cols; c++) fprintf(f, "%s%s", c > 0 ? "," : "", res.columns[c]);
  fprintf(f, "\n");
  for (size_t r = 0; r < res.n_rows; r++) {
    for (int c = 0; c < res.n_cols; c++)
      fprintf(f, "%s%.9g", c > 0 ? "," : "", res.values[r * (size_t)res.n_cols + (size_t)c]);
    fprintf(f, "\n");
  }
  int exit_code = HMN_EXIT_OK;
  if (fclose(f) != 0) {
    hmn_cli_error("hmn protocol", "cannot write '%s': %s", csv, strerror(errno));
    exit_code = HMN_EXIT_RUNTIME;
  }
  if (exit_code == HMN_EXIT_OK) {
    printf("hmn protocol %s (backend %s)\n%sdata: %s\n", name, backend, res.summary, csv);
    if (png != NULL) {
      exit_code = hmn_proto_plot(&res, csv, png);
      if (exit_code == HMN_EXIT_OK) printf("plot: %s\n", png);
    }
  }
  hmn_protocol_result_free(&res);
  return exit_code;
}
