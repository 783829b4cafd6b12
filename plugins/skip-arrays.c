/* skip-arrays: Equinox's documentation example as a codec.
 *
 * Arrays are neither written nor read: on load the tree keeps `like`'s
 * array, the same node.  Scalars go through the inner codec (npy by
 * default); opaque leaves are skipped as npy skips them.  A tree without
 * scalars gives an empty file, which loads back with the same spec.
 *
 * Option: inner=CODEC, the codec for the scalars. */
#include "config.h"

#include <leafio/leafio.h>

static gpointer
skip_arrays_parse_options (LfCodecOptions *options, GError **error)
{
  return lf_codec_options_get_codec (options, "inner", LF_CODEC_DEFAULT, error);
}

static void
skip_arrays_free_options (gpointer data)
{
  lf_codec_unref (data);
}

/* Asked about the tree's leaf on save and `like`'s on load: only scalars
 * have records, so both sides agree. */
static gboolean
skip_arrays_handles (const LfCodec *codec, const LfNode *leaf)
{
  return lf_node_get_kind (leaf) == LF_NODE_SCALAR
         && lf_codec_handles (lf_codec_get_data (codec), leaf);
}

static gboolean
skip_arrays_serialise (const LfCodec *codec, LfStream *out, const LfPath *path,
                       LfNode *leaf, GError **error)
{
  return lf_codec_serialise (lf_codec_get_data (codec), out, path, leaf, error);
}

static LfNode *
skip_arrays_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path,
                         LfNode *like, GError **error)
{
  /* Only called for scalars (see handles), or with no `like` by tools
   * listing a file's records, which are all scalar records. */
  return lf_codec_deserialise (lf_codec_get_data (codec), in, path, like, error);
}

/* Its records are the inner codec's records of scalars. */
static gboolean
skip_arrays_describe (const LfCodec *codec, LfStream *in, const LfNode *like,
                      LfRecordInfo *info, GError **error)
{
  return lf_codec_describe (lf_codec_get_data (codec), in, like, info, error);
}

/* Scalars only: no array record to split by rows, and small leaves all. */
static void
skip_arrays_get_capabilities (const LfCodec *codec, LfCodecCapabilities *caps)
{
  LfCodecCapabilities inner;
  lf_codec_get_capabilities (lf_codec_get_data (codec), &inner);
  caps->flags |= inner.flags & (LF_CODEC_PARALLEL_SMALL_LEAVES | LF_CODEC_OFFSET_DEPENDENT);
  caps->data_alignment = inner.data_alignment;
  caps->inner = lf_codec_get_data (codec);
}

static const LfCodecClass skip_arrays_codec = {
  .struct_size = sizeof (LfCodecClass),
  .name = "skip-arrays",
  .description = "arrays are not saved (like's array is kept on load); scalars as npy",
  .parse_options = skip_arrays_parse_options,
  .free_options = skip_arrays_free_options,
  .handles = skip_arrays_handles,
  .serialise = skip_arrays_serialise,
  .deserialise = skip_arrays_deserialise,
  .describe = skip_arrays_describe,
  .get_capabilities = skip_arrays_get_capabilities,
};

LF_PLUGIN_DEFINE ("skip-arrays", PACKAGE_VERSION,
                  "skip-arrays: save only the scalars of a tree", &skip_arrays_codec)
