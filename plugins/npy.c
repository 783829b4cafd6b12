/* The default codec: arrays and scalars as numpy.save writes them; every
 * other leaf is neither written nor read (it keeps `like`'s value).
 *
 * Option: align=N (a multiple of 64, at most 4096; default 0 = numpy's
 * layout) pads each header so the record's data starts at a multiple of N
 * from the start of the stream: np.load still reads it, and loading a
 * mapped file can hand out the data without copying. */
/* LfNpyHeader: a built-in codec ships with the library it is built with. */
#define LEAFIO_UNSTABLE_API
#include <leafio/leafio.h>

typedef struct {
  guint align;
} NpyOptions;

static gpointer
npy_parse_options (LfCodecOptions *options, GError **error)
{
  gint64 align = 0;
  if (!lf_codec_options_get_int (options, "align", 0, 4096, 0, &align, error))
    return NULL;
  if (align % 64 != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_OPTIONS,
                   "codec 'npy': option align=%" G_GINT64_FORMAT
                   ": expected a multiple of 64", align);
      return NULL;
    }
  if (align == 0)
    return NULL;
  NpyOptions *opts = g_new0 (NpyOptions, 1);
  opts->align = (guint) align;
  return opts;
}

static gboolean
npy_handles (const LfCodec *codec, const LfNode *leaf)
{
  LfNodeKind kind = lf_node_get_kind (leaf);
  return kind == LF_NODE_ARRAY || kind == LF_NODE_SCALAR;
}

static gboolean
npy_serialise (const LfCodec *codec, LfStream *out, const LfPath *path, LfNode *leaf,
               GError **error)
{
  const NpyOptions *opts = lf_codec_get_data (codec);
  return lf_npy_write (out, leaf, opts != NULL ? opts->align : 0, error);
}

static LfNode *
npy_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path, LfNode *like,
                 GError **error)
{
  LfNpyHeader header;
  if (!lf_npy_read_header (in, &header, error))
    return NULL;
  /* The check loads would make with a description (LF_CODEC_CHECKS_LIKE),
   * from the header, before any data is read. */
  if (!lf_codec_check_array_like (like, header.dtype, header.ndim, header.shape, error))
    return NULL;
  gsize n_elements;
  if (like != NULL && lf_node_get_kind (like) == LF_NODE_SCALAR
      && (!lf_shape_n_elements (header.ndim, header.shape, &n_elements) || n_elements != 1))
    {
      g_autofree char *shape = lf_shape_to_string (header.ndim, header.shape);
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH, "expected a %s scalar, found array of shape %s",
                   lf_dtype_name (lf_scalar_get_dtype (like)), shape);
      return NULL;
    }
  return lf_npy_read_data (in, &header, error);
}

static gboolean
npy_describe (const LfCodec *codec, LfStream *in, const LfNode *like, LfRecordInfo *info,
              GError **error)
{
  return lf_npy_describe (in, info, error);
}

/* The record is the array as it is in memory behind numpy's header, so it
 * splits by rows; align=N pads the header for the record's offset. */
static void
npy_get_capabilities (const LfCodec *codec, LfCodecCapabilities *caps)
{
  const NpyOptions *opts = lf_codec_get_data (codec);
  if (opts == NULL)
    return;
  caps->flags |= LF_CODEC_OFFSET_DEPENDENT;
  caps->data_alignment = opts->align;
}

static const LfCodecClass npy_codec = {
  .struct_size = sizeof (LfCodecClass),
  .flags = LF_CODEC_ELEMENTWISE | LF_CODEC_ROW_RANGES | LF_CODEC_RAW_DATA
           | LF_CODEC_CHECKS_LIKE,
  .name = "npy",
  .description = "arrays and scalars as numpy.save writes them (the default)",
  .parse_options = npy_parse_options,
  .free_options = g_free,
  .handles = npy_handles,
  .serialise = npy_serialise,
  .deserialise = npy_deserialise,
  .describe = npy_describe,
  .get_capabilities = npy_get_capabilities,
};

LF_PLUGIN_DEFINE ("npy", "1.0", "numpy-compatible records (Equinox's default)", &npy_codec)
