/* Random access to a saved file (<leafio/file.h>): the index shared by
 * file.c (opening, reading), file-index.c (building the index) and
 * file-manifest.c (reading the manifest beside the file). */
#pragma once

#include <leafio/leafio.h>

/* One leaf of the index.  `pub` is what lf_file_get_entry() hands out; its
 * strings and shape point into the members below. */
typedef struct {
  LfFileEntry pub;
  char *path_text;      /* owned; pub.path */
  LfPath *path;         /* owned: for codecs' messages */
  LfNode *like;         /* borrowed from the file's like */
  LfCodec *codec;       /* owned reference */
  char *codec_text;     /* owned; pub.codec */
  gsize *shape;         /* owned; pub.shape */
  guint record_index;   /* counts records only, as load errors do */
  gboolean has_checksum;
  guint64 checksum;     /* XXH3-64 of the record, from the manifest */
  gboolean unindexed;   /* at or past where a partial index stopped */
} LfFileLeaf;

struct _LfFile {
  gatomicrefcount ref_count;
  char *name;                 /* for messages */
  guint64 size;
  LfFileReadFunc read_func;   /* pread() on our fd, or the caller's */
  gpointer read_data;
  GDestroyNotify read_destroy;
  int fd;                     /* ours, or -1 */
  GBytes *mapped;             /* the whole file with LF_FILE_MMAP, else NULL */
  LfNode *like;
  LfIsLeafFunc is_leaf;
  gpointer is_leaf_data;
  LfFileLeaf *leaves;
  gsize n_leaves;
  GHashTable *by_path;        /* path text -> LfFileLeaf *, borrowed */
  gboolean from_manifest;
  GError *index_error;        /* why a partial index stopped, or NULL */
  gsize index_stop;           /* the leaf where it stopped */
};

/* Reads exactly `count` bytes at `offset` through the file's read
 * function; LF_ERROR_TRUNCATED when the file ends first. */
gboolean _lf_file_read_exact (LfFile *file, void *buffer, gsize count, guint64 offset,
                              GError **error);

/* Reads bytes [from, from + length) of the `count` bytes at `offset` into
 * the same place of `buffer`; a truncation names the whole range. */
gboolean _lf_file_read_part (LfFile *file, guint8 *buffer, gsize count, guint64 offset,
                             gsize from, gsize length, GError **error);

/* ---- reading records with their checksum (file-read.c) ---------------------- */

/* _lf_file_read_exact, and the XXH3-64 of the bytes read in `*hash`.
 * `fresh`: the buffer's pages were never touched (faulted in first). */
gboolean _lf_file_read_hashed (LfFile *file, guint8 *buffer, gsize count, guint64 offset,
                               gboolean fresh, guint64 *hash, GError **error);
/* The XXH3-64 of `count` bytes. */
guint64 _lf_file_hash (const guint8 *data, gsize count);

/* Sets a leaf's dtype and shape (copied). */
void _lf_file_leaf_set_shape (LfFileLeaf *leaf, LfDType dtype, guint ndim,
                              const gsize *shape);

/* ---- the manifest (file-manifest.c) ---------------------------------------- */

typedef struct {
  char *path;
  char *kind;
  LfDType dtype;        /* LF_DTYPE_INVALID for leaves without one */
  guint ndim;
  gsize *shape;
  char *codec;
  gboolean has_record;
  guint64 offset, size, checksum;
} LfManifestEntry;

typedef struct {
  guint64 file_size;    /* what the manifest says */
  LfNode *skeleton;
  LfManifestEntry *entries;
  gsize n_entries;
} LfManifestIndex;

/* Reads the manifest at `manifest_path`; its skeleton (NULL otherwise)
 * only `with_skeleton`, for a caller without `like`.  NULL with `*present`
 * FALSE when there is none; NULL with `*present` TRUE and `error` set when
 * it cannot be used (malformed, another version, a record past its stated
 * size). */
LfManifestIndex *_lf_manifest_index_read (const char *manifest_path, gboolean with_skeleton,
                                          gboolean *present, GError **error);
void _lf_manifest_index_free (LfManifestIndex *index);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfManifestIndex, _lf_manifest_index_free)

/* ---- building the index (file-index.c) ------------------------------------- */

/* Fills file->leaves with one leaf a leaf of file->like, paired with its
 * codec by `spec`.  LF_ERROR_SPEC when the spec does not fit. */
gboolean _lf_file_collect_leaves (LfFile *file, LfSpec *spec, GError **error);
/* Takes offsets, sizes, shapes and checksums from `manifest`.  FALSE, with
 * the reason in `error`, when the manifest disagrees with the file's size,
 * its leaves, or (with `use_manifest_codecs` FALSE) their codecs; then the
 * leaves are as collected.  With `use_manifest_codecs` the leaves take the
 * manifest's codecs, resolved in the default registry. */
gboolean _lf_file_index_from_manifest (LfFile *file, const LfManifestIndex *manifest,
                                       gboolean use_manifest_codecs, GError **error);
/* Describes each record in turn and skips past it.  `partial`
 * (LF_FILE_PARTIAL): a record that cannot be described, or bytes after the
 * last, end the index there instead of failing it (file->index_error). */
gboolean _lf_file_index_by_scanning (LfFile *file, gboolean partial, GError **error);
