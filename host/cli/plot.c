/*
 * plot.c - figures drawn with gnuplot (pngcairo): `hmn run --plot` (per
 * window: reward with the random and oracle references and the learning
 * rates for a rewarding task; G and weight statistics for stream) and
 * `hmn ckpt plot` (a weight heat map).
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* gnuplot on the PATH, or false. */
static bool hmn_plot_have_gnuplot(void) {
  const char *path = getenv("PATH");
  if (path == NULL) return false;
  char file[4096];
  while (*path != '\0') {
    size_t n = strcspn(path, ":");
    if (n > 0 && n + 9 < sizeof file) {
      snprintf(file, sizeof file, "%.*s/gnuplot", (int)n, path);
      if (access(file, X_OK) == 0) return true;
    }
    path += n;
    if (*path == ':') path++;
  }
  return false;
}

int hmn_cli_plot_check(const char *command) {
  if (hmn_plot_have_gnuplot()) return HMN_EXIT_OK;
  hmn_cli_error(command, "--plot needs gnuplot, which is not on the PATH: install the Debian "
                         "package 'gnuplot-nox'");
  return HMN_EXIT_RUNTIME;
}

/* A gnuplot single-quoted string: a quote is written twice. */
static void hmn_plot_string(FILE *gp, const char *s) {
  fputc('\'', gp);
  for (; *s != '\0'; s++) {
    if (*s == '\'') fputc('\'', gp);
    if (*s != '\n') fputc(*s, gp);
  }
  fputc('\'', gp);
}

static FILE *hmn_plot_open(const char *command, const char *png, int width, int height) {
  FILE *gp = popen("gnuplot", "w");
  if (gp == NULL) {
    hmn_cli_error(command, "cannot start gnuplot: %s", strerror(errno));
    return NULL;
  }
  fprintf(gp, "set terminal pngcairo size %d,%d font ',10'\nset output ", width, height);
  hmn_plot_string(gp, png);
  fputc('\n', gp);
  return gp;
}

static int hmn_plot_close(const char *command, FILE *gp, const char *png) {
  int status = pclose(gp);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    hmn_cli_error(command, "gnuplot failed to draw '%s' (see its message above)", png);
    return HMN_EXIT_RUNTIME;
  }
  return HMN_EXIT_OK;
}

/* ---- hmn run --plot ---- */

void hmn_cli_plot_init(hmn_cli_plot_data *d) { memset(d, 0, sizeof *d); }

void hmn_cli_plot_free(hmn_cli_plot_data *d) {
  free(d->rows);
  hmn_task_destroy(d->task);
  memset(d, 0, sizeof *d);
}

/* The references of a rewarding task over steps [t0, t1): the expected
 * reward of an agent that picks arms uniformly at random (the mean of
 * the arms' probabilities), and of the oracle (the best arm's). The task
 * answers for any step and output (hmn_task_feedback is a pure function
 * of seed, t and z), so a one-hot output asks for one arm. */
static int hmn_plot_references(hmn_cli_plot_data *d, hmn_agent *agent, uint64_t t0, uint64_t t1,
                               double *random_ref, double *oracle_ref) {
  hmn_layer *layer = hmn_agent_layer(agent);
  const hmn_config *cfg = hmn_layer_config(layer);
  hmn_error err;
  if (d->task == NULL) {
    hmn_config greedy = *cfg;
    /* The one-hot output picks its arm; the layer's rule plays no part in
     * the task's answer, but the config must stay valid with argmax. */
    greedy.action = HMN_ACTION_ARGMAX;
    greedy.rule = HMN_RULE_HEBBIAN;
    if (hmn_task_create(hmn_task_names()[cfg->task], &greedy, &d->task, &err) != HMN_OK) {
      hmn_cli_error("hmn run", "--plot: %s", err.message);
      return HMN_EXIT_RUNTIME;
    }
  }
  int arms = cfg->n_out;
  float *z = calloc((size_t)arms, sizeof *z);
  if (z == NULL) {
    hmn_cli_error("hmn run", "--plot: out of memory");
    return HMN_EXIT_RUNTIME;
  }
  double sum_random = 0.0, sum_oracle = 0.0;
  int rc = HMN_EXIT_OK;
  for (uint64_t t = t0; t < t1 && rc == HMN_EXIT_OK; t++) {
    double mean = 0.0;
    hmn_feedback fb;
    for (int k = 0; k < arms; k++) {
      memset(z, 0, (size_t)arms * sizeof *z);
      z[k] = 1.0f;
      if (hmn_task_feedback(d->task, t, z, &fb, &err) != HMN_OK) {
        hmn_cli_error("hmn run", "--plot: %s", err.message);
        rc = HMN_EXIT_RUNTIME;
        break;
      }
      mean += fb.expected;
    }
    sum_random += mean / arms;
    sum_oracle += fb.best;
  }
  free(z);
  double n = t1 > t0 ? (double)(t1 - t0) : NAN;
  *random_ref = sum_random / n;
  *oracle_ref = sum_oracle / n;
  return rc;
}

int hmn_cli_plot_add(hmn_cli_plot_data *d, hmn_agent *agent, const hmn_window *w) {
  if (d->n == d->cap) {
    size_t cap = d->cap > 0 ? 2 * d->cap : 64;
    hmn_cli_plot_row *bigger = realloc(d->rows, cap * sizeof *bigger);
    if (bigger == NULL) {
      hmn_cli_error("hmn run", "--plot: out of memory");
      return HMN_EXIT_RUNTIME;
    }
    d->rows = bigger;
    d->cap = cap;
  }
  hmn_cli_plot_row *r = &d->rows[d->n];
  memset(r, 0, sizeof *r);
  r->t = w->t;
  r->reward = w->reward;
  r->g_mean = w->g_mean;
  r->eta_local = w->eta_local;
  r->eta_global = w->eta_global;
  r->random_ref = r->oracle_ref = NAN;
  hmn_layer *layer = hmn_agent_layer(agent);
  if (hmn_task_has_feedback(hmn_agent_task(agent)) &&
      hmn_plot_references(d, agent, w->t - w->steps, w->t, &r->random_ref, &r->oracle_ref) !=
          HMN_EXIT_OK)
    return HMN_EXIT_RUNTIME;
  /* Weight statistics at the end of the window. */
  const hmn_config *cfg = hmn_layer_config(layer);
  size_t n = (size_t)cfg->n_in * (size_t)cfg->n_out;
  float *wts = malloc(n * sizeof *wts);
  hmn_error err;
  if (wts == NULL || hmn_layer_read(layer, HMN_ARRAY_W, wts, n * sizeof *wts, &err) != HMN_OK) {
    hmn_cli_error("hmn run", "--plot: %s", wts == NULL ? "out of memory" : err.message);
    free(wts);
    return HMN_EXIT_RUNTIME;
  }
  double sum = 0.0, sq = 0.0;
  r->w_min = INFINITY;
  r->w_max = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    sum += wts[i];
    sq += (double)wts[i] * wts[i];
    if (wts[i] < r->w_min) r->w_min = wts[i];
    if (wts[i] > r->w_max) r->w_max = wts[i];
  }
  free(wts);
  r->w_mean = sum / (double)n;
  double var = sq / (double)n - r->w_mean * r->w_mean;
  r->w_sd = var > 0.0 ? sqrt(var) : 0.0;
  d->n++;
  return HMN_EXIT_OK;
}

static void hmn_plot_value(FILE *gp, double v) {
  if (isfinite(v))
    fprintf(gp, " %.9g", v);
  else
    fputs(" NaN", gp);
}

int hmn_cli_plot_run(const char *png, const char *task, const hmn_cli_plot_data *d) {
  if (d->n == 0) {
    hmn_cli_error("hmn run", "--plot: no window was completed (meta_window steps each); run "
                             "more --steps");
    return HMN_EXIT_RUNTIME;
  }
  FILE *gp = hmn_plot_open("hmn run", png, 960, 720);
  if (gp == NULL) return HMN_EXIT_RUNTIME;
  bool rewarded = isfinite(d->rows[0].reward);
  fputs("$d << EOD\n", gp);
  for (size_t i = 0; i < d->n; i++) {
    const hmn_cli_plot_row *r = &d->rows[i];
    fprintf(gp, "%llu", (unsigned long long)r->t);
    hmn_plot_value(gp, r->reward);
    hmn_plot_value(gp, r->random_ref);
    hmn_plot_value(gp, r->oracle_ref);
    hmn_plot_value(gp, r->eta_local);
    hmn_plot_value(gp, r->eta_global);
    hmn_plot_value(gp, r->g_mean);
    hmn_plot_value(gp, r->w_mean);
    hmn_plot_value(gp, r->w_sd);
    hmn_plot_value(gp, r->w_min);
    hmn_plot_value(gp, r->w_max);
    fputc('\n', gp);
  }
  fputs("EOD\nset multiplot layout 2,1\nset grid\nset key outside right\n"
        "set xlabel 'step'\n",
        gp);
  if (rewarded) {
    fputs("set title ", gp);
    char title[256];
    snprintf(title, sizeof title, "hmn run, task %s: mean reward per window", task);
    hmn_plot_string(gp, title);
    fputs(" noenhanced\nset ylabel 'reward per step'\nset yrange [0:1]\n"
          "plot $d using 1:2 with linespoints lw 2 pt 7 ps 0.5 title 'hmn', "
          "$d using 1:3 with lines dt 2 lw 2 title 'random arm', "
          "$d using 1:4 with lines dt 3 lw 2 title 'oracle (best arm)'\n"
          "set autoscale y\nset logscale y\nset format y '%g'\nset title 'learning rates (meta-learned)'\n"
          "set ylabel 'eta'\n"
          "plot $d using 1:5 with lines lw 2 title 'eta\\_local', "
          "$d using 1:6 with lines lw 2 title 'eta\\_global'\n",
          gp);
  } else {
    fputs("set title ", gp);
    char title[256];
    snprintf(title, sizeof title, "hmn run, task %s: global modulation G per window", task);
    hmn_plot_string(gp, title);
    fputs(" noenhanced\nset ylabel 'mean G_j'\n"
          "plot $d using 1:7 with linespoints lw 2 pt 7 ps 0.5 title 'mean G_j'\n"
          "set title 'weights at the end of each window'\nset ylabel 'w'\n"
          "plot $d using 1:10:11 with filledcurves lc rgb '#d0d8f0' title 'min..max', "
          "$d using 1:($8-$9):($8+$9) with filledcurves lc rgb '#8098d0' title 'mean +- sd', "
          "$d using 1:8 with lines lw 2 lc rgb '#203080' title 'mean'\n",
          gp);
  }
  fputs("unset multiplot\n", gp);
  return hmn_plot_close("hmn run", gp, png);
}

/* ---- hmn ckpt plot ---- */

int hmn_cli_plot_heatmap(const char *png, const char *title, const float *w, int rows, int cols) {
  FILE *gp = hmn_plot_open("hmn ckpt plot", png, 960, 640);
  if (gp == NULL) return HMN_EXIT_RUNTIME;
  float top = 0.0f;
  for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++)
    if (fabsf(w[i]) > top) top = fabsf(w[i]);
  if (!(top > 0.0f)) top = 1.0f;
  fputs("$w << EOD\n", gp);
  for (int j = 0; j < rows; j++) {
    for (int i = 0; i < cols; i++) fprintf(gp, "%s%.9g", i > 0 ? " " : "", (double)w[(size_t)j * cols + i]);
    fputc('\n', gp);
  }
  fputs("EOD\nset title ", gp);
  hmn_plot_string(gp, title);
  fprintf(gp,
          " noenhanced\nset xlabel 'input i'\nset ylabel 'neuron j'\nset cblabel 'w_{ij}'\n"
          "set palette defined (-1 '#2040a0', 0 'white', 1 '#b02020')\n"
          "set cbrange [%.9g:%.9g]\nset xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]\n"
          "set tics out\nplot $w matrix with image notitle\n",
          -(double)top, (double)top, cols - 1, rows - 1);
  return hmn_plot_close("hmn ckpt plot", gp, png);
}
