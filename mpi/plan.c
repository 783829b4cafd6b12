/* The plan: the leaves of a tree in the serial walker's order, each with
 * the codec the spec gives it and its shard.  It mirrors core/walk.c
 * through the public API (the walker itself is private to libleafio), so
 * the collective save writes the same records in the same order. */
#include "config.h"
#include <string.h>
#include "mpi-private.h"

typedef struct {
  LfIsLeafFunc is_leaf;
  gpointer is_leaf_data;
  const LfMpiLayout *layout;
  LfPath *path;
  GArray *leaves;
  GError **error;
} Planner;

static gboolean
node_is_leaf (LfIsLeafFunc is_leaf, gpointer is_leaf_data, const LfNode *node)
{
  return !lf_node_is_container (node) || (is_leaf != NULL && is_leaf (node, is_leaf_data));
}

static void
leaf_clear (gpointer data)
{
  LfMpiLeaf *leaf = data;
  lf_path_free (leaf->path);
  g_free (leaf->path_text);
}

static void
push_key (LfPath *path, const LfNode *node, gsize i)
{
  switch (lf_node_get_kind (node))
    {
    case LF_NODE_DICT:
      lf_path_push_key (path, lf_dict_get_key (node, i));
      break;
    case LF_NODE_STRUCT:
      lf_path_push_field (path, lf_struct_get_field_name (node, i));
      break;
    default:
      lf_path_push_index (path, (gint64) i);
      break;
    }
}

/* A spec-tree container must equal the data container in its place, as in
 * the serial walker (same kind, length, keys or fields, struct type). */
static gboolean
spec_matches (Planner *p, const LfNode *spec_node, const LfNode *node)
{
  gboolean same = !node_is_leaf (p->is_leaf, p->is_leaf_data, node)
                  && lf_node_get_kind (spec_node) == lf_node_get_kind (node)
                  && lf_node_get_n_children (spec_node) == lf_node_get_n_children (node);
  if (same && lf_node_get_kind (node) == LF_NODE_STRUCT)
    same = strcmp (lf_struct_get_type_name (spec_node), lf_struct_get_type_name (node)) == 0;
  for (gsize i = 0; same && i < lf_node_get_n_children (node); i++)
    {
      if (lf_node_get_kind (node) == LF_NODE_DICT)
        same = strcmp (lf_dict_get_key (spec_node, i), lf_dict_get_key (node, i)) == 0;
      else if (lf_node_get_kind (node) == LF_NODE_STRUCT)
        same = strcmp (lf_struct_get_field_name (spec_node, i),
                       lf_struct_get_field_name (node, i)) == 0;
    }
  if (same)
    return TRUE;
  g_autofree char *path = lf_path_to_string (p->path);
  g_set_error (p->error, LF_ERROR, LF_ERROR_SPEC,
               "filter spec is not a prefix of the tree at '%s': spec has a %s of %"
               G_GSIZE_FORMAT ", tree has a %s of %" G_GSIZE_FORMAT,
               *path ? path : "root", lf_node_kind_name (lf_node_get_kind (spec_node)),
               lf_node_get_n_children (spec_node), lf_node_kind_name (lf_node_get_kind (node)),
               lf_node_get_n_children (node));
  return FALSE;
}

static gboolean
plan_node (Planner *p, LfNode *node, const LfNode *spec_node, LfCodec *codec)
{
  if (spec_node != NULL)
    {
      LfCodec *spec_codec = lf_spec_leaf_get_codec (spec_node);
      if (spec_codec != NULL)
        return plan_node (p, node, NULL, spec_codec);
      if (!spec_matches (p, spec_node, node))
        return FALSE;
    }
  else if (node_is_leaf (p->is_leaf, p->is_leaf_data, node))
    {
      LfMpiLeaf leaf = {
        .path = lf_path_copy (p->path),
        .path_text = lf_path_to_string (p->path),
        .leaf = node,
        .codec = codec,
      };
      if (p->layout != NULL)
        leaf.shard = lf_mpi_layout_lookup_shard (p->layout, leaf.path_text);
      g_array_append_val (p->leaves, leaf);
      return TRUE;
    }
  for (gsize i = 0; i < lf_node_get_n_children (node); i++)
    {
      push_key (p->path, node, i);
      gboolean ok = plan_node (p, lf_node_get_child (node, i),
                               spec_node != NULL ? lf_node_get_child (spec_node, i) : NULL,
                               codec);
      lf_path_pop (p->path);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

LfMpiPlan *
_lf_mpi_plan_new (LfNode *tree, LfSpec *spec, LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                  const LfMpiLayout *layout, GError **error)
{
  g_autoptr (LfSpec) owned_spec = NULL;
  if (spec == NULL)
    {
      spec = owned_spec = lf_spec_new_for_reference (NULL, "npy", error);
      if (spec == NULL)
        return NULL;
    }
  LfCodec *codec = lf_spec_get_codec (spec);
  LfNode *spec_tree = lf_spec_get_tree (spec);
  if (codec == NULL && spec_tree == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "collective saves and loads take one codec or a spec tree, not path "
                   "rules: libleafio gives no public way to ask rules for a leaf's codec");
      return NULL;
    }
  LfMpiPlan *plan = g_new0 (LfMpiPlan, 1);
  plan->spec = lf_spec_ref (spec);
  plan->leaves = g_array_new (FALSE, TRUE, sizeof (LfMpiLeaf));
  g_array_set_clear_func (plan->leaves, leaf_clear);
  Planner p = {
    .is_leaf = is_leaf,
    .is_leaf_data = is_leaf_data,
    .layout = layout,
    .path = lf_path_new (),
    .leaves = plan->leaves,
    .error = error,
  };
  gboolean ok = plan_node (&p, tree, spec_tree, codec);
  lf_path_free (p.path);
  if (!ok)
    {
      _lf_mpi_plan_free (plan);
      return NULL;
    }
  return plan;
}

void
_lf_mpi_plan_free (LfMpiPlan *plan)
{
  if (plan == NULL)
    return;
  g_array_unref (plan->leaves);
  lf_spec_unref (plan->spec);
  g_free (plan);
}

/* ---- rebuilding a loaded tree ------------------------------------------------ */

static LfNode *
rebuild_container (const LfNode *node, LfNode **children)
{
  gsize n = lf_node_get_n_children (node);
  switch (lf_node_get_kind (node))
    {
    case LF_NODE_TUPLE:
      return lf_tuple_new (n, children);
    case LF_NODE_LIST:
      return lf_list_new (n, children);
    case LF_NODE_DICT:
      {
        g_autofree const char **keys = g_new (const char *, n);
        for (gsize i = 0; i < n; i++)
          keys[i] = lf_dict_get_key (node, i);
        return lf_dict_new (n, keys, children);
      }
    case LF_NODE_STRUCT:
      {
        g_autofree const char **fields = g_new (const char *, n);
        for (gsize i = 0; i < n; i++)
          fields[i] = lf_struct_get_field_name (node, i);
        return lf_struct_new (lf_struct_get_type_name (node), n, fields, children);
      }
    default:
      g_assert_not_reached ();
    }
}

static LfNode *
rebuild_node (LfNode *node, LfIsLeafFunc is_leaf, gpointer is_leaf_data,
              LfNode **replacements, gsize *next)
{
  if (node_is_leaf (is_leaf, is_leaf_data, node))
    {
      LfNode *replacement = replacements[(*next)++];
      return lf_node_ref (replacement != NULL ? replacement : node);
    }
  gsize n = lf_node_get_n_children (node);
  if (n == 0)
    return lf_node_ref (node);
  g_autofree LfNode **children = g_new (LfNode *, n);
  gboolean changed = FALSE;
  for (gsize i = 0; i < n; i++)
    {
      children[i] = rebuild_node (lf_node_get_child (node, i), is_leaf, is_leaf_data,
                                  replacements, next);
      changed |= children[i] != lf_node_get_child (node, i);
    }
  LfNode *out = changed ? rebuild_container (node, children) : lf_node_ref (node);
  for (gsize i = 0; i < n; i++)
    lf_node_unref (children[i]);
  return out;
}

LfNode *
_lf_mpi_rebuild (LfNode *tree, LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                 LfNode **replacements)
{
  gsize next = 0;
  return rebuild_node (tree, is_leaf, is_leaf_data, replacements, &next);
}
