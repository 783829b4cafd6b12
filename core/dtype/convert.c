/* Float conversions between float64, float32, float16 and bfloat16: the
 * bulk converters of <leafio/convert.h> and the choice between the F16C
 * kernels (f16c.c) and the portable ones (float-bits.c), which give the
 * same bits. */
#include "config.h"

#include <string.h>

#include <leafio/leafio.h>

#include "f16c-private.h"
#include "float-bits-private.h"

/* ---- implementation choice -------------------------------------------------- */

static LfConvertImpl current_impl;   /* AUTO until first use */

static LfConvertImpl
get_impl (void)
{
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      const char *forced = g_getenv ("LEAFIO_CONVERT");
      if (current_impl == LF_CONVERT_IMPL_AUTO)
        current_impl = (lf_f16c_supported () && g_strcmp0 (forced, "portable") != 0)
                         ? LF_CONVERT_IMPL_F16C : LF_CONVERT_IMPL_PORTABLE;
      g_once_init_leave (&initialised, 1);
    }
  return current_impl;
}

gboolean
lf_convert_set_impl (LfConvertImpl impl)
{
  g_return_val_if_fail (impl <= LF_CONVERT_IMPL_F16C, FALSE);

  get_impl ();
  if (impl == LF_CONVERT_IMPL_AUTO)
    impl = lf_f16c_supported () ? LF_CONVERT_IMPL_F16C : LF_CONVERT_IMPL_PORTABLE;
  if (impl == LF_CONVERT_IMPL_F16C && !lf_f16c_supported ())
    return FALSE;
  current_impl = impl;
  return TRUE;
}

LfConvertImpl
lf_convert_get_impl (void)
{
  return get_impl ();
}

/* ---- bulk converters -------------------------------------------------------- */

void
lf_convert_f32_to_f16 (const float *src, guint16 *dst, gsize n)
{
  g_return_if_fail (n == 0 || (src != NULL && dst != NULL));

  if (get_impl () == LF_CONVERT_IMPL_F16C)
    {
      lf_f16c_f32_to_f16 (src, dst, n);
      return;
    }
  for (gsize i = 0; i < n; i++)
    {
      guint32 bits;
      memcpy (&bits, src + i, sizeof bits);
      dst[i] = lf_f16_from_f32_bits (bits);
    }
}

void
lf_convert_f16_to_f32 (const guint16 *src, float *dst, gsize n)
{
  g_return_if_fail (n == 0 || (src != NULL && dst != NULL));

  if (get_impl () == LF_CONVERT_IMPL_F16C)
    {
      lf_f16c_f16_to_f32 (src, dst, n);
      return;
    }
  for (gsize i = 0; i < n; i++)
    {
      guint32 bits = lf_f16_to_f32_bits (src[i]);
      memcpy (dst + i, &bits, sizeof bits);
    }
}

void
lf_convert_f64_to_f16 (const double *src, guint16 *dst, gsize n)
{
  g_return_if_fail (n == 0 || (src != NULL && dst != NULL));

  for (gsize i = 0; i < n; i++)
    {
      guint64 bits;
      memcpy (&bits, src + i, sizeof bits);
      dst[i] = lf_f16_from_f64_bits (bits);
    }
}

void
lf_convert_f16_to_f64 (const guint16 *src, double *dst, gsize n)
{
  g_return_if_fail (n == 0 || (src != NULL && dst != NULL));

  for (gsize i = 0; i < n; i++)
    {
      guint64 bits = lf_f16_to_f64_bits (src[i]);
      memcpy (dst + i, &bits, sizeof bits);
    }
}

void
lf_convert_bf16_to_f32 (const guint16 *src, float *dst, gsize n)
{
  g_return_if_fail (n == 0 || (src != NULL && dst != NULL));

  for (gsize i = 0; i < n; i++)
    {
      guint32 bits = (guint32) src[i] << 16;
      memcpy (dst + i, &bits, sizeof bits);
    }
}

void
lf_convert_f32_to_bf16 (const float *src, guint16 *dst, gsize n)
{
  g_return_if_fail (n == 0 || (src != NULL && dst != NULL));

  for (gsize i = 0; i < n; i++)
    {
      guint32 bits;
      memcpy (&bits, src + i, sizeof bits);
      dst[i] = lf_bf16_from_f32_bits (bits);
    }
}

/* Through a float32 buffer on the stack, a block at a time. */
#define BLOCK 1024

void
lf_convert_bf16_to_f16 (const guint16 *src, guint16 *dst, gsize n)
{
  float block[BLOCK];

  g_return_if_fail (n == 0 || (src != NULL && dst != NULL));

  for (gsize i = 0; i < n; i += BLOCK)
    {
      gsize count = MIN (BLOCK, n - i);
      lf_convert_bf16_to_f32 (src + i, block, count);
      lf_convert_f32_to_f16 (block, dst + i, count);
    }
}

void
lf_convert_f16_to_bf16 (const guint16 *src, guint16 *dst, gsize n)
{
  float block[BLOCK];

  g_return_if_fail (n == 0 || (src != NULL && dst != NULL));

  for (gsize i = 0; i < n; i += BLOCK)
    {
      gsize count = MIN (BLOCK, n - i);
      lf_convert_f16_to_f32 (src + i, block, count);
      lf_convert_f32_to_bf16 (block, dst + i, count);
    }
}

gssize
lf_convert_find_f16_overflow (LfDType src_dtype, gconstpointer src,
                              const guint16 *half, gsize n)
{
  g_return_val_if_fail (src_dtype == LF_DTYPE_FLOAT32 || src_dtype == LF_DTYPE_FLOAT64
                        || src_dtype == LF_DTYPE_BFLOAT16, -1);
  g_return_val_if_fail (n == 0 || (src != NULL && half != NULL), -1);

  for (gsize i = 0; i < n; i++)
    {
      if ((half[i] & 0x7fffu) != 0x7c00u)
        continue;
      /* An infinity out: overflow unless the input was one already. */
      gboolean was_inf;
      if (src_dtype == LF_DTYPE_FLOAT32)
        {
          guint32 bits;
          memcpy (&bits, (const guint8 *) src + i * 4, 4);
          was_inf = (bits & 0x7fffffffu) == 0x7f800000u;
        }
      else if (src_dtype == LF_DTYPE_FLOAT64)
        {
          guint64 bits;
          memcpy (&bits, (const guint8 *) src + i * 8, 8);
          was_inf = (bits & G_GUINT64_CONSTANT (0x7fffffffffffffff))
                    == G_GUINT64_CONSTANT (0x7ff0000000000000);
        }
      else
        {
          guint16 bits;
          memcpy (&bits, (const guint8 *) src + i * 2, 2);
          was_inf = (bits & 0x7fffu) == 0x7f80u;
        }
      if (!was_inf)
        return (gssize) i;
    }
  return -1;
}
