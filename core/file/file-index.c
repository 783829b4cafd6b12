/* Builds a file's index: pairs each leaf of `like` with its codec, then
 * finds each record's offset and size in the manifest, or by asking the
 * codec to describe the record and skipping past it. */
#include "config.h"
#include <string.h>
#include "file-private.h"
#include "stream-private.h"

void
_lf_file_leaf_set_shape (LfFileLeaf *leaf, LfDType dtype, guint ndim, const gsize *shape)
{
  g_free (leaf->shape);
  leaf->shape = ndim > 0 ? g_memdup2 (shape, ndim * sizeof (gsize)) : NULL;
  leaf->pub.dtype = dtype;
  leaf->pub.ndim = ndim;
  leaf->pub.shape = leaf->shape;
}

static void
leaf_set_codec (LfFileLeaf *leaf, LfCodec *codec)
{
  lf_codec_ref (codec);
  g_clear_pointer (&leaf->codec, lf_codec_unref);
  g_free (leaf->codec_text);
  leaf->codec = codec;
  leaf->codec_text = lf_codec_to_string (codec);
  leaf->pub.codec = leaf->codec_text;
}

/* What a leaf of `like` says about itself, for leaves without a record. */
static void
leaf_describe_like (LfFileLeaf *leaf)
{
  switch (lf_node_get_kind (leaf->like))
    {
    case LF_NODE_ARRAY:
      _lf_file_leaf_set_shape (leaf, lf_array_get_dtype (leaf->like),
                               lf_array_get_ndim (leaf->like), lf_array_get_shape (leaf->like));
      break;
    case LF_NODE_SCALAR:
      _lf_file_leaf_set_shape (leaf, lf_scalar_get_dtype (leaf->like), 0, NULL);
      break;
    default:
      _lf_file_leaf_set_shape (leaf, LF_DTYPE_INVALID, 0, NULL);
      break;
    }
}

static gboolean
collect_leaf (const LfPath *path, LfNode *node, LfCodec *codec, gpointer user_data,
              GError **error)
{
  GArray *leaves = user_data;
  LfFileLeaf leaf = { 0 };
  leaf.path = lf_path_copy (path);
  leaf.path_text = lf_path_to_string (path);
  leaf.pub.path = leaf.path_text;
  leaf.like = node;
  leaf.pub.kind = lf_node_get_kind (node);
  leaf_set_codec (&leaf, codec);
  leaf.pub.has_record = lf_codec_handles (codec, node);
  leaf_describe_like (&leaf);
  g_array_append_val (leaves, leaf);
  return TRUE;
}

gboolean
_lf_file_collect_leaves (LfFile *file, LfSpec *spec, GError **error)
{
  GArray *leaves = g_array_new (FALSE, TRUE, sizeof (LfFileLeaf));
  gboolean ok = lf_spec_foreach_leaf (spec, file->like, file->is_leaf, file->is_leaf_data,
                                      collect_leaf, leaves, error);
  /* Whatever was collected is the file's to free, success or not. */
  file->n_leaves = leaves->len;
  file->leaves = (LfFileLeaf *) (gpointer) g_array_free (leaves, FALSE);
  return ok;
}

/* ---- from the manifest ---------------------------------------------------------- */

static gboolean
same_shape (const LfManifestEntry *entry, const LfNode *like)
{
  if (entry->dtype != lf_array_get_dtype (like) || entry->ndim != lf_array_get_ndim (like))
    return FALSE;
  return entry->ndim == 0
         || memcmp (entry->shape, lf_array_get_shape (like), entry->ndim * sizeof (gsize)) == 0;
}

/* Why manifest entry `entry` does not describe `leaf`, or NULL. */
static char *
entry_disagrees (const LfManifestEntry *entry, const LfFileLeaf *leaf,
                 gboolean check_codec)
{
  const char *where = *leaf->path_text ? leaf->path_text : "the root";
  if (strcmp (entry->path, leaf->path_text) != 0)
    return g_strdup_printf ("it has %s where like has %s",
                            *entry->path ? entry->path : "the root", where);
  if (strcmp (entry->kind, lf_node_kind_name (leaf->pub.kind)) != 0)
    return g_strdup_printf ("%s: it has a leaf of kind %s, like has kind %s", where,
                            entry->kind, lf_node_kind_name (leaf->pub.kind));
  if (leaf->pub.kind == LF_NODE_ARRAY && !same_shape (entry, leaf->like))
    return g_strdup_printf ("%s: it has another dtype or shape than like", where);
  if (entry->has_record != leaf->pub.has_record)
    return g_strdup_printf ("%s: it has %s record, the codec %s one", where,
                            entry->has_record ? "a" : "no",
                            leaf->pub.has_record ? "writes" : "writes no");
  if (check_codec && strcmp (entry->codec, leaf->codec_text) != 0)
    return g_strdup_printf ("%s: it names codec %s, the spec gives %s", where, entry->codec,
                            leaf->codec_text);
  return NULL;
}

/* The manifest's codec of each leaf, resolved once a distinct reference. */
static LfCodec **
resolve_codecs (const LfManifestIndex *manifest, GError **error)
{
  g_autoptr (GHashTable) resolved = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                           (GDestroyNotify) lf_codec_unref);
  LfCodec **codecs = g_new0 (LfCodec *, MAX (manifest->n_entries, 1));
  for (gsize i = 0; i < manifest->n_entries; i++)
    {
      const char *reference = manifest->entries[i].codec;
      LfCodec *codec = g_hash_table_lookup (resolved, reference);
      if (codec == NULL)
        {
          codec = lf_registry_resolve (lf_registry_get_default (), reference, error);
          if (codec == NULL)
            {
              for (gsize j = 0; j < i; j++)
                lf_codec_unref (codecs[j]);
              g_free (codecs);
              return NULL;
            }
          g_hash_table_insert (resolved, (gpointer) reference, codec);
        }
      codecs[i] = lf_codec_ref (codec);
    }
  return codecs;
}

static gboolean
manifest_disagrees (LfFile *file, const LfManifestIndex *manifest, LfCodec **codecs,
                    GError **error)
{
  if (manifest->file_size != file->size)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                   "it describes a file of %" G_GUINT64_FORMAT " bytes, the file has %"
                   G_GUINT64_FORMAT, manifest->file_size, file->size);
      return TRUE;
    }
  if (manifest->n_entries != file->n_leaves)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                   "it lists %" G_GSIZE_FORMAT " leaves, like has %" G_GSIZE_FORMAT,
                   manifest->n_entries, file->n_leaves);
      return TRUE;
    }
  for (gsize i = 0; i < file->n_leaves; i++)
    {
      LfFileLeaf *leaf = &file->leaves[i];
      if (codecs != NULL)
        leaf->pub.has_record = lf_codec_handles (codecs[i], leaf->like);
      g_autofree char *why = entry_disagrees (&manifest->entries[i], leaf, codecs == NULL);
      if (why != NULL)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH, "%s", why);
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
_lf_file_index_from_manifest (LfFile *file, const LfManifestIndex *manifest,
                              gboolean use_manifest_codecs, GError **error)
{
  LfCodec **codecs = NULL;
  if (use_manifest_codecs && (codecs = resolve_codecs (manifest, error)) == NULL)
    return FALSE;
  gboolean ok = !manifest_disagrees (file, manifest, codecs, error);
  guint record_index = 0;
  guint64 end = 0;  /* of the last record: where leaves without one are */
  for (gsize i = 0; i < file->n_leaves; i++)
    {
      LfFileLeaf *leaf = &file->leaves[i];
      if (codecs != NULL)
        {
          if (ok)
            leaf_set_codec (leaf, codecs[i]);
          else
            leaf->pub.has_record = lf_codec_handles (leaf->codec, leaf->like);
          lf_codec_unref (codecs[i]);
        }
      const LfManifestEntry *entry = &manifest->entries[i];
      if (!ok)
        continue;
      leaf->pub.offset = entry->has_record ? entry->offset : end;
      if (!entry->has_record)
        continue;
      end = entry->offset + entry->size;
      leaf->pub.size = entry->size;
      leaf->record_index = record_index++;
      leaf->has_checksum = TRUE;
      leaf->checksum = entry->checksum;
      if (entry->dtype != LF_DTYPE_INVALID)
        _lf_file_leaf_set_shape (leaf, entry->dtype, entry->ndim, entry->shape);
    }
  g_free (codecs);
  return ok;
}

/* ---- by describing each record ----------------------------------------------------- */

/* A stream over the file from `offset` on, for codecs to peek at and read. */
typedef struct {
  LfFile *file;
  guint64 offset;
} Cursor;

static gssize
cursor_read (gpointer user_data, void *buffer, gsize count, GError **error)
{
  Cursor *cursor = user_data;
  if (cursor->offset >= cursor->file->size)
    return 0;
  count = (gsize) MIN ((guint64) count, cursor->file->size - cursor->offset);
  /* A file that ends early (it shrank) is a short read: the stream then
   * says what it expected where, naming the file once. */
  gsize done = 0;
  while (done < count)
    {
      gssize n = cursor->file->read_func (cursor->file->read_data, (guint8 *) buffer + done,
                                          count - done, cursor->offset + done, error);
      if (n < 0)
        return -1;
      if (n == 0)
        break;
      done += (gsize) n;
    }
  cursor->offset += done;
  return (gssize) done;
}

static void
leaf_describe_loaded (LfFileLeaf *leaf, const LfNode *loaded)
{
  if (lf_node_get_kind (loaded) == LF_NODE_ARRAY)
    _lf_file_leaf_set_shape (leaf, lf_array_get_dtype (loaded), lf_array_get_ndim (loaded),
                             lf_array_get_shape (loaded));
  else if (lf_node_get_kind (loaded) == LF_NODE_SCALAR)
    _lf_file_leaf_set_shape (leaf, lf_scalar_get_dtype (loaded), 0, NULL);
}

static gboolean
measure_record (LfFile *file, LfFileLeaf *leaf, LfRecordInfo *info, GError **error)
{
  Cursor cursor = { file, leaf->pub.offset };
  g_autoptr (LfStream) stream = lf_stream_new_for_callbacks (cursor_read, NULL, &cursor, NULL);
  lf_stream_set_name (stream, file->name);
  _lf_stream_set_origin (stream, leaf->pub.offset);
  guint64 size;
  g_autoptr (LfNode) decoded = NULL;
  if (!lf_codec_measure_record (leaf->codec, stream, leaf->path, leaf->like,
                                file->size - leaf->pub.offset, info, &size, &decoded, error))
    return FALSE;
  if (decoded != NULL)
    leaf_describe_loaded (leaf, decoded);
  else
    _lf_file_leaf_set_shape (leaf, lf_record_info_get_dtype (info),
                             lf_record_info_get_ndim (info), lf_record_info_get_shape (info));
  leaf->pub.size = size;
  return TRUE;
}

/* A partial index ends at leaf `first`: it and the leaves after it that
 * have a record are not read, and `why` says why. */
static void
stop_index (LfFile *file, gsize first, guint64 offset, GError *why)
{
  file->index_error = why;
  file->index_stop = first;
  guint record_index = file->leaves[first].record_index;
  for (gsize i = first; i < file->n_leaves; i++)
    {
      LfFileLeaf *leaf = &file->leaves[i];
      leaf->pub.offset = offset;
      leaf->pub.size = 0;
      leaf->unindexed = leaf->pub.has_record;
      if (leaf->unindexed)
        leaf->record_index = record_index++;
    }
}

gboolean
_lf_file_index_by_scanning (LfFile *file, gboolean partial, GError **error)
{
  g_autoptr (LfRecordInfo) info = lf_record_info_new ();
  guint64 offset = 0;
  guint record_index = 0;
  GError *local = NULL;
  for (gsize i = 0; i < file->n_leaves; i++)
    {
      LfFileLeaf *leaf = &file->leaves[i];
      leaf->pub.offset = offset;
      leaf->pub.size = 0;
      leaf->has_checksum = FALSE;
      if (!leaf->pub.has_record)
        continue;
      leaf->record_index = record_index++;
      if (!measure_record (file, leaf, info, &local))
        {
          g_prefix_error (&local, "%s: record %u at offset %" G_GUINT64_FORMAT " (%s): ",
                          file->name, leaf->record_index, offset,
                          *leaf->path_text ? leaf->path_text : "root");
          if (!partial)
            break;
          stop_index (file, i, offset, g_steal_pointer (&local));
          return TRUE;
        }
      offset += leaf->pub.size;
    }
  if (local == NULL && offset != file->size)
    g_set_error (&local, LF_ERROR, LF_ERROR_TRAILING_DATA,
                 "%s: %" G_GUINT64_FORMAT " bytes after the last record (which ends at "
                 "offset %" G_GUINT64_FORMAT "): like or the spec does not describe "
                 "this file", file->name, file->size - offset, offset);
  if (local != NULL && partial)
    {
      file->index_error = local;  /* every leaf was indexed: the bytes after are not read */
      return TRUE;
    }
  if (local != NULL)
    g_propagate_error (error, local);
  return local == NULL;
}
