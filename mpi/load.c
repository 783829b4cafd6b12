/* The collective load.  Rank 0 finds where every record starts (from the
 * codec's description of each record, or, for codecs that cannot describe
 * one, by decoding it once) and broadcasts the table; then each rank reads
 * only the bytes of the leaves it loads: its rows of sharded leaves, and
 * whole leaves (all of them, or only those it owns when the layout has an
 * owner callback). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mpi-private.h"

typedef struct {
  guint64 has_record;
  guint64 index;        /* the record's number in the file */
  guint64 offset;
  guint64 size;
} Entry;

typedef struct {
  MPI_Comm comm;
  int rank, n_ranks;
  const char *target;
  int fd;
  LfMpiPlan *plan;
  const LfMpiLayout *layout;
  Entry *table;
} Load;

static void
prefix_record (GError **error, const LfMpiLeaf *leaf, const Entry *entry)
{
  g_prefix_error (error, "record %" G_GUINT64_FORMAT " at offset %" G_GUINT64_FORMAT
                  " (%s): ", entry->index, entry->offset, _lf_mpi_leaf_name (leaf));
}

static gboolean
sharded_like_ok (const LfMpiLeaf *leaf, GError **error)
{
  LfMpiBlock block;
  if (!_lf_mpi_block_describe (leaf, LF_DTYPE_INVALID, FALSE, &block, error))
    return FALSE;
  if (leaf->shard->row_offset > leaf->shard->global_rows
      || (guint64) block.rows > leaf->shard->global_rows - leaf->shard->row_offset)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                   "%s: rows %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                   " of this rank's block lie beyond the %" G_GUINT64_FORMAT " rows of the array",
                   _lf_mpi_leaf_name (leaf), leaf->shard->row_offset,
                   leaf->shard->row_offset + (guint64) block.rows, leaf->shard->global_rows);
      return FALSE;
    }
  return TRUE;
}


/* Reads from this size on go into pooled buffers (mappings of their own). */
#define POOLED_BUFFER_MIN ((gsize) 1 << 20)
/* ---- rank 0: the offset table -------------------------------------------------- */

/* A stream over the record at `offset`, for describing and decoding it in
 * place: it reads only what is asked of it. */
static LfStream *
stream_at (Load *l, guint64 offset, GError **error)
{
  if (lseek (l->fd, (off_t) offset, SEEK_SET) < 0)
    {
      int saved = errno;
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "cannot seek: %s", g_strerror (saved));
      return NULL;
    }
  LfStream *stream = lf_stream_new_for_fd (l->fd, FALSE);
  lf_stream_set_name (stream, l->target);
  return stream;
}

/* The record's length: from its description when the codec can give one
 * (checked against `like` first, as serial loads do), otherwise by
 * decoding it once. */
static gboolean
scan_record (Load *l, const LfMpiLeaf *leaf, Entry *entry, guint64 file_size, GError **error)
{
  g_autoptr (LfStream) stream = stream_at (l, entry->offset, error);
  if (stream == NULL)
    return FALSE;
  g_autoptr (LfNode) like = leaf->shard != NULL ? _lf_mpi_global_like (leaf)
                                                 : lf_node_ref (leaf->leaf);
  if (lf_codec_can_describe (leaf->codec))
    {
      g_autoptr (LfRecordInfo) info = lf_record_info_new ();
      if (!lf_codec_describe (leaf->codec, stream, like, info, error)
          || !lf_record_info_check_like (info, like, 0, error))
        return FALSE;
      guint64 size = lf_record_info_get_stored_size (info);
      if (size != LF_RECORD_SIZE_UNKNOWN)
        {
          if (size > file_size - entry->offset)
            {
              g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                           "expected a record of %" G_GUINT64_FORMAT " bytes, found %"
                           G_GUINT64_FORMAT, size, file_size - entry->offset);
              return FALSE;
            }
          entry->size = size;
          return TRUE;
        }
    }
  g_autoptr (LfNode) value = lf_codec_deserialise (leaf->codec, stream, leaf->path, like,
                                                   error);
  if (value == NULL)
    return FALSE;
  entry->size = lf_stream_tell (stream);
  return TRUE;
}

static gboolean
scan_file (Load *l, GError **error)
{
  struct stat st;
  if (fstat (l->fd, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "cannot stat: %s", g_strerror (saved));
      return FALSE;
    }
  guint64 file_size = (guint64) st.st_size, offset = 0, index = 0;
  GArray *leaves = l->plan->leaves;
  for (guint i = 0; i < leaves->len; i++)
    {
      const LfMpiLeaf *leaf = &g_array_index (leaves, LfMpiLeaf, i);
      Entry *entry = &l->table[i];
      entry->offset = offset;
      entry->index = index;
      if (!lf_codec_handles (leaf->codec, leaf->leaf))
        continue;
      if (leaf->shard != NULL && !sharded_like_ok (leaf, error))
        return FALSE;
      if (offset >= file_size)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                       "record %" G_GUINT64_FORMAT " at offset %" G_GUINT64_FORMAT
                       " (%s): the file ends before this leaf's record", index, offset,
                       _lf_mpi_leaf_name (leaf));
          return FALSE;
        }
      GError *local = NULL;
      if (!scan_record (l, leaf, entry, file_size, &local))
        {
          g_propagate_error (error, local);
          prefix_record (error, leaf, entry);
          return FALSE;
        }
      entry->has_record = TRUE;
      offset += entry->size;
      index++;
    }
  if (offset != file_size)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRAILING_DATA,
                   "%" G_GUINT64_FORMAT " bytes left after the last leaf at offset %"
                   G_GUINT64_FORMAT ": the file holds more than `like` describes",
                   file_size - offset, offset);
      return FALSE;
    }
  return TRUE;
}

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
 * (LF_CODEC_ROW_RANGES): the record is described and checked against the
 * whole array, then only the rows are read and handed to the codec as a
 * record of their own. */
static LfNode *load_rows_of_whole (Load *l, const LfMpiLeaf *leaf, const Entry *entry,
                                   GError **error);

/* The record's header is the one the codec's contract gives for its
 * stored dtype and shape at this offset (little-endian, C order, the
 * codec's alignment): only then are rows contiguous runs of the data. */
static gboolean
header_is_laid_out (Load *l, const LfMpiLeaf *leaf, const Entry *entry, LfStream *stream,
                    const LfRecordInfo *info, GError **error)
{
  char expected[LF_MPI_HEADER_MAX];
  gsize length = _lf_mpi_format_header (&leaf->kind, lf_record_info_get_stored_dtype (info),
                                        lf_record_info_get_ndim (info),
                                        lf_record_info_get_shape (info), entry->offset,
                                        expected);
  if (length == 0 || length != lf_record_info_get_header_size (info)
      || length > LF_STREAM_PEEK_MAX)
    return FALSE;
  const guint8 *header = lf_stream_peek (stream, length, error);
  return header != NULL && memcmp (header, expected, length) == 0;
}

static LfNode *
load_rows (Load *l, const LfMpiLeaf *leaf, const Entry *entry, GError **error)
{
  g_autoptr (LfNode) whole = _lf_mpi_global_like (leaf);
  g_autoptr (LfStream) stream = stream_at (l, entry->offset, error);
  g_autoptr (LfRecordInfo) info = lf_record_info_new ();
  if (stream == NULL || !lf_codec_describe (leaf->codec, stream, whole, info, error)
      || !lf_record_info_check_like (info, whole, 0, error))
    return NULL;
  GError *local = NULL;
  if (!header_is_laid_out (l, leaf, entry, stream, info, &local))
    {
      /* Records numpy wrote on other machines (big-endian, Fortran order)
       * or with another alignment: read whole. */
      if (local != NULL)
        {
          g_propagate_error (error, local);
          return NULL;
        }
      return load_rows_of_whole (l, leaf, entry, error);
    }
  LfDType stored = lf_record_info_get_stored_dtype (info);
  LfMpiBlock block;
  if (!_lf_mpi_block_describe (leaf, stored, FALSE, &block, error))
    return NULL;
  LfNode *like = leaf->leaf;
  char block_header[LF_MPI_HEADER_MAX];
  gsize header_length = _lf_mpi_format_header (&leaf->kind, stored, lf_array_get_ndim (like),
                                              lf_array_get_shape (like), 0, block_header);
  gsize data_size = (gsize) block.rows * (gsize) block.row_bytes;
  guint64 data_offset = entry->offset + lf_record_info_get_header_size (info)
                        + (guint64) leaf->shard->row_offset * (guint64) block.row_bytes;
  if (header_length == 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_OVERFLOW, "the record header of a block is too long");
      return NULL;
    }
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
load_rows_of_whole (Load *l, const LfMpiLeaf *leaf, const Entry *entry, GError **error)
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
      const Entry *entry = &l->table[i];
      if (!entry->has_record || !wants_leaf (l, leaf))
        continue;
      GError *local = NULL;
      g_autoptr (LfNode) value = NULL;
      if (leaf->shard != NULL && sharded_like_ok (leaf, &local))
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
          prefix_record (error, leaf, entry);
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
  l.table = g_new0 (Entry, MAX (n, 1));
  if (l.rank == 0)
    scan_file (&l, &local);
  if (!_lf_mpi_agree (comm, target, &local))
    goto out;
  MPI_Bcast (l.table, (int) (n * sizeof (Entry) / sizeof (guint64)), MPI_UINT64_T, 0, comm);

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
