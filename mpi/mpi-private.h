/* Internals shared by the files of libleafio-mpi. */
#pragma once

#include <leafio/leafio-mpi.h>

struct _LfMpiLayout {
  GHashTable *shards;          /* normalised keystr text -> LfShard * */
  LfMpiOwnerFunc owner_func;
  gpointer owner_data;
};

/* ---- the plan: every leaf of a tree with its codec ---------------------------- */

typedef struct {
  LfPath *path;          /* owned */
  char *path_text;       /* keystr text, "" for the root (owned) */
  LfNode *leaf;          /* borrowed from the tree */
  LfCodec *codec;        /* borrowed from the spec */
  const LfShard *shard;  /* borrowed from the layout, or NULL */
} LfMpiLeaf;

typedef struct {
  GArray *leaves;        /* LfMpiLeaf, in the walker's order */
  LfSpec *spec;          /* a reference: keeps the codecs alive */
} LfMpiPlan;

/* Lists the leaves of `tree` in the serial walker's order, each with the
 * codec `spec` (NULL: npy) gives it and its shard in `layout` (may be NULL).
 * LF_ERROR_SPEC when a spec tree is not a prefix of `tree`,
 * LF_ERROR_UNSUPPORTED for path-rule specs. */
LfMpiPlan *_lf_mpi_plan_new (LfNode *tree, LfSpec *spec, LfIsLeafFunc is_leaf,
                             gpointer is_leaf_data, const LfMpiLayout *layout,
                             GError **error);
void _lf_mpi_plan_free (LfMpiPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfMpiPlan, _lf_mpi_plan_free)

/* A tree shaped like `tree` whose i-th leaf is `replacements[i]` (a new
 * reference), or the original leaf where that is NULL.  Uses the same
 * is_leaf as the plan. */
LfNode *_lf_mpi_rebuild (LfNode *tree, LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                         LfNode **replacements);

/* ---- agreeing on errors ---------------------------------------------------- */

/* Collective.  `*error` is this rank's error or NULL.  Returns TRUE when no
 * rank failed.  Otherwise every rank's `*error` becomes the lowest failing
 * rank's error, prefixed "rank N: FILE: " (the same code and text
 * everywhere; `file` NULL leaves out the file), and FALSE is returned.
 * `error` itself must not be NULL. */
gboolean _lf_mpi_agree (MPI_Comm comm, const char *file, GError **error);

/* An LF_ERROR_IO error from an MPI error code: "PATH: WHAT: MPI's text". */
void _lf_mpi_set_error (GError **error, int mpi_code, const char *path, const char *what);

/* ---- record kinds ------------------------------------------------------------ */

/* TRUE when `codec` writes each array as one plain npy record whose data is
 * an element-wise function of the array's (npy, npy(align=N), and float16
 * over plain npy): a sharded leaf's rows can then be encoded and decoded
 * block by block. */
gboolean _lf_mpi_codec_is_row_wise (const LfCodec *codec);
/* N for npy(align=N), whose record headers the save lays out itself at
 * each record's offset; 0 for any other codec. */
guint _lf_mpi_npy_align (const LfCodec *codec);
/* TRUE when the codec's bytes depend on where the record starts in a way
 * the collective save cannot lay out (an align option other than npy's
 * own, e.g. float16(inner=npy(align=N))). */
gboolean _lf_mpi_codec_depends_on_offset (const LfCodec *codec);


/* Reads exactly `count` bytes at `offset` of `fd` (LF_ERROR_TRUNCATED at
 * the end of the file, LF_ERROR_IO otherwise; both name `path`). */
gboolean _lf_mpi_pread_all (int fd, void *buffer, gsize count, guint64 offset,
                            const char *path, GError **error);

/* ---- sharded blocks ------------------------------------------------------------ */

/* One rank's block of a sharded leaf, as exchanged between ranks. */
typedef struct {
  gint64 ok;          /* FALSE: this rank could not describe its block */
  gint64 dtype;
  gint64 row_offset;
  gint64 rows;
  gint64 row_bytes;   /* bytes per row */
  guint64 shape_hash; /* of the dims after the first */
} LfMpiBlock;

/* Describes the local block `leaf` of the sharded leaf with the array's own
 * dtype (`dtype` LF_DTYPE_INVALID) or with another element type (the
 * record's).  LF_ERROR_MISMATCH naming the path when the leaf is not an
 * array with at least one axis (or abstract, with `need_data`). */
gboolean _lf_mpi_block_describe (const LfMpiLeaf *leaf, LfDType dtype, gboolean need_data,
                                 LfMpiBlock *block, GError **error);
/* Checks the blocks of all ranks tile rows [0, global_rows) exactly, with
 * one dtype and one row shape.  LF_ERROR_MISMATCH naming the path and the
 * ranks at fault.  Deterministic: every rank reaches the same verdict. */
gboolean _lf_mpi_blocks_check (const LfMpiLeaf *leaf, const LfMpiBlock *blocks,
                               int n_ranks, gsize stride, GError **error);

/* The whole array a sharded leaf stands for, as an abstract array: the
 * block's dtype with the global row count (transfer full). */
LfNode *_lf_mpi_global_like (const LfMpiLeaf *leaf);

/* Collective: gathers the blocks of a sharded leaf to `owner`, which gets
 * the whole array (transfer full); other ranks get NULL.  FALSE with the
 * same error on every rank when the blocks do not fit together. */
gboolean _lf_mpi_gather_leaf (MPI_Comm comm, const char *file, const LfMpiLeaf *leaf, int owner,
                              LfNode **whole, GError **error);

/* ---- the temporary file ------------------------------------------------------------ */

typedef struct {
  guint64 offset;       /* in the file */
  const guint8 *data;
  gsize size;
} LfMpiPiece;

/* Collective: creates a temporary file beside `target` (rank 0), writes
 * every rank's pieces into it with MPI_File_write_at_all, and has rank 0
 * sync it and rename it over `target`.  Any failure: the same error on
 * every rank and the temporary file removed. */
gboolean _lf_mpi_write_file (MPI_Comm comm, const char *target, GArray *pieces,
                             gboolean sync, GError **error);
