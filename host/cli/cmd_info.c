/*
 * cmd_info.c - `hmn ckpt info` and `hmn config`: commands that print what
 * a checkpoint or a configuration holds.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char hmn_ckpt_help[] =
    "usage: hmn ckpt info FILE\n"
    "       hmn ckpt export FILE DIR\n"
    "       hmn ckpt plot FILE PNG\n"
    "\n"
    "info validates a checkpoint and prints its header (version, dims, step, seed) and\n"
    "one line per section: name, length in bytes, CRC32.\n"
    "export writes its state arrays as NumPy .npy files into DIR (created if missing):\n"
    "W.npy, psi_f.npy, ... (synapse arrays shaped n_out x n_in), eta.npy, t.npy.\n"
    "plot draws its weights W as a heat map (neurons x inputs) with gnuplot.\n"
    "All exit 1 with a message naming the file and the problem if anything is invalid.\n";

/* `hmn ckpt plot`: the checkpoint's W as a heat map. */
static int hmn_ckpt_plot(const char *path, const char *png) {
  int rc = hmn_cli_plot_check("hmn ckpt plot");
  if (rc != HMN_EXIT_OK) return rc;
  hmn_layer *layer = NULL;
  hmn_error err;
  if (hmn_layer_load(path, "ref", &layer, &err) != HMN_OK) {
    hmn_cli_error("hmn ckpt plot", "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  const hmn_config *cfg = hmn_layer_config(layer);
  size_t n = (size_t)cfg->n_in * (size_t)cfg->n_out;
  float *w = malloc(n * sizeof *w);
  if (w == NULL || hmn_layer_read(layer, HMN_ARRAY_W, w, n * sizeof *w, &err) != HMN_OK) {
    hmn_cli_error("hmn ckpt plot", "%s", w == NULL ? "out of memory" : err.message);
    rc = HMN_EXIT_RUNTIME;
  } else {
    char title[512];
    snprintf(title, sizeof title, "weights of %.400s at step %llu", path,
             (unsigned long long)hmn_layer_step_count(layer));
    rc = hmn_cli_plot_heatmap(png, title, w, cfg->n_out, cfg->n_in);
  }
  free(w);
  hmn_layer_destroy(layer);
  return rc;
}

int hmn_cmd_ckpt(int argc, char **argv) {
  if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
    fputs(hmn_ckpt_help, stdout);
    return HMN_EXIT_OK;
  }
  if (argc == 2 && strcmp(argv[1], "--help") == 0) {
    fputs(hmn_ckpt_help, stdout);
    return HMN_EXIT_OK;
  }
  if (argc == 3 && strcmp(argv[0], "export") == 0) {
    hmn_error err;
    if (hmn_ckpt_export(argv[1], argv[2], &err) != HMN_OK) {
      hmn_cli_error("hmn ckpt export", "%s", err.message);
      return HMN_EXIT_RUNTIME;
    }
    return HMN_EXIT_OK;
  }
  if (argc == 3 && strcmp(argv[0], "plot") == 0) return hmn_ckpt_plot(argv[1], argv[2]);
  if (argc != 2 || strcmp(argv[0], "info") != 0) {
    fputs(hmn_ckpt_help, stderr);
    return HMN_EXIT_USAGE;
  }
  hmn_ckpt_info info;
  hmn_error err;
  if (hmn_ckpt_inspect(argv[1], &info, &err) != HMN_OK) {
    hmn_cli_error("hmn ckpt info", "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  printf("file      %s\n", argv[1]);
  printf("version   %u\n", (unsigned)info.version);
  printf("dims      n_in=%d n_out=%d n_mod=%d d_ctx=%d delay_len=%d\n", info.n_in, info.n_out,
         info.n_mod, info.d_ctx, info.delay_len);
  printf("step      %llu\n", (unsigned long long)info.step);
  printf("seed      %llu\n", (unsigned long long)info.seed);
  printf("sections  %u\n", (unsigned)info.n_sections);
  for (uint32_t s = 0; s < info.n_sections; s++)
    printf("  %-8s %12llu bytes  crc32 %08x\n", info.sections[s].name,
           (unsigned long long)info.sections[s].length, (unsigned)info.sections[s].crc32);
  return HMN_EXIT_OK;
}

static const char hmn_config_help[] =
    "usage: hmn config [--defaults | --keys | --reference | --phase0] [--config FILE]\n"
    "                  [--set KEY=VALUE]...\n"
    "\n"
    "Prints a full configuration as INI, which loads back unchanged.\n"
    "  --defaults        the default configuration\n"
    "  --keys            every key with its section, type, range and meaning\n"
    "  --reference       the same, with the defaults, as Markdown (docs/config.md)\n"
    "  --phase0          the defaults with the Phase-0 preset over them: what\n"
    "                    hmn run and hmn ablate use for the bandit without --config\n"
    "  --config FILE     start from this file instead of the defaults\n"
    "  --set KEY=VALUE   override one key; may be repeated\n";

static void hmn_print_keys(void) {
  printf("%-12s %-20s %-7s %-28s %s\n", "section", "key", "type", "range", "meaning");
  for (size_t k = 0; k < hmn_config_key_count(); k++) {
    const hmn_config_key_info *info = hmn_config_key_at(k);
    printf("%-12s %-20s %-7s %-28s %s\n", info->section, info->key, info->type, info->range,
           info->meaning);
  }
}

/* The default of `key` as the INI writer prints it, from `ini`. */
static void hmn_default_text(const char *ini, const char *key, char *out, size_t size) {
  char probe[96];
  snprintf(probe, sizeof probe, "\n%s = ", key);
  const char *at = strstr(ini, probe);
  if (at == NULL) {
    snprintf(out, size, "?");
    return;
  }
  at += strlen(probe);
  snprintf(out, size, "%.*s", (int)strcspn(at, "\n"), at);
}

/* A Markdown table cell: a | would end the cell. */
static void hmn_md_cell(const char *s) {
  for (; *s != '\0'; s++) {
    if (*s == '|') fputc('\\', stdout);
    fputc(*s, stdout);
  }
}

/* docs/config.md: generated from the key table, so it cannot drift from
 * the library (a test compares the two). */
static int hmn_print_reference(void) {
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  char *ini = NULL;
  hmn_error err;
  if (hmn_config_to_string(&cfg, &ini, &err) != HMN_OK) {
    hmn_cli_error("hmn config", "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  fputs("# Configuration reference\n\n"
        "<!-- Generated by `hmn config --reference`; a test checks that it matches. -->\n\n"
        "A layer's configuration is an INI file of the sections and keys below; every key\n"
        "has a default, and a file names only the keys it changes. `hmn config --defaults`\n"
        "prints them all as a file that loads back unchanged (floats in the shortest text\n"
        "that reads back to the same bits); `hmn config --phase0` prints what `hmn run`\n"
        "uses for the bandit without `--config` (the defaults with the Phase-0 preset).\n"
        "Keys are set on the command line with `--set KEY=VALUE`, from C with\n"
        "`hmn_config_set`, from Python as keyword arguments (`hmn.Layer(tau_fast=20)`).\n\n"
        "| section | key | type | default | range | meaning |\n"
        "| --- | --- | --- | --- | --- | --- |\n",
        stdout);
  for (size_t k = 0; k < hmn_config_key_count(); k++) {
    const hmn_config_key_info *info = hmn_config_key_at(k);
    char def[128];
    hmn_default_text(ini, info->key, def, sizeof def);
    printf("| `[%s]` | `%s` | %s | `%s` | ", info->section, info->key, info->type, def);
    hmn_md_cell(info->range);
    fputs(" | ", stdout);
    hmn_md_cell(info->meaning);
    fputs(" |\n", stdout);
  }
  free(ini);
  return HMN_EXIT_OK;
}

int hmn_cmd_config(int argc, char **argv) {
  hmn_cli_args args;
  hmn_config cfg;
  hmn_error err;
  hmn_cli_args_init(&args, "hmn config", argc, argv);
  hmn_config_defaults(&cfg);
  bool keys = false, defaults = false, changed = false;
  while (hmn_cli_more(&args)) {
    if (hmn_cli_flag(&args, "--help") || hmn_cli_flag(&args, "-h")) {
      fputs(hmn_config_help, stdout);
      return HMN_EXIT_OK;
    } else if (hmn_cli_flag(&args, "--defaults")) {
      defaults = true;
    } else if (hmn_cli_flag(&args, "--keys")) {
      keys = true;
    } else if (hmn_cli_flag(&args, "--reference")) {
      return hmn_print_reference();
    } else if (hmn_cli_flag(&args, "--phase0")) {
      /* Over whatever came before: `--phase0 --set n_out=8` works. */
      if (hmn_cli_apply_preset(&cfg, &err) != HMN_OK) {
        hmn_cli_error(args.command, "%s", err.message);
        return HMN_EXIT_RUNTIME;
      }
    } else if (hmn_cli_option(&args, "--config")) {
      changed = true;
      if (hmn_config_load_file(&cfg, args.value, &err) != HMN_OK) {
        hmn_cli_error(args.command, "%s", err.message);
        return HMN_EXIT_RUNTIME;
      }
    } else if (hmn_cli_option(&args, "--set")) {
      changed = true;
      if (hmn_config_set_pair(&cfg, args.value, &err) != HMN_OK) {
        hmn_cli_error(args.command, "--set %s: %s", args.value, err.message);
        return HMN_EXIT_USAGE;
      }
    } else if (!args.usage_error) {
      hmn_cli_unknown(&args);
    }
  }
  if (args.usage_error) return HMN_EXIT_USAGE;
  if (defaults && changed) {
    hmn_cli_error(args.command, "--defaults cannot be combined with --config or --set");
    return HMN_EXIT_USAGE;
  }
  if (keys) {
    hmn_print_keys();
    return HMN_EXIT_OK;
  }
  if (hmn_config_validate(&cfg, &err) != HMN_OK) {
    hmn_cli_error(args.command, "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  if (hmn_config_write(&cfg, stdout, &err) != HMN_OK) {
    hmn_cli_error(args.command, "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  return HMN_EXIT_OK;
}
