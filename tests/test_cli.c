/*
 * test_cli.c - the `hmn` tool as a user drives it: exit codes, the
 * printed config and checkpoint header, and resume through files. The
 * binary comes from $HMN_BIN, which ctest sets.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "support.h"

static const char *hmn_bin(void) {
  const char *bin = getenv("HMN_BIN");
  cr_assert_not_null(bin, "HMN_BIN is not set (run through ctest)");
  return bin;
}

/* Runs `hmn ARGS`, capturing stdout and stderr together; returns the exit
 * code and fills `out` (static buffer). */
static int run_hmn(const char *args, const char **out) {
  static char buf[65536];
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", hmn_bin(), args);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  buf[n] = '\0';
  int status = pclose(p);
  if (out != NULL) *out = buf;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TestSuite(cli);

Test(cli, exit_codes) {
  const char *out;
  cr_assert_eq(run_hmn("--help", &out), 0);
  cr_assert_eq(run_hmn("run --help", &out), 0);
  cr_assert(strstr(out, "--checkpoint-every") != NULL, "%s", out);
  cr_assert_eq(run_hmn("ckpt --help", &out), 0);
  cr_assert_eq(run_hmn("config --help", &out), 0);
  cr_assert_eq(run_hmn("frobnicate", &out), 2);
  cr_assert_eq(run_hmn("run --bogus", &out), 2);
  cr_assert(strstr(out, "--bogus") != NULL, "%s", out);
  cr_assert_eq(run_hmn("run --steps many", &out), 2);
  cr_assert_eq(run_hmn("run --backend ref --set tau_fast=-3", &out), 2);
  cr_assert(strstr(out, "tau_fast must be > 0, got -3") != NULL, "%s", out);
  cr_assert_eq(run_hmn("run --backend ref --set nosuchkey=1", &out), 2);
  cr_assert(strstr(out, "nosuchkey") != NULL, "%s", out);
  /* A missing file is a runtime error, not a usage error. */
  cr_assert_eq(run_hmn("run --backend ref --config /nonexistent/hmn.ini", &out), 1);
  cr_assert(strstr(out, "/nonexistent/hmn.ini") != NULL, "%s", out);
  cr_assert_eq(run_hmn("ckpt info /nonexistent/x.ckpt", &out), 1);
  cr_assert(strstr(out, "/nonexistent/x.ckpt") != NULL, "%s", out);
}

Test(cli, config_defaults_load_back_unchanged) {
  const char *out;
  cr_assert_eq(run_hmn("config --defaults", &out), 0);
  cr_assert(strstr(out, "tau_fast = 5") != NULL, "%s", out);
  char path[1024];
  snprintf(path, sizeof path, "%s", hmn_test_path("defaults.ini"));
  cr_assert_eq(hmn_test_write_file(path, out, strlen(out)), 0);
  hmn_config loaded, defaults;
  hmn_error err;
  hmn_config_defaults(&defaults);
  hmn_config_defaults(&loaded);
  loaded.n_in = 3; /* must be overwritten by the file */
  cr_assert_eq(hmn_config_load_file(&loaded, path, &err), 0, "%s", err.message);
  cr_assert_eq(memcmp(&loaded, &defaults, sizeof loaded), 0);
  /* And `hmn config --config` of it prints the same text again. */
  char args[1200];
  snprintf(args, sizeof args, "config --config '%s'", path);
  char first[65536];
  snprintf(first, sizeof first, "%s", out);
  cr_assert_eq(run_hmn(args, &out), 0);
  cr_assert_str_eq(out, first);
}

Test(cli, same_seed_same_checkpoint_and_resume_matches) {
  char a[1024], b[1024], half[1024], resumed[1024], args[4096];
  snprintf(a, sizeof a, "%s", hmn_test_path("a.ckpt"));
  snprintf(b, sizeof b, "%s", hmn_test_path("b.ckpt"));
  snprintf(half, sizeof half, "%s", hmn_test_path("half.ckpt"));
  snprintf(resumed, sizeof resumed, "%s", hmn_test_path("resumed.ckpt"));
  const char *common = "--backend ref --task stream --quiet --seed 7 --set n_in=9 --set n_out=4";
  snprintf(args, sizeof args, "run %s --steps 60 --checkpoint '%s'", common, a);
  cr_assert_eq(run_hmn(args, NULL), 0);
  snprintf(args, sizeof args, "run %s --steps 60 --checkpoint '%s'", common, b);
  cr_assert_eq(run_hmn(args, NULL), 0);
  size_t la, lb;
  unsigned char *da = hmn_test_read_file(a, &la), *db = hmn_test_read_file(b, &lb);
  cr_assert(da != NULL && db != NULL);
  cr_assert_eq(la, lb);
  cr_assert_eq(memcmp(da, db, la), 0, "two runs with one seed wrote different checkpoints");

  snprintf(args, sizeof args, "run %s --steps 25 --checkpoint '%s'", common, half);
  cr_assert_eq(run_hmn(args, NULL), 0);
  const char *out;
  snprintf(args, sizeof args, "run --backend ref --task stream --quiet --resume '%s' --steps 35 --checkpoint '%s'",
           half, resumed);
  cr_assert_eq(run_hmn(args, &out), 0, "%s", out);
  cr_assert(strstr(out, "t 25 -> 60") != NULL, "%s", out);
  size_t lr;
  unsigned char *dr = hmn_test_read_file(resumed, &lr);
  cr_assert_not_null(dr);
  cr_assert_eq(lr, la);
  cr_assert_eq(memcmp(dr, da, la), 0, "resumed run differs from the uninterrupted one");
  free(da);
  free(db);
  free(dr);

  /* --resume with --set is refused: the run would not be a continuation. */
  snprintf(args, sizeof args, "run --backend ref --resume '%s' --set n_in=3", half);
  cr_assert_eq(run_hmn(args, NULL), 2);
}

Test(cli, ckpt_info_prints_header_and_sections) {
  char path[1024], args[2048];
  snprintf(path, sizeof path, "%s", hmn_test_path("info.ckpt"));
  snprintf(args, sizeof args,
           "run --backend ref --task stream --quiet --steps 12 --seed 99 --set n_in=5 --set n_out=3 "
           "--checkpoint '%s'", path);
  cr_assert_eq(run_hmn(args, NULL), 0);
  const char *out;
  snprintf(args, sizeof args, "ckpt info '%s'", path);
  cr_assert_eq(run_hmn(args, &out), 0, "%s", out);
  cr_assert(strstr(out, "version   1") != NULL, "%s", out);
  cr_assert(strstr(out, "n_in=5 n_out=3") != NULL, "%s", out);
  cr_assert(strstr(out, "step      12") != NULL, "%s", out);
  cr_assert(strstr(out, "seed      99") != NULL, "%s", out);
  /* W is 5*3 floats = 60 bytes. */
  cr_assert(strstr(out, "W                  60 bytes") != NULL, "%s", out);

  /* Flip one byte in the middle of the file: info must fail, naming it. */
  size_t len;
  unsigned char *data = hmn_test_read_file(path, &len);
  cr_assert_not_null(data);
  data[len - 10] ^= 0x40;
  cr_assert_eq(hmn_test_write_file(path, data, len), 0);
  free(data);
  cr_assert_eq(run_hmn(args, &out), 1);
  cr_assert(strstr(out, "info.ckpt") != NULL && strstr(out, "CRC32") != NULL, "%s", out);
}
