/* A checkpoint directory on disk: its lock, reading its steps back from
 * the commit records (the directory is the manager's only state), and
 * removing what killed saves and removals left behind. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "atomic-file-private.h"
#include "checkpoint-private.h"

#define LOCK_NAME ".leafio-checkpoints.lock"

static void
set_io_error (GError **error, const char *path, const char *what)
{
  int saved_errno = errno;
  g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: %s: %s", path, what,
               g_strerror (saved_errno));
}

/* The process id the lock's holder wrote in it, for the message. */
static char *
describe_holder (int fd)
{
  char text[32] = "";
  gssize n = pread (fd, text, sizeof text - 1, 0);
  guint64 pid;
  if (n <= 0 || !g_ascii_string_to_unsigned (g_strstrip (text), 10, 1, G_MAXINT32, &pid, NULL))
    return g_strdup ("another process");
  if ((pid_t) pid == getpid ())
    return g_strdup ("this process");
  return g_strdup_printf ("process %" G_GUINT64_FORMAT, pid);
}

int
_lf_checkpoint_lock (const char *directory, GError **error)
{
  if (g_mkdir_with_parents (directory, 0777) != 0)
    {
      set_io_error (error, directory, "cannot make the directory");
      return -1;
    }
  g_autofree char *path = g_build_filename (directory, LOCK_NAME, NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      set_io_error (error, path, "cannot open the lock");
      return -1;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      if (errno == EWOULDBLOCK)
        {
          g_autofree char *holder = describe_holder (fd);
          g_set_error (error, LF_ERROR, LF_ERROR_BUSY,
                       "%s: another checkpoint manager (in %s) has this directory open",
                       directory, holder);
        }
      else
        set_io_error (error, path, "cannot lock");
      close (fd);
      return -1;
    }
  /* The holder's process id, for the message a second manager gives. */
  char pid[32];
  int length = g_snprintf (pid, sizeof pid, "%ld\n", (long) getpid ());
  if (ftruncate (fd, 0) != 0 || pwrite (fd, pid, (size_t) length, 0) != length)
    g_debug ("%s: cannot write the process id: %s", path, g_strerror (errno));
  return fd;
}

gboolean
_lf_checkpoint_sync_directory (const char *directory, GError **error)
{
  int fd = open (directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync (fd) != 0)
    {
      set_io_error (error, directory, "cannot sync the directory");
      if (fd >= 0)
        close (fd);
      return FALSE;
    }
  close (fd);
  return TRUE;
}

gboolean
_lf_checkpoint_remove_files (const char *directory, gint64 step, GError **error)
{
  /* The commit record goes last: until then it marks the rest as ours. */
  static const char *const order[] = {
    LF_CHECKPOINT_MANIFEST, LF_CHECKPOINT_DATA, LF_CHECKPOINT_RECORD,
  };
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      g_autofree char *path = _lf_checkpoint_file (directory, step, order[i]);
      if (g_unlink (path) != 0 && errno != ENOENT)
        {
          set_io_error (error, path, "cannot remove");
          return FALSE;
        }
    }
  return TRUE;
}

static gint
compare_steps (gconstpointer a, gconstpointer b)
{
  gint64 x = ((const LfStepRecord *) a)->step, y = ((const LfStepRecord *) b)->step;
  return x < y ? -1 : x > y;
}

/* One commit record: a committed step goes to `steps`; a pending one's
 * files are removed; one that cannot be read is left alone. */
static gboolean
read_step (LfCheckpointManager *manager, gint64 step, GArray *steps, GError **error)
{
  g_autofree char *path = _lf_checkpoint_file (manager->directory, step, LF_CHECKPOINT_RECORD);
  LfStepRecord record = { 0 };
  gboolean committed;
  g_autoptr (GError) local = NULL;
  if (!_lf_checkpoint_read_record (path, step, &record, &committed, &local))
    {
      g_warning ("%s; step %" G_GINT64_FORMAT " is left as it is and not listed",
                 local->message, step);
      return TRUE;
    }
  if (!committed)
    return _lf_checkpoint_remove_files (manager->directory, step, error);
  g_autofree char *data = _lf_checkpoint_file (manager->directory, step, LF_CHECKPOINT_DATA);
  if (!g_file_test (data, G_FILE_TEST_IS_REGULAR))
    {
      g_warning ("%s: step %" G_GINT64_FORMAT " is committed but its data file is gone; "
                 "it is not listed", manager->directory, step);
      _lf_step_record_clear (&record);
      return TRUE;
    }
  g_array_append_val (steps, record);
  return TRUE;
}

gboolean
_lf_checkpoint_scan (LfCheckpointManager *manager, GError **error)
{
  g_autoptr (GError) dir_error = NULL;
  g_autoptr (GDir) dir = g_dir_open (manager->directory, 0, &dir_error);
  if (dir == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s", dir_error->message);
      return FALSE;
    }
  GArray *steps = g_array_new (FALSE, TRUE, sizeof (LfStepRecord));
  g_array_set_clear_func (steps, _lf_step_record_clear);
  const char *name;
  gboolean ok = TRUE;
  while (ok && (name = g_dir_read_name (dir)) != NULL)
    {
      gint64 step;
      const char *suffix;
      if (_lf_checkpoint_parse_name (name, &step, &suffix))
        ok = strcmp (suffix, LF_CHECKPOINT_RECORD) != 0
             || read_step (manager, step, steps, error);
      else if (_lf_checkpoint_temporary_target (name, &step, &suffix))
        {
          /* We hold the lock: no save of ours is writing to it. */
          g_autofree char *target = _lf_checkpoint_file (manager->directory, step, suffix);
          _lf_atomic_file_remove_abandoned (target);
        }
    }
  if (!ok)
    {
      g_array_unref (steps);
      return FALSE;
    }
  g_array_sort (steps, compare_steps);
  g_mutex_lock (&manager->mutex);
  g_clear_pointer (&manager->steps, g_array_unref);
  manager->steps = steps;
  g_mutex_unlock (&manager->mutex);
  return TRUE;
}
