/**
 * SECTION:dtype
 * @title: Element types
 * @short_description: the dtypes of array and scalar leaves
 *
 * The dtypes numpy and JAX share, with their npy `descr` strings.  bfloat16
 * has no numpy descr of its own: it is written as `'<V2'` (as `jnp.save`
 * does) and read back as bfloat16 when `like` says so.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>

G_BEGIN_DECLS

/**
 * LfDType:
 * @LF_DTYPE_INVALID: no dtype
 * @LF_DTYPE_BOOL: numpy's bool, one byte
 * @LF_DTYPE_INT8: signed 8-bit integer
 * @LF_DTYPE_INT16: signed 16-bit integer
 * @LF_DTYPE_INT32: signed 32-bit integer
 * @LF_DTYPE_INT64: signed 64-bit integer
 * @LF_DTYPE_UINT8: unsigned 8-bit integer
 * @LF_DTYPE_UINT16: unsigned 16-bit integer
 * @LF_DTYPE_UINT32: unsigned 32-bit integer
 * @LF_DTYPE_UINT64: unsigned 64-bit integer
 * @LF_DTYPE_FLOAT16: IEEE half precision
 * @LF_DTYPE_BFLOAT16: bfloat16, as ml_dtypes defines it
 * @LF_DTYPE_FLOAT32: IEEE single precision
 * @LF_DTYPE_FLOAT64: IEEE double precision
 * @LF_DTYPE_COMPLEX64: two float32 values, real then imaginary
 * @LF_DTYPE_COMPLEX128: two float64 values, real then imaginary
 * @LF_DTYPE_LAST: not a dtype: one past the last
 *
 * The element type of an array or scalar leaf.  Values are stable across
 * releases; new dtypes are added before %LF_DTYPE_LAST.
 *
 * Since: 0.1
 */
typedef enum {
  LF_DTYPE_INVALID = 0,
  LF_DTYPE_BOOL,
  LF_DTYPE_INT8,
  LF_DTYPE_INT16,
  LF_DTYPE_INT32,
  LF_DTYPE_INT64,
  LF_DTYPE_UINT8,
  LF_DTYPE_UINT16,
  LF_DTYPE_UINT32,
  LF_DTYPE_UINT64,
  LF_DTYPE_FLOAT16,
  LF_DTYPE_BFLOAT16,
  LF_DTYPE_FLOAT32,
  LF_DTYPE_FLOAT64,
  LF_DTYPE_COMPLEX64,
  LF_DTYPE_COMPLEX128,
  LF_DTYPE_LAST
} LfDType;

/**
 * lf_dtype_size:
 * @dtype: a dtype
 *
 * The size of one element of a dtype.
 *
 * Returns: the size of one element in bytes; 0 for %LF_DTYPE_INVALID.
 *
 * Since: 0.1
 */
LF_API gsize lf_dtype_size (LfDType dtype);

/**
 * lf_dtype_name:
 * @dtype: a dtype
 *
 * The name of a dtype.
 *
 * Returns: (transfer none): numpy's name, "bool", "int8", ...,
 *   "bfloat16", "complex128"; "invalid" for %LF_DTYPE_INVALID.  A static
 *   string.
 *
 * Since: 0.1
 */
LF_API const char *lf_dtype_name (LfDType dtype);

/**
 * lf_dtype_from_name:
 * @name: a name as lf_dtype_name() gives it
 *
 * Looks a dtype up by name.
 *
 * Returns: the dtype called @name, or %LF_DTYPE_INVALID.
 *
 * Since: 0.1
 */
LF_API LfDType lf_dtype_from_name (const char *name);

/**
 * lf_dtype_to_descr:
 * @dtype: a dtype
 *
 * The npy descr of a dtype.
 *
 * Returns: (transfer none): the little-endian npy descr numpy writes:
 *   `"<f4"`, `"|b1"`, `"|u1"`, `"<c16"`, `"<V2"` for bfloat16.  A static string.
 *
 * Since: 0.1
 */
LF_API const char *lf_dtype_to_descr (LfDType dtype);

/**
 * lf_dtype_from_descr:
 * @descr: an npy descr string (`"<f4"`, `">i8"`, `"=u2"`, `"|b1"`, `"<V2"`)
 * @dtype: (out): the dtype
 * @swap: (out) (optional): whether the data is in the opposite byte order
 *   to this machine's
 * @error: return location for a #GError, or %NULL
 *
 * Parses an npy descr.  `"<V2"` and `"|V2"` map to bfloat16.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_UNSUPPORTED for object ('O'),
 *   string, datetime and other dtypes, %LF_ERROR_CORRUPT for a malformed
 *   descr.  The message quotes the descr.
 *
 * Since: 0.1
 */
LF_API gboolean lf_dtype_from_descr (const char *descr, LfDType *dtype,
                                     gboolean *swap, GError **error);

/**
 * lf_dtype_is_float:
 * @dtype: a dtype
 *
 * Whether a dtype is a real floating type.
 *
 * Returns: %TRUE for float16, bfloat16, float32 and float64.
 *
 * Since: 0.1
 */
LF_API gboolean lf_dtype_is_float (LfDType dtype);
/**
 * lf_dtype_is_complex:
 * @dtype: a dtype
 *
 * Whether a dtype is complex.
 *
 * Returns: %TRUE for complex64 and complex128.
 *
 * Since: 0.1
 */
LF_API gboolean lf_dtype_is_complex (LfDType dtype);
/**
 * lf_dtype_is_integer:
 * @dtype: a dtype
 *
 * Whether a dtype is an integer type.
 *
 * Returns: %TRUE for the signed and unsigned integers (not bool).
 *
 * Since: 0.1
 */
LF_API gboolean lf_dtype_is_integer (LfDType dtype);
/**
 * lf_dtype_is_signed:
 * @dtype: a dtype
 *
 * Whether a dtype is a signed integer type.
 *
 * Returns: %TRUE for the signed integers.
 *
 * Since: 0.1
 */
LF_API gboolean lf_dtype_is_signed (LfDType dtype);

G_END_DECLS
