/* float16 and bfloat16 <-> double, one value at a time. */
#include "config.h"
#include <math.h>
#include <string.h>
#include "half-private.h"

double
lf_half_to_double (guint16 bits)
{
  guint64 sign = (guint64) (bits >> 15) << 63;
  guint exp = (bits >> 10) & 0x1f;
  guint64 mant = bits & 0x3ff;
  guint64 out;

  if (exp == 0x1f)
    {
      /* inf, or a NaN whose payload moves to the top of the double's */
      out = sign | ((guint64) 0x7ff << 52) | (mant << 42);
    }
  else if (exp == 0)
    {
      /* zero or subnormal: mant * 2^-24, exact in a double */
      double mag = ldexp ((double) mant, -24);
      return sign ? -mag : mag;
    }
  else
    out = sign | ((guint64) (exp - 15 + 1023) << 52) | (mant << 42);

  double d;
  memcpy (&d, &out, sizeof d);
  return d;
}

guint16
lf_half_from_double (double value)
{
  guint64 b;
  memcpy (&b, &value, sizeof b);
  guint16 sign = (guint16) ((b >> 48) & 0x8000);
  int exp = (int) ((b >> 52) & 0x7ff);
  guint64 mant = b & ((G_GUINT64_CONSTANT (1) << 52) - 1);

  if (exp == 0x7ff)
    {
      if (mant == 0)
        return sign | 0x7c00;
      /* quiet NaN keeping the payload's top bits */
      return sign | 0x7e00 | (guint16) (mant >> 42);
    }
  if (exp == 0)
    return sign;   /* zero or a double subnormal: far below half's smallest */

  int e = exp - 1023;                 /* value = m * 2^(e - 52) */
  guint64 m = mant | (G_GUINT64_CONSTANT (1) << 52);
  if (e > 15)
    return sign | 0x7c00;

  /* Count the value in units of the half's quantum 2^(te - 10), where te
   * is the exponent the half will use (clamped at -14 for subnormals). */
  int te = e < -14 ? -14 : e;
  int shift = 42 + (te - e);
  if (shift > 63)
    return sign;
  guint64 q = m >> shift;
  guint64 rem = m & ((G_GUINT64_CONSTANT (1) << shift) - 1);
  guint64 halfway = G_GUINT64_CONSTANT (1) << (shift - 1);
  if (rem > halfway || (rem == halfway && (q & 1)))
    q++;

  /* q is in [0, 2048]; adding it to the biased exponent lets a carry out
   * of the mantissa bump the exponent (and reach 0x7c00 = inf). */
  return sign | (guint16) ((guint64) ((te + 14) << 10) + q);
}

guint16
lf_half_from_float (float value)
{
  return lf_half_from_double ((double) value);
}

float
lf_bfloat16_to_float (guint16 bits)
{
  guint32 b = (guint32) bits << 16;
  float f;
  memcpy (&f, &b, sizeof f);
  return f;
}

guint16
lf_bfloat16_from_float (float value)
{
  guint32 b;
  memcpy (&b, &value, sizeof b);
  if ((b & 0x7fffffff) > 0x7f800000)
    return (guint16) ((b >> 16) | 0x0040);   /* quiet NaN, sign kept */
  /* round to nearest even on the dropped 16 bits; a carry may reach inf */
  b += 0x7fff + ((b >> 16) & 1);
  return (guint16) (b >> 16);
}

guint16
lf_bfloat16_from_double (double value)
{
  return lf_bfloat16_from_float ((float) value);
}
