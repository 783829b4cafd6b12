/* Scalar leaves: typed 0-d values and their Python-style conversions. */
#include "config.h"
#include <math.h>
#include <string.h>
#include "tree-private.h"

LfNode *
lf_scalar_new (LfDType dtype, gconstpointer value)
{
  gsize size = lf_dtype_size (dtype);
  g_return_val_if_fail (size > 0, NULL);
  g_return_val_if_fail (value != NULL, NULL);
  LfNode *node = g_new0 (LfNode, 1);
  g_atomic_ref_count_init (&node->ref_count);
  node->kind = LF_NODE_SCALAR;
  node->scalar.dtype = dtype;
  memcpy (node->scalar.value.bytes, value, size);
  return node;
}

LfNode *
lf_scalar_new_bool (gboolean value)
{
  guint8 b = value ? 1 : 0;
  return lf_scalar_new (LF_DTYPE_BOOL, &b);
}

LfNode *
lf_scalar_new_int (gint64 value)
{
  return lf_scalar_new (LF_DTYPE_INT64, &value);
}

LfNode *
lf_scalar_new_float (double value)
{
  return lf_scalar_new (LF_DTYPE_FLOAT64, &value);
}

LfNode *
lf_scalar_new_complex (double real, double imag)
{
  double v[2] = { real, imag };
  return lf_scalar_new (LF_DTYPE_COMPLEX128, v);
}

#define RETURN_IF_NOT_SCALAR(node, val) \
  g_return_val_if_fail ((node) != NULL && (node)->kind == LF_NODE_SCALAR, (val))

LfDType
lf_scalar_get_dtype (const LfNode *node)
{
  RETURN_IF_NOT_SCALAR (node, LF_DTYPE_INVALID);
  return node->scalar.dtype;
}

gconstpointer
lf_scalar_get_value (const LfNode *node)
{
  RETURN_IF_NOT_SCALAR (node, NULL);
  return node->scalar.value.bytes;
}

/* ---- the value, through the element model (element.c) ------------------------ */

static LfElement
element_of (const LfNode *node)
{
  LfElement e;
  lf_element_read (node->scalar.dtype, node->scalar.value.bytes, &e);
  return e;
}

gboolean
lf_scalar_get_bool (const LfNode *node)
{
  RETURN_IF_NOT_SCALAR (node, FALSE);
  LfElement e = element_of (node);
  return lf_element_is_nonzero (&e);
}

gint64
lf_scalar_get_int (const LfNode *node)
{
  RETURN_IF_NOT_SCALAR (node, 0);
  LfElement e = element_of (node);
  /* int(x) truncates; a getter without an error saturates where
   * lf_scalar_convert reports (NaN gives 0), unsigned values included. */
  if (e.kind == LF_ELEMENT_UNSIGNED && e.u > (guint64) G_MAXINT64)
    return G_MAXINT64;
  gint64 out;
  lf_element_write (&e, LF_DTYPE_INT64, &out);
  return out;
}

double
lf_scalar_get_float (const LfNode *node)
{
  RETURN_IF_NOT_SCALAR (node, 0.0);
  LfElement e = element_of (node);
  return lf_element_to_double (&e);
}

void
lf_scalar_get_complex (const LfNode *node, double *real, double *imag)
{
  g_return_if_fail (node != NULL && node->kind == LF_NODE_SCALAR);
  LfElement e = element_of (node);
  if (real != NULL)
    *real = lf_element_to_double (&e);
  if (imag != NULL)
    *imag = e.kind == LF_ELEMENT_COMPLEX ? e.im : 0.0;
}

/* ---- conversion ------------------------------------------------------------ */

LfNode *
lf_scalar_convert (const LfNode *node, LfDType dtype, GError **error)
{
  RETURN_IF_NOT_SCALAR (node, NULL);
  g_return_val_if_fail (lf_dtype_size (dtype) > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  LfDType src = node->scalar.dtype;
  LfElement e = element_of (node);
  /* `type(x)(value.item())`: item() makes an integer a Python int, which
   * numpy's float and complex constructors take as a double first (so an
   * int64 can round twice into float32, where astype rounds once). */
  if ((e.kind == LF_ELEMENT_SIGNED || e.kind == LF_ELEMENT_UNSIGNED)
      && (lf_dtype_is_float (dtype) || lf_dtype_is_complex (dtype)))
    e = (LfElement) { LF_ELEMENT_FLOAT, 0, 0, lf_element_to_double (&e), 0.0 };

  guint8 out[16] = { 0 };
  LfElementLoss loss = lf_element_write (&e, dtype, out);
  if (loss & LF_ELEMENT_IMAGINARY_DROPPED)
    {
      g_autofree char *text = lf_element_to_string (&e);
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                   "cannot convert %s value %s with a nonzero imaginary part to %s",
                   lf_dtype_name (src), text, lf_dtype_name (dtype));
      return NULL;
    }
  /* Python's int() fails where astype would wrap or saturate; float() and
   * bool() never fail. */
  if ((loss & LF_ELEMENT_OUT_OF_RANGE) && lf_dtype_is_integer (dtype))
    {
      g_autofree char *text = lf_element_to_string (&e);
      if (isfinite (lf_element_to_double (&e)))
        g_set_error (error, LF_ERROR, LF_ERROR_OVERFLOW, "%s value %s is out of range for %s",
                     lf_dtype_name (src), text, lf_dtype_name (dtype));
      else
        g_set_error (error, LF_ERROR, LF_ERROR_OVERFLOW, "cannot convert %s %s to %s",
                     lf_dtype_name (src), text, lf_dtype_name (dtype));
      return NULL;
    }
  return lf_scalar_new (dtype, out);
}
