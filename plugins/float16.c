/* float16: floating arrays stored as IEEE half precision.
 *
 * float32, float64 and bfloat16 arrays are converted to float16 (bit for
 * bit numpy's astype(np.float16)) and handed to the inner codec (npy by
 * default), so each record is what np.save writes for the float16 array.
 * On load the record is read for a float16 array of `like`'s shape and
 * converted back to `like`'s dtype.  Every other leaf goes to the inner
 * codec unchanged.
 *
 * Options: overflow=inf|error (error: a finite value that float16 cannot
 * hold fails the save instead of becoming an infinity), inner=CODEC. */
#include "config.h"

/* lf_stream_expect: a built-in codec ships with the library it is built with. */
#define LEAFIO_UNSTABLE_API
#include <leafio/leafio.h>

#include "float16-write.h"

typedef struct {
  LfCodec *inner;
  gboolean overflow_error;
  Float16RingCache rings;   /* the one mutable part: taken and given back atomically */
} Float16Options;

static const char *const overflow_choices[] = { "inf", "error", NULL };

static gpointer
float16_parse_options (LfCodecOptions *options, GError **error)
{
  guint overflow;

  if (!lf_codec_options_get_choice (options, "overflow", overflow_choices, 0, &overflow,
                                    error))
    return NULL;
  LfCodec *inner = lf_codec_options_get_codec (options, "inner", LF_CODEC_DEFAULT, error);
  if (inner == NULL)
    return NULL;

  Float16Options *o = g_new0 (Float16Options, 1);
  o->inner = inner;
  o->overflow_error = overflow == 1;
  return o;
}

static void
float16_free_options (gpointer data)
{
  Float16Options *o = data;

  lf_codec_unref (o->inner);
  float16_ring_cache_clear (&o->rings);
  g_free (o);
}

/* The dtypes this codec narrows. */
static gboolean
is_narrowed (const LfNode *leaf)
{
  if (leaf == NULL || lf_node_get_kind (leaf) != LF_NODE_ARRAY)
    return FALSE;
  LfDType dtype = lf_array_get_dtype (leaf);
  return dtype == LF_DTYPE_FLOAT32 || dtype == LF_DTYPE_FLOAT64 || dtype == LF_DTYPE_BFLOAT16;
}

static gboolean
float16_handles (const LfCodec *codec, const LfNode *leaf)
{
  const Float16Options *o = lf_codec_get_data (codec);

  return lf_codec_handles (o->inner, leaf);
}

static char *
element_text (LfDType dtype, gconstpointer data, gsize i)
{
  double value;

  if (dtype == LF_DTYPE_FLOAT32)
    value = ((const float *) data)[i];
  else if (dtype == LF_DTYPE_FLOAT64)
    value = ((const double *) data)[i];
  else
    {
      float f;
      lf_convert_bf16_to_f32 ((const guint16 *) data + i, &f, 1);
      value = f;
    }
  return g_strdup_printf ("%g", value);
}

/* `leaf` as a float16 array (transfer full), or NULL on overflow=error. */
static LfNode *
to_half (LfNode *leaf, gboolean overflow_error, GError **error)
{
  LfDType dtype = lf_array_get_dtype (leaf);
  gsize n = lf_array_get_n_elements (leaf);
  gconstpointer src = lf_array_get_data (leaf);
  g_autofree guint16 *half = g_new (guint16, MAX (n, 1));

  float16_convert (dtype, src, 0, n, half);

  if (overflow_error)
    {
      gssize bad = lf_convert_find_f16_overflow (dtype, src, half, n);
      if (bad >= 0)
        {
          g_autofree char *text = element_text (dtype, src, (gsize) bad);
          g_set_error (error, LF_ERROR, LF_ERROR_OVERFLOW,
                       "element %" G_GSSIZE_FORMAT " (%s) of the %s array overflows "
                       "float16 (largest finite value 65504); float16(overflow=inf) "
                       "stores it as an infinity", bad, text, lf_dtype_name (dtype));
          return NULL;
        }
    }
  return lf_array_new_take (LF_DTYPE_FLOAT16, lf_array_get_ndim (leaf),
                            lf_array_get_shape (leaf), g_steal_pointer (&half));
}

/* Whether the inner codec's record for a float16 array is an npy header
 * (with the inner codec's data alignment) and the halves as they are in
 * memory, which we can then write ourselves, converting as we go.  Said by
 * its capabilities (docs/PLUGINS.md), not by its name. */
static gboolean
inner_writes_raw_npy (const LfCodec *inner, guint *data_alignment)
{
  LfCodecCapabilities caps;
  lf_codec_get_capabilities (inner, &caps);
  *data_alignment = caps.data_alignment;
  return G_BYTE_ORDER == G_LITTLE_ENDIAN
         && (caps.flags & (LF_CODEC_ROW_RANGES | LF_CODEC_RAW_DATA))
                == (LF_CODEC_ROW_RANGES | LF_CODEC_RAW_DATA);
}

/* Writes `header` (the inner codec's npy header for the float16 array),
 * then `leaf` converted to float16. */
static gboolean
write_half_record (Float16Options *o, LfStream *out, LfNode *leaf, const char *header,
                   gsize header_len, GError **error)
{
  if (!lf_stream_write (out, header, header_len, error))
    return FALSE;
  lf_stream_expect (out, lf_array_get_n_elements (leaf) * sizeof (guint16));
  return float16_write_halves (&o->rings, out, leaf, error);
}

static gboolean
float16_serialise (const LfCodec *codec, LfStream *out, const LfPath *path, LfNode *leaf,
                   GError **error)
{
  Float16Options *o = lf_codec_get_data (codec);

  if (!is_narrowed (leaf) || lf_array_is_abstract (leaf))
    return lf_codec_serialise (o->inner, out, path, leaf, error);
  /* overflow=error must check every value before anything is written. */
  guint align;
  if (!o->overflow_error && inner_writes_raw_npy (o->inner, &align))
    {
      char header[LF_NPY_HEADER_MAX];
      gsize header_len = lf_npy_header_format (header, sizeof header, LF_DTYPE_FLOAT16,
                                               lf_array_get_ndim (leaf),
                                               lf_array_get_shape (leaf),
                                               lf_stream_tell (out), align);
      if (header_len > 0)   /* else a big alignment: the inner codec pads it */
        return write_half_record (o, out, leaf, header, header_len, error);
    }

  g_autoptr (LfNode) half = to_half (leaf, o->overflow_error, error);
  if (half == NULL)
    return FALSE;
  return lf_codec_serialise (o->inner, out, path, half, error);
}

/* A float16 array widened (or narrowed, for bfloat16) to `dtype`. */
static LfNode *
from_half (LfNode *half, LfDType dtype, GError **error)
{
  gsize n = lf_array_get_n_elements (half);
  const guint16 *src = lf_array_get_data (half);
  gsize size = MAX (n * lf_dtype_size (dtype), 1);
  gpointer dst = g_try_malloc (size);
  if (dst == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED,
                   "out of memory: cannot allocate %" G_GSIZE_FORMAT " bytes for a %s array",
                   size, lf_dtype_name (dtype));
      return NULL;
    }
  if (dtype == LF_DTYPE_FLOAT32)
    lf_convert_f16_to_f32 (src, dst, n);
  else if (dtype == LF_DTYPE_FLOAT64)
    lf_convert_f16_to_f64 (src, dst, n);
  else
    lf_convert_f16_to_bf16 (src, dst, n);
  return lf_array_new_take (dtype, lf_array_get_ndim (half), lf_array_get_shape (half), dst);
}

/* What the inner codec is asked for in place of `like`: a float16 array of
 * its shape (transfer full). */
static LfNode *
half_like_for (const LfNode *like)
{
  return lf_array_new_abstract (LF_DTYPE_FLOAT16, lf_array_get_ndim (like),
                                lf_array_get_shape (like));
}

static LfNode *
float16_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path, LfNode *like,
                     GError **error)
{
  const Float16Options *o = lf_codec_get_data (codec);

  if (!is_narrowed (like))
    return lf_codec_deserialise (o->inner, in, path, like, error);

  g_autoptr (LfNode) half_like = half_like_for (like);
  g_autoptr (LfNode) got = lf_codec_deserialise (o->inner, in, path, half_like, error);
  if (got == NULL)
    return NULL;
  /* Anything but a float16 array goes back as read: the caller's check
   * against `like` reports what was found. */
  if (lf_node_get_kind (got) != LF_NODE_ARRAY || lf_array_get_dtype (got) != LF_DTYPE_FLOAT16
      || lf_array_is_abstract (got))
    return g_steal_pointer (&got);
  return from_half (got, lf_array_get_dtype (like), error);
}

/* The inner codec's description, asked as deserialise asks it; a float16
 * array record read for a floating `like` decodes to `like`'s dtype. */
static gboolean
float16_describe (const LfCodec *codec, LfStream *in, const LfNode *like, LfRecordInfo *info,
                  GError **error)
{
  const Float16Options *o = lf_codec_get_data (codec);

  if (!is_narrowed (like))
    return lf_codec_describe (o->inner, in, like, info, error);
  g_autoptr (LfNode) half_like = half_like_for (like);
  if (!lf_codec_describe (o->inner, in, half_like, info, error))
    return FALSE;
  if (lf_record_info_get_kind (info) != LF_NODE_ARRAY
      || lf_record_info_get_dtype (info) != LF_DTYPE_FLOAT16)
    return TRUE;
  lf_record_info_set_decoded_dtype (info, lf_array_get_dtype (like));
  return TRUE;
}

/* Conversion is element by element, so the record splits by rows as the
 * inner codec's does (npy's: what collective MPI saves use), with its
 * alignment; the data is converted, never the leaf's own bytes. */
static void
float16_get_capabilities (const LfCodec *codec, LfCodecCapabilities *caps)
{
  const Float16Options *o = lf_codec_get_data (codec);
  LfCodecCapabilities inner;
  lf_codec_get_capabilities (o->inner, &inner);
  caps->flags |= inner.flags & (LF_CODEC_ROW_RANGES | LF_CODEC_OFFSET_DEPENDENT
                                | LF_CODEC_PARALLEL_SMALL_LEAVES);
  if (!(inner.flags & LF_CODEC_ELEMENTWISE))
    caps->flags &= ~(guint32) LF_CODEC_ELEMENTWISE;
  caps->data_alignment = inner.data_alignment;
  caps->inner = o->inner;
}

static const LfCodecClass float16_codec = {
  .struct_size = sizeof (LfCodecClass),
  .flags = LF_CODEC_ELEMENTWISE,
  .name = "float16",
  .description = "floating arrays stored as float16 npy records, restored to like's dtype",
  .parse_options = float16_parse_options,
  .free_options = float16_free_options,
  .handles = float16_handles,
  .serialise = float16_serialise,
  .deserialise = float16_deserialise,
  .describe = float16_describe,
  .get_capabilities = float16_get_capabilities,
};

LF_PLUGIN_DEFINE ("float16", PACKAGE_VERSION,
                  "float16: half-precision storage of floating arrays", &float16_codec)
