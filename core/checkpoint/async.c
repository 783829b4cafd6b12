/* Asynchronous saves: the caller's thread takes a snapshot of the tree
 * (a reference to every immutable leaf, a copy of every borrowed array),
 * a thread of its own does the rest of lf_checkpoint_manager_save(), and
 * its outcome waits in async_error until someone is told. */
#include "config.h"
#include <string.h>
#include "checkpoint-private.h"
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

/* Copies of 1 MiB and more come from the read buffers' pool (see
 * lf_read_buffer_new), whose memory the previous save's copies left
 * mapped: no page faults for it. */
#define POOLED_COPY_MIN ((gsize) 1 << 20)

/* A copy of a borrowed array, or NULL with LF_ERROR_TOO_LARGE. */
static LfNode *
copy_array (const LfNode *array, const char *path, GError **error)
{
  gsize size = lf_array_get_n_bytes (array);
  guint8 *data = NULL;
  g_autoptr (GBytes) bytes = size >= POOLED_COPY_MIN ? lf_read_buffer_new (size, 0, &data)
                                                     : NULL;
  if (bytes == NULL && (data = g_try_malloc (MAX (size, 1))) != NULL)
    bytes = g_bytes_new_take (data, size);
  if (bytes == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TOO_LARGE,
                   "%s: no memory to copy the borrowed array (%" G_GSIZE_FORMAT " bytes) "
                   "for an asynchronous save", *path ? path : "root", size);
      return NULL;
    }
  memcpy (data, lf_array_get_data (array), size);
  return lf_array_new_from_bytes (lf_array_get_dtype (array), lf_array_get_ndim (array),
                                  lf_array_get_shape (array), bytes);
}

typedef struct {
  GPtrArray *copies;   /* one entry a leaf: a copy, or NULL to share it */
  gboolean any;
  GError **error;
} Snapshot;

static gboolean
snapshot_leaf (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  Snapshot *snapshot = user_data;
  LfNode *copy = NULL;
  if (lf_node_get_kind (leaf) == LF_NODE_ARRAY && leaf->array.borrowed)
    {
      g_autofree char *text = lf_path_to_string (path);
      copy = copy_array (leaf, text, snapshot->error);
      if (copy == NULL)
        return FALSE;
      snapshot->any = TRUE;
    }
  g_ptr_array_add (snapshot->copies, copy);
  return TRUE;
}

/* `tree` with each borrowed array replaced by a copy (transfer full). */
static LfNode *
take_snapshot (LfNode *tree, GError **error)
{
  g_autoptr (GPtrArray) copies = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  Snapshot snapshot = { copies, FALSE, error };
  if (!lf_tree_foreach_leaf (tree, NULL, NULL, snapshot_leaf, &snapshot))
    return NULL;
  if (!snapshot.any)
    return lf_node_ref (tree);
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
