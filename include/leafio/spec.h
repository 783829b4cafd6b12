/* leafio: filter specs, which codec handles each leaf.
 *
 * A spec is one of:
 *   - one codec, applied to every leaf;
 *   - a spec tree: containers that match the data tree's top levels exactly
 *     (same kind, same length, keys or fields) with codec leaves
 *     (lf_spec_leaf_new); each codec is mapped over the data subtree in its
 *     place.  A spec tree that is not a prefix of the data fails with
 *     LF_ERROR_SPEC naming the first path where they part;
 *   - path rules: ordered `PATTERN = CODEC` lines, glob patterns over each
 *     leaf's keystr path, first match wins, the default codec otherwise.
 *
 * Specs are immutable and ref-counted.  A NULL spec wherever one is taken
 * means the `npy` codec of the default registry.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>
#include <leafio/tree.h>

G_BEGIN_DECLS

LF_API LfSpec *lf_spec_ref (LfSpec *spec);
LF_API void lf_spec_unref (LfSpec *spec);   /* NULL is allowed */

/* One codec for every leaf (a reference is taken). */
LF_API LfSpec *lf_spec_new_codec (LfCodec *codec);
/* A codec reference resolved in `registry` (NULL: the default one). */
LF_API LfSpec *lf_spec_new_for_reference (LfRegistry *registry, const char *reference,
                                          GError **error);
/* A spec tree: containers whose leaves are lf_spec_leaf_new() nodes.  Any
 * other leaf fails with LF_ERROR_SPEC naming its path. */
LF_API LfSpec *lf_spec_new_tree (LfNode *spec_tree, GError **error);
/* A leaf of a spec tree holding `codec` (a reference is taken). */
LF_API LfNode *lf_spec_leaf_new (LfCodec *codec);
/* The codec of a spec-tree leaf, or NULL when `node` is not one. */
LF_API LfCodec *lf_spec_leaf_get_codec (const LfNode *node);

/* The codec for a whole-tree spec, or NULL for spec trees and rules. */
LF_API LfCodec *lf_spec_get_codec (const LfSpec *spec);
/* The spec tree, or NULL for the other kinds (transfer none). */
LF_API LfNode *lf_spec_get_tree (const LfSpec *spec);

/* Called once a leaf, in the order records are written, with the codec the
 * spec gives it (transfer none).  Return FALSE with `error` set to stop. */
typedef gboolean (*LfSpecLeafFunc) (const LfPath *path, LfNode *leaf, LfCodec *codec,
                                    gpointer user_data, GError **error);
/* Pairs each leaf of `tree` with its codec exactly as saving and loading
 * do (spec NULL: npy), for tools that write records themselves (the MPI
 * library, a planner).  LF_ERROR_SPEC when a spec tree is not a prefix of
 * `tree`, or the callback's error. */
LF_API gboolean lf_spec_foreach_leaf (LfSpec *spec, LfNode *tree, LfIsLeafFunc is_leaf,
                                      gpointer is_leaf_data, LfSpecLeafFunc func,
                                      gpointer user_data, GError **error);

/* ---- text forms --------------------------------------------------------- */

/* JSON spec trees: a string is a codec reference ("npy",
 * "compressed(level=9)"), an array a list, an object a dict; tuples are
 * {"$tuple": [...]}, structs {"$struct": "MLP", "field": ..., ...} with
 * fields in the object's order; null is none.  LF_ERROR_PARSE for bad JSON
 * (line and column), LF_ERROR_UNKNOWN_CODEC listing the registered names. */
LF_API LfSpec *lf_spec_parse_json (LfRegistry *registry, const char *text,
                                   GError **error);

/* Path rules: one `PATTERN = CODEC` a line, `#` comments and blank lines
 * ignored.  Patterns are GLib globs over the keystr path (`*` and `?`
 * match any characters, brackets are literal).  Leaves no rule matches
 * use `default_reference` (NULL: "npy").  Errors name the line. */
LF_API LfSpec *lf_spec_parse_rules (LfRegistry *registry, const char *text,
                                    const char *default_reference, GError **error);
LF_API LfSpec *lf_spec_load_rules_file (LfRegistry *registry, const char *filename,
                                        const char *default_reference, GError **error);
/* Strict mode for rules: fails with LF_ERROR_SPEC listing every rule (by
 * line) that matches no leaf of `tree`.  TRUE for the other spec kinds. */
LF_API gboolean lf_spec_check_rules_used (LfSpec *spec, LfNode *tree,
                                          LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                                          GError **error);

/* ---- tree skeletons in JSON ---------------------------------------------- */

/* A tree's skeleton: the spec-tree JSON forms for containers, arrays as
 * {"dtype": "float32", "shape": [768, 2304]}, scalars as
 * {"scalar": "int64", "value": 3}, opaque leaves as {"opaque": "type"}.
 * from_json builds abstract arrays, scalars and opaque placeholders;
 * to_json(from_json(x)) is stable.  Errors name the JSON path. */
LF_API LfNode *lf_tree_from_json (const char *text, GError **error);
LF_API LfNode *lf_tree_from_json_file (const char *filename, GError **error);
/* Free with g_free.  `pretty` indents. */
LF_API char *lf_tree_to_json (const LfNode *tree, gboolean pretty);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfSpec, lf_spec_unref)

G_END_DECLS
