/* Blocks of sharded leaves: describing them, checking that the ranks'
 * blocks fit together, and gathering them to one rank for codecs that
 * need the whole array. */
#include "config.h"
#include <string.h>
#include "mpi-private.h"

gboolean
_lf_mpi_block_describe (const LfMpiLeaf *leaf, LfDType dtype, gboolean need_data,
                        LfMpiBlock *block, GError **error)
{
  memset (block, 0, sizeof *block);
  LfNode *node = leaf->leaf;
  if (lf_node_get_kind (node) != LF_NODE_ARRAY || lf_array_get_ndim (node) == 0
      || (need_data && lf_array_is_abstract (node)))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                   "%s: a sharded leaf must be %s array with at least one axis, found %s%s",
                   _lf_mpi_leaf_name (leaf), need_data ? "a concrete" : "an",
                   lf_node_get_kind (node) == LF_NODE_ARRAY && lf_array_is_abstract (node)
                       ? "an abstract " : "",
                   lf_node_kind_name (lf_node_get_kind (node)));
      return FALSE;
    }
  if (dtype == LF_DTYPE_INVALID)
    dtype = lf_array_get_dtype (node);
  guint ndim = lf_array_get_ndim (node);
  const gsize *shape = lf_array_get_shape (node);
  gsize row_elements = 1;
  if (!lf_shape_n_elements (ndim - 1, shape + 1, &row_elements)
      || !g_size_checked_mul (&row_elements, row_elements, lf_dtype_size (dtype)))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_OVERFLOW, "%s: a row of the block is too large",
                   _lf_mpi_leaf_name (leaf));
      return FALSE;
    }
  block->ok = TRUE;
  block->dtype = dtype;
  block->row_offset = (gint64) leaf->shard->row_offset;
  block->rows = (gint64) shape[0];
  block->row_bytes = (gint64) row_elements;
  /* The row shape and global row count, whatever the dtype. */
  block->shape_hash = _lf_mpi_leaf_hash (LF_DTYPE_INVALID, ndim, shape,
                                         leaf->shard->global_rows);
  return TRUE;
}

static int
compare_by_row_offset (gconstpointer a, gconstpointer b)
{
  const LfMpiBlock *x = *(LfMpiBlock *const *) a, *y = *(LfMpiBlock *const *) b;
  return x->row_offset < y->row_offset ? -1 : x->row_offset > y->row_offset;
}

gboolean
_lf_mpi_blocks_check (const LfMpiLeaf *leaf, const LfMpiBlock *blocks, int n_ranks,
                      gsize stride, GError **error)
{
  const char *path = _lf_mpi_leaf_name (leaf);
  const LfMpiBlock *first = NULL;
  g_autoptr (GPtrArray) sorted = g_ptr_array_new ();
  for (int r = 0; r < n_ranks; r++)
    {
      const LfMpiBlock *b = (const LfMpiBlock *) ((const char *) blocks + stride * (gsize) r);
      if (!b->ok)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                       "%s: rank %d has no usable block of this sharded leaf", path, r);
          return FALSE;
        }
      if (first == NULL)
        first = b;
      else if (b->dtype != first->dtype || b->shape_hash != first->shape_hash
               || b->row_bytes != first->row_bytes)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                       "%s: ranks 0 and %d hold blocks of different dtypes, row shapes or "
                       "global row counts (%s vs %s)", path, r,
                       lf_dtype_name ((LfDType) first->dtype), lf_dtype_name ((LfDType) b->dtype));
          return FALSE;
        }
      if (b->rows > 0)
        g_ptr_array_add (sorted, (gpointer) b);
    }
  g_ptr_array_sort (sorted, compare_by_row_offset);
  guint64 next = 0;
  for (guint i = 0; i < sorted->len; i++)
    {
      const LfMpiBlock *b = g_ptr_array_index (sorted, i);
      int r = (int) (((const char *) b - (const char *) blocks) / (gssize) stride);
      if ((guint64) b->row_offset != next)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                       "%s: rank %d's block starts at row %" G_GINT64_FORMAT ", expected row %"
                       G_GUINT64_FORMAT " (blocks must tile the rows without gaps or overlaps)",
                       path, r, b->row_offset, next);
          return FALSE;
        }
      next += (guint64) b->rows;
    }
  if (next != leaf->shard->global_rows)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                   "%s: the ranks' blocks cover %" G_GUINT64_FORMAT " rows, expected %"
                   G_GUINT64_FORMAT, path, next, leaf->shard->global_rows);
      return FALSE;
    }
  return TRUE;
}

/* Sends or receives `size` bytes in pieces MPI's int counts can hold. */
static void
transfer (gboolean sending, guint8 *data, gsize size, int peer, MPI_Comm comm)
{
  const gsize chunk = (gsize) 1 << 30;
  for (gsize done = 0; done < size; done += chunk)
    {
      int count = (int) MIN (chunk, size - done);
      if (sending)
        MPI_Send (data + done, count, MPI_BYTE, peer, 0, comm);
      else
        MPI_Recv (data + done, count, MPI_BYTE, peer, 0, comm, MPI_STATUS_IGNORE);
    }
}

gboolean
_lf_mpi_gather_leaf (MPI_Comm comm, const char *file, const LfMpiLeaf *leaf, int owner,
                     LfNode **whole, GError **error)
{
  int rank = 0, n_ranks = 1;
  MPI_Comm_rank (comm, &rank);
  MPI_Comm_size (comm, &n_ranks);
  *whole = NULL;

  GError *local = NULL;
  LfMpiBlock mine;
  _lf_mpi_block_describe (leaf, LF_DTYPE_INVALID, TRUE, &mine, &local);
  g_autofree LfMpiBlock *all = g_new0 (LfMpiBlock, n_ranks);
  MPI_Allgather (&mine, sizeof mine, MPI_BYTE, all, sizeof mine, MPI_BYTE, comm);
  if (local == NULL)
    _lf_mpi_blocks_check (leaf, all, n_ranks, sizeof (LfMpiBlock), &local);
  if (!_lf_mpi_agree (comm, file, &local))
    {
      g_propagate_error (error, local);
      return FALSE;
    }

  LfNode *node = leaf->leaf;
  guint ndim = lf_array_get_ndim (node);
  g_autofree gsize *shape = g_new (gsize, ndim);
  memcpy (shape, lf_array_get_shape (node), ndim * sizeof (gsize));
  shape[0] = leaf->shard->global_rows;
  gsize total = 0;
  if (rank == owner && !lf_shape_n_bytes (lf_array_get_dtype (node), ndim, shape, &total))
    local = g_error_new (LF_ERROR, LF_ERROR_OVERFLOW, "%s: the gathered array is too large",
                         leaf->path_text);
  if (!_lf_mpi_agree (comm, file, &local))
    {
      g_propagate_error (error, local);
      return FALSE;
    }

  if (rank != owner)
    {
      transfer (TRUE, (guint8 *) lf_array_get_data (node),
                (gsize) (mine.rows * mine.row_bytes), owner, comm);
      return TRUE;
    }
  guint8 *data = g_malloc (MAX (total, 1));
  for (int r = 0; r < n_ranks; r++)
    {
      guint8 *at = data + (gsize) all[r].row_offset * (gsize) all[r].row_bytes;
      gsize size = (gsize) (all[r].rows * all[r].row_bytes);
      if (r == rank)
        memcpy (at, lf_array_get_data (node), size);
      else
        transfer (FALSE, at, size, r, comm);
    }
  *whole = lf_array_new_take (lf_array_get_dtype (node), ndim, shape, data);
  return TRUE;
}

LfNode *
_lf_mpi_global_like (const LfMpiLeaf *leaf)
{
  guint ndim = lf_array_get_ndim (leaf->leaf);
  g_autofree gsize *shape = g_new (gsize, ndim);
  memcpy (shape, lf_array_get_shape (leaf->leaf), ndim * sizeof (gsize));
  shape[0] = leaf->shard->global_rows;
  return lf_array_new_abstract (lf_array_get_dtype (leaf->leaf), ndim, shape);
}
