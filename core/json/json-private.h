/* JSON text forms shared by spec-json.c, skeleton.c and manifest.c: a
 * hardened parser front end, JSON-path text for error messages, and the
 * container forms common to spec trees and skeletons.
 *
 * Container forms (both directions):
 *   null                       none
 *   [a, b]                     list
 *   {"k": v, ...}              dict (keys starting with '$' are written "$$...")
 *   {"$tuple": [a, b]}         tuple
 *   {"$struct": "MLP", "f": v} struct, fields in member order
 */
#pragma once

#include <json-glib/json-glib.h>
#include <leafio/leafio.h>

/* Deepest nesting of arrays and objects a document may have.  json-glib
 * 1.6 recurses without a limit, so deeper input would overflow the stack. */
#define LF_JSON_MAX_DEPTH 256

/* Parses `text` (`length` bytes, -1 for NUL-terminated) into a JSON tree
 * (transfer full).  Rejects, with LF_ERROR_PARSE and the line and column,
 * what json-glib 1.6 would accept or crash on: an empty document, data
 * after the root value, nesting deeper than LF_JSON_MAX_DEPTH, and
 * duplicate object members (json-glib silently keeps the last).  `what`
 * names the input in messages ("JSON spec", a file name). */
JsonNode *_lf_json_parse (const char *text, gssize length, const char *what,
                          GError **error);

/* A JSON path for messages: "$", "$.layers[1].weight", "$['a b']". */
typedef struct {
  GString *text;
} LfJsonPath;

void _lf_json_path_init (LfJsonPath *path);
void _lf_json_path_clear (LfJsonPath *path);
/* Each push returns the previous length, to give back to _lf_json_path_pop. */
gsize _lf_json_path_push_member (LfJsonPath *path, const char *name);
gsize _lf_json_path_push_index (LfJsonPath *path, guint index);
void _lf_json_path_pop (LfJsonPath *path, gsize saved_length);

/* Builds a leaf from `node` (a string, number or boolean, or an object
 * is_leaf_object accepted), or fails naming `path`. */
typedef LfNode *(*LfJsonLeafFunc) (JsonNode *node, LfJsonPath *path,
                                   gpointer user_data, GError **error);
/* TRUE when `object` is a leaf form rather than a dict. */
typedef gboolean (*LfJsonIsLeafObjectFunc) (JsonObject *object);

/* Turns a JSON tree in the container forms above into an LfNode tree,
 * calling `leaf` for every other value.  Errors (LF_ERROR_PARSE unless
 * `leaf` says otherwise) start with the JSON path. */
LfNode *_lf_json_to_tree (JsonNode *root, LfJsonIsLeafObjectFunc is_leaf_object,
                          LfJsonLeafFunc leaf, gpointer user_data, GError **error);

/* "a number", "a string", "an array", ... for "found ..." messages. */
const char *_lf_json_describe (JsonNode *node);

/* Adds the members "dtype" (a name, "float32") and "shape" (an array of
 * dims) to the object `builder` is in: how skeletons and manifests write
 * an array. */
void _lf_json_add_dtype_and_shape (JsonBuilder *builder, LfDType dtype, guint ndim,
                                   const gsize *shape);

/* A dict key or struct field as an object member name ('$' doubled). */
char *_lf_json_escape_key (const char *key);

/* skeleton.c: the skeleton of `tree` as a JSON tree (transfer full). */
JsonNode *_lf_tree_to_json_node (const LfNode *tree);
/* skeleton.c: the tree for a skeleton JSON tree; errors name the JSON path. */
LfNode *_lf_tree_from_json_node (JsonNode *root, GError **error);
