/* Float conversions (F16C and portable paths compared bit for bit, values
 * numpy gives) and lf_array_cast under each policy. */
#include <math.h>
#include <string.h>

#include "test-common.h"

/* Float32 bit patterns covering every float16 outcome: all sign/exponent/
 * kept-mantissa combinations with the dropped 13 bits in each rounding
 * class. */
static guint32 *
sample_f32 (gsize *n)
{
  static const guint32 low[] = { 0, 1, 0x0fff, 0x1000, 0x1001, 0x1fff };
  gsize count = (1u << 19) * G_N_ELEMENTS (low);
  guint32 *bits = g_new (guint32, count);
  gsize k = 0;

  for (guint32 upper = 0; upper < (1u << 19); upper++)
    for (gsize j = 0; j < G_N_ELEMENTS (low); j++)
      bits[k++] = (upper << 13) | low[j];
  *n = count;
  return bits;
}

static void
convert_with (LfConvertImpl impl, const float *src, guint16 *dst, gsize n)
{
  ck_assert (lf_convert_set_impl (impl));
  lf_convert_f32_to_f16 (src, dst, n);
  lf_convert_set_impl (LF_CONVERT_IMPL_AUTO);
}

START_TEST (test_f16c_matches_portable)
{
  if (!lf_convert_set_impl (LF_CONVERT_IMPL_F16C))
    {
      g_test_message ("no F16C on this CPU: only the portable path is tested");
      return;
    }
  gsize n;
  g_autofree guint32 *bits = sample_f32 (&n);
  g_autofree guint16 *a = g_new (guint16, n);
  g_autofree guint16 *b = g_new (guint16, n);
  /* Odd offsets exercise the unaligned loads and the scalar tail. */
  convert_with (LF_CONVERT_IMPL_PORTABLE, (const float *) bits + 3, a, n - 3);
  convert_with (LF_CONVERT_IMPL_F16C, (const float *) bits + 3, b, n - 3);
  /* One assertion at the end: each ck_assert costs a write to Check's pipe. */
  gssize first_bad = -1;
  for (gsize i = 0; i < n - 3 && first_bad < 0; i++)
    if (a[i] != b[i])
      first_bad = (gssize) i;
  gsize at = first_bad < 0 ? 0 : (gsize) first_bad;
  ck_assert_msg (first_bad < 0, "f32 %#x: portable %#x, F16C %#x", bits[at + 3],
                 a[at], b[at]);

  /* All halves back to float32. */
  guint16 halves[65536 + 5];
  for (guint i = 0; i < G_N_ELEMENTS (halves); i++)
    halves[i] = (guint16) i;
  g_autofree float *pa = g_new (float, G_N_ELEMENTS (halves));
  g_autofree float *pb = g_new (float, G_N_ELEMENTS (halves));
  ck_assert (lf_convert_set_impl (LF_CONVERT_IMPL_PORTABLE));
  ck_assert_int_eq (lf_convert_get_impl (), LF_CONVERT_IMPL_PORTABLE);
  lf_convert_f16_to_f32 (halves, pa, G_N_ELEMENTS (halves));
  ck_assert (lf_convert_set_impl (LF_CONVERT_IMPL_F16C));
  lf_convert_f16_to_f32 (halves, pb, G_N_ELEMENTS (halves));
  lf_convert_set_impl (LF_CONVERT_IMPL_AUTO);
  ck_assert (memcmp (pa, pb, sizeof (float) * G_N_ELEMENTS (halves)) == 0);
}
END_TEST

/* Values numpy 1.24 gives for np.array(x, '<f4').view... astype(float16). */
static const struct {
  guint32 f32;
  guint16 f16;
} known[] = {
  { 0x00000000, 0x0000 }, { 0x80000000, 0x8000 },   /* signed zeros */
  { 0x3f800000, 0x3c00 }, { 0x477fe000, 0x7bff },   /* 1, 65504 */
  { 0x477fefff, 0x7bff }, { 0x477ff000, 0x7c00 },   /* below the tie, 65520 -> inf */
  { 0x7f7fffff, 0x7c00 }, { 0xff800000, 0xfc00 },   /* overflow, -inf */
  { 0x33800000, 0x0001 }, { 0x33000000, 0x0000 },   /* 2^-24, 2^-25 tie to even 0 */
  { 0x33000001, 0x0001 }, { 0x33c00000, 0x0002 },   /* above the tie, 1.5 * 2^-24 */
  { 0x387fe000, 0x0400 }, { 0x3f801000, 0x3c00 },   /* carry to normal, 1+2^-11 tie */
  { 0x3f803000, 0x3c02 }, { 0x00000001, 0x0000 },   /* tie up to even, f32 subnormal */
  { 0x7fc00000, 0x7e00 }, { 0x7f800001, 0x7c01 },   /* quiet NaN; signalling stays */
  { 0xff802000, 0xfc01 }, { 0x7fbfe000, 0x7dff },   /* signalling NaN payloads */
};

START_TEST (test_known_values)
{
  LfConvertImpl impls[] = { LF_CONVERT_IMPL_PORTABLE, LF_CONVERT_IMPL_F16C };
  for (gsize k = 0; k < G_N_ELEMENTS (impls); k++)
    {
      if (!lf_convert_set_impl (impls[k]))
        continue;
      for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
        {
          /* 8 copies so the vector path sees the value too */
          float in[9];
          guint16 out[9];
          for (int j = 0; j < 9; j++)
            memcpy (in + j, &known[i].f32, 4);
          lf_convert_f32_to_f16 (in, out, 9);
          for (int j = 0; j < 9; j++)
            ck_assert_msg (out[j] == known[i].f16, "impl %d: %#x -> %#x, numpy %#x",
                           impls[k], known[i].f32, out[j], known[i].f16);
          /* And back: numpy keeps the payload and the signalling bit. */
          float back[9];
          guint16 halves[9];
          for (int j = 0; j < 9; j++)
            halves[j] = known[i].f16;
          lf_convert_f16_to_f32 (halves, back, 9);
          double wide;
          lf_convert_f16_to_f64 (&known[i].f16, &wide, 1);
          guint32 back_bits;
          memcpy (&back_bits, back + 8, 4);
          if ((known[i].f16 & 0x7fff) > 0x7c00)
            ck_assert_uint_eq (back_bits, 0x7f800000u | ((guint32) (known[i].f16 & 0x8000) << 16)
                                          | ((guint32) (known[i].f16 & 0x3ff) << 13));
          else
            ck_assert (back[0] == wide && back[8] == wide);
        }
    }
  lf_convert_set_impl (LF_CONVERT_IMPL_AUTO);
}
END_TEST

START_TEST (test_f64_and_bf16)
{
  /* float64 goes straight to float16: no double rounding through float32.
   * 1 + 2^-11 + 2^-40 rounds up in one step; through float32 it would
   * first become the tie 1 + 2^-11 and then round down to 1. */
  double d[] = { 1.0 + ldexp (1, -11) + ldexp (1, -40), 65519.999, 65520.0, -0.0,
                 ldexp (1, -25), ldexp (1, -25) * (1 + ldexp (1, -50)), INFINITY };
  guint16 expected[] = { 0x3c01, 0x7bff, 0x7c00, 0x8000, 0x0000, 0x0001, 0x7c00 };
  guint16 h[G_N_ELEMENTS (d)];
  lf_convert_f64_to_f16 (d, h, G_N_ELEMENTS (d));
  for (gsize i = 0; i < G_N_ELEMENTS (d); i++)
    ck_assert_msg (h[i] == expected[i], "%.17g -> %#x, expected %#x", d[i], h[i], expected[i]);

  /* bfloat16: widening is exact, narrowing rounds half to even. */
  guint16 bf[] = { 0x3f80, 0xc049, 0x7f80, 0x0001 };
  float f[4];
  lf_convert_bf16_to_f32 (bf, f, 4);
  ck_assert (f[0] == 1.0f && f[1] == -3.140625f && isinf (f[2]));
  float narrow[] = { 1.0f + ldexpf (1, -8), 1.0f + 3 * ldexpf (1, -8), NAN, -NAN, 3.4e38f };
  guint16 nb[5];
  lf_convert_f32_to_bf16 (narrow, nb, 5);
  ck_assert_uint_eq (nb[0], 0x3f80);          /* tie to even, down */
  ck_assert_uint_eq (nb[1], 0x3f82);          /* tie to even, up */
  ck_assert_uint_eq (nb[2], 0x7fc0);
  ck_assert_uint_eq (nb[3], 0xffc0);
  ck_assert_uint_eq (nb[4], 0x7f80);          /* rounds over the top */

  /* bfloat16 <-> float16 through float32. */
  guint16 to_half[4];
  lf_convert_bf16_to_f16 (bf, to_half, 4);
  ck_assert_uint_eq (to_half[0], 0x3c00);
  ck_assert_uint_eq (to_half[2], 0x7c00);
  ck_assert_uint_eq (to_half[3], 0x0000);     /* 9e-41 is far below float16 */
  guint16 from_half[1], one = 0x3c00;
  lf_convert_f16_to_bf16 (&one, from_half, 1);
  ck_assert_uint_eq (from_half[0], 0x3f80);
}
END_TEST

START_TEST (test_find_overflow)
{
  float f[] = { 1, INFINITY, 70000, 2 };
  guint16 h[4];
  lf_convert_f32_to_f16 (f, h, 4);
  ck_assert_int_eq (lf_convert_find_f16_overflow (LF_DTYPE_FLOAT32, f, h, 4), 2);
  ck_assert_int_eq (lf_convert_find_f16_overflow (LF_DTYPE_FLOAT32, f, h, 2), -1);
  double d[] = { -INFINITY, -1e6 };
  lf_convert_f64_to_f16 (d, h, 2);
  ck_assert_int_eq (lf_convert_find_f16_overflow (LF_DTYPE_FLOAT64, d, h, 2), 1);
  guint16 bf[] = { 0xff80, 0x4780 };          /* -inf, 65536 */
  lf_convert_bf16_to_f16 (bf, h, 2);
  ck_assert_int_eq (lf_convert_find_f16_overflow (LF_DTYPE_BFLOAT16, bf, h, 2), 1);
  LF_ASSERT_CRITICAL (lf_convert_find_f16_overflow (LF_DTYPE_INT8, d, h, 2));
}
END_TEST

/* numpy 1.24's np.can_cast (a, b, 'safe') for every pair (bfloat16 aside),
 * one row a source dtype, in LfDType order from bool. */
static const char *const safe_table[] = {
  /* bool  */ "11111111111111",
  /* i1    */ "01111000011111",
  /* i2    */ "00111000001111",
  /* i4    */ "00011000000101",
  /* i8    */ "00001000000101",
  /* u1    */ "00111111111111",
  /* u2    */ "00011011101111",
  /* u4    */ "00001001100101",
  /* u8    */ "00000000100101",
  /* f2    */ "00000000011111",
  /* f4    */ "00000000001111",
  /* f8    */ "00000000000101",
  /* c8    */ "00000000000011",
  /* c16   */ "00000000000001",
};

START_TEST (test_safe_table)
{
  static const LfDType order[] = {
    LF_DTYPE_BOOL, LF_DTYPE_INT8, LF_DTYPE_INT16, LF_DTYPE_INT32, LF_DTYPE_INT64,
    LF_DTYPE_UINT8, LF_DTYPE_UINT16, LF_DTYPE_UINT32, LF_DTYPE_UINT64, LF_DTYPE_FLOAT16,
    LF_DTYPE_FLOAT32, LF_DTYPE_FLOAT64, LF_DTYPE_COMPLEX64, LF_DTYPE_COMPLEX128,
  };
  for (gsize a = 0; a < G_N_ELEMENTS (order); a++)
    for (gsize b = 0; b < G_N_ELEMENTS (order); b++)
      ck_assert_msg (lf_dtype_can_cast_safely (order[a], order[b]) == (safe_table[a][b] == '1'),
                     "%s -> %s", lf_dtype_name (order[a]), lf_dtype_name (order[b]));
  ck_assert (lf_dtype_can_cast_safely (LF_DTYPE_BFLOAT16, LF_DTYPE_FLOAT32));
  ck_assert (!lf_dtype_can_cast_safely (LF_DTYPE_BFLOAT16, LF_DTYPE_FLOAT16));
  ck_assert (!lf_dtype_can_cast_safely (LF_DTYPE_FLOAT16, LF_DTYPE_BFLOAT16));
  ck_assert (!lf_dtype_can_cast_safely (LF_DTYPE_INT8, LF_DTYPE_BFLOAT16));
}
END_TEST

static LfNode *
cast_ok (LfNode *array, LfDType dtype, LfCastPolicy policy)
{
  GError *error = NULL;
  LfNode *out = lf_array_cast (array, dtype, policy, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_int_eq (lf_array_get_dtype (out), dtype);
  ck_assert_uint_eq (lf_array_get_n_elements (out), lf_array_get_n_elements (array));
  return out;
}

START_TEST (test_cast_widening)
{
  gsize shape[] = { 2, 2 };
  float f[] = { 0.1f, -2, INFINITY, 1e-40f };
  g_autoptr (LfNode) a = lf_array_new_copy (LF_DTYPE_FLOAT32, 2, shape, f);
  g_autoptr (LfNode) wide = cast_ok (a, LF_DTYPE_FLOAT64, LF_CAST_SAFE);
  const double *d = lf_array_get_data (wide);
  for (int i = 0; i < 4; i++)
    ck_assert (d[i] == (double) f[i]);
  ck_assert_uint_eq (lf_array_get_ndim (wide), 2);

  gint32 i32[] = { -5, G_MAXINT32, G_MININT32, 0 };
  g_autoptr (LfNode) ia = lf_array_new_copy (LF_DTYPE_INT32, 2, shape, i32);
  g_autoptr (LfNode) i64 = cast_ok (ia, LF_DTYPE_INT64, LF_CAST_SAFE);
  const gint64 *v = lf_array_get_data (i64);
  ck_assert (v[0] == -5 && v[1] == G_MAXINT32 && v[2] == G_MININT32);
  g_autoptr (LfNode) c = cast_ok (ia, LF_DTYPE_COMPLEX128, LF_CAST_SAFE);
  const double *cd = lf_array_get_data (c);
  ck_assert (cd[0] == -5 && cd[1] == 0 && cd[2] == G_MAXINT32);

  /* The same dtype is the same node; an abstract array stays abstract. */
  g_autoptr (LfNode) same = cast_ok (a, LF_DTYPE_FLOAT32, LF_CAST_SAFE);
  ck_assert_ptr_eq (same, a);
  g_autoptr (LfNode) abstract = lf_array_new_abstract (LF_DTYPE_FLOAT16, 2, shape);
  g_autoptr (LfNode) abstract64 = cast_ok (abstract, LF_DTYPE_FLOAT64, LF_CAST_SAFE);
  ck_assert (lf_array_is_abstract (abstract64));

  /* float16 / bfloat16 fast paths. */
  guint16 h[] = { 0x3c00, 0xfc00, 0x7c01, 0x0001 };
  g_autoptr (LfNode) ha = lf_array_new_copy (LF_DTYPE_FLOAT16, 2, shape, h);
  g_autoptr (LfNode) hf = cast_ok (ha, LF_DTYPE_FLOAT32, LF_CAST_SAFE);
  const float *hv = lf_array_get_data (hf);
  ck_assert (hv[0] == 1 && isinf (hv[1]) && isnan (hv[2]) && hv[3] == ldexpf (1, -24));
  g_autoptr (LfNode) bfa = lf_array_new_copy (LF_DTYPE_BFLOAT16, 2, shape, h);
  g_autoptr (LfNode) bff = cast_ok (bfa, LF_DTYPE_FLOAT64, LF_CAST_SAFE);
  ck_assert (((const double *) lf_array_get_data (bff))[0] == 0.0078125);
}
END_TEST

START_TEST (test_cast_exact_and_lossy)
{
  GError *error = NULL;
  gsize n = 4;

  /* float64 -> float32: exact values pass, a rounding one fails. */
  double exact[] = { 0.5, -3, NAN, INFINITY };
  g_autoptr (LfNode) e = lf_array_new_copy (LF_DTYPE_FLOAT64, 1, &n, exact);
  g_autoptr (LfNode) e32 = cast_ok (e, LF_DTYPE_FLOAT32, LF_CAST_EXACT);
  ck_assert (isnan (((const float *) lf_array_get_data (e32))[2]));
  ck_assert_ptr_null (lf_array_cast (e, LF_DTYPE_FLOAT32, LF_CAST_SAFE, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH, "cannot cast float64 to float32 safely");

  double inexact[] = { 0.5, 0.1, 1, 2 };
  g_autoptr (LfNode) ie = lf_array_new_copy (LF_DTYPE_FLOAT64, 1, &n, inexact);
  ck_assert_ptr_null (lf_array_cast (ie, LF_DTYPE_FLOAT32, LF_CAST_EXACT, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_OVERFLOW,
                   "element 1 (0.10000000000000001) of float64 does not fit float32 exactly");
  g_autoptr (LfNode) lossy = cast_ok (ie, LF_DTYPE_FLOAT32, LF_CAST_LOSSY);
  ck_assert (((const float *) lf_array_get_data (lossy))[1] == 0.1f);
  double big[] = { 1e300, 0, 0, 0 };
  g_autoptr (LfNode) be = lf_array_new_copy (LF_DTYPE_FLOAT64, 1, &n, big);
  ck_assert_ptr_null (lf_array_cast (be, LF_DTYPE_FLOAT16, LF_CAST_EXACT, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_OVERFLOW, "element 0 (1.0000000000000001e+300)");

  /* int64 -> int32: in range passes, out of range fails or wraps. */
  gint64 small[] = { 1, -1, G_MAXINT32, G_MININT32 };
  g_autoptr (LfNode) s = lf_array_new_copy (LF_DTYPE_INT64, 1, &n, small);
  g_autoptr (LfNode) s32 = cast_ok (s, LF_DTYPE_INT32, LF_CAST_EXACT);
  ck_assert_int_eq (((const gint32 *) lf_array_get_data (s32))[3], G_MININT32);
  gint64 wide[] = { 1, (gint64) G_MAXINT32 + 1, -1, 0 };
  g_autoptr (LfNode) w = lf_array_new_copy (LF_DTYPE_INT64, 1, &n, wide);
  ck_assert_ptr_null (lf_array_cast (w, LF_DTYPE_INT32, LF_CAST_EXACT, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_OVERFLOW, "element 1 (2147483648) of int64 does not fit int32");
  g_autoptr (LfNode) wrapped = cast_ok (w, LF_DTYPE_INT32, LF_CAST_LOSSY);
  ck_assert_int_eq (((const gint32 *) lf_array_get_data (wrapped))[1], G_MININT32);
  ck_assert_ptr_null (lf_array_cast (w, LF_DTYPE_UINT8, LF_CAST_EXACT, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_OVERFLOW, "element 1");
  g_autoptr (LfNode) u8 = cast_ok (w, LF_DTYPE_UINT8, LF_CAST_LOSSY);
  ck_assert_uint_eq (((const guint8 *) lf_array_get_data (u8))[2], 255);

  /* Large integers into floats: exact only while the float holds them. */
  gint64 huge[] = { (G_GINT64_CONSTANT (1) << 53) + 1, 0, 0, G_MAXINT64 };
  g_autoptr (LfNode) h = lf_array_new_copy (LF_DTYPE_INT64, 1, &n, huge);
  ck_assert_ptr_null (lf_array_cast (h, LF_DTYPE_FLOAT64, LF_CAST_EXACT, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_OVERFLOW, "element 0 (9007199254740993)");
  guint64 uhuge[] = { G_MAXUINT64, 0, 0, 0 };
  g_autoptr (LfNode) uh = lf_array_new_copy (LF_DTYPE_UINT64, 1, &n, uhuge);
  ck_assert_ptr_null (lf_array_cast (uh, LF_DTYPE_FLOAT32, LF_CAST_EXACT, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_OVERFLOW, "18446744073709551615");

  /* Floats into integers: fractions, NaN and range. */
  double fr[] = { 2.0, -0.0, 2.5, NAN };
  g_autoptr (LfNode) f = lf_array_new_copy (LF_DTYPE_FLOAT64, 1, &n, fr);
  ck_assert_ptr_null (lf_array_cast (f, LF_DTYPE_INT16, LF_CAST_EXACT, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_OVERFLOW, "element 2 (2.5)");
  g_autoptr (LfNode) fi = cast_ok (f, LF_DTYPE_INT16, LF_CAST_LOSSY);
  const gint16 *fv = lf_array_get_data (fi);
  ck_assert (fv[0] == 2 && fv[1] == 0 && fv[2] == 2 && fv[3] == 0);
  double sat[] = { 1e30, -1e30, -1, 1e19 };
  g_autoptr (LfNode) sa = lf_array_new_copy (LF_DTYPE_FLOAT64, 1, &n, sat);
  g_autoptr (LfNode) s64 = cast_ok (sa, LF_DTYPE_INT64, LF_CAST_LOSSY);
  const gint64 *sv = lf_array_get_data (s64);
  ck_assert (sv[0] == G_MAXINT64 && sv[1] == G_MININT64 && sv[2] == -1 && sv[3] == G_MAXINT64);
  g_autoptr (LfNode) su = cast_ok (sa, LF_DTYPE_UINT64, LF_CAST_LOSSY);
  const guint64 *suv = lf_array_get_data (su);
  ck_assert (suv[0] == G_MAXUINT64 && suv[1] == 0 && suv[2] == 0);

  /* bool and complex. */
  gint8 b[] = { 0, 1, 2, -1 };
  g_autoptr (LfNode) ba = lf_array_new_copy (LF_DTYPE_INT8, 1, &n, b);
  ck_assert_ptr_null (lf_array_cast (ba, LF_DTYPE_BOOL, LF_CAST_EXACT, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_OVERFLOW, "element 2 (2) of int8 does not fit bool");
  g_autoptr (LfNode) bb = cast_ok (ba, LF_DTYPE_BOOL, LF_CAST_LOSSY);
  ck_assert (memcmp (lf_array_get_data (bb), "\0\1\1\1", 4) == 0);
  float cx[] = { 1, 0, 2, 0.5f, 3, 0, 4, 0 };
  g_autoptr (LfNode) ca = lf_array_new_copy (LF_DTYPE_COMPLEX64, 1, &n, cx);
  ck_assert_ptr_null (lf_array_cast (ca, LF_DTYPE_FLOAT32, LF_CAST_EXACT, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_OVERFLOW, "element 1 ((2+0.5j)) of complex64");
  g_autoptr (LfNode) cr = cast_ok (ca, LF_DTYPE_FLOAT64, LF_CAST_LOSSY);
  ck_assert (((const double *) lf_array_get_data (cr))[1] == 2);
  g_autoptr (LfNode) c128 = cast_ok (ca, LF_DTYPE_COMPLEX128, LF_CAST_SAFE);
  ck_assert (((const double *) lf_array_get_data (c128))[3] == 0.5);
}
END_TEST

START_TEST (test_cast_preconditions)
{
  g_autoptr (LfNode) scalar = lf_scalar_new_int (1);
  LF_ASSERT_CRITICAL (lf_array_cast (scalar, LF_DTYPE_INT8, LF_CAST_SAFE, NULL));
  gsize n = 1;
  g_autoptr (LfNode) a = lf_array_new_zeros (LF_DTYPE_INT8, 1, &n);
  LF_ASSERT_CRITICAL (lf_array_cast (a, LF_DTYPE_INVALID, LF_CAST_SAFE, NULL));
  LF_ASSERT_CRITICAL (lf_convert_set_impl (7));
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *s = suite_create ("convert");
  TCase *tc = tcase_create ("float16");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_f16c_matches_portable);
  tcase_add_test (tc, test_known_values);
  tcase_add_test (tc, test_f64_and_bf16);
  tcase_add_test (tc, test_find_overflow);
  suite_add_tcase (s, tc);
  tc = tcase_create ("cast");
  tcase_add_test (tc, test_safe_table);
  tcase_add_test (tc, test_cast_widening);
  tcase_add_test (tc, test_cast_exact_and_lossy);
  tcase_add_test (tc, test_cast_preconditions);
  suite_add_tcase (s, tc);
  return s;
}
