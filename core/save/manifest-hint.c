/* The hint a failed load gets from the manifest beside its file: a record
 * that does not fit `like` was often written with another codec than the
 * spec of the load names (a float16 copy loaded as npy), and the manifest
 * says which.  Only the error path reads it, so loads pay nothing. */
#include "config.h"

#include "json-private.h"
#include "manifest-private.h"
#include "side-file-private.h"

/* The entry of the `record_index`-th record (entries without a record are
 * not counted), or NULL. */
static JsonObject *
find_record_entry (JsonNode *root, guint record_index)
{
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  JsonNode *leaves = json_object_get_member (json_node_get_object (root), "leaves");
  if (leaves == NULL || !JSON_NODE_HOLDS_ARRAY (leaves))
    return NULL;
  JsonArray *entries = json_node_get_array (leaves);
  guint n_records = 0;
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonNode *node = json_array_get_element (entries, i);
      if (!JSON_NODE_HOLDS_OBJECT (node))
        return NULL;
      JsonObject *entry = json_node_get_object (node);
      JsonNode *record = json_object_get_member (entry, "record");
      if (record == NULL || !JSON_NODE_HOLDS_OBJECT (record))
        continue;
      if (n_records++ == record_index)
        return entry;
    }
  return NULL;
}

void
_lf_manifest_add_codec_hint (const char *eqx_path, guint record_index, GError **error)
{
  if (error == NULL || *error == NULL || !g_error_matches (*error, LF_ERROR, LF_ERROR_MISMATCH))
    return;
  g_autofree char *data_path = _lf_manifest_data_path (eqx_path);
  g_autofree char *manifest_path = _lf_manifest_path (data_path);
  gsize length;
  struct stat st;
  /* Any trouble reading the manifest leaves the error as it is: the hint
   * is a courtesy, the load has already failed for its own reason. */
  g_autofree char *text = _lf_read_side_file_stat (manifest_path, LF_SIDE_FILE_MAX, &length,
                                                   &st, NULL, NULL);
  if (text == NULL)
    return;
  g_autoptr (JsonNode) root = _lf_json_parse (text, (gssize) length, manifest_path, NULL);
  JsonObject *entry = root != NULL ? find_record_entry (root, record_index) : NULL;
  JsonNode *codec = entry != NULL ? json_object_get_member (entry, "codec") : NULL;
  if (codec == NULL || !JSON_NODE_HOLDS_VALUE (codec)
      || json_node_get_value_type (codec) != G_TYPE_STRING)
    return;
  char *message = g_strdup_printf ("%s (%s says this leaf was written with %s: load it "
                                   "with that spec)", (*error)->message,
                                   manifest_path, json_node_get_string (codec));
  g_free ((*error)->message);
  (*error)->message = message;
}
