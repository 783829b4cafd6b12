/* Path rules: syntax, glob semantics over keystr paths, first match wins,
 * the default codec, strict mode, errors naming the line, and the cost of
 * matching a 100,000-leaf tree (printed, not asserted). */
#include <time.h>
#include <glib/gstdio.h>
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
parse (const char *rules, const char *default_reference)
{
  GError *error = NULL;
  LfSpec *spec = lf_spec_parse_rules (registry, rules, default_reference, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (spec != NULL);
  return spec;
}

static void
assert_parse_error (const char *rules, LfError code, const char *needle)
{
  GError *error = NULL;
  ck_assert (lf_spec_parse_rules (registry, rules, NULL, &error) == NULL);
  LF_ASSERT_ERROR (error, code, needle);
}

/* A model of 8 leaves: .layers[0..2] are Linear(weight, bias), then
 * .embedding['tokens'] and .head. */
static LfNode *
model (void)
{
  LfNode *layers[3];
  for (int i = 0; i < 3; i++)
    layers[i] = lf_struct_new_take ("Linear", "weight", leaf (), "bias", leaf (), NULL);
  return lf_struct_new_take ("MLP",
                             "layers", lf_list_new_take (3, layers[0], layers[1], layers[2]),
                             "embedding", lf_dict_new_take ("tokens", leaf (), NULL),
                             "head", leaf (), NULL);
}

/* Leaf order: .layers[0].weight .layers[0].bias .layers[1].weight
 * .layers[1].bias .layers[2].weight .layers[2].bias .embedding['tokens'] .head */
static void
assert_tags (const char *rules, const char *default_reference, const char *expected)
{
  g_autoptr (LfSpec) spec = parse (rules, default_reference);
  g_autoptr (LfNode) tree = model ();
  g_autofree char *tags = save_tags (tree, spec);
  ck_assert_str_eq (tags, expected);
}

START_TEST (test_first_match_wins)
{
  assert_tags (".layers[*].weight = a\n"
               ".layers[*]* = b\n"      /* never reached by the weights */
               "*.bias = c\n"           /* never reached: line 2 catches the biases */
               "* = a\n",
               "c", "ABABABAA");
  assert_tags ("*.bias = c\n"
               ".layers[*]* = b\n",
               "a", "BCBCBCAA");
}
END_TEST

START_TEST (test_default_codec)
{
  /* No rule matches: the default codec; NULL means npy, which writes a
   * whole npy record for a scalar. */
  assert_tags (".head = b\n", "c", "CCCCCCCB");
  g_autoptr (LfSpec) spec = parse ("", NULL);
  g_autoptr (LfNode) tree = model ();
  g_autofree char *bytes = save_tags (tree, spec);
  ck_assert_int_eq (strncmp (bytes, "\x93NUMPY", 6), 0);
}
END_TEST

START_TEST (test_globs)
{
  /* `*` runs over any characters, brackets are literal. */
  assert_tags (".layers[*].weight = b\n", "a", "BABABAAA");
  /* `?` is one character. */
  assert_tags (".layers[?].bias = b\n", "a", "ABABABAA");
  assert_tags (".layers[1]* = b\n", "a", "AABBAAAA");
  /* Dict keys appear quoted in keystr paths. */
  assert_tags (".embedding['tokens'] = b\n", "a", "AAAAAABA");
  assert_tags ("*['tok*'] = b\n", "a", "AAAAAABA");
  /* An exact path with no wildcard. */
  assert_tags (".head = b\n", "a", "AAAAAAAB");
  /* `[*]` is not a one-key wildcard: it spans "0].inner[1". */
  g_autoptr (LfSpec) spec = parse (".layers[*].weight = b\n", "a");
  g_autoptr (LfNode) deep
    = lf_struct_new_take ("M", "layers",
                          lf_list_new_take (1, lf_dict_new_take ("inner",
                                                                 lf_list_new_take (2, leaf (), leaf ()),
                                                                 NULL)),
                          NULL);
  g_autoptr (LfNode) nested
    = lf_struct_new_take ("M", "layers",
                          lf_list_new_take (1, lf_struct_new_take ("Block", "inner",
                                                                   lf_list_new_take (1, lf_struct_new_take ("L", "weight", leaf (), NULL)),
                                                                   NULL)),
                          NULL);
  g_autofree char *tags = save_tags (nested, spec);
  ck_assert_str_eq (tags, "B"); /* .layers[0].inner[0].weight */
  g_autofree char *other = save_tags (deep, spec);
  ck_assert_str_eq (other, "AA");
  /* A single-leaf tree has the empty path, which `*` matches. */
  g_autoptr (LfSpec) star = parse ("* = b\n", "a");
  g_autoptr (LfNode) lone = leaf ();
  g_autofree char *lone_tags = save_tags (lone, star);
  ck_assert_str_eq (lone_tags, "B");
}
END_TEST

START_TEST (test_syntax)
{
  /* Comments, blank lines, CRLF, spaces around '=', '=' and '#' inside
   * quoted dict keys, '=' inside the codec's options. */
  g_autoptr (LfSpec) spec
    = parse ("# a comment\r\n"
             "\r\n"
             "   \t\n"
             "  ['a=b#c']   =   opt(level=4, inner=b)   # trailing comment\r\n"
             "[\"it's\"]=c\n"
             "*=a",
             NULL);
  g_autoptr (LfNode) tree = lf_dict_new_take ("a=b#c", leaf (), "it's", leaf (), "z", leaf (),
                                              NULL);
  g_autofree char *tags = save_tags (tree, spec);
  ck_assert_str_eq (tags, "4BCA");
  /* Unicode dict keys match through `*` and `?` (one character each). */
  g_autoptr (LfSpec) unicode = parse ("['\xc3\xa9t?'] = b\n*\xc3\xa9* = c\n", "a");
  g_autoptr (LfNode) keys = lf_dict_new_take ("\xc3\xa9t\xc3\xa9", leaf (),
                                              "x\xc3\xa9y", leaf (), "q", leaf (), NULL);
  g_autofree char *unicode_tags = save_tags (keys, unicode);
  ck_assert_str_eq (unicode_tags, "ACB"); /* keys in byte order: q, x\xc3\xa9y, \xc3\xa9t\xc3\xa9 */
}
END_TEST

START_TEST (test_load_back)
{
  g_autoptr (LfSpec) spec = parse (".layers[*].weight = b\n.head = npy\n", "a");
  g_autoptr (LfNode) tree = model ();
  g_autofree char *file = lf_test_path ("rules.eqx");
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves (file, tree, spec, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (file, tree, spec, NULL, NULL,
                                                          &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (loaded, tree));
  /* Loading with other rules reads the wrong tags: an error, not garbage. */
  g_autoptr (LfSpec) other = parse ("* = a\n", NULL);
  ck_assert (lf_tree_deserialise_leaves (file, tree, other, NULL, NULL, &error) == NULL);
  ck_assert (error != NULL);
  g_clear_error (&error);
}
END_TEST

START_TEST (test_strict_mode)
{
  g_autoptr (LfNode) tree = model ();
  g_autoptr (LfSpec) spec = parse ("# header\n"
                                   ".layers[*].weight = b\n"
                                   ".encoder* = a\n"
                                   ".layers[*]* = c\n"     /* only the biases are left for it */
                                   ".head = a\n"
                                   ".layers[0].weight = c\n" /* shadowed by line 2 */
                                   "* = a\n",               /* .embedding['tokens'] */
                                   NULL);
  GError *error = NULL;
  ck_assert (!lf_spec_check_rules_used (spec, tree, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_SPEC,
                   "rules: 2 rules match no leaf: line 3 (.encoder* = a), "
                   "line 6 (.layers[0].weight = c)");

  g_autoptr (LfSpec) all_used = parse (".layers[*]* = b\n* = a\n", NULL);
  ck_assert (lf_spec_check_rules_used (all_used, tree, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  /* Other spec kinds have no rules to check. */
  g_autoptr (LfSpec) codec = lf_spec_new_for_reference (registry, "a", &error);
  ck_assert (lf_spec_check_rules_used (codec, tree, NULL, NULL, &error));
  ck_assert (lf_spec_check_rules_used (NULL, tree, NULL, NULL, &error));

  /* is_leaf changes the paths the rules see. */
  g_autoptr (LfSpec) whole = parse (".layers[?] = b\n", NULL);
  ck_assert (!lf_spec_check_rules_used (whole, tree, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_SPEC, "line 1 (.layers[?] = b)");
}
END_TEST

static gboolean
linear_is_leaf (const LfNode *node, gpointer user_data)
{
  return lf_node_get_kind (node) == LF_NODE_STRUCT
         && strcmp (lf_struct_get_type_name (node), "Linear") == 0;
}

START_TEST (test_strict_mode_is_leaf)
{
  g_autoptr (LfNode) tree = model ();
  g_autoptr (LfSpec) spec = parse (".layers[?] = b\n", NULL);
  GError *error = NULL;
  ck_assert (lf_spec_check_rules_used (spec, tree, linear_is_leaf, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
}
END_TEST

START_TEST (test_errors_name_the_line)
{
  assert_parse_error ("* = a\n\n.layers[*] npy\n", LF_ERROR_PARSE,
                      "rules line 3: expected PATTERN = CODEC");
  assert_parse_error ("# c\n= npy\n", LF_ERROR_PARSE, "rules line 2: no pattern before '='");
  assert_parse_error (".x = \n", LF_ERROR_PARSE, "rules line 1: no codec after '='");
  assert_parse_error ("\n.x = # nothing\n", LF_ERROR_PARSE, "rules line 2: no codec");
  assert_parse_error (".a = a\n.b = float61\n", LF_ERROR_UNKNOWN_CODEC,
                      "rules line 2: unknown codec 'float61' (registered: ");
  assert_parse_error (".b = float61\n", LF_ERROR_UNKNOWN_CODEC, "npy");
  assert_parse_error (".b = opt(level=12)\n", LF_ERROR_OPTIONS, "rules line 1: ");
  assert_parse_error (".b = opt(volume=1)\n", LF_ERROR_OPTIONS, "rules line 1: ");
  assert_parse_error (".b = opt(level=\n", LF_ERROR_PARSE, "rules line 1: ");
  assert_parse_error ("\n\n['a = npy\n", LF_ERROR_PARSE, "rules line 3: unterminated quote");
  assert_parse_error ("layers[*].weight = a\n", LF_ERROR_PARSE,
                      "rules line 1: pattern \"layers[*].weight\" can never match");
  assert_parse_error ("* = a\n.x\xff = a\n", LF_ERROR_PARSE, "rules line 2: not valid UTF-8");

  GError *error = NULL;
  ck_assert (lf_spec_parse_rules (registry, "* = a\n", "nope", &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_UNKNOWN_CODEC, "rules: default codec: unknown codec 'nope'");
}
END_TEST

START_TEST (test_rules_file)
{
  g_autofree char *file = lf_test_path ("model.rules");
  const char *text = "# weights\n.layers[*].weight = b\n\n.head = c\n";
  lf_test_write_file (file, text, strlen (text));
  GError *error = NULL;
  g_autoptr (LfSpec) spec = lf_spec_load_rules_file (registry, file, "a", &error);
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) tree = model ();
  g_autofree char *tags = save_tags (tree, spec);
  ck_assert_str_eq (tags, "BABABAAC");

  /* Errors name the file and the line. */
  const char *bad = "* = a\n.x = zz\n";
  lf_test_write_file (file, bad, strlen (bad));
  ck_assert (lf_spec_load_rules_file (registry, file, NULL, &error) == NULL);
  g_autofree char *where = g_strdup_printf ("%s line 2: unknown codec 'zz'", file);
  LF_ASSERT_ERROR (error, LF_ERROR_UNKNOWN_CODEC, where);

  /* Strict mode names the file too. */
  lf_test_write_file (file, ".nothing = a\n", 13);
  g_autoptr (LfSpec) unused = lf_spec_load_rules_file (registry, file, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (!lf_spec_check_rules_used (unused, tree, NULL, NULL, &error));
  g_autofree char *strict = g_strdup_printf ("%s: 1 rule matches no leaf: line 1", file);
  LF_ASSERT_ERROR (error, LF_ERROR_SPEC, strict);

  lf_test_write_file (file, "* = a\n\0", 7);
  ck_assert (lf_spec_load_rules_file (registry, file, NULL, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_PARSE, "contains a NUL byte");

  g_autofree char *missing = lf_test_path ("missing.rules");
  ck_assert (lf_spec_load_rules_file (registry, missing, NULL, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "missing.rules");
}
END_TEST

START_TEST (test_preconditions)
{
  LF_ASSERT_CRITICAL (ck_assert (lf_spec_parse_rules (registry, NULL, NULL, NULL) == NULL));
  LF_ASSERT_CRITICAL (ck_assert (lf_spec_load_rules_file (registry, NULL, NULL, NULL) == NULL));
  g_autoptr (LfSpec) spec = parse ("* = a\n", NULL);
  LF_ASSERT_CRITICAL (ck_assert (!lf_spec_check_rules_used (spec, NULL, NULL, NULL, NULL)));
}
END_TEST

/* ---- cost ------------------------------------------------------------------- */

#define N_LAYERS 12500  /* x 8 leaves = 100,000 */

static LfNode *
big_model (void)
{
  GPtrArray *layers = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  gsize shape[2] = { 64, 64 };
  for (int i = 0; i < N_LAYERS; i++)
    g_ptr_array_add (layers,
                     lf_struct_new_take (
                       "Block",
                       "attn", lf_dict_new_take ("q", lf_array_new_abstract (LF_DTYPE_FLOAT32, 2, shape),
                                                 "k", lf_array_new_abstract (LF_DTYPE_FLOAT32, 2, shape),
                                                 "v", lf_array_new_abstract (LF_DTYPE_FLOAT32, 2, shape),
                                                 NULL),
                       "norm", lf_struct_new_take ("LayerNorm", "scale", leaf (), "shift", leaf (), NULL),
                       "mlp", lf_tuple_new_take (2, lf_array_new_abstract (LF_DTYPE_FLOAT32, 2, shape),
                                                 lf_array_new_abstract (LF_DTYPE_FLOAT32, 2, shape)),
                       "gate", leaf (), NULL));
  LfNode *tree = lf_struct_new_take ("Model", "layers",
                                     lf_list_new (layers->len, (LfNode *const *) layers->pdata),
                                     NULL);
  g_ptr_array_unref (layers);
  return tree;
}

static gboolean
count_path (const LfPath *path, LfNode *leaf_node, gpointer user_data)
{
  GString *text = ((gpointer *) user_data)[0];
  g_string_truncate (text, 0);
  lf_path_append_to (path, text);
  (*(gsize *) ((gpointer *) user_data)[1])++;
  return TRUE;
}

/* CPU time of this thread: the build machine is shared, wall time is noise. */
static gint64
cpu_microseconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

START_TEST (test_cost)
{
  g_autoptr (LfNode) tree = big_model ();
  /* Realistic rules; most leaves fall through several of them. */
  g_autoptr (LfSpec) spec = parse ("# transformer\n"
                                   ".layers[*].attn['q'] = a\n"
                                   ".layers[*].attn* = b\n"
                                   "*.norm.* = c\n"
                                   ".layers[?].gate = a\n"
                                   "*.mlp[1] = b\n"
                                   ".embedding* = c\n",
                                   "npy");
  GError *error = NULL;
  /* Baseline: visiting every leaf and formatting its path, no matching. */
  GString *text = g_string_new (NULL);
  gsize n = 0;
  gpointer walk[2] = { text, &n };
  gint64 start = cpu_microseconds ();
  lf_tree_foreach_leaf (tree, NULL, NULL, count_path, walk);
  gint64 walked = cpu_microseconds () - start;
  g_string_free (text, TRUE);
  ck_assert_uint_eq (n, 100000);

  /* Strict mode visits every leaf and matches its path against the rules. */
  start = cpu_microseconds ();
  gboolean all_used = lf_spec_check_rules_used (spec, tree, NULL, NULL, &error);
  gint64 matched = cpu_microseconds () - start;
  LF_ASSERT_ERROR (error, LF_ERROR_SPEC, "1 rule matches no leaf: line 7 (.embedding* = c)");
  ck_assert (!all_used);

  printf ("rules cost (CPU time): 100000 leaves, 6 rules: walk + paths %.1f ms, walk + "
          "paths + matching %.1f ms; matching alone ~%.3f ms per 1000 leaves\n",
          walked / 1000.0, matched / 1000.0, (matched - walked) / 1000.0 / 100.0);
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("rules");
  TCase *tc = tcase_create ("rules");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_first_match_wins);
  tcase_add_test (tc, test_default_codec);
  tcase_add_test (tc, test_globs);
  tcase_add_test (tc, test_syntax);
  tcase_add_test (tc, test_load_back);
  tcase_add_test (tc, test_strict_mode);
  tcase_add_test (tc, test_strict_mode_is_leaf);
  tcase_add_test (tc, test_errors_name_the_line);
  tcase_add_test (tc, test_rules_file);
  tcase_add_test (tc, test_preconditions);
  tcase_add_test (tc, test_cost);
  suite_add_tcase (suite, tc);
  return suite;
}
