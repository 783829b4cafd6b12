/* Codec instances: a class plus parsed options, and the calls the walker
 * and tools make through them.  resolve.c builds them from references. */
#include "config.h"
#include <errno.h>
#include <string.h>
#include "codec-private.h"

/* ---- instances ------------------------------------------------------------ */

LfCodec *
_lf_codec_new (const LfCodecClass *klass, gpointer data, LfRegistry *registry, char *text)
{
  LfCodec *codec = g_new0 (LfCodec, 1);
  g_atomic_ref_count_init (&codec->ref_count);
  codec->klass = klass;
  codec->data = data;
  codec->registry = lf_registry_ref (registry);
  codec->text = text;
  return codec;
}

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

/* A wrapping codec describes its records through its inner codec's, so it
 * is only as describable as the codec it wraps. */
gboolean
lf_codec_can_describe (const LfCodec *codec)
{
  g_return_val_if_fail (codec != NULL, FALSE);
  if (codec->klass->describe == NULL)
    return FALSE;
  if (codec->klass->get_capabilities == NULL)
    return TRUE;
  LfCodecCapabilities caps;
  lf_codec_get_capabilities (codec, &caps);
  return caps.inner == NULL || lf_codec_can_describe (caps.inner);
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
  GError *local = NULL;
  if (!codec->klass->describe (codec, in, like, info, &local))
    {
      if (local == NULL)
        local = g_error_new (LF_ERROR, LF_ERROR_PLUGIN_INVALID,
                             "codec '%s': describe failed without saying why",
                             codec->klass->name);
      g_propagate_error (error, local);
      return FALSE;
    }
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
