/* One element of any dtype as a number (see <leafio/element.h>): read
 * exactly, written with numpy's astype rules, compared exactly.
 *
 * lf_array_cast converts whole arrays through _lf_element_convert, so the
 * readers and writers here are static and switch on the dtype directly:
 * the compiler inlines them into the loop, which calls nothing per element
 * but the float16 bit kernels. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <leafio/leafio.h>

#include "element-private.h"
#include "float-bits-private.h"

#define VALID_DTYPE(dtype) ((dtype) > LF_DTYPE_INVALID && (dtype) < LF_DTYPE_LAST)

static inline LfElement
signed_element (gint64 i)
{
  return (LfElement) { LF_ELEMENT_SIGNED, i, 0, 0.0, 0.0 };
}

static inline LfElement
unsigned_element (guint64 u)
{
  return (LfElement) { LF_ELEMENT_UNSIGNED, 0, u, 0.0, 0.0 };
}

static inline LfElement
float_element (double re)
{
  return (LfElement) { LF_ELEMENT_FLOAT, 0, 0, re, 0.0 };
}

/* ---- reading ------------------------------------------------------------------ */

/* load_TYPE (p): a TYPE from unaligned bytes. */
#define DEFINE_LOAD(type)                                                      \
  static inline type load_##type (const guint8 *p)                              \
  {                                                                            \
    type v;                                                                    \
    memcpy (&v, p, sizeof v);                                                  \
    return v;                                                                  \
  }
DEFINE_LOAD (gint16)
DEFINE_LOAD (gint32)
DEFINE_LOAD (gint64)
DEFINE_LOAD (guint16)
DEFINE_LOAD (guint32)
DEFINE_LOAD (guint64)
DEFINE_LOAD (float)
DEFINE_LOAD (double)

static inline double
half_to_double (guint16 bits)
{
  guint64 d = lf_f16_to_f64_bits (bits);
  double out;
  memcpy (&out, &d, sizeof out);
  return out;
}

static inline double
bfloat16_to_double (guint16 bits)
{
  guint32 f = (guint32) bits << 16;
  float out;
  memcpy (&out, &f, sizeof out);
  return out;
}

static inline LfElement
read_element (LfDType dtype, const guint8 *p)
{
  switch (dtype)
    {
    case LF_DTYPE_BOOL: return unsigned_element (p[0] != 0);
    case LF_DTYPE_INT8: return signed_element ((gint8) p[0]);
    case LF_DTYPE_INT16: return signed_element (load_gint16 (p));
    case LF_DTYPE_INT32: return signed_element (load_gint32 (p));
    case LF_DTYPE_INT64: return signed_element (load_gint64 (p));
    case LF_DTYPE_UINT8: return unsigned_element (p[0]);
    case LF_DTYPE_UINT16: return unsigned_element (load_guint16 (p));
    case LF_DTYPE_UINT32: return unsigned_element (load_guint32 (p));
    case LF_DTYPE_UINT64: return unsigned_element (load_guint64 (p));
    case LF_DTYPE_FLOAT16: return float_element (half_to_double (load_guint16 (p)));
    case LF_DTYPE_BFLOAT16: return float_element (bfloat16_to_double (load_guint16 (p)));
    case LF_DTYPE_FLOAT32: return float_element (load_float (p));
    case LF_DTYPE_FLOAT64: return float_element (load_double (p));
    case LF_DTYPE_COMPLEX64:
      return (LfElement) { LF_ELEMENT_COMPLEX, 0, 0, load_float (p), load_float (p + 4) };
    default:
      return (LfElement) { LF_ELEMENT_COMPLEX, 0, 0, load_double (p), load_double (p + 8) };
    }
}

void
lf_element_read (LfDType dtype, gconstpointer data, LfElement *element)
{
  g_return_if_fail (VALID_DTYPE (dtype));
  g_return_if_fail (data != NULL && element != NULL);
  *element = read_element (dtype, data);
}

/* ---- looking at a value ----------------------------------------------------------- */

static inline double
imaginary (const LfElement *e)
{
  return e->kind == LF_ELEMENT_COMPLEX ? e->im : 0.0;
}

static inline double
real_part (const LfElement *e)
{
  switch (e->kind)
    {
    case LF_ELEMENT_SIGNED: return (double) e->i;
    case LF_ELEMENT_UNSIGNED: return (double) e->u;
    default: return e->re;
    }
}

static inline gboolean
is_nonzero (const LfElement *e)
{
  switch (e->kind)
    {
    case LF_ELEMENT_SIGNED: return e->i != 0;
    case LF_ELEMENT_UNSIGNED: return e->u != 0;
    default: return e->re != 0.0 || imaginary (e) != 0.0;  /* NaN != 0 */
    }
}

static inline gboolean
is_nan (const LfElement *e)
{
  return (e->kind == LF_ELEMENT_FLOAT || e->kind == LF_ELEMENT_COMPLEX)
         && (isnan (e->re) || isnan (imaginary (e)));
}

double
lf_element_to_double (const LfElement *element)
{
  g_return_val_if_fail (element != NULL, NAN);
  return real_part (element);
}

gboolean
lf_element_is_nonzero (const LfElement *element)
{
  g_return_val_if_fail (element != NULL, FALSE);
  return is_nonzero (element);
}

gboolean
lf_element_is_nan (const LfElement *element)
{
  g_return_val_if_fail (element != NULL, FALSE);
  return is_nan (element);
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
  if (is_nan (a) || is_nan (b) || imaginary (a) != imaginary (b))
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
  if (is_nan (a) || is_nan (b))
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
  double re = part_difference (real_part (a), real_part (b));
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

/* An integer into a `bits`-bit integer: two's complement bits, wrapped. */
static inline LfElementLoss
integer_from_integer (const LfElement *e, guint bits, gboolean is_signed, guint64 *out)
{
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
  *out = value;
  return fits ? LF_ELEMENT_EXACT : LF_ELEMENT_OUT_OF_RANGE;
}

/* A real number into a `bits`-bit integer: truncated toward zero,
 * saturated at the limits, NaN as 0. */
static inline LfElementLoss
integer_from_real (double d, guint bits, gboolean is_signed, guint64 *out)
{
  gint64 smax = bits == 64 ? G_MAXINT64 : (G_GINT64_CONSTANT (1) << (bits - 1)) - 1;
  guint64 umax = bits == 64 ? G_MAXUINT64 : (G_GUINT64_CONSTANT (1) << bits) - 1;
  double limit = ldexp (1.0, (int) bits - (is_signed ? 1 : 0));
  double t = trunc (d);

  if (isnan (d))
    *out = 0;
  else if (t >= limit)
    *out = is_signed ? (guint64) smax : umax;
  else if (is_signed && t < -limit)
    *out = (guint64) (-smax - 1);
  else if (!is_signed && t < 0)
    *out = 0;
  else
    {
      *out = is_signed ? (guint64) (gint64) t : (guint64) t;
      return t != d ? LF_ELEMENT_ROUNDED : LF_ELEMENT_EXACT;
    }
  return LF_ELEMENT_OUT_OF_RANGE;
}

static inline LfElementLoss
write_integer (const LfElement *e, guint size, gboolean is_signed, guint8 *p)
{
  guint64 out;
  LfElementLoss loss = e->kind == LF_ELEMENT_SIGNED || e->kind == LF_ELEMENT_UNSIGNED
                         ? integer_from_integer (e, size * 8, is_signed, &out)
                         : integer_from_real (e->re, size * 8, is_signed, &out);
  switch (size)
    {
    case 1: p[0] = (guint8) out; break;
    case 2: { guint16 x = (guint16) out; memcpy (p, &x, 2); break; }
    case 4: { guint32 x = (guint32) out; memcpy (p, &x, 4); break; }
    default: memcpy (p, &out, 8); break;
    }
  return loss;
}

/* What writing the real part of `e` lost, from the double the written
 * float equals. */
static inline LfElementLoss
real_loss (const LfElement *e, double written)
{
  gboolean exact;
  switch (e->kind)
    {
    case LF_ELEMENT_SIGNED:
      exact = written >= -0x1p63 && written < 0x1p63 && (gint64) written == e->i;
      break;
    case LF_ELEMENT_UNSIGNED:
      exact = written >= 0 && written < 0x1p64 && (guint64) written == e->u;
      break;
    default:
      exact = written == e->re || (isnan (written) && isnan (e->re));
      break;
    }
  if (exact)
    return LF_ELEMENT_EXACT;
  return isinf (written) && !isinf (real_part (e)) ? LF_ELEMENT_OUT_OF_RANGE
                                                   : LF_ELEMENT_ROUNDED;
}

/* A 64-bit integer of `magnitude` rounded once to float32, half to even.
 * Done on the bits: emulators (valgrind) convert a 64-bit integer to float
 * through a double, rounding twice. */
static float
wide_integer_to_float (gboolean negative, guint64 magnitude)
{
  int shift = 64 - 24 - __builtin_clzll (magnitude);  /* bits below the 24 kept */
  guint64 kept = magnitude >> shift;
  guint64 rest = magnitude & ((G_GUINT64_CONSTANT (1) << shift) - 1);
  guint64 half = G_GUINT64_CONSTANT (1) << (shift - 1);
  if (rest > half || (rest == half && (kept & 1)))
    kept++;                            /* may reach 2^24: still exact */
  float f = ldexpf ((float) (guint32) kept, shift);
  return negative ? -f : f;
}

#define EXACT_IN_DOUBLE (G_GINT64_CONSTANT (1) << 53)

/* The real part rounded once to float32 (numpy's integer -> float32). */
static inline float
real_as_float (const LfElement *e)
{
  switch (e->kind)
    {
    case LF_ELEMENT_SIGNED:
      /* Up to 2^53 a detour through a double is exact: one rounding,
       * in the hardware or not. */
      if (e->i >= -EXACT_IN_DOUBLE && e->i <= EXACT_IN_DOUBLE)
        return (float) e->i;
      return wide_integer_to_float (e->i < 0, e->i < 0 ? 0 - (guint64) e->i : (guint64) e->i);
    case LF_ELEMENT_UNSIGNED:
      if (e->u <= (guint64) EXACT_IN_DOUBLE)
        return (float) e->u;
      return wide_integer_to_float (FALSE, e->u);
    default: return (float) e->re;
    }
}

static inline guint64
double_bits (double d)
{
  guint64 bits;
  memcpy (&bits, &d, sizeof bits);
  return bits;
}

static inline guint32
float_bits (float f)
{
  guint32 bits;
  memcpy (&bits, &f, sizeof bits);
  return bits;
}

/* The real part of `e` into a real float dtype. */
static inline LfElementLoss
write_real (const LfElement *e, LfDType dtype, guint8 *p)
{
  double written;
  switch (dtype)
    {
    case LF_DTYPE_FLOAT64:
      written = real_part (e);
      memcpy (p, &written, 8);
      break;
    case LF_DTYPE_FLOAT32:
      {
        float f = real_as_float (e);
        memcpy (p, &f, 4);
        written = f;
        break;
      }
    case LF_DTYPE_FLOAT16:
      {
        /* Straight from the double: through float32 would round twice. */
        guint16 h = lf_f16_from_f64_bits (double_bits (real_part (e)));
        memcpy (p, &h, 2);
        written = half_to_double (h);
        break;
      }
    default:
      {
        /* ml_dtypes narrows to bfloat16 through float32. */
        guint16 b = lf_bf16_from_f32_bits (float_bits (real_as_float (e)));
        memcpy (p, &b, 2);
        written = bfloat16_to_double (b);
        break;
      }
    }
  return real_loss (e, written);
}

static inline LfElementLoss
write_complex (const LfElement *e, LfDType dtype, guint8 *p)
{
  LfDType part = dtype == LF_DTYPE_COMPLEX64 ? LF_DTYPE_FLOAT32 : LF_DTYPE_FLOAT64;
  LfElement im = float_element (imaginary (e));
  return write_real (e, part, p) | write_real (&im, part, p + (part == LF_DTYPE_FLOAT32 ? 4 : 8));
}

static inline LfElementLoss
write_bool (const LfElement *e, guint8 *p)
{
  p[0] = is_nonzero (e) ? 1 : 0;
  gboolean zero_or_one;
  switch (e->kind)
    {
    case LF_ELEMENT_SIGNED: zero_or_one = e->i == 0 || e->i == 1; break;
    case LF_ELEMENT_UNSIGNED: zero_or_one = e->u <= 1; break;
    default: zero_or_one = (e->re == 0.0 || e->re == 1.0) && imaginary (e) == 0.0; break;
    }
  return zero_or_one ? LF_ELEMENT_EXACT : LF_ELEMENT_ROUNDED;
}

static inline LfElementLoss
write_element (const LfElement *e, LfDType dtype, guint8 *p)
{
  LfElementLoss dropped = imaginary (e) != 0.0 ? LF_ELEMENT_IMAGINARY_DROPPED : LF_ELEMENT_EXACT;
  switch (dtype)
    {
    case LF_DTYPE_BOOL: return write_bool (e, p);
    case LF_DTYPE_INT8: return dropped | write_integer (e, 1, TRUE, p);
    case LF_DTYPE_INT16: return dropped | write_integer (e, 2, TRUE, p);
    case LF_DTYPE_INT32: return dropped | write_integer (e, 4, TRUE, p);
    case LF_DTYPE_INT64: return dropped | write_integer (e, 8, TRUE, p);
    case LF_DTYPE_UINT8: return dropped | write_integer (e, 1, FALSE, p);
    case LF_DTYPE_UINT16: return dropped | write_integer (e, 2, FALSE, p);
    case LF_DTYPE_UINT32: return dropped | write_integer (e, 4, FALSE, p);
    case LF_DTYPE_UINT64: return dropped | write_integer (e, 8, FALSE, p);
    case LF_DTYPE_COMPLEX64:
    case LF_DTYPE_COMPLEX128: return write_complex (e, dtype, p);
    default: return dropped | write_real (e, dtype, p);
    }
}

LfElementLoss
lf_element_write (const LfElement *element, LfDType dtype, gpointer data)
{
  g_return_val_if_fail (element != NULL && data != NULL, LF_ELEMENT_EXACT);
  g_return_val_if_fail (VALID_DTYPE (dtype), LF_ELEMENT_EXACT);
  return write_element (element, dtype, data);
}

/* ---- whole arrays ------------------------------------------------------------------ */

gssize
_lf_element_convert (LfDType from, gconstpointer src, LfDType to, gpointer dst, gsize n,
                     gboolean stop_at_loss)
{
  gsize from_size = lf_dtype_size (from), to_size = lf_dtype_size (to);
  const guint8 *in = src;
  guint8 *out = dst;
  for (gsize i = 0; i < n; i++)
    {
      LfElement e = read_element (from, in + i * from_size);
      if (write_element (&e, to, out + i * to_size) != LF_ELEMENT_EXACT && stop_at_loss)
        return (gssize) i;
    }
  return -1;
}
