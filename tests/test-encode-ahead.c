/* Saves that encode small leaves ahead on a thread pool (codecs flagged
 * LF_CODEC_PARALLEL_SMALL_LEAVES, here `compressed`): the file is the one
 * a single thread writes, the manifest's offsets are right, and an error in
 * a worker names its own record and leaf.  The suite forces three workers
 * (LEAFIO_ENCODE_THREADS), so the pool runs on any machine. */
#include "test-common.h"

static LfNode *
floats (gsize n, float scale)
{
  float *data = g_new (float, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    data[i] = (float) (i % 97) * scale;
  return lf_array_new_take (LF_DTYPE_FLOAT32, 1, &n, data);
}

/* 40 leaves: small arrays of growing size, scalars, an opaque leaf (no
 * record) and one big array (written in the calling thread) between them. */
static LfNode *
many_leaves (float big_scale)
{
  LfNode *items[40];
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      if (i == 7)
        items[i] = lf_opaque_new ("str", (gpointer) "x", NULL);
      else if (i == 20)
        items[i] = floats ((3u << 20) / 4, big_scale);
      else if (i % 9 == 4)
        items[i] = lf_scalar_new_int (i);
      else
        items[i] = floats ((gsize) i * i * 37 + 1, 0.5f + (float) i);
    }
  return lf_list_new_take (40, items[0], items[1], items[2], items[3], items[4], items[5],
                           items[6], items[7], items[8], items[9], items[10], items[11],
                           items[12], items[13], items[14], items[15], items[16], items[17],
                           items[18], items[19], items[20], items[21], items[22], items[23],
                           items[24], items[25], items[26], items[27], items[28], items[29],
                           items[30], items[31], items[32], items[33], items[34], items[35],
                           items[36], items[37], items[38], items[39]);
}

/* What one thread writes: each leaf's record, one after the other. */
static GBytes *
records_one_by_one (LfNode *tree, const char *reference)
{
  GError *error = NULL;
  g_autoptr (LfCodec) codec = lf_registry_resolve (lf_registry_get_default (), reference,
                                                   &error);
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  for (gsize i = 0; i < lf_node_get_n_children (tree); i++)
    {
      LfNode *leaf = lf_node_get_child (tree, i);
      if (lf_codec_handles (codec, leaf))
        ck_assert (lf_codec_serialise (codec, out, NULL, leaf, &error));
    }
  ck_assert (lf_stream_flush (out, &error));
  LF_ASSERT_NO_ERROR (error);
  return lf_stream_steal_bytes (out);
}

START_TEST (test_same_file_as_one_thread)
{
  g_autoptr (LfNode) tree = many_leaves (1.0f);
  g_autoptr (LfSpec) spec = lf_test_spec ("compressed");
  GError *error = NULL;

  g_autoptr (LfStream) out = lf_stream_new_memory ();
  ck_assert (lf_tree_serialise_leaves_to_stream (out, tree, spec, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (GBytes) pooled = lf_stream_steal_bytes (out);
  g_autoptr (GBytes) expected = records_one_by_one (tree, "compressed");
  ck_assert (g_bytes_equal (pooled, expected));

  /* By path, with a manifest: its offsets and checksums must match what
   * was written, and the file loads back. */
  g_autofree char *path = lf_test_path ("ahead.eqx");
  ck_assert (lf_tree_serialise_leaves_full (path, tree, spec, NULL, NULL,
                                            LF_SAVE_MANIFEST | LF_SAVE_NO_SYNC, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (GBytes) file = lf_test_read_file (path);
  ck_assert (g_bytes_equal (file, expected));
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (path, tree, spec, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (loaded, tree));
}
END_TEST

/* Enough tiny leaves for many full batches, more than may wait at once:
 * the walker writes while the pool encodes, and the order holds. */
START_TEST (test_many_batches_in_order)
{
  LfNode *items[1000];
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    items[i] = i % 97 == 5 ? lf_scalar_new_int (i) : floats (1 + i % 13, (float) i);
  g_autoptr (LfNode) tree = lf_list_new (G_N_ELEMENTS (items), items);
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    lf_node_unref (items[i]);
  g_autoptr (LfSpec) spec = lf_test_spec ("compressed(level=1)");
  GError *error = NULL;
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  ck_assert (lf_tree_serialise_leaves_to_stream (out, tree, spec, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (GBytes) pooled = lf_stream_steal_bytes (out);
  g_autoptr (GBytes) expected = records_one_by_one (tree, "compressed(level=1)");
  ck_assert (g_bytes_equal (pooled, expected));
}
END_TEST

/* A worker's failure is reported for its own record and leaf, and the
 * leaves queued behind it are dropped without a leak (valgrind). */
START_TEST (test_worker_error_names_its_leaf)
{
  /* Leaf [13] cannot be stored as float16 with overflow=error. */
  LfNode *items[30];
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    items[i] = floats (500 + i, i == 13 ? 1e6f : 1.0f);
  g_autoptr (LfNode) tree = lf_list_new (G_N_ELEMENTS (items), items);
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    lf_node_unref (items[i]);
  g_autoptr (LfSpec) spec = lf_test_spec ("compressed(inner=float16(overflow=error))");
  for (int round = 0; round < 5; round++)
    {
      GError *error = NULL;
      g_autoptr (LfStream) out = lf_stream_new_memory ();
      ck_assert (!lf_tree_serialise_leaves_to_stream (out, tree, spec, NULL, NULL, &error));
      ck_assert (error != NULL && strstr (error->message, "([13])") != NULL);
      LF_ASSERT_ERROR (error, LF_ERROR_OVERFLOW, "record 13 at offset");
    }
}
END_TEST

Suite *
lf_test_suite (void)
{
  g_setenv ("LEAFIO_ENCODE_THREADS", "3", TRUE);
  Suite *suite = suite_create ("encode-ahead");
  TCase *tc = tcase_create ("encode-ahead");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_same_file_as_one_thread);
  tcase_add_test (tc, test_worker_error_names_its_leaf);
  tcase_add_test (tc, test_many_batches_in_order);
  suite_add_tcase (suite, tc);
  return suite;
}
