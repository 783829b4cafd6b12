/* The manifest beside a saved file (docs/MANIFEST.md): written after the
 * data, checked before a load, so a wrong `like` or a damaged file is
 * reported by leaf path instead of loading garbage. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <xxhash.h>
#include "json-private.h"
#include "manifest-private.h"
#include "range-hash-private.h"
#include "side-file-private.h"
#include "walk-private.h"

#define MANIFEST_FORMAT "leafio-manifest"
#define MANIFEST_VERSION 1

char *
_lf_manifest_path (const char *eqx_path)
{
  return g_strconcat (eqx_path, ".json", NULL);
}

/* ---- writing ------------------------------------------------------------- */

/* "kind" and, for arrays and scalars, "dtype" and "shape" of a leaf. */
static void
add_leaf_description (JsonBuilder *builder, LfNode *leaf)
{
  LfNodeKind kind = lf_node_get_kind (leaf);
  json_builder_set_member_name (builder, "kind");
  json_builder_add_string_value (builder, lf_node_kind_name (kind));
  if (kind == LF_NODE_SCALAR)
    {
      json_builder_set_member_name (builder, "dtype");
      json_builder_add_string_value (builder, lf_dtype_name (lf_scalar_get_dtype (leaf)));
    }
  else if (kind == LF_NODE_ARRAY)
    _lf_json_add_dtype_and_shape (builder, lf_array_get_dtype (leaf), lf_array_get_ndim (leaf),
                                  lf_array_get_shape (leaf));
}

/* The data file a manifest is built for, or checked against: its size,
 * and where to read the records whose checksums the writer could not take
 * while writing. */
typedef struct {
  const char *eqx_path;
  const char *data_path;
  int fd;
  guint64 size;
} DataFile;

/* XXH3-64 of the `size` bytes at `offset` of the data file, read, not
 * mapped (range-hash.c says why). */
static gboolean
read_back_hash (DataFile *file, guint64 offset, guint64 size, guint64 *hash, GError **error)
{
  int error_number;
  guint64 failed_at;
  if (_lf_range_hash (file->fd, offset, size, hash, &error_number, &failed_at))
    return TRUE;
  g_set_error (error, LF_ERROR, error_number == ENOMEM ? LF_ERROR_TOO_LARGE : LF_ERROR_IO,
               "%s: cannot read at offset %" G_GUINT64_FORMAT ": %s", file->data_path,
               failed_at, error_number != 0 ? g_strerror (error_number)
                                            : "the file is shorter than it was");
  return FALSE;
}

static gboolean
data_file_open (DataFile *file, const char *eqx_path, const char *data_path, GError **error)
{
  *file = (DataFile) { eqx_path, data_path, -1, 0 };
  struct stat st;
  file->fd = open (data_path, O_RDONLY | O_CLOEXEC);
  if (file->fd < 0 || fstat (file->fd, &st) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot open: %s", data_path,
                   g_strerror (saved_errno));
      return FALSE;
    }
  file->size = (guint64) st.st_size;
  return TRUE;
}

/* The data file's size, without opening it (a load reads it itself). */
static gboolean
data_file_stat (DataFile *file, const char *eqx_path, const char *data_path, GError **error)
{
  *file = (DataFile) { eqx_path, data_path, -1, 0 };
  struct stat st;
  if (stat (data_path, &st) == 0)
    {
      file->size = (guint64) st.st_size;
      return TRUE;
    }
  int saved_errno = errno;
  g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot open: %s", data_path,
               g_strerror (saved_errno));
  return FALSE;
}

static void
data_file_close (DataFile *file)
{
  if (file->fd >= 0)
    close (file->fd);
}

/* The checksum of record `index`: the writer's, or read back from the file. */
static gboolean
record_hash (DataFile *file, const LfManifestLeaf *record, const LfRecordHash *known,
             guint index, guint64 *hash, GError **error)
{
  if (record->offset > file->size || record->size > file->size - record->offset)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED,
                   "%s: record %u (%s) at offset %" G_GUINT64_FORMAT ", %"
                   G_GUINT64_FORMAT " bytes, lies beyond the end of the file",
                   file->eqx_path, index, record->path != NULL ? record->path : "",
                   record->offset, record->size);
      return FALSE;
    }
  if (known != NULL && known->known)
    {
      *hash = known->xxh3;
      return TRUE;
    }
  return read_back_hash (file, record->offset, record->size, hash, error);
}

static gboolean
add_leaf (JsonBuilder *builder, const LfManifestLeaf *record, const LfRecordHash *known,
          guint index, DataFile *file, GError **error)
{
  const char *path = record->path != NULL ? record->path : "";
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "path");
  json_builder_add_string_value (builder, path);
  add_leaf_description (builder, record->leaf);
  json_builder_set_member_name (builder, "codec");
  g_autofree char *codec = lf_codec_to_string (record->codec);
  json_builder_add_string_value (builder, codec);
  json_builder_set_member_name (builder, "record");
  if (!record->has_record)
    json_builder_add_null_value (builder);
  else
    {
      guint64 value;
      if (!record_hash (file, record, known, index, &value, error))
        return FALSE;
      char hash[17];
      g_snprintf (hash, sizeof hash, "%016" G_GINT64_MODIFIER "x", value);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "offset");
      json_builder_add_int_value (builder, (gint64) record->offset);
      json_builder_set_member_name (builder, "size");
      json_builder_add_int_value (builder, (gint64) record->size);
      json_builder_set_member_name (builder, "xxh3");
      json_builder_add_string_value (builder, hash);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  return TRUE;
}

/* The manifest's JSON for `tree` saved as `leaves` into `file`. */
static JsonNode *
build_manifest (DataFile *file, LfNode *tree, const LfManifestLeaf *leaves,
                const LfRecordHash *hashes, gsize n_leaves, GError **error)
{
  gsize n_records = 0;
  for (gsize i = 0; i < n_leaves; i++)
    n_records += leaves[i].has_record ? 1 : 0;

  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *basename = g_path_get_basename (file->eqx_path);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, MANIFEST_FORMAT);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, MANIFEST_VERSION);
  json_builder_set_member_name (builder, "file");
  json_builder_add_string_value (builder, basename);
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, (gint64) file->size);
  json_builder_set_member_name (builder, "checksum");
  json_builder_add_string_value (builder, "xxh3-64");
  json_builder_set_member_name (builder, "n_leaves");
  json_builder_add_int_value (builder, (gint64) n_leaves);
  json_builder_set_member_name (builder, "n_records");
  json_builder_add_int_value (builder, (gint64) n_records);
  json_builder_set_member_name (builder, "skeleton");
  json_builder_add_value (builder, _lf_tree_to_json_node (tree));
  json_builder_set_member_name (builder, "leaves");
  json_builder_begin_array (builder);
  for (gsize i = 0; i < n_leaves; i++)
    if (!add_leaf (builder, &leaves[i], hashes != NULL ? &hashes[i] : NULL, (guint) i, file,
                   error))
      return NULL;
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* A manifest is named after its data file plus ".json": refused up front
 * when that does not fit the filesystem's NAME_MAX. */
static gboolean
check_name_fits (const char *eqx_path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (eqx_path);
  g_autofree char *base = g_path_get_basename (eqx_path);
  long name_max = pathconf (dir, _PC_NAME_MAX);
  if (name_max <= 0)
    name_max = NAME_MAX;
  gsize length = strlen (base) + strlen (".json");
  if (length <= (gsize) name_max)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_IO,
               "%s: the manifest's name would be %" G_GSIZE_FORMAT " bytes, too long for this "
               "filesystem (%ld at most); save it under a shorter name or without a manifest",
               eqx_path, length, name_max);
  return FALSE;
}

char *
_lf_manifest_build (const char *eqx_path, const char *data_path, LfNode *tree,
                    LfIsLeafFunc is_leaf, gpointer is_leaf_data, const LfManifestLeaf *leaves,
                    const LfRecordHash *hashes, gsize n_leaves, gsize *length, GError **error)
{
  g_return_val_if_fail (eqx_path != NULL && data_path != NULL, NULL);
  g_return_val_if_fail (tree != NULL, NULL);
  g_return_val_if_fail (leaves != NULL || n_leaves == 0, NULL);
  g_return_val_if_fail (n_leaves == lf_tree_count_leaves (tree, is_leaf, is_leaf_data), NULL);

  if (!check_name_fits (eqx_path, error))
    return NULL;
  DataFile file;
  g_autoptr (JsonNode) root = data_file_open (&file, eqx_path, data_path, error)
                              ? build_manifest (&file, tree, leaves, hashes, n_leaves, error)
                              : NULL;
  data_file_close (&file);
  if (root == NULL)
    return NULL;
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 1);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, length);
}

gboolean
_lf_manifest_put (const char *eqx_path, const char *text, gsize length, gboolean sync,
                  GError **error)
{
  g_autofree char *manifest_path = _lf_manifest_path (eqx_path);
  /* Through LfAtomicFile rather than g_file_set_contents, whose temporary
   * name (the manifest's plus 7 bytes) does not fit beside a long name. */
  g_autoptr (LfAtomicFile) file = lf_atomic_file_new (manifest_path, error);
  if (file == NULL)
    return FALSE;
  int fd = lf_atomic_file_get_fd (file);
  for (gsize done = 0; done < length;)
    {
      ssize_t n = write (fd, text + done, length - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot write: %s", manifest_path,
                       g_strerror (saved_errno));
          return FALSE;
        }
      done += (gsize) n;
    }
  return lf_atomic_file_commit (file, sync, error);
}

gboolean
_lf_manifest_write (const char *eqx_path, LfNode *tree, LfIsLeafFunc is_leaf,
                    gpointer is_leaf_data, const LfManifestLeaf *leaves, gsize n_leaves,
                    GError **error)
{
  gsize length = 0;
  g_autofree char *text = _lf_manifest_build (eqx_path, eqx_path, tree, is_leaf,
                                              is_leaf_data, leaves, NULL, n_leaves, &length,
                                              error);
  return text != NULL && _lf_manifest_put (eqx_path, text, length, TRUE, error);
}

gboolean
_lf_manifest_remove (const char *eqx_path, GError **error)
{
  g_return_val_if_fail (eqx_path != NULL, FALSE);

  g_autofree char *manifest_path = _lf_manifest_path (eqx_path);
  /* A name too long to have a manifest has none. */
  if (g_unlink (manifest_path) == 0 || errno == ENOENT || errno == ENAMETOOLONG)
    return TRUE;
  int saved_errno = errno;
  g_set_error (error, LF_ERROR, LF_ERROR_IO, "cannot remove the stale manifest %s: %s",
               manifest_path, g_strerror (saved_errno));
  return FALSE;
}

/* ---- for savers outside the walker (manifest.h) -------------------------- */

gboolean
lf_manifest_write (const char *path, LfNode *tree, LfIsLeafFunc is_leaf,
                   gpointer is_leaf_data, const LfManifestLeaf *leaves, gsize n_leaves,
                   GError **error)
{
  g_return_val_if_fail (path != NULL && tree != NULL, FALSE);
  g_return_val_if_fail (leaves != NULL || n_leaves == 0, FALSE);
  g_autofree char *target = lf_path_with_eqx_suffix (path);
  gsize expected = lf_tree_count_leaves (tree, is_leaf, is_leaf_data);
  if (n_leaves != expected)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                   "%s: %" G_GSIZE_FORMAT " manifest entries for a tree of %" G_GSIZE_FORMAT
                   " leaves", target, n_leaves, expected);
      return FALSE;
    }
  return _lf_manifest_write (target, tree, is_leaf, is_leaf_data, leaves, n_leaves, error);
}

gboolean
lf_manifest_remove (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_autofree char *target = lf_path_with_eqx_suffix (path);
  return _lf_manifest_remove (target, error);
}

char *
lf_manifest_get_path (const char *path)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autofree char *target = lf_path_with_eqx_suffix (path);
  g_autofree char *data_path = _lf_manifest_data_path (target);
  return _lf_manifest_path (data_path);
}

gboolean
lf_manifest_verify (const char *path, LfNode *like, LfIsLeafFunc is_leaf,
                    gpointer is_leaf_data, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_autofree char *target = lf_path_with_eqx_suffix (path);
  g_autofree char *data_path = _lf_manifest_data_path (target);
  g_autofree char *manifest_path = _lf_manifest_path (data_path);
  if (!g_file_test (data_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: %s", target, g_strerror (ENOENT));
      return FALSE;
    }
  if (!g_file_test (manifest_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_NOT_FOUND,
                   "%s: no manifest beside the file (%s)", target, manifest_path);
      return FALSE;
    }
  return _lf_manifest_verify (target, like, is_leaf, is_leaf_data, error);
}

/* ---- reading ------------------------------------------------------------- */

typedef struct {
  const char *manifest_path;
  LfJsonPath json_path;   /* where in the manifest, for malformed input */
} Reader;

static void G_GNUC_PRINTF (4, 5)
reader_error (Reader *reader, GError **error, LfError code, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, LF_ERROR, code, "%s: %s", reader->manifest_path, message);
}

/* Member `name` of `object` with the JSON type `type` (G_TYPE_STRING,
 * G_TYPE_INT64 for a non-negative integer, JSON_TYPE_ARRAY,
 * JSON_TYPE_OBJECT), or NULL with LF_ERROR_PARSE. */
static JsonNode *
get_member (Reader *reader, JsonObject *object, const char *name, GType type,
            GError **error)
{
  JsonNode *node = json_object_get_member (object, name);
  gboolean ok;
  const char *expected;
  if (type == JSON_TYPE_ARRAY)
    {
      expected = "an array";
      ok = node != NULL && JSON_NODE_HOLDS_ARRAY (node);
    }
  else if (type == JSON_TYPE_OBJECT)
    {
      expected = "an object";
      ok = node != NULL && JSON_NODE_HOLDS_OBJECT (node);
    }
  else if (type == G_TYPE_INT64)
    {
      expected = "a non-negative integer";
      ok = node != NULL && JSON_NODE_HOLDS_VALUE (node)
           && json_node_get_value_type (node) == G_TYPE_INT64 && json_node_get_int (node) >= 0;
    }
  else
    {
      expected = "a string";
      ok = node != NULL && JSON_NODE_HOLDS_VALUE (node)
           && json_node_get_value_type (node) == G_TYPE_STRING;
    }
  if (ok)
    return node;
  gsize saved = _lf_json_path_push_member (&reader->json_path, name);
  reader_error (reader, error, LF_ERROR_PARSE, "%s: expected %s, found %s",
                reader->json_path.text->str, expected,
                node != NULL ? _lf_json_describe (node) : "nothing");
  _lf_json_path_pop (&reader->json_path, saved);
  return NULL;
}

typedef struct {
  GPtrArray *paths;  /* char * */
  GPtrArray *leaves; /* LfNode *, borrowed */
} LikeLeaves;

static gboolean
collect_leaf (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  LikeLeaves *like = user_data;
  g_ptr_array_add (like->paths, lf_path_to_string (path));
  g_ptr_array_add (like->leaves, leaf);
  return TRUE;
}

static char *
describe_shape (JsonArray *dims)
{
  gsize shape[LF_MAX_NDIM];
  guint ndim = MIN (json_array_get_length (dims), LF_MAX_NDIM);
  for (guint i = 0; i < ndim; i++)
    shape[i] = (gsize) json_array_get_int_element (dims, i);
  return lf_shape_to_string (ndim, shape);
}

/* Compares one leaf of `like` with manifest entry `entry`. */
static gboolean
check_leaf (Reader *reader, const char *path, LfNode *leaf, JsonObject *entry,
            GError **error)
{
  JsonNode *kind_node = get_member (reader, entry, "kind", G_TYPE_STRING, error);
  if (kind_node == NULL)
    return FALSE;
  const char *kind = json_node_get_string (kind_node);
  LfNodeKind like_kind = lf_node_get_kind (leaf);
  if (strcmp (kind, lf_node_kind_name (like_kind)) != 0)
    {
      reader_error (reader, error, LF_ERROR_MISMATCH,
                    "%s: like has a leaf of kind %s, the file was saved with kind %s", path,
                    lf_node_kind_name (like_kind), kind);
      return FALSE;
    }
  if (like_kind != LF_NODE_ARRAY)
    return TRUE;  /* scalars load into like's type; others carry nothing to compare */

  JsonNode *dtype_node = get_member (reader, entry, "dtype", G_TYPE_STRING, error);
  JsonNode *shape_node = dtype_node != NULL
                         ? get_member (reader, entry, "shape", JSON_TYPE_ARRAY, error) : NULL;
  if (shape_node == NULL)
    return FALSE;
  const char *dtype = json_node_get_string (dtype_node);
  const char *like_dtype = lf_dtype_name (lf_array_get_dtype (leaf));
  if (strcmp (dtype, like_dtype) != 0)
    {
      reader_error (reader, error, LF_ERROR_MISMATCH,
                    "%s: like has dtype %s, the file was saved with %s", path, like_dtype,
                    dtype);
      return FALSE;
    }
  JsonArray *dims = json_node_get_array (shape_node);
  for (guint i = 0; i < json_array_get_length (dims); i++)
    {
      JsonNode *dim = json_array_get_element (dims, i);
      if (!JSON_NODE_HOLDS_VALUE (dim) || json_node_get_value_type (dim) != G_TYPE_INT64
          || json_node_get_int (dim) < 0)
        {
          reader_error (reader, error, LF_ERROR_PARSE,
                        "%s.shape[%u]: expected a non-negative integer, found %s",
                        reader->json_path.text->str, i, _lf_json_describe (dim));
          return FALSE;
        }
    }
  guint ndim = lf_array_get_ndim (leaf);
  const gsize *shape = lf_array_get_shape (leaf);
  gboolean same = json_array_get_length (dims) == ndim;
  for (guint i = 0; same && i < ndim; i++)
    same = (guint64) json_array_get_int_element (dims, i) == shape[i];
  if (!same)
    {
      g_autofree char *like_shape = lf_shape_to_string (ndim, shape);
      g_autofree char *saved_shape = describe_shape (dims);
      reader_error (reader, error, LF_ERROR_MISMATCH,
                    "%s: like has shape %s, the file was saved with %s", path, like_shape,
                    saved_shape);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_structure (Reader *reader, JsonArray *entries, LfNode *like, LfIsLeafFunc is_leaf,
                 gpointer is_leaf_data, GError **error)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) leaves = g_ptr_array_new ();
  LikeLeaves collected = { paths, leaves };
  lf_tree_foreach_leaf (like, is_leaf, is_leaf_data, collect_leaf, &collected);

  guint n_entries = json_array_get_length (entries);
  guint n = MIN (n_entries, paths->len);
  for (guint i = 0; i < n; i++)
    {
      JsonObject *entry = json_array_get_object_element (entries, i);
      gsize saved = _lf_json_path_push_member (&reader->json_path, "leaves");
      _lf_json_path_push_index (&reader->json_path, i);
      JsonNode *path_node = get_member (reader, entry, "path", G_TYPE_STRING, error);
      if (path_node == NULL)
        return FALSE;
      const char *like_path = paths->pdata[i];
      if (strcmp (json_node_get_string (path_node), like_path) != 0)
        {
          reader_error (reader, error, LF_ERROR_MISMATCH,
                        "leaf %u: like has %s, the file was saved with %s there", i,
                        *like_path ? like_path : "the root",
                        *json_node_get_string (path_node) ? json_node_get_string (path_node)
                                                          : "the root");
          return FALSE;
        }
      if (!check_leaf (reader, like_path, leaves->pdata[i], entry, error))
        return FALSE;
      _lf_json_path_pop (&reader->json_path, saved);
    }
  if (n_entries != paths->len)
    {
      const char *first;
      if (paths->len > n_entries)
        first = paths->pdata[n];
      else
        {
          JsonObject *entry = json_array_get_object_element (entries, n);
          JsonNode *path_node = json_object_get_member (entry, "path");
          first = path_node != NULL && JSON_NODE_HOLDS_VALUE (path_node)
                  && json_node_get_value_type (path_node) == G_TYPE_STRING
                  ? json_node_get_string (path_node) : "?";
        }
      reader_error (reader, error, LF_ERROR_MISMATCH,
                    "like has %u leaves, the file was saved with %u; the first %s is %s",
                    paths->len, n_entries,
                    paths->len > n_entries ? "leaf the file lacks" : "leaf like lacks",
                    first);
      return FALSE;
    }
  return TRUE;
}

/* Parses a 16-digit hexadecimal checksum. */
static gboolean
parse_hash (const char *text, guint64 *hash)
{
  if (strlen (text) != 16)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isxdigit (*p))
      return FALSE;
  return g_ascii_string_to_unsigned (text, 16, 0, G_MAXUINT64, hash, NULL);
}

/* The file's size must be the one the manifest was written for. */
static gboolean
check_file_size (Reader *reader, JsonNode *size_node, const DataFile *file,
                 const char *eqx_path, GError **error)
{
  guint64 file_size = file->size;
  if ((guint64) json_node_get_int (size_node) == file_size)
    return TRUE;
  reader_error (reader, error, LF_ERROR_CHECKSUM,
                "%s is %" G_GUINT64_FORMAT " bytes, the manifest says %" G_GINT64_FORMAT
                " (the file changed after the manifest was written)", eqx_path,
                file_size, json_node_get_int (size_node));
  return FALSE;
}

/* The offset, size and checksum of `record` (an entry's "record" object). */
static gboolean
parse_record (Reader *reader, JsonObject *record, LfRecordCheck *out, GError **error)
{
  JsonNode *offset_node = get_member (reader, record, "offset", G_TYPE_INT64, error);
  JsonNode *length_node = offset_node != NULL
                          ? get_member (reader, record, "size", G_TYPE_INT64, error) : NULL;
  JsonNode *hash_node = length_node != NULL
                        ? get_member (reader, record, "xxh3", G_TYPE_STRING, error) : NULL;
  if (hash_node == NULL)
    return FALSE;
  out->offset = (guint64) json_node_get_int (offset_node);
  out->size = (guint64) json_node_get_int (length_node);
  if (parse_hash (json_node_get_string (hash_node), &out->xxh3))
    return TRUE;
  reader_error (reader, error, LF_ERROR_PARSE,
                "%s.xxh3: expected 16 hexadecimal digits, found \"%s\"",
                reader->json_path.text->str, json_node_get_string (hash_node));
  return FALSE;
}

/* Checks record `record_index` of the leaf at `path` against the bytes of
 * the file: in bounds, same checksum. */
static gboolean
check_record (Reader *reader, const LfRecordCheck *record, const char *path,
              guint record_index, DataFile *file, const char *eqx_path, GError **error)
{
  guint64 offset = record->offset, length = record->size;
  if (offset > file->size || length > file->size - offset)
    {
      reader_error (reader, error, LF_ERROR_CHECKSUM,
                    "%s: record %u at offset %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                    " bytes, lies beyond the end of %s (%" G_GUINT64_FORMAT " bytes)",
                    path, record_index, offset, length, eqx_path, file->size);
      return FALSE;
    }
  guint64 found;
  if (!read_back_hash (file, offset, length, &found, error))
    return FALSE;
  if (found == record->xxh3)
    return TRUE;
  reader_error (reader, error, LF_ERROR_CHECKSUM,
                "%s: record %u at offset %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
                " bytes) has checksum %016" G_GINT64_MODIFIER "x, the manifest says "
                "%016" G_GINT64_MODIFIER "x", path, record_index, offset, length, found,
                record->xxh3);
  return FALSE;
}

/* Reads each entry's record: checks it against `file` when there is one,
 * or else appends it to `records` for a load to check as it reads. */
static gboolean
check_each_record (Reader *reader, JsonArray *entries, DataFile *file, const char *eqx_path,
                   GArray *records, GError **error)
{
  guint record_index = 0;  /* records counted as in the walker's messages */
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *entry = json_array_get_object_element (entries, i);
      gsize saved = _lf_json_path_push_member (&reader->json_path, "leaves");
      _lf_json_path_push_index (&reader->json_path, i);
      JsonNode *path_node = get_member (reader, entry, "path", G_TYPE_STRING, error);
      if (path_node == NULL)
        return FALSE;
      JsonNode *record_node = json_object_get_member (entry, "record");
      if (record_node == NULL || !JSON_NODE_HOLDS_NULL (record_node))
        {
          record_node = get_member (reader, entry, "record", JSON_TYPE_OBJECT, error);
          if (record_node == NULL)
            return FALSE;
          _lf_json_path_push_member (&reader->json_path, "record");
          LfRecordCheck record;
          if (!parse_record (reader, json_node_get_object (record_node), &record, error))
            return FALSE;
          if (file == NULL)
            g_array_append_val (records, record);
          else if (!check_record (reader, &record, json_node_get_string (path_node),
                                  record_index, file, eqx_path, error))
            return FALSE;
          record_index++;
        }
      _lf_json_path_pop (&reader->json_path, saved);
    }
  return TRUE;
}

/* The file's size, then each record: hashed here, or with `records`
 * collected for a load that hashes them as it reads them. */
static gboolean
check_records (Reader *reader, JsonObject *manifest, JsonArray *entries,
               const char *eqx_path, GArray *records, GError **error)
{
  JsonNode *size_node = get_member (reader, manifest, "size", G_TYPE_INT64, error);
  if (size_node == NULL)
    return FALSE;
  /* Read a piece at a time, not mapped: a mapping would count the whole
   * file in the loading process's resident memory, and a file cut short
   * while it is checked would end the process with SIGBUS. */
  DataFile file;
  gboolean ok = (records != NULL ? data_file_stat (&file, eqx_path, eqx_path, error)
                                 : data_file_open (&file, eqx_path, eqx_path, error))
                && check_file_size (reader, size_node, &file, eqx_path, error)
                && check_each_record (reader, entries, records != NULL ? NULL : &file,
                                      eqx_path, records, error);
  data_file_close (&file);
  return ok;
}

/* The top-level checks: format, version, and a `leaves` array of objects. */
static JsonArray *
check_header (Reader *reader, JsonNode *root, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      reader_error (reader, error, LF_ERROR_PARSE, "$: expected an object, found %s",
                    _lf_json_describe (root));
      return NULL;
    }
  JsonObject *manifest = json_node_get_object (root);
  JsonNode *format = get_member (reader, manifest, "format", G_TYPE_STRING, error);
  if (format == NULL)
    return NULL;
  if (strcmp (json_node_get_string (format), MANIFEST_FORMAT) != 0)
    {
      reader_error (reader, error, LF_ERROR_PARSE, "$.format: expected \"%s\", found \"%s\"",
                    MANIFEST_FORMAT, json_node_get_string (format));
      return NULL;
    }
  JsonNode *version = get_member (reader, manifest, "version", G_TYPE_INT64, error);
  if (version == NULL)
    return NULL;
  if (json_node_get_int (version) != MANIFEST_VERSION)
    {
      reader_error (reader, error, LF_ERROR_UNSUPPORTED,
                    "manifest version %" G_GINT64_FORMAT " is not supported (this leafio "
                    "reads version %d)", json_node_get_int (version), MANIFEST_VERSION);
      return NULL;
    }
  JsonNode *leaves = get_member (reader, manifest, "leaves", JSON_TYPE_ARRAY, error);
  if (leaves == NULL)
    return NULL;
  JsonArray *entries = json_node_get_array (leaves);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    if (!JSON_NODE_HOLDS_OBJECT (json_array_get_element (entries, i)))
      {
        reader_error (reader, error, LF_ERROR_PARSE, "$.leaves[%u]: expected an object, "
                      "found %s", i, _lf_json_describe (json_array_get_element (entries, i)));
        return NULL;
      }
  return entries;
}

gboolean
_lf_file_unchanged (const char *path, const struct stat *read)
{
  /* The inode number alone is not enough: a save removes the old file
   * and the filesystem may hand its number to the new one at once.  A new
   * file has a new change time (nanoseconds on Linux filesystems). */
  struct stat now;
  return stat (path, &now) == 0 && now.st_ino == read->st_ino
         && now.st_dev == read->st_dev && now.st_size == read->st_size
         && now.st_ctim.tv_sec == read->st_ctim.tv_sec
         && now.st_ctim.tv_nsec == read->st_ctim.tv_nsec
         && now.st_mtim.tv_sec == read->st_mtim.tv_sec
         && now.st_mtim.tv_nsec == read->st_mtim.tv_nsec;
}

/* The manifest at `manifest_path`, parsed, and what fstat said of it; NULL
 * with *missing set when there is none (or a name too long to have one),
 * else NULL with `error` set. */
static JsonNode *
read_manifest (const char *manifest_path, struct stat *st, gboolean *missing, GError **error)
{
  gsize length;
  *missing = FALSE;
  g_autoptr (GError) read_error = NULL;
  g_autofree char *text = _lf_read_side_file_stat (manifest_path, LF_SIDE_FILE_MAX, &length,
                                                   st, missing, &read_error);
  if (text != NULL)
    return _lf_json_parse (text, (gssize) length, manifest_path, error);
  if (!*missing)
    g_propagate_error (error, g_steal_pointer (&read_error));
  return NULL;
}

/* The manifest at `manifest_path` against `like` (nullable) and the file
 * at `data_path`, whose records are hashed here or, with `records`,
 * collected for the load.  TRUE when there is no manifest (*missing). */
static gboolean
check_manifest (const char *data_path, const char *manifest_path, LfNode *like,
                LfIsLeafFunc is_leaf, gpointer is_leaf_data, GArray *records,
                struct stat *st, gboolean *missing, GError **error)
{
  g_autoptr (JsonNode) root = read_manifest (manifest_path, st, missing, error);
  if (root == NULL)
    return *missing;
  Reader reader = { manifest_path, { NULL } };
  _lf_json_path_init (&reader.json_path);
  JsonArray *entries = check_header (&reader, root, error);
  gboolean ok = entries != NULL
                && (like == NULL
                    || check_structure (&reader, entries, like, is_leaf, is_leaf_data, error))
                && check_records (&reader, json_node_get_object (root), entries, data_path,
                                  records, error);
  _lf_json_path_clear (&reader.json_path);
  return ok;
}

/* One check of the manifest beside `data_path`: FALSE with `error` set on a
 * difference; *replaced set when the manifest was replaced meanwhile. */
static gboolean
verify_once (const char *data_path, const char *manifest_path, LfNode *like,
             LfIsLeafFunc is_leaf, gpointer is_leaf_data, gboolean *replaced,
             GError **error)
{
  struct stat st;
  gboolean missing;
  gboolean ok = check_manifest (data_path, manifest_path, like, is_leaf, is_leaf_data, NULL,
                                &st, &missing, error);
  /* A save removes or replaces the manifest in the same locked step that
   * renames its data into place, so a manifest that changed while it was
   * being checked means the data changed too: the check saw one save's
   * manifest and another's data. */
  *replaced = !ok && !_lf_file_unchanged (manifest_path, &st);
  return ok;
}

gboolean
_lf_manifest_read_checks (const char *eqx_path, LfNode *like, LfIsLeafFunc is_leaf,
                          gpointer is_leaf_data, GArray **records, GError **error)
{
  g_return_val_if_fail (eqx_path != NULL && like != NULL && records != NULL, FALSE);

  *records = NULL;
  g_autofree char *data_path = _lf_manifest_data_path (eqx_path);
  g_autofree char *manifest_path = _lf_manifest_path (data_path);
  g_autoptr (GArray) found = g_array_new (FALSE, FALSE, sizeof (LfRecordCheck));
  struct stat st;
  gboolean missing;
  /* The size is taken with stat: a file of another size fails here,
   * before the load reads any of it. */
  if (!check_manifest (data_path, manifest_path, like, is_leaf, is_leaf_data, found, &st,
                       &missing, error))
    return FALSE;
  if (!missing)
    *records = g_steal_pointer (&found);
  return TRUE;
}

/* A load that meets a save in progress starts its check again this many
 * times before it gives up and says so. */
#define VERIFY_ATTEMPTS 3

gboolean
_lf_manifest_verify (const char *eqx_path, LfNode *like, LfIsLeafFunc is_leaf,
                     gpointer is_leaf_data, GError **error)
{
  g_return_val_if_fail (eqx_path != NULL, FALSE);

  /* A link to a file has its manifest beside the file (as saves put it). */
  g_autofree char *data_path = _lf_manifest_data_path (eqx_path);
  g_autofree char *manifest_path = _lf_manifest_path (data_path);
  for (int attempt = 1;; attempt++)
    {
      gboolean replaced = FALSE;
      g_autoptr (GError) local = NULL;
      if (verify_once (data_path, manifest_path, like, is_leaf, is_leaf_data, &replaced,
                       &local))
        return TRUE;
      if (!replaced)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (attempt == VERIFY_ATTEMPTS)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_CHECKSUM,
                       "%s: stale: %s was saved again while it was being checked (%d times); "
                       "the file is not damaged, load it again", manifest_path, data_path,
                       VERIFY_ATTEMPTS);
          return FALSE;
        }
    }
}

char *
_lf_manifest_data_path (const char *eqx_path)
{
  struct stat st;
  if (lstat (eqx_path, &st) == 0 && S_ISLNK (st.st_mode))
    {
      char *resolved = realpath (eqx_path, NULL);
      if (resolved != NULL)
        {
          char *copy = g_strdup (resolved);
          free (resolved);
          return copy;
        }
    }
  return g_strdup (eqx_path);
}
