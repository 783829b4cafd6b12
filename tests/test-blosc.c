/* The blosc codec plugin: round trips of every dtype and shape, chunked
 * leaves, records of other byte orders, describe without decoding, and
 * every way a record can be corrupt or cut short. */
#include <math.h>
#include <string.h>

#include <blosc.h>

#include "test-common.h"

/* ---- helpers ------------------------------------------------------------------ */

/* One record of `leaf` written by the codec alone. */
static GBytes *
record_of (const char *reference, LfNode *leaf)
{
  g_autoptr (LfCodec) codec = lf_test_codec (reference);
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  GError *error = NULL;
  ck_assert (lf_codec_serialise (codec, out, NULL, leaf, &error));
  ck_assert (lf_stream_flush (out, &error));
  LF_ASSERT_NO_ERROR (error);
  return lf_stream_steal_bytes (out);
}

/* Float weights as training starts them: normal, small. */
static float *
weights (gsize n, guint32 seed)
{
  float *w = g_new (float, n);
  GRand *rand = g_rand_new_with_seed (seed);
  for (gsize i = 0; i < n; i += 2)
    {
      double u = 1.0 - g_rand_double (rand), v = g_rand_double (rand);
      double r = sqrt (-2 * log (u)) * 0.02;
      w[i] = (float) (r * cos (2 * G_PI * v));
      if (i + 1 < n)
        w[i + 1] = (float) (r * sin (2 * G_PI * v));
    }
  g_rand_free (rand);
  return w;
}

static LfNode *
f32_array (gsize n, const float *values)
{
  return lf_array_new_copy (LF_DTYPE_FLOAT32, 1, &n, values);
}

/* An array of `dtype` and `shape` whose bytes count up. */
static LfNode *
counting_array (LfDType dtype, guint ndim, const gsize *shape)
{
  gsize size;
  ck_assert (lf_shape_n_bytes (dtype, ndim, shape, &size));
  guint8 *data = g_malloc (MAX (size, 1));
  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (dtype == LF_DTYPE_BOOL ? i % 2 : (i * 7) % 251);
  return lf_array_new_take (dtype, ndim, shape, data);
}

static const char *const references[] = {
  "blosc", "blosc(shuffle=bit)", "blosc(shuffle=none, compressor=lz4, clevel=9)",
  "blosc(compressor=blosclz, threads=1, blocksize=4096)", "blosc(compressor=zlib, clevel=0)",
};

/* ---- round trips ---------------------------------------------------------------- */

START_TEST (test_every_dtype_and_shape)
{
  static const gsize shapes[][3] = { { 0 }, { 5 }, { 0 }, { 3, 0, 2 }, { 4, 3, 5 } };
  static const guint ndims[] = { 0, 1, 1, 3, 3 };
  for (LfDType dtype = LF_DTYPE_BOOL; dtype <= LF_DTYPE_COMPLEX128; dtype++)
    {
      LfNode *leaves[G_N_ELEMENTS (ndims)];
      for (gsize s = 0; s < G_N_ELEMENTS (ndims); s++)
        leaves[s] = counting_array (dtype, ndims[s], shapes[s]);
      g_autoptr (LfNode) tree = lf_list_new (G_N_ELEMENTS (leaves), leaves);
      for (gsize s = 0; s < G_N_ELEMENTS (leaves); s++)
        lf_node_unref (leaves[s]);
      for (gsize r = 0; r < G_N_ELEMENTS (references); r++)
        {
          g_autoptr (GBytes) bytes = lf_test_save_bytes_ref (tree, references[r]);
          g_autoptr (LfNode) loaded = lf_test_load_ok (bytes, tree, "blosc");
          ck_assert_msg (lf_tree_equal (loaded, tree), "%s %s", lf_dtype_name (dtype),
                         references[r]);
        }
    }
}
END_TEST

/* Arrays of around 128 elements, where c-blosc's split buffers need care. */
START_TEST (test_small_buffers)
{
  static const LfDType dtypes[] = { LF_DTYPE_INT16, LF_DTYPE_FLOAT32, LF_DTYPE_FLOAT64,
                                    LF_DTYPE_COMPLEX128 };
  for (gsize t = 0; t < G_N_ELEMENTS (dtypes); t++)
    for (gsize n = 1; n < 300; n += 3)
      {
        g_autoptr (LfNode) tree = lf_list_new_take (1, counting_array (dtypes[t], 1, &n));
        for (gsize r = 0; r < 2; r++)
          {
            g_autoptr (GBytes) bytes = lf_test_save_bytes_ref (tree, references[r]);
            g_autoptr (LfNode) loaded = lf_test_load_ok (bytes, tree, "blosc");
            ck_assert_msg (lf_tree_equal (loaded, tree), "%s (%" G_GSIZE_FORMAT ",)",
                           lf_dtype_name (dtypes[t]), n);
          }
      }
}
END_TEST

/* Scalars are 0-d arrays in the file and scalars again on load; leaves
 * that are not arrays keep `like`'s value. */
START_TEST (test_scalars_and_other_leaves)
{
  LfNode *opaque = lf_opaque_new ("function", (gpointer) lf_test_codec, NULL);
  g_autoptr (LfNode) tree = lf_dict_new_take ("b", lf_scalar_new_bool (TRUE),
                                              "i", lf_scalar_new_int (-7),
                                              "f", lf_scalar_new_float (2.5),
                                              "c", lf_scalar_new_complex (1, -2),
                                              "n", lf_none_new (), "o", opaque, NULL);
  g_autoptr (GBytes) bytes = lf_test_save_bytes_ref (tree, "blosc");
  g_autoptr (LfNode) loaded = lf_test_load_ok (bytes, tree, "blosc");
  ck_assert (lf_tree_equal (loaded, tree));
  ck_assert_ptr_eq (lf_dict_lookup (loaded, "o"), opaque);
}
END_TEST

static gboolean
append_to_array (gpointer user_data, const void *buffer, gsize count, GError **error)
{
  g_byte_array_append (user_data, buffer, (guint) count);
  return TRUE;
}

/* Several chunks: every thread count and every kind of output writes the
 * same bytes, and noisy float weights come out smaller than zstd makes
 * them. */
START_TEST (test_chunks_threads_and_outputs)
{
  gsize n = (5u << 20) / 4 + 3;
  g_autofree float *w = weights (n, 7);
  g_autoptr (LfNode) tree = lf_list_new_take (2, f32_array (n, w), f32_array (100, w));
  g_autoptr (GBytes) one = lf_test_save_bytes_ref (tree, "blosc(chunk_mb=1, threads=1)");
  g_autoptr (GBytes) two = lf_test_save_bytes_ref (tree, "blosc(chunk_mb=1, threads=2)");
  ck_assert (g_bytes_equal (one, two));
  g_autoptr (LfNode) loaded = lf_test_load_ok (one, tree, "blosc(threads=3)");
  ck_assert (lf_tree_equal (loaded, tree));

  /* A file (header rewritten at the end) and a callback stream (chunks
   * buffered) get the memory stream's bytes. */
  GError *error = NULL;
  g_autoptr (LfSpec) spec = lf_test_spec ("blosc(chunk_mb=1)");
  g_autofree char *path = lf_test_path ("chunks.eqx");
  ck_assert (lf_tree_serialise_leaves (path, tree, spec, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (GBytes) file = lf_test_read_file (path);
  ck_assert (g_bytes_equal (file, one));
  GByteArray *sink = g_byte_array_new ();
  LfStream *callbacks = lf_stream_new_for_callbacks (NULL, append_to_array, sink, NULL);
  ck_assert (lf_tree_serialise_leaves_to_stream (callbacks, tree, spec, NULL, NULL, &error));
  ck_assert (lf_stream_flush (callbacks, &error));
  LF_ASSERT_NO_ERROR (error);
  lf_stream_free (callbacks);
  g_autoptr (GBytes) buffered = g_byte_array_free_to_bytes (sink);
  ck_assert (g_bytes_equal (buffered, one));
  g_autoptr (LfSpec) plain = lf_test_spec ("blosc");
  g_autoptr (LfNode) from_file = lf_tree_deserialise_leaves (path, tree, plain, NULL, NULL,
                                                            &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (from_file, tree));

  g_autoptr (GBytes) zstd = lf_test_save_bytes_ref (tree, "compressed");
  ck_assert_uint_lt (g_bytes_get_size (one), g_bytes_get_size (zstd));
  g_autoptr (GBytes) npy = lf_test_save_bytes_ref (tree, "npy");
  ck_assert_uint_lt (g_bytes_get_size (one), g_bytes_get_size (npy) * 88 / 100);
}
END_TEST

/* ---- other writers: byte orders and Fortran order ------------------------------ */

/* A record as another writer may make it: `npy` is the npy header text
 * (dict only), `data` the raw data, compressed in one chunk. */
static GBytes *
handmade_record (const char *dict, const void *data, gsize size, gsize typesize)
{
  char npy[256];
  gsize text = strlen (dict);
  gsize total = 10 + text + 1;
  gsize padded = (total + 63) / 64 * 64;
  memcpy (npy, "\x93NUMPY\x01\x00", 8);
  npy[8] = (char) ((padded - 10) & 0xff);
  npy[9] = (char) ((padded - 10) >> 8);
  memcpy (npy + 10, dict, text);
  memset (npy + 10 + text, ' ', padded - total);
  npy[padded - 1] = '\n';

  guint8 *chunk = g_malloc (size + BLOSC_MAX_OVERHEAD);
  int csize = blosc_compress_ctx (5, BLOSC_SHUFFLE, typesize, size, data, chunk,
                                  size + BLOSC_MAX_OVERHEAD, "zstd", 0, 1);
  ck_assert_int_gt (csize, 0);
  GByteArray *r = g_byte_array_new ();
  guint8 header[40] = "\x93LFBLOSC\x01";   /* flags 0: no checksum */
  guint32 h = GUINT32_TO_LE ((guint32) padded);
  guint64 c = GUINT64_TO_LE ((guint64) 1 << 24), z = GUINT64_TO_LE ((guint64) csize);
  memcpy (header + 12, &h, 4);
  memcpy (header + 16, &c, 8);
  memcpy (header + 24, &z, 8);
  g_byte_array_append (r, header, 40);
  g_byte_array_append (r, (const guint8 *) npy, (guint) padded);
  g_byte_array_append (r, chunk, (guint) csize);
  g_free (chunk);
  return g_byte_array_free_to_bytes (r);
}

START_TEST (test_big_endian_and_fortran)
{
  guint32 be[6];
  float want[6] = { 1, -2, 3.5f, 4, 5, 6e-3f };
  for (int i = 0; i < 6; i++)
    {
      guint32 bits;
      memcpy (&bits, &want[i], 4);
      be[i] = GUINT32_TO_BE (bits);
    }
  g_autoptr (GBytes) big = handmade_record (
    "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", be, sizeof be, 4);
  gsize shape[] = { 2, 3 };
  g_autoptr (LfNode) expected = lf_array_new_copy (LF_DTYPE_FLOAT32, 2, shape, want);
  g_autoptr (LfNode) like = lf_list_new_take (1, lf_array_new_zeros (LF_DTYPE_FLOAT32, 2, shape));
  g_autoptr (LfNode) loaded = lf_test_load_ok (big, like, "blosc");
  ck_assert (lf_tree_equal (lf_node_get_child (loaded, 0), expected));

  /* Fortran order: the columns come first in the file. */
  float columns[6] = { 1, 4, -2, 5, 3.5f, 6e-3f };
  g_autoptr (GBytes) fortran = handmade_record (
    "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", columns, sizeof columns, 4);
  g_autoptr (LfNode) reordered = lf_test_load_ok (fortran, like, "blosc");
  ck_assert (lf_tree_equal (lf_node_get_child (reordered, 0), expected));
}
END_TEST

/* ---- describe -------------------------------------------------------------------- */

/* Describe reads the headers only: chunks full of garbage still describe,
 * while a load refuses them. */
START_TEST (test_describe_without_decoding)
{
  gsize shape[] = { 300, 7 };
  g_autoptr (LfNode) leaf = counting_array (LF_DTYPE_INT16, 2, shape);
  g_autoptr (GBytes) record = record_of ("blosc", leaf);
  gsize size;
  const guint8 *bytes = g_bytes_get_data (record, &size);
  guint32 npy_len;
  memcpy (&npy_len, bytes + 12, 4);
  npy_len = GUINT32_FROM_LE (npy_len);
  g_autofree guint8 *garbled = g_memdup2 (bytes, size);
  memset (garbled + 40 + npy_len, 0x5a, size - 40 - npy_len);

  g_autoptr (LfCodec) codec = lf_test_codec ("blosc");
  g_autoptr (LfStream) in = lf_stream_new_for_data (garbled, size);
  g_autoptr (LfRecordInfo) info = lf_record_info_new ();
  GError *error = NULL;
  ck_assert (lf_codec_describe (codec, in, NULL, info, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_eq (lf_stream_tell (in), 0);
  ck_assert_int_eq (lf_record_info_get_kind (info), LF_NODE_ARRAY);
  ck_assert_int_eq (lf_record_info_get_dtype (info), LF_DTYPE_INT16);
  ck_assert_uint_eq (lf_record_info_get_ndim (info), 2);
  ck_assert_uint_eq (lf_record_info_get_shape (info)[0], 300);
  ck_assert_uint_eq (lf_record_info_get_shape (info)[1], 7);
  ck_assert_uint_eq (lf_record_info_get_stored_size (info), size);
  ck_assert_uint_eq (lf_record_info_get_header_size (info), 40 + npy_len);
  ck_assert_uint_eq (lf_record_info_get_decoded_size (info), 300 * 7 * 2);
  ck_assert (lf_codec_can_describe (codec));
  ck_assert (lf_codec_has_flags (codec, LF_CODEC_PARALLEL_SMALL_LEAVES));

  g_autoptr (LfNode) read = lf_codec_deserialise (codec, in, NULL, NULL, &error);
  ck_assert_ptr_null (read);
  LF_ASSERT_ERROR (error, LF_ERROR_CORRUPT, "chunk 0");

  /* The same record, intact, read without a template. */
  g_autoptr (LfStream) intact = lf_stream_new_for_bytes (record);
  g_autoptr (LfNode) self = lf_codec_deserialise (codec, intact, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (self, leaf));
}
END_TEST

/* ---- corrupt and truncated records ---------------------------------------------- */

static GByteArray *
sample_record (void)
{
  g_autofree float *w = weights (3000, 11);
  g_autoptr (LfNode) tree = lf_list_new_take (1, f32_array (3000, w));
  g_autoptr (GBytes) bytes = lf_test_save_bytes_ref (tree, "blosc(chunk_mb=1)");
  GByteArray *r = g_byte_array_new ();
  g_byte_array_append (r, g_bytes_get_data (bytes, NULL), (guint) g_bytes_get_size (bytes));
  return r;
}

static void
assert_load_fails (GByteArray *r, gsize n, LfError code, const char *needle)
{
  GError *error = NULL;
  g_autoptr (LfNode) like = lf_list_new_take (1, lf_array_new_zeros (LF_DTYPE_FLOAT32, 1, &n));
  g_autoptr (GBytes) bytes = g_bytes_new (r->data, r->len);
  g_autoptr (LfNode) loaded = lf_test_load_bytes (bytes, like, "blosc", &error);
  ck_assert_ptr_null (loaded);
  ck_assert_msg (error != NULL && strstr (error->message, "test.eqx: record 0") != NULL,
                 "message \"%s\" lacks the place", error ? error->message : "");
  LF_ASSERT_ERROR (error, code, needle);
}

/* Applies `edit` to a fresh record, expects the load to fail, and puts
 * the record back. */
#define EXPECT_EDIT(at_, value_, width_, code_, needle_)                        \
  do {                                                                          \
    g_autoptr (GByteArray) r_ = sample_record ();                               \
    guint64 v_ = GUINT64_TO_LE ((guint64) (value_));                            \
    memcpy (r_->data + (at_), &v_, (width_));                                   \
    assert_load_fails (r_, 3000, (code_), (needle_));                           \
  } while (0)

START_TEST (test_corrupt_headers)
{
  EXPECT_EDIT (0, 'X', 1, LF_ERROR_CORRUPT, "not a blosc record");
  EXPECT_EDIT (8, 2, 1, LF_ERROR_UNSUPPORTED, "version 2");
  EXPECT_EDIT (9, 0x81, 1, LF_ERROR_UNSUPPORTED, "flags 0x81");
  EXPECT_EDIT (10, 1, 1, LF_ERROR_UNSUPPORTED, "version 1");
  EXPECT_EDIT (12, 3, 4, LF_ERROR_CORRUPT, "npy header of 3 bytes");
  EXPECT_EDIT (12, 1 << 20, 4, LF_ERROR_CORRUPT, "npy header of 1048576 bytes");
  EXPECT_EDIT (12, 64, 4, LF_ERROR_CORRUPT, "header text");
  EXPECT_EDIT (12, 192, 4, LF_ERROR_CORRUPT, "the inner npy header is 128 bytes long");
  EXPECT_EDIT (16, 0, 8, LF_ERROR_CORRUPT, "chunks of 0 bytes");
  EXPECT_EDIT (16, (guint64) 1 << 40, 8, LF_ERROR_CORRUPT, "chunks of 1099511627776");
  EXPECT_EDIT (16, 1000, 8, LF_ERROR_CORRUPT, "chunk 0 declares 12000 bytes");
  EXPECT_EDIT (24, 5, 8, LF_ERROR_CORRUPT, "cannot take 5 compressed bytes");
  EXPECT_EDIT (24, (guint64) 1 << 62, 8, LF_ERROR_CORRUPT, "cannot take");
  EXPECT_EDIT (24, 12016, 8, LF_ERROR_TRUNCATED, "expected 12016 compressed bytes");
  EXPECT_EDIT (32, 12345, 8, LF_ERROR_CHECKSUM, "checksum mismatch");
  /* The npy header inside: a bad dict, and a shape that is not like's. */
  EXPECT_EDIT (40 + 10, 'x', 1, LF_ERROR_CORRUPT, "inner npy header");
  g_autoptr (GByteArray) r = sample_record ();
  assert_load_fails (r, 2999, LF_ERROR_MISMATCH, "shape (2999,)");
}
END_TEST

START_TEST (test_corrupt_chunks)
{
  g_autoptr (GByteArray) r = sample_record ();
  gsize data_at = 40 + 128;
  /* The chunk's own sizes: more data than the record's, more compressed
   * bytes than are left. */
  EXPECT_EDIT (data_at + 4, 12001, 4, LF_ERROR_CORRUPT, "chunk 0 declares 12001 bytes");
  EXPECT_EDIT (data_at + 12, r->len - data_at + 1, 4, LF_ERROR_CORRUPT, "in at most");
  /* A stored compressed size that leaves bytes after the chunks. */
  {
    g_autoptr (GByteArray) longer = sample_record ();
    guint64 comp;
    memcpy (&comp, longer->data + 24, 8);
    comp = GUINT64_TO_LE (GUINT64_FROM_LE (comp) + 4);
    memcpy (longer->data + 24, &comp, 8);
    g_byte_array_append (longer, (const guint8 *) "\0\0\0\0", 4);
    assert_load_fails (longer, 3000, LF_ERROR_CORRUPT, "the chunks take");
  }
  /* Every byte of the chunk flipped in turn: a clear error each time
   * (blosc's checks or the checksum), never a crash or a wrong array. */
  for (gsize at = data_at; at < r->len; at += 7)
    {
      g_autoptr (GByteArray) flipped = sample_record ();
      flipped->data[at] ^= 0x41;
      GError *error = NULL;
      gsize n = 3000;
      g_autoptr (LfNode) like = lf_list_new_take (1, lf_array_new_zeros (LF_DTYPE_FLOAT32, 1, &n));
      g_autoptr (GBytes) bytes = g_bytes_new (flipped->data, flipped->len);
      g_autoptr (LfNode) loaded = lf_test_load_bytes (bytes, like, "blosc", &error);
      ck_assert_msg (loaded == NULL, "byte %" G_GSIZE_FORMAT " flipped loads", at);
      ck_assert (error->code == LF_ERROR_CORRUPT || error->code == LF_ERROR_CHECKSUM);
      g_clear_error (&error);
    }
}
END_TEST

/* Every prefix of a record is refused as truncated, by describe and by a
 * load without a template. */
START_TEST (test_truncated)
{
  g_autoptr (GByteArray) r = sample_record ();
  g_autoptr (LfCodec) codec = lf_test_codec ("blosc");
  for (gsize len = 0; len < r->len; len += (len < 200 ? 1 : 97))
    {
      GError *error = NULL;
      g_autoptr (LfStream) in = lf_stream_new_for_data (r->data, len);
      g_autoptr (LfRecordInfo) info = lf_record_info_new ();
      ck_assert_msg (!lf_codec_describe (codec, in, NULL, info, &error), "%" G_GSIZE_FORMAT, len);
      LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, NULL);
      g_autoptr (LfNode) read = lf_codec_deserialise (codec, in, NULL, NULL, &error);
      ck_assert_ptr_null (read);
      LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, NULL);
    }
}
END_TEST

/* A record that declares more data than `like` holds is refused before
 * anything is allocated; without a template, an impossible allocation is
 * an error too. */
START_TEST (test_too_large)
{
  gsize n = 16;
  g_autoptr (LfNode) small = lf_array_new_zeros (LF_DTYPE_UINT8, 1, &n);
  g_autoptr (GBytes) record = record_of ("blosc(chunk_mb=1024)", small);
  g_autoptr (GByteArray) r = g_byte_array_new ();
  g_byte_array_append (r, g_bytes_get_data (record, NULL), (guint) g_bytes_get_size (record));
  /* Claim (2**40,) uint8 elements in 1024 chunks of 1 GiB: the 16-byte
   * chunk headers alone would need 16 KiB, which the record lacks. */
  char *shape = g_strstr_len ((const char *) r->data + 50, 118, "(16,)");
  ck_assert_ptr_nonnull (shape);
  memcpy (shape, "(1099511627776,), }", 19);   /* into the padding spaces */
  GError *error = NULL;
  g_autoptr (LfCodec) codec = lf_test_codec ("blosc");
  g_autoptr (LfStream) in = lf_stream_new_for_data (r->data, r->len);
  g_autoptr (LfNode) read = lf_codec_deserialise (codec, in, NULL, NULL, &error);
  ck_assert_ptr_null (read);
  LF_ASSERT_ERROR (error, LF_ERROR_CORRUPT, "in 1024 chunks");

  /* Against a like: the walker's check refuses before decoding. */
  g_autoptr (LfNode) like = lf_list_new_take (1, lf_array_new_zeros (LF_DTYPE_UINT8, 1, &n));
  g_autoptr (GBytes) bytes = g_bytes_new (r->data, r->len);
  g_autoptr (LfNode) loaded = lf_test_load_bytes (bytes, like, "blosc", &error);
  ck_assert_ptr_null (loaded);
  ck_assert (error->code == LF_ERROR_MISMATCH || error->code == LF_ERROR_CORRUPT);
  g_clear_error (&error);
}
END_TEST

START_TEST (test_bad_options)
{
  const char *bad[] = { "blosc(shuffle=word)", "blosc(clevel=10)", "blosc(compressor=brotli)",
                        "blosc(chunk_mb=0)", "blosc(chunk_mb=2048)", "blosc(threads=-1)",
                        "blosc(blocksize=-5)", "blosc(level=3)" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      GError *error = NULL;
      LfCodec *codec = lf_registry_resolve (lf_registry_get_default (), bad[i], &error);
      ck_assert_msg (codec == NULL, "%s resolved", bad[i]);
      LF_ASSERT_ERROR (error, LF_ERROR_OPTIONS, NULL);
    }
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *s = suite_create ("blosc");
  TCase *tc = tcase_create ("round trips");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_every_dtype_and_shape);
  tcase_add_test (tc, test_small_buffers);
  tcase_add_test (tc, test_scalars_and_other_leaves);
  tcase_add_test (tc, test_chunks_threads_and_outputs);
  tcase_add_test (tc, test_big_endian_and_fortran);
  suite_add_tcase (s, tc);
  tc = tcase_create ("describe and refusals");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_describe_without_decoding);
  tcase_add_test (tc, test_corrupt_headers);
  tcase_add_test (tc, test_corrupt_chunks);
  tcase_add_test (tc, test_truncated);
  tcase_add_test (tc, test_too_large);
  tcase_add_test (tc, test_bad_options);
  suite_add_tcase (s, tc);
  return s;
}
