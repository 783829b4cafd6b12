/* Fuzz target: the codec-reference parser, lf_registry_resolve().
 *
 * The registry holds the built plugins and an in-process codec `opts` whose
 * parse_options reads every kind of option (int, bool, choice, string,
 * nested codec), so the option getters are fuzzed with the parser.  A
 * reference that resolves has a canonical text that resolves again to the
 * same text. */
#include "fuzz-common.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static LfRegistry *registry;

typedef struct {
  LfCodec *inner;
} Opts;

static void
opts_free (gpointer data)
{
  Opts *opts = data;
  lf_codec_unref (opts->inner);
  g_free (opts);
}

static gpointer
opts_parse (LfCodecOptions *options, GError **error)
{
  static const char *const modes[] = { "fast", "small", "exact", NULL };
  gint64 level;
  gboolean flag;
  guint mode;
  const char *label;
  if (!lf_codec_options_get_int (options, "level", -5, 22, 3, &level, error)
      || !lf_codec_options_get_bool (options, "flag", FALSE, &flag, error)
      || !lf_codec_options_get_choice (options, "mode", modes, 0, &mode, error)
      || !lf_codec_options_get_string (options, "label", "none", &label, error))
    return NULL;
  FUZZ_CHECK (label != NULL, "string option without a value");
  LfCodec *inner = lf_codec_options_get_codec (options, "inner", "npy", error);
  if (inner == NULL)
    return NULL;
  Opts *opts = g_new0 (Opts, 1);
  opts->inner = inner;
  return opts;
}

static gboolean
opts_serialise (const LfCodec *codec, LfStream *out, const LfPath *path, LfNode *leaf,
                GError **error)
{
  Opts *opts = lf_codec_get_data (codec);
  return lf_codec_serialise (opts->inner, out, path, leaf, error);
}

static LfNode *
opts_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path, LfNode *like,
                  GError **error)
{
  Opts *opts = lf_codec_get_data (codec);
  return lf_codec_deserialise (opts->inner, in, path, like, error);
}

static const LfCodecClass opts_class = {
  .struct_size = sizeof (LfCodecClass),
  .name = "opts",
  .description = "every kind of option, for the fuzzer",
  .parse_options = opts_parse,
  .free_options = opts_free,
  .serialise = opts_serialise,
  .deserialise = opts_deserialise,
};

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void) argc;
  (void) argv;
  registry = fuzz_init ();
  GError *error = NULL;
  if (!lf_registry_register (registry, &opts_class, &error))
    {
      fprintf (stderr, "fuzz: %s\n", error->message);
      abort ();
    }
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  GError *error = NULL;
  g_autoptr (LfCodec) codec = lf_registry_resolve (registry, text, &error);
  if (codec == NULL)
    {
      fuzz_check_error (error);
      g_clear_error (&error);
      return 0;
    }
  FUZZ_CHECK (error == NULL, "a codec and an error");
  g_autofree char *canonical = lf_codec_to_string (codec);
  g_autoptr (LfCodec) again = lf_registry_resolve (registry, canonical, &error);
  FUZZ_CHECK (again != NULL, "canonical form '%s' of '%s' refused: %s", canonical, text,
              error->message);
  g_autofree char *canonical2 = lf_codec_to_string (again);
  FUZZ_CHECK (strcmp (canonical, canonical2) == 0, "'%s' became '%s'", canonical, canonical2);
  return 0;
}
