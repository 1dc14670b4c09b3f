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
  cr_assert_eq(run_hmn("ablate --help", &out), 0);
  cr_assert(strstr(out, "--seeds") != NULL, "%s", out);
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
  cr_assert(strstr(out, "version   2") != NULL, "%s", out);
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

/* Lines of a file; *text gets it as a malloc'd string. */
static int count_lines(const char *path, char **text) {
  size_t len;
  unsigned char *data = hmn_test_read_file(path, &len);
  cr_assert_not_null(data, "%s not written", path);
  /* hmn_test_read_file gives bytes, not a string. */
  char *copy = malloc(len + 1);
  cr_assert_not_null(copy);
  memcpy(copy, data, len);
  copy[len] = '\0';
  free(data);
  int lines = 0;
  for (size_t k = 0; k < len; k++) lines += copy[k] == '\n';
  *text = copy;
  return lines;
}

Test(cli, run_csv_has_the_header_and_a_row_per_window_and_resumes_identically) {
  char full[1024], part[1024], ckpt[1024], args[4096];
  snprintf(full, sizeof full, "%s", hmn_test_path("full.csv"));
  snprintf(part, sizeof part, "%s", hmn_test_path("part.csv"));
  snprintf(ckpt, sizeof ckpt, "%s", hmn_test_path("run.ckpt"));
  const char *common = "--backend ref --quiet --set n_in=8 --set n_out=4 --set meta_window=50 "
                       "--set action=softmax --set eta_global=0.5 --set meta_c=1";
  const char *out;
  /* No --task: the default is the bandit with SPSA. */
  snprintf(args, sizeof args, "run %s --steps 1000 --csv '%s'", common, full);
  cr_assert_eq(run_hmn(args, &out), 0, "%s", out);
  cr_assert(strstr(out, "task bandit") != NULL && strstr(out, "reward") != NULL &&
                strstr(out, "tuned by the meta-learner") != NULL,
            "%s", out);
  char *text;
  cr_assert_eq(count_lines(full, &text), 1 + 20);
  cr_assert_eq(strncmp(text, "step,reward,regret,eta_local,eta_global,g_mean\n", 47), 0, "%s", text);
  /* Rows at steps 50, 100, ..., 1000; eta moves at some point. */
  char *row = strchr(text, '\n') + 1;
  char first_eta[64] = "";
  bool moved = false;
  for (int k = 1; k <= 20; k++) {
    unsigned long long step;
    double reward, regret, el, eg, g;
    cr_assert_eq(sscanf(row, "%llu,%lf,%lf,%lf,%lf,%lf", &step, &reward, &regret, &el, &eg, &g), 6,
                 "%s", row);
    cr_assert_eq(step, 50ull * (unsigned long long)k);
    cr_assert(reward >= 0.0 && reward <= 1.0 && regret >= 0.0 && regret <= 1.0, "%s", row);
    char eta[64];
    snprintf(eta, sizeof eta, "%g %g", el, eg);
    if (k == 1) snprintf(first_eta, sizeof first_eta, "%s", eta);
    moved |= strcmp(eta, first_eta) != 0;
    row = strchr(row, '\n') + 1;
  }
  cr_assert(moved, "eta never moved:\n%s", text);

  /* Cut mid-window, with a checkpoint every 4 windows, then resume:
   * the same CSV, byte for byte. */
  snprintf(args, sizeof args, "run %s --steps 430 --csv '%s' --checkpoint '%s' --checkpoint-every 4",
           common, part, ckpt);
  cr_assert_eq(run_hmn(args, &out), 0, "%s", out);
  char *ptext;
  cr_assert_eq(count_lines(part, &ptext), 1 + 8);
  free(ptext);
  snprintf(args, sizeof args, "run --backend ref --quiet --resume '%s' --steps 570 --csv '%s'", ckpt,
           part);
  cr_assert_eq(run_hmn(args, &out), 0, "%s", out);
  cr_assert(strstr(out, "t 430 -> 1000") != NULL, "%s", out);
  cr_assert_eq(count_lines(part, &ptext), 1 + 20);
  cr_assert_str_eq(ptext, text);
  free(ptext);
  free(text);

  /* --resume with another task is refused. */
  snprintf(args, sizeof args, "run --backend ref --quiet --resume '%s' --task stream --steps 1", ckpt);
  cr_assert_eq(run_hmn(args, &out), 2, "%s", out);
  cr_assert(strstr(out, "bandit") != NULL, "%s", out);
}

Test(cli, run_stream_has_no_reward_and_keeps_eta) {
  char csv[1024], args[2048];
  snprintf(csv, sizeof csv, "%s", hmn_test_path("stream.csv"));
  const char *out;
  snprintf(args, sizeof args,
           "run --backend ref --quiet --task stream --steps 400 --set n_in=6 --set n_out=3 "
           "--set meta_window=100 --csv '%s'", csv);
  cr_assert_eq(run_hmn(args, &out), 0, "%s", out);
  cr_assert(strstr(out, "task stream") != NULL && strstr(out, "(fixed)") != NULL, "%s", out);
  cr_assert(strstr(out, "reward") == NULL, "%s", out);
  char *text;
  cr_assert_eq(count_lines(csv, &text), 1 + 4);
  cr_assert(strstr(text, "400,nan,nan,0.00100000005,0.00999999978,") != NULL, "%s", text);
  free(text);
}

/* Reads "  NAME  VALUE" from hmn run's summary. */
static double summary_value(const char *out, const char *name) {
  const char *line = strstr(out, name);
  cr_assert_not_null(line, "no '%s' in:\n%s", name, out);
  return strtod(line + strlen(name), NULL);
}

/* The main job: `hmn run` on its defaults (the switching bandit with
 * SPSA on the Phase-0 preset) earns clearly more than a random policy
 * over three seeds, and SPSA moves eta_global away from its start. */
Test(cli, main_job_learns_the_switching_bandit_and_eta_adapts, .timeout = 300) {
  double hmn_r = 0.0, hmn_g = 0.0, rnd_r = 0.0, rnd_g = 0.0;
  for (int seed = 1; seed <= 3; seed++) {
    char args[512];
    const char *out;
    snprintf(args, sizeof args, "run --backend ref --quiet --steps 20000 --seed %d", seed);
    cr_assert_eq(run_hmn(args, &out), 0, "%s", out);
    hmn_r += summary_value(out, "  reward") / 3.0;
    hmn_g += summary_value(out, "  regret") / 3.0;
    /* The preset's SPSA starts at 128 and brings eta_global to within
     * a factor 2 of the grid optimum 32 (docs/phase0.md; seeds 1..3 end
     * at 32.3, 25.8, 24.2). */
    double eta_global = summary_value(out, ", global ");
    cr_assert(eta_global > 16.0 && eta_global < 64.0, "seed %d: eta_global %g from 128", seed,
              eta_global);
    snprintf(args, sizeof args,
             "run --backend ref --quiet --steps 20000 --seed %d --set rule=hebbian "
             "--set action=random --set estimator=off",
             seed);
    cr_assert_eq(run_hmn(args, &out), 0, "%s", out);
    rnd_r += summary_value(out, "  reward") / 3.0;
    rnd_g += summary_value(out, "  regret") / 3.0;
  }
  cr_log_info("main job: HMN+SPSA reward %.4f regret %.4f; random %.4f %.4f", hmn_r, hmn_g, rnd_r,
              rnd_g);
  cr_assert_gt(hmn_r - rnd_r, 0.04, "HMN+SPSA reward %.4f, random %.4f", hmn_r, rnd_r);
  cr_assert_lt(hmn_g, 0.85 * rnd_g, "HMN+SPSA regret %.4f, random %.4f", hmn_g, rnd_g);
}

/* Without --config the bandit gets the preset; --task stream does not. */
Test(cli, phase0_preset_applies_to_the_bandit_only) {
  const char *out;
  cr_assert_eq(run_hmn("config --phase0", &out), 0, "%s", out);
  cr_assert(strstr(out, "eta_global = 128") != NULL && strstr(out, "context_steps = 4") != NULL &&
                strstr(out, "rule = policy") != NULL,
            "%s", out);
  cr_assert_eq(run_hmn("run --backend ref --quiet --steps 10", &out), 0, "%s", out);
  cr_assert(strstr(out, "64 inputs x 4 neurons") != NULL, "%s", out);
  cr_assert_eq(run_hmn("run --backend ref --quiet --steps 10 --task stream", &out), 0, "%s", out);
  cr_assert(strstr(out, "64 inputs x 16 neurons") != NULL, "%s", out);
}

Test(cli, ablate_prints_a_table_and_csv) {
  char csv[1024], csv2[1024], args[2048];
  snprintf(csv, sizeof csv, "%s", hmn_test_path("ablate.csv"));
  snprintf(csv2, sizeof csv2, "%s", hmn_test_path("ablate2.csv"));
  const char *small = "--seeds 2 --steps 300 --quiet --set n_in=8 --set n_out=4 --set meta_window=100";
  const char *out;
  snprintf(args, sizeof args, "ablate %s --csv '%s'", small, csv);
  cr_assert_eq(run_hmn(args, &out), 0, "%s", out);
  static const char *const rows[] = {"full rule (paper)", "no local attention", "no phase gate",
                                     "no dopamine (RPE)", "all off (Phase-0 preset)", "fixed eta",
                                     "credit late (old timing)", "random policy"};
  for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++)
    cr_assert(strstr(out, rows[k]) != NULL, "no row '%s' in:\n%s", rows[k], out);
  cr_assert(strstr(out, "+-") != NULL && strstr(out, "backend ref") != NULL, "%s", out);
  cr_assert(strstr(out, "p (Holm)") != NULL && strstr(out, "95% CI") != NULL, "%s", out);
  /* Two seeds cannot show a difference after correcting for 17 tests. */
  cr_assert(strstr(out, "no significant difference") != NULL, "%s", out);
  char *text;
  cr_assert_eq(count_lines(csv, &text), 1 + 18 * 2);
  cr_assert_eq(strncmp(text, "variant,settings,seed,steps,reward,eta_global\n", 46), 0, "%s", text);
  const char *rnd = strstr(text, "random policy,rule=hebbian;action=random;estimator=off,2,300,");
  cr_assert_not_null(rnd, "%s", text);
  double reward, eta;
  cr_assert_eq(sscanf(rnd + strlen("random policy,rule=hebbian;action=random;estimator=off,2,300,"),
                      "%lf,%lf", &reward, &eta), 2);
  cr_assert(reward > 0.2 && reward < 0.8 && eta > 0.0, "%s", rnd);
  /* Deterministic from the seeds. */
  snprintf(args, sizeof args, "ablate %s --csv '%s'", small, csv2);
  cr_assert_eq(run_hmn(args, &out), 0, "%s", out);
  char *text2;
  count_lines(csv2, &text2);
  cr_assert_str_eq(text2, text);
  free(text);
  free(text2);
  /* --json: the same table as one object, the full rule first, 18 rows. */
  snprintf(args, sizeof args, "ablate %s --json", small);
  cr_assert_eq(run_hmn(args, &out), 0, "%s", out);
  cr_assert(out[0] == '{' && strstr(out, "\"variants\": [") != NULL, "%s", out);
  cr_assert(strstr(out, "\"variant\": \"full rule (paper)\"") <
                strstr(out, "\"variant\": \"random policy\""),
            "%s", out);
  cr_assert(strstr(out, "\"p_holm\": ") != NULL && strstr(out, "\"seeds\": 2") != NULL, "%s", out);
  cr_assert(strstr(out, "mean +- sd") == NULL, "text table printed with --json:\n%s", out);
  /* A task without a reward has nothing to compare. */
  cr_assert_eq(run_hmn("ablate --seeds 1 --steps 10 --set task=stream", &out), 2, "%s", out);
  cr_assert_eq(run_hmn("ablate --seeds 0", &out), 2, "%s", out);
}
