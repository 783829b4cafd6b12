/* Element types and their npy descr strings. */
#include "config.h"
#include <string.h>
#include <leafio/leafio.h>

typedef struct {
  const char *name;
  const char *descr;   /* little-endian descr numpy writes */
  char kind;           /* numpy kind: b i u f c, V for bfloat16 */
  guint8 size;
} DTypeInfo;

static const DTypeInfo dtype_info[LF_DTYPE_LAST] = {
  [LF_DTYPE_INVALID] = { "invalid", "", 0, 0 },
  [LF_DTYPE_BOOL] = { "bool", "|b1", 'b', 1 },
  [LF_DTYPE_INT8] = { "int8", "|i1", 'i', 1 },
  [LF_DTYPE_INT16] = { "int16", "<i2", 'i', 2 },
  [LF_DTYPE_INT32] = { "int32", "<i4", 'i', 4 },
  [LF_DTYPE_INT64] = { "int64", "<i8", 'i', 8 },
  [LF_DTYPE_UINT8] = { "uint8", "|u1", 'u', 1 },
  [LF_DTYPE_UINT16] = { "uint16", "<u2", 'u', 2 },
  [LF_DTYPE_UINT32] = { "uint32", "<u4", 'u', 4 },
  [LF_DTYPE_UINT64] = { "uint64", "<u8", 'u', 8 },
  [LF_DTYPE_FLOAT16] = { "float16", "<f2", 'f', 2 },
  [LF_DTYPE_BFLOAT16] = { "bfloat16", "<V2", 'V', 2 },
  [LF_DTYPE_FLOAT32] = { "float32", "<f4", 'f', 4 },
  [LF_DTYPE_FLOAT64] = { "float64", "<f8", 'f', 8 },
  [LF_DTYPE_COMPLEX64] = { "complex64", "<c8", 'c', 8 },
  [LF_DTYPE_COMPLEX128] = { "complex128", "<c16", 'c', 16 },
};

static gboolean
valid (LfDType dtype)
{
  return dtype > LF_DTYPE_INVALID && dtype < LF_DTYPE_LAST;
}

gsize
lf_dtype_size (LfDType dtype)
{
  return valid (dtype) ? dtype_info[dtype].size : 0;
}

const char *
lf_dtype_name (LfDType dtype)
{
  return valid (dtype) ? dtype_info[dtype].name : "invalid";
}

LfDType
lf_dtype_from_name (const char *name)
{
  g_return_val_if_fail (name != NULL, LF_DTYPE_INVALID);
  for (int d = LF_DTYPE_INVALID + 1; d < LF_DTYPE_LAST; d++)
    if (strcmp (dtype_info[d].name, name) == 0)
      return (LfDType) d;
  return LF_DTYPE_INVALID;
}

const char *
lf_dtype_to_descr (LfDType dtype)
{
  return valid (dtype) ? dtype_info[dtype].descr : "";
}

gboolean
lf_dtype_from_descr (const char *descr, LfDType *dtype, gboolean *swap, GError **error)
{
  g_return_val_if_fail (descr != NULL, FALSE);
  gsize len = strlen (descr);
  /* numpy writes object arrays as '|O' (older versions '|O8'): refuse them
   * by kind, whatever their length. */
  if (len >= 2 && strchr ("<>|=", descr[0]) != NULL && descr[1] == 'O')
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "object dtype '%s' refused: leafio never unpickles data", descr);
      return FALSE;
    }
  /* numpy's other non-numeric kinds are well-formed but refused, whatever
   * follows the kind: strings ('<U12', '|S3', '|a3'), datetimes ('<M8[ns]',
   * '<m8[D]'). */
  if (len >= 2 && strchr ("<>|=", descr[0]) != NULL && strchr ("USaMm", descr[1]) != NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "unsupported dtype '%s' (expected bool, integer, float or complex)",
                   descr);
      return FALSE;
    }
  if (len < 3 || len > 4 || strchr ("<>|=", descr[0]) == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "malformed dtype descr '%s'", descr);
      return FALSE;
    }
  char order = descr[0];
  char kind = descr[1];
  char *end = NULL;
  guint64 size = g_ascii_strtoull (descr + 2, &end, 10);
  if (end == descr + 2 || *end != '\0')
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "malformed dtype descr '%s'", descr);
      return FALSE;
    }
  if (kind == 'V' && size == 2 && order != '>')
    {
      /* jnp.save writes bfloat16 as '<V2'; a 2-byte void is read as bfloat16. */
      *dtype = LF_DTYPE_BFLOAT16;
      if (swap != NULL)
        *swap = FALSE;
      return TRUE;
    }
  for (int d = LF_DTYPE_INVALID + 1; d < LF_DTYPE_LAST; d++)
    {
      const DTypeInfo *info = &dtype_info[d];
      if (info->kind != kind || info->size != size || kind == 'V')
        continue;
      /* One-byte types take any order character; numpy writes '|'. */
      if (info->size == 1 || order == '|')
        {
          if (info->size != 1)
            break;
          *dtype = (LfDType) d;
          if (swap != NULL)
            *swap = FALSE;
          return TRUE;
        }
      gboolean little = order == '<' || (order == '=' && G_BYTE_ORDER == G_LITTLE_ENDIAN);
      *dtype = (LfDType) d;
      if (swap != NULL)
        *swap = little != (G_BYTE_ORDER == G_LITTLE_ENDIAN);
      return TRUE;
    }
  if (kind == 'O')
    g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                 "object dtype '%s' refused: leafio never unpickles data", descr);
  else
    g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                 "unsupported dtype '%s' (expected bool, integer, float or complex)",
                 descr);
  return FALSE;
}

gboolean
lf_dtype_is_float (LfDType dtype)
{
  return valid (dtype) && (dtype_info[dtype].kind == 'f' || dtype == LF_DTYPE_BFLOAT16);
}

gboolean
lf_dtype_is_complex (LfDType dtype)
{
  return valid (dtype) && dtype_info[dtype].kind == 'c';
}

gboolean
lf_dtype_is_integer (LfDType dtype)
{
  return valid (dtype) && (dtype_info[dtype].kind == 'i' || dtype_info[dtype].kind == 'u');
}

gboolean
lf_dtype_is_signed (LfDType dtype)
{
  return valid (dtype) && dtype_info[dtype].kind == 'i';
}
