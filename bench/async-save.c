/* leafio-bench async-save: how long lf_checkpoint_manager_save_async blocks
 * the caller, and how long until the step is durable. */
#include <stdio.h>
#include <string.h>
#include <leafio/leafio.h>
#include "modes.h"
#include "report.h"

static int
failed (const char *what, GError *error)
{
  fprintf (stderr, "leafio-bench: %s: %s\n", what, error->message);
  g_error_free (error);
  return 1;
}

/* Leaves borrowing the memory of `owned` (which must outlive them). */
static LfNode **
borrow_leaves (guint n, LfNode **owned)
{
  LfNode **leaves = g_new0 (LfNode *, n);
  for (guint i = 0; i < n; i++)
    leaves[i] = lf_array_new_borrowed (lf_array_get_dtype (owned[i]),
                                       lf_array_get_ndim (owned[i]),
                                       lf_array_get_shape (owned[i]),
                                       lf_array_get_data (owned[i]), NULL, NULL);
  return leaves;
}

/* What a caller does with its buffers once the call returned: overwrite
 * them.  The step must still be what the tree held at the call. */
static void
scribble (guint n, LfNode **leaves)
{
  for (guint i = 0; i < n; i++)
    memset ((gpointer) lf_array_get_data (leaves[i]), 0xa5, lf_array_get_n_bytes (leaves[i]));
}

/* The step's data file against numpy's stream, by SHA-256. */
static int
check_step (const BenchRun *run, LfCheckpointManager *manager, gint64 step)
{
  GError *error = NULL;
  g_autofree char *path = lf_checkpoint_manager_get_path (manager, step);
  g_autofree char *sum = bench_file_sha256 (path, &error);
  if (sum == NULL)
    return failed ("check", error);
  if (strcmp (sum, run->workload->sha256) != 0)
    {
      fprintf (stderr, "leafio-bench: %s differs from numpy's stream (sha256 %s, want %s)\n",
               path, sum, run->workload->sha256);
      return 1;
    }
  printf ("identical %s numpy stream sha256 %s (async%s)\n", run->name, sum,
          run->borrowed ? ", borrowed" : "");
  return 0;
}

/* The floor of a borrowed snapshot, in this process and this moment: a
 * memcpy of every leaf into one buffer touched before ("memcpy-leaves"). */
static void
time_plain_copy (const BenchRun *run, guint n, LfNode **leaves, guint8 *copy, int rep)
{
  double t0 = bench_now ();
  gsize at = 0;
  for (guint i = 0; i < n; i++)
    {
      gsize size = lf_array_get_n_bytes (leaves[i]);
      memcpy (copy + at, lf_array_get_data (leaves[i]), size);
      at += size;
    }
  double t1 = bench_now ();
  bench_report ("memcpy-leaves", run->name, t1 - t0, at, n, rep, run->reps);
}

static int
time_saves (const BenchRun *run, LfCheckpointManager *manager, LfNode *tree, guint n,
            LfNode **leaves)
{
  const char *tag = run->borrowed ? "-borrowed" : "";
  g_autofree char *blocking = g_strconcat ("async-save", tag, NULL);
  g_autofree char *durable = g_strconcat ("async-durable", tag, NULL);
  GError *error = NULL;
  gsize total = 0;
  for (guint i = 0; i < n; i++)
    total += lf_array_get_n_bytes (leaves[i]);
  g_autofree guint8 *copy = run->borrowed ? g_malloc (MAX (total, 1)) : NULL;
  if (copy != NULL)
    memset (copy, 0, total);   /* touched: no page faults in the copies */
  for (int rep = 1; rep <= run->reps; rep++)
    {
      if (copy != NULL)
        time_plain_copy (run, n, leaves, copy, rep);
      double t0 = bench_now ();
      if (!lf_checkpoint_manager_save_async (manager, rep, tree, NULL, NULL, &error))
        return failed ("save_async", error);
      double t1 = bench_now ();
      if (run->verify && run->borrowed && rep == run->reps)
        scribble (n, leaves);
      if (!lf_checkpoint_manager_wait (manager, &error))
        return failed ("wait", error);
      double t2 = bench_now ();
      guint64 size = run->workload->stream_bytes;
      bench_report (blocking, run->name, t1 - t0, size, n, rep, run->reps);
      bench_report (durable, run->name, t2 - t0, size, n, rep, run->reps);
      if (rep == run->reps && check_step (run, manager, rep) != 0)
        return 1;
      if (!lf_checkpoint_manager_remove (manager, rep, &error))
        return failed ("remove", error);
    }
  return 0;
}

int
bench_async_save (const BenchRun *run, const char *directory)
{
  GError *error = NULL;
  guint n = workload_get_n_leaves (run->workload);
  LfNode **owned = workload_make_leaves (run->workload, run->stream, NULL, FALSE, &error);
  if (owned == NULL)
    return failed ("workload", error);
  LfNode **leaves = run->borrowed ? borrow_leaves (n, owned) : owned;
  LfNode *tree = workload_build_tree (run->workload, leaves);
  LfCheckpointManager *manager = lf_checkpoint_manager_open (directory, &error);
  int status = manager != NULL ? time_saves (run, manager, tree, n, leaves)
                               : failed (directory, error);
  if (manager != NULL && !lf_checkpoint_manager_close (manager, &error))
    status = failed ("close", error);
  bench_report_rss (run->borrowed ? "async-save-borrowed" : "async-save", run->name,
                    bench_peak_rss_mb ());
  lf_node_unref (tree);
  if (leaves != owned)
    workload_free_leaves (run->workload, leaves);
  workload_free_leaves (run->workload, owned);
  return status;
}
