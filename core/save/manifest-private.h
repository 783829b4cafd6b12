/* The optional manifest beside a saved file: FILE.eqx.json holds the tree's
 * skeleton, the codec of each leaf and each record's offset, size and
 * XXH3-64 checksum (docs/MANIFEST.md).  The .eqx itself is untouched.
 *
 * Order for serialise.c, so that a crash never leaves a manifest that
 * disagrees with the data beside it, and two saves of one path never leave
 * one's data beside the other's manifest:
 *   1. write the .eqx to a temporary file; with LF_SAVE_MANIFEST,
 *      _lf_manifest_build() from that temporary file;
 *   2. lock the directory (lf_atomic_file_lock_directory);
 *   3. _lf_manifest_remove() (always, even without LF_SAVE_MANIFEST: a
 *      manifest of the previous save would describe the wrong data);
 *   4. rename the .eqx into place;
 *   5. with LF_SAVE_MANIFEST, _lf_manifest_put();
 *   6. unlock.
 * Loading a path calls _lf_manifest_verify() first unless
 * LF_LOAD_IGNORE_MANIFEST. */
#pragma once

#include <sys/stat.h>
#include <leafio/leafio.h>

/* "model.eqx" -> "model.eqx.json".  Free with g_free. */
char *_lf_manifest_path (const char *eqx_path);

/* A record's XXH3-64 when the writer took it while writing (`known`). */
typedef struct {
  gboolean known;
  guint64 xxh3;
} LfRecordHash;

/* Writes the manifest for the finished file at `eqx_path`, saved from `tree`
 * (one of `leaves` per leaf, in order).  Checksums are computed from the
 * file as it is on disk.  Atomic: a temporary file renamed into place.
 * LF_ERROR_IO naming the manifest on failure. */
gboolean _lf_manifest_write (const char *eqx_path, LfNode *tree, LfIsLeafFunc is_leaf,
                             gpointer is_leaf_data, const LfManifestLeaf *leaves,
                             gsize n_leaves, GError **error);

/* The text of the manifest for `eqx_path` saved from `tree` (one of
 * `leaves` per leaf), for the bytes now at `data_path` (the save's
 * temporary file, or `eqx_path` itself).  A record's checksum is taken
 * from `hashes` (nullable; one per leaf) when known there, otherwise read
 * from `data_path`.  Free with g_free. */
char *_lf_manifest_build (const char *eqx_path, const char *data_path, LfNode *tree,
                          LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                          const LfManifestLeaf *leaves, const LfRecordHash *hashes,
                          gsize n_leaves, gsize *length, GError **error);

/* Puts `text` in place as the manifest of `eqx_path`, atomically. */
gboolean _lf_manifest_put (const char *eqx_path, const char *text, gsize length,
                           gboolean sync, GError **error);

/* Checks the manifest beside `eqx_path`, if any, against `like` (may be
 * NULL: only the checksums are checked) and against the file.  TRUE when
 * there is no manifest or everything agrees.  Otherwise the first
 * difference, by leaf path: LF_ERROR_MISMATCH (leaf count, path, kind,
 * dtype, shape), LF_ERROR_CHECKSUM (file size, record checksum),
 * LF_ERROR_PARSE (malformed manifest), LF_ERROR_UNSUPPORTED (a newer
 * manifest version).  Messages start with the manifest's file name. */
gboolean _lf_manifest_verify (const char *eqx_path, LfNode *like, LfIsLeafFunc is_leaf,
                              gpointer is_leaf_data, GError **error);

/* For a load that checks each record as it reads it: reads the manifest
 * beside `eqx_path` and checks all but the bytes of the file (format,
 * version, leaves against `like`), as _lf_manifest_verify does first.
 * *records (transfer full) is then each record's LfRecordCheck
 * (walk-private.h) in file order, or NULL when there is no manifest.
 * Errors as _lf_manifest_verify's. */
gboolean _lf_manifest_read_checks (const char *eqx_path, LfNode *like, LfIsLeafFunc is_leaf,
                                   gpointer is_leaf_data, GArray **records, GError **error);

/* Whether `path` still names the file `read` (a stat of it) was taken of:
 * same inode, size, change and modification times.  A save that replaced
 * it, or a writer that rewrote it in place, makes it FALSE. */
gboolean _lf_file_unchanged (const char *path, const struct stat *read);

/* The file whose manifest `eqx_path` has: itself, or for a symbolic link
 * the file it names (saves replace that file and put its manifest beside
 * it).  Free with g_free. */
char *_lf_manifest_data_path (const char *eqx_path);

/* When `*error` is LF_ERROR_MISMATCH and a manifest is beside `eqx_path`,
 * adds the codec it records for the `record_index`-th record ("written
 * with float16") to the message.  For the error path of a load only. */
void _lf_manifest_add_codec_hint (const char *eqx_path, guint record_index, GError **error);
/* Deletes the manifest beside `eqx_path`; TRUE when there was none. */
gboolean _lf_manifest_remove (const char *eqx_path, GError **error);
