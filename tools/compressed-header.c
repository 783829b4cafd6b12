/* Describing a compressed record from its header and the first bytes of
 * its zstd frame (plugins/compressed-format.h), without decompressing
 * the rest: `leafio inspect` lists a big compressed file in the time it
 * takes to read its headers.  The data itself, and its checksum, are
 * checked when a record is decoded (unpack, convert, loads). */
#include "config.h"

/* LfNpyHeader: the CLI ships with the library it is built with. */
#define LEAFIO_UNSTABLE_API
#include <string.h>

#include <zstd.h>

#include "cli-private.h"
#include "compressed-format.h"

/* Enough decompressed bytes for any npy header a reader accepts. */
#define PREFIX_SIZE (16 * 1024)

/* Whether the inner codec's record starts with the npy header of what it
 * stores: npy itself, and float16 around npy (its default). */
static gboolean
inner_starts_with_npy (const char *reference)
{
  if (strstr (reference, "inner=") != NULL)
    return FALSE;
  return strcmp (reference, "npy") == 0 || g_str_has_prefix (reference, "npy(")
         || strcmp (reference, "float16") == 0 || g_str_has_prefix (reference, "float16(");
}

/* Decompresses up to `capacity` bytes from the start of `frame`. */
static gssize
decompress_prefix (const guint8 *frame, gsize frame_size, guint8 *out, gsize capacity,
                   GError **error)
{
  ZSTD_DCtx *dctx = ZSTD_createDCtx ();
  if (dctx == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED, "zstd: cannot create a context");
      return -1;
    }
  ZSTD_DCtx_setParameter (dctx, ZSTD_d_windowLogMax, LF_ZSTD_MAX_WINDOW_LOG);
  ZSTD_inBuffer input = { frame, frame_size, 0 };
  ZSTD_outBuffer output = { out, capacity, 0 };
  size_t status = 1;
  while (output.pos < output.size && status != 0 && !ZSTD_isError (status))
    {
      gsize before_in = input.pos, before_out = output.pos;
      status = ZSTD_decompressStream (dctx, &output, &input);
      if (input.pos == before_in && output.pos == before_out)
        break;                            /* the frame ends early */
    }
  ZSTD_freeDCtx (dctx);
  if (ZSTD_isError (status))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT, "compressed record: the zstd frame is "
                   "corrupt: %s", ZSTD_getErrorName (status));
      return -1;
    }
  return (gssize) output.pos;
}

gboolean
cli_compressed_describe (const guint8 *p, gsize available, CliRecordInfo *info,
                         gboolean *need_decode, GError **error)
{
  *need_decode = FALSE;
  if (available < LF_ZSTD_RECORD_HEADER_SIZE)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED, "compressed record header: expected "
                   "%d bytes, found %" G_GSIZE_FORMAT, LF_ZSTD_RECORD_HEADER_SIZE,
                   available);
      return FALSE;
    }
  guint32 reference_len = lf_zstd_get_u32 (p + LF_ZSTD_AT_REFERENCE_LEN);
  guint64 raw_size = lf_zstd_get_u64 (p + LF_ZSTD_AT_RAW_SIZE);
  guint64 compressed_size = lf_zstd_get_u64 (p + LF_ZSTD_AT_COMPRESSED_SIZE);
  if (p[LF_ZSTD_AT_VERSION] != LF_ZSTD_RECORD_VERSION
      || lf_zstd_get_u32 (p + LF_ZSTD_AT_FLAGS) != 0 || reference_len == 0
      || reference_len > LF_ZSTD_MAX_REFERENCE_LEN)
    {
      *need_decode = TRUE;      /* the codec says what is wrong */
      return FALSE;
    }
  gsize left = available - LF_ZSTD_RECORD_HEADER_SIZE;
  if (reference_len > left || compressed_size > left - reference_len)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED, "compressed record: expected %"
                   G_GUINT64_FORMAT " bytes after the header, found %" G_GSIZE_FORMAT,
                   (guint64) reference_len + compressed_size, left);
      return FALSE;
    }
  const guint8 *reference_at = p + LF_ZSTD_RECORD_HEADER_SIZE;
  g_autofree char *reference = g_strndup ((const char *) reference_at, reference_len);
  if (strlen (reference) != reference_len || !inner_starts_with_npy (reference))
    {
      *need_decode = TRUE;
      return FALSE;
    }

  guint8 prefix[PREFIX_SIZE];
  gssize got = decompress_prefix (reference_at + reference_len, (gsize) compressed_size,
                                  prefix, (gsize) MIN (raw_size, (guint64) PREFIX_SIZE), error);
  if (got < 0)
    return FALSE;
  LfNpyHeader header;
  if (!lf_npy_header_parse (prefix, (gsize) got, &header, error))
    {
      g_prefix_error (error, "compressed record (inner %s): ", reference);
      return FALSE;
    }
  if ((guint64) header.header_size + header.data_size != raw_size)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "compressed record: the inner npy record holds %" G_GUINT64_FORMAT
                   " bytes, the compressed record declares %" G_GUINT64_FORMAT,
                   (guint64) header.header_size + header.data_size, raw_size);
      return FALSE;
    }
  info->dtype = header.dtype;
  info->ndim = header.ndim;
  memcpy (info->shape, header.shape, header.ndim * sizeof (gsize));
  info->size = LF_ZSTD_RECORD_HEADER_SIZE + reference_len + compressed_size;
  return TRUE;
}
