/* Casting array leaves between dtypes: numpy's safe-cast table, and a value
 * by value conversion that knows when it lost something.
 *
 * Every element goes through a small tagged value (an int64, a uint64 or a
 * pair of doubles), which holds any element of every dtype exactly; storing
 * it into the target reports whether the stored value is the same number.
 * The float widenings that checkpoints meet most (float16/bfloat16/float32
 * into float32/float64) skip the tagged path. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <leafio/leafio.h>

typedef enum { VALUE_INT, VALUE_UINT, VALUE_FLOAT, VALUE_COMPLEX } ValueKind;

typedef struct {
  ValueKind kind;
  gint64 i;
  guint64 u;
  double re, im;
} Value;

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

/* ---- loading and storing one element ------------------------------------------- */

static double
load_half (guint16 bits)
{
  double d;
  lf_convert_f16_to_f64 (&bits, &d, 1);
  return d;
}

static double
load_bf16 (guint16 bits)
{
  float f;
  lf_convert_bf16_to_f32 (&bits, &f, 1);
  return f;
}

static void
load_value (LfDType dtype, const guint8 *p, Value *v)
{
  memset (v, 0, sizeof *v);
  switch (dtype)
    {
    case LF_DTYPE_BOOL: v->kind = VALUE_UINT; v->u = *p != 0; break;
    case LF_DTYPE_INT8: v->kind = VALUE_INT; v->i = *(const gint8 *) p; break;
    case LF_DTYPE_INT16: { gint16 x; memcpy (&x, p, 2); v->kind = VALUE_INT; v->i = x; break; }
    case LF_DTYPE_INT32: { gint32 x; memcpy (&x, p, 4); v->kind = VALUE_INT; v->i = x; break; }
    case LF_DTYPE_INT64: { gint64 x; memcpy (&x, p, 8); v->kind = VALUE_INT; v->i = x; break; }
    case LF_DTYPE_UINT8: v->kind = VALUE_UINT; v->u = *p; break;
    case LF_DTYPE_UINT16: { guint16 x; memcpy (&x, p, 2); v->kind = VALUE_UINT; v->u = x; break; }
    case LF_DTYPE_UINT32: { guint32 x; memcpy (&x, p, 4); v->kind = VALUE_UINT; v->u = x; break; }
    case LF_DTYPE_UINT64: { guint64 x; memcpy (&x, p, 8); v->kind = VALUE_UINT; v->u = x; break; }
    case LF_DTYPE_FLOAT16: { guint16 x; memcpy (&x, p, 2); v->kind = VALUE_FLOAT; v->re = load_half (x); break; }
    case LF_DTYPE_BFLOAT16: { guint16 x; memcpy (&x, p, 2); v->kind = VALUE_FLOAT; v->re = load_bf16 (x); break; }
    case LF_DTYPE_FLOAT32: { float x; memcpy (&x, p, 4); v->kind = VALUE_FLOAT; v->re = x; break; }
    case LF_DTYPE_FLOAT64: { double x; memcpy (&x, p, 8); v->kind = VALUE_FLOAT; v->re = x; break; }
    case LF_DTYPE_COMPLEX64:
      {
        float x[2];
        memcpy (x, p, 8);
        v->kind = VALUE_COMPLEX; v->re = x[0]; v->im = x[1];
        break;
      }
    case LF_DTYPE_COMPLEX128:
      {
        double x[2];
        memcpy (x, p, 16);
        v->kind = VALUE_COMPLEX; v->re = x[0]; v->im = x[1];
        break;
      }
    default:
      g_assert_not_reached ();
    }
}

/* A double that holds the integer exactly, or FALSE. */
static gboolean
int_as_double (const Value *v, double *d)
{
  if (v->kind == VALUE_INT)
    {
      *d = (double) v->i;
      return *d < 9223372036854775808.0 && (gint64) *d == v->i;
    }
  *d = (double) v->u;
  return *d < 18446744073709551616.0 && (guint64) *d == v->u;
}

/* Stores a real number into a float dtype; TRUE when it kept its value. */
static gboolean
store_float (LfDType dtype, double d, gboolean d_exact, guint8 *p)
{
  gboolean nan = isnan (d);

  switch (dtype)
    {
    case LF_DTYPE_FLOAT64:
      memcpy (p, &d, 8);
      return d_exact;
    case LF_DTYPE_FLOAT32:
      {
        float f = (float) d;
        memcpy (p, &f, 4);
        return d_exact && (nan || (double) f == d);
      }
    case LF_DTYPE_FLOAT16:
      {
        guint16 h;
        lf_convert_f64_to_f16 (&d, &h, 1);
        memcpy (p, &h, 2);
        return d_exact && (nan || load_half (h) == d);
      }
    case LF_DTYPE_BFLOAT16:
      {
        /* ml_dtypes narrows through float32 */
        float f = (float) d;
        guint16 b;
        lf_convert_f32_to_bf16 (&f, &b, 1);
        memcpy (p, &b, 2);
        return d_exact && (nan || load_bf16 (b) == d);
      }
    default:
      g_assert_not_reached ();
    }
}

static gboolean
store_integer (LfDType dtype, const Value *v, guint8 *p)
{
  gsize size = lf_dtype_size (dtype);
  guint bits = (guint) size * 8;
  gboolean is_signed = lf_dtype_is_signed (dtype);
  guint64 out;
  gboolean exact;

  if (v->kind == VALUE_INT || v->kind == VALUE_UINT)
    {
      gboolean negative = v->kind == VALUE_INT && v->i < 0;
      guint64 magnitude = v->kind == VALUE_INT ? (guint64) v->i : v->u;
      out = magnitude;                                 /* wraps as numpy does */
      if (is_signed)
        {
          gint64 max = bits == 64 ? G_MAXINT64 : (G_GINT64_CONSTANT (1) << (bits - 1)) - 1;
          exact = negative ? v->i >= -max - 1 : magnitude <= (guint64) max;
        }
      else
        {
          guint64 max = bits == 64 ? G_MAXUINT64 : (G_GUINT64_CONSTANT (1) << bits) - 1;
          exact = !negative && magnitude <= max;
        }
    }
  else
    {
      double d = v->re;
      double t = trunc (d);
      double limit = ldexp (1.0, (int) bits - (is_signed ? 1 : 0));
      gint64 smax = bits == 64 ? G_MAXINT64 : (G_GINT64_CONSTANT (1) << (bits - 1)) - 1;
      guint64 umax = bits == 64 ? G_MAXUINT64 : (G_GUINT64_CONSTANT (1) << bits) - 1;
      exact = !isnan (d) && t == d && v->im == 0;
      if (isnan (d))
        out = 0;
      else if (t >= limit)                             /* saturate */
        out = is_signed ? (guint64) smax : umax, exact = FALSE;
      else if (is_signed && t < -limit)
        out = (guint64) (-smax - 1), exact = FALSE;
      else if (!is_signed && t < 0)
        out = 0, exact = FALSE;
      else
        out = is_signed ? (guint64) (gint64) t : (guint64) t;
    }
  switch (size)
    {
    case 1: { guint8 x = (guint8) out; memcpy (p, &x, 1); break; }
    case 2: { guint16 x = (guint16) out; memcpy (p, &x, 2); break; }
    case 4: { guint32 x = (guint32) out; memcpy (p, &x, 4); break; }
    default: memcpy (p, &out, 8); break;
    }
  return exact;
}

/* Stores `v` into `dtype` at `p`; TRUE when the stored value equals `v`. */
static gboolean
store_value (LfDType dtype, const Value *v, guint8 *p)
{
  if (dtype == LF_DTYPE_BOOL)
    {
      gboolean nonzero, exact;
      switch (v->kind)
        {
        case VALUE_INT: nonzero = v->i != 0; exact = v->i == 0 || v->i == 1; break;
        case VALUE_UINT: nonzero = v->u != 0; exact = v->u <= 1; break;
        default:
          nonzero = v->re != 0 || v->im != 0;
          exact = (v->re == 0 || v->re == 1) && v->im == 0;
          break;
        }
      *p = nonzero ? 1 : 0;
      return exact;
    }
  if (lf_dtype_is_integer (dtype))
    return store_integer (dtype, v, p);

  double re, im = 0;
  gboolean exact = TRUE;
  if (v->kind == VALUE_INT || v->kind == VALUE_UINT)
    exact = int_as_double (v, &re);
  else
    re = v->re, im = v->im;

  if (lf_dtype_is_float (dtype))
    return store_float (dtype, re, exact && im == 0, p);

  LfDType part = dtype == LF_DTYPE_COMPLEX64 ? LF_DTYPE_FLOAT32 : LF_DTYPE_FLOAT64;
  gsize part_size = lf_dtype_size (part);
  gboolean re_exact = store_float (part, re, exact, p);
  gboolean im_exact = store_float (part, im, TRUE, p + part_size);
  return re_exact && im_exact;
}

static char *
value_to_string (const Value *v)
{
  switch (v->kind)
    {
    case VALUE_INT: return g_strdup_printf ("%" G_GINT64_FORMAT, v->i);
    case VALUE_UINT: return g_strdup_printf ("%" G_GUINT64_FORMAT, v->u);
    case VALUE_FLOAT: return g_strdup_printf ("%.17g", v->re);
    default: return g_strdup_printf ("(%.17g%+.17gj)", v->re, v->im);
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
      gsize from_size = lf_dtype_size (from);
      gsize to_size = lf_dtype_size (dtype);
      gboolean check = policy == LF_CAST_EXACT;
      for (gsize i = 0; i < n; i++)
        {
          Value v;
          load_value (from, src + i * from_size, &v);
          if (!store_value (dtype, &v, dst + i * to_size) && check)
            {
              g_autofree char *text = value_to_string (&v);
              g_set_error (error, LF_ERROR, LF_ERROR_OVERFLOW,
                           "element %" G_GSIZE_FORMAT " (%s) of %s does not fit %s exactly",
                           i, text, lf_dtype_name (from), lf_dtype_name (dtype));
              return NULL;
            }
        }
    }
  return lf_array_new_take (dtype, ndim, shape, g_steal_pointer (&dst));
}
