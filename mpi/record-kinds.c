/* What the collective save and load may do with a codec's records, read
 * from the capabilities the codec declares (lf_codec_get_capabilities),
 * and the record layout LF_CODEC_ROW_RANGES promises.  Small helpers both
 * the save and the load need live here too. */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "mpi-private.h"

/* Codecs without ROW_RANGES (compression, checksums, per-array scales, a
 * user's function) may need the whole array: their sharded leaves are
 * gathered.  An offset-dependent record can be laid out only when its
 * header is one the library formats itself at the record's offset. */
void
_lf_mpi_record_kind_init (LfMpiRecordKind *kind, const LfCodec *codec)
{
  LfCodecCapabilities caps;
  lf_codec_get_capabilities (codec, &caps);
  memset (kind, 0, sizeof *kind);
  kind->row_ranges = (caps.flags & LF_CODEC_ROW_RANGES) != 0 && lf_codec_can_describe (codec);
  if (caps.flags & LF_CODEC_OFFSET_DEPENDENT)
    {
      if (!(caps.flags & LF_CODEC_ROW_RANGES))
        kind->cannot_lay_out = "the LF_CODEC_ROW_RANGES capability";
      else if (!kind->row_ranges)
        kind->cannot_lay_out = "a describe function";
      else if (caps.data_alignment == 0 || caps.data_alignment % 64 != 0
               || caps.data_alignment > LF_MPI_ALIGN_MAX)
        kind->cannot_lay_out = "a data alignment that is a multiple of 64 up to "
                               G_STRINGIFY (LF_MPI_ALIGN_MAX);
      else
        kind->align = caps.data_alignment;
      if (kind->cannot_lay_out != NULL)
        kind->row_ranges = FALSE;
    }
  kind->raw_data = kind->row_ranges && (caps.flags & LF_CODEC_RAW_DATA) != 0
                   && G_BYTE_ORDER == G_LITTLE_ENDIAN;
}

gsize
_lf_mpi_format_header (const LfMpiRecordKind *kind, LfDType dtype, guint ndim,
                       const gsize *shape, guint64 offset, char *buffer)
{
  return lf_npy_header_format (buffer, LF_MPI_HEADER_MAX, dtype, ndim, shape, offset,
                               kind->align);
}

GBytes *
_lf_mpi_record_data (const LfMpiLeaf *leaf, LfNode *node, GBytes *record,
                     LfDType *stored_dtype, GError **error)
{
  gboolean array = lf_node_get_kind (node) == LF_NODE_ARRAY;
  guint ndim = array ? lf_array_get_ndim (node) : 0;
  const gsize *shape = array ? lf_array_get_shape (node) : NULL;
  g_autoptr (LfStream) stream = lf_stream_new_for_bytes (record);
  g_autoptr (LfRecordInfo) info = lf_record_info_new ();
  GError *local = NULL;
  if (!lf_codec_describe (leaf->codec, stream, node, info, &local))
    {
      g_propagate_prefixed_error (error, local, "%s: ", _lf_mpi_leaf_name (leaf));
      return NULL;
    }
  LfDType dtype = lf_record_info_get_stored_dtype (info);
  gsize size = 0, data_size = 0;
  const guint8 *data = g_bytes_get_data (record, &size);
  char expected[LF_MPI_HEADER_MAX];
  gsize header = _lf_mpi_format_header (&leaf->kind, dtype, ndim, shape, 0, expected);
  gboolean plain = header > 0 && lf_record_info_get_header_size (info) == header
                   && size >= header && memcmp (data, expected, header) == 0
                   && lf_shape_n_bytes (dtype, ndim, shape, &data_size)
                   && size - header == data_size;
  if (!plain)
    {
      g_autofree char *codec = lf_codec_to_string (leaf->codec);
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED,
                   "%s: codec %s declares LF_CODEC_ROW_RANGES, but its record for this "
                   "leaf is not an npy header for its shape followed by exactly its data",
                   _lf_mpi_leaf_name (leaf), codec);
      return NULL;
    }
  *stored_dtype = dtype;
  return g_bytes_new_from_bytes (record, header, data_size);
}

gboolean
_lf_mpi_pread_all (int fd, void *buffer, gsize count, guint64 offset, const char *path,
                   GError **error)
{
  gsize done = 0;
  while (done < count)
    {
      ssize_t n = pread (fd, (char *) buffer + done, MIN (count - done, (gsize) 1 << 30),
                         (off_t) (offset + done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot read at offset %"
                       G_GUINT64_FORMAT ": %s", path, offset + done, g_strerror (saved));
          return FALSE;
        }
      if (n == 0)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED, "%s: expected %" G_GSIZE_FORMAT
                       " bytes at offset %" G_GUINT64_FORMAT ", found %" G_GSIZE_FORMAT,
                       path, count, offset, done);
          return FALSE;
        }
      done += (gsize) n;
    }
  return TRUE;
}
