/* How long a record is, as a scan of a file's records asks it of each
 * record's codec before skipping past it: lf_file_open() and the MPI
 * library's offset table share it (<leafio/unstable.h>). */
#include "config.h"

#include <leafio/leafio.h>

/* A codec that cannot describe its records, or cannot tell their size from
 * their first bytes, has the record decoded (and checked as a load checks
 * it) to learn where it ends. */
static gboolean
measure_by_decoding (LfCodec *codec, LfStream *stream, const LfPath *path, LfNode *like,
                     guint64 *size, LfNode **decoded, GError **error)
{
  guint64 start = lf_stream_tell (stream);
  g_autoptr (LfNode) loaded = lf_codec_deserialise (codec, stream, path, like, error);
  g_autoptr (LfNode) fitted = loaded != NULL ? lf_codec_fit_to_like (like, loaded, error)
                                             : NULL;
  if (fitted == NULL)
    return FALSE;
  *size = lf_stream_tell (stream) - start;
  *decoded = g_steal_pointer (&loaded);
  return TRUE;
}

gboolean
lf_codec_measure_record (LfCodec *codec, LfStream *stream, const LfPath *path, LfNode *like,
                         guint64 left, LfRecordInfo *info, guint64 *size, LfNode **decoded,
                         GError **error)
{
  g_return_val_if_fail (codec != NULL && stream != NULL && like != NULL, FALSE);
  g_return_val_if_fail (info != NULL && size != NULL && decoded != NULL, FALSE);
  *decoded = NULL;
  *size = LF_RECORD_SIZE_UNKNOWN;
  if (lf_codec_can_describe (codec))
    {
      if (!lf_codec_describe (codec, stream, like, info, error)
          || !lf_record_info_check_like (info, like, 0, error))
        return FALSE;
      *size = lf_record_info_get_stored_size (info);
    }
  if (*size == LF_RECORD_SIZE_UNKNOWN
      && !measure_by_decoding (codec, stream, path, like, size, decoded, error))
    return FALSE;
  if (*size > left)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                   "the record needs %" G_GUINT64_FORMAT " bytes, the file has %"
                   G_GUINT64_FORMAT " left", *size, left);
      g_clear_pointer (decoded, lf_node_unref);
      return FALSE;
    }
  return TRUE;
}
