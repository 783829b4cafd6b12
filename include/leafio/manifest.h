/* leafio: the manifest beside a saved file, FILE.eqx.json (docs/MANIFEST.md),
 * for savers that do not go through lf_tree_serialise_leaves_full (which
 * writes it with LF_SAVE_MANIFEST): the MPI library, or a program that lays
 * out its own file.
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

/* One leaf of the saved tree, in lf_tree_foreach_leaf order.  All borrowed. */
typedef struct {
  const char *path;      /* keystr text ("" for a root leaf) */
  LfNode *leaf;          /* as saved; an abstract array gives its dtype and shape */
  LfCodec *codec;        /* the codec the leaf was saved with */
  gboolean has_record;   /* FALSE when the codec wrote nothing for it */
  guint64 offset;        /* its record's first byte in the file */
  guint64 size;          /* its record's length */
} LfManifestLeaf;

/* Writes the manifest of the finished file at `path` (".eqx" added when it
 * has no suffix): `tree` (the saved tree's skeleton is stored; abstract
 * arrays are enough) and one entry per leaf of it.  Each record's checksum
 * is computed from the file on disk.  Written atomically.  Fails with
 * LF_ERROR_IO (the file or the manifest), LF_ERROR_FAILED when a record
 * lies beyond the end of the file, LF_ERROR_MISMATCH when `n_leaves` is
 * not the number of leaves of `tree`. */
LF_API gboolean lf_manifest_write (const char *path, LfNode *tree, LfIsLeafFunc is_leaf,
                                   gpointer is_leaf_data, const LfManifestLeaf *leaves,
                                   gsize n_leaves, GError **error);

/* Removes the manifest beside `path`, if any.  TRUE when there is none
 * left; LF_ERROR_IO otherwise. */
LF_API gboolean lf_manifest_remove (const char *path, GError **error);

G_END_DECLS
