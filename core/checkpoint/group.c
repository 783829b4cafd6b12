/* A checkpoint manager shared by the ranks of a group (an MPI communicator,
 * through libleafio-mpi): rank 0 leads and alone touches the directory's
 * lock, commit records and retention; every outcome is agreed, and the
 * other ranks take rank 0's list of steps after each change.  Alone, a
 * manager is its own leader and agreeing is just looking at its error. */
#include "config.h"
#include "checkpoint-private.h"

static gboolean
in_group (LfCheckpointManager *manager)
{
  return manager->group.agree != NULL;
}

gboolean
_lf_checkpoint_leads (LfCheckpointManager *manager)
{
  return !in_group (manager) || manager->group.rank == 0;
}

gboolean
_lf_checkpoint_threads_ok (LfCheckpointManager *manager)
{
  return !in_group (manager) || manager->group.threads;
}

gboolean
_lf_checkpoint_agree (LfCheckpointManager *manager, GError **error)
{
  if (!in_group (manager))
    return *error == NULL;
  return manager->group.agree (manager->group_data, error);
}

void
_lf_checkpoint_share_steps (LfCheckpointManager *manager)
{
  if (!in_group (manager))
    return;
  g_autoptr (GBytes) mine = NULL;
  if (_lf_checkpoint_leads (manager))
    {
      g_mutex_lock (&manager->mutex);
      mine = _lf_checkpoint_steps_to_bytes (manager->steps);
      g_mutex_unlock (&manager->mutex);
    }
  g_autoptr (GBytes) shared = manager->group.broadcast (manager->group_data, mine);
  if (_lf_checkpoint_leads (manager))
    return;
  g_autoptr (GError) error = NULL;
  GArray *steps = _lf_checkpoint_steps_from_bytes (shared, &error);
  if (steps == NULL)
    {
      /* Rank 0 wrote them with the same code: only a broken transport gets here. */
      g_warning ("%s: rank %d keeps its list of steps: %s", manager->directory,
                 manager->group.rank, error->message);
      return;
    }
  g_mutex_lock (&manager->mutex);
  g_clear_pointer (&manager->steps, g_array_unref);
  manager->steps = steps;
  g_mutex_unlock (&manager->mutex);
}

gboolean
_lf_checkpoint_same_step (LfCheckpointManager *manager, gint64 step, GError **error)
{
  if (!in_group (manager))
    return TRUE;
  gint64 value = GINT64_TO_LE (step);
  g_autoptr (GBytes) mine = _lf_checkpoint_leads (manager) ? g_bytes_new (&value, sizeof value)
                                                             : NULL;
  g_autoptr (GBytes) shared = manager->group.broadcast (manager->group_data, mine);
  gsize size;
  const gint64 *leader = g_bytes_get_data (shared, &size);
  gint64 leader_step = size == sizeof (gint64) ? GINT64_FROM_LE (*leader) : -1;
  if (leader_step == step)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
               "%s: this rank saves step %" G_GINT64_FORMAT ", rank 0 step %" G_GINT64_FORMAT,
               manager->directory, step, leader_step);
  return FALSE;
}

LfCheckpointManager *
lf_checkpoint_manager_open_group (const char *directory, const LfCheckpointGroup *group,
                                  gpointer data, GError **error)
{
  g_return_val_if_fail (directory != NULL && group != NULL, NULL);
  g_return_val_if_fail (group->struct_size >= sizeof (LfCheckpointGroup)
                        && group->agree != NULL && group->broadcast != NULL
                        && group->rank >= 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return _lf_checkpoint_open (directory, group, data, error);
}
