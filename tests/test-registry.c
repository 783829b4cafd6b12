/* The registry, codec references and options, in-process codecs and the
 * plugin loader's checks on real files. */
#include <string.h>
#include <glib/gstdio.h>
#include "test-common.h"

static LfRegistry *
plugins (void)
{
  return lf_registry_get_default ();
}

START_TEST (test_default_has_npy)
{
  LfRegistry *reg = plugins ();
  ck_assert_ptr_nonnull (lf_registry_lookup (reg, "npy"));
  const char *origin = lf_registry_get_origin (reg, "npy");
  ck_assert_ptr_nonnull (origin);
  ck_assert (g_str_has_suffix (origin, "/npy.so"));
  g_auto (GStrv) names = lf_registry_list (reg);
  ck_assert (g_strv_contains ((const char *const *) names, "npy"));
  ck_assert_ptr_null (lf_registry_lookup (reg, "no-such-codec"));
}
END_TEST

START_TEST (test_resolve_and_canonical_text)
{
  GError *error = NULL;
  g_autoptr (LfCodec) npy = lf_registry_resolve (plugins (), "  npy ( align = 64 ) ", &error);
  LF_ASSERT_NO_ERROR (error);
  g_autofree char *text = lf_codec_to_string (npy);
  ck_assert_str_eq (text, "npy(align=64)");
  ck_assert_str_eq (lf_codec_get_name (npy), "npy");
  ck_assert_ptr_eq (lf_codec_get_registry (npy), plugins ());
  g_autoptr (LfCodec) plain = lf_registry_resolve (plugins (), "npy()", &error);
  LF_ASSERT_NO_ERROR (error);
  g_autofree char *plain_text = lf_codec_to_string (plain);
  ck_assert_str_eq (plain_text, "npy");
}
END_TEST

static const struct {
  const char *text;
  LfError code;
  const char *needle;
} bad_references[] = {
  { "", LF_ERROR_PARSE, "expected a codec name at the end" },
  { "npy(", LF_ERROR_PARSE, "expected an option name" },
  { "npy(align)", LF_ERROR_PARSE, "expected '=' after the option name at position 9" },
  { "npy(align=)", LF_ERROR_PARSE, "expected a value at position 10" },
  { "npy(align=64 level=3)", LF_ERROR_PARSE, "expected ',' or ')'" },
  { "npy(align=64, align=128)", LF_ERROR_PARSE, "each option once" },
  { "npy) x", LF_ERROR_PARSE, "expected the end of the reference at position 3" },
  { "npy(a='x)", LF_ERROR_PARSE, "closing quote" },
  { "nope", LF_ERROR_UNKNOWN_CODEC, "unknown codec 'nope' (registered: " },
  { "npy(align=65)", LF_ERROR_OPTIONS, "expected a multiple of 64" },
  { "npy(align=8192)", LF_ERROR_OPTIONS, "option align=8192: expected an integer from 0 to 4096" },
  { "npy(align=big)", LF_ERROR_OPTIONS, "option align=big" },
  { "npy(aling=64)", LF_ERROR_OPTIONS, "codec 'npy' has no option aling" },
  { "'npy'", LF_ERROR_PARSE, "expected a codec name" },
  /* Control characters are quoted as \xHH, never raw. */
  { "npy\x1b[2J", LF_ERROR_PARSE, "'npy\\x1b[2J': expected the end of the reference at position 3, found byte 0x1b" },
};

START_TEST (test_bad_references)
{
  GError *error = NULL;
  LfCodec *codec = lf_registry_resolve (plugins (), bad_references[_i].text, &error);
  ck_assert_ptr_null (codec);
  LF_ASSERT_ERROR (error, bad_references[_i].code, bad_references[_i].needle);
}
END_TEST

START_TEST (test_deep_nesting_refused)
{
  GString *text = g_string_new ("npy");
  for (int i = 0; i < 100; i++)
    g_string_append (text, "(a=b");
  GError *error = NULL;
  ck_assert_ptr_null (lf_registry_resolve (plugins (), text->str, &error));
  /* The message quotes the first 200 bytes of the reference only. */
  ck_assert_ptr_nonnull (strstr (error->message, "...': expected less nesting"));
  ck_assert_uint_lt (strlen (error->message), 300);
  LF_ASSERT_ERROR (error, LF_ERROR_PARSE, "less nesting");
  g_string_free (text, TRUE);
}
END_TEST

/* ---- a codec with every kind of option ------------------------------------------ */

typedef struct {
  gint64 level;
  gboolean fast;
  guint mode;
  char *label;
  LfCodec *inner;
} ProbeOptions;

static void
probe_free (gpointer data)
{
  ProbeOptions *o = data;
  lf_codec_unref (o->inner);
  g_free (o->label);
  g_free (o);
}

static gpointer
probe_parse (LfCodecOptions *options, GError **error)
{
  static const char *const modes[] = { "inf", "error", NULL };
  ProbeOptions *o = g_new0 (ProbeOptions, 1);
  const char *label = NULL;
  ck_assert_str_eq (lf_codec_options_get_codec_name (options), "probe");
  if (!lf_codec_options_get_int (options, "level", 1, 22, 3, &o->level, error)
      || !lf_codec_options_get_bool (options, "fast", FALSE, &o->fast, error)
      || !lf_codec_options_get_choice (options, "mode", modes, 0, &o->mode, error)
      || !lf_codec_options_get_string (options, "label", "none", &label, error)
      || (o->inner = lf_codec_options_get_codec (options, "inner", "npy", error)) == NULL)
    {
      probe_free (o);
      return NULL;
    }
  o->label = g_strdup (label);
  return o;
}

static gboolean
probe_serialise (const LfCodec *codec, LfStream *out, const LfPath *path, LfNode *leaf,
                 GError **error)
{
  ProbeOptions *o = lf_codec_get_data (codec);
  return lf_codec_serialise (o->inner, out, path, leaf, error);
}

static LfNode *
probe_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path, LfNode *like,
                   GError **error)
{
  ProbeOptions *o = lf_codec_get_data (codec);
  return lf_codec_deserialise (o->inner, in, path, like, error);
}

static const LfCodecClass probe_class = {
  .struct_size = sizeof (LfCodecClass),
  .name = "probe",
  .description = "test codec with options",
  .parse_options = probe_parse,
  .free_options = probe_free,
  .serialise = probe_serialise,
  .deserialise = probe_deserialise,
};

static LfRegistry *
registry_with_probe (void)
{
  LfRegistry *reg = lf_registry_new ();
  GError *error = NULL;
  ck_assert (lf_registry_load_plugin (reg, lf_registry_get_origin (plugins (), "npy"), &error));
  ck_assert (lf_registry_register (reg, &probe_class, &error));
  LF_ASSERT_NO_ERROR (error);
  return reg;
}

START_TEST (test_options)
{
  g_autoptr (LfRegistry) reg = registry_with_probe ();
  GError *error = NULL;
  g_autoptr (LfCodec) codec = lf_registry_resolve (
      reg, "probe(level=19, fast=yes, mode=error, label='a b', inner=npy(align=128))", &error);
  LF_ASSERT_NO_ERROR (error);
  ProbeOptions *o = lf_codec_get_data (codec);
  ck_assert_int_eq (o->level, 19);
  ck_assert (o->fast);
  ck_assert_uint_eq (o->mode, 1);
  ck_assert_str_eq (o->label, "a b");
  g_autofree char *inner = lf_codec_to_string (o->inner);
  ck_assert_str_eq (inner, "npy(align=128)");
  g_autofree char *text = lf_codec_to_string (codec);
  ck_assert_str_eq (text, "probe(level=19, fast=yes, mode=error, label='a b', inner=npy(align=128))");

  g_autoptr (LfCodec) defaults = lf_registry_resolve (reg, "probe", &error);
  LF_ASSERT_NO_ERROR (error);
  o = lf_codec_get_data (defaults);
  ck_assert_int_eq (o->level, 3);
  ck_assert (!o->fast);
  ck_assert_str_eq (o->label, "none");
  ck_assert_str_eq (lf_codec_get_name (o->inner), "npy");
}
END_TEST

static const struct {
  const char *text;
  LfError code;
  const char *needle;
} bad_options[] = {
  { "probe(level=0)", LF_ERROR_OPTIONS, "codec 'probe': option level=0: expected an integer from 1 to 22" },
  { "probe(fast=maybe)", LF_ERROR_OPTIONS, "option fast=maybe: expected one of false|true" },
  { "probe(mode=nan)", LF_ERROR_OPTIONS, "expected one of inf|error" },
  { "probe(label=npy(align=64))", LF_ERROR_OPTIONS, "expected a plain value" },
  { "probe(inner=nope)", LF_ERROR_UNKNOWN_CODEC, "codec 'probe': option inner: unknown codec 'nope'" },
  { "probe(inner=npy(align=3))", LF_ERROR_OPTIONS, "option inner: codec 'npy'" },
  { "probe(level=3, colour=red)", LF_ERROR_OPTIONS, "codec 'probe' has no option colour" },
};

START_TEST (test_bad_options)
{
  g_autoptr (LfRegistry) reg = registry_with_probe ();
  GError *error = NULL;
  ck_assert_ptr_null (lf_registry_resolve (reg, bad_options[_i].text, &error));
  LF_ASSERT_ERROR (error, bad_options[_i].code, bad_options[_i].needle);
}
END_TEST

/* ---- in-process registration ------------------------------------------------------ */

START_TEST (test_register_checks)
{
  g_autoptr (LfRegistry) reg = registry_with_probe ();
  GError *error = NULL;
  ck_assert (!lf_registry_register (reg, &probe_class, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_DUPLICATE_NAME, "codec 'probe' is already registered");

  LfCodecClass bad = probe_class;
  bad.name = "Bad Name";
  ck_assert (!lf_registry_register (reg, &bad, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_INVALID, "'Bad Name' is not of the form");
  bad = probe_class;
  bad.name = "other";
  bad.serialise = NULL;
  ck_assert (!lf_registry_register (reg, &bad, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_INVALID, "codec 'other' has no serialise");
  bad = probe_class;
  bad.name = "other";
  bad.struct_size = 8;
  ck_assert (!lf_registry_register (reg, &bad, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_INVALID, "struct_size 8");
  bad = probe_class;
  bad.name = "other";
  bad.description = "";
  ck_assert (!lf_registry_register (reg, &bad, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_INVALID, "has no description");
  ck_assert_ptr_null (lf_registry_lookup (reg, "other"));
  ck_assert_ptr_null (lf_registry_get_origin (reg, "probe"));
}
END_TEST

static gboolean
write_magic (LfStream *out, const LfPath *path, LfNode *leaf, gpointer user_data, GError **error)
{
  int *calls = user_data;
  (*calls)++;
  return lf_stream_write (out, "OPAQUE!!", 8, error);
}

static LfNode *
read_magic (LfStream *in, const LfPath *path, LfNode *like, gpointer user_data, GError **error)
{
  char buf[8];
  if (!lf_stream_read (in, buf, 8, error))
    return NULL;
  if (memcmp (buf, "OPAQUE!!", 8) != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT, "bad magic");
      return NULL;
    }
  return lf_opaque_new ("restored", NULL, NULL);
}

static gboolean
only_opaque (const LfNode *leaf)
{
  return lf_node_get_kind (leaf) == LF_NODE_OPAQUE;
}

START_TEST (test_register_func_round_trip)
{
  g_autoptr (LfRegistry) reg = lf_registry_new ();
  GError *error = NULL;
  int calls = 0;
  ck_assert (lf_registry_register_func (reg, "magic", "writes a marker for opaque leaves",
                                        only_opaque, write_magic, read_magic, &calls, NULL,
                                        &error));
  ck_assert (!lf_registry_register_func (reg, "magic", NULL, NULL, write_magic, read_magic,
                                         NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_DUPLICATE_NAME, "magic");

  g_autoptr (LfSpec) spec = lf_spec_new_for_reference (reg, "magic", &error);
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) tree = lf_list_new_take (3, lf_opaque_new ("thing", NULL, NULL),
                                              lf_scalar_new_int (1),
                                              lf_opaque_new ("thing", NULL, NULL));
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  ck_assert (lf_tree_serialise_leaves_to_stream (out, tree, spec, NULL, NULL, &error));
  ck_assert_int_eq (calls, 2);
  g_autoptr (GBytes) bytes = lf_stream_steal_bytes (out);
  ck_assert_uint_eq (g_bytes_get_size (bytes), 16);

  g_autoptr (LfStream) in = lf_stream_new_for_bytes (bytes);
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves_from_stream (in, tree, spec, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_str_eq (lf_opaque_get_type_name (lf_node_get_child (back, 0)), "restored");
  /* The scalar is not handled by this codec: shared with like. */
  ck_assert_ptr_eq (lf_node_get_child (back, 1), lf_node_get_child (tree, 1));
}
END_TEST

static void
count_destroy (gpointer data)
{
  (*(int *) data)++;
}

START_TEST (test_register_func_destroy)
{
  int destroyed = 0;
  LfRegistry *reg = lf_registry_new ();
  ck_assert (lf_registry_register_func (reg, "magic", NULL, NULL, write_magic, read_magic,
                                        &destroyed, count_destroy, NULL));
  /* A refused registration leaves user_data with the caller. */
  int refused = 0;
  ck_assert (!lf_registry_register_func (reg, "magic", NULL, NULL, write_magic, read_magic,
                                         &refused, count_destroy, NULL));
  ck_assert (!lf_registry_register_func (reg, "Bad Name", NULL, NULL, write_magic, read_magic,
                                         &refused, count_destroy, NULL));
  ck_assert_int_eq (refused, 0);
  lf_registry_unref (reg);
  ck_assert_int_eq (destroyed, 1);
  ck_assert_int_eq (refused, 0);
}
END_TEST

/* ---- the plugin loader on real files ---------------------------------------------- */

START_TEST (test_load_plugin_errors)
{
  g_autoptr (LfRegistry) reg = lf_registry_new ();
  GError *error = NULL;
  const char *npy = lf_registry_get_origin (plugins (), "npy");

  ck_assert (!lf_registry_load_plugin (reg, "/nonexistent/x.so", &error));
  LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_LOAD, "/nonexistent/x.so: cannot load plugin");

  g_autofree char *text = lf_test_path ("text.so");
  lf_test_write_file (text, "not an ELF object\n", 18);
  ck_assert (!lf_registry_load_plugin (reg, text, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_LOAD, "text.so: cannot load plugin");

  /* A shared object that is not a plugin. */
  const char *libc = "/lib/x86_64-linux-gnu/libm.so.6";
  if (g_file_test (libc, G_FILE_TEST_EXISTS))
    {
      ck_assert (!lf_registry_load_plugin (reg, libc, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_LOAD, "not a leafio plugin");
    }

  /* The plugin's name must be its file's. */
  g_autofree char *renamed = lf_test_path ("renamed.so");
  g_autoptr (GBytes) image = lf_test_read_file (npy);
  lf_test_write_file (renamed, g_bytes_get_data (image, NULL), g_bytes_get_size (image));
  ck_assert (!lf_registry_load_plugin (reg, renamed, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_INVALID, "plugin calls itself 'npy' but the file is named 'renamed'");

  ck_assert (lf_registry_load_plugin (reg, npy, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert (!lf_registry_load_plugin (reg, npy, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_DUPLICATE_NAME, "codec 'npy' is already registered");
  ck_assert_str_eq (lf_registry_get_origin (reg, "npy"), npy);
}
END_TEST

START_TEST (test_load_directory)
{
  g_autoptr (LfRegistry) reg = lf_registry_new ();
  GError *error = NULL;
  ck_assert (!lf_registry_load_directory (reg, "/nonexistent-dir", &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "/nonexistent-dir");

  g_autofree char *dir = lf_test_path ("plugins");
  g_mkdir (dir, 0700);
  g_autofree char *broken = g_build_filename (dir, "broken.so", NULL);
  lf_test_write_file (broken, "junk", 4);
  g_autofree char *npy = g_build_filename (dir, "npy.so", NULL);
  g_autoptr (GBytes) image = lf_test_read_file (lf_registry_get_origin (plugins (), "npy"));
  lf_test_write_file (npy, g_bytes_get_data (image, NULL), g_bytes_get_size (image));
  g_autofree char *ignored = g_build_filename (dir, "README", NULL);
  lf_test_write_file (ignored, "x", 1);

  ck_assert (lf_registry_load_directory (reg, dir, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert_ptr_nonnull (lf_registry_lookup (reg, "npy"));
  GPtrArray *errors = lf_registry_get_load_errors (reg);
  ck_assert_uint_eq (errors->len, 1);
  GError *load_error = g_ptr_array_index (errors, 0);
  ck_assert_int_eq (load_error->code, LF_ERROR_PLUGIN_LOAD);
  ck_assert (strstr (load_error->message, "broken.so") != NULL);

  /* A codec that is not there names the plugin that did not load. */
  ck_assert_ptr_null (lf_registry_resolve (reg, "float16", &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNKNOWN_CODEC, "a plugin load error: ");
  g_autoptr (LfRegistry) empty = lf_registry_new ();
  ck_assert_ptr_null (lf_registry_resolve (empty, "float16", &error));
  ck_assert (strstr (error->message, "load error") == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_UNKNOWN_CODEC, "registered: none");
}
END_TEST

START_TEST (test_preconditions)
{
  LF_ASSERT_CRITICAL (ck_assert_ptr_null (lf_registry_resolve (plugins (), NULL, NULL)));
  LF_ASSERT_CRITICAL (ck_assert_ptr_null (lf_registry_lookup (NULL, "npy")));
  LF_ASSERT_CRITICAL (ck_assert (!lf_registry_register (plugins (), NULL, NULL)));
  lf_registry_unref (NULL);
  lf_codec_unref (NULL);
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("registry");
  TCase *tc = tcase_create ("references");
  tcase_add_test (tc, test_default_has_npy);
  tcase_add_test (tc, test_resolve_and_canonical_text);
  tcase_add_loop_test (tc, test_bad_references, 0, G_N_ELEMENTS (bad_references));
  tcase_add_test (tc, test_deep_nesting_refused);
  tcase_add_test (tc, test_options);
  tcase_add_loop_test (tc, test_bad_options, 0, G_N_ELEMENTS (bad_options));
  suite_add_tcase (suite, tc);
  tc = tcase_create ("registration");
  tcase_add_test (tc, test_register_checks);
  tcase_add_test (tc, test_register_func_round_trip);
  tcase_add_test (tc, test_register_func_destroy);
  tcase_add_test (tc, test_load_plugin_errors);
  tcase_add_test (tc, test_load_directory);
  tcase_add_test (tc, test_preconditions);
  suite_add_tcase (suite, tc);
  return suite;
}
