/* The element model (<leafio/element.h>): reading every dtype, writing with
 * numpy's astype rules and the losses reported, bool as unsigned 0/1, NaN,
 * comparisons; and that lf_array_cast and lf_scalar_convert agree with it
 * for every pair of dtypes.  interop-elements.sh checks the casts against
 * numpy with the file the "oracle" case writes. */
#include "config.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "test-common.h"

static LfElement
signed_element (gint64 i)
{
  return (LfElement) { LF_ELEMENT_SIGNED, i, 0, 0.0, 0.0 };
}

static LfElement
unsigned_element (guint64 u)
{
  return (LfElement) { LF_ELEMENT_UNSIGNED, 0, u, 0.0, 0.0 };
}

static LfElement
float_element (double d)
{
  return (LfElement) { LF_ELEMENT_FLOAT, 0, 0, d, 0.0 };
}

static LfElement
complex_element (double re, double im)
{
  return (LfElement) { LF_ELEMENT_COMPLEX, 0, 0, re, im };
}

/* Writes `e` as `dtype`, checks the loss, and returns the element read back. */
static LfElement
write_expecting (LfElement e, LfDType dtype, LfElementLoss want)
{
  guint8 out[16];
  memset (out, 0xa5, sizeof out);
  LfElementLoss loss = lf_element_write (&e, dtype, out);
  g_autofree char *text = lf_element_to_string (&e);
  ck_assert_msg (loss == want, "%s -> %s: loss %d, expected %d", text,
                 lf_dtype_name (dtype), loss, want);
  /* Nothing past the element is touched. */
  for (gsize i = lf_dtype_size (dtype); i < sizeof out; i++)
    ck_assert_uint_eq (out[i], 0xa5);
  LfElement back;
  lf_element_read (dtype, out, &back);
  return back;
}

/* ---- reading --------------------------------------------------------------- */

START_TEST (test_read_every_dtype)
{
  LfElement e;
  guint8 b = 2;
  lf_element_read (LF_DTYPE_BOOL, &b, &e);
  ck_assert (e.kind == LF_ELEMENT_UNSIGNED && e.u == 1 && e.i == 0);
  gint8 i8 = -128;
  lf_element_read (LF_DTYPE_INT8, &i8, &e);
  ck_assert (e.kind == LF_ELEMENT_SIGNED && e.i == -128 && e.u == 0);
  gint16 i16 = -32768;
  lf_element_read (LF_DTYPE_INT16, &i16, &e);
  ck_assert (e.kind == LF_ELEMENT_SIGNED && e.i == -32768);
  gint32 i32 = G_MININT32;
  lf_element_read (LF_DTYPE_INT32, &i32, &e);
  ck_assert (e.i == G_MININT32);
  gint64 i64 = G_MININT64;
  lf_element_read (LF_DTYPE_INT64, &i64, &e);
  ck_assert (e.i == G_MININT64);
  guint8 u8 = 255;
  lf_element_read (LF_DTYPE_UINT8, &u8, &e);
  ck_assert (e.kind == LF_ELEMENT_UNSIGNED && e.u == 255);
  guint16 u16 = 65535;
  lf_element_read (LF_DTYPE_UINT16, &u16, &e);
  ck_assert (e.u == 65535);
  guint32 u32 = G_MAXUINT32;
  lf_element_read (LF_DTYPE_UINT32, &u32, &e);
  ck_assert (e.u == G_MAXUINT32);
  guint64 u64 = G_MAXUINT64;
  lf_element_read (LF_DTYPE_UINT64, &u64, &e);
  ck_assert (e.u == G_MAXUINT64);
  guint16 half = 0x3555;   /* 0.333251953125 */
  lf_element_read (LF_DTYPE_FLOAT16, &half, &e);
  ck_assert (e.kind == LF_ELEMENT_FLOAT && e.re == 0.333251953125 && e.im == 0);
  guint16 bf = 0xc020;     /* -2.5 */
  lf_element_read (LF_DTYPE_BFLOAT16, &bf, &e);
  ck_assert (e.kind == LF_ELEMENT_FLOAT && e.re == -2.5);
  float f32 = 0.1f;
  lf_element_read (LF_DTYPE_FLOAT32, &f32, &e);
  ck_assert (e.re == (double) 0.1f);
  double f64 = -0.0;
  lf_element_read (LF_DTYPE_FLOAT64, &f64, &e);
  ck_assert (e.re == 0 && signbit (e.re));
  float c64[2] = { 1.5f, -2.5f };
  lf_element_read (LF_DTYPE_COMPLEX64, c64, &e);
  ck_assert (e.kind == LF_ELEMENT_COMPLEX && e.re == 1.5 && e.im == -2.5);
  /* Unaligned, as in a record's data. */
  guint8 unaligned[17];
  double c128[2] = { 1e300, -0.25 };
  memcpy (unaligned + 1, c128, 16);
  lf_element_read (LF_DTYPE_COMPLEX128, unaligned + 1, &e);
  ck_assert (e.re == 1e300 && e.im == -0.25);
}
END_TEST

/* ---- bool -------------------------------------------------------------------- */

START_TEST (test_bool_is_unsigned)
{
  /* bool reads as an unsigned 0 or 1 and writes any nonzero value as 1. */
  LfElement t = write_expecting (signed_element (-1), LF_DTYPE_BOOL, LF_ELEMENT_ROUNDED);
  ck_assert (t.kind == LF_ELEMENT_UNSIGNED && t.u == 1);
  ck_assert_uint_eq (write_expecting (signed_element (0), LF_DTYPE_BOOL, 0).u, 0);
  ck_assert_uint_eq (write_expecting (unsigned_element (1), LF_DTYPE_BOOL, 0).u, 1);
  ck_assert_uint_eq (write_expecting (float_element (NAN), LF_DTYPE_BOOL,
                                      LF_ELEMENT_ROUNDED).u, 1);
  ck_assert_uint_eq (write_expecting (float_element (-0.0), LF_DTYPE_BOOL, 0).u, 0);
  ck_assert_uint_eq (write_expecting (float_element (1.0), LF_DTYPE_BOOL, 0).u, 1);
  ck_assert_uint_eq (write_expecting (complex_element (0, 1), LF_DTYPE_BOOL,
                                      LF_ELEMENT_ROUNDED).u, 1);

  /* True is 1 in every dtype, exactly, through each of the three users. */
  g_autoptr (LfNode) scalar_true = lf_scalar_new_bool (TRUE);
  gsize one = 1;
  guint8 byte = 1;
  g_autoptr (LfNode) array_true = lf_array_new_copy (LF_DTYPE_BOOL, 1, &one, &byte);
  ck_assert_int_eq (lf_scalar_get_int (scalar_true), 1);
  ck_assert (lf_scalar_get_float (scalar_true) == 1.0);
  for (int to = LF_DTYPE_BOOL; to < LF_DTYPE_LAST; to++)
    {
      LfElement back = write_expecting (unsigned_element (1), (LfDType) to, 0);
      ck_assert (lf_element_equal (&back, &(LfElement) { LF_ELEMENT_SIGNED, 1, 0, 0, 0 }));
      GError *error = NULL;
      g_autoptr (LfNode) s = lf_scalar_convert (scalar_true, (LfDType) to, &error);
      LF_ASSERT_NO_ERROR (error);
      g_autoptr (LfNode) a = lf_array_cast (array_true, (LfDType) to, LF_CAST_SAFE, &error);
      LF_ASSERT_NO_ERROR (error);
      ck_assert (memcmp (lf_scalar_get_value (s), lf_array_get_data (a),
                         lf_dtype_size ((LfDType) to)) == 0);
    }
  /* bool casts safely to every dtype, unsigned ones included. */
  ck_assert (lf_dtype_can_cast_safely (LF_DTYPE_BOOL, LF_DTYPE_UINT8));
  ck_assert (lf_dtype_can_cast_safely (LF_DTYPE_BOOL, LF_DTYPE_INT8));
}
END_TEST

/* ---- integers ------------------------------------------------------------------ */

START_TEST (test_integers_wrap)
{
  ck_assert_int_eq (write_expecting (signed_element (300), LF_DTYPE_INT8,
                                     LF_ELEMENT_OUT_OF_RANGE).i, 44);
  ck_assert_uint_eq (write_expecting (signed_element (-1), LF_DTYPE_UINT8,
                                      LF_ELEMENT_OUT_OF_RANGE).u, 255);
  ck_assert_int_eq (write_expecting (unsigned_element (G_MAXUINT64), LF_DTYPE_INT64,
                                     LF_ELEMENT_OUT_OF_RANGE).i, -1);
  ck_assert_uint_eq (write_expecting (signed_element (G_MININT64), LF_DTYPE_UINT64,
                                      LF_ELEMENT_OUT_OF_RANGE).u, (guint64) 1 << 63);
  ck_assert_int_eq (write_expecting (unsigned_element ((guint64) 1 << 63), LF_DTYPE_INT64,
                                     LF_ELEMENT_OUT_OF_RANGE).i, G_MININT64);
  ck_assert_int_eq (write_expecting (signed_element (127), LF_DTYPE_INT8, 0).i, 127);
  ck_assert_int_eq (write_expecting (signed_element (-128), LF_DTYPE_INT8, 0).i, -128);
  ck_assert_uint_eq (write_expecting (signed_element (65535), LF_DTYPE_UINT16, 0).u, 65535);
  ck_assert_uint_eq (write_expecting (signed_element (65536), LF_DTYPE_UINT16,
                                      LF_ELEMENT_OUT_OF_RANGE).u, 0);
}
END_TEST

START_TEST (test_floats_into_integers)
{
  /* Truncation toward zero is a rounding; out of range saturates. */
  ck_assert_int_eq (write_expecting (float_element (2.5), LF_DTYPE_INT16,
                                     LF_ELEMENT_ROUNDED).i, 2);
  ck_assert_int_eq (write_expecting (float_element (-2.5), LF_DTYPE_INT16,
                                     LF_ELEMENT_ROUNDED).i, -2);
  ck_assert_uint_eq (write_expecting (float_element (-0.5), LF_DTYPE_UINT8,
                                      LF_ELEMENT_ROUNDED).u, 0);
  ck_assert_uint_eq (write_expecting (float_element (255.9), LF_DTYPE_UINT8,
                                      LF_ELEMENT_ROUNDED).u, 255);
  ck_assert_uint_eq (write_expecting (float_element (-1.0), LF_DTYPE_UINT8,
                                      LF_ELEMENT_OUT_OF_RANGE).u, 0);
  ck_assert_uint_eq (write_expecting (float_element (256.0), LF_DTYPE_UINT8,
                                      LF_ELEMENT_OUT_OF_RANGE).u, 255);
  ck_assert_int_eq (write_expecting (float_element (1e30), LF_DTYPE_INT64,
                                     LF_ELEMENT_OUT_OF_RANGE).i, G_MAXINT64);
  ck_assert_int_eq (write_expecting (float_element (-1e30), LF_DTYPE_INT64,
                                     LF_ELEMENT_OUT_OF_RANGE).i, G_MININT64);
  ck_assert_int_eq (write_expecting (float_element (0x1p63), LF_DTYPE_INT64,
                                     LF_ELEMENT_OUT_OF_RANGE).i, G_MAXINT64);
  ck_assert_int_eq (write_expecting (float_element (-0x1p63), LF_DTYPE_INT64, 0).i,
                    G_MININT64);
  ck_assert_uint_eq (write_expecting (float_element (0x1p64 - 2048), LF_DTYPE_UINT64, 0).u,
                     G_MAXUINT64 - 2047);
  ck_assert_int_eq (write_expecting (float_element (-129.5), LF_DTYPE_INT8,
                                     LF_ELEMENT_OUT_OF_RANGE).i, -128);
  /* NaN has no integer: 0, out of range.  Infinities saturate. */
  ck_assert_int_eq (write_expecting (float_element (NAN), LF_DTYPE_INT32,
                                     LF_ELEMENT_OUT_OF_RANGE).i, 0);
  ck_assert_int_eq (write_expecting (float_element (INFINITY), LF_DTYPE_INT8,
                                     LF_ELEMENT_OUT_OF_RANGE).i, 127);
  ck_assert_uint_eq (write_expecting (float_element (-INFINITY), LF_DTYPE_UINT32,
                                      LF_ELEMENT_OUT_OF_RANGE).u, 0);
  /* A complex keeps its real part and says it dropped the imaginary one. */
  ck_assert_int_eq (write_expecting (complex_element (3.5, 4), LF_DTYPE_INT32,
                                     LF_ELEMENT_IMAGINARY_DROPPED | LF_ELEMENT_ROUNDED).i, 3);
  ck_assert_int_eq (write_expecting (complex_element (-7, -0.0), LF_DTYPE_INT16, 0).i, -7);
}
END_TEST

/* ---- floats ---------------------------------------------------------------------- */

START_TEST (test_into_floats)
{
  LfElement e = write_expecting (float_element (0.1), LF_DTYPE_FLOAT32, LF_ELEMENT_ROUNDED);
  ck_assert (e.re == (double) 0.1f);
  ck_assert (isinf (write_expecting (float_element (1e300), LF_DTYPE_FLOAT32,
                                     LF_ELEMENT_OUT_OF_RANGE).re));
  ck_assert (isinf (write_expecting (float_element (65520), LF_DTYPE_FLOAT16,
                                     LF_ELEMENT_OUT_OF_RANGE).re));
  ck_assert (write_expecting (float_element (65519), LF_DTYPE_FLOAT16,
                              LF_ELEMENT_ROUNDED).re == 65504);
  ck_assert (isinf (write_expecting (signed_element (70000), LF_DTYPE_FLOAT16,
                                     LF_ELEMENT_OUT_OF_RANGE).re));
  ck_assert (write_expecting (float_element (INFINITY), LF_DTYPE_FLOAT16, 0).re == INFINITY);
  ck_assert (isnan (write_expecting (float_element (NAN), LF_DTYPE_FLOAT16, 0).re));
  ck_assert (write_expecting (float_element (5e-324), LF_DTYPE_FLOAT32,
                              LF_ELEMENT_ROUNDED).re == 0);
  /* Large integers: exact only while the mantissa holds them. */
  gint64 big = (G_GINT64_CONSTANT (1) << 53) + 1;
  ck_assert (write_expecting (signed_element (big), LF_DTYPE_FLOAT64,
                              LF_ELEMENT_ROUNDED).re == 0x1p53);
  ck_assert (write_expecting (signed_element (big - 1), LF_DTYPE_FLOAT64, 0).re == 0x1p53);
  ck_assert (write_expecting (unsigned_element (G_MAXUINT64), LF_DTYPE_FLOAT32,
                              LF_ELEMENT_ROUNDED).re == 0x1p64);
  /* numpy's astype rounds an int64 once into float32 (2^60 + 2^36 + 1 is
   * past the tie), where rounding to float64 first would land on the tie
   * and round to even. */
  gint64 tie = (G_GINT64_CONSTANT (1) << 60) + (G_GINT64_CONSTANT (1) << 36) + 1;
  /* The rounding is done on the bits, so it holds under valgrind too,
   * which converts a 64-bit integer to float through a double. */
  ck_assert (write_expecting (signed_element (tie), LF_DTYPE_FLOAT32,
                              LF_ELEMENT_ROUNDED).re == 0x1p60 + 0x1p37);
  ck_assert (write_expecting (signed_element (-tie), LF_DTYPE_FLOAT32,
                              LF_ELEMENT_ROUNDED).re == -0x1p60 - 0x1p37);
  guint64 utie = (G_GUINT64_CONSTANT (1) << 63) + (G_GUINT64_CONSTANT (1) << 39) + 1;
  ck_assert (write_expecting (unsigned_element (utie), LF_DTYPE_FLOAT32,
                              LF_ELEMENT_ROUNDED).re == 0x1p63 + 0x1p40);
  LfElement c = write_expecting (signed_element (tie), LF_DTYPE_COMPLEX64, LF_ELEMENT_ROUNDED);
  ck_assert (c.re == 0x1p60 + 0x1p37 && c.im == 0);
  /* float64 -> float16 rounds once, straight from the double. */
  double just_above = 1.0 + 0x1p-11 + 0x1p-40;   /* above the tie between 1 and 1+2^-10 */
  ck_assert (write_expecting (float_element (just_above), LF_DTYPE_FLOAT16,
                              LF_ELEMENT_ROUNDED).re == 1.0 + 0x1p-10);
  /* float64 -> bfloat16 goes through float32, as ml_dtypes does: the
   * 2^-40 is lost first, then the tie rounds to even. */
  double bf_tie = 1.0 + 0x1p-8 + 0x1p-40;
  ck_assert (write_expecting (float_element (bf_tie), LF_DTYPE_BFLOAT16,
                              LF_ELEMENT_ROUNDED).re == 1.0);
  /* A complex with a nonzero imaginary part keeps its real part. */
  ck_assert (write_expecting (complex_element (1, 2), LF_DTYPE_FLOAT64,
                              LF_ELEMENT_IMAGINARY_DROPPED).re == 1);
  ck_assert (write_expecting (complex_element (1, 0), LF_DTYPE_FLOAT64, 0).re == 1);
  ck_assert (write_expecting (complex_element (1, NAN), LF_DTYPE_FLOAT32,
                              LF_ELEMENT_IMAGINARY_DROPPED).re == 1);
}
END_TEST

START_TEST (test_nan_bits_kept)
{
  /* A signalling float16 NaN goes through the model unchanged. */
  guint16 snan = 0x7c01, out = 0;
  LfElement e;
  lf_element_read (LF_DTYPE_FLOAT16, &snan, &e);
  ck_assert (lf_element_is_nan (&e));
  ck_assert_int_eq (lf_element_write (&e, LF_DTYPE_FLOAT16, &out), LF_ELEMENT_EXACT);
  ck_assert_uint_eq (out, 0x7c01);
  guint16 negative_nan = 0xfe00;
  lf_element_read (LF_DTYPE_FLOAT16, &negative_nan, &e);
  ck_assert_int_eq (lf_element_write (&e, LF_DTYPE_FLOAT16, &out), LF_ELEMENT_EXACT);
  ck_assert_uint_eq (out, 0xfe00);
  /* NaN into bfloat16 is the quiet NaN with its sign. */
  ck_assert_int_eq (lf_element_write (&e, LF_DTYPE_BFLOAT16, &out), LF_ELEMENT_EXACT);
  ck_assert_uint_eq (out, 0xffc0);
}
END_TEST

START_TEST (test_into_complex)
{
  LfElement c = write_expecting (signed_element (3), LF_DTYPE_COMPLEX64, 0);
  ck_assert (c.kind == LF_ELEMENT_COMPLEX && c.re == 3 && c.im == 0);
  c = write_expecting (float_element (0.1), LF_DTYPE_COMPLEX64, LF_ELEMENT_ROUNDED);
  ck_assert (c.re == (double) 0.1f);
  c = write_expecting (complex_element (1e300, 1), LF_DTYPE_COMPLEX64, LF_ELEMENT_OUT_OF_RANGE);
  ck_assert (isinf (c.re) && c.im == 1);
  c = write_expecting (complex_element (0.5, 0.1), LF_DTYPE_COMPLEX64, LF_ELEMENT_ROUNDED);
  ck_assert (c.re == 0.5 && c.im == (double) 0.1f);
  c = write_expecting (complex_element (NAN, -INFINITY), LF_DTYPE_COMPLEX128, 0);
  ck_assert (isnan (c.re) && c.im == -INFINITY);
}
END_TEST

/* ---- looking at values ---------------------------------------------------------- */

START_TEST (test_equal_and_distance)
{
  gint64 two53 = G_GINT64_CONSTANT (1) << 53;
  LfElement a = signed_element (two53 + 1), b = signed_element (two53);
  ck_assert (!lf_element_equal (&a, &b));
  ck_assert (lf_element_distance (&a, &b) == 1);
  LfElement f = float_element (0x1p53);
  ck_assert (!lf_element_equal (&a, &f) && lf_element_equal (&b, &f));
  ck_assert (lf_element_distance (&a, &f) == 1);
  /* signed against unsigned, both ways round the sign */
  LfElement minus_one = signed_element (-1), umax = unsigned_element (G_MAXUINT64);
  ck_assert (!lf_element_equal (&minus_one, &umax));
  ck_assert (lf_element_distance (&minus_one, &umax) == 0x1p64);
  LfElement seven = signed_element (7), useven = unsigned_element (7);
  ck_assert (lf_element_equal (&seven, &useven));
  LfElement u3 = unsigned_element (3);
  ck_assert (lf_element_distance (&seven, &u3) == 4 && lf_element_distance (&u3, &seven) == 4);
  /* an integer near 2^64 and a float at 2^64 round alike, yet differ */
  LfElement two64 = float_element (0x1p64);
  ck_assert (!lf_element_equal (&umax, &two64));
  ck_assert (lf_element_distance (&umax, &two64) >= 1);
  /* zeros, fractions, complex */
  LfElement zero = signed_element (0), minus_zero = float_element (-0.0);
  ck_assert (lf_element_equal (&zero, &minus_zero));
  ck_assert (lf_element_distance (&zero, &minus_zero) == 0);
  LfElement half = float_element (0.5);
  ck_assert (!lf_element_equal (&zero, &half) && lf_element_distance (&zero, &half) == 0.5);
  LfElement c1 = complex_element (1, 1), c2 = complex_element (1, 2), one = signed_element (1);
  ck_assert (!lf_element_equal (&c1, &c2) && lf_element_distance (&c1, &c2) == 1);
  ck_assert (!lf_element_equal (&c1, &one) && lf_element_distance (&c1, &one) == 1);
  LfElement c10 = complex_element (1, 0);
  ck_assert (lf_element_equal (&c10, &one));
  LfElement c34 = complex_element (3, 4);
  ck_assert (lf_element_distance (&c34, &zero) == 5);
  /* infinities and NaN */
  LfElement inf = float_element (INFINITY), minf = float_element (-INFINITY);
  LfElement nan = float_element (NAN);
  ck_assert (lf_element_equal (&inf, &inf) && lf_element_distance (&inf, &inf) == 0);
  ck_assert (lf_element_distance (&inf, &minf) == INFINITY);
  ck_assert (lf_element_distance (&inf, &one) == INFINITY);
  ck_assert (!lf_element_equal (&nan, &nan) && isnan (lf_element_distance (&nan, &nan)));
  ck_assert (isnan (lf_element_distance (&nan, &one)));
  LfElement cinf1 = complex_element (INFINITY, 1), cinf2 = complex_element (INFINITY, 3);
  ck_assert (lf_element_distance (&cinf1, &cinf2) == 2);
}
END_TEST

START_TEST (test_nonzero_nan_strings)
{
  LfElement values[] = {
    signed_element (-3), unsigned_element (0), float_element (-0.0), float_element (NAN),
    complex_element (0, 1), complex_element (0, 0), complex_element (1, NAN),
  };
  gboolean nonzero[] = { TRUE, FALSE, FALSE, TRUE, TRUE, FALSE, TRUE };
  gboolean nan[] = { FALSE, FALSE, FALSE, TRUE, FALSE, FALSE, TRUE };
  const char *text[] = { "-3", "0", "-0", "nan", "(0+1j)", "(0+0j)", "(1+nanj)" };
  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    {
      ck_assert_int_eq (lf_element_is_nonzero (&values[i]), nonzero[i]);
      ck_assert_int_eq (lf_element_is_nan (&values[i]), nan[i]);
      g_autofree char *s = lf_element_to_string (&values[i]);
      ck_assert_str_eq (s, text[i]);
    }
  LfElement u = unsigned_element (G_MAXUINT64), tenth = float_element (0.1);
  g_autofree char *us = lf_element_to_string (&u);
  g_autofree char *ts = lf_element_to_string (&tenth);
  ck_assert_str_eq (us, "18446744073709551615");
  ck_assert_str_eq (ts, "0.10000000000000001");
  ck_assert (lf_element_to_double (&u) == 0x1p64);
}
END_TEST

/* ---- every pair of dtypes ------------------------------------------------------------ */

/* Values that reach every edge of every dtype once written into it. */
static const LfElement seeds[] = {
  { LF_ELEMENT_SIGNED, 0, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, 1, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, -1, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, 2, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, 127, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, 128, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, -128, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, -129, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, 255, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, 256, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, 2049, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, 32767, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, -32769, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, 65535, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, 65536, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, 16777217, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, G_MAXINT32, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, (gint64) G_MININT32 - 1, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, G_GINT64_CONSTANT (4294967296), 0, 0, 0 },
  { LF_ELEMENT_SIGNED, G_GINT64_CONSTANT (9007199254740993), 0, 0, 0 },
  { LF_ELEMENT_SIGNED, G_GINT64_CONSTANT (1152921573326323713), 0, 0, 0 }, /* 2^60+2^36+1 */
  { LF_ELEMENT_SIGNED, G_MAXINT64, 0, 0, 0 },
  { LF_ELEMENT_SIGNED, G_MININT64, 0, 0, 0 },
  { LF_ELEMENT_UNSIGNED, 0, G_MAXUINT64, 0, 0 },
  { LF_ELEMENT_UNSIGNED, 0, G_GUINT64_CONSTANT (9223372586610589697), 0, 0 }, /* 2^63+2^39+1 */
  { LF_ELEMENT_FLOAT, 0, 0, -0.0, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 0.5, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, -0.5, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 1.5, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, -2.5, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 0.1, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 1.0 / 3, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 255.9, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, -129.5, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 65504, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 65519, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 65520, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 1e10, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, -3e38, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 1e39, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 1e300, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 0x1p63, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, -0x1p63, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 0x1p64, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 5e-324, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 1e-40, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 6e-8, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, 1.0 + 0x1p-8 + 0x1p-40, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, NAN, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, -NAN, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, INFINITY, 0 },
  { LF_ELEMENT_FLOAT, 0, 0, -INFINITY, 0 },
  { LF_ELEMENT_COMPLEX, 0, 0, 1, 2 },
  { LF_ELEMENT_COMPLEX, 0, 0, 0, 1 },
  { LF_ELEMENT_COMPLEX, 0, 0, 2.5, -0.0 },
  { LF_ELEMENT_COMPLEX, 0, 0, NAN, 0 },
  { LF_ELEMENT_COMPLEX, 0, 0, 1e300, 0.1 },
};

/* The seeds written into `dtype` (astype's rules): a sample array. */
static LfNode *
sample_array (LfDType dtype)
{
  gsize n = G_N_ELEMENTS (seeds), size = lf_dtype_size (dtype);
  guint8 *data = g_malloc (n * size);
  for (gsize i = 0; i < n; i++)
    lf_element_write (&seeds[i], dtype, data + i * size);
  return lf_array_new_take (dtype, 1, &n, data);
}

typedef struct {
  guint problems;
  char first[256];
} Problems;

static void G_GNUC_PRINTF (2, 3)
problem (Problems *p, const char *format, ...)
{
  if (p->problems++ == 0)
    {
      va_list args;
      va_start (args, format);
      g_vsnprintf (p->first, sizeof p->first, format, args);
      va_end (args);
    }
}

/* lf_scalar_convert of element `v` agrees with the model: the value it
 * writes, or the error for what the write lost. */
static void
check_scalar (LfDType from, LfDType to, const guint8 *bytes, const LfElement *v,
              Problems *p)
{
  /* type(x)(value.item()): an integer reaches a float constructor as a double. */
  LfElement want = *v;
  if ((v->kind == LF_ELEMENT_SIGNED || v->kind == LF_ELEMENT_UNSIGNED)
      && (lf_dtype_is_float (to) || lf_dtype_is_complex (to)))
    want = float_element (lf_element_to_double (v));
  guint8 out[16] = { 0 };
  LfElementLoss loss = lf_element_write (&want, to, out);
  int code = (loss & LF_ELEMENT_IMAGINARY_DROPPED) ? LF_ERROR_MISMATCH
             : ((loss & LF_ELEMENT_OUT_OF_RANGE) && lf_dtype_is_integer (to)) ? LF_ERROR_OVERFLOW
             : -1;
  g_autoptr (LfNode) scalar = lf_scalar_new (from, bytes);
  GError *error = NULL;
  g_autoptr (LfNode) converted = lf_scalar_convert (scalar, to, &error);
  g_autofree char *text = lf_element_to_string (v);
  if (code < 0 && (converted == NULL
                   || memcmp (lf_scalar_get_value (converted), out, lf_dtype_size (to)) != 0))
    problem (p, "scalar %s %s -> %s: %s", lf_dtype_name (from), text, lf_dtype_name (to),
             error ? error->message : "another value");
  if (code >= 0 && (error == NULL || error->code != code))
    problem (p, "scalar %s %s -> %s: expected error %d", lf_dtype_name (from), text,
             lf_dtype_name (to), code);
  g_clear_error (&error);
}

static void
check_pair (LfNode *src, LfDType to, Problems *p)
{
  LfDType from = lf_array_get_dtype (src);
  gsize n = lf_array_get_n_elements (src);
  gsize from_size = lf_dtype_size (from), to_size = lf_dtype_size (to);
  const guint8 *data = lf_array_get_data (src);
  GError *error = NULL;
  g_autoptr (LfNode) lossy = lf_array_cast (src, to, LF_CAST_LOSSY, &error);
  LF_ASSERT_NO_ERROR (error);
  const guint8 *cast = lf_array_get_data (lossy);
  /* numpy calls int64 -> float64 safe although 2^53 + 1 rounds. */
  gboolean safe = lf_dtype_can_cast_safely (from, to)
                  && !(lf_dtype_is_integer (from) && from_size == 8);
  gboolean all_exact = TRUE;

  for (gsize i = 0; i < n; i++)
    {
      LfElement v, w;
      guint8 out[16];
      lf_element_read (from, data + i * from_size, &v);
      LfElementLoss loss = lf_element_write (&v, to, out);
      lf_element_read (to, out, &w);
      g_autofree char *text = lf_element_to_string (&v);
      const char *names[2] = { lf_dtype_name (from), lf_dtype_name (to) };
      if (memcmp (out, cast + i * to_size, to_size) != 0)
        problem (p, "%s %s -> %s: lf_array_cast differs", names[0], text, names[1]);
      /* Exact means the same number (or NaN for NaN); a loss, a different one. */
      gboolean ok = loss == LF_ELEMENT_EXACT
                    ? lf_element_equal (&v, &w)
                      || (lf_element_is_nan (&v) && lf_element_is_nan (&w))
                    : !lf_element_equal (&v, &w);
      if (!ok)
        problem (p, "%s %s -> %s: loss %d does not match the value written", names[0], text,
                 names[1], loss);
      if (safe && loss != LF_ELEMENT_EXACT)
        problem (p, "%s %s -> %s: a safe cast lost (%d)", names[0], text, names[1], loss);
      all_exact = all_exact && loss == LF_ELEMENT_EXACT;
      check_scalar (from, to, data + i * from_size, &v, p);
    }
  /* ml_dtypes calls no integer -> bfloat16 safe, though 8-bit ones fit. */
  if (!lf_dtype_can_cast_safely (from, to) && all_exact
      && !(to == LF_DTYPE_BFLOAT16 && lf_dtype_is_integer (from) && from_size == 1))
    problem (p, "%s -> %s is not safe, yet every sample converted exactly",
             lf_dtype_name (from), lf_dtype_name (to));
  g_autoptr (LfNode) exact = lf_array_cast (src, to, LF_CAST_EXACT, &error);
  if ((exact != NULL) != all_exact)
    problem (p, "%s -> %s: LF_CAST_EXACT %s", lf_dtype_name (from), lf_dtype_name (to),
             exact != NULL ? "passed a loss" : "failed without one");
  g_clear_error (&error);
}

START_TEST (test_every_pair)
{
  Problems p = { 0 };
  for (int from = LF_DTYPE_BOOL; from < LF_DTYPE_LAST; from++)
    {
      g_autoptr (LfNode) src = sample_array ((LfDType) from);
      for (int to = LF_DTYPE_BOOL; to < LF_DTYPE_LAST; to++)
        check_pair (src, (LfDType) to, &p);
    }
  ck_assert_msg (p.problems == 0, "%u problems; the first: %s", p.problems, p.first);
}
END_TEST

/* Every sample array, then its lossy cast to every dtype, as one file of
 * records (to $LF_ELEMENTS_OUT when set, for interop-elements.sh, which
 * checks the casts against numpy's astype); read back here. */
START_TEST (test_oracle_file)
{
  GPtrArray *leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  for (int from = LF_DTYPE_BOOL; from < LF_DTYPE_LAST; from++)
    {
      LfNode *src = sample_array ((LfDType) from);
      g_ptr_array_add (leaves, src);
      for (int to = LF_DTYPE_BOOL; to < LF_DTYPE_LAST; to++)
        g_ptr_array_add (leaves, lf_array_cast (src, (LfDType) to, LF_CAST_LOSSY, NULL));
    }
  g_autoptr (LfNode) tree = lf_list_new (leaves->len, (LfNode *const *) leaves->pdata);
  g_ptr_array_unref (leaves);
  const char *out = g_getenv ("LF_ELEMENTS_OUT");
  g_autofree char *path = out != NULL ? g_strdup (out) : lf_test_path ("elements.eqx");
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves (path, tree, NULL, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves (path, tree, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (back, tree));
}
END_TEST

/* ---- float16 and bfloat16 through the model ---------------------------------------- */

START_TEST (test_half_round_trips)
{
  /* Every finite float16 survives a round trip, and each midpoint between
   * neighbours rounds to the even one.  Mismatches are counted, not
   * asserted one by one: ck_assert per value is too slow under valgrind. */
  guint wrong = 0;
  for (guint h = 0; h < 0x7c00; h++)
    for (guint sign = 0; sign <= 0x8000; sign += 0x8000)
      {
        guint16 bits = (guint16) (h | sign), out;
        LfElement e, next;
        lf_element_read (LF_DTYPE_FLOAT16, &bits, &e);
        wrong += lf_element_write (&e, LF_DTYPE_FLOAT16, &out) != LF_ELEMENT_EXACT;
        wrong += out != bits;
        float f = (float) e.re;
        lf_convert_f32_to_f16 (&f, &out, 1);
        wrong += out != bits;
        guint16 next_bits = (guint16) (bits + 1);
        lf_element_read (LF_DTYPE_FLOAT16, &next_bits, &next);
        if (h + 1 < 0x7c00)
          {
            guint16 even = (bits & 1) ? next_bits : bits;
            LfElement mid = float_element ((e.re + next.re) / 2);
            wrong += lf_element_write (&mid, LF_DTYPE_FLOAT16, &out) != LF_ELEMENT_ROUNDED;
            wrong += out != even;
          }
      }
  ck_assert_uint_eq (wrong, 0);

  struct { double value; guint16 bits; } halves[] = {
    { 0x1p-24, 0x0001 }, { 65504.0, 0x7bff }, { INFINITY, 0x7c00 }, { -INFINITY, 0xfc00 },
    { 65519.99, 0x7bff }, { 65520.0, 0x7c00 }, { 1e300, 0x7c00 }, { -1e-300, 0x8000 },
    { 0x1p-25, 0x0000 }, { 0x1.0000000000001p-25, 0x0001 }, { 5e-324, 0x0000 },
    { 0x1.ffcp-15, 0x0400 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (halves); i++)
    {
      guint16 out;
      LfElement e = float_element (halves[i].value);
      lf_element_write (&e, LF_DTYPE_FLOAT16, &out);
      ck_assert_msg (out == halves[i].bits, "%.17g -> 0x%04x, expected 0x%04x",
                     halves[i].value, out, halves[i].bits);
    }

  /* bfloat16: round trip, ties to even, overflow */
  for (guint h = 0; h < 0x7f80; h++)
    {
      guint16 bits = (guint16) h, out;
      LfElement e;
      lf_element_read (LF_DTYPE_BFLOAT16, &bits, &e);
      wrong += lf_element_write (&e, LF_DTYPE_BFLOAT16, &out) != LF_ELEMENT_EXACT;
      wrong += out != bits;
    }
  ck_assert_uint_eq (wrong, 0);
  struct { double value; guint16 bits; } bfloats[] = {
    { 1.0, 0x3f80 }, { 1.00390625, 0x3f80 }, { 1.01171875, 0x3f82 }, { 3.4e38, 0x7f80 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bfloats); i++)
    {
      guint16 out;
      LfElement e = float_element (bfloats[i].value);
      lf_element_write (&e, LF_DTYPE_BFLOAT16, &out);
      ck_assert_uint_eq (out, bfloats[i].bits);
    }
}
END_TEST

START_TEST (test_preconditions)
{
  LfElement e = signed_element (1);
  guint8 out[16] = { 0 };
  LF_ASSERT_CRITICAL (lf_element_read (LF_DTYPE_INVALID, out, &e));
  LF_ASSERT_CRITICAL (lf_element_read (LF_DTYPE_LAST, out, &e));
  LF_ASSERT_CRITICAL (lf_element_read (LF_DTYPE_INT8, NULL, &e));
  LF_ASSERT_CRITICAL (lf_element_write (&e, LF_DTYPE_INVALID, out));
  LF_ASSERT_CRITICAL (lf_element_write (NULL, LF_DTYPE_INT8, out));
  LF_ASSERT_CRITICAL (lf_element_write (&e, LF_DTYPE_INT8, NULL));
  char *text = NULL;
  LF_ASSERT_CRITICAL (text = lf_element_to_string (NULL));
  ck_assert_ptr_null (text);
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("elements");
  TCase *tc = tcase_create ("elements");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_read_every_dtype);
  tcase_add_test (tc, test_bool_is_unsigned);
  tcase_add_test (tc, test_integers_wrap);
  tcase_add_test (tc, test_floats_into_integers);
  tcase_add_test (tc, test_into_floats);
  tcase_add_test (tc, test_nan_bits_kept);
  tcase_add_test (tc, test_into_complex);
  tcase_add_test (tc, test_equal_and_distance);
  tcase_add_test (tc, test_nonzero_nan_strings);
  tcase_add_test (tc, test_every_pair);
  tcase_add_test (tc, test_half_round_trips);
  tcase_add_test (tc, test_preconditions);
  suite_add_tcase (suite, tc);
  TCase *oracle = tcase_create ("oracle");
  tcase_add_test (oracle, test_oracle_file);
  suite_add_tcase (suite, oracle);
  return suite;
}
