/* The public save/load entry points: paths (atomic saves through
 * atomic-file.c, manifests through manifest.c, trailing-data checks) and
 * streams.  The walking itself is in walk.c. */
#include "config.h"
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic-file-private.h"
#include "manifest-private.h"
#include "stream-private.h"
#include "walk-private.h"

/* The length of `path` without what pathlib drops: "dir/" and "dir/."
 * name "dir". */
static gsize
trimmed_length (const char *path)
{
  gsize length = strlen (path);
  for (;;)
    {
      if (length > 1 && path[length - 1] == '/')
        length--;
      else if (length > 2 && path[length - 1] == '.' && path[length - 2] == '/')
        length -= 2;
      else
        break;
    }
  return length;
}

/* "", ".", "./" and "/" name a directory, not a file: Equinox's
 * with_suffix(".eqx") refuses them ("has an empty name"), where the
 * suffix would make a hidden ".eqx" of them. */
gboolean
lf_path_check_names_file (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  gsize length = trimmed_length (path);
  gsize start = length;
  while (start > 0 && path[start - 1] != '/')
    start--;
  gsize name = length - start;
  if (name == 0 || (name == 1 && path[start] == '.'))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO,
                   "'%s': the path names a directory, not a file to save to", path);
      return FALSE;
    }
  return TRUE;
}

char *
lf_path_with_eqx_suffix (const char *path)
{
  g_return_val_if_fail (path != NULL, NULL);
  /* As pathlib: "dir/" and "dir/." name "dir" (so "dir.eqx"), and a
   * suffix is a dot that is neither the name's first nor its last
   * character. */
  g_autofree char *trimmed = g_strndup (path, trimmed_length (path));
  const char *slash = strrchr (trimmed, '/');
  const char *name = slash != NULL ? slash + 1 : trimmed;
  const char *dot = strrchr (name, '.');
  gboolean has_suffix = dot != NULL && dot != name && dot[1] != '\0';
  return has_suffix ? g_steal_pointer (&trimmed) : g_strconcat (trimmed, ".eqx", NULL);
}

/* The manifest's text for a save whose data is in `file`'s temporary
 * file, from the walker's log of every leaf and the checksums it took
 * while writing. */
static char *
manifest_text (LfAtomicFile *file, LfNode *tree, LfIsLeafFunc is_leaf,
               gpointer is_leaf_data, GArray *log, gsize *length, GError **error)
{
  g_autofree LfManifestLeaf *leaves = g_new (LfManifestLeaf, log->len + 1);
  g_autofree LfRecordHash *hashes = g_new (LfRecordHash, log->len + 1);
  for (guint i = 0; i < log->len; i++)
    {
      const LfWalkRecord *record = &g_array_index (log, LfWalkRecord, i);
      leaves[i] = (LfManifestLeaf) {
        .path = record->path,
        .leaf = record->leaf,
        .codec = record->codec,
        .has_record = record->has_record,
        .offset = record->offset,
        .size = record->size,
      };
      hashes[i] = (LfRecordHash) { record->hashed, record->xxh3 };
    }
  return _lf_manifest_build (lf_atomic_file_get_destination (file),
                             lf_atomic_file_get_temporary_path (file), tree, is_leaf,
                             is_leaf_data, leaves, hashes, log->len, length, error);
}

/* Puts a path save's data (and, with a `log`, its manifest) in place.
 * An old manifest must never describe the new data, even for a moment, so
 * it is removed before the rename and the new one written after.  The
 * three steps run under the directory's lock: two saves of one path then
 * never leave one's data beside the other's manifest.  The slow parts
 * (checksums, syncing the data) run before the lock is taken. */
static gboolean
commit_with_manifest (LfAtomicFile *file, LfNode *tree, LfIsLeafFunc is_leaf,
                      gpointer is_leaf_data, GArray *log, LfSaveFlags flags, GError **error)
{
  const char *destination = lf_atomic_file_get_destination (file);
  gboolean sync = !(flags & LF_SAVE_NO_SYNC);
  g_autofree char *manifest = NULL;
  gsize manifest_length = 0;
  if (log != NULL)
    {
      manifest = manifest_text (file, tree, is_leaf, is_leaf_data, log, &manifest_length,
                                error);
      if (manifest == NULL)
        return FALSE;
    }
  if (sync)
    (void) fdatasync (lf_atomic_file_get_fd (file)); /* errors: the commit's fsync says */
  int lock = lf_atomic_file_lock_directory (file);
  gboolean ok = _lf_manifest_remove (destination, error)
                && lf_atomic_file_commit (file, sync, error)
                && (manifest == NULL
                    || _lf_manifest_put (destination, manifest, manifest_length, sync, error));
  lf_atomic_file_unlock_directory (lock);
  return ok;
}

gboolean
lf_tree_serialise_leaves_full (const char *path, LfNode *tree, LfSpec *spec,
                               LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                               LfSaveFlags flags, GError **error)
{
  g_return_val_if_fail (path != NULL && tree != NULL, FALSE);
  if (!lf_path_check_names_file (path, error))
    return FALSE;
  g_autofree char *target = lf_path_with_eqx_suffix (path);
  g_autoptr (LfAtomicFile) file = lf_atomic_file_new (target, error);
  if (file == NULL)
    return FALSE;

  /* The manifest is built from the walker's log of every leaf. */
  g_autoptr (GArray) log = NULL;
  if (flags & LF_SAVE_MANIFEST)
    {
      log = g_array_new (FALSE, TRUE, sizeof (LfWalkRecord));
      g_array_set_clear_func (log, _lf_walk_record_clear);
    }
  LfStream *stream = lf_stream_new_for_fd (lf_atomic_file_get_fd (file), FALSE);
  lf_stream_set_name (stream, target);
  _lf_stream_set_owns_tail (stream);
  if (!(flags & LF_SAVE_NO_SYNC))
    _lf_stream_set_write_behind (stream);
  gboolean ok = _lf_walk_save (stream, tree, spec, is_leaf, is_leaf_data, log, error)
                && lf_stream_flush (stream, error);
  lf_stream_free (stream);
  /* No failure leaves the temporary file: a failed commit removes it, and
   * so does freeing an uncommitted `file`. */
  if (!ok)
    return FALSE;
  return commit_with_manifest (file, tree, is_leaf, is_leaf_data, log, flags, error);
}

gboolean
lf_tree_serialise_leaves (const char *path, LfNode *tree, LfSpec *spec,
                          LfIsLeafFunc is_leaf, gpointer is_leaf_data, GError **error)
{
  return lf_tree_serialise_leaves_full (path, tree, spec, is_leaf, is_leaf_data,
                                        LF_SAVE_DEFAULT, error);
}

gboolean
lf_tree_serialise_leaves_to_stream_full (LfStream *stream, LfNode *tree, LfSpec *spec,
                                         LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                         LfSaveFlags flags, GError **error)
{
  g_return_val_if_fail (stream != NULL && tree != NULL, FALSE);
  if (flags & LF_SAVE_MANIFEST)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "%s: a manifest is written beside a file: save to a path, or write "
                   "it with lf_manifest_write()", lf_stream_get_name (stream));
      return FALSE;
    }
  return _lf_walk_save (stream, tree, spec, is_leaf, is_leaf_data, NULL, error)
         && lf_stream_flush (stream, error);
}

gboolean
lf_tree_serialise_leaves_to_stream (LfStream *stream, LfNode *tree, LfSpec *spec,
                                    LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                    GError **error)
{
  return lf_tree_serialise_leaves_to_stream_full (stream, tree, spec, is_leaf, is_leaf_data,
                                                  LF_SAVE_DEFAULT, error);
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

/* Loads `target` through a new stream; checks each record against
 * `checks` (nullable) as it is read. */
static LfNode *
load_path (const char *target, LfNode *like, LfSpec *spec, LfIsLeafFunc is_leaf,
           gpointer is_leaf_data, LfLoadFlags flags, LfWalkChecks *checks,
           guint *failed_record, GError **error)
{
  LfStream *stream = lf_stream_new_for_path (target, (flags & LF_LOAD_MMAP) != 0, error);
  if (stream == NULL)
    return NULL;
  LfNode *out = _lf_walk_load_checked (stream, like, spec, is_leaf, is_leaf_data, checks,
                                       failed_record, error);
  if (out != NULL && !check_nothing_left (stream, error))
    g_clear_pointer (&out, lf_node_unref);
  lf_stream_free (stream);
  return out;
}

/* A load's own failure (not the manifest's) says which codec wrote the
 * record it failed on, when the manifest knows. */
static LfNode *
load_path_hinted (const char *target, LfNode *like, LfSpec *spec, LfIsLeafFunc is_leaf,
                  gpointer is_leaf_data, LfLoadFlags flags, GError **error)
{
  guint failed_record = 0;
  LfNode *out = load_path (target, like, spec, is_leaf, is_leaf_data, flags, NULL,
                           &failed_record, error);
  if (out == NULL)
    _lf_manifest_add_codec_hint (target, failed_record, error);
  return out;
}

/* A load with the manifest beside `target`: each record is hashed as it
 * is read and compared with the manifest, so the file is read once.  A
 * mapped load is checked first instead, since hashing would fault in the
 * pages a mapping leaves to the kernel. */
static LfNode *
load_with_manifest (const char *target, LfNode *like, LfSpec *spec, LfIsLeafFunc is_leaf,
                    gpointer is_leaf_data, LfLoadFlags flags, GError **error)
{
  g_autoptr (GArray) records = NULL;
  g_autoptr (GError) load_error = NULL;
  guint failed_record = 0;
  struct stat before;
  gboolean known = stat (target, &before) == 0;
  if (!(flags & LF_LOAD_MMAP)
      && _lf_manifest_read_checks (target, like, is_leaf, is_leaf_data, &records, NULL))
    {
      LfWalkChecks checks = { NULL, 0, FALSE };
      if (records != NULL)
        checks = (LfWalkChecks) { (const LfRecordCheck *) records->data, records->len, FALSE };
      LfNode *out = load_path (target, like, spec, is_leaf, is_leaf_data, flags,
                               records != NULL ? &checks : NULL, &failed_record, &load_error);
      if (out != NULL)
        return out;
      g_debug ("%s; checking the whole file against its manifest", load_error->message);
      if (checks.failed)
        g_clear_error (&load_error);
    }
  /* Whatever went wrong, the whole check says first what differs, as a
   * check before the load would have: it names the first damaged record,
   * and starts again when a save replaced the file meanwhile. */
  if (!_lf_manifest_verify (target, like, is_leaf, is_leaf_data, error))
    return NULL;
  if (load_error != NULL && known && _lf_file_unchanged (target, &before))
    {
      /* The file the load read is as its manifest says: the load's own
       * error stands. */
      _lf_manifest_add_codec_hint (target, failed_record, &load_error);
      g_propagate_error (error, g_steal_pointer (&load_error));
      return NULL;
    }
  /* Mapped, or the file checks clean now (saved again meanwhile). */
  g_clear_error (&load_error);
  return load_path_hinted (target, like, spec, is_leaf, is_leaf_data, flags, error);
}

LfNode *
lf_tree_deserialise_leaves_full (const char *path, LfNode *like, LfSpec *spec,
                                 LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                 LfLoadFlags flags, GError **error)
{
  g_return_val_if_fail (path != NULL && like != NULL, NULL);
  g_autofree char *target = lf_path_with_eqx_suffix (path);
  if (flags & LF_LOAD_IGNORE_MANIFEST)
    {
      guint failed_record;
      return load_path (target, like, spec, is_leaf, is_leaf_data, flags, NULL, &failed_record,
                        error);
    }
  return load_with_manifest (target, like, spec, is_leaf, is_leaf_data, flags, error);
}

LfNode *
lf_tree_deserialise_leaves (const char *path, LfNode *like, LfSpec *spec,
                            LfIsLeafFunc is_leaf, gpointer is_leaf_data, GError **error)
{
  return lf_tree_deserialise_leaves_full (path, like, spec, is_leaf, is_leaf_data,
                                          LF_LOAD_DEFAULT, error);
}

LfNode *
lf_tree_deserialise_leaves_from_stream_full (LfStream *stream, LfNode *like, LfSpec *spec,
                                             LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                             LfLoadFlags flags, GError **error)
{
  g_return_val_if_fail (stream != NULL && like != NULL, NULL);
  if (flags & LF_LOAD_MMAP)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "%s: a stream is mapped when it is opened: use "
                   "lf_stream_new_for_path (path, TRUE)", lf_stream_get_name (stream));
      return NULL;
    }
  return _lf_walk_load (stream, like, spec, is_leaf, is_leaf_data, NULL, error);
}

LfNode *
lf_tree_deserialise_leaves_from_stream (LfStream *stream, LfNode *like, LfSpec *spec,
                                        LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                        GError **error)
{
  return lf_tree_deserialise_leaves_from_stream_full (stream, like, spec, is_leaf,
                                                      is_leaf_data, LF_LOAD_DEFAULT, error);
}
