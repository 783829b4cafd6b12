/* Reading a file record by record, each record described by its codec.
 *
 * The file is mapped, so codecs describe records from the mapped bytes
 * (lf_codec_describe peeks at a record's first bytes) and records are
 * skipped by the stored size their description gives, never decoded to
 * learn it unless the codec cannot tell.  Which codec wrote a record is
 * not in the file: the reader's codec says it when one is set, otherwise
 * the registered codecs are asked in turn (reader-codecs.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "cli-private.h"
#include "reader-private.h"

static GMappedFile *
map_file (const char *filename, GError **error)
{
  /* O_NONBLOCK: a FIFO given as the file is refused below, not waited on. */
  int fd = g_open (filename, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int errsv = errno;
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot open: %s", filename,
                   g_strerror (errsv));
      return NULL;
    }
  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: not a regular file", filename);
      close (fd);
      return NULL;
    }
  GMappedFile *mapped = NULL;
  if (st.st_size > 0)
    {
      g_autoptr (GError) map_error = NULL;
      mapped = g_mapped_file_new_from_fd (fd, FALSE, &map_error);
      if (mapped == NULL)
        g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot map: %s", filename,
                     map_error->message);
    }
  close (fd);
  return mapped;   /* NULL without an error: an empty file, which cannot be mapped */
}

/* stdin ("-"): mapped when it is a regular file (`< file`), otherwise (a
 * pipe, a FIFO) read to its end into memory, since records are described
 * from their bytes in place. */
static gboolean
open_stdin (GMappedFile **mapped, GBytes **bytes, GError **error)
{
  if (!cli_claim_stdin (error))
    return FALSE;
  struct stat st;
  if (fstat (STDIN_FILENO, &st) == 0 && S_ISREG (st.st_mode)
      && lseek (STDIN_FILENO, 0, SEEK_CUR) == 0)
    {
      if (st.st_size == 0)
        return TRUE;
      g_autoptr (GError) map_error = NULL;
      *mapped = g_mapped_file_new_from_fd (STDIN_FILENO, FALSE, &map_error);
      if (*mapped != NULL)
        return TRUE;
    }
  *bytes = cli_read_stdin (error);
  return *bytes != NULL;
}

CliReader *
cli_reader_open (const char *filename, GError **error)
{
  g_return_val_if_fail (filename != NULL, NULL);

  GError *local = NULL;
  GMappedFile *mapped = NULL;
  GBytes *bytes = NULL;
  if (cli_is_stdio (filename))
    {
      filename = CLI_STDIN_NAME;
      if (!open_stdin (&mapped, &bytes, error))
        return NULL;
    }
  else
    mapped = map_file (filename, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return NULL;
    }
  CliReader *reader = g_new0 (CliReader, 1);
  reader->filename = g_strdup (filename);
  reader->mapped = mapped;
  reader->bytes = mapped != NULL ? cli_mapped_input_get_bytes (filename, mapped)
                  : bytes != NULL ? bytes
                                  : g_bytes_new (NULL, 0);
  reader->data = g_bytes_get_data (reader->bytes, &reader->size);
  reader->record = lf_record_info_new ();
  return reader;
}

void
cli_reader_free (CliReader *reader)
{
  if (reader == NULL)
    return;
  lf_codec_unref (reader->codec);
  g_clear_pointer (&reader->candidates, g_ptr_array_unref);
  lf_record_info_free (reader->record);
  lf_codec_unref (reader->record_codec);
  lf_node_unref (reader->record_like);
  lf_path_free (reader->record_path);
  lf_node_unref (reader->decoded);
  g_bytes_unref (reader->bytes);
  if (reader->mapped != NULL)
    g_mapped_file_unref (reader->mapped);
  g_free (reader->filename);
  g_free (reader->leaf_path);
  g_free (reader);
}

void
cli_reader_set_codec (CliReader *reader, LfCodec *codec)
{
  if (codec != NULL)
    lf_codec_ref (codec);
  lf_codec_unref (reader->codec);
  reader->codec = codec;
}

const char *
cli_reader_get_filename (CliReader *reader)
{
  return reader->filename;
}

guint64
cli_reader_get_size (CliReader *reader)
{
  return reader->size;
}

guint64
cli_reader_get_offset (CliReader *reader)
{
  return reader->offset;
}

guint
cli_reader_get_index (CliReader *reader)
{
  return reader->index;
}

void
cli_reader_rewind (CliReader *reader)
{
  reader->offset = 0;
  reader->index = 0;
}

gssize
cli_reader_read_at (gpointer user_data, void *buffer, gsize count, guint64 offset,
                    GError **error)
{
  CliReader *reader = user_data;
  if (offset >= reader->size)
    return 0;
  gsize n = (gsize) MIN ((guint64) count, reader->size - offset);
  memcpy (buffer, reader->data + offset, n);
  return (gssize) n;
}

gboolean
cli_reader_at_end (CliReader *reader)
{
  return reader->offset >= reader->size;
}

void
cli_reader_prefix_error (CliReader *reader, guint index, guint64 offset, GError **error)
{
  if (reader->leaf_path != NULL)
    g_prefix_error (error, "%s: record %u (offset %" G_GUINT64_FORMAT ") (%s): ",
                    reader->filename, index, offset,
                    reader->leaf_path[0] != '\0' ? reader->leaf_path : "root");
  else
    g_prefix_error (error, "%s: record %u (offset %" G_GUINT64_FORMAT "): ", reader->filename,
                    index, offset);
}

void
cli_reader_set_leaf_path (CliReader *reader, const char *path)
{
  g_free (reader->leaf_path);
  reader->leaf_path = g_strdup (path);
}

LfStream *
_cli_reader_stream_at (CliReader *reader, guint64 offset, guint64 size)
{
  if (size == LF_RECORD_SIZE_UNKNOWN || size > reader->size - offset)
    size = reader->size - offset;
  /* The file up to the record's end, positioned at its start: codecs see
   * the offsets they would in a load (alignment, errors) and cannot read
   * past the record. */
  g_autoptr (GBytes) bytes = g_bytes_new_from_bytes (reader->bytes, 0, offset + size);
  LfStream *stream = lf_stream_new_for_bytes (bytes);
  lf_stream_set_name (stream, reader->filename);
  if (!lf_stream_skip (stream, offset, NULL))
    g_warn_if_reached ();   /* the bytes are there */
  return stream;
}

GBytes *
cli_reader_get_record_bytes (CliReader *reader, const CliRecordInfo *info)
{
  g_return_val_if_fail (info->offset + info->size <= reader->size, NULL);
  return g_bytes_new_from_bytes (reader->bytes, info->offset, info->size);
}

gboolean
cli_record_is_npy_file (const CliRecordInfo *info)
{
  if (info->codec == NULL)
    return FALSE;
  const LfRecordInfo *record = info->record;
  return lf_codec_has_flags (info->codec, LF_CODEC_ROW_RANGES | LF_CODEC_RAW_DATA)
         && lf_record_info_get_kind (record) == LF_NODE_ARRAY
         && lf_record_info_get_stored_dtype (record) == lf_record_info_get_dtype (record);
}

/* ---- the record at the reader's offset --------------------------------------- */

/* What the reader learns of the record it is about to describe, for
 * cli_reader_decode: the codec, the leaf and path it is read for. */
static void
remember_record (CliReader *reader, LfCodec *codec, LfNode *like, const LfPath *path)
{
  lf_codec_ref (codec);
  lf_codec_unref (reader->record_codec);
  reader->record_codec = codec;
  if (like != NULL)
    lf_node_ref (like);
  lf_node_unref (reader->record_like);
  reader->record_like = like;
  lf_path_free (reader->record_path);
  if (path != NULL)
    reader->record_path = lf_path_copy (path);
  else
    {
      reader->record_path = lf_path_new ();
      lf_path_push_index (reader->record_path, reader->index);
    }
  reader->record_offset = reader->offset;
  g_clear_pointer (&reader->decoded, lf_node_unref);
}

/* The record at reader->record_offset decoded by its codec, once its
 * description (when there is one) passed the check before decoding: an
 * array or scalar that fits that description, having used
 * `size` bytes (LF_RECORD_SIZE_UNKNOWN: any); `*used` receives what it
 * used. */
static LfNode *
decode_record (CliReader *reader, guint64 size, guint64 *used, GError **error)
{
  const char *name = lf_codec_get_name (reader->record_codec);
  if (lf_record_info_get_kind (reader->record) != LF_NODE_NONE
      && !_cli_check_before_decoding (reader->record, reader->record_codec,
                                      reader->record_like, error))
    return NULL;
  g_autoptr (LfStream) stream = _cli_reader_stream_at (reader, reader->record_offset, size);
  g_autoptr (LfNode) leaf = lf_codec_deserialise (reader->record_codec, stream,
                                                  reader->record_path, reader->record_like,
                                                  error);
  if (leaf == NULL)
    return NULL;
  LfNodeKind kind = lf_node_get_kind (leaf);
  if (kind != LF_NODE_ARRAY && kind != LF_NODE_SCALAR)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "codec '%s' returned a %s, not an array or scalar", name,
                   lf_node_kind_name (kind));
      return NULL;
    }
  *used = lf_stream_tell (stream) - reader->record_offset;
  if (size != LF_RECORD_SIZE_UNKNOWN && *used != size)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT, "codec '%s' read %" G_GUINT64_FORMAT
                   " bytes of a record it described as %" G_GUINT64_FORMAT, name, *used, size);
      return NULL;
    }
  /* What was printed and checked must be what is written. */
  if (lf_record_info_get_kind (reader->record) != LF_NODE_NONE
      && !lf_record_info_check_like (reader->record, leaf, 0, error))
    {
      g_prefix_error (error, "codec '%s' decoded a leaf its description does not fit: ", name);
      return NULL;
    }
  return g_steal_pointer (&leaf);
}

/* The description of a record that only decoding could tell. */
static void
describe_from_leaf (LfRecordInfo *record, LfNode *leaf, guint64 stored_size)
{
  LfDType dtype;
  guint ndim;
  const gsize *shape;
  cli_leaf_get_type (leaf, &dtype, &ndim, &shape);
  lf_record_info_set_leaf (record, lf_node_get_kind (leaf), dtype, ndim, shape);
  guint64 n_bytes = lf_node_get_kind (leaf) == LF_NODE_ARRAY ? lf_array_get_n_bytes (leaf)
                                                             : lf_dtype_size (dtype);
  lf_record_info_set_sizes (record, stored_size, LF_RECORD_SIZE_UNKNOWN, n_bytes);
}

/* Describes the record at the reader's offset into reader->record, with
 * `codec`, else the reader's, else the codec that recognises it. */
static gboolean
describe_current (CliReader *reader, LfCodec *codec, LfNode *like, const LfPath *path,
                  GError **error)
{
  gboolean described = FALSE;
  if (codec == NULL)
    codec = reader->codec;
  if (codec == NULL)
    {
      codec = _cli_reader_recognise (reader, like, reader->record, error);
      described = codec != NULL;
    }
  if (codec == NULL)
    return FALSE;
  remember_record (reader, codec, like, path);
  if (!described && !lf_codec_can_describe (codec) && like != NULL)
    {
      /* As loads do: the leaf of `like` bounds what decoding allocates. */
      lf_record_info_reset (reader->record);
      guint64 used;
      reader->decoded = decode_record (reader, LF_RECORD_SIZE_UNKNOWN, &used, error);
      if (reader->decoded == NULL)
        return FALSE;
      describe_from_leaf (reader->record, reader->decoded, used);
      return TRUE;
    }
  if (!described)
    {
      g_autoptr (LfStream) stream = _cli_reader_stream_at (reader, reader->offset,
                                                           LF_RECORD_SIZE_UNKNOWN);
      if (!lf_codec_describe (codec, stream, like, reader->record, error))
        return FALSE;
    }
  /* A record that does not fit its skeleton leaf is an error even where
   * nothing decodes it (inspect); without one, only decoding is bounded. */
  return like == NULL || _cli_check_before_decoding (reader->record, codec, like, error);
}

/* Fills `info->size` from the description, decoding the record when its
 * codec cannot tell, and checks that the record fits the file. */
static gboolean
measure (CliReader *reader, const LfNode *like, CliRecordInfo *info, GError **error)
{
  const char *name = lf_codec_get_name (reader->record_codec);
  guint64 available = reader->size - reader->offset;
  guint64 size = lf_record_info_get_stored_size (reader->record);
  if (size == LF_RECORD_SIZE_UNKNOWN && reader->decoded == NULL)
    {
      reader->decoded = decode_record (reader, size, &size, error);
      if (reader->decoded == NULL)
        return FALSE;
    }
  info->size = size;
  if (size > available)
    {
      g_autofree char *what = lf_record_info_to_string (reader->record);
      g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                   "%s (%s): expected a record of %" G_GUINT64_FORMAT " bytes, found %"
                   G_GUINT64_FORMAT, what, name, size, available);
      return FALSE;
    }
  if (size == 0 && like == NULL)
    {
      /* Without a skeleton nothing else would move the reader on. */
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED, "codec '%s' describes a record "
                   "of no bytes, which only a skeleton (--like) can place", name);
      return FALSE;
    }
  return TRUE;
}

gboolean
cli_reader_next_info_for_leaf (CliReader *reader, LfCodec *codec, LfNode *like,
                               const LfPath *path, CliRecordInfo *info, GError **error)
{
  g_return_val_if_fail (!cli_reader_at_end (reader), FALSE);

  *info = (CliRecordInfo) { .index = reader->index, .offset = reader->offset,
                            .size = reader->size - reader->offset };
  g_clear_pointer (&reader->record_codec, lf_codec_unref);
  gboolean ok = describe_current (reader, codec, like, path, error);
  if (reader->record_codec != NULL)
    {
      info->codec = reader->record_codec;
      info->record = reader->record;
    }
  if (!ok || !measure (reader, like, info, error))
    {
      cli_reader_prefix_error (reader, reader->index, reader->offset, error);
      return FALSE;
    }
  reader->offset += info->size;
  reader->index++;
  return TRUE;
}

gboolean
cli_reader_next_info (CliReader *reader, CliRecordInfo *info, GError **error)
{
  return cli_reader_next_info_for_leaf (reader, NULL, NULL, NULL, info, error);
}

LfNode *
cli_reader_decode (CliReader *reader, const CliRecordInfo *info, GError **error)
{
  g_return_val_if_fail (info->codec != NULL && info->codec == reader->record_codec
                        && info->offset == reader->record_offset, NULL);

  if (reader->decoded != NULL)
    return lf_node_ref (reader->decoded);
  guint64 used;
  LfNode *leaf = decode_record (reader, info->size, &used, error);
  if (leaf == NULL)
    cli_reader_prefix_error (reader, info->index, info->offset, error);
  return leaf;
}

LfNode *
cli_reader_next_leaf (CliReader *reader, CliRecordInfo *info, GError **error)
{
  if (!cli_reader_next_info (reader, info, error))
    return NULL;
  return cli_reader_decode (reader, info, error);
}
