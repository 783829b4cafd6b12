/* The one traversal of a tree's leaves.  lf_tree_foreach_leaf and its
 * family, lf_tree_replace_leaves, the save/load walker (core/save/walk.c)
 * and lf_spec_foreach_leaf all run it, so every caller agrees on what a
 * leaf is, on the order of the leaves and on their paths. */
#pragma once

#include "tree-private.h"

G_BEGIN_DECLS

typedef struct _LfTraversal LfTraversal;

/* Called once a leaf, in order, with t->path (when kept) naming it.
 * `guide` is the guide node that covers the leaf (see _lf_traverse), or
 * NULL.  When the traversal rebuilds the tree, `out` receives the leaf's
 * node in the new tree (a new reference: the leaf itself to keep it);
 * otherwise `out` is NULL.  Returns FALSE to stop the traversal. */
typedef gboolean (*LfTraversalLeafFunc) (LfTraversal *t, LfNode *leaf, const LfNode *guide,
                                         LfNode **out);

/* Called where the guide tree has a container: TRUE when `node` is a
 * container whose children pair one to one with the guide's (at least the
 * same kind and number of children), else FALSE after reporting why. */
typedef gboolean (*LfTraversalMatchFunc) (LfTraversal *t, LfNode *node, const LfNode *guide);

/* Callers embed this as the first member of their own state and cast the
 * LfTraversal * their callbacks receive back to it. */
struct _LfTraversal {
  LfIsLeafFunc is_leaf;        /* may be NULL: containers are never leaves */
  gpointer is_leaf_data;
  LfTraversalLeafFunc leaf;
  LfTraversalMatchFunc match;  /* only needed with a guide tree */
  LfPath *path;                /* the keys down to the current node; NULL:
                                * not kept, for callers that never read it */
};

/* Whether the traversal stops at `node`: an array, scalar or opaque node,
 * or any node t->is_leaf accepts (it is asked about every node). */
static inline gboolean
_lf_traversal_is_leaf (const LfTraversal *t, const LfNode *node)
{
  return (t->is_leaf != NULL && t->is_leaf (node, t->is_leaf_data))
         || !lf_node_kind_is_container (node->kind);
}

/* Visits the leaves of `tree` depth first, left to right (tuple and list
 * items by index, dict values by sorted key, struct fields in order).
 *
 * `guide` (may be NULL) is a tree walked alongside: where it has a
 * container, t->match must accept the node there and their children pair
 * up; where it has anything else, that node covers the whole subtree below
 * and is handed to t->leaf for each of its leaves.
 *
 * With `out`, also builds the tree of the nodes t->leaf returns, sharing
 * every container in which nothing changed; *out is set only on success.
 * Returns FALSE when a callback stopped the traversal. */
gboolean _lf_traverse (LfTraversal *t, LfNode *tree, const LfNode *guide, LfNode **out);

/* Pushes the key of child `i` of container `node` onto `path`: an index,
 * a dict key or a struct field. */
void _lf_path_push_child_key (LfPath *path, const LfNode *node, gsize i);

/* What a message calls a node: "list of 3", "struct Linear", "dict",
 * "array"; with `names`, dicts and structs list their keys or fields
 * ("dict with keys [a, b]", "struct Linear with fields [weight, bias]").
 * Free with g_free. */
char *_lf_node_describe (const LfNode *node, gboolean names);

G_END_DECLS
