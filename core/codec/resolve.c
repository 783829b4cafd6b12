/* Resolving codec references: from parsed text to a codec instance, with
 * the option getters a codec's parse_options reads its options with. */
#include "config.h"
#include <string.h>
#include "codec-private.h"
#include "registry-private.h"

/* Why a codec may be missing: what went wrong loading plugins (a relative
 * LEAFIO_PLUGIN_PATH entry, a broken or foreign .so), or "". */
static char *
load_errors_text (LfRegistry *registry)
{
  GPtrArray *errors = lf_registry_get_load_errors (registry);
  if (errors == NULL || errors->len == 0)
    return g_strdup ("");
  const GError *first = g_ptr_array_index (errors, 0);
  if (errors->len == 1)
    return g_strdup_printf ("; a plugin load error: %s", first->message);
  return g_strdup_printf ("; %u plugin load errors, the first: %s", errors->len,
                          first->message);
}

/* The class `ast` names, or NULL with the reason: a quoted string, an
 * unknown name, options for a codec that takes none. */
static const LfCodecClass *
find_class (LfRegistry *registry, const LfRefAst *ast, GError **error)
{
  if (ast->quoted)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE,
                   "a quoted string ('%s') is not a codec name", ast->name);
      return NULL;
    }
  const LfCodecClass *klass = lf_registry_lookup (registry, ast->name);
  if (klass == NULL)
    {
      g_auto (GStrv) names = lf_registry_list (registry);
      g_autofree char *list = g_strjoinv (", ", names);
      g_autofree char *why = load_errors_text (registry);
      g_set_error (error, LF_ERROR, LF_ERROR_UNKNOWN_CODEC,
                   "unknown codec '%s' (registered: %s%s)", ast->name,
                   *list ? list : "none; is LEAFIO_PLUGIN_PATH right?", why);
      return NULL;
    }
  if (!_lf_registry_check_uncontested (registry, ast->name, error))
    return NULL;
  if (klass->parse_options == NULL && ast->keys->len > 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_OPTIONS,
                   "codec '%s' takes no options", ast->name);
      return NULL;
    }
  return klass;
}

/* "a, b": the options of `ast` that parse_options did not read. */
static char *
unused_options (const LfCodecOptions *options)
{
  const LfRefAst *ast = options->ast;
  GString *out = g_string_new (NULL);
  for (guint i = 0; i < ast->keys->len; i++)
    if (!options->used[i])
      g_string_append_printf (out, "%s%s", out->len ? ", " : "",
                              (const char *) g_ptr_array_index (ast->keys, i));
  return g_string_free (out, FALSE);
}

/* Runs the class's parse_options on the options of `ast`; an option it did
 * not read is an error (a misspelt option must not be ignored). */
static gboolean
parse_options (const LfCodecClass *klass, LfRegistry *registry, const LfRefAst *ast,
               gpointer *data, GError **error)
{
  *data = NULL;
  if (klass->parse_options == NULL)
    return TRUE;
  LfCodecOptions options = { registry, ast, g_new0 (gboolean, ast->keys->len + 1) };
  GError *local = NULL;
  *data = klass->parse_options (&options, &local);
  g_autofree char *unused = local == NULL ? unused_options (&options) : NULL;
  g_free (options.used);
  if (unused != NULL && *unused != '\0')
    {
      g_set_error (&local, LF_ERROR, LF_ERROR_OPTIONS, "codec '%s' has no option %s",
                   ast->name, unused);
      if (klass->free_options != NULL && *data != NULL)
        klass->free_options (*data);
      *data = NULL;
    }
  if (local == NULL)
    return TRUE;
  g_propagate_error (error, local);
  return FALSE;
}

LfCodec *
_lf_codec_new_from_ast (LfRegistry *registry, const LfRefAst *ast, GError **error)
{
  const LfCodecClass *klass = find_class (registry, ast, error);
  gpointer data = NULL;
  if (klass == NULL || !parse_options (klass, registry, ast, &data, error))
    return NULL;
  GString *text = g_string_new (NULL);
  _lf_ref_append (ast, text);
  return _lf_codec_new (klass, data, registry, g_string_free (text, FALSE));
}

LfCodec *
lf_registry_resolve (LfRegistry *registry, const char *reference, GError **error)
{
  g_return_val_if_fail (registry != NULL && reference != NULL, NULL);
  LfRefAst *ast = _lf_ref_parse (reference, error);
  if (ast == NULL)
    return NULL;
  LfCodec *codec = _lf_codec_new_from_ast (registry, ast, error);
  _lf_ref_free (ast);
  return codec;
}

/* ---- option getters ------------------------------------------------------- */

static const LfRefAst *
take_option (LfCodecOptions *options, const char *key)
{
  const LfRefAst *ast = options->ast;
  for (guint i = 0; i < ast->keys->len; i++)
    if (strcmp (g_ptr_array_index (ast->keys, i), key) == 0)
      {
        options->used[i] = TRUE;
        return g_ptr_array_index (ast->values, i);
      }
  return NULL;
}

static gboolean
bad_value (LfCodecOptions *options, const char *key, const LfRefAst *value,
           const char *expected, GError **error)
{
  GString *text = g_string_new (NULL);
  _lf_ref_append (value, text);
  g_set_error (error, LF_ERROR, LF_ERROR_OPTIONS,
               "codec '%s': option %s=%s: expected %s", options->ast->name, key,
               text->str, expected);
  g_string_free (text, TRUE);
  return FALSE;
}

/* A plain value: a word or a quoted string, not a nested reference. */
static const char *
plain_text (const LfRefAst *value)
{
  return value->has_options ? NULL : value->name;
}

gboolean
lf_codec_options_get_int (LfCodecOptions *options, const char *key, gint64 min,
                          gint64 max, gint64 default_value, gint64 *value,
                          GError **error)
{
  g_return_val_if_fail (options != NULL && key != NULL && value != NULL, FALSE);
  const LfRefAst *opt = take_option (options, key);
  if (opt == NULL)
    {
      *value = default_value;
      return TRUE;
    }
  const char *text = plain_text (opt);
  gint64 parsed = 0;
  if (text != NULL && g_ascii_string_to_signed (text, 10, min, max, &parsed, NULL))
    {
      *value = parsed;
      return TRUE;
    }
  g_autofree char *expected = g_strdup_printf ("an integer from %" G_GINT64_FORMAT
                                               " to %" G_GINT64_FORMAT, min, max);
  return bad_value (options, key, opt, expected, error);
}

gboolean
lf_codec_options_get_bool (LfCodecOptions *options, const char *key,
                           gboolean default_value, gboolean *value, GError **error)
{
  static const char *const choices[] = { "false", "true", "no", "yes", "0", "1", NULL };
  guint index = 0;
  if (!lf_codec_options_get_choice (options, key, choices, default_value ? 1 : 0,
                                    &index, error))
    return FALSE;
  *value = index % 2 == 1;
  return TRUE;
}

gboolean
lf_codec_options_get_choice (LfCodecOptions *options, const char *key,
                             const char *const *choices, guint default_index,
                             guint *value, GError **error)
{
  g_return_val_if_fail (options != NULL && key != NULL && choices != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  const LfRefAst *opt = take_option (options, key);
  if (opt == NULL)
    {
      *value = default_index;
      return TRUE;
    }
  const char *text = plain_text (opt);
  for (guint i = 0; text != NULL && choices[i] != NULL; i++)
    if (strcmp (choices[i], text) == 0)
      {
        *value = i;
        return TRUE;
      }
  g_autofree char *list = g_strjoinv ("|", (char **) choices);
  g_autofree char *expected = g_strdup_printf ("one of %s", list);
  return bad_value (options, key, opt, expected, error);
}

gboolean
lf_codec_options_get_string (LfCodecOptions *options, const char *key,
                             const char *default_value, const char **value,
                             GError **error)
{
  g_return_val_if_fail (options != NULL && key != NULL && value != NULL, FALSE);
  const LfRefAst *opt = take_option (options, key);
  if (opt == NULL)
    {
      *value = default_value;
      return TRUE;
    }
  const char *text = plain_text (opt);
  if (text == NULL)
    return bad_value (options, key, opt, "a plain value", error);
  *value = text;
  return TRUE;
}

LfCodec *
lf_codec_options_get_codec (LfCodecOptions *options, const char *key,
                            const char *default_reference, GError **error)
{
  g_return_val_if_fail (options != NULL && key != NULL, NULL);
  const LfRefAst *opt = take_option (options, key);
  GError *local = NULL;
  LfCodec *codec = opt != NULL
                       ? _lf_codec_new_from_ast (options->registry, opt, &local)
                       : lf_registry_resolve (options->registry, default_reference, &local);
  if (codec == NULL)
    {
      g_propagate_prefixed_error (error, local, "codec '%s': option %s: ",
                                  options->ast->name, key);
      return NULL;
    }
  return codec;
}

const char *
lf_codec_options_get_codec_name (const LfCodecOptions *options)
{
  g_return_val_if_fail (options != NULL, NULL);
  return options->ast->name;
}
