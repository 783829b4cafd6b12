/* cast: load arrays into `like`'s dtype whatever dtype the file has.
 *
 * Saving is the inner codec's (npy by default).  On load each array record
 * is read as it describes itself and converted to `like`'s dtype: a model
 * trained in float32 loads into a float64 `like`, int32 into int64.  A
 * conversion that would change a value (float64 -> float32 that rounds, an
 * integer out of range, a fraction into an integer) fails unless
 * lossy=allow, which converts as numpy's astype does.
 *
 * A codec rather than an npy option so that it composes with any inner
 * codec: cast(inner=compressed), cast(lossy=allow, inner=float16).  The
 * inner codec must be able to read a record without a template (npy,
 * float16 and compressed can).
 *
 * Options: lossy=deny|allow, inner=CODEC. */
#include "config.h"

#include <leafio/leafio.h>

typedef struct {
  LfCodec *inner;
  LfCastPolicy policy;
} CastOptions;

static const char *const lossy_choices[] = { "deny", "allow", NULL };

static gpointer
cast_parse_options (LfCodecOptions *options, GError **error)
{
  guint lossy;

  if (!lf_codec_options_get_choice (options, "lossy", lossy_choices, 0, &lossy, error))
    return NULL;
  LfCodec *inner = lf_codec_options_get_codec (options, "inner", LF_CODEC_DEFAULT, error);
  if (inner == NULL)
    return NULL;

  CastOptions *o = g_new0 (CastOptions, 1);
  o->inner = inner;
  o->policy = lossy == 1 ? LF_CAST_LOSSY : LF_CAST_EXACT;
  return o;
}

static void
cast_free_options (gpointer data)
{
  CastOptions *o = data;

  lf_codec_unref (o->inner);
  g_free (o);
}

static gboolean
cast_handles (const LfCodec *codec, const LfNode *leaf)
{
  const CastOptions *o = lf_codec_get_data (codec);

  return lf_codec_handles (o->inner, leaf);
}

static gboolean
cast_serialise (const LfCodec *codec, LfStream *out, const LfPath *path, LfNode *leaf,
                GError **error)
{
  const CastOptions *o = lf_codec_get_data (codec);

  return lf_codec_serialise (o->inner, out, path, leaf, error);
}

static LfNode *
cast_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path, LfNode *like,
                  GError **error)
{
  const CastOptions *o = lf_codec_get_data (codec);

  if (like == NULL || lf_node_get_kind (like) != LF_NODE_ARRAY)
    return lf_codec_deserialise (o->inner, in, path, like, error);

  /* Read the record as stored, then convert. */
  g_autoptr (LfNode) got = lf_codec_deserialise (o->inner, in, path, NULL, error);
  if (got == NULL)
    return NULL;
  LfDType want = lf_array_get_dtype (like);
  /* Another kind or shape goes back as read, unconverted (the caller's
   * check reports it): a conversion allocates only what `like` holds. */
  if (lf_node_get_kind (got) != LF_NODE_ARRAY || lf_array_get_dtype (got) == want
      || !lf_codec_check_array_like (like, want, lf_array_get_ndim (got),
                                     lf_array_get_shape (got), NULL))
    return g_steal_pointer (&got);

  GError *local = NULL;
  LfNode *cast = lf_array_cast (got, want, o->policy, &local);
  if (cast == NULL)
    {
      g_propagate_prefixed_error (error, local, "cannot load %s data into %s%s: ",
                                  lf_dtype_name (lf_array_get_dtype (got)),
                                  lf_dtype_name (want),
                                  o->policy == LF_CAST_EXACT ? " (cast(lossy=allow) would round it)" : "");
      return NULL;
    }
  return cast;
}

/* The inner codec's description of the record as stored; an array record
 * read for an array `like` decodes to `like`'s dtype (whether its values
 * fit is known only once they are read). */
static gboolean
cast_describe (const LfCodec *codec, LfStream *in, const LfNode *like, LfRecordInfo *info,
               GError **error)
{
  const CastOptions *o = lf_codec_get_data (codec);

  if (like == NULL || lf_node_get_kind (like) != LF_NODE_ARRAY)
    return lf_codec_describe (o->inner, in, like, info, error);
  if (!lf_codec_describe (o->inner, in, NULL, info, error))
    return FALSE;
  if (lf_record_info_get_kind (info) != LF_NODE_ARRAY)
    return TRUE;
  lf_record_info_set_decoded_dtype (info, lf_array_get_dtype (like));
  return TRUE;
}

/* Saving is the inner codec's, and loading converts element by element:
 * the record splits as the inner codec's does.  Not RAW_DATA: the bytes
 * on file are not those of the leaf a load returns. */
static void
cast_get_capabilities (const LfCodec *codec, LfCodecCapabilities *caps)
{
  const CastOptions *o = lf_codec_get_data (codec);
  LfCodecCapabilities inner;
  lf_codec_get_capabilities (o->inner, &inner);
  caps->flags |= inner.flags & (LF_CODEC_ELEMENTWISE | LF_CODEC_ROW_RANGES
                                | LF_CODEC_OFFSET_DEPENDENT | LF_CODEC_PARALLEL_SMALL_LEAVES);
  caps->data_alignment = inner.data_alignment;
  caps->inner = o->inner;
}

static const LfCodecClass cast_codec = {
  .struct_size = sizeof (LfCodecClass),
  .name = "cast",
  .description = "load arrays converted to like's dtype (lossy=allow for rounding casts)",
  .parse_options = cast_parse_options,
  .free_options = cast_free_options,
  .handles = cast_handles,
  .serialise = cast_serialise,
  .deserialise = cast_deserialise,
  .describe = cast_describe,
  .get_capabilities = cast_get_capabilities,
};

LF_PLUGIN_DEFINE ("cast", PACKAGE_VERSION,
                  "cast: dtype conversion on load", &cast_codec)
