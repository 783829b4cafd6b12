/* The one traversal of a tree's leaves (traverse-private.h) and the public
 * calls built on it: ordered leaf visits, counts and lists of leaves, and
 * replacing leaves. */
#include "config.h"
#include <string.h>
#include "traverse-private.h"

void
_lf_path_push_child_key (LfPath *path, const LfNode *node, gsize i)
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

char *
_lf_node_describe (const LfNode *node, gboolean names)
{
  GString *text = g_string_new (lf_node_kind_name (node->kind));
  switch (node->kind)
    {
    case LF_NODE_TUPLE:
    case LF_NODE_LIST:
      g_string_append_printf (text, " of %" G_GSIZE_FORMAT, node->container.n);
      break;
    case LF_NODE_STRUCT:
      g_string_append_printf (text, " %s", node->container.type_name);
      /* fall through */
    case LF_NODE_DICT:
      if (!names)
        break;
      g_string_append (text, node->kind == LF_NODE_DICT ? " with keys [" : " with fields [");
      for (gsize i = 0; i < node->container.n; i++)
        g_string_append_printf (text, "%s%s", i > 0 ? ", " : "", node->container.keys[i]);
      g_string_append_c (text, ']');
      break;
    default:
      break;
    }
  return g_string_free (text, FALSE);
}

/* ---- the traversal ----------------------------------------------------------- */

static gboolean traverse_node (LfTraversal *t, LfNode *node, const LfNode *guide,
                               LfNode **out);

/* The guide of child `i`: the guide's own child where the guide has a
 * container there (`pairs`), else the guide that covers the whole subtree. */
static inline const LfNode *
child_guide (const LfNode *guide, gboolean pairs, gsize i)
{
  return pairs ? guide->container.children[i] : guide;
}

static gboolean
visit_child (LfTraversal *t, LfNode *node, gsize i, const LfNode *guide, LfNode **out)
{
  if (t->path == NULL)
    return traverse_node (t, node->container.children[i], guide, out);
  _lf_path_push_child_key (t->path, node, i);
  gboolean ok = traverse_node (t, node->container.children[i], guide, out);
  lf_path_pop (t->path);
  return ok;
}

/* Builds the container of `node` from its children's new nodes, sharing
 * `node` itself when none changed. */
static gboolean
rebuild_children (LfTraversal *t, LfNode *node, const LfNode *guide, gboolean pairs,
                  LfNode **out)
{
  gsize n = node->container.n;
  if (n == 0)
    {
      *out = lf_node_ref (node);
      return TRUE;
    }
  LfNode **children = g_new0 (LfNode *, n);
  gboolean changed = FALSE;
  gboolean ok = TRUE;
  for (gsize i = 0; ok && i < n; i++)
    {
      ok = visit_child (t, node, i, child_guide (guide, pairs, i), &children[i]);
      changed |= ok && children[i] != node->container.children[i];
    }
  if (ok && changed)
    {
      *out = lf_container_new_like (node, children);
      return TRUE;
    }
  for (gsize i = 0; i < n; i++)
    g_clear_pointer (&children[i], lf_node_unref);
  g_free (children);
  if (ok)
    *out = lf_node_ref (node);
  return ok;
}

static gboolean
traverse_children (LfTraversal *t, LfNode *node, const LfNode *guide, gboolean pairs,
                   LfNode **out)
{
  if (out != NULL)
    return rebuild_children (t, node, guide, pairs, out);
  for (gsize i = 0; i < node->container.n; i++)
    if (!visit_child (t, node, i, child_guide (guide, pairs, i), NULL))
      return FALSE;
  return TRUE;
}

static gboolean
traverse_node (LfTraversal *t, LfNode *node, const LfNode *guide, LfNode **out)
{
  if (G_UNLIKELY (guide != NULL && lf_node_kind_is_container (guide->kind)))
    return t->match (t, node, guide) && traverse_children (t, node, guide, TRUE, out);
  if (_lf_traversal_is_leaf (t, node))
    return t->leaf (t, node, guide, out);
  return traverse_children (t, node, guide, FALSE, out);
}

gboolean
_lf_traverse (LfTraversal *t, LfNode *tree, const LfNode *guide, LfNode **out)
{
  g_return_val_if_fail (t->leaf != NULL, FALSE);
  g_return_val_if_fail (guide == NULL || t->match != NULL, FALSE);
  return traverse_node (t, tree, guide, out);
}

/* ---- ordered leaf visits ---------------------------------------------------- */

typedef struct {
  LfTraversal t;
  LfLeafFunc func;
  gpointer user_data;
} Foreach;

static gboolean
foreach_leaf (LfTraversal *t, LfNode *leaf, const LfNode *guide, LfNode **out)
{
  Foreach *f = (Foreach *) t;
  return f->func (t->path, leaf, f->user_data);
}

gboolean
lf_tree_foreach_leaf (LfNode *tree, LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                      LfLeafFunc func, gpointer user_data)
{
  g_return_val_if_fail (tree != NULL, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_autoptr (LfPath) path = lf_path_new ();
  Foreach f = {
    .t = { .is_leaf = is_leaf, .is_leaf_data = is_leaf_data, .leaf = foreach_leaf, .path = path },
    .func = func,
    .user_data = user_data,
  };
  return _lf_traverse (&f.t, tree, NULL, NULL);
}

/* Counting and listing need no paths. */
typedef struct {
  LfTraversal t;
  gsize n;
  GPtrArray *leaves;  /* NULL when only counting */
} Collect;

static gboolean
collect_leaf (LfTraversal *t, LfNode *leaf, const LfNode *guide, LfNode **out)
{
  Collect *c = (Collect *) t;
  c->n++;
  if (c->leaves != NULL)
    g_ptr_array_add (c->leaves, leaf);
  return TRUE;
}

gsize
lf_tree_count_leaves (const LfNode *tree, LfIsLeafFunc is_leaf, gpointer is_leaf_data)
{
  g_return_val_if_fail (tree != NULL, 0);
  Collect c = { .t = { .is_leaf = is_leaf, .is_leaf_data = is_leaf_data, .leaf = collect_leaf } };
  _lf_traverse (&c.t, (LfNode *) tree, NULL, NULL);
  return c.n;
}

GPtrArray *
lf_tree_get_leaves (const LfNode *tree, LfIsLeafFunc is_leaf, gpointer is_leaf_data)
{
  g_return_val_if_fail (tree != NULL, NULL);
  Collect c = {
    .t = { .is_leaf = is_leaf, .is_leaf_data = is_leaf_data, .leaf = collect_leaf },
    .leaves = g_ptr_array_new (),
  };
  _lf_traverse (&c.t, (LfNode *) tree, NULL, NULL);
  return c.leaves;
}

/* ---- replacing leaves ---------------------------------------------------------- */

typedef struct {
  LfTraversal t;
  LfNode *const *replacements;
  gsize next;
} Replace;

static gboolean
replace_leaf (LfTraversal *t, LfNode *leaf, const LfNode *guide, LfNode **out)
{
  Replace *r = (Replace *) t;
  LfNode *replacement = r->replacements[r->next++];
  *out = lf_node_ref (replacement != NULL ? replacement : leaf);
  return TRUE;
}

LfNode *
lf_tree_replace_leaves (LfNode *tree, LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                        LfNode *const *replacements)
{
  g_return_val_if_fail (tree != NULL && replacements != NULL, NULL);
  Replace r = {
    .t = { .is_leaf = is_leaf, .is_leaf_data = is_leaf_data, .leaf = replace_leaf },
    .replacements = replacements,
  };
  LfNode *out = NULL;
  _lf_traverse (&r.t, tree, NULL, &out);
  return out;
}
