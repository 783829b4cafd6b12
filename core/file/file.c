/* Random access to a saved file (<leafio/file.h>): opening and indexing,
 * then loading one leaf or subtree at a time.  Each record is read with
 * one positioned read into memory of its own (or sliced from a mapping),
 * so reads share nothing but the immutable index and run on any thread. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "file-private.h"
#include "read-buffer-private.h"
#include "stream-private.h"

/* Records from this size on are read into a pooled buffer placed like the
 * data in the file (see lf_read_buffer_new). */
#define POOLED_READ_MIN ((gsize) 1 << 20)

/* ---- reading bytes ---------------------------------------------------------------- */

static gssize
fd_read_at (gpointer user_data, void *buffer, gsize count, guint64 offset, GError **error)
{
  LfFile *file = user_data;
  for (;;)
    {
      gssize n = pread (file->fd, buffer, count, (off_t) offset);
      if (n >= 0)
        return n;
      if (errno != EINTR)
        {
          int saved_errno = errno;
          g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: read failed: %s", file->name,
                       g_strerror (saved_errno));
          return -1;
        }
    }
}

gboolean
_lf_file_read_part (LfFile *file, guint8 *buffer, gsize count, guint64 offset, gsize from,
                    gsize length, GError **error)
{
  gsize done = from;
  while (done < from + length)
    {
      gssize n = file->read_func (file->read_data, buffer + done, from + length - done,
                                  offset + done, error);
      if (n < 0)
        return FALSE;
      if (n == 0)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                       "%s: expected %" G_GSIZE_FORMAT " bytes at offset %" G_GUINT64_FORMAT
                       ", found %" G_GSIZE_FORMAT " (the file shrank after it was opened?)",
                       file->name, count, offset, done);
          return FALSE;
        }
      done += (gsize) n;
    }
  return TRUE;
}

gboolean
_lf_file_read_exact (LfFile *file, void *buffer, gsize count, guint64 offset,
                     GError **error)
{
  return _lf_file_read_part (file, buffer, count, offset, 0, count, error);
}

/* ---- opening ------------------------------------------------------------------------ */

static LfFile *
file_new (const char *name, LfNode *like, LfIsLeafFunc is_leaf, gpointer is_leaf_data)
{
  LfFile *file = g_new0 (LfFile, 1);
  g_atomic_ref_count_init (&file->ref_count);
  file->name = g_strdup (name);
  file->fd = -1;
  file->like = like != NULL ? lf_node_ref (like) : NULL;
  file->is_leaf = is_leaf;
  file->is_leaf_data = is_leaf_data;
  return file;
}

static void
file_free (LfFile *file)
{
  for (gsize i = 0; i < file->n_leaves; i++)
    {
      LfFileLeaf *leaf = &file->leaves[i];
      g_free (leaf->path_text);
      lf_path_free (leaf->path);
      lf_codec_unref (leaf->codec);
      g_free (leaf->codec_text);
      g_free (leaf->shape);
    }
  g_free (file->leaves);
  g_clear_error (&file->index_error);
  g_clear_pointer (&file->by_path, g_hash_table_unref);
  lf_node_unref (file->like);
  g_clear_pointer (&file->mapped, g_bytes_unref);
  if (file->read_destroy != NULL)
    file->read_destroy (file->read_data);
  if (file->fd >= 0)
    close (file->fd);
  g_free (file->name);
  g_free (file);
}

static void
index_paths (LfFile *file)
{
  file->by_path = g_hash_table_new (g_str_hash, g_str_equal);
  for (gsize i = 0; i < file->n_leaves; i++)
    g_hash_table_insert (file->by_path, file->leaves[i].path_text, &file->leaves[i]);
}

static gboolean
open_fd (LfFile *file, const char *path, gboolean map, GError **error)
{
  do
    file->fd = open (path, O_RDONLY | O_CLOEXEC);
  while (file->fd < 0 && errno == EINTR);
  struct stat st;
  if (file->fd < 0 || fstat (file->fd, &st) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot open: %s", path,
                   g_strerror (saved_errno));
      return FALSE;
    }
  file->size = (guint64) st.st_size;
  file->read_func = fd_read_at;
  file->read_data = file;
  if (!map)
    return TRUE;
  g_autoptr (GError) map_error = NULL;
  GMappedFile *mapped = g_mapped_file_new_from_fd (file->fd, FALSE, &map_error);
  if (mapped == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot map: %s", path,
                   map_error->message);
      return FALSE;
    }
  file->mapped = g_mapped_file_get_bytes (mapped);
  g_mapped_file_unref (mapped);
  return TRUE;
}

/* The manifest beside `path` when it can index the file; otherwise the
 * reason is given in a warning (a manifest that exists but does not fit)
 * and the records are described instead. */
static gboolean
index_file (LfFile *file, const char *path, LfManifestIndex *manifest,
            const GError *manifest_error, LfSpec *spec, gboolean partial, GError **error)
{
  g_autoptr (GError) why = manifest_error != NULL ? g_error_copy (manifest_error) : NULL;
  if (manifest != NULL
      && _lf_file_index_from_manifest (file, manifest, spec == NULL, &why))
    {
      file->from_manifest = TRUE;
      return TRUE;
    }
  if (why != NULL)
    g_warning ("%s: not using the manifest beside it (%s); indexing the file by "
               "describing its records", path, why->message);
  return _lf_file_index_by_scanning (file, partial, error);
}

LfFile *
lf_file_open_full (const char *path, LfNode *like, LfSpec *spec, LfIsLeafFunc is_leaf,
                   gpointer is_leaf_data, LfFileFlags flags, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autofree char *target = lf_path_with_eqx_suffix (path);
  g_autoptr (LfFile) file = file_new (target, like, is_leaf, is_leaf_data);
  if (!open_fd (file, target, (flags & LF_FILE_MMAP) != 0, error))
    return NULL;

  g_autoptr (LfManifestIndex) manifest = NULL;
  g_autoptr (GError) manifest_error = NULL;
  gboolean present = FALSE;
  if (!(flags & LF_FILE_IGNORE_MANIFEST))
    {
      g_autofree char *manifest_path = lf_manifest_get_path (target);
      manifest = _lf_manifest_index_read (manifest_path, file->like == NULL, &present,
                                          &manifest_error);
    }
  if (file->like == NULL && manifest != NULL)
    file->like = lf_node_ref (manifest->skeleton);
  if (file->like == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED,
                   "%s: cannot tell its records apart without like: %s", target,
                   manifest_error != NULL ? manifest_error->message
                   : (flags & LF_FILE_IGNORE_MANIFEST) ? "its manifest is ignored"
                   : "there is no manifest beside it");
      return NULL;
    }
  if (!_lf_file_collect_leaves (file, spec, error)
      || !index_file (file, target, manifest, manifest_error, spec,
                      (flags & LF_FILE_PARTIAL) != 0, error))
    return NULL;
  index_paths (file);
  return g_steal_pointer (&file);
}

LfFile *
lf_file_open (const char *path, LfNode *like, LfSpec *spec, LfFileFlags flags, GError **error)
{
  return lf_file_open_full (path, like, spec, NULL, NULL, flags, error);
}

LfFile *
lf_file_new_for_reader (const char *name, guint64 size, LfFileReadFunc read_func,
                        gpointer user_data, GDestroyNotify destroy, LfNode *like,
                        LfSpec *spec, LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                        GError **error)
{
  g_return_val_if_fail (name != NULL && read_func != NULL && like != NULL, NULL);
  g_autoptr (LfFile) file = file_new (name, like, is_leaf, is_leaf_data);
  file->size = size;
  file->read_func = read_func;
  file->read_data = user_data;
  file->read_destroy = destroy;
  if (!_lf_file_collect_leaves (file, spec, error)
      || !_lf_file_index_by_scanning (file, FALSE, error))
    return NULL;
  index_paths (file);
  return g_steal_pointer (&file);
}

LfFile *
lf_file_ref (LfFile *file)
{
  g_return_val_if_fail (file != NULL, NULL);
  g_atomic_ref_count_inc (&file->ref_count);
  return file;
}

void
lf_file_unref (LfFile *file)
{
  if (file != NULL && g_atomic_ref_count_dec (&file->ref_count))
    file_free (file);
}

/* ---- the index ------------------------------------------------------------------------ */

const char *
lf_file_get_name (LfFile *file)
{
  g_return_val_if_fail (file != NULL, NULL);
  return file->name;
}

LfNode *
lf_file_get_like (LfFile *file)
{
  g_return_val_if_fail (file != NULL, NULL);
  return file->like;
}

gboolean
lf_file_is_indexed_from_manifest (LfFile *file)
{
  g_return_val_if_fail (file != NULL, FALSE);
  return file->from_manifest;
}

const GError *
lf_file_get_index_error (LfFile *file)
{
  g_return_val_if_fail (file != NULL, NULL);
  return file->index_error;
}

gsize
lf_file_get_n_entries (LfFile *file)
{
  g_return_val_if_fail (file != NULL, 0);
  return file->n_leaves;
}

const LfFileEntry *
lf_file_get_entry (LfFile *file, gsize index)
{
  g_return_val_if_fail (file != NULL && index < file->n_leaves, NULL);
  return &file->leaves[index].pub;
}

const LfFileEntry *
lf_file_lookup (LfFile *file, const char *path)
{
  g_return_val_if_fail (file != NULL && path != NULL, NULL);
  LfFileLeaf *leaf = g_hash_table_lookup (file->by_path, path);
  return leaf != NULL ? &leaf->pub : NULL;
}

/* ---- reading leaves ------------------------------------------------------------------ */

static gboolean
check_checksum (const LfFileLeaf *leaf, gsize size, guint64 found, GError **error)
{
  if (found == leaf->checksum)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_CHECKSUM,
               "the record (%" G_GSIZE_FORMAT " bytes) has checksum %016" G_GINT64_MODIFIER
               "x, the manifest says %016" G_GINT64_MODIFIER "x", size, found, leaf->checksum);
  return FALSE;
}

/* A slice of the mapping, its checksum checked. */
static GBytes *
mapped_record_bytes (LfFile *file, const LfFileLeaf *leaf, GError **error)
{
  gsize size = (gsize) leaf->pub.size;
  if (leaf->pub.offset + size > g_bytes_get_size (file->mapped))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                   "%s: the record lies past the end of the mapped file", file->name);
      return NULL;
    }
  GBytes *bytes = g_bytes_new_from_bytes (file->mapped, (gsize) leaf->pub.offset, size);
  if (leaf->has_checksum
      && !check_checksum (leaf, size, _lf_file_hash (g_bytes_get_data (bytes, NULL), size),
                          error))
    g_clear_pointer (&bytes, g_bytes_unref);
  return bytes;
}

/* Memory for `size` bytes of record: pooled for big ones, which reuses
 * pages an earlier read touched (`*fresh` when they are new). */
static GBytes *
record_buffer (const LfFileLeaf *leaf, gsize size, guint8 **data, gboolean *fresh,
               GError **error)
{
  *fresh = FALSE;
  GBytes *bytes = size >= POOLED_READ_MIN
                  ? _lf_read_buffer_new_fresh (size, leaf->pub.offset, data, fresh) : NULL;
  if (bytes != NULL)
    return bytes;
  *data = g_try_malloc (MAX (size, 1));
  if (*data == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TOO_LARGE,
                   "cannot allocate %" G_GSIZE_FORMAT " bytes for the record", size);
      return NULL;
    }
  return g_bytes_new_take (*data, size);
}

/* The bytes of a leaf's record, its checksum checked: a slice of the
 * mapping, or read (and hashed as it lands). */
static GBytes *
record_bytes (LfFile *file, const LfFileLeaf *leaf, GError **error)
{
  if (file->mapped != NULL)
    return mapped_record_bytes (file, leaf, error);
  gsize size = (gsize) leaf->pub.size;
  guint8 *data = NULL;
  gboolean fresh;
  g_autoptr (GBytes) bytes = record_buffer (leaf, size, &data, &fresh, error);
  if (bytes == NULL)
    return NULL;
  guint64 found;
  gboolean ok;
  if (leaf->has_checksum)
    ok = _lf_file_read_hashed (file, data, size, leaf->pub.offset, fresh, &found, error)
         && check_checksum (leaf, size, found, error);
  else
    {
      if (fresh)
        _lf_read_buffer_populate (data, size);
      ok = _lf_file_read_exact (file, data, size, leaf->pub.offset, error);
    }
  return ok ? g_steal_pointer (&bytes) : NULL;
}

/* What a load does with one record (see check_before_decoding in the
 * walker): describe and check against like, decode, fit to like. */
static LfNode *
decode_record (LfFile *file, const LfFileLeaf *leaf, GBytes *bytes, GError **error)
{
  g_autoptr (LfStream) stream = lf_stream_new_for_bytes (bytes);
  lf_stream_set_name (stream, file->name);
  _lf_stream_set_origin (stream, leaf->pub.offset);
  if (lf_codec_can_describe (leaf->codec))
    {
      g_autoptr (LfRecordInfo) info = lf_record_info_new ();
      if (!lf_codec_describe (leaf->codec, stream, leaf->like, info, error)
          || !lf_record_info_check_like (info, leaf->like, 0, error))
        return NULL;
    }
  g_autoptr (LfNode) loaded = lf_codec_deserialise (leaf->codec, stream, leaf->path,
                                                    leaf->like, error);
  if (loaded == NULL)
    return NULL;
  if (lf_stream_tell (stream) != leaf->pub.size)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "the codec read %" G_GUINT64_FORMAT " of the record's %" G_GUINT64_FORMAT
                   " bytes", lf_stream_tell (stream), leaf->pub.size);
      return NULL;
    }
  return lf_codec_fit_to_like (leaf->like, loaded, error);
}

static LfNode *
read_leaf (LfFile *file, const LfFileLeaf *leaf, GError **error)
{
  if (!leaf->pub.has_record)
    return lf_node_ref (leaf->like);
  if (leaf->unindexed)
    {
      /* The error names the record where the index stopped. */
      g_propagate_error (error, g_error_copy (file->index_error));
      if (leaf != &file->leaves[file->index_stop])
        g_prefix_error (error, "%s: record %u (%s) lies past where the index stopped: ",
                        file->name, leaf->record_index,
                        *leaf->path_text ? leaf->path_text : "root");
      return NULL;
    }
  GError *local = NULL;
  g_autoptr (GBytes) bytes = record_bytes (file, leaf, &local);
  LfNode *out = bytes != NULL ? decode_record (file, leaf, bytes, &local) : NULL;
  if (out == NULL)
    g_propagate_prefixed_error (error, local, "%s: record %u at offset %" G_GUINT64_FORMAT
                                " (%s): ", file->name, leaf->record_index, leaf->pub.offset,
                                *leaf->path_text ? leaf->path_text : "root");
  return out;
}

static gboolean
node_is_leaf (LfFile *file, const LfNode *node)
{
  return !lf_node_is_container (node)
         || (file->is_leaf != NULL && file->is_leaf (node, file->is_leaf_data));
}

/* The position of child `i` of `node` that key `k` of `path` names (which
 * lf_tree_get found to exist). */
static gsize
child_position (const LfNode *node, const LfPath *path, gsize k)
{
  gsize n = lf_node_get_n_children (node);
  if (lf_path_get_kind (path, k) == LF_KEY_INDEX)
    {
      gint64 index = lf_path_get_index (path, k);
      return (gsize) (index < 0 ? (gint64) n + index : index);
    }
  const char *name = lf_path_get_name (path, k);
  for (gsize i = 0; i < n; i++)
    if (strcmp (name, lf_node_get_kind (node) == LF_NODE_DICT ? lf_dict_get_key (node, i)
                                                             : lf_struct_get_field_name (node, i)) == 0)
      return i;
  g_return_val_if_reached (0);
}

/* The node at `path` and the range of leaves under it, in leaf order. */
static LfNode *
locate (LfFile *file, const LfPath *path, gsize *first, gsize *count, GError **error)
{
  LfNode *target = lf_tree_get (file->like, path, error);
  if (target == NULL)
    return NULL;
  LfNode *node = file->like;
  *first = 0;
  for (gsize k = 0; k < lf_path_get_length (path); k++)
    {
      if (node_is_leaf (file, node))
        {
          g_set_error (error, LF_ERROR, LF_ERROR_NOT_FOUND,
                       "the path goes inside leaf %s", file->leaves[*first].path_text);
          return NULL;
        }
      gsize position = child_position (node, path, k);
      for (gsize i = 0; i < position; i++)
        *first += lf_tree_count_leaves (lf_node_get_child (node, i), file->is_leaf,
                                        file->is_leaf_data);
      node = lf_node_get_child (node, position);
    }
  *count = lf_tree_count_leaves (node, file->is_leaf, file->is_leaf_data);
  return node;
}

static LfNode *
read_subtree (LfFile *file, LfNode *node, gsize first, gsize count, GError **error)
{
  if (count == 1 && node_is_leaf (file, node))
    return read_leaf (file, &file->leaves[first], error);
  LfNode **leaves = g_new0 (LfNode *, MAX (count, 1));
  LfNode *out = NULL;
  gsize done = 0;
  while (done < count && (leaves[done] = read_leaf (file, &file->leaves[first + done], error)))
    done++;
  if (done == count)
    out = lf_tree_replace_leaves (node, file->is_leaf, file->is_leaf_data, leaves);
  for (gsize i = 0; i < done; i++)
    lf_node_unref (leaves[i]);
  g_free (leaves);
  return out;
}

LfNode *
lf_file_read (LfFile *file, const char *path, GError **error)
{
  g_return_val_if_fail (file != NULL && path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  LfFileLeaf *leaf = g_hash_table_lookup (file->by_path, path);
  if (leaf != NULL)
    return read_leaf (file, leaf, error);
  gsize first, count;
  g_autoptr (LfPath) parsed = lf_path_parse (path, error);
  LfNode *node = parsed != NULL ? locate (file, parsed, &first, &count, error) : NULL;
  if (node == NULL)
    {
      g_prefix_error (error, "%s: ", file->name);
      return NULL;
    }
  return read_subtree (file, node, first, count, error);
}
