/* Reads the manifest beside a file (docs/MANIFEST.md) into an index for
 * random access: each leaf's path, kind, dtype, shape, codec and record.
 * Only the manifest is read here; the records' checksums are checked as
 * they are read (file.c). */
#include "config.h"
#include <string.h>
#include "file-private.h"
#include "json-private.h"
#include "side-file-private.h"

#define MANIFEST_FORMAT "leafio-manifest"
#define MANIFEST_VERSION 1

void
_lf_manifest_index_free (LfManifestIndex *index)
{
  if (index == NULL)
    return;
  for (gsize i = 0; i < index->n_entries; i++)
    {
      g_free (index->entries[i].path);
      g_free (index->entries[i].kind);
      g_free (index->entries[i].shape);
      g_free (index->entries[i].codec);
    }
  g_free (index->entries);
  lf_node_unref (index->skeleton);
  g_free (index);
}

/* The member `name` of `object` when it holds a string, else NULL. */
static const char *
get_string (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* A non-negative integer member, or FALSE. */
static gboolean
get_count (JsonObject *object, const char *name, guint64 *value)
{
  JsonNode *node = json_object_get_member (object, name);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64 || json_node_get_int (node) < 0)
    return FALSE;
  *value = (guint64) json_node_get_int (node);
  return TRUE;
}

static gboolean
parse_checksum (const char *text, guint64 *checksum)
{
  if (text == NULL || strlen (text) != 16)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isxdigit (*p))
      return FALSE;
  return g_ascii_string_to_unsigned (text, 16, 0, G_MAXUINT64, checksum, NULL);
}

static gboolean
parse_shape (JsonObject *object, LfManifestEntry *entry)
{
  JsonNode *node = json_object_get_member (object, "shape");
  if (node == NULL)
    return TRUE;  /* scalars have none */
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;
  JsonArray *dims = json_node_get_array (node);
  guint ndim = json_array_get_length (dims);
  if (ndim > LF_MAX_NDIM)
    return FALSE;
  entry->ndim = ndim;
  entry->shape = g_new (gsize, MAX (ndim, 1));
  for (guint i = 0; i < ndim; i++)
    {
      JsonNode *dim = json_array_get_element (dims, i);
      if (!JSON_NODE_HOLDS_VALUE (dim) || json_node_get_value_type (dim) != G_TYPE_INT64
          || json_node_get_int (dim) < 0)
        return FALSE;
      entry->shape[i] = (gsize) json_node_get_int (dim);
    }
  return TRUE;
}

/* The record of one leaf: null, or an object with offset, size and xxh3
 * that lies within the file the manifest describes. */
static gboolean
parse_record (JsonObject *object, guint64 file_size, LfManifestEntry *entry)
{
  JsonNode *node = json_object_get_member (object, "record");
  if (node != NULL && JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  JsonObject *record = json_node_get_object (node);
  entry->has_record = TRUE;
  return get_count (record, "offset", &entry->offset)
         && get_count (record, "size", &entry->size)
         && parse_checksum (get_string (record, "xxh3"), &entry->checksum)
         && entry->offset <= file_size && entry->size <= file_size - entry->offset;
}

static gboolean
parse_entry (JsonNode *node, guint64 file_size, LfManifestEntry *entry)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  JsonObject *object = json_node_get_object (node);
  const char *path = get_string (object, "path");
  const char *kind = get_string (object, "kind");
  const char *codec = get_string (object, "codec");
  const char *dtype = get_string (object, "dtype");
  if (path == NULL || kind == NULL || codec == NULL)
    return FALSE;
  entry->path = g_strdup (path);
  entry->kind = g_strdup (kind);
  entry->codec = g_strdup (codec);
  entry->dtype = dtype != NULL ? lf_dtype_from_name (dtype) : LF_DTYPE_INVALID;
  if (dtype != NULL && entry->dtype == LF_DTYPE_INVALID)
    return FALSE;
  return parse_shape (object, entry) && parse_record (object, file_size, entry);
}

static LfManifestIndex *
parse_manifest (JsonNode *root, const char *manifest_path, gboolean with_skeleton,
                GError **error)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  const char *format = object != NULL ? get_string (object, "format") : NULL;
  if (format == NULL || strcmp (format, MANIFEST_FORMAT) != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s is not a leafio manifest",
                   manifest_path);
      return NULL;
    }
  guint64 version;
  if (!get_count (object, "version", &version) || version != MANIFEST_VERSION)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "%s: this leafio reads manifests of version %d only", manifest_path,
                   MANIFEST_VERSION);
      return NULL;
    }
  g_autoptr (LfManifestIndex) index = g_new0 (LfManifestIndex, 1);
  JsonNode *skeleton = json_object_get_member (object, "skeleton");
  JsonNode *leaves = json_object_get_member (object, "leaves");
  if (!get_count (object, "size", &index->file_size) || skeleton == NULL
      || leaves == NULL || !JSON_NODE_HOLDS_ARRAY (leaves))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: size, skeleton or leaves missing",
                   manifest_path);
      return NULL;
    }
  /* Building the tree is a sixth of the open: only when it is used. */
  if (with_skeleton && (index->skeleton = _lf_tree_from_json_node (skeleton, error)) == NULL)
    {
      g_prefix_error (error, "%s: skeleton: ", manifest_path);
      return NULL;
    }
  JsonArray *entries = json_node_get_array (leaves);
  index->n_entries = json_array_get_length (entries);
  index->entries = g_new0 (LfManifestEntry, MAX (index->n_entries, 1));
  for (guint i = 0; i < index->n_entries; i++)
    if (!parse_entry (json_array_get_element (entries, i), index->file_size,
                      &index->entries[i]))
      {
        g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: $.leaves[%u] is malformed",
                     manifest_path, i);
        return NULL;
      }
  return g_steal_pointer (&index);
}

LfManifestIndex *
_lf_manifest_index_read (const char *manifest_path, gboolean with_skeleton,
                         gboolean *present, GError **error)
{
  gsize length;
  struct stat st;
  gboolean missing = FALSE;
  /* As every side input: a regular file of bounded size, read without
   * blocking (a FIFO or a link to /dev/zero in its place is an error). */
  g_autofree char *text = _lf_read_side_file_stat (manifest_path, LF_SIDE_FILE_MAX, &length,
                                                   &st, &missing, error);
  *present = !missing;
  if (text == NULL)
    {
      if (missing)
        g_clear_error (error);
      return NULL;
    }
  g_autoptr (JsonNode) root = _lf_json_parse (text, (gssize) length, manifest_path, error);
  return root != NULL ? parse_manifest (root, manifest_path, with_skeleton, error) : NULL;
}
