/*
 * suggest.c - "did you mean": the closest of a list of names to a
 * mistyped one, by edit distance (insertions, deletions, substitutions
 * and swaps of neighbours each cost 1).
 */
#include "cli.h"

#include <string.h>

#define HMN_SUGGEST_MAX 64

static size_t hmn_min3(size_t a, size_t b, size_t c) {
  size_t m = a < b ? a : b;
  return m < c ? m : c;
}

/* Optimal-string-alignment distance; names longer than HMN_SUGGEST_MAX
 * count as far away. */
static size_t hmn_edit_distance(const char *a, const char *b) {
  size_t n = strlen(a), m = strlen(b);
  if (n > HMN_SUGGEST_MAX || m > HMN_SUGGEST_MAX) return (size_t)-1;
  size_t d[HMN_SUGGEST_MAX + 1][HMN_SUGGEST_MAX + 1];
  for (size_t i = 0; i <= n; i++) d[i][0] = i;
  for (size_t j = 0; j <= m; j++) d[0][j] = j;
  for (size_t i = 1; i <= n; i++) {
    for (size_t j = 1; j <= m; j++) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = hmn_min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          d[i - 2][j - 2] + 1 < d[i][j])
        d[i][j] = d[i - 2][j - 2] + 1;
    }
  }
  return d[n][m];
}

const char *hmn_cli_suggest(const char *typed, const char *const *names) {
  const char *best = NULL;
  size_t best_d = (size_t)-1;
  for (size_t k = 0; names[k] != NULL; k++) {
    size_t d = hmn_edit_distance(typed, names[k]);
    if (d < best_d) {
      best_d = d;
      best = names[k];
    }
  }
  /* Close enough to be a slip: a third of the name, at least 1, at most 3. */
  size_t len = strlen(typed);
  size_t limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;
  return best_d <= limit ? best : NULL;
}
