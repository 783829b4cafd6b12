/* Internal to core/convert.c and core/f16c.c: the F16C vector kernels. */
#pragma once

#include <glib.h>

/* TRUE when this build has F16C kernels and the CPU runs them. */
gboolean lf_f16c_supported (void);

/* Same contract as lf_convert_f32_to_f16 / lf_convert_f16_to_f32; only to
 * be called when lf_f16c_supported().  NaN lanes are patched with the
 * portable result so the output is numpy's, bit for bit. */
void lf_f16c_f32_to_f16 (const float *src, guint16 *dst, gsize n);
void lf_f16c_f16_to_f32 (const guint16 *src, float *dst, gsize n);

/* The portable single-value kernels, shared with f16c.c for NaN lanes. */
guint16 lf_f16_from_f32_bits (guint32 bits);
guint32 lf_f16_to_f32_bits (guint16 half);
