/* Truncation and corruption sweeps over a file of a 50-leaf mixed tree:
 *
 *   - the file truncated at every byte offset, loaded from a path (read
 *     and mapped) and from memory: always LF_ERROR_TRUNCATED naming the
 *     record, never a tree;
 *   - every header byte of every record replaced by single-byte changes:
 *     a clean error naming the record, or (when the change leaves an
 *     equivalent header, e.g. '<' -> '=' or '\n' -> '\v') the same tree;
 *   - every data byte changed: a successful load of different values.
 *
 * Leaks and partial trees are caught by the sanitizer and valgrind runs of
 * this suite (CI); each case here also checks "NULL and an error, or a tree
 * and no error".  The counts are printed. */
#include <glib/gstdio.h>
#include <unistd.h>
#include "test-common.h"

/* ---- the tree ---------------------------------------------------------------- */

static LfNode *
filled_array (LfDType dtype, guint ndim, const gsize *shape, int seed)
{
  gsize n_bytes = 0;
  ck_assert (lf_shape_n_bytes (dtype, ndim, shape, &n_bytes));
  guint8 *data = g_malloc (n_bytes ? n_bytes : 1);
  for (gsize i = 0; i < n_bytes; i++)
    data[i] = (guint8) (i * 13 + (gsize) seed * 7 + 1);
  if (dtype == LF_DTYPE_BOOL)
    for (gsize i = 0; i < n_bytes; i++)
      data[i] &= 1;
  return lf_array_new_take (dtype, ndim, shape, data);
}

/* 50 leaves: 30 arrays (every dtype as a vector and as a matrix or 0-d or
 * empty array), 15 scalars (Python and numpy), 5 without records (opaque),
 * in lists, a tuple, dicts and structs; plus none subtrees. */
static LfNode *
sweep_tree (void)
{
  GPtrArray *arrays = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  for (int d = LF_DTYPE_BOOL; d < LF_DTYPE_LAST; d++)
    {
      gsize vec = (gsize) d % 4 + 1;
      g_ptr_array_add (arrays, filled_array ((LfDType) d, 1, &vec, d));
      gsize matrix[3] = { 2, (gsize) d % 3 + 1, 2 };
      guint ndim = d % 3 == 0 ? 0 : d % 5 == 0 ? 3 : 2;
      if (d == LF_DTYPE_INT16)
        matrix[1] = 0; /* an empty array */
      g_ptr_array_add (arrays, filled_array ((LfDType) d, ndim, matrix, d + 20));
    }
  ck_assert_uint_eq (arrays->len, 30);
  LfNode *first = lf_list_new (15, (LfNode *const *) arrays->pdata);
  LfNode *second = lf_list_new (15, (LfNode *const *) arrays->pdata + 15);
  g_ptr_array_unref (arrays);

  GPtrArray *scalars = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  g_ptr_array_add (scalars, lf_scalar_new_bool (TRUE));
  g_ptr_array_add (scalars, lf_scalar_new_int (-123456789));
  g_ptr_array_add (scalars, lf_scalar_new_float (0.1));
  g_ptr_array_add (scalars, lf_scalar_new_complex (1.5, -2));
  g_ptr_array_add (scalars, lf_scalar_new_bool (FALSE));
  guint8 value[16];
  for (int d = LF_DTYPE_INT8; d < LF_DTYPE_LAST && scalars->len < 15; d++)
    {
      for (gsize i = 0; i < sizeof value; i++)
        value[i] = (guint8) (i + (gsize) d);
      g_ptr_array_add (scalars, lf_scalar_new ((LfDType) d, value));
    }
  ck_assert_uint_eq (scalars->len, 15);
  LfNode *scalar_tuple = lf_tuple_new (scalars->len, (LfNode *const *) scalars->pdata);
  g_ptr_array_unref (scalars);

  return lf_struct_new_take (
      "Sweep", "first", first,
      "nested", lf_dict_new_take ("z", second, "none", lf_none_new (),
                                  "fn", lf_opaque_new ("fn", NULL, NULL), NULL),
      "scalars", scalar_tuple,
      "tail", lf_list_new_take (5, lf_opaque_new ("a", NULL, NULL), lf_none_new (),
                                lf_opaque_new ("b", NULL, NULL),
                                lf_struct_new_take ("Inner", "x", lf_opaque_new ("c", NULL, NULL),
                                                    "y", lf_opaque_new ("d", NULL, NULL), NULL),
                                lf_tuple_new_take (0)),
      NULL);
}

/* The tree, its file's bytes, and where each record's header and data are. */
typedef struct {
  gsize start, header_size, data_size;
} Record;

static LfNode *tree;
static GBytes *file_bytes;
static GArray *records;

static void
setup (void)
{
  tree = sweep_tree ();
  ck_assert_uint_eq (lf_tree_count_leaves (tree, NULL, NULL), 50);
  g_autofree char *path = lf_test_path ("sweep.eqx");
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves (path, tree, NULL, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  file_bytes = lf_test_read_file (path);
  records = g_array_new (FALSE, FALSE, sizeof (Record));
  gsize size;
  const guint8 *data = g_bytes_get_data (file_bytes, &size);
  for (gsize at = 0; at < size;)
    {
      LfNpyHeader header;
      ck_assert (lf_npy_header_parse (data + at, size - at, &header, &error));
      Record record = { at, header.header_size, header.data_size };
      g_array_append_val (records, record);
      at += header.header_size + header.data_size;
    }
  ck_assert_uint_eq (records->len, 45);
}

static void
teardown (void)
{
  g_clear_pointer (&tree, lf_node_unref);
  g_clear_pointer (&file_bytes, g_bytes_unref);
  g_clear_pointer (&records, g_array_unref);
}

/* Loads `size` bytes from memory: NULL and an error, or a tree and none. */
static LfNode *
load_memory (const guint8 *data, gsize size, GError **error)
{
  g_autoptr (LfStream) stream = lf_stream_new_for_data (data, size);
  LfNode *out = lf_tree_deserialise_leaves_from_stream (stream, tree, NULL, NULL, NULL, error);
  ck_assert_msg ((out == NULL) == (*error != NULL), "a tree and an error, or neither");
  return out;
}

/* The record that holds byte `offset` (or the one that would start there). */
static guint
record_at (gsize offset)
{
  guint i = 0;
  while (i + 1 < records->len && g_array_index (records, Record, i + 1).start <= offset)
    i++;
  return i;
}

/* ---- truncation ----------------------------------------------------------------- */

static void
assert_truncated (GError *error, gsize cut, const char *how)
{
  ck_assert_msg (error != NULL, "%s: cut at %zu: loaded", how, cut);
  ck_assert_msg (error->domain == LF_ERROR && error->code == LF_ERROR_TRUNCATED,
                 "%s: cut at %zu: code %d: %s", how, cut, error->code, error->message);
  /* The message names the record that was cut. */
  guint rec = record_at (cut);
  if (g_array_index (records, Record, rec).start + g_array_index (records, Record, rec).header_size
          + g_array_index (records, Record, rec).data_size <= cut)
    rec++;
  g_autofree char *needle = g_strdup_printf ("record %u at offset", rec);
  ck_assert_msg (strstr (error->message, needle) != NULL, "%s: cut at %zu: \"%s\" lacks \"%s\"",
                 how, cut, error->message, needle);
}

START_TEST (truncated_at_every_offset)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (file_bytes, &size);
  g_autofree char *path = lf_test_path ("truncated.eqx");
  lf_test_write_file (path, data, size);
  guint cases = 0;
  /* Cut from the end down, so the file on disk is truncated in place. */
  for (gsize cut = size; cut-- > 0;)
    {
      GError *error = NULL;
      ck_assert_int_eq (truncate (path, (off_t) cut), 0);
      LfLoadFlags flags = cut % 2 == 0 ? LF_LOAD_DEFAULT : LF_LOAD_MMAP;
      LfNode *out = lf_tree_deserialise_leaves_full (path, tree, NULL, NULL, NULL, flags, &error);
      ck_assert_ptr_null (out);
      assert_truncated (error, cut, flags ? "mapped file" : "file");
      ck_assert_msg (strstr (error->message, path) != NULL, "%s", error->message);
      g_clear_error (&error);

      out = load_memory (data, cut, &error);
      ck_assert_ptr_null (out);
      assert_truncated (error, cut, "memory");
      g_clear_error (&error);
      cases += 2;
    }
  printf ("sweeps: truncation: %zu-byte file of %u records, %u cuts loaded from a path and "
          "from memory: %u cases, all LF_ERROR_TRUNCATED naming the record\n",
          size, records->len, (guint) size, cases);
}
END_TEST

/* ---- corruption ----------------------------------------------------------------- */

typedef struct {
  guint cases, equivalent, by_code[LF_ERROR_NOT_FOUND + 1];
} Tally;

static void
tally_print (const char *what, const Tally *t)
{
  static const char *const names[] = {
    "FAILED", "IO", "TRUNCATED", "CORRUPT", "UNSUPPORTED", "MISMATCH", "TRAILING_DATA",
    "SPEC", "UNKNOWN_CODEC", "OPTIONS", "PLUGIN_LOAD", "PLUGIN_ABI", "PLUGIN_INVALID",
    "DUPLICATE_NAME", "PARSE", "CHECKSUM", "OVERFLOW", "NOT_FOUND",
  };
  g_autoptr (GString) text = g_string_new (NULL);
  for (guint c = 0; c < G_N_ELEMENTS (t->by_code); c++)
    if (t->by_code[c] > 0)
      g_string_append_printf (text, ", %s %u", names[c], t->by_code[c]);
  printf ("sweeps: %s: %u cases: loaded an equal tree %u%s\n", what, t->cases,
          t->equivalent, text->str);
}

START_TEST (corrupt_every_header_byte)
{
  gsize size;
  g_autofree guint8 *copy = g_bytes_unref_to_data (g_bytes_ref (file_bytes), &size);
  /* Flip every bit, flip the lowest bit (a digit to its neighbour, '<' to
   * '='), and zero the byte. */
  static const struct { guint8 xor_mask; gboolean zero; } changes[] = {
    { 0xff, FALSE }, { 0x01, FALSE }, { 0, TRUE },
  };
  Tally tally = { 0 };
  for (guint r = 0; r < records->len; r++)
    {
      const Record *rec = &g_array_index (records, Record, r);
      for (gsize at = rec->start; at < rec->start + rec->header_size; at++)
        for (gsize c = 0; c < G_N_ELEMENTS (changes); c++)
          {
            guint8 saved = copy[at];
            copy[at] = changes[c].zero ? 0 : saved ^ changes[c].xor_mask;
            if (copy[at] == saved)
              continue;
            GError *error = NULL;
            g_autoptr (LfNode) out = load_memory (copy, size, &error);
            copy[at] = saved;
            tally.cases++;
            if (out != NULL)
              {
                /* Only an equivalent header loads: it must give the same tree. */
                ck_assert_msg (lf_tree_equal (out, tree), "byte %zu of record %u changed: "
                               "loaded a different tree", at, r);
                tally.equivalent++;
                continue;
              }
            ck_assert_msg (error->domain == LF_ERROR && error->code > LF_ERROR_FAILED
                           && error->code <= LF_ERROR_NOT_FOUND,
                           "byte %zu: %s", at, error->message);
            /* Named: the record changed, or a later one when the change
             * moved where the next record starts (a header length). */
            guint named = G_MAXUINT;
            const char *rec_at = strstr (error->message, ": record ");
            ck_assert_msg (rec_at != NULL && sscanf (rec_at, ": record %u at offset", &named) == 1
                           && named >= r, "byte %zu of record %u changed: \"%s\" names "
                           "no record from %u on", at, r, error->message, r);
            tally.by_code[error->code]++;
            g_clear_error (&error);
          }
    }
  tally_print ("header-byte corruption (x^0xff, x^0x01, 0 at every header byte)", &tally);
  ck_assert_uint_gt (tally.cases, 3 * 45 * 64 - 45 * 64);
  ck_assert_uint_eq (tally.by_code[LF_ERROR_FAILED], 0);
}
END_TEST

START_TEST (corrupt_every_data_byte)
{
  gsize size;
  g_autofree guint8 *copy = g_bytes_unref_to_data (g_bytes_ref (file_bytes), &size);
  guint cases = 0;
  for (guint r = 0; r < records->len; r++)
    {
      const Record *rec = &g_array_index (records, Record, r);
      gsize data_start = rec->start + rec->header_size;
      for (gsize at = data_start; at < data_start + rec->data_size; at++)
        {
          copy[at] ^= 0xa5;
          GError *error = NULL;
          g_autoptr (LfNode) out = load_memory (copy, size, &error);
          copy[at] ^= 0xa5;
          LF_ASSERT_NO_ERROR (error);
          ck_assert_msg (!lf_tree_equal (out, tree), "data byte %zu of record %u changed: "
                         "loaded the same values", at, r);
          cases++;
        }
    }
  printf ("sweeps: data-byte corruption (x^0xa5 at every data byte): %u cases, all loaded "
          "with different values\n", cases);
  ck_assert_uint_gt (cases, 0);
}
END_TEST


/* ---- alignment of zero-copy loads ------------------------------------------------- */

static gboolean
check_aligned (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  if (lf_node_get_kind (leaf) != LF_NODE_ARRAY || lf_array_get_n_bytes (leaf) == 0)
    return TRUE;
  LfDType dtype = lf_array_get_dtype (leaf);
  gsize unit = lf_dtype_size (dtype) / (lf_dtype_is_complex (dtype) ? 2 : 1);
  g_autofree char *where = lf_path_to_string (path);
  ck_assert_msg ((guintptr) lf_array_get_data (leaf) % unit == 0,
                 "%s (%s, after %u bytes): data at %p is not %zu-aligned", where,
                 lf_dtype_name (dtype), GPOINTER_TO_UINT (user_data),
                 lf_array_get_data (leaf), unit);
  return TRUE;
}

/* Records follow each other without padding, so after an int8 array of odd
 * length the next record's data sits at an odd offset.  Loads that slice
 * the input (mapped files, GBytes) must still hand out arrays aligned for
 * their dtype: typed access and the float16 kernels rely on it (UBSan in
 * fuzz-load-float16 found a misaligned guint16 read). */
START_TEST (zero_copy_loads_are_aligned)
{
  g_autofree char *path = lf_test_path ("aligned.eqx");
  for (gsize k = 0; k < 16; k++)
    {
      LfNode *items[LF_DTYPE_LAST];
      gsize n = 0;
      items[n++] = filled_array (LF_DTYPE_INT8, 1, &k, 1);
      for (int d = LF_DTYPE_BOOL; d < LF_DTYPE_LAST; d++)
        items[n++] = filled_array ((LfDType) d, 1, (gsize[]) { 3 }, d);
      g_autoptr (LfNode) list = lf_list_new (n, items);
      for (gsize i = 0; i < n; i++)
        lf_node_unref (items[i]);
      GError *error = NULL;
      ck_assert (lf_tree_serialise_leaves (path, list, NULL, NULL, NULL, &error));
      g_autoptr (LfNode) mapped = lf_tree_deserialise_leaves_full (path, list, NULL, NULL, NULL,
                                                                   LF_LOAD_MMAP, &error);
      LF_ASSERT_NO_ERROR (error);
      ck_assert (lf_tree_equal (mapped, list));
      lf_tree_foreach_leaf (mapped, NULL, NULL, check_aligned, GUINT_TO_POINTER ((guint) k));
      g_autoptr (GBytes) bytes = lf_test_read_file (path);
      g_autoptr (LfStream) stream = lf_stream_new_for_bytes (bytes);
      g_autoptr (LfNode) sliced = lf_tree_deserialise_leaves_from_stream (stream, list, NULL, NULL,
                                                                          NULL, &error);
      LF_ASSERT_NO_ERROR (error);
      lf_tree_foreach_leaf (sliced, NULL, NULL, check_aligned, GUINT_TO_POINTER ((guint) k));
    }
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *s = suite_create ("sweeps");
  TCase *tc = tcase_create ("sweeps");
  tcase_add_checked_fixture (tc, setup, teardown);
  /* valgrind runs these ~50x slower. */
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, truncated_at_every_offset);
  tcase_add_test (tc, corrupt_every_header_byte);
  tcase_add_test (tc, corrupt_every_data_byte);
  tcase_add_test (tc, zero_copy_loads_are_aligned);
  suite_add_tcase (s, tc);
  return s;
}
