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
 * Build: cc -shared -fPIC int8-affine.c $(pkg-config --cflags --libs leafio)
 *        -o int8-affine.so   (the file name must be the plugin name + .so) */
#include <math.h>

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

static LfNode *
int8_affine_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path,
                         LfNode *like, GError **error)
{
  g_autoptr (LfNode) header = lf_npy_read (in, error);
  if (header == NULL)
    return NULL;
  if (lf_array_get_dtype (header) != LF_DTYPE_FLOAT64 || lf_array_get_n_elements (header) != 2)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "int8-affine: expected a float64 [scale, zero_point] record");
      return NULL;
    }
  /* Refuse a wrong shape before reading (and allocating) the values: the
   * description comes from the record's header alone. */
  g_autoptr (LfRecordInfo) values_info = lf_record_info_new ();
  if (!lf_npy_describe (in, values_info, error))
    return NULL;
  if (lf_record_info_get_dtype (values_info) != LF_DTYPE_INT8)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "int8-affine: expected int8 values, found %s",
                   lf_dtype_name (lf_record_info_get_dtype (values_info)));
      return NULL;
    }
  if (!lf_codec_check_array_like (like, LF_DTYPE_FLOAT32, lf_record_info_get_ndim (values_info),
                                  lf_record_info_get_shape (values_info), error))
    return NULL;
  g_autoptr (LfNode) values = lf_npy_read (in, error);
  if (values == NULL)
    return NULL;

  const double *params = lf_array_get_data (header);
  const gint8 *q = lf_array_get_data (values);
  gsize n = lf_array_get_n_elements (values);
  float *x = g_new (float, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    x[i] = (float) ((q[i] - params[1]) * params[0]);
  return lf_array_new_take (LF_DTYPE_FLOAT32, lf_array_get_ndim (values),
                            lf_array_get_shape (values), x);
}

static const LfCodecClass int8_affine_codec = {
  .struct_size = sizeof (LfCodecClass),
  .name = "int8-affine",
  .description = "float32 arrays quantised to int8 (scale and zero point per array)",
  .handles = int8_affine_handles,
  .serialise = int8_affine_serialise,
  .deserialise = int8_affine_deserialise,
};

LF_PLUGIN_DEFINE ("int8-affine", "1.0", "an example quantising codec", &int8_affine_codec)
