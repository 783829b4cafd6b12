/* Finding a node by path (lf_tree_get) and replacing one subtree
 * (lf_tree_at), with errors that name the first key that does not exist. */
#include "config.h"
#include <string.h>
#include "traverse-private.h"

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
        found = lf_struct_find (node, key->name);
      break;
    }

  if (found < 0)
    {
      g_autoptr (GString) text = g_string_new (NULL);
      const char *noun = key->kind == LF_KEY_INDEX ? "item"
                         : key->kind == LF_KEY_DICT ? "key" : "field";
      g_string_append_printf (text, "no %s ", noun);
      lf_path_key_append_to (key, text);
      g_autofree char *what = _lf_node_describe (node, FALSE);
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
