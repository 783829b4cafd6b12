/* Spec trees written in JSON: strings are codec references resolved in a
 * registry, containers use the forms of json-private.h.
 *
 *   {"layers": [{"$struct": "Linear", "weight": "float16", "bias": "npy"}],
 *    "embedding": "compressed(level=19)",
 *    "cache": null}
 *
 * A string root is a whole-tree spec (one codec for every leaf). */
#include "config.h"
#include "json-private.h"
#include "spec-private.h"

static LfNode *
codec_leaf (JsonNode *node, LfJsonPath *path, gpointer user_data, GError **error)
{
  LfRegistry *registry = user_data;
  if (json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE,
                   "%s: expected a codec reference (a string), a list, an object or "
                   "null, found %s", path->text->str, _lf_json_describe (node));
      return NULL;
    }
  g_autoptr (LfCodec) codec = lf_registry_resolve (registry, json_node_get_string (node),
                                                   error);
  if (codec == NULL)
    {
      g_prefix_error (error, "%s: ", path->text->str);
      return NULL;
    }
  return lf_spec_leaf_new (codec);
}

LfSpec *
lf_spec_parse_json (LfRegistry *registry, const char *text, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (registry == NULL)
    registry = lf_registry_get_default ();

  g_autoptr (JsonNode) root = _lf_json_parse (text, -1, "JSON spec", error);
  if (root == NULL)
    return NULL;

  /* A lone reference needs no tree: it applies to every leaf. */
  if (JSON_NODE_HOLDS_VALUE (root) && json_node_get_value_type (root) == G_TYPE_STRING)
    {
      g_autoptr (LfCodec) codec = lf_registry_resolve (registry,
                                                       json_node_get_string (root), error);
      if (codec == NULL)
        {
          g_prefix_error (error, "JSON spec: $: ");
          return NULL;
        }
      return lf_spec_new_codec (codec);
    }

  g_autoptr (LfNode) tree = _lf_json_to_tree (root, NULL, codec_leaf, registry, error);
  if (tree == NULL)
    {
      g_prefix_error (error, "JSON spec: ");
      return NULL;
    }
  return lf_spec_new_tree (tree, error);
}

LfSpec *
lf_spec_parse (LfRegistry *registry, const char *text, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  const char *start = text;
  while (g_ascii_isspace (*start))
    start++;
  /* The first character of every JSON form a spec tree takes; a codec
   * reference starts with its name. */
  if (*start == '{' || *start == '[' || *start == '"')
    return lf_spec_parse_json (registry, text, error);
  return lf_spec_new_for_reference (registry, text, error);
}
