/* Listing a checkpoint directory without opening a manager: no lock is
 * taken and nothing is removed or repaired, so a directory a training
 * process is writing to can be looked at (`leafio ls`).  A step is listed
 * when its commit record says it is committed and its data file exists;
 * a step being saved or removed meanwhile is listed or not, never half. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "checkpoint-private.h"

LfCheckpointStep *
_lf_checkpoint_step_new (const char *directory, const LfStepRecord *record)
{
  LfCheckpointStep *step = g_new0 (LfCheckpointStep, 1);
  step->step = record->step;
  step->time = record->time;
  step->size = record->size;
  step->metrics = lf_node_ref (record->metrics);
  step->path = _lf_checkpoint_file (directory, record->step, LF_CHECKPOINT_DATA);
  return step;
}

static gint
compare_listed_steps (gconstpointer a, gconstpointer b)
{
  gint64 x = (*(LfCheckpointStep *const *) a)->step;
  gint64 y = (*(LfCheckpointStep *const *) b)->step;
  return x < y ? -1 : x > y;
}

/* Step `step` of `directory`, if it is committed. */
static LfCheckpointStep *
read_committed_step (const char *directory, gint64 step)
{
  g_autofree char *path = _lf_checkpoint_file (directory, step, LF_CHECKPOINT_RECORD);
  LfStepRecord record = { 0 };
  gboolean committed = FALSE;
  /* A record that cannot be read is not listed; the manager that opens
   * the directory next says why. */
  if (!_lf_checkpoint_read_record (path, step, &record, &committed, NULL))
    return NULL;
  LfCheckpointStep *listed = NULL;
  g_autofree char *data = _lf_checkpoint_file (directory, step, LF_CHECKPOINT_DATA);
  if (committed && g_file_test (data, G_FILE_TEST_IS_REGULAR))
    listed = _lf_checkpoint_step_new (directory, &record);
  _lf_step_record_clear (&record);
  return listed;
}

GPtrArray *
lf_checkpoint_list_directory (const char *directory, GError **error)
{
  g_return_val_if_fail (directory != NULL, NULL);
  GStatBuf st;
  if (g_stat (directory, &st) != 0 || !S_ISDIR (st.st_mode))
    {
      int saved = errno;
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot list: %s", directory,
                   saved != 0 && !g_file_test (directory, G_FILE_TEST_EXISTS)
                   ? g_strerror (saved) : "not a directory");
      return NULL;
    }
  g_autoptr (GError) dir_error = NULL;
  g_autoptr (GDir) dir = g_dir_open (directory, 0, &dir_error);
  if (dir == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s", dir_error->message);
      return NULL;
    }
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_checkpoint_step_free);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      gint64 step;
      const char *suffix;
      if (!_lf_checkpoint_parse_name (name, &step, &suffix)
          || strcmp (suffix, LF_CHECKPOINT_RECORD) != 0)
        continue;
      LfCheckpointStep *listed = read_committed_step (directory, step);
      if (listed != NULL)
        g_ptr_array_add (list, listed);
    }
  g_ptr_array_sort (list, compare_listed_steps);
  return list;
}
