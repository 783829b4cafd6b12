/* Codec instances: a class plus parsed options; and the option getters
 * codecs use in parse_options. */
#include "config.h"
#include <errno.h>
#include <string.h>
#include "codec-private.h"
#include "registry-private.h"

/* ---- instances ------------------------------------------------------------ */

LfCodec *
lf_codec_ref (LfCodec *codec)
{
  g_return_val_if_fail (codec != NULL, NULL);
  g_atomic_ref_count_inc (&codec->ref_count);
  return codec;
}

void
lf_codec_unref (LfCodec *codec)
{
  if (codec == NULL || !g_atomic_ref_count_dec (&codec->ref_count))
    return;
  if (codec->klass->free_options != NULL && codec->data != NULL)
    codec->klass->free_options (codec->data);
  lf_registry_unref (codec->registry);
  g_free (codec->text);
  g_free (codec);
}

const LfCodecClass *
lf_codec_get_class (const LfCodec *codec)
{
  g_return_val_if_fail (codec != NULL, NULL);
  return codec->klass;
}

const char *
lf_codec_get_name (const LfCodec *codec)
{
  g_return_val_if_fail (codec != NULL, NULL);
  return codec->klass->name;
}

gpointer
lf_codec_get_data (const LfCodec *codec)
{
  g_return_val_if_fail (codec != NULL, NULL);
  return codec->data;
}

LfRegistry *
lf_codec_get_registry (const LfCodec *codec)
{
  g_return_val_if_fail (codec != NULL, NULL);
  return codec->registry;
}

char *
lf_codec_to_string (const LfCodec *codec)
{
  g_return_val_if_fail (codec != NULL, NULL);
  return g_strdup (codec->text);
}

gboolean
lf_codec_handles (const LfCodec *codec, const LfNode *leaf)
{
  g_return_val_if_fail (codec != NULL, FALSE);
  return codec->klass->handles == NULL || codec->klass->handles (codec, leaf);
}

gboolean
lf_codec_serialise (const LfCodec *codec, LfStream *out, const LfPath *path,
                    LfNode *leaf, GError **error)
{
  g_return_val_if_fail (codec != NULL && out != NULL && leaf != NULL, FALSE);
  return codec->klass->serialise (codec, out, path, leaf, error);
}

LfNode *
lf_codec_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path,
                      LfNode *like, GError **error)
{
  g_return_val_if_fail (codec != NULL && in != NULL, NULL);
  LfNode *out = codec->klass->deserialise (codec, in, path, like, error);
  if (out == NULL && error != NULL && *error == NULL)
    g_set_error (error, LF_ERROR, LF_ERROR_FAILED,
                 "codec '%s' failed without saying why", codec->klass->name);
  return out;
}

static void
describe_array (GString *out, LfDType dtype, guint ndim, const gsize *shape)
{
  g_autofree char *text = lf_shape_to_string (ndim, shape);
  g_string_append_printf (out, "%s array of shape %s", lf_dtype_name (dtype), text);
}

gboolean
lf_codec_check_array_like (const LfNode *like, LfDType dtype, guint ndim,
                           const gsize *shape, GError **error)
{
  if (like == NULL || lf_node_get_kind (like) != LF_NODE_ARRAY)
    return TRUE;
  LfDType like_dtype = lf_array_get_dtype (like);
  guint like_ndim = lf_array_get_ndim (like);
  const gsize *like_shape = lf_array_get_shape (like);
  gboolean same = like_dtype == dtype && like_ndim == ndim
                  && (ndim == 0 || memcmp (like_shape, shape, ndim * sizeof (gsize)) == 0);
  if (same)
    return TRUE;
  g_autoptr (GString) text = g_string_new ("expected ");
  describe_array (text, like_dtype, like_ndim, like_shape);
  g_string_append (text, ", found ");
  describe_array (text, dtype, ndim, shape);
  g_set_error_literal (error, LF_ERROR, LF_ERROR_MISMATCH, text->str);
  return FALSE;
}

/* ---- describing records and capabilities -------------------------------------- */

gboolean
lf_codec_can_describe (const LfCodec *codec)
{
  g_return_val_if_fail (codec != NULL, FALSE);
  return codec->klass->describe != NULL;
}

gboolean
lf_codec_describe (const LfCodec *codec, LfStream *in, const LfNode *like, LfRecordInfo *info,
                   GError **error)
{
  g_return_val_if_fail (codec != NULL, FALSE);
  g_return_val_if_fail (in != NULL, FALSE);
  g_return_val_if_fail (info != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  lf_record_info_reset (info);
  if (codec->klass->describe == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "codec '%s' cannot describe its records (it has no describe function)",
                   codec->klass->name);
      return FALSE;
    }
  guint64 before = lf_stream_tell (in);
  if (!codec->klass->describe (codec, in, like, info, error))
    return FALSE;
  /* A describe that consumed bytes would break the load that follows. */
  if (lf_stream_tell (in) != before || lf_record_info_get_kind (info) == LF_NODE_NONE)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_INVALID,
                   "codec '%s': describe %s", codec->klass->name,
                   lf_stream_tell (in) != before ? "moved the stream (it may only peek)"
                                                 : "did not say what the record holds");
      return FALSE;
    }
  return TRUE;
}

void
lf_codec_get_capabilities (const LfCodec *codec, LfCodecCapabilities *caps)
{
  g_return_if_fail (codec != NULL);
  g_return_if_fail (caps != NULL);
  memset (caps, 0, sizeof *caps);
  caps->flags = codec->klass->flags;
  if (codec->klass->get_capabilities != NULL)
    codec->klass->get_capabilities (codec, caps);
}

gboolean
lf_codec_has_flags (const LfCodec *codec, guint32 flags)
{
  g_return_val_if_fail (codec != NULL, FALSE);
  if (codec->klass->get_capabilities == NULL)
    return (codec->klass->flags & flags) == flags;
  LfCodecCapabilities caps;
  lf_codec_get_capabilities (codec, &caps);
  return (caps.flags & flags) == flags;
}

/* ---- fitting a loaded leaf to `like` ------------------------------------------ */

static LfNode *
fit_scalar (const LfNode *like, LfNode *loaded, GError **error)
{
  g_autoptr (LfNode) scalar = NULL;
  if (lf_node_get_kind (loaded) == LF_NODE_SCALAR)
    scalar = lf_node_ref (loaded);
  else if (lf_node_get_kind (loaded) == LF_NODE_ARRAY && !lf_array_is_abstract (loaded)
           && lf_array_get_n_elements (loaded) == 1)
    scalar = lf_scalar_new (lf_array_get_dtype (loaded), lf_array_get_data (loaded));
  else
    {
      g_autofree char *shape = lf_node_get_kind (loaded) == LF_NODE_ARRAY
          ? lf_shape_to_string (lf_array_get_ndim (loaded), lf_array_get_shape (loaded))
          : NULL;
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                   "expected a %s scalar, found %s%s%s", lf_dtype_name (lf_scalar_get_dtype (like)),
                   lf_node_kind_name (lf_node_get_kind (loaded)),
                   shape ? " of shape " : "", shape ? shape : "");
      return NULL;
    }
  /* As type(x)(out.item()): the value takes like's type. */
  LfDType from = lf_scalar_get_dtype (scalar), to = lf_scalar_get_dtype (like);
  if (from == to)
    return g_steal_pointer (&scalar);
  /* float(1+0j) and int(1+0j) raise in Python, whatever the imaginary
   * part; bool(1+0j) is fine. */
  if (lf_dtype_is_complex (from) && !lf_dtype_is_complex (to) && to != LF_DTYPE_BOOL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                   "expected a %s scalar, found a %s value: a complex value does not load "
                   "into a real scalar (Python's float(1+0j) raises too)", lf_dtype_name (to),
                   lf_dtype_name (from));
      return NULL;
    }
  return lf_scalar_convert (scalar, to, error);
}

LfNode *
lf_codec_fit_to_like (const LfNode *like, LfNode *loaded, GError **error)
{
  g_return_val_if_fail (like != NULL && loaded != NULL, NULL);
  LfNodeKind want = lf_node_get_kind (like);
  LfNodeKind got = lf_node_get_kind (loaded);
  if (want == LF_NODE_SCALAR)
    return fit_scalar (like, loaded, error);
  if (want != got)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH, "expected %s, found %s",
                   lf_node_kind_name (want), lf_node_kind_name (got));
      return NULL;
    }
  if (want == LF_NODE_ARRAY
      && !lf_codec_check_array_like (like, lf_array_get_dtype (loaded),
                                     lf_array_get_ndim (loaded),
                                     lf_array_get_shape (loaded), error))
    return NULL;
  return lf_node_ref (loaded);
}

/* ---- building from a parsed reference --------------------------------------- */

static void
join_keys (const LfRefAst *ast, const gboolean *used, gboolean want_used, GString *out)
{
  for (guint i = 0; i < ast->keys->len; i++)
    if (used[i] == want_used)
      g_string_append_printf (out, "%s%s", out->len ? ", " : "",
                              (const char *) g_ptr_array_index (ast->keys, i));
}

LfCodec *
_lf_codec_new_from_ast (LfRegistry *registry, const LfRefAst *ast, GError **error)
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
      g_set_error (error, LF_ERROR, LF_ERROR_UNKNOWN_CODEC,
                   "unknown codec '%s' (registered: %s)", ast->name,
                   *list ? list : "none; is LEAFIO_PLUGIN_PATH right?");
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

  LfCodecOptions options = { registry, ast, g_new0 (gboolean, ast->keys->len + 1) };
  gpointer data = NULL;
  GError *local = NULL;
  if (klass->parse_options != NULL)
    data = klass->parse_options (&options, &local);
  if (local == NULL)
    {
      g_autoptr (GString) unused = g_string_new (NULL);
      join_keys (ast, options.used, FALSE, unused);
      if (unused->len > 0)
        {
          g_autoptr (GString) known = g_string_new (NULL);
          join_keys (ast, options.used, TRUE, known);
          g_set_error (&local, LF_ERROR, LF_ERROR_OPTIONS,
                       "codec '%s' has no option %s", ast->name, unused->str);
          if (klass->free_options != NULL && data != NULL)
            klass->free_options (data);
          data = NULL;
        }
    }
  g_free (options.used);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return NULL;
    }

  LfCodec *codec = g_new0 (LfCodec, 1);
  g_atomic_ref_count_init (&codec->ref_count);
  codec->klass = klass;
  codec->data = data;
  codec->registry = lf_registry_ref (registry);
  GString *text = g_string_new (NULL);
  _lf_ref_append (ast, text);
  codec->text = g_string_free (text, FALSE);
  return codec;
}

gboolean
_lf_codec_class_validate (const LfCodecClass *klass, GError **error)
{
  if (klass->struct_size < G_STRUCT_OFFSET (LfCodecClass, class_data))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_INVALID,
                   "codec class has struct_size %u, expected at least %u",
                   klass->struct_size, (guint) G_STRUCT_OFFSET (LfCodecClass, class_data));
      return FALSE;
    }
  const char *name = klass->name;
  gboolean name_ok = name != NULL && g_ascii_isalnum (name[0]);
  for (const char *c = name; name_ok && *c; c++)
    name_ok = g_ascii_islower (*c) || g_ascii_isdigit (*c) || *c == '-' || *c == '_';
  if (!name_ok)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_INVALID,
                   "codec name '%s' is not of the form [a-z0-9][a-z0-9_-]*",
                   name ? name : "(null)");
      return FALSE;
    }
  const char *missing = NULL;
  if (klass->description == NULL || klass->description[0] == '\0')
    missing = "description";
  else if (klass->serialise == NULL)
    missing = "serialise";
  else if (klass->deserialise == NULL)
    missing = "deserialise";
  else if (klass->free_options != NULL && klass->parse_options == NULL)
    missing = "parse_options (free_options is set)";
  if (missing != NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_INVALID,
                   "codec '%s' has no %s", name, missing);
      return FALSE;
    }
  return TRUE;
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
  g_autofree char *expected = g_strdup_printf ("an integer from %" G_GINT64_FORMAT
                                               " to %" G_GINT64_FORMAT, min, max);
  if (text == NULL || !g_ascii_string_to_signed (text, 10, min, max, &parsed, NULL))
    return bad_value (options, key, opt, expected, error);
  *value = parsed;
  return TRUE;
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
