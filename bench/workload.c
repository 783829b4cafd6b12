/* make_trees.py manifests, the trees they describe and the leaves' data
 * (whole or blocks of rows) read from the numpy stream. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <json-glib/json-glib.h>
#include "workload.h"

static gboolean
parse_failed (GError **error, const char *file, gint64 leaf, const char *what)
{
  if (leaf < 0)
    g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: not a workload manifest: %s", file, what);
  else
    g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: leaf %" G_GINT64_FORMAT ": %s", file,
                 leaf, what);
  return FALSE;
}

static const char *
member_string (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  return n != NULL && json_node_get_value_type (n) == G_TYPE_STRING ? json_node_get_string (n)
                                                                     : NULL;
}

/* A non-negative integer member, or -1. */
static gint64
member_count (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  return n != NULL && json_node_get_value_type (n) == G_TYPE_INT64 && json_node_get_int (n) >= 0
             ? json_node_get_int (n) : -1;
}

/* The members of one manifest leaf, checked: every one present with its
 * type, a known dtype, and data_bytes matching dtype and shape. */
static gboolean
parse_leaf (JsonObject *o, const char *file, guint index, WorkloadLeaf *leaf, GError **error)
{
  const char *path_text = o != NULL ? member_string (o, "path") : NULL;
  const char *dtype_name = o != NULL ? member_string (o, "dtype_name") : NULL;
  JsonNode *shape_node = o != NULL ? json_object_get_member (o, "shape") : NULL;
  gint64 offset = o != NULL ? member_count (o, "offset") : -1;
  gint64 header_bytes = o != NULL ? member_count (o, "header_bytes") : -1;
  gint64 data_bytes = o != NULL ? member_count (o, "data_bytes") : -1;
  if (path_text == NULL || dtype_name == NULL || shape_node == NULL
      || !JSON_NODE_HOLDS_ARRAY (shape_node) || offset < 0 || header_bytes < 0 || data_bytes < 0)
    return parse_failed (error, file, index, "wants an object with strings path and dtype_name, "
                         "a list shape and non-negative integers offset, header_bytes and "
                         "data_bytes");
  JsonArray *shape = json_node_get_array (shape_node);
  g_autoptr (GError) local = NULL;
  leaf->path = lf_path_parse (path_text, &local);
  if (leaf->path == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: leaf %u: path %s: %s", file, index,
                   path_text, local->message);
      return FALSE;
    }
  leaf->path_text = lf_path_to_string (leaf->path);
  leaf->dtype = lf_dtype_from_name (dtype_name);
  if (leaf->dtype == LF_DTYPE_INVALID)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: leaf %s: unknown dtype_name %s", file,
                   leaf->path_text, dtype_name);
      return FALSE;
    }
  leaf->ndim = json_array_get_length (shape);
  if (leaf->ndim > LF_MAX_NDIM)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: leaf %s: %u axes, at most %d", file,
                   leaf->path_text, leaf->ndim, LF_MAX_NDIM);
      return FALSE;
    }
  guint64 n_bytes = lf_dtype_size (leaf->dtype);
  for (guint k = 0; k < leaf->ndim; k++)
    {
      JsonNode *n = json_array_get_element (shape, k);
      gint64 extent = json_node_get_value_type (n) == G_TYPE_INT64 ? json_node_get_int (n) : -1;
      if (extent < 0 || (extent > 0 && n_bytes > G_MAXSIZE / (guint64) extent))
        {
          g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: leaf %s: bad extent %" G_GINT64_FORMAT
                       " on axis %u", file, leaf->path_text, extent, k);
          return FALSE;
        }
      leaf->shape[k] = (gsize) extent;
      n_bytes *= (guint64) extent;
    }
  leaf->data_offset = (guint64) offset + (guint64) header_bytes;
  leaf->data_bytes = (gsize) data_bytes;
  if (n_bytes != leaf->data_bytes)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: leaf %s: data_bytes %zu, but %s of "
                   "that shape is %" G_GUINT64_FORMAT " bytes", file, leaf->path_text,
                   leaf->data_bytes, dtype_name, n_bytes);
      return FALSE;
    }
  return TRUE;
}

Workload *
workload_load (const char *json_file, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  if (!json_parser_load_from_file (parser, json_file, &local))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: %s", json_file, local->message);
      return NULL;
    }
  JsonNode *root_node = json_parser_get_root (parser);
  JsonObject *root = root_node != NULL && JSON_NODE_HOLDS_OBJECT (root_node)
                         ? json_node_get_object (root_node) : NULL;
  JsonNode *leaves_node = root != NULL ? json_object_get_member (root, "leaves") : NULL;
  JsonNode *sha_node = root != NULL ? json_object_get_member (root, "stream_sha256") : NULL;
  JsonNode *bytes_node = root != NULL ? json_object_get_member (root, "stream_bytes") : NULL;
  if (leaves_node == NULL || !JSON_NODE_HOLDS_ARRAY (leaves_node) || sha_node == NULL
      || json_node_get_value_type (sha_node) != G_TYPE_STRING || bytes_node == NULL
      || json_node_get_value_type (bytes_node) != G_TYPE_INT64)
    {
      parse_failed (error, json_file, -1, "wants an object with leaves, stream_sha256 and "
                                          "stream_bytes");
      return NULL;
    }
  JsonArray *leaves = json_node_get_array (leaves_node);
  if (json_array_get_length (leaves) == 0)
    {
      parse_failed (error, json_file, -1, "no leaves");
      return NULL;
    }
  Workload *w = g_new0 (Workload, 1);
  w->leaves = g_array_new (FALSE, TRUE, sizeof (WorkloadLeaf));
  w->sha256 = g_strdup (json_node_get_string (sha_node));
  w->stream_bytes = (guint64) json_node_get_int (bytes_node);
  for (guint i = 0; i < json_array_get_length (leaves); i++)
    {
      JsonNode *n = json_array_get_element (leaves, i);
      WorkloadLeaf leaf = { 0 };
      gboolean ok = parse_leaf (JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL,
                                json_file, i, &leaf, error);
      g_array_append_val (w->leaves, leaf);   /* freed with the rest on failure */
      if (!ok)
        {
          workload_free (w);
          return NULL;
        }
    }
  return w;
}

void
workload_free (Workload *workload)
{
  if (workload == NULL)
    return;
  for (guint i = 0; i < workload->leaves->len; i++)
    {
      WorkloadLeaf *leaf = workload_get_leaf (workload, i);
      lf_path_free (leaf->path);
      g_free (leaf->path_text);
    }
  g_array_unref (workload->leaves);
  g_free (workload->sha256);
  g_free (workload);
}

guint
workload_get_n_leaves (const Workload *workload)
{
  return workload->leaves->len;
}

WorkloadLeaf *
workload_get_leaf (const Workload *workload, guint i)
{
  return &g_array_index (workload->leaves, WorkloadLeaf, i);
}

/* Where leaf `i`'s block lies in the stream, and its shape. */
static gboolean
block_extent (const Workload *workload, const WorkloadBlock *blocks, guint i, gsize *shape,
              guint64 *offset, gsize *n_bytes, GError **error)
{
  WorkloadLeaf *leaf = workload_get_leaf (workload, i);
  memcpy (shape, leaf->shape, leaf->ndim * sizeof (gsize));
  *offset = leaf->data_offset;
  *n_bytes = leaf->data_bytes;
  if (blocks == NULL || leaf->ndim == 0)
    return TRUE;
  const WorkloadBlock *b = &blocks[i];
  if (b->first_row > leaf->shape[0] || b->n_rows > leaf->shape[0] - b->first_row)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                   "%s: rows %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT " of %zu asked for",
                   leaf->path_text, b->first_row, b->first_row + b->n_rows, leaf->shape[0]);
      return FALSE;
    }
  gsize row_bytes = lf_dtype_size (leaf->dtype);
  for (guint k = 1; k < leaf->ndim; k++)
    row_bytes *= leaf->shape[k];
  shape[0] = (gsize) b->n_rows;
  *offset += b->first_row * row_bytes;
  *n_bytes = (gsize) b->n_rows * row_bytes;
  return TRUE;
}

static int
open_stream (const char *stream_file, GError **error)
{
  int fd = open (stream_file, O_RDONLY);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", stream_file,
                   g_strerror (saved));
    }
  return fd;
}

static gboolean
read_block (int fd, const char *stream_file, const WorkloadLeaf *leaf, guint8 *data,
            gsize n_bytes, guint64 offset, GError **error)
{
  gsize done = 0;
  while (done < n_bytes)
    {
      ssize_t n = pread (fd, data + done, n_bytes - done, (off_t) (offset + done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = n < 0 ? errno : 0;
          g_set_error (error, G_FILE_ERROR, saved ? g_file_error_from_errno (saved)
                                                  : G_FILE_ERROR_FAILED,
                       "%s: leaf %s: %s reading %zu bytes at offset %" G_GUINT64_FORMAT,
                       stream_file, leaf->path_text,
                       saved ? g_strerror (saved) : "end of file", n_bytes, offset);
          return FALSE;
        }
      done += (gsize) n;
    }
  return TRUE;
}

LfNode **
workload_make_leaves (const Workload *workload, const char *stream_file,
                      const WorkloadBlock *blocks, gboolean abstract, GError **error)
{
  guint n = workload_get_n_leaves (workload);
  LfNode **leaves = g_new0 (LfNode *, n);
  int fd = abstract ? -1 : open_stream (stream_file, error);
  if (!abstract && fd < 0)
    {
      g_free (leaves);
      return NULL;
    }
  for (guint i = 0; i < n; i++)
    {
      WorkloadLeaf *leaf = workload_get_leaf (workload, i);
      gsize shape[LF_MAX_NDIM];
      guint64 offset;
      gsize n_bytes;
      if (!block_extent (workload, blocks, i, shape, &offset, &n_bytes, error))
        goto fail;
      if (abstract)
        {
          leaves[i] = lf_array_new_abstract (leaf->dtype, leaf->ndim, shape);
          continue;
        }
      guint8 *data = g_malloc (MAX (n_bytes, 1));
      if (!read_block (fd, stream_file, leaf, data, n_bytes, offset, error))
        {
          g_free (data);
          goto fail;
        }
      leaves[i] = lf_array_new_take (leaf->dtype, leaf->ndim, shape, data);
    }
  if (fd >= 0)
    close (fd);
  return leaves;

fail:
  if (fd >= 0)
    close (fd);
  workload_free_leaves (workload, leaves);
  return NULL;
}

void
workload_free_leaves (const Workload *workload, LfNode **leaves)
{
  if (leaves == NULL)
    return;
  for (guint i = 0; i < workload_get_n_leaves (workload); i++)
    lf_node_unref (leaves[i]);   /* NULL is allowed */
  g_free (leaves);
}

/* Consecutive leaves sharing a key at `depth` belong to the same child. */
static LfNode *
build_level (const Workload *w, LfNode **leaves, guint start, guint end, guint depth)
{
  WorkloadLeaf *first = workload_get_leaf (w, start);
  if (lf_path_get_length (first->path) == depth)
    return lf_node_ref (leaves[start]);
  LfKeyKind kind = lf_path_get_kind (first->path, depth);
  g_autoptr (GPtrArray) children = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  guint i = start;
  while (i < end)
    {
      WorkloadLeaf *e = workload_get_leaf (w, i);
      guint j = i + 1;
      for (; j < end; j++)
        {
          WorkloadLeaf *f = workload_get_leaf (w, j);
          gboolean same = kind == LF_KEY_INDEX
              ? lf_path_get_index (f->path, depth) == lf_path_get_index (e->path, depth)
              : strcmp (lf_path_get_name (f->path, depth), lf_path_get_name (e->path, depth)) == 0;
          if (!same)
            break;
        }
      g_ptr_array_add (names, (gpointer) (kind == LF_KEY_INDEX ? NULL
                                                                : lf_path_get_name (e->path, depth)));
      g_ptr_array_add (children, build_level (w, leaves, i, j, depth + 1));
      i = j;
    }
  LfNode **items = (LfNode **) children->pdata;
  switch (kind)
    {
    case LF_KEY_INDEX:
      return lf_list_new (children->len, items);
    case LF_KEY_FIELD:
      return lf_struct_new ("Module", children->len, (const char *const *) names->pdata, items);
    default:
      return lf_dict_new (children->len, (const char *const *) names->pdata, items);
    }
}

LfNode *
workload_build_tree (const Workload *workload, LfNode **leaves)
{
  return build_level (workload, leaves, 0, workload_get_n_leaves (workload), 0);
}

typedef struct {
  const Workload *workload;
  const char *stream_file;
  const WorkloadBlock *blocks;
  int fd;
  guint i;
  guint n_differ;
  GError *error;
} Verify;

static gboolean
verify_leaf (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  Verify *v = user_data;
  if (v->i >= workload_get_n_leaves (v->workload))
    {
      v->n_differ++;      /* a leaf the manifest does not have */
      return TRUE;
    }
  guint i = v->i++;
  gsize shape[LF_MAX_NDIM];
  guint64 offset;
  gsize n_bytes;
  if (!block_extent (v->workload, v->blocks, i, shape, &offset, &n_bytes, &v->error))
    return FALSE;
  g_autofree guint8 *want = g_malloc (MAX (n_bytes, 1));
  if (!read_block (v->fd, v->stream_file, workload_get_leaf (v->workload, i), want, n_bytes,
                   offset, &v->error))
    return FALSE;
  if (lf_node_get_kind (leaf) != LF_NODE_ARRAY || lf_array_get_n_bytes (leaf) != n_bytes
      || memcmp (lf_array_get_data (leaf), want, n_bytes) != 0)
    v->n_differ++;
  return TRUE;
}

gboolean
workload_verify (const Workload *workload, const char *stream_file, const WorkloadBlock *blocks,
                 LfNode *tree, guint *n_differ, GError **error)
{
  Verify v = { workload, stream_file, blocks, open_stream (stream_file, error), 0, 0, NULL };
  if (v.fd < 0)
    return FALSE;
  lf_tree_foreach_leaf (tree, NULL, NULL, verify_leaf, &v);
  close (v.fd);
  if (v.error != NULL)
    {
      g_propagate_error (error, v.error);
      return FALSE;
    }
  *n_differ = v.n_differ;
  if (v.i < workload_get_n_leaves (workload))
    *n_differ += workload_get_n_leaves (workload) - v.i;   /* leaves the tree lacks */
  return TRUE;
}
