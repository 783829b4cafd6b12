/* LfAtomicFile: where the temporary file is made, the permissions the
 * result gets (umask for a new file, the old mode for a replaced one), and
 * that abandoning a file or a failed commit leaves no temporary and the
 * previous file as it was. */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
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

  /* DIR/.out.bin.leafio-tmp.RRRRRR.TTTTTTTT, private until the commit; the
   * target not made yet. */
  const char *temporary = lf_atomic_file_get_temporary_path (file);
  g_autofree char *temporary_dir = g_path_get_dirname (temporary);
  g_autofree char *temporary_name = g_path_get_basename (temporary);
  ck_assert_str_eq (temporary_dir, dir);
  ck_assert (g_str_has_prefix (temporary_name, ".out.bin.leafio-tmp."));
  ck_assert_uint_eq (strlen (temporary_name), strlen (".out.bin.leafio-tmp.") + 6 + 1 + 8);
  ck_assert_str_eq (lf_atomic_file_get_destination (file), target);
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
  GError *error = NULL;

  /* The directory appears after the temporary was made (an existing one
   * is refused at once: test_refuses_non_regular_targets). */
  g_autoptr (LfAtomicFile) file = lf_atomic_file_new (target, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_int_eq (g_mkdir (target, 0700), 0);
  lf_test_write_file (inside, "old", 3);
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

/* A temporary file as a save that died leaves it: made by
 * lf_atomic_file_new, written, its lock gone with its descriptor, and
 * last written `seconds` ago.  (Renamed aside while the LfAtomicFile is
 * freed, so that the free does not remove it; the inode stays the same.)
 * Returns its path. */
static char *
abandoned_temporary (const char *target, int seconds)
{
  GError *error = NULL;
  LfAtomicFile *file = lf_atomic_file_new (target, &error);
  LF_ASSERT_NO_ERROR (error);
  write_text (file, "half");
  char *path = g_strdup (lf_atomic_file_get_temporary_path (file));
  g_autofree char *aside = g_strconcat (path, "-aside", NULL);
  ck_assert_int_eq (g_rename (path, aside), 0);
  lf_atomic_file_free (file);
  ck_assert_int_eq (g_rename (aside, path), 0);
  age (path, seconds);
  return path;
}

/* Writes `text` to `path` as a user would, last written `seconds` ago. */
static void
user_file (const char *path, const char *text, int seconds)
{
  ck_assert (g_file_set_contents (path, text, -1, NULL));
  age (path, seconds);
}

/* A temporary file left by a save that died (nothing holds its lock) is
 * removed by the next save of the same target once it is a minute old.
 * Kept: a live save's (its LfAtomicFile still open), a fresh abandoned
 * one, another target's, and every file we did not create: the user's
 * `.model.eqx.backup` and other `.model.eqx.` + 6 characters names (which
 * an earlier release took for its own), and a copy of an abandoned
 * temporary under its exact name (a new inode: not the file we made). */
START_TEST (test_abandoned_temporaries_removed)
{
  g_autofree char *dir = fresh_dir ("abandoned");
  g_autofree char *target = g_build_filename (dir, "model.eqx", NULL);
  g_autofree char *other_target = g_build_filename (dir, "other.eqx", NULL);
  GError *error = NULL;

  g_autofree char *dead = abandoned_temporary (target, 120);
  g_autofree char *fresh = abandoned_temporary (target, 0);
  g_autofree char *others = abandoned_temporary (other_target, 120);
  /* A copy of an abandoned temporary put under its name. */
  g_autofree char *copied = abandoned_temporary (target, 120);
  g_autoptr (GBytes) copied_bytes = lf_test_read_file (copied);
  g_autofree char *copy = g_build_filename (dir, "copy", NULL);
  lf_test_write_file (copy, g_bytes_get_data (copied_bytes, NULL),
                      g_bytes_get_size (copied_bytes));
  ck_assert_int_eq (g_rename (copy, copied), 0);
  age (copied, 120);
  /* A live save, old too: its lock says it has an owner. */
  g_autoptr (LfAtomicFile) live = lf_atomic_file_new (target, &error);
  LF_ASSERT_NO_ERROR (error);
  age (lf_atomic_file_get_temporary_path (live), 120);
  /* The user's own files, old and unlocked. */
  const char *const users[] = { ".model.eqx.backup", ".model.eqx.Dead01",
                                ".model.eqx.leafio-tmp.abcdef.01234567", "model.eqx.bak" };
  for (gsize i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autofree char *path = g_build_filename (dir, users[i], NULL);
      user_file (path, "the user's", 3600);
    }

  replace (target, "new", FALSE);
  ck_assert_msg (!g_file_test (dead, G_FILE_TEST_EXISTS), "%s was kept", dead);
  const char *const kept[] = { fresh, others, copied,
                               lf_atomic_file_get_temporary_path (live) };
  for (gsize i = 0; i < G_N_ELEMENTS (kept); i++)
    ck_assert_msg (g_file_test (kept[i], G_FILE_TEST_EXISTS), "%s was removed", kept[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autofree char *path = g_build_filename (dir, users[i], NULL);
      assert_contents (path, "the user's");
    }
  assert_contents (target, "new");
  /* 4 users' files, the target, and 4 temporaries. */
  g_autofree char *listing = list_dir (dir);
  g_auto (GStrv) names = g_strsplit (listing, ",", -1);
  ck_assert_uint_eq (g_strv_length (names), 9);
}
END_TEST

/* Every name the filesystem accepts can be saved: the temporary name is
 * cut to fit NAME_MAX, and clean-up still finds abandoned ones. */
START_TEST (test_long_names)
{
  g_autofree char *dir = fresh_dir ("long-names");
  GError *error = NULL;
  for (gsize length = 240; length <= 255; length++)
    {
      g_autofree char *name = g_strnfill (length, 'n');
      memcpy (name + length - 4, ".eqx", 4);
      g_autofree char *target = g_build_filename (dir, name, NULL);
      replace (target, "first", TRUE);
      replace (target, "second", FALSE);
      assert_contents (target, "second");
      g_autoptr (LfAtomicFile) file = lf_atomic_file_new (target, &error);
      LF_ASSERT_NO_ERROR (error);
      g_autofree char *temporary_name =
        g_path_get_basename (lf_atomic_file_get_temporary_path (file));
      ck_assert_uint_le (strlen (temporary_name), 255);
      ck_assert (g_str_has_prefix (temporary_name, ".nnnnnnnn"));
    }
  /* Multi-byte characters are not cut in half. */
  GString *name = g_string_new (NULL);
  while (name->len + 3 <= 255)
    g_string_append (name, "\xc3\xa9");
  g_autofree char *target = g_build_filename (dir, name->str, NULL);
  g_string_free (name, TRUE);
  g_autoptr (LfAtomicFile) file = lf_atomic_file_new (target, &error);
  LF_ASSERT_NO_ERROR (error);
  g_autofree char *temporary_name =
    g_path_get_basename (lf_atomic_file_get_temporary_path (file));
  ck_assert (g_utf8_validate (temporary_name, -1, NULL));

  /* A save of the whole library API, with and without the manifest (whose
   * name would be too long: refused before anything changes). */
  g_autofree char *long_name = g_strnfill (251, 'm');
  g_autofree char *long_path = g_build_filename (dir, long_name, NULL);
  g_autoptr (LfNode) tree = lf_list_new_take (2, lf_scalar_new_int (7), lf_scalar_new_float (0.5));
  g_autofree char *saved = g_strconcat (long_path, ".eqx", NULL);
  ck_assert (lf_tree_serialise_leaves (saved, tree, NULL, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (saved, tree, NULL, NULL, NULL,
                                                          &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (loaded, tree));
  ck_assert (!lf_tree_serialise_leaves_full (saved, tree, NULL, NULL, NULL,
                                             LF_SAVE_MANIFEST, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "too long");
  g_autoptr (LfNode) again = lf_tree_deserialise_leaves (saved, tree, NULL, NULL, NULL,
                                                         &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (again, tree));
}
END_TEST

/* Saving through a symbolic link to a regular file replaces that file, in
 * its own directory, with its mode, and keeps the link: `latest.eqx ->
 * ../run/step_100.eqx` then names the new contents, as when Equinox writes
 * through the link. */
START_TEST (test_symlink_to_regular_file_followed)
{
  g_autofree char *dir = fresh_dir ("links");
  g_autofree char *run = g_build_filename (dir, "run", NULL);
  g_autofree char *ckpts = g_build_filename (dir, "ckpts", NULL);
  ck_assert_int_eq (g_mkdir (run, 0700), 0);
  ck_assert_int_eq (g_mkdir (ckpts, 0700), 0);
  g_autofree char *step = g_build_filename (run, "step_100.eqx", NULL);
  g_autofree char *latest = g_build_filename (ckpts, "latest.eqx", NULL);
  lf_test_write_file (step, "old", 3);
  ck_assert_int_eq (g_chmod (step, 0640), 0);
  ck_assert_int_eq (symlink ("../run/step_100.eqx", latest), 0);
  /* A chain of links ends at the same file. */
  g_autofree char *chain = g_build_filename (dir, "chain.eqx", NULL);
  ck_assert_int_eq (symlink ("ckpts/latest.eqx", chain), 0);

  GError *error = NULL;
  g_autoptr (LfAtomicFile) file = lf_atomic_file_new (latest, &error);
  LF_ASSERT_NO_ERROR (error);
  g_autofree char *real_step = realpath (step, NULL);
  ck_assert_str_eq (lf_atomic_file_get_destination (file), real_step);
  ck_assert_str_eq (lf_atomic_file_get_target (file), latest);
  g_autofree char *temporary_dir = g_path_get_dirname (lf_atomic_file_get_temporary_path (file));
  g_autofree char *real_run = realpath (run, NULL);
  ck_assert_str_eq (temporary_dir, real_run);
  write_text (file, "new");
  ck_assert (lf_atomic_file_commit (file, TRUE, &error));
  LF_ASSERT_NO_ERROR (error);

  g_autofree char *link = g_file_read_link (latest, NULL);
  ck_assert_str_eq (link, "../run/step_100.eqx");
  assert_contents (step, "new");
  ck_assert_int_eq (mode_of (step), 0640);
  replace (chain, "newer", FALSE);
  assert_contents (step, "newer");
  ck_assert (g_file_test (chain, G_FILE_TEST_IS_SYMLINK));
  g_autofree char *in_run = list_dir (run);
  ck_assert_str_eq (in_run, "step_100.eqx");
  g_autofree char *in_ckpts = list_dir (ckpts);
  ck_assert_str_eq (in_ckpts, "latest.eqx");

  /* The library's path saves and loads, manifest included: the manifest
   * goes beside the file the link names, and a load through the link
   * checks it. */
  g_autoptr (LfNode) tree = lf_list_new_take (1, lf_scalar_new_int (3));
  ck_assert (lf_tree_serialise_leaves_full (latest, tree, NULL, NULL, NULL, LF_SAVE_MANIFEST,
                                            &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert (g_file_test (latest, G_FILE_TEST_IS_SYMLINK));
  g_autofree char *manifest = g_strconcat (step, ".json", NULL);
  ck_assert (g_file_test (manifest, G_FILE_TEST_IS_REGULAR));
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (latest, tree, NULL, NULL, NULL,
                                                          &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (loaded, tree));
}
END_TEST

/* A link to anything but a regular file, a dangling link, and a target
 * that is itself not a regular file are refused before anything is made:
 * the link (and what it names) as they were. */
START_TEST (test_symlink_to_other_things_refused)
{
  g_autofree char *dir = fresh_dir ("bad-links");
  g_autofree char *sub = g_build_filename (dir, "sub.eqx", NULL);
  ck_assert_int_eq (g_mkdir (sub, 0700), 0);
  g_autofree char *fifo = g_build_filename (dir, "fifo.eqx", NULL);
  ck_assert_int_eq (mkfifo (fifo, 0600), 0);
  struct {
    const char *name;
    const char *points_to; /* NULL: not a link, `real` itself */
    const char *real;
    const char *message;
  } cases[] = {
    { "to-dir.eqx", "sub.eqx", NULL, "which is a directory; a save follows links only to "
                                 "regular files" },
    { "to-tmp.eqx", "/tmp", NULL, "which is a directory" },
    { "to-null.eqx", "/dev/null", NULL, "/dev/null, which is a device" },
    { "to-fifo.eqx", "fifo.eqx", NULL, "which is a FIFO" },
    { "dangling.eqx", "nowhere/x.eqx", NULL, "is a symbolic link to nowhere/x.eqx, which "
                                             "does not exist" },
    { "sub.eqx", NULL, NULL, "is a directory; a save replaces only regular files" },
    { "fifo.eqx", NULL, NULL, "is a FIFO; a save replaces only regular files" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *target = g_build_filename (dir, cases[i].name, NULL);
      if (cases[i].points_to != NULL)
        ck_assert_int_eq (symlink (cases[i].points_to, target), 0);
      GError *error = NULL;
      ck_assert_ptr_null (lf_atomic_file_new (target, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_IO, cases[i].message);
      g_autoptr (LfNode) tree = lf_list_new_take (1, lf_scalar_new_int (3));
      ck_assert (!lf_tree_serialise_leaves (target, tree, NULL, NULL, NULL, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_IO, target);
      if (cases[i].points_to != NULL)
        {
          g_autofree char *link = g_file_read_link (target, NULL);
          ck_assert_str_eq (link, cases[i].points_to);
        }
    }
  g_autofree char *names = list_dir (dir);
  ck_assert_str_eq (names, "dangling.eqx,fifo.eqx,sub.eqx,to-dir.eqx,to-fifo.eqx,to-null.eqx,"
                           "to-tmp.eqx");
  g_autofree char *in_sub = list_dir (sub);
  ck_assert_str_eq (in_sub, "");
  GStatBuf st;
  ck_assert_int_eq (g_stat ("/dev/null", &st), 0);
  ck_assert (S_ISCHR (st.st_mode));
}
END_TEST

/* A file with two hard links: the name saved to gets the new file, the
 * other name keeps the old contents (docs/RELIABILITY.md). */
START_TEST (test_hard_link_documented)
{
  g_autofree char *dir = fresh_dir ("hard-links");
  g_autofree char *first = g_build_filename (dir, "a.eqx", NULL);
  g_autofree char *second = g_build_filename (dir, "b.eqx", NULL);
  lf_test_write_file (first, "old", 3);
  ck_assert_int_eq (link (first, second), 0);
  replace (first, "new", TRUE);
  assert_contents (first, "new");
  assert_contents (second, "old");
  GStatBuf st;
  ck_assert_int_eq (g_stat (second, &st), 0);
  ck_assert_uint_eq (st.st_nlink, 1);
}
END_TEST

/* ---- concurrent saves with a manifest ------------------------------------ */

#define RACE_ROUNDS 100

/* Trees of one structure whose values say which save wrote them. */
static LfNode *
race_tree (int which)
{
  gsize shape[1] = { 64 * 1024 };
  LfNode *array = lf_array_new_zeros (LF_DTYPE_FLOAT32, 1, shape);
  float *data = (float *) lf_array_get_data (array);
  for (gsize i = 0; i < shape[0]; i++)
    data[i] = (float) (which * 1000 + (int) (i % 997));
  return lf_list_new_take (2, array, lf_scalar_new_int (which));
}

/* A child process that saves race_tree (`which`) to `path` with a
 * manifest `times` times. */
static pid_t
start_saver (const char *path, int which, int times)
{
  pid_t pid = fork ();
  ck_assert_int_ge (pid, 0);
  if (pid > 0)
    return pid;
  LfNode *tree = race_tree (which);
  for (int i = 0; i < times; i++)
    {
      GError *error = NULL;
      if (!lf_tree_serialise_leaves_full (path, tree, NULL, NULL, NULL,
                                          LF_SAVE_MANIFEST | LF_SAVE_NO_SYNC, &error))
        {
          g_printerr ("save failed: %s\n", error->message);
          lf_test_child_exit (1);
        }
    }
  lf_test_child_exit (0);
}

static void
assert_child_succeeded (pid_t pid)
{
  int status;
  ck_assert_int_eq (waitpid (pid, &status, 0), pid);
  ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

/* Two processes saving one path with LF_SAVE_MANIFEST at once, round after
 * round: each time the file loads (its manifest checked) as one of the two
 * trees.  Before the commits were serialised, a save's manifest landed
 * beside the other save's data in about one round of seven, and the load
 * failed with a checksum error. */
START_TEST (test_concurrent_manifest_saves_pair)
{
  g_autofree char *dir = fresh_dir ("race");
  g_autofree char *path = g_build_filename (dir, "model.eqx", NULL);
  g_autoptr (LfNode) a = race_tree (1);
  g_autoptr (LfNode) b = race_tree (2);
  for (int round = 0; round < RACE_ROUNDS; round++)
    {
      pid_t first = start_saver (path, 1, 1);
      pid_t second = start_saver (path, 2, 1);
      assert_child_succeeded (first);
      assert_child_succeeded (second);
      GError *error = NULL;
      g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (path, a, NULL, NULL, NULL, &error);
      ck_assert_msg (error == NULL, "round %d: %s", round, error->message);
      ck_assert (lf_tree_equal (loaded, a) || lf_tree_equal (loaded, b));
    }
  g_autofree char *names = list_dir (dir);
  ck_assert_str_eq (names, "model.eqx,model.eqx.json");
}
END_TEST

/* Loads racing with two processes saving the same path: each load
 * succeeds, or says the manifest is stale (saves replaced the file while
 * it was checked); never a checksum error that would call the file
 * damaged. */
START_TEST (test_loads_during_saves_never_corrupt)
{
  g_autofree char *dir = fresh_dir ("race-load");
  g_autofree char *path = g_build_filename (dir, "model.eqx", NULL);
  g_autoptr (LfNode) a = race_tree (1);
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves_full (path, a, NULL, NULL, NULL, LF_SAVE_MANIFEST,
                                            &error));
  pid_t first = start_saver (path, 1, RACE_ROUNDS);
  pid_t second = start_saver (path, 2, RACE_ROUNDS);
  guint loads = 0, stale = 0;
  for (;;)
    {
      int status;
      pid_t done = waitpid (-1, &status, WNOHANG);
      if (done > 0)
        {
          ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
          assert_child_succeeded (done == first ? second : first);
          break;
        }
      g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (path, a, NULL, NULL, NULL,
                                                              &error);
      if (loaded == NULL)
        {
          ck_assert_msg (error->code == LF_ERROR_CHECKSUM
                         && strstr (error->message, "stale") != NULL,
                         "load %u during saves: %s", loads, error->message);
          stale++;
          g_clear_error (&error);
        }
      loads++;
    }
  ck_assert_uint_gt (loads, 0);
  (void) stale;
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
  tcase_add_test (tc, test_long_names);
  suite_add_tcase (suite, tc);
  tc = tcase_create ("links");
  tcase_add_test (tc, test_symlink_to_regular_file_followed);
  tcase_add_test (tc, test_symlink_to_other_things_refused);
  tcase_add_test (tc, test_hard_link_documented);
  suite_add_tcase (suite, tc);
  tc = tcase_create ("races");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_concurrent_manifest_saves_pair);
  tcase_add_test (tc, test_loads_during_saves_never_corrupt);
  suite_add_tcase (suite, tc);
  return suite;
}
