/* The collective load.  Rank 0 finds where every record starts (npy
 * records by their header alone, others by decoding them once) and
 * broadcasts the table; then each rank reads only the bytes of the leaves
 * it loads: its rows of sharded leaves, and whole leaves (all of them, or
 * only those it owns when the layout has an owner callback). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mpi-private.h"

/* Enough for any npy header a reader accepts (magic, version, length and
 * at most LF_NPY_MAX_HEADER_TEXT bytes of text). */
#define HEADER_PROBE 16384

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

static const char *
path_or_root (const LfMpiLeaf *leaf)
{
  return *leaf->path_text ? leaf->path_text : "root";
}

static void
prefix_record (GError **error, const LfMpiLeaf *leaf, const Entry *entry)
{
  g_prefix_error (error, "record %" G_GUINT64_FORMAT " at offset %" G_GUINT64_FORMAT
                  " (%s): ", entry->index, entry->offset, path_or_root (leaf));
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
                   path_or_root (leaf), leaf->shard->row_offset,
                   leaf->shard->row_offset + (guint64) block.rows, leaf->shard->global_rows);
      return FALSE;
    }
  return TRUE;
}


/* Reads from this size on go into pooled buffers (mappings of their own). */
#define POOLED_BUFFER_MIN ((gsize) 1 << 20)
/* ---- rank 0: the offset table -------------------------------------------------- */

static gboolean
read_npy_header (int fd, guint64 offset, guint64 file_size, const char *target,
                 LfNpyHeader *header, GError **error)
{
  gsize probe = (gsize) MIN ((guint64) HEADER_PROBE, file_size - offset);
  g_autofree guint8 *buffer = g_malloc (MAX (probe, 1));
  if (!_lf_mpi_pread_all (fd, buffer, probe, offset, target, error))
    return FALSE;
  return lf_npy_header_parse (buffer, probe, header, error);
}

static gboolean
scan_record (Load *l, const LfMpiLeaf *leaf, Entry *entry, guint64 file_size, GError **error)
{
  if (!_lf_mpi_codec_is_row_wise (leaf->codec))
    {
      /* No header to skip by: decode it once to learn its length. */
      if (lseek (l->fd, (off_t) entry->offset, SEEK_SET) < 0)
        {
          int saved = errno;
          g_set_error (error, LF_ERROR, LF_ERROR_IO, "cannot seek: %s", g_strerror (saved));
          return FALSE;
        }
      g_autoptr (LfStream) stream = lf_stream_new_for_fd (l->fd, FALSE);
      lf_stream_set_name (stream, l->target);
      g_autoptr (LfNode) like = leaf->shard != NULL ? _lf_mpi_global_like (leaf) : lf_node_ref (leaf->leaf);
      g_autoptr (LfNode) value = lf_codec_deserialise (leaf->codec, stream, leaf->path, like,
                                                       error);
      if (value == NULL)
        return FALSE;
      entry->size = lf_stream_tell (stream);
      return TRUE;
    }
  LfNpyHeader header;
  if (!read_npy_header (l->fd, entry->offset, file_size, l->target, &header, error))
    return FALSE;
  guint64 left = file_size - entry->offset - header.header_size;
  if (header.data_size > left)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                   "expected %" G_GSIZE_FORMAT " bytes of data, found %" G_GUINT64_FORMAT,
                   header.data_size, left);
      return FALSE;
    }
  entry->size = header.header_size + header.data_size;
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
                       path_or_root (leaf));
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

/* This rank's rows of a record whose codec works row by row: the global
 * header is checked, then only the rows are read and handed to the codec
 * as a record of their own. */
static LfNode *load_rows_of_whole (Load *l, const LfMpiLeaf *leaf, const Entry *entry,
                                   GError **error);

static LfNode *
load_rows (Load *l, const LfMpiLeaf *leaf, const Entry *entry, GError **error)
{
  LfNpyHeader header;
  if (!read_npy_header (l->fd, entry->offset, entry->offset + entry->size, l->target,
                        &header, error))
    return NULL;
  /* Rows are contiguous only in C order; byte-swapped data is converted
   * by the codec.  Such records (numpy on other machines) are read whole. */
  if (header.swap || (header.fortran_order && header.ndim > 1))
    return load_rows_of_whole (l, leaf, entry, error);
  LfNode *like = leaf->leaf;
  guint ndim = lf_array_get_ndim (like);
  const gsize *shape = lf_array_get_shape (like);
  gboolean fits = header.ndim == ndim && header.shape[0] == leaf->shard->global_rows
                  && memcmp (header.shape + 1, shape + 1, (ndim - 1) * sizeof (gsize)) == 0;
  if (!fits)
    {
      g_autoptr (LfNode) whole = _lf_mpi_global_like (leaf);
      g_autofree char *want = lf_shape_to_string (ndim, lf_array_get_shape (whole));
      g_autofree char *found = lf_shape_to_string (header.ndim, header.shape);
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                   "expected the whole sharded array to have shape %s, found %s", want, found);
      return NULL;
    }
  gsize row_bytes = header.shape[0] > 0 ? header.data_size / header.shape[0] : 0;
  gsize rows = shape[0];
  char block_header[LF_NPY_HEADER_MAX];
  gsize header_length = lf_npy_header_format (block_header, sizeof block_header, header.dtype,
                                              ndim, shape, 0, 0);
  gsize data_size = rows * row_bytes;
  guint64 data_offset = entry->offset + header.header_size
                        + (guint64) leaf->shard->row_offset * row_bytes;
  /* The block's header, then its rows (placed as if the header preceded
   * them in the file, for a fast copy of the rows). */
  guint8 *buffer;
  g_autoptr (GBytes) record = new_buffer (header_length + data_size,
                                          data_offset - header_length, &buffer);
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
        value = _lf_mpi_codec_is_row_wise (leaf->codec) ? load_rows (l, leaf, entry, &local)
                                                        : load_rows_of_whole (l, leaf, entry,
                                                                              &local);
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
