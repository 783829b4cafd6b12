/* The portable single-value kernels of the float conversions (float-bits.c),
 * on bit patterns: the bulk converters' plain-C path (convert.c) and the
 * NaN lanes of the F16C kernels (f16c.c). */
#pragma once

#include <glib.h>

/* float32 bits -> binary16 bits, and back (exact). */
G_GNUC_INTERNAL guint16 lf_f16_from_f32_bits (guint32 bits);
G_GNUC_INTERNAL guint32 lf_f16_to_f32_bits (guint16 half);
/* float64 bits -> binary16 bits, rounded once; and back (exact). */
G_GNUC_INTERNAL guint16 lf_f16_from_f64_bits (guint64 bits);
G_GNUC_INTERNAL guint64 lf_f16_to_f64_bits (guint16 half);
/* float32 bits -> bfloat16 bits (round half to even, NaN -> quiet NaN). */
G_GNUC_INTERNAL guint16 lf_bf16_from_f32_bits (guint32 bits);
