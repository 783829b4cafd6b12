/* The checkpoint manager (<leafio/checkpoint.h>): opening a directory,
 * saving and committing a step, retention, restoring and listing.
 *
 * A save of step N, in order:
 *   1. commit record "pending"      (from here on N's files are ours)
 *   2. the .eqx and its manifest    (the IO table's save: synced, renamed)
 *   3. directory sync               (both renames are durable)
 *   4. commit record "committed"    (synced, renamed, directory synced)
 *   5. retention: each step removed is made "pending", then its files go.
 * A process killed anywhere leaves N either committed or pending, and the
 * next manager removes what is pending.
 *
 * In a group (group.c) only rank 0 does 1, 3, 4 and 5, every rank calls
 * the IO table's save (collective: it agrees on its outcome itself), and
 * the ranks agree after each of rank 0's parts, so no rank reports a step
 * another failed. */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "checkpoint-private.h"

/* ---- the default IO ------------------------------------------------------------- */

static gboolean
default_save (gpointer user_data, const char *path, LfNode *tree, LfSpec *spec,
              GError **error)
{
  return lf_tree_serialise_leaves_full (path, tree, spec, NULL, NULL, LF_SAVE_MANIFEST, error);
}

static LfNode *
default_load (gpointer user_data, const char *path, LfNode *like, LfSpec *spec,
              GError **error)
{
  return lf_tree_deserialise_leaves (path, like, spec, NULL, NULL, error);
}

static const LfCheckpointIO default_io = {
  .struct_size = sizeof (LfCheckpointIO),
  .save = default_save,
  .load = default_load,
};

/* ---- opening and closing ---------------------------------------------------------- */

LfCheckpointManager *
_lf_checkpoint_open (const char *directory, const LfCheckpointGroup *group,
                     gpointer group_data, GError **error)
{
  LfCheckpointManager *manager = g_new0 (LfCheckpointManager, 1);
  manager->directory = g_strdup (directory);
  manager->lock_fd = -1;
  manager->io = &default_io;
  if (group != NULL)
    {
      manager->group = *group;
      manager->group_data = group_data;
    }
  g_mutex_init (&manager->mutex);
  manager->steps = g_array_new (FALSE, TRUE, sizeof (LfStepRecord));
  g_array_set_clear_func (manager->steps, _lf_step_record_clear);
  GError *local = NULL;
  if (_lf_checkpoint_leads (manager)
      && (manager->lock_fd = _lf_checkpoint_lock (directory, &local)) >= 0)
    _lf_checkpoint_scan (manager, &local);
  if (!_lf_checkpoint_agree (manager, &local))
    {
      lf_checkpoint_manager_close (manager, NULL);
      g_propagate_error (error, local);
      return NULL;
    }
  _lf_checkpoint_share_steps (manager);
  return manager;
}

LfCheckpointManager *
lf_checkpoint_manager_open (const char *directory, GError **error)
{
  g_return_val_if_fail (directory != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return _lf_checkpoint_open (directory, NULL, NULL, error);
}

gboolean
lf_checkpoint_manager_close (LfCheckpointManager *manager, GError **error)
{
  g_return_val_if_fail (manager != NULL, FALSE);
  _lf_checkpoint_join (manager);
  gboolean ok = _lf_checkpoint_take_async_error (manager, error);
  if (manager->lock_fd >= 0)
    close (manager->lock_fd);  /* releases the lock */
  if (manager->group.free_data != NULL)
    manager->group.free_data (manager->group_data);
  g_clear_pointer (&manager->steps, g_array_unref);
  _lf_retention_clear (&manager->retention);
  g_mutex_clear (&manager->mutex);
  g_free (manager->directory);
  g_free (manager);
  return ok;
}

void
lf_checkpoint_manager_free (LfCheckpointManager *manager)
{
  g_autoptr (GError) error = NULL;
  if (manager != NULL && !lf_checkpoint_manager_close (manager, &error))
    g_warning ("an asynchronous checkpoint save failed and nobody asked: %s", error->message);
}

const char *
lf_checkpoint_manager_get_directory (LfCheckpointManager *manager)
{
  g_return_val_if_fail (manager != NULL, NULL);
  return manager->directory;
}

char *
lf_checkpoint_manager_get_path (LfCheckpointManager *manager, gint64 step)
{
  g_return_val_if_fail (manager != NULL && step >= 0, NULL);
  return _lf_checkpoint_file (manager->directory, step, LF_CHECKPOINT_DATA);
}

void
lf_checkpoint_manager_set_io (LfCheckpointManager *manager, const LfCheckpointIO *io,
                              gpointer user_data)
{
  g_return_if_fail (manager != NULL);
  g_return_if_fail (io == NULL || (io->struct_size >= sizeof (LfCheckpointIO)
                                   && io->save != NULL && io->load != NULL));
  _lf_checkpoint_join (manager);
  manager->io = io != NULL ? io : &default_io;
  manager->io_data = io != NULL ? user_data : NULL;
}

/* ---- retention policies ------------------------------------------------------------- */

void
lf_checkpoint_manager_keep_last (LfCheckpointManager *manager, guint n)
{
  g_return_if_fail (manager != NULL);
  g_mutex_lock (&manager->mutex);
  manager->retention.keep_last = n;
  g_mutex_unlock (&manager->mutex);
}

void
lf_checkpoint_manager_keep_every (LfCheckpointManager *manager, guint64 k)
{
  g_return_if_fail (manager != NULL);
  g_mutex_lock (&manager->mutex);
  manager->retention.keep_every = k;
  g_mutex_unlock (&manager->mutex);
}

void
lf_checkpoint_manager_keep_best (LfCheckpointManager *manager, const char *metric,
                                 LfMetricGoal goal, guint k)
{
  g_return_if_fail (manager != NULL);
  g_return_if_fail (goal == LF_METRIC_MIN || goal == LF_METRIC_MAX);
  g_mutex_lock (&manager->mutex);
  g_free (manager->retention.best_metric);
  manager->retention.best_metric = g_strdup (metric);
  manager->retention.best_goal = goal;
  manager->retention.keep_best = k;
  g_mutex_unlock (&manager->mutex);
}

/* ---- the steps -------------------------------------------------------------------------- */

/* The index of `step` in manager->steps, or -1; call with the mutex held. */
static gssize
find_step (LfCheckpointManager *manager, gint64 step)
{
  for (guint i = 0; i < manager->steps->len; i++)
    if (g_array_index (manager->steps, LfStepRecord, i).step == step)
      return i;
  return -1;
}

static void
forget_step (LfCheckpointManager *manager, gint64 step)
{
  g_mutex_lock (&manager->mutex);
  gssize i = find_step (manager, step);
  if (i >= 0)
    g_array_remove_index (manager->steps, (guint) i);
  g_mutex_unlock (&manager->mutex);
}

static void
add_step (LfCheckpointManager *manager, const LfStepRecord *record)
{
  LfStepRecord copy = *record;
  copy.metrics = lf_node_ref (record->metrics);
  g_mutex_lock (&manager->mutex);
  guint i = 0;
  while (i < manager->steps->len && g_array_index (manager->steps, LfStepRecord, i).step < copy.step)
    i++;
  g_array_insert_val (manager->steps, i, copy);
  g_mutex_unlock (&manager->mutex);
}

gint64
lf_checkpoint_manager_get_latest_step (LfCheckpointManager *manager)
{
  g_return_val_if_fail (manager != NULL, -1);
  g_mutex_lock (&manager->mutex);
  guint n = manager->steps->len;
  gint64 latest = n > 0 ? g_array_index (manager->steps, LfStepRecord, n - 1).step : -1;
  g_mutex_unlock (&manager->mutex);
  return latest;
}

void
lf_checkpoint_step_free (LfCheckpointStep *step)
{
  if (step == NULL)
    return;
  lf_node_unref (step->metrics);
  g_free (step->path);
  g_free (step);
}

gboolean
lf_checkpoint_step_get_metric (const LfCheckpointStep *step, const char *name, double *value)
{
  g_return_val_if_fail (step != NULL && name != NULL && value != NULL, FALSE);
  LfNode *metric = lf_dict_lookup (step->metrics, name);
  if (metric == NULL)
    return FALSE;
  *value = lf_scalar_get_float (metric);
  return TRUE;
}

GPtrArray *
lf_checkpoint_manager_list (LfCheckpointManager *manager)
{
  g_return_val_if_fail (manager != NULL, NULL);
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_checkpoint_step_free);
  g_mutex_lock (&manager->mutex);
  for (guint i = 0; i < manager->steps->len; i++)
    {
      const LfStepRecord *record = &g_array_index (manager->steps, LfStepRecord, i);
      g_ptr_array_add (list, _lf_checkpoint_step_new (manager->directory, record));
    }
  g_mutex_unlock (&manager->mutex);
  return list;
}

/* ---- removing ------------------------------------------------------------------------------ */

/* Marks the step pending (so a removal cut short is finished by the next
 * manager), forgets it, removes its files. */
static gboolean
remove_step (LfCheckpointManager *manager, gint64 step, GError **error)
{
  LfStepRecord pending = { .step = step };
  if (!_lf_checkpoint_write_record (manager->directory, &pending, FALSE, error))
    return FALSE;
  forget_step (manager, step);
  return _lf_checkpoint_remove_files (manager->directory, step, error);
}

static gboolean
has_step (LfCheckpointManager *manager, gint64 step)
{
  g_mutex_lock (&manager->mutex);
  gboolean found = find_step (manager, step) >= 0;
  g_mutex_unlock (&manager->mutex);
  return found;
}

static void
set_no_step (LfCheckpointManager *manager, gint64 step, GError **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_NOT_FOUND, "%s has no step %" G_GINT64_FORMAT
               " (latest: %" G_GINT64_FORMAT ")", manager->directory, step,
               lf_checkpoint_manager_get_latest_step (manager));
}

gboolean
lf_checkpoint_manager_remove (LfCheckpointManager *manager, gint64 step, GError **error)
{
  g_return_val_if_fail (manager != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  _lf_checkpoint_join (manager);
  GError *local = NULL;
  if (!has_step (manager, step))
    set_no_step (manager, step, &local);
  gboolean ok = _lf_checkpoint_agree (manager, &local);
  if (ok)
    {
      if (_lf_checkpoint_leads (manager))
        remove_step (manager, step, &local);
      ok = _lf_checkpoint_agree (manager, &local);
      _lf_checkpoint_share_steps (manager);
    }
  if (!ok)
    g_propagate_error (error, local);
  return ok;
}

/* Rank 0's retention (a group's other ranks wait for its outcome). */
static gboolean
apply_retention (LfCheckpointManager *manager, gint64 just_saved, GError **error)
{
  GError *local = NULL;
  g_mutex_lock (&manager->mutex);
  g_autoptr (GArray) doomed = _lf_checkpoint_leads (manager)
                                  ? _lf_retention_select (&manager->retention, manager->steps,
                                                          just_saved)
                                  : g_array_new (FALSE, FALSE, sizeof (gint64));
  g_mutex_unlock (&manager->mutex);
  for (guint i = 0; i < doomed->len && local == NULL; i++)
    {
      gint64 step = g_array_index (doomed, gint64, i);
      if (!remove_step (manager, step, &local))
        g_prefix_error (&local, "step %" G_GINT64_FORMAT " is saved, but removing step %"
                        G_GINT64_FORMAT ", which no policy keeps, failed: ", just_saved, step);
    }
  if (_lf_checkpoint_agree (manager, &local))
    return TRUE;
  g_propagate_error (error, local);
  return FALSE;
}

/* ---- saving ------------------------------------------------------------------------------------ */

gboolean
_lf_checkpoint_check_new_step (LfCheckpointManager *manager, gint64 step, GError **error)
{
  if (has_step (manager, step))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED,
                   "%s: step %" G_GINT64_FORMAT " exists; remove it first to save it again",
                   manager->directory, step);
      return FALSE;
    }
  static const char *const suffixes[] = {
    LF_CHECKPOINT_DATA, LF_CHECKPOINT_MANIFEST, LF_CHECKPOINT_RECORD,
  };
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *path = _lf_checkpoint_file (manager->directory, step, suffixes[i]);
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, LF_ERROR, LF_ERROR_FAILED,
                       "%s exists and is not a step this manager committed; move it away "
                       "to save step %" G_GINT64_FORMAT, path, step);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
_lf_checkpoint_check_save (LfCheckpointManager *manager, gint64 step, LfNode *metrics,
                           GError **error)
{
  GError *local = NULL;
  if (_lf_checkpoint_same_step (manager, step, &local)
      && _lf_checkpoint_check_metrics (metrics, &local))
    _lf_checkpoint_check_new_step (manager, step, &local);
  if (_lf_checkpoint_agree (manager, &local))
    return TRUE;
  g_propagate_error (error, local);
  return FALSE;
}

static guint64
file_size (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 ? (guint64) st.st_size : 0;
}

/* Steps 3 and 4 of a save (see the top of this file): rank 0's part. */
static gboolean
commit_record (LfCheckpointManager *manager, gint64 step, LfNode *metrics, GError **error)
{
  g_autofree char *data = _lf_checkpoint_file (manager->directory, step, LF_CHECKPOINT_DATA);
  g_autofree char *manifest = _lf_checkpoint_file (manager->directory, step,
                                                   LF_CHECKPOINT_MANIFEST);
  if (!_lf_checkpoint_sync_directory (manager->directory, error))
    return FALSE;
  g_autoptr (LfNode) no_metrics = metrics == NULL ? lf_dict_new (0, NULL, NULL) : NULL;
  LfStepRecord record = {
    .step = step,
    .time = g_get_real_time (),
    .size = file_size (data) + file_size (manifest),
    .metrics = metrics != NULL ? metrics : no_metrics,
  };
  if (!_lf_checkpoint_write_record (manager->directory, &record, TRUE, error))
    return FALSE;
  add_step (manager, &record);
  return TRUE;
}

/* Steps 2 to 4 of a save.  A group's IO save is collective and agrees on
 * its outcome itself. */
static gboolean
commit_step (LfCheckpointManager *manager, gint64 step, LfNode *tree, LfSpec *spec,
             LfNode *metrics, GError **error)
{
  g_autofree char *data = _lf_checkpoint_file (manager->directory, step, LF_CHECKPOINT_DATA);
  if (!manager->io->save (manager->io_data, data, tree, spec, error))
    return FALSE;
  GError *local = NULL;
  if (_lf_checkpoint_leads (manager))
    commit_record (manager, step, metrics, &local);
  if (_lf_checkpoint_agree (manager, &local))
    return TRUE;
  g_propagate_error (error, local);
  return FALSE;
}

gboolean
_lf_checkpoint_save_step (LfCheckpointManager *manager, gint64 step, LfNode *tree,
                          LfSpec *spec, LfNode *metrics, GError **error)
{
  gboolean leads = _lf_checkpoint_leads (manager);
  LfStepRecord pending = { .step = step };
  GError *local = NULL;
  if (leads)
    _lf_checkpoint_write_record (manager->directory, &pending, FALSE, &local);
  if (!_lf_checkpoint_agree (manager, &local)
      || !commit_step (manager, step, tree, spec, metrics, &local))
    {
      /* Best effort: what stays is pending, and the next manager removes it. */
      g_autoptr (GError) ignored = NULL;
      if (leads && !_lf_checkpoint_remove_files (manager->directory, step, &ignored))
        g_debug ("%s", ignored->message);
      /* In a group: no rank returns before rank 0 has cleaned up. */
      _lf_checkpoint_share_steps (manager);
      g_propagate_prefixed_error (error, local, "%s: saving step %" G_GINT64_FORMAT ": ",
                                  manager->directory, step);
      return FALSE;
    }
  gboolean ok = apply_retention (manager, step, error);
  _lf_checkpoint_share_steps (manager);
  return ok;
}

gboolean
lf_checkpoint_manager_save (LfCheckpointManager *manager, gint64 step, LfNode *tree,
                            LfSpec *spec, LfNode *metrics, GError **error)
{
  g_return_val_if_fail (manager != NULL && tree != NULL && step >= 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  _lf_checkpoint_join (manager);
  return _lf_checkpoint_take_async_error (manager, error)
         && _lf_checkpoint_check_save (manager, step, metrics, error)
         && _lf_checkpoint_save_step (manager, step, tree, spec, metrics, error);
}

/* ---- restoring ------------------------------------------------------------------------------------- */

LfNode *
lf_checkpoint_manager_restore (LfCheckpointManager *manager, gint64 step, LfNode *like,
                               LfSpec *spec, GError **error)
{
  g_return_val_if_fail (manager != NULL && like != NULL, NULL);
  g_return_val_if_fail (step >= 0 || step == LF_CHECKPOINT_LATEST, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  _lf_checkpoint_join (manager);
  GError *local = NULL;
  if (step == LF_CHECKPOINT_LATEST)
    {
      step = lf_checkpoint_manager_get_latest_step (manager);
      if (step < 0)
        g_set_error (&local, LF_ERROR, LF_ERROR_NOT_FOUND, "%s has no checkpoint yet",
                     manager->directory);
    }
  else if (!has_step (manager, step))
    set_no_step (manager, step, &local);
  /* In a group every rank takes part in the load, or none does. */
  if (!_lf_checkpoint_agree (manager, &local))
    {
      g_propagate_error (error, local);
      return NULL;
    }
  g_autofree char *data = _lf_checkpoint_file (manager->directory, step, LF_CHECKPOINT_DATA);
  return manager->io->load (manager->io_data, data, like, spec, error);
}
