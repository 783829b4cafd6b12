/* The F16C vector kernels for float32 <-> float16 (f16c.c), which
 * convert.c picks when the CPU has them. */
#pragma once

#include <glib.h>

/* TRUE when this build has F16C kernels and the CPU runs them. */
G_GNUC_INTERNAL gboolean lf_f16c_supported (void);

/* Same contract as lf_convert_f32_to_f16 / lf_convert_f16_to_f32; only to
 * be called when lf_f16c_supported().  NaN lanes are patched with the
 * portable result so the output is numpy's, bit for bit. */
G_GNUC_INTERNAL void lf_f16c_f32_to_f16 (const float *src, guint16 *dst, gsize n);
G_GNUC_INTERNAL void lf_f16c_f16_to_f32 (const guint16 *src, float *dst, gsize n);
