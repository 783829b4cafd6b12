/**
 * SECTION:file
 * @title: Random access
 * @short_description: open a saved file once, read any leaf or subtree
 *
 * lf_file_open() builds an index of a file's records without reading their
 * data: from the manifest beside the file (FILE.eqx.json, docs/MANIFEST.md)
 * when there is one that agrees with the file and with what the caller
 * gave, otherwise by walking `like` with the spec and asking each leaf's
 * codec to describe its record (lf_codec_describe()), then skipping past
 * it.  Files written by numpy or Equinox (no manifest) open the second
 * way; a manifest that no longer matches its file is reported with a
 * g_warning() and the file is indexed the second way.
 *
 * lf_file_read() then loads one leaf or one subtree by its keystr path
 * (`.layers[2].weight`, `[1]['a']`), with the same checks against `like`
 * and the same codecs as a full load (lf_tree_deserialise_leaves()), and
 * reads only the bytes of the records it loads: one pread() a record, no
 * shared file position.  Reads of an open file may run on several threads
 * at once.
 *
 * A record whose codec cannot describe it (a plugin without `describe`) or
 * cannot tell its size from its first bytes is read through once while
 * indexing, to find where it ends.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>
#include <leafio/tree.h>

G_BEGIN_DECLS

/**
 * LfFile:
 *
 * An open, indexed file: immutable once opened and reference-counted
 * (lf_file_ref(), lf_file_unref()).  Every function taking an #LfFile may
 * be called from several threads at once.
 *
 * Since: 0.2
 */
typedef struct _LfFile LfFile;

/**
 * LfFileFlags:
 * @LF_FILE_DEFAULT: read records with pread() into memory of their own
 * @LF_FILE_MMAP: map the file; arrays read from it are views of the
 *   mapping (no copy) where their data is aligned for their dtype (npy
 *   records written by numpy and leafio are), copies where it is not
 * @LF_FILE_IGNORE_MANIFEST: index by describing the records even when a
 *   manifest is present
 * @LF_FILE_PARTIAL: open a damaged file: when indexing by describing the
 *   records stops at a record that cannot be described (cut short,
 *   overwritten, not what `like` says) or at bytes after the last record,
 *   the file opens anyway.  The leaves before that record read as usual;
 *   reading that record's leaf or any after it fails with the error that
 *   stopped the indexing (lf_file_get_index_error()).
 *
 * How lf_file_open() opens a file.
 *
 * Since: 0.2
 */
typedef enum {
  LF_FILE_DEFAULT = 0,
  LF_FILE_MMAP = 1 << 0,
  LF_FILE_IGNORE_MANIFEST = 1 << 1,
  LF_FILE_PARTIAL = 1 << 2,
} LfFileFlags;

/**
 * LfFileEntry:
 * @path: the leaf's keystr path ("" when the tree is one leaf)
 * @kind: the leaf's kind: %LF_NODE_ARRAY, %LF_NODE_SCALAR, %LF_NODE_OPAQUE,
 *   or a container kind when `is_leaf` made a container a leaf
 * @dtype: the dtype the record decodes to (for codecs that restore
 *   `like`'s dtype, `like`'s), or %LF_DTYPE_INVALID for leaves without one
 * @ndim: the number of dimensions (0 for scalars)
 * @shape: (array length=ndim) (nullable): the dimensions
 * @codec: the canonical reference of the leaf's codec ("npy",
 *   "compressed(level=3, inner=npy)")
 * @has_record: %FALSE when the codec writes nothing for this leaf
 * @offset: the record's first byte in the file (without a record: where
 *   the next record starts)
 * @size: the record's length in bytes (0 without a record)
 *
 * One leaf of the index, in the tree's leaf order.  Owned by the #LfFile.
 *
 * Since: 0.2
 */
typedef struct {
  const char *path;
  LfNodeKind kind;
  LfDType dtype;
  guint ndim;
  const gsize *shape;
  const char *codec;
  gboolean has_record;
  guint64 offset;
  guint64 size;
  /*< private >*/
  gpointer reserved[4];
} LfFileEntry;

/**
 * LfFileReadFunc:
 * @user_data: the data given to lf_file_new_for_reader()
 * @buffer: (out caller-allocates) (array length=count): where to put the bytes
 * @count: how many bytes to read
 * @offset: where in the file to read from
 * @error: return location for a #GError
 *
 * Reads up to @count bytes at @offset, as pread() does.  Called from any
 * thread that reads the file, possibly from several at once.
 *
 * Returns: the number of bytes read (0 at the end of the file), or -1 with
 *   @error set.
 *
 * Since: 0.2
 */
typedef gssize (*LfFileReadFunc) (gpointer user_data, void *buffer, gsize count,
                                  guint64 offset, GError **error);

/**
 * lf_file_open:
 * @path: the file (".eqx" is added to a name without a suffix)
 * @like: (nullable): the tree the file was saved from, or its skeleton
 *   (abstract arrays are enough); %NULL to take the skeleton the manifest
 *   holds
 * @spec: (nullable): the spec the file was saved with; %NULL means the
 *   codecs the manifest names, or `npy` without a usable manifest
 * @flags: #LfFileFlags
 * @error: return location for a #GError, or %NULL
 *
 * Opens and indexes @path; lf_file_open_full() without `is_leaf`.
 *
 * Returns: (transfer full) (nullable): the open file, or %NULL with the
 *   errors of lf_file_open_full().
 *
 * Since: 0.2
 */
LF_API LfFile *lf_file_open (const char *path, LfNode *like, LfSpec *spec, LfFileFlags flags,
                             GError **error);

/**
 * lf_file_open_full:
 * @path: the file (".eqx" is added to a name without a suffix)
 * @like: (nullable): as for lf_file_open()
 * @spec: (nullable): as for lf_file_open()
 * @is_leaf: (nullable) (scope call): makes nodes of @like leaves, as on save
 * @is_leaf_data: (closure): data for @is_leaf
 * @flags: #LfFileFlags
 * @error: return location for a #GError, or %NULL
 *
 * Opens @path and indexes its records.  A manifest is used when it is well
 * formed, of a version this leafio reads, describes a file of @path's
 * size, and names the same leaves (paths, kinds, array dtypes and shapes),
 * records and, when @spec is given, codecs as @like and @spec give;
 * otherwise it is reported with a g_warning() and the records are
 * described one by one.  Each record is checked against its leaf of @like
 * as a load checks it.  The manifest's checksums are checked as records
 * are read.  With %LF_FILE_PARTIAL, a record that cannot be described and
 * bytes after the last record do not fail the open: see #LfFileFlags.
 *
 * Returns: (transfer full) (nullable): the open file, or %NULL with
 *   %LF_ERROR_IO (the file cannot be opened or read), %LF_ERROR_FAILED (no
 *   @like and no usable manifest), %LF_ERROR_MISMATCH (a record does not
 *   fit its leaf of @like), %LF_ERROR_TRUNCATED, %LF_ERROR_CORRUPT or
 *   another codec error naming the record, its offset and leaf path,
 *   %LF_ERROR_TRAILING_DATA (bytes after the last record), %LF_ERROR_SPEC.
 *
 * Since: 0.2
 */
LF_API LfFile *lf_file_open_full (const char *path, LfNode *like, LfSpec *spec,
                                  LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                  LfFileFlags flags, GError **error);

/**
 * lf_file_new_for_reader:
 * @name: what messages call the file
 * @size: the file's length in bytes
 * @read_func: (scope notified): reads bytes at an offset; must be
 *   thread-safe when the file is read from several threads
 * @user_data: (closure): data for @read_func
 * @destroy: (nullable): frees @user_data when the file goes
 * @like: the tree the file was saved from, or its skeleton
 * @spec: (nullable): the spec the file was saved with (%NULL: `npy`)
 * @is_leaf: (nullable) (scope call): makes nodes of @like leaves
 * @is_leaf_data: (closure): data for @is_leaf
 * @error: return location for a #GError, or %NULL
 *
 * Indexes a file reached through @read_func (object storage, a range
 * request, a test that counts bytes) by describing its records.  On
 * failure @destroy has already been called.
 *
 * Returns: (transfer full) (nullable): the open file, or %NULL with the
 *   errors of lf_file_open_full() (%LF_ERROR_IO being @read_func's).
 *
 * Since: 0.2
 */
LF_API LfFile *lf_file_new_for_reader (const char *name, guint64 size,
                                       LfFileReadFunc read_func, gpointer user_data,
                                       GDestroyNotify destroy, LfNode *like, LfSpec *spec,
                                       LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                       GError **error);

/**
 * lf_file_ref:
 * @file: an open file
 *
 * Adds a reference to @file.
 *
 * Returns: (transfer full): @file.
 *
 * Since: 0.2
 */
LF_API LfFile *lf_file_ref (LfFile *file);

/**
 * lf_file_unref:
 * @file: (nullable) (transfer full): an open file
 *
 * Drops a reference; the last one closes the file.  Leaves read with
 * %LF_FILE_MMAP keep the mapping alive on their own.
 *
 * Since: 0.2
 */
LF_API void lf_file_unref (LfFile *file);

/**
 * lf_file_get_name:
 * @file: an open file
 *
 * The name of @file in messages.
 *
 * Returns: (transfer none): the file's path or name, as messages give it.
 *
 * Since: 0.2
 */
LF_API const char *lf_file_get_name (LfFile *file);

/**
 * lf_file_get_like:
 * @file: an open file
 *
 * The tree whose leaves the index describes.
 *
 * Returns: (transfer none): the tree the file is read with: the @like given
 *   to lf_file_open(), or the manifest's skeleton.
 *
 * Since: 0.2
 */
LF_API LfNode *lf_file_get_like (LfFile *file);

/**
 * lf_file_is_indexed_from_manifest:
 * @file: an open file
 *
 * Tells how lf_file_open() built the index.
 *
 * Returns: %TRUE when the index came from the manifest, %FALSE when the
 *   records were described one by one.
 *
 * Since: 0.2
 */
LF_API gboolean lf_file_is_indexed_from_manifest (LfFile *file);

/**
 * lf_file_get_index_error:
 * @file: an open file
 *
 * Why a file opened with %LF_FILE_PARTIAL could not be indexed to its end:
 * the error naming the first record that could not be described, or the
 * bytes after the last record.
 *
 * Returns: (transfer none) (nullable): the error, valid while @file is, or
 *   %NULL when every record was indexed.
 *
 * Since: 0.2
 */
LF_API const GError *lf_file_get_index_error (LfFile *file);

/**
 * lf_file_get_n_entries:
 * @file: an open file
 *
 * The size of the index.
 *
 * Returns: the number of leaves of the tree, records or not.
 *
 * Since: 0.2
 */
LF_API gsize lf_file_get_n_entries (LfFile *file);

/**
 * lf_file_get_entry:
 * @file: an open file
 * @index: a leaf index, below lf_file_get_n_entries()
 *
 * One leaf of the index, in the tree's leaf order.
 *
 * Returns: (transfer none): leaf @index of the index, valid while @file is.
 *
 * Since: 0.2
 */
LF_API const LfFileEntry *lf_file_get_entry (LfFile *file, gsize index);

/**
 * lf_file_lookup:
 * @file: an open file
 * @path: a leaf's keystr path, as lf_path_to_string() writes it
 *
 * Finds a leaf of the index by its exact path text (lf_file_read()
 * also takes other spellings of a path, and subtrees).
 *
 * Returns: (transfer none) (nullable): the leaf at @path, or %NULL.
 *
 * Since: 0.2
 */
LF_API const LfFileEntry *lf_file_lookup (LfFile *file, const char *path);

/**
 * lf_file_read:
 * @file: an open file
 * @path: the keystr path of a leaf or a subtree of the file's tree ("" for
 *   all of it; negative indices count from the end)
 * @error: return location for a #GError, or %NULL
 *
 * Loads the leaf or subtree at @path: each leaf with a record is read and
 * decoded by its codec, checked against its leaf of `like` as a load
 * checks it, and other leaves are `like`'s own (shared).  Only the bytes of
 * the records under @path are read.  Thread-safe.
 *
 * Returns: (transfer full) (nullable): the leaf or subtree, or %NULL with
 *   %LF_ERROR_PARSE (@path is not keystr text), %LF_ERROR_NOT_FOUND (no
 *   such node), %LF_ERROR_IO, %LF_ERROR_CHECKSUM (the record differs from
 *   what the manifest says), %LF_ERROR_MISMATCH or a codec's error, each
 *   naming the file, the record, its offset and leaf path; for a leaf past
 *   where a %LF_FILE_PARTIAL open stopped, that open's error.
 *
 * Since: 0.2
 */
LF_API LfNode *lf_file_read (LfFile *file, const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfFile, lf_file_unref)

G_END_DECLS
