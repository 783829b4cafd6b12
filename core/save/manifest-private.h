/* The optional manifest beside a saved file: FILE.eqx.json holds the tree's
 * skeleton, the codec of each leaf and each record's offset, size and
 * XXH3-64 checksum (docs/MANIFEST.md).  The .eqx itself is untouched.
 *
 * Order for serialise.c, so that a crash never leaves a manifest that
 * disagrees with the data beside it:
 *   1. write the .eqx to a temporary file;
 *   2. _lf_manifest_remove() (always, even without LF_SAVE_MANIFEST: a
 *      manifest of the previous save would describe the wrong data);
 *   3. rename the .eqx into place;
 *   4. with LF_SAVE_MANIFEST, _lf_manifest_write().
 * Loading a path calls _lf_manifest_verify() first unless
 * LF_LOAD_IGNORE_MANIFEST. */
#pragma once

#include <leafio/leafio.h>

/* "model.eqx" -> "model.eqx.json".  Free with g_free. */
char *_lf_manifest_path (const char *eqx_path);

/* Writes the manifest for the finished file at `eqx_path`, saved from `tree`
 * (one of `leaves` per leaf, in order).  Checksums are computed from the
 * file as it is on disk.  Atomic: a temporary file renamed into place.
 * LF_ERROR_IO naming the manifest on failure. */
gboolean _lf_manifest_write (const char *eqx_path, LfNode *tree, LfIsLeafFunc is_leaf,
                             gpointer is_leaf_data, const LfManifestLeaf *leaves,
                             gsize n_leaves, GError **error);

/* Checks the manifest beside `eqx_path`, if any, against `like` (may be
 * NULL: only the checksums are checked) and against the file.  TRUE when
 * there is no manifest or everything agrees.  Otherwise the first
 * difference, by leaf path: LF_ERROR_MISMATCH (leaf count, path, kind,
 * dtype, shape), LF_ERROR_CHECKSUM (file size, record checksum),
 * LF_ERROR_PARSE (malformed manifest), LF_ERROR_UNSUPPORTED (a newer
 * manifest version).  Messages start with the manifest's file name. */
gboolean _lf_manifest_verify (const char *eqx_path, LfNode *like, LfIsLeafFunc is_leaf,
                              gpointer is_leaf_data, GError **error);

/* Deletes the manifest beside `eqx_path`; TRUE when there was none. */
gboolean _lf_manifest_remove (const char *eqx_path, GError **error);
