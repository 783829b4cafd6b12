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

/* The descriptions of the two records, checked: [scale, zero_point] ... */
static gboolean
check_params (const LfRecordInfo *params, GError **error)
{
  if (lf_record_info_get_dtype (params) == LF_DTYPE_FLOAT64
      && lf_record_info_get_ndim (params) == 1 && lf_record_info_get_shape (params)[0] == 2)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
               "int8-affine: expected a float64 [scale, zero_point] record");
  return FALSE;
}

/* ... and the values. */
static gboolean
check_values (const LfRecordInfo *values, GError **error)
{
  if (lf_record_info_get_dtype (values) == LF_DTYPE_INT8)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT, "int8-affine: expected int8 values, found %s",
               lf_dtype_name (lf_record_info_get_dtype (values)));
  return FALSE;
}

/* Describes the two npy records at the stream's position from their
 * headers, without consuming anything. */
static gboolean
describe_parts (LfStream *in, LfRecordInfo *params, LfRecordInfo *values, GError **error)
{
  if (!lf_npy_describe (in, params, error) || !check_params (params, error))
    return FALSE;
  guint64 values_at = lf_record_info_get_stored_size (params);
  if (!lf_npy_describe_at (in, values_at, values, error))
    {
      g_prefix_error (error, "int8-affine: the values record at byte %" G_GUINT64_FORMAT ": ",
                      values_at);
      return FALSE;
    }
  return check_values (values, error);
}

static gboolean
int8_affine_describe (const LfCodec *codec, LfStream *in, const LfNode *like,
                      LfRecordInfo *info, GError **error)
{
  g_autoptr (LfRecordInfo) params = lf_record_info_new ();
  g_autoptr (LfRecordInfo) values = lf_record_info_new ();
  if (!describe_parts (in, params, values, error))
    return FALSE;
  guint64 values_at = lf_record_info_get_stored_size (params);
  /* Loads give float32 arrays of the values' shape. */
  lf_record_info_set_leaf (info, LF_NODE_ARRAY, LF_DTYPE_FLOAT32,
                           lf_record_info_get_ndim (values), lf_record_info_get_shape (values));
  lf_record_info_set_stored_dtype (info, LF_DTYPE_INT8);
  lf_record_info_set_sizes (info, values_at + lf_record_info_get_stored_size (values),
                            values_at + lf_record_info_get_header_size (values),
                            lf_record_info_get_decoded_size (values) * sizeof (float));
  return TRUE;
}

static LfNode *
int8_affine_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path,
                         LfNode *like, GError **error)
{
  /* Loads have checked the description against `like`; callers that
   * read records themselves get the same checks here, before anything is
   * read or allocated. */
  g_autoptr (LfRecordInfo) params_info = lf_record_info_new ();
  g_autoptr (LfRecordInfo) values_info = lf_record_info_new ();
  if (!describe_parts (in, params_info, values_info, error)
      || !lf_codec_check_array_like (like, LF_DTYPE_FLOAT32,
                                     lf_record_info_get_ndim (values_info),
                                     lf_record_info_get_shape (values_info), error))
    return NULL;
  g_autoptr (LfNode) header = lf_npy_read (in, error);
  g_autoptr (LfNode) values = header != NULL ? lf_npy_read (in, error) : NULL;
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
