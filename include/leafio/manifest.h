/**
 * SECTION:manifest
 * @title: Manifests
 * @short_description: FILE.eqx.json beside a saved file
 *
 * The manifest beside a saved file, FILE.eqx.json (docs/MANIFEST.md), for
 * savers that do not go through lf_tree_serialise_leaves_full() (which
 * writes it with %LF_SAVE_MANIFEST): the MPI library, or a program that
 * lays out its own file.
 *
 * A manifest must never describe other data than the file beside it, so a
 * saver calls lf_manifest_remove() before it puts a new file in place, and
 * lf_manifest_write() only after.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>
#include <leafio/tree.h>

G_BEGIN_DECLS

/**
 * LfManifestLeaf:
 * @path: keystr text ("" for a root leaf)
 * @leaf: as saved; an abstract array gives its dtype and shape
 * @codec: the codec the leaf was saved with
 * @has_record: %FALSE when the codec wrote nothing for it
 * @offset: its record's first byte in the file
 * @size: its record's length
 *
 * One leaf of the saved tree, in lf_tree_foreach_leaf() order.  Every
 * pointer is borrowed.
 *
 * Since: 0.1
 */
typedef struct {
  const char *path;
  LfNode *leaf;
  LfCodec *codec;
  gboolean has_record;
  guint64 offset;
  guint64 size;
} LfManifestLeaf;

/**
 * lf_manifest_write:
 * @path: the finished file; ".eqx" is added when it has no suffix
 * @tree: the saved tree (its skeleton is stored; abstract arrays are
 *   enough)
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 * @leaves: (array length=n_leaves): one entry per leaf of @tree
 * @n_leaves: the number of entries
 * @error: return location for a #GError, or %NULL
 *
 * Writes the manifest of the file at @path, atomically.  Each record's
 * checksum is computed from the file on disk.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_IO (the file or the manifest),
 *   %LF_ERROR_FAILED when a record lies beyond the end of the file,
 *   %LF_ERROR_MISMATCH when @n_leaves is not the number of leaves of
 *   @tree.
 *
 * Since: 0.1
 */
LF_API gboolean lf_manifest_write (const char *path, LfNode *tree, LfIsLeafFunc is_leaf,
                                   gpointer is_leaf_data, const LfManifestLeaf *leaves,
                                   gsize n_leaves, GError **error);

/**
 * lf_manifest_remove:
 * @path: the file; ".eqx" is added when it has no suffix
 * @error: return location for a #GError, or %NULL
 *
 * Removes the manifest beside @path, if any.
 *
 * Returns: %TRUE when there is none left; %FALSE with %LF_ERROR_IO.
 *
 * Since: 0.1
 */
LF_API gboolean lf_manifest_remove (const char *path, GError **error);

/**
 * lf_manifest_get_path:
 * @path: the file; ".eqx" is added when it has no suffix
 *
 * Where the manifest of @path is, whether or not it exists: beside the
 * file, `model.eqx.json` for `model.eqx`.  For a symbolic link (a
 * `latest.eqx` pointing at a step), beside the file the link names, since
 * saves through a link replace that file and put its manifest there.
 * Copy or remove it with the data file.
 *
 * Returns: (transfer full): the manifest's path; free with g_free().
 *
 * Since: 0.2
 */
LF_API char *lf_manifest_get_path (const char *path);

/**
 * lf_manifest_verify:
 * @path: the file; ".eqx" is added when it has no suffix
 * @like: (nullable): the tree the file should hold (its skeleton is
 *   enough), or %NULL to check only the file against the manifest
 * @is_leaf: (nullable) (scope call): as for lf_tree_serialise_leaves()
 * @is_leaf_data: (closure is_leaf): data for @is_leaf
 * @error: return location for a #GError, or %NULL
 *
 * Checks @path against the manifest beside it, as a load does before it
 * reads anything: the file's size, each record's offset, size and
 * checksum, and with @like each leaf's path, kind, dtype and shape.  Unlike
 * a load, a missing manifest is an error.
 *
 * Returns: %TRUE when the file is the one the manifest describes;
 *   otherwise %FALSE with the first difference, by leaf path, record and
 *   offset: %LF_ERROR_NOT_FOUND (no manifest), %LF_ERROR_CHECKSUM (file
 *   size, a record's bounds or checksum), %LF_ERROR_MISMATCH (leaf count,
 *   path, kind, dtype, shape), %LF_ERROR_PARSE (a malformed manifest),
 *   %LF_ERROR_UNSUPPORTED (a newer manifest version) or %LF_ERROR_IO.
 *
 * Since: 0.2
 */
LF_API gboolean lf_manifest_verify (const char *path, LfNode *like, LfIsLeafFunc is_leaf,
                                    gpointer is_leaf_data, GError **error);

G_END_DECLS
