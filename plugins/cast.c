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
  LfCodec *inner = lf_codec_options_get_codec (options, "inner", "npy", error);
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
  if (lf_node_get_kind (got) != LF_NODE_ARRAY || lf_array_get_dtype (got) == want)
    return g_steal_pointer (&got);   /* the caller's check reports a kind mismatch */

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

static const LfCodecClass cast_codec = {
  .struct_size = sizeof (LfCodecClass),
  .name = "cast",
  .description = "load arrays converted to like's dtype (lossy=allow for rounding casts)",
  .parse_options = cast_parse_options,
  .free_options = cast_free_options,
  .handles = cast_handles,
  .serialise = cast_serialise,
  .deserialise = cast_deserialise,
};

LF_PLUGIN_DEFINE ("cast", PACKAGE_VERSION,
                  "cast: dtype conversion on load", &cast_codec)
