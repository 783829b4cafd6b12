/* The checkpoint manager over MPI (lf_mpi_checkpoint_manager_open), run by
 * test-mpi.sh under mpirun with 2 and 3 ranks.  Each mode checks one
 * thing; a failed check prints "rank R: FAIL: ..." and the driver exits 1
 * on every rank when any rank failed.
 *
 *   mpi-checkpoint-driver manager DIR   steps byte-identical to a serial
 *       manager's (data and manifest), retention applied once (by rank 0:
 *       the other ranks remove and rename nothing), the same list and
 *       latest step on every rank, restores, LF_ERROR_BUSY for a second
 *       manager, reopening
 *   mpi-checkpoint-driver fail DIR      failures on one rank fail the save
 *       on every rank and leave no step
 *   mpi-checkpoint-driver async DIR     asynchronous saves after MPI_Init:
 *       they save before returning
 *   mpi-checkpoint-driver threads DIR   asynchronous saves after
 *       MPI_Init_thread (MPI_THREAD_MULTIPLE): on the manager's thread
 *
 * Removals of step files and renames are counted by defining unlink() and
 * rename() here (the executable's symbols come first in the dynamic
 * linker's search). */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>
#include <leafio/leafio-mpi.h>
#include "mpi-test-common.h"

/* ---- counting removals and renames in one directory ----------------------------- */

/* Removals of step files (MPI-IO makes and removes files of its own beside
 * the file it writes), and renames into the directory. */
static char *watched;   /* a directory with its trailing '/' */
static int removals, renames;

#define REAL(name)                                                          \
  static __typeof__ (name) *real_##name;                                    \
  if (real_##name == NULL)                                                  \
    real_##name = (__typeof__ (name) *) dlsym (RTLD_NEXT, #name)

int
unlink (const char *path)
{
  REAL (unlink);
  int result = real_unlink (path);
  if (result == 0 && watched != NULL && g_str_has_prefix (path, watched)
      && g_str_has_prefix (path + strlen (watched), "step-"))
    removals++;
  return result;
}

int
rename (const char *from, const char *to)
{
  REAL (rename);
  int result = real_rename (from, to);
  if (result == 0 && watched != NULL && g_str_has_prefix (to, watched))
    renames++;
  return result;
}

static void
watch (const char *dir)
{
  g_free (watched);
  watched = dir != NULL ? g_strconcat (dir, "/", NULL) : NULL;
  removals = renames = 0;
}

/* ---- the model ----------------------------------------------------------------------- */

#define EMBED_ROWS 10
#define EMBED_WIDTH 3
#define IDS_ROWS 7

static float
embed_value (gint64 step, gsize i)
{
  return (float) ((step * 131 + (gint64) i * 17) % 257) / 4.0f;
}

/* Step `step`'s model as rank `r` of `n` holds it (`n` 0: the whole
 * model): .embed and .ids sharded by even rows, .bias whole on every rank. */
static LfNode *
model (gint64 step, int r, int n)
{
  guint64 first = 0, rows = EMBED_ROWS, id_first = 0, id_rows = IDS_ROWS;
  if (n > 0)
    {
      lf_mpi_even_rows (EMBED_ROWS, r, n, &first, &rows);
      lf_mpi_even_rows (IDS_ROWS, r, n, &id_first, &id_rows);
    }
  float *embed = g_new (float, MAX (rows * EMBED_WIDTH, 1));
  for (gsize i = 0; i < rows * EMBED_WIDTH; i++)
    embed[i] = embed_value (step, first * EMBED_WIDTH + i);
  gint64 *ids = g_new (gint64, MAX (id_rows, 1));
  for (gsize i = 0; i < id_rows; i++)
    ids[i] = step * 1000 + (gint64) (id_first + i);
  double bias[4] = { step, -step, 0.5, 1e300 };
  gsize embed_shape[2] = { rows, EMBED_WIDTH }, ids_shape[1] = { id_rows }, bias_shape[1] = { 4 };
  const char *keys[] = { "bias", "embed", "ids", "step" };
  LfNode *values[] = {
    lf_array_new_copy (LF_DTYPE_FLOAT64, 1, bias_shape, bias),
    lf_array_new_take (LF_DTYPE_FLOAT32, 2, embed_shape, embed),
    lf_array_new_take (LF_DTYPE_INT64, 1, ids_shape, ids),
    lf_scalar_new_int (step),
  };
  LfNode *tree = lf_dict_new (G_N_ELEMENTS (keys), keys, values);
  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    lf_node_unref (values[i]);
  return tree;
}

static LfMpiLayout *
make_layout (void)
{
  GError *error = NULL;
  LfMpiLayout *layout = lf_mpi_layout_new ();
  guint64 first;
  lf_mpi_even_rows (EMBED_ROWS, rank, n_ranks, &first, NULL);
  lf_mpi_layout_add_shard (layout, "['embed']", EMBED_ROWS, first, &error);
  CHECK_NO_ERROR (error);
  lf_mpi_even_rows (IDS_ROWS, rank, n_ranks, &first, NULL);
  lf_mpi_layout_add_shard (layout, "['ids']", IDS_ROWS, first, &error);
  CHECK_NO_ERROR (error);
  return layout;
}

/* This rank's `like` for a restore: abstract blocks, a scalar. */
static LfNode *
make_like (void)
{
  g_autoptr (LfNode) tree = model (0, rank, n_ranks);
  return abstract_arrays (tree);
}

/* A loss whose best value is at step 2, so keep-best keeps an old step. */
static LfNode *
metrics_for (gint64 step)
{
  const char *keys[] = { "loss" };
  LfNode *values[] = { lf_scalar_new_float ((double) ABS (step - 2) + 0.25) };
  LfNode *metrics = lf_dict_new (1, keys, values);
  lf_node_unref (values[0]);
  return metrics;
}

static void
set_policies (LfCheckpointManager *manager)
{
  lf_checkpoint_manager_keep_last (manager, 2);
  lf_checkpoint_manager_keep_best (manager, "loss", LF_METRIC_MIN, 1);
}

/* An MPI manager of `dir` with the policies set, or NULL (a failed check). */
static LfCheckpointManager *
open_manager (const char *dir, LfMpiLayout *layout)
{
  GError *error = NULL;
  LfCheckpointManager *manager = lf_mpi_checkpoint_manager_open (MPI_COMM_WORLD, dir, layout,
                                                                 &error);
  CHECK_NO_ERROR (error);
  if (manager != NULL)
    set_policies (manager);
  return manager;
}

/* ---- helpers ------------------------------------------------------------------------ */

static char *
subdir (const char *dir, const char *name)
{
  char *path = g_build_filename (dir, name, NULL);
  if (rank == 0)
    g_mkdir_with_parents (path, 0777);
  MPI_Barrier (MPI_COMM_WORLD);
  return path;
}

/* Rank 0's text on every rank (free it). */
static char *
rank0_text (const char *text)
{
  int length = (int) strlen (text);
  MPI_Bcast (&length, 1, MPI_INT, 0, MPI_COMM_WORLD);
  char *first = g_malloc0 ((gsize) length + 1);
  if (rank == 0)
    memcpy (first, text, (gsize) length);
  MPI_Bcast (first, length, MPI_CHAR, 0, MPI_COMM_WORLD);
  return first;
}

/* Every rank has an error with `code`, with the same text as rank 0's,
 * which contains `part` (may be NULL). */
static void
check_same_error (GError *error, int code, const char *part, const char *what)
{
  CHECK (error != NULL, "%s: expected an error, got none", what);
  g_autofree char *first = rank0_text (error != NULL ? error->message : "");
  if (error == NULL)
    return;
  CHECK (error->domain == LF_ERROR && error->code == code, "%s: expected code %d, got %d: %s",
         what, code, error->code, error->message);
  CHECK (strcmp (first, error->message) == 0, "%s: rank 0 got \"%s\", this rank \"%s\"",
         what, first, error->message);
  CHECK (part == NULL || strstr (error->message, part) != NULL,
         "%s: \"%s\" does not say \"%s\"", what, error->message, part);
}

/* The manager's steps as text: step, time, size and metrics. */
static char *
describe_steps (LfCheckpointManager *manager)
{
  g_autoptr (GPtrArray) steps = lf_checkpoint_manager_list (manager);
  GString *text = g_string_new ("");
  for (guint i = 0; i < steps->len; i++)
    {
      const LfCheckpointStep *step = steps->pdata[i];
      double loss = -1;
      lf_checkpoint_step_get_metric (step, "loss", &loss);
      g_string_append_printf (text, "%" G_GINT64_FORMAT "@%" G_GINT64_FORMAT " %" G_GUINT64_FORMAT
                              "B loss=%.17g\n", step->step, step->time, step->size, loss);
    }
  return g_string_free (text, FALSE);
}

/* Every rank lists rank 0's steps, and `expected` steps ("2 5 6"). */
static void
check_steps (LfCheckpointManager *manager, const char *expected, const char *what)
{
  g_autofree char *mine = describe_steps (manager);
  g_autofree char *first = rank0_text (mine);
  CHECK (strcmp (mine, first) == 0, "%s: this rank lists\n%sand rank 0\n%s", what, mine, first);
  g_autoptr (GPtrArray) steps = lf_checkpoint_manager_list (manager);
  GString *numbers = g_string_new ("");
  for (guint i = 0; i < steps->len; i++)
    g_string_append_printf (numbers, "%s%" G_GINT64_FORMAT, i ? " " : "",
                            ((LfCheckpointStep *) steps->pdata[i])->step);
  CHECK (strcmp (numbers->str, expected) == 0, "%s: steps \"%s\", expected \"%s\"", what,
         numbers->str, expected);
  gint64 latest = lf_checkpoint_manager_get_latest_step (manager);
  gint64 last = steps->len > 0 ? ((LfCheckpointStep *) steps->pdata[steps->len - 1])->step : -1;
  CHECK (latest == last, "%s: latest step %" G_GINT64_FORMAT ", listed %" G_GINT64_FORMAT,
         what, latest, last);
  g_string_free (numbers, TRUE);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The sorted names of a directory's files, one a line. */
static char *
list_directory (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv ("\n", (char **) names->pdata);
}

/* Rank 0: the same file names in both directories, and the same bytes in
 * every step's data and manifest (commit records hold their own time). */
static void
check_same_directories (const char *serial, const char *collective)
{
  if (rank != 0)
    return;
  g_autofree char *names = list_directory (serial);
  g_autofree char *other = list_directory (collective);
  CHECK (strcmp (names, other) == 0, "the directories differ:\n%s\n--\n%s", names, other);
  g_auto (GStrv) lines = g_strsplit (names, "\n", -1);
  int compared = 0;
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_suffix (lines[i], ".eqx") || g_str_has_suffix (lines[i], ".eqx.json"))
      {
        g_autofree char *a = g_build_filename (serial, lines[i], NULL);
        g_autofree char *b = g_build_filename (collective, lines[i], NULL);
        CHECK (files_equal (a, b), "%s differs from the serial manager's", b);
        compared++;
      }
  CHECK (compared == 6, "compared %d files, expected the data and manifest of 3 steps",
         compared);
}

static void
check_restore (LfCheckpointManager *manager, gint64 step, gint64 expected, const char *what)
{
  GError *error = NULL;
  g_autoptr (LfNode) like = make_like ();
  g_autoptr (LfNode) restored = lf_checkpoint_manager_restore (manager, step, like, NULL, &error);
  CHECK_NO_ERROR (error);
  g_autoptr (LfNode) want = model (expected, rank, n_ranks);
  CHECK (restored != NULL && lf_tree_equal (restored, want), "%s: this rank's part of step %"
         G_GINT64_FORMAT " is not what was saved", what, expected);
}

/* ---- modes ---------------------------------------------------------------------------- */

static const gint64 n_steps = 6;

/* The serial manager's run on rank 0: the removals and renames it made. */
static void
serial_run (const char *dir, int *serial_removals, int *serial_renames)
{
  GError *error = NULL;
  if (rank == 0)
    {
      watch (dir);
      g_autoptr (LfCheckpointManager) manager = lf_checkpoint_manager_open (dir, &error);
      CHECK_NO_ERROR (error);
      set_policies (manager);
      for (gint64 step = 1; manager != NULL && step <= n_steps; step++)
        {
          g_autoptr (LfNode) tree = model (step, 0, 0);
          g_autoptr (LfNode) metrics = metrics_for (step);
          lf_checkpoint_manager_save (manager, step, tree, NULL, metrics, &error);
          CHECK_NO_ERROR (error);
        }
      *serial_removals = removals;
      *serial_renames = renames;
      watch (NULL);
    }
  MPI_Bcast (serial_removals, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Bcast (serial_renames, 1, MPI_INT, 0, MPI_COMM_WORLD);
}

static void
check_busy (const char *dir, LfMpiLayout *layout)
{
  GError *error = NULL;
  LfCheckpointManager *second = lf_mpi_checkpoint_manager_open (MPI_COMM_WORLD, dir, layout,
                                                                &error);
  CHECK (second == NULL, "a second MPI manager opened the directory");
  check_same_error (error, LF_ERROR_BUSY, "rank 0: ", "a second MPI manager");
  g_clear_error (&error);
  /* A serial manager, in rank 0's process and in the others. */
  LfCheckpointManager *serial = lf_checkpoint_manager_open (dir, &error);
  CHECK (serial == NULL && error != NULL && error->code == LF_ERROR_BUSY,
         "a serial manager on rank %d: %s", rank, error ? error->message : "opened");
  g_clear_error (&error);
  if (serial != NULL)
    lf_checkpoint_manager_free (serial);
  /* Rank 0 holds the lock until every rank has tried. */
  MPI_Barrier (MPI_COMM_WORLD);
}

static void
mode_manager (const char *top)
{
  GError *error = NULL;
  g_autofree char *serial = subdir (top, "serial");
  g_autofree char *dir = subdir (top, "mpi");
  int serial_removals = 0, serial_renames = 0;
  serial_run (serial, &serial_removals, &serial_renames);

  g_autoptr (LfMpiLayout) layout = make_layout ();
  watch (dir);
  LfCheckpointManager *manager = open_manager (dir, layout);
  if (manager == NULL)
    return;
  for (gint64 step = 1; step <= n_steps; step++)
    {
      g_autoptr (LfNode) tree = model (step, rank, n_ranks);
      g_autoptr (LfNode) metrics = metrics_for (step);
      lf_checkpoint_manager_save (manager, step, tree, NULL, metrics, &error);
      CHECK_NO_ERROR (error);
    }
  /* Retention ran once, on rank 0, as the serial manager's did. */
  if (rank == 0)
    CHECK (removals == serial_removals && renames == serial_renames,
           "rank 0 removed %d and renamed %d files, the serial manager %d and %d", removals,
           renames, serial_removals, serial_renames);
  else
    CHECK (removals == 0 && renames == 0, "a follower removed %d and renamed %d files",
           removals, renames);
  CHECK (serial_removals == 9, "the serial manager removed %d files, expected 3 steps' 9",
         serial_removals);
  watch (NULL);
  check_steps (manager, "2 5 6", "after the saves");
  check_same_directories (serial, dir);
  check_restore (manager, LF_CHECKPOINT_LATEST, 6, "restore (latest)");
  check_restore (manager, 2, 2, "restore (2)");
  check_busy (dir, layout);

  /* Reopened: the same steps everywhere, and saving goes on. */
  g_autofree char *before = describe_steps (manager);
  lf_checkpoint_manager_close (manager, &error);
  CHECK_NO_ERROR (error);
  manager = open_manager (dir, layout);
  if (manager == NULL)
    return;
  g_autofree char *after = describe_steps (manager);
  CHECK (strcmp (before, after) == 0, "reopened, this rank lists\n%sinstead of\n%s", after,
         before);
  g_autoptr (LfNode) tree = model (7, rank, n_ranks);
  lf_checkpoint_manager_save (manager, 7, tree, NULL, NULL, &error);
  CHECK_NO_ERROR (error);
  check_steps (manager, "2 6 7", "after reopening and saving 7");
  check_restore (manager, LF_CHECKPOINT_LATEST, 7, "restore (latest) after reopening");
  lf_checkpoint_manager_close (manager, &error);
  CHECK_NO_ERROR (error);

  /* Ranks that name different directories are refused, not deadlocked. */
  g_autofree char *mine = g_strdup_printf ("%s/rank-%d", top, rank);
  manager = lf_mpi_checkpoint_manager_open (MPI_COMM_WORLD, mine, layout, &error);
  CHECK (manager == NULL, "ranks opened different directories");
  check_same_error (error, LF_ERROR_MISMATCH, "rank 1: ", "different directories");
  g_clear_error (&error);
}

static LfSpec *
failing_spec (void)
{
  GError *error = NULL;
  LfRegistry *registry = lf_registry_get_default ();
  if (lf_registry_lookup (registry, "fail-on-1") == NULL)
    register_fail_on_1 ();
  g_autoptr (LfCodec) codec = lf_registry_resolve (registry, "fail-on-1", &error);
  CHECK_NO_ERROR (error);
  return lf_spec_new_codec (codec);
}

/* Nothing of `step` in `dir`: no step file, no temporary file. */
static void
check_no_trace (const char *dir, gint64 step, const char *what)
{
  g_autofree char *names = list_directory (dir);
  g_autofree char *prefix = g_strdup_printf ("step-%08" G_GINT64_FORMAT ".", step);
  g_auto (GStrv) lines = g_strsplit (names, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      CHECK (!g_str_has_prefix (lines[i], prefix), "%s: %s is left", what, lines[i]);
      CHECK (lines[i][0] != '.' || strcmp (lines[i], ".leafio-checkpoints.lock") == 0,
             "%s: temporary file %s is left", what, lines[i]);
    }
}

static void
mode_fail (const char *top)
{
  GError *error = NULL;
  g_autofree char *dir = subdir (top, "fail");
  g_autoptr (LfMpiLayout) layout = make_layout ();
  g_autoptr (LfCheckpointManager) manager = lf_mpi_checkpoint_manager_open (MPI_COMM_WORLD, dir,
                                                                            layout, &error);
  CHECK_NO_ERROR (error);
  if (manager == NULL)
    return;
  g_autoptr (LfNode) one = model (1, rank, n_ranks);
  lf_checkpoint_manager_save (manager, 1, one, NULL, NULL, &error);
  CHECK_NO_ERROR (error);
  g_autoptr (LfNode) two = model (2, rank, n_ranks);

  /* Rank 1 cannot encode: the collective save fails everywhere. */
  g_autoptr (LfSpec) failing = failing_spec ();
  lf_checkpoint_manager_save (manager, 2, two, failing, NULL, &error);
  check_same_error (error, LF_ERROR_IO, "rank 1: ", "a codec failing on rank 1");
  CHECK (error == NULL || strstr (error->message, "injected failure on rank 1") != NULL,
         "the error does not say what failed: %s", error ? error->message : "");
  g_clear_error (&error);
  check_no_trace (dir, 2, "after a failed encode");
  check_steps (manager, "1", "after a failed encode");

  /* Metrics that only rank 1 gets wrong. */
  g_autoptr (LfNode) bad = rank == 1 ? lf_scalar_new_float (1) : NULL;
  lf_checkpoint_manager_save (manager, 2, two, NULL, bad, &error);
  check_same_error (error, LF_ERROR_UNSUPPORTED, "rank 1: ", "metrics wrong on rank 1");
  g_clear_error (&error);

  /* A rank that saves another step. */
  lf_checkpoint_manager_save (manager, rank == 1 ? 3 : 2, two, NULL, NULL, &error);
  check_same_error (error, LF_ERROR_MISMATCH, "rank 1: ", "another step on rank 1");
  g_clear_error (&error);
  check_no_trace (dir, 2, "after refused saves");
  check_no_trace (dir, 3, "after refused saves");

  /* An asynchronous save that fails: reported by wait, everywhere. */
  CHECK (lf_checkpoint_manager_save_async (manager, 2, two, failing, NULL, &error),
         "save_async did not start: %s", error ? error->message : "");
  g_clear_error (&error);
  lf_checkpoint_manager_wait (manager, &error);
  check_same_error (error, LF_ERROR_IO, "rank 1: ", "an asynchronous save failing on rank 1");
  g_clear_error (&error);
  check_no_trace (dir, 2, "after a failed asynchronous save");
  check_steps (manager, "1", "after a failed asynchronous save");

  /* A file of a step's name the manager did not make stays, and stops the save. */
  g_autofree char *foreign = g_build_filename (dir, "step-00000009.eqx", NULL);
  if (rank == 0)
    CHECK (g_file_set_contents (foreign, "not ours", -1, NULL), "cannot write %s", foreign);
  MPI_Barrier (MPI_COMM_WORLD);
  g_autoptr (LfNode) nine = model (9, rank, n_ranks);
  lf_checkpoint_manager_save (manager, 9, nine, NULL, NULL, &error);
  check_same_error (error, LF_ERROR_FAILED, "rank 0: ", "a file the manager did not make");
  g_clear_error (&error);
  CHECK (g_file_test (foreign, G_FILE_TEST_EXISTS), "%s was removed", foreign);

  /* Restores and removals: the same outcome everywhere. */
  g_autoptr (LfNode) like = make_like ();
  g_autoptr (LfNode) none = lf_checkpoint_manager_restore (manager, 5, like, NULL, &error);
  CHECK (none == NULL, "restored a step that is not there");
  check_same_error (error, LF_ERROR_NOT_FOUND, "rank 0: ", "restoring a missing step");
  g_clear_error (&error);
  lf_checkpoint_manager_remove (manager, 1, &error);
  CHECK_NO_ERROR (error);
  check_steps (manager, "", "after removing step 1");
  check_no_trace (dir, 1, "after removing step 1");
  none = lf_checkpoint_manager_restore (manager, LF_CHECKPOINT_LATEST, like, NULL, &error);
  CHECK (none == NULL, "restored the latest step of an empty directory");
  check_same_error (error, LF_ERROR_NOT_FOUND, NULL, "restoring from an empty directory");
  g_clear_error (&error);
  lf_checkpoint_manager_remove (manager, 1, &error);
  check_same_error (error, LF_ERROR_NOT_FOUND, NULL, "removing a removed step");
  g_clear_error (&error);
}

/* A model whose .embed block borrows `embed` (this rank's rows). */
static LfNode *
borrowing_model (gint64 step, float *embed)
{
  g_autoptr (LfNode) owned = model (step, rank, n_ranks);
  LfNode *block = lf_dict_lookup (owned, "embed");
  memcpy (embed, lf_array_get_data (block), lf_array_get_n_bytes (block));
  g_autoptr (LfNode) borrowed = lf_array_new_borrowed (LF_DTYPE_FLOAT32, 2,
                                                       lf_array_get_shape (block), embed,
                                                       NULL, NULL);
  const char *keys[] = { "bias", "embed", "ids", "step" };
  LfNode *values[] = {
    lf_dict_lookup (owned, "bias"), borrowed, lf_dict_lookup (owned, "ids"),
    lf_dict_lookup (owned, "step"),
  };
  return lf_dict_new (G_N_ELEMENTS (keys), keys, values);
}

/* Asynchronous saves of trees that borrow memory the loop changes as soon
 * as save_async returns: the steps hold what was passed, byte for byte as
 * a serial manager saves them.  `threads`: MPI_THREAD_MULTIPLE was
 * provided, so saves run on the manager's thread; otherwise each one is
 * committed before save_async returns. */
static void
mode_async (const char *top, gboolean threads)
{
  GError *error = NULL;
  g_autofree char *serial = subdir (top, "async-serial");
  g_autofree char *dir = subdir (top, "async");
  int serial_removals = 0, serial_renames = 0;
  serial_run (serial, &serial_removals, &serial_renames);

  g_autoptr (LfMpiLayout) layout = make_layout ();
  LfCheckpointManager *manager = open_manager (dir, layout);
  if (manager == NULL)
    return;
  float embed[EMBED_ROWS * EMBED_WIDTH];
  for (gint64 step = 1; step <= n_steps; step++)
    {
      g_autoptr (LfNode) tree = borrowing_model (step, embed);
      g_autoptr (LfNode) metrics = metrics_for (step);
      CHECK (lf_checkpoint_manager_save_async (manager, step, tree, NULL, metrics, &error),
             "save_async (%" G_GINT64_FORMAT "): %s", step, error ? error->message : "");
      g_clear_error (&error);
      if (!threads)
        CHECK (lf_checkpoint_manager_get_latest_step (manager) == step,
               "without MPI_THREAD_MULTIPLE step %" G_GINT64_FORMAT " was not committed when "
               "save_async returned", step);
      memset (embed, 0xff, sizeof embed);   /* the caller's memory changes at once */
    }
  lf_checkpoint_manager_wait (manager, &error);
  CHECK_NO_ERROR (error);
  check_steps (manager, "2 5 6", "after asynchronous saves");
  check_restore (manager, LF_CHECKPOINT_LATEST, 6, "restore (latest) after asynchronous saves");
  lf_checkpoint_manager_close (manager, &error);
  CHECK_NO_ERROR (error);
  check_same_directories (serial, dir);
}

int
main (int argc, char **argv)
{
  gboolean threads = argc == 3 && strcmp (argv[1], "threads") == 0;
  int provided = MPI_THREAD_SINGLE;
  if (threads)
    MPI_Init_thread (&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  else
    MPI_Init (&argc, &argv);
  MPI_Comm_rank (MPI_COMM_WORLD, &rank);
  MPI_Comm_size (MPI_COMM_WORLD, &n_ranks);
  if (argc != 3 || n_ranks < 2)
    {
      if (rank == 0)
        fprintf (stderr, "usage: mpirun -np 2.. mpi-checkpoint-driver "
                 "manager|fail|async|threads DIR\n");
      MPI_Finalize ();
      return 2;
    }
  /* A critical is a bug: abort, and mpirun fails the run. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  const char *mode = argv[1], *dir = argv[2];
  if (strcmp (mode, "manager") == 0)
    mode_manager (dir);
  else if (strcmp (mode, "fail") == 0)
    mode_fail (dir);
  else if (strcmp (mode, "async") == 0)
    mode_async (dir, FALSE);
  else if (threads)
    {
      if (rank == 0)
        printf ("MPI_THREAD_MULTIPLE %s\n", provided == MPI_THREAD_MULTIPLE
                                                ? "provided: saves run on the manager's thread"
                                                : "not provided: saves run before returning");
      mode_async (dir, provided == MPI_THREAD_MULTIPLE);
    }
  else
    CHECK (FALSE, "unknown mode %s", mode);

  int total = 0;
  MPI_Allreduce (&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0)
    printf ("mpi-checkpoint-driver %s with %d ranks: %s\n", mode, n_ranks,
            total ? "FAILED" : "ok");
  MPI_Finalize ();
  return total ? 1 : 0;
}
