/* Which codec wrote a record, and whether it may be decoded.
 *
 * A file does not name the codecs of its records.  Without a skeleton or
 * --spec, the reader asks the registered codecs that can describe a record
 * in turn (the default codec first) and takes the first description that
 * succeeds: an npy record is npy's, a record with the compressed codec's
 * magic is compressed's, and a custom codec with a header of its own is
 * recognised the same way.  Codecs whose records are npy records (float16,
 * the example int8-affine) are read as npy unless --spec names them. */
#include "config.h"

#include <string.h>

#include "reader-private.h"

/* The codecs to try: the default first, then the others that can describe,
 * by name.  A codec that needs options to resolve cannot be tried. */
static GPtrArray *
make_candidates (GError **error)
{
  LfRegistry *registry = lf_registry_get_default ();
  LfCodec *first = lf_registry_resolve (registry, LF_CODEC_DEFAULT, error);
  if (first == NULL)
    return NULL;
  GPtrArray *candidates = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_codec_unref);
  g_ptr_array_add (candidates, first);

  g_auto (GStrv) names = lf_registry_list (registry);
  for (gsize i = 0; names[i] != NULL; i++)
    {
      if (lf_registry_lookup (registry, names[i]) == lf_codec_get_class (first))
        continue;
      LfCodec *codec = lf_registry_resolve (registry, names[i], NULL);
      if (codec != NULL && lf_codec_can_describe (codec))
        g_ptr_array_add (candidates, codec);
      else
        lf_codec_unref (codec);
    }
  return candidates;
}

/* "93 4e 55 4d 50 59 01 00": the first bytes of the record, for errors. */
static char *
first_bytes (const guint8 *p, gsize available)
{
  GString *text = g_string_new (NULL);
  for (gsize i = 0; i < MIN (available, 8); i++)
    g_string_append_printf (text, "%s%02x", i ? " " : "", p[i]);
  return g_string_free (text, FALSE);
}

/* Each distinct reason once, with the names of the codecs that gave it:
 * "npy, float16: not an npy record: ...; compressed: ...". */
typedef struct {
  GPtrArray *messages;
  GPtrArray *names;   /* GString each, parallel to messages */
} Reasons;

static void
reasons_add (Reasons *reasons, const char *name, const char *message)
{
  for (guint i = 0; i < reasons->messages->len; i++)
    if (strcmp (g_ptr_array_index (reasons->messages, i), message) == 0)
      {
        g_string_append_printf (g_ptr_array_index (reasons->names, i), ", %s", name);
        return;
      }
  g_ptr_array_add (reasons->messages, g_strdup (message));
  g_ptr_array_add (reasons->names, g_string_new (name));
}

static char *
reasons_to_string (Reasons *reasons)
{
  GString *text = g_string_new (NULL);
  for (guint i = 0; i < reasons->messages->len; i++)
    g_string_append_printf (text, "%s%s: %s", i ? "; " : "",
                            ((GString *) g_ptr_array_index (reasons->names, i))->str,
                            (const char *) g_ptr_array_index (reasons->messages, i));
  return g_string_free (text, FALSE);
}

static void
string_free (gpointer string)
{
  g_string_free (string, TRUE);
}

LfCodec *
_cli_reader_recognise (CliReader *reader, const LfNode *like, LfRecordInfo *record,
                       GError **error)
{
  if (reader->candidates == NULL)
    {
      reader->candidates = make_candidates (error);
      if (reader->candidates == NULL)
        return NULL;
    }
  g_autoptr (LfStream) stream = _cli_reader_stream_at (reader, reader->offset,
                                                       LF_RECORD_SIZE_UNKNOWN);
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (string_free);
  Reasons reasons = { messages, names };
  gint first_code = LF_ERROR_CORRUPT;
  for (guint i = 0; i < reader->candidates->len; i++)
    {
      LfCodec *codec = g_ptr_array_index (reader->candidates, i);
      g_autoptr (GError) local = NULL;
      if (lf_codec_describe (codec, stream, like, record, &local))
        return codec;
      if (i == 0)
        first_code = local->code;
      reasons_add (&reasons, lf_codec_get_name (codec), local->message);
    }
  g_autofree char *start = first_bytes (reader->data + reader->offset,
                                        reader->size - reader->offset);
  g_autofree char *why = reasons_to_string (&reasons);
  /* The default codec's code: a cut npy record stays LF_ERROR_TRUNCATED. */
  g_set_error (error, LF_ERROR, first_code == LF_ERROR_TRUNCATED ? first_code : LF_ERROR_CORRUPT,
               "no codec recognises this record (it starts with %s): %s", start, why);
  return NULL;
}

/* ---- the check before decoding ------------------------------------------------ */

static void
explain_limit (GError *e)
{
  char *message = g_strdup_printf ("%s (the limit for a record read without --like: "
                                   "--max-record-size or " CLI_MAX_RECORD_SIZE_ENV
                                   " raises it, 0 lifts it)", e->message);
  g_free (e->message);
  e->message = message;
}

/* The bytes the record's leaf takes, when the codec did not say what it
 * decodes to: elements times the dtype's size (G_MAXUINT64 on overflow). */
static guint64
leaf_bytes (const LfRecordInfo *record)
{
  guint64 n = lf_record_info_get_n_elements (record);
  guint64 size = lf_dtype_size (lf_record_info_get_dtype (record));
  if (size != 0 && n > G_MAXUINT64 / size)
    return G_MAXUINT64;
  return n * size;
}

gboolean
_cli_check_before_decoding (const LfRecordInfo *record, const LfCodec *codec,
                            const LfNode *like, GError **error)
{
  if (lf_record_info_get_kind (record) == LF_NODE_NONE)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "codec '%s' described the record without saying what it holds",
                   lf_codec_get_name (codec));
      return FALSE;
    }
  guint64 cap = cli_max_record_size;
  GError *local = NULL;
  if (!lf_record_info_check_like (record, like, cap, &local))
    {
      if (like == NULL && g_error_matches (local, LF_ERROR, LF_ERROR_TOO_LARGE))
        explain_limit (local);
      g_propagate_error (error, local);
      return FALSE;
    }
  if (like != NULL || cap == 0
      || lf_record_info_get_decoded_size (record) != LF_RECORD_SIZE_UNKNOWN)
    return TRUE;
  guint64 size = leaf_bytes (record);
  if (size <= cap)
    return TRUE;
  g_autofree char *what = lf_record_info_to_string (record);
  local = g_error_new (LF_ERROR, LF_ERROR_TOO_LARGE, "%s: the record decodes to %"
                       G_GUINT64_FORMAT " bytes, expected at most %" G_GUINT64_FORMAT,
                       what, size, cap);
  explain_limit (local);
  g_propagate_error (error, local);
  return FALSE;
}
