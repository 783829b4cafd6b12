/* In-process codecs for the spec tests, so they depend on no plugin but
 * npy.  "a", "b" and "c" write one byte, their letter, per leaf (and read
 * it back, returning `like`), so the bytes of a save spell which codec took
 * each leaf.  "opt(level=N, inner=CODEC)" writes the digit N, then the
 * inner codec's record: a codec with options and a nested reference. */
#pragma once

#include <string.h>
#include "test-common.h"

static gboolean
tag_serialise (LfStream *out, const LfPath *path, LfNode *leaf, gpointer user_data,
               GError **error)
{
  return lf_stream_write (out, user_data, 1, error);
}

static LfNode *
tag_deserialise (LfStream *in, const LfPath *path, LfNode *like, gpointer user_data,
                 GError **error)
{
  char c;
  if (!lf_stream_read (in, &c, 1, error))
    return NULL;
  if (c != *(const char *) user_data || like == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT, "expected tag %c, found %c",
                   *(const char *) user_data, c);
      return NULL;
    }
  return lf_node_ref (like);
}

typedef struct {
  gint64 level;
  LfCodec *inner;
} OptData;

static gpointer
opt_parse (LfCodecOptions *options, GError **error)
{
  OptData data = { 0, NULL };
  if (!lf_codec_options_get_int (options, "level", 0, 9, 3, &data.level, error))
    return NULL;
  data.inner = lf_codec_options_get_codec (options, "inner", "a", error);
  if (data.inner == NULL)
    return NULL;
  return g_memdup2 (&data, sizeof data);
}

static void
opt_free (gpointer p)
{
  OptData *data = p;
  lf_codec_unref (data->inner);
  g_free (data);
}

static gboolean
opt_serialise (const LfCodec *codec, LfStream *out, const LfPath *path, LfNode *leaf,
               GError **error)
{
  OptData *data = lf_codec_get_data (codec);
  char digit = (char) ('0' + data->level);
  return lf_stream_write (out, &digit, 1, error)
         && lf_codec_serialise (data->inner, out, path, leaf, error);
}

static LfNode *
opt_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path, LfNode *like,
                 GError **error)
{
  OptData *data = lf_codec_get_data (codec);
  char digit;
  if (!lf_stream_read (in, &digit, 1, error))
    return NULL;
  if (digit != '0' + data->level)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT, "bad level %c", digit);
      return NULL;
    }
  return lf_codec_deserialise (data->inner, in, path, like, error);
}

static const LfCodecClass opt_class = {
  .struct_size = sizeof (LfCodecClass),
  .name = "opt",
  .description = "test codec with options",
  .parse_options = opt_parse,
  .free_options = opt_free,
  .serialise = opt_serialise,
  .deserialise = opt_deserialise,
};

/* A registry with npy (from the build tree's plugins), a, b, c and opt. */
static LfRegistry *
tag_registry_new (void)
{
  static const char letters[] = "abc", tags[] = "ABC";
  GError *error = NULL;
  LfRegistry *registry = lf_registry_new ();
  const LfCodecClass *npy = lf_registry_lookup (lf_registry_get_default (), "npy");
  ck_assert_msg (npy != NULL, "the npy plugin is not found (LEAFIO_PLUGIN_PATH?)");
  ck_assert (lf_registry_register (registry, npy, &error));
  for (int i = 0; i < 3; i++)
    {
      char name[2] = { letters[i], '\0' };
      ck_assert (lf_registry_register_func (registry, name, "tag", NULL, tag_serialise,
                                            tag_deserialise, (gpointer) (tags + i),
                                            NULL, &error));
    }
  ck_assert (lf_registry_register (registry, &opt_class, &error));
  LF_ASSERT_NO_ERROR (error);
  return registry;
}

/* The bytes `spec` writes for `tree`, as a string ("AAB9A"). */
static G_GNUC_UNUSED char *
save_tags (LfNode *tree, LfSpec *spec)
{
  GError *error = NULL;
  LfStream *stream = lf_stream_new_memory ();
  gboolean ok = lf_tree_serialise_leaves_to_stream (stream, tree, spec, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (ok);
  GBytes *bytes = lf_stream_steal_bytes (stream);
  lf_stream_free (stream);
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);
  char *text = g_strndup (data != NULL ? data : "", size);
  g_bytes_unref (bytes);
  return text;
}

/* The save error of `spec` on `tree` (the test asserts on it). */
static G_GNUC_UNUSED GError *
save_error (LfNode *tree, LfSpec *spec)
{
  GError *error = NULL;
  LfStream *stream = lf_stream_new_memory ();
  ck_assert (!lf_tree_serialise_leaves_to_stream (stream, tree, spec, NULL, NULL, &error));
  lf_stream_free (stream);
  return error;
}

/* A scalar leaf, to fill trees quickly. */
static G_GNUC_UNUSED LfNode *
leaf (void)
{
  return lf_scalar_new_int (1);
}
