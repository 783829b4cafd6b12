/* The plan: the leaves of a tree in the serial walker's order, each with
 * the codec the spec gives it and its shard.  lf_spec_foreach_leaf pairs
 * leaves and codecs as the serial walker does, so the collective save
 * writes the same records in the same order, whatever the spec kind. */
#include "config.h"
#include "mpi-private.h"

typedef struct {
  const LfMpiLayout *layout;
  GArray *leaves;
} Planner;

static void
leaf_clear (gpointer data)
{
  LfMpiLeaf *leaf = data;
  lf_path_free (leaf->path);
  g_free (leaf->path_text);
}

static gboolean
plan_leaf (const LfPath *path, LfNode *node, LfCodec *codec, gpointer user_data,
           GError **error)
{
  Planner *p = user_data;
  LfMpiLeaf leaf = {
    .path = lf_path_copy (path),
    .path_text = lf_path_to_string (path),
    .leaf = node,
    .codec = codec,
  };
  _lf_mpi_record_kind_init (&leaf.kind, codec);
  if (p->layout != NULL)
    leaf.shard = lf_mpi_layout_lookup_shard (p->layout, leaf.path_text);
  g_array_append_val (p->leaves, leaf);
  return TRUE;
}

LfMpiPlan *
_lf_mpi_plan_new (LfNode *tree, LfSpec *spec, LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                  const LfMpiLayout *layout, GError **error)
{
  g_autoptr (LfSpec) owned_spec = NULL;
  if (spec == NULL)
    {
      spec = owned_spec = lf_spec_new_for_reference (NULL, LF_CODEC_DEFAULT, error);
      if (spec == NULL)
        return NULL;
    }
  LfMpiPlan *plan = g_new0 (LfMpiPlan, 1);
  plan->spec = lf_spec_ref (spec);
  plan->leaves = g_array_new (FALSE, TRUE, sizeof (LfMpiLeaf));
  g_array_set_clear_func (plan->leaves, leaf_clear);
  /* The core pairs leaves with codecs exactly as a serial save does. */
  Planner p = { .layout = layout, .leaves = plan->leaves };
  if (!lf_spec_foreach_leaf (spec, tree, is_leaf, is_leaf_data, plan_leaf, &p, error))
    {
      _lf_mpi_plan_free (plan);
      return NULL;
    }
  return plan;
}

const char *
_lf_mpi_leaf_name (const LfMpiLeaf *leaf)
{
  return *leaf->path_text ? leaf->path_text : "root";
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

LfNode *
_lf_mpi_rebuild (LfNode *tree, LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                 LfNode **replacements)
{
  return lf_tree_replace_leaves (tree, is_leaf, is_leaf_data, replacements);
}
