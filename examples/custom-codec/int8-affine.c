/* int8-affine: an example out-of-tree codec plugin.
 *
 * float32 arrays are quantised to int8 with an affine map,
 *   x ~= (q - zero_point) * scale,
 * chosen per array so that its minimum and maximum land on -128 and 127.
 * A record is two npy records back to back: a float64 array
 * [scale, zero_point], then the int8 array of the same shape.  Both load in
 * numpy (np.load twice), so the file stays readable without this plugin.
 *
 * Other leaves get no record (see `handles`), and keep `like`'s value on load.
 *
 * The codec describes its records from their two headers without decoding
 * them (`describe`), so loads refuse a wrong `like` before reading the
 * values and `leafio inspect` lists the records; it declares what it can
 * do (`flags`): each value is quantised on its own, but the scale is the
 * whole array's, so a record cannot be made or read by row blocks.
 *
 * Build: cc -shared -fPIC int8-affine.c $(pkg-config --cflags --libs leafio)
 *        -o int8-affine.so   (the file name must be the plugin name + .so) */
#include <math.h>
#include <string.h>

#include <leafio/leafio.h>

static gboolean
int8_affine_handles (const LfCodec *codec, const LfNode *leaf)
{
  return lf_node_get_kind (leaf) == LF_NODE_ARRAY
         && lf_array_get_dtype (leaf) == LF_DTYPE_FLOAT32;
}

static gboolean
int8_affine_serialise (const LfCodec *codec, LfStream *out, const LfPath *path,
                       LfNode *leaf, GError **error)
{
  gsize n = lf_array_get_n_elements (leaf);
  const float *x = lf_array_get_data (leaf);
  if (x == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "int8-affine cannot save an abstract array");
      return FALSE;
    }

  double lo = n ? x[0] : 0, hi = n ? x[0] : 0;
  for (gsize i = 0; i < n; i++)
    {
      if (!isfinite (x[i]))
        {
          g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                       "int8-affine cannot store element %" G_GSIZE_FORMAT " (%g)", i, x[i]);
          return FALSE;
        }
      lo = MIN (lo, x[i]);
      hi = MAX (hi, x[i]);
    }
  double scale = hi > lo ? (hi - lo) / 255.0 : (lo != 0 ? fabs (lo) : 1.0);
  double zero_point = -128.0 - round (lo / scale);

  gint8 *q = g_new (gint8, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    q[i] = (gint8) CLAMP (round (x[i] / scale) + zero_point, -128, 127);

  double params[2] = { scale, zero_point };
  gsize two = 2;
  g_autoptr (LfNode) header = lf_array_new_copy (LF_DTYPE_FLOAT64, 1, &two, params);
  g_autoptr (LfNode) values = lf_array_new_take (LF_DTYPE_INT8, lf_array_get_ndim (leaf),
                                                 lf_array_get_shape (leaf), q);
  return lf_npy_write (out, header, 0, error) && lf_npy_write (out, values, 0, error);
}

/* The headers of the two records, checked: [scale, zero_point] ... */
static gboolean
check_params (const LfNpyHeader *params, GError **error)
{
  if (params->dtype == LF_DTYPE_FLOAT64 && params->ndim == 1 && params->shape[0] == 2)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
               "int8-affine: expected a float64 [scale, zero_point] record");
  return FALSE;
}

/* ... and the values. */
static gboolean
check_values (const LfNpyHeader *values, GError **error)
{
  if (values->dtype == LF_DTYPE_INT8)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
               "int8-affine: expected int8 values, found %s", values->descr);
  return FALSE;
}

/* Parses the npy header that starts `offset` bytes past the stream's
 * position, without consuming anything. */
static gboolean
peek_header_at (LfStream *in, gsize offset, LfNpyHeader *header, GError **error)
{
  /* Magic, version and the header length: 2 bytes in format 1.0, 4 after. */
  const guint8 *p = lf_stream_peek (in, offset + 12, error);
  if (p == NULL)
    return FALSE;
  p += offset;
  if (memcmp (p, LF_NPY_MAGIC, LF_NPY_MAGIC_LEN) != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "int8-affine: no npy record of values at byte %" G_GSIZE_FORMAT, offset);
      return FALSE;
    }
  gsize size = p[6] == 1 ? 10 + (gsize) (p[8] | p[9] << 8)
                         : 12 + (gsize) (p[8] | p[9] << 8 | p[10] << 16 | (guint32) p[11] << 24);
  if (size > LF_STREAM_PEEK_MAX - offset)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "int8-affine: an npy header of %" G_GSIZE_FORMAT " bytes", size);
      return FALSE;
    }
  p = lf_stream_peek (in, offset + size, error);
  return p != NULL && lf_npy_header_parse (p + offset, size, header, error);
}

static gboolean
int8_affine_describe (const LfCodec *codec, LfStream *in, const LfNode *like,
                      LfRecordInfo *info, GError **error)
{
  LfNpyHeader params, values;
  if (!lf_npy_peek_header (in, &params, error) || !check_params (&params, error))
    return FALSE;
  gsize values_at = params.header_size + params.data_size;
  if (!peek_header_at (in, values_at, &values, error) || !check_values (&values, error))
    return FALSE;
  /* Loads give float32 arrays of the values' shape. */
  lf_record_info_set_leaf (info, LF_NODE_ARRAY, LF_DTYPE_FLOAT32, values.ndim, values.shape);
  lf_record_info_set_stored_dtype (info, LF_DTYPE_INT8);
  lf_record_info_set_sizes (info, (guint64) values_at + values.header_size + values.data_size,
                            values_at + values.header_size,
                            (guint64) values.data_size * sizeof (float));
  return TRUE;
}

static LfNode *
int8_affine_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path,
                         LfNode *like, GError **error)
{
  /* Loads have checked the description against `like`; callers that
   * read records themselves get the same checks here. */
  LfNpyHeader params_header, values_header;
  if (!lf_npy_read_header (in, &params_header, error) || !check_params (&params_header, error))
    return NULL;
  g_autoptr (LfNode) header = lf_npy_read_data (in, &params_header, error);
  if (header == NULL || !lf_npy_read_header (in, &values_header, error)
      || !check_values (&values_header, error)
      || !lf_codec_check_array_like (like, LF_DTYPE_FLOAT32, values_header.ndim,
                                     values_header.shape, error))
    return NULL;
  g_autoptr (LfNode) values = lf_npy_read_data (in, &values_header, error);
  if (values == NULL)
    return NULL;

  const double *params = lf_array_get_data (header);
  const gint8 *q = lf_array_get_data (values);
  gsize n = lf_array_get_n_elements (values);
  /* The size comes from the file: a failure is an error, not an abort. */
  float *x = g_try_new (float, MAX (n, 1));
  if (x == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED,
                   "int8-affine: out of memory for %" G_GSIZE_FORMAT " values", n);
      return NULL;
    }
  for (gsize i = 0; i < n; i++)
    x[i] = (float) ((q[i] - params[1]) * params[0]);
  return lf_array_new_take (LF_DTYPE_FLOAT32, lf_array_get_ndim (values),
                            lf_array_get_shape (values), x);
}

static const LfCodecClass int8_affine_codec = {
  .struct_size = sizeof (LfCodecClass),
  /* Saves of many small leaves may encode them on several threads.  Not
   * LF_CODEC_ROW_RANGES: the scale is the whole array's. */
  .flags = LF_CODEC_PARALLEL_SMALL_LEAVES,
  .name = "int8-affine",
  .description = "float32 arrays quantised to int8 (scale and zero point per array)",
  .handles = int8_affine_handles,
  .serialise = int8_affine_serialise,
  .deserialise = int8_affine_deserialise,
  .describe = int8_affine_describe,
};

LF_PLUGIN_DEFINE ("int8-affine", "1.0", "an example quantising codec", &int8_affine_codec)
