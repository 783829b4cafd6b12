/* Saving and loading trees: Equinox's own serialisation tests ported to C,
 * plus atomic saves, spec trees, streams and every error the walker adds. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "test-common.h"

static LfNode *
f32 (guint ndim, const gsize *shape, float start)
{
  gsize n = 1;
  for (guint i = 0; i < ndim; i++)
    n *= shape[i];
  float *data = g_new (float, n ? n : 1);
  for (gsize i = 0; i < n; i++)
    data[i] = start + (float) i;
  return lf_array_new_take (LF_DTYPE_FLOAT32, ndim, shape, data);
}

static LfNode *
vec (gsize n, float start)
{
  return f32 (1, &n, start);
}

static LfNode *
array_of (LfDType dtype, gsize n)
{
  gsize bytes = n * lf_dtype_size (dtype);
  guint8 *data = g_malloc (bytes ? bytes : 1);
  for (gsize i = 0; i < bytes; i++)
    data[i] = (guint8) (i * 7 + dtype);
  if (dtype == LF_DTYPE_BOOL)
    for (gsize i = 0; i < bytes; i++)
      data[i] &= 1;
  return lf_array_new_take (dtype, 1, &n, data);
}

/* A tree with every leaf kind: arrays of all dtypes, Python and numpy
 * scalars, an opaque leaf, none, and every container. */
static LfNode *
mixed_tree (void)
{
  GPtrArray *arrays = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  for (int d = LF_DTYPE_BOOL; d < LF_DTYPE_LAST; d++)
    g_ptr_array_add (arrays, array_of ((LfDType) d, 5));
  gsize zero_shape[3] = { 2, 0, 3 };
  g_ptr_array_add (arrays, f32 (3, zero_shape, 0));
  g_ptr_array_add (arrays, f32 (0, NULL, 42));
  LfNode *arrays_list = lf_list_new (arrays->len, (LfNode *const *) arrays->pdata);
  g_ptr_array_unref (arrays);
  guint16 bf16 = 0x3fc0; /* 1.5 */
  float f = 2.5f;
  gint8 i8 = -7;
  return lf_struct_new_take (
      "Model", "arrays", arrays_list,
      "scalars", lf_tuple_new_take (7, lf_scalar_new_bool (TRUE), lf_scalar_new_int (-3),
                                    lf_scalar_new_float (0.25), lf_scalar_new_complex (1, -2),
                                    lf_scalar_new (LF_DTYPE_BFLOAT16, &bf16),
                                    lf_scalar_new (LF_DTYPE_FLOAT32, &f),
                                    lf_scalar_new (LF_DTYPE_INT8, &i8)),
      "extra", lf_dict_new_take ("b", lf_none_new (), "a", lf_opaque_new ("fn", NULL, NULL),
                                 "c", vec (3, 1), NULL),
      NULL);
}

static gboolean
save_load_equal (LfNode *tree, const char *name)
{
  g_autofree char *path = lf_test_path (name);
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves (path, tree, NULL, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves (path, tree, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  return lf_tree_equal (back, tree);
}

/* ---- Equinox test_serialisation.py ports ---------------------------------------- */

START_TEST (test_round_trip_path)
{
  g_autoptr (LfNode) tree = mixed_tree ();
  ck_assert (save_load_equal (tree, "mixed"));
  g_autofree char *eqx = lf_test_path ("mixed.eqx");
  ck_assert (g_file_test (eqx, G_FILE_TEST_EXISTS));
}
END_TEST

/* Equinox's pathlib with_suffix refuses a path with an empty name; the
 * suffix must not turn "" or "." into a hidden ".eqx" in the current
 * directory.  "dir/" and "dir/." name "dir" (dir.eqx), as in pathlib. */
START_TEST (test_path_naming_no_file)
{
  g_autoptr (LfNode) tree = mixed_tree ();
  g_autofree char *dir = lf_test_path ("empty-names");
  ck_assert (g_mkdir_with_parents (dir, 0700) == 0);
  g_autofree char *cwd = g_get_current_dir ();
  ck_assert (chdir (dir) == 0);
  const char *paths[] = { "", ".", "./", "/", ".//." };
  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      GError *error = NULL;
      ck_assert (!lf_tree_serialise_leaves (paths[i], tree, NULL, NULL, NULL, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_IO, "the path names a directory");
    }
  g_autoptr (GDir) listing = g_dir_open (".", 0, NULL);
  ck_assert_ptr_null (g_dir_read_name (listing));
  ck_assert (chdir (cwd) == 0);
  g_autofree char *sub = g_build_filename (dir, "sub", ".", NULL);
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves (sub, tree, NULL, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autofree char *saved = g_build_filename (dir, "sub.eqx", NULL);
  ck_assert (g_file_test (saved, G_FILE_TEST_IS_REGULAR));
}
END_TEST

START_TEST (test_opaque_leaves_kept_identical)
{
  g_autoptr (LfNode) tree = mixed_tree ();
  g_autofree char *path = lf_test_path ("opaque.eqx");
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves (path, tree, NULL, NULL, NULL, &error));
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves (path, tree, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  LfNode *extra_in = lf_struct_lookup (tree, "extra");
  LfNode *extra_out = lf_struct_lookup (back, "extra");
  ck_assert_ptr_eq (lf_dict_lookup (extra_out, "a"), lf_dict_lookup (extra_in, "a"));
  ck_assert_ptr_eq (lf_dict_lookup (extra_out, "b"), lf_dict_lookup (extra_in, "b"));
  /* Loaded arrays are new nodes. */
  ck_assert_ptr_ne (lf_dict_lookup (extra_out, "c"), lf_dict_lookup (extra_in, "c"));
}
END_TEST

START_TEST (test_round_trip_streams)
{
  g_autoptr (LfNode) tree = mixed_tree ();
  GError *error = NULL;
  /* memory */
  g_autoptr (LfStream) mem = lf_stream_new_memory ();
  ck_assert (lf_tree_serialise_leaves_to_stream (mem, tree, NULL, NULL, NULL, &error));
  g_autoptr (GBytes) bytes = lf_stream_steal_bytes (mem);
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (bytes);
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves_from_stream (in, tree, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (back, tree));

  /* the file a path save writes is the same bytes */
  g_autofree char *path = lf_test_path ("same.eqx");
  ck_assert (lf_tree_serialise_leaves (path, tree, NULL, NULL, NULL, &error));
  g_autoptr (GBytes) on_disk = lf_test_read_file (path);
  ck_assert (g_bytes_equal (on_disk, bytes));

  /* fd */
  int fd = open (path, O_RDONLY);
  ck_assert_int_ge (fd, 0);
  g_autoptr (LfStream) fd_in = lf_stream_new_for_fd (fd, TRUE);
  g_autoptr (LfNode) from_fd = lf_tree_deserialise_leaves_from_stream (fd_in, tree, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (from_fd, tree));
}
END_TEST

/* The stream `_full` variants take the path functions' flags: those that
 * need a file are refused before anything is written or read, the others
 * give the plain stream result. */
START_TEST (test_stream_full_flags)
{
  g_autoptr (LfNode) tree = mixed_tree ();
  GError *error = NULL;
  g_autoptr (LfStream) refused = lf_stream_new_memory ();
  lf_stream_set_name (refused, "buffer");
  ck_assert (!lf_tree_serialise_leaves_to_stream_full (refused, tree, NULL, NULL, NULL,
                                                       LF_SAVE_MANIFEST, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "buffer: a manifest is written beside a file");
  ck_assert_uint_eq (lf_stream_tell (refused), 0);

  g_autoptr (LfStream) mem = lf_stream_new_memory ();
  ck_assert (lf_tree_serialise_leaves_to_stream_full (mem, tree, NULL, NULL, NULL,
                                                      LF_SAVE_NO_SYNC, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (GBytes) bytes = lf_stream_steal_bytes (mem);

  g_autoptr (LfStream) in = lf_stream_new_for_bytes (bytes);
  ck_assert_ptr_null (lf_tree_deserialise_leaves_from_stream_full (in, tree, NULL, NULL, NULL,
                                                               LF_LOAD_MMAP, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "lf_stream_new_for_path (path, TRUE)");
  ck_assert_uint_eq (lf_stream_tell (in), 0);
  g_autoptr (LfNode) back
    = lf_tree_deserialise_leaves_from_stream_full (in, tree, NULL, NULL, NULL,
                                                   LF_LOAD_IGNORE_MANIFEST, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (back, tree));
}
END_TEST

/* Equinox's serialisation example: a JSON line of hyperparameters, then the
 * leaves, in one file handle; and here something after them too. */
START_TEST (test_hyperparameters_then_leaves)
{
  g_autoptr (LfNode) tree = mixed_tree ();
  g_autofree char *path = lf_test_path ("with-hyper.eqx");
  GError *error = NULL;
  FILE *f = fopen (path, "wb");
  fputs ("{\"width\": 4, \"depth\": 2}\n", f);
  LfStream *out = lf_stream_new_for_file (f);
  ck_assert (lf_tree_serialise_leaves_to_stream (out, tree, NULL, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  lf_stream_free (out);
  fputs ("after\n", f);
  fclose (f);

  f = fopen (path, "rb");
  char line[128];
  ck_assert_ptr_nonnull (fgets (line, sizeof line, f));
  ck_assert_str_eq (line, "{\"width\": 4, \"depth\": 2}\n");
  LfStream *in = lf_stream_new_for_file (f);
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves_from_stream (in, tree, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (back, tree));
  lf_stream_free (in);
  /* The stream stopped right after the last leaf. */
  ck_assert_ptr_nonnull (fgets (line, sizeof line, f));
  ck_assert_str_eq (line, "after\n");
  fclose (f);
}
END_TEST

/* Equinox: a missing leaf and a changed dtype are reported at [1]['a']. */
START_TEST (test_helpful_errors)
{
  GError *error = NULL;
  g_autofree char *path = lf_test_path ("helpful.eqx");
  g_autoptr (LfNode) saved = lf_tuple_new_take (2, vec (3, 0), lf_dict_new (0, NULL, NULL));
  ck_assert (lf_tree_serialise_leaves (path, saved, NULL, NULL, NULL, &error));
  g_autoptr (LfNode) like = lf_tuple_new_take (2, vec (3, 0), lf_dict_new_take ("a", vec (2, 0), NULL));
  ck_assert_ptr_null (lf_tree_deserialise_leaves (path, like, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "record 1 at offset 140 ([1]['a']): ");

  g_autoptr (LfNode) saved2 = lf_tuple_new_take (2, vec (3, 0), lf_dict_new_take ("a", vec (2, 0), NULL));
  ck_assert (lf_tree_serialise_leaves (path, saved2, NULL, NULL, NULL, &error));
  gsize two = 2;
  g_autoptr (LfNode) like64 = lf_tuple_new_take (
      2, vec (3, 0), lf_dict_new_take ("a", lf_array_new_zeros (LF_DTYPE_FLOAT64, 1, &two), NULL));
  ck_assert_ptr_null (lf_tree_deserialise_leaves (path, like64, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH,
                   "helpful.eqx: record 1 at offset 140 ([1]['a']): expected float64 array of "
                   "shape (2,), found float32 array of shape (2,)");

  gsize shape[2] = { 1, 2 };
  g_autoptr (LfNode) like_shape = lf_tuple_new_take (
      2, vec (3, 0), lf_dict_new_take ("a", lf_array_new_abstract (LF_DTYPE_FLOAT32, 2, shape), NULL));
  ck_assert_ptr_null (lf_tree_deserialise_leaves (path, like_shape, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH, "expected float32 array of shape (1, 2), found float32 array of shape (2,)");

  /* An array where like has a scalar of more than one element. */
  g_autoptr (LfNode) like_scalar = lf_tuple_new_take (2, vec (3, 0),
                                                      lf_dict_new_take ("a", lf_scalar_new_float (0), NULL));
  ck_assert_ptr_null (lf_tree_deserialise_leaves (path, like_scalar, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH, "([1]['a']): expected a float64 scalar, found array of shape (2,)");
}
END_TEST

/* Scalars load as type(like)(value.item()), whatever was saved. */
START_TEST (test_scalars_take_like_type)
{
  GError *error = NULL;
  g_autofree char *path = lf_test_path ("scalars.eqx");
  guint16 bf16 = 0x4049; /* 3.140625 */
  g_autoptr (LfNode) saved = lf_list_new_take (5, lf_scalar_new_float (1.75), lf_scalar_new_int (3),
                                               lf_scalar_new_bool (TRUE),
                                               lf_scalar_new (LF_DTYPE_BFLOAT16, &bf16),
                                               lf_scalar_new_int (300));
  ck_assert (lf_tree_serialise_leaves (path, saved, NULL, NULL, NULL, &error));
  float f = 0;
  g_autoptr (LfNode) like = lf_list_new_take (5, lf_scalar_new_int (0), lf_scalar_new_float (0),
                                              lf_scalar_new_int (0),
                                              lf_scalar_new (LF_DTYPE_BFLOAT16, &bf16),
                                              lf_scalar_new (LF_DTYPE_FLOAT32, &f));
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves (path, like, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_int_eq (lf_scalar_get_dtype (lf_node_get_child (back, 0)), LF_DTYPE_INT64);
  ck_assert_int_eq (lf_scalar_get_int (lf_node_get_child (back, 0)), 1);
  ck_assert_int_eq (lf_scalar_get_dtype (lf_node_get_child (back, 1)), LF_DTYPE_FLOAT64);
  ck_assert_double_eq (lf_scalar_get_float (lf_node_get_child (back, 1)), 3.0);
  ck_assert_int_eq (lf_scalar_get_int (lf_node_get_child (back, 2)), 1);
  ck_assert_int_eq (lf_scalar_get_dtype (lf_node_get_child (back, 3)), LF_DTYPE_BFLOAT16);
  ck_assert_double_eq (lf_scalar_get_float (lf_node_get_child (back, 3)), 3.140625);
  ck_assert_double_eq (lf_scalar_get_float (lf_node_get_child (back, 4)), 300.0);

  /* A value that does not fit like's type is an error naming the leaf. */
  gint8 small = 0;
  g_autoptr (LfNode) like_i8 = lf_list_new_take (5, lf_scalar_new_int (0), lf_scalar_new_float (0),
                                                 lf_scalar_new_int (0),
                                                 lf_scalar_new (LF_DTYPE_BFLOAT16, &bf16),
                                                 lf_scalar_new (LF_DTYPE_INT8, &small));
  ck_assert_ptr_null (lf_tree_deserialise_leaves (path, like_i8, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_OVERFLOW, "scalars.eqx: record 4 at offset 531 ([4]): int64 value 300 is out of range for int8");
}
END_TEST

START_TEST (test_abstract_like)
{
  g_autoptr (LfNode) tree = mixed_tree ();
  g_autofree char *path = lf_test_path ("abstract.eqx");
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves (path, tree, NULL, NULL, NULL, &error));
  /* like: every array replaced by its shape-only twin */
  LfNode *arrays = lf_struct_lookup (tree, "arrays");
  gsize n = lf_node_get_n_children (arrays);
  g_autofree LfNode **abstract = g_new (LfNode *, n);
  for (gsize i = 0; i < n; i++)
    {
      LfNode *a = lf_node_get_child (arrays, i);
      abstract[i] = lf_array_new_abstract (lf_array_get_dtype (a), lf_array_get_ndim (a),
                                           lf_array_get_shape (a));
    }
  g_autoptr (LfNode) abstract_list = lf_list_new (n, abstract);
  for (gsize i = 0; i < n; i++)
    lf_node_unref (abstract[i]);
  g_autoptr (LfNode) like = lf_tree_at_str (tree, ".arrays", abstract_list, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (!lf_tree_equal (like, tree));
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves (path, like, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (back, tree));
  g_autoptr (LfNode) mapped = lf_tree_deserialise_leaves_full (path, like, NULL, NULL, NULL,
                                                                LF_LOAD_MMAP, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (mapped, tree));
}
END_TEST

/* ---- files ----------------------------------------------------------------------- */

START_TEST (test_suffix_rule)
{
  static const char *const cases[][2] = {
    { "model", "model.eqx" }, { "dir/model", "dir/model.eqx" }, { "model.bin", "model.bin" },
    { "a.b/model", "a.b/model.eqx" }, { ".hidden", ".hidden.eqx" }, { "x.", "x..eqx" },
    { "m.eqx", "m.eqx" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = lf_path_with_eqx_suffix (cases[i][0]);
      ck_assert_str_eq (got, cases[i][1]);
    }
}
END_TEST

START_TEST (test_trailing_data)
{
  GError *error = NULL;
  g_autofree char *path = lf_test_path ("long.eqx");
  g_autoptr (LfNode) saved = lf_list_new_take (3, vec (2, 0), vec (2, 1), vec (2, 2));
  ck_assert (lf_tree_serialise_leaves (path, saved, NULL, NULL, NULL, &error));
  g_autoptr (LfNode) like = lf_list_new_take (2, vec (2, 0), vec (2, 0));
  ck_assert_ptr_null (lf_tree_deserialise_leaves (path, like, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TRAILING_DATA, "long.eqx: 136 bytes left after the last leaf at offset 272");
  /* From a stream the rest is the caller's. */
  g_autoptr (LfStream) in = lf_stream_new_for_path (path, FALSE, &error);
  g_autoptr (LfNode) two = lf_tree_deserialise_leaves_from_stream (in, like, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_eq (lf_node_get_n_children (two), 2);
  ck_assert_uint_eq (lf_stream_tell (in), 272);
}
END_TEST

START_TEST (test_missing_file)
{
  GError *error = NULL;
  g_autoptr (LfNode) like = lf_list_new_take (1, vec (2, 0));
  ck_assert_ptr_null (lf_tree_deserialise_leaves ("/nonexistent/model", like, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "/nonexistent/model.eqx");
  ck_assert (!lf_tree_serialise_leaves ("/nonexistent/model", like, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "/nonexistent/model.eqx: cannot create a temporary file");
}
END_TEST

static guint
count_entries (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (g_dir_read_name (d) != NULL)
    n++;
  g_dir_close (d);
  return n;
}

/* A save that fails half-way leaves the previous checkpoint byte for byte
 * and no temporary file. */
START_TEST (test_failed_save_keeps_previous_file)
{
  GError *error = NULL;
  g_autofree char *dir = lf_test_path ("atomic");
  g_mkdir (dir, 0700);
  g_autofree char *path = g_build_filename (dir, "ckpt.eqx", NULL);
  g_autoptr (LfNode) good = lf_list_new_take (2, vec (1000, 0), vec (1000, 1));
  ck_assert (lf_tree_serialise_leaves (path, good, NULL, NULL, NULL, &error));
  g_autoptr (GBytes) before = lf_test_read_file (path);
  gsize n = 10;
  g_autoptr (LfNode) bad = lf_list_new_take (3, vec (5000, 9), vec (5000, 9),
                                             lf_array_new_abstract (LF_DTYPE_FLOAT32, 1, &n));
  ck_assert (!lf_tree_serialise_leaves (path, bad, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "ckpt.eqx: record 2 at offset 40256 ([2]): ");
  g_autoptr (GBytes) after = lf_test_read_file (path);
  ck_assert (g_bytes_equal (before, after));
  ck_assert_uint_eq (count_entries (dir), 1);
}
END_TEST

START_TEST (test_save_keeps_mode)
{
  GError *error = NULL;
  g_autofree char *path = lf_test_path ("mode.eqx");
  g_autoptr (LfNode) tree = lf_list_new_take (1, vec (2, 0));
  ck_assert (lf_tree_serialise_leaves (path, tree, NULL, NULL, NULL, &error));
  ck_assert_int_eq (g_chmod (path, 0640), 0);
  ck_assert (lf_tree_serialise_leaves_full (path, tree, NULL, NULL, NULL, LF_SAVE_NO_SYNC, &error));
  GStatBuf st;
  ck_assert_int_eq (g_stat (path, &st), 0);
  ck_assert_int_eq (st.st_mode & 0777, 0640);
}
END_TEST

/* The manifest beside a file: written on request, checked on load, removed
 * by a save without it so it never describes other data. */
START_TEST (test_manifest_flags)
{
  GError *error = NULL;
  g_autofree char *path = lf_test_path ("manifest.eqx");
  g_autofree char *sidecar = lf_test_path ("manifest.eqx.json");
  g_autoptr (LfNode) tree = lf_struct_new_take ("M", "w", vec (8, 1), "s", lf_scalar_new_int (3),
                                                "f", lf_opaque_new ("fn", NULL, NULL), NULL);
  ck_assert (lf_tree_serialise_leaves_full (path, tree, NULL, NULL, NULL, LF_SAVE_MANIFEST, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert (g_file_test (sidecar, G_FILE_TEST_EXISTS));
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves (path, tree, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (back, tree));

  /* A like of another shape is caught by the manifest, by path. */
  g_autoptr (LfNode) wrong = lf_struct_new_take ("M", "w", vec (9, 1), "s", lf_scalar_new_int (3),
                                                 "f", lf_opaque_new ("fn", NULL, NULL), NULL);
  ck_assert_ptr_null (lf_tree_deserialise_leaves (path, wrong, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH, ".w");

  /* One flipped data byte: the checksum names the leaf. */
  g_autoptr (GBytes) bytes = lf_test_read_file (path);
  g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  copy[130] ^= 0x40;
  lf_test_write_file (path, copy, g_bytes_get_size (bytes));
  ck_assert_ptr_null (lf_tree_deserialise_leaves (path, tree, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_CHECKSUM, ".w");
  g_autoptr (LfNode) unchecked = lf_tree_deserialise_leaves_full (path, tree, NULL, NULL, NULL,
                                                                  LF_LOAD_IGNORE_MANIFEST, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (!lf_tree_equal (unchecked, tree));

  /* Saving again without the flag removes the stale manifest. */
  ck_assert (lf_tree_serialise_leaves (path, tree, NULL, NULL, NULL, &error));
  ck_assert (!g_file_test (sidecar, G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST (test_empty_tree)
{
  GError *error = NULL;
  g_autofree char *path = lf_test_path ("empty.eqx");
  g_autoptr (LfNode) tree = lf_tuple_new_take (2, lf_none_new (), lf_opaque_new ("f", NULL, NULL));
  ck_assert (lf_tree_serialise_leaves (path, tree, NULL, NULL, NULL, &error));
  g_autoptr (GBytes) bytes = lf_test_read_file (path);
  ck_assert_uint_eq (g_bytes_get_size (bytes), 0);
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves (path, tree, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_ptr_eq (back, tree);
}
END_TEST

/* ---- specs and is_leaf ------------------------------------------------------------- */

static gboolean
skip_scalars_handles (const LfNode *leaf)
{
  return lf_node_get_kind (leaf) == LF_NODE_ARRAY;
}

static gboolean
raw_serialise (LfStream *out, const LfPath *path, LfNode *leaf, gpointer user_data, GError **error)
{
  return lf_npy_write (out, leaf, 0, error);
}

static LfNode *
raw_deserialise (LfStream *in, const LfPath *path, LfNode *like, gpointer user_data, GError **error)
{
  return lf_npy_read (in, error);
}

static LfRegistry *
registry_with_arrays_only (void)
{
  LfRegistry *reg = lf_registry_new ();
  GError *error = NULL;
  ck_assert (lf_registry_load_plugin (reg, lf_registry_get_origin (lf_registry_get_default (), "npy"), &error));
  ck_assert (lf_registry_register_func (reg, "arrays-only", "arrays; other leaves skipped",
                                        skip_scalars_handles, raw_serialise, raw_deserialise,
                                        NULL, NULL, &error));
  return reg;
}

/* Equinox issue 486: a skipped scalar must not shift later records. */
START_TEST (test_spec_tree_mixes_codecs)
{
  g_autoptr (LfRegistry) reg = registry_with_arrays_only ();
  GError *error = NULL;
  g_autoptr (LfCodec) npy = lf_registry_resolve (reg, "npy", &error);
  g_autoptr (LfCodec) arrays = lf_registry_resolve (reg, "arrays-only", &error);
  g_autoptr (LfNode) tree = lf_struct_new_take (
      "M", "a", lf_list_new_take (3, vec (2, 0), lf_scalar_new_int (7), vec (2, 5)),
      "b", lf_tuple_new_take (2, lf_scalar_new_int (8), vec (1, 3)), NULL);
  g_autoptr (LfNode) spec_tree = lf_struct_new_take ("M", "a", lf_spec_leaf_new (arrays),
                                                     "b", lf_spec_leaf_new (npy), NULL);
  g_autoptr (LfSpec) spec = lf_spec_new_tree (spec_tree, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_ptr_eq (lf_spec_get_tree (spec), spec_tree);
  ck_assert_ptr_null (lf_spec_get_codec (spec));
  g_autofree char *path = lf_test_path ("spec.eqx");
  ck_assert (lf_tree_serialise_leaves (path, tree, spec, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (GBytes) bytes = lf_test_read_file (path);
  ck_assert_uint_eq (g_bytes_get_size (bytes), 4 * 128 + 8 + 8 + 8 + 4);

  g_autoptr (LfNode) like = lf_struct_new_take (
      "M", "a", lf_list_new_take (3, vec (2, 9), lf_scalar_new_int (0), vec (2, 9)),
      "b", lf_tuple_new_take (2, lf_scalar_new_int (0), vec (1, 9)), NULL);
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves (path, like, spec, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  LfNode *a = lf_struct_lookup (back, "a");
  ck_assert_int_eq (lf_scalar_get_int (lf_node_get_child (a, 1)), 0); /* skipped: like's */
  ck_assert_ptr_eq (lf_node_get_child (a, 1), lf_node_get_child (lf_struct_lookup (like, "a"), 1));
  ck_assert (lf_tree_equal (lf_node_get_child (a, 2), lf_node_get_child (lf_struct_lookup (tree, "a"), 2)));
  ck_assert_int_eq (lf_scalar_get_int (lf_node_get_child (lf_struct_lookup (back, "b"), 0)), 8);
}
END_TEST

START_TEST (test_spec_not_a_prefix)
{
  g_autoptr (LfRegistry) reg = registry_with_arrays_only ();
  GError *error = NULL;
  g_autoptr (LfCodec) npy = lf_registry_resolve (reg, "npy", &error);
  g_autoptr (LfNode) tree = lf_struct_new_take (
      "M", "layers", lf_list_new_take (3, vec (2, 0), vec (2, 0), vec (2, 0)), NULL);
  g_autofree char *path = lf_test_path ("prefix.eqx");
  ck_assert (lf_tree_serialise_leaves (path, tree, NULL, NULL, NULL, &error));
  g_autoptr (GBytes) before = lf_test_read_file (path);

  g_autoptr (LfNode) short_list = lf_struct_new_take (
      "M", "layers", lf_list_new_take (2, lf_spec_leaf_new (npy), lf_spec_leaf_new (npy)), NULL);
  g_autoptr (LfSpec) spec = lf_spec_new_tree (short_list, &error);
  ck_assert (!lf_tree_serialise_leaves (path, tree, spec, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_SPEC, "not a prefix of the tree at '.layers': spec has list of 2, tree has list of 3");
  ck_assert_ptr_null (lf_tree_deserialise_leaves (path, tree, spec, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_SPEC, "'.layers'");

  g_autoptr (LfNode) other_struct = lf_struct_new_take ("N", "layers", lf_spec_leaf_new (npy), NULL);
  g_autoptr (LfSpec) spec2 = lf_spec_new_tree (other_struct, &error);
  ck_assert (!lf_tree_serialise_leaves (path, tree, spec2, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_SPEC, "at 'root': spec has struct N with fields [layers], tree has struct M with fields [layers]");

  g_autoptr (LfNode) dict_spec = lf_dict_new_take ("x", lf_spec_leaf_new (npy), NULL);
  g_autoptr (LfSpec) spec3 = lf_spec_new_tree (dict_spec, &error);
  g_autoptr (LfNode) dict_tree = lf_dict_new_take ("y", vec (1, 0), NULL);
  ck_assert (!lf_tree_serialise_leaves (path, dict_tree, spec3, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_SPEC, "spec has dict with keys [x], tree has dict with keys [y]");

  g_autoptr (LfNode) deep = lf_list_new_take (1, lf_list_new_take (1, lf_spec_leaf_new (npy)));
  g_autoptr (LfSpec) spec4 = lf_spec_new_tree (deep, &error);
  g_autoptr (LfNode) flat = lf_list_new_take (1, vec (1, 0));
  ck_assert (!lf_tree_serialise_leaves (path, flat, spec4, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_SPEC, "at '[0]': spec has list of 1, tree has an array leaf");

  g_autoptr (LfNode) not_codec = lf_list_new_take (2, lf_spec_leaf_new (npy), vec (1, 0));
  ck_assert_ptr_null (lf_spec_new_tree (not_codec, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_SPEC, "spec tree leaf at '[1]' is a array, not a codec");
  g_autoptr (GBytes) after = lf_test_read_file (path);
  ck_assert (g_bytes_equal (before, after));
}
END_TEST

static gboolean
dicts_are_leaves (const LfNode *node, gpointer user_data)
{
  (*(int *) user_data)++;
  return lf_node_get_kind (node) == LF_NODE_DICT;
}

typedef struct {
  GString *seen;
  int stop_at;
} Visit;

static gboolean
note_leaf (const LfPath *path, LfNode *leaf, LfCodec *codec, gpointer user_data, GError **error)
{
  Visit *v = user_data;
  g_autofree char *where = lf_path_to_string (path);
  g_autofree char *ref = lf_codec_to_string (codec);
  g_string_append_printf (v->seen, "%s=%s;", where, ref);
  if (--v->stop_at == 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED, "stopped at %s", where);
      return FALSE;
    }
  return TRUE;
}

/* The public pairing of leaves with codecs is the walker's own. */
START_TEST (test_spec_foreach_leaf)
{
  g_autoptr (LfRegistry) reg = registry_with_arrays_only ();
  GError *error = NULL;
  g_autoptr (LfNode) tree = lf_struct_new_take (
      "M", "layers", lf_list_new_take (2, vec (2, 0), vec (2, 0)),
      "step", lf_scalar_new_int (1), NULL);
  g_autoptr (LfSpec) rules = lf_spec_parse_rules (reg, ".layers[1] = arrays-only\n", "npy(align=64)", &error);
  LF_ASSERT_NO_ERROR (error);
  Visit v = { g_string_new (NULL), -1 };
  ck_assert (lf_spec_foreach_leaf (rules, tree, NULL, NULL, note_leaf, &v, &error));
  ck_assert_str_eq (v.seen->str, ".layers[0]=npy(align=64);.layers[1]=arrays-only;.step=npy(align=64);");

  g_string_truncate (v.seen, 0);
  ck_assert (lf_spec_foreach_leaf (NULL, tree, NULL, NULL, note_leaf, &v, &error));
  ck_assert_str_eq (v.seen->str, ".layers[0]=npy;.layers[1]=npy;.step=npy;");

  v.stop_at = 2;
  ck_assert (!lf_spec_foreach_leaf (NULL, tree, NULL, NULL, note_leaf, &v, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_FAILED, "stopped at .layers[1]");

  g_autoptr (LfCodec) npy = lf_registry_resolve (reg, "npy", &error);
  g_autoptr (LfNode) bad_tree = lf_list_new_take (1, lf_spec_leaf_new (npy));
  g_autoptr (LfSpec) bad = lf_spec_new_tree (bad_tree, &error);
  ck_assert (!lf_spec_foreach_leaf (bad, tree, NULL, NULL, note_leaf, &v, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_SPEC, "spec has list of 1, tree has struct M");
  g_string_free (v.seen, TRUE);
}
END_TEST

/* The public form of the walker's check, for loaders of their own. */
START_TEST (test_fit_to_like)
{
  GError *error = NULL;
  gsize one = 1;
  double v = 2.75;
  g_autoptr (LfNode) cell = lf_array_new_copy (LF_DTYPE_FLOAT64, 1, &one, &v);
  g_autoptr (LfNode) like_int = lf_scalar_new_int (0);
  g_autoptr (LfNode) as_int = lf_codec_fit_to_like (like_int, cell, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_int_eq (lf_scalar_get_int (as_int), 2);
  g_autoptr (LfNode) like_vec = vec (1, 0);
  ck_assert_ptr_null (lf_codec_fit_to_like (like_vec, cell, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH, "expected float32 array of shape (1,), found float64 array of shape (1,)");
  g_autoptr (LfNode) opaque = lf_opaque_new ("fn", NULL, NULL);
  ck_assert_ptr_null (lf_codec_fit_to_like (opaque, cell, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH, "expected opaque, found array");
  g_autoptr (LfNode) same = lf_codec_fit_to_like (cell, cell, &error);
  ck_assert_ptr_eq (same, cell);
}
END_TEST

START_TEST (test_is_leaf)
{
  GError *error = NULL;
  int calls = 0;
  g_autoptr (LfNode) tree = lf_list_new_take (3, vec (2, 0), lf_dict_new_take ("a", vec (2, 1), NULL), vec (1, 2));
  g_autofree char *path = lf_test_path ("isleaf.eqx");
  ck_assert (lf_tree_serialise_leaves (path, tree, NULL, dicts_are_leaves, &calls, &error));
  ck_assert_int_gt (calls, 0);
  g_autoptr (GBytes) bytes = lf_test_read_file (path);
  ck_assert_uint_eq (g_bytes_get_size (bytes), 2 * 128 + 8 + 4); /* the dict is skipped */
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves (path, tree, NULL, dicts_are_leaves, &calls, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_ptr_eq (lf_node_get_child (back, 1), lf_node_get_child (tree, 1));
}
END_TEST

/* Saving, loading, lf_spec_foreach_leaf and lf_tree_foreach_leaf are one
 * traversal: is_leaf is asked about the same nodes in the same order (every
 * node reached, arrays included), so they agree on what the leaves are. */
static gboolean
note_is_leaf (const LfNode *node, gpointer user_data)
{
  g_string_append_printf (user_data, "%s;", lf_node_kind_name (lf_node_get_kind (node)));
  return lf_node_get_kind (node) == LF_NODE_DICT;
}

static gboolean
count_visit (const LfPath *path, LfNode *leaf, LfCodec *codec, gpointer user_data,
             GError **error)
{
  (*(int *) user_data)++;
  return TRUE;
}

START_TEST (test_one_traversal)
{
  GError *error = NULL;
  g_autoptr (LfNode) tree = lf_struct_new_take (
      "M", "a", vec (2, 0), "d", lf_dict_new_take ("k", vec (1, 1), NULL),
      "l", lf_list_new_take (2, lf_scalar_new_int (3), lf_none_new ()), NULL);
  g_autoptr (GString) seen = g_string_new (NULL);
  ck_assert_uint_eq (lf_tree_count_leaves (tree, note_is_leaf, seen), 3);
  const char *expected = "struct;array;dict;list;scalar;none;";
  ck_assert_str_eq (seen->str, expected);

  g_string_truncate (seen, 0);
  g_autofree char *path = lf_test_path ("one-traversal.eqx");
  ck_assert (lf_tree_serialise_leaves (path, tree, NULL, note_is_leaf, seen, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert_str_eq (seen->str, expected);

  g_string_truncate (seen, 0);
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves (path, tree, NULL, note_is_leaf, seen,
                                                        &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_str_eq (seen->str, expected);
  /* The dict was a leaf npy does not handle: shared with `like`. */
  ck_assert_ptr_eq (lf_struct_lookup (back, "d"), lf_struct_lookup (tree, "d"));
  ck_assert_ptr_ne (lf_struct_lookup (back, "a"), lf_struct_lookup (tree, "a"));

  g_string_truncate (seen, 0);
  int visits = 0;
  ck_assert (lf_spec_foreach_leaf (NULL, tree, note_is_leaf, seen, count_visit, &visits, &error));
  ck_assert_str_eq (seen->str, expected);
  ck_assert_int_eq (visits, 3);
}
END_TEST

START_TEST (test_unknown_default_codec)
{
  GError *error = NULL;
  g_autoptr (LfRegistry) empty = lf_registry_new ();
  ck_assert_ptr_null (lf_spec_new_for_reference (empty, "npy", &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNKNOWN_CODEC, "unknown codec 'npy' (registered: none");
}
END_TEST

START_TEST (test_preconditions)
{
  g_autoptr (LfNode) tree = lf_list_new_take (1, vec (2, 0));
  LF_ASSERT_CRITICAL (ck_assert (!lf_tree_serialise_leaves (NULL, tree, NULL, NULL, NULL, NULL)));
  LF_ASSERT_CRITICAL (ck_assert_ptr_null (lf_tree_deserialise_leaves ("x", NULL, NULL, NULL, NULL, NULL)));
  LF_ASSERT_CRITICAL (ck_assert_ptr_null (lf_spec_new_tree (NULL, NULL)));
  lf_spec_unref (NULL);
}
END_TEST

/* lf_manifest_write() for a file saved without one gives the manifest a
 * save with LF_SAVE_MANIFEST writes; wrong entries are refused;
 * lf_manifest_remove() takes it away. */
START_TEST (test_manifest_api)
{
  GError *error = NULL;
  gsize three = 3;
  g_autoptr (LfNode) tree = lf_dict_new_take (
      "b", lf_scalar_new_int (7),
      "name", lf_opaque_new ("str", (gpointer) "m", NULL),
      "w", lf_array_new_zeros (LF_DTYPE_FLOAT32, 1, &three), NULL);
  g_autofree char *with = lf_test_path ("with.eqx");
  g_autofree char *without = lf_test_path ("without.eqx");
  ck_assert (lf_tree_serialise_leaves_full (with, tree, NULL, NULL, NULL, LF_SAVE_MANIFEST,
                                            &error));
  ck_assert (lf_tree_serialise_leaves (without, tree, NULL, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);

  /* Records: 'b' (a 0-d int64) then 'w'; the opaque leaf has none. */
  g_autoptr (LfCodec) npy = lf_registry_resolve (lf_registry_get_default (), "npy", &error);
  char header[LF_NPY_HEADER_MAX];
  guint64 b_size = lf_npy_header_format (header, sizeof header, LF_DTYPE_INT64, 0, NULL, 0, 0)
                   + 8;
  guint64 w_size = lf_npy_header_format (header, sizeof header, LF_DTYPE_FLOAT32, 1, &three,
                                         0, 0) + 12;
  LfManifestLeaf leaves[] = {
    { "['b']", lf_dict_lookup (tree, "b"), npy, TRUE, 0, b_size },
    { "['name']", lf_dict_lookup (tree, "name"), npy, FALSE, 0, 0 },
    { "['w']", lf_dict_lookup (tree, "w"), npy, TRUE, b_size, w_size },
  };
  ck_assert (lf_manifest_write (without, tree, NULL, NULL, leaves, 3, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autofree char *with_json = g_strconcat (with, ".json", NULL);
  g_autofree char *without_json = g_strconcat (without, ".json", NULL);
  g_autofree char *want = NULL, *got = NULL;
  ck_assert (g_file_get_contents (with_json, &want, NULL, NULL));
  ck_assert (g_file_get_contents (without_json, &got, NULL, NULL));
  GString *renamed = g_string_new (want);
  g_string_replace (renamed, "with.eqx", "without.eqx", 0);
  ck_assert_str_eq (renamed->str, got);
  g_string_free (renamed, TRUE);
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves (without, tree, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (back, tree));

  ck_assert (!lf_manifest_write (without, tree, NULL, NULL, leaves, 2, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH, "2 manifest entries for a tree of 3 leaves");
  leaves[2].size = 4096;
  ck_assert (!lf_manifest_write (without, tree, NULL, NULL, leaves, 3, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_FAILED, "beyond the end of the file");

  ck_assert (lf_manifest_remove (without, &error));
  ck_assert (!g_file_test (without_json, G_FILE_TEST_EXISTS));
  ck_assert (lf_manifest_remove (without, &error));
  LF_ASSERT_NO_ERROR (error);

  /* A root leaf's path may be NULL: written as "", which a load accepts. */
  g_autoptr (LfNode) root = lf_array_new_zeros (LF_DTYPE_FLOAT32, 1, &three);
  g_autofree char *single = lf_test_path ("single.eqx");
  ck_assert (lf_tree_serialise_leaves (single, root, NULL, NULL, NULL, &error));
  LfManifestLeaf only = { NULL, root, npy, TRUE, 0, w_size };
  ck_assert (lf_manifest_write (single, root, NULL, NULL, &only, 1, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) root_back = lf_tree_deserialise_leaves (single, root, NULL, NULL, NULL,
                                                             &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (root_back, root));
  g_autofree char *single_json = g_strconcat (single, ".json", NULL);
  g_autofree char *single_text = NULL;
  ck_assert (g_file_get_contents (single_json, &single_text, NULL, NULL));
  ck_assert (strstr (single_text, "\"path\" : \"\"") != NULL);
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("serialise");
  TCase *tc = tcase_create ("equinox");
  tcase_add_test (tc, test_round_trip_path);
  tcase_add_test (tc, test_path_naming_no_file);
  tcase_add_test (tc, test_opaque_leaves_kept_identical);
  tcase_add_test (tc, test_round_trip_streams);
  tcase_add_test (tc, test_stream_full_flags);
  tcase_add_test (tc, test_hyperparameters_then_leaves);
  tcase_add_test (tc, test_helpful_errors);
  tcase_add_test (tc, test_scalars_take_like_type);
  tcase_add_test (tc, test_abstract_like);
  suite_add_tcase (suite, tc);
  tc = tcase_create ("files");
  tcase_add_test (tc, test_suffix_rule);
  tcase_add_test (tc, test_trailing_data);
  tcase_add_test (tc, test_missing_file);
  tcase_add_test (tc, test_failed_save_keeps_previous_file);
  tcase_add_test (tc, test_save_keeps_mode);
  tcase_add_test (tc, test_empty_tree);
  tcase_add_test (tc, test_manifest_flags);
  suite_add_tcase (suite, tc);
  tc = tcase_create ("specs");
  tcase_add_test (tc, test_spec_tree_mixes_codecs);
  tcase_add_test (tc, test_spec_not_a_prefix);
  tcase_add_test (tc, test_is_leaf);
  tcase_add_test (tc, test_spec_foreach_leaf);
  tcase_add_test (tc, test_one_traversal);
  tcase_add_test (tc, test_fit_to_like);
  tcase_add_test (tc, test_unknown_default_codec);
  tcase_add_test (tc, test_preconditions);
  tcase_add_test (tc, test_manifest_api);
  suite_add_tcase (suite, tc);
  return suite;
}
