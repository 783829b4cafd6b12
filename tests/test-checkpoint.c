/* The checkpoint manager (<leafio/checkpoint.h>): saving, listing,
 * restoring and removing steps; retention; the directory lock; what a
 * killed save leaves; a process killed (SIGKILL) or a call failing at every
 * write, sync, rename and removal of a save, with every committed step
 * still loadable after; the IO table; asynchronous saves and their errors.
 *
 * Fault injection: this program defines write(), fsync(), rename() and the
 * like itself, so the library's calls come here first (the executable's
 * symbols come first in the dynamic linker's search); each counts, and the
 * Nth one of a save kills the process or fails with EIO. */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include "test-common.h"

/* ---- fault injection ------------------------------------------------------------- */

typedef enum { FAULT_KILL, FAULT_FAIL } FaultMode;

static struct {
  gboolean armed;
  guint count;
  guint target;
  FaultMode mode;
} fault;

static void
arm (guint target, FaultMode mode)
{
  fault.count = 0;
  fault.target = target;
  fault.mode = mode;
  fault.armed = TRUE;
}

/* Counts one call; TRUE when it is to fail. */
static gboolean
fault_hit (void)
{
  if (!fault.armed || ++fault.count != fault.target)
    return FALSE;
  if (fault.mode == FAULT_KILL)
    raise (SIGKILL);
  errno = EIO;
  return TRUE;
}

#define REAL(name)                                                          \
  static __typeof__ (name) *real_##name;                                    \
  if (real_##name == NULL)                                                  \
    real_##name = (__typeof__ (name) *) dlsym (RTLD_NEXT, #name)

ssize_t
write (int fd, const void *buffer, size_t count)
{
  REAL (write);
  return fault_hit () ? -1 : real_write (fd, buffer, count);
}

ssize_t
writev (int fd, const struct iovec *iov, int n)
{
  REAL (writev);
  return fault_hit () ? -1 : real_writev (fd, iov, n);
}

ssize_t
pwrite (int fd, const void *buffer, size_t count, off_t offset)
{
  REAL (pwrite);
  return fault_hit () ? -1 : real_pwrite (fd, buffer, count, offset);
}

int
fsync (int fd)
{
  REAL (fsync);
  return fault_hit () ? -1 : real_fsync (fd);
}

int
fdatasync (int fd)
{
  REAL (fdatasync);
  return fault_hit () ? -1 : real_fdatasync (fd);
}

int
rename (const char *from, const char *to)
{
  REAL (rename);
  return fault_hit () ? -1 : real_rename (from, to);
}

int
unlink (const char *path)
{
  REAL (unlink);
  return fault_hit () ? -1 : real_unlink (path);
}

int
ftruncate (int fd, off_t length)
{
  REAL (ftruncate);
  return fault_hit () ? -1 : real_ftruncate (fd, length);
}

/* ---- helpers ------------------------------------------------------------------------- */

/* A small model whose values depend on `step`. */
static LfNode *
model (gint64 step)
{
  gsize shape[2] = { 3, 4 };
  float *w = g_new (float, 12);
  for (int i = 0; i < 12; i++)
    w[i] = (float) step * 100 + (float) i;
  gint32 *b = g_new (gint32, 3);
  for (int i = 0; i < 3; i++)
    b[i] = (gint32) step - i;
  gsize three = 3;
  return lf_dict_new_take ("w", lf_array_new_take (LF_DTYPE_FLOAT32, 2, shape, w),
                           "b", lf_array_new_take (LF_DTYPE_INT32, 1, &three, b),
                           "step", lf_scalar_new_int (step), NULL);
}

static LfNode *
metrics (double loss)
{
  return lf_dict_new_take ("loss", lf_scalar_new_float (loss), "epoch", lf_scalar_new_int (2),
                           "ok", lf_scalar_new_bool (TRUE), NULL);
}

static char *
fresh_dir (const char *name)
{
  char *dir = lf_test_path (name);
  ck_assert (g_mkdir_with_parents (dir, 0700) == 0);
  /* Empty it: loops reuse one directory. */
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  const char *entry;
  while ((entry = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, entry, NULL);
      g_unlink (path);
    }
  return dir;
}

static LfCheckpointManager *
open_ok (const char *dir)
{
  GError *error = NULL;
  LfCheckpointManager *manager = lf_checkpoint_manager_open (dir, &error);
  LF_ASSERT_NO_ERROR (error);
  return manager;
}

static void
close_ok (LfCheckpointManager *manager)
{
  GError *error = NULL;
  ck_assert (lf_checkpoint_manager_close (manager, &error));
  LF_ASSERT_NO_ERROR (error);
}

static void
save_ok (LfCheckpointManager *manager, gint64 step, double loss)
{
  g_autoptr (LfNode) tree = model (step);
  g_autoptr (LfNode) m = metrics (loss);
  GError *error = NULL;
  ck_assert (lf_checkpoint_manager_save (manager, step, tree, NULL, m, &error));
  LF_ASSERT_NO_ERROR (error);
}

/* The listed steps as text: "2 3 4". */
static char *
listed (LfCheckpointManager *manager)
{
  g_autoptr (GPtrArray) steps = lf_checkpoint_manager_list (manager);
  GString *text = g_string_new (NULL);
  for (guint i = 0; i < steps->len; i++)
    g_string_append_printf (text, "%s%" G_GINT64_FORMAT, i ? " " : "",
                            ((LfCheckpointStep *) steps->pdata[i])->step);
  return g_string_free (text, FALSE);
}

/* Every listed step restores to model (step), and the directory holds its
 * three files and the lock, nothing else but `extra` names. */
static void
assert_consistent (LfCheckpointManager *manager, const char *const *extra)
{
  GError *error = NULL;
  g_autoptr (GPtrArray) steps = lf_checkpoint_manager_list (manager);
  g_autoptr (GHashTable) expected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_add (expected, g_strdup (".leafio-checkpoints.lock"));
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_hash_table_add (expected, g_strdup (extra[i]));
  for (guint i = 0; i < steps->len; i++)
    {
      LfCheckpointStep *step = steps->pdata[i];
      g_autoptr (LfNode) like = model (step->step);
      g_autoptr (LfNode) got = lf_checkpoint_manager_restore (manager, step->step, like, NULL,
                                                              &error);
      LF_ASSERT_NO_ERROR (error);
      ck_assert_msg (lf_tree_equal (got, like), "step %" G_GINT64_FORMAT " differs",
                     step->step);
      g_autofree char *base = g_path_get_basename (step->path);
      g_hash_table_add (expected, g_strdup (base));
      g_hash_table_add (expected, g_strconcat (base, ".json", NULL));
      g_hash_table_add (expected, g_strdup_printf ("step-%08" G_GINT64_FORMAT ".meta.json",
                                                   step->step));
    }
  g_autoptr (GDir) dir = g_dir_open (lf_checkpoint_manager_get_directory (manager), 0, NULL);
  const char *name;
  guint n = 0;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      ck_assert_msg (g_hash_table_contains (expected, name), "unexpected file %s", name);
      n++;
    }
  ck_assert_uint_eq (n, g_hash_table_size (expected));
}

/* ---- basics ---------------------------------------------------------------------------- */

START_TEST (test_save_list_restore)
{
  g_autofree char *parent = lf_test_path ("basics");
  g_autofree char *dir = g_build_filename (parent, "run", "ckpt", NULL);
  GError *error = NULL;
  LfCheckpointManager *manager = open_ok (dir);  /* made with its parents */
  ck_assert_str_eq (lf_checkpoint_manager_get_directory (manager), dir);
  ck_assert_int_eq (lf_checkpoint_manager_get_latest_step (manager), -1);
  g_autoptr (LfNode) like = model (0);
  ck_assert (lf_checkpoint_manager_restore (manager, LF_CHECKPOINT_LATEST, like, NULL,
                                            &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_NOT_FOUND, "no checkpoint yet");

  gint64 before = g_get_real_time ();
  save_ok (manager, 0, 2.5);
  save_ok (manager, 20, 1.25);
  save_ok (manager, 10, NAN);
  gint64 after = g_get_real_time ();
  ck_assert_int_eq (lf_checkpoint_manager_get_latest_step (manager), 20);
  g_autofree char *steps = listed (manager);
  ck_assert_str_eq (steps, "0 10 20");
  assert_consistent (manager, NULL);

  g_autoptr (GPtrArray) list = lf_checkpoint_manager_list (manager);
  for (guint i = 0; i < list->len; i++)
    {
      LfCheckpointStep *step = list->pdata[i];
      ck_assert_int_ge (step->time, before);
      ck_assert_int_le (step->time, after);
      g_autofree char *manifest = g_strconcat (step->path, ".json", NULL);
      GStatBuf a, b;
      ck_assert (g_stat (step->path, &a) == 0 && g_stat (manifest, &b) == 0);
      ck_assert_uint_eq (step->size, (guint64) (a.st_size + b.st_size));
      g_autofree char *expected = lf_checkpoint_manager_get_path (manager, step->step);
      ck_assert_str_eq (step->path, expected);
      double value;
      ck_assert (lf_checkpoint_step_get_metric (step, "epoch", &value) && value == 2);
      ck_assert (!lf_checkpoint_step_get_metric (step, "accuracy", &value));
    }
  double loss;
  ck_assert (lf_checkpoint_step_get_metric (list->pdata[1], "loss", &loss) && isnan (loss));
  ck_assert (lf_checkpoint_step_get_metric (list->pdata[2], "loss", &loss) && loss == 1.25);

  g_autoptr (LfNode) latest = lf_checkpoint_manager_restore (manager, LF_CHECKPOINT_LATEST,
                                                             like, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) twenty = model (20);
  ck_assert (lf_tree_equal (latest, twenty));
  close_ok (manager);

  /* A new manager reads the same steps, times and metrics back. */
  manager = open_ok (dir);
  g_autoptr (GPtrArray) again = lf_checkpoint_manager_list (manager);
  ck_assert_uint_eq (again->len, list->len);
  for (guint i = 0; i < list->len; i++)
    {
      LfCheckpointStep *a = list->pdata[i], *b = again->pdata[i];
      ck_assert_int_eq (a->step, b->step);
      ck_assert_int_eq (a->time, b->time);
      ck_assert_uint_eq (a->size, b->size);
      ck_assert (lf_dict_lookup (b->metrics, "ok") != NULL);
      ck_assert (lf_scalar_get_bool (lf_dict_lookup (b->metrics, "ok")));
      ck_assert_int_eq (lf_scalar_get_dtype (lf_dict_lookup (b->metrics, "epoch")),
                        LF_DTYPE_INT64);
    }
  ck_assert (lf_checkpoint_manager_remove (manager, 10, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autofree char *remaining = listed (manager);
  ck_assert_str_eq (remaining, "0 20");
  assert_consistent (manager, NULL);
  close_ok (manager);
}
END_TEST

/* A step is a plain .eqx with its manifest: loads and random access need
 * nothing of the manager. */
START_TEST (test_plain_files)
{
  g_autofree char *dir = fresh_dir ("plain");
  LfCheckpointManager *manager = open_ok (dir);
  save_ok (manager, 7, 0.5);
  g_autofree char *path = lf_checkpoint_manager_get_path (manager, 7);
  close_ok (manager);
  g_autofree char *base = g_path_get_basename (path);
  ck_assert_str_eq (base, "step-00000007.eqx");
  GError *error = NULL;
  g_autoptr (LfNode) like = model (7);
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (path, like, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (loaded, like));
  g_autoptr (LfFile) file = lf_file_open (path, NULL, NULL, LF_FILE_DEFAULT, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_file_is_indexed_from_manifest (file));
  g_autoptr (LfNode) w = lf_file_read (file, "['w']", &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (w, lf_dict_lookup (like, "w")));
}
END_TEST

START_TEST (test_refusals)
{
  g_autofree char *dir = fresh_dir ("refusals");
  LfCheckpointManager *manager = open_ok (dir);
  GError *error = NULL;
  save_ok (manager, 1, 1.0);
  g_autoptr (LfNode) tree = model (1);

  /* A step that exists is not overwritten. */
  ck_assert (!lf_checkpoint_manager_save (manager, 1, tree, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_FAILED, "step 1 exists");
  /* Nor a file of the same name that is not the manager's. */
  g_autofree char *foreign = g_build_filename (dir, "step-00000002.eqx", NULL);
  lf_test_write_file (foreign, "mine", 4);
  ck_assert (!lf_checkpoint_manager_save (manager, 2, tree, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_FAILED, "is not a step this manager committed");
  g_autoptr (GBytes) kept = lf_test_read_file (foreign);
  ck_assert_uint_eq (g_bytes_get_size (kept), 4);

  /* Metrics are a dict of real scalars. */
  g_autoptr (LfNode) list = lf_list_new_take (1, lf_scalar_new_float (1));
  ck_assert (!lf_checkpoint_manager_save (manager, 3, tree, NULL, list, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "dict");
  g_autoptr (LfNode) complex = lf_dict_new_take ("z", lf_scalar_new_complex (1, 2), NULL);
  ck_assert (!lf_checkpoint_manager_save_async (manager, 3, tree, NULL, complex, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "metric 'z'");

  /* Steps that are not there. */
  ck_assert (!lf_checkpoint_manager_remove (manager, 5, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_NOT_FOUND, "no step 5 (latest: 1)");
  ck_assert (lf_checkpoint_manager_restore (manager, 5, tree, NULL, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_NOT_FOUND, "no step 5");
  /* A like that does not fit is the load's error. */
  g_autoptr (LfNode) wrong = lf_dict_new_take ("w", lf_scalar_new_int (0), NULL);
  ck_assert (lf_checkpoint_manager_restore (manager, 1, wrong, NULL, &error) == NULL);
  ck_assert (error != NULL);
  g_clear_error (&error);

  /* A failed save leaves nothing of its step. */
  g_autoptr (LfNode) abstract = lf_dict_new_take ("x", lf_array_new_abstract (LF_DTYPE_FLOAT32,
                                                                              0, NULL), NULL);
  ck_assert (!lf_checkpoint_manager_save (manager, 4, abstract, NULL, NULL, &error));
  ck_assert (error != NULL);
  g_clear_error (&error);
  const char *const extra[] = { "step-00000002.eqx", NULL };
  assert_consistent (manager, extra);
  g_autofree char *steps = listed (manager);
  ck_assert_str_eq (steps, "1");
  close_ok (manager);
}
END_TEST

START_TEST (test_lock)
{
  g_autofree char *dir = fresh_dir ("lock");
  GError *error = NULL;
  LfCheckpointManager *manager = open_ok (dir);
  ck_assert (lf_checkpoint_manager_open (dir, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_BUSY, "(in this process) has this directory open");
  close_ok (manager);

  /* Held by another process. */
  int ready[2], done[2];
  ck_assert (pipe (ready) == 0 && pipe (done) == 0);
  pid_t pid = fork ();
  ck_assert_int_ge (pid, 0);
  if (pid == 0)
    {
      LfCheckpointManager *held = lf_checkpoint_manager_open (dir, NULL);
      char byte = held != NULL ? 'y' : 'n';
      if (write (ready[1], &byte, 1) != 1 || read (done[0], &byte, 1) != 1)
        lf_test_child_exit (2);
      lf_test_child_exit (held != NULL ? 0 : 1);
    }
  char byte = 0;
  ck_assert (read (ready[0], &byte, 1) == 1 && byte == 'y');
  ck_assert (lf_checkpoint_manager_open (dir, &error) == NULL);
  g_autofree char *holder = g_strdup_printf ("(in process %ld)", (long) pid);
  LF_ASSERT_ERROR (error, LF_ERROR_BUSY, holder);
  ck_assert (write (done[1], "x", 1) == 1);
  int status;
  ck_assert (waitpid (pid, &status, 0) == pid && WIFEXITED (status)
             && WEXITSTATUS (status) == 0);
  close (ready[0]), close (ready[1]), close (done[0]), close (done[1]);
  /* Its exit released the lock. */
  manager = open_ok (dir);
  close_ok (manager);
}
END_TEST

/* ---- retention ---------------------------------------------------------------------------- */

static char *
retained (void (*configure) (LfCheckpointManager *), const double *losses, gint64 n)
{
  g_autofree char *dir = fresh_dir ("retention");
  g_autofree char *foreign = g_build_filename (dir, "notes.txt", NULL);
  g_autofree char *similar = g_build_filename (dir, "step-5.eqx", NULL);
  lf_test_write_file (foreign, "x", 1);
  lf_test_write_file (similar, "x", 1);
  LfCheckpointManager *manager = open_ok (dir);
  configure (manager);
  for (gint64 step = 0; step < n; step++)
    save_ok (manager, step, losses != NULL ? losses[step] : 1.0);
  const char *const extra[] = { "notes.txt", "step-5.eqx", NULL };
  assert_consistent (manager, extra);
  char *steps = listed (manager);
  close_ok (manager);
  return steps;
}

static void
last_three (LfCheckpointManager *m)
{
  lf_checkpoint_manager_keep_last (m, 3);
}

static void
every_four_last_two (LfCheckpointManager *m)
{
  lf_checkpoint_manager_keep_every (m, 4);
  lf_checkpoint_manager_keep_last (m, 2);
}

static void
best_two_lowest (LfCheckpointManager *m)
{
  lf_checkpoint_manager_keep_best (m, "loss", LF_METRIC_MIN, 2);
}

static void
best_one_highest_last_one (LfCheckpointManager *m)
{
  lf_checkpoint_manager_keep_best (m, "loss", LF_METRIC_MAX, 1);
  lf_checkpoint_manager_keep_last (m, 1);
}

static void
best_then_off (LfCheckpointManager *m)
{
  lf_checkpoint_manager_keep_best (m, "loss", LF_METRIC_MIN, 1);
  lf_checkpoint_manager_keep_best (m, NULL, LF_METRIC_MIN, 0);
}

START_TEST (test_retention)
{
  static const double losses[] = { 5, 3, 4, NAN, 1, 6, 2, 2, 9, 7 };
  struct {
    void (*configure) (LfCheckpointManager *);
    const char *expected;
  } cases[] = {
    { last_three, "7 8 9" },
    { every_four_last_two, "0 4 8 9" },
    /* The two lowest (1 at step 4, then 2 at step 7 before step 6), and the
     * step just saved. */
    { best_two_lowest, "4 7 9" },
    { best_one_highest_last_one, "8 9" },
    { best_then_off, "0 1 2 3 4 5 6 7 8 9" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *steps = retained (cases[i].configure, losses, 10);
      ck_assert_msg (strcmp (steps, cases[i].expected) == 0, "case %u: %s, expected %s", i,
                     steps, cases[i].expected);
    }
}
END_TEST

/* ---- what killed processes leave ------------------------------------------------------------ */

static guint warnings_seen;

static void
count_warning (const char *domain, GLogLevelFlags level, const char *message,
               gpointer user_data)
{
  warnings_seen++;
}

/* Leaves a temporary file for `target` as a save killed mid-write does:
 * a child process makes it and exits without finishing. */
static void
abandon_temporary (const char *target)
{
  pid_t pid = fork ();
  ck_assert_int_ge (pid, 0);
  if (pid == 0)
    {
      LfAtomicFile *file = lf_atomic_file_new (target, NULL);
      lf_test_child_exit (file != NULL && write (lf_atomic_file_get_fd (file), "x", 1) == 1
                          ? 0 : 1);
    }
  int status;
  ck_assert (waitpid (pid, &status, 0) == pid && WIFEXITED (status)
             && WEXITSTATUS (status) == 0);
}

START_TEST (test_leftovers)
{
  g_autofree char *dir = fresh_dir ("leftovers");
  LfCheckpointManager *manager = open_ok (dir);
  save_ok (manager, 1, 1.0);
  save_ok (manager, 2, 1.0);
  close_ok (manager);
  /* Step 2 half removed, step 3 half saved, temporary files of killed
   * saves, a record that is not one, and files that are not the
   * manager's, some named like its own. */
  const struct { const char *name, *text; } files[] = {
    { "step-00000002.meta.json", "{\"format\": \"leafio-checkpoint\", \"version\": 1, "
                                 "\"step\": 2, \"state\": \"pending\"}" },
    { "step-00000003.meta.json", "{\"format\": \"leafio-checkpoint\", \"version\": 1, "
                                 "\"step\": 3, \"state\": \"pending\"}" },
    { "step-00000003.eqx", "partial" },
    { "step-00000009.meta.json", "not json" },
    { "step-00000009.eqx", "kept" },
    { "step-12.eqx", "not ours" },
    { ".step-00000003.eqx.leafio-tmp.Ab12Cd.0123abcd", "not ours: not its tag" },
    { ".step-00000004.meta.json.q1w2e3", "not ours" },
    { "README", "not ours" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i].name, NULL);
      lf_test_write_file (path, files[i].text, strlen (files[i].text));
    }
  static const char *const abandoned[] = { "step-00000003.eqx", "step-00000003.eqx.json",
                                           "step-00000004.meta.json" };
  for (guint i = 0; i < G_N_ELEMENTS (abandoned); i++)
    {
      g_autofree char *target = g_build_filename (dir, abandoned[i], NULL);
      abandon_temporary (target);
    }
  warnings_seen = 0;
  guint handler = g_log_set_handler ("leafio", G_LOG_LEVEL_WARNING, count_warning, NULL);
  manager = open_ok (dir);
  g_log_remove_handler ("leafio", handler);
  ck_assert_uint_eq (warnings_seen, 1);  /* step 9's record */
  g_autofree char *steps = listed (manager);
  ck_assert_str_eq (steps, "1");
  const char *const extra[] = { "step-00000009.meta.json", "step-00000009.eqx", "step-12.eqx",
                                ".step-00000003.eqx.leafio-tmp.Ab12Cd.0123abcd",
                                ".step-00000004.meta.json.q1w2e3", "README", NULL };
  assert_consistent (manager, extra);
  /* The unreadable record's step is not saved over. */
  g_autoptr (LfNode) tree = model (9);
  GError *error = NULL;
  ck_assert (!lf_checkpoint_manager_save (manager, 9, tree, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_FAILED, "not a step this manager committed");
  save_ok (manager, 3, 1.0);
  close_ok (manager);
}
END_TEST

/* ---- fault injection ---------------------------------------------------------------------- */

/* Copies the files of directory `from` into `to` (no sync: fast). */
static void
copy_files (const char *from, const char *to)
{
  g_autoptr (GDir) listing = g_dir_open (from, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *source = g_build_filename (from, name, NULL);
      g_autofree char *target = g_build_filename (to, name, NULL);
      g_autoptr (GBytes) contents = lf_test_read_file (source);
      ck_assert (g_file_set_contents_full (target, g_bytes_get_data (contents, NULL),
                                           (gssize) g_bytes_get_size (contents),
                                           G_FILE_SET_CONTENTS_NONE, 0644, NULL));
    }
}

/* Steps 1, 2, 3 committed, with keep-last-3: saving step 4 also removes
 * step 1.  Made once, copied for each run. */
static char *
prepare_faults (void)
{
  static char *pristine;
  if (pristine == NULL)
    {
      pristine = fresh_dir ("faults-pristine");
      LfCheckpointManager *manager = open_ok (pristine);
      lf_checkpoint_manager_keep_last (manager, 3);
      for (gint64 step = 1; step <= 3; step++)
        save_ok (manager, step, (double) step);
      close_ok (manager);
    }
  char *dir = fresh_dir ("faults");
  copy_files (pristine, dir);
  return dir;
}

/* After a save of step 4 was cut short: steps 2 and 3 are there, 1 and 4
 * may be, each loads, nothing else is in the directory; then step 4 saves. */
static void
check_after_fault (const char *dir, const char *what)
{
  LfCheckpointManager *manager = open_ok (dir);
  g_autofree char *steps = listed (manager);
  gboolean valid = strcmp (steps, "1 2 3") == 0 || strcmp (steps, "1 2 3 4") == 0
                   || strcmp (steps, "2 3 4") == 0;
  ck_assert_msg (valid, "%s: steps %s", what, steps);
  assert_consistent (manager, NULL);
  ck_assert_int_eq (lf_checkpoint_manager_get_latest_step (manager), steps[strlen (steps) - 1] - '0');
  lf_checkpoint_manager_keep_last (manager, 3);
  if (strstr (steps, "4") == NULL)
    save_ok (manager, 4, 4.0);
  g_autofree char *after = listed (manager);
  ck_assert_msg (strcmp (after, "2 3 4") == 0 || strcmp (after, "1 2 3 4") == 0, "%s: %s",
                 what, after);
  close_ok (manager);
}

START_TEST (test_kill_at_every_point)
{
  guint target;
  for (target = 1;; target++)
    {
      g_autofree char *dir = prepare_faults ();
      pid_t pid = fork ();
      ck_assert_int_ge (pid, 0);
      if (pid == 0)
        {
          LfCheckpointManager *manager = lf_checkpoint_manager_open (dir, NULL);
          if (manager == NULL)
            lf_test_child_exit (3);
          lf_checkpoint_manager_keep_last (manager, 3);
          LfNode *tree = model (4);
          arm (target, FAULT_KILL);
          gboolean ok = lf_checkpoint_manager_save (manager, 4, tree, NULL, NULL, NULL);
          fault.armed = FALSE;
          lf_test_child_exit (ok ? 0 : 1);
        }
      int status;
      ck_assert (waitpid (pid, &status, 0) == pid);
      g_autofree char *what = g_strdup_printf ("killed at call %u", target);
      if (WIFEXITED (status))
        {
          /* No call left to kill at: the save finished. */
          ck_assert_int_eq (WEXITSTATUS (status), 0);
          check_after_fault (dir, "finished");
          break;
        }
      ck_assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
      check_after_fault (dir, what);
    }
  /* A save of step 4 with a removal of step 1 makes 25 such calls today. */
  ck_assert_uint_ge (target, 15);
}
END_TEST

START_TEST (test_fail_at_every_point)
{
  guint failures = 0;
  for (guint target = 1;; target++)
    {
      g_autofree char *dir = prepare_faults ();
      LfCheckpointManager *manager = open_ok (dir);
      lf_checkpoint_manager_keep_last (manager, 3);
      g_autoptr (LfNode) tree = model (4);
      GError *error = NULL;
      arm (target, FAULT_FAIL);
      gboolean ok = lf_checkpoint_manager_save (manager, 4, tree, NULL, NULL, &error);
      gboolean reached = fault.count >= target;
      fault.armed = FALSE;
      ck_assert (ok == (error == NULL));
      if (!ok)
        {
          failures++;
          ck_assert (strstr (error->message, "step 4") != NULL);
          g_clear_error (&error);
        }
      /* The manager's view is what the next manager reads from the
       * directory (check_after_fault then checks the directory). */
      g_autofree char *seen = listed (manager);
      if (ok)
        ck_assert_str_eq (seen, "2 3 4");
      close_ok (manager);
      LfCheckpointManager *reopened = open_ok (dir);
      g_autofree char *again = listed (reopened);
      ck_assert_msg (strcmp (seen, again) == 0, "call %u: %s, then %s", target, seen, again);
      close_ok (reopened);
      g_autofree char *what = g_strdup_printf ("failed at call %u", target);
      check_after_fault (dir, what);
      if (!reached)
        break;
    }
  ck_assert_uint_ge (failures, 10);
}
END_TEST

/* ---- the IO table --------------------------------------------------------------------------- */

typedef struct {
  guint saves, loads;
  GMutex mutex;
  GCond cond;
  gboolean gate_closed;   /* saves wait while TRUE */
  gboolean fail;          /* saves fail */
  LfNode *seen;           /* the last tree a save got */
} Io;

static gboolean
io_save (gpointer user_data, const char *path, LfNode *tree, LfSpec *spec, GError **error)
{
  Io *io = user_data;
  g_mutex_lock (&io->mutex);
  while (io->gate_closed)
    g_cond_wait (&io->cond, &io->mutex);
  io->saves++;
  g_clear_pointer (&io->seen, lf_node_unref);
  io->seen = lf_node_ref (tree);
  gboolean fail = io->fail;
  g_mutex_unlock (&io->mutex);
  if (fail)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "disk on fire");
      return FALSE;
    }
  return lf_tree_serialise_leaves_full (path, tree, spec, NULL, NULL, LF_SAVE_MANIFEST, error);
}

static LfNode *
io_load (gpointer user_data, const char *path, LfNode *like, LfSpec *spec, GError **error)
{
  Io *io = user_data;
  io->loads++;
  return lf_tree_deserialise_leaves (path, like, spec, NULL, NULL, error);
}

static const LfCheckpointIO test_io = {
  .struct_size = sizeof (LfCheckpointIO),
  .save = io_save,
  .load = io_load,
};

static void
open_gate (Io *io)
{
  g_mutex_lock (&io->mutex);
  io->gate_closed = FALSE;
  g_cond_broadcast (&io->cond);
  g_mutex_unlock (&io->mutex);
}

static void
io_init (Io *io, gboolean gate_closed, gboolean fail)
{
  *io = (Io) { .gate_closed = gate_closed, .fail = fail };
  g_mutex_init (&io->mutex);
  g_cond_init (&io->cond);
}

static void
io_clear (Io *io)
{
  g_clear_pointer (&io->seen, lf_node_unref);
  g_mutex_clear (&io->mutex);
  g_cond_clear (&io->cond);
}

START_TEST (test_io_table)
{
  g_autofree char *dir = fresh_dir ("io");
  Io io;
  io_init (&io, FALSE, FALSE);
  LfCheckpointManager *manager = open_ok (dir);
  lf_checkpoint_manager_set_io (manager, &test_io, &io);
  save_ok (manager, 1, 1.0);
  g_autoptr (LfNode) like = model (1);
  GError *error = NULL;
  g_autoptr (LfNode) got = lf_checkpoint_manager_restore (manager, 1, like, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (got, like));
  ck_assert_uint_eq (io.saves, 1);
  ck_assert_uint_eq (io.loads, 1);
  /* Back to the default functions. */
  lf_checkpoint_manager_set_io (manager, NULL, NULL);
  save_ok (manager, 2, 1.0);
  ck_assert_uint_eq (io.saves, 1);
  close_ok (manager);
  io_clear (&io);
}
END_TEST

/* ---- asynchronous saves ------------------------------------------------------------------------ */

START_TEST (test_async_snapshot)
{
  g_autofree char *dir = fresh_dir ("async");
  Io io;
  io_init (&io, TRUE, FALSE);
  LfCheckpointManager *manager = open_ok (dir);
  lf_checkpoint_manager_set_io (manager, &test_io, &io);

  /* Two borrowed arrays (the caller's buffers; the big one is copied into
   * pooled memory) and one owned. */
  float buffer[6] = { 1, 2, 3, 4, 5, 6 };
  gsize six = 6, big_n = 1 << 19;
  g_autofree float *big = g_new (float, big_n);
  for (gsize i = 0; i < big_n; i++)
    big[i] = (float) i;
  g_autoptr (LfNode) owned = model (3);
  g_autoptr (LfNode) tree = lf_dict_new_take (
      "borrowed", lf_array_new_borrowed (LF_DTYPE_FLOAT32, 1, &six, buffer, NULL, NULL),
      "big", lf_array_new_borrowed (LF_DTYPE_FLOAT32, 1, &big_n, big, NULL, NULL),
      "owned", lf_node_ref (lf_dict_lookup (owned, "w")), NULL);
  g_autoptr (LfNode) expected = lf_dict_new_take (
      "borrowed", lf_array_new_copy (LF_DTYPE_FLOAT32, 1, &six, buffer),
      "big", lf_array_new_copy (LF_DTYPE_FLOAT32, 1, &big_n, big),
      "owned", lf_node_ref (lf_dict_lookup (owned, "w")), NULL);
  GError *error = NULL;
  ck_assert (lf_checkpoint_manager_save_async (manager, 3, tree, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  /* The save has not written anything yet (the gate holds it); change the
   * caller's buffer, then let it go on. */
  for (int i = 0; i < 6; i++)
    buffer[i] = -1;
  memset (big, 0xff, big_n * sizeof (float));
  ck_assert_int_eq (lf_checkpoint_manager_get_latest_step (manager), -1);
  open_gate (&io);
  ck_assert (lf_checkpoint_manager_wait (manager, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert_int_eq (lf_checkpoint_manager_get_latest_step (manager), 3);
  /* The owned leaf went by reference, the borrowed one as a copy. */
  ck_assert (lf_dict_lookup (io.seen, "owned") == lf_dict_lookup (owned, "w"));
  ck_assert (lf_dict_lookup (io.seen, "borrowed") != lf_dict_lookup (tree, "borrowed"));
  g_autoptr (LfNode) got = lf_checkpoint_manager_restore (manager, 3, expected, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (got, expected));
  /* Nothing in flight: wait has nothing to say. */
  ck_assert (lf_checkpoint_manager_wait (manager, &error));
  close_ok (manager);
  io_clear (&io);
}
END_TEST

static gpointer
open_gate_later (gpointer data)
{
  g_usleep (50 * 1000);
  open_gate (data);
  return NULL;
}

/* A second save waits for the first; closing waits too. */
START_TEST (test_async_order)
{
  g_autofree char *dir = fresh_dir ("order");
  Io io;
  io_init (&io, TRUE, FALSE);
  LfCheckpointManager *manager = open_ok (dir);
  lf_checkpoint_manager_set_io (manager, &test_io, &io);
  lf_checkpoint_manager_keep_last (manager, 1);
  g_autoptr (LfNode) one = model (1);
  g_autoptr (LfNode) two = model (2);
  GError *error = NULL;
  ck_assert (lf_checkpoint_manager_save_async (manager, 1, one, NULL, NULL, &error));
  GThread *opener = g_thread_new ("gate", open_gate_later, &io);
  ck_assert (lf_checkpoint_manager_save_async (manager, 2, two, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  /* Step 1 was committed before step 2 started. */
  ck_assert_uint_ge (io.saves, 1);
  ck_assert_int_ge (lf_checkpoint_manager_get_latest_step (manager), 1);
  g_thread_join (opener);
  close_ok (manager);
  manager = open_ok (dir);
  g_autofree char *steps = listed (manager);
  ck_assert_str_eq (steps, "2");
  assert_consistent (manager, NULL);
  close_ok (manager);
  io_clear (&io);
}
END_TEST

/* An asynchronous save's error reaches wait, or the next save, or close. */
START_TEST (test_async_errors)
{
  g_autofree char *dir = fresh_dir ("async-errors");
  Io io;
  io_init (&io, FALSE, TRUE);
  g_autoptr (LfNode) tree = model (1);
  GError *error = NULL;
  for (int reporter = 0; reporter < 3; reporter++)
    {
      LfCheckpointManager *manager = open_ok (dir);
      lf_checkpoint_manager_set_io (manager, &test_io, &io);
      ck_assert (lf_checkpoint_manager_save_async (manager, 1, tree, NULL, NULL, &error));
      LF_ASSERT_NO_ERROR (error);
      if (reporter == 0)
        {
          ck_assert (!lf_checkpoint_manager_wait (manager, &error));
          LF_ASSERT_ERROR (error, LF_ERROR_IO, "saving step 1: disk on fire");
          close_ok (manager);
        }
      else if (reporter == 1)
        {
          /* The next save reports it and does not start. */
          ck_assert (!lf_checkpoint_manager_save (manager, 2, tree, NULL, NULL, &error));
          LF_ASSERT_ERROR (error, LF_ERROR_IO, "an asynchronous save failed");
          ck_assert_uint_eq (io.saves, 2);  /* this loop's two, not a third */
          close_ok (manager);
        }
      else
        {
          ck_assert (!lf_checkpoint_manager_close (manager, &error));
          LF_ASSERT_ERROR (error, LF_ERROR_IO, "disk on fire");
        }
    }
  LfCheckpointManager *manager = open_ok (dir);
  g_autofree char *steps = listed (manager);
  ck_assert_str_eq (steps, "");
  assert_consistent (manager, NULL);
  close_ok (manager);
  io_clear (&io);
}
END_TEST

/* Many small borrowed leaves and a few big ones, freed by the caller as
 * soon as save_async returns: the snapshot copied them all (split over
 * `threads` threads, big leaves cut between them), and the step holds what
 * the tree held at the call. */
static void
check_async_many_borrowed (const char *threads)
{
  g_setenv ("LEAFIO_COPY_THREADS", threads, TRUE);
  g_autofree char *name = g_strdup_printf ("async-many-%s", threads);
  g_autofree char *dir = fresh_dir (name);
  Io io;
  io_init (&io, TRUE, FALSE);
  LfCheckpointManager *manager = open_ok (dir);
  lf_checkpoint_manager_set_io (manager, &test_io, &io);
  enum { N_LEAVES = 600 };
  gpointer buffers[N_LEAVES];
  LfNode *borrowed[N_LEAVES], *copies[N_LEAVES];
  for (guint i = 0; i < N_LEAVES; i++)
    {
      /* Three big leaves (9, 13 and 5 MiB) among small ones of 1 B to 40 KiB. */
      gsize n = i == 100 ? (9u << 20) : i == 300 ? (13u << 20) + 17 : i == 599 ? (5u << 20)
                : (gsize) (i * 7919 % 40000) + 1;
      guint8 *data = g_malloc (n);
      for (gsize j = 0; j < n; j++)
        data[j] = (guint8) (j * 31 + i);
      buffers[i] = data;
      borrowed[i] = lf_array_new_borrowed (LF_DTYPE_UINT8, 1, &n, data, NULL, NULL);
      copies[i] = lf_array_new_copy (LF_DTYPE_UINT8, 1, &n, data);
    }
  g_autoptr (LfNode) tree = lf_list_new (N_LEAVES, borrowed);
  g_autoptr (LfNode) expected = lf_list_new (N_LEAVES, copies);
  GError *error = NULL;
  ck_assert (lf_checkpoint_manager_save_async (manager, 1, tree, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  /* The caller's buffers go at once (a use of them would be caught by
   * the sanitizers and valgrind); the save has not started yet. */
  for (guint i = 0; i < N_LEAVES; i++)
    {
      memset (buffers[i], 0xee, lf_array_get_n_bytes (copies[i]));
      g_free (buffers[i]);
      lf_node_unref (borrowed[i]);
      lf_node_unref (copies[i]);
    }
  g_clear_pointer (&tree, lf_node_unref);
  open_gate (&io);
  ck_assert (lf_checkpoint_manager_wait (manager, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) got = lf_checkpoint_manager_restore (manager, 1, expected, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (got, expected));
  close_ok (manager);
  io_clear (&io);
  g_unsetenv ("LEAFIO_COPY_THREADS");
}

START_TEST (test_async_many_borrowed)
{
  check_async_many_borrowed ("2");
}
END_TEST

START_TEST (test_async_many_borrowed_more_threads)
{
  check_async_many_borrowed ("5");
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *s = suite_create ("checkpoint");
  TCase *tc = tcase_create ("manager");
  tcase_set_timeout (tc, 60);  /* every save syncs several times */
  tcase_add_test (tc, test_save_list_restore);
  tcase_add_test (tc, test_plain_files);
  tcase_add_test (tc, test_refusals);
  tcase_add_test (tc, test_lock);
  tcase_add_test (tc, test_retention);
  tcase_add_test (tc, test_leftovers);
  tcase_add_test (tc, test_io_table);
  suite_add_tcase (s, tc);
  tc = tcase_create ("faults");
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_kill_at_every_point);
  tcase_add_test (tc, test_fail_at_every_point);
  suite_add_tcase (s, tc);
  tc = tcase_create ("async");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_async_snapshot);
  tcase_add_test (tc, test_async_order);
  tcase_add_test (tc, test_async_errors);
  tcase_add_test (tc, test_async_many_borrowed);
  tcase_add_test (tc, test_async_many_borrowed_more_threads);
  suite_add_tcase (s, tc);
  return s;
}
