/* Asynchronous saves: the caller's thread takes a snapshot of the tree
 * (a reference to every immutable leaf, a copy of every borrowed array),
 * a thread of its own does the rest of lf_checkpoint_manager_save(), and
 * its outcome waits in async_error until someone is told. */
#include "config.h"
#include <string.h>
#include "checkpoint-private.h"
#include "parallel-copy-private.h"
#include "tree-private.h"

typedef struct {
  LfCheckpointManager *manager;
  gint64 step;
  LfNode *tree;
  LfSpec *spec;
  LfNode *metrics;
  GError *error;
} SaveJob;

static void
save_job_free (SaveJob *job)
{
  lf_node_unref (job->tree);
  lf_spec_unref (job->spec);
  lf_node_unref (job->metrics);
  g_clear_error (&job->error);
  g_free (job);
}

static gpointer
run_save (gpointer data)
{
  SaveJob *job = data;
  _lf_checkpoint_save_step (job->manager, job->step, job->tree, job->spec, job->metrics,
                            &job->error);
  return job;
}

void
_lf_checkpoint_join (LfCheckpointManager *manager)
{
  if (manager->thread == NULL)
    return;
  SaveJob *job = g_thread_join (g_steal_pointer (&manager->thread));
  if (job->error != NULL)
    {
      /* Only the first failure waits; a save does not start while one does. */
      g_warn_if_fail (manager->async_error == NULL);
      manager->async_error = g_steal_pointer (&job->error);
    }
  save_job_free (job);
}

gboolean
_lf_checkpoint_take_async_error (LfCheckpointManager *manager, GError **error)
{
  if (manager->async_error == NULL)
    return TRUE;
  g_propagate_prefixed_error (error, g_steal_pointer (&manager->async_error),
                              "an asynchronous save failed: ");
  return FALSE;
}

gboolean
lf_checkpoint_manager_wait (LfCheckpointManager *manager, GError **error)
{
  g_return_val_if_fail (manager != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  _lf_checkpoint_join (manager);
  return _lf_checkpoint_take_async_error (manager, error);
}

/* The borrowed arrays are copied into one buffer: one allocation and no
 * system call per leaf.  From 1 MiB on it comes from the read buffers'
 * pool (see lf_read_buffer_new), where the previous save's copies left it
 * mapped: no page faults.  Each big array's copy sits at its source's
 * address modulo 4 KiB, where a copy runs at full speed (a destination a
 * little ahead of its source modulo 4 KiB runs at a third of it).  The
 * copying itself is shared out over the CPUs (parallel-copy.c). */
#define POOLED_COPY_MIN ((gsize) 1 << 20)
#define PAGE ((gsize) 4096)
#define CONGRUENT_MIN ((gsize) 64 << 10)

typedef struct {
  GPtrArray *leaves;   /* every leaf, in order (borrowed references) */
  GArray *places;      /* gsize per leaf: its copy's offset, or G_MAXSIZE to share it */
  gsize total;         /* bytes of the buffer */
  guint n_copies;
} Snapshot;

/* Where an array of `size` bytes at `source` goes at or after `cursor`. */
static gsize
place_copy (gsize cursor, gconstpointer source, gsize size)
{
  if (size < CONGRUENT_MIN)
    return (cursor + 63) & ~(gsize) 63;
  gsize place = (cursor & ~(PAGE - 1)) + (guintptr) source % PAGE;
  return place >= cursor ? place : place + PAGE;
}

static gboolean
plan_leaf (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  Snapshot *snapshot = user_data;
  gsize place = G_MAXSIZE;
  if (lf_node_get_kind (leaf) == LF_NODE_ARRAY && leaf->array.borrowed)
    {
      gsize size = lf_array_get_n_bytes (leaf);
      place = place_copy (snapshot->total, lf_array_get_data (leaf), size);
      snapshot->total = place + size;
      snapshot->n_copies++;
    }
  g_ptr_array_add (snapshot->leaves, leaf);
  g_array_append_val (snapshot->places, place);
  return TRUE;
}

/* A buffer of `size` bytes (page-aligned from POOLED_COPY_MIN on), or NULL. */
static GBytes *
copy_buffer_new (gsize size, guint8 **data)
{
  GBytes *bytes = size >= POOLED_COPY_MIN ? lf_read_buffer_new (size, 0, data) : NULL;
  if (bytes == NULL && (*data = g_try_malloc (MAX (size, 1))) != NULL)
    bytes = g_bytes_new_take (*data, size);
  return bytes;
}

/* The leaves of the snapshot: borrowed arrays copied into `buffer`, by
 * every CPU at once (the caller waits for the whole copy). */
static GPtrArray *
copy_leaves (const Snapshot *snapshot, GBytes *buffer, guint8 *data)
{
  GPtrArray *copies = g_ptr_array_new_full (snapshot->leaves->len,
                                            (GDestroyNotify) lf_node_unref);
  g_autofree LfCopyJob *jobs = g_new (LfCopyJob, snapshot->n_copies);
  guint n_jobs = 0;
  for (guint i = 0; i < snapshot->leaves->len; i++)
    {
      LfNode *leaf = g_ptr_array_index (snapshot->leaves, i);
      gsize place = g_array_index (snapshot->places, gsize, i);
      if (place == G_MAXSIZE)
        {
          g_ptr_array_add (copies, NULL);   /* shared */
          continue;
        }
      gsize size = lf_array_get_n_bytes (leaf);
      jobs[n_jobs++] = (LfCopyJob) { data + place, lf_array_get_data (leaf), size };
      g_autoptr (GBytes) slice = g_bytes_new_from_bytes (buffer, place, size);
      g_ptr_array_add (copies, lf_array_new_from_bytes (lf_array_get_dtype (leaf),
                                                        lf_array_get_ndim (leaf),
                                                        lf_array_get_shape (leaf), slice));
    }
  _lf_parallel_copy (jobs, n_jobs);
  return copies;
}

/* `tree` with each borrowed array replaced by a copy (transfer full). */
static LfNode *
take_snapshot (LfNode *tree, GError **error)
{
  g_autoptr (GPtrArray) leaves = g_ptr_array_new ();
  g_autoptr (GArray) places = g_array_new (FALSE, FALSE, sizeof (gsize));
  Snapshot snapshot = { leaves, places, 0, 0 };
  lf_tree_foreach_leaf (tree, NULL, NULL, plan_leaf, &snapshot);
  if (snapshot.n_copies == 0)
    return lf_node_ref (tree);
  guint8 *data = NULL;
  g_autoptr (GBytes) buffer = copy_buffer_new (snapshot.total, &data);
  if (buffer == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TOO_LARGE,
                   "no memory to copy the %u borrowed arrays (%" G_GSIZE_FORMAT " bytes) for "
                   "an asynchronous save", snapshot.n_copies, snapshot.total);
      return NULL;
    }
  g_autoptr (GPtrArray) copies = copy_leaves (&snapshot, buffer, data);
  return lf_tree_replace_leaves (tree, NULL, NULL, (LfNode *const *) copies->pdata);
}

gboolean
lf_checkpoint_manager_save_async (LfCheckpointManager *manager, gint64 step, LfNode *tree,
                                  LfSpec *spec, LfNode *metrics, GError **error)
{
  g_return_val_if_fail (manager != NULL && tree != NULL && step >= 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  _lf_checkpoint_join (manager);
  if (!_lf_checkpoint_take_async_error (manager, error)
      || !_lf_checkpoint_check_save (manager, step, metrics, error))
    return FALSE;
  if (!_lf_checkpoint_threads_ok (manager))
    {
      /* A group whose collectives may not run on a thread of ours: save
       * now, and report the outcome as an asynchronous save's. */
      _lf_checkpoint_save_step (manager, step, tree, spec, metrics, &manager->async_error);
      return TRUE;
    }
  LfNode *snapshot = take_snapshot (tree, error);
  if (snapshot == NULL)
    return FALSE;
  SaveJob *job = g_new0 (SaveJob, 1);
  job->manager = manager;
  job->step = step;
  job->tree = snapshot;
  job->spec = spec != NULL ? lf_spec_ref (spec) : NULL;
  job->metrics = metrics != NULL ? lf_node_ref (metrics) : NULL;
  g_autoptr (GError) thread_error = NULL;
  manager->thread = g_thread_try_new ("leafio-checkpoint", run_save, job, &thread_error);
  if (manager->thread == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED, "%s: cannot start a thread to save "
                   "step %" G_GINT64_FORMAT ": %s", manager->directory, step,
                   thread_error->message);
      save_job_free (job);
      return FALSE;
    }
  return TRUE;
}
