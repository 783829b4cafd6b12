/* leafio: converting array data between dtypes.
 *
 * Bulk converters between the floating formats, bit-identical to numpy's
 * `astype`: round half to even, subnormals kept, finite values too large
 * for the target become infinities, NaNs keep their sign and the top bits
 * of their payload (numpy keeps a signalling NaN signalling; the hardware
 * F16C instructions would quiet it, so the fast path patches NaN lanes).
 * On x86-64 CPUs with F16C (checked at run time) float32 <-> float16 uses
 * the vector instructions; elsewhere a portable path gives the same bits.
 *
 * bfloat16 follows ml_dtypes: widening is exact; narrowing rounds half to
 * even and NaNs become the quiet NaN 0x7fc0 with their sign.
 *
 * lf_array_cast() converts a whole array leaf to another dtype under a
 * policy that says which conversions are allowed to lose information.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>
#include <leafio/dtype.h>
#include <leafio/tree.h>

G_BEGIN_DECLS

/* ---- bulk float conversion ------------------------------------------------ */

/* Each converts `n` elements from `src` to `dst` (which must not overlap;
 * neither needs any alignment).  Half and bfloat16 values are raw guint16
 * bits in native byte order. */
LF_API void lf_convert_f32_to_f16 (const float *src, guint16 *dst, gsize n);
LF_API void lf_convert_f16_to_f32 (const guint16 *src, float *dst, gsize n);
LF_API void lf_convert_f64_to_f16 (const double *src, guint16 *dst, gsize n);
LF_API void lf_convert_f16_to_f64 (const guint16 *src, double *dst, gsize n);
LF_API void lf_convert_bf16_to_f32 (const guint16 *src, float *dst, gsize n);
LF_API void lf_convert_f32_to_bf16 (const float *src, guint16 *dst, gsize n);
/* bfloat16 <-> float16 go through float32 (exact for bfloat16 -> float32). */
LF_API void lf_convert_bf16_to_f16 (const guint16 *src, guint16 *dst, gsize n);
LF_API void lf_convert_f16_to_bf16 (const guint16 *src, guint16 *dst, gsize n);

/* Index of the first element whose conversion to float16 turned a finite
 * value into an infinity, or -1 when there is none.  `src` holds `n`
 * elements of `src_dtype` (float32, float64 or bfloat16), `half` their
 * converted values. */
LF_API gssize lf_convert_find_f16_overflow (LfDType src_dtype, gconstpointer src,
                                            const guint16 *half, gsize n);

/* ---- casting arrays ----------------------------------------------------------- */

typedef enum {
  /* Only dtype pairs where every value of the source fits the target
   * exactly (numpy's can_cast(..., 'safe')); the values are not looked at. */
  LF_CAST_SAFE,
  /* Any pair, as long as every value converts exactly: int64 -> int32 with
   * values in range, float64 -> float32 of values float32 holds (NaN is
   * exact; infinities are exact).  The first value that would change fails
   * with LF_ERROR_OVERFLOW naming its index. */
  LF_CAST_EXACT,
  /* Anything, as numpy's astype: floats round half to even, integers wrap
   * modulo 2^bits, float -> integer truncates toward zero (NaN gives 0 and
   * out-of-range values saturate: numpy leaves those undefined), complex ->
   * real drops the imaginary part, nonzero -> bool is true. */
  LF_CAST_LOSSY,
} LfCastPolicy;

/* TRUE when numpy's can_cast (from, to, 'safe') holds (bfloat16 as
 * ml_dtypes: it widens safely to float32, float64 and the complexes). */
LF_API gboolean lf_dtype_can_cast_safely (LfDType from, LfDType to);

/* `array` converted to `dtype` (transfer full): a new reference to `array`
 * itself when the dtype is already `dtype`, an abstract array for an
 * abstract one.  Fails with LF_ERROR_MISMATCH (the pair is not safe under
 * LF_CAST_SAFE) or LF_ERROR_OVERFLOW (a value would change under
 * LF_CAST_EXACT); the message names both dtypes and, for values, the
 * element index and value. */
LF_API LfNode *lf_array_cast (LfNode *array, LfDType dtype, LfCastPolicy policy,
                              GError **error);

G_END_DECLS
