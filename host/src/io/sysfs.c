/*
 * sysfs.c - where sysfs is: /sys, or $HMN_SYSFS_ROOT so that the tests
 * can point the energy meters and the card listing at fixtures.
 */
#include "io/io.h"

#include <stdlib.h>

const char *hmn__sysfs_root(void) {
  const char *root = getenv("HMN_SYSFS_ROOT");
  return root != NULL && root[0] != '\0' ? root : "/sys";
}
