/* One element of any dtype as a number (see <leafio/element.h>): read
 * exactly, written with numpy's astype rules, compared exactly.
 *
 * Writing a float or complex element reads it back and compares it with
 * the value, so what counts as a loss is decided in one place
 * (lf_element_equal) for every dtype. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <leafio/leafio.h>

#define VALID_DTYPE(dtype) ((dtype) > LF_DTYPE_INVALID && (dtype) < LF_DTYPE_LAST)

/* ---- reading ------------------------------------------------------------------ */

static gint64
read_signed (const guint8 *p, gsize size)
{
  switch (size)
    {
    case 1: return (gint8) p[0];
    case 2: { gint16 x; memcpy (&x, p, 2); return x; }
    case 4: { gint32 x; memcpy (&x, p, 4); return x; }
    default: { gint64 x; memcpy (&x, p, 8); return x; }
    }
}

static guint64
read_unsigned (const guint8 *p, gsize size)
{
  switch (size)
    {
    case 1: return p[0];
    case 2: { guint16 x; memcpy (&x, p, 2); return x; }
    case 4: { guint32 x; memcpy (&x, p, 4); return x; }
    default: { guint64 x; memcpy (&x, p, 8); return x; }
    }
}

/* A real float of `dtype` as the double it equals. */
static double
read_real (LfDType dtype, const guint8 *p)
{
  switch (dtype)
    {
    case LF_DTYPE_FLOAT16:
      {
        guint16 h;
        double d;
        memcpy (&h, p, 2);
        lf_convert_f16_to_f64 (&h, &d, 1);
        return d;
      }
    case LF_DTYPE_BFLOAT16:
      {
        guint16 b;
        float f;
        memcpy (&b, p, 2);
        lf_convert_bf16_to_f32 (&b, &f, 1);
        return f;
      }
    case LF_DTYPE_FLOAT32:
      {
        float f;
        memcpy (&f, p, 4);
        return f;
      }
    default:
      {
        double d;
        memcpy (&d, p, 8);
        return d;
      }
    }
}

void
lf_element_read (LfDType dtype, gconstpointer data, LfElement *element)
{
  g_return_if_fail (VALID_DTYPE (dtype));
  g_return_if_fail (data != NULL && element != NULL);

  const guint8 *p = data;
  gsize size = lf_dtype_size (dtype);
  LfElement e = { LF_ELEMENT_UNSIGNED, 0, 0, 0.0, 0.0 };
  if (dtype == LF_DTYPE_BOOL)
    e.u = p[0] != 0;
  else if (lf_dtype_is_signed (dtype))
    {
      e.kind = LF_ELEMENT_SIGNED;
      e.i = read_signed (p, size);
    }
  else if (lf_dtype_is_integer (dtype))
    e.u = read_unsigned (p, size);
  else if (lf_dtype_is_float (dtype))
    {
      e.kind = LF_ELEMENT_FLOAT;
      e.re = read_real (dtype, p);
    }
  else
    {
      LfDType part = dtype == LF_DTYPE_COMPLEX64 ? LF_DTYPE_FLOAT32 : LF_DTYPE_FLOAT64;
      e.kind = LF_ELEMENT_COMPLEX;
      e.re = read_real (part, p);
      e.im = read_real (part, p + size / 2);
    }
  *element = e;
}

/* ---- looking at a value ----------------------------------------------------------- */

static double
imaginary (const LfElement *e)
{
  return e->kind == LF_ELEMENT_COMPLEX ? e->im : 0.0;
}

double
lf_element_to_double (const LfElement *element)
{
  g_return_val_if_fail (element != NULL, NAN);
  switch (element->kind)
    {
    case LF_ELEMENT_SIGNED: return (double) element->i;
    case LF_ELEMENT_UNSIGNED: return (double) element->u;
    default: return element->re;
    }
}

gboolean
lf_element_is_nonzero (const LfElement *element)
{
  g_return_val_if_fail (element != NULL, FALSE);
  switch (element->kind)
    {
    case LF_ELEMENT_SIGNED: return element->i != 0;
    case LF_ELEMENT_UNSIGNED: return element->u != 0;
    default: return element->re != 0.0 || imaginary (element) != 0.0;  /* NaN != 0 */
    }
}

gboolean
lf_element_is_nan (const LfElement *element)
{
  g_return_val_if_fail (element != NULL, FALSE);
  return (element->kind == LF_ELEMENT_FLOAT || element->kind == LF_ELEMENT_COMPLEX)
         && (isnan (element->re) || isnan (imaginary (element)));
}

/* The real part as a sign and a magnitude, when it is an integer of
 * magnitude below 2^64 (every integer element; integral floats). */
static gboolean
real_as_integer (const LfElement *e, gboolean *negative, guint64 *magnitude)
{
  switch (e->kind)
    {
    case LF_ELEMENT_SIGNED:
      *negative = e->i < 0;
      *magnitude = e->i < 0 ? 0 - (guint64) e->i : (guint64) e->i;
      return TRUE;
    case LF_ELEMENT_UNSIGNED:
      *negative = FALSE;
      *magnitude = e->u;
      return TRUE;
    default:
      if (!(fabs (e->re) < 0x1p64) || trunc (e->re) != e->re)  /* NaN fails too */
        return FALSE;
      *negative = e->re < 0;
      *magnitude = (guint64) fabs (e->re);
      return TRUE;
    }
}

gboolean
lf_element_equal (const LfElement *a, const LfElement *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);
  if (lf_element_is_nan (a) || lf_element_is_nan (b) || imaginary (a) != imaginary (b))
    return FALSE;
  gboolean neg_a, neg_b;
  guint64 mag_a, mag_b;
  gboolean int_a = real_as_integer (a, &neg_a, &mag_a);
  gboolean int_b = real_as_integer (b, &neg_b, &mag_b);
  if (int_a && int_b)
    return mag_a == mag_b && (neg_a == neg_b || mag_a == 0);
  if (int_a || int_b)
    return FALSE;  /* an integer below 2^64 and a fraction or a float beyond */
  return a->re == b->re;  /* two floats */
}

/* x - y, where equal infinities are 0 apart. */
static double
part_difference (double x, double y)
{
  return x == y ? 0.0 : x - y;
}

double
lf_element_distance (const LfElement *a, const LfElement *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, NAN);
  if (lf_element_is_nan (a) || lf_element_is_nan (b))
    return NAN;
  if (lf_element_equal (a, b))
    return 0.0;
  gboolean neg_a, neg_b;
  guint64 mag_a, mag_b;
  if (imaginary (a) == 0.0 && imaginary (b) == 0.0 && real_as_integer (a, &neg_a, &mag_a)
      && real_as_integer (b, &neg_b, &mag_b))
    {
      if (neg_a == neg_b)
        return (double) (mag_a > mag_b ? mag_a - mag_b : mag_b - mag_a);
      return mag_a <= G_MAXUINT64 - mag_b ? (double) (mag_a + mag_b)
                                          : (double) mag_a + (double) mag_b;
    }
  double re = part_difference (lf_element_to_double (a), lf_element_to_double (b));
  double im = part_difference (imaginary (a), imaginary (b));
  double distance = im == 0.0 ? fabs (re) : hypot (re, im);
  /* Only an integer near 2^64 and a float from 2^64 up can round to the
   * same double; being different integers, they are at least 1 apart. */
  return distance > 0.0 ? distance : 1.0;
}

char *
lf_element_to_string (const LfElement *element)
{
  g_return_val_if_fail (element != NULL, NULL);
  switch (element->kind)
    {
    case LF_ELEMENT_SIGNED: return g_strdup_printf ("%" G_GINT64_FORMAT, element->i);
    case LF_ELEMENT_UNSIGNED: return g_strdup_printf ("%" G_GUINT64_FORMAT, element->u);
    case LF_ELEMENT_FLOAT: return g_strdup_printf ("%.17g", element->re);
    default: return g_strdup_printf ("(%.17g%+.17gj)", element->re, element->im);
    }
}

/* ---- writing ------------------------------------------------------------------ */

static void
write_bits (guint64 bits, gsize size, guint8 *p)
{
  switch (size)
    {
    case 1: p[0] = (guint8) bits; break;
    case 2: { guint16 x = (guint16) bits; memcpy (p, &x, 2); break; }
    case 4: { guint32 x = (guint32) bits; memcpy (p, &x, 4); break; }
    default: memcpy (p, &bits, 8); break;
    }
}

/* An integer into an integer dtype: two's complement bits, wrapped. */
static LfElementLoss
write_integer_from_integer (const LfElement *e, gsize size, gboolean is_signed, guint8 *p)
{
  guint bits = (guint) size * 8;
  gboolean negative = e->kind == LF_ELEMENT_SIGNED && e->i < 0;
  guint64 value = e->kind == LF_ELEMENT_SIGNED ? (guint64) e->i : e->u;
  gboolean fits;
  if (is_signed)
    {
      gint64 max = bits == 64 ? G_MAXINT64 : (G_GINT64_CONSTANT (1) << (bits - 1)) - 1;
      fits = negative ? e->i >= -max - 1 : value <= (guint64) max;
    }
  else
    {
      guint64 max = bits == 64 ? G_MAXUINT64 : (G_GUINT64_CONSTANT (1) << bits) - 1;
      fits = !negative && value <= max;
    }
  write_bits (value, size, p);
  return fits ? LF_ELEMENT_EXACT : LF_ELEMENT_OUT_OF_RANGE;
}

/* A float's real part into an integer dtype: truncated toward zero,
 * saturated at the limits, NaN as 0. */
static LfElementLoss
write_integer_from_float (double d, gsize size, gboolean is_signed, guint8 *p)
{
  int bits = (int) size * 8;
  gint64 smax = bits == 64 ? G_MAXINT64 : (G_GINT64_CONSTANT (1) << (bits - 1)) - 1;
  guint64 umax = bits == 64 ? G_MAXUINT64 : (G_GUINT64_CONSTANT (1) << bits) - 1;
  double limit = ldexp (1.0, bits - (is_signed ? 1 : 0));
  double t = trunc (d);
  guint64 out;
  LfElementLoss loss = LF_ELEMENT_EXACT;

  if (isnan (d))
    out = 0, loss = LF_ELEMENT_OUT_OF_RANGE;
  else if (t >= limit)
    out = is_signed ? (guint64) smax : umax, loss = LF_ELEMENT_OUT_OF_RANGE;
  else if (is_signed && t < -limit)
    out = (guint64) (-smax - 1), loss = LF_ELEMENT_OUT_OF_RANGE;
  else if (!is_signed && t < 0)
    out = 0, loss = LF_ELEMENT_OUT_OF_RANGE;
  else
    {
      out = is_signed ? (guint64) (gint64) t : (guint64) t;
      if (t != d)
        loss = LF_ELEMENT_ROUNDED;
    }
  write_bits (out, size, p);
  return loss;
}

static LfElementLoss
write_integer (const LfElement *e, LfDType dtype, guint8 *p)
{
  gsize size = lf_dtype_size (dtype);
  gboolean is_signed = lf_dtype_is_signed (dtype);
  if (e->kind == LF_ELEMENT_SIGNED || e->kind == LF_ELEMENT_UNSIGNED)
    return write_integer_from_integer (e, size, is_signed, p);
  return write_integer_from_float (e->re, size, is_signed, p);
}

/* The real part rounded once to float32 (numpy's integer -> float32). */
static float
real_as_float (const LfElement *e)
{
  switch (e->kind)
    {
    case LF_ELEMENT_SIGNED: return (float) e->i;
    case LF_ELEMENT_UNSIGNED: return (float) e->u;
    default: return (float) e->re;
    }
}

/* What writing the real part of `e` as `dtype` lost, from the element
 * written there. */
static LfElementLoss
real_loss (const LfElement *e, LfDType dtype, const guint8 *p)
{
  LfElement real = *e, written;
  if (real.kind == LF_ELEMENT_COMPLEX)
    real.kind = LF_ELEMENT_FLOAT;
  real.im = 0.0;
  lf_element_read (dtype, p, &written);
  if (lf_element_equal (&real, &written)
      || (lf_element_is_nan (&real) && lf_element_is_nan (&written)))
    return LF_ELEMENT_EXACT;
  if (isinf (written.re) && !isinf (lf_element_to_double (&real)))
    return LF_ELEMENT_OUT_OF_RANGE;
  return LF_ELEMENT_ROUNDED;
}

/* The real part of `e` into a real float dtype. */
static LfElementLoss
write_real (const LfElement *e, LfDType dtype, guint8 *p)
{
  switch (dtype)
    {
    case LF_DTYPE_FLOAT64:
      {
        double d = lf_element_to_double (e);
        memcpy (p, &d, 8);
        break;
      }
    case LF_DTYPE_FLOAT32:
      {
        float f = real_as_float (e);
        memcpy (p, &f, 4);
        break;
      }
    case LF_DTYPE_FLOAT16:
      {
        /* Straight from the double: through float32 would round twice. */
        double d = lf_element_to_double (e);
        guint16 h;
        lf_convert_f64_to_f16 (&d, &h, 1);
        memcpy (p, &h, 2);
        break;
      }
    default:
      {
        /* ml_dtypes narrows to bfloat16 through float32. */
        float f = real_as_float (e);
        guint16 b;
        lf_convert_f32_to_bf16 (&f, &b, 1);
        memcpy (p, &b, 2);
        break;
      }
    }
  return real_loss (e, dtype, p);
}

static LfElementLoss
write_complex (const LfElement *e, LfDType dtype, guint8 *p)
{
  LfDType part = dtype == LF_DTYPE_COMPLEX64 ? LF_DTYPE_FLOAT32 : LF_DTYPE_FLOAT64;
  gsize part_size = lf_dtype_size (part);
  LfElement im = { LF_ELEMENT_FLOAT, 0, 0, imaginary (e), 0.0 };
  return write_real (e, part, p) | write_real (&im, part, p + part_size);
}

static LfElementLoss
write_bool (const LfElement *e, guint8 *p)
{
  p[0] = lf_element_is_nonzero (e) ? 1 : 0;
  gboolean zero_or_one;
  switch (e->kind)
    {
    case LF_ELEMENT_SIGNED: zero_or_one = e->i == 0 || e->i == 1; break;
    case LF_ELEMENT_UNSIGNED: zero_or_one = e->u <= 1; break;
    default: zero_or_one = (e->re == 0.0 || e->re == 1.0) && imaginary (e) == 0.0; break;
    }
  return zero_or_one ? LF_ELEMENT_EXACT : LF_ELEMENT_ROUNDED;
}

LfElementLoss
lf_element_write (const LfElement *element, LfDType dtype, gpointer data)
{
  g_return_val_if_fail (element != NULL && data != NULL, LF_ELEMENT_EXACT);
  g_return_val_if_fail (VALID_DTYPE (dtype), LF_ELEMENT_EXACT);

  if (dtype == LF_DTYPE_BOOL)
    return write_bool (element, data);
  if (lf_dtype_is_complex (dtype))
    return write_complex (element, dtype, data);
  LfElementLoss dropped = imaginary (element) != 0.0 ? LF_ELEMENT_IMAGINARY_DROPPED
                                                    : LF_ELEMENT_EXACT;
  if (lf_dtype_is_integer (dtype))
    return dropped | write_integer (element, dtype, data);
  return dropped | write_real (element, dtype, data);
}
