/**
 * SECTION:serialise
 * @title: Saving and loading
 * @short_description: the leaves of a tree to a file or stream, and back
 *
 * lf_tree_serialise_leaves() writes one record per leaf of `tree`, in
 * order, each with the codec the spec picks; leaves whose codec writes
 * nothing (opaque leaves with `npy`) leave no trace.  Equinox's
 * `tree_deserialise_leaves` on the same structure reads the file back.
 *
 * lf_tree_deserialise_leaves() returns a new tree shaped like `like`: each
 * leaf the spec loads is replaced by the value read, every other leaf is
 * shared with `like` (the same node).  Each loaded leaf must match `like`'s:
 * same kind, and for arrays the same shape and dtype (abstract arrays in
 * `like` are filled in).  Scalars take `like`'s type, converting the value
 * as `type(x)(out.item())` does.  A mismatch is %LF_ERROR_MISMATCH naming
 * the path, what was expected and what was found.  On any error nothing is
 * returned: never a partial tree.
 *
 * Files: a path without a suffix gets ".eqx".  Saving writes a temporary
 * file in the same directory, syncs it and renames it over the target, so a
 * failed or interrupted save leaves the previous file as it was.  Loading a
 * path fails with %LF_ERROR_TRAILING_DATA if bytes remain after the last
 * leaf.
 *
 * Streams: saving writes at the stream's position; loading starts at the
 * stream's position and stops right after the last leaf, so a stream may
 * carry other data before and after the leaves.
 *
 * Errors are prefixed with the file (or stream name), the record index,
 * its offset and the leaf path:
 * "model.eqx: record 3 at offset 4096 (.layers[1].weight): expected shape
 * (4, 2), found (2, 4)".  Besides the errors each function names, loads
 * report the errors of the codecs (%LF_ERROR_CORRUPT, %LF_ERROR_TRUNCATED,
 * %LF_ERROR_UNSUPPORTED, %LF_ERROR_TOO_LARGE, ...) and saves those of the
 * codecs and of the stream (%LF_ERROR_IO).
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>
#include <leafio/tree.h>

G_BEGIN_DECLS

/**
 * LfSaveFlags:
 * @LF_SAVE_DEFAULT: none of the below
 * @LF_SAVE_MANIFEST: also write FILE.eqx.json: skeleton, codecs, offsets,
 *   checksums (docs/MANIFEST.md)
 * @LF_SAVE_NO_SYNC: skip the fsync before the rename (faster, less
 *   durable)
 *
 * Options of the `_full` save functions.
 *
 * Since: 0.1
 */
typedef enum {
  LF_SAVE_DEFAULT = 0,
  LF_SAVE_MANIFEST = 1 << 0,
  LF_SAVE_NO_SYNC = 1 << 1,
} LfSaveFlags;

/**
 * LfLoadFlags:
 * @LF_LOAD_DEFAULT: none of the below
 * @LF_LOAD_MMAP: map the file: arrays borrow the mapping, no copy
 * @LF_LOAD_IGNORE_MANIFEST: do not check FILE.eqx.json even when present
 *
 * Options of the `_full` load functions.
 *
 * Since: 0.1
 */
typedef enum {
  LF_LOAD_DEFAULT = 0,
  LF_LOAD_MMAP = 1 << 0,
  LF_LOAD_IGNORE_MANIFEST = 1 << 1,
} LfLoadFlags;

/**
 * lf_path_with_eqx_suffix:
 * @path: a file path
 *
 * The file name a save or load uses for a path: @path with ".eqx" appended
 * when its file name has no suffix, as Equinox's pathlib does it.
 * Trailing slashes (and "/." components) are dropped first, so "ckpt/"
 * gives "ckpt.eqx" and "model.eqx/" gives "model.eqx".
 *
 * Returns: (transfer full): the path.  Free with g_free().
 *
 * Since: 0.1
 */
LF_API char *lf_path_with_eqx_suffix (const char *path);

/**
 * lf_tree_serialise_leaves:
 * @path: the file; ".eqx" is added when it has no suffix
 * @tree: the tree
 * @spec: (nullable): which codec writes each leaf; %NULL: the default codec
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 * @error: return location for a #GError, or %NULL
 *
 * Saves the leaves of @tree to @path, atomically: the previous file stays
 * until the new one is complete and synced.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_IO (a @path that names a
 *   directory, "" or ".", as Equinox refuses it; the temporary file, a
 *   write, the sync or the rename), %LF_ERROR_SPEC, or a codec's error.
 *
 * Since: 0.1
 */
LF_API gboolean lf_tree_serialise_leaves (const char *path, LfNode *tree, LfSpec *spec,
                                          LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                          GError **error);
/**
 * lf_tree_serialise_leaves_full:
 * @path: the file; ".eqx" is added when it has no suffix
 * @tree: the tree
 * @spec: (nullable): which codec writes each leaf; %NULL: the default codec
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 * @flags: options
 * @error: return location for a #GError, or %NULL
 *
 * lf_tree_serialise_leaves() with options.  Any save removes the previous
 * file's manifest first.
 *
 * Returns: %TRUE, or %FALSE with the errors of lf_tree_serialise_leaves().
 *
 * Since: 0.1
 */
LF_API gboolean lf_tree_serialise_leaves_full (const char *path, LfNode *tree, LfSpec *spec,
                                               LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                               LfSaveFlags flags, GError **error);
/**
 * lf_tree_serialise_leaves_to_stream:
 * @stream: a writable stream
 * @tree: the tree
 * @spec: (nullable): which codec writes each leaf; %NULL: the default codec
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 * @error: return location for a #GError, or %NULL
 *
 * Writes the leaves of @tree at the stream's position, then flushes it.
 * Stream saves never sync: the stream's owner calls lf_stream_sync().
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_SPEC, a codec's error or the
 *   stream's.
 *
 * Since: 0.1
 */
LF_API gboolean lf_tree_serialise_leaves_to_stream (LfStream *stream, LfNode *tree,
                                                    LfSpec *spec, LfIsLeafFunc is_leaf,
                                                    gpointer is_leaf_data, GError **error);
/**
 * lf_tree_serialise_leaves_to_stream_full:
 * @stream: a writable stream
 * @tree: the tree
 * @spec: (nullable): which codec writes each leaf; %NULL: the default codec
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 * @flags: options, as for paths
 * @error: return location for a #GError, or %NULL
 *
 * lf_tree_serialise_leaves_to_stream() with options.  A stream has no file
 * beside it to hold a manifest, and stream saves never sync, so
 * %LF_SAVE_NO_SYNC changes nothing.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_UNSUPPORTED for
 *   %LF_SAVE_MANIFEST (write one with lf_manifest_write()), before
 *   anything is written, or the errors of
 *   lf_tree_serialise_leaves_to_stream().
 *
 * Since: 0.2
 */
LF_API gboolean lf_tree_serialise_leaves_to_stream_full (LfStream *stream, LfNode *tree,
                                                         LfSpec *spec,
                                                         LfIsLeafFunc is_leaf,
                                                         gpointer is_leaf_data,
                                                         LfSaveFlags flags, GError **error);

/**
 * lf_tree_deserialise_leaves:
 * @path: the file; ".eqx" is added when it has no suffix
 * @like: the tree the file's leaves are loaded into the shape of
 * @spec: (nullable): which codec reads each leaf; %NULL: the default codec
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 * @error: return location for a #GError, or %NULL
 *
 * Loads the leaves @like describes from @path.  When the file has a
 * manifest, its leaves are compared with @like first and each record with
 * its checksum as it is read; on any difference nothing is returned and
 * the error names the first one (docs/MANIFEST.md).
 *
 * Returns: (transfer full) (nullable): a new tree shaped like @like, or
 *   %NULL with %LF_ERROR_IO, %LF_ERROR_MISMATCH, %LF_ERROR_TRAILING_DATA,
 *   %LF_ERROR_SPEC, a codec's error, or the manifest's
 *   (%LF_ERROR_CHECKSUM, %LF_ERROR_PARSE for a malformed one).
 *
 * Since: 0.1
 */
LF_API LfNode *lf_tree_deserialise_leaves (const char *path, LfNode *like, LfSpec *spec,
                                           LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                           GError **error);
/**
 * lf_tree_deserialise_leaves_full:
 * @path: the file; ".eqx" is added when it has no suffix
 * @like: the tree the file's leaves are loaded into the shape of
 * @spec: (nullable): which codec reads each leaf; %NULL: the default codec
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 * @flags: options
 * @error: return location for a #GError, or %NULL
 *
 * lf_tree_deserialise_leaves() with options.
 *
 * Returns: (transfer full) (nullable): a new tree shaped like @like, or
 *   %NULL with the errors of lf_tree_deserialise_leaves().
 *
 * Since: 0.1
 */
LF_API LfNode *lf_tree_deserialise_leaves_full (const char *path, LfNode *like,
                                                LfSpec *spec, LfIsLeafFunc is_leaf,
                                                gpointer is_leaf_data, LfLoadFlags flags,
                                                GError **error);
/**
 * lf_tree_deserialise_leaves_from_stream:
 * @stream: a readable stream
 * @like: the tree the stream's leaves are loaded into the shape of
 * @spec: (nullable): which codec reads each leaf; %NULL: the default codec
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 * @error: return location for a #GError, or %NULL
 *
 * Loads the leaves @like describes from the stream's position, and stops
 * right after the last one.
 *
 * Returns: (transfer full) (nullable): a new tree shaped like @like, or
 *   %NULL with %LF_ERROR_MISMATCH, %LF_ERROR_SPEC, a codec's error or the
 *   stream's.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_tree_deserialise_leaves_from_stream (LfStream *stream, LfNode *like,
                                                       LfSpec *spec, LfIsLeafFunc is_leaf,
                                                       gpointer is_leaf_data,
                                                       GError **error);
/**
 * lf_tree_deserialise_leaves_from_stream_full:
 * @stream: a readable stream
 * @like: the tree the stream's leaves are loaded into the shape of
 * @spec: (nullable): which codec reads each leaf; %NULL: the default codec
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 * @flags: options, as for paths
 * @error: return location for a #GError, or %NULL
 *
 * lf_tree_deserialise_leaves_from_stream() with options.  A stream has no
 * manifest to check, so %LF_LOAD_IGNORE_MANIFEST changes nothing.
 *
 * Returns: (transfer full) (nullable): a new tree shaped like @like, or
 *   %NULL with %LF_ERROR_UNSUPPORTED for %LF_LOAD_MMAP (a stream is mapped
 *   when it is made: lf_stream_new_for_path (path, TRUE)), before anything
 *   is read, or the errors of lf_tree_deserialise_leaves_from_stream().
 *
 * Since: 0.2
 */
LF_API LfNode *lf_tree_deserialise_leaves_from_stream_full (LfStream *stream, LfNode *like,
                                                            LfSpec *spec,
                                                            LfIsLeafFunc is_leaf,
                                                            gpointer is_leaf_data,
                                                            LfLoadFlags flags,
                                                            GError **error);

G_END_DECLS
