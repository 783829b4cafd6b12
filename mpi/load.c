/* The collective load.  Rank 0 finds where every record starts (scan.c)
 * and broadcasts the table; then each rank reads
 * only the bytes of the leaves it loads: its rows of sharded leaves, and
 * whole leaves (all of them, or only those it owns when the layout has an
 * owner callback). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "mpi-private.h"

typedef struct {
  MPI_Comm comm;
  int rank, n_ranks;
  const char *target;
  int fd;
  LfMpiPlan *plan;
  const LfMpiLayout *layout;
  LfMpiEntry *table;
} Load;

/* Reads from this size on go into pooled buffers (mappings of their own). */
#define POOLED_BUFFER_MIN ((gsize) 1 << 20)
/* ---- every rank: its leaves ------------------------------------------------------ */

/* A buffer for `size` bytes that lie at `file_offset` in the file: big
 * ones from the serial loader's pool (placed for a fast copy, recycled),
 * small ones and any the pool cannot map from the heap. */
static GBytes *
new_buffer (gsize size, guint64 file_offset, guint8 **data)
{
  GBytes *bytes = size >= POOLED_BUFFER_MIN ? lf_read_buffer_new (size, file_offset, data) : NULL;
  if (bytes != NULL)
    return bytes;
  *data = g_malloc (MAX (size, 1));
  return g_bytes_new_take (*data, size);
}

static GBytes *
read_bytes (Load *l, guint64 offset, gsize size, GError **error)
{
  guint8 *buffer;
  g_autoptr (GBytes) bytes = new_buffer (size, offset, &buffer);
  if (!_lf_mpi_pread_all (l->fd, buffer, size, offset, l->target, error))
    return NULL;
  return g_steal_pointer (&bytes);
}

/* Decodes `bytes` with the leaf's codec for `like`; the codec must use
 * every byte. */
static LfNode *
decode (Load *l, const LfMpiLeaf *leaf, GBytes *bytes, LfNode *like, GError **error)
{
  g_autoptr (LfStream) stream = lf_stream_new_for_bytes (bytes);
  lf_stream_set_name (stream, l->target);
  g_autoptr (LfNode) value = lf_codec_deserialise (leaf->codec, stream, leaf->path, like,
                                                   error);
  if (value == NULL)
    return NULL;
  if (lf_stream_tell (stream) != g_bytes_get_size (bytes))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "the record is %" G_GSIZE_FORMAT " bytes long but codec %s read %"
                   G_GUINT64_FORMAT, g_bytes_get_size (bytes), lf_codec_get_name (leaf->codec),
                   lf_stream_tell (stream));
      return NULL;
    }
  return g_steal_pointer (&value);
}

/* This rank's rows of a record whose codec works row by row
 * (LF_CODEC_ROW_RANGES) and whose header is the codec's own, as rank 0
 * found: only the rows are read, and handed to the codec as a record of
 * their own. */
static LfNode *load_rows_of_whole (Load *l, const LfMpiLeaf *leaf, const LfMpiEntry *entry,
                                   GError **error);

/* When this rank's `like` is not the array rank 0 checked the record
 * against, it checks the record's description itself. */
static gboolean
check_record_here (Load *l, const LfMpiLeaf *leaf, const LfMpiEntry *entry, GError **error)
{
  guint ndim = lf_array_get_ndim (leaf->leaf);
  const gsize *shape = lf_array_get_shape (leaf->leaf);
  if (_lf_mpi_leaf_hash (lf_array_get_dtype (leaf->leaf), ndim, shape,
                         leaf->shard->global_rows) == entry->leaf_hash)
    return TRUE;
  if (lseek (l->fd, (off_t) entry->offset, SEEK_SET) < 0)
    {
      int saved = errno;
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "cannot seek: %s", g_strerror (saved));
      return FALSE;
    }
  g_autoptr (LfStream) stream = lf_stream_new_for_fd (l->fd, FALSE);
  lf_stream_set_name (stream, l->target);
  g_autoptr (LfNode) whole = _lf_mpi_global_like (leaf);
  g_autoptr (LfRecordInfo) info = lf_record_info_new ();
  return lf_codec_describe (leaf->codec, stream, whole, info, error)
         && lf_record_info_check_like (info, whole, 0, error);
}

static LfNode *
load_rows (Load *l, const LfMpiLeaf *leaf, const LfMpiEntry *entry, GError **error)
{
  if (!entry->laid_out)
    return load_rows_of_whole (l, leaf, entry, error);
  LfMpiBlock block;
  if (!check_record_here (l, leaf, entry, error)
      || !_lf_mpi_block_describe (leaf, (LfDType) entry->stored_dtype, FALSE, &block, error))
    return NULL;
  LfNode *like = leaf->leaf;
  char block_header[LF_MPI_HEADER_MAX];
  gsize header_length = _lf_mpi_format_header (&leaf->kind, (LfDType) entry->stored_dtype,
                                              lf_array_get_ndim (like),
                                              lf_array_get_shape (like), 0, block_header);
  if (header_length == 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_OVERFLOW, "the record header of a block is too long");
      return NULL;
    }
  gsize data_size = (gsize) block.rows * (gsize) block.row_bytes;
  guint64 data_offset = entry->offset + entry->header_size
                        + (guint64) leaf->shard->row_offset * (guint64) block.row_bytes;
  /* The block's header, then its rows (placed as if the header preceded
   * them in the file, for a fast copy of the rows). */
  guint8 *buffer;
  g_autoptr (GBytes) record = new_buffer (header_length + data_size,
                                          data_offset - MIN (header_length, data_offset),
                                          &buffer);
  memcpy (buffer, block_header, header_length);
  if (!_lf_mpi_pread_all (l->fd, buffer + header_length, data_size, data_offset, l->target,
                          error))
    return NULL;
  return decode (l, leaf, record, like, error);
}

/* A sharded leaf whose codec needs the whole array: decode it all, keep
 * this rank's rows. */
static LfNode *
load_rows_of_whole (Load *l, const LfMpiLeaf *leaf, const LfMpiEntry *entry, GError **error)
{
  g_autoptr (GBytes) bytes = read_bytes (l, entry->offset, entry->size, error);
  if (bytes == NULL)
    return NULL;
  g_autoptr (LfNode) like = _lf_mpi_global_like (leaf);
  g_autoptr (LfNode) whole = decode (l, leaf, bytes, like, error);
  if (whole == NULL)
    return NULL;
  g_autoptr (LfNode) fitted = lf_codec_fit_to_like (like, whole, error);
  if (fitted == NULL)
    return NULL;
  gsize row_bytes = lf_array_get_n_bytes (whole) / MAX (leaf->shard->global_rows, 1);
  const guint8 *data = lf_array_get_data (whole);
  return lf_array_new_copy (lf_array_get_dtype (whole), lf_array_get_ndim (leaf->leaf),
                            lf_array_get_shape (leaf->leaf),
                            data + row_bytes * leaf->shard->row_offset);
}

static gboolean
wants_leaf (Load *l, const LfMpiLeaf *leaf)
{
  if (leaf->shard != NULL || l->layout == NULL || l->layout->owner_func == NULL)
    return TRUE;
  return l->layout->owner_func (leaf->path, leaf->leaf, l->n_ranks,
                                l->layout->owner_data) == l->rank;
}

static gboolean
load_leaves (Load *l, LfNode **loaded, GError **error)
{
  GArray *leaves = l->plan->leaves;
  for (guint i = 0; i < leaves->len; i++)
    {
      const LfMpiLeaf *leaf = &g_array_index (leaves, LfMpiLeaf, i);
      const LfMpiEntry *entry = &l->table[i];
      if (!entry->has_record || !wants_leaf (l, leaf))
        continue;
      GError *local = NULL;
      g_autoptr (LfNode) value = NULL;
      if (leaf->shard != NULL && _lf_mpi_sharded_like_ok (leaf, &local))
        value = leaf->kind.row_ranges ? load_rows (l, leaf, entry, &local)
                                      : load_rows_of_whole (l, leaf, entry, &local);
      else if (leaf->shard == NULL)
        {
          g_autoptr (GBytes) bytes = read_bytes (l, entry->offset, entry->size, &local);
          if (bytes != NULL)
            value = decode (l, leaf, bytes, leaf->leaf, &local);
        }
      if (value != NULL)
        loaded[i] = lf_codec_fit_to_like (leaf->leaf, value, &local);
      if (loaded[i] == NULL)
        {
          g_propagate_error (error, local);
          _lf_mpi_prefix_record (error, leaf, entry);
          return FALSE;
        }
    }
  return TRUE;
}

LfNode *
lf_mpi_tree_deserialise_leaves (MPI_Comm comm, const char *path, LfNode *like, LfSpec *spec,
                                LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                const LfMpiLayout *layout, GError **error)
{
  g_return_val_if_fail (path != NULL && like != NULL, NULL);
  g_autofree char *target = lf_path_with_eqx_suffix (path);
  Load l = { .comm = comm, .target = target, .fd = -1, .layout = layout };
  MPI_Comm_rank (comm, &l.rank);
  MPI_Comm_size (comm, &l.n_ranks);
  GError *local = NULL;
  LfNode **loaded = NULL;
  LfNode *result = NULL;
  guint n = 0;

  l.plan = _lf_mpi_plan_new (like, spec, is_leaf, is_leaf_data, layout, &local);
  if (local == NULL)
    {
      l.fd = open (target, O_RDONLY | O_CLOEXEC);
      if (l.fd < 0)
        {
          int saved = errno;
          g_set_error (&local, LF_ERROR, LF_ERROR_IO, "cannot open: %s", g_strerror (saved));
        }
    }
  if (!_lf_mpi_agree (comm, target, &local))
    goto out;

  n = l.plan->leaves->len;
  l.table = g_new0 (LfMpiEntry, MAX (n, 1));
  if (l.rank == 0)
    _lf_mpi_scan_file (target, l.plan, l.table, &local);
  if (!_lf_mpi_agree (comm, target, &local))
    goto out;
  MPI_Bcast (l.table, (int) (n * sizeof (LfMpiEntry) / sizeof (guint64)), MPI_UINT64_T, 0, comm);

  loaded = g_new0 (LfNode *, MAX (n, 1));
  load_leaves (&l, loaded, &local);
  if (!_lf_mpi_agree (comm, target, &local))
    goto out;
  result = _lf_mpi_rebuild (like, is_leaf, is_leaf_data, loaded);

out:
  for (guint i = 0; loaded != NULL && i < n; i++)
    lf_node_unref (loaded[i]);
  g_free (loaded);
  g_free (l.table);
  if (l.fd >= 0)
    close (l.fd);
  _lf_mpi_plan_free (l.plan);
  if (local != NULL)
    g_propagate_error (error, local);
  return result;
}
