/* Casting array leaves between dtypes: numpy's safe-cast table, and a value
 * by value conversion that knows when it lost something.
 *
 * Every element goes through the element model (element.c), which holds
 * any element of every dtype exactly and says what writing it into the
 * target lost.  The float widenings that checkpoints meet most
 * (float16/bfloat16/float32 into float32/float64) skip it. */
#include "config.h"

#include <string.h>

#include <leafio/leafio.h>

#include "element-private.h"

/* ---- the safe table ----------------------------------------------------------- */

/* numpy's can_cast (from, to, 'safe'): integers into wider integers, into
 * floats with a wider mantissa... as numpy 1.24 prints it, plus bfloat16. */
gboolean
lf_dtype_can_cast_safely (LfDType from, LfDType to)
{
  g_return_val_if_fail (from > LF_DTYPE_INVALID && from < LF_DTYPE_LAST, FALSE);
  g_return_val_if_fail (to > LF_DTYPE_INVALID && to < LF_DTYPE_LAST, FALSE);

  if (from == to || from == LF_DTYPE_BOOL)
    return TRUE;

  gsize from_size = lf_dtype_size (from);
  gsize to_size = lf_dtype_size (to);

  if (lf_dtype_is_integer (from))
    {
      gboolean from_signed = lf_dtype_is_signed (from);
      if (lf_dtype_is_integer (to))
        {
          if (from_signed && !lf_dtype_is_signed (to))
            return FALSE;
          if (from_signed == lf_dtype_is_signed (to))
            return to_size >= from_size;
          return to_size > from_size;          /* unsigned into signed */
        }
      if (to == LF_DTYPE_BFLOAT16 || to == LF_DTYPE_BOOL)
        return FALSE;
      if (lf_dtype_is_float (to))
        return to_size > from_size || to == LF_DTYPE_FLOAT64;
      /* complex: a part must be wider, and complex128 takes every integer */
      return to_size / 2 > from_size || to == LF_DTYPE_COMPLEX128;
    }
  switch (from)
    {
    case LF_DTYPE_FLOAT16:
    case LF_DTYPE_BFLOAT16:
      return to == LF_DTYPE_FLOAT32 || to == LF_DTYPE_FLOAT64
             || to == LF_DTYPE_COMPLEX64 || to == LF_DTYPE_COMPLEX128;
    case LF_DTYPE_FLOAT32:
      return to == LF_DTYPE_FLOAT64 || to == LF_DTYPE_COMPLEX64
             || to == LF_DTYPE_COMPLEX128;
    case LF_DTYPE_FLOAT64:
    case LF_DTYPE_COMPLEX64:
      return to == LF_DTYPE_COMPLEX128;
    default:
      return FALSE;
    }
}

/* ---- fast widenings ---------------------------------------------------------------- */

static gboolean
convert_fast (LfDType from, LfDType to, const guint8 *src, guint8 *dst, gsize n)
{
  if (from == LF_DTYPE_FLOAT16 && to == LF_DTYPE_FLOAT32)
    lf_convert_f16_to_f32 ((const guint16 *) src, (float *) dst, n);
  else if (from == LF_DTYPE_FLOAT16 && to == LF_DTYPE_FLOAT64)
    lf_convert_f16_to_f64 ((const guint16 *) src, (double *) dst, n);
  else if (from == LF_DTYPE_BFLOAT16 && to == LF_DTYPE_FLOAT32)
    lf_convert_bf16_to_f32 ((const guint16 *) src, (float *) dst, n);
  else if (from == LF_DTYPE_FLOAT32 && to == LF_DTYPE_FLOAT64)
    {
      for (gsize i = 0; i < n; i++)
        {
          float f;
          memcpy (&f, src + 4 * i, 4);
          double d = f;
          memcpy (dst + 8 * i, &d, 8);
        }
    }
  else
    return FALSE;
  return TRUE;
}

/* ---- lf_array_cast ------------------------------------------------------------------ */

LfNode *
lf_array_cast (LfNode *array, LfDType dtype, LfCastPolicy policy, GError **error)
{
  g_return_val_if_fail (array != NULL && lf_node_get_kind (array) == LF_NODE_ARRAY, NULL);
  g_return_val_if_fail (dtype > LF_DTYPE_INVALID && dtype < LF_DTYPE_LAST, NULL);
  g_return_val_if_fail (policy <= LF_CAST_LOSSY, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  LfDType from = lf_array_get_dtype (array);
  guint ndim = lf_array_get_ndim (array);
  const gsize *shape = lf_array_get_shape (array);

  if (from == dtype)
    return lf_node_ref (array);
  if (policy == LF_CAST_SAFE && !lf_dtype_can_cast_safely (from, dtype))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                   "cannot cast %s to %s safely (every value would not fit)",
                   lf_dtype_name (from), lf_dtype_name (dtype));
      return NULL;
    }
  if (lf_array_is_abstract (array))
    return lf_array_new_abstract (dtype, ndim, shape);

  gsize n = lf_array_get_n_elements (array);
  gsize n_bytes;
  if (!lf_shape_n_bytes (dtype, ndim, shape, &n_bytes))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_OVERFLOW,
                   "an array of %" G_GSIZE_FORMAT " elements of %s is too large",
                   n, lf_dtype_name (dtype));
      return NULL;
    }

  const guint8 *src = lf_array_get_data (array);
  g_autofree guint8 *dst = g_malloc (MAX (n_bytes, 1));

  if (!convert_fast (from, dtype, src, dst, n))
    {
      gssize lost = _lf_element_convert (from, src, dtype, dst, n, policy == LF_CAST_EXACT);
      if (lost >= 0)
        {
          LfElement v;
          lf_element_read (from, src + (gsize) lost * lf_dtype_size (from), &v);
          g_autofree char *text = lf_element_to_string (&v);
          g_set_error (error, LF_ERROR, LF_ERROR_OVERFLOW,
                       "element %" G_GSSIZE_FORMAT " (%s) of %s does not fit %s exactly",
                       lost, text, lf_dtype_name (from), lf_dtype_name (dtype));
          return NULL;
        }
    }
  return lf_array_new_take (dtype, ndim, shape, g_steal_pointer (&dst));
}
