/*
 * cmd_bitstreams.c - `hmn bitstreams`: the FPGA bitstreams of a folder,
 * each checked against its file, and `hmn bitstreams add` to record a
 * freshly built .xclbin in the folder's manifest (the hw/ build runs it
 * after v++ packages one).
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char hmn_bitstreams_help[] =
    "usage: hmn bitstreams [--dir DIR]\n"
    "       hmn bitstreams add FILE.xclbin [--dir DIR] [--target T] [--route R]\n"
    "                      [--card VBNV] [--max-in N] [--max-out N] [--max-delay N]\n"
    "                      [--clock-mhz F] [--build TEXT]\n"
    "\n"
    "Lists the bitstreams of DIR's manifest.json (default: $HMN_BITSTREAMS, else the\n"
    "source tree's bitstreams/), checks each against its file (sha256, the xclbin\n"
    "container, platform, UUID, kernel, interface), and names the Alveo cards each\n"
    "fits. Exits 1 when one fails its check.\n"
    "\n"
    "add records FILE.xclbin, which must lie in DIR, in the manifest: platform,\n"
    "UUID and sha256 from the file; the rest as given:\n"
    "  --target T       hw, hw_emu or sw_emu (default: the file's own mode)\n"
    "  --route R        hls (hw/hmn_step_hls.cpp) or cl (kernels/hmn_fpga.cl,\n"
    "                   an older build; hw/ no longer makes it)\n"
    "  --card VBNV      the platform name the card reports (hmn devices), when it\n"
    "                   differs from the one the file was built for\n"
    "  --max-in N, --max-out N, --max-delay N\n"
    "                   the on-chip maxima it was built with (4096, 4096, 16)\n"
    "  --clock-mhz F    the kernel clock it was built for (300)\n"
    "  --build TEXT     how it was built (the v++ commands)\n";

static bool hmn_parse_limit(hmn_cli_args *args, const char *name, int64_t hi, int32_t *out) {
  uint64_t v = 0;
  if (!hmn_cli_u64_in(args, name, 1, (uint64_t)hi, &v)) return false;
  *out = (int32_t)v;
  return true;
}

static int hmn_bitstreams_add(int argc, char **argv) {
  hmn_cli_args args;
  hmn_cli_args_init(&args, "hmn bitstreams add", argc, argv);
  hmn_bitstream_info meta;
  memset(&meta, 0, sizeof meta);
  meta.max_in = 4096;
  meta.max_out = 4096;
  meta.max_delay = 16;
  meta.clock_mhz = 300.0;
  const char *dir = NULL, *file = NULL;
  while (hmn_cli_more(&args)) {
    if (hmn_cli_option(&args, "--dir")) {
      dir = args.value;
    } else if (hmn_cli_option(&args, "--target")) {
      snprintf(meta.target, sizeof meta.target, "%s", args.value);
    } else if (hmn_cli_option(&args, "--route")) {
      if (strcmp(args.value, "hls") != 0 && strcmp(args.value, "cl") != 0) {
        hmn_cli_error(args.command, "--route must be hls or cl, got '%s'", args.value);
        return HMN_EXIT_USAGE;
      }
      snprintf(meta.route, sizeof meta.route, "%s", args.value);
    } else if (hmn_cli_option(&args, "--card")) {
      snprintf(meta.card, sizeof meta.card, "%s", args.value);
    } else if (hmn_cli_option(&args, "--max-in")) {
      hmn_parse_limit(&args, "--max-in", 65536, &meta.max_in);
    } else if (hmn_cli_option(&args, "--max-out")) {
      hmn_parse_limit(&args, "--max-out", 65536, &meta.max_out);
    } else if (hmn_cli_option(&args, "--max-delay")) {
      hmn_parse_limit(&args, "--max-delay", 256, &meta.max_delay);
    } else if (hmn_cli_option(&args, "--clock-mhz")) {
      char *end = NULL;
      errno = 0;
      meta.clock_mhz = strtod(args.value, &end);
      if (errno != 0 || end == args.value || *end != '\0' || !(meta.clock_mhz > 0.0)) {
        hmn_cli_error(args.command, "--clock-mhz must be a positive number, got '%s'",
                      args.value);
        return HMN_EXIT_USAGE;
      }
    } else if (hmn_cli_option(&args, "--build")) {
      snprintf(meta.build, sizeof meta.build, "%s", args.value);
    } else if (!args.usage_error && file == NULL && args.argv[args.index][0] != '-') {
      file = args.argv[args.index++];
    } else if (!args.usage_error) {
      hmn_cli_unknown(&args);
    }
  }
  if (args.usage_error) return HMN_EXIT_USAGE;
  if (file == NULL) {
    hmn_cli_error(args.command, "name the .xclbin to add (see --help)");
    return HMN_EXIT_USAGE;
  }
  hmn_error err;
  if (hmn_bitstream_add(dir, file, &meta, &err) != HMN_OK) {
    hmn_cli_error(args.command, "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  /* Say what was recorded, read back from the manifest: the file of the
   * folder, not the name as it was typed. */
  if (dir == NULL) dir = hmn_bitstreams_dir();
  const char *base = strrchr(file, '/') != NULL ? strrchr(file, '/') + 1 : file;
  size_t n = 0;
  hmn_bitstream_info *entries = NULL;
  int rc = hmn_bitstreams_list(dir, NULL, 0, &n, &err);
  if (rc == HMN_OK && n > 0 && (entries = calloc(n, sizeof *entries)) == NULL) {
    snprintf(err.message, sizeof err.message, "out of memory");
    rc = HMN_ENOMEM;
  }
  if (rc == HMN_OK && n > 0) rc = hmn_bitstreams_list(dir, entries, n, &n, &err);
  if (rc != HMN_OK) {
    hmn_cli_error(args.command, "%s", err.message);
    free(entries);
    return HMN_EXIT_RUNTIME;
  }
  for (size_t k = 0; k < n; k++)
    if (strcmp(entries[k].file, base) == 0)
      printf("recorded %s/%s in %s/manifest.json: platform %s, target %s, uuid %s, sha256 %s\n",
             dir, entries[k].file, dir, entries[k].platform, entries[k].target, entries[k].uuid,
             entries[k].sha256);
  free(entries);
  return HMN_EXIT_OK;
}

int hmn_cmd_bitstreams(int argc, char **argv) {
  if (argc >= 1 && strcmp(argv[0], "add") == 0) {
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
      fputs(hmn_bitstreams_help, stdout);
      return HMN_EXIT_OK;
    }
    return hmn_bitstreams_add(argc - 1, argv + 1);
  }
  hmn_cli_args args;
  hmn_cli_args_init(&args, "hmn bitstreams", argc, argv);
  const char *dir = NULL;
  while (hmn_cli_more(&args)) {
    if (hmn_cli_flag(&args, "--help") || hmn_cli_flag(&args, "-h")) {
      fputs(hmn_bitstreams_help, stdout);
      return HMN_EXIT_OK;
    } else if (hmn_cli_option(&args, "--dir")) {
      dir = args.value;
    } else if (!args.usage_error) {
      hmn_cli_unknown(&args);
    }
  }
  if (args.usage_error) return HMN_EXIT_USAGE;
  if (dir == NULL) dir = hmn_bitstreams_dir();

  hmn_error err;
  size_t n = 0, n_cards = 0;
  hmn_card_info cards[16];
  if (hmn_bitstreams_list(dir, NULL, 0, &n, &err) != HMN_OK ||
      hmn_fpga_cards(cards, sizeof cards / sizeof cards[0], &n_cards, &err) != HMN_OK) {
    hmn_cli_error(args.command, "%s", err.message);
    return HMN_EXIT_RUNTIME;
  }
  if (n_cards > sizeof cards / sizeof cards[0]) n_cards = sizeof cards / sizeof cards[0];
  printf("bitstreams in %s: %zu\n", dir, n);
  if (n == 0) {
    printf("  none: build one with hw/ (hw/README.md) and add it with `hmn bitstreams add`\n");
    return HMN_EXIT_OK;
  }
  hmn_bitstream_info *list = calloc(n, sizeof *list);
  if (list == NULL) {
    hmn_cli_error(args.command, "out of memory");
    return HMN_EXIT_RUNTIME;
  }
  int rc = HMN_EXIT_OK;
  if (hmn_bitstreams_list(dir, list, n, &n, &err) != HMN_OK) {
    hmn_cli_error(args.command, "%s", err.message);
    rc = HMN_EXIT_RUNTIME;
  }
  for (size_t k = 0; k < n && rc == HMN_EXIT_OK; k++) {
    const hmn_bitstream_info *b = &list[k];
    printf("  %s\n", b->file);
    printf("    platform %s%s%s, target %s, route %s, kernel %s (interface %d)\n", b->platform,
           strcmp(b->card, b->platform) != 0 ? ", card reports " : "",
           strcmp(b->card, b->platform) != 0 ? b->card : "", b->target,
           b->route[0] != '\0' ? b->route : "?", b->kernel, b->abi);
    printf("    on chip: n_in <= %d, n_out <= %d, delay_len <= %d; clock %g MHz\n", b->max_in,
           b->max_out, b->max_delay, b->clock_mhz);
    printf("    uuid %s, sha256 %s\n", b->uuid, b->sha256);
    if (b->build[0] != '\0') printf("    built by: %s\n", b->build);
    if (hmn_bitstream_check(dir, b, &err) != HMN_OK) {
      printf("    CHECK FAILED: %s\n", err.message);
      rc = HMN_EXIT_RUNTIME;
      continue;
    }
    printf("    check: ok");
    for (size_t c = 0; c < n_cards; c++)
      if (strcmp(cards[c].platform, b->card) == 0 && strcmp(b->target, "hw") == 0)
        printf("; fits card %d (%s)", cards[c].index, cards[c].pci);
    printf("\n");
  }
  free(list);
  return rc;
}
