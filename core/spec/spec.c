/* Filter specs: one codec, a spec tree, or path rules (rules.c). */
#include "config.h"
#include <string.h>
#include "spec-private.h"

/* Spec-tree leaves are opaque nodes of this type holding a codec. */
#define CODEC_LEAF_TYPE "leafio.Codec"

static LfSpec *
spec_new (LfSpecKind kind)
{
  LfSpec *spec = g_new0 (LfSpec, 1);
  g_atomic_ref_count_init (&spec->ref_count);
  spec->kind = kind;
  return spec;
}

LfSpec *
lf_spec_ref (LfSpec *spec)
{
  g_return_val_if_fail (spec != NULL, NULL);
  g_atomic_ref_count_inc (&spec->ref_count);
  return spec;
}

void
lf_spec_unref (LfSpec *spec)
{
  if (spec == NULL || !g_atomic_ref_count_dec (&spec->ref_count))
    return;
  lf_codec_unref (spec->codec);
  lf_node_unref (spec->tree);
  if (spec->rules != NULL)
    spec->rules_free (spec->rules);
  g_free (spec);
}

LfSpec *
lf_spec_new_codec (LfCodec *codec)
{
  g_return_val_if_fail (codec != NULL, NULL);
  LfSpec *spec = spec_new (LF_SPEC_CODEC);
  spec->codec = lf_codec_ref (codec);
  return spec;
}

LfSpec *
lf_spec_new_for_reference (LfRegistry *registry, const char *reference, GError **error)
{
  g_return_val_if_fail (reference != NULL, NULL);
  if (registry == NULL)
    registry = lf_registry_get_default ();
  g_autoptr (LfCodec) codec = lf_registry_resolve (registry, reference, error);
  return codec != NULL ? lf_spec_new_codec (codec) : NULL;
}

LfSpec *
_lf_spec_new_rules (LfRules *rules, LfRulesSelectFunc select, GDestroyNotify rules_free)
{
  LfSpec *spec = spec_new (LF_SPEC_RULES);
  spec->rules = rules;
  spec->rules_select = select;
  spec->rules_free = rules_free;
  return spec;
}

LfNode *
lf_spec_leaf_new (LfCodec *codec)
{
  g_return_val_if_fail (codec != NULL, NULL);
  return lf_opaque_new (CODEC_LEAF_TYPE, lf_codec_ref (codec),
                        (GDestroyNotify) lf_codec_unref);
}

LfCodec *
lf_spec_leaf_get_codec (const LfNode *node)
{
  g_return_val_if_fail (node != NULL, NULL);
  if (lf_node_get_kind (node) != LF_NODE_OPAQUE
      || strcmp (lf_opaque_get_type_name (node), CODEC_LEAF_TYPE) != 0)
    return NULL;
  return lf_opaque_get_data (node);
}

typedef struct {
  GError **error;
} CheckLeaves;

static gboolean
check_codec_leaf (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  CheckLeaves *check = user_data;
  if (lf_spec_leaf_get_codec (leaf) != NULL)
    return TRUE;
  g_autofree char *where = lf_path_to_string (path);
  g_set_error (check->error, LF_ERROR, LF_ERROR_SPEC,
               "spec tree leaf at '%s' is a %s, not a codec (use lf_spec_leaf_new)",
               where, lf_node_kind_name (lf_node_get_kind (leaf)));
  return FALSE;
}

LfSpec *
lf_spec_new_tree (LfNode *spec_tree, GError **error)
{
  g_return_val_if_fail (spec_tree != NULL, NULL);
  CheckLeaves check = { error };
  if (!lf_tree_foreach_leaf (spec_tree, NULL, NULL, check_codec_leaf, &check))
    return NULL;
  LfCodec *codec = lf_spec_leaf_get_codec (spec_tree);
  if (codec != NULL)
    return lf_spec_new_codec (codec);
  LfSpec *spec = spec_new (LF_SPEC_TREE);
  spec->tree = lf_node_ref (spec_tree);
  return spec;
}

LfCodec *
lf_spec_get_codec (const LfSpec *spec)
{
  g_return_val_if_fail (spec != NULL, NULL);
  return spec->codec;
}

LfNode *
lf_spec_get_tree (const LfSpec *spec)
{
  g_return_val_if_fail (spec != NULL, NULL);
  return spec->tree;
}
