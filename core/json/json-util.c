/* The JSON front end shared by spec trees, skeletons and manifests: a
 * hardened parse, JSON-path text for messages, and the container forms. */
#include "config.h"
#include <string.h>
#include "json-private.h"

/* ---- parsing ------------------------------------------------------------ */

static void
set_position_error (GError **error, const char *what, const char *text,
                    gsize offset, const char *message)
{
  guint line = 1;
  gsize line_start = 0;
  for (gsize i = 0; i < offset; i++)
    if (text[i] == '\n')
      {
        line++;
        line_start = i + 1;
      }
  g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: line %u, column %u: %s", what,
               line, (guint) (offset - line_start + 1), message);
}

/* json-glib 1.6 recurses once per nesting level with no limit, stops after
 * the root value without looking at what follows, and takes escapes JSON
 * does not have (its scanner reads "\3" as an octal byte, which can make a
 * string that is not UTF-8).  This scan runs first and refuses all three,
 * leaving everything else to json-glib.
 *
 * Its depth count is only right if it reads the text as json-glib's
 * scanner does, and that scanner also skips C comments: a comment holding
 * a double quote, followed by 100000 brackets, hid the brackets inside
 * what this scan took for a string, and json-glib's recursion overflowed
 * the stack.  JSON has no
 * comments (Python's json module refuses them too), so outside strings
 * only JSON's own characters are allowed: a comment is refused wherever it
 * is, and what remains (strings, numbers, literals, brackets) is read the
 * same way by both. */
/* Whether the `left` bytes at `p`, just after a backslash, start one of
 * JSON's escapes. */
static gboolean
valid_escape (const char *p, gsize left)
{
  if (left > 0 && strchr ("\"\\/bfnrt", *p) != NULL && *p != '\0')
    return TRUE;
  if (left < 5 || *p != 'u')
    return FALSE;
  for (int k = 1; k <= 4; k++)
    if (!g_ascii_isxdigit (p[k]))
      return FALSE;
  return TRUE;
}

/* The characters JSON has outside strings (and the single quote, which
 * json-glib takes as a string delimiter and the scan skips like one). */
static gboolean
is_json_character (char c)
{
  return g_ascii_isalnum (c) || strchr ("[]{},:\"'+-.", c) != NULL;
}

/* Moves `*i` from the opening quote of a string to its closing quote,
 * refusing the escapes json-glib would misread. */
static gboolean
skip_string (const char *text, gsize length, gsize *i, const char *what, GError **error)
{
  char quote = text[*i];
  /* json-glib's scanner treats backslashes as escapes only in
   * double-quoted strings. */
  for ((*i)++; *i < length && text[*i] != quote; (*i)++)
    if (quote == '"' && text[*i] == '\\' && *i + 1 < length)
      {
        const char *escape = text + *i + 1;
        gsize left = length - *i - 1;
        if (left > 4 && strncmp (escape, "u0000", 5) == 0)
          {
            set_position_error (error, what, text, *i,
                                "a \\u0000 escape (names and strings cannot hold "
                                "NUL characters)");
            return FALSE;
          }
        if (!valid_escape (escape, left))
          {
            set_position_error (error, what, text, *i,
                                "an escape JSON does not have (it has \\\", \\\\, "
                                "\\/, \\b, \\f, \\n, \\r, \\t and \\u with four "
                                "hex digits)");
            return FALSE;
          }
        (*i)++;
      }
  return TRUE;
}

/* Also counts the colons outside strings in `*colons`: one a member in
 * any text json-glib reads, so at least as many as the parsed objects'
 * members (see _lf_json_parse). */
static gboolean
prescan (const char *text, gsize length, const char *what, gsize *colons, GError **error)
{
  guint depth = 0;
  *colons = 0;
  gboolean seen_root = FALSE;  /* the root value has started */
  gboolean root_done = FALSE;  /* ... and ended */

  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];
      if (g_ascii_isspace (c))
        {
          if (depth == 0 && seen_root)
            root_done = TRUE;
          continue;
        }
      if (root_done
          || (depth == 0 && seen_root && strchr ("[{]}\"'", c) != NULL))
        {
          set_position_error (error, what, text, i, "unexpected data after the JSON value");
          return FALSE;
        }
      if (!is_json_character (c) || c == '\0')
        {
          set_position_error (error, what, text, i,
                              c == '/' || c == '#'
                              ? "a comment (JSON has none)"
                              : "a character JSON does not have outside strings");
          return FALSE;
        }
      seen_root = TRUE;
      switch (c)
        {
        case '"':
        case '\'':
          if (!skip_string (text, length, &i, what, error))
            return FALSE;
          if (depth == 0)
            root_done = TRUE;
          break;
        case '[':
        case '{':
          if (++depth > LF_JSON_MAX_DEPTH)
            {
              g_autofree char *message = g_strdup_printf ("nesting deeper than %d levels",
                                                          LF_JSON_MAX_DEPTH);
              set_position_error (error, what, text, i, message);
              return FALSE;
            }
          break;
        case ']':
        case '}':
          if (depth > 0 && --depth == 0)
            root_done = TRUE;
          break;
        case ':':
          (*colons)++;
          break;
        default:
          break;
        }
    }
  return TRUE;
}

typedef struct {
  GHashTable *member_counts;  /* JsonObject * -> members seen */
  GError *duplicate;          /* the first duplicate member */
  const char *what;
} ParseState;

static void
on_object_member (JsonParser *parser, JsonObject *object, const char *name,
                  gpointer user_data)
{
  ParseState *state = user_data;
  guint seen = GPOINTER_TO_UINT (g_hash_table_lookup (state->member_counts, object)) + 1;
  g_hash_table_insert (state->member_counts, object, GUINT_TO_POINTER (seen));
  if (seen > json_object_get_size (object) && state->duplicate == NULL)
    g_set_error (&state->duplicate, LF_ERROR, LF_ERROR_PARSE,
                 "%s: line %u, column %u: duplicate member \"%s\"", state->what,
                 json_parser_get_current_line (parser),
                 json_parser_get_current_pos (parser), name);
}

/* json-glib says "<data>:2:3: Parse error: unexpected ..."; we say
 * "WHAT: line 2, column 3: unexpected ...". */
static void
set_json_glib_error (GError **error, const char *what, const GError *json_error)
{
  unsigned line, column;
  int consumed = 0;
  /* json-glib quotes the input it stopped at, which need not be UTF-8. */
  g_autofree char *message = g_utf8_make_valid (json_error->message, -1);
  if (sscanf (message, "<data>:%u:%u: Parse error: %n", &line, &column, &consumed) == 2
      && consumed > 0)
    g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: line %u, column %u: %s", what,
                 line, column, message + consumed);
  else
    g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: %s", what, message);
}

/* Whether every member name and string in `node` is UTF-8 (json-glib lets
 * a lone \uD800 surrogate through); adds its objects' members to
 * `*members`.  The depth is bounded by prescan. */
static gboolean
strings_are_utf8 (JsonNode *node, gsize *members)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;
        json_object_iter_init (&iter, json_node_get_object (node));
        while (json_object_iter_next (&iter, &name, &member))
          {
            (*members)++;
            if (!g_utf8_validate (name, -1, NULL) || !strings_are_utf8 (member, members))
              return FALSE;
          }
        return TRUE;
      }
    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);
        for (guint i = 0; i < json_array_get_length (array); i++)
          if (!strings_are_utf8 (json_array_get_element (array, i), members))
            return FALSE;
        return TRUE;
      }
    case JSON_NODE_VALUE:
      return json_node_get_value_type (node) != G_TYPE_STRING
             || g_utf8_validate (json_node_get_string (node), -1, NULL);
    default:
      return TRUE;
    }
}

/* Parses with json-glib; with `find_duplicate`, also watches each member
 * go in (a signal a member: a third of the parse) for the first name an
 * object already had. */
static JsonNode *
parse_text (const char *text, gsize size, const char *what, gboolean find_duplicate,
            GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  ParseState state = { g_hash_table_new (NULL, NULL), NULL, what };
  if (find_duplicate)
    g_signal_connect (parser, "object-member", G_CALLBACK (on_object_member), &state);
  g_autoptr (GError) json_error = NULL;
  gboolean ok = json_parser_load_from_data (parser, text, (gssize) size, &json_error);
  g_hash_table_destroy (state.member_counts);

  if (!ok)
    {
      g_clear_error (&state.duplicate);
      set_json_glib_error (error, what, json_error);
      return NULL;
    }
  if (state.duplicate != NULL)
    {
      g_propagate_error (error, state.duplicate);
      return NULL;
    }
  JsonNode *root = json_parser_steal_root (parser);
  if (root == NULL)
    g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: empty document", what);
  return root;
}

JsonNode *
_lf_json_parse (const char *text, gssize length, const char *what, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (what != NULL, NULL);

  gsize size = length < 0 ? strlen (text) : (gsize) length;
  gsize colons;
  if (!prescan (text, size, what, &colons, error))
    return NULL;
  JsonNode *root = parse_text (text, size, what, FALSE, error);
  gsize members = 0;
  if (root == NULL || (strings_are_utf8 (root, &members) && members == colons))
    return root;
  /* An object keeps one member a name, so fewer members than colons means
   * a name came twice: parsed again, watching for it, to name it and where
   * it is (before a string that is not UTF-8, as the first parse would). */
  json_node_unref (root);
  root = parse_text (text, size, what, TRUE, error);
  if (root != NULL && !strings_are_utf8 (root, &members))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE,
                   "%s: a string is not valid UTF-8 once its escapes are read", what);
      g_clear_pointer (&root, json_node_unref);
    }
  return root;
}

/* ---- JSON paths --------------------------------------------------------- */

void
_lf_json_path_init (LfJsonPath *path)
{
  path->text = g_string_new ("$");
}

void
_lf_json_path_clear (LfJsonPath *path)
{
  if (path->text != NULL)
    g_string_free (path->text, TRUE);
  path->text = NULL;
}

static gboolean
is_identifier (const char *name)
{
  if (*name == '\0' || g_ascii_isdigit (*name))
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '$')
      return FALSE;
  return TRUE;
}

gsize
_lf_json_path_push_member (LfJsonPath *path, const char *name)
{
  gsize saved = path->text->len;
  if (is_identifier (name))
    {
      g_string_append_c (path->text, '.');
      g_string_append (path->text, name);
      return saved;
    }
  g_string_append (path->text, "['");
  for (const char *p = name; *p != '\0'; p++)
    {
      if (*p == '\'' || *p == '\\')
        g_string_append_c (path->text, '\\');
      g_string_append_c (path->text, *p);
    }
  g_string_append (path->text, "']");
  return saved;
}

gsize
_lf_json_path_push_index (LfJsonPath *path, guint index)
{
  gsize saved = path->text->len;
  g_string_append_printf (path->text, "[%u]", index);
  return saved;
}

void
_lf_json_path_pop (LfJsonPath *path, gsize saved_length)
{
  g_string_truncate (path->text, saved_length);
}

/* ---- container forms ------------------------------------------------------ */

const char *
_lf_json_describe (JsonNode *node)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      return "an object";
    case JSON_NODE_ARRAY:
      return "an array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_VALUE:
    default:
      break;
    }
  GType type = json_node_get_value_type (node);
  if (type == G_TYPE_STRING)
    return "a string";
  if (type == G_TYPE_BOOLEAN)
    return "a boolean";
  return "a number";
}

char *
_lf_json_escape_key (const char *key)
{
  return key[0] == '$' ? g_strconcat ("$", key, NULL) : g_strdup (key);
}

typedef struct {
  LfJsonIsLeafObjectFunc is_leaf_object;
  LfJsonLeafFunc leaf;
  gpointer user_data;
  LfJsonPath path;
} Converter;

static LfNode *convert (Converter *conv, JsonNode *node, GError **error);

static void
set_path_error (Converter *conv, GError **error, const char *format, ...) G_GNUC_PRINTF (3, 4);

static void
set_path_error (Converter *conv, GError **error, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: %s", conv->path.text->str, message);
}

/* Converts the items of `array` into `items` (which owns them). */
static gboolean
convert_items (Converter *conv, JsonArray *array, GPtrArray *items, GError **error)
{
  guint n = json_array_get_length (array);
  for (guint i = 0; i < n; i++)
    {
      gsize saved = _lf_json_path_push_index (&conv->path, i);
      LfNode *item = convert (conv, json_array_get_element (array, i), error);
      if (item == NULL)
        return FALSE;
      g_ptr_array_add (items, item);
      _lf_json_path_pop (&conv->path, saved);
    }
  return TRUE;
}

static LfNode *
convert_tuple (Converter *conv, JsonObject *object, GError **error)
{
  if (json_object_get_size (object) != 1)
    {
      set_path_error (conv, error, "a \"$tuple\" object has no other members");
      return NULL;
    }
  gsize saved = _lf_json_path_push_member (&conv->path, "$tuple");
  JsonNode *items_node = json_object_get_member (object, "$tuple");
  if (!JSON_NODE_HOLDS_ARRAY (items_node))
    {
      set_path_error (conv, error, "expected an array of tuple items, found %s",
                      _lf_json_describe (items_node));
      return NULL;
    }
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  if (!convert_items (conv, json_node_get_array (items_node), items, error))
    return NULL;
  _lf_json_path_pop (&conv->path, saved);
  return lf_tuple_new (items->len, (LfNode *const *) items->pdata);
}

/* The dict key or field name an object member stands for, or NULL with an
 * error for an unknown '$' directive. */
static const char *
member_key (Converter *conv, const char *member, GError **error)
{
  if (member[0] != '$')
    return member;
  if (member[1] == '$')
    return member + 1;
  gsize saved = _lf_json_path_push_member (&conv->path, member);
  set_path_error (conv, error,
                  "unknown directive \"%s\" (known: \"$tuple\", \"$struct\"; "
                  "write a key that starts with '$' as \"$%s\")", member, member);
  _lf_json_path_pop (&conv->path, saved);
  return NULL;
}

/* A dict (type_name NULL) or a struct from the members of `object`. */
static LfNode *
convert_mapping (Converter *conv, JsonObject *object, const char *type_name,
                 GError **error)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  g_autoptr (GList) members = json_object_get_members (object);

  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *member = l->data;
      if (type_name != NULL && strcmp (member, "$struct") == 0)
        continue;
      const char *key = member_key (conv, member, error);
      if (key == NULL)
        return NULL;
      gsize saved = _lf_json_path_push_member (&conv->path, member);
      if (type_name != NULL && *key == '\0')
        {
          set_path_error (conv, error, "a struct field needs a name");
          return NULL;
        }
      LfNode *value = convert (conv, json_object_get_member (object, member), error);
      if (value == NULL)
        return NULL;
      g_ptr_array_add (keys, (gpointer) key);
      g_ptr_array_add (values, value);
      _lf_json_path_pop (&conv->path, saved);
    }
  if (type_name == NULL)
    return lf_dict_new (keys->len, (const char *const *) keys->pdata,
                        (LfNode *const *) values->pdata);
  return lf_struct_new (type_name, keys->len, (const char *const *) keys->pdata,
                        (LfNode *const *) values->pdata);
}

static LfNode *
convert_object (Converter *conv, JsonNode *node, GError **error)
{
  JsonObject *object = json_node_get_object (node);
  if (json_object_has_member (object, "$tuple"))
    return convert_tuple (conv, object, error);
  if (json_object_has_member (object, "$struct"))
    {
      JsonNode *name = json_object_get_member (object, "$struct");
      const char *type_name = JSON_NODE_HOLDS_VALUE (name)
                              && json_node_get_value_type (name) == G_TYPE_STRING
                              ? json_node_get_string (name) : NULL;
      if (type_name == NULL || *type_name == '\0')
        {
          gsize saved = _lf_json_path_push_member (&conv->path, "$struct");
          set_path_error (conv, error, "expected the struct's type name, found %s",
                          type_name == NULL ? _lf_json_describe (name) : "\"\"");
          _lf_json_path_pop (&conv->path, saved);
          return NULL;
        }
      return convert_mapping (conv, object, type_name, error);
    }
  if (conv->is_leaf_object != NULL && conv->is_leaf_object (object))
    return conv->leaf (node, &conv->path, conv->user_data, error);
  return convert_mapping (conv, object, NULL, error);
}

static LfNode *
convert (Converter *conv, JsonNode *node, GError **error)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_NULL:
      return lf_none_new ();
    case JSON_NODE_ARRAY:
      {
        g_autoptr (GPtrArray) items
          = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
        if (!convert_items (conv, json_node_get_array (node), items, error))
          return NULL;
        return lf_list_new (items->len, (LfNode *const *) items->pdata);
      }
    case JSON_NODE_OBJECT:
      return convert_object (conv, node, error);
    case JSON_NODE_VALUE:
    default:
      return conv->leaf (node, &conv->path, conv->user_data, error);
    }
}

LfNode *
_lf_json_to_tree (JsonNode *root, LfJsonIsLeafObjectFunc is_leaf_object,
                  LfJsonLeafFunc leaf, gpointer user_data, GError **error)
{
  g_return_val_if_fail (root != NULL, NULL);
  g_return_val_if_fail (leaf != NULL, NULL);

  Converter conv = { is_leaf_object, leaf, user_data, { NULL } };
  _lf_json_path_init (&conv.path);
  LfNode *tree = convert (&conv, root, error);
  _lf_json_path_clear (&conv.path);
  return tree;
}

void
_lf_json_add_dtype_and_shape (JsonBuilder *builder, LfDType dtype, guint ndim,
                              const gsize *shape)
{
  json_builder_set_member_name (builder, "dtype");
  json_builder_add_string_value (builder, lf_dtype_name (dtype));
  json_builder_set_member_name (builder, "shape");
  json_builder_begin_array (builder);
  for (guint i = 0; i < ndim; i++)
    json_builder_add_int_value (builder, (gint64) shape[i]);
  json_builder_end_array (builder);
}
