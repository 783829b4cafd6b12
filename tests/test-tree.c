/* The tree model: constructors, getters, scalars, paths, traversal,
 * lf_tree_at and lf_tree_equal. */
#include <math.h>
#include <string.h>
#include "test-common.h"

/* Counts destroy notifies, to see when data is released and that it is
 * released once. */
static int destroyed;

static void
count_destroy (gpointer data)
{
  destroyed++;
}

static LfNode *
counted_opaque (void)
{
  return lf_opaque_new ("counted", &destroyed, count_destroy);
}

/* A float32 array of shape (rows, cols), or (rows,) when cols is 0,
 * holding first, first + 1, ... */
static LfNode *
f32_array (gsize rows, gsize cols, float first)
{
  gsize shape[2] = { rows, cols };
  gsize n = cols > 0 ? rows * cols : rows;
  float *data = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    data[i] = first + (float) i;
  return lf_array_new_take (LF_DTYPE_FLOAT32, cols > 0 ? 2 : 1, shape, data);
}

static LfNode *
linear (gsize in, gsize out, float seed)
{
  return lf_struct_new_take ("Linear",
                             "weight", f32_array (out, in, seed),
                             "bias", f32_array (out, 0, seed + 100), NULL);
}

/* struct MLP { layers: [Linear(2->3), Linear(3->1)], activation: opaque } */
static LfNode *
mlp (void)
{
  return lf_struct_new_take ("MLP",
                             "layers", lf_list_new_take (2, linear (2, 3, 0), linear (3, 1, 10)),
                             "activation", lf_opaque_new ("relu", (gpointer) "relu", NULL),
                             NULL);
}

/* ---- kinds and containers ------------------------------------------------------- */

START_TEST (test_kind_names)
{
  const char *names[] = { "tuple", "list", "dict", "struct", "none", "array",
                          "scalar", "opaque" };
  for (int k = LF_NODE_TUPLE; k <= LF_NODE_OPAQUE; k++)
    ck_assert_str_eq (lf_node_kind_name ((LfNodeKind) k), names[k]);
  ck_assert_str_eq (lf_node_kind_name ((LfNodeKind) 99), "invalid");

  g_autoptr (LfNode) none = lf_none_new ();
  g_autoptr (LfNode) scalar = lf_scalar_new_int (1);
  ck_assert_int_eq (lf_node_get_kind (none), LF_NODE_NONE);
  ck_assert (lf_node_is_container (none));
  ck_assert (!lf_node_is_container (scalar));
  ck_assert_uint_eq (lf_node_get_n_children (none), 0);
  ck_assert_uint_eq (lf_node_get_n_children (scalar), 0);
}
END_TEST

START_TEST (test_tuple_and_list)
{
  destroyed = 0;
  LfNode *a = lf_scalar_new_int (1);
  LfNode *b = counted_opaque ();
  LfNode *items[] = { a, b };
  g_autoptr (LfNode) tuple = lf_tuple_new (2, items);
  g_autoptr (LfNode) list = lf_list_new (2, items);
  lf_node_unref (a);
  lf_node_unref (b);
  ck_assert_int_eq (destroyed, 0);   /* the containers hold their own references */

  ck_assert_int_eq (lf_node_get_kind (tuple), LF_NODE_TUPLE);
  ck_assert_int_eq (lf_node_get_kind (list), LF_NODE_LIST);
  ck_assert (lf_node_is_container (list));
  ck_assert_uint_eq (lf_node_get_n_children (tuple), 2);
  ck_assert_ptr_eq (lf_node_get_child (tuple, 0), a);
  ck_assert_ptr_eq (lf_node_get_child (list, 1), b);

  g_autoptr (LfNode) empty = lf_list_new (0, NULL);
  ck_assert_uint_eq (lf_node_get_n_children (empty), 0);
  ck_assert_uint_eq (lf_tree_count_leaves (empty, NULL, NULL), 0);

  g_autoptr (LfNode) taken = lf_tuple_new_take (3, lf_scalar_new_int (7), lf_none_new (),
                                                counted_opaque ());
  ck_assert_uint_eq (lf_node_get_n_children (taken), 3);
  ck_assert_int_eq (lf_scalar_get_int (lf_node_get_child (taken, 0)), 7);
  ck_assert_int_eq (lf_node_get_kind (lf_node_get_child (taken, 1)), LF_NODE_NONE);
  g_clear_pointer (&taken, lf_node_unref);
  ck_assert_int_eq (destroyed, 1);   /* _take adopted the only reference */

  g_clear_pointer (&tuple, lf_node_unref);
  ck_assert_int_eq (destroyed, 1);
  g_clear_pointer (&list, lf_node_unref);
  ck_assert_int_eq (destroyed, 2);
}
END_TEST

START_TEST (test_dict_sorted)
{
  /* byte order of UTF-8 is code point order, as Python sorts str */
  const char *keys[] = { "b", "\xe6\x97\xa5\xe6\x9c\xac", "a", "\xc3\xa9", "Z", "ab", "" };
  const char *sorted[] = { "", "Z", "a", "ab", "b", "\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac" };
  LfNode *values[7];
  for (int i = 0; i < 7; i++)
    values[i] = lf_scalar_new_int (i);
  char buffer[8] = "b";
  keys[0] = buffer;
  g_autoptr (LfNode) dict = lf_dict_new (7, keys, values);
  buffer[0] = 'x';   /* keys are copied */
  for (int i = 0; i < 7; i++)
    lf_node_unref (values[i]);

  ck_assert_int_eq (lf_node_get_kind (dict), LF_NODE_DICT);
  ck_assert_uint_eq (lf_node_get_n_children (dict), 7);
  for (gsize i = 0; i < 7; i++)
    {
      ck_assert_str_eq (lf_dict_get_key (dict, i), sorted[i]);
      LfNode *child = lf_node_get_child (dict, i);
      ck_assert_ptr_eq (lf_dict_lookup (dict, sorted[i]), child);
    }
  ck_assert_int_eq (lf_scalar_get_int (lf_dict_lookup (dict, "b")), 0);
  ck_assert_int_eq (lf_scalar_get_int (lf_dict_lookup (dict, "\xc3\xa9")), 3);
  ck_assert_ptr_null (lf_dict_lookup (dict, "x"));
  ck_assert_ptr_null (lf_dict_lookup (dict, "c"));
  ck_assert_ptr_null (lf_dict_lookup (dict, "\xff"));

  g_autoptr (LfNode) taken = lf_dict_new_take ("w", lf_scalar_new_int (1),
                                               "v", lf_scalar_new_int (2), NULL);
  ck_assert_str_eq (lf_dict_get_key (taken, 0), "v");
  ck_assert_int_eq (lf_scalar_get_int (lf_node_get_child (taken, 0)), 2);

  g_autoptr (LfNode) empty = lf_dict_new_take (NULL, NULL);
  ck_assert_uint_eq (lf_node_get_n_children (empty), 0);
}
END_TEST

START_TEST (test_dict_duplicate_key)
{
  destroyed = 0;
  LfNode *value = counted_opaque ();
  const char *keys[] = { "a", "b", "a" };
  LfNode *values[] = { value, value, value };
  LfNode *dict = NULL;
  LF_ASSERT_CRITICAL (dict = lf_dict_new (3, keys, values));
  ck_assert_ptr_null (dict);
  lf_node_unref (value);
  ck_assert_int_eq (destroyed, 1);

  /* the _take form releases what it adopted */
  LF_ASSERT_CRITICAL (dict = lf_dict_new_take ("k", counted_opaque (),
                                               "k", counted_opaque (), NULL));
  ck_assert_ptr_null (dict);
  ck_assert_int_eq (destroyed, 3);
}
END_TEST

START_TEST (test_struct_order)
{
  const char *fields[] = { "zeta", "alpha", "mid" };
  LfNode *values[] = { lf_scalar_new_int (0), lf_scalar_new_int (1), lf_none_new () };
  g_autoptr (LfNode) s = lf_struct_new ("Point", 3, fields, values);
  for (int i = 0; i < 3; i++)
    lf_node_unref (values[i]);

  ck_assert_int_eq (lf_node_get_kind (s), LF_NODE_STRUCT);
  ck_assert_str_eq (lf_struct_get_type_name (s), "Point");
  ck_assert_uint_eq (lf_node_get_n_children (s), 3);
  for (gsize i = 0; i < 3; i++)
    {
      ck_assert_str_eq (lf_struct_get_field_name (s, i), fields[i]);
      ck_assert_ptr_eq (lf_struct_lookup (s, fields[i]), lf_node_get_child (s, i));
    }
  ck_assert_ptr_null (lf_struct_lookup (s, "beta"));

  g_autoptr (LfNode) empty = lf_struct_new_take ("Empty", NULL, NULL);
  ck_assert_uint_eq (lf_node_get_n_children (empty), 0);
  ck_assert_str_eq (lf_struct_get_type_name (empty), "Empty");
}
END_TEST

START_TEST (test_struct_bad_fields)
{
  destroyed = 0;
  LfNode *s = NULL;
  LF_ASSERT_CRITICAL (s = lf_struct_new_take ("S", "a", counted_opaque (),
                                              "a", counted_opaque (), NULL));
  ck_assert_ptr_null (s);
  LF_ASSERT_CRITICAL (s = lf_struct_new_take ("S", "", counted_opaque (), NULL));
  ck_assert_ptr_null (s);
  ck_assert_int_eq (destroyed, 3);
}
END_TEST

START_TEST (test_none_has_no_leaves)
{
  g_autoptr (LfNode) none = lf_none_new ();
  ck_assert_uint_eq (lf_tree_count_leaves (none, NULL, NULL), 0);
  g_autoptr (LfNode) tree = lf_list_new_take (3, lf_none_new (), lf_scalar_new_int (1),
                                              lf_tuple_new_take (1, lf_none_new ()));
  ck_assert_uint_eq (lf_tree_count_leaves (tree, NULL, NULL), 1);
}
END_TEST

/* ---- arrays and shapes -------------------------------------------------------- */

START_TEST (test_array_take_and_copy)
{
  gsize shape[2] = { 2, 3 };
  float *data = g_new (float, 6);
  for (int i = 0; i < 6; i++)
    data[i] = (float) i;
  g_autoptr (LfNode) taken = lf_array_new_take (LF_DTYPE_FLOAT32, 2, shape, data);
  shape[0] = 9;   /* the shape is copied */
  ck_assert_int_eq (lf_node_get_kind (taken), LF_NODE_ARRAY);
  ck_assert_int_eq (lf_array_get_dtype (taken), LF_DTYPE_FLOAT32);
  ck_assert_uint_eq (lf_array_get_ndim (taken), 2);
  ck_assert_uint_eq (lf_array_get_shape (taken)[0], 2);
  ck_assert_uint_eq (lf_array_get_shape (taken)[1], 3);
  ck_assert_uint_eq (lf_array_get_n_elements (taken), 6);
  ck_assert_uint_eq (lf_array_get_n_bytes (taken), 24);
  ck_assert (!lf_array_is_abstract (taken));
  ck_assert_ptr_eq (lf_array_get_data (taken), data);   /* adopted, not copied */
  ck_assert_uint_eq (g_bytes_get_size (lf_array_get_bytes (taken)), 24);

  double values[3] = { 1.5, 2.5, -3 };
  gsize three = 3;
  g_autoptr (LfNode) copy = lf_array_new_copy (LF_DTYPE_FLOAT64, 1, &three, values);
  ck_assert_ptr_ne (lf_array_get_data (copy), values);
  values[0] = 0;
  ck_assert (((const double *) lf_array_get_data (copy))[0] == 1.5);

  /* 0-d: shape NULL, one element */
  gint32 one = 42;
  g_autoptr (LfNode) zero_d = lf_array_new_copy (LF_DTYPE_INT32, 0, NULL, &one);
  ck_assert_uint_eq (lf_array_get_ndim (zero_d), 0);
  ck_assert_ptr_null (lf_array_get_shape (zero_d));
  ck_assert_uint_eq (lf_array_get_n_elements (zero_d), 1);
  ck_assert_int_eq (*(const gint32 *) lf_array_get_data (zero_d), 42);

  /* zero-size: still a usable data pointer */
  gsize empty_shape[3] = { 4, 0, 2 };
  g_autoptr (LfNode) empty = lf_array_new_copy (LF_DTYPE_INT16, 3, empty_shape, NULL);
  ck_assert_uint_eq (lf_array_get_n_elements (empty), 0);
  ck_assert_uint_eq (lf_array_get_n_bytes (empty), 0);
  ck_assert_ptr_nonnull (lf_array_get_data (empty));
  ck_assert (!lf_array_is_abstract (empty));
  g_autoptr (LfNode) empty_taken = lf_array_new_take (LF_DTYPE_INT16, 3, empty_shape, NULL);
  ck_assert_ptr_nonnull (lf_array_get_data (empty_taken));

  /* more dims than fit inline */
  gsize big_shape[7] = { 1, 2, 1, 2, 1, 2, 3 };
  g_autoptr (LfNode) seven = lf_array_new_zeros (LF_DTYPE_UINT8, 7, big_shape);
  ck_assert_uint_eq (lf_array_get_ndim (seven), 7);
  for (int i = 0; i < 7; i++)
    ck_assert_uint_eq (lf_array_get_shape (seven)[i], big_shape[i]);
  ck_assert_uint_eq (lf_array_get_n_bytes (seven), 24);
  const guint8 *z = lf_array_get_data (seven);
  for (int i = 0; i < 24; i++)
    ck_assert_uint_eq (z[i], 0);

  gsize max_shape[LF_MAX_NDIM];
  for (int i = 0; i < LF_MAX_NDIM; i++)
    max_shape[i] = 1;
  g_autoptr (LfNode) max_dims = lf_array_new_zeros (LF_DTYPE_BOOL, LF_MAX_NDIM, max_shape);
  ck_assert_uint_eq (lf_array_get_ndim (max_dims), LF_MAX_NDIM);
}
END_TEST

START_TEST (test_array_borrowed_and_bytes)
{
  static const guint16 data[4] = { 1, 2, 3, 4 };
  gsize shape[1] = { 4 };
  destroyed = 0;
  LfNode *borrowed = lf_array_new_borrowed (LF_DTYPE_UINT16, 1, shape, data,
                                            count_destroy, NULL);
  ck_assert_ptr_eq (lf_array_get_data (borrowed), data);
  /* the data outlives the node while someone holds its bytes */
  GBytes *bytes = g_bytes_ref (lf_array_get_bytes (borrowed));
  lf_node_unref (borrowed);
  ck_assert_int_eq (destroyed, 0);
  g_bytes_unref (bytes);
  ck_assert_int_eq (destroyed, 1);

  /* static data, no notify */
  g_autoptr (LfNode) fixed = lf_array_new_borrowed (LF_DTYPE_UINT16, 1, shape, data, NULL, NULL);
  ck_assert_ptr_eq (lf_array_get_data (fixed), data);

  /* a zero-copy slice keeps its parent alive */
  guint8 *raw = g_malloc (64);
  for (int i = 0; i < 64; i++)
    raw[i] = (guint8) i;
  GBytes *whole = g_bytes_new_with_free_func (raw, 64, count_destroy, NULL);
  GBytes *slice = g_bytes_new_from_bytes (whole, 16, 8);
  g_bytes_unref (whole);
  gsize two = 2;
  LfNode *from_bytes = lf_array_new_from_bytes (LF_DTYPE_INT32, 1, &two, slice);
  g_bytes_unref (slice);
  ck_assert_ptr_eq (lf_array_get_data (from_bytes), raw + 16);
  ck_assert_int_eq (destroyed, 1);
  lf_node_unref (from_bytes);
  ck_assert_int_eq (destroyed, 2);
  g_free (raw);
}
END_TEST

START_TEST (test_array_abstract)
{
  gsize shape[2] = { 5, 7 };
  g_autoptr (LfNode) a = lf_array_new_abstract (LF_DTYPE_BFLOAT16, 2, shape);
  ck_assert (lf_array_is_abstract (a));
  ck_assert_ptr_null (lf_array_get_data (a));
  ck_assert_ptr_null (lf_array_get_bytes (a));
  ck_assert_int_eq (lf_array_get_dtype (a), LF_DTYPE_BFLOAT16);
  ck_assert_uint_eq (lf_array_get_n_elements (a), 35);
  ck_assert_uint_eq (lf_array_get_n_bytes (a), 70);
  ck_assert_uint_eq (lf_tree_count_leaves (a, NULL, NULL), 1);
}
END_TEST

START_TEST (test_array_preconditions)
{
  gsize shape[2] = { 2, 2 };
  gsize huge[2] = { G_MAXSIZE / 2 + 1, 2 };
  gsize too_many_bytes[1] = { G_MAXSIZE / 4 + 1 };
  gsize many[LF_MAX_NDIM + 1];
  for (int i = 0; i <= LF_MAX_NDIM; i++)
    many[i] = 1;
  LfNode *node = NULL;

  LF_ASSERT_CRITICAL (node = lf_array_new_zeros (LF_DTYPE_INVALID, 2, shape));
  ck_assert_ptr_null (node);
  LF_ASSERT_CRITICAL (node = lf_array_new_zeros (LF_DTYPE_LAST, 2, shape));
  ck_assert_ptr_null (node);
  LF_ASSERT_CRITICAL (node = lf_array_new_abstract (LF_DTYPE_INT8, LF_MAX_NDIM + 1, many));
  ck_assert_ptr_null (node);
  LF_ASSERT_CRITICAL (node = lf_array_new_abstract (LF_DTYPE_INT8, 2, NULL));
  ck_assert_ptr_null (node);
  LF_ASSERT_CRITICAL (node = lf_array_new_abstract (LF_DTYPE_INT8, 2, huge));
  ck_assert_ptr_null (node);
  LF_ASSERT_CRITICAL (node = lf_array_new_abstract (LF_DTYPE_FLOAT64, 1, too_many_bytes));
  ck_assert_ptr_null (node);
  /* adopted data is released even when the call is refused */
  LF_ASSERT_CRITICAL (node = lf_array_new_take (LF_DTYPE_INVALID, 2, shape, g_malloc (4)));
  ck_assert_ptr_null (node);
  LF_ASSERT_CRITICAL (node = lf_array_new_take (LF_DTYPE_INT8, 2, shape, NULL));
  ck_assert_ptr_null (node);
  LF_ASSERT_CRITICAL (node = lf_array_new_copy (LF_DTYPE_INT8, 2, shape, NULL));
  ck_assert_ptr_null (node);
  LF_ASSERT_CRITICAL (node = lf_array_new_borrowed (LF_DTYPE_INT8, 2, shape, NULL, NULL, NULL));
  ck_assert_ptr_null (node);

  g_autoptr (GBytes) three = g_bytes_new ("abc", 3);
  LF_ASSERT_CRITICAL (node = lf_array_new_from_bytes (LF_DTYPE_INT8, 2, shape, three));
  ck_assert_ptr_null (node);
  LF_ASSERT_CRITICAL (node = lf_array_new_from_bytes (LF_DTYPE_INT8, 2, shape, NULL));
  ck_assert_ptr_null (node);

  /* getters refuse other kinds */
  g_autoptr (LfNode) scalar = lf_scalar_new_int (1);
  LfDType dtype = LF_DTYPE_INT8;
  LF_ASSERT_CRITICAL (dtype = lf_array_get_dtype (scalar));
  ck_assert_int_eq (dtype, LF_DTYPE_INVALID);
  gconstpointer data = NULL;
  LF_ASSERT_CRITICAL (data = lf_array_get_data (scalar));
  ck_assert_ptr_null (data);
}
END_TEST

START_TEST (test_shape_helpers)
{
  gsize n = 99;
  gsize s23[2] = { 2, 3 };
  ck_assert (lf_shape_n_elements (0, NULL, &n));
  ck_assert_uint_eq (n, 1);
  ck_assert (lf_shape_n_elements (2, s23, &n));
  ck_assert_uint_eq (n, 6);
  ck_assert (lf_shape_n_bytes (LF_DTYPE_COMPLEX128, 2, s23, &n));
  ck_assert_uint_eq (n, 96);
  ck_assert (lf_shape_n_bytes (LF_DTYPE_BOOL, 0, NULL, &n));
  ck_assert_uint_eq (n, 1);

  /* products that overflow gsize */
  gsize huge[2] = { G_MAXSIZE / 2 + 1, 2 };
  ck_assert (!lf_shape_n_elements (2, huge, &n));
  ck_assert (!lf_shape_n_bytes (LF_DTYPE_INT8, 2, huge, &n));
  gsize exact[2] = { G_MAXSIZE / 3, 3 };
  ck_assert (lf_shape_n_elements (2, exact, &n));
  ck_assert_uint_eq (n, G_MAXSIZE / 3 * 3);
  /* the element count fits, its byte size does not */
  gsize big[1] = { G_MAXSIZE / 4 + 1 };
  ck_assert (lf_shape_n_elements (1, big, &n));
  ck_assert (!lf_shape_n_bytes (LF_DTYPE_FLOAT32, 1, big, &n));
  ck_assert (lf_shape_n_bytes (LF_DTYPE_INT16, 1, big, &n));
  /* a zero dim does not hide an overflow of the others (numpy refuses it) */
  gsize zero_huge[3] = { G_MAXSIZE, 0, G_MAXSIZE };
  ck_assert (!lf_shape_n_elements (3, zero_huge, &n));
  gsize zero[3] = { 5, 0, 7 };
  ck_assert (lf_shape_n_elements (3, zero, &n));
  ck_assert_uint_eq (n, 0);
  ck_assert (lf_shape_n_bytes (LF_DTYPE_FLOAT64, 3, zero, &n));
  ck_assert_uint_eq (n, 0);
  /* the out argument is optional */
  ck_assert (lf_shape_n_elements (2, s23, NULL));

  gboolean ok = TRUE;
  LF_ASSERT_CRITICAL (ok = lf_shape_n_bytes (LF_DTYPE_INVALID, 2, s23, &n));
  ck_assert (!ok);
  LF_ASSERT_CRITICAL (ok = lf_shape_n_elements (2, NULL, &n));
  ck_assert (!ok);

  g_autofree char *s0 = lf_shape_to_string (0, NULL);
  g_autofree char *s1 = lf_shape_to_string (1, (gsize[]) { 3 });
  g_autofree char *s2 = lf_shape_to_string (2, s23);
  g_autofree char *s3 = lf_shape_to_string (3, zero);
  ck_assert_str_eq (s0, "()");
  ck_assert_str_eq (s1, "(3,)");
  ck_assert_str_eq (s2, "(2, 3)");
  ck_assert_str_eq (s3, "(5, 0, 7)");
}
END_TEST

/* ---- scalars ---------------------------------------------------------------------- */

START_TEST (test_scalar_python_types)
{
  g_autoptr (LfNode) b = lf_scalar_new_bool (42);
  g_autoptr (LfNode) i = lf_scalar_new_int (-7);
  g_autoptr (LfNode) f = lf_scalar_new_float (2.75);
  g_autoptr (LfNode) c = lf_scalar_new_complex (1.5, -2);

  ck_assert_int_eq (lf_node_get_kind (b), LF_NODE_SCALAR);
  ck_assert_int_eq (lf_scalar_get_dtype (b), LF_DTYPE_BOOL);
  ck_assert_int_eq (lf_scalar_get_dtype (i), LF_DTYPE_INT64);
  ck_assert_int_eq (lf_scalar_get_dtype (f), LF_DTYPE_FLOAT64);
  ck_assert_int_eq (lf_scalar_get_dtype (c), LF_DTYPE_COMPLEX128);
  ck_assert_uint_eq (*(const guint8 *) lf_scalar_get_value (b), 1);   /* normalised */
  ck_assert_int_eq (*(const gint64 *) lf_scalar_get_value (i), -7);
  ck_assert (*(const double *) lf_scalar_get_value (f) == 2.75);
  ck_assert (((const double *) lf_scalar_get_value (c))[1] == -2);

  ck_assert (lf_scalar_get_bool (b));
  ck_assert_int_eq (lf_scalar_get_int (b), 1);
  ck_assert (lf_scalar_get_float (b) == 1.0);
  ck_assert_int_eq (lf_scalar_get_int (i), -7);
  ck_assert (lf_scalar_get_float (i) == -7.0);
  ck_assert (lf_scalar_get_bool (i));
  ck_assert_int_eq (lf_scalar_get_int (f), 2);
  ck_assert (lf_scalar_get_float (f) == 2.75);
  double re = 0, im = 0;
  lf_scalar_get_complex (c, &re, &im);
  ck_assert (re == 1.5 && im == -2);
  ck_assert (lf_scalar_get_float (c) == 1.5);   /* real part */
  ck_assert_int_eq (lf_scalar_get_int (c), 1);
  lf_scalar_get_complex (i, &re, &im);
  ck_assert (re == -7 && im == 0);
  lf_scalar_get_complex (f, NULL, NULL);

  g_autoptr (LfNode) zero = lf_scalar_new_float (-0.0);
  ck_assert (!lf_scalar_get_bool (zero));
  g_autoptr (LfNode) nan = lf_scalar_new_float (NAN);
  ck_assert (lf_scalar_get_bool (nan));
  ck_assert_int_eq (lf_scalar_get_int (nan), 0);
  g_autoptr (LfNode) neg = lf_scalar_new_float (-3.9);
  ck_assert_int_eq (lf_scalar_get_int (neg), -3);   /* truncates toward zero */
  g_autoptr (LfNode) big = lf_scalar_new_float (1e300);
  ck_assert_int_eq (lf_scalar_get_int (big), G_MAXINT64);
  g_autoptr (LfNode) imag_only = lf_scalar_new_complex (0, 1);
  ck_assert (lf_scalar_get_bool (imag_only));
}
END_TEST

START_TEST (test_scalar_numpy_types)
{
  guint64 u64 = G_MAXUINT64;
  g_autoptr (LfNode) u = lf_scalar_new (LF_DTYPE_UINT64, &u64);
  ck_assert_int_eq (lf_scalar_get_int (u), G_MAXINT64);   /* saturates */
  ck_assert (lf_scalar_get_float (u) == 18446744073709551616.0);

  gint8 i8 = -128;
  g_autoptr (LfNode) s8 = lf_scalar_new (LF_DTYPE_INT8, &i8);
  ck_assert_int_eq (lf_scalar_get_int (s8), -128);
  ck_assert_int_eq (*(const gint8 *) lf_scalar_get_value (s8), -128);

  guint16 h = 0x3e00;   /* float16 1.5 */
  g_autoptr (LfNode) f16 = lf_scalar_new (LF_DTYPE_FLOAT16, &h);
  ck_assert (lf_scalar_get_float (f16) == 1.5);
  guint16 bf = 0xc040;  /* bfloat16 -3.0 */
  g_autoptr (LfNode) b16 = lf_scalar_new (LF_DTYPE_BFLOAT16, &bf);
  ck_assert (lf_scalar_get_float (b16) == -3.0);
  ck_assert_int_eq (lf_scalar_get_int (b16), -3);

  float c64[2] = { 0.5f, 0.25f };
  g_autoptr (LfNode) c = lf_scalar_new (LF_DTYPE_COMPLEX64, c64);
  double re, im;
  lf_scalar_get_complex (c, &re, &im);
  ck_assert (re == 0.5 && im == 0.25);

  float f32 = 0.1f;
  g_autoptr (LfNode) f = lf_scalar_new (LF_DTYPE_FLOAT32, &f32);
  ck_assert (lf_scalar_get_float (f) == (double) 0.1f);

  guint8 yes = 1;
  g_autoptr (LfNode) b = lf_scalar_new (LF_DTYPE_BOOL, &yes);
  ck_assert (lf_scalar_get_bool (b));

  LfNode *bad = NULL;
  LF_ASSERT_CRITICAL (bad = lf_scalar_new (LF_DTYPE_INVALID, &yes));
  ck_assert_ptr_null (bad);
  LF_ASSERT_CRITICAL (bad = lf_scalar_new (LF_DTYPE_INT8, NULL));
  ck_assert_ptr_null (bad);
  LfDType dtype = LF_DTYPE_BOOL;
  g_autoptr (LfNode) none = lf_none_new ();
  LF_ASSERT_CRITICAL (dtype = lf_scalar_get_dtype (none));
  ck_assert_int_eq (dtype, LF_DTYPE_INVALID);
}
END_TEST

/* Converts `from` to `dtype`, expecting success, and returns the node. */
static LfNode *
convert_ok (LfNode *from, LfDType dtype)
{
  GError *error = NULL;
  LfNode *to = lf_scalar_convert (from, dtype, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_ptr_nonnull (to);
  ck_assert_int_eq (lf_scalar_get_dtype (to), dtype);
  lf_node_unref (from);
  return to;
}

static void
convert_fails (LfNode *from, LfDType dtype, LfError code, const char *needle)
{
  GError *error = NULL;
  LfNode *to = lf_scalar_convert (from, dtype, &error);
  ck_assert_ptr_null (to);
  LF_ASSERT_ERROR (error, code, needle);
  lf_node_unref (from);
}

#define VALUE_AS(type, node) (*(const type *) lf_scalar_get_value (node))

START_TEST (test_scalar_convert_ints)
{
  g_autoptr (LfNode) a = convert_ok (lf_scalar_new_int (127), LF_DTYPE_INT8);
  ck_assert_int_eq (VALUE_AS (gint8, a), 127);
  g_autoptr (LfNode) b = convert_ok (lf_scalar_new_int (-128), LF_DTYPE_INT8);
  ck_assert_int_eq (VALUE_AS (gint8, b), -128);
  g_autoptr (LfNode) c = convert_ok (lf_scalar_new_int (65535), LF_DTYPE_UINT16);
  ck_assert_uint_eq (VALUE_AS (guint16, c), 65535);
  g_autoptr (LfNode) d = convert_ok (lf_scalar_new_int (G_MAXINT64), LF_DTYPE_UINT64);
  ck_assert_uint_eq (VALUE_AS (guint64, d), (guint64) G_MAXINT64);
  g_autoptr (LfNode) e = convert_ok (lf_scalar_new_int (G_MININT32), LF_DTYPE_INT32);
  ck_assert_int_eq (VALUE_AS (gint32, e), G_MININT32);
  g_autoptr (LfNode) f = convert_ok (lf_scalar_new_bool (TRUE), LF_DTYPE_INT64);
  ck_assert_int_eq (VALUE_AS (gint64, f), 1);
  g_autoptr (LfNode) g = convert_ok (lf_scalar_new_int (3), LF_DTYPE_BOOL);
  ck_assert_uint_eq (VALUE_AS (guint8, g), 1);
  g_autoptr (LfNode) h = convert_ok (lf_scalar_new_int (0), LF_DTYPE_BOOL);
  ck_assert_uint_eq (VALUE_AS (guint8, h), 0);
  guint32 u32 = G_MAXUINT32;
  g_autoptr (LfNode) i = convert_ok (lf_scalar_new (LF_DTYPE_UINT32, &u32), LF_DTYPE_INT64);
  ck_assert_int_eq (VALUE_AS (gint64, i), G_MAXUINT32);

  /* numpy 2: np.int8(300) raises OverflowError */
  convert_fails (lf_scalar_new_int (300), LF_DTYPE_INT8, LF_ERROR_OVERFLOW, "300");
  convert_fails (lf_scalar_new_int (-129), LF_DTYPE_INT8, LF_ERROR_OVERFLOW, "int8");
  convert_fails (lf_scalar_new_int (-1), LF_DTYPE_UINT8, LF_ERROR_OVERFLOW, "-1");
  convert_fails (lf_scalar_new_int (-1), LF_DTYPE_UINT64, LF_ERROR_OVERFLOW, "uint64");
  convert_fails (lf_scalar_new_int (65536), LF_DTYPE_UINT16, LF_ERROR_OVERFLOW, "65536");
  convert_fails (lf_scalar_new_int ((gint64) G_MAXINT32 + 1), LF_DTYPE_INT32,
                 LF_ERROR_OVERFLOW, "2147483648");
  guint64 u64 = G_MAXUINT64;
  convert_fails (lf_scalar_new (LF_DTYPE_UINT64, &u64), LF_DTYPE_INT64, LF_ERROR_OVERFLOW,
                 "18446744073709551615 is out of range for int64");
}
END_TEST

START_TEST (test_scalar_convert_floats)
{
  /* int(x) truncates toward zero */
  g_autoptr (LfNode) a = convert_ok (lf_scalar_new_float (3.7), LF_DTYPE_INT32);
  ck_assert_int_eq (VALUE_AS (gint32, a), 3);
  g_autoptr (LfNode) b = convert_ok (lf_scalar_new_float (-3.7), LF_DTYPE_INT64);
  ck_assert_int_eq (VALUE_AS (gint64, b), -3);
  g_autoptr (LfNode) c = convert_ok (lf_scalar_new_float (255.9), LF_DTYPE_UINT8);
  ck_assert_uint_eq (VALUE_AS (guint8, c), 255);
  g_autoptr (LfNode) d = convert_ok (lf_scalar_new_float (-0.5), LF_DTYPE_UINT8);
  ck_assert_uint_eq (VALUE_AS (guint8, d), 0);
  g_autoptr (LfNode) e = convert_ok (lf_scalar_new_float (-0x1p63), LF_DTYPE_INT64);
  ck_assert_int_eq (VALUE_AS (gint64, e), G_MININT64);
  g_autoptr (LfNode) f = convert_ok (lf_scalar_new_float (0x1p64 - 2048), LF_DTYPE_UINT64);
  ck_assert_uint_eq (VALUE_AS (guint64, f), G_MAXUINT64 - 2047);

  convert_fails (lf_scalar_new_float (NAN), LF_DTYPE_INT64, LF_ERROR_OVERFLOW, "nan");
  convert_fails (lf_scalar_new_float (INFINITY), LF_DTYPE_INT8, LF_ERROR_OVERFLOW, "inf");
  convert_fails (lf_scalar_new_float (-INFINITY), LF_DTYPE_UINT32, LF_ERROR_OVERFLOW, "uint32");
  convert_fails (lf_scalar_new_float (0x1p63), LF_DTYPE_INT64, LF_ERROR_OVERFLOW, "int64");
  convert_fails (lf_scalar_new_float (256.0), LF_DTYPE_UINT8, LF_ERROR_OVERFLOW, "256");
  convert_fails (lf_scalar_new_float (-1.0), LF_DTYPE_UINT16, LF_ERROR_OVERFLOW, "out of range");
  convert_fails (lf_scalar_new_float (-129.5), LF_DTYPE_INT8, LF_ERROR_OVERFLOW, "float64");

  /* bool(x) is "nonzero": NaN is true, -0.0 false */
  g_autoptr (LfNode) g = convert_ok (lf_scalar_new_float (NAN), LF_DTYPE_BOOL);
  ck_assert_uint_eq (VALUE_AS (guint8, g), 1);
  g_autoptr (LfNode) h = convert_ok (lf_scalar_new_float (-0.0), LF_DTYPE_BOOL);
  ck_assert_uint_eq (VALUE_AS (guint8, h), 0);

  /* float to float: rounding, overflow to inf */
  g_autoptr (LfNode) i = convert_ok (lf_scalar_new_float (0.1), LF_DTYPE_FLOAT32);
  ck_assert (VALUE_AS (float, i) == 0.1f);
  g_autoptr (LfNode) j = convert_ok (lf_scalar_new_float (1e300), LF_DTYPE_FLOAT32);
  ck_assert (isinf (VALUE_AS (float, j)));
  g_autoptr (LfNode) k = convert_ok (lf_scalar_new_float (1.0), LF_DTYPE_FLOAT16);
  ck_assert_uint_eq (VALUE_AS (guint16, k), 0x3c00);
  g_autoptr (LfNode) l = convert_ok (lf_scalar_new_float (65520.0), LF_DTYPE_FLOAT16);
  ck_assert_uint_eq (VALUE_AS (guint16, l), 0x7c00);
  g_autoptr (LfNode) m = convert_ok (lf_scalar_new_float (-2.5), LF_DTYPE_BFLOAT16);
  ck_assert_uint_eq (VALUE_AS (guint16, m), 0xc020);
  g_autoptr (LfNode) n = convert_ok (lf_scalar_new_float (NAN), LF_DTYPE_FLOAT16);
  ck_assert (isnan (lf_scalar_get_float (n)));
  guint16 half = 0x3555;   /* float16 0.333251953125 */
  g_autoptr (LfNode) o = convert_ok (lf_scalar_new (LF_DTYPE_FLOAT16, &half), LF_DTYPE_FLOAT64);
  ck_assert (VALUE_AS (double, o) == 0.333251953125);

  /* int to float rounds to nearest */
  g_autoptr (LfNode) p = convert_ok (lf_scalar_new_int ((G_GINT64_CONSTANT (1) << 53) + 1),
                                     LF_DTYPE_FLOAT64);
  ck_assert (VALUE_AS (double, p) == 0x1p53);
  g_autoptr (LfNode) q = convert_ok (lf_scalar_new_int (2049), LF_DTYPE_FLOAT16);
  ck_assert (lf_scalar_get_float (q) == 2048.0);
}
END_TEST

START_TEST (test_scalar_convert_complex)
{
  /* to complex: the imaginary part is 0 for reals */
  g_autoptr (LfNode) a = convert_ok (lf_scalar_new_int (3), LF_DTYPE_COMPLEX128);
  ck_assert (((const double *) lf_scalar_get_value (a))[0] == 3.0);
  ck_assert (((const double *) lf_scalar_get_value (a))[1] == 0.0);
  g_autoptr (LfNode) b = convert_ok (lf_scalar_new_complex (0.1, -0.2), LF_DTYPE_COMPLEX64);
  ck_assert (((const float *) lf_scalar_get_value (b))[0] == 0.1f);
  ck_assert (((const float *) lf_scalar_get_value (b))[1] == -0.2f);
  float c64[2] = { 1.5f, 2.5f };
  g_autoptr (LfNode) c = convert_ok (lf_scalar_new (LF_DTYPE_COMPLEX64, c64), LF_DTYPE_COMPLEX128);
  ck_assert (((const double *) lf_scalar_get_value (c))[1] == 2.5);

  /* from complex: the real part when the imaginary part is 0 */
  g_autoptr (LfNode) d = convert_ok (lf_scalar_new_complex (2.5, 0), LF_DTYPE_FLOAT32);
  ck_assert (VALUE_AS (float, d) == 2.5f);
  g_autoptr (LfNode) e = convert_ok (lf_scalar_new_complex (-7.9, -0.0), LF_DTYPE_INT16);
  ck_assert_int_eq (VALUE_AS (gint16, e), -7);
  g_autoptr (LfNode) f = convert_ok (lf_scalar_new_complex (0, 1), LF_DTYPE_BOOL);
  ck_assert_uint_eq (VALUE_AS (guint8, f), 1);

  convert_fails (lf_scalar_new_complex (1, 2), LF_DTYPE_FLOAT64, LF_ERROR_MISMATCH,
                 "imaginary");
  convert_fails (lf_scalar_new_complex (1, 2), LF_DTYPE_INT64, LF_ERROR_MISMATCH,
                 "to int64");
  convert_fails (lf_scalar_new_complex (1e10, 0), LF_DTYPE_INT16, LF_ERROR_OVERFLOW,
                 "complex128");

}
END_TEST

START_TEST (test_scalar_convert_all_pairs)
{
  /* 1 fits every dtype: every pair converts and keeps the value */
  for (int from = LF_DTYPE_BOOL; from < LF_DTYPE_LAST; from++)
    {
      g_autoptr (LfNode) one = lf_scalar_new_int (1);
      g_autoptr (LfNode) src = lf_scalar_convert (one, (LfDType) from, NULL);
      ck_assert_ptr_nonnull (src);
      for (int to = LF_DTYPE_BOOL; to < LF_DTYPE_LAST; to++)
        {
          GError *error = NULL;
          g_autoptr (LfNode) dst = lf_scalar_convert (src, (LfDType) to, &error);
          LF_ASSERT_NO_ERROR (error);
          ck_assert_int_eq (lf_scalar_get_dtype (dst), to);
          ck_assert (lf_scalar_get_float (dst) == 1.0);
          ck_assert_int_eq (lf_scalar_get_int (dst), 1);
        }
    }

  g_autoptr (LfNode) none = lf_none_new ();
  LfNode *bad = NULL;
  LF_ASSERT_CRITICAL (bad = lf_scalar_convert (none, LF_DTYPE_INT8, NULL));
  ck_assert_ptr_null (bad);
  g_autoptr (LfNode) one = lf_scalar_new_int (1);
  LF_ASSERT_CRITICAL (bad = lf_scalar_convert (one, LF_DTYPE_INVALID, NULL));
  ck_assert_ptr_null (bad);
}
END_TEST

/* ---- opaque ------------------------------------------------------------------------ */

START_TEST (test_opaque)
{
  destroyed = 0;
  char name[] = "activation";
  LfNode *node = lf_opaque_new (name, &destroyed, count_destroy);
  name[0] = 'X';
  ck_assert_int_eq (lf_node_get_kind (node), LF_NODE_OPAQUE);
  ck_assert_str_eq (lf_opaque_get_type_name (node), "activation");
  ck_assert_ptr_eq (lf_opaque_get_data (node), &destroyed);
  ck_assert (!lf_node_is_container (node));
  ck_assert_ptr_eq (lf_node_ref (node), node);
  lf_node_unref (node);
  ck_assert_int_eq (destroyed, 0);
  lf_node_unref (node);
  ck_assert_int_eq (destroyed, 1);

  g_autoptr (LfNode) plain = lf_opaque_new ("str", (gpointer) "hello", NULL);
  ck_assert_str_eq (lf_opaque_get_data (plain), "hello");
  ck_assert_uint_eq (lf_tree_count_leaves (plain, NULL, NULL), 1);
}
END_TEST

/* ---- traversal ----------------------------------------------------------------------- */

typedef struct {
  GPtrArray *paths;
  GPtrArray *leaves;
  int stop_after;   /* 0: never */
} Visit;

static gboolean
record_leaf (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  Visit *v = user_data;
  g_ptr_array_add (v->paths, lf_path_to_string (path));
  g_ptr_array_add (v->leaves, leaf);
  return v->stop_after == 0 || (int) v->leaves->len < v->stop_after;
}

static void
visit_init (Visit *v, int stop_after)
{
  v->paths = g_ptr_array_new_with_free_func (g_free);
  v->leaves = g_ptr_array_new ();
  v->stop_after = stop_after;
}

static void
visit_clear (Visit *v)
{
  g_ptr_array_unref (v->paths);
  g_ptr_array_unref (v->leaves);
}

static void
assert_paths (Visit *v, const char *const *expected, guint n)
{
  ck_assert_uint_eq (v->paths->len, n);
  for (guint i = 0; i < n; i++)
    ck_assert_str_eq (g_ptr_array_index (v->paths, i), expected[i]);
}

START_TEST (test_traversal_mlp)
{
  g_autoptr (LfNode) tree = mlp ();
  Visit v;
  visit_init (&v, 0);
  ck_assert (lf_tree_foreach_leaf (tree, NULL, NULL, record_leaf, &v));
  const char *expected[] = {
    ".layers[0].weight", ".layers[0].bias", ".layers[1].weight", ".layers[1].bias",
    ".activation",
  };
  assert_paths (&v, expected, G_N_ELEMENTS (expected));
  LfNode *layers = lf_struct_lookup (tree, "layers");
  LfNode *layer1 = lf_node_get_child (layers, 1);
  ck_assert_ptr_eq (g_ptr_array_index (v.leaves, 2), lf_struct_lookup (layer1, "weight"));
  ck_assert_int_eq (lf_node_get_kind (g_ptr_array_index (v.leaves, 4)), LF_NODE_OPAQUE);

  ck_assert_uint_eq (lf_tree_count_leaves (tree, NULL, NULL), 5);
  g_autoptr (GPtrArray) leaves = lf_tree_get_leaves (tree, NULL, NULL);
  ck_assert_uint_eq (leaves->len, 5);
  for (guint i = 0; i < 5; i++)
    ck_assert_ptr_eq (g_ptr_array_index (leaves, i), g_ptr_array_index (v.leaves, i));
  visit_clear (&v);

  /* stopping early */
  visit_init (&v, 2);
  ck_assert (!lf_tree_foreach_leaf (tree, NULL, NULL, record_leaf, &v));
  ck_assert_uint_eq (v.leaves->len, 2);
  visit_clear (&v);

  /* a leaf at the root has the empty path */
  g_autoptr (LfNode) scalar = lf_scalar_new_int (1);
  visit_init (&v, 0);
  lf_tree_foreach_leaf (scalar, NULL, NULL, record_leaf, &v);
  const char *root[] = { "" };
  assert_paths (&v, root, 1);
  visit_clear (&v);
}
END_TEST

START_TEST (test_traversal_mixed_order)
{
  /* dicts by sorted key, tuples by index, nested */
  g_autoptr (LfNode) tree =
    lf_tuple_new_take (3,
                       lf_dict_new_take ("b", lf_scalar_new_int (1),
                                         "a", lf_list_new_take (2, lf_scalar_new_int (2),
                                                                lf_none_new ()),
                                         "it's", lf_scalar_new_int (3), NULL),
                       lf_none_new (),
                       lf_scalar_new_float (4));
  Visit v;
  visit_init (&v, 0);
  lf_tree_foreach_leaf (tree, NULL, NULL, record_leaf, &v);
  const char *expected[] = { "[0]['a'][0]", "[0]['b']", "[0][\"it's\"]", "[2]" };
  assert_paths (&v, expected, G_N_ELEMENTS (expected));
  const gint64 values[] = { 2, 1, 3, 4 };
  for (guint i = 0; i < 4; i++)
    ck_assert_int_eq (lf_scalar_get_int (g_ptr_array_index (v.leaves, i)), values[i]);
  visit_clear (&v);
}
END_TEST

static gboolean
is_linear (const LfNode *node, gpointer user_data)
{
  (*(int *) user_data)++;
  return lf_node_get_kind (node) == LF_NODE_STRUCT
         && strcmp (lf_struct_get_type_name (node), "Linear") == 0;
}

static gboolean
is_none (const LfNode *node, gpointer user_data)
{
  return lf_node_get_kind (node) == LF_NODE_NONE;
}

START_TEST (test_is_leaf)
{
  g_autoptr (LfNode) tree = mlp ();
  int calls = 0;
  Visit v;
  visit_init (&v, 0);
  lf_tree_foreach_leaf (tree, is_linear, &calls, record_leaf, &v);
  const char *expected[] = { ".layers[0]", ".layers[1]", ".activation" };
  assert_paths (&v, expected, G_N_ELEMENTS (expected));
  ck_assert_int_eq (lf_node_get_kind (g_ptr_array_index (v.leaves, 0)), LF_NODE_STRUCT);
  /* called on every node reached: MLP, layers, 2 Linear, activation */
  ck_assert_int_eq (calls, 5);
  visit_clear (&v);

  calls = 0;
  ck_assert_uint_eq (lf_tree_count_leaves (tree, is_linear, &calls), 3);
  g_autoptr (GPtrArray) leaves = lf_tree_get_leaves (tree, is_linear, &calls);
  ck_assert_uint_eq (leaves->len, 3);

  /* is_leaf sees leaves too, and can make none a leaf */
  g_autoptr (LfNode) with_none = lf_list_new_take (2, lf_none_new (), lf_scalar_new_int (1));
  ck_assert_uint_eq (lf_tree_count_leaves (with_none, NULL, NULL), 1);
  ck_assert_uint_eq (lf_tree_count_leaves (with_none, is_none, NULL), 2);
  calls = 0;
  lf_tree_count_leaves (with_none, is_linear, &calls);
  ck_assert_int_eq (calls, 3);

  /* the root itself */
  g_autoptr (LfNode) lin = linear (1, 1, 0);
  visit_init (&v, 0);
  lf_tree_foreach_leaf (lin, is_linear, &calls, record_leaf, &v);
  const char *root[] = { "" };
  assert_paths (&v, root, 1);
  ck_assert_ptr_eq (g_ptr_array_index (v.leaves, 0), lin);
  visit_clear (&v);
}
END_TEST

/* ---- paths ----------------------------------------------------------------------------- */

static char *
key_text (const char *key)
{
  g_autoptr (LfPath) path = lf_path_new ();
  lf_path_push_key (path, key);
  return lf_path_to_string (path);
}

START_TEST (test_keystr)
{
  g_autoptr (LfPath) path = lf_path_new ();
  g_autofree char *root = lf_path_to_string (path);
  ck_assert_str_eq (root, "");
  ck_assert_uint_eq (lf_path_get_length (path), 0);

  lf_path_push_index (path, 1);
  lf_path_push_key (path, "a");
  lf_path_push_field (path, "weight");
  lf_path_push_index (path, -1);
  g_autofree char *text = lf_path_to_string (path);
  ck_assert_str_eq (text, "[1]['a'].weight[-1]");
  ck_assert_uint_eq (lf_path_get_length (path), 4);
  ck_assert_int_eq (lf_path_get_kind (path, 0), LF_KEY_INDEX);
  ck_assert_int_eq (lf_path_get_kind (path, 1), LF_KEY_DICT);
  ck_assert_int_eq (lf_path_get_kind (path, 2), LF_KEY_FIELD);
  ck_assert_int_eq (lf_path_get_index (path, 0), 1);
  ck_assert_int_eq (lf_path_get_index (path, 3), -1);
  ck_assert_str_eq (lf_path_get_name (path, 1), "a");
  ck_assert_str_eq (lf_path_get_name (path, 2), "weight");

  /* append_to adds to what is there */
  g_autoptr (GString) out = g_string_new ("model.eqx: ");
  lf_path_append_to (path, out);
  ck_assert_str_eq (out->str, "model.eqx: [1]['a'].weight[-1]");

  /* copies are deep and independent */
  g_autoptr (LfPath) copy = lf_path_copy (path);
  lf_path_pop (path);
  lf_path_pop (path);
  g_autofree char *short_text = lf_path_to_string (path);
  g_autofree char *copy_text = lf_path_to_string (copy);
  ck_assert_str_eq (short_text, "[1]['a']");
  ck_assert_str_eq (copy_text, "[1]['a'].weight[-1]");

  lf_path_pop (path);
  lf_path_pop (path);
  LF_ASSERT_CRITICAL (lf_path_pop (path));

  lf_path_push_index (path, G_MININT64);
  g_autofree char *min = lf_path_to_string (path);
  ck_assert_str_eq (min, "[-9223372036854775808]");
}
END_TEST

START_TEST (test_keystr_quoting)
{
  /* what Python's repr(str) writes */
  static const struct { const char *key, *text; } cases[] = {
    { "a", "['a']" },
    { "", "['']" },
    { "it's", "[\"it's\"]" },
    { "say \"hi\"", "['say \"hi\"']" },
    { "both ' and \"", "['both \\' and \"']" },
    { "back\\slash", "['back\\\\slash']" },
    { "tab\there", "['tab\\there']" },
    { "new\nline\r", "['new\\nline\\r']" },
    { "\x01\x1f\x7f", "['\\x01\\x1f\\x7f']" },
    { "caf\xc3\xa9", "['caf\xc3\xa9']" },                          /* printable: kept */
    { "\xe6\x97\xa5\xe6\x9c\xac", "['\xe6\x97\xa5\xe6\x9c\xac']" },
    { "\xf0\x9f\x98\x80", "['\xf0\x9f\x98\x80']" },                /* U+1F600 */
    { "nb\xc2\xa0sp", "['nb\\xa0sp']" },                            /* U+00A0 */
    { "\xc2\x85", "['\\x85']" },                                    /* U+0085 control */
    { "zw\xe2\x80\x8bsp", "['zw\\u200bsp']" },                      /* U+200B format */
    { "\xe2\x80\xa8", "['\\u2028']" },                              /* line separator */
    { "\xee\x80\x80", "['\\ue000']" },                              /* private use */
    { "\xf3\xa0\x80\x81", "['\\U000e0001']" },                      /* U+E0001 format */
    { "bad\xff", "['bad\\xff']" },                                  /* not UTF-8 */
    { "\xc3", "['\\xc3']" },                                        /* truncated UTF-8 */
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = key_text (cases[i].key);
      ck_assert_msg (strcmp (text, cases[i].text) == 0, "key %" G_GSIZE_FORMAT ": got %s, want %s",
                     i, text, cases[i].text);
    }
}
END_TEST

START_TEST (test_path_parse_round_trip)
{
  static const char *texts[] = {
    "", "[0]", "[-1]", ".layers[-1].weight", "[1]['a'].weight", "['']",
    "[\"it's\"]", "['both \\' and \"']", "['back\\\\slash']", "['tab\\there']",
    "['new\\nline\\r']", "['\\x01\\x7f']", "['caf\xc3\xa9']", "['nb\\xa0sp']",
    "['zw\\u200bsp']", "['\\U000e0001']", "[9223372036854775807]",
    "[-9223372036854775808]", "._private.x1[2]['k'][3]", ".caf\xc3\xa9",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      GError *error = NULL;
      g_autoptr (LfPath) path = lf_path_parse (texts[i], &error);
      LF_ASSERT_NO_ERROR (error);
      g_autofree char *back = lf_path_to_string (path);
      ck_assert_str_eq (back, texts[i]);
    }

  /* either quote style, any escape Python accepts in a repr */
  static const struct { const char *in, *key; } keys[] = {
    { "[\"a\"]", "a" },
    { "['it\\'s']", "it's" },
    { "[\"say \\\"hi\\\"\"]", "say \"hi\"" },
    { "['\\x41\\u00e9\\U0001F600']", "A\xc3\xa9\xf0\x9f\x98\x80" },
    { "['\\xE9']", "\xc3\xa9" },
    { "['\xe6\x97\xa5']", "\xe6\x97\xa5" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      GError *error = NULL;
      g_autoptr (LfPath) path = lf_path_parse (keys[i].in, &error);
      LF_ASSERT_NO_ERROR (error);
      ck_assert_uint_eq (lf_path_get_length (path), 1);
      ck_assert_int_eq (lf_path_get_kind (path, 0), LF_KEY_DICT);
      ck_assert_str_eq (lf_path_get_name (path, 0), keys[i].key);
    }

  GError *error = NULL;
  g_autoptr (LfPath) path = lf_path_parse (".layers[-2]['w']", &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_eq (lf_path_get_length (path), 3);
  ck_assert_int_eq (lf_path_get_kind (path, 0), LF_KEY_FIELD);
  ck_assert_str_eq (lf_path_get_name (path, 0), "layers");
  ck_assert_int_eq (lf_path_get_index (path, 1), -2);
  ck_assert_str_eq (lf_path_get_name (path, 2), "w");
}
END_TEST

START_TEST (test_path_parse_errors)
{
  static const struct { const char *text, *needle; } cases[] = {
    { "x", "expected '.' or '[' at position 0" },
    { "[0]x", "expected '.' or '[' at position 3" },
    { ".", "expected a field name at position 1" },
    { ".1a", "expected a field name at position 1" },
    { ".a.", "at position 3" },
    { "..a", "at position 1" },
    { "[", "expected an index or a quoted key at position 1" },
    { "[]", "at position 1" },
    { "[a]", "at position 1" },
    { "[+1]", "at position 1" },
    { "[ 1]", "at position 1" },
    { "[1", "expected ']' at position 2" },
    { "[1 ]", "expected ']' at position 2" },
    { "[1]]", "at position 3" },
    { "[-]", "expected a digit at position 2" },
    { "[1.5]", "expected ']' at position 2" },
    { "[9223372036854775808]", "index out of range at position 1" },
    { "[-9223372036854775809]", "index out of range at position 1" },
    { "[99999999999999999999999]", "out of range" },
    { "['a'", "expected ']' at position 4" },
    { "['a]", "unterminated string at position 4" },
    { "['a\"]", "unterminated string" },
    { "['\\q']", "unknown escape at position 2" },
    { "['\\", "at position 2" },
    { "['\\x4']", "truncated \\x escape at position 2" },
    { "['\\u12']", "truncated \\u escape" },
    { "['\\x00']", "no valid character at position 2" },
    { "['\\ud800']", "no valid character" },
    { "['\\U00110000']", "no valid character" },
    { "['\xff']", "not valid UTF-8" },
    { ".a\xff", "not valid UTF-8" },
    { "['a'']", "expected ']' at position 4" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GError *error = NULL;
      LfPath *path = lf_path_parse (cases[i].text, &error);
      ck_assert_msg (path == NULL, "parsed \"%s\"", cases[i].text);
      ck_assert_msg (error != NULL && strstr (error->message, cases[i].needle) != NULL,
                     "\"%s\": %s", cases[i].text, error ? error->message : "no error");
      LF_ASSERT_ERROR (error, LF_ERROR_PARSE, "cannot parse path");
    }
  /* the message quotes the text */
  GError *error = NULL;
  ck_assert_ptr_null (lf_path_parse (".layers[x]", &error));
  LF_ASSERT_ERROR (error, LF_ERROR_PARSE, "\".layers[x]\"");
}
END_TEST

/* ---- lookup and surgery -------------------------------------------------------------------- */

START_TEST (test_tree_get)
{
  g_autoptr (LfNode) tree = mlp ();
  GError *error = NULL;
  g_autoptr (LfPath) root = lf_path_new ();
  ck_assert_ptr_eq (lf_tree_get (tree, root, &error), tree);

  g_autoptr (LfPath) path = lf_path_parse (".layers[-1].bias", NULL);
  LfNode *bias = lf_tree_get (tree, path, &error);
  LF_ASSERT_NO_ERROR (error);
  LfNode *layer1 = lf_node_get_child (lf_struct_lookup (tree, "layers"), 1);
  ck_assert_ptr_eq (bias, lf_struct_lookup (layer1, "bias"));

  g_autoptr (LfNode) d = lf_dict_new_take ("k", lf_scalar_new_int (5), NULL);
  g_autoptr (LfPath) k = lf_path_parse ("['k']", NULL);
  ck_assert_int_eq (lf_scalar_get_int (lf_tree_get (d, k, NULL)), 5);

  static const struct { const char *path, *message; } missing[] = {
    { ".layers[5]", "no item [5] in list of 2 at .layers" },
    { ".layers[-3]", "no item [-3] in list of 2 at .layers" },
    { ".layers[0].scale", "no field .scale in struct Linear at .layers[0]" },
    { ".nope.deeper", "no field .nope in struct MLP at the root" },
    { "[0]", "no item [0] in struct MLP at the root" },
    { "['layers']", "no key ['layers'] in struct MLP at the root" },
    { ".layers.x", "no field .x in list of 2 at .layers" },
    { ".layers[0].weight[0]", "no item [0] in array at .layers[0].weight" },
    { ".activation.f", "no field .f in opaque at .activation" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (missing); i++)
    {
      g_autoptr (LfPath) p = lf_path_parse (missing[i].path, NULL);
      ck_assert_ptr_null (lf_tree_get (tree, p, &error));
      ck_assert_msg (error != NULL && strcmp (error->message, missing[i].message) == 0,
                     "%s: %s", missing[i].path, error ? error->message : "no error");
      LF_ASSERT_ERROR (error, LF_ERROR_NOT_FOUND, NULL);
    }
  g_autoptr (LfPath) missing_key = lf_path_parse ("['it\\'s']", NULL);
  ck_assert_ptr_null (lf_tree_get (d, missing_key, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_NOT_FOUND, "no key [\"it's\"] in dict at the root");
  g_autoptr (LfNode) none = lf_none_new ();
  ck_assert_ptr_null (lf_tree_get (none, k, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_NOT_FOUND, "no key ['k'] in none at the root");
  g_autoptr (LfNode) tuple = lf_tuple_new (0, NULL);
  g_autoptr (LfPath) zero = lf_path_parse ("[0]", NULL);
  ck_assert_ptr_null (lf_tree_get (tuple, zero, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_NOT_FOUND, "no item [0] in tuple of 0 at the root");
}
END_TEST

START_TEST (test_tree_at_leaf)
{
  g_autoptr (LfNode) tree = mlp ();
  g_autoptr (LfNode) before = mlp ();
  g_autoptr (LfNode) zero = lf_scalar_new_float (0);
  GError *error = NULL;
  g_autoptr (LfNode) out = lf_tree_at_str (tree, ".layers[0].bias", zero, &error);
  LF_ASSERT_NO_ERROR (error);

  /* the original is untouched */
  ck_assert (lf_tree_equal (tree, before));
  ck_assert (!lf_tree_equal (out, tree));

  LfNode *old_layers = lf_struct_lookup (tree, "layers");
  LfNode *new_layers = lf_struct_lookup (out, "layers");
  LfNode *old0 = lf_node_get_child (old_layers, 0);
  LfNode *new0 = lf_node_get_child (new_layers, 0);
  /* the path is rebuilt, the rest shared */
  ck_assert_ptr_ne (out, tree);
  ck_assert_ptr_ne (new_layers, old_layers);
  ck_assert_ptr_ne (new0, old0);
  ck_assert_ptr_eq (lf_struct_lookup (new0, "bias"), zero);
  ck_assert_ptr_eq (lf_struct_lookup (new0, "weight"), lf_struct_lookup (old0, "weight"));
  ck_assert_ptr_eq (lf_node_get_child (new_layers, 1), lf_node_get_child (old_layers, 1));
  ck_assert_ptr_eq (lf_struct_lookup (out, "activation"), lf_struct_lookup (tree, "activation"));
  ck_assert_str_eq (lf_struct_get_type_name (out), "MLP");
  ck_assert_str_eq (lf_struct_get_field_name (out, 1), "activation");
  ck_assert_str_eq (lf_struct_get_type_name (new0), "Linear");

  /* the result outlives the original */
  LfNode *weight = lf_struct_lookup (new0, "weight");
  g_clear_pointer (&tree, lf_node_unref);
  ck_assert_uint_eq (lf_array_get_n_elements (weight), 6);
}
END_TEST

START_TEST (test_tree_at_subtree)
{
  g_autoptr (LfNode) tree = mlp ();
  g_autoptr (LfNode) other = mlp ();
  LfNode *other_last = lf_node_get_child (lf_struct_lookup (other, "layers"), 1);
  GError *error = NULL;

  /* the Equinox partial-load pattern: put back the last layer */
  g_autoptr (LfNode) out = lf_tree_at_str (tree, ".layers[-1]", other_last, &error);
  LF_ASSERT_NO_ERROR (error);
  LfNode *layers = lf_struct_lookup (out, "layers");
  ck_assert_ptr_eq (lf_node_get_child (layers, 1), other_last);
  ck_assert_ptr_eq (lf_node_get_child (layers, 0),
                    lf_node_get_child (lf_struct_lookup (tree, "layers"), 0));
  ck_assert_int_eq (lf_node_get_kind (layers), LF_NODE_LIST);
  ck_assert (lf_tree_equal (out, tree));   /* same values */

  /* a replacement of another kind */
  g_autoptr (LfNode) none = lf_none_new ();
  g_autoptr (LfNode) no_layers = lf_tree_at_str (tree, ".layers", none, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_eq (lf_tree_count_leaves (no_layers, NULL, NULL), 1);

  /* the empty path replaces the root */
  g_autoptr (LfNode) root = lf_tree_at_str (tree, "", none, &error);
  ck_assert_ptr_eq (root, none);

  /* dicts keep their sorted keys; tuples stay tuples */
  g_autoptr (LfNode) d = lf_dict_new_take ("b", lf_tuple_new_take (2, lf_scalar_new_int (1),
                                                                   lf_scalar_new_int (2)),
                                           "a", lf_scalar_new_int (0), NULL);
  g_autoptr (LfNode) seven = lf_scalar_new_int (7);
  g_autoptr (LfPath) path = lf_path_new ();
  lf_path_push_key (path, "b");
  lf_path_push_index (path, -2);
  g_autoptr (LfNode) d2 = lf_tree_at (d, path, seven, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_str_eq (lf_dict_get_key (d2, 0), "a");
  ck_assert_str_eq (lf_dict_get_key (d2, 1), "b");
  ck_assert_ptr_eq (lf_dict_lookup (d2, "a"), lf_dict_lookup (d, "a"));
  LfNode *t = lf_dict_lookup (d2, "b");
  ck_assert_int_eq (lf_node_get_kind (t), LF_NODE_TUPLE);
  ck_assert_ptr_eq (lf_node_get_child (t, 0), seven);
  ck_assert_ptr_eq (lf_node_get_child (t, 1), lf_node_get_child (lf_dict_lookup (d, "b"), 1));
}
END_TEST

START_TEST (test_tree_at_errors)
{
  g_autoptr (LfNode) tree = mlp ();
  g_autoptr (LfNode) x = lf_scalar_new_int (1);
  GError *error = NULL;
  ck_assert_ptr_null (lf_tree_at_str (tree, ".layers[5]", x, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_NOT_FOUND, "no item [5] in list of 2 at .layers");
  ck_assert_ptr_null (lf_tree_at_str (tree, ".layers[-3].weight", x, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_NOT_FOUND, "no item [-3] in list of 2 at .layers");
  ck_assert_ptr_null (lf_tree_at_str (tree, ".layers[1].w", x, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_NOT_FOUND, "no field .w in struct Linear at .layers[1]");
  ck_assert_ptr_null (lf_tree_at_str (tree, ".layers[", x, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_PARSE, "position 8");
  g_autoptr (LfPath) path = lf_path_parse ("['a']", NULL);
  ck_assert_ptr_null (lf_tree_at (tree, path, x, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_NOT_FOUND, "no key ['a'] in struct MLP at the root");
  ck_assert_ptr_null (lf_tree_at (tree, path, x, NULL));
}
END_TEST

/* ---- equality ---------------------------------------------------------------------------------- */

START_TEST (test_tree_equal)
{
  g_autoptr (LfNode) a = mlp ();
  g_autoptr (LfNode) b = mlp ();
  ck_assert (lf_tree_equal (a, a));
  /* separately built trees: equal (their opaque leaves hold the same
   * static "relu" pointer) */
  ck_assert (lf_tree_equal (a, b));
  LfNode *act = lf_struct_lookup (a, "activation");
  g_autoptr (LfNode) b2 = lf_tree_at_str (b, ".activation", act, NULL);
  ck_assert (lf_tree_equal (a, b2));
  ck_assert (lf_tree_equal (b2, a));

  /* opaque: same data pointer is enough */
  int token;
  g_autoptr (LfNode) o1 = lf_opaque_new ("t", &token, NULL);
  g_autoptr (LfNode) o2 = lf_opaque_new ("other name", &token, NULL);
  g_autoptr (LfNode) o3 = lf_opaque_new ("t", &destroyed, NULL);
  ck_assert (lf_tree_equal (o1, o2));
  ck_assert (!lf_tree_equal (o1, o3));

  /* one difference anywhere */
  gsize s3 = 3, s31[2] = { 3, 1 };
  float data[3] = { 1, 2, 3 }, data2[3] = { 1, 2, 4 };
  g_autoptr (LfNode) arr = lf_array_new_copy (LF_DTYPE_FLOAT32, 1, &s3, data);
  g_autoptr (LfNode) same = lf_array_new_copy (LF_DTYPE_FLOAT32, 1, &s3, data);
  g_autoptr (LfNode) other_bytes = lf_array_new_copy (LF_DTYPE_FLOAT32, 1, &s3, data2);
  g_autoptr (LfNode) other_shape = lf_array_new_copy (LF_DTYPE_FLOAT32, 2, s31, data);
  g_autoptr (LfNode) other_dtype = lf_array_new_copy (LF_DTYPE_INT32, 1, &s3, data);
  g_autoptr (LfNode) abstract = lf_array_new_abstract (LF_DTYPE_FLOAT32, 1, &s3);
  g_autoptr (LfNode) abstract2 = lf_array_new_abstract (LF_DTYPE_FLOAT32, 1, &s3);
  g_autoptr (LfNode) abstract_other = lf_array_new_abstract (LF_DTYPE_FLOAT64, 1, &s3);
  ck_assert (lf_tree_equal (arr, same));
  ck_assert (!lf_tree_equal (arr, other_bytes));
  ck_assert (!lf_tree_equal (arr, other_shape));
  ck_assert (!lf_tree_equal (arr, other_dtype));
  ck_assert (!lf_tree_equal (arr, abstract));
  ck_assert (!lf_tree_equal (abstract, arr));
  ck_assert (lf_tree_equal (abstract, abstract2));
  ck_assert (!lf_tree_equal (abstract, abstract_other));
  g_autoptr (LfNode) zero_d = lf_array_new_zeros (LF_DTYPE_FLOAT32, 0, NULL);
  g_autoptr (LfNode) zero_d2 = lf_array_new_zeros (LF_DTYPE_FLOAT32, 0, NULL);
  ck_assert (lf_tree_equal (zero_d, zero_d2));

  g_autoptr (LfNode) i1 = lf_scalar_new_int (1);
  g_autoptr (LfNode) i1b = lf_scalar_new_int (1);
  g_autoptr (LfNode) i2 = lf_scalar_new_int (2);
  g_autoptr (LfNode) f1 = lf_scalar_new_float (1);
  gint32 one32 = 1;
  g_autoptr (LfNode) i1_32 = lf_scalar_new (LF_DTYPE_INT32, &one32);
  ck_assert (lf_tree_equal (i1, i1b));
  ck_assert (!lf_tree_equal (i1, i2));
  ck_assert (!lf_tree_equal (i1, f1));
  ck_assert (!lf_tree_equal (i1, i1_32));
  ck_assert (!lf_tree_equal (i1, arr));

  LfNode *pair[] = { i1, i2 };
  LfNode *pair_b[] = { i1b, i2 };
  LfNode *single[] = { i1 };
  g_autoptr (LfNode) t = lf_tuple_new (2, pair);
  g_autoptr (LfNode) tb = lf_tuple_new (2, pair_b);
  g_autoptr (LfNode) l = lf_list_new (2, pair);
  g_autoptr (LfNode) t1 = lf_tuple_new (1, single);
  ck_assert (lf_tree_equal (t, tb));
  ck_assert (!lf_tree_equal (t, l));
  ck_assert (!lf_tree_equal (t, t1));

  const char *k_ab[] = { "a", "b" }, *k_ac[] = { "a", "c" };
  g_autoptr (LfNode) d_ab = lf_dict_new (2, k_ab, pair);
  g_autoptr (LfNode) d_ab2 = lf_dict_new (2, k_ab, pair_b);
  g_autoptr (LfNode) d_ac = lf_dict_new (2, k_ac, pair);
  ck_assert (lf_tree_equal (d_ab, d_ab2));
  ck_assert (!lf_tree_equal (d_ab, d_ac));

  g_autoptr (LfNode) s_ab = lf_struct_new ("S", 2, k_ab, pair);
  g_autoptr (LfNode) s_ab2 = lf_struct_new ("S", 2, k_ab, pair_b);
  g_autoptr (LfNode) s_ac = lf_struct_new ("S", 2, k_ac, pair);
  g_autoptr (LfNode) r_ab = lf_struct_new ("R", 2, k_ab, pair);
  ck_assert (lf_tree_equal (s_ab, s_ab2));
  ck_assert (!lf_tree_equal (s_ab, s_ac));
  ck_assert (!lf_tree_equal (s_ab, r_ab));
  ck_assert (!lf_tree_equal (s_ab, d_ab));

  g_autoptr (LfNode) n1 = lf_none_new ();
  g_autoptr (LfNode) n2 = lf_none_new ();
  g_autoptr (LfNode) empty_tuple = lf_tuple_new (0, NULL);
  ck_assert (lf_tree_equal (n1, n2));
  ck_assert (!lf_tree_equal (n1, empty_tuple));

  /* a difference deep inside */
  g_autoptr (LfNode) deep = lf_tree_at_str (b2, ".layers[1].bias", arr, NULL);
  ck_assert (!lf_tree_equal (a, deep));
}
END_TEST

/* ---- reference counts and preconditions --------------------------------------------------------- */

static gpointer
ref_unref_many (gpointer data)
{
  for (int i = 0; i < 10000; i++)
    {
      lf_node_ref (data);
      lf_node_unref (data);
    }
  return NULL;
}

START_TEST (test_refcounts)
{
  /* a leaf shared by several trees goes with the last of them */
  destroyed = 0;
  LfNode *leaf = counted_opaque ();
  LfNode *t1 = lf_list_new_take (1, leaf);
  LfNode *t2 = lf_tuple_new_take (2, lf_node_ref (t1), lf_node_ref (leaf));
  g_autoptr (LfNode) none = lf_none_new ();
  LfNode *t3 = lf_tree_at_str (t2, "[1]", none, NULL);
  ck_assert_ptr_nonnull (t3);
  lf_node_unref (t1);
  lf_node_unref (t2);
  ck_assert_int_eq (destroyed, 0);   /* t3 still shares [0], the list holding it */
  ck_assert_ptr_eq (lf_node_get_child (lf_node_get_child (t3, 0), 0), leaf);
  lf_node_unref (t3);
  ck_assert_int_eq (destroyed, 1);

  /* a failed lf_tree_at leaves nothing behind */
  LfNode *t4 = lf_list_new_take (1, counted_opaque ());
  GError *error = NULL;
  ck_assert_ptr_null (lf_tree_at_str (t4, "[0][0]", none, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_NOT_FOUND, "in opaque at [0]");
  lf_node_unref (t4);
  ck_assert_int_eq (destroyed, 2);

  /* refs from many threads: the count is atomic */
  LfNode *shared = counted_opaque ();
  GThread *threads[4];
  for (int i = 0; i < 4; i++)
    threads[i] = g_thread_new ("ref", ref_unref_many, shared);
  for (int i = 0; i < 4; i++)
    g_thread_join (threads[i]);
  ck_assert_int_eq (destroyed, 2);
  lf_node_unref (shared);
  ck_assert_int_eq (destroyed, 3);
}
END_TEST

START_TEST (test_null_arguments)
{
  g_autoptr (LfNode) node = lf_scalar_new_int (1);
  g_autoptr (LfNode) list = lf_list_new_take (1, lf_scalar_new_int (1));
  g_autoptr (LfPath) path = lf_path_new ();
  LfNode *r = NULL;
  gpointer p = NULL;

  lf_node_unref (NULL);   /* allowed */
  lf_path_free (NULL);    /* allowed */
  LF_ASSERT_CRITICAL (r = lf_node_ref (NULL));
  LF_ASSERT_CRITICAL (lf_node_get_kind (NULL));
  LF_ASSERT_CRITICAL (lf_node_is_container (NULL));
  LF_ASSERT_CRITICAL (lf_node_get_n_children (NULL));
  LF_ASSERT_CRITICAL (r = lf_node_get_child (NULL, 0));
  LF_ASSERT_CRITICAL (r = lf_node_get_child (node, 0));
  LF_ASSERT_CRITICAL (r = lf_node_get_child (list, 1));
  LfNode *with_null[] = { node, NULL };
  LF_ASSERT_CRITICAL (r = lf_tuple_new (2, with_null));
  LF_ASSERT_CRITICAL (r = lf_list_new (2, NULL));
  LF_ASSERT_CRITICAL (r = lf_list_new_take (2, lf_scalar_new_int (1), NULL));
  const char *null_key[] = { NULL };
  LfNode *one[] = { node };
  LF_ASSERT_CRITICAL (r = lf_dict_new (1, null_key, one));
  LF_ASSERT_CRITICAL (r = lf_dict_new_take ("a", NULL, NULL));
  LF_ASSERT_CRITICAL (r = lf_struct_new (NULL, 0, NULL, NULL));
  LF_ASSERT_CRITICAL (r = lf_struct_new ("S", 1, null_key, one));
  LF_ASSERT_CRITICAL (p = (gpointer) lf_dict_get_key (node, 0));
  LF_ASSERT_CRITICAL (r = lf_dict_lookup (NULL, "a"));
  LF_ASSERT_CRITICAL (r = lf_dict_lookup (list, "a"));
  LF_ASSERT_CRITICAL (p = (gpointer) lf_struct_get_type_name (list));
  LF_ASSERT_CRITICAL (p = (gpointer) lf_struct_get_field_name (NULL, 0));
  LF_ASSERT_CRITICAL (r = lf_struct_lookup (list, "a"));
  LF_ASSERT_CRITICAL (r = lf_opaque_new (NULL, NULL, NULL));
  LF_ASSERT_CRITICAL (p = (gpointer) lf_opaque_get_type_name (node));
  LF_ASSERT_CRITICAL (p = lf_opaque_get_data (NULL));
  LF_ASSERT_CRITICAL (p = (gpointer) lf_scalar_get_value (NULL));
  LF_ASSERT_CRITICAL (lf_scalar_get_int (list));
  LF_ASSERT_CRITICAL (lf_scalar_get_complex (NULL, NULL, NULL));
  LF_ASSERT_CRITICAL (p = lf_shape_to_string (2, NULL));
  LF_ASSERT_CRITICAL (lf_path_push_key (path, NULL));
  LF_ASSERT_CRITICAL (lf_path_push_field (NULL, "a"));
  LF_ASSERT_CRITICAL (lf_path_push_index (NULL, 0));
  LF_ASSERT_CRITICAL (lf_path_get_kind (path, 0));
  LF_ASSERT_CRITICAL (p = lf_path_copy (NULL));
  LF_ASSERT_CRITICAL (p = lf_path_to_string (NULL));
  LF_ASSERT_CRITICAL (lf_path_append_to (path, NULL));
  LF_ASSERT_CRITICAL (p = lf_path_parse (NULL, NULL));
  lf_path_push_index (path, 0);
  LF_ASSERT_CRITICAL (p = (gpointer) lf_path_get_name (path, 0));
  LF_ASSERT_CRITICAL (lf_tree_foreach_leaf (NULL, NULL, NULL, record_leaf, NULL));
  LF_ASSERT_CRITICAL (lf_tree_foreach_leaf (node, NULL, NULL, NULL, NULL));
  LF_ASSERT_CRITICAL (lf_tree_count_leaves (NULL, NULL, NULL));
  LF_ASSERT_CRITICAL (p = lf_tree_get_leaves (NULL, NULL, NULL));
  LF_ASSERT_CRITICAL (r = lf_tree_get (node, NULL, NULL));
  LF_ASSERT_CRITICAL (r = lf_tree_get (NULL, path, NULL));
  LF_ASSERT_CRITICAL (r = lf_tree_at (list, path, NULL, NULL));
  LF_ASSERT_CRITICAL (r = lf_tree_at (list, NULL, node, NULL));
  LF_ASSERT_CRITICAL (r = lf_tree_at_str (list, NULL, node, NULL));
  LF_ASSERT_CRITICAL (r = lf_tree_at_str (NULL, "", node, NULL));
  LF_ASSERT_CRITICAL (lf_tree_equal (NULL, node));
  LF_ASSERT_CRITICAL (lf_tree_equal (node, NULL));
  ck_assert_ptr_null (r);
  ck_assert_ptr_null (p);
}
END_TEST

START_TEST (test_replace_leaves)
{
  gsize two = 2;
  g_autoptr (LfNode) a = lf_array_new_zeros (LF_DTYPE_FLOAT32, 1, &two);
  g_autoptr (LfNode) tree = lf_struct_new_take (
      "M", "x", lf_list_new_take (2, lf_scalar_new_int (1), lf_scalar_new_int (2)),
      "y", lf_dict_new_take ("b", lf_scalar_new_int (3), "a", lf_scalar_new_int (4), NULL),
      "z", lf_none_new (), NULL);
  /* Leaves in order: .x[0] .x[1] .y['a'] .y['b'] */
  LfNode *replacements[4] = { NULL, NULL, a, NULL };
  g_autoptr (LfNode) out = lf_tree_replace_leaves (tree, NULL, NULL, replacements);
  ck_assert_ptr_eq (lf_struct_lookup (out, "x"), lf_struct_lookup (tree, "x")); /* shared */
  ck_assert_ptr_eq (lf_struct_lookup (out, "z"), lf_struct_lookup (tree, "z"));
  LfNode *y = lf_struct_lookup (out, "y");
  ck_assert_ptr_eq (lf_dict_lookup (y, "a"), a);
  ck_assert_ptr_eq (lf_dict_lookup (y, "b"), lf_dict_lookup (lf_struct_lookup (tree, "y"), "b"));
  ck_assert_str_eq (lf_dict_get_key (y, 0), "a");
  LfNode *none[4] = { NULL, NULL, NULL, NULL };
  g_autoptr (LfNode) same = lf_tree_replace_leaves (tree, NULL, NULL, none);
  ck_assert_ptr_eq (same, tree);
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *s = suite_create ("tree");
  TCase *tc = tcase_create ("nodes");
  tcase_add_test (tc, test_kind_names);
  tcase_add_test (tc, test_tuple_and_list);
  tcase_add_test (tc, test_dict_sorted);
  tcase_add_test (tc, test_dict_duplicate_key);
  tcase_add_test (tc, test_struct_order);
  tcase_add_test (tc, test_struct_bad_fields);
  tcase_add_test (tc, test_none_has_no_leaves);
  tcase_add_test (tc, test_array_take_and_copy);
  tcase_add_test (tc, test_array_borrowed_and_bytes);
  tcase_add_test (tc, test_array_abstract);
  tcase_add_test (tc, test_array_preconditions);
  tcase_add_test (tc, test_shape_helpers);
  tcase_add_test (tc, test_opaque);
  tcase_add_test (tc, test_refcounts);
  tcase_add_test (tc, test_null_arguments);
  suite_add_tcase (s, tc);

  tc = tcase_create ("scalars");
  tcase_set_timeout (tc, 60); /* exhaustive half-float loops, slow under valgrind */
  tcase_add_test (tc, test_scalar_python_types);
  tcase_add_test (tc, test_scalar_numpy_types);
  tcase_add_test (tc, test_scalar_convert_ints);
  tcase_add_test (tc, test_scalar_convert_floats);
  tcase_add_test (tc, test_scalar_convert_complex);
  tcase_add_test (tc, test_scalar_convert_all_pairs);
  suite_add_tcase (s, tc);

  tc = tcase_create ("paths");
  tcase_add_test (tc, test_keystr);
  tcase_add_test (tc, test_keystr_quoting);
  tcase_add_test (tc, test_path_parse_round_trip);
  tcase_add_test (tc, test_path_parse_errors);
  suite_add_tcase (s, tc);

  tc = tcase_create ("traversal");
  tcase_add_test (tc, test_replace_leaves);
  tcase_add_test (tc, test_traversal_mlp);
  tcase_add_test (tc, test_traversal_mixed_order);
  tcase_add_test (tc, test_is_leaf);
  tcase_add_test (tc, test_tree_get);
  tcase_add_test (tc, test_tree_at_leaf);
  tcase_add_test (tc, test_tree_at_subtree);
  tcase_add_test (tc, test_tree_at_errors);
  tcase_add_test (tc, test_tree_equal);
  suite_add_tcase (s, tc);
  return s;
}
