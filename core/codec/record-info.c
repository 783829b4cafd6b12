/* LfRecordInfo: a codec's description of one record, and the check every
 * load makes with it before decoding. */
#include "config.h"
#include <string.h>
#include <leafio/leafio.h>

struct _LfRecordInfo {
  LfNodeKind kind;           /* LF_NODE_NONE: unset */
  LfDType dtype;
  LfDType stored_dtype;      /* LF_DTYPE_INVALID: the leaf's */
  guint ndim;
  gsize shape[LF_MAX_NDIM];
  guint64 stored_size, header_size, decoded_size;
  char *inner_reference;
  LfRecordInfo *inner;
};

LfRecordInfo *
lf_record_info_new (void)
{
  LfRecordInfo *info = g_new (LfRecordInfo, 1);
  info->inner_reference = NULL;
  info->inner = NULL;
  lf_record_info_reset (info);
  return info;
}

void
lf_record_info_reset (LfRecordInfo *info)
{
  g_return_if_fail (info != NULL);
  g_free (info->inner_reference);
  lf_record_info_free (info->inner);
  info->kind = LF_NODE_NONE;
  info->dtype = LF_DTYPE_INVALID;
  info->stored_dtype = LF_DTYPE_INVALID;
  info->ndim = 0;
  info->stored_size = info->header_size = info->decoded_size = LF_RECORD_SIZE_UNKNOWN;
  info->inner_reference = NULL;
  info->inner = NULL;
}

void
lf_record_info_free (LfRecordInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->inner_reference);
  lf_record_info_free (info->inner);
  g_free (info);
}

LfRecordInfo *
lf_record_info_copy (const LfRecordInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  LfRecordInfo *copy = g_memdup2 (info, sizeof *info);
  copy->inner_reference = g_strdup (info->inner_reference);
  copy->inner = info->inner != NULL ? lf_record_info_copy (info->inner) : NULL;
  return copy;
}

void
lf_record_info_set_leaf (LfRecordInfo *info, LfNodeKind kind, LfDType dtype, guint ndim,
                         const gsize *shape)
{
  g_return_if_fail (info != NULL);
  g_return_if_fail (kind == LF_NODE_ARRAY || kind == LF_NODE_SCALAR);
  g_return_if_fail (ndim <= LF_MAX_NDIM);
  g_return_if_fail (ndim == 0 || shape != NULL);
  info->kind = kind;
  info->dtype = dtype;
  info->ndim = ndim;
  if (ndim > 0)
    memcpy (info->shape, shape, ndim * sizeof (gsize));
}

void
lf_record_info_set_stored_dtype (LfRecordInfo *info, LfDType dtype)
{
  g_return_if_fail (info != NULL);
  info->stored_dtype = dtype;
}

void
lf_record_info_set_decoded_dtype (LfRecordInfo *info, LfDType dtype)
{
  g_return_if_fail (info != NULL);
  g_return_if_fail (info->kind == LF_NODE_ARRAY);
  info->stored_dtype = lf_record_info_get_stored_dtype (info);
  info->dtype = dtype;
  guint64 n = lf_record_info_get_n_elements (info);
  gsize size = lf_dtype_size (dtype);
  info->decoded_size = size > 0 && n <= G_MAXUINT64 / size ? n * size : LF_RECORD_SIZE_UNKNOWN;
}

void
lf_record_info_set_sizes (LfRecordInfo *info, guint64 stored_size, guint64 header_size,
                          guint64 decoded_size)
{
  g_return_if_fail (info != NULL);
  info->stored_size = stored_size;
  info->header_size = header_size;
  info->decoded_size = decoded_size;
}

void
lf_record_info_set_inner (LfRecordInfo *info, const char *inner_reference,
                          const LfRecordInfo *inner)
{
  g_return_if_fail (info != NULL);
  g_return_if_fail (inner != info);
  char *reference = g_strdup (inner_reference);
  LfRecordInfo *copy = inner != NULL ? lf_record_info_copy (inner) : NULL;
  g_free (info->inner_reference);
  lf_record_info_free (info->inner);
  info->inner_reference = reference;
  info->inner = copy;
}

LfNodeKind
lf_record_info_get_kind (const LfRecordInfo *info)
{
  g_return_val_if_fail (info != NULL, LF_NODE_NONE);
  return info->kind;
}

LfDType
lf_record_info_get_dtype (const LfRecordInfo *info)
{
  g_return_val_if_fail (info != NULL, LF_DTYPE_INVALID);
  return info->dtype;
}

LfDType
lf_record_info_get_stored_dtype (const LfRecordInfo *info)
{
  g_return_val_if_fail (info != NULL, LF_DTYPE_INVALID);
  return info->stored_dtype != LF_DTYPE_INVALID ? info->stored_dtype : info->dtype;
}

guint
lf_record_info_get_ndim (const LfRecordInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return info->ndim;
}

const gsize *
lf_record_info_get_shape (const LfRecordInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->ndim > 0 ? info->shape : NULL;
}

guint64
lf_record_info_get_n_elements (const LfRecordInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  guint64 n = 1;
  for (guint i = 0; i < info->ndim; i++)
    {
      if (info->shape[i] != 0 && n > G_MAXUINT64 / info->shape[i])
        return G_MAXUINT64;
      n *= info->shape[i];
    }
  return n;
}

guint64
lf_record_info_get_stored_size (const LfRecordInfo *info)
{
  g_return_val_if_fail (info != NULL, LF_RECORD_SIZE_UNKNOWN);
  return info->stored_size;
}

guint64
lf_record_info_get_header_size (const LfRecordInfo *info)
{
  g_return_val_if_fail (info != NULL, LF_RECORD_SIZE_UNKNOWN);
  return info->header_size;
}

guint64
lf_record_info_get_decoded_size (const LfRecordInfo *info)
{
  g_return_val_if_fail (info != NULL, LF_RECORD_SIZE_UNKNOWN);
  return info->decoded_size;
}

const char *
lf_record_info_get_inner_reference (const LfRecordInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->inner_reference;
}

const LfRecordInfo *
lf_record_info_get_inner (const LfRecordInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->inner;
}

char *
lf_record_info_to_string (const LfRecordInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  if (info->kind == LF_NODE_NONE)
    return g_strdup ("an undescribed record");
  const char *dtype = info->dtype != LF_DTYPE_INVALID ? lf_dtype_name (info->dtype) : "?";
  if (info->kind == LF_NODE_SCALAR)
    return g_strdup_printf ("%s scalar", dtype);
  g_autofree char *shape = lf_shape_to_string (info->ndim, info->shape);
  return g_strdup_printf ("%s array of shape %s", dtype, shape);
}

/* ---- the check before decoding ---------------------------------------------- */

static char *
describe_like (const LfNode *like)
{
  if (lf_node_get_kind (like) == LF_NODE_SCALAR)
    return g_strdup_printf ("a %s scalar", lf_dtype_name (lf_scalar_get_dtype (like)));
  g_autofree char *shape = lf_shape_to_string (lf_array_get_ndim (like),
                                               lf_array_get_shape (like));
  return g_strdup_printf ("%s array of shape %s", lf_dtype_name (lf_array_get_dtype (like)),
                          shape);
}

static gboolean
array_fits (const LfRecordInfo *info, const LfNode *like)
{
  guint ndim = lf_array_get_ndim (like);
  return info->kind == LF_NODE_ARRAY && info->dtype == lf_array_get_dtype (like)
         && info->ndim == ndim
         && (ndim == 0 || memcmp (info->shape, lf_array_get_shape (like),
                                  ndim * sizeof (gsize)) == 0);
}

gboolean
lf_record_info_check_like (const LfRecordInfo *info, const LfNode *like,
                           guint64 max_decoded_size, GError **error)
{
  g_return_val_if_fail (info != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  LfNodeKind like_kind = like != NULL ? lf_node_get_kind (like) : LF_NODE_NONE;
  gboolean fits = TRUE;
  guint64 limit = max_decoded_size;
  if (like_kind == LF_NODE_ARRAY)
    {
      fits = array_fits (info, like);
      limit = lf_dtype_size (lf_array_get_dtype (like)) * (guint64) lf_array_get_n_elements (like);
    }
  else if (like_kind == LF_NODE_SCALAR)
    {
      /* A scalar takes any one-element record: its value is converted. */
      fits = lf_record_info_get_n_elements (info) == 1;
      limit = 16;   /* the widest dtype: complex128 */
    }
  if (!fits && like_kind == LF_NODE_SCALAR)
    {
      /* Worded as the check after loading words it (lf_codec_fit_to_like). */
      g_autofree char *shape = lf_shape_to_string (info->ndim, info->shape);
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH, "expected a %s scalar, found %s%s%s",
                   lf_dtype_name (lf_scalar_get_dtype (like)),
                   info->kind == LF_NODE_SCALAR ? "scalar" : "array",
                   info->kind == LF_NODE_ARRAY ? " of shape " : "",
                   info->kind == LF_NODE_ARRAY ? shape : "");
      return FALSE;
    }
  if (!fits)
    {
      g_autofree char *expected = describe_like (like);
      g_autofree char *found = lf_record_info_to_string (info);
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH, "expected %s, found %s", expected,
                   found);
      return FALSE;
    }
  if (limit > 0 && info->decoded_size != LF_RECORD_SIZE_UNKNOWN && info->decoded_size > limit)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TOO_LARGE,
                   "record decodes to %" G_GUINT64_FORMAT " bytes, expected at most %"
                   G_GUINT64_FORMAT, info->decoded_size, limit);
      return FALSE;
    }
  return TRUE;
}
