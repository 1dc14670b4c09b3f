/*
 * test_version.c - the version macros and hmn_version() agree, and the
 * CLI reports the same.
 */
#include "hmn.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(version, macros_and_library_agree) {
  char want[64];
  snprintf(want, sizeof want, "%d.%d.%d", HMN_VERSION_MAJOR, HMN_VERSION_MINOR,
           HMN_VERSION_PATCH);
  cr_assert_str_eq(HMN_VERSION_STRING, want);
  cr_assert_str_eq(hmn_version(), HMN_VERSION_STRING);
  cr_assert_eq(HMN_VERSION_NUMBER,
               HMN_VERSION_MAJOR * 10000 + HMN_VERSION_MINOR * 100 + HMN_VERSION_PATCH);
  cr_assert(HMN_VERSION_MINOR < 100 && HMN_VERSION_PATCH < 100, "NUMBER would be ambiguous");
}

Test(version, cli_prints_it) {
  const char *bin = getenv("HMN_BIN");
  cr_assert_not_null(bin, "HMN_BIN names the hmn binary");
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "'%s' --version", bin);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  char line[256] = {0};
  cr_assert_not_null(fgets(line, sizeof line, p));
  cr_assert_eq(pclose(p), 0);
  char want[128];
  snprintf(want, sizeof want, "hmn %s\n", HMN_VERSION_STRING);
  cr_assert_str_eq(line, want);
}
