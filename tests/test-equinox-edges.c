/* Where leafio used to differ from Equinox: the ".eqx" suffix of a path
 * ending in "/", a complex record loaded into a real scalar, and an
 * abstract leaf of `like` that the spec does not load. */
#include "test-common.h"

/* pathlib.Path (p) with ".eqx" as Equinox adds it (checked against Python
 * by hand: str (Path ("ckpt/")) == "ckpt", Path ("ckpt").with_suffix (".eqx")). */
START_TEST (test_suffix_like_pathlib)
{
  const char *const cases[][2] = {
    { "ckpt/", "ckpt.eqx" },          { "runs/ckpt//", "runs/ckpt.eqx" },
    { "ckpt/.", "ckpt.eqx" },         { "model.eqx/", "model.eqx" },
    { "/abs/dir/", "/abs/dir.eqx" },  { "model", "model.eqx" },
    { "model.eqx", "model.eqx" },     { "a.b/model", "a.b/model.eqx" },
    { ".hidden", ".hidden.eqx" },     { "trailing.", "trailing..eqx" },
    { "x.tar.gz", "x.tar.gz" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = lf_path_with_eqx_suffix (cases[i][0]);
      ck_assert_msg (strcmp (got, cases[i][1]) == 0, "%s gave %s, pathlib gives %s",
                     cases[i][0], got, cases[i][1]);
    }
  /* A save to "DIR/" writes DIR.eqx beside it. */
  g_autofree char *dir = lf_test_path ("ckpt/");
  g_autofree char *file = lf_test_path ("ckpt.eqx");
  g_autoptr (LfNode) tree = lf_list_new_take (1, lf_scalar_new_int (4));
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves (dir, tree, NULL, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert (g_file_test (file, G_FILE_TEST_IS_REGULAR));
}
END_TEST

/* type(x)(value.item()): float(1+0j) and int(1+0j) raise in Python,
 * bool(1+0j) does not; a complex like takes any value. */
START_TEST (test_complex_into_real_scalar_refused)
{
  g_autofree char *path = lf_test_path ("complex.eqx");
  g_autoptr (LfNode) saved = lf_list_new_take (2, lf_scalar_new_complex (1.0, 0.0),
                                               lf_scalar_new_complex (2.0, 3.0));
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves (path, saved, NULL, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  const LfDType refused[] = { LF_DTYPE_FLOAT64, LF_DTYPE_FLOAT32, LF_DTYPE_INT64,
                              LF_DTYPE_UINT8, LF_DTYPE_FLOAT16 };
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      guint8 zero[16] = { 0 };
      g_autoptr (LfNode) like = lf_list_new_take (2, lf_scalar_new (refused[i], zero),
                                                  lf_scalar_new_complex (0, 0));
      ck_assert_ptr_null (lf_tree_deserialise_leaves (path, like, NULL, NULL, NULL, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH, "a complex value does not load");
    }
  guint8 zero[16] = { 0 };
  g_autoptr (LfNode) like = lf_list_new_take (2, lf_scalar_new (LF_DTYPE_BOOL, zero),
                                              lf_scalar_new (LF_DTYPE_COMPLEX64, zero));
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (path, like, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (*(const guint8 *) lf_scalar_get_value (lf_node_get_child (loaded, 0)) == 1);
  const float *c = lf_scalar_get_value (lf_node_get_child (loaded, 1));
  ck_assert (c[0] == 2.0f && c[1] == 3.0f);
}
END_TEST

/* A spec that does not load an array keeps like's leaf; an abstract one
 * would come back without data, so the load fails naming it. */
START_TEST (test_unloaded_abstract_leaf_refused)
{
  g_autofree char *path = lf_test_path ("abstract.eqx");
  gsize shape[1] = { 3 };
  g_autoptr (LfNode) saved = lf_dict_new_take ("steps", lf_scalar_new_int (5),
                                               "w", lf_array_new_zeros (LF_DTYPE_FLOAT32, 1, shape),
                                               NULL);
  g_autoptr (LfSpec) skip = lf_test_spec ("skip-arrays");
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves (path, saved, skip, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);

  g_autoptr (LfNode) abstract_like = lf_dict_new_take (
      "steps", lf_scalar_new_int (0), "w", lf_array_new_abstract (LF_DTYPE_FLOAT32, 1, shape),
      NULL);
  ck_assert_ptr_null (lf_tree_deserialise_leaves (path, abstract_like, skip, NULL, NULL,
                                                  &error));
  LF_ASSERT_ERROR (error, LF_ERROR_SPEC, "['w']: like's leaf is abstract");

  /* A concrete like's array is kept, as Equinox keeps it. */
  g_autoptr (LfNode) concrete_like = lf_dict_new_take (
      "steps", lf_scalar_new_int (0), "w", lf_array_new_zeros (LF_DTYPE_FLOAT32, 1, shape),
      NULL);
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (path, concrete_like, skip, NULL,
                                                          NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (loaded, saved));
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("equinox-edges");
  TCase *tc = tcase_create ("edges");
  tcase_add_test (tc, test_suffix_like_pathlib);
  tcase_add_test (tc, test_complex_into_real_scalar_refused);
  tcase_add_test (tc, test_unloaded_abstract_leaf_refused);
  suite_add_tcase (suite, tc);
  return suite;
}
