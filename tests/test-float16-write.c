/* The float16 codec's own writer (plugins/float16-write.c): arrays
 * converted a slot of 2^19 elements at a time (the first four slots of an
 * array 1/8, 1/8, 1/4 and 1/2 of that), by a second thread from 2^18
 * elements on, into a ring of four slots kept by the codec instance.
 * Whatever the sizes, the thread that converts a slot and the output, the
 * record must be the npy record of the whole array converted at once,
 * which is what numpy writes (interop-float16.sh). */
#include <math.h>

#include "test-common.h"

/* The writer's slot, in elements, and its ring's length.  An array's
 * first four slots make one slot's worth, so (RING + 1) slots' worth wrap
 * around the ring twice. */
#define SLOT ((gsize) 1 << 19)
#define RING 4

/* Values every rounding rule meets: ties, subnormals, overflow to
 * infinity, infinities, NaNs with payloads (signalling ones too), zeros of
 * both signs, and values that vary with the index so that a slot written
 * twice or out of place shows. */
static float
f32_value (gsize i)
{
  static const guint32 specials[] = {
    0x7f800000u, 0xff800000u, 0x7fc00001u, 0x7f800001u, 0xffbfffffu,
    0x80000000u, 0x00000000u, 0x33800000u, 0x477ff000u, 0x477fefffu,
    0x387fc000u, 0x38800000u, 0x3f801000u, 0x3f803000u, 0x7f7fffffu,
  };
  if (i % 97 < G_N_ELEMENTS (specials))
    {
      float f;
      guint32 bits = specials[i % 97];
      memcpy (&f, &bits, sizeof f);
      return f;
    }
  return ((float) (i % 4099) - 2049.0f) * 0.013f + (float) (i / 4099) * 1e-3f;
}

static LfNode *
array_of (LfDType dtype, guint ndim, const gsize *shape)
{
  gsize n = 1;
  for (guint d = 0; d < ndim; d++)
    n *= shape[d];
  gsize size = n * lf_dtype_size (dtype);
  guint8 *data = g_malloc (MAX (size, 1));
  for (gsize i = 0; i < n; i++)
    {
      float f = f32_value (i);
      if (dtype == LF_DTYPE_FLOAT32)
        memcpy (data + i * 4, &f, 4);
      else if (dtype == LF_DTYPE_FLOAT64)
        {
          double d = (double) f * (1.0 + 1e-9);   /* bits below float32's */
          memcpy (data + i * 8, &d, 8);
        }
      else
        lf_convert_f32_to_bf16 (&f, (guint16 *) (data + i * 2), 1);
    }
  return lf_array_new_take (dtype, ndim, shape, data);
}

static LfNode *
vector_of (LfDType dtype, gsize n)
{
  return array_of (dtype, 1, &n);
}

/* `leaf` converted to float16 in one call. */
static LfNode *
whole_half (LfNode *leaf)
{
  gsize n = lf_array_get_n_elements (leaf);
  guint16 *half = g_new (guint16, MAX (n, 1));
  gconstpointer src = lf_array_get_data (leaf);
  switch (lf_array_get_dtype (leaf))
    {
    case LF_DTYPE_FLOAT32:
      lf_convert_f32_to_f16 (src, half, n);
      break;
    case LF_DTYPE_FLOAT64:
      lf_convert_f64_to_f16 (src, half, n);
      break;
    default:
      lf_convert_bf16_to_f16 (src, half, n);
      break;
    }
  return lf_array_new_take (LF_DTYPE_FLOAT16, lf_array_get_ndim (leaf),
                            lf_array_get_shape (leaf), half);
}

/* The list of `leaves` converted at once, saved with plain npy: the bytes
 * a float16 save of them must produce. */
static GBytes *
expected_bytes (LfNode *tree, const char *inner)
{
  gsize n = lf_node_get_n_children (tree);
  g_autoptr (GPtrArray) halves = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  for (gsize i = 0; i < n; i++)
    g_ptr_array_add (halves, whole_half (lf_node_get_child (tree, i)));
  g_autoptr (LfNode) half_tree = lf_list_new (n, (LfNode *const *) halves->pdata);
  return lf_test_save_bytes_ref (half_tree, inner);
}

/* Asserts `tree` saved with `reference` is `expected`, and loads back. */
static void
assert_saves_as (LfNode *tree, const char *reference, GBytes *expected)
{
  g_autoptr (GBytes) got = lf_test_save_bytes_ref (tree, reference);
  ck_assert_msg (g_bytes_equal (got, expected), "%s wrote other bytes", reference);
  g_autoptr (LfNode) loaded = lf_test_load_ok (got, tree, reference);
  ck_assert_uint_eq (lf_node_get_n_children (loaded), lf_node_get_n_children (tree));
}

/* ---- sizes around the slots ------------------------------------------------------- */

/* Sizes on both sides of every boundary the writer has: the vector
 * kernel's 8 lanes, the ramp's slots (the second thread starts at half a
 * slot), whole slots, the ring and its wrap-around. */
START_TEST (test_slot_boundaries)
{
  static const gsize sizes[] = {
    1, 7, 8, 9, SLOT / 8 + 1, SLOT / 4 + 1, SLOT / 2 - 1, SLOT / 2, SLOT / 2 + 1,
    SLOT - 1, SLOT, SLOT + 1, 2 * SLOT - 1, 2 * SLOT, 2 * SLOT + 1,
    (RING + 1) * SLOT + 7,
  };
  g_autoptr (GPtrArray) leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    g_ptr_array_add (leaves, vector_of (LF_DTYPE_FLOAT32, sizes[i]));
  g_autoptr (LfNode) tree = lf_list_new (leaves->len, (LfNode *const *) leaves->pdata);
  g_autoptr (GBytes) expected = expected_bytes (tree, "npy");
  assert_saves_as (tree, "float16", expected);
  /* The general path (overflow=error converts whole arrays) agrees
   * wherever nothing overflows; here every finite value overflows
   * somewhere, so it must refuse. */
  GError *error = NULL;
  g_autoptr (LfSpec) strict = lf_test_spec ("float16(overflow=error)");
  g_autoptr (LfStream) sink = lf_stream_new_memory ();
  ck_assert (!lf_tree_serialise_leaves_to_stream (sink, tree, strict, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_OVERFLOW, "overflows float16");
}
END_TEST

/* float64 and bfloat16 go through the same slots. */
START_TEST (test_other_dtypes)
{
  g_autoptr (LfNode) tree = lf_list_new_take (
      4, vector_of (LF_DTYPE_FLOAT64, 2 * SLOT + 3), vector_of (LF_DTYPE_BFLOAT16, 3 * SLOT - 1),
      vector_of (LF_DTYPE_FLOAT64, 5), vector_of (LF_DTYPE_BFLOAT16, SLOT));
  g_autoptr (GBytes) expected = expected_bytes (tree, "npy");
  assert_saves_as (tree, "float16", expected);
}
END_TEST

/* 0-d arrays, empty ones of every rank, and shapes whose rows do not
 * divide a slot. */
START_TEST (test_shapes)
{
  gsize empty1[] = { 0 }, empty2[] = { 3, 0 }, empty3[] = { 0, 4, 5 };
  gsize odd[] = { 3, SLOT / 3 + 11 }, big[] = { 7, 5, (2 * SLOT) / 35 + 1 };
  g_autoptr (LfNode) tree = lf_list_new_take (
      6, array_of (LF_DTYPE_FLOAT32, 0, NULL), array_of (LF_DTYPE_FLOAT32, 1, empty1),
      array_of (LF_DTYPE_FLOAT64, 2, empty2), array_of (LF_DTYPE_BFLOAT16, 3, empty3),
      array_of (LF_DTYPE_FLOAT32, 2, odd), array_of (LF_DTYPE_FLOAT32, 3, big));
  g_autoptr (GBytes) expected = expected_bytes (tree, "npy");
  assert_saves_as (tree, "float16", expected);
  /* Aligned data: the same headers npy(align=) pads, written by float16. */
  g_autoptr (GBytes) aligned = expected_bytes (tree, "npy(align=64)");
  assert_saves_as (tree, "float16(inner=npy(align=64))", aligned);
}
END_TEST

/* ---- outputs ---------------------------------------------------------------------- */

/* A file and a stream over callbacks get the bytes memory gets. */
START_TEST (test_file_and_callbacks)
{
  g_autoptr (LfNode) tree = lf_list_new_take (2, vector_of (LF_DTYPE_FLOAT32, (RING + 1) * SLOT + 5),
                                              vector_of (LF_DTYPE_FLOAT32, 100));
  g_autoptr (GBytes) expected = expected_bytes (tree, "npy");
  g_autoptr (LfSpec) spec = lf_test_spec ("float16");
  g_autofree char *path = lf_test_path ("float16-write.eqx");
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves (path, tree, spec, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (GBytes) file = lf_test_read_file (path);
  ck_assert (g_bytes_equal (file, expected));

  g_autoptr (GBytes) called = lf_test_save_into_sink (tree, spec, G_MAXSIZE, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (g_bytes_equal (called, expected));
}
END_TEST

/* An output that fails in the header, in the ramp, inside and after the
 * ring's first round, and on the last slot: an I/O error, and no thread
 * left behind (the test would hang or valgrind complain). */
START_TEST (test_failing_output)
{
  gsize n = (RING + 2) * SLOT + 7;
  g_autoptr (LfNode) tree = lf_list_new_take (1, vector_of (LF_DTYPE_FLOAT32, n));
  g_autoptr (LfSpec) spec = lf_test_spec ("float16");
  const gsize fail_after[] = {
    0, 100, 2 * (SLOT / 8) + 200, 2 * SLOT + 1, 2 * SLOT * 3, 2 * SLOT * (RING + 1) + 17, 2 * n,
  };
  for (gsize i = 0; i < G_N_ELEMENTS (fail_after); i++)
    {
      GError *error = NULL;
      ck_assert_ptr_null (lf_test_save_into_sink (tree, spec, fail_after[i], &error));
      LF_ASSERT_ERROR (error, LF_ERROR_IO, "the sink is full");
    }
  /* The codec still works after failures. */
  g_autoptr (GBytes) expected = expected_bytes (tree, "npy");
  GError *error = NULL;
  g_autoptr (GBytes) got = lf_test_save_into_sink (tree, spec, G_MAXSIZE, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (g_bytes_equal (got, expected));
}
END_TEST

/* ---- one codec, several saves at once ---------------------------------------------- */

typedef struct {
  LfNode *tree;
  LfSpec *spec;
  GBytes *expected;
  gint mismatches;
} Shared;

static gpointer
save_three_times (gpointer data)
{
  Shared *shared = data;
  for (int i = 0; i < 3; i++)
    {
      GError *error = NULL;
      GBytes *got = lf_test_save_into_sink (shared->tree, shared->spec, G_MAXSIZE, &error);
      if (got == NULL || !g_bytes_equal (got, shared->expected))
        g_atomic_int_inc (&shared->mismatches);
      g_clear_error (&error);
      if (got != NULL)
        g_bytes_unref (got);
    }
  return NULL;
}

/* Saves sharing a codec instance share its ring cache: each save has a
 * ring of its own while it writes. */
START_TEST (test_concurrent_saves)
{
  g_autoptr (LfNode) tree = lf_list_new_take (3, vector_of (LF_DTYPE_FLOAT32, 3 * SLOT + 1),
                                              vector_of (LF_DTYPE_FLOAT32, 1000),
                                              vector_of (LF_DTYPE_FLOAT32, 2 * SLOT));
  g_autoptr (GBytes) expected = expected_bytes (tree, "npy");
  g_autoptr (LfSpec) spec = lf_test_spec ("float16");
  Shared shared = { tree, spec, expected, 0 };
  GThread *threads[3];
  for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("save", save_three_times, &shared);
  for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  ck_assert_int_eq (shared.mismatches, 0);
}
END_TEST

/* ---- compositions ------------------------------------------------------------------ */

/* float16 around an inner codec whose records are not raw (compressed):
 * the whole array is converted and handed over; and float16 inside
 * compressed, which streams the halves into zstd. */
START_TEST (test_compositions)
{
  g_autoptr (LfNode) tree = lf_list_new_take (2, vector_of (LF_DTYPE_FLOAT32, 3 * SLOT + 5),
                                              vector_of (LF_DTYPE_FLOAT64, 9));
  g_autoptr (GBytes) plain = lf_test_save_bytes_ref (tree, "float16");
  g_autoptr (LfNode) rounded = lf_test_load_ok (plain, tree, "float16");

  static const char *const references[] = {
    "float16(inner=compressed)",
    "compressed(inner=float16)",
    "compressed(level=1, inner=float16(inner=npy(align=64)))",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (references); i++)
    {
      g_autoptr (GBytes) bytes = lf_test_save_bytes_ref (tree, references[i]);
      g_autoptr (LfNode) loaded = lf_test_load_ok (bytes, tree, references[i]);
      ck_assert_msg (lf_tree_equal (loaded, rounded), "%s", references[i]);
    }
  /* Inside compressed, zstd gets the plain float16 records. */
  g_autoptr (GBytes) nested = lf_test_save_bytes_ref (tree, "compressed(inner=float16)");
  g_autoptr (LfNode) half_like = lf_list_new_take (
      2, lf_array_new_abstract (LF_DTYPE_FLOAT16, 1, lf_array_get_shape (lf_node_get_child (tree, 0))),
      lf_array_new_abstract (LF_DTYPE_FLOAT16, 1, lf_array_get_shape (lf_node_get_child (tree, 1))));
  g_autoptr (LfNode) halves = lf_test_load_ok (nested, half_like, "compressed(inner=npy)");
  g_autoptr (GBytes) again = lf_test_save_bytes_ref (halves, "npy");
  ck_assert (g_bytes_equal (again, plain));
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *s = suite_create ("float16-write");
  TCase *tc = tcase_create ("sizes");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_slot_boundaries);
  tcase_add_test (tc, test_other_dtypes);
  tcase_add_test (tc, test_shapes);
  suite_add_tcase (s, tc);
  tc = tcase_create ("outputs");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_file_and_callbacks);
  tcase_add_test (tc, test_failing_output);
  tcase_add_test (tc, test_concurrent_saves);
  tcase_add_test (tc, test_compositions);
  suite_add_tcase (s, tc);
  return s;
}
