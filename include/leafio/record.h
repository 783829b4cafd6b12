/**
 * SECTION:record
 * @title: Record descriptions
 * @short_description: what a record holds, told without decoding it
 *
 * An LfRecordInfo is a codec's description of one record, read from the
 * record's first bytes (its header and, for codecs that wrap another, the
 * inner codec's reference and header): the leaf it decodes to, its stored
 * size (so a reader can seek past it) and the size decoding allocates.
 * Codecs fill it in their `describe` slot (`<leafio/codec.h>`); the walker,
 * the CLI, the MPI library and random-access readers read it.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>
#include <leafio/dtype.h>
#include <leafio/tree.h>

G_BEGIN_DECLS

/**
 * LfRecordInfo:
 *
 * The description of one record: an opaque, mutable value owned by whoever
 * made it.  Every field starts unset; a codec's `describe` sets at least
 * the leaf (lf_record_info_set_leaf()) and the stored size.
 *
 * Since: 0.2
 */
typedef struct _LfRecordInfo LfRecordInfo;

/**
 * LF_RECORD_SIZE_UNKNOWN:
 *
 * The value of a size a codec could not tell from the record's first
 * bytes (a stored size behind a frame without a length, say).
 *
 * Since: 0.2
 */
#define LF_RECORD_SIZE_UNKNOWN G_MAXUINT64

/**
 * lf_record_info_new:
 *
 * Makes a description, for a codec's `describe` to fill in.
 *
 * Returns: (transfer full): an empty description; free with
 *   lf_record_info_free().
 *
 * Since: 0.2
 */
LF_API LfRecordInfo *lf_record_info_new (void);

/**
 * lf_record_info_free:
 * @info: (nullable) (transfer full): a description
 *
 * Frees @info.
 *
 * Since: 0.2
 */
LF_API void lf_record_info_free (LfRecordInfo *info);

/**
 * lf_record_info_copy:
 * @info: a description
 *
 * Copies a description.
 *
 * Returns: (transfer full): a copy of @info.
 *
 * Since: 0.2
 */
LF_API LfRecordInfo *lf_record_info_copy (const LfRecordInfo *info);

/**
 * lf_record_info_reset:
 * @info: a description
 *
 * Unsets every field, so one @info can describe record after record.
 *
 * Since: 0.2
 */
LF_API void lf_record_info_reset (LfRecordInfo *info);

/**
 * lf_record_info_set_leaf:
 * @info: a description
 * @kind: %LF_NODE_ARRAY or %LF_NODE_SCALAR
 * @dtype: the dtype of the leaf the record decodes to
 * @ndim: the number of dimensions (0 for a scalar), at most %LF_MAX_NDIM
 * @shape: (array length=ndim) (nullable): the dimensions; copied
 *
 * Sets the leaf the record decodes to.  A codec that restores `like`'s
 * dtype on load (float16, cast) gives `like`'s dtype here when it was
 * asked with a `like`, and the dtype it stores with
 * lf_record_info_set_stored_dtype().
 *
 * Since: 0.2
 */
LF_API void lf_record_info_set_leaf (LfRecordInfo *info, LfNodeKind kind, LfDType dtype,
                                     guint ndim, const gsize *shape);

/**
 * lf_record_info_set_stored_dtype:
 * @info: a description
 * @dtype: the dtype the record's data is stored in
 *
 * For codecs whose stored dtype differs from the leaf's (float16 stores
 * float32 leaves as float16).  Unset, it is the leaf's dtype.
 *
 * Since: 0.2
 */
LF_API void lf_record_info_set_stored_dtype (LfRecordInfo *info, LfDType dtype);

/**
 * lf_record_info_set_decoded_dtype:
 * @info: a description of an array record
 * @dtype: the dtype a load converts the stored data to
 *
 * For codecs that convert on load (float16, cast): keeps the dtype the
 * data is stored in as the stored dtype, makes @dtype the leaf's, and sets
 * the decoded size to the elements times @dtype's size
 * (%LF_RECORD_SIZE_UNKNOWN when that overflows).
 *
 * Since: 0.2
 */
LF_API void lf_record_info_set_decoded_dtype (LfRecordInfo *info, LfDType dtype);

/**
 * lf_record_info_set_sizes:
 * @info: a description
 * @stored_size: bytes of the whole record in the stream, or
 *   %LF_RECORD_SIZE_UNKNOWN
 * @header_size: bytes before the record's data (npy: the header), or
 *   %LF_RECORD_SIZE_UNKNOWN when the record has no such split
 * @decoded_size: bytes a load allocates for the leaf's data, or
 *   %LF_RECORD_SIZE_UNKNOWN
 *
 * Sets the record's sizes.
 *
 * Since: 0.2
 */
LF_API void lf_record_info_set_sizes (LfRecordInfo *info, guint64 stored_size,
                                      guint64 header_size, guint64 decoded_size);

/**
 * lf_record_info_set_inner:
 * @info: a description
 * @inner_reference: (nullable): the reference of the codec this record
 *   wraps, as stored in the record ("float16(overflow=error)"); copied
 * @inner: (nullable): that record's own description; copied
 *
 * For wrapping codecs (compressed): what is inside.
 *
 * Since: 0.2
 */
LF_API void lf_record_info_set_inner (LfRecordInfo *info, const char *inner_reference,
                                      const LfRecordInfo *inner);

/**
 * lf_record_info_get_kind:
 * @info: a description
 *
 * Whether the record decodes to an array or a scalar.
 *
 * Returns: %LF_NODE_ARRAY or %LF_NODE_SCALAR, or %LF_NODE_NONE when unset.
 *
 * Since: 0.2
 */
LF_API LfNodeKind lf_record_info_get_kind (const LfRecordInfo *info);

/**
 * lf_record_info_get_dtype:
 * @info: a description
 *
 * The dtype of the leaf the record decodes to.
 *
 * Returns: the dtype of the leaf the record decodes to, or
 *   %LF_DTYPE_INVALID when unset.
 *
 * Since: 0.2
 */
LF_API LfDType lf_record_info_get_dtype (const LfRecordInfo *info);

/**
 * lf_record_info_get_stored_dtype:
 * @info: a description
 *
 * The dtype of the record's data as stored.
 *
 * Returns: the dtype the data is stored in (the leaf's unless the codec
 *   said otherwise).
 *
 * Since: 0.2
 */
LF_API LfDType lf_record_info_get_stored_dtype (const LfRecordInfo *info);

/**
 * lf_record_info_get_ndim:
 * @info: a description
 *
 * The number of dimensions of the leaf the record decodes to.
 *
 * Returns: the number of dimensions of the leaf.
 *
 * Since: 0.2
 */
LF_API guint lf_record_info_get_ndim (const LfRecordInfo *info);

/**
 * lf_record_info_get_shape:
 * @info: a description
 *
 * The dimensions of the leaf the record decodes to.
 *
 * Returns: (array) (transfer none) (nullable): the leaf's dimensions
 *   (lf_record_info_get_ndim() of them), valid until @info changes.
 *
 * Since: 0.2
 */
LF_API const gsize *lf_record_info_get_shape (const LfRecordInfo *info);

/**
 * lf_record_info_get_n_elements:
 * @info: a description
 *
 * The number of elements of the leaf the record decodes to.
 *
 * Returns: the product of the dimensions (1 for a scalar), or
 *   %G_MAXUINT64 when it overflows.
 *
 * Since: 0.2
 */
LF_API guint64 lf_record_info_get_n_elements (const LfRecordInfo *info);

/**
 * lf_record_info_get_stored_size:
 * @info: a description
 *
 * The size of the whole record in the stream.
 *
 * Returns: the record's bytes in the stream, or %LF_RECORD_SIZE_UNKNOWN.
 *
 * Since: 0.2
 */
LF_API guint64 lf_record_info_get_stored_size (const LfRecordInfo *info);

/**
 * lf_record_info_get_header_size:
 * @info: a description
 *
 * How many bytes come before the record's data.
 *
 * Returns: the bytes before the record's data, or %LF_RECORD_SIZE_UNKNOWN.
 *
 * Since: 0.2
 */
LF_API guint64 lf_record_info_get_header_size (const LfRecordInfo *info);

/**
 * lf_record_info_get_decoded_size:
 * @info: a description
 *
 * How much a load of the record allocates.
 *
 * Returns: the bytes a load allocates for the leaf's data, or
 *   %LF_RECORD_SIZE_UNKNOWN.
 *
 * Since: 0.2
 */
LF_API guint64 lf_record_info_get_decoded_size (const LfRecordInfo *info);

/**
 * lf_record_info_get_inner_reference:
 * @info: a description
 *
 * The codec a wrapping codec's record holds.
 *
 * Returns: (transfer none) (nullable): the reference of the wrapped codec
 *   as stored in the record, or %NULL.
 *
 * Since: 0.2
 */
LF_API const char *lf_record_info_get_inner_reference (const LfRecordInfo *info);

/**
 * lf_record_info_get_inner:
 * @info: a description
 *
 * The description of the record a wrapping codec holds.
 *
 * Returns: (transfer none) (nullable): the wrapped record's description,
 *   or %NULL.
 *
 * Since: 0.2
 */
LF_API const LfRecordInfo *lf_record_info_get_inner (const LfRecordInfo *info);

/**
 * lf_record_info_to_string:
 * @info: a description
 *
 * Describes the leaf the record decodes to in words.
 *
 * Returns: (transfer full): the leaf in words, as errors print it:
 *   "float32 array of shape (2, 3)", "int64 scalar".  Free with g_free().
 *
 * Since: 0.2
 */
LF_API char *lf_record_info_to_string (const LfRecordInfo *info);

/**
 * lf_record_info_check_like:
 * @info: a description
 * @like: (nullable): the leaf of `like` the record is loaded for
 * @max_decoded_size: the most a load may allocate when @like is %NULL or
 *   not an array (0: no limit)
 * @error: return location for a #GError, or %NULL
 *
 * The check every load makes before it allocates or decompresses: an array
 * @like wants an array record of its dtype and shape; a scalar @like wants
 * a record of one element (its value is converted as `type(x)(out.item())`
 * does); and the decoded size must not pass what @like holds (or
 * @max_decoded_size without an array @like).
 *
 * Returns: %TRUE when the record fits; otherwise %FALSE with
 *   %LF_ERROR_MISMATCH ("expected float32 array of shape (2, 3), found
 *   float32 array of shape (3,)") or %LF_ERROR_TOO_LARGE.
 *
 * Since: 0.2
 */
LF_API gboolean lf_record_info_check_like (const LfRecordInfo *info, const LfNode *like,
                                           guint64 max_decoded_size, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfRecordInfo, lf_record_info_free)

G_END_DECLS
