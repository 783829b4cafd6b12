/* The F16C kernels for float32 <-> float16.
 *
 * vcvtps2ph / vcvtph2ps round half to even and handle subnormals exactly
 * like numpy, but they quiet signalling NaNs (numpy keeps the payload as
 * is).  NaNs are rare, so each block of 8 is converted in hardware and the
 * rare block holding a NaN has those lanes redone by the portable kernel.
 * Compiled for any x86-64 with target attributes; the caller checks the CPU
 * at run time first. */
#include "config.h"

#include <string.h>

#include "f16c-private.h"
#include "float-bits-private.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

gboolean
lf_f16c_supported (void)
{
  /* clang (14) knows no "f16c" for __builtin_cpu_supports: read the CPUID
   * bit; "avx" also checks that the OS saves the AVX registers. */
  unsigned int eax, ebx, ecx, edx;
  __builtin_cpu_init ();
  return __get_cpuid (1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0
         && __builtin_cpu_supports ("avx");
}

__attribute__ ((target ("avx,f16c"))) void
lf_f16c_f32_to_f16 (const float *src, guint16 *dst, gsize n)
{
  gsize i = 0;

  for (; i + 8 <= n; i += 8)
    {
      __m256 v = _mm256_loadu_ps (src + i);
      __m128i h = _mm256_cvtps_ph (v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      _mm_storeu_si128 ((__m128i *) (dst + i), h);
      int nan_lanes = _mm256_movemask_ps (_mm256_cmp_ps (v, v, _CMP_UNORD_Q));
      if (G_UNLIKELY (nan_lanes != 0))
        for (int lane = 0; lane < 8; lane++)
          if (nan_lanes & (1 << lane))
            {
              guint32 bits;
              memcpy (&bits, src + i + lane, sizeof bits);
              dst[i + lane] = lf_f16_from_f32_bits (bits);
            }
    }
  for (; i < n; i++)
    {
      guint32 bits;
      memcpy (&bits, src + i, sizeof bits);
      dst[i] = lf_f16_from_f32_bits (bits);
    }
}

__attribute__ ((target ("avx,f16c"))) void
lf_f16c_f16_to_f32 (const guint16 *src, float *dst, gsize n)
{
  gsize i = 0;

  for (; i + 8 <= n; i += 8)
    {
      __m256 v = _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (src + i)));
      _mm256_storeu_ps (dst + i, v);
      int nan_lanes = _mm256_movemask_ps (_mm256_cmp_ps (v, v, _CMP_UNORD_Q));
      if (G_UNLIKELY (nan_lanes != 0))
        for (int lane = 0; lane < 8; lane++)
          if (nan_lanes & (1 << lane))
            {
              guint32 bits = lf_f16_to_f32_bits (src[i + lane]);
              memcpy (dst + i + lane, &bits, sizeof bits);
            }
    }
  for (; i < n; i++)
    {
      guint32 bits = lf_f16_to_f32_bits (src[i]);
      memcpy (dst + i, &bits, sizeof bits);
    }
}

#else /* no F16C kernels in this build */

gboolean
lf_f16c_supported (void)
{
  return FALSE;
}

void
lf_f16c_f32_to_f16 (const float *src, guint16 *dst, gsize n)
{
  g_assert_not_reached ();
}

void
lf_f16c_f16_to_f32 (const guint16 *src, float *dst, gsize n)
{
  g_assert_not_reached ();
}

#endif
