/* npy records on streams: read a header and its data into a native,
 * C-ordered array leaf; write an array or scalar leaf as numpy does. */
#include "config.h"
#include <string.h>
#include <leafio/leafio.h>
#include "npy-private.h"
#include "stream-private.h"

/* ---- reading --------------------------------------------------------------- */

/* When the whole header is already buffered (read-ahead buffer or a mapped
 * file): parses it in place and returns its length, with *ok the result;
 * 0 when the slow path must read it. */
static gsize
parse_buffered_header (LfStream *stream, LfNpyHeader *header, gboolean *ok, GError **error)
{
  gsize avail;
  const guint8 *peek = _lf_stream_peek (stream, &avail);
  if (avail < LF_NPY_PREFIX_LEN + 4 || memcmp (peek, LF_NPY_MAGIC, LF_NPY_MAGIC_LEN) != 0
      || !(peek[6] == 1 || peek[6] == 2 || peek[6] == 3) || peek[7] != 0)
    return 0;
  gsize len_size = peek[6] == 1 ? 2 : 4;
  guint64 header_len = 0;
  for (gsize i = 0; i < len_size; i++)
    header_len |= (guint64) peek[LF_NPY_PREFIX_LEN + i] << (8 * i);
  guint64 total = LF_NPY_PREFIX_LEN + len_size + header_len;
  if (header_len > LF_NPY_MAX_HEADER_TEXT || total > avail)
    return 0;
  *ok = lf_npy_header_parse (peek, (gsize) total, header, error);
  return (gsize) total;
}

gboolean
lf_npy_read_header (LfStream *stream, LfNpyHeader *header, GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (header != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Fast path: the whole header is already in memory (read-ahead buffer or
   * a mapped file): parse it in place, no copies, no reads. */
  gboolean ok;
  gsize total = parse_buffered_header (stream, header, &ok, error);
  if (total > 0)
    {
      _lf_stream_consume (stream, total);
      return ok;
    }

  /* The longest header numpy accepts, read exactly: magic and version
   * first, so a foreign file is named as such before asking for more. */
  guint8 buffer[LF_NPY_PREFIX_LEN + 4 + LF_NPY_MAX_HEADER_TEXT];
  guint len_size;
  /* Gather the prefix by hand: if the input ends early, the magic is
   * still checked on whatever arrived. */
  gsize have = 0;
  while (have < LF_NPY_PREFIX_LEN)
    {
      gssize n = lf_stream_read_some (stream, buffer + have, LF_NPY_PREFIX_LEN - have, error);
      if (n < 0)
        return FALSE;
      if (n == 0)
        break;
      have += (gsize) n;
    }
  if (!lf_npy_parse_prefix (buffer, have, header, &len_size, error))
    return FALSE;
  if (!lf_stream_read (stream, buffer + LF_NPY_PREFIX_LEN, len_size, error))
    return FALSE;
  guint64 header_len = 0;
  for (guint i = 0; i < len_size; i++)
    header_len |= (guint64) buffer[LF_NPY_PREFIX_LEN + i] << (8 * i);
  if (!lf_npy_check_header_len (header_len, error))
    return FALSE;
  if (!lf_stream_read (stream, buffer + LF_NPY_PREFIX_LEN + len_size, (gsize) header_len,
                       error))
    return FALSE;
  return lf_npy_header_parse (buffer, LF_NPY_PREFIX_LEN + len_size + (gsize) header_len,
                              header, error);
}

/* ---- describing without consuming ------------------------------------------ */

/* After a peek ran out of input, the bytes that were there from `offset`
 * on: the prefix parser then names a foreign or cut-off record as such. */
static gboolean
refuse_short_prefix (LfStream *stream, gsize offset, LfNpyHeader *header, GError *local,
                     GError **error)
{
  if (!g_error_matches (local, LF_ERROR, LF_ERROR_TRUNCATED))
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  g_error_free (local);
  gsize avail;
  guint len_size;
  static const guint8 nothing[1];
  const guint8 *bytes = _lf_stream_peek (stream, &avail);
  if (bytes == NULL || avail <= offset)
    {
      bytes = nothing;
      avail = 0;
    }
  else
    {
      bytes += offset;
      avail -= offset;
    }
  if (!lf_npy_parse_prefix (bytes, MIN (avail, (gsize) LF_NPY_PREFIX_LEN), header, &len_size,
                            error))
    return FALSE;
  g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
               "npy header: expected %u bytes of header length, found %" G_GSIZE_FORMAT,
               len_size, avail - LF_NPY_PREFIX_LEN);
  return FALSE;
}

/* Parses the header of the npy record `offset` bytes past the stream's
 * position, without consuming anything. */
static gboolean
peek_header_at (LfStream *stream, gsize offset, LfNpyHeader *header, GError **error)
{
  GError *local = NULL;
  const guint8 *bytes = lf_stream_peek (stream, offset + LF_NPY_PREFIX_LEN + 2, &local);
  if (bytes == NULL)
    return refuse_short_prefix (stream, offset, header, local, error);
  guint len_size;
  if (!lf_npy_parse_prefix (bytes + offset, LF_NPY_PREFIX_LEN, header, &len_size, error))
    return FALSE;
  bytes = lf_stream_peek (stream, offset + LF_NPY_PREFIX_LEN + len_size, error);
  if (bytes == NULL)
    return FALSE;
  guint64 header_len = 0;
  for (guint i = 0; i < len_size; i++)
    header_len |= (guint64) bytes[offset + LF_NPY_PREFIX_LEN + i] << (8 * i);
  if (!lf_npy_check_header_len (header_len, error))
    return FALSE;
  gsize total = LF_NPY_PREFIX_LEN + len_size + (gsize) header_len;
  bytes = lf_stream_peek (stream, offset + total, error);
  return bytes != NULL && lf_npy_header_parse (bytes + offset, total, header, error);
}

gboolean
lf_npy_peek_header (LfStream *stream, LfNpyHeader *header, GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (header != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  gboolean ok;
  if (parse_buffered_header (stream, header, &ok, error) > 0)
    return ok;
  return peek_header_at (stream, 0, header, error);
}

gboolean
lf_npy_describe_at (LfStream *stream, guint64 offset, LfRecordInfo *info, GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (info != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  /* The whole header must fit the peek window; so must its start. */
  if (offset > LF_STREAM_PEEK_MAX - LF_NPY_PREFIX_LEN - 4)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "npy record at byte %" G_GUINT64_FORMAT " of the record: past the %"
                   G_GSIZE_FORMAT " bytes a description may look at", offset,
                   LF_STREAM_PEEK_MAX);
      return FALSE;
    }
  LfNpyHeader header;
  if (!peek_header_at (stream, (gsize) offset, &header, error))
    return FALSE;
  lf_record_info_set_leaf (info, LF_NODE_ARRAY, header.dtype, header.ndim, header.shape);
  lf_record_info_set_sizes (info, (guint64) header.header_size + header.data_size,
                            header.header_size, header.data_size);
  return TRUE;
}

gboolean
lf_npy_describe (LfStream *stream, LfRecordInfo *info, GError **error)
{
  return lf_npy_describe_at (stream, 0, info, error);
}

/* Reverses the bytes of each `unit`-byte word of `data`. */
static void
swap_words (guint8 *data, gsize size, gsize unit)
{
  switch (unit)
    {
    case 2:
      for (gsize i = 0; i + 2 <= size; i += 2)
        {
          guint16 v;
          memcpy (&v, data + i, 2);
          v = GUINT16_SWAP_LE_BE (v);
          memcpy (data + i, &v, 2);
        }
      break;
    case 4:
      for (gsize i = 0; i + 4 <= size; i += 4)
        {
          guint32 v;
          memcpy (&v, data + i, 4);
          v = GUINT32_SWAP_LE_BE (v);
          memcpy (data + i, &v, 4);
        }
      break;
    case 8:
      for (gsize i = 0; i + 8 <= size; i += 8)
        {
          guint64 v;
          memcpy (&v, data + i, 8);
          v = GUINT64_SWAP_LE_BE (v);
          memcpy (data + i, &v, 8);
        }
      break;
    default:
      break;
    }
}

/* Byte-swap unit of a dtype: complex numbers swap each half. */
static gsize
swap_unit (LfDType dtype)
{
  gsize size = lf_dtype_size (dtype);
  return lf_dtype_is_complex (dtype) ? size / 2 : size;
}

/* Copies Fortran-ordered `src` into C order in `dst`.  Walks the output in
 * C order with an odometer over the index, keeping the source offset
 * (Fortran strides: the first axis varies fastest) up to date. */
static void
fortran_to_c (guint8 *dst, const guint8 *src, guint ndim, const gsize *shape,
              gsize elsize, gsize n_elements)
{
  gsize fstride[LF_MAX_NDIM];
  gsize index[LF_MAX_NDIM] = { 0 };
  gsize stride = elsize;
  for (guint k = 0; k < ndim; k++)
    {
      fstride[k] = stride;
      stride *= shape[k];
    }
  gsize src_off = 0;
  for (gsize i = 0; i < n_elements; i++)
    {
      memcpy (dst + i * elsize, src + src_off, elsize);
      /* Next C index: the last axis moves fastest. */
      for (guint k = ndim; k-- > 0;)
        {
          if (++index[k] < shape[k])
            {
              src_off += fstride[k];
              break;
            }
          src_off -= (shape[k] - 1) * fstride[k];
          index[k] = 0;
        }
    }
}

LfNode *
lf_npy_read_data (LfStream *stream, const LfNpyHeader *header, GError **error)
{
  g_return_val_if_fail (stream != NULL, NULL);
  g_return_val_if_fail (header != NULL, NULL);
  g_return_val_if_fail (lf_dtype_size (header->dtype) > 0, NULL);
  g_return_val_if_fail (header->ndim <= LF_MAX_NDIM, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  guint64 remaining;
  if (lf_stream_get_remaining (stream, &remaining) && header->data_size > remaining)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                   "%s: record declares %" G_GSIZE_FORMAT " bytes of data, only %"
                   G_GUINT64_FORMAT " remain", lf_stream_get_name (stream),
                   header->data_size, remaining);
      return NULL;
    }
  GBytes *bytes = lf_stream_read_bytes (stream, header->data_size, error);
  if (bytes == NULL)
    return NULL;

  gsize elsize = lf_dtype_size (header->dtype);
  gsize n_elements = elsize ? header->data_size / elsize : 0;
  /* A slice of a mapping is handed out as it lies in the file; data at an
   * offset not aligned for its dtype (numpy's layout after a record of odd
   * size) is copied: arrays are never handed out misaligned. */
  gsize unit = swap_unit (header->dtype);
  if (unit > 1 && !header->swap
      && (guintptr) g_bytes_get_data (bytes, NULL) % unit != 0)
    {
      GBytes *aligned = g_bytes_new (g_bytes_get_data (bytes, NULL), header->data_size);
      g_bytes_unref (bytes);
      bytes = aligned;
    }
  gboolean reorder = header->fortran_order && header->ndim > 1 && n_elements > 1;
  if (header->swap || reorder)
    {
      gsize size;
      guint8 *data = g_bytes_unref_to_data (bytes, &size);
      if (header->swap)
        swap_words (data, size, swap_unit (header->dtype));
      if (reorder)
        {
          guint8 *c_order = g_malloc (size);
          fortran_to_c (c_order, data, header->ndim, header->shape, elsize, n_elements);
          g_free (data);
          data = c_order;
        }
      bytes = g_bytes_new_take (data, size);
    }
  LfNode *leaf = lf_array_new_from_bytes (header->dtype, header->ndim, header->shape, bytes);
  g_bytes_unref (bytes);
  return leaf;
}

LfNode *
lf_npy_read (LfStream *stream, GError **error)
{
  g_return_val_if_fail (stream != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  LfNpyHeader header;
  if (!lf_npy_read_header (stream, &header, error))
    return NULL;
  return lf_npy_read_data (stream, &header, error);
}

/* ---- writing --------------------------------------------------------------- */

/* Writes native data as little-endian: a plain write on little-endian
 * hosts, swapped chunk by chunk elsewhere. */
static gboolean
write_little_endian (LfStream *stream, LfDType dtype, const guint8 *data, gsize size,
                     GError **error)
{
  gsize unit = swap_unit (dtype);
  if (G_BYTE_ORDER == G_LITTLE_ENDIAN || unit == 1)
    return lf_stream_write (stream, data, size, error);
  guint8 chunk[16384];
  for (gsize done = 0; done < size;)
    {
      gsize n = MIN (size - done, sizeof chunk);
      memcpy (chunk, data + done, n);
      swap_words (chunk, n, unit);
      if (!lf_stream_write (stream, chunk, n, error))
        return FALSE;
      done += n;
    }
  return TRUE;
}

gboolean
lf_npy_write (LfStream *stream, const LfNode *leaf, guint align, GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (leaf != NULL, FALSE);
  g_return_val_if_fail (align % 64 == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  LfDType dtype;
  guint ndim = 0;
  const gsize *shape = NULL;
  gconstpointer data;
  gsize size;
  switch (lf_node_get_kind (leaf))
    {
    case LF_NODE_ARRAY:
      if (lf_array_is_abstract (leaf))
        {
          g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                       "an abstract array (dtype and shape only) has no data to write "
                       "as an npy record");
          return FALSE;
        }
      dtype = lf_array_get_dtype (leaf);
      ndim = lf_array_get_ndim (leaf);
      shape = lf_array_get_shape (leaf);
      data = lf_array_get_data (leaf);
      size = lf_array_get_n_bytes (leaf);
      break;
    case LF_NODE_SCALAR:
      /* numpy writes scalars as 0-d arrays. */
      dtype = lf_scalar_get_dtype (leaf);
      data = lf_scalar_get_value (leaf);
      size = lf_dtype_size (dtype);
      break;
    default:
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "cannot write a node of kind '%s' as an npy record (expected an "
                   "array or a scalar)", lf_node_kind_name (lf_node_get_kind (leaf)));
      return FALSE;
    }

  /* Headers are small; only a large `align` needs more than the stack. */
  char stack[LF_NPY_HEADER_MAX];
  g_autofree char *heap = NULL;
  char *buffer = stack;
  guint64 offset = lf_stream_tell (stream);
  gsize len = lf_npy_header_format (buffer, sizeof stack, dtype, ndim, shape, offset, align);
  if (len == 0)
    {
      gsize big = LF_NPY_HEADER_MAX + (gsize) align + 16;
      buffer = heap = g_malloc (big);
      len = lf_npy_header_format (buffer, big, dtype, ndim, shape, offset, align);
    }
  /* Everything past the length field is header text, which numpy (and our
   * reader) refuse beyond LF_NPY_MAX_HEADER_TEXT. */
  if (len == 0
      || len - LF_NPY_PREFIX_LEN - ((guint8) buffer[6] == 1 ? 2 : 4) > LF_NPY_MAX_HEADER_TEXT)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "alignment %u makes an npy header longer than the %d bytes numpy "
                   "reads", align, LF_NPY_MAX_HEADER_TEXT);
      return FALSE;
    }
  if (G_BYTE_ORDER == G_LITTLE_ENDIAN || swap_unit (dtype) == 1)
    return _lf_stream_write2 (stream, buffer, len, data, size, error);
  if (!lf_stream_write (stream, buffer, len, error))
    return FALSE;
  return write_little_endian (stream, dtype, data, size, error);
}
