/**
 * SECTION:leafio-mpi
 * @title: Collective MPI saves and loads
 * @short_description: sharded saves and loads over MPI-IO
 * @include: leafio/leafio-mpi.h
 *
 * Link with `pkg-config --cflags --libs leafio-mpi` (libleafio-mpi, built
 * when configure finds MPI).  This header is not pulled in by leafio.h, so
 * the core keeps no MPI dependency.
 *
 * Every rank of `comm` calls the same function with a tree of the same
 * structure.  Each leaf is either
 *
 *   - owned by one rank, which encodes it: by default leaves are handed out
 *     in order to the rank with the fewest bytes so far (sizes from dtype
 *     and shape, so every rank computes the same assignment); or an owner
 *     callback decides.  On the other ranks the leaf only has to have the
 *     same kind, dtype and shape: an abstract array (lf_array_new_abstract)
 *     is enough, its data is never read;
 *   - or sharded along axis 0: each rank holds a contiguous block of rows,
 *     described by an LfShard (the global row count and the block's first
 *     row) registered under the leaf's keystr path in an LfMpiLayout.  The
 *     blocks of all ranks must tile the rows exactly; a rank may hold zero
 *     rows.
 *
 * The file is the serial format, byte for byte: a collective save gives
 * exactly the file lf_tree_serialise_leaves() writes for the gathered tree
 * with the same spec, whatever the codecs.  How a leaf is written follows
 * from what its codec declares (lf_codec_get_capabilities()), never from
 * its name:
 *
 *   - LF_CODEC_ROW_RANGES (npy, float16 over npy): every rank encodes its
 *     own rows of a sharded leaf and writes them at their offset; rank 0
 *     writes the record header for the global shape;
 *   - LF_CODEC_RAW_DATA (npy): arrays are written from their memory,
 *     without a copy;
 *   - LF_CODEC_OFFSET_DEPENDENT with a data alignment (npy(align=N)): the
 *     save lays out each record's padded header at its offset, so the file
 *     maps zero-copy like a serial one;
 *   - anything else (compressed, in-process codecs, a plugin's codec that
 *     needs the whole array): a sharded leaf's blocks are gathered to its
 *     owner rank first, which encodes it as a serial save does.
 * A codec whose records depend on their offset but which lacks
 * LF_CODEC_ROW_RANGES (so the save cannot reproduce its header) is refused
 * with LF_ERROR_UNSUPPORTED naming the leaf, the codec and what it lacks;
 * one that declares LF_CODEC_ROW_RANGES but writes another record for a
 * block fails the save with LF_ERROR_FAILED.
 *
 * Crash safety: the ranks write a temporary file beside the target with
 * MPI_File_write_at_all; rank 0 syncs it and renames it over the target,
 * then every rank waits at a barrier.  If anything fails on any rank, every
 * rank returns the same error (the first failing rank's message, prefixed
 * with "rank N: "), the temporary file is removed and the previous file is
 * untouched.
 *
 * Loading: rank 0 finds every record's length from the codec's
 * description of it (lf_codec_describe(), checked against `like` before
 * anything is decoded, as serial loads do; records of codecs that cannot
 * describe them are decoded once on rank 0) and broadcasts the offset
 * table; each rank then reads only the bytes of the leaves it loads:
 *
 *   - a sharded leaf (its `like` leaf is the block, e.g. an abstract array
 *     of shape (rows, ...)): only its rows when the codec declares
 *     LF_CODEC_ROW_RANGES and the record's header is the one it writes
 *     (not a big-endian or Fortran-order record numpy wrote elsewhere);
 *     otherwise the whole record, keeping its rows;
 *   - any other leaf: every rank loads it, unless the layout has an owner
 *     callback, in which case only the owner loads it and the other ranks
 *     keep `like`'s leaf (shared, as a skipping codec does).
 * The file may have been written by any number of ranks, or serially.
 *
 * Specs: any spec a serial save takes (one codec, a spec tree, path
 * rules); leaves get their codecs exactly as in a serial save
 * (lf_spec_foreach_leaf).
 *
 * Checkpoint directories: lf_mpi_checkpoint_manager_open() gives a
 * checkpoint manager (#LfCheckpointManager) whose steps the ranks save
 * and restore together with these functions; rank 0 commits them and
 * applies retention.
 */
#pragma once

#include <mpi.h>
#include <leafio/leafio.h>

G_BEGIN_DECLS

/**
 * LfShard:
 * @global_rows: the leaf's number of rows, over all ranks
 * @row_offset: the first row of this rank's block
 *
 * One rank's block of a leaf sharded along axis 0: rows [@row_offset,
 * @row_offset + rows of the local block) of @global_rows.
 *
 * Since: 0.1
 */
typedef struct {
  guint64 global_rows;
  guint64 row_offset;
} LfShard;

/**
 * LfMpiLayout:
 *
 * How the leaves of a tree are spread over the ranks.  Not thread-safe;
 * the same layout may be used for many saves and loads.
 *
 * Since: 0.1
 */
typedef struct _LfMpiLayout LfMpiLayout;

/**
 * LfMpiOwnerFunc:
 * @path: the leaf's path
 * @leaf: (transfer none): the calling rank's leaf (an abstract array on
 *   non-owners, say)
 * @n_ranks: the number of ranks
 * @user_data: the data given to lf_mpi_layout_set_owner_func()
 *
 * Picks the rank that owns a whole leaf.  Every rank must return the same
 * answer for the same path.
 *
 * Returns: the owner, 0 .. @n_ranks - 1.
 *
 * Since: 0.1
 */
typedef int (*LfMpiOwnerFunc) (const LfPath *path, LfNode *leaf, int n_ranks,
                               gpointer user_data);

/**
 * lf_mpi_layout_new:
 *
 * Makes a layout.
 *
 * Returns: (transfer full): a layout with no shards and the default,
 *   byte-balanced owners.
 *
 * Since: 0.1
 */
LF_API LfMpiLayout *lf_mpi_layout_new (void);
/**
 * lf_mpi_layout_free:
 * @layout: (nullable) (transfer full): a layout
 *
 * Frees @layout.
 *
 * Since: 0.1
 */
LF_API void lf_mpi_layout_free (LfMpiLayout *layout);

/**
 * lf_mpi_layout_add_shard:
 * @layout: a layout
 * @path: the leaf's keystr path (".layers[0].weight")
 * @global_rows: the leaf's number of rows over all ranks
 * @row_offset: the first row this rank holds
 * @error: return location for a #GError, or %NULL
 *
 * Declares the leaf at @path sharded along axis 0.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_PARSE for a malformed path,
 *   %LF_ERROR_DUPLICATE_NAME when the path already has a shard.
 *
 * Since: 0.1
 */
LF_API gboolean lf_mpi_layout_add_shard (LfMpiLayout *layout, const char *path,
                                         guint64 global_rows, guint64 row_offset,
                                         GError **error);
/**
 * lf_mpi_layout_lookup_shard:
 * @layout: a layout
 * @path: keystr text as lf_path_to_string() writes it
 *
 * The shard of a leaf, if it is sharded.
 *
 * Returns: (transfer none) (nullable): the shard declared for @path, or
 *   %NULL.
 *
 * Since: 0.1
 */
LF_API const LfShard *lf_mpi_layout_lookup_shard (const LfMpiLayout *layout,
                                                  const char *path);
/**
 * lf_mpi_layout_set_owner_func:
 * @layout: a layout
 * @func: (nullable): picks owners; %NULL restores the default
 * @user_data: for @func
 *
 * Replaces the default byte-balanced assignment of whole leaves, and on
 * load makes only the owner load each whole leaf.
 *
 * Since: 0.1
 */
LF_API void lf_mpi_layout_set_owner_func (LfMpiLayout *layout, LfMpiOwnerFunc func,
                                          gpointer user_data);

/**
 * lf_mpi_even_rows:
 * @global_rows: the number of rows
 * @rank: a rank
 * @n_ranks: the number of ranks
 * @row_offset: (out) (optional): the rank's first row
 * @n_rows: (out) (optional): the rank's number of rows
 *
 * The even split of @global_rows over @n_ranks: rank r gets rows
 * [r * G / n, (r + 1) * G / n).
 *
 * Since: 0.1
 */
LF_API void lf_mpi_even_rows (guint64 global_rows, int rank, int n_ranks,
                              guint64 *row_offset, guint64 *n_rows);

/**
 * lf_mpi_tree_serialise_leaves:
 * @comm: the communicator; every rank calls
 * @path: the file; ".eqx" is added when it has no suffix
 * @tree: this rank's tree
 * @spec: (nullable): which codec writes each leaf; %NULL: the default codec
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 * @layout: (nullable): shards and owners; %NULL: no shards, balanced
 *   owners
 * @error: return location for a #GError, or %NULL
 *
 * Collective save.  Any save removes the previous file's manifest first.
 *
 * Returns: %TRUE on every rank, or %FALSE with the same error on every
 *   rank (the first failing rank's message, prefixed with "rank N: "):
 *   %LF_ERROR_IO, %LF_ERROR_MISMATCH (ranks disagree on a leaf),
 *   %LF_ERROR_SPEC, %LF_ERROR_UNSUPPORTED, or a codec's error.
 *
 * Since: 0.1
 */
LF_API gboolean lf_mpi_tree_serialise_leaves (MPI_Comm comm, const char *path,
                                              LfNode *tree, LfSpec *spec,
                                              LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                              const LfMpiLayout *layout, GError **error);
/**
 * lf_mpi_tree_serialise_leaves_full:
 * @comm: the communicator; every rank calls
 * @path: the file; ".eqx" is added when it has no suffix
 * @tree: this rank's tree
 * @spec: (nullable): which codec writes each leaf; %NULL: the default codec
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 * @layout: (nullable): shards and owners
 * @flags: as for lf_tree_serialise_leaves_full()
 * @error: return location for a #GError, or %NULL
 *
 * lf_mpi_tree_serialise_leaves() with options.  With %LF_SAVE_MANIFEST
 * rank 0 writes, once the file is in place, the manifest a serial save of
 * the gathered tree writes (it reads the file back to checksum it).
 *
 * Returns: %TRUE on every rank, or %FALSE with the same error on every
 *   rank, as for lf_mpi_tree_serialise_leaves().
 *
 * Since: 0.1
 */
LF_API gboolean lf_mpi_tree_serialise_leaves_full (MPI_Comm comm, const char *path,
                                                   LfNode *tree, LfSpec *spec,
                                                   LfIsLeafFunc is_leaf,
                                                   gpointer is_leaf_data,
                                                   const LfMpiLayout *layout,
                                                   LfSaveFlags flags, GError **error);

/**
 * lf_mpi_tree_deserialise_leaves:
 * @comm: the communicator; every rank calls
 * @path: the file; ".eqx" is added when it has no suffix
 * @like: this rank's `like` (a sharded leaf's `like` is its block)
 * @spec: (nullable): which codec reads each leaf; %NULL: the default codec
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 * @layout: (nullable): shards and owners
 * @error: return location for a #GError, or %NULL
 *
 * Collective load.
 *
 * Returns: (transfer full) (nullable): a new tree shaped like @like, or
 *   %NULL with the same error on every rank: %LF_ERROR_IO,
 *   %LF_ERROR_MISMATCH, %LF_ERROR_TRAILING_DATA, %LF_ERROR_SPEC, or a
 *   codec's error.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_mpi_tree_deserialise_leaves (MPI_Comm comm, const char *path,
                                               LfNode *like, LfSpec *spec,
                                               LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                               const LfMpiLayout *layout, GError **error);

/**
 * lf_mpi_checkpoint_manager_open:
 * @comm: the communicator; every rank calls
 * @directory: the checkpoint directory: the same path on every rank, on a
 *   file system every rank sees
 * @layout: (nullable): the shards and owners of every save and restore
 *   (as for lf_mpi_tree_serialise_leaves()); %NULL: no shards, balanced
 *   owners.  Kept, not copied: it must outlive the manager and not change
 *   while a save runs
 * @error: return location for a #GError, or %NULL
 *
 * Collective: opens a checkpoint manager (#LfCheckpointManager) whose
 * steps every rank of @comm saves and restores together with
 * lf_mpi_tree_serialise_leaves_full() (with %LF_SAVE_MANIFEST) and
 * lf_mpi_tree_deserialise_leaves().  A step's files are byte for byte
 * those a serial manager writes for the gathered tree with the same spec:
 * the .eqx and its manifest.
 *
 * Rank 0 leads: it holds the directory's lock (from here to
 * lf_checkpoint_manager_close(), so a step's manifest is written under
 * it), writes the commit records, syncs the directory and applies the
 * retention policies (rank 0's; set the same ones everywhere).  The other
 * ranks take no lock and write nothing but their part of the data; after
 * each change they take rank 0's list of steps, so
 * lf_checkpoint_manager_list(), lf_checkpoint_manager_get_latest_step()
 * and restoring %LF_CHECKPOINT_LATEST agree on every rank (and need no
 * communication).
 *
 * Saving (also asynchronously), waiting, restoring, removing and closing
 * (lf_checkpoint_manager_close() or lf_checkpoint_manager_free()) are
 * collective: every rank calls them, in the same order, with the same
 * step, and gets the same outcome.
 * An error on any rank is every rank's error, naming the rank (`rank 1:
 * ...`), and a save that fails anywhere leaves no step.  The manager
 * communicates on a duplicate of @comm, freed when it closes: close it
 * before `MPI_Finalize`.
 *
 * Asynchronous saves run their collectives on the manager's thread, which
 * MPI allows only when the program asked `MPI_Init_thread` for
 * MPI_THREAD_MULTIPLE and got it.  Otherwise
 * lf_checkpoint_manager_save_async() saves before it returns and reports
 * the outcome as an asynchronous save does (by
 * lf_checkpoint_manager_wait(), the next save or closing), so the same
 * training loop works either way.
 *
 * Returns: (transfer full) (nullable): the manager, or %NULL with the same
 *   error on every rank: those of lf_checkpoint_manager_open()
 *   (%LF_ERROR_BUSY: another manager has the directory open) or
 *   %LF_ERROR_MISMATCH (the ranks name different directories).
 *
 * Since: 0.2
 */
LF_API LfCheckpointManager *lf_mpi_checkpoint_manager_open (MPI_Comm comm,
                                                            const char *directory,
                                                            const LfMpiLayout *layout,
                                                            GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfMpiLayout, lf_mpi_layout_free)

G_END_DECLS
