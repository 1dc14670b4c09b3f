/*
 * test_full_disk.c - a checkpoint save onto a file system that is really
 * full (a small tmpfs): the save fails naming the file, the old
 * checkpoint keeps its bytes and still loads, and no temporary file is
 * left to fill the disk further. Mounting needs root (or a user namespace
 * that allows it); where the mount is refused the test is skipped and
 * says why. test_checkpoint covers the same promise with a file size
 * limit, which works everywhere.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "hmn.h"
#include "support.h"

static int entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  if (d != NULL) closedir(d);
  return n;
}

Test(full_disk, save_to_a_full_tmpfs_keeps_the_old_checkpoint) {
  char mnt[1100], ckpt[1200], filler[1200];
  snprintf(mnt, sizeof mnt, "%s/tmpfs", hmn_test_tmpdir());
  cr_assert_eq(mkdir(mnt, 0700), 0);
  if (mount("hmn-test", mnt, "tmpfs", 0, "size=256k") != 0)
    cr_skip_test("cannot mount a tmpfs here (%s): run as root to test a really full disk",
                 strerror(errno));

  hmn_config cfg;
  hmn_test_small_config(&cfg, 24, 8);
  hmn_layer *layer = NULL;
  hmn_error err;
  cr_assert_eq(hmn_layer_create(&cfg, "ref", &layer, &err), HMN_OK, "%s", err.message);
  snprintf(ckpt, sizeof ckpt, "%s/a.ckpt", mnt);
  cr_assert_eq(hmn_layer_save(layer, ckpt, &err), HMN_OK, "%s", err.message);
  size_t old_len;
  unsigned char *old = hmn_test_read_file(ckpt, &old_len);
  cr_assert_not_null(old);

  /* Fill what is left, so that the temporary copy of the next save
   * cannot be written whole. */
  snprintf(filler, sizeof filler, "%s/filler", mnt);
  FILE *f = fopen(filler, "wb");
  cr_assert_not_null(f);
  static const char block[4096];
  while (fwrite(block, 1, sizeof block, f) == sizeof block) {
  }
  fclose(f);

  hmn_test_run_stream(layer, 5);
  int rc = hmn_layer_save(layer, ckpt, &err);
  cr_expect_neq(rc, HMN_OK, "a save onto a full disk reported success");
  cr_expect_not_null(strstr(err.message, ckpt), "%s", err.message);

  size_t now_len;
  unsigned char *now = hmn_test_read_file(ckpt, &now_len);
  cr_expect(now != NULL && now_len == old_len && memcmp(now, old, old_len) == 0,
            "the old checkpoint was changed");
  cr_expect_eq(entries(mnt), 2, "a temporary file was left on the full disk");
  hmn_layer *back = NULL;
  cr_expect_eq(hmn_layer_load(ckpt, "ref", &back, &err), HMN_OK, "%s", err.message);

  hmn_layer_destroy(back);
  hmn_layer_destroy(layer);
  free(old);
  free(now);
  umount(mnt);
}
