/* The public save/load entry points: paths (atomic saves, trailing-data
 * checks) and streams.  The walking itself is in walk.c. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "manifest-private.h"
#include "walk-private.h"

char *
lf_path_with_eqx_suffix (const char *path)
{
  g_return_val_if_fail (path != NULL, NULL);
  /* As pathlib: a suffix is a dot that is neither the name's first nor its
   * last character. */
  const char *slash = strrchr (path, '/');
  const char *name = slash != NULL ? slash + 1 : path;
  const char *dot = strrchr (name, '.');
  gboolean has_suffix = dot != NULL && dot != name && dot[1] != '\0';
  return has_suffix ? g_strdup (path) : g_strconcat (path, ".eqx", NULL);
}

/* The permissions a new file gets: the existing target's, or 0666 less the
 * umask (read from /proc: umask() itself cannot be read thread-safely). */
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
set_io_error (GError **error, const char *what, const char *path, int saved_errno)
{
  g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: %s: %s", path, what,
               g_strerror (saved_errno));
  return FALSE;
}

/* Makes the rename durable: without this a crash can forget it. */
static void
sync_directory (const char *dir)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
}

gboolean
lf_tree_serialise_leaves_full (const char *path, LfNode *tree, LfSpec *spec,
                               LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                               LfSaveFlags flags, GError **error)
{
  g_return_val_if_fail (path != NULL && tree != NULL, FALSE);
  g_autofree char *target = lf_path_with_eqx_suffix (path);
  g_autofree char *dir = g_path_get_dirname (target);
  g_autofree char *base = g_path_get_basename (target);
  g_autofree char *tmp = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  mode_t mode = new_file_mode (target);

  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    return set_io_error (error, "cannot create a temporary file beside it", target, errno);

  /* The manifest is built from the walker's log of every leaf. */
  g_autoptr (GArray) log = NULL;
  if (flags & LF_SAVE_MANIFEST)
    {
      log = g_array_new (FALSE, TRUE, sizeof (LfWalkRecord));
      g_array_set_clear_func (log, _lf_walk_record_clear);
    }
  LfStream *stream = lf_stream_new_for_fd (fd, FALSE);
  lf_stream_set_name (stream, target);
  gboolean ok = _lf_walk_save (stream, tree, spec, is_leaf, is_leaf_data, log, error)
                && lf_stream_flush (stream, error);
  lf_stream_free (stream);
  if (ok && fchmod (fd, mode) != 0)
    ok = set_io_error (error, "cannot set permissions", target, errno);
  if (ok && !(flags & LF_SAVE_NO_SYNC) && fsync (fd) != 0)
    ok = set_io_error (error, "cannot sync", target, errno);
  if (close (fd) != 0 && ok)
    ok = set_io_error (error, "cannot close", target, errno);
  /* An old manifest must never describe the new data, even for a moment. */
  if (ok)
    ok = _lf_manifest_remove (target, error);
  if (ok && g_rename (tmp, target) != 0)
    ok = set_io_error (error, "cannot rename the temporary file over it", target, errno);
  if (!ok)
    {
      g_unlink (tmp);
      return FALSE;
    }
  if (!(flags & LF_SAVE_NO_SYNC))
    sync_directory (dir);
  /* Written after the data is in place, so a manifest always has its file. */
  if (flags & LF_SAVE_MANIFEST)
    return _lf_manifest_write (target, tree, is_leaf, is_leaf_data, log, error);
  return TRUE;
}

gboolean
lf_tree_serialise_leaves (const char *path, LfNode *tree, LfSpec *spec,
                          LfIsLeafFunc is_leaf, gpointer is_leaf_data, GError **error)
{
  return lf_tree_serialise_leaves_full (path, tree, spec, is_leaf, is_leaf_data,
                                        LF_SAVE_DEFAULT, error);
}

gboolean
lf_tree_serialise_leaves_to_stream (LfStream *stream, LfNode *tree, LfSpec *spec,
                                    LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                    GError **error)
{
  g_return_val_if_fail (stream != NULL && tree != NULL, FALSE);
  return _lf_walk_save (stream, tree, spec, is_leaf, is_leaf_data, NULL, error)
         && lf_stream_flush (stream, error);
}

/* Loading a file: bytes left after the last leaf mean `like` does not
 * describe the file (Equinox ignores them; we refuse). */
static gboolean
check_nothing_left (LfStream *stream, GError **error)
{
  gboolean at_end = FALSE;
  if (!lf_stream_at_end (stream, &at_end, error))
    return FALSE;
  if (at_end)
    return TRUE;
  guint64 remaining = 0;
  if (lf_stream_get_remaining (stream, &remaining))
    g_set_error (error, LF_ERROR, LF_ERROR_TRAILING_DATA,
                 "%s: %" G_GUINT64_FORMAT " bytes left after the last leaf at offset %"
                 G_GUINT64_FORMAT ": the file holds more than `like` describes",
                 lf_stream_get_name (stream), remaining, lf_stream_tell (stream));
  else
    g_set_error (error, LF_ERROR, LF_ERROR_TRAILING_DATA,
                 "%s: data left after the last leaf at offset %" G_GUINT64_FORMAT
                 ": the file holds more than `like` describes",
                 lf_stream_get_name (stream), lf_stream_tell (stream));
  return FALSE;
}

LfNode *
lf_tree_deserialise_leaves_full (const char *path, LfNode *like, LfSpec *spec,
                                 LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                 LfLoadFlags flags, GError **error)
{
  g_return_val_if_fail (path != NULL && like != NULL, NULL);
  g_autofree char *target = lf_path_with_eqx_suffix (path);
  if (!(flags & LF_LOAD_IGNORE_MANIFEST)
      && !_lf_manifest_verify (target, like, is_leaf, is_leaf_data, error))
    return NULL;
  LfStream *stream = lf_stream_open_path (target, (flags & LF_LOAD_MMAP) != 0, error);
  if (stream == NULL)
    return NULL;
  LfNode *out = _lf_walk_load (stream, like, spec, is_leaf, is_leaf_data, NULL, error);
  if (out != NULL && !check_nothing_left (stream, error))
    g_clear_pointer (&out, lf_node_unref);
  lf_stream_free (stream);
  return out;
}

LfNode *
lf_tree_deserialise_leaves (const char *path, LfNode *like, LfSpec *spec,
                            LfIsLeafFunc is_leaf, gpointer is_leaf_data, GError **error)
{
  return lf_tree_deserialise_leaves_full (path, like, spec, is_leaf, is_leaf_data,
                                          LF_LOAD_DEFAULT, error);
}

LfNode *
lf_tree_deserialise_leaves_from_stream (LfStream *stream, LfNode *like, LfSpec *spec,
                                        LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                        GError **error)
{
  g_return_val_if_fail (stream != NULL && like != NULL, NULL);
  return _lf_walk_load (stream, like, spec, is_leaf, is_leaf_data, NULL, error);
}
