/* leafio: saving and loading the leaves of a tree.
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
 * as `type(x)(out.item())` does.  A mismatch is LF_ERROR_MISMATCH naming the
 * path, what was expected and what was found.  On any error nothing is
 * returned: never a partial tree.
 *
 * Files: a path without a suffix gets ".eqx".  Saving writes a temporary
 * file in the same directory, syncs it and renames it over the target, so a
 * failed or interrupted save leaves the previous file as it was.  Loading a
 * path fails with LF_ERROR_TRAILING_DATA if bytes remain after the last leaf.
 *
 * Streams: saving writes at the stream's position; loading starts at the
 * stream's position and stops right after the last leaf, so a stream may
 * carry other data before and after the leaves.
 *
 * Errors are prefixed with the file (or stream name), the record index,
 * its offset and the leaf path:
 *   "model.eqx: record 3 at offset 4096 (.layers[1].weight): expected shape (4, 2), found (2, 4)"
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>
#include <leafio/tree.h>

G_BEGIN_DECLS

typedef enum {
  LF_SAVE_DEFAULT = 0,
  LF_SAVE_MANIFEST = 1 << 0, /* also write FILE.eqx.json: skeleton, codecs, offsets, checksums (docs/MANIFEST.md) */
  LF_SAVE_NO_SYNC = 1 << 1,  /* skip fsync before the rename (faster, less durable) */
} LfSaveFlags;

typedef enum {
  LF_LOAD_DEFAULT = 0,
  LF_LOAD_MMAP = 1 << 0,            /* map the file: arrays borrow the mapping, no copy */
  LF_LOAD_IGNORE_MANIFEST = 1 << 1, /* do not check FILE.eqx.json even when present */
} LfLoadFlags;

/* `path` with ".eqx" appended when its file name has no suffix. Free with g_free. */
LF_API char *lf_path_with_eqx_suffix (const char *path);

LF_API gboolean lf_tree_serialise_leaves (const char *path, LfNode *tree, LfSpec *spec,
                                          LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                          GError **error);
LF_API gboolean lf_tree_serialise_leaves_full (const char *path, LfNode *tree, LfSpec *spec,
                                               LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                               LfSaveFlags flags, GError **error);
LF_API gboolean lf_tree_serialise_leaves_to_stream (LfStream *stream, LfNode *tree,
                                                    LfSpec *spec, LfIsLeafFunc is_leaf,
                                                    gpointer is_leaf_data, GError **error);
/* With flags, as for paths.  A stream has no file beside it to hold a
 * manifest, so LF_SAVE_MANIFEST fails with LF_ERROR_UNSUPPORTED (write one
 * with lf_manifest_write()); stream saves never sync (the stream's owner
 * calls lf_stream_sync()), so LF_SAVE_NO_SYNC changes nothing. */
LF_API gboolean lf_tree_serialise_leaves_to_stream_full (LfStream *stream, LfNode *tree,
                                                         LfSpec *spec,
                                                         LfIsLeafFunc is_leaf,
                                                         gpointer is_leaf_data,
                                                         LfSaveFlags flags, GError **error);

/* Transfer full; NULL on error. */
LF_API LfNode *lf_tree_deserialise_leaves (const char *path, LfNode *like, LfSpec *spec,
                                           LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                           GError **error);
LF_API LfNode *lf_tree_deserialise_leaves_full (const char *path, LfNode *like,
                                                LfSpec *spec, LfIsLeafFunc is_leaf,
                                                gpointer is_leaf_data, LfLoadFlags flags,
                                                GError **error);
LF_API LfNode *lf_tree_deserialise_leaves_from_stream (LfStream *stream, LfNode *like,
                                                       LfSpec *spec, LfIsLeafFunc is_leaf,
                                                       gpointer is_leaf_data,
                                                       GError **error);
/* With flags, as for paths.  LF_LOAD_MMAP fails with LF_ERROR_UNSUPPORTED
 * (a stream is mapped when it is made: lf_stream_new_for_path (path, TRUE));
 * a stream has no manifest to check, so LF_LOAD_IGNORE_MANIFEST changes
 * nothing. */
LF_API LfNode *lf_tree_deserialise_leaves_from_stream_full (LfStream *stream, LfNode *like,
                                                            LfSpec *spec,
                                                            LfIsLeafFunc is_leaf,
                                                            gpointer is_leaf_data,
                                                            LfLoadFlags flags,
                                                            GError **error);

G_END_DECLS
