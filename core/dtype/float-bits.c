/* The portable single-value kernels of the float conversions: float16 and
 * bfloat16 from and to float32 and float64, on bit patterns.
 *
 * Working on the bits, they give numpy's results whatever the FPU's
 * rounding mode or flush-to-zero settings:
 *   - round half to even on the bits shifted out;
 *   - values below half the smallest subnormal become signed zeros;
 *   - finite values from 65520 up (the tie above 65504) become infinities;
 *   - NaNs keep their sign and the top payload bits; a payload that would
 *     vanish becomes 1 so the value stays a NaN (numpy's rule: a signalling
 *     NaN stays signalling).
 * float64 -> float16 is converted directly, never through float32, whose
 * double rounding would differ from numpy's. */
#include "config.h"

#include "float-bits-private.h"

guint16
lf_f16_from_f32_bits (guint32 bits)
{
  guint16 sign = (guint16) ((bits >> 16) & 0x8000u);
  guint32 abs = bits & 0x7fffffffu;

  if (abs >= 0x7f800000u)
    {
      guint16 payload = (guint16) ((abs >> 13) & 0x3ffu);
      if (abs == 0x7f800000u)
        return sign | 0x7c00u;
      return sign | 0x7c00u | (payload != 0 ? payload : 1);
    }
  if (abs >= 0x477ff000u)          /* 65520 and up round to infinity */
    return sign | 0x7c00u;
  if (abs < 0x38800000u)           /* below 2^-14: a subnormal half or zero */
    {
      if (abs < 0x33000000u)       /* below 2^-25: zero */
        return sign;
      /* value = m * 2^(e - 150); in units of 2^-24 that is m >> (126 - e). */
      guint32 e = abs >> 23;
      guint32 m = (abs & 0x7fffffu) | 0x800000u;
      guint32 shift = 126 - e;     /* 14..24 */
      guint32 q = m >> shift;
      guint32 rest = m & ((1u << shift) - 1);
      guint32 tie = 1u << (shift - 1);
      if (rest > tie || (rest == tie && (q & 1)))
        q++;                       /* may carry into the smallest normal: correct */
      return sign | (guint16) q;
    }
  /* Normal: rebias the exponent (127 -> 15) and round 13 bits away; a carry
   * out of the mantissa correctly bumps the exponent. */
  guint32 h = (abs - 0x38000000u) >> 13;
  guint32 rest = abs & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1)))
    h++;
  return sign | (guint16) h;
}

guint32
lf_f16_to_f32_bits (guint16 half)
{
  guint32 sign = (guint32) (half & 0x8000u) << 16;
  guint32 e = (half >> 10) & 0x1fu;
  guint32 m = half & 0x3ffu;

  if (e == 0x1f)
    return sign | 0x7f800000u | (m << 13);
  if (e != 0)
    return sign | ((e + 112) << 23) | (m << 13);
  if (m == 0)
    return sign;
  /* Subnormal: m * 2^-24, normalised so the leading 1 is implicit. */
  guint32 shift = 0;
  while ((m & 0x400u) == 0)
    {
      m <<= 1;
      shift++;
    }
  return sign | ((113 - shift) << 23) | ((m & 0x3ffu) << 13);
}

guint16
lf_f16_from_f64_bits (guint64 bits)
{
  guint16 sign = (guint16) ((bits >> 48) & 0x8000u);
  guint64 abs = bits & G_GUINT64_CONSTANT (0x7fffffffffffffff);

  if (abs >= G_GUINT64_CONSTANT (0x7ff0000000000000))
    {
      guint16 payload = (guint16) ((abs >> 42) & 0x3ffu);
      if (abs == G_GUINT64_CONSTANT (0x7ff0000000000000))
        return sign | 0x7c00u;
      return sign | 0x7c00u | (payload != 0 ? payload : 1);
    }
  if (abs >= G_GUINT64_CONSTANT (0x40effe0000000000))  /* 65520 */
    return sign | 0x7c00u;
  if (abs < G_GUINT64_CONSTANT (0x3f10000000000000))   /* 2^-14 */
    {
      if (abs < G_GUINT64_CONSTANT (0x3e60000000000000)) /* 2^-25 */
        return sign;
      guint64 e = abs >> 52;
      guint64 m = (abs & G_GUINT64_CONSTANT (0xfffffffffffff)) | (G_GUINT64_CONSTANT (1) << 52);
      guint64 shift = 1051 - e;                          /* 43..53 */
      guint64 q = m >> shift;
      guint64 rest = m & ((G_GUINT64_CONSTANT (1) << shift) - 1);
      guint64 tie = G_GUINT64_CONSTANT (1) << (shift - 1);
      if (rest > tie || (rest == tie && (q & 1)))
        q++;
      return sign | (guint16) q;
    }
  guint64 h = (abs - G_GUINT64_CONSTANT (0x3f00000000000000)) >> 42;
  guint64 rest = abs & ((G_GUINT64_CONSTANT (1) << 42) - 1);
  guint64 tie = G_GUINT64_CONSTANT (1) << 41;
  if (rest > tie || (rest == tie && (h & 1)))
    h++;
  return sign | (guint16) h;
}

guint64
lf_f16_to_f64_bits (guint16 half)
{
  guint64 sign = (guint64) (half & 0x8000u) << 48;
  guint64 e = (half >> 10) & 0x1fu;
  guint64 m = half & 0x3ffu;

  if (e == 0x1f)
    return sign | G_GUINT64_CONSTANT (0x7ff0000000000000) | (m << 42);
  if (e != 0)
    return sign | ((e + 1008) << 52) | (m << 42);
  if (m == 0)
    return sign;
  guint64 shift = 0;
  while ((m & 0x400u) == 0)
    {
      m <<= 1;
      shift++;
    }
  return sign | ((1009 - shift) << 52) | ((m & 0x3ffu) << 42);
}

guint16
lf_bf16_from_f32_bits (guint32 bits)
{
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return (guint16) (((bits >> 16) & 0x8000u) | 0x7fc0u);
  /* Round half to even on the low 16 bits; overflow carries into inf. */
  bits += 0x7fffu + ((bits >> 16) & 1);
  return (guint16) (bits >> 16);
}
