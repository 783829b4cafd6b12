/* Tree skeletons in JSON: every node kind and scalar dtype, stable round
 * trips, loading a file through a skeleton, and every malformed input. */
#include <math.h>
#include "test-common.h"

static LfNode *
from_json (const char *json)
{
  GError *error = NULL;
  LfNode *tree = lf_tree_from_json (json, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (tree != NULL);
  return tree;
}

static void
assert_error (const char *json, const char *needle)
{
  GError *error = NULL;
  ck_assert (lf_tree_from_json (json, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_PARSE, needle);
}

/* to_json(from_json(json)) is `json` itself (compact form). */
static void
assert_round_trip (const char *json)
{
  g_autoptr (LfNode) tree = from_json (json);
  g_autofree char *text = lf_tree_to_json (tree, FALSE);
  ck_assert_str_eq (text, json);
  /* And stays so. */
  g_autoptr (LfNode) again = from_json (text);
  ck_assert (lf_tree_equal (tree, again));
}

START_TEST (test_containers_round_trip)
{
  assert_round_trip ("null");
  assert_round_trip ("[]");
  assert_round_trip ("{}");
  assert_round_trip ("{\"$tuple\":[]}");
  assert_round_trip ("{\"$struct\":\"Empty\"}");
  assert_round_trip ("{\"$struct\":\"MLP\",\"layers\":[{\"$struct\":\"Linear\","
                     "\"weight\":{\"dtype\":\"float32\",\"shape\":[4,2]},"
                     "\"bias\":{\"dtype\":\"float32\",\"shape\":[4]}}],"
                     "\"activation\":{\"opaque\":\"function\"},\"cache\":null}");
  assert_round_trip ("{\"$$ref\":{\"$tuple\":[{\"dtype\":\"bool\",\"shape\":[]},null]},"
                     "\"a\":{\"dtype\":{\"dtype\":\"uint8\",\"shape\":[0,3]}}}");
}
END_TEST

START_TEST (test_dict_order)
{
  /* Dicts come out in sorted key order whatever the input order. */
  g_autoptr (LfNode) tree = from_json ("{\"b\": null, \"a\": [], \"c\": {}}");
  g_autofree char *text = lf_tree_to_json (tree, FALSE);
  ck_assert_str_eq (text, "{\"a\":[],\"b\":null,\"c\":{}}");
}
END_TEST

START_TEST (test_leaves)
{
  g_autoptr (LfNode) tree = from_json ("{\"w\": {\"shape\": [768, 2304], \"dtype\": \"bfloat16\"},"
                                       " \"s\": {\"scalar\": \"int64\", \"value\": 3},"
                                       " \"f\": {\"opaque\": \"function\"}}");
  LfNode *w = lf_dict_lookup (tree, "w");
  ck_assert_int_eq (lf_node_get_kind (w), LF_NODE_ARRAY);
  ck_assert (lf_array_is_abstract (w));
  ck_assert_int_eq (lf_array_get_dtype (w), LF_DTYPE_BFLOAT16);
  ck_assert_uint_eq (lf_array_get_ndim (w), 2);
  ck_assert_uint_eq (lf_array_get_shape (w)[0], 768);
  ck_assert_uint_eq (lf_array_get_shape (w)[1], 2304);
  LfNode *s = lf_dict_lookup (tree, "s");
  ck_assert_int_eq (lf_scalar_get_dtype (s), LF_DTYPE_INT64);
  ck_assert_int_eq (lf_scalar_get_int (s), 3);
  LfNode *f = lf_dict_lookup (tree, "f");
  ck_assert_str_eq (lf_opaque_get_type_name (f), "function");
  ck_assert_ptr_null (lf_opaque_get_data (f));
  /* Member order inside a leaf does not matter; the output order is fixed. */
  g_autofree char *text = lf_tree_to_json (w, FALSE);
  ck_assert_str_eq (text, "{\"dtype\":\"bfloat16\",\"shape\":[768,2304]}");
}
END_TEST

START_TEST (test_scalars_round_trip)
{
  static const char *const cases[] = {
    "{\"scalar\":\"bool\",\"value\":true}",
    "{\"scalar\":\"bool\",\"value\":false}",
    "{\"scalar\":\"int8\",\"value\":-128}",
    "{\"scalar\":\"int16\",\"value\":32767}",
    "{\"scalar\":\"int32\",\"value\":-2147483648}",
    "{\"scalar\":\"int64\",\"value\":-9223372036854775808}",
    "{\"scalar\":\"int64\",\"value\":9223372036854775807}",
    "{\"scalar\":\"uint8\",\"value\":255}",
    "{\"scalar\":\"uint16\",\"value\":65535}",
    "{\"scalar\":\"uint32\",\"value\":4294967295}",
    "{\"scalar\":\"uint64\",\"value\":9223372036854775807}",
    "{\"scalar\":\"uint64\",\"value\":\"18446744073709551615\"}",
    "{\"scalar\":\"float16\",\"value\":0.0999755859375}",
    "{\"scalar\":\"bfloat16\",\"value\":0.10009765625}",
    "{\"scalar\":\"float32\",\"value\":0.10000000149011612}",
    "{\"scalar\":\"float64\",\"value\":0.10000000000000001}",
    "{\"scalar\":\"float64\",\"value\":1.7976931348623157e+308}",
    "{\"scalar\":\"float64\",\"value\":-0.0}",
    "{\"scalar\":\"float64\",\"value\":\"nan\"}",
    "{\"scalar\":\"float32\",\"value\":\"-inf\"}",
    "{\"scalar\":\"float16\",\"value\":\"inf\"}",
    "{\"scalar\":\"complex64\",\"value\":[1.5,-2.25]}",
    "{\"scalar\":\"complex128\",\"value\":[0.10000000000000001,\"nan\"]}",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    assert_round_trip (cases[i]);
}
END_TEST

START_TEST (test_scalar_values)
{
  /* Values round to the dtype as numpy does; integers are accepted for floats. */
  g_autoptr (LfNode) half = from_json ("{\"scalar\": \"float16\", \"value\": 0.1}");
  ck_assert (lf_scalar_get_float (half) == 0.0999755859375);
  g_autoptr (LfNode) single = from_json ("{\"scalar\": \"float32\", \"value\": 3}");
  ck_assert (lf_scalar_get_float (single) == 3.0);
  g_autoptr (LfNode) big = from_json ("{\"scalar\": \"uint64\", \"value\": \"18446744073709551615\"}");
  ck_assert_uint_eq (*(const guint64 *) lf_scalar_get_value (big), G_MAXUINT64);
  g_autoptr (LfNode) c = from_json ("{\"scalar\": \"complex128\", \"value\": [1, \"-inf\"]}");
  double re, im;
  lf_scalar_get_complex (c, &re, &im);
  ck_assert (re == 1.0 && isinf (im) && im < 0);
  /* Scalars built in C come out as their Python types. */
  g_autoptr (LfNode) tree = lf_tuple_new_take (4, lf_scalar_new_bool (TRUE),
                                               lf_scalar_new_int (-7),
                                               lf_scalar_new_float (2.5),
                                               lf_scalar_new_complex (1, 2));
  g_autofree char *text = lf_tree_to_json (tree, FALSE);
  ck_assert_str_eq (text, "{\"$tuple\":[{\"scalar\":\"bool\",\"value\":true},"
                          "{\"scalar\":\"int64\",\"value\":-7},"
                          "{\"scalar\":\"float64\",\"value\":2.5},"
                          "{\"scalar\":\"complex128\",\"value\":[1.0,2.0]}]}");
}
END_TEST

START_TEST (test_concrete_arrays)
{
  /* A concrete array's skeleton is its dtype and shape. */
  gsize shape[3] = { 2, 0, 5 };
  g_autoptr (LfNode) tree = lf_list_new_take (1, lf_array_new_zeros (LF_DTYPE_COMPLEX64, 3, shape));
  g_autofree char *text = lf_tree_to_json (tree, FALSE);
  ck_assert_str_eq (text, "[{\"dtype\":\"complex64\",\"shape\":[2,0,5]}]");
  g_autoptr (LfNode) back = from_json (text);
  ck_assert (lf_array_is_abstract (lf_node_get_child (back, 0)));
}
END_TEST

START_TEST (test_pretty)
{
  g_autoptr (LfNode) tree = from_json ("{\"a\": [{\"dtype\": \"int8\", \"shape\": [1]}]}");
  g_autofree char *text = lf_tree_to_json (tree, TRUE);
  ck_assert_ptr_nonnull (strchr (text, '\n'));
  ck_assert_ptr_nonnull (strstr (text, "  \"a\""));
  g_autoptr (LfNode) back = from_json (text);
  ck_assert (lf_tree_equal (tree, back));
}
END_TEST

/* Python's leaf order and C's agree, so a skeleton loads a file saved from
 * the concrete tree. */
START_TEST (test_load_with_skeleton)
{
  gsize shape[2] = { 2, 3 };
  gint32 values[6] = { 1, -2, 3, -4, 5, -6 };
  g_autoptr (LfNode) tree
    = lf_struct_new_take ("Model",
                          "w", lf_array_new_copy (LF_DTYPE_INT32, 2, shape, values),
                          "opts", lf_dict_new_take ("lr", lf_scalar_new_float (0.5),
                                                    "steps", lf_scalar_new_int (10),
                                                    "act", lf_opaque_new ("function", NULL, NULL),
                                                    NULL),
                          "none", lf_none_new (), NULL);
  g_autofree char *file = lf_test_path ("skeleton.eqx");
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves (file, tree, NULL, NULL, NULL, &error));
  g_autofree char *json = lf_tree_to_json (tree, TRUE);
  g_autofree char *skeleton_file = lf_test_path ("skeleton.json");
  lf_test_write_file (skeleton_file, json, strlen (json));
  g_autoptr (LfNode) like = lf_tree_from_json_file (skeleton_file, &error);
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (file, like, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  LfNode *w = lf_struct_lookup (loaded, "w");
  ck_assert (!lf_array_is_abstract (w));
  ck_assert_int_eq (memcmp (lf_array_get_data (w), values, sizeof values), 0);
  LfNode *opts = lf_struct_lookup (loaded, "opts");
  ck_assert (lf_scalar_get_float (lf_dict_lookup (opts, "lr")) == 0.5);
  ck_assert_int_eq (lf_scalar_get_int (lf_dict_lookup (opts, "steps")), 10);
  /* The opaque placeholder is like's own node. */
  ck_assert_ptr_eq (lf_dict_lookup (opts, "act"),
                    lf_dict_lookup (lf_struct_lookup (like, "opts"), "act"));
}
END_TEST

START_TEST (test_malformed)
{
  assert_error ("{\"a\": [1,\n", "skeleton: line 2");
  assert_error ("", "skeleton: empty document");
  assert_error ("null null", "unexpected data after the JSON value");
  assert_error ("{\"a\": null, \"a\": []}", "duplicate member \"a\"");
  /* Escapes JSON does not have (json-glib reads "\333" as an octal byte,
   * which is not UTF-8), and a lone surrogate (refused, in a message that
   * is UTF-8); JSON's own escapes pass. */
  assert_error ("{\"k\\333\": null}", "line 1, column 4: an escape JSON does not have");
  assert_error ("{\"k\\x41\": null}", "an escape JSON does not have");
  assert_error ("{\"k\\u12\": null}", "an escape JSON does not have");
  assert_error ("{\"a\\u0000b\": null}", "a \\u0000 escape");
  assert_error ("{\"a\\udc00b\": null}", "not valid UTF-8");
  GError *surrogate = NULL;
  ck_assert_ptr_null (lf_tree_from_json ("{\"k\\ud800\": {\"opaque\": \"x\"}}", &surrogate));
  ck_assert (surrogate != NULL && g_utf8_validate (surrogate->message, -1, NULL));
  g_clear_error (&surrogate);
  g_autoptr (LfNode) escaped = lf_tree_from_json ("{\"k\\\"\\\\\\/\\t\\u00e9\": null}", NULL);
  ck_assert_ptr_nonnull (escaped);
  assert_error ("{\"layers\": [{\"weight\": {\"dtype\": \"float32\", \"shape\": [4]}},"
                " {\"weight\": {\"dtype\": \"float32\", \"shape\": [-4, 2]}}]}",
                "skeleton: $.layers[1].weight.shape[0]: expected a non-negative integer");
  assert_error ("{\"w\": {\"dtype\": \"float32\", \"shape\": [4, 2.5]}}",
                "$.w.shape[1]: expected a non-negative integer, found a number");
  assert_error ("{\"w\": {\"dtype\": \"float32\", \"shape\": [4, \"2\"]}}",
                "$.w.shape[1]: expected a non-negative integer, found a string");
  assert_error ("{\"w\": {\"dtype\": \"float32\", \"shape\": [9223372036854775808]}}",
                "$.w.shape[0]: expected a non-negative integer");
  assert_error ("{\"w\": {\"dtype\": \"float64\", \"shape\": [4294967296, 4294967296]}}",
                "$.w.shape: shape (4294967296, 4294967296) of float64 holds more bytes");
  assert_error ("{\"w\": {\"dtype\": \"float32\", \"shape\": 4}}",
                "$.w.shape: expected an array of non-negative integers, found a number");
  assert_error ("{\"w\": {\"dtype\": \"float61\", \"shape\": []}}",
                "$.w.dtype: unknown dtype \"float61\"");
  assert_error ("{\"w\": {\"dtype\": \"object\", \"shape\": []}}", "unknown dtype \"object\"");
  assert_error ("[{\"dtype\": 3, \"shape\": []}]", "$[0].dtype: expected a dtype name");
  assert_error ("[{\"dtype\": \"int8\"}]", "$[0]: an array leaf lacks the member \"shape\"");
  assert_error ("[{\"dtype\": \"int8\", \"shape\": [], \"order\": \"C\"}]",
                "$[0]: unknown member \"order\" in an array leaf (expected dtype, shape)");
  GString *dims = g_string_new ("[{\"dtype\": \"int8\", \"shape\": [1");
  for (int i = 0; i < 64; i++)
    g_string_append (dims, ", 1");
  g_string_append (dims, "]}]");
  assert_error (dims->str, "$[0].shape: 65 dimensions, at most 64");
  g_string_free (dims, TRUE);

  assert_error ("{\"s\": {\"scalar\": \"int8\", \"value\": 128}}",
                "$.s.value: integer out of the dtype's range for a int8 scalar");
  assert_error ("{\"s\": {\"scalar\": \"uint8\", \"value\": -1}}", "$.s.value: integer out");
  assert_error ("{\"s\": {\"scalar\": \"uint16\", \"value\": \"70000\"}}", "$.s.value: integer out");
  assert_error ("{\"s\": {\"scalar\": \"int64\", \"value\": \"5\"}}",
                "$.s.value: expected an integer");
  assert_error ("{\"s\": {\"scalar\": \"int32\", \"value\": 1.5}}",
                "$.s.value: expected an integer for a int32 scalar, found a number");
  assert_error ("{\"s\": {\"scalar\": \"bool\", \"value\": 1}}",
                "$.s.value: expected true or false");
  assert_error ("{\"s\": {\"scalar\": \"float32\", \"value\": \"NaN\"}}",
                "$.s.value: expected a number, \"nan\", \"inf\" or \"-inf\"");
  assert_error ("{\"s\": {\"scalar\": \"complex64\", \"value\": [1]}}",
                "$.s.value: expected [real, imaginary] numbers");
  assert_error ("{\"s\": {\"scalar\": \"complex64\", \"value\": 1}}",
                "$.s.value: expected [real, imaginary]");
  assert_error ("{\"s\": {\"scalar\": \"int8\"}}", "$.s: a scalar leaf lacks the member \"value\"");
  assert_error ("{\"s\": {\"scalar\": \"int9\", \"value\": 1}}", "$.s.scalar: unknown dtype");
  assert_error ("{\"o\": {\"opaque\": 5}}", "$.o.opaque: expected a type name, found a number");
  assert_error ("{\"o\": {\"opaque\": \"f\", \"data\": 1}}", "$.o: unknown member \"data\"");
  assert_error ("{\"x\": \"npy\"}", "$.x: expected a leaf object");
  assert_error ("[1]", "$[0]: expected a leaf object");
  assert_error ("{\"$tuple\": 1}", "$.$tuple: expected an array");
  assert_error ("{\"$struct\": \"M\", \"$x\": null}", "$.$x: unknown directive");
}
END_TEST

START_TEST (test_file_errors)
{
  GError *error = NULL;
  g_autofree char *missing = lf_test_path ("missing.json");
  ck_assert (lf_tree_from_json_file (missing, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "missing.json");

  g_autofree char *bad = lf_test_path ("bad.json");
  const char *text = "{\n  \"w\": {\"dtype\": \"float32\", \"shape\": [-1]}\n}\n";
  lf_test_write_file (bad, text, strlen (text));
  ck_assert (lf_tree_from_json_file (bad, &error) == NULL);
  g_autofree char *where = g_strdup_printf ("%s: $.w.shape[0]: expected", bad);
  LF_ASSERT_ERROR (error, LF_ERROR_PARSE, where);

  lf_test_write_file (bad, "[\n[", 3);
  ck_assert (lf_tree_from_json_file (bad, &error) == NULL);
  g_autofree char *syntax = g_strdup_printf ("%s: line 2", bad);
  LF_ASSERT_ERROR (error, LF_ERROR_PARSE, syntax);
}
END_TEST

START_TEST (test_preconditions)
{
  LF_ASSERT_CRITICAL (ck_assert (lf_tree_from_json (NULL, NULL) == NULL));
  LF_ASSERT_CRITICAL (ck_assert (lf_tree_from_json_file (NULL, NULL) == NULL));
  LF_ASSERT_CRITICAL (ck_assert (lf_tree_to_json (NULL, FALSE) == NULL));
}
END_TEST

/* json-glib cannot print exponents; such values are strings and round-trip. */
START_TEST (test_exponent_values_round_trip)
{
  GError *error = NULL;
  g_autoptr (LfNode) tree = lf_list_new_take (3, lf_scalar_new_float (1e308),
                                              lf_scalar_new_complex (1.0, -2.5e-300),
                                              lf_scalar_new_float (0.25));
  g_autofree char *text = lf_tree_to_json (tree, FALSE);
  ck_assert_msg (strstr (text, "\"1e+308\"") != NULL, "%s", text);
  g_autoptr (LfNode) back = lf_tree_from_json (text, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (back, tree));
  g_autofree char *again = lf_tree_to_json (back, FALSE);
  ck_assert_str_eq (again, text);
  ck_assert_ptr_null (lf_tree_from_json ("{\"scalar\": \"float64\", \"value\": \"1e+400\"}", &error));
  ck_assert_int_eq (error->code, LF_ERROR_PARSE);
  g_clear_error (&error);
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("skeleton");
  TCase *tc = tcase_create ("skeleton");
  tcase_add_test (tc, test_containers_round_trip);
  tcase_add_test (tc, test_exponent_values_round_trip);
  tcase_add_test (tc, test_dict_order);
  tcase_add_test (tc, test_leaves);
  tcase_add_test (tc, test_scalars_round_trip);
  tcase_add_test (tc, test_scalar_values);
  tcase_add_test (tc, test_concrete_arrays);
  tcase_add_test (tc, test_pretty);
  tcase_add_test (tc, test_load_with_skeleton);
  tcase_add_test (tc, test_malformed);
  tcase_add_test (tc, test_file_errors);
  tcase_add_test (tc, test_preconditions);
  suite_add_tcase (suite, tc);
  return suite;
}
