/* Random access (<leafio/file.h>): the index from a manifest and from
 * describing records agree, every leaf and subtree reads back as a full
 * load gives it, one leaf costs exactly its record's bytes, mapped reads
 * share the mapping, stale manifests and damaged files are reported, and
 * threads read one open file at once. */
#include <unistd.h>
#include <glib/gstdio.h>
#include "test-common.h"

/* Bytes whose values depend on `seed`, so every leaf differs. */
static LfNode *
ramp (LfDType dtype, guint ndim, const gsize *shape, int seed)
{
  gsize bytes;
  ck_assert (lf_shape_n_bytes (dtype, ndim, shape, &bytes));
  guint8 *data = g_malloc (MAX (bytes, 1));
  for (gsize i = 0; i < bytes; i++)
    data[i] = (guint8) (i * 7 + (gsize) seed * 13);
  if (dtype == LF_DTYPE_BOOL)
    for (gsize i = 0; i < bytes; i++)
      data[i] &= 1;
  return lf_array_new_take (dtype, ndim, shape, data);
}

static LfNode *
vector (LfDType dtype, gsize n, int seed)
{
  return ramp (dtype, 1, &n, seed);
}

/* layers: two of {weight (big), bias}, plus scalars, an opaque leaf, None
 * and a dict with a key that needs quoting. */
static LfNode *
model (gsize rows)
{
  gsize w0[2] = { rows, 64 };
  gsize w1[2] = { 16, rows };
  return lf_struct_new_take (
      "Model",
      "layers", lf_list_new_take (2,
                                  lf_struct_new_take ("Linear",
                                                      "weight", ramp (LF_DTYPE_FLOAT32, 2, w0, 1),
                                                      "bias", vector (LF_DTYPE_FLOAT64, 64, 2),
                                                      NULL),
                                  lf_struct_new_take ("Linear",
                                                      "weight", ramp (LF_DTYPE_INT16, 2, w1, 3),
                                                      "bias", vector (LF_DTYPE_BOOL, 16, 4),
                                                      NULL)),
      "step", lf_scalar_new_int (1234),
      "act", lf_opaque_new ("function", NULL, NULL),
      "extra", lf_tuple_new_take (2, lf_dict_new_take ("a", vector (LF_DTYPE_UINT8, 5, 5),
                                                       "it's", lf_scalar_new_float (0.25),
                                                       NULL),
                                  lf_none_new ()),
      NULL);
}

static char *
save_model (const char *name, LfNode *tree, const char *codec, LfSaveFlags flags)
{
  char *path = lf_test_path (name);
  g_autoptr (LfSpec) spec = codec != NULL ? lf_test_spec (codec) : NULL;
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves_full (path, tree, spec, NULL, NULL, flags, &error));
  LF_ASSERT_NO_ERROR (error);
  return path;
}

static LfFile *
open_ok (const char *path, LfNode *like, const char *codec, LfFileFlags flags)
{
  g_autoptr (LfSpec) spec = codec != NULL ? lf_test_spec (codec) : NULL;
  GError *error = NULL;
  LfFile *file = lf_file_open (path, like, spec, flags, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (file != NULL);
  return file;
}

/* Every leaf read alone, and the whole tree, equal a full load. */
static void
assert_reads_match (LfFile *file, LfNode *expected)
{
  GError *error = NULL;
  g_autoptr (GPtrArray) leaves = lf_tree_get_leaves (expected, NULL, NULL);
  ck_assert_uint_eq (lf_file_get_n_entries (file), leaves->len);
  for (guint i = 0; i < leaves->len; i++)
    {
      const LfFileEntry *entry = lf_file_get_entry (file, i);
      g_autoptr (LfNode) leaf = lf_file_read (file, entry->path, &error);
      LF_ASSERT_NO_ERROR (error);
      ck_assert_msg (lf_tree_equal (leaf, leaves->pdata[i]), "leaf %s differs", entry->path);
      ck_assert (lf_file_lookup (file, entry->path) == entry);
    }
  g_autoptr (LfNode) all = lf_file_read (file, "", &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (all, expected));
}

/* ---- indexing --------------------------------------------------------------------- */

START_TEST (test_scan_index)
{
  g_autoptr (LfNode) tree = model (40);
  g_autofree char *path = save_model ("scan.eqx", tree, NULL, LF_SAVE_DEFAULT);
  g_autoptr (LfFile) file = open_ok (path, tree, NULL, LF_FILE_DEFAULT);
  ck_assert (!lf_file_is_indexed_from_manifest (file));
  ck_assert_str_eq (lf_file_get_name (file), path);

  /* Records are contiguous and cover the file. */
  guint64 offset = 0;
  for (gsize i = 0; i < lf_file_get_n_entries (file); i++)
    {
      const LfFileEntry *entry = lf_file_get_entry (file, i);
      ck_assert_uint_eq (entry->offset, offset);
      ck_assert_str_eq (entry->codec, "npy");
      offset += entry->size;
      ck_assert (entry->has_record == (entry->kind != LF_NODE_OPAQUE));
    }
  g_autoptr (GBytes) contents = lf_test_read_file (path);
  ck_assert_uint_eq (offset, g_bytes_get_size (contents));

  const LfFileEntry *weight = lf_file_lookup (file, ".layers[0].weight");
  ck_assert (weight != NULL);
  ck_assert_int_eq (weight->kind, LF_NODE_ARRAY);
  ck_assert_int_eq (weight->dtype, LF_DTYPE_FLOAT32);
  ck_assert_uint_eq (weight->ndim, 2);
  ck_assert_uint_eq (weight->shape[0], 40);
  ck_assert_uint_eq (weight->shape[1], 64);
  ck_assert_uint_eq (weight->size, 128 + 40 * 64 * 4);
  const LfFileEntry *step = lf_file_lookup (file, ".step");
  ck_assert_int_eq (step->kind, LF_NODE_SCALAR);
  ck_assert_int_eq (step->dtype, LF_DTYPE_INT64);
  ck_assert_uint_eq (step->ndim, 0);
  ck_assert (lf_file_lookup (file, ".extra[0][\"it's\"]") != NULL);
  ck_assert (lf_file_lookup (file, ".nope") == NULL);
  assert_reads_match (file, tree);
}
END_TEST

START_TEST (test_manifest_index)
{
  g_autoptr (LfNode) tree = model (24);
  g_autofree char *path = save_model ("manifest.eqx", tree, NULL, LF_SAVE_MANIFEST);
  g_autoptr (LfFile) scanned = open_ok (path, tree, NULL, LF_FILE_IGNORE_MANIFEST);
  g_autoptr (LfFile) indexed = open_ok (path, tree, NULL, LF_FILE_DEFAULT);
  ck_assert (lf_file_is_indexed_from_manifest (indexed));
  ck_assert (!lf_file_is_indexed_from_manifest (scanned));
  ck_assert_uint_eq (lf_file_get_n_entries (indexed), lf_file_get_n_entries (scanned));
  for (gsize i = 0; i < lf_file_get_n_entries (indexed); i++)
    {
      const LfFileEntry *a = lf_file_get_entry (indexed, i);
      const LfFileEntry *b = lf_file_get_entry (scanned, i);
      ck_assert_str_eq (a->path, b->path);
      ck_assert_str_eq (a->codec, b->codec);
      ck_assert_int_eq (a->kind, b->kind);
      ck_assert_int_eq (a->dtype, b->dtype);
      ck_assert_uint_eq (a->ndim, b->ndim);
      for (guint d = 0; d < a->ndim; d++)
        ck_assert_uint_eq (a->shape[d], b->shape[d]);
      ck_assert_int_eq (a->has_record, b->has_record);
      ck_assert_uint_eq (a->offset, b->offset);
      ck_assert_uint_eq (a->size, b->size);
    }
  assert_reads_match (indexed, tree);

  /* Without like, the manifest's skeleton gives the structure. */
  g_autoptr (LfFile) bare = open_ok (path, NULL, NULL, LF_FILE_DEFAULT);
  GError *error = NULL;
  g_autoptr (LfNode) weight = lf_file_read (bare, ".layers[1].weight", &error);
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfPath) wpath = lf_path_parse (".layers[1].weight", &error);
  ck_assert (lf_tree_equal (weight, lf_tree_get (tree, wpath, &error)));
  ck_assert_uint_eq (lf_node_get_kind (lf_file_get_like (bare)), LF_NODE_STRUCT);
}
END_TEST

/* Through a symbolic link (a "latest.eqx"), the manifest is the one beside
 * the file the link names, where saves through the link put it. */
START_TEST (test_manifest_through_link)
{
  g_autoptr (LfNode) tree = model (8);
  g_autofree char *path = save_model ("linked-step.eqx", tree, NULL, LF_SAVE_MANIFEST);
  g_autofree char *link = lf_test_path ("latest.eqx");
  g_autofree char *link_stem = lf_test_path ("latest");
  g_autofree char *beside = g_strconcat (path, ".json", NULL);
  g_unlink (link);
  ck_assert_int_eq (symlink (path, link), 0);

  g_autofree char *plain = lf_manifest_get_path (path);
  g_autofree char *linked = lf_manifest_get_path (link);
  g_autofree char *no_suffix = lf_manifest_get_path (link_stem);
  ck_assert_str_eq (plain, beside);
  ck_assert_str_eq (linked, beside);
  ck_assert_str_eq (no_suffix, beside);

  g_autoptr (LfFile) file = open_ok (link, NULL, NULL, LF_FILE_DEFAULT);
  ck_assert (lf_file_is_indexed_from_manifest (file));
  assert_reads_match (file, tree);
  GError *error = NULL;
  ck_assert (lf_manifest_verify (link, tree, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_unlink (link);
}
END_TEST

/* Codecs: compressed (no describe: measured by decoding while indexing),
 * float16 (restores like's dtype), skip-arrays (no records for arrays). */
START_TEST (test_codecs)
{
  g_autoptr (LfNode) tree = model (8);
  GError *error = NULL;
  static const char *const codecs[] = { "compressed(level=3)", "float16", "skip-arrays" };
  for (guint c = 0; c < G_N_ELEMENTS (codecs); c++)
    {
      g_autofree char *name = g_strdup_printf ("codec%u.eqx", c);
      g_autofree char *path = save_model (name, tree, codecs[c], LF_SAVE_MANIFEST);
      g_autoptr (LfSpec) spec = lf_test_spec (codecs[c]);
      g_autoptr (LfNode) full = lf_tree_deserialise_leaves (path, tree, spec, NULL, NULL,
                                                            &error);
      LF_ASSERT_NO_ERROR (error);
      /* Scanned with the spec, from the manifest with it and without it. */
      g_autoptr (LfFile) scanned = open_ok (path, tree, codecs[c], LF_FILE_IGNORE_MANIFEST);
      g_autoptr (LfFile) with_spec = open_ok (path, tree, codecs[c], LF_FILE_DEFAULT);
      g_autoptr (LfFile) from_manifest = open_ok (path, tree, NULL, LF_FILE_DEFAULT);
      ck_assert (lf_file_is_indexed_from_manifest (with_spec));
      ck_assert (lf_file_is_indexed_from_manifest (from_manifest));
      assert_reads_match (scanned, full);
      assert_reads_match (with_spec, full);
      assert_reads_match (from_manifest, full);
      const LfFileEntry *w = lf_file_lookup (scanned, ".layers[0].weight");
      ck_assert_int_eq (w->dtype, LF_DTYPE_FLOAT32);
      g_autofree char *canonical = lf_codec_to_string (lf_spec_get_codec (spec));
      ck_assert_str_eq (w->codec, canonical);
      if (c == 2)
        {
          ck_assert (!w->has_record);
          g_autoptr (LfNode) kept = lf_file_read (scanned, ".layers[0].weight", &error);
          LF_ASSERT_NO_ERROR (error);
          g_autoptr (LfPath) wpath = lf_path_parse (".layers[0].weight", NULL);
          ck_assert (kept == lf_tree_get (tree, wpath, NULL));
        }
    }
}
END_TEST

/* ---- reading -------------------------------------------------------------------------- */

START_TEST (test_subtrees)
{
  g_autoptr (LfNode) tree = model (12);
  g_autofree char *path = save_model ("sub.eqx", tree, NULL, LF_SAVE_DEFAULT);
  g_autoptr (LfFile) file = open_ok (path, tree, NULL, LF_FILE_DEFAULT);
  static const char *const paths[] = { ".layers", ".layers[1]", ".layers[-1]", ".extra",
                                       ".extra[1]", ".extra[0]", ".layers[-2].bias",
                                       ".extra[0][\"it's\"]", ".act" };
  GError *error = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr (LfNode) got = lf_file_read (file, paths[i], &error);
      LF_ASSERT_NO_ERROR (error);
      g_autoptr (LfPath) parsed = lf_path_parse (paths[i], &error);
      LF_ASSERT_NO_ERROR (error);
      ck_assert_msg (lf_tree_equal (got, lf_tree_get (tree, parsed, NULL)), "%s", paths[i]);
    }
  /* Leaves without a record are like's own. */
  g_autoptr (LfNode) act = lf_file_read (file, ".act", &error);
  ck_assert (act == lf_struct_lookup (tree, "act"));

  ck_assert (lf_file_read (file, ".layers[2]", &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_NOT_FOUND, path);
  ck_assert (lf_file_read (file, ".layers[", &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_PARSE, NULL);
  ck_assert (lf_file_read (file, ".missing", &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_NOT_FOUND, "missing");
}
END_TEST

/* A container made a leaf by is_leaf is read whole, and paths into it are
 * refused. */
static gboolean
linear_is_leaf (const LfNode *node, gpointer user_data)
{
  return lf_node_get_kind (node) == LF_NODE_STRUCT
         && g_strcmp0 (lf_struct_get_type_name (node), "Linear") == 0;
}

START_TEST (test_is_leaf)
{
  g_autoptr (LfNode) tree = model (4);
  g_autoptr (LfSpec) spec = lf_test_spec ("skip-arrays");
  g_autofree char *path = lf_test_path ("isleaf.eqx");
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves (path, tree, spec, linear_is_leaf, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfFile) file = lf_file_open_full (path, tree, spec, linear_is_leaf, NULL,
                                               LF_FILE_DEFAULT, &error);
  LF_ASSERT_NO_ERROR (error);
  const LfFileEntry *layer = lf_file_lookup (file, ".layers[0]");
  ck_assert (layer != NULL);
  ck_assert_int_eq (layer->kind, LF_NODE_STRUCT);
  ck_assert (!layer->has_record);
  ck_assert (lf_file_read (file, ".layers[0].weight", &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_NOT_FOUND, "inside leaf .layers[0]");
  g_autoptr (LfNode) step = lf_file_read (file, ".step", &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_int_eq (lf_scalar_get_int (step), 1234);
}
END_TEST

/* A file reached through a callback that counts and checks every read. */
typedef struct {
  GBytes *contents;
  guint64 bytes_read;
  guint64 low, high;   /* reads must stay inside [low, high) */
  guint n_reads;
} Counter;

static gssize
counting_read (gpointer user_data, void *buffer, gsize count, guint64 offset, GError **error)
{
  Counter *counter = user_data;
  gsize size;
  const guint8 *data = g_bytes_get_data (counter->contents, &size);
  ck_assert_uint_ge (offset, counter->low);
  ck_assert_uint_le (offset + count, counter->high);
  if (offset >= size)
    return 0;
  count = MIN (count, size - (gsize) offset);
  memcpy (buffer, data + offset, count);
  counter->bytes_read += count;
  counter->n_reads++;
  return (gssize) count;
}

START_TEST (test_reads_only_the_record)
{
  g_autoptr (LfNode) tree = model (500);  /* a 128 kB weight */
  g_autofree char *path = save_model ("count.eqx", tree, NULL, LF_SAVE_DEFAULT);
  Counter counter = { lf_test_read_file (path), 0, 0, G_MAXUINT64, 0 };
  gsize size = g_bytes_get_size (counter.contents);
  GError *error = NULL;
  g_autoptr (LfFile) file = lf_file_new_for_reader ("counted", size, counting_read, &counter,
                                                    NULL, tree, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  /* Indexing read the npy headers only: at most 128 bytes a record. */
  ck_assert_uint_le (counter.bytes_read, 128 * 8);
  ck_assert_uint_lt (counter.bytes_read, size / 100);

  for (gsize i = 0; i < lf_file_get_n_entries (file); i++)
    {
      const LfFileEntry *entry = lf_file_get_entry (file, i);
      counter.bytes_read = 0;
      counter.n_reads = 0;
      counter.low = entry->offset;
      counter.high = entry->offset + entry->size;
      g_autoptr (LfNode) leaf = lf_file_read (file, entry->path, &error);
      LF_ASSERT_NO_ERROR (error);
      ck_assert (leaf != NULL);
      ck_assert_uint_eq (counter.bytes_read, entry->size);
      ck_assert_uint_le (counter.n_reads, entry->has_record ? 1 : 0);
    }
  lf_file_unref (g_steal_pointer (&file));
  g_bytes_unref (counter.contents);
}
END_TEST

static void
free_counter (gpointer data)
{
  Counter *counter = data;
  g_bytes_unref (counter->contents);
  g_free (counter);
}

START_TEST (test_reader_errors)
{
  g_autoptr (LfNode) tree = model (3);
  g_autofree char *path = save_model ("reader.eqx", tree, NULL, LF_SAVE_DEFAULT);
  g_autoptr (GBytes) contents = lf_test_read_file (path);
  GError *error = NULL;
  /* The file as the reader sees it ends 4 bytes short of what it claims:
   * the last record's header is whole, so indexing succeeds, and reading
   * that record fails. */
  Counter *counter = g_new0 (Counter, 1);
  counter->contents = g_bytes_new_from_bytes (contents, 0, g_bytes_get_size (contents) - 4);
  counter->high = G_MAXUINT64;
  LfFile *file = lf_file_new_for_reader ("short", g_bytes_get_size (contents), counting_read,
                                         counter, free_counter, tree, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_file_read (file, ".extra[0][\"it's\"]", &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "short: record 6 at offset");
  lf_file_unref (file);

  /* 200 bytes short: the last record's header is cut. */
  counter = g_new0 (Counter, 1);
  counter->contents = g_bytes_new_from_bytes (contents, 0, g_bytes_get_size (contents) - 200);
  counter->high = G_MAXUINT64;
  file = lf_file_new_for_reader ("shorter", g_bytes_get_size (contents), counting_read,
                                 counter, free_counter, tree, NULL, NULL, NULL, &error);
  ck_assert (file == NULL);
  /* Named once, and the offset is the file's, not the record's (a record
   * is read on its own, from its offset). */
  g_autoptr (LfFile) whole = lf_file_open (path, tree, NULL, LF_FILE_DEFAULT, NULL);
  ck_assert_ptr_nonnull (whole);
  guint64 record_5 = 0;
  for (gsize i = 0, n = 0; i < lf_file_get_n_entries (whole); i++)
    if (lf_file_get_entry (whole, i)->has_record && n++ == 5)
      record_5 = lf_file_get_entry (whole, i)->offset;
  g_autofree char *at = g_strdup_printf ("): shorter: expected 128 bytes at offset %"
                                         G_GUINT64_FORMAT ", found 69", record_5);
  ck_assert_msg (record_5 > 0 && g_str_has_suffix (error->message, at), "%s", error->message);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "shorter: record 5 at offset");

  counter = g_new0 (Counter, 1);
  counter->contents = g_bytes_ref (contents);
  counter->high = G_MAXUINT64;
  file = lf_file_new_for_reader ("long", g_bytes_get_size (contents) + 5, counting_read,
                                 counter, free_counter, tree, NULL, NULL, NULL, &error);
  ck_assert (file == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRAILING_DATA, "long: 5 bytes after the last record");
}
END_TEST

/* Mapped reads hand out views of one mapping: two reads of a leaf share
 * their data, which outlives the file. */
START_TEST (test_mmap_views)
{
  g_autoptr (LfNode) tree = model (64);
  g_autofree char *path = save_model ("mapped.eqx", tree, NULL, LF_SAVE_MANIFEST);
  GError *error = NULL;
  LfFile *file = open_ok (path, tree, NULL, LF_FILE_MMAP);
  g_autoptr (LfNode) a = lf_file_read (file, ".layers[0].weight", &error);
  g_autoptr (LfNode) b = lf_file_read (file, ".layers[0].weight", &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_ptr_eq (lf_array_get_data (a), lf_array_get_data (b));
  lf_file_unref (file);
  g_autoptr (LfPath) wpath = lf_path_parse (".layers[0].weight", NULL);
  ck_assert (lf_tree_equal (a, lf_tree_get (tree, wpath, NULL)));

  /* Without the mapping each read has memory of its own. */
  g_autoptr (LfFile) plain = open_ok (path, tree, NULL, LF_FILE_DEFAULT);
  g_autoptr (LfNode) c = lf_file_read (plain, ".layers[0].weight", &error);
  g_autoptr (LfNode) d = lf_file_read (plain, ".layers[0].weight", &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_ptr_ne (lf_array_get_data (c), lf_array_get_data (d));
  ck_assert (lf_tree_equal (c, d));
}
END_TEST

/* ---- bad input ---------------------------------------------------------------------- */

static guint warnings_seen;
static char *last_warning;

static void
count_warning (const char *domain, GLogLevelFlags level, const char *message,
               gpointer user_data)
{
  warnings_seen++;
  g_free (last_warning);
  last_warning = g_strdup (message);
}

/* Opens `path` expecting exactly one warning that contains `needle`. */
static LfFile *
open_warned (const char *path, LfNode *like, const char *needle)
{
  warnings_seen = 0;
  guint handler = g_log_set_handler ("leafio", G_LOG_LEVEL_WARNING, count_warning, NULL);
  GError *error = NULL;
  LfFile *file = lf_file_open (path, like, NULL, LF_FILE_DEFAULT, &error);
  g_log_remove_handler ("leafio", handler);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_eq (warnings_seen, 1);
  ck_assert_msg (strstr (last_warning, needle) != NULL, "\"%s\" lacks \"%s\"", last_warning,
                 needle);
  g_clear_pointer (&last_warning, g_free);
  return file;
}

START_TEST (test_stale_manifest)
{
  g_autoptr (LfNode) tree = model (10);
  g_autoptr (LfNode) other = model (11);
  g_autofree char *path = save_model ("stale.eqx", tree, NULL, LF_SAVE_MANIFEST);
  /* Another program rewrites the data and leaves the manifest. */
  g_autofree char *elsewhere = save_model ("other.eqx", other, NULL, LF_SAVE_DEFAULT);
  g_autoptr (GBytes) rewritten = lf_test_read_file (elsewhere);
  lf_test_write_file (path, g_bytes_get_data (rewritten, NULL), g_bytes_get_size (rewritten));

  g_autoptr (LfFile) file = open_warned (path, other, "indexing the file by describing");
  ck_assert (!lf_file_is_indexed_from_manifest (file));
  assert_reads_match (file, other);

  /* A manifest that is not one at all. */
  g_autofree char *manifest = g_strconcat (path, ".json", NULL);
  lf_test_write_file (manifest, "{\"format\": 3", 12);
  g_autoptr (LfFile) garbled = open_warned (path, other, "manifest");
  assert_reads_match (garbled, other);

  /* A FIFO, or a link to an endless device, in the manifest's place is not
   * read (it would block, or never end): the file is indexed by describing. */
  g_unlink (manifest);
  ck_assert_int_eq (mkfifo (manifest, 0600), 0);
  g_autoptr (LfFile) beside_fifo = open_warned (path, other, "FIFO");
  assert_reads_match (beside_fifo, other);
  g_unlink (manifest);
  ck_assert_int_eq (symlink ("/dev/zero", manifest), 0);
  g_autoptr (LfFile) beside_device = open_warned (path, other, "device");
  assert_reads_match (beside_device, other);
  g_unlink (manifest);
  lf_test_write_file (manifest, "{\"format\": 3", 12);

  /* Without like and without a usable manifest there is no index. */
  GError *error = NULL;
  ck_assert (lf_file_open (path, NULL, NULL, LF_FILE_DEFAULT, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_FAILED, "without like");
  ck_assert (lf_file_open (path, NULL, NULL, LF_FILE_IGNORE_MANIFEST, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_FAILED, "its manifest is ignored");
  g_unlink (manifest);
  ck_assert (lf_file_open (path, NULL, NULL, LF_FILE_DEFAULT, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_FAILED, "no manifest");
}
END_TEST

/* Data changed under a manifest of the same size: the record's checksum
 * catches it when the record is read, and only that record fails. */
START_TEST (test_checksum_on_read)
{
  g_autoptr (LfNode) tree = model (10);
  g_autofree char *path = save_model ("sum.eqx", tree, NULL, LF_SAVE_MANIFEST);
  GError *error = NULL;
  g_autoptr (LfFile) probe = open_ok (path, tree, NULL, LF_FILE_DEFAULT);
  const LfFileEntry *bias = lf_file_lookup (probe, ".layers[0].bias");
  guint64 where = bias->offset + bias->size - 1;
  g_autoptr (GBytes) contents = lf_test_read_file (path);
  guint8 *damaged = g_memdup2 (g_bytes_get_data (contents, NULL), g_bytes_get_size (contents));
  damaged[where] ^= 0x40;
  lf_test_write_file (path, damaged, g_bytes_get_size (contents));
  g_free (damaged);

  g_autoptr (LfFile) file = open_ok (path, tree, NULL, LF_FILE_DEFAULT);
  ck_assert (lf_file_is_indexed_from_manifest (file));
  ck_assert (lf_file_read (file, ".layers[0].bias", &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_CHECKSUM, "record 1 at offset");
  g_autoptr (LfNode) weight = lf_file_read (file, ".layers[0].weight", &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (weight != NULL);
  ck_assert (lf_file_read (file, ".layers", &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_CHECKSUM, ".layers[0].bias");
}
END_TEST

/* Records of 512 KiB and 4 MiB: a byte changed in either half is caught
 * by the checksum, and a file cut short after the open is reported. */
START_TEST (test_checksum_big_records)
{
  static const gsize rows[] = { 2048, 16384 };   /* weights of 512 KiB and 4 MiB */
  for (guint r = 0; r < G_N_ELEMENTS (rows); r++)
    for (guint part = 1; part <= 3; part += 2)
      {
        g_autoptr (LfNode) tree = model (rows[r]);
        g_autofree char *path = save_model ("big-sum.eqx", tree, NULL, LF_SAVE_MANIFEST);
        g_autoptr (LfFile) file = open_ok (path, tree, NULL, LF_FILE_DEFAULT);
        assert_reads_match (file, tree);
        const LfFileEntry *weight = lf_file_lookup (file, ".layers[0].weight");
        /* A quarter (first half) or three quarters (second half) in. */
        guint64 where = weight->offset + weight->size / 4 * part;
        g_autoptr (GBytes) contents = lf_test_read_file (path);
        guint8 *damaged = g_memdup2 (g_bytes_get_data (contents, NULL),
                                     g_bytes_get_size (contents));
        damaged[where] ^= 0x01;
        lf_test_write_file (path, damaged, g_bytes_get_size (contents));
        g_free (damaged);
        g_autoptr (LfFile) reopened = open_ok (path, tree, NULL, LF_FILE_DEFAULT);
        ck_assert (lf_file_is_indexed_from_manifest (reopened));
        GError *error = NULL;
        ck_assert (lf_file_read (reopened, ".layers[0].weight", &error) == NULL);
        LF_ASSERT_ERROR (error, LF_ERROR_CHECKSUM, "the manifest says");
        /* Cut short, after the open, where the damage was. */
        ck_assert_int_eq (truncate (path, (off_t) where), 0);
        ck_assert (lf_file_read (reopened, ".layers[0].weight", &error) == NULL);
        LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "the file shrank");
      }
}
END_TEST

/* Records are read with a helper thread from 2 MiB on, in pieces of 256
 * KiB hashed in order (core/file/file-read.c): sizes on both sides of the threshold and of a
 * piece, damaged in the first byte, on either side of a piece boundary, in
 * the middle and in the last byte; read, and mapped. */
#define SHARED_READ_MIN ((gsize) 2 << 20)
#define PIECE ((gsize) 256 * 1024)

/* A tree of one uint8 vector whose record is `record_size` bytes. */
static LfNode *
one_record (gsize record_size)
{
  gsize header = 128;   /* numpy's header for a short 1-d shape */
  return lf_list_new_take (1, vector (LF_DTYPE_UINT8, record_size - header, 9));
}

START_TEST (test_checksum_pieces)
{
  static const gsize sizes[] = {
    SHARED_READ_MIN - 1, SHARED_READ_MIN, SHARED_READ_MIN + PIECE + 1,
    2 * SHARED_READ_MIN + PIECE / 2 + 7,
  };
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      g_autoptr (LfNode) tree = one_record (sizes[s]);
      g_autofree char *path = save_model ("pieces.eqx", tree, NULL, LF_SAVE_MANIFEST);
      g_autoptr (GBytes) contents = lf_test_read_file (path);
      gsize size = g_bytes_get_size (contents);
      ck_assert_uint_eq (size, sizes[s]);
      GError *error = NULL;
      for (int mapped = 0; mapped < 2; mapped++)
        {
          g_autoptr (LfFile) file = open_ok (path, tree, NULL, mapped ? LF_FILE_MMAP : 0);
          g_autoptr (LfNode) good = lf_file_read (file, "[0]", &error);
          LF_ASSERT_NO_ERROR (error);
          ck_assert (lf_tree_equal (good, lf_node_get_child (tree, 0)));
        }
      g_autofree char *expected = g_strdup_printf ("record 0 at offset 0 ([0]): the record (%"
                                                   G_GSIZE_FORMAT " bytes) has checksum", size);
      const gsize damage[] = { 0, PIECE - 1, PIECE, size / 2, size - 1 };
      for (guint d = 0; d < G_N_ELEMENTS (damage); d++)
        {
          guint8 *damaged = g_memdup2 (g_bytes_get_data (contents, NULL), size);
          damaged[damage[d]] ^= 0x10;
          lf_test_write_file (path, damaged, size);
          g_free (damaged);
          for (int mapped = 0; mapped < 2; mapped++)
            {
              g_autoptr (LfFile) file = open_ok (path, tree, NULL, mapped ? LF_FILE_MMAP : 0);
              ck_assert (lf_file_read (file, "[0]", &error) == NULL);
              LF_ASSERT_ERROR (error, LF_ERROR_CHECKSUM, expected);
            }
        }
    }
}
END_TEST

/* A record of no data (a header only) and a file of no records. */
START_TEST (test_empty_records)
{
  gsize none = 0;
  g_autoptr (LfNode) tree = lf_list_new_take (2, ramp (LF_DTYPE_FLOAT32, 1, &none, 0),
                                              lf_none_new ());
  g_autofree char *path = save_model ("empty.eqx", tree, NULL, LF_SAVE_MANIFEST);
  for (int mapped = 0; mapped < 2; mapped++)
    {
      g_autoptr (LfFile) file = open_ok (path, tree, NULL, mapped ? LF_FILE_MMAP : 0);
      ck_assert (lf_file_is_indexed_from_manifest (file));
      assert_reads_match (file, tree);
    }
  g_autoptr (LfNode) nothing = lf_list_new_take (1, lf_none_new ());
  g_autofree char *empty = save_model ("nothing.eqx", nothing, NULL, LF_SAVE_MANIFEST);
  g_autoptr (LfFile) file = open_ok (empty, nothing, NULL, LF_FILE_DEFAULT);
  ck_assert (lf_file_is_indexed_from_manifest (file));
  assert_reads_match (file, nothing);
}
END_TEST

START_TEST (test_bad_files)
{
  g_autoptr (LfNode) tree = model (10);
  g_autofree char *path = save_model ("bad.eqx", tree, NULL, LF_SAVE_DEFAULT);
  GError *error = NULL;

  /* A like of another shape: the record that differs is named. */
  g_autoptr (LfNode) wrong = model (9);
  ck_assert (lf_file_open (path, wrong, NULL, LF_FILE_DEFAULT, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH, "record 0 at offset 0 (.layers[0].weight)");

  /* Cut inside the last record, and with bytes after it. */
  g_autoptr (GBytes) contents = lf_test_read_file (path);
  gsize size = g_bytes_get_size (contents);
  g_autofree char *cut = lf_test_path ("cut.eqx");
  lf_test_write_file (cut, g_bytes_get_data (contents, NULL), size - 3);
  ck_assert (lf_file_open (cut, tree, NULL, LF_FILE_DEFAULT, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "(.extra[0][\"it's\"])");
  g_autofree char *longer = lf_test_path ("longer.eqx");
  guint8 *data = g_malloc (size + 4);
  memcpy (data, g_bytes_get_data (contents, NULL), size);
  memset (data + size, 0, 4);
  lf_test_write_file (longer, data, size + 4);
  g_free (data);
  ck_assert (lf_file_open (longer, tree, NULL, LF_FILE_DEFAULT, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRAILING_DATA, "4 bytes after the last record");

  /* Not a file. */
  g_autofree char *missing = lf_test_path ("missing.eqx");
  ck_assert (lf_file_open (missing, tree, NULL, LF_FILE_DEFAULT, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "missing.eqx");
  /* A name without a suffix gets .eqx, as loads do. */
  g_autofree char *bare = lf_test_path ("bad");
  g_autoptr (LfFile) file = open_ok (bare, tree, NULL, LF_FILE_DEFAULT);
  ck_assert_str_eq (lf_file_get_name (file), path);
}
END_TEST

/* LF_FILE_PARTIAL: the leaves before a broken record read as usual; the
 * broken record, and every record after it, fail with its error. */
START_TEST (test_partial_index)
{
  g_autoptr (LfNode) tree = model (10);
  g_autofree char *path = save_model ("partial.eqx", tree, NULL, LF_SAVE_DEFAULT);
  GError *error = NULL;
  g_autoptr (LfFile) intact = open_ok (path, tree, NULL, LF_FILE_PARTIAL);
  ck_assert (lf_file_get_index_error (intact) == NULL);
  assert_reads_match (intact, tree);

  /* Cut inside record 2 (.layers[1].weight). */
  g_autoptr (LfFile) whole = open_ok (path, tree, NULL, LF_FILE_DEFAULT);
  const LfFileEntry *broken = lf_file_lookup (whole, ".layers[1].weight");
  g_autoptr (GBytes) contents = lf_test_read_file (path);
  g_autofree char *cut = lf_test_path ("partial-cut.eqx");
  lf_test_write_file (cut, g_bytes_get_data (contents, NULL), (gsize) broken->offset + 200);
  ck_assert (lf_file_open (cut, tree, NULL, LF_FILE_DEFAULT, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "record 2 at offset");
  g_autoptr (LfFile) file = open_ok (cut, tree, NULL, LF_FILE_PARTIAL);
  const GError *why = lf_file_get_index_error (file);
  ck_assert (why != NULL && g_error_matches (why, LF_ERROR, LF_ERROR_TRUNCATED));
  ck_assert_ptr_nonnull (strstr (why->message, "record 2 at offset"));
  ck_assert_ptr_nonnull (strstr (why->message, "(.layers[1].weight)"));
  g_autoptr (LfNode) first = lf_file_read (file, ".layers[0]", &error);
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfPath) layer = lf_path_parse (".layers[0]", NULL);
  ck_assert (lf_tree_equal (first, lf_tree_get (tree, layer, NULL)));
  g_autoptr (LfNode) act = lf_file_read (file, ".act", &error);  /* no record */
  LF_ASSERT_NO_ERROR (error);
  ck_assert (act != NULL);
  ck_assert (lf_file_read (file, ".layers[1].weight", &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "record 2 at offset");
  ck_assert (lf_file_read (file, ".step", &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED,
                   "record 4 (.step) lies past where the index stopped");
  ck_assert (lf_file_read (file, "", &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "record 2 at offset");

  /* Bytes after the last record: every leaf reads, and the error says so. */
  g_autofree char *longer = lf_test_path ("partial-longer.eqx");
  gsize size = g_bytes_get_size (contents);
  guint8 *data = g_malloc0 (size + 4);
  memcpy (data, g_bytes_get_data (contents, NULL), size);
  lf_test_write_file (longer, data, size + 4);
  g_free (data);
  g_autoptr (LfFile) trailing = open_ok (longer, tree, NULL, LF_FILE_PARTIAL);
  why = lf_file_get_index_error (trailing);
  ck_assert (why != NULL && g_error_matches (why, LF_ERROR, LF_ERROR_TRAILING_DATA));
  assert_reads_match (trailing, tree);
}
END_TEST

/* ---- threads ------------------------------------------------------------------------ */

typedef struct {
  LfFile *file;
  LfNode *tree;
  guint seed;
  guint rounds;
  gboolean ok;
} Reader;

static gpointer
read_many (gpointer data)
{
  Reader *reader = data;
  g_autoptr (GPtrArray) leaves = lf_tree_get_leaves (reader->tree, NULL, NULL);
  reader->ok = TRUE;
  for (guint round = 0; round < reader->rounds && reader->ok; round++)
    {
      gsize i = (round * 7 + reader->seed * 3) % leaves->len;
      const LfFileEntry *entry = lf_file_get_entry (reader->file, i);
      GError *error = NULL;
      LfNode *leaf = lf_file_read (reader->file, entry->path, &error);
      reader->ok = leaf != NULL && lf_tree_equal (leaf, leaves->pdata[i]);
      g_clear_error (&error);
      lf_node_unref (leaf);
    }
  return NULL;
}

START_TEST (test_threads)
{
  /* Small records, and weights of 2.3 MB that each read shares with a
   * helper thread. */
  static const struct { gsize rows; guint rounds; } cases[] = { { 300, 200 }, { 9000, 16 } };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr (LfNode) tree = model (cases[c].rows);
      g_autofree char *path = save_model ("threads.eqx", tree, NULL, LF_SAVE_MANIFEST);
      for (int mapped = 0; mapped < 2; mapped++)
        {
          g_autoptr (LfFile) file = open_ok (path, tree, NULL, mapped ? LF_FILE_MMAP : 0);
          Reader readers[4];
          GThread *threads[4];
          for (guint t = 0; t < 4; t++)
            {
              readers[t] = (Reader) { file, tree, t, cases[c].rounds, FALSE };
              threads[t] = g_thread_new ("reader", read_many, &readers[t]);
            }
          for (guint t = 0; t < 4; t++)
            {
              g_thread_join (threads[t]);
              ck_assert_msg (readers[t].ok, "thread %u read a wrong leaf", t);
            }
        }
    }
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *s = suite_create ("file");
  TCase *tc = tcase_create ("index");
  tcase_add_test (tc, test_scan_index);
  tcase_add_test (tc, test_manifest_index);
  tcase_add_test (tc, test_manifest_through_link);
  tcase_add_test (tc, test_codecs);
  suite_add_tcase (s, tc);
  tc = tcase_create ("read");
  tcase_add_test (tc, test_subtrees);
  tcase_add_test (tc, test_is_leaf);
  tcase_add_test (tc, test_reads_only_the_record);
  tcase_add_test (tc, test_reader_errors);
  tcase_add_test (tc, test_mmap_views);
  tcase_add_test (tc, test_threads);
  tcase_set_timeout (tc, 60);   /* records of several MB, read many times */
  suite_add_tcase (s, tc);
  tc = tcase_create ("bad input");
  tcase_add_test (tc, test_stale_manifest);
  tcase_add_test (tc, test_checksum_on_read);
  tcase_add_test (tc, test_checksum_big_records);
  tcase_add_test (tc, test_checksum_pieces);
  tcase_add_test (tc, test_empty_records);
  tcase_add_test (tc, test_bad_files);
  tcase_add_test (tc, test_partial_index);
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  return s;
}
