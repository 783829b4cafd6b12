/* Replacing a file atomically: a temporary file beside the target, renamed
 * over it once written (atomic-file.h).  Path saves, the MPI library and the
 * `leafio` tool all write their files through this. */
#include "config.h"
#define _GNU_SOURCE 1   /* renameat2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <leafio/leafio.h>
#include "atomic-file-private.h"
#include "side-file-private.h"

struct _LfAtomicFile {
  char *target;      /* as given */
  char *destination; /* what the rename replaces: the target, or the file its link names */
  char *temporary;
  int fd;            /* -1 once closed */
  mode_t mode;       /* given to the file at the commit */
  gboolean settled;  /* renamed into place, or removed after a failed commit */
};

static gboolean
set_io_error (GError **error, const char *target, const char *what, int saved_errno)
{
  g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: %s: %s", target, what,
               g_strerror (saved_errno));
  return FALSE;
}

/* ---- where the new file goes ---------------------------------------------- */

/* The umask, read from /proc: umask() cannot be read without changing it,
 * which would race with other threads. */
static mode_t
current_umask (void)
{
  mode_t mask = 022;
  g_autofree char *status = NULL;
  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    {
      const char *line = strstr (status, "\nUmask:");
      if (line != NULL)
        mask = (mode_t) strtoul (line + 7, NULL, 8);
    }
  return mask;
}

/* Where the rename must go and the mode the new file gets.  A new target:
 * itself, 0666 less the umask.  An existing regular file: itself, its
 * mode.  A symbolic link to a regular file: that file (a save through
 * `latest.eqx -> step_100.eqx` replaces step_100.eqx and keeps the link),
 * its mode.  Anything else is refused: replacing a link to a directory or
 * a device with a regular file would destroy the link and give the file
 * that thing's mode; a dangling link is refused rather than followed into
 * a place the caller did not name. */
static char *
resolve_destination (const char *target, mode_t *mode, GError **error)
{
  struct stat st;
  if (lstat (target, &st) != 0)
    {
      /* A new file (or a directory that cannot hold one: making the
       * temporary file beside it says why). */
      *mode = 0666 & ~current_umask ();
      return g_strdup (target);
    }
  if (S_ISREG (st.st_mode))
    {
      *mode = st.st_mode & 07777;
      return g_strdup (target);
    }
  if (!S_ISLNK (st.st_mode))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: is %s; a save replaces only regular "
                   "files", target, _lf_file_type_name (st.st_mode));
      return NULL;
    }
  g_autofree char *resolved = realpath (target, NULL);
  if (resolved == NULL)
    {
      int saved_errno = errno;
      g_autofree char *link = g_file_read_link (target, NULL);
      if (saved_errno == ENOENT)
        g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: is a symbolic link to %s, which does "
                     "not exist; a save follows links only to existing regular files", target,
                     link != NULL ? link : "?");
      else
        set_io_error (error, target, "cannot follow the symbolic link", saved_errno);
      return NULL;
    }
  if (stat (resolved, &st) != 0)
    {
      set_io_error (error, target, "cannot look at the file its link names", errno);
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: is a symbolic link to %s, which is %s; a "
                   "save follows links only to regular files", target, resolved,
                   _lf_file_type_name (st.st_mode));
      return NULL;
    }
  *mode = st.st_mode & 07777;
  return g_steal_pointer (&resolved);
}

/* ---- temporary names -------------------------------------------------------
 *
 * DIR/.NAME.leafio-tmp.RRRRRR.TTTTTTTT: NAME is the destination's name,
 * cut so that the whole stays within the directory's NAME_MAX (any name
 * the filesystem accepts can be saved); RRRRRR is mkstemp's; TTTTTTTT is
 * a tag computed from NAME, RRRRRR, the file's inode number and the user.
 * The tag is what lets clean-up prove that a file is one we created: a
 * user's file of a similar name, or a copy of one of our files, does not
 * carry the tag of its own inode. */

#define TEMP_INFIX ".leafio-tmp."
#define RANDOM_LENGTH 6
#define TAG_LENGTH 8
/* '.', NAME, TEMP_INFIX, RRRRRR, '.', TTTTTTTT */
#define TEMP_OVERHEAD (1 + (sizeof TEMP_INFIX - 1) + RANDOM_LENGTH + 1 + TAG_LENGTH)

/* How much of the destination's name the temporary names carry. */
static gsize
name_part_length (const char *dir, const char *base)
{
  long name_max = pathconf (dir, _PC_NAME_MAX);
  if (name_max <= 0)
    name_max = NAME_MAX;
  gsize room = (gsize) name_max > TEMP_OVERHEAD + 1 ? (gsize) name_max - TEMP_OVERHEAD : 1;
  gsize length = strlen (base);
  if (length <= room)
    return length;
  /* Not in the middle of a UTF-8 sequence, so the name stays readable. */
  length = room;
  while (length > 1 && ((guchar) base[length] & 0xc0) == 0x80)
    length--;
  return length;
}

static void
compute_tag (const char *name_part, gsize name_length, const char *random_part,
             guint64 inode, guint uid, char tag[TAG_LENGTH + 1])
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *facts = g_strdup_printf ("leafio temporary file\n%.6s\n%" G_GUINT64_FORMAT
                                            "\n%u\n", random_part, inode, uid);
  g_checksum_update (checksum, (const guchar *) name_part, (gssize) name_length);
  g_checksum_update (checksum, (const guchar *) facts, -1);
  memcpy (tag, g_checksum_get_string (checksum), TAG_LENGTH);
  tag[TAG_LENGTH] = '\0';
}

/* Whether `name` has the form of our temporary names for `name_part`;
 * sets *random_part to its RRRRRR and *tag to its TTTTTTTT. */
static gboolean
parse_temporary_name (const char *name, const char *name_part, gsize name_length,
                      const char **random_part, const char **tag)
{
  gsize infix_length = sizeof TEMP_INFIX - 1;
  if (strlen (name) != name_length + TEMP_OVERHEAD || name[0] != '.'
      || strncmp (name + 1, name_part, name_length) != 0
      || strncmp (name + 1 + name_length, TEMP_INFIX, infix_length) != 0)
    return FALSE;
  *random_part = name + 1 + name_length + infix_length;
  *tag = *random_part + RANDOM_LENGTH + 1;
  if ((*random_part)[RANDOM_LENGTH] != '.')
    return FALSE;
  for (gsize i = 0; i < RANDOM_LENGTH; i++)
    if (!g_ascii_isalnum ((*random_part)[i]))
      return FALSE;
  for (gsize i = 0; i < TAG_LENGTH; i++)
    if (!g_ascii_isxdigit ((*tag)[i]) || g_ascii_isupper ((*tag)[i]))
      return FALSE;
  return TRUE;
}

/* A temporary file nobody has written to for this long, and that no
 * process holds locked, was left by a save that died (SIGKILL, power). */
#define ABANDONED_AFTER_SECONDS 60

/* Whether the open file `fd` named `name` is a temporary file a save of
 * ours created and abandoned: our name, the tag of its own inode, our
 * user, a regular file, not written to for a minute, and nobody holding
 * the lock every live save holds. */
static gboolean
is_abandoned_temporary (int fd, const char *name, const char *name_part, gsize name_length,
                        time_t now, time_t min_age)
{
  const char *random_part, *tag;
  struct stat st;
  if (!parse_temporary_name (name, name_part, name_length, &random_part, &tag)
      || fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_uid != geteuid ()
      || (min_age > 0 && now - st.st_mtime < min_age))
    return FALSE;
  char expected[TAG_LENGTH + 1];
  compute_tag (name_part, name_length, random_part, (guint64) st.st_ino, (guint) st.st_uid,
               expected);
  return memcmp (expected, tag, TAG_LENGTH) == 0 && flock (fd, LOCK_EX | LOCK_NB) == 0;
}

/* Removes the temporary files that earlier saves of the same destination
 * created and abandoned.  Best effort. */
static void
remove_abandoned (const char *dir, const char *name_part, gsize name_length, time_t min_age)
{
  GDir *listing = g_dir_open (dir, 0, NULL);
  if (listing == NULL)
    return;
  time_t now = time (NULL);
  const char *name;
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      if (name[0] != '.' || strncmp (name + 1, name_part, name_length) != 0)
        continue;
      g_autofree char *path = g_build_filename (dir, name, NULL);
      int fd = open (path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0)
        continue;
      if (is_abandoned_temporary (fd, name, name_part, name_length, now, min_age))
        g_unlink (path);
      close (fd);
    }
  g_dir_close (listing);
}

/* Gives the file mkstemp made at `*path` (DIR/.NAME.leafio-tmp.RRRRRR) its
 * tagged name, never replacing anything.  Where the filesystem cannot
 * rename without replacing, the file keeps its untagged name (clean-up
 * will then not recognise it, which errs on the safe side). */
static void
add_tag (int fd, char **path, const char *name_part, gsize name_length)
{
  struct stat st;
  if (fstat (fd, &st) != 0)
    return;
  const char *random_part = *path + strlen (*path) - RANDOM_LENGTH;
  char tag[TAG_LENGTH + 1];
  compute_tag (name_part, name_length, random_part, (guint64) st.st_ino, (guint) st.st_uid,
               tag);
  g_autofree char *tagged = g_strconcat (*path, ".", tag, NULL);
  if (renameat2 (AT_FDCWD, *path, AT_FDCWD, tagged, RENAME_NOREPLACE) == 0)
    {
      g_free (*path);
      *path = g_steal_pointer (&tagged);
    }
}

LfAtomicFile *
lf_atomic_file_new (const char *target, GError **error)
{
  g_return_val_if_fail (target != NULL, NULL);
  mode_t mode = 0;
  g_autofree char *destination = resolve_destination (target, &mode, error);
  if (destination == NULL)
    return NULL;
  g_autofree char *dir = g_path_get_dirname (destination);
  g_autofree char *base = g_path_get_basename (destination);
  gsize name_length = name_part_length (dir, base);
  remove_abandoned (dir, base, name_length, ABANDONED_AFTER_SECONDS);
  g_autofree char *temporary = g_strdup_printf ("%s/.%.*s" TEMP_INFIX "XXXXXX", dir,
                                                (int) name_length, base);
  int fd = g_mkstemp_full (temporary, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      set_io_error (error, target, "cannot create a temporary file beside it", errno);
      return NULL;
    }
  /* Held until the fd is closed, by us or by the kernel when we die: tells
   * later saves this file still has an owner (remove_abandoned). */
  (void) flock (fd, LOCK_EX | LOCK_NB);
  add_tag (fd, &temporary, base, name_length);
  LfAtomicFile *file = g_new0 (LfAtomicFile, 1);
  file->target = g_strdup (target);
  file->destination = g_steal_pointer (&destination);
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

const char *
lf_atomic_file_get_destination (const LfAtomicFile *file)
{
  g_return_val_if_fail (file != NULL, NULL);
  return file->destination;
}

/* Makes the rename durable: without this a crash can forget it. */
static void
sync_directory (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
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
  if (g_rename (file->temporary, file->destination) != 0)
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
    sync_directory (file->destination);
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
  g_free (file->destination);
  g_free (file->temporary);
  g_free (file);
}

/* ---- serialising the commits of one directory ------------------------------ */

void
_lf_atomic_file_remove_abandoned (const char *target)
{
  g_autofree char *dir = g_path_get_dirname (target);
  g_autofree char *base = g_path_get_basename (target);
  remove_abandoned (dir, base, name_part_length (dir, base), 0);
}

int
lf_atomic_file_lock_directory (const LfAtomicFile *file)
{
  g_return_val_if_fail (file != NULL, -1);
  g_autofree char *dir = g_path_get_dirname (file->destination);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  while (flock (fd, LOCK_EX) != 0)
    if (errno != EINTR)
      {
        close (fd);
        return -1;
      }
  return fd;
}

void
lf_atomic_file_unlock_directory (int lock)
{
  if (lock >= 0)
    close (lock);
}
