/* The manifest beside a saved file: what _lf_manifest_write records and
 * every difference _lf_manifest_verify reports.  The records are written
 * here with lf_npy_write, as the walker would, so the suite tests the
 * manifest alone. */
#include <glib/gstdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>
#include "test-common.h"
#include "manifest-private.h"
#include "json-private.h"
#include "range-hash-private.h"

static LfNode *
model (gsize rows, LfDType dtype)
{
  gsize shape[2] = { rows, 3 };
  g_autoptr (LfNode) w = lf_array_new_zeros (dtype, 2, shape);
  gsize n = lf_array_get_n_bytes (w);
  guint8 *data = g_malloc (n);
  for (gsize i = 0; i < n; i++)
    data[i] = (guint8) (i * 7 + rows);
  return lf_struct_new_take ("Model",
                             "w", lf_array_new_take (dtype, 2, shape, data),
                             "opts", lf_dict_new_take ("lr", lf_scalar_new_float (0.5),
                                                       "act", lf_opaque_new ("function", NULL, NULL),
                                                       NULL),
                             "steps", lf_scalar_new_int (3), NULL);
}

typedef struct {
  LfStream *stream;
  GArray *log;
  LfCodec *codec;
} Saver;

static gboolean
save_leaf (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  Saver *saver = user_data;
  LfManifestLeaf record = { lf_path_to_string (path), lf_node_ref (leaf),
                            lf_codec_ref (saver->codec), FALSE,
                            lf_stream_tell (saver->stream), 0 };
  if (lf_node_get_kind (leaf) != LF_NODE_OPAQUE)
    {
      GError *error = NULL;
      ck_assert (lf_npy_write (saver->stream, leaf, 0, &error));
      record.has_record = TRUE;
      record.size = lf_stream_tell (saver->stream) - record.offset;
    }
  g_array_append_val (saver->log, record);
  return TRUE;
}

static void
clear_record (gpointer p)
{
  LfManifestLeaf *record = p;
  g_free ((char *) record->path);
  lf_node_unref (record->leaf);
  lf_codec_unref (record->codec);
}

/* Saves `tree` to `file` as the walker would, then writes its manifest. */
static void
save (const char *file, LfNode *tree)
{
  GError *error = NULL;
  int fd = open (file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ck_assert_int_ge (fd, 0);
  g_autoptr (LfCodec) codec = lf_registry_resolve (lf_registry_get_default (), "npy", &error);
  LF_ASSERT_NO_ERROR (error);
  Saver saver = { lf_stream_new_for_fd (fd, TRUE), g_array_new (FALSE, TRUE, sizeof (LfManifestLeaf)),
                  codec };
  g_array_set_clear_func (saver.log, clear_record);
  lf_tree_foreach_leaf (tree, NULL, NULL, save_leaf, &saver);
  ck_assert (lf_stream_flush (saver.stream, &error));
  lf_stream_free (saver.stream);
  ck_assert (_lf_manifest_write (file, tree, NULL, NULL, (LfManifestLeaf *) saver.log->data,
                                 saver.log->len, &error));
  LF_ASSERT_NO_ERROR (error);
  g_array_unref (saver.log);
}

static void
assert_verify_error (const char *file, LfNode *like, LfError code, const char *needle)
{
  GError *error = NULL;
  ck_assert (!_lf_manifest_verify (file, like, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, code, needle);
}

START_TEST (test_contents)
{
  g_autofree char *file = lf_test_path ("m.eqx");
  g_autoptr (LfNode) tree = model (2, LF_DTYPE_FLOAT32);
  save (file, tree);
  g_autofree char *manifest = _lf_manifest_path (file);
  ck_assert (g_str_has_suffix (manifest, "m.eqx.json"));

  g_autofree char *text = NULL;
  ck_assert (g_file_get_contents (manifest, &text, NULL, NULL));
  GError *error = NULL;
  g_autoptr (JsonNode) root = _lf_json_parse (text, -1, "manifest", &error);
  LF_ASSERT_NO_ERROR (error);
  JsonObject *object = json_node_get_object (root);
  ck_assert_str_eq (json_object_get_string_member (object, "format"), "leafio-manifest");
  ck_assert_int_eq (json_object_get_int_member (object, "version"), 1);
  ck_assert_str_eq (json_object_get_string_member (object, "file"), "m.eqx");
  ck_assert_str_eq (json_object_get_string_member (object, "checksum"), "xxh3-64");
  ck_assert_int_eq (json_object_get_int_member (object, "n_leaves"), 4);
  ck_assert_int_eq (json_object_get_int_member (object, "n_records"), 3);

  /* The skeleton loads back as a like for the file. */
  g_autoptr (LfNode) skeleton
    = _lf_tree_from_json_node (json_object_get_member (object, "skeleton"), &error);
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (file, skeleton, NULL, NULL, NULL,
                                                          &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (lf_struct_lookup (loaded, "w"), lf_struct_lookup (tree, "w")));

  /* Leaves in order, with their codec and record. */
  JsonArray *leaves = json_object_get_array_member (object, "leaves");
  ck_assert_uint_eq (json_array_get_length (leaves), 4);
  JsonObject *w = json_array_get_object_element (leaves, 0);
  ck_assert_str_eq (json_object_get_string_member (w, "path"), ".w");
  ck_assert_str_eq (json_object_get_string_member (w, "kind"), "array");
  ck_assert_str_eq (json_object_get_string_member (w, "dtype"), "float32");
  ck_assert_str_eq (json_object_get_string_member (w, "codec"), "npy");
  JsonObject *record = json_object_get_object_member (w, "record");
  ck_assert_int_eq (json_object_get_int_member (record, "offset"), 0);
  ck_assert_int_eq (json_object_get_int_member (record, "size"), 128 + 24);
  ck_assert_int_eq (strlen (json_object_get_string_member (record, "xxh3")), 16);
  JsonObject *act = json_array_get_object_element (leaves, 1);
  ck_assert_str_eq (json_object_get_string_member (act, "path"), ".opts['act']");
  ck_assert (json_object_get_null_member (act, "record"));
  JsonObject *steps = json_array_get_object_element (leaves, 3);
  ck_assert_str_eq (json_object_get_string_member (steps, "kind"), "scalar");
  ck_assert_str_eq (json_object_get_string_member (steps, "dtype"), "int64");
}
END_TEST

START_TEST (test_verify_ok)
{
  g_autofree char *file = lf_test_path ("ok.eqx");
  g_autoptr (LfNode) tree = model (2, LF_DTYPE_INT16);
  GError *error = NULL;
  /* No manifest: nothing to check. */
  lf_test_write_file (file, "", 0);
  ck_assert (_lf_manifest_verify (file, tree, NULL, NULL, &error));
  save (file, tree);
  ck_assert (_lf_manifest_verify (file, tree, NULL, NULL, &error));
  /* An abstract like, and scalars of another type, are fine. */
  gsize shape[2] = { 2, 3 };
  g_autoptr (LfNode) like
    = lf_struct_new_take ("Model", "w", lf_array_new_abstract (LF_DTYPE_INT16, 2, shape),
                          "opts", lf_dict_new_take ("lr", lf_scalar_new_int (0),
                                                    "act", lf_opaque_new ("other", NULL, NULL),
                                                    NULL),
                          "steps", lf_scalar_new_float (0), NULL);
  ck_assert (_lf_manifest_verify (file, like, NULL, NULL, &error));
  /* Without a like only the checksums are checked. */
  ck_assert (_lf_manifest_verify (file, NULL, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  /* Removing it. */
  ck_assert (_lf_manifest_remove (file, &error));
  g_autofree char *manifest = _lf_manifest_path (file);
  ck_assert (!g_file_test (manifest, G_FILE_TEST_EXISTS));
  ck_assert (_lf_manifest_remove (file, &error));
  LF_ASSERT_NO_ERROR (error);
}
END_TEST

START_TEST (test_wrong_like)
{
  g_autofree char *file = lf_test_path ("like.eqx");
  g_autoptr (LfNode) tree = model (2, LF_DTYPE_FLOAT32);
  save (file, tree);

  g_autoptr (LfNode) rows = model (3, LF_DTYPE_FLOAT32);
  assert_verify_error (file, rows, LF_ERROR_MISMATCH,
                       "like.eqx.json: .w: like has shape (3, 3), the file was saved with (2, 3)");
  g_autoptr (LfNode) dtype = model (2, LF_DTYPE_FLOAT64);
  assert_verify_error (file, dtype, LF_ERROR_MISMATCH,
                       ".w: like has dtype float64, the file was saved with float32");
  g_autoptr (LfNode) opaque = lf_opaque_new ("x", NULL, NULL);
  g_autoptr (LfNode) kind = lf_tree_at_str (tree, ".steps", opaque, NULL);
  assert_verify_error (file, kind, LF_ERROR_MISMATCH,
                       ".steps: like has a leaf of kind opaque, the file was saved with kind scalar");
  g_autoptr (LfNode) opts = lf_dict_new_take ("lr", lf_scalar_new_float (0.5),
                                              "fn", lf_opaque_new ("f", NULL, NULL), NULL);
  g_autoptr (LfNode) renamed = lf_tree_at_str (tree, ".opts", opts, NULL);
  assert_verify_error (file, renamed, LF_ERROR_MISMATCH,
                       "leaf 1: like has .opts['fn'], the file was saved with .opts['act'] there");
  g_autoptr (LfNode) extra = lf_struct_new_take ("Model", "w", lf_node_ref (lf_struct_lookup (tree, "w")),
                                                 "opts", lf_node_ref (lf_struct_lookup (tree, "opts")),
                                                 "steps", lf_scalar_new_int (3),
                                                 "zz", lf_scalar_new_int (4), NULL);
  assert_verify_error (file, extra, LF_ERROR_MISMATCH,
                       "like has 5 leaves, the file was saved with 4; the first leaf the file "
                       "lacks is .zz");
  g_autoptr (LfNode) fewer = lf_struct_new_take ("Model", "w", lf_node_ref (lf_struct_lookup (tree, "w")),
                                                 "opts", lf_node_ref (lf_struct_lookup (tree, "opts")),
                                                 NULL);
  assert_verify_error (file, fewer, LF_ERROR_MISMATCH,
                       "like has 3 leaves, the file was saved with 4; the first leaf like lacks "
                       "is .steps");
}
END_TEST

START_TEST (test_damaged_file)
{
  g_autofree char *file = lf_test_path ("damaged.eqx");
  g_autoptr (LfNode) tree = model (2, LF_DTYPE_FLOAT32);
  save (file, tree);
  /* Flip one byte of the scalar .opts['lr'] (the second record). */
  g_autoptr (GBytes) bytes = lf_test_read_file (file);
  gsize size;
  gconstpointer original = g_bytes_get_data (bytes, &size);
  guint8 *data = g_memdup2 (original, size);
  data[152 + 130] ^= 1;
  lf_test_write_file (file, data, size);
  assert_verify_error (file, tree, LF_ERROR_CHECKSUM,
                       "damaged.eqx.json: .opts['lr']: record 1 at offset 152 (136 bytes) has "
                       "checksum");
  /* A longer or shorter file. */
  data[152 + 130] ^= 1;
  lf_test_write_file (file, data, size - 1);
  assert_verify_error (file, tree, LF_ERROR_CHECKSUM, "the manifest says");
  g_free (data);
  /* A missing file. */
  g_unlink (file);
  assert_verify_error (file, tree, LF_ERROR_IO, "damaged.eqx");
}
END_TEST

/* `tree` is the like, or NULL to check the records alone. */
static void
assert_manifest_error_full (const char *manifest_text, gboolean with_like, LfError code,
                            const char *needle)
{
  g_autofree char *file = lf_test_path ("bad.eqx");
  g_autoptr (LfNode) tree = model (2, LF_DTYPE_FLOAT32);
  save (file, tree);
  g_autofree char *manifest = _lf_manifest_path (file);
  lf_test_write_file (manifest, manifest_text, strlen (manifest_text));
  assert_verify_error (file, with_like ? tree : NULL, code, needle);
}

static void
assert_manifest_error (const char *manifest_text, LfError code, const char *needle)
{
  assert_manifest_error_full (manifest_text, TRUE, code, needle);
}

START_TEST (test_malformed_manifest)
{
  assert_manifest_error ("{", LF_ERROR_PARSE, "bad.eqx.json: line 1");
  assert_manifest_error ("[]", LF_ERROR_PARSE, "bad.eqx.json: $: expected an object, found an array");
  assert_manifest_error ("{\"format\": \"x\"}", LF_ERROR_PARSE, "$.format: expected \"leafio-manifest\"");
  assert_manifest_error ("{\"format\": \"leafio-manifest\"}", LF_ERROR_PARSE,
                         "$.version: expected a non-negative integer, found nothing");
  assert_manifest_error ("{\"format\": \"leafio-manifest\", \"version\": 2}", LF_ERROR_UNSUPPORTED,
                         "manifest version 2 is not supported");
  assert_manifest_error ("{\"format\": \"leafio-manifest\", \"version\": 1, \"leaves\": {}}",
                         LF_ERROR_PARSE, "$.leaves: expected an array");
  assert_manifest_error ("{\"format\": \"leafio-manifest\", \"version\": 1, \"leaves\": [1]}",
                         LF_ERROR_PARSE, "$.leaves[0]: expected an object");
  assert_manifest_error ("{\"format\": \"leafio-manifest\", \"version\": 1, \"leaves\": [{}]}",
                         LF_ERROR_PARSE, "$.leaves[0].path: expected a string");
  /* A negative dimension is malformed, not a huge one in the message. */
  assert_manifest_error ("{\"format\": \"leafio-manifest\", \"version\": 1, \"leaves\": "
                         "[{\"path\": \".w\", \"kind\": \"array\", \"dtype\": \"float32\", "
                         "\"shape\": [-2, 3]}]}", LF_ERROR_PARSE,
                         "$.leaves[0].shape[0]: expected a non-negative integer, found a number");
  assert_manifest_error_full ("{\"format\": \"leafio-manifest\", \"version\": 1, \"size\": 424, "
                         "\"leaves\": [{\"path\": \".w\", \"record\": {\"offset\": 0, \"size\": 1, "
                         "\"xxh3\": \"zz\"}}]}", FALSE,
                         LF_ERROR_PARSE, "$.leaves[0].record.xxh3: expected 16 hexadecimal digits");
}
END_TEST

START_TEST (test_record_out_of_range)
{
  g_autofree char *file = lf_test_path ("range.eqx");
  lf_test_write_file (file, "abcd", 4);
  g_autofree char *manifest = _lf_manifest_path (file);
  const char *text = "{\"format\": \"leafio-manifest\", \"version\": 1, \"size\": 4, "
                     "\"leaves\": [{\"path\": \".w\", \"kind\": \"array\", \"record\": "
                     "{\"offset\": 2, \"size\": 3, \"xxh3\": \"0000000000000000\"}}]}";
  lf_test_write_file (manifest, text, strlen (text));
  assert_verify_error (file, NULL, LF_ERROR_CHECKSUM,
                       ".w: record 0 at offset 2, 3 bytes, lies beyond the end");
}
END_TEST

/* The public check: the same checks, and a missing manifest is an error. */
START_TEST (test_public_verify)
{
  g_autofree char *file = lf_test_path ("public.eqx");
  g_autoptr (LfNode) tree = model (2, LF_DTYPE_FLOAT32);
  GError *error = NULL;
  lf_test_write_file (file, "", 0);
  ck_assert (!lf_manifest_verify (file, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_NOT_FOUND, "public.eqx: no manifest beside the file");
  save (file, tree);
  ck_assert (lf_manifest_verify (file, tree, NULL, NULL, &error));
  ck_assert (lf_manifest_verify (file, NULL, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) dtype = model (2, LF_DTYPE_FLOAT64);
  ck_assert (!lf_manifest_verify (file, dtype, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH, ".w: like has dtype float64");
  /* The name without its suffix, as saves and loads take it. */
  g_autofree char *stem = lf_test_path ("public");
  ck_assert (lf_manifest_verify (stem, NULL, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autofree char *missing = lf_test_path ("no-such-file.eqx");
  ck_assert (!lf_manifest_verify (missing, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "no-such-file.eqx");
}
END_TEST

/* A load with the wrong spec learns from the manifest which codec wrote
 * the leaf; with the manifest ignored, or without one, the error is as it
 * was. */
START_TEST (test_load_names_the_codec)
{
  g_autofree char *file = lf_test_path ("half.eqx");
  g_autoptr (LfNode) tree = model (2, LF_DTYPE_FLOAT32);
  GError *error = NULL;
  g_autoptr (LfSpec) half = lf_spec_new_for_reference (NULL, "float16", &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_serialise_leaves_full (file, tree, half, NULL, NULL, LF_SAVE_MANIFEST,
                                            &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (file, tree, NULL, NULL, NULL, &error);
  ck_assert (loaded == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH,
                   "half.eqx.json says this leaf was written with float16");
  loaded = lf_tree_deserialise_leaves_full (file, tree, NULL, NULL, NULL,
                                            LF_LOAD_IGNORE_MANIFEST, &error);
  ck_assert (loaded == NULL);
  ck_assert (error != NULL && strstr (error->message, "written with") == NULL);
  g_clear_error (&error);
  /* With the right spec it loads. */
  loaded = lf_tree_deserialise_leaves (file, tree, half, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (loaded != NULL);
}
END_TEST


/* ---- checksums taken while the walker writes ------------------------------- */

static LfNode *
ramp_floats (gsize n, float scale)
{
  float *data = g_new (float, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    data[i] = (float) (i % 251) * scale + (float) (i / 4096);
  return lf_array_new_take (LF_DTYPE_FLOAT32, 1, &n, data);
}

/* Many small leaves (scalars, an opaque leaf without a record) and three
 * big ones of 2.5 MiB (hashed beside the write, past compressed's threaded
 * size and blosc's chunk) between them. */
static LfNode *
small_and_big_leaves (void)
{
  GPtrArray *items = g_ptr_array_new ();
  for (guint i = 0; i < 150; i++)
    {
      if (i == 5)
        g_ptr_array_add (items, lf_opaque_new ("str", (gpointer) "x", NULL));
      else if (i == 40 || i == 100 || i == 149)
        g_ptr_array_add (items, ramp_floats ((gsize) (5u << 19) / 4 + i, 0.25f));
      else if (i % 7 == 3)
        g_ptr_array_add (items, lf_scalar_new_int (i));
      else
        g_ptr_array_add (items, ramp_floats ((gsize) (i * 13 % 3000) + 1, 0.5f + (float) i));
    }
  LfNode *list = lf_list_new (items->len, (LfNode *const *) items->pdata);
  g_ptr_array_set_free_func (items, (GDestroyNotify) lf_node_unref);
  g_ptr_array_free (items, TRUE);
  return list;
}

/* Every checksum of the manifest beside `file` against XXH3 of the file's
 * bytes; returns how many records there were. */
static guint
assert_checksums_match_file (const char *file)
{
  g_autoptr (GBytes) data = lf_test_read_file (file);
  gsize size;
  const guint8 *bytes = g_bytes_get_data (data, &size);
  g_autofree char *manifest = _lf_manifest_path (file);
  g_autofree char *text = NULL;
  ck_assert (g_file_get_contents (manifest, &text, NULL, NULL));
  GError *error = NULL;
  g_autoptr (JsonNode) root = _lf_json_parse (text, -1, "manifest", &error);
  LF_ASSERT_NO_ERROR (error);
  JsonObject *object = json_node_get_object (root);
  ck_assert_int_eq (json_object_get_int_member (object, "size"), (gint64) size);
  JsonArray *leaves = json_object_get_array_member (object, "leaves");
  guint n_records = 0;
  for (guint i = 0; i < json_array_get_length (leaves); i++)
    {
      JsonObject *leaf = json_array_get_object_element (leaves, i);
      if (json_object_get_null_member (leaf, "record"))
        continue;
      JsonObject *record = json_object_get_object_member (leaf, "record");
      gint64 offset = json_object_get_int_member (record, "offset");
      gint64 length = json_object_get_int_member (record, "size");
      ck_assert (offset >= 0 && length >= 0 && (gsize) (offset + length) <= size);
      g_autofree char *want = g_strdup_printf ("%016" G_GINT64_MODIFIER "x",
                                               (guint64) XXH3_64bits (bytes + offset,
                                                                      (size_t) length));
      ck_assert_str_eq (json_object_get_string_member (record, "xxh3"), want);
      n_records++;
    }
  return n_records;
}

/* The checksums the walker takes as it writes are XXH3 of what is in the
 * file, for every kind of writer: npy (header and data in one call),
 * float16 (lf_stream_expect), compressed and blosc (small leaves encoded
 * ahead on a pool, big ones streamed with the header filled in last). */
START_TEST (test_checksums_taken_while_writing)
{
  g_autoptr (LfNode) tree = small_and_big_leaves ();
  const char *specs[] = { "npy", "float16", "compressed", "compressed(level=1,threads=2)",
                          "blosc" };
  for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      g_autofree char *name = g_strdup_printf ("written-%u.eqx", i);
      g_autofree char *file = lf_test_path (name);
      g_autoptr (LfSpec) spec = lf_test_spec (specs[i]);
      GError *error = NULL;
      ck_assert (lf_tree_serialise_leaves_full (file, tree, spec, NULL, NULL,
                                                LF_SAVE_MANIFEST | LF_SAVE_NO_SYNC, &error));
      LF_ASSERT_NO_ERROR (error);
      ck_assert_uint_eq (assert_checksums_match_file (file), 149);
      ck_assert (lf_manifest_verify (file, tree, NULL, NULL, &error));
      LF_ASSERT_NO_ERROR (error);
    }
}
END_TEST

/* Counts the loads that fell back to checking the whole file. */
static void
count_fallbacks (const gchar *domain, GLogLevelFlags level, const gchar *message,
                 gpointer user_data)
{
  if (strstr (message, "checking the whole file against its manifest") != NULL)
    (*(guint *) user_data)++;
}

/* Offset and size of the record of leaf `index` in the manifest of `file`. */
static void
record_of (const char *file, guint index, gsize *offset, gsize *size)
{
  g_autofree char *manifest = _lf_manifest_path (file);
  g_autofree char *text = NULL;
  ck_assert (g_file_get_contents (manifest, &text, NULL, NULL));
  GError *error = NULL;
  g_autoptr (JsonNode) root = _lf_json_parse (text, -1, "manifest", &error);
  LF_ASSERT_NO_ERROR (error);
  JsonArray *leaves = json_object_get_array_member (json_node_get_object (root), "leaves");
  JsonObject *record = json_object_get_object_member (json_array_get_object_element (leaves,
                                                                                      index),
                                                      "record");
  *offset = (gsize) json_object_get_int_member (record, "offset");
  *size = (gsize) json_object_get_int_member (record, "size");
}

/* Flips one bit of the byte at `offset` of `file`. */
static void
flip_byte (const char *file, gsize offset)
{
  g_autoptr (GBytes) bytes = lf_test_read_file (file);
  gsize size;
  gconstpointer original = g_bytes_get_data (bytes, &size);
  g_autofree guint8 *data = g_memdup2 (original, size);
  data[offset] ^= 0x10;
  lf_test_write_file (file, data, size);
}

static void
assert_load_fails (const char *file, LfNode *like, LfLoadFlags flags, const char *needle)
{
  GError *error = NULL;
  LfNode *loaded = lf_tree_deserialise_leaves_full (file, like, NULL, NULL, NULL, flags,
                                                    &error);
  ck_assert (loaded == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_CHECKSUM, needle);
}

/* A load checks each record as it reads it, through every way a codec
 * reads (the read-ahead window, middle-sized and split big reads, header
 * peeks), so the file is read once: no load of an intact file falls back
 * to the whole check.  A damaged record, small or big, is reported as the
 * whole check reports it, and so is one in a mapped load; a file of
 * another size is refused before the load reads it. */
START_TEST (test_load_checks_while_reading)
{
  g_autoptr (LfNode) tree = small_and_big_leaves ();
  const char *specs[] = { "npy", "float16", "compressed", "blosc" };
  guint fallbacks = 0;
  guint handler = g_log_set_handler ("leafio", G_LOG_LEVEL_DEBUG, count_fallbacks, &fallbacks);
  for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      g_autofree char *name = g_strdup_printf ("checked-%u.eqx", i);
      g_autofree char *file = lf_test_path (name);
      g_autoptr (LfSpec) spec = lf_test_spec (specs[i]);
      GError *error = NULL;
      ck_assert (lf_tree_serialise_leaves_full (file, tree, spec, NULL, NULL,
                                                LF_SAVE_MANIFEST | LF_SAVE_NO_SYNC, &error));
      LF_ASSERT_NO_ERROR (error);
      g_autoptr (LfNode) checked = lf_tree_deserialise_leaves_full (file, tree, spec, NULL, NULL,
                                                                    LF_LOAD_DEFAULT, &error);
      LF_ASSERT_NO_ERROR (error);
      g_autoptr (LfNode) unchecked
        = lf_tree_deserialise_leaves_full (file, tree, spec, NULL, NULL,
                                           LF_LOAD_IGNORE_MANIFEST, &error);
      LF_ASSERT_NO_ERROR (error);
      ck_assert (lf_tree_equal (checked, unchecked));
      ck_assert_msg (fallbacks == 0, "%s: the load read the file twice", specs[i]);
    }

  g_autofree char *file = lf_test_path ("checked-0.eqx");
  gsize offset, size;
  record_of (file, 40, &offset, &size);   /* 2.5 MiB: read in two halves */
  flip_byte (file, offset + size / 2);
  assert_load_fails (file, tree, LF_LOAD_DEFAULT, "[40]: record 39 at offset");
  ck_assert_uint_eq (fallbacks, 1);
  assert_load_fails (file, tree, LF_LOAD_MMAP, "[40]: record 39 at offset");
  flip_byte (file, offset + size / 2);
  record_of (file, 3, &offset, &size);    /* a scalar in the read-ahead window */
  flip_byte (file, offset + size - 1);
  assert_load_fails (file, tree, LF_LOAD_DEFAULT, "[3]: record 3 at offset");
  ck_assert_uint_eq (fallbacks, 2);
  /* A file of another size is refused before any of it is read. */
  g_autoptr (GBytes) bytes = lf_test_read_file (file);
  lf_test_write_file (file, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes) - 1);
  assert_load_fails (file, tree, LF_LOAD_DEFAULT, "bytes, the manifest says");
  ck_assert_uint_eq (fallbacks, 2);
  g_log_remove_handler ("leafio", handler);
}
END_TEST

/* Checks read the file a piece at a time (256 KiB pieces in a ring of 8):
 * ranges that start and end anywhere give XXH3 of their bytes, and a
 * range past the end, or an unreadable file, is an error naming where. */
START_TEST (test_range_hash)
{
  const gsize piece = 256 << 10;
  gsize size = 9 * piece + 17;
  g_autofree guint8 *bytes = g_malloc (size);
  for (gsize i = 0; i < size; i++)
    bytes[i] = (guint8) (i * 131 + (i >> 11));
  g_autofree char *file = lf_test_path ("range-hash.bin");
  lf_test_write_file (file, bytes, size);
  int fd = open (file, O_RDONLY);
  ck_assert_int_ge (fd, 0);
  const gsize offsets[] = { 0, 1, piece - 1, piece, 3 * piece + 5 };
  const gsize lengths[] = { 0, 1, piece - 1, piece, piece + 1, 8 * piece, 8 * piece + 3 };
  for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
    for (guint j = 0; j < G_N_ELEMENTS (lengths); j++)
      {
        gsize from = offsets[i], length = MIN (lengths[j], size - from);
        guint64 hash = 0, failed_at = 0;
        int error_number = -1;
        ck_assert (_lf_range_hash (fd, from, length, &hash, &error_number, &failed_at));
        ck_assert_msg (hash == XXH3_64bits (bytes + from, length),
                       "offset %" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT " bytes", from, length);
      }
  guint64 hash, failed_at = 0;
  int error_number = -1;
  ck_assert (!_lf_range_hash (fd, piece, size, &hash, &error_number, &failed_at));
  ck_assert_int_eq (error_number, 0);          /* the file ends first */
  ck_assert_uint_eq (failed_at, size);
  close (fd);
  ck_assert (!_lf_range_hash (fd, 0, 3 * piece, &hash, &error_number, &failed_at));
  ck_assert_int_eq (error_number, EBADF);
  ck_assert_uint_eq (failed_at, 0);
}
END_TEST

/* A damaged byte anywhere in a big record, at the ends of the pieces it is
 * read in included, fails the check; so does a file cut short after the
 * size check (a record that now lies past the end). */
START_TEST (test_damage_across_pieces)
{
  const gsize piece = 256 << 10;
  gsize n = (5 * piece + 100) / 4;
  g_autoptr (LfNode) tree = lf_list_new_take (1, lf_array_new_take (LF_DTYPE_FLOAT32, 1, &n,
                                                                    g_malloc0 (n * 4)));
  g_autofree char *file = lf_test_path ("pieces.eqx");
  save (file, tree);
  g_autoptr (GBytes) saved = lf_test_read_file (file);
  gsize size;
  const guint8 *original = g_bytes_get_data (saved, &size);
  const gsize spots[] = { 0, 127, 128, piece - 1, piece, 4 * piece + 7, size - 1 };
  for (guint i = 0; i < G_N_ELEMENTS (spots); i++)
    {
      g_autofree guint8 *data = g_memdup2 (original, size);
      data[spots[i]] ^= 0x40;
      lf_test_write_file (file, data, size);
      assert_verify_error (file, tree, LF_ERROR_CHECKSUM, "pieces.eqx.json: [0]: record 0");
    }
  lf_test_write_file (file, original, size);
  GError *error = NULL;
  ck_assert (_lf_manifest_verify (file, tree, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
}
END_TEST

/* lf_manifest_write (savers outside the walker) reads the file back. */
START_TEST (test_public_write_reads_the_file)
{
  g_autofree char *file = lf_test_path ("by-hand.eqx");
  g_autoptr (LfNode) tree = model (300000, LF_DTYPE_FLOAT64);
  save (file, tree);
  ck_assert_uint_eq (assert_checksums_match_file (file), 3);
}
END_TEST

/* A save that fails part-way through a record leaves neither the file nor
 * a manifest, and the next save of the path is whole. */
static gboolean
fail_third (LfStream *out, const LfPath *path, LfNode *leaf, gpointer user_data,
            GError **error)
{
  guint *calls = user_data;
  if (++*calls == 3)
    {
      lf_stream_write (out, "\x93NUMPY", 6, NULL);
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED, "injected failure");
      return FALSE;
    }
  return lf_npy_write (out, leaf, 0, error);
}

static LfNode *
read_npy (LfStream *in, const LfPath *path, LfNode *like, gpointer user_data, GError **error)
{
  return lf_npy_read (in, error);
}

static gboolean
arrays_and_scalars (const LfNode *leaf)
{
  return lf_node_get_kind (leaf) == LF_NODE_ARRAY || lf_node_get_kind (leaf) == LF_NODE_SCALAR;
}

START_TEST (test_failed_save_leaves_no_manifest)
{
  g_autoptr (LfRegistry) registry = lf_registry_new ();
  guint calls = 0;
  GError *error = NULL;
  ck_assert (lf_registry_register_func (registry, "third-fails", "fails at its third leaf",
                                        arrays_and_scalars, fail_third, read_npy, &calls, NULL,
                                        &error));
  g_autoptr (LfSpec) spec = lf_spec_new_for_reference (registry, "third-fails", &error);
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) tree = small_and_big_leaves ();
  g_autofree char *file = lf_test_path ("failed.eqx");
  g_autofree char *manifest = _lf_manifest_path (file);
  ck_assert (!lf_tree_serialise_leaves_full (file, tree, spec, NULL, NULL,
                                             LF_SAVE_MANIFEST | LF_SAVE_NO_SYNC, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_FAILED, "injected failure");
  ck_assert (!g_file_test (file, G_FILE_TEST_EXISTS));
  ck_assert (!g_file_test (manifest, G_FILE_TEST_EXISTS));
  calls = 1000;
  ck_assert (lf_tree_serialise_leaves_full (file, tree, spec, NULL, NULL,
                                            LF_SAVE_MANIFEST | LF_SAVE_NO_SYNC, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_eq (assert_checksums_match_file (file), 149);
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("manifest");
  TCase *tc = tcase_create ("manifest");
  tcase_add_test (tc, test_contents);
  tcase_add_test (tc, test_verify_ok);
  tcase_add_test (tc, test_wrong_like);
  tcase_add_test (tc, test_damaged_file);
  tcase_add_test (tc, test_malformed_manifest);
  tcase_add_test (tc, test_record_out_of_range);
  tcase_add_test (tc, test_public_verify);
  tcase_add_test (tc, test_load_names_the_codec);
  tcase_add_test (tc, test_checksums_taken_while_writing);
  tcase_add_test (tc, test_public_write_reads_the_file);
  tcase_add_test (tc, test_load_checks_while_reading);
  tcase_add_test (tc, test_range_hash);
  tcase_add_test (tc, test_damage_across_pieces);
  tcase_add_test (tc, test_failed_save_leaves_no_manifest);
  suite_add_tcase (suite, tc);
  return suite;
}
