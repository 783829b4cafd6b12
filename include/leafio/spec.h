/**
 * SECTION:spec
 * @title: Filter specs
 * @short_description: which codec handles each leaf, and tree skeletons
 *
 * A spec is one of:
 *
 * - one codec, applied to every leaf;
 * - a spec tree: containers that match the data tree's top levels exactly
 *   (same kind, same length, keys or fields) with codec leaves
 *   (lf_spec_leaf_new()); each codec is mapped over the data subtree in
 *   its place.  A spec tree that is not a prefix of the data fails with
 *   %LF_ERROR_SPEC naming the first path where they part;
 * - path rules: ordered `PATTERN = CODEC` lines, glob patterns over each
 *   leaf's keystr path, first match wins, the default codec otherwise.
 *
 * Specs are immutable and ref-counted.  A %NULL spec wherever one is taken
 * means the %LF_CODEC_DEFAULT codec of the default registry.
 *
 * Tree skeletons: a tree's structure, dtypes and shapes in JSON, which
 * tools use as `like` for files they did not write.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>
#include <leafio/tree.h>

G_BEGIN_DECLS

/**
 * lf_spec_ref:
 * @spec: a spec
 *
 * Adds a reference.
 *
 * Returns: (transfer full): @spec, with a reference added.
 *
 * Since: 0.1
 */
LF_API LfSpec *lf_spec_ref (LfSpec *spec);
/**
 * lf_spec_unref:
 * @spec: (nullable) (transfer full): a spec
 *
 * Drops a reference.
 *
 * Since: 0.1
 */
LF_API void lf_spec_unref (LfSpec *spec);

/**
 * lf_spec_new_codec:
 * @codec: (transfer none): the codec; a reference is taken
 *
 * Makes a spec of one codec.
 *
 * Returns: (transfer full): a spec that gives every leaf @codec.
 *
 * Since: 0.1
 */
LF_API LfSpec *lf_spec_new_codec (LfCodec *codec);
/**
 * lf_spec_new_for_reference:
 * @registry: (nullable): where to resolve; %NULL: the default registry
 * @reference: a codec reference ("compressed(level=9)")
 * @error: return location for a #GError, or %NULL
 *
 * Makes a spec of one codec, from its reference.
 *
 * Returns: (transfer full) (nullable): a spec that gives every leaf the
 *   codec @reference names, or %NULL with the errors of
 *   lf_registry_resolve().
 *
 * Since: 0.1
 */
LF_API LfSpec *lf_spec_new_for_reference (LfRegistry *registry, const char *reference,
                                          GError **error);
/**
 * lf_spec_new_tree:
 * @spec_tree: (transfer none): containers whose leaves are
 *   lf_spec_leaf_new() nodes
 * @error: return location for a #GError, or %NULL
 *
 * Makes a spec from a spec tree.
 *
 * Returns: (transfer full) (nullable): a spec tree, or %NULL with
 *   %LF_ERROR_SPEC naming the path of a leaf that holds no codec.
 *
 * Since: 0.1
 */
LF_API LfSpec *lf_spec_new_tree (LfNode *spec_tree, GError **error);
/**
 * lf_spec_leaf_new:
 * @codec: (transfer none): the codec; a reference is taken
 *
 * Makes a leaf of a spec tree.
 *
 * Returns: (transfer full): a leaf of a spec tree holding @codec.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_spec_leaf_new (LfCodec *codec);
/**
 * lf_spec_leaf_get_codec:
 * @node: a node
 *
 * The codec a spec-tree leaf holds.
 *
 * Returns: (transfer none) (nullable): the codec of a spec-tree leaf, or
 *   %NULL when @node is not one.
 *
 * Since: 0.1
 */
LF_API LfCodec *lf_spec_leaf_get_codec (const LfNode *node);

/**
 * lf_spec_get_codec:
 * @spec: a spec
 *
 * The codec of a spec that gives every leaf one codec.
 *
 * Returns: (transfer none) (nullable): the codec of a whole-tree spec, or
 *   %NULL for spec trees and rules.
 *
 * Since: 0.1
 */
LF_API LfCodec *lf_spec_get_codec (const LfSpec *spec);
/**
 * lf_spec_get_tree:
 * @spec: a spec
 *
 * The tree of a spec tree.
 *
 * Returns: (transfer none) (nullable): the spec tree, or %NULL for the
 *   other kinds.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_spec_get_tree (const LfSpec *spec);

/**
 * LfSpecLeafFunc:
 * @path: the leaf's path, valid only during the call
 * @leaf: (transfer none): the leaf
 * @codec: (transfer none): the codec the spec gives it
 * @user_data: the data given to lf_spec_foreach_leaf()
 * @error: return location for a #GError, or %NULL
 *
 * Called once a leaf, in the order records are written.
 *
 * Returns: %TRUE to go on, %FALSE with @error set to stop.
 *
 * Since: 0.1
 */
typedef gboolean (*LfSpecLeafFunc) (const LfPath *path, LfNode *leaf, LfCodec *codec,
                                    gpointer user_data, GError **error);
/**
 * lf_spec_foreach_leaf:
 * @spec: (nullable): a spec; %NULL: the default codec
 * @tree: a tree
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 * @func: called once a leaf
 * @user_data: for @func
 * @error: return location for a #GError, or %NULL
 *
 * Pairs each leaf of @tree with its codec exactly as saving and loading
 * do, for tools that write records themselves (the MPI library, a
 * planner).
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_SPEC when a spec tree is not a
 *   prefix of @tree, or with the callback's error.
 *
 * Since: 0.1
 */
LF_API gboolean lf_spec_foreach_leaf (LfSpec *spec, LfNode *tree, LfIsLeafFunc is_leaf,
                                      gpointer is_leaf_data, LfSpecLeafFunc func,
                                      gpointer user_data, GError **error);

/* ---- text forms --------------------------------------------------------- */

/**
 * lf_spec_parse_json:
 * @registry: (nullable): where to resolve codecs; %NULL: the default
 *   registry
 * @text: the JSON text
 * @error: return location for a #GError, or %NULL
 *
 * Parses a spec tree in JSON: a string is a codec reference ("npy",
 * "compressed(level=9)"), an array a list, an object a dict; tuples are
 * `{"$tuple": [...]}`, structs `{"$struct": "MLP", "field": ..., ...}`
 * with fields in the object's order; null is none.
 *
 * Returns: (transfer full) (nullable): the spec, or %NULL with
 *   %LF_ERROR_PARSE for bad JSON (line and column), %LF_ERROR_UNKNOWN_CODEC
 *   listing the registered names, or the other errors of
 *   lf_registry_resolve().
 *
 * Since: 0.1
 */
LF_API LfSpec *lf_spec_parse_json (LfRegistry *registry, const char *text,
                                   GError **error);

/**
 * lf_spec_parse:
 * @registry: (nullable): where to resolve codecs; %NULL: the default
 *   registry
 * @text: a codec reference ("float16", "compressed(level=9)") or a JSON
 *   spec tree (an object, an array or a quoted reference)
 * @error: return location for a #GError, or %NULL
 *
 * Parses a spec as people write it in an option or a setting: text that
 * starts (after white space) with `{`, `[` or `"` is JSON, as
 * lf_spec_parse_json() reads it; any other text is one codec reference
 * for every leaf, as lf_spec_new_for_reference() reads it.  A reference
 * never starts with those characters.
 *
 * Returns: (transfer full) (nullable): the spec, or %NULL with the errors
 *   of lf_spec_parse_json() or lf_spec_new_for_reference().
 *
 * Since: 0.2
 */
LF_API LfSpec *lf_spec_parse (LfRegistry *registry, const char *text, GError **error);

/**
 * lf_spec_parse_rules:
 * @registry: (nullable): where to resolve codecs; %NULL: the default
 *   registry
 * @text: the rules
 * @default_reference: (nullable): the codec of leaves no rule matches;
 *   %NULL: %LF_CODEC_DEFAULT
 * @error: return location for a #GError, or %NULL
 *
 * Parses path rules: one `PATTERN = CODEC` a line, `#` comments and blank
 * lines ignored.  Patterns are GLib globs over the keystr path (`*` and
 * `?` match any characters, brackets are literal).
 *
 * Returns: (transfer full) (nullable): the spec, or %NULL with
 *   %LF_ERROR_PARSE or a codec's resolution error, naming the line.
 *
 * Since: 0.1
 */
LF_API LfSpec *lf_spec_parse_rules (LfRegistry *registry, const char *text,
                                    const char *default_reference, GError **error);
/**
 * lf_spec_load_rules_file:
 * @registry: (nullable): where to resolve codecs; %NULL: the default
 *   registry
 * @filename: a file of rules
 * @default_reference: (nullable): as for lf_spec_parse_rules()
 * @error: return location for a #GError, or %NULL
 *
 * lf_spec_parse_rules() on a file's contents.
 *
 * Returns: (transfer full) (nullable): the spec, or %NULL with
 *   %LF_ERROR_IO or the errors of lf_spec_parse_rules(), naming the file.
 *
 * Since: 0.1
 */
LF_API LfSpec *lf_spec_load_rules_file (LfRegistry *registry, const char *filename,
                                        const char *default_reference, GError **error);
/**
 * lf_spec_check_rules_used:
 * @spec: (nullable): a spec
 * @tree: a tree
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 * @error: return location for a #GError, or %NULL
 *
 * Strict mode for rules: every rule must match a leaf of @tree.
 *
 * Returns: %TRUE, also for the other spec kinds; %FALSE with
 *   %LF_ERROR_SPEC listing every rule (by line) that matches no leaf.
 *
 * Since: 0.1
 */
LF_API gboolean lf_spec_check_rules_used (LfSpec *spec, LfNode *tree,
                                          LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                          GError **error);

/* ---- tree skeletons in JSON ---------------------------------------------- */

/**
 * lf_tree_from_json:
 * @text: a skeleton in JSON
 * @error: return location for a #GError, or %NULL
 *
 * Builds a tree from its skeleton: the spec-tree JSON forms for
 * containers, arrays as `{"dtype": "float32", "shape": [768, 2304]}`,
 * scalars as `{"scalar": "int64", "value": 3}`, opaque leaves as
 * `{"opaque": "type"}`.  Arrays are abstract, opaque leaves placeholders.
 *
 * Returns: (transfer full) (nullable): the tree, or %NULL with
 *   %LF_ERROR_PARSE naming the JSON path.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_tree_from_json (const char *text, GError **error);
/**
 * lf_tree_from_json_file:
 * @filename: a file holding a skeleton
 * @error: return location for a #GError, or %NULL
 *
 * lf_tree_from_json() on a file's contents.
 *
 * Returns: (transfer full) (nullable): the tree, or %NULL with
 *   %LF_ERROR_IO or the errors of lf_tree_from_json().
 *
 * Since: 0.1
 */
LF_API LfNode *lf_tree_from_json_file (const char *filename, GError **error);
/**
 * lf_tree_to_json:
 * @tree: a tree
 * @pretty: whether to indent
 *
 * The skeleton of @tree (see lf_tree_from_json());
 * lf_tree_to_json (lf_tree_from_json (x)) is stable.
 *
 * Returns: (transfer full): the JSON text.  Free with g_free().
 *
 * Since: 0.1
 */
LF_API char *lf_tree_to_json (const LfNode *tree, gboolean pretty);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfSpec, lf_spec_unref)

G_END_DECLS
