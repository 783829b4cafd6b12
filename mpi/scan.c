/* Rank 0's offset table for a collective load: where each leaf's record
 * starts and how long it is, from the codec's description of it (checked
 * against `like` first, as serial loads do), or, for codecs that cannot
 * describe a record, by decoding it once: lf_codec_measure_record(), as
 * lf_file_open() measures each record.  For sharded leaves whose codec
 * splits by rows it also notes what every rank needs to read only its
 * rows, so that no other rank reads a header. */
#include "config.h"
#include <string.h>
#include "mpi-private.h"

void
_lf_mpi_prefix_record (GError **error, const LfMpiLeaf *leaf, const LfMpiEntry *entry)
{
  g_prefix_error (error, "record %" G_GUINT64_FORMAT " at offset %" G_GUINT64_FORMAT
                  " (%s): ", entry->index, entry->offset, _lf_mpi_leaf_name (leaf));
}

gboolean
_lf_mpi_sharded_like_ok (const LfMpiLeaf *leaf, GError **error)
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

/* The rows of a record are contiguous runs of its data only when its
 * header is the codec's own for its stored dtype and shape at this offset
 * (little-endian, C order, the codec's alignment; not so for records numpy
 * wrote on other machines, which are read whole). */
static gboolean
note_rows (const LfMpiLeaf *leaf, LfStream *stream, const LfRecordInfo *info,
           LfMpiEntry *entry, GError **error)
{
  LfDType stored = lf_record_info_get_stored_dtype (info);
  guint ndim = lf_record_info_get_ndim (info);
  const gsize *shape = lf_record_info_get_shape (info);
  char expected[LF_MPI_HEADER_MAX];
  gsize length = _lf_mpi_format_header (&leaf->kind, stored, ndim, shape, entry->offset,
                                        expected);
  if (ndim == 0 || length == 0 || length != lf_record_info_get_header_size (info)
      || length > LF_STREAM_PEEK_MAX)
    return TRUE;
  const guint8 *header = lf_stream_peek (stream, length, error);
  if (header == NULL)
    return FALSE;
  entry->laid_out = memcmp (header, expected, length) == 0;
  entry->header_size = length;
  entry->stored_dtype = stored;
  entry->leaf_hash = _lf_mpi_leaf_hash (lf_record_info_get_dtype (info), ndim, shape, shape[0]);
  return TRUE;
}

/* Fills in the entry of the record at `stream`'s position and moves past
 * it; `left` bytes remain in the file. */
static gboolean
scan_record (const LfMpiLeaf *leaf, LfStream *stream, LfRecordInfo *info, LfMpiEntry *entry,
             guint64 left, GError **error)
{
  g_autoptr (LfNode) like = leaf->shard != NULL ? _lf_mpi_global_like (leaf)
                                                 : lf_node_ref (leaf->leaf);
  guint64 size;
  g_autoptr (LfNode) decoded = NULL;
  if (!lf_codec_measure_record (leaf->codec, stream, leaf->path, like, left, info, &size,
                                &decoded, error))
    return FALSE;
  entry->size = size;
  if (decoded != NULL)
    return TRUE;    /* decoded to find its end: the stream is past it */
  if (size > G_MAXSIZE)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TOO_LARGE, "a record of %" G_GUINT64_FORMAT
                   " bytes does not fit in this machine's memory", size);
      return FALSE;
    }
  if (leaf->shard != NULL && leaf->kind.row_ranges && !note_rows (leaf, stream, info, entry,
                                                                  error))
    return FALSE;
  return lf_stream_skip (stream, (gsize) size, error);
}

/* The file mapped, so that describing a record and skipping it cost no
 * read; read through where it cannot be mapped. */
static LfStream *
open_for_scan (const char *target, guint64 *file_size, GError **error)
{
  LfStream *stream = lf_stream_new_for_path (target, TRUE, NULL);
  if (stream == NULL)
    stream = lf_stream_new_for_path (target, FALSE, error);
  if (stream != NULL && !lf_stream_get_remaining (stream, file_size))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot tell the file's size", target);
      g_clear_pointer (&stream, lf_stream_free);
    }
  return stream;
}

gboolean
_lf_mpi_scan_file (const char *target, const LfMpiPlan *plan, LfMpiEntry *table,
                   GError **error)
{
  guint64 file_size = 0, offset = 0, index = 0;
  g_autoptr (LfStream) stream = open_for_scan (target, &file_size, error);
  if (stream == NULL)
    return FALSE;
  g_autoptr (LfRecordInfo) info = lf_record_info_new ();
  GArray *leaves = plan->leaves;
  for (guint i = 0; i < leaves->len; i++)
    {
      const LfMpiLeaf *leaf = &g_array_index (leaves, LfMpiLeaf, i);
      LfMpiEntry *entry = &table[i];
      entry->offset = offset;
      entry->index = index;
      if (!lf_codec_handles (leaf->codec, leaf->leaf))
        continue;
      if (leaf->shard != NULL && !_lf_mpi_sharded_like_ok (leaf, error))
        return FALSE;
      GError *local = NULL;
      gboolean ok = offset < file_size;
      if (!ok)
        g_set_error (&local, LF_ERROR, LF_ERROR_TRUNCATED,
                     "the file ends before this leaf's record");
      else
        ok = scan_record (leaf, stream, info, entry, file_size - offset, &local);
      if (!ok)
        {
          g_propagate_error (error, local);
          _lf_mpi_prefix_record (error, leaf, entry);
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
