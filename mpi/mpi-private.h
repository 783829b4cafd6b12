/* Internals shared by the files of libleafio-mpi. */
#pragma once

#include <leafio/leafio-mpi.h>

struct _LfMpiLayout {
  GHashTable *shards;          /* normalised keystr text -> LfShard * */
  LfMpiOwnerFunc owner_func;
  gpointer owner_data;
};

/* ---- what the save and load may do with a codec's records ------------------- */

/* The largest data alignment laid out (npy's own limit), and a buffer that
 * holds any header formatted with it. */
#define LF_MPI_ALIGN_MAX 4096
#define LF_MPI_HEADER_MAX (LF_NPY_HEADER_MAX + LF_MPI_ALIGN_MAX + 16)

/* Read from the codec's declared capabilities, never from its name. */
typedef struct {
  /* LF_CODEC_ROW_RANGES (and a describe slot): a sharded leaf's rows are
   * encoded and decoded block by block, behind a header the library
   * formats for the whole array. */
  gboolean row_ranges;
  /* Also LF_CODEC_RAW_DATA, on a little-endian host: an array's data part
   * is its memory, written without a copy. */
  gboolean raw_data;
  /* LF_CODEC_OFFSET_DEPENDENT: the data alignment the header is padded for
   * at the record's offset (npy(align=N)); 0 for numpy's layout. */
  guint align;
  /* Non-NULL when the record depends on its offset in a way a collective
   * save cannot lay out: the capability the codec lacks, in words. */
  const char *cannot_lay_out;
} LfMpiRecordKind;

void _lf_mpi_record_kind_init (LfMpiRecordKind *kind, const LfCodec *codec);

/* The header a ROW_RANGES record of `dtype` (the stored dtype) and
 * `ndim`/`shape` has when it starts at `offset`: its length, written to
 * `buffer` (LF_MPI_HEADER_MAX bytes), or 0 when it does not fit. */
gsize _lf_mpi_format_header (const LfMpiRecordKind *kind, LfDType dtype, guint ndim,
                             const gsize *shape, guint64 offset, char *buffer);

/* ---- the plan: every leaf of a tree with its codec ---------------------------- */

typedef struct {
  LfPath *path;          /* owned */
  char *path_text;       /* keystr text, "" for the root (owned) */
  LfNode *leaf;          /* borrowed from the tree */
  LfCodec *codec;        /* borrowed from the spec */
  const LfShard *shard;  /* borrowed from the layout, or NULL */
  LfMpiRecordKind kind;  /* of `codec` */
} LfMpiLeaf;

typedef struct {
  GArray *leaves;        /* LfMpiLeaf, in the walker's order */
  LfSpec *spec;          /* a reference: keeps the codecs alive */
} LfMpiPlan;

/* Lists the leaves of `tree` in the serial walker's order, each with the
 * codec `spec` (NULL: LF_CODEC_DEFAULT) gives it and its shard in `layout`
 * (may be NULL).  Any spec kind works, path rules included, as in a serial
 * save.  LF_ERROR_SPEC when a spec tree is not a prefix of `tree`. */
LfMpiPlan *_lf_mpi_plan_new (LfNode *tree, LfSpec *spec, LfIsLeafFunc is_leaf,
                             gpointer is_leaf_data, const LfMpiLayout *layout,
                             GError **error);
void _lf_mpi_plan_free (LfMpiPlan *plan);
/* The leaf's path for messages: its keystr text, or "root". */
const char *_lf_mpi_leaf_name (const LfMpiLeaf *leaf);
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

/* FNV-1a over `size` bytes, folded into `*hash` (start from
 * LF_MPI_HASH_INIT): enough to catch ranks that disagree. */
#define LF_MPI_HASH_INIT 1469598103934665603ull
void _lf_mpi_hash (guint64 *hash, gconstpointer data, gsize size);
/* The hash of an array of `dtype` whose first axis has `rows` rows and
 * whose others are `shape`'s. */
guint64 _lf_mpi_leaf_hash (LfDType dtype, guint ndim, const gsize *shape, guint64 rows);

/* ---- records ---------------------------------------------------------------- */

/* `record`, the leaf's codec's record for `node` (an array or a scalar)
 * written at offset 0, split as LF_CODEC_ROW_RANGES promises: checks it
 * is the header _lf_mpi_format_header writes for the stored dtype and
 * `node`'s shape, followed by exactly the data, and returns the data part
 * (transfer full) and the stored dtype.  LF_ERROR_FAILED naming the leaf
 * and the codec when the record breaks that promise. */
GBytes *_lf_mpi_record_data (const LfMpiLeaf *leaf, LfNode *node, GBytes *record,
                             LfDType *stored_dtype, GError **error);

/* ---- the load's offset table ---------------------------------------------------- */

/* One leaf's record, as rank 0 finds it and broadcasts it (guint64s). */
typedef struct {
  guint64 has_record;
  guint64 index;        /* the record's number in the file */
  guint64 offset;
  guint64 size;
  /* Sharded leaves whose codec splits by rows: */
  guint64 laid_out;     /* the header is the codec's own: rows can be read alone */
  guint64 header_size;
  guint64 stored_dtype;
  guint64 leaf_hash;    /* of the leaf the record decodes to (_lf_mpi_leaf_hash) */
} LfMpiEntry;

/* Rank 0: fills `table` (one entry a leaf of `plan`) from the file
 * `target`.  LF_ERROR_TRUNCATED, LF_ERROR_TRAILING_DATA, a description
 * that does not fit `like` or a codec's error, prefixed with the record. */
gboolean _lf_mpi_scan_file (const char *target, const LfMpiPlan *plan, LfMpiEntry *table,
                            GError **error);
/* "record N at offset O (PATH): " before the error's message. */
void _lf_mpi_prefix_record (GError **error, const LfMpiLeaf *leaf, const LfMpiEntry *entry);
/* LF_ERROR_MISMATCH when the block `like` holds for a sharded leaf is no
 * array, or lies beyond the array's rows. */
gboolean _lf_mpi_sharded_like_ok (const LfMpiLeaf *leaf, GError **error);

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

/* What rank 0 does once the file is in place, still holding the
 * directory's lock: write its manifest. */
typedef gboolean (*LfMpiCommittedFunc) (gpointer user_data, GError **error);

/* Collective: creates a temporary file beside `target` (rank 0), writes
 * every rank's pieces into it with MPI_File_write_at_all, and has rank 0
 * sync it and rename it over `target`.  Rank 0 holds the directory's lock
 * (lf_atomic_file_lock_directory) from removing the old manifest, through
 * the rename, to `committed` (nullable), as path saves do.  Any failure:
 * the same error on every rank and the temporary file removed. */
gboolean _lf_mpi_write_file (MPI_Comm comm, const char *target, GArray *pieces,
                             gboolean sync, LfMpiCommittedFunc committed,
                             gpointer committed_data, GError **error);
