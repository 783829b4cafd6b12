/* Portable, exact conversions between double and the 16-bit floats.
 *
 * float16 is IEEE binary16; bfloat16 is the top half of a float32.  Both
 * round to nearest, ties to even, overflow to infinity and keep NaN a NaN
 * with the bits numpy and ml_dtypes give.  Single-value wrappers over the
 * bulk converters of <leafio/convert.h>, for scalars.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* binary16 bits -> double (exact). */
double lf_half_to_double (guint16 bits);
/* double -> binary16 bits, rounded once, straight from the double (as
 * numpy's npy_double_to_half does). */
guint16 lf_half_from_double (double value);
/* float -> binary16 bits (the same as lf_half_from_double on the float). */
guint16 lf_half_from_float (float value);

/* bfloat16 bits -> float (exact). */
float lf_bfloat16_to_float (guint16 bits);
/* float -> bfloat16 bits. */
guint16 lf_bfloat16_from_float (float value);
/* double -> bfloat16 bits via float, as ml_dtypes' bfloat16(x) does (so a
 * double can round twice, exactly like Python's bfloat16(value)). */
guint16 lf_bfloat16_from_double (double value);

G_END_DECLS
