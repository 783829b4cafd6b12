/* Deep equality of trees (lf_tree_equal). */
#include "config.h"
#include <string.h>
#include "tree-private.h"

static gboolean
arrays_equal (const LfNode *a, const LfNode *b)
{
  if (a->array.dtype != b->array.dtype || a->array.ndim != b->array.ndim)
    return FALSE;
  if (a->array.ndim > 0
      && memcmp (a->array.shape, b->array.shape, a->array.ndim * sizeof (gsize)) != 0)
    return FALSE;
  if (a->array.bytes == NULL || b->array.bytes == NULL)
    return a->array.bytes == b->array.bytes;
  return g_bytes_equal (a->array.bytes, b->array.bytes);
}

static gboolean
nodes_equal (const LfNode *a, const LfNode *b)
{
  if (a == b)
    return TRUE;
  if (a->kind != b->kind)
    return FALSE;
  switch (a->kind)
    {
    case LF_NODE_ARRAY:
      return arrays_equal (a, b);
    case LF_NODE_SCALAR:
      return a->scalar.dtype == b->scalar.dtype
             && memcmp (a->scalar.value.bytes, b->scalar.value.bytes,
                        lf_dtype_size (a->scalar.dtype)) == 0;
    case LF_NODE_OPAQUE:
      return a->opaque.data == b->opaque.data;
    default:
      break;
    }
  if (!lf_container_same_layout (a, b))
    return FALSE;
  for (gsize i = 0; i < a->container.n; i++)
    if (!nodes_equal (a->container.children[i], b->container.children[i]))
      return FALSE;
  return TRUE;
}

gboolean
lf_tree_equal (const LfNode *a, const LfNode *b)
{
  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);
  return nodes_equal (a, b);
}
