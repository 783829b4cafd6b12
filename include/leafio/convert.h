/**
 * SECTION:convert
 * @title: Converting dtypes
 * @short_description: bulk float conversion and array casts
 *
 * Bulk converters between the floating formats, bit-identical to numpy's
 * `astype`: round half to even, subnormals kept, finite values too large
 * for the target become infinities, NaNs keep their sign and the top bits
 * of their payload (numpy keeps a signalling NaN signalling; the hardware
 * F16C instructions would quiet it, so the fast path patches NaN lanes).
 * On x86-64 CPUs with F16C (checked at run time) float32 to float16 and back uses
 * the vector instructions; elsewhere a portable path gives the same bits.
 *
 * bfloat16 follows ml_dtypes: widening is exact; narrowing rounds half to
 * even and NaNs become the quiet NaN 0x7fc0 with their sign.
 *
 * lf_array_cast() converts a whole array leaf to another dtype under a
 * policy that says which conversions are allowed to lose information.
 *
 * Each converter takes @n elements from @src to @dst, which must not
 * overlap; neither needs any alignment.  Half and bfloat16 values are raw
 * #guint16 bits in native byte order.
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

/**
 * lf_convert_f32_to_f16:
 * @src: (array length=n): float32 values
 * @dst: (out caller-allocates) (array length=n): float16 bits
 * @n: the number of elements
 *
 * float32 to float16, as numpy's astype.
 *
 * Since: 0.1
 */
LF_API void lf_convert_f32_to_f16 (const float *src, guint16 *dst, gsize n);
/**
 * lf_convert_f16_to_f32:
 * @src: (array length=n): float16 bits
 * @dst: (out caller-allocates) (array length=n): float32 values
 * @n: the number of elements
 *
 * float16 to float32 (exact).
 *
 * Since: 0.1
 */
LF_API void lf_convert_f16_to_f32 (const guint16 *src, float *dst, gsize n);
/**
 * lf_convert_f64_to_f16:
 * @src: (array length=n): float64 values
 * @dst: (out caller-allocates) (array length=n): float16 bits
 * @n: the number of elements
 *
 * float64 to float16, rounded once, as numpy's astype.
 *
 * Since: 0.1
 */
LF_API void lf_convert_f64_to_f16 (const double *src, guint16 *dst, gsize n);
/**
 * lf_convert_f16_to_f64:
 * @src: (array length=n): float16 bits
 * @dst: (out caller-allocates) (array length=n): float64 values
 * @n: the number of elements
 *
 * float16 to float64 (exact).
 *
 * Since: 0.1
 */
LF_API void lf_convert_f16_to_f64 (const guint16 *src, double *dst, gsize n);
/**
 * lf_convert_bf16_to_f32:
 * @src: (array length=n): bfloat16 bits
 * @dst: (out caller-allocates) (array length=n): float32 values
 * @n: the number of elements
 *
 * bfloat16 to float32 (exact).
 *
 * Since: 0.1
 */
LF_API void lf_convert_bf16_to_f32 (const guint16 *src, float *dst, gsize n);
/**
 * lf_convert_f32_to_bf16:
 * @src: (array length=n): float32 values
 * @dst: (out caller-allocates) (array length=n): bfloat16 bits
 * @n: the number of elements
 *
 * float32 to bfloat16, as ml_dtypes.
 *
 * Since: 0.1
 */
LF_API void lf_convert_f32_to_bf16 (const float *src, guint16 *dst, gsize n);
/**
 * lf_convert_bf16_to_f16:
 * @src: (array length=n): bfloat16 bits
 * @dst: (out caller-allocates) (array length=n): float16 bits
 * @n: the number of elements
 *
 * bfloat16 to float16, through float32 (exact for bfloat16 -> float32).
 *
 * Since: 0.1
 */
LF_API void lf_convert_bf16_to_f16 (const guint16 *src, guint16 *dst, gsize n);
/**
 * lf_convert_f16_to_bf16:
 * @src: (array length=n): float16 bits
 * @dst: (out caller-allocates) (array length=n): bfloat16 bits
 * @n: the number of elements
 *
 * float16 to bfloat16, through float32.
 *
 * Since: 0.1
 */
LF_API void lf_convert_f16_to_bf16 (const guint16 *src, guint16 *dst, gsize n);

/**
 * lf_convert_find_f16_overflow:
 * @src_dtype: float32, float64 or bfloat16
 * @src: @n elements of @src_dtype
 * @half: (array length=n): their values converted to float16
 * @n: the number of elements
 *
 * Finds the first element whose conversion to float16 turned a finite
 * value into an infinity.
 *
 * Returns: its index, or -1 when there is none.
 *
 * Since: 0.1
 */
LF_API gssize lf_convert_find_f16_overflow (LfDType src_dtype, gconstpointer src,
                                            const guint16 *half, gsize n);

/* ---- casting arrays ----------------------------------------------------------- */

/**
 * LfCastPolicy:
 * @LF_CAST_SAFE: only dtype pairs where every value of the source fits the
 *   target exactly (numpy's can_cast(..., 'safe')); the values are not
 *   looked at.
 * @LF_CAST_EXACT: any pair, as long as every value converts exactly:
 *   int64 -> int32 with values in range, float64 -> float32 of values
 *   float32 holds (NaN and infinities are exact).  The first value that
 *   would change fails with %LF_ERROR_OVERFLOW naming its index.
 * @LF_CAST_LOSSY: anything, as numpy's astype: floats round half to even,
 *   integers wrap modulo 2^bits, float -> integer truncates toward zero
 *   (NaN gives 0 and out-of-range values saturate: numpy leaves those
 *   undefined), complex -> real drops the imaginary part, nonzero -> bool
 *   is true.
 *
 * Which conversions lf_array_cast() may make.
 *
 * Since: 0.1
 */
typedef enum {
  LF_CAST_SAFE,
  LF_CAST_EXACT,
  LF_CAST_LOSSY,
} LfCastPolicy;

/**
 * lf_dtype_can_cast_safely:
 * @from: the source dtype
 * @to: the target dtype
 *
 * Whether every value of one dtype converts to another exactly.
 *
 * Returns: %TRUE when numpy's can_cast (from, to, 'safe') holds (bfloat16
 *   as ml_dtypes: it widens safely to float32, float64 and the complexes).
 *
 * Since: 0.1
 */
LF_API gboolean lf_dtype_can_cast_safely (LfDType from, LfDType to);

/**
 * lf_array_cast:
 * @array: an array leaf
 * @dtype: the dtype wanted
 * @policy: which conversions are allowed
 * @error: return location for a #GError, or %NULL
 *
 * Converts @array to @dtype.
 *
 * Returns: (transfer full) (nullable): a new reference to @array itself
 *   when its dtype is already @dtype, an abstract array for an abstract
 *   one, the converted array otherwise; or %NULL with %LF_ERROR_MISMATCH
 *   (the pair is not safe under %LF_CAST_SAFE) or %LF_ERROR_OVERFLOW (a
 *   value would change under %LF_CAST_EXACT).  The message names both
 *   dtypes and, for values, the element index and value.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_array_cast (LfNode *array, LfDType dtype, LfCastPolicy policy,
                              GError **error);

G_END_DECLS
