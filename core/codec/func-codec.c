/* Codecs made of plain C functions (lf_registry_register_func): a class
 * built at run time around the caller's functions. */
#include "config.h"
#include "registry-private.h"

typedef struct {
  LfCodecClass klass;      /* first: class_data points back to this */
  char *name;
  char *description;
  gboolean (*handles) (const LfNode *leaf);
  LfSerialiseFunc serialise;
  LfDeserialiseFunc deserialise;
  gpointer user_data;
  GDestroyNotify destroy;
} FuncCodec;

static void
func_codec_free (gpointer data)
{
  FuncCodec *fc = data;
  if (fc->destroy != NULL)
    fc->destroy (fc->user_data);
  g_free (fc->name);
  g_free (fc->description);
  g_free (fc);
}

static const FuncCodec *
func_codec (const LfCodec *codec)
{
  return lf_codec_get_class (codec)->class_data;
}

static gboolean
func_handles (const LfCodec *codec, const LfNode *leaf)
{
  const FuncCodec *fc = func_codec (codec);
  return fc->handles == NULL || fc->handles (leaf);
}

static gboolean
func_serialise (const LfCodec *codec, LfStream *out, const LfPath *path, LfNode *leaf,
                GError **error)
{
  const FuncCodec *fc = func_codec (codec);
  return fc->serialise (out, path, leaf, fc->user_data, error);
}

static LfNode *
func_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path, LfNode *like,
                  GError **error)
{
  const FuncCodec *fc = func_codec (codec);
  return fc->deserialise (in, path, like, fc->user_data, error);
}

gboolean
lf_registry_register_func (LfRegistry *registry, const char *name,
                           const char *description, gboolean (*handles) (const LfNode *leaf),
                           LfSerialiseFunc serialise, LfDeserialiseFunc deserialise,
                           gpointer user_data, GDestroyNotify destroy, GError **error)
{
  g_return_val_if_fail (registry != NULL && name != NULL, FALSE);
  g_return_val_if_fail (serialise != NULL && deserialise != NULL, FALSE);
  FuncCodec *fc = g_new0 (FuncCodec, 1);
  fc->name = g_strdup (name);
  fc->description = g_strdup (description != NULL ? description : name);
  fc->handles = handles;
  fc->serialise = serialise;
  fc->deserialise = deserialise;
  fc->user_data = user_data;
  fc->destroy = destroy;
  fc->klass = (LfCodecClass) {
    .struct_size = sizeof (LfCodecClass),
    .name = fc->name,
    .description = fc->description,
    .handles = func_handles,
    .serialise = func_serialise,
    .deserialise = func_deserialise,
    .class_data = fc,
  };
  if (_lf_registry_add (registry, &fc->klass, fc, func_codec_free, error))
    return TRUE;
  fc->destroy = NULL;  /* the caller keeps user_data on failure */
  func_codec_free (fc);
  return FALSE;
}
