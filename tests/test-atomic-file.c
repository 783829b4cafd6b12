/* LfAtomicFile: where the temporary file is made, the permissions the
 * result gets (umask for a new file, the old mode for a replaced one), and
 * that abandoning a file or a failed commit leaves no temporary and the
 * previous file as it was. */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "test-common.h"

/* A new empty directory in the test's temporary directory. */
static char *
fresh_dir (const char *name)
{
  char *dir = lf_test_path (name);
  ck_assert_int_eq (g_mkdir (dir, 0700), 0);
  return dir;
}

/* The names in `dir`, sorted and joined with ",". */
static char *
list_dir (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  ck_assert_ptr_nonnull (d);
  GList *names = NULL;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    names = g_list_insert_sorted (names, g_strdup (name), (GCompareFunc) strcmp);
  g_dir_close (d);
  GString *out = g_string_new (NULL);
  for (GList *l = names; l != NULL; l = l->next)
    g_string_append_printf (out, "%s%s", out->len > 0 ? "," : "", (char *) l->data);
  g_list_free_full (names, g_free);
  return g_string_free (out, FALSE);
}

static void
assert_contents (const char *path, const char *text)
{
  g_autoptr (GBytes) now = lf_test_read_file (path);
  g_autoptr (GBytes) want = g_bytes_new_static (text, strlen (text));
  ck_assert_msg (g_bytes_equal (now, want), "%s does not hold \"%s\"", path, text);
}

static mode_t
mode_of (const char *path)
{
  GStatBuf st;
  ck_assert_int_eq (g_stat (path, &st), 0);
  return st.st_mode & 07777;
}

static void
write_text (LfAtomicFile *file, const char *text)
{
  gsize length = strlen (text);
  ck_assert_int_eq (write (lf_atomic_file_get_fd (file), text, length), (gssize) length);
}

/* Writes `text` to `target` through an LfAtomicFile. */
static void
replace (const char *target, const char *text, gboolean sync)
{
  GError *error = NULL;
  g_autoptr (LfAtomicFile) file = lf_atomic_file_new (target, &error);
  LF_ASSERT_NO_ERROR (error);
  write_text (file, text);
  ck_assert (lf_atomic_file_commit (file, sync, &error));
  LF_ASSERT_NO_ERROR (error);
}

START_TEST (test_temporary_beside_target)
{
  g_autofree char *dir = fresh_dir ("beside");
  g_autofree char *target = g_build_filename (dir, "out.bin", NULL);
  GError *error = NULL;
  g_autoptr (LfAtomicFile) file = lf_atomic_file_new (target, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_str_eq (lf_atomic_file_get_target (file), target);

  /* DIR/.out.bin.XXXXXX, private until the commit; the target not made yet. */
  const char *temporary = lf_atomic_file_get_temporary_path (file);
  g_autofree char *temporary_dir = g_path_get_dirname (temporary);
  g_autofree char *temporary_name = g_path_get_basename (temporary);
  ck_assert_str_eq (temporary_dir, dir);
  ck_assert (g_str_has_prefix (temporary_name, ".out.bin."));
  ck_assert_uint_eq (strlen (temporary_name), strlen (".out.bin.") + 6);
  ck_assert_int_eq (mode_of (temporary), 0600);
  ck_assert (!g_file_test (target, G_FILE_TEST_EXISTS));

  write_text (file, "new contents");
  ck_assert (lf_atomic_file_commit (file, TRUE, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert_int_eq (lf_atomic_file_get_fd (file), -1);
  assert_contents (target, "new contents");
  g_autofree char *names = list_dir (dir);
  ck_assert_str_eq (names, "out.bin");
}
END_TEST

START_TEST (test_new_file_mode_follows_umask)
{
  g_autofree char *dir = fresh_dir ("umask");
  const mode_t masks[] = { 022, 027, 077, 002, 0 };
  mode_t saved = umask (022);
  for (gsize i = 0; i < G_N_ELEMENTS (masks); i++)
    {
      g_autofree char *name = g_strdup_printf ("new-%03o", (unsigned) masks[i]);
      g_autofree char *target = g_build_filename (dir, name, NULL);
      umask (masks[i]);
      replace (target, "x", i % 2 == 0);
      umask (saved);
      ck_assert_msg (mode_of (target) == (0666 & ~masks[i]), "umask %03o gave mode %03o",
                     (unsigned) masks[i], (unsigned) mode_of (target));
    }
}
END_TEST

START_TEST (test_replaced_file_keeps_mode)
{
  g_autofree char *dir = fresh_dir ("keep-mode");
  g_autofree char *target = g_build_filename (dir, "ckpt", NULL);
  lf_test_write_file (target, "old", 3);
  /* Modes a fresh file would not get under this umask. */
  mode_t saved = umask (077);
  const mode_t modes[] = { 0604, 0640, 0755, 0400 };
  for (gsize i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      ck_assert_int_eq (g_chmod (target, modes[i]), 0);
      replace (target, i % 2 == 0 ? "even" : "odd", i % 2 == 0);
      ck_assert_msg (mode_of (target) == modes[i], "mode %03o became %03o",
                     (unsigned) modes[i], (unsigned) mode_of (target));
      assert_contents (target, i % 2 == 0 ? "even" : "odd");
    }
  umask (saved);
  g_autofree char *names = list_dir (dir);
  ck_assert_str_eq (names, "ckpt");
}
END_TEST

/* Freeing an uncommitted file is the abort: temporary gone, fd closed,
 * the previous file (or its absence) as it was. */
START_TEST (test_abort_removes_temporary)
{
  g_autofree char *dir = fresh_dir ("abort");
  g_autofree char *target = g_build_filename (dir, "ckpt", NULL);
  g_autofree char *fresh = g_build_filename (dir, "never", NULL);
  lf_test_write_file (target, "old", 3);
  GError *error = NULL;

  LfAtomicFile *file = lf_atomic_file_new (target, &error);
  LF_ASSERT_NO_ERROR (error);
  write_text (file, "half of the new contents");
  g_autofree char *temporary = g_strdup (lf_atomic_file_get_temporary_path (file));
  int fd = lf_atomic_file_get_fd (file);
  ck_assert (g_file_test (temporary, G_FILE_TEST_EXISTS));
  lf_atomic_file_free (file);
  ck_assert_int_eq (fcntl (fd, F_GETFD), -1);
  ck_assert_int_eq (errno, EBADF);
  ck_assert (!g_file_test (temporary, G_FILE_TEST_EXISTS));
  assert_contents (target, "old");

  /* Nothing written, no previous file: nothing at all is left. */
  file = lf_atomic_file_new (fresh, &error);
  LF_ASSERT_NO_ERROR (error);
  lf_atomic_file_free (file);
  lf_atomic_file_free (NULL);
  g_autofree char *names = list_dir (dir);
  ck_assert_str_eq (names, "ckpt");
}
END_TEST

/* The rename fails because the target is a directory with a file in it:
 * an error naming the target and the step, the temporary removed, the
 * directory and its file untouched. */
START_TEST (test_failed_commit_over_directory)
{
  g_autofree char *dir = fresh_dir ("over-dir");
  g_autofree char *target = g_build_filename (dir, "taken", NULL);
  g_autofree char *inside = g_build_filename (target, "file", NULL);
  ck_assert_int_eq (g_mkdir (target, 0700), 0);
  lf_test_write_file (inside, "old", 3);
  GError *error = NULL;

  g_autoptr (LfAtomicFile) file = lf_atomic_file_new (target, &error);
  LF_ASSERT_NO_ERROR (error);
  write_text (file, "new");
  g_autofree char *temporary = g_strdup (lf_atomic_file_get_temporary_path (file));
  ck_assert (!lf_atomic_file_commit (file, TRUE, &error));
  g_autofree char *want = g_strdup_printf ("%s: cannot rename the temporary file over it: ",
                                           target);
  LF_ASSERT_ERROR (error, LF_ERROR_IO, want);
  ck_assert (!g_file_test (temporary, G_FILE_TEST_EXISTS));
  ck_assert_int_eq (lf_atomic_file_get_fd (file), -1);
  g_autofree char *names = list_dir (dir);
  ck_assert_str_eq (names, "taken");
  assert_contents (inside, "old");

  /* A commit is not repeated, failed or not. */
  LF_ASSERT_CRITICAL (ck_assert (!lf_atomic_file_commit (file, TRUE, &error)));
  ck_assert_ptr_null (error);
}
END_TEST

/* The temporary file's directory went away under the writer (removed, or
 * renamed away with the temporary in it): the commit fails naming the
 * target and leaves the old file as it was. */
START_TEST (test_failed_commit_directory_gone)
{
  g_autofree char *dir = fresh_dir ("gone");
  g_autofree char *sub = g_build_filename (dir, "sub", NULL);
  g_autofree char *target = g_build_filename (sub, "ckpt", NULL);
  ck_assert_int_eq (g_mkdir (sub, 0700), 0);
  GError *error = NULL;

  /* Removed with everything in it. */
  g_autoptr (LfAtomicFile) removed = lf_atomic_file_new (target, &error);
  LF_ASSERT_NO_ERROR (error);
  write_text (removed, "new");
  ck_assert_int_eq (g_unlink (lf_atomic_file_get_temporary_path (removed)), 0);
  ck_assert_int_eq (g_rmdir (sub), 0);
  ck_assert (!lf_atomic_file_commit (removed, FALSE, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, target);
  g_autofree char *names = list_dir (dir);
  ck_assert_str_eq (names, "");

  /* The temporary gone from beside an existing file (a cleaner removed it):
   * the old file stays. */
  ck_assert_int_eq (g_mkdir (sub, 0700), 0);
  lf_test_write_file (target, "old", 3);
  g_autoptr (LfAtomicFile) cleaned = lf_atomic_file_new (target, &error);
  LF_ASSERT_NO_ERROR (error);
  write_text (cleaned, "new");
  ck_assert_int_eq (g_unlink (lf_atomic_file_get_temporary_path (cleaned)), 0);
  ck_assert (!lf_atomic_file_commit (cleaned, TRUE, &error));
  g_autofree char *want = g_strdup_printf ("%s: cannot rename the temporary file over it: %s",
                                           target, g_strerror (ENOENT));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, want);
  assert_contents (target, "old");
  g_autofree char *sub_names = list_dir (sub);
  ck_assert_str_eq (sub_names, "ckpt");
}
END_TEST

/* Where no temporary file can be made: an error naming the target and the
 * reason, nothing created. */
START_TEST (test_cannot_create)
{
  GError *error = NULL;
  g_autofree char *missing = lf_test_path ("no-such-dir/ckpt");
  ck_assert_ptr_null (lf_atomic_file_new (missing, &error));
  g_autofree char *want = g_strdup_printf ("%s: cannot create a temporary file beside it: %s",
                                           missing, g_strerror (ENOENT));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, want);

  /* A "directory" that is a regular file refuses even root. */
  g_autofree char *file = lf_test_path ("plain-file");
  lf_test_write_file (file, "x", 1);
  g_autofree char *inside = g_build_filename (file, "ckpt", NULL);
  ck_assert_ptr_null (lf_atomic_file_new (inside, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, g_strerror (ENOTDIR));

  if (geteuid () != 0)
    {
      g_autofree char *dir = fresh_dir ("read-only");
      g_autofree char *target = g_build_filename (dir, "ckpt", NULL);
      ck_assert_int_eq (g_chmod (dir, 0500), 0);
      LfAtomicFile *refused = lf_atomic_file_new (target, &error);
      g_chmod (dir, 0700);
      ck_assert_ptr_null (refused);
      LF_ASSERT_ERROR (error, LF_ERROR_IO, g_strerror (EACCES));
      g_autofree char *names = list_dir (dir);
      ck_assert_str_eq (names, "");
    }

  LF_ASSERT_CRITICAL (ck_assert_ptr_null (lf_atomic_file_new (NULL, &error)));
  ck_assert_ptr_null (error);
}
END_TEST

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Makes `path` look last written `seconds` ago. */
static void
age (const char *path, int seconds)
{
  struct timeval times[2];
  gettimeofday (&times[0], NULL);
  times[0].tv_sec -= seconds;
  times[1] = times[0];
  ck_assert_int_eq (utimes (path, times), 0);
}

/* A temporary file left by a save that died (nothing holds its lock) is
 * removed by the next save of the same target once it is a minute old;
 * a live save's (its LfAtomicFile still open), a fresh one, another
 * target's and a name mkstemp cannot make are kept. */
START_TEST (test_abandoned_temporaries_removed)
{
  g_autofree char *dir = fresh_dir ("abandoned");
  g_autofree char *target = g_build_filename (dir, "model.eqx", NULL);
  GError *error = NULL;

  g_autofree char *dead = g_build_filename (dir, ".model.eqx.Dead01", NULL);
  ck_assert (g_file_set_contents (dead, "x", 1, NULL));
  age (dead, 120);
  /* A live save, old too: its lock says it has an owner. */
  g_autoptr (LfAtomicFile) live = lf_atomic_file_new (target, &error);
  LF_ASSERT_NO_ERROR (error);
  g_autofree char *live_path = g_path_get_basename (lf_atomic_file_get_temporary_path (live));
  age (lf_atomic_file_get_temporary_path (live), 120);
  /* A fresh unlocked one (a save between mkstemp and its lock). */
  g_autofree char *fresh = g_build_filename (dir, ".model.eqx.Fresh1", NULL);
  ck_assert (g_file_set_contents (fresh, "x", 1, NULL));
  /* Old, unlocked, but not ours to remove. */
  g_autofree char *other = g_build_filename (dir, ".other.eqx.Old001", NULL);
  g_autofree char *unrelated = g_build_filename (dir, ".model.eqx.notours", NULL);
  ck_assert (g_file_set_contents (other, "x", 1, NULL));
  ck_assert (g_file_set_contents (unrelated, "x", 1, NULL));
  age (other, 120);
  age (unrelated, 120);

  replace (target, "new", FALSE);
  g_autofree char *listing = list_dir (dir);
  g_autofree char *want = g_strdup_printf (".model.eqx.Fresh1,%s,.model.eqx.notours,"
                                           ".other.eqx.Old001,model.eqx", live_path);
  /* list_dir sorts; the live name is random, so sort the expectation too. */
  g_auto (GStrv) want_names = g_strsplit (want, ",", -1);
  qsort (want_names, g_strv_length (want_names), sizeof (char *), compare_strings);
  g_autofree char *want_sorted = g_strjoinv (",", want_names);
  ck_assert_str_eq (listing, want_sorted);
  assert_contents (target, "new");
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("atomic-file");
  TCase *tc = tcase_create ("modes");
  tcase_add_test (tc, test_temporary_beside_target);
  tcase_add_test (tc, test_new_file_mode_follows_umask);
  tcase_add_test (tc, test_replaced_file_keeps_mode);
  suite_add_tcase (suite, tc);
  tc = tcase_create ("failures");
  tcase_add_test (tc, test_abort_removes_temporary);
  tcase_add_test (tc, test_failed_commit_over_directory);
  tcase_add_test (tc, test_failed_commit_directory_gone);
  tcase_add_test (tc, test_cannot_create);
  tcase_add_test (tc, test_abandoned_temporaries_removed);
  suite_add_tcase (suite, tc);
  return suite;
}
