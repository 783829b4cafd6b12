/* Replacing a file atomically: a temporary file beside the target, renamed
 * over it once written (atomic-file.h).  Path saves, the MPI library and the
 * `leafio` tool all write their files through this. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <leafio/leafio.h>

struct _LfAtomicFile {
  char *target;
  char *temporary;
  int fd;           /* -1 once closed */
  mode_t mode;      /* given to the file at the commit */
  gboolean settled; /* renamed into place, or removed after a failed commit */
};

/* The permissions the file gets: the existing target's, or 0666 less the
 * umask (read from /proc: umask() cannot be read without changing it, which
 * would race with other threads). */
static mode_t
new_file_mode (const char *target)
{
  struct stat st;
  if (stat (target, &st) == 0)
    return st.st_mode & 07777;
  mode_t mask = 022;
  g_autofree char *status = NULL;
  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    {
      const char *line = strstr (status, "\nUmask:");
      if (line != NULL)
        mask = (mode_t) strtoul (line + 7, NULL, 8);
    }
  return 0666 & ~mask;
}

static gboolean
set_io_error (GError **error, const char *target, const char *what, int saved_errno)
{
  g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: %s: %s", target, what,
               g_strerror (saved_errno));
  return FALSE;
}

/* A temporary file nobody has written to for this long, and that no
 * process holds locked, was left by a save that died (SIGKILL, power). */
#define ABANDONED_AFTER_SECONDS 60

/* Whether `name` is one of our temporary names for `base`: ".BASE." and
 * the six characters mkstemp() puts in place of XXXXXX. */
static gboolean
is_temporary_name (const char *name, const char *base)
{
  gsize base_len = strlen (base);
  if (strlen (name) != base_len + 8 || name[0] != '.' || name[base_len + 1] != '.'
      || strncmp (name + 1, base, base_len) != 0)
    return FALSE;
  for (const char *c = name + base_len + 2; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c))
      return FALSE;
  return TRUE;
}

/* Removes the temporary files of earlier saves of the same target whose
 * process is gone.  Every live save holds an flock on its temporary file
 * (see lf_atomic_file_new), so a file that can be locked, is ours, and has
 * not been written to for a minute has no owner left.  Best effort. */
static void
remove_abandoned (const char *dir, const char *base)
{
  GDir *listing = g_dir_open (dir, 0, NULL);
  if (listing == NULL)
    return;
  time_t now = time (NULL);
  const char *name;
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      if (!is_temporary_name (name, base))
        continue;
      g_autofree char *path = g_build_filename (dir, name, NULL);
      int fd = open (path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0)
        continue;
      struct stat st;
      if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && st.st_uid == geteuid ()
          && now - st.st_mtime >= ABANDONED_AFTER_SECONDS
          && flock (fd, LOCK_EX | LOCK_NB) == 0)
        g_unlink (path);
      close (fd);
    }
  g_dir_close (listing);
}

LfAtomicFile *
lf_atomic_file_new (const char *target, GError **error)
{
  g_return_val_if_fail (target != NULL, NULL);
  g_autofree char *dir = g_path_get_dirname (target);
  g_autofree char *base = g_path_get_basename (target);
  g_autofree char *temporary = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  mode_t mode = new_file_mode (target);
  remove_abandoned (dir, base);
  int fd = g_mkstemp_full (temporary, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      set_io_error (error, target, "cannot create a temporary file beside it", errno);
      return NULL;
    }
  /* Held until the fd is closed, by us or by the kernel when we die: tells
   * later saves this file still has an owner (remove_abandoned). */
  (void) flock (fd, LOCK_EX | LOCK_NB);
  LfAtomicFile *file = g_new0 (LfAtomicFile, 1);
  file->target = g_strdup (target);
  file->temporary = g_steal_pointer (&temporary);
  file->fd = fd;
  file->mode = mode;
  return file;
}

int
lf_atomic_file_get_fd (const LfAtomicFile *file)
{
  g_return_val_if_fail (file != NULL, -1);
  return file->fd;
}

const char *
lf_atomic_file_get_temporary_path (const LfAtomicFile *file)
{
  g_return_val_if_fail (file != NULL, NULL);
  return file->temporary;
}

const char *
lf_atomic_file_get_target (const LfAtomicFile *file)
{
  g_return_val_if_fail (file != NULL, NULL);
  return file->target;
}

/* Makes the rename durable: without this a crash can forget it. */
static void
sync_directory (const char *target)
{
  g_autofree char *dir = g_path_get_dirname (target);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
}

/* Every step up to the rename; FALSE with `error` set at the first failure. */
static gboolean
put_in_place (LfAtomicFile *file, gboolean sync, GError **error)
{
  int fd = file->fd;
  file->fd = -1;
  if (fchmod (fd, file->mode) != 0)
    {
      int saved_errno = errno;
      close (fd);
      return set_io_error (error, file->target, "cannot set permissions", saved_errno);
    }
  if (sync && fsync (fd) != 0)
    {
      int saved_errno = errno;
      close (fd);
      return set_io_error (error, file->target, "cannot sync", saved_errno);
    }
  if (close (fd) != 0)
    return set_io_error (error, file->target, "cannot close", errno);
  if (g_rename (file->temporary, file->target) != 0)
    return set_io_error (error, file->target, "cannot rename the temporary file over it",
                         errno);
  return TRUE;
}

gboolean
lf_atomic_file_commit (LfAtomicFile *file, gboolean sync, GError **error)
{
  g_return_val_if_fail (file != NULL, FALSE);
  g_return_val_if_fail (!file->settled && file->fd >= 0, FALSE);
  file->settled = TRUE;
  if (!put_in_place (file, sync, error))
    {
      g_unlink (file->temporary);
      return FALSE;
    }
  if (sync)
    sync_directory (file->target);
  return TRUE;
}

void
lf_atomic_file_free (LfAtomicFile *file)
{
  if (file == NULL)
    return;
  if (file->fd >= 0)
    close (file->fd);
  if (!file->settled)
    g_unlink (file->temporary);
  g_free (file->target);
  g_free (file->temporary);
  g_free (file);
}
