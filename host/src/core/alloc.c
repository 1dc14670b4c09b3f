/*
 * alloc.c - every allocation of libhmn goes through here, so that a test
 * can make the n-th one fail and prove that each error path frees what it
 * took and leaves no partial state.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static long hmn__alloc_countdown;

void hmn__alloc_fail_after(long n) { hmn__alloc_countdown = n; }

bool hmn__alloc_fail_pending(void) { return hmn__alloc_countdown > 0; }

static bool hmn__alloc_should_fail(void) {
  if (hmn__alloc_countdown <= 0) return false;
  return --hmn__alloc_countdown == 0;
}

void *hmn__calloc(size_t count, size_t size) {
  if (hmn__alloc_should_fail()) return NULL;
  /* calloc(0, ...) may return NULL; callers treat NULL as failure. */
  if (count == 0 || size == 0) count = size = 1;
  return calloc(count, size);
}

void hmn__free(void *ptr) { free(ptr); }

char *hmn__strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *copy = hmn__calloc(n, 1);
  if (copy != NULL) memcpy(copy, s, n);
  return copy;
}
