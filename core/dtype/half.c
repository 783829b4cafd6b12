/* float16 and bfloat16 <-> double, one value at a time, for scalars.
 * The bits come from the bulk converters in convert.c (checked against
 * numpy value for value, NaN payloads included), so a scalar and an array
 * of the same value always convert alike. */
#include "config.h"
#include <leafio/leafio.h>
#include "half-private.h"

double
lf_half_to_double (guint16 bits)
{
  double out;
  lf_convert_f16_to_f64 (&bits, &out, 1);
  return out;
}

guint16
lf_half_from_double (double value)
{
  guint16 out;
  lf_convert_f64_to_f16 (&value, &out, 1);
  return out;
}

guint16
lf_half_from_float (float value)
{
  guint16 out;
  lf_convert_f32_to_f16 (&value, &out, 1);
  return out;
}

float
lf_bfloat16_to_float (guint16 bits)
{
  float out;
  lf_convert_bf16_to_f32 (&bits, &out, 1);
  return out;
}

guint16
lf_bfloat16_from_float (float value)
{
  guint16 out;
  lf_convert_f32_to_bf16 (&value, &out, 1);
  return out;
}

guint16
lf_bfloat16_from_double (double value)
{
  /* Through float, as ml_dtypes' bfloat16(x) does. */
  return lf_bfloat16_from_float ((float) value);
}
