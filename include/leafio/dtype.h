/* leafio: element types of array and scalar leaves.
 *
 * The dtypes numpy and JAX share, with their npy `descr` strings.  bfloat16
 * has no numpy descr of its own: it is written as '<V2' (as `jnp.save`
 * does) and read back as bfloat16 when `like` says so.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>

G_BEGIN_DECLS

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
  LF_DTYPE_LAST /* not a dtype: one past the last */
} LfDType;

/* Size of one element in bytes; 0 for LF_DTYPE_INVALID. */
LF_API gsize lf_dtype_size (LfDType dtype);

/* numpy's name: "bool", "int8", ..., "bfloat16", "complex128".
 * Static string; "invalid" for LF_DTYPE_INVALID. */
LF_API const char *lf_dtype_name (LfDType dtype);

/* The dtype called `name` (as lf_dtype_name), or LF_DTYPE_INVALID. */
LF_API LfDType lf_dtype_from_name (const char *name);

/* The little-endian npy descr numpy writes: "<f4", "|b1", "|u1", "<c16",
 * "<V2" for bfloat16.  Static string. */
LF_API const char *lf_dtype_to_descr (LfDType dtype);

/* Parses an npy descr string ("<f4", ">i8", "=u2", "|b1", "<V2").
 * On success stores the dtype and whether the data is in the opposite byte
 * order to this machine's (`*swap`, may be NULL) and returns TRUE.
 * "<V2" and "|V2" map to bfloat16.  Object ('O'), string, datetime and
 * other dtypes fail with LF_ERROR_UNSUPPORTED; a malformed descr fails
 * with LF_ERROR_CORRUPT.  The message quotes the descr. */
LF_API gboolean lf_dtype_from_descr (const char *descr, LfDType *dtype,
                                     gboolean *swap, GError **error);

LF_API gboolean lf_dtype_is_float (LfDType dtype);   /* float16, bfloat16, float32, float64 */
LF_API gboolean lf_dtype_is_complex (LfDType dtype);
LF_API gboolean lf_dtype_is_integer (LfDType dtype); /* signed or unsigned, not bool */
LF_API gboolean lf_dtype_is_signed (LfDType dtype);  /* signed integers */

G_END_DECLS
