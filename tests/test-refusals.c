/* No code from data: object dtypes (and the pickles numpy writes after
 * them), structured and dict dtypes, strings, datetimes, raw voids and raw
 * pickles are refused with a clear error naming the leaf, before any of
 * their data is read.  The records are byte for byte what numpy writes. */
#include "test-common.h"

/* ---- refused records -------------------------------------------------------- */

/* A version 1.0 npy record with dict `dict`, padded as numpy pads it,
 * followed by `payload`. */
static GBytes *
record (const char *dict, const void *payload, gsize payload_size)
{
  GString *text = g_string_new (dict);
  while ((10 + text->len + 1) % 64 != 0)
    g_string_append_c (text, ' ');
  g_string_append_c (text, '\n');
  GByteArray *out = g_byte_array_new ();
  guint8 prefix[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                        (guint8) (text->len & 0xff), (guint8) (text->len >> 8) };
  g_byte_array_append (out, prefix, sizeof prefix);
  g_byte_array_append (out, (const guint8 *) text->str, (guint) text->len);
  g_byte_array_append (out, payload, (guint) payload_size);
  g_string_free (text, TRUE);
  return g_byte_array_free_to_bytes (out);
}

/* The start of the pickle numpy 1.24 writes after the header of
 * np.save (f, np.array ([{'a': 1}, None], dtype=object), allow_pickle=True). */
static const char pickle[] = "\x80\x03" "cnumpy.core.multiarray\n_reconstruct\nq\x00"
                             "cnumpy\nndarray\nq\x01K\x00\x85q\x02C\x01bq\x03\x87q\x04Rq";

/* Loads `bytes` into {'w': float32 (2,)}: must fail with `code`, naming the
 * leaf and containing `needle`. */
static void
assert_refused (GBytes *bytes, LfError code, const char *needle)
{
  g_autoptr (LfNode) like = lf_dict_new_take ("w", lf_array_new_abstract (LF_DTYPE_FLOAT32, 1,
                                                                         (gsize[]) { 2 }), NULL);
  g_autoptr (LfStream) stream = lf_stream_new_for_bytes (bytes);
  GError *error = NULL;
  g_autoptr (LfNode) out = lf_tree_deserialise_leaves_from_stream (stream, like, NULL, NULL,
                                                                   NULL, &error);
  ck_assert_ptr_null (out);
  ck_assert_msg (error != NULL && strstr (error->message, "record 0 at offset 0 (['w'])") != NULL,
                 "%s: %s", needle, error ? error->message : "loaded");
  LF_ASSERT_ERROR (error, code, needle);
}

START_TEST (object_arrays_and_pickles_refused)
{
  g_autoptr (GBytes) object = record ("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
                                      pickle, sizeof pickle - 1);
  assert_refused (object, LF_ERROR_UNSUPPORTED, "'|O'");
  g_autoptr (GBytes) object_be = record ("{'descr': '>O', 'fortran_order': False, 'shape': (2,), }",
                                         pickle, sizeof pickle - 1);
  assert_refused (object_be, LF_ERROR_UNSUPPORTED, "'>O'");
  /* A bare pickle where a record should be: not an npy record at all. */
  g_autoptr (GBytes) bare = g_bytes_new_static (pickle, sizeof pickle - 1);
  assert_refused (bare, LF_ERROR_CORRUPT, "not an npy record");
}
END_TEST

START_TEST (structured_and_other_dtypes_refused)
{
  static const struct { const char *dict; LfError code; const char *needle; } cases[] = {
    { "{'descr': [('x', '<f4'), ('y', '<i8')], 'fortran_order': False, 'shape': (2,), }",
      LF_ERROR_UNSUPPORTED, "structured dtype refused" },
    { "{'descr': {'names': ['x'], 'formats': ['<f4']}, 'fortran_order': False, 'shape': (2,), }",
      LF_ERROR_UNSUPPORTED, "dict dtype refused" },
    { "{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }", LF_ERROR_UNSUPPORTED, "'<U5'" },
    { "{'descr': '|S3', 'fortran_order': False, 'shape': (2,), }", LF_ERROR_UNSUPPORTED, "'|S3'" },
    { "{'descr': '<M8[D]', 'fortran_order': False, 'shape': (2,), }", LF_ERROR_UNSUPPORTED,
      "'<M8[D]'" },
    { "{'descr': '<m8[s]', 'fortran_order': False, 'shape': (2,), }", LF_ERROR_UNSUPPORTED,
      "'<m8[s]'" },
    { "{'descr': '|V8', 'fortran_order': False, 'shape': (2,), }", LF_ERROR_UNSUPPORTED, "'|V8'" },
    { "{'descr': '<f16', 'fortran_order': False, 'shape': (2,), }", LF_ERROR_UNSUPPORTED, "'<f16'" },
  };
  guint8 data[64] = { 0 };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) bytes = record (cases[i].dict, data, sizeof data);
      assert_refused (bytes, cases[i].code, cases[i].needle);
    }
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *s = suite_create ("refusals");
  TCase *tc = tcase_create ("refusals");
  tcase_add_test (tc, object_arrays_and_pickles_refused);
  tcase_add_test (tc, structured_and_other_dtypes_refused);
  suite_add_tcase (s, tc);
  return s;
}
