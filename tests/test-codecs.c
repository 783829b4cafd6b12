/* The codec plugins: float16, skip-arrays, compressed and cast, alone, nested
 * and mixed per subtree, through paths and streams, and every error path. */
#include <math.h>
#include <string.h>

#include <xxhash.h>
#include <zstd.h>

#include "test-common.h"

/* ---- helpers ------------------------------------------------------------------ */

/* Saving `tree` into a sink that fails once `fail_after` bytes have gone
 * is an I/O error saying so, whichever thread was writing. */
static void
assert_save_fails_into_full_sink (LfNode *tree, LfSpec *spec, gsize fail_after)
{
  GError *error = NULL;
  ck_assert_ptr_null (lf_test_save_into_sink (tree, spec, fail_after, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "the sink is full");
}

static LfNode *
f32_array (gsize n, const float *values)
{
  return lf_array_new_copy (LF_DTYPE_FLOAT32, 1, &n, values);
}

/* A tree with every kind of leaf. */
static LfNode *
mixed_tree (LfNode **opaque_out)
{
  static const float w[] = { 0.1f, -2.5f, 65504, 1e-6f, 3.14159f, -0.0f };
  static const double d[] = { 0.2, 1e-5, -7.75 };
  static const guint16 bf[] = { 0x3f80, 0x4049, 0xc2f7 };
  static const gint32 ints[] = { 1, -2, 70000 };
  static const guint16 half[] = { 0x3c00, 0x7bff };
  gsize shape_w[] = { 2, 3 }, n3 = 3, n2 = 2;
  LfNode *opaque = lf_opaque_new ("function", (gpointer) mixed_tree, NULL);
  if (opaque_out != NULL)
    *opaque_out = opaque;
  return lf_dict_new_take (
      "w", lf_array_new_copy (LF_DTYPE_FLOAT32, 2, shape_w, w),
      "d", lf_array_new_copy (LF_DTYPE_FLOAT64, 1, &n3, d),
      "b", lf_array_new_copy (LF_DTYPE_BFLOAT16, 1, &n3, bf),
      "i", lf_array_new_copy (LF_DTYPE_INT32, 1, &n3, ints),
      "h", lf_array_new_copy (LF_DTYPE_FLOAT16, 1, &n2, half),
      "s", lf_scalar_new_float (0.1),
      "n", lf_scalar_new_int (42),
      "o", opaque,
      NULL);
}

/* `tree` with each float32/float64/bfloat16 array as float16 would store it. */
static void
assert_float16_values (LfNode *loaded, LfNode *orig)
{
  static const char *const keys[] = { "w", "d", "b" };
  for (gsize k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      LfNode *a = lf_dict_lookup (orig, keys[k]);
      LfNode *b = lf_dict_lookup (loaded, keys[k]);
      gsize n = lf_array_get_n_elements (a);
      ck_assert_int_eq (lf_array_get_dtype (b), lf_array_get_dtype (a));
      ck_assert_uint_eq (lf_array_get_ndim (b), lf_array_get_ndim (a));
      g_autofree guint16 *half = g_new (guint16, n);
      g_autofree gpointer want = g_malloc (lf_array_get_n_bytes (a));
      switch (lf_array_get_dtype (a))
        {
        case LF_DTYPE_FLOAT32:
          lf_convert_f32_to_f16 (lf_array_get_data (a), half, n);
          lf_convert_f16_to_f32 (half, want, n);
          break;
        case LF_DTYPE_FLOAT64:
          lf_convert_f64_to_f16 (lf_array_get_data (a), half, n);
          lf_convert_f16_to_f64 (half, want, n);
          break;
        default:
          lf_convert_bf16_to_f16 (lf_array_get_data (a), half, n);
          lf_convert_f16_to_bf16 (half, want, n);
          break;
        }
      ck_assert_msg (memcmp (lf_array_get_data (b), want, lf_array_get_n_bytes (a)) == 0,
                     "leaf %s differs from its float16 rounding", keys[k]);
    }
}

/* ---- float16 -------------------------------------------------------------------- */

START_TEST (test_float16_round_trip_path)
{
  GError *error = NULL;
  LfNode *opaque;
  g_autoptr (LfNode) tree = mixed_tree (&opaque);
  g_autoptr (LfSpec) spec = lf_test_spec ("float16");
  g_autofree char *path = lf_test_path ("f16.eqx");

  ck_assert (lf_tree_serialise_leaves (path, tree, spec, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (path, tree, spec, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  assert_float16_values (loaded, tree);
  ck_assert (lf_tree_equal (lf_dict_lookup (loaded, "i"), lf_dict_lookup (tree, "i")));
  ck_assert (lf_tree_equal (lf_dict_lookup (loaded, "h"), lf_dict_lookup (tree, "h")));
  ck_assert (lf_scalar_get_float (lf_dict_lookup (loaded, "s")) == 0.1);
  ck_assert_int_eq (lf_scalar_get_int (lf_dict_lookup (loaded, "n")), 42);
  ck_assert_ptr_eq (lf_dict_lookup (loaded, "o"), opaque);

  /* Each float array's record is a float16 npy record: 2 bytes a value. */
  g_autoptr (GBytes) f16 = lf_test_read_file (path);
  g_autoptr (GBytes) npy = lf_test_save_bytes_ref (tree, "npy");
  ck_assert_uint_eq (g_bytes_get_size (npy) - g_bytes_get_size (f16),
                     6 * 2 + 3 * 6 + 0 /* bfloat16 is already 2 bytes */);

  /* The same file read with plain npy into a float16 template. */
  gsize shape_w[] = { 2, 3 }, n3 = 3;
  g_autoptr (LfNode) half_like = lf_dict_new_take (
      "w", lf_array_new_abstract (LF_DTYPE_FLOAT16, 2, shape_w),
      "d", lf_array_new_abstract (LF_DTYPE_FLOAT16, 1, &n3),
      "b", lf_array_new_abstract (LF_DTYPE_FLOAT16, 1, &n3),
      "i", lf_node_ref (lf_dict_lookup (tree, "i")),
      "h", lf_node_ref (lf_dict_lookup (tree, "h")),
      "s", lf_scalar_new_float (0), "n", lf_scalar_new_int (0),
      "o", lf_node_ref (opaque), NULL);
  g_autoptr (LfNode) as_half = lf_test_load_ok (f16, half_like, "npy");
  ck_assert_int_eq (lf_array_get_dtype (lf_dict_lookup (as_half, "w")), LF_DTYPE_FLOAT16);
}
END_TEST

START_TEST (test_float16_abstract_like_and_stream)
{
  g_autoptr (LfNode) tree = mixed_tree (NULL);
  /* A stream carrying other data around the leaves. */
  GError *error = NULL;
  g_autoptr (LfSpec) spec = lf_test_spec ("float16(overflow=error, inner=npy(align=64))");
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  ck_assert (lf_stream_write (out, "{\"lr\": 3e-4}\n", 14, &error));
  ck_assert (lf_tree_serialise_leaves_to_stream (out, tree, spec, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_stream_write (out, "tail", 4, &error));
  ck_assert (lf_stream_flush (out, &error));
  g_autoptr (GBytes) bytes = lf_stream_steal_bytes (out);

  /* Abstract like: dtype and shape only. */
  gsize shape_w[] = { 2, 3 }, n3 = 3, n2 = 2;
  g_autoptr (LfNode) like = lf_dict_new_take (
      "w", lf_array_new_abstract (LF_DTYPE_FLOAT32, 2, shape_w),
      "d", lf_array_new_abstract (LF_DTYPE_FLOAT64, 1, &n3),
      "b", lf_array_new_abstract (LF_DTYPE_BFLOAT16, 1, &n3),
      "i", lf_array_new_abstract (LF_DTYPE_INT32, 1, &n3),
      "h", lf_array_new_abstract (LF_DTYPE_FLOAT16, 1, &n2),
      "s", lf_scalar_new_float (0), "n", lf_scalar_new_int (0),
      "o", lf_opaque_new ("x", NULL, NULL), NULL);
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (bytes);
  char prefix[14];
  ck_assert (lf_stream_read (in, prefix, 14, &error));
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves_from_stream (in, like, spec, NULL,
                                                                      NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  assert_float16_values (loaded, tree);
  char tail[4];
  ck_assert (lf_stream_read (in, tail, 4, &error));
  ck_assert (memcmp (tail, "tail", 4) == 0);
}
END_TEST

START_TEST (test_float16_overflow)
{
  GError *error = NULL;
  float values[] = { 1, 65504, 65519, 70000, INFINITY };
  g_autoptr (LfNode) tree = lf_dict_new_take ("layer", lf_struct_new_take (
      "Linear", "weight", f32_array (5, values), NULL), NULL);

  /* overflow=error names the leaf and the value. */
  g_autoptr (LfSpec) strict = lf_test_spec ("float16(overflow=error)");
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  ck_assert (!lf_tree_serialise_leaves_to_stream (out, tree, strict, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_OVERFLOW, "['layer'].weight");
  ck_assert (!lf_tree_serialise_leaves_to_stream (out, tree, strict, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_OVERFLOW, "element 3 (70000) of the float32 array overflows float16");

  /* A path save leaves no file behind. */
  g_autofree char *path = lf_test_path ("overflow.eqx");
  ck_assert (!lf_tree_serialise_leaves (path, tree, strict, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_OVERFLOW, "overflow");
  ck_assert (!g_file_test (path, G_FILE_TEST_EXISTS));

  /* overflow=inf (the default) stores infinities. */
  g_autoptr (GBytes) bytes = lf_test_save_bytes_ref (tree, "float16");
  g_autoptr (LfNode) loaded = lf_test_load_ok (bytes, tree, "float16");
  const float *got = lf_array_get_data (lf_struct_lookup (lf_dict_lookup (loaded, "layer"),
                                                          "weight"));
  ck_assert (got[0] == 1 && got[1] == 65504 && got[2] == 65504 && isinf (got[3]) && isinf (got[4]));
}
END_TEST

/* The default float16 save converts in chunks straight to the stream; it
 * must write the same bytes as the general path through the inner codec
 * (taken by overflow=error), across chunk boundaries and for every
 * narrowed dtype. */
START_TEST (test_float16_chunked_same_bytes)
{
  /* From 2^20 elements on, a second thread converts ahead while the first
   * writes (test-float16-write.c has the writer's boundaries). */
  gsize n = 16 * 65536 + 5;
  gsize shape[2] = { 7, n / 7 };
  float *f = g_new (float, shape[0] * shape[1]);
  double *d = g_new (double, n);
  guint16 *bf = g_new (guint16, n);
  for (gsize i = 0; i < n; i++)
    {
      d[i] = ((double) (i % 1000) - 500.0) * 0.37;
      bf[i] = (guint16) (0x3f00 + i % 512);
      if (i < shape[0] * shape[1])
        f[i] = (float) d[i] * 1.5f;
    }
  gsize small = 3 * 65536 + 5;
  g_autoptr (LfNode) tree = lf_list_new_take (
      4, lf_array_new_take (LF_DTYPE_FLOAT32, 2, shape, f),
      lf_array_new_take (LF_DTYPE_FLOAT64, 1, &n, d),
      lf_array_new_take (LF_DTYPE_BFLOAT16, 1, &n, bf),
      lf_array_new_copy (LF_DTYPE_FLOAT64, 1, &small, d));
  g_autoptr (GBytes) chunked = lf_test_save_bytes_ref (tree, "float16");
  g_autoptr (GBytes) general = lf_test_save_bytes_ref (tree, "float16(overflow=error)");
  ck_assert (g_bytes_equal (chunked, general));
  g_autoptr (LfNode) back = lf_test_load_ok (chunked, tree, "float16");
  ck_assert_uint_eq (lf_array_get_n_elements (lf_node_get_child (back, 1)), n);

  /* An inner npy that aligns data: float16 writes the same padded headers
   * itself (its capabilities say how), and the data lands aligned. */
  g_autoptr (GBytes) aligned = lf_test_save_bytes_ref (tree, "float16(inner=npy(align=4096))");
  g_autoptr (GBytes) aligned_general = lf_test_save_bytes_ref (
      tree, "float16(overflow=error, inner=npy(align=4096))");
  ck_assert (g_bytes_equal (aligned, aligned_general));
  ck_assert (!g_bytes_equal (aligned, chunked));
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (aligned);
  g_autoptr (LfRecordInfo) info = lf_record_info_new ();
  g_autoptr (LfCodec) npy = lf_test_codec ("npy");
  GError *error = NULL;
  for (gsize i = 0; i < 4; i++)
    {
      ck_assert (lf_codec_describe (npy, in, NULL, info, &error));
      ck_assert_uint_eq ((lf_stream_tell (in) + lf_record_info_get_header_size (info)) % 4096, 0);
      ck_assert (lf_stream_skip (in, lf_record_info_get_stored_size (info), &error));
    }
  LF_ASSERT_NO_ERROR (error);

  /* An output that fails while the second thread converts: an error, and
   * nothing left running. */
  g_autoptr (LfSpec) spec = lf_test_spec ("float16");
  for (gsize fail_after = 0; fail_after < (2u << 20); fail_after += 700 * 1000)
    assert_save_fails_into_full_sink (tree, spec, fail_after);
}
END_TEST

START_TEST (test_float16_mismatch)
{
  GError *error = NULL;
  float v[] = { 1, 2, 3 };
  g_autoptr (LfNode) tree = lf_list_new_take (1, f32_array (3, v));
  g_autoptr (GBytes) bytes = lf_test_save_bytes_ref (tree, "float16");
  g_autoptr (LfNode) wrong = lf_list_new_take (1, f32_array (2, v));
  ck_assert_ptr_null (lf_test_load_bytes (bytes, wrong, "float16", &error));
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH, "[0]");
  /* A float32 file is not a float16 one. */
  g_autoptr (GBytes) npy = lf_test_save_bytes_ref (tree, "npy");
  ck_assert_ptr_null (lf_test_load_bytes (npy, tree, "float16", &error));
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH, "expected float16");
}
END_TEST

/* ---- skip-arrays ---------------------------------------------------------------- */

START_TEST (test_skip_arrays)
{
  float v[] = { 1, 2 };
  g_autoptr (LfNode) arrays = lf_tuple_new_take (2, f32_array (2, v),
                                                 lf_list_new_take (1, f32_array (1, v)));
  g_autoptr (GBytes) empty = lf_test_save_bytes_ref (arrays, "skip-arrays");
  ck_assert_uint_eq (g_bytes_get_size (empty), 0);

  /* Loading keeps like's arrays: the same nodes. */
  g_autoptr (LfNode) like = lf_tuple_new_take (2, f32_array (2, v),
                                               lf_list_new_take (1, f32_array (1, v)));
  g_autoptr (LfNode) loaded = lf_test_load_ok (empty, like, "skip-arrays");
  ck_assert_ptr_eq (lf_node_get_child (loaded, 0), lf_node_get_child (like, 0));
  ck_assert_ptr_eq (lf_node_get_child (lf_node_get_child (loaded, 1), 0),
                    lf_node_get_child (lf_node_get_child (like, 1), 0));

  /* Scalars are saved as npy records and loaded. */
  LfNode *opaque;
  g_autoptr (LfNode) tree = mixed_tree (&opaque);
  g_autoptr (GBytes) bytes = lf_test_save_bytes_ref (tree, "skip-arrays");
  g_autoptr (LfNode) scalars = lf_dict_new_take ("n", lf_scalar_new_int (42),
                                                 "s", lf_scalar_new_float (0.1), NULL);
  g_autoptr (GBytes) expected = lf_test_save_bytes_ref (scalars, "npy");
  ck_assert (g_bytes_equal (bytes, expected));
  g_autoptr (LfNode) other = mixed_tree (NULL);
  g_autoptr (LfNode) back = lf_test_load_ok (bytes, other, "skip-arrays");
  ck_assert_ptr_eq (lf_dict_lookup (back, "w"), lf_dict_lookup (other, "w"));
  ck_assert_int_eq (lf_scalar_get_int (lf_dict_lookup (back, "n")), 42);
}
END_TEST

/* ---- compressed ------------------------------------------------------------------- */

START_TEST (test_compressed_round_trip)
{
  LfNode *opaque;
  g_autoptr (LfNode) tree = mixed_tree (&opaque);
  const char *refs[] = { "compressed", "compressed(level=19)", "compressed(level=-5, threads=1)",
                         "compressed(inner=npy(align=128))" };
  for (gsize i = 0; i < G_N_ELEMENTS (refs); i++)
    {
      g_autoptr (GBytes) bytes = lf_test_save_bytes_ref (tree, refs[i]);
      g_autoptr (LfNode) loaded = lf_test_load_ok (bytes, tree, refs[i]);
      ck_assert_msg (lf_tree_equal (loaded, tree), "%s", refs[i]);
      ck_assert_ptr_eq (lf_dict_lookup (loaded, "o"), opaque);
      /* The record names its inner codec: any compressed spec reads it. */
      g_autoptr (LfNode) again = lf_test_load_ok (bytes, tree, "compressed(level=1)");
      ck_assert (lf_tree_equal (again, tree));
    }

  /* Nested: float16 inside, read back without naming it. */
  g_autoptr (GBytes) nested = lf_test_save_bytes_ref (tree, "compressed(level=19, inner=float16(overflow=error))");
  g_autoptr (LfNode) loaded = lf_test_load_ok (nested, tree, "compressed");
  assert_float16_values (loaded, tree);

  /* A self-describing read (no like): the inner npy array as stored. */
  float v[] = { 1, 2, 3 };
  g_autoptr (LfNode) one = f32_array (3, v);
  g_autoptr (LfCodec) codec = lf_test_codec ("compressed");
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  GError *error = NULL;
  ck_assert (lf_codec_serialise (codec, out, NULL, one, &error));
  ck_assert (lf_stream_flush (out, &error));
  g_autoptr (GBytes) record = lf_stream_steal_bytes (out);
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (record);
  g_autoptr (LfNode) read = lf_codec_deserialise (codec, in, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (read, one));

  g_autoptr (LfCodec) nested_codec = lf_test_codec ("compressed(level=19, inner=float16(overflow=error))");
  g_autofree char *text = lf_codec_to_string (nested_codec);
  ck_assert_str_eq (text, "compressed(level=19, inner=float16(overflow=error))");
}
END_TEST

/* Leaves big enough for zstd's workers and small ones: the bytes must not
 * depend on the number of threads. */
START_TEST (test_compressed_threads_identical)
{
  gsize n = (5u << 20) / 4;
  g_autofree float *data = g_new (float, n);
  GRand *rand = g_rand_new_with_seed (3);
  for (gsize i = 0; i < n; i++)
    data[i] = (float) (g_rand_int_range (rand, 0, 50) * 0.25);
  g_rand_free (rand);
  g_autoptr (LfNode) tree = lf_list_new_take (3, f32_array (n, data), f32_array (1000, data),
                                              f32_array (n / 2 + 3, data + 7));
  g_autoptr (GBytes) one = lf_test_save_bytes_ref (tree, "compressed(threads=1)");
  g_autoptr (GBytes) two = lf_test_save_bytes_ref (tree, "compressed(threads=2)");
  g_autoptr (GBytes) four = lf_test_save_bytes_ref (tree, "compressed(threads=4)");
  g_autoptr (GBytes) npy = lf_test_save_bytes_ref (tree, "npy");
  ck_assert (g_bytes_equal (one, two));
  ck_assert (g_bytes_equal (one, four));
  ck_assert_uint_lt (g_bytes_get_size (one), g_bytes_get_size (npy) / 2);
  g_autoptr (LfNode) loaded = lf_test_load_ok (two, tree, "compressed");
  ck_assert (lf_tree_equal (loaded, tree));
}
END_TEST

/* Big leaves are streamed through zstd: straight into outputs that can be
 * rewritten (memory, files), buffered for the others (callbacks, pipes).
 * Every route writes the same bytes, and a failing output mid-leaf is an
 * error naming the record. */
START_TEST (test_compressed_streamed_outputs)
{
  gsize n = (3u << 20) / 4;
  g_autofree float *data = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    data[i] = (float) ((i * 2654435761u) % 977) * 0.5f;
  g_autoptr (LfNode) tree = lf_list_new_take (2, f32_array (n, data), f32_array (10, data));
  g_autoptr (LfSpec) spec = lf_test_spec ("compressed(inner=float16)");
  g_autoptr (GBytes) memory = lf_test_save_bytes (tree, spec);

  GError *error = NULL;
  g_autofree char *path = lf_test_path ("streamed.eqx");
  ck_assert (lf_tree_serialise_leaves (path, tree, spec, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (GBytes) file = lf_test_read_file (path);
  ck_assert (g_bytes_equal (memory, file));

  g_autoptr (GBytes) buffered = lf_test_save_into_sink (tree, spec, G_MAXSIZE, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (g_bytes_equal (memory, buffered));

  g_autoptr (LfNode) loaded = lf_test_load_ok (file, tree, "compressed");
  g_autoptr (GBytes) plain = lf_test_save_bytes_ref (tree, "float16");
  g_autoptr (LfNode) rounded = lf_test_load_ok (plain, tree, "float16");
  ck_assert (lf_tree_equal (loaded, rounded));

  /* The compressed size is smaller than the raw record: the frame really
   * is compressed, and the header's sizes match what follows it. */
  const guint8 *record = g_bytes_get_data (memory, NULL);
  guint64 raw_size, compressed_size;
  memcpy (&raw_size, record + 16, 8);
  memcpy (&compressed_size, record + 24, 8);
  ck_assert_uint_eq (GUINT64_FROM_LE (raw_size), 128 + n * 2);
  ck_assert_uint_lt (GUINT64_FROM_LE (compressed_size), n);

  /* An output that fails halfway through the big leaf. */
  assert_save_fails_into_full_sink (tree, spec, 1000);
}
END_TEST

/* A one-leaf file written with `compressed`, for corrupting. */
static GByteArray *
compressed_record (void)
{
  float v[64];
  for (int i = 0; i < 64; i++)
    v[i] = (float) i * 0.37f;
  g_autoptr (LfNode) tree = lf_list_new_take (1, f32_array (64, v));
  g_autoptr (GBytes) bytes = lf_test_save_bytes_ref (tree, "compressed");
  GByteArray *array = g_byte_array_new ();
  g_byte_array_append (array, g_bytes_get_data (bytes, NULL), (guint) g_bytes_get_size (bytes));
  return array;
}

static void
assert_load_fails_n (GByteArray *record, gsize n, LfError code, const char *needle)
{
  GError *error = NULL;
  float v[64] = { 0 };
  g_autoptr (LfNode) like = lf_list_new_take (1, f32_array (n, v));
  g_autoptr (GBytes) bytes = g_bytes_new (record->data, record->len);
  g_autoptr (LfNode) loaded = lf_test_load_bytes (bytes, like, "compressed", &error);
  ck_assert_ptr_null (loaded);
  ck_assert_msg (strstr (error->message, "test.eqx: record 0 at offset 0 ([0])") != NULL,
                 "message \"%s\" lacks the place", error->message);
  LF_ASSERT_ERROR (error, code, needle);
}

static void
assert_load_fails (GByteArray *record, LfError code, const char *needle)
{
  assert_load_fails_n (record, 64, code, needle);
}

static void
put_u32 (GByteArray *r, gsize at, guint32 v)
{
  v = GUINT32_TO_LE (v);
  memcpy (r->data + at, &v, 4);
}

static void
put_u64 (GByteArray *r, gsize at, guint64 v)
{
  v = GUINT64_TO_LE (v);
  memcpy (r->data + at, &v, 8);
}

static guint64
get_u64 (GByteArray *r, gsize at)
{
  guint64 v;
  memcpy (&v, r->data + at, 8);
  return GUINT64_FROM_LE (v);
}

START_TEST (test_compressed_corrupt)
{
  g_autoptr (GByteArray) r = compressed_record ();
  ck_assert (memcmp (r->data, "\x93LFZSTD\x01", 8) == 0);
  ck_assert (memcmp (r->data + 40, "npy", 3) == 0);
  guint64 raw = get_u64 (r, 16), comp = get_u64 (r, 24);
  ck_assert_uint_eq (r->len, 40 + 3 + comp);

  g_autoptr (GByteArray) c = NULL;
#define FRESH() do { g_clear_pointer (&c, g_byte_array_unref); c = compressed_record (); } while (0)

  FRESH (); c->data[1] = 'X';
  assert_load_fails (c, LF_ERROR_CORRUPT, "not a compressed record");
  FRESH (); c->data[7] = 2;
  assert_load_fails (c, LF_ERROR_UNSUPPORTED, "compressed record version 2");
  FRESH (); put_u32 (c, 12, 1);
  assert_load_fails (c, LF_ERROR_UNSUPPORTED, "flags 0x1");
  FRESH (); put_u32 (c, 8, 0);
  assert_load_fails (c, LF_ERROR_CORRUPT, "inner codec reference of 0 bytes");
  FRESH (); put_u32 (c, 8, 5000);
  assert_load_fails (c, LF_ERROR_CORRUPT, "reference of 5000 bytes");
  FRESH (); put_u64 (c, 24, comp + 1);
  assert_load_fails (c, LF_ERROR_TRUNCATED, "expected");
  FRESH (); put_u64 (c, 24, G_MAXUINT64 - 2);
  assert_load_fails (c, LF_ERROR_TRUNCATED, "expected");
  FRESH (); put_u64 (c, 16, raw + 1);
  assert_load_fails (c, LF_ERROR_CORRUPT, "does not hold");
  FRESH (); put_u64 (c, 16, G_MAXUINT64);
  assert_load_fails (c, LF_ERROR_CORRUPT, "does not hold the 18446744073709551615 bytes");
  FRESH (); put_u64 (c, 32, get_u64 (c, 32) ^ 1);
  assert_load_fails (c, LF_ERROR_CHECKSUM, "checksum mismatch");
  FRESH (); g_byte_array_set_size (c, c->len - 5);
  assert_load_fails (c, LF_ERROR_TRUNCATED, "compressed record");
  FRESH (); g_byte_array_set_size (c, 20);
  assert_load_fails (c, LF_ERROR_TRUNCATED, "compressed record header");
  FRESH (); memcpy (c->data + 40, "npz", 3);
  assert_load_fails (c, LF_ERROR_UNKNOWN_CODEC, "inner codec \"npz\"");
  FRESH (); c->data[41] = 0;
  assert_load_fails (c, LF_ERROR_CORRUPT, "not text");

  /* A byte flipped in every position of the frame: an error caught by zstd,
   * by the checksum or by the inner record's description (which comes
   * before the checksum, since that needs the whole frame: a flipped dtype
   * or shape in the inner header reads as what it now says), or (for bits
   * zstd ignores, such as the frame header's unused bit) the right tree;
   * never a wrong one. */
  float orig[64];
  for (int i = 0; i < 64; i++)
    orig[i] = (float) i * 0.37f;
  g_autoptr (LfNode) want = lf_list_new_take (1, f32_array (64, orig));
  for (gsize at = 43; at < r->len; at++)
    {
      GError *error = NULL;
      FRESH ();
      c->data[at] ^= 0x10;
      g_autoptr (GBytes) bytes = g_bytes_new (c->data, c->len);
      g_autoptr (LfNode) loaded = lf_test_load_bytes (bytes, want, "compressed", &error);
      if (loaded != NULL)
        {
          ck_assert_msg (lf_tree_equal (loaded, want), "byte %" G_GSIZE_FORMAT ": wrong tree", at);
          continue;
        }
      ck_assert_msg (error->code == LF_ERROR_CHECKSUM || error->code == LF_ERROR_CORRUPT
                     || error->code == LF_ERROR_TRUNCATED || error->code == LF_ERROR_UNSUPPORTED
                     || error->code == LF_ERROR_MISMATCH,
                     "byte %" G_GSIZE_FORMAT ": %s", at, error->message);
      g_clear_error (&error);
    }
#undef FRESH
}
END_TEST

/* A record whose frame holds more than the inner record uses, with a valid
 * checksum: the inner codec stops early and that is an error. */
/* A frame whose window is above the 32 MiB the format allows (zstd level
 * 22 without a known size would use 128 MiB) is refused before zstd
 * allocates it; windows up to the cap load. */
START_TEST (test_compressed_window_cap)
{
  g_autoptr (GByteArray) r = compressed_record ();
  guint64 raw = get_u64 (r, 16);
  /* The inner npy record, from the valid file. */
  float v[64];
  for (int i = 0; i < 64; i++)
    v[i] = (float) i * 0.37f;
  g_autoptr (LfNode) one = f32_array (64, v);
  g_autoptr (GBytes) inner = lf_test_save_bytes_ref (one, "npy");
  ck_assert_uint_eq (g_bytes_get_size (inner), raw);

  for (int window_log = 25; window_log <= 27; window_log += 2)
    {
      ZSTD_CCtx *cctx = ZSTD_createCCtx ();
      ZSTD_CCtx_setParameter (cctx, ZSTD_c_windowLog, window_log);
      ZSTD_CCtx_setParameter (cctx, ZSTD_c_contentSizeFlag, 0);
      ZSTD_CCtx_setPledgedSrcSize (cctx, ZSTD_CONTENTSIZE_UNKNOWN);
      guint8 frame[1024];
      ZSTD_inBuffer in = { g_bytes_get_data (inner, NULL), (size_t) raw, 0 };
      ZSTD_outBuffer out = { frame, sizeof frame, 0 };
      /* Streamed in two calls, so zstd cannot shrink the window to the input. */
      ck_assert (!ZSTD_isError (ZSTD_compressStream2 (cctx, &out, &in, ZSTD_e_continue)));
      ZSTD_inBuffer none = { NULL, 0, 0 };
      ck_assert_uint_eq (ZSTD_compressStream2 (cctx, &out, &none, ZSTD_e_end), 0);
      ZSTD_freeCCtx (cctx);

      g_autoptr (GByteArray) c = g_byte_array_new ();
      g_byte_array_append (c, r->data, 43);
      g_byte_array_append (c, frame, (guint) out.pos);
      put_u64 (c, 24, out.pos);
      if (window_log > 25)
        assert_load_fails (c, LF_ERROR_UNSUPPORTED, "a window above 32 MiB");
      else
        {
          float want[64] = { 0 };
          g_autoptr (LfNode) like = lf_list_new_take (1, f32_array (64, want));
          g_autoptr (GBytes) bytes = g_bytes_new (c->data, c->len);
          GError *error = NULL;
          g_autoptr (LfNode) loaded = lf_test_load_bytes (bytes, like, "compressed", &error);
          LF_ASSERT_NO_ERROR (error);
          ck_assert (lf_tree_equal (lf_node_get_child (loaded, 0), one));
        }
    }
}
END_TEST

START_TEST (test_compressed_inner_leftover)
{
  float v[4] = { 1, 2, 3, 4 };
  g_autoptr (LfNode) leaf = f32_array (4, v);
  g_autoptr (LfNode) tree = lf_list_new_take (1, lf_node_ref (leaf));
  g_autoptr (GBytes) npy = lf_test_save_bytes_ref (tree, "npy");
  g_autoptr (GByteArray) raw = g_byte_array_new ();
  g_byte_array_append (raw, g_bytes_get_data (npy, NULL), (guint) g_bytes_get_size (npy));
  g_byte_array_append (raw, (const guint8 *) "junk", 4);

  gsize bound = ZSTD_compressBound (raw->len);
  g_autofree guint8 *frame = g_malloc (bound);
  gsize frame_size = ZSTD_compress (frame, bound, raw->data, raw->len, 3);
  ck_assert (!ZSTD_isError (frame_size));

  g_autoptr (GByteArray) r = g_byte_array_new ();
  g_byte_array_set_size (r, 40);
  memcpy (r->data, "\x93LFZSTD\x01", 8);
  put_u32 (r, 8, 3);
  put_u32 (r, 12, 0);
  put_u64 (r, 16, raw->len);
  put_u64 (r, 24, frame_size);
  put_u64 (r, 32, XXH3_64bits (raw->data, raw->len));
  g_byte_array_append (r, (const guint8 *) "npy", 3);
  g_byte_array_append (r, frame, (guint) frame_size);
  /* Refused by the description before anything is decompressed in full. */
  assert_load_fails_n (r, 4, LF_ERROR_CORRUPT,
                       "the inner npy record is 144 bytes long, the record declares 148");
  /* And by the load itself, for callers that do not describe first. */
  GError *error = NULL;
  g_autoptr (LfCodec) codec = lf_test_codec ("compressed");
  g_autoptr (LfStream) in = lf_stream_new_for_data (r->data, r->len);
  g_autoptr (LfNode) like = f32_array (4, v);
  g_autoptr (LfNode) loaded = lf_codec_deserialise (codec, in, NULL, like, &error);
  ck_assert_ptr_null (loaded);
  LF_ASSERT_ERROR (error, LF_ERROR_CORRUPT, "the inner npy record used 144 of its 148 bytes");
}
END_TEST

/* ---- cast -------------------------------------------------------------------------- */

START_TEST (test_cast)
{
  GError *error = NULL;
  float f[] = { 0.1f, -2, 1e30f };
  gint32 i[] = { 5, -7, G_MAXINT32 };
  gsize n = 3;
  g_autoptr (LfNode) fp32 = lf_dict_new_take (
      "w", lf_array_new_copy (LF_DTYPE_FLOAT32, 1, &n, f),
      "step", lf_array_new_copy (LF_DTYPE_INT32, 1, &n, i), NULL);
  g_autoptr (GBytes) bytes = lf_test_save_bytes_ref (fp32, "npy");

  /* Train in float32, deploy in float64. */
  g_autoptr (LfNode) like64 = lf_dict_new_take (
      "w", lf_array_new_abstract (LF_DTYPE_FLOAT64, 1, &n),
      "step", lf_array_new_abstract (LF_DTYPE_INT64, 1, &n), NULL);
  ck_assert_ptr_null (lf_test_load_bytes (bytes, like64, "npy", &error));
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH, "expected int64");
  g_autoptr (LfNode) wide = lf_test_load_ok (bytes, like64, "cast");
  const double *w = lf_array_get_data (lf_dict_lookup (wide, "w"));
  ck_assert (w[0] == (double) 0.1f && w[2] == (double) 1e30f);
  const gint64 *s = lf_array_get_data (lf_dict_lookup (wide, "step"));
  ck_assert (s[1] == -7 && s[2] == G_MAXINT32);

  /* Back down: exact values pass, rounding needs lossy=allow. */
  g_autoptr (GBytes) bytes64 = lf_test_save_bytes_ref (wide, "npy");
  g_autoptr (LfNode) narrow = lf_test_load_ok (bytes64, fp32, "cast");
  ck_assert (lf_tree_equal (narrow, fp32));
  double d[] = { 0.1, 1, 2 };
  gint64 big[] = { 1, (gint64) G_MAXINT32 + 5, 3 };
  g_autoptr (LfNode) precise = lf_dict_new_take (
      "w", lf_array_new_copy (LF_DTYPE_FLOAT64, 1, &n, d),
      "step", lf_array_new_copy (LF_DTYPE_INT64, 1, &n, big), NULL);
  g_autoptr (GBytes) pbytes = lf_test_save_bytes_ref (precise, "cast(inner=compressed)");
  ck_assert_ptr_null (lf_test_load_bytes (pbytes, fp32, "cast(inner=compressed)", &error));
  LF_ASSERT_ERROR (error, LF_ERROR_OVERFLOW,
                   "(['step']): cannot load int64 data into int32 (cast(lossy=allow) would "
                   "round it): element 1 (2147483652)");
  g_autoptr (LfNode) lossy = lf_test_load_ok (pbytes, fp32, "cast(lossy=allow, inner=compressed)");
  ck_assert (((const float *) lf_array_get_data (lf_dict_lookup (lossy, "w")))[0] == 0.1f);

  /* Shapes are still checked; so are kinds. */
  gsize n2 = 2;
  g_autoptr (LfNode) bad_shape = lf_dict_new_take (
      "w", lf_array_new_abstract (LF_DTYPE_FLOAT64, 1, &n2),
      "step", lf_array_new_abstract (LF_DTYPE_INT64, 1, &n), NULL);
  ck_assert_ptr_null (lf_test_load_bytes (bytes, bad_shape, "cast", &error));
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH, "(['w'])");
  /* bfloat16 on disk into float32. */
  guint16 bf[] = { 0x3f80, 0xc000, 0x7f80 };
  g_autoptr (LfNode) bft = lf_list_new_take (1, lf_array_new_copy (LF_DTYPE_BFLOAT16, 1, &n, bf));
  g_autoptr (GBytes) bfb = lf_test_save_bytes_ref (bft, "npy");
  g_autoptr (LfNode) bfl = lf_list_new_take (1, lf_array_new_abstract (LF_DTYPE_FLOAT32, 1, &n));
  g_autoptr (LfNode) bfo = lf_test_load_ok (bfb, bfl, "cast");
  const float *bv = lf_array_get_data (lf_node_get_child (bfo, 0));
  ck_assert (bv[0] == 1 && bv[1] == -2 && isinf (bv[2]));
}
END_TEST

/* ---- spec trees mixing codecs -------------------------------------------------------- */

START_TEST (test_mixed_spec_tree)
{
  GError *error = NULL;
  float v[] = { 0.5f, 1.25f, 3.0f, 70000 };
  g_autoptr (LfNode) tree = lf_struct_new_take (
      "Model", "encoder", lf_list_new_take (2, f32_array (4, v), f32_array (2, v)),
      "decoder", lf_dict_new_take ("w", f32_array (4, v), "step", lf_scalar_new_int (9), NULL),
      "frozen", f32_array (3, v), NULL);
  g_autoptr (LfCodec) f16 = lf_test_codec ("float16");
  g_autoptr (LfCodec) zst = lf_test_codec ("compressed(level=9, inner=cast)");
  g_autoptr (LfCodec) skip = lf_test_codec ("skip-arrays");
  g_autoptr (LfNode) spec_tree = lf_struct_new_take (
      "Model",
      "encoder", lf_spec_leaf_new (f16),
      "decoder", lf_spec_leaf_new (zst),
      "frozen", lf_spec_leaf_new (skip), NULL);
  g_autoptr (LfSpec) spec = lf_spec_new_tree (spec_tree, &error);
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (GBytes) bytes = lf_test_save_bytes (tree, spec);

  g_autoptr (LfStream) in = lf_stream_new_for_bytes (bytes);
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves_from_stream (in, tree, spec, NULL,
                                                                      NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  const float *enc = lf_array_get_data (lf_node_get_child (lf_struct_lookup (loaded, "encoder"), 0));
  ck_assert (enc[0] == 0.5f && enc[2] == 3.0f && isinf (enc[3]));
  ck_assert (lf_tree_equal (lf_struct_lookup (loaded, "decoder"), lf_struct_lookup (tree, "decoder")));
  ck_assert_ptr_eq (lf_struct_lookup (loaded, "frozen"), lf_struct_lookup (tree, "frozen"));
}
END_TEST

/* ---- options ------------------------------------------------------------------------- */

START_TEST (test_bad_options)
{
  static const struct {
    const char *reference;
    LfError code;
    const char *needle;
  } cases[] = {
    { "float16(overflow=maybe)", LF_ERROR_OPTIONS, "overflow=maybe" },
    { "float16(precision=2)", LF_ERROR_OPTIONS, "precision" },
    { "float16(inner=nope)", LF_ERROR_UNKNOWN_CODEC, "nope" },
    { "compressed(level=99)", LF_ERROR_OPTIONS, "level=99" },
    { "compressed(level=fast)", LF_ERROR_OPTIONS, "level=fast" },
    { "compressed(threads=-1)", LF_ERROR_OPTIONS, "threads=-1" },
    { "compressed(inner=float16(overflow=never))", LF_ERROR_OPTIONS, "overflow=never" },
    { "compressed(inner=npy(align=3))", LF_ERROR_OPTIONS, "multiple of 64" },
    { "cast(lossy=sometimes)", LF_ERROR_OPTIONS, "lossy=sometimes" },
    { "skip-arrays(arrays=1)", LF_ERROR_OPTIONS, "arrays" },
    { "compressed(level=3", LF_ERROR_PARSE, "position" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GError *error = NULL;
      LfCodec *codec = lf_registry_resolve (lf_registry_get_default (), cases[i].reference,
                                            &error);
      ck_assert_msg (codec == NULL, "%s resolved", cases[i].reference);
      LF_ASSERT_ERROR (error, cases[i].code, cases[i].needle);
    }
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *s = suite_create ("codecs");
  TCase *tc = tcase_create ("float16");
  tcase_add_test (tc, test_float16_round_trip_path);
  tcase_add_test (tc, test_float16_abstract_like_and_stream);
  tcase_add_test (tc, test_float16_overflow);
  tcase_add_test (tc, test_float16_mismatch);
  tcase_add_test (tc, test_float16_chunked_same_bytes);
  suite_add_tcase (s, tc);
  tc = tcase_create ("skip-arrays");
  tcase_add_test (tc, test_skip_arrays);
  suite_add_tcase (s, tc);
  tc = tcase_create ("compressed");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_compressed_round_trip);
  tcase_add_test (tc, test_compressed_threads_identical);
  tcase_add_test (tc, test_compressed_streamed_outputs);
  tcase_add_test (tc, test_compressed_corrupt);
  tcase_add_test (tc, test_compressed_inner_leftover);
  tcase_add_test (tc, test_compressed_window_cap);
  suite_add_tcase (s, tc);
  tc = tcase_create ("cast and mixing");
  tcase_add_test (tc, test_cast);
  tcase_add_test (tc, test_mixed_spec_tree);
  tcase_add_test (tc, test_bad_options);
  suite_add_tcase (s, tc);
  return s;
}
