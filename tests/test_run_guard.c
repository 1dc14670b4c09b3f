/*
 * test_run_guard.c - `hmn run` and `hmn bench` do not lose work: output
 * paths are refused before the first step, SIGINT and SIGTERM stop a run
 * with its checkpoint, CSV and summary, and a resumed run stays on the
 * backend that wrote its checkpoint. The binary comes from $HMN_BIN,
 * which ctest sets.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "support.h"

TestSuite(run_guard, .timeout = 120);

static const char *hmn_bin(void) {
  const char *bin = getenv("HMN_BIN");
  cr_assert_not_null(bin, "HMN_BIN is not set (run through ctest)");
  return bin;
}

/* Runs `hmn ARGS` with stdout and stderr together into a static buffer;
 * returns the exit code. */
static int run_hmn(const char *args, const char **out) {
  static char buf[65536];
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>&1 < /dev/null", hmn_bin(), args);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  buf[n] = '\0';
  int status = pclose(p);
  if (out != NULL) *out = buf;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

/* A run of many steps whose checkpoint cannot be written fails before its
 * first step: nothing is printed about steps, no CSV is started. */
Test(run_guard, unusable_outputs_fail_before_the_first_step) {
  char args[3000], csv[700], ckpt[700];
  const char *out;
  snprintf(csv, sizeof csv, "%s", hmn_test_path("rows.csv"));
  snprintf(args, sizeof args,
           "run --backend ref --steps 100000000 --checkpoint %s/no-such-dir/x.ckpt --csv %s",
           hmn_test_tmpdir(), csv);
  cr_assert_eq(run_hmn(args, &out), 1, "%s", out);
  cr_assert(strstr(out, "no-such-dir") != NULL && strstr(out, "does not exist") != NULL, "%s",
            out);
  cr_assert_null(strstr(out, "step"), "it ran: %s", out);
  cr_assert_not(exists(csv), "the CSV was started");

  /* A directory as the checkpoint. */
  snprintf(ckpt, sizeof ckpt, "%s", hmn_test_path("a-dir"));
  cr_assert_eq(mkdir(ckpt, 0700), 0);
  snprintf(args, sizeof args, "run --backend ref --steps 100000000 --checkpoint %s --csv %s",
           ckpt, csv);
  cr_assert_eq(run_hmn(args, &out), 1, "%s", out);
  cr_assert(strstr(out, "is a directory") != NULL, "%s", out);
  cr_assert_not(exists(csv), "the CSV was started");

  /* A FIFO as the CSV: refused, not opened (which would wait). */
  char fifo[700];
  snprintf(fifo, sizeof fifo, "%s", hmn_test_path("fifo"));
  cr_assert_eq(mkfifo(fifo, 0600), 0);
  snprintf(args, sizeof args, "run --backend ref --steps 100000000 --csv %s", fifo);
  cr_assert_eq(run_hmn(args, &out), 1, "%s", out);
  cr_assert(strstr(out, "is a FIFO") != NULL, "%s", out);
  /* A CSV in a folder that does not exist. */
  snprintf(args, sizeof args, "run --backend ref --steps 100000000 --csv %s/nope/rows.csv",
           hmn_test_tmpdir());
  cr_assert_eq(run_hmn(args, &out), 1, "%s", out);
  cr_assert(strstr(out, "does not exist") != NULL, "%s", out);
}

/* bench's output files and its peer file are checked before measuring:
 * no result table is printed. */
Test(run_guard, bench_paths_fail_before_measuring) {
  char args[3000];
  const char *out;
  snprintf(args, sizeof args, "bench --backend ref --size 8 --save %s/nope/r.json",
           hmn_test_tmpdir());
  cr_assert_eq(run_hmn(args, &out), 1, "%s", out);
  cr_assert(strstr(out, "--save") != NULL && strstr(out, "does not exist") != NULL, "%s", out);
  cr_assert_null(strstr(out, "SUPS"), "it measured: %s", out);
  snprintf(args, sizeof args, "bench --backend ref --size 8 --plot %s", hmn_test_tmpdir());
  cr_assert_eq(run_hmn(args, &out), 1, "%s", out);
  cr_assert(strstr(out, "is a directory") != NULL, "%s", out);
  cr_assert_null(strstr(out, "SUPS"), "it measured: %s", out);
  char fifo[700];
  snprintf(fifo, sizeof fifo, "%s", hmn_test_path("peer-fifo"));
  cr_assert_eq(mkfifo(fifo, 0600), 0);
  snprintf(args, sizeof args, "bench --backend ref --size 8 --peer %s", fifo);
  cr_assert_eq(run_hmn(args, &out), 1, "%s", out);
  cr_assert(strstr(out, "is a FIFO") != NULL, "%s", out);
  snprintf(args, sizeof args, "bench --backend ref --size 8 --peer %s/nope.json",
           hmn_test_tmpdir());
  cr_assert_eq(run_hmn(args, &out), 1, "%s", out);
  cr_assert(strstr(out, "nope.json") != NULL, "%s", out);
  cr_assert_null(strstr(out, "SUPS"), "it measured: %s", out);
}

/* Data rows of a run CSV (the header is not one). */
static int csv_rows(const char *path) {
  size_t len = 0;
  unsigned char *text = hmn_test_read_file(path, &len);
  if (text == NULL) return 0;
  int rows = -1;
  for (size_t k = 0; k < len; k++) rows += text[k] == '\n';
  free(text);
  return rows < 0 ? 0 : rows;
}

/* Start `hmn run` on a run long enough never to end by itself, wait until
 * it has finished a window (a CSV row), send `sig`, and check what it
 * left: the exit code, the summary, a checkpoint that loads, the rows. */
static void interrupt_run(int sig, int want_exit, const char *name) {
  char ckpt[700], csv[700], log[700];
  snprintf(ckpt, sizeof ckpt, "%s/%s.ckpt", hmn_test_tmpdir(), name);
  snprintf(csv, sizeof csv, "%s/%s.csv", hmn_test_tmpdir(), name);
  snprintf(log, sizeof log, "%s/%s.log", hmn_test_tmpdir(), name);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) _exit(99);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    execl(hmn_bin(), hmn_bin(), "run", "--backend", "ref", "--set", "meta_window=50", "--steps",
          "1000000000", "--checkpoint", ckpt, "--csv", csv, "--quiet", (char *)NULL);
    _exit(98);
  }
  /* Poll for the first row; the test's timeout bounds the wait. */
  struct timespec nap = {0, 20 * 1000 * 1000};
  while (csv_rows(csv) < 1) {
    int status;
    cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "hmn run ended on its own");
    nanosleep(&nap, NULL);
  }
  cr_assert_eq(kill(pid, sig), 0);
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  size_t len = 0;
  char *out = (char *)hmn_test_read_file(log, &len);
  cr_assert_not_null(out);
  out = realloc(out, len + 1);
  out[len] = '\0';
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == want_exit,
            "status 0x%x, want exit %d:\n%s", status, want_exit, out);
  cr_assert(strstr(out, "steps ") != NULL && strstr(out, "checkpoint ") != NULL, "no summary:\n%s",
            out);
  char stopped[64];
  snprintf(stopped, sizeof stopped, "stopped     by %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
  cr_assert(strstr(out, stopped) != NULL, "%s", out);
  free(out);

  /* The checkpoint loads, is where the run stopped, and resumes. */
  hmn_agent *agent = NULL;
  hmn_error err;
  cr_assert_eq(hmn_agent_load(ckpt, "ref", &agent, &err), HMN_OK, "%s", err.message);
  uint64_t t = hmn_layer_step_count(hmn_agent_layer(agent));
  hmn_agent_destroy(agent);
  cr_assert_geq(t, 50, "stopped at t=%llu, before the first row", (unsigned long long)t);
  /* Every finished window is in the CSV, none beyond the checkpoint. */
  cr_assert_eq((uint64_t)csv_rows(csv), t / 50, "%d rows at t=%llu", csv_rows(csv),
               (unsigned long long)t);
  char args[2000];
  const char *resumed;
  snprintf(args, sizeof args, "run --steps 10 --resume %s --quiet", ckpt);
  cr_assert_eq(run_hmn(args, &resumed), 0, "%s", resumed);
}

Test(run_guard, sigint_writes_checkpoint_and_summary) { interrupt_run(SIGINT, 130, "int"); }

Test(run_guard, sigterm_writes_checkpoint_and_summary) { interrupt_run(SIGTERM, 143, "term"); }

/* A second signal does not wait for the step: both arrive while the run
 * is stopped (SIGSTOP), so the second is handled while the first is still
 * pending for the loop; the process exits at once with 128 + the second
 * signal's number, without a summary. */
Test(run_guard, second_signal_exits_at_once) {
  char csv[700], log[700];
  snprintf(csv, sizeof csv, "%s", hmn_test_path("twice.csv"));
  snprintf(log, sizeof log, "%s", hmn_test_path("twice.log"));
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) _exit(99);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    execl(hmn_bin(), hmn_bin(), "run", "--backend", "ref", "--set", "meta_window=50", "--steps",
          "1000000000", "--csv", csv, "--quiet", (char *)NULL);
    _exit(98);
  }
  struct timespec nap = {0, 20 * 1000 * 1000};
  while (csv_rows(csv) < 1) {
    int status;
    cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "hmn run ended on its own");
    nanosleep(&nap, NULL);
  }
  cr_assert_eq(kill(pid, SIGSTOP), 0);
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, WUNTRACED), pid);
  cr_assert(WIFSTOPPED(status));
  cr_assert_eq(kill(pid, SIGINT), 0);
  cr_assert_eq(kill(pid, SIGTERM), 0);
  cr_assert_eq(kill(pid, SIGCONT), 0);
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && (WEXITSTATUS(status) == 130 || WEXITSTATUS(status) == 143),
            "status 0x%x", status);
  size_t len = 0;
  char *out = (char *)hmn_test_read_file(log, &len);
  cr_assert_not_null(out);
  out = realloc(out, len + 1);
  out[len] = '\0';
  cr_assert_null(strstr(out, "stopped"), "it waited for the step:\n%s", out);
  free(out);
}

/* The checkpoint records its backend; a resumed run without --backend
 * goes on there (the default would be opencl where a device exists). */
Test(run_guard, resume_stays_on_the_saved_backend) {
  char ckpt[700], args[2000];
  const char *out;
  snprintf(ckpt, sizeof ckpt, "%s", hmn_test_path("ref.ckpt"));
  snprintf(args, sizeof args, "run --backend ref --steps 120 --checkpoint %s --quiet", ckpt);
  cr_assert_eq(run_hmn(args, &out), 0, "%s", out);
  char saved[32];
  hmn_error err;
  cr_assert_eq(hmn_agent_saved_backend(ckpt, saved, sizeof saved, &err), HMN_OK, "%s",
               err.message);
  cr_assert_str_eq(saved, "ref");
  snprintf(args, sizeof args, "run --steps 30 --resume %s --quiet", ckpt);
  cr_assert_eq(run_hmn(args, &out), 0, "%s", out);
  cr_assert(strstr(out, "backend ref") != NULL, "%s", out);
  /* --backend still chooses. */
  snprintf(args, sizeof args, "run --steps 30 --resume %s --backend nosuch --quiet", ckpt);
  cr_assert_neq(run_hmn(args, &out), 0, "%s", out);
  cr_assert(strstr(out, "nosuch") != NULL, "%s", out);
}

/* A checkpoint written before the backend was recorded (its "meta" section
 * ends after the window sums) still loads; it names no backend. */
Test(run_guard, checkpoint_without_backend_still_loads) {
  hmn_config cfg;
  hmn_config_defaults(&cfg);
  cfg.n_in = 6;
  cfg.n_out = 3;
  cfg.meta_window = 10;
  hmn_agent *agent = NULL;
  hmn_error err;
  cr_assert_eq(hmn_agent_create(&cfg, "ref", &agent, &err), HMN_OK, "%s", err.message);
  hmn_window w;
  cr_assert_eq(hmn_agent_run(agent, 7, &w, &err), HMN_OK, "%s", err.message);
  char path[700], old[700];
  snprintf(path, sizeof path, "%s", hmn_test_path("new.ckpt"));
  snprintf(old, sizeof old, "%s", hmn_test_path("old.ckpt"));
  cr_assert_eq(hmn_agent_save(agent, path, &err), HMN_OK, "%s", err.message);
  hmn_ckpt_info info;
  cr_assert_eq(hmn_ckpt_inspect(path, &info, &err), HMN_OK, "%s", err.message);
  size_t len = 0;
  unsigned char *file = hmn_test_read_file(path, &len);
  cr_assert_not_null(file);
  hmn__ckpt_blob extra[HMN__CKPT_EXTRA_COUNT];
  for (uint32_t k = 0; k < info.n_sections; k++) {
    const hmn_ckpt_section_info *s = &info.sections[k];
    if (strcmp(s->name, "meta") == 0)
      extra[HMN__CKPT_META] = (hmn__ckpt_blob){file + s->offset, (size_t)s->length - 16};
    if (strcmp(s->name, "sources") == 0)
      extra[HMN__CKPT_SOURCES] = (hmn__ckpt_blob){file + s->offset, (size_t)s->length};
  }
  cr_assert_eq(hmn__layer_save_extra(hmn_agent_layer(agent), old, extra, &err), HMN_OK, "%s",
               err.message);
  free(file);
  char saved[32] = "x";
  cr_assert_eq(hmn_agent_saved_backend(old, saved, sizeof saved, &err), HMN_OK, "%s", err.message);
  cr_assert_str_eq(saved, "");
  hmn_agent *back = NULL;
  cr_assert_eq(hmn_agent_load(old, "ref", &back, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_layer_step_count(hmn_agent_layer(back)), 7);
  hmn_agent_destroy(back);
  hmn_agent_destroy(agent);
}
