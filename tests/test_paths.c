/*
 * test_paths.c - the path checks commands run before their first step:
 * what they accept, what they refuse, and that the message names the path.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hmn.h"
#include "support.h"

Test(paths, new_name_in_writable_folder_is_accepted) {
  hmn_error err;
  cr_assert_eq(hmn_path_check_output(hmn_test_path("new.ckpt"), &err), HMN_OK, "%s", err.message);
}

Test(paths, existing_regular_file_is_accepted) {
  hmn_error err;
  const char *p = hmn_test_path("old.ckpt");
  cr_assert_eq(hmn_test_write_file(p, "x", 1), 0);
  cr_assert_eq(hmn_path_check_output(p, &err), HMN_OK, "%s", err.message);
  cr_assert_eq(hmn_path_check_input(p, &err), HMN_OK, "%s", err.message);
}

Test(paths, directory_is_refused_as_output_and_input) {
  hmn_error err;
  const char *dir = hmn_test_tmpdir();
  cr_assert_eq(hmn_path_check_output(dir, &err), HMN_EIO);
  cr_assert(strstr(err.message, "a directory") != NULL, "%s", err.message);
  cr_assert_eq(hmn_path_check_input(dir, &err), HMN_EIO);
  cr_assert(strstr(err.message, dir) != NULL, "%s", err.message);
}

Test(paths, missing_folder_is_refused) {
  hmn_error err;
  char p[4200];
  snprintf(p, sizeof p, "%s/no/such/folder/x.ckpt", hmn_test_tmpdir());
  cr_assert_eq(hmn_path_check_output(p, &err), HMN_EIO);
  cr_assert(strstr(err.message, "does not exist") != NULL, "%s", err.message);
}

Test(paths, fifo_is_refused_without_blocking) {
  hmn_error err;
  const char *p = hmn_test_path("fifo");
  cr_assert_eq(mkfifo(p, 0600), 0);
  cr_assert_eq(hmn_path_check_output(p, &err), HMN_EIO);
  cr_assert(strstr(err.message, "a FIFO") != NULL, "%s", err.message);
  cr_assert_eq(hmn_path_check_input(p, &err), HMN_EIO);
  cr_assert(strstr(err.message, "a FIFO") != NULL, "%s", err.message);
}

Test(paths, empty_name_is_a_usage_error) {
  hmn_error err;
  cr_assert_eq(hmn_path_check_output("", &err), HMN_EINVAL);
  cr_assert_eq(hmn_path_check_input(NULL, &err), HMN_EINVAL);
}
