/* Walking a tree: ordered leaf visits, lookup by path, one-subtree
 * replacement (lf_tree_at) and deep equality. */
#include "config.h"
#include <string.h>
#include "tree-private.h"

static gboolean
kind_is_container (LfNodeKind kind)
{
  return kind <= LF_NODE_NONE;
}

/* ---- ordered leaf visits ---------------------------------------------------- */

typedef struct {
  LfIsLeafFunc is_leaf;
  gpointer is_leaf_data;
  LfLeafFunc func;
  gpointer user_data;
} Walk;

/* Pushes the key of child `i` of container `node` onto `path`. */
static void
push_child_key (LfPath *path, const LfNode *node, gsize i)
{
  switch (node->kind)
    {
    case LF_NODE_DICT:
      lf_path_push_key (path, node->container.keys[i]);
      break;
    case LF_NODE_STRUCT:
      lf_path_push_field (path, node->container.keys[i]);
      break;
    default:
      lf_path_push_index (path, (gint64) i);
      break;
    }
}

static gboolean
visit (LfNode *node, LfPath *path, const Walk *walk)
{
  gboolean leaf = walk->is_leaf != NULL && walk->is_leaf (node, walk->is_leaf_data);
  if (leaf || !kind_is_container (node->kind))
    return walk->func (path, node, walk->user_data);

  for (gsize i = 0; i < node->container.n; i++)
    {
      push_child_key (path, node, i);
      gboolean go_on = visit (node->container.children[i], path, walk);
      lf_path_pop (path);
      if (!go_on)
        return FALSE;
    }
  return TRUE;
}

gboolean
lf_tree_foreach_leaf (LfNode *tree, LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                      LfLeafFunc func, gpointer user_data)
{
  g_return_val_if_fail (tree != NULL, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  Walk walk = { is_leaf, is_leaf_data, func, user_data };
  g_autoptr (LfPath) path = lf_path_new ();
  return visit (tree, path, &walk);
}

static gboolean
count_leaf (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  (*(gsize *) user_data)++;
  return TRUE;
}

gsize
lf_tree_count_leaves (const LfNode *tree, LfIsLeafFunc is_leaf, gpointer is_leaf_data)
{
  g_return_val_if_fail (tree != NULL, 0);
  gsize n = 0;
  lf_tree_foreach_leaf ((LfNode *) tree, is_leaf, is_leaf_data, count_leaf, &n);
  return n;
}

static gboolean
collect_leaf (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  g_ptr_array_add (user_data, leaf);
  return TRUE;
}

GPtrArray *
lf_tree_get_leaves (const LfNode *tree, LfIsLeafFunc is_leaf, gpointer is_leaf_data)
{
  g_return_val_if_fail (tree != NULL, NULL);
  GPtrArray *leaves = g_ptr_array_new ();
  lf_tree_foreach_leaf ((LfNode *) tree, is_leaf, is_leaf_data, collect_leaf, leaves);
  return leaves;
}

/* ---- lookup ------------------------------------------------------------------ */

/* "list of 3", "dict", "struct Linear", "array": what a message says a
 * node is. */
static char *
describe (const LfNode *node)
{
  switch (node->kind)
    {
    case LF_NODE_TUPLE:
    case LF_NODE_LIST:
      return g_strdup_printf ("%s of %" G_GSIZE_FORMAT, lf_node_kind_name (node->kind),
                              node->container.n);
    case LF_NODE_STRUCT:
      return g_strdup_printf ("struct %s", node->container.type_name);
    default:
      return g_strdup (lf_node_kind_name (node->kind));
    }
}

/* The index of the child of `node` named by key `depth` of `path`, or -1
 * with LF_ERROR_NOT_FOUND: "no item [5] in list of 3 at .layers". */
static gssize
find_child (const LfNode *node, const LfPath *path, guint depth, GError **error)
{
  const LfPathKey *key = &g_array_index (path->keys, LfPathKey, depth);
  gssize found = -1;

  switch (key->kind)
    {
    case LF_KEY_INDEX:
      if (node->kind == LF_NODE_TUPLE || node->kind == LF_NODE_LIST)
        {
          gint64 n = (gint64) node->container.n;
          gint64 i = key->index < 0 ? key->index + n : key->index;
          if (i >= 0 && i < n)
            found = (gssize) i;
        }
      break;
    case LF_KEY_DICT:
      if (node->kind == LF_NODE_DICT)
        found = lf_dict_find (node, key->name);
      break;
    case LF_KEY_FIELD:
      if (node->kind == LF_NODE_STRUCT)
        for (gsize i = 0; i < node->container.n && found < 0; i++)
          if (strcmp (node->container.keys[i], key->name) == 0)
            found = (gssize) i;
      break;
    }

  if (found < 0)
    {
      g_autoptr (GString) text = g_string_new (NULL);
      const char *noun = key->kind == LF_KEY_INDEX ? "item"
                         : key->kind == LF_KEY_DICT ? "key" : "field";
      g_string_append_printf (text, "no %s ", noun);
      lf_path_key_append_to (key, text);
      g_autofree char *what = describe (node);
      g_string_append_printf (text, " in %s at ", what);
      if (depth == 0)
        g_string_append (text, "the root");
      else
        for (guint i = 0; i < depth; i++)
          lf_path_key_append_to (&g_array_index (path->keys, LfPathKey, i), text);
      g_set_error_literal (error, LF_ERROR, LF_ERROR_NOT_FOUND, text->str);
    }
  return found;
}

LfNode *
lf_tree_get (const LfNode *tree, const LfPath *path, GError **error)
{
  g_return_val_if_fail (tree != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Borrowed nodes are handed out non-const, as lf_node_get_child() does. */
  LfNode *node = (LfNode *) tree;
  for (guint depth = 0; depth < path->keys->len; depth++)
    {
      gssize i = find_child (node, path, depth, error);
      if (i < 0)
        return NULL;
      node = node->container.children[i];
    }
  return node;
}

/* ---- surgery ------------------------------------------------------------------- */

LfNode *
lf_container_new_like (const LfNode *node, LfNode **children)
{
  return lf_container_new_take_arrays (node->kind, node->container.n, children,
                                       g_strdupv (node->container.keys),
                                       g_strdup (node->container.type_name));
}

/* A copy of container `node` whose child `i` is `child` (adopted); every
 * other child is shared. */
static LfNode *
replace_child (const LfNode *node, gsize i, LfNode *child)
{
  gsize n = node->container.n;
  LfNode **children = g_new (LfNode *, n);
  for (gsize j = 0; j < n; j++)
    children[j] = j == i ? child : lf_node_ref (node->container.children[j]);
  return lf_container_new_like (node, children);
}

static LfNode *
tree_at (LfNode *node, const LfPath *path, guint depth, LfNode *replacement,
         GError **error)
{
  if (depth == path->keys->len)
    return lf_node_ref (replacement);
  gssize i = find_child (node, path, depth, error);
  if (i < 0)
    return NULL;
  LfNode *child = tree_at (node->container.children[i], path, depth + 1,
                           replacement, error);
  if (child == NULL)
    return NULL;
  return replace_child (node, (gsize) i, child);
}

LfNode *
lf_tree_at (LfNode *tree, const LfPath *path, LfNode *replacement, GError **error)
{
  g_return_val_if_fail (tree != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (replacement != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return tree_at (tree, path, 0, replacement, error);
}

LfNode *
lf_tree_at_str (LfNode *tree, const char *path, LfNode *replacement, GError **error)
{
  g_return_val_if_fail (tree != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (replacement != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  g_autoptr (LfPath) parsed = lf_path_parse (path, error);
  if (parsed == NULL)
    return NULL;
  return tree_at (tree, parsed, 0, replacement, error);
}

/* ---- equality -------------------------------------------------------------------- */

static gboolean
strv_equal (gsize n, char **a, char **b)
{
  if (a == NULL || b == NULL)
    return a == b;
  for (gsize i = 0; i < n; i++)
    if (strcmp (a[i], b[i]) != 0)
      return FALSE;
  return TRUE;
}

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

  gsize n = a->container.n;
  if (n != b->container.n
      || g_strcmp0 (a->container.type_name, b->container.type_name) != 0
      || !strv_equal (n, a->container.keys, b->container.keys))
    return FALSE;
  for (gsize i = 0; i < n; i++)
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

/* ---- replacing leaves ---------------------------------------------------------- */

static LfNode *
replace_leaves (LfNode *node, const Walk *walk, LfNode *const *replacements, gsize *next)
{
  if (!kind_is_container (node->kind)
      || (walk->is_leaf != NULL && walk->is_leaf (node, walk->is_leaf_data)))
    {
      LfNode *replacement = replacements[(*next)++];
      return lf_node_ref (replacement != NULL ? replacement : node);
    }
  gsize n = node->container.n;
  if (n == 0)
    return lf_node_ref (node);
  LfNode **children = g_new (LfNode *, n);
  gboolean changed = FALSE;
  for (gsize i = 0; i < n; i++)
    {
      children[i] = replace_leaves (node->container.children[i], walk, replacements, next);
      changed |= children[i] != node->container.children[i];
    }
  if (changed)
    return lf_container_new_like (node, children);
  for (gsize i = 0; i < n; i++)
    lf_node_unref (children[i]);
  g_free (children);
  return lf_node_ref (node);
}

LfNode *
lf_tree_replace_leaves (LfNode *tree, LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                        LfNode *const *replacements)
{
  g_return_val_if_fail (tree != NULL && replacements != NULL, NULL);
  Walk walk = { .is_leaf = is_leaf, .is_leaf_data = is_leaf_data };
  gsize next = 0;
  return replace_leaves (tree, &walk, replacements, &next);
}
