/* A benchmark workload of ../shared/bench/make_trees.py: its manifest
 * (WORKLOAD.json: keystr paths, dtypes, shapes, where each leaf's data lies
 * in the numpy stream WORKLOAD.eqx) and the leafio tree built from it.
 * Shared by leafio-bench (one process) and leafio-mpi-bench (each rank
 * holding a block of rows of every leaf). */
#pragma once

#include <leafio/leafio.h>

typedef struct {
  LfPath *path;
  char *path_text;      /* keystr text as lf_path_to_string writes it */
  LfDType dtype;
  guint ndim;
  gsize shape[LF_MAX_NDIM];
  guint64 data_offset;  /* first data byte in the numpy stream */
  gsize data_bytes;
} WorkloadLeaf;

typedef struct {
  GArray *leaves;       /* WorkloadLeaf, in the stream's order */
  char *sha256;         /* of the numpy stream */
  guint64 stream_bytes;
} Workload;

/* Rows [first_row, first_row + n_rows) of a leaf along axis 0.  Ignored
 * for 0-d leaves, which are always whole. */
typedef struct {
  guint64 first_row;
  guint64 n_rows;
} WorkloadBlock;

/* Reads `json_file`.  NULL with LF_ERROR_PARSE naming the file (and the
 * leaf) when it is not a make_trees.py manifest: a missing member, an
 * unknown dtype, a shape over LF_MAX_NDIM axes or whose byte count is not
 * data_bytes.  Free with workload_free. */
Workload *workload_load (const char *json_file, GError **error);
void workload_free (Workload *workload);   /* NULL is allowed */
guint workload_get_n_leaves (const Workload *workload);
WorkloadLeaf *workload_get_leaf (const Workload *workload, guint i);

/* One new leaf per manifest leaf: the rows of `blocks[i]` (NULL: whole
 * leaves; a block beyond the leaf's rows is LF_ERROR_MISMATCH), each in its own buffer read straight from `stream_file` with
 * pread (as numpy holds one buffer per array), or abstract arrays of the
 * blocks' shapes when `abstract`.  NULL with a G_FILE_ERROR naming the file
 * and leaf when the stream cannot be opened or is short.  Free with
 * workload_free_leaves. */
LfNode **workload_make_leaves (const Workload *workload, const char *stream_file,
                               const WorkloadBlock *blocks, gboolean abstract, GError **error);
void workload_free_leaves (const Workload *workload, LfNode **leaves);

/* The tree of containers the paths describe (index keys make lists, field
 * keys eqx.Module structs, dict keys dicts), holding `leaves` in manifest
 * order (references taken).  Transfer full. */
LfNode *workload_build_tree (const Workload *workload, LfNode **leaves);

/* Compares the leaves of `tree`, in order, with the rows of `blocks`
 * (NULL: whole leaves) in `stream_file`.  Sets *n_differ to the number of
 * leaves whose bytes differ (or that are missing or extra).  FALSE with a
 * G_FILE_ERROR when the stream cannot be read. */
gboolean workload_verify (const Workload *workload, const char *stream_file,
                          const WorkloadBlock *blocks, LfNode *tree, guint *n_differ,
                          GError **error);
