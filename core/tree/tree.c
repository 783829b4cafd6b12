/* Tree nodes: reference counting, containers, arrays, opaque leaves and
 * shape arithmetic.  Scalars live in scalar.c. */
#include "config.h"
#include <stdarg.h>
#include <string.h>
#include "tree-private.h"

/* ---- reference counting and kinds --------------------------------------- */

static LfNode *
node_alloc (LfNodeKind kind)
{
  LfNode *node = g_new0 (LfNode, 1);
  g_atomic_ref_count_init (&node->ref_count);
  node->kind = kind;
  return node;
}

LfNode *
lf_node_ref (LfNode *node)
{
  g_return_val_if_fail (node != NULL, NULL);
  g_atomic_ref_count_inc (&node->ref_count);
  return node;
}

static void
node_free (LfNode *node)
{
  switch (node->kind)
    {
    case LF_NODE_TUPLE:
    case LF_NODE_LIST:
    case LF_NODE_DICT:
    case LF_NODE_STRUCT:
    case LF_NODE_NONE:
      for (gsize i = 0; i < node->container.n; i++)
        lf_node_unref (node->container.children[i]);
      g_free (node->container.children);
      g_strfreev (node->container.keys);
      g_free (node->container.type_name);
      break;
    case LF_NODE_ARRAY:
      if (node->array.shape != node->array.shape_inline)
        g_free (node->array.shape);
      g_clear_pointer (&node->array.bytes, g_bytes_unref);
      break;
    case LF_NODE_SCALAR:
      break;
    case LF_NODE_OPAQUE:
      if (node->opaque.destroy != NULL)
        node->opaque.destroy (node->opaque.data);
      g_free (node->opaque.type_name);
      break;
    }
  g_free (node);
}

void
lf_node_unref (LfNode *node)
{
  if (node == NULL)
    return;
  if (g_atomic_ref_count_dec (&node->ref_count))
    node_free (node);
}

LfNodeKind
lf_node_get_kind (const LfNode *node)
{
  g_return_val_if_fail (node != NULL, LF_NODE_NONE);
  return node->kind;
}

const char *
lf_node_kind_name (LfNodeKind kind)
{
  static const char *const names[] = {
    [LF_NODE_TUPLE] = "tuple",   [LF_NODE_LIST] = "list",
    [LF_NODE_DICT] = "dict",     [LF_NODE_STRUCT] = "struct",
    [LF_NODE_NONE] = "none",     [LF_NODE_ARRAY] = "array",
    [LF_NODE_SCALAR] = "scalar", [LF_NODE_OPAQUE] = "opaque",
  };
  if ((guint) kind >= G_N_ELEMENTS (names))
    return "invalid";
  return names[kind];
}

gboolean
lf_node_is_container (const LfNode *node)
{
  g_return_val_if_fail (node != NULL, FALSE);
  return lf_node_kind_is_container (node->kind);
}

/* ---- containers ---------------------------------------------------------- */

LfNode *
lf_container_new_take_arrays (LfNodeKind kind, gsize n, LfNode **children,
                              char **keys, char *type_name)
{
  LfNode *node = node_alloc (kind);
  node->container.n = n;
  node->container.children = children;
  node->container.keys = keys;
  node->container.type_name = type_name;
  return node;
}

LfNode *
lf_container_new_like (const LfNode *node, LfNode **children)
{
  return lf_container_new_take_arrays (node->kind, node->container.n, children,
                                       g_strdupv (node->container.keys),
                                       g_strdup (node->container.type_name));
}

/* Unrefs `n` adopted nodes (NULLs skipped): the error path of the _take
 * constructors, so a failed precondition leaks nothing. */
static void
unref_all (gsize n, LfNode *const *nodes)
{
  for (gsize i = 0; i < n; i++)
    lf_node_unref (nodes[i]);
}

static gboolean
all_non_null (gsize n, LfNode *const *items)
{
  for (gsize i = 0; i < n; i++)
    if (items[i] == NULL)
      return FALSE;
  return TRUE;
}

static LfNode *
sequence_new (LfNodeKind kind, gsize n, LfNode *const *items)
{
  g_return_val_if_fail (n == 0 || items != NULL, NULL);
  g_return_val_if_fail (all_non_null (n, items), NULL);
  LfNode **children = n > 0 ? g_new (LfNode *, n) : NULL;
  for (gsize i = 0; i < n; i++)
    children[i] = lf_node_ref (items[i]);
  return lf_container_new_take_arrays (kind, n, children, NULL, NULL);
}

LfNode *
lf_tuple_new (gsize n, LfNode *const *items)
{
  return sequence_new (LF_NODE_TUPLE, n, items);
}

LfNode *
lf_list_new (gsize n, LfNode *const *items)
{
  return sequence_new (LF_NODE_LIST, n, items);
}

static LfNode *
sequence_new_valist (LfNodeKind kind, gsize n, va_list args)
{
  g_autofree LfNode **items = n > 0 ? g_new (LfNode *, n) : NULL;
  for (gsize i = 0; i < n; i++)
    items[i] = va_arg (args, LfNode *);
  LfNode *node = sequence_new (kind, n, items);
  unref_all (n, items);
  return node;
}

LfNode *
lf_tuple_new_take (gsize n, ...)
{
  va_list args;
  va_start (args, n);
  LfNode *node = sequence_new_valist (LF_NODE_TUPLE, n, args);
  va_end (args);
  return node;
}

LfNode *
lf_list_new_take (gsize n, ...)
{
  va_list args;
  va_start (args, n);
  LfNode *node = sequence_new_valist (LF_NODE_LIST, n, args);
  va_end (args);
  return node;
}

typedef struct {
  const char *key;
  LfNode *value;
} Entry;

static int
entry_compare (gconstpointer a, gconstpointer b)
{
  return strcmp (((const Entry *) a)->key, ((const Entry *) b)->key);
}

static gboolean
all_keys_non_null (gsize n, const char *const *keys)
{
  for (gsize i = 0; i < n; i++)
    if (keys[i] == NULL)
      return FALSE;
  return TRUE;
}

LfNode *
lf_dict_new (gsize n, const char *const *keys, LfNode *const *values)
{
  g_return_val_if_fail (n == 0 || (keys != NULL && values != NULL), NULL);
  g_return_val_if_fail (all_keys_non_null (n, keys), NULL);
  g_return_val_if_fail (all_non_null (n, values), NULL);

  g_autofree Entry *entries = g_new (Entry, n > 0 ? n : 1);
  for (gsize i = 0; i < n; i++)
    entries[i] = (Entry) { keys[i], values[i] };
  /* a stable sort is not needed: equal keys are refused below */
  qsort (entries, n, sizeof (Entry), entry_compare);
  for (gsize i = 1; i < n; i++)
    if (strcmp (entries[i - 1].key, entries[i].key) == 0)
      {
        g_critical ("%s: duplicate dict key '%s'", G_STRFUNC, entries[i].key);
        return NULL;
      }

  LfNode **children = n > 0 ? g_new (LfNode *, n) : NULL;
  char **sorted = g_new (char *, n + 1);
  for (gsize i = 0; i < n; i++)
    {
      children[i] = lf_node_ref (entries[i].value);
      sorted[i] = g_strdup (entries[i].key);
    }
  sorted[n] = NULL;
  return lf_container_new_take_arrays (LF_NODE_DICT, n, children, sorted, NULL);
}

/* Collects `name, value, ..., NULL` pairs after `first`. */
static void
collect_pairs (const char *first, va_list args, GPtrArray *names, GPtrArray *values)
{
  for (const char *name = first; name != NULL; name = va_arg (args, const char *))
    {
      g_ptr_array_add (names, (gpointer) name);
      g_ptr_array_add (values, va_arg (args, LfNode *));
    }
}

LfNode *
lf_dict_new_take (const char *first_key, ...)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  g_autoptr (GPtrArray) values = g_ptr_array_new ();
  va_list args;
  va_start (args, first_key);
  collect_pairs (first_key, args, keys, values);
  va_end (args);

  LfNode *node = lf_dict_new (keys->len, (const char *const *) keys->pdata,
                              (LfNode *const *) values->pdata);
  unref_all (values->len, (LfNode *const *) values->pdata);
  return node;
}

LfNode *
lf_struct_new (const char *type_name, gsize n, const char *const *fields,
               LfNode *const *values)
{
  g_return_val_if_fail (type_name != NULL, NULL);
  g_return_val_if_fail (n == 0 || (fields != NULL && values != NULL), NULL);
  g_return_val_if_fail (all_keys_non_null (n, fields), NULL);
  g_return_val_if_fail (all_non_null (n, values), NULL);

  for (gsize i = 0; i < n; i++)
    {
      if (fields[i][0] == '\0')
        {
          g_critical ("%s: struct %s has an empty field name", G_STRFUNC, type_name);
          return NULL;
        }
      /* structs are small: a quadratic check beats a hash table */
      for (gsize j = 0; j < i; j++)
        if (strcmp (fields[i], fields[j]) == 0)
          {
            g_critical ("%s: struct %s has a duplicate field '%s'", G_STRFUNC,
                        type_name, fields[i]);
            return NULL;
          }
    }

  LfNode **children = n > 0 ? g_new (LfNode *, n) : NULL;
  char **names = g_new (char *, n + 1);
  for (gsize i = 0; i < n; i++)
    {
      children[i] = lf_node_ref (values[i]);
      names[i] = g_strdup (fields[i]);
    }
  names[n] = NULL;
  return lf_container_new_take_arrays (LF_NODE_STRUCT, n, children, names,
                                       g_strdup (type_name));
}

LfNode *
lf_struct_new_take (const char *type_name, const char *first_field, ...)
{
  g_autoptr (GPtrArray) fields = g_ptr_array_new ();
  g_autoptr (GPtrArray) values = g_ptr_array_new ();
  va_list args;
  va_start (args, first_field);
  collect_pairs (first_field, args, fields, values);
  va_end (args);

  LfNode *node = lf_struct_new (type_name, fields->len,
                                (const char *const *) fields->pdata,
                                (LfNode *const *) values->pdata);
  unref_all (values->len, (LfNode *const *) values->pdata);
  return node;
}

LfNode *
lf_none_new (void)
{
  return lf_container_new_take_arrays (LF_NODE_NONE, 0, NULL, NULL, NULL);
}

gsize
lf_node_get_n_children (const LfNode *node)
{
  g_return_val_if_fail (node != NULL, 0);
  return lf_node_kind_is_container (node->kind) ? node->container.n : 0;
}

LfNode *
lf_node_get_child (const LfNode *node, gsize i)
{
  g_return_val_if_fail (node != NULL, NULL);
  g_return_val_if_fail (lf_node_kind_is_container (node->kind), NULL);
  g_return_val_if_fail (i < node->container.n, NULL);
  return node->container.children[i];
}

const char *
lf_dict_get_key (const LfNode *node, gsize i)
{
  g_return_val_if_fail (node != NULL && node->kind == LF_NODE_DICT, NULL);
  g_return_val_if_fail (i < node->container.n, NULL);
  return node->container.keys[i];
}

gssize
lf_dict_find (const LfNode *node, const char *key)
{
  gsize lo = 0, hi = node->container.n;
  while (lo < hi)
    {
      gsize mid = lo + (hi - lo) / 2;
      int c = strcmp (key, node->container.keys[mid]);
      if (c == 0)
        return (gssize) mid;
      if (c < 0)
        hi = mid;
      else
        lo = mid + 1;
    }
  return -1;
}

LfNode *
lf_dict_lookup (const LfNode *node, const char *key)
{
  g_return_val_if_fail (node != NULL && node->kind == LF_NODE_DICT, NULL);
  g_return_val_if_fail (key != NULL, NULL);
  gssize i = lf_dict_find (node, key);
  return i >= 0 ? node->container.children[i] : NULL;
}

const char *
lf_struct_get_type_name (const LfNode *node)
{
  g_return_val_if_fail (node != NULL && node->kind == LF_NODE_STRUCT, NULL);
  return node->container.type_name;
}

const char *
lf_struct_get_field_name (const LfNode *node, gsize i)
{
  g_return_val_if_fail (node != NULL && node->kind == LF_NODE_STRUCT, NULL);
  g_return_val_if_fail (i < node->container.n, NULL);
  return node->container.keys[i];
}

gssize
lf_struct_find (const LfNode *node, const char *name)
{
  for (gsize i = 0; i < node->container.n; i++)
    if (strcmp (node->container.keys[i], name) == 0)
      return (gssize) i;
  return -1;
}

LfNode *
lf_struct_lookup (const LfNode *node, const char *name)
{
  g_return_val_if_fail (node != NULL && node->kind == LF_NODE_STRUCT, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  gssize i = lf_struct_find (node, name);
  return i >= 0 ? node->container.children[i] : NULL;
}

static gboolean
keys_equal (gsize n, char **a, char **b)
{
  if (a == NULL || b == NULL)
    return a == b || n == 0;
  for (gsize i = 0; i < n; i++)
    if (strcmp (a[i], b[i]) != 0)
      return FALSE;
  return TRUE;
}

gboolean
lf_container_same_layout (const LfNode *a, const LfNode *b)
{
  return a->kind == b->kind && lf_node_kind_is_container (a->kind)
         && a->container.n == b->container.n
         && g_strcmp0 (a->container.type_name, b->container.type_name) == 0
         && keys_equal (a->container.n, a->container.keys, b->container.keys);
}

/* ---- shapes --------------------------------------------------------------- */

gboolean
lf_shape_n_elements (guint ndim, const gsize *shape, gsize *n_elements)
{
  g_return_val_if_fail (ndim == 0 || shape != NULL, FALSE);
  /* As numpy does, zero dims are skipped while checking for overflow, so
   * (2**40, 2**40, 0) is refused like the array numpy would refuse. */
  gsize product = 1;
  gboolean zero = FALSE;
  for (guint i = 0; i < ndim; i++)
    {
      if (shape[i] == 0)
        zero = TRUE;
      else if (!g_size_checked_mul (&product, product, shape[i]))
        return FALSE;
    }
  if (n_elements != NULL)
    *n_elements = zero ? 0 : product;
  return TRUE;
}

gboolean
lf_shape_n_bytes (LfDType dtype, guint ndim, const gsize *shape, gsize *n_bytes)
{
  gsize size = lf_dtype_size (dtype);
  g_return_val_if_fail (size > 0, FALSE);
  g_return_val_if_fail (ndim == 0 || shape != NULL, FALSE);
  gsize product = 1;
  gboolean zero = FALSE;
  for (guint i = 0; i < ndim; i++)
    {
      if (shape[i] == 0)
        zero = TRUE;
      else if (!g_size_checked_mul (&product, product, shape[i]))
        return FALSE;
    }
  gsize bytes;
  if (!g_size_checked_mul (&bytes, product, size))
    return FALSE;
  if (n_bytes != NULL)
    *n_bytes = zero ? 0 : bytes;
  return TRUE;
}

char *
lf_shape_to_string (guint ndim, const gsize *shape)
{
  g_return_val_if_fail (ndim == 0 || shape != NULL, NULL);
  GString *out = g_string_new ("(");
  for (guint i = 0; i < ndim; i++)
    {
      if (i > 0)
        g_string_append (out, ", ");
      g_string_append_printf (out, "%" G_GSIZE_FORMAT, shape[i]);
    }
  if (ndim == 1)
    g_string_append_c (out, ',');
  g_string_append_c (out, ')');
  return g_string_free (out, FALSE);
}

/* ---- array leaves -------------------------------------------------------- */

/* Checks the arguments every array constructor shares and builds the node
 * without data; NULL (after a critical) when they are wrong. */
static LfNode *
array_alloc (const char *func, LfDType dtype, guint ndim, const gsize *shape)
{
  if (lf_dtype_size (dtype) == 0)
    {
      g_critical ("%s: invalid dtype %d", func, (int) dtype);
      return NULL;
    }
  if (ndim > LF_MAX_NDIM)
    {
      g_critical ("%s: %u dims, more than %d", func, ndim, LF_MAX_NDIM);
      return NULL;
    }
  if (ndim > 0 && shape == NULL)
    {
      g_critical ("%s: shape is NULL for %u dims", func, ndim);
      return NULL;
    }
  gsize n_elements, n_bytes;
  if (!lf_shape_n_elements (ndim, shape, &n_elements)
      || !lf_shape_n_bytes (dtype, ndim, shape, &n_bytes))
    {
      g_autofree char *text = lf_shape_to_string (ndim, shape);
      g_critical ("%s: shape %s of %s overflows the address space", func, text,
                  lf_dtype_name (dtype));
      return NULL;
    }

  LfNode *node = node_alloc (LF_NODE_ARRAY);
  node->array.dtype = dtype;
  node->array.ndim = ndim;
  if (ndim == 0)
    node->array.shape = NULL;
  else if (ndim <= LF_SHAPE_INLINE_NDIM)
    node->array.shape = node->array.shape_inline;
  else
    node->array.shape = g_new (gsize, ndim);
  if (ndim > 0)
    memcpy (node->array.shape, shape, ndim * sizeof (gsize));
  node->array.n_elements = n_elements;
  node->array.n_bytes = n_bytes;
  return node;
}

LfNode *
lf_array_new_take (LfDType dtype, guint ndim, const gsize *shape, gpointer data)
{
  LfNode *node = array_alloc (G_STRFUNC, dtype, ndim, shape);
  if (node == NULL)
    {
      g_free (data);
      return NULL;
    }
  if (data == NULL && node->array.n_bytes > 0)
    {
      g_critical ("%s: data is NULL for %" G_GSIZE_FORMAT " bytes", G_STRFUNC,
                  node->array.n_bytes);
      node_free (node);
      return NULL;
    }
  node->array.bytes = g_bytes_new_take (data, node->array.n_bytes);
  return node;
}

LfNode *
lf_array_new_copy (LfDType dtype, guint ndim, const gsize *shape, gconstpointer data)
{
  LfNode *node = array_alloc (G_STRFUNC, dtype, ndim, shape);
  if (node == NULL)
    return NULL;
  if (data == NULL && node->array.n_bytes > 0)
    {
      g_critical ("%s: data is NULL for %" G_GSIZE_FORMAT " bytes", G_STRFUNC,
                  node->array.n_bytes);
      node_free (node);
      return NULL;
    }
  node->array.bytes = g_bytes_new (data, node->array.n_bytes);
  return node;
}

LfNode *
lf_array_new_borrowed (LfDType dtype, guint ndim, const gsize *shape,
                       gconstpointer data, GDestroyNotify notify, gpointer user_data)
{
  LfNode *node = array_alloc (G_STRFUNC, dtype, ndim, shape);
  if (node == NULL)
    return NULL;
  if (data == NULL && node->array.n_bytes > 0)
    {
      g_critical ("%s: data is NULL for %" G_GSIZE_FORMAT " bytes", G_STRFUNC,
                  node->array.n_bytes);
      node_free (node);
      return NULL;
    }
  node->array.bytes = g_bytes_new_with_free_func (data, node->array.n_bytes,
                                                  notify, user_data);
  return node;
}

LfNode *
lf_array_new_from_bytes (LfDType dtype, guint ndim, const gsize *shape, GBytes *bytes)
{
  g_return_val_if_fail (bytes != NULL, NULL);
  LfNode *node = array_alloc (G_STRFUNC, dtype, ndim, shape);
  if (node == NULL)
    return NULL;
  if (g_bytes_get_size (bytes) != node->array.n_bytes)
    {
      g_critical ("%s: %" G_GSIZE_FORMAT " bytes given, the shape needs %"
                  G_GSIZE_FORMAT, G_STRFUNC, g_bytes_get_size (bytes),
                  node->array.n_bytes);
      node_free (node);
      return NULL;
    }
  node->array.bytes = g_bytes_ref (bytes);
  return node;
}

LfNode *
lf_array_new_zeros (LfDType dtype, guint ndim, const gsize *shape)
{
  LfNode *node = array_alloc (G_STRFUNC, dtype, ndim, shape);
  if (node == NULL)
    return NULL;
  node->array.bytes = g_bytes_new_take (g_malloc0 (node->array.n_bytes),
                                        node->array.n_bytes);
  return node;
}

LfNode *
lf_array_new_abstract (LfDType dtype, guint ndim, const gsize *shape)
{
  return array_alloc (G_STRFUNC, dtype, ndim, shape);
}

#define RETURN_IF_NOT_ARRAY(node, val) \
  g_return_val_if_fail ((node) != NULL && (node)->kind == LF_NODE_ARRAY, (val))

LfDType
lf_array_get_dtype (const LfNode *node)
{
  RETURN_IF_NOT_ARRAY (node, LF_DTYPE_INVALID);
  return node->array.dtype;
}

guint
lf_array_get_ndim (const LfNode *node)
{
  RETURN_IF_NOT_ARRAY (node, 0);
  return node->array.ndim;
}

const gsize *
lf_array_get_shape (const LfNode *node)
{
  RETURN_IF_NOT_ARRAY (node, NULL);
  return node->array.shape;
}

gsize
lf_array_get_n_elements (const LfNode *node)
{
  RETURN_IF_NOT_ARRAY (node, 0);
  return node->array.n_elements;
}

gsize
lf_array_get_n_bytes (const LfNode *node)
{
  RETURN_IF_NOT_ARRAY (node, 0);
  return node->array.n_bytes;
}

gboolean
lf_array_is_abstract (const LfNode *node)
{
  RETURN_IF_NOT_ARRAY (node, FALSE);
  return node->array.bytes == NULL;
}

gconstpointer
lf_array_get_data (const LfNode *node)
{
  /* GBytes of size 0 may hold NULL; callers get a usable pointer anyway */
  static const guint64 empty;
  RETURN_IF_NOT_ARRAY (node, NULL);
  if (node->array.bytes == NULL)
    return NULL;
  gconstpointer data = g_bytes_get_data (node->array.bytes, NULL);
  return data != NULL ? data : &empty;
}

GBytes *
lf_array_get_bytes (const LfNode *node)
{
  RETURN_IF_NOT_ARRAY (node, NULL);
  return node->array.bytes;
}

/* ---- opaque leaves ------------------------------------------------------- */

LfNode *
lf_opaque_new (const char *type_name, gpointer data, GDestroyNotify destroy)
{
  g_return_val_if_fail (type_name != NULL, NULL);
  LfNode *node = node_alloc (LF_NODE_OPAQUE);
  node->opaque.type_name = g_strdup (type_name);
  node->opaque.data = data;
  node->opaque.destroy = destroy;
  return node;
}

const char *
lf_opaque_get_type_name (const LfNode *node)
{
  g_return_val_if_fail (node != NULL && node->kind == LF_NODE_OPAQUE, NULL);
  return node->opaque.type_name;
}

gpointer
lf_opaque_get_data (const LfNode *node)
{
  g_return_val_if_fail (node != NULL && node->kind == LF_NODE_OPAQUE, NULL);
  return node->opaque.data;
}
