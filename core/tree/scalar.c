/* Scalar leaves: typed 0-d values and their Python-style conversions. */
#include "config.h"
#include <math.h>
#include <string.h>
#include "tree-private.h"
#include "half-private.h"

LfNode *
lf_scalar_new (LfDType dtype, gconstpointer value)
{
  gsize size = lf_dtype_size (dtype);
  g_return_val_if_fail (size > 0, NULL);
  g_return_val_if_fail (value != NULL, NULL);
  LfNode *node = g_new0 (LfNode, 1);
  g_atomic_ref_count_init (&node->ref_count);
  node->kind = LF_NODE_SCALAR;
  node->scalar.dtype = dtype;
  memcpy (node->scalar.value.bytes, value, size);
  return node;
}

LfNode *
lf_scalar_new_bool (gboolean value)
{
  guint8 b = value ? 1 : 0;
  return lf_scalar_new (LF_DTYPE_BOOL, &b);
}

LfNode *
lf_scalar_new_int (gint64 value)
{
  return lf_scalar_new (LF_DTYPE_INT64, &value);
}

LfNode *
lf_scalar_new_float (double value)
{
  return lf_scalar_new (LF_DTYPE_FLOAT64, &value);
}

LfNode *
lf_scalar_new_complex (double real, double imag)
{
  double v[2] = { real, imag };
  return lf_scalar_new (LF_DTYPE_COMPLEX128, v);
}

#define RETURN_IF_NOT_SCALAR(node, val) \
  g_return_val_if_fail ((node) != NULL && (node)->kind == LF_NODE_SCALAR, (val))

LfDType
lf_scalar_get_dtype (const LfNode *node)
{
  RETURN_IF_NOT_SCALAR (node, LF_DTYPE_INVALID);
  return node->scalar.dtype;
}

gconstpointer
lf_scalar_get_value (const LfNode *node)
{
  RETURN_IF_NOT_SCALAR (node, NULL);
  return node->scalar.value.bytes;
}

/* ---- the value as one of four Python kinds --------------------------------- */

typedef enum { VALUE_SIGNED, VALUE_UNSIGNED, VALUE_FLOAT, VALUE_COMPLEX } ValueKind;

/* What `x.item()` gives: a Python bool/int (signed or unsigned 64-bit
 * here), float or complex. */
typedef struct {
  ValueKind kind;
  gint64 i;
  guint64 u;
  double re, im;
} Value;

/* Reads a `type` from unaligned bytes into `dst`. */
#define LOAD(dst, type, bytes) \
  do { type v_; memcpy (&v_, (bytes), sizeof v_); (dst) = v_; } while (0)

static Value
value_of (LfDType dtype, const guint8 *p)
{
  Value v = { VALUE_SIGNED, 0, 0, 0.0, 0.0 };
  switch (dtype)
    {
    case LF_DTYPE_BOOL: v.i = p[0] != 0; break;
    case LF_DTYPE_INT8: LOAD (v.i, gint8, p); break;
    case LF_DTYPE_INT16: LOAD (v.i, gint16, p); break;
    case LF_DTYPE_INT32: LOAD (v.i, gint32, p); break;
    case LF_DTYPE_INT64: LOAD (v.i, gint64, p); break;
    case LF_DTYPE_UINT8: v.kind = VALUE_UNSIGNED; LOAD (v.u, guint8, p); break;
    case LF_DTYPE_UINT16: v.kind = VALUE_UNSIGNED; LOAD (v.u, guint16, p); break;
    case LF_DTYPE_UINT32: v.kind = VALUE_UNSIGNED; LOAD (v.u, guint32, p); break;
    case LF_DTYPE_UINT64: v.kind = VALUE_UNSIGNED; LOAD (v.u, guint64, p); break;
    case LF_DTYPE_FLOAT16:
      v.kind = VALUE_FLOAT; { guint16 h; LOAD (h, guint16, p); v.re = lf_half_to_double (h); } break;
    case LF_DTYPE_BFLOAT16:
      v.kind = VALUE_FLOAT; { guint16 h; LOAD (h, guint16, p); v.re = lf_bfloat16_to_float (h); } break;
    case LF_DTYPE_FLOAT32: v.kind = VALUE_FLOAT; LOAD (v.re, float, p); break;
    case LF_DTYPE_FLOAT64: v.kind = VALUE_FLOAT; LOAD (v.re, double, p); break;
    case LF_DTYPE_COMPLEX64:
      v.kind = VALUE_COMPLEX; LOAD (v.re, float, p); LOAD (v.im, float, p + 4); break;
    case LF_DTYPE_COMPLEX128:
      v.kind = VALUE_COMPLEX; LOAD (v.re, double, p); LOAD (v.im, double, p + 8); break;
    case LF_DTYPE_INVALID:
    case LF_DTYPE_LAST:
      g_assert_not_reached ();
    }
  return v;
}

static double
value_to_double (const Value *v)
{
  switch (v->kind)
    {
    case VALUE_SIGNED: return (double) v->i;
    case VALUE_UNSIGNED: return (double) v->u;
    default: return v->re;
    }
}

static gboolean
value_is_nonzero (const Value *v)
{
  switch (v->kind)
    {
    case VALUE_SIGNED: return v->i != 0;
    case VALUE_UNSIGNED: return v->u != 0;
    case VALUE_FLOAT: return v->re != 0.0 || isnan (v->re);
    default: return v->re != 0.0 || v->im != 0.0 || isnan (v->re) || isnan (v->im);
    }
}

gboolean
lf_scalar_get_bool (const LfNode *node)
{
  RETURN_IF_NOT_SCALAR (node, FALSE);
  Value v = value_of (node->scalar.dtype, node->scalar.value.bytes);
  return value_is_nonzero (&v);
}

gint64
lf_scalar_get_int (const LfNode *node)
{
  RETURN_IF_NOT_SCALAR (node, 0);
  Value v = value_of (node->scalar.dtype, node->scalar.value.bytes);
  switch (v.kind)
    {
    case VALUE_SIGNED:
      return v.i;
    case VALUE_UNSIGNED:
      return v.u > (guint64) G_MAXINT64 ? G_MAXINT64 : (gint64) v.u;
    default:
      /* int(x) truncates; NaN gives 0 and the rest saturates, as a getter
       * without an error has to (lf_scalar_convert reports these) */
      if (isnan (v.re))
        return 0;
      if (v.re >= 0x1p63)
        return G_MAXINT64;
      if (v.re < -0x1p63)
        return G_MININT64;
      return (gint64) v.re;
    }
}

double
lf_scalar_get_float (const LfNode *node)
{
  RETURN_IF_NOT_SCALAR (node, 0.0);
  Value v = value_of (node->scalar.dtype, node->scalar.value.bytes);
  return value_to_double (&v);
}

void
lf_scalar_get_complex (const LfNode *node, double *real, double *imag)
{
  g_return_if_fail (node != NULL && node->kind == LF_NODE_SCALAR);
  Value v = value_of (node->scalar.dtype, node->scalar.value.bytes);
  if (real != NULL)
    *real = value_to_double (&v);
  if (imag != NULL)
    *imag = v.kind == VALUE_COMPLEX ? v.im : 0.0;
}

/* ---- conversion ------------------------------------------------------------ */

/* Range of an integer dtype as doubles-friendly bounds: signed types hold
 * [-2^(bits-1), 2^(bits-1)), unsigned [0, 2^bits). */
static guint
int_bits (LfDType dtype)
{
  return (guint) lf_dtype_size (dtype) * 8;
}

/* The integer in `v` (which is not complex) as a signed/unsigned pair
 * fitting `dtype`, or FALSE when it does not fit. */
static gboolean
integer_fits (const Value *v, LfDType dtype, gint64 *si, guint64 *ui, GError **error,
              const char *src_name)
{
  guint bits = int_bits (dtype);
  gboolean is_signed = lf_dtype_is_signed (dtype);

  if (v->kind == VALUE_FLOAT || v->kind == VALUE_COMPLEX)
    {
      double x = v->re;
      if (!isfinite (x))
        {
          g_set_error (error, LF_ERROR, LF_ERROR_OVERFLOW,
                       "cannot convert %s %g to %s", src_name, x,
                       lf_dtype_name (dtype));
          return FALSE;
        }
      double t = trunc (x);
      double lo = is_signed ? -ldexp (1.0, (int) bits - 1) : 0.0;
      double hi = ldexp (1.0, is_signed ? (int) bits - 1 : (int) bits);
      if (t < lo || t >= hi)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_OVERFLOW,
                       "%s value %.17g is out of range for %s", src_name, x,
                       lf_dtype_name (dtype));
          return FALSE;
        }
      if (is_signed)
        *si = (gint64) t;
      else
        *ui = (guint64) t;
      return TRUE;
    }

  /* integer source: compare in the wider of the two domains */
  gboolean negative = v->kind == VALUE_SIGNED && v->i < 0;
  gboolean fits;
  if (is_signed)
    {
      gint64 max = bits == 64 ? G_MAXINT64 : (G_GINT64_CONSTANT (1) << (bits - 1)) - 1;
      gint64 min = -max - 1;
      if (v->kind == VALUE_UNSIGNED)
        fits = v->u <= (guint64) max;
      else
        fits = v->i >= min && v->i <= max;
      *si = v->kind == VALUE_UNSIGNED ? (gint64) v->u : v->i;
    }
  else
    {
      guint64 max = bits == 64 ? G_MAXUINT64 : (G_GUINT64_CONSTANT (1) << bits) - 1;
      fits = !negative && (v->kind == VALUE_UNSIGNED ? v->u : (guint64) v->i) <= max;
      *ui = v->kind == VALUE_UNSIGNED ? v->u : (guint64) v->i;
    }
  if (!fits)
    {
      if (v->kind == VALUE_UNSIGNED)
        g_set_error (error, LF_ERROR, LF_ERROR_OVERFLOW,
                     "%s value %" G_GUINT64_FORMAT " is out of range for %s",
                     src_name, v->u, lf_dtype_name (dtype));
      else
        g_set_error (error, LF_ERROR, LF_ERROR_OVERFLOW,
                     "%s value %" G_GINT64_FORMAT " is out of range for %s",
                     src_name, v->i, lf_dtype_name (dtype));
    }
  return fits;
}

static void
store_float (LfDType dtype, double x, guint8 *out)
{
  switch (dtype)
    {
    case LF_DTYPE_FLOAT16: { guint16 h = lf_half_from_double (x); memcpy (out, &h, 2); break; }
    case LF_DTYPE_BFLOAT16: { guint16 h = lf_bfloat16_from_double (x); memcpy (out, &h, 2); break; }
    case LF_DTYPE_FLOAT32: { float f = (float) x; memcpy (out, &f, 4); break; }
    case LF_DTYPE_FLOAT64: memcpy (out, &x, 8); break;
    default: g_assert_not_reached ();
    }
}

static void
store_int (LfDType dtype, gint64 si, guint64 ui, guint8 *out)
{
  switch (dtype)
    {
    case LF_DTYPE_INT8: { gint8 x = (gint8) si; memcpy (out, &x, 1); break; }
    case LF_DTYPE_INT16: { gint16 x = (gint16) si; memcpy (out, &x, 2); break; }
    case LF_DTYPE_INT32: { gint32 x = (gint32) si; memcpy (out, &x, 4); break; }
    case LF_DTYPE_INT64: memcpy (out, &si, 8); break;
    case LF_DTYPE_UINT8: { guint8 x = (guint8) ui; memcpy (out, &x, 1); break; }
    case LF_DTYPE_UINT16: { guint16 x = (guint16) ui; memcpy (out, &x, 2); break; }
    case LF_DTYPE_UINT32: { guint32 x = (guint32) ui; memcpy (out, &x, 4); break; }
    case LF_DTYPE_UINT64: memcpy (out, &ui, 8); break;
    default: g_assert_not_reached ();
    }
}

LfNode *
lf_scalar_convert (const LfNode *node, LfDType dtype, GError **error)
{
  RETURN_IF_NOT_SCALAR (node, NULL);
  g_return_val_if_fail (lf_dtype_size (dtype) > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  LfDType src = node->scalar.dtype;
  const char *src_name = lf_dtype_name (src);
  Value v = value_of (src, node->scalar.value.bytes);
  guint8 out[16] = { 0 };

  if (v.kind == VALUE_COMPLEX && !lf_dtype_is_complex (dtype) && dtype != LF_DTYPE_BOOL
      && v.im != 0.0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                   "cannot convert %s value (%g%+gj) with a nonzero imaginary part to %s",
                   src_name, v.re, v.im, lf_dtype_name (dtype));
      return NULL;
    }

  if (dtype == LF_DTYPE_BOOL)
    out[0] = value_is_nonzero (&v) ? 1 : 0;
  else if (lf_dtype_is_integer (dtype))
    {
      gint64 si = 0;
      guint64 ui = 0;
      if (!integer_fits (&v, dtype, &si, &ui, error, src_name))
        return NULL;
      store_int (dtype, si, ui, out);
    }
  else if (lf_dtype_is_float (dtype))
    store_float (dtype, value_to_double (&v), out);
  else if (dtype == LF_DTYPE_COMPLEX64)
    {
      float c[2] = { (float) value_to_double (&v),
                     (float) (v.kind == VALUE_COMPLEX ? v.im : 0.0) };
      memcpy (out, c, sizeof c);
    }
  else
    {
      double c[2] = { value_to_double (&v), v.kind == VALUE_COMPLEX ? v.im : 0.0 };
      memcpy (out, c, sizeof c);
    }
  return lf_scalar_new (dtype, out);
}
