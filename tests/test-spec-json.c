/* JSON spec trees: every container form, nested codec options, prefix
 * matching against data trees, and every malformed input. */
#include "tag-codecs.h"

static LfRegistry *registry;

static void
setup (void)
{
  registry = tag_registry_new ();
}

static void
teardown (void)
{
  g_clear_pointer (&registry, lf_registry_unref);
}

static LfSpec *
parse (const char *json)
{
  GError *error = NULL;
  LfSpec *spec = lf_spec_parse_json (registry, json, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (spec != NULL);
  return spec;
}

/* Parses `json`, saves `tree` with it and checks the bytes. */
static void
assert_tags (const char *json, LfNode *tree, const char *expected)
{
  g_autoptr (LfSpec) spec = parse (json);
  g_autofree char *tags = save_tags (tree, spec);
  ck_assert_str_eq (tags, expected);
  lf_node_unref (tree);
}

static void
assert_parse_error (const char *json, LfError code, const char *needle)
{
  GError *error = NULL;
  LfSpec *spec = lf_spec_parse_json (registry, json, &error);
  ck_assert (spec == NULL);
  LF_ASSERT_ERROR (error, code, needle);
}

START_TEST (test_string_root)
{
  g_autoptr (LfSpec) spec = parse ("\"b\"");
  ck_assert (lf_spec_get_codec (spec) != NULL);
  ck_assert_str_eq (lf_codec_get_name (lf_spec_get_codec (spec)), "b");
  assert_tags ("\"b\"", lf_list_new_take (3, leaf (), leaf (), leaf ()), "BBB");
}
END_TEST

START_TEST (test_list_and_dict)
{
  /* Dict leaves flatten in sorted key order, whatever the JSON order. */
  assert_tags ("{\"z\": \"a\", \"m\": [\"b\", \"c\"]}",
               lf_dict_new_take ("z", leaf (), "m", lf_list_new_take (2, leaf (), leaf ()),
                                 NULL),
               "BCA");
}
END_TEST

START_TEST (test_tuple_struct_none)
{
  assert_tags ("{\"$struct\": \"MLP\", \"layers\": {\"$tuple\": [\"a\", \"b\"]}, "
               "\"cache\": null, \"head\": \"c\"}",
               lf_struct_new_take ("MLP",
                                   "layers", lf_tuple_new_take (2, leaf (), leaf ()),
                                   "cache", lf_none_new (),
                                   "head", leaf (), NULL),
               "ABC");
  /* The parsed spec tree has the right kinds and field order. */
  g_autoptr (LfSpec) spec = parse ("{\"$struct\": \"M\", \"y\": \"a\", \"x\": null}");
  LfNode *tree = lf_spec_get_tree (spec);
  ck_assert_int_eq (lf_node_get_kind (tree), LF_NODE_STRUCT);
  ck_assert_str_eq (lf_struct_get_type_name (tree), "M");
  ck_assert_str_eq (lf_struct_get_field_name (tree, 0), "y");
  ck_assert_str_eq (lf_struct_get_field_name (tree, 1), "x");
  ck_assert_int_eq (lf_node_get_kind (lf_node_get_child (tree, 1)), LF_NODE_NONE);
}
END_TEST

START_TEST (test_codec_maps_over_subtree)
{
  /* A codec at a spec leaf applies to the whole data subtree there. */
  assert_tags ("{\"x\": \"a\", \"y\": \"b\"}",
               lf_dict_new_take ("x", lf_list_new_take (3, leaf (), leaf (), leaf ()),
                                 "y", lf_tuple_new_take (1, leaf ()), NULL),
               "AAAB");
}
END_TEST

START_TEST (test_dollar_keys)
{
  g_autoptr (LfSpec) spec = parse ("{\"$$ref\": \"a\", \"plain\": \"b\"}");
  LfNode *tree = lf_spec_get_tree (spec);
  ck_assert (lf_dict_lookup (tree, "$ref") != NULL);
  assert_tags ("{\"$$ref\": \"a\", \"plain\": \"b\"}",
               lf_dict_new_take ("$ref", leaf (), "plain", leaf (), NULL), "AB");
}
END_TEST

START_TEST (test_nested_options)
{
  assert_tags ("[\"opt(level=7, inner=opt(level=2, inner=c))\", \"opt\", \"npy\"]",
               lf_list_new_take (3, leaf (), leaf (), lf_none_new ()), "72C3A");
  g_autoptr (LfSpec) spec = parse ("{\"w\": \"opt(inner=b, level=5)\"}");
  LfCodec *codec = lf_spec_leaf_get_codec (lf_dict_lookup (lf_spec_get_tree (spec), "w"));
  ck_assert (codec != NULL);
  g_autofree char *text = lf_codec_to_string (codec);
  ck_assert_ptr_nonnull (strstr (text, "level=5"));
  ck_assert_ptr_nonnull (strstr (text, "inner=b"));
}
END_TEST

START_TEST (test_load_back)
{
  /* The same JSON spec drives save and load. */
  const char *json = "{\"a\": [\"npy\", \"b\"], \"b\": null}";
  g_autoptr (LfSpec) spec = parse (json);
  float values[3] = { 1, 2, 3 };
  gsize shape[1] = { 3 };
  g_autoptr (LfNode) tree
    = lf_dict_new_take ("a", lf_list_new_take (2, lf_array_new_copy (LF_DTYPE_FLOAT32, 1,
                                                                     shape, values),
                                               leaf ()),
                        "b", lf_none_new (), NULL);
  g_autofree char *file = lf_test_path ("json-spec.eqx");
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves (file, tree, spec, NULL, NULL, &error));
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (file, tree, spec, NULL, NULL,
                                                          &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (loaded, tree));
}
END_TEST

START_TEST (test_prefix_mismatch)
{
  struct {
    const char *json;
    const char *where;
  } cases[] = {
    { "{\"a\": \"a\", \"c\": \"b\"}", "root" },              /* keys differ */
    { "{\"a\": [\"a\"], \"b\": \"b\"}", "['a']" },           /* length differs */
    { "{\"a\": {\"$tuple\": [\"a\", \"a\"]}, \"b\": \"b\"}", "['a']" }, /* tuple vs list */
    { "{\"a\": \"a\", \"b\": [\"b\"]}", "['b']" },           /* container vs leaf */
    { "{\"a\": \"a\", \"b\": {\"$struct\": \"X\", \"f\": \"a\"}}", "['b']" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (LfSpec) spec = parse (cases[i].json);
      g_autoptr (LfNode) tree
        = lf_dict_new_take ("a", lf_list_new_take (2, leaf (), leaf ()), "b", leaf (), NULL);
      GError *error = save_error (tree, spec);
      LF_ASSERT_ERROR (error, LF_ERROR_SPEC, cases[i].where);
    }
  /* A struct's type name and fields must match too. */
  g_autoptr (LfSpec) spec = parse ("{\"$struct\": \"MLP\", \"w\": \"a\"}");
  g_autoptr (LfNode) other = lf_struct_new_take ("Linear", "w", leaf (), NULL);
  GError *error = save_error (other, spec);
  LF_ASSERT_ERROR (error, LF_ERROR_SPEC, NULL);
}
END_TEST

START_TEST (test_bad_json)
{
  assert_parse_error ("{\"a\": [\"npy\",\n  }", LF_ERROR_PARSE, "line 2, column 3");
  assert_parse_error ("", LF_ERROR_PARSE, "empty document");
  assert_parse_error ("  \n ", LF_ERROR_PARSE, "empty document");
  assert_parse_error ("[\"a\"] [\"b\"]", LF_ERROR_PARSE, "line 1, column 7: unexpected data");
  assert_parse_error ("\"a\" x", LF_ERROR_PARSE, "unexpected data");
  assert_parse_error ("{\"a\": \"a\",\n \"a\": \"b\"}", LF_ERROR_PARSE,
                      "line 2, column 9: duplicate member \"a\"");
  /* Duplicates are found by counting members against colons, then named by
   * a second parse: deep inside, written with an escape, after colons in
   * strings, and before a string that is not UTF-8. */
  assert_parse_error ("{\"x:\": \"a:b\", \"y\": [{\"b\": \"c\", \"c\": 1},\n {\"b\": 1, \"b\": 2}]}",
                      LF_ERROR_PARSE, "line 2, column 16: duplicate member \"b\"");
  assert_parse_error ("{\"ab\": 1, \"a\\u0062\": 2}", LF_ERROR_PARSE,
                      "duplicate member \"ab\"");
  assert_parse_error ("{\"a\\udc00b\": 1, \"c\": 1, \"c\": 2}", LF_ERROR_PARSE,
                      "duplicate member \"c\"");
  assert_parse_error ("{\"a\\udc00b\": 1, \"c\": 2}", LF_ERROR_PARSE, "not valid UTF-8");
  /* Nesting deep enough to overflow json-glib's stack is refused first. */
  GString *deep = g_string_new (NULL);
  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  assert_parse_error (deep->str, LF_ERROR_PARSE, "nesting deeper than 256 levels");
  g_string_free (deep, TRUE);
  /* 200 levels are fine. */
  GString *nested = g_string_new (NULL);
  for (int i = 0; i < 200; i++)
    g_string_append_c (nested, '[');
  g_string_append (nested, "\"a\"");
  for (int i = 0; i < 200; i++)
    g_string_append_c (nested, ']');
  g_autoptr (LfSpec) spec = parse (nested->str);
  ck_assert_ptr_nonnull (spec);
  g_string_free (nested, TRUE);
}
END_TEST

START_TEST (test_unknown_codec)
{
  assert_parse_error ("{\"layers\": [\"a\", \"float61\"]}", LF_ERROR_UNKNOWN_CODEC,
                      "$.layers[1]: unknown codec 'float61'");
  assert_parse_error ("[\"float61\"]", LF_ERROR_UNKNOWN_CODEC, "registered: ");
  assert_parse_error ("[\"float61\"]", LF_ERROR_UNKNOWN_CODEC, "npy");
  assert_parse_error ("\"nope\"", LF_ERROR_UNKNOWN_CODEC, "JSON spec: $: unknown codec");
  assert_parse_error ("{\"w\": \"opt(level=99)\"}", LF_ERROR_OPTIONS, "$.w: ");
  assert_parse_error ("{\"w\": \"opt(speed=1)\"}", LF_ERROR_OPTIONS, "$.w: ");
  assert_parse_error ("{\"w\": \"opt(inner=zz)\"}", LF_ERROR_UNKNOWN_CODEC, "$.w: ");
  assert_parse_error ("{\"w\": \"opt(level=\"}", LF_ERROR_PARSE, "$.w: ");
  assert_parse_error ("{\"a b\": \"?\"}", LF_ERROR_PARSE, "$['a b']: ");
}
END_TEST

/* lf_spec_parse: JSON when the text starts with {, [ or ", white space
 * first or not; any other text is one reference. */
START_TEST (test_parse_either_form)
{
  const char *texts[] = { "b", "  b", "\"b\"", " [\"b\", \"b\", \"b\"]",
                          "\n{\"x\": \"b\", \"y\": [\"b\", \"b\"]}" };
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      GError *error = NULL;
      g_autoptr (LfSpec) spec = lf_spec_parse (registry, texts[i], &error);
      LF_ASSERT_NO_ERROR (error);
      LfNode *tree = i < 4 ? lf_list_new_take (3, leaf (), leaf (), leaf ())
                           : lf_dict_new_take ("x", leaf (), "y", lf_list_new_take (2, leaf (),
                                                                                    leaf ()),
                                               NULL);
      g_autofree char *tags = save_tags (tree, spec);
      ck_assert_str_eq (tags, "BBB");
      lf_node_unref (tree);
    }
  GError *error = NULL;
  ck_assert_ptr_null (lf_spec_parse (registry, "float61", &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNKNOWN_CODEC, "unknown codec 'float61'");
  ck_assert_ptr_null (lf_spec_parse (registry, "[\"b\"", &error));
  LF_ASSERT_ERROR (error, LF_ERROR_PARSE, "JSON spec");
  ck_assert_ptr_null (lf_spec_parse (registry, "b(level=", &error));
  ck_assert (error != NULL && error->code != LF_ERROR_UNKNOWN_CODEC);
  g_clear_error (&error);
}
END_TEST

START_TEST (test_bad_forms)
{
  assert_parse_error ("{\"a\": 3}", LF_ERROR_PARSE,
                      "$.a: expected a codec reference (a string), a list, an object or "
                      "null, found a number");
  assert_parse_error ("[true]", LF_ERROR_PARSE, "$[0]: expected a codec reference");
  assert_parse_error ("{\"$tuple\": [\"a\"], \"x\": \"a\"}", LF_ERROR_PARSE,
                      "$: a \"$tuple\" object has no other members");
  assert_parse_error ("{\"t\": {\"$tuple\": \"a\"}}", LF_ERROR_PARSE,
                      "$.t.$tuple: expected an array of tuple items, found a string");
  assert_parse_error ("{\"$tuple\": [\"a\", 1]}", LF_ERROR_PARSE, "$.$tuple[1]: ");
  assert_parse_error ("{\"$struct\": 1, \"x\": \"a\"}", LF_ERROR_PARSE,
                      "$.$struct: expected the struct's type name, found a number");
  assert_parse_error ("{\"$struct\": \"\"}", LF_ERROR_PARSE, "$.$struct: ");
  assert_parse_error ("{\"$struct\": \"M\", \"\": \"a\"}", LF_ERROR_PARSE,
                      "a struct field needs a name");
  assert_parse_error ("{\"$list\": [\"a\"]}", LF_ERROR_PARSE,
                      "$.$list: unknown directive \"$list\"");
}
END_TEST

START_TEST (test_preconditions)
{
  LF_ASSERT_CRITICAL (ck_assert (lf_spec_parse_json (registry, NULL, NULL) == NULL));
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("spec-json");
  TCase *tc = tcase_create ("spec-json");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_string_root);
  tcase_add_test (tc, test_list_and_dict);
  tcase_add_test (tc, test_tuple_struct_none);
  tcase_add_test (tc, test_codec_maps_over_subtree);
  tcase_add_test (tc, test_dollar_keys);
  tcase_add_test (tc, test_nested_options);
  tcase_add_test (tc, test_load_back);
  tcase_add_test (tc, test_prefix_mismatch);
  tcase_add_test (tc, test_bad_json);
  tcase_add_test (tc, test_unknown_codec);
  tcase_add_test (tc, test_bad_forms);
  tcase_add_test (tc, test_parse_either_form);
  tcase_add_test (tc, test_preconditions);
  suite_add_tcase (suite, tc);
  return suite;
}
