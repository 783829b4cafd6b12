/* The MPI test driver, run by test-mpi.sh under mpirun with 1, 2 or 3
 * ranks.  Not a Check suite: Check's forking does not mix with MPI.  Each
 * mode checks one thing; every failed check prints "rank R: FAIL: ..." and
 * the driver exits 1 on every rank when any rank failed.
 *
 *   mpi-driver identical DIR   collective saves == serial saves, loads back
 *   mpi-driver save FILE       collective save of the test tree
 *   mpi-driver load FILE       collective load of FILE (any writer), checked
 *   mpi-driver fail DIR        failures on one rank: same error everywhere,
 *                              old file intact, no temporary file left
 *   mpi-driver errors DIR      bad shards, trees that differ, bad files
 *   mpi-driver foreign FILE    rows of big-endian and Fortran-order records
 *   mpi-driver custom DIR      the int8-affine plugin (a custom .so codec):
 *                              collective saves == serial saves, loads back
 *   mpi-driver lock DIR        a save with a manifest waits for the
 *                              directory lock path saves hold
 */
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <leafio/leafio-mpi.h>
#include "mpi-test-common.h"

/* ---- the test tree -------------------------------------------------------------- */

/* Element i of leaf `id`, as a double every dtype below can hold exactly. */
static double
value_at (int id, gsize i)
{
  return (double) ((id * 7919 + (gint64) i * 31) % 2003) / 8.0 - 100.0;
}

static LfNode *
make_array (int id, LfDType dtype, guint ndim, const gsize *shape, gsize first_row,
            gsize rows)
{
  gsize row_elements = 1;
  for (guint d = 1; d < ndim; d++)
    row_elements *= shape[d];
  gsize local[8];
  memcpy (local, shape, ndim * sizeof (gsize));
  local[0] = rows;
  gsize n = rows * row_elements;
  guint8 *data = g_malloc0 (MAX (n * lf_dtype_size (dtype), 1));
  for (gsize k = 0; k < n; k++)
    {
      double v = value_at (id, first_row * row_elements + k);
      switch (dtype)
        {
        case LF_DTYPE_FLOAT32: ((float *) data)[k] = (float) v; break;
        case LF_DTYPE_FLOAT64: ((double *) data)[k] = v; break;
        case LF_DTYPE_INT16: ((gint16 *) data)[k] = (gint16) v; break;
        case LF_DTYPE_UINT8: ((guint8 *) data)[k] = (guint8) ((gint64) v & 0xff); break;
        case LF_DTYPE_INT64: ((gint64 *) data)[k] = (gint64) (v * 8); break;
        case LF_DTYPE_COMPLEX64: ((float *) data)[2 * k] = (float) v; ((float *) data)[2 * k + 1] = 1; break;
        default: g_assert_not_reached ();
        }
    }
  return lf_array_new_take (dtype, ndim, local, data);
}

typedef struct {
  const char *key;
  int id;
  LfDType dtype;
  guint ndim;
  gsize shape[3];
  gboolean sharded;
} LeafSpec;

/* Top-level dict entries; "gathered" goes through the in-process `tagged`
 * codec in the spec-tree runs, so its blocks are gathered. */
static const LeafSpec leaf_specs[] = {
  { "bias", 1, LF_DTYPE_FLOAT32, 1, { 3 }, FALSE },
  { "complex", 2, LF_DTYPE_COMPLEX64, 2, { 2, 2 }, FALSE },
  { "embed", 3, LF_DTYPE_FLOAT32, 2, { 37, 5 }, TRUE },
  { "gathered", 4, LF_DTYPE_FLOAT32, 2, { 9, 2 }, TRUE },
  { "ints", 5, LF_DTYPE_INT16, 2, { 4, 4 }, FALSE },
  { "tiny", 6, LF_DTYPE_FLOAT32, 2, { 2, 3 }, TRUE },     /* some ranks hold 0 rows */
  { "vec", 7, LF_DTYPE_UINT8, 1, { 11 }, TRUE },
  { "wide", 8, LF_DTYPE_FLOAT64, 3, { 6, 2, 3 }, TRUE },
  { "zero", 9, LF_DTYPE_FLOAT32, 2, { 0, 4 }, TRUE },     /* no rows at all */
  { "big", 10, LF_DTYPE_INT64, 1, { 1000 }, FALSE },
};

/* The tree as rank `r` of `n` holds it (`n` 0: the whole, gathered tree).
 * `layout` (may be NULL) gets the shards. */
static LfNode *
build_tree (int r, int n, LfMpiLayout *layout, gboolean abstract_unowned)
{
  gsize count = G_N_ELEMENTS (leaf_specs);
  const char *keys[G_N_ELEMENTS (leaf_specs) + 3];
  LfNode *values[G_N_ELEMENTS (leaf_specs) + 3];
  for (gsize i = 0; i < count; i++)
    {
      const LeafSpec *s = &leaf_specs[i];
      keys[i] = s->key;
      if (s->sharded && n > 0)
        {
          guint64 first, rows;
          lf_mpi_even_rows (s->shape[0], r, n, &first, &rows);
          values[i] = make_array (s->id, s->dtype, s->ndim, s->shape, first, rows);
          if (layout != NULL)
            {
              g_autofree char *path = g_strdup_printf ("['%s']", s->key);
              GError *error = NULL;
              lf_mpi_layout_add_shard (layout, path, s->shape[0], first, &error);
              CHECK_NO_ERROR (error);
            }
        }
      else if (abstract_unowned && n > 0 && (int) (i % n) != r)
        values[i] = lf_array_new_abstract (s->dtype, s->ndim, s->shape);
      else
        values[i] = make_array (s->id, s->dtype, s->ndim, s->shape, 0, s->shape[0]);
    }
  keys[count] = "name";
  values[count] = lf_opaque_new ("str", (gpointer) "mlp", NULL);
  keys[count + 1] = "nothing";
  values[count + 1] = lf_none_new ();
  keys[count + 2] = "step";
  values[count + 2] = lf_scalar_new_int (1234);
  LfNode *tree = lf_dict_new (count + 3, keys, values);
  for (gsize i = 0; i < count + 3; i++)
    lf_node_unref (values[i]);
  return tree;
}

/* The owner callback of the abstract_unowned trees: leaf i of the dict to
 * rank i mod n, by key position. */
static int
owner_by_position (const LfPath *path, LfNode *leaf, int n, gpointer user_data)
{
  const char *key = lf_path_get_name (path, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (leaf_specs); i++)
    if (strcmp (leaf_specs[i].key, key) == 0)
      return (int) (i % (gsize) n);
  return 0;
}

/* ---- an in-process codec that needs the whole array --------------------------- */

/* `tagged`: the npy record followed by the 8-byte sum of its bytes, so the
 * record depends on every row (a stand-in for `compressed`). */
static guint64
sum_bytes (GBytes *bytes)
{
  gsize size;
  const guint8 *p = g_bytes_get_data (bytes, &size);
  guint64 sum = 0;
  for (gsize i = 0; i < size; i++)
    sum = sum * 131 + p[i];
  return sum;
}

static gboolean
tagged_serialise (LfStream *out, const LfPath *path, LfNode *leaf, gpointer user_data,
                  GError **error)
{
  g_autoptr (LfStream) memory = lf_stream_new_memory ();
  if (!lf_npy_write (memory, leaf, 0, error))
    return FALSE;
  g_autoptr (GBytes) record = lf_stream_steal_bytes (memory);
  guint64 sum = GUINT64_TO_LE (sum_bytes (record));
  return lf_stream_write (out, g_bytes_get_data (record, NULL), g_bytes_get_size (record), error)
         && lf_stream_write (out, &sum, sizeof sum, error);
}

static LfNode *
tagged_deserialise (LfStream *in, const LfPath *path, LfNode *like, gpointer user_data,
                    GError **error)
{
  LfNpyHeader header;
  if (!lf_npy_read_header (in, &header, error))
    return NULL;
  g_autoptr (LfNode) value = lf_npy_read_data (in, &header, error);
  guint64 sum = 0;
  if (value == NULL || !lf_stream_read (in, &sum, sizeof sum, error))
    return NULL;
  return g_steal_pointer (&value);
}

/* ---- in-process codec classes that declare capabilities --------------------------- */

static gboolean
class_handles (const LfCodec *codec, const LfNode *leaf)
{
  return arrays_only (leaf);
}

static LfNode *
class_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path, LfNode *like,
                   GError **error)
{
  return lf_npy_read (in, error);
}

static gboolean
class_describe (const LfCodec *codec, LfStream *in, const LfNode *like, LfRecordInfo *info,
                GError **error)
{
  return lf_npy_describe (in, info, error);
}

/* Test classes read npy records and differ in their flags and writers. */
#define NPY_TEST_CLASS(name_, flags_, serialise_, description_)                  \
  {                                                                             \
    .struct_size = sizeof (LfCodecClass), .flags = (flags_), .name = (name_),   \
    .description = (description_), .handles = class_handles,                    \
    .serialise = (serialise_), .deserialise = class_deserialise,                \
    .describe = class_describe,                                                 \
  }

/* `raw-npy`: npy records, declared LF_CODEC_RAW_DATA: a collective save
 * must send arrays from their memory and never ask it to encode one. */
static int raw_array_encodes;

static gboolean
raw_serialise (const LfCodec *codec, LfStream *out, const LfPath *path, LfNode *leaf,
               GError **error)
{
  if (lf_node_get_kind (leaf) == LF_NODE_ARRAY)
    raw_array_encodes++;
  return lf_npy_write (out, leaf, 0, error);
}

/* `padded`: data at a multiple of 64 bytes from the file's start, declared
 * offset-dependent but without ROW_RANGES, so no header layout the save
 * could reproduce: refused. */
static gboolean
padded_serialise (const LfCodec *codec, LfStream *out, const LfPath *path, LfNode *leaf,
                  GError **error)
{
  return lf_npy_write (out, leaf, 64, error);
}

/* `trailer`: declares ROW_RANGES but writes a byte after the data, which
 * breaks the promise: its shards must be refused, not written wrong. */
static gboolean
trailer_serialise (const LfCodec *codec, LfStream *out, const LfPath *path, LfNode *leaf,
                   GError **error)
{
  return lf_npy_write (out, leaf, 0, error) && lf_stream_write (out, "!", 1, error);
}

static void
register_test_codecs (void)
{
  GError *error = NULL;
  LfRegistry *registry = lf_registry_get_default ();
  static const LfCodecClass classes[] = {
    NPY_TEST_CLASS ("raw-npy", LF_CODEC_ROW_RANGES | LF_CODEC_RAW_DATA, raw_serialise,
                    "npy records, counting the arrays it encodes"),
    NPY_TEST_CLASS ("padded", LF_CODEC_OFFSET_DEPENDENT, padded_serialise,
                    "npy with 64-byte aligned data, offset-dependent"),
    NPY_TEST_CLASS ("trailer", LF_CODEC_ROW_RANGES, trailer_serialise,
                    "npy plus one byte, wrongly declaring row ranges"),
  };
  for (gsize i = 0; i < G_N_ELEMENTS (classes); i++)
    {
      lf_registry_register (registry, &classes[i], &error);
      CHECK_NO_ERROR (error);
    }
  lf_registry_register_func (registry, "tagged", "npy plus a sum of every byte", arrays_only,
                             tagged_serialise, tagged_deserialise, NULL, NULL, &error);
  CHECK_NO_ERROR (error);
  register_fail_on_1 ();
}

/* A spec tree over the test tree: `codec` everywhere, `gathered_codec` for
 * ['gathered'], `special` (may be NULL) for the key `special_key`. */
static LfSpec *
make_spec (const char *codec, const char *gathered_codec, const char *special_key,
           const char *special)
{
  GError *error = NULL;
  g_autoptr (LfNode) like = build_tree (0, 0, NULL, FALSE);
  gsize n = lf_node_get_n_children (like);
  g_autofree const char **keys = g_new (const char *, n);
  g_autofree LfNode **values = g_new (LfNode *, n);
  for (gsize i = 0; i < n; i++)
    {
      keys[i] = lf_dict_get_key (like, i);
      const char *ref = strcmp (keys[i], "gathered") == 0 ? gathered_codec : codec;
      if (special_key != NULL && strcmp (keys[i], special_key) == 0)
        ref = special;
      g_autoptr (LfCodec) c = lf_registry_resolve (lf_registry_get_default (), ref, &error);
      CHECK_NO_ERROR (error);
      values[i] = lf_spec_leaf_new (c);
    }
  g_autoptr (LfNode) spec_tree = lf_dict_new (n, keys, values);
  for (gsize i = 0; i < n; i++)
    lf_node_unref (values[i]);
  LfSpec *spec = lf_spec_new_tree (spec_tree, &error);
  CHECK_NO_ERROR (error);
  return spec;
}

/* A spec of one codec, by reference. */
static LfSpec *
codec_spec (const char *reference)
{
  GError *error = NULL;
  g_autoptr (LfCodec) codec = lf_registry_resolve (lf_registry_get_default (), reference,
                                                   &error);
  CHECK_NO_ERROR (error);
  return codec != NULL ? lf_spec_new_codec (codec) : NULL;
}

static gboolean
have_codec (const char *name)
{
  return lf_registry_lookup (lf_registry_get_default (), name) != NULL;
}

/* ---- helpers ----------------------------------------------------------------------- */

/* Every rank has an error with the same code and text; returns the text
 * on rank 0 for further checks (free it). */
static char *
check_same_error (GError *error, int code, const char *what)
{
  CHECK (error != NULL, "%s: expected an error, got none", what);
  if (error == NULL)
    return NULL;
  CHECK (error->domain == LF_ERROR && error->code == code, "%s: expected code %d, got %d: %s",
         what, code, error->code, error->message);
  int length = (int) strlen (error->message);
  MPI_Bcast (&length, 1, MPI_INT, 0, MPI_COMM_WORLD);
  g_autofree char *first = g_malloc0 ((gsize) length + 1);
  if (rank == 0)
    memcpy (first, error->message, (gsize) length);
  MPI_Bcast (first, length, MPI_CHAR, 0, MPI_COMM_WORLD);
  CHECK (strcmp (first, error->message) == 0, "%s: rank 0 got \"%s\", this rank \"%s\"",
         what, first, error->message);
  return g_steal_pointer (&first);
}

/* No ".NAME.XXXXXX" temporary file left in `dir`. */
static void
check_no_temporary (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    CHECK (name[0] != '.', "temporary file %s/%s left behind", dir, name);
}

/* The rows [first, first + rows) of leaf `s` match the generator. */
static void
check_block (LfNode *tree, const LeafSpec *s, gsize first, gsize rows)
{
  LfNode *leaf = lf_dict_lookup (tree, s->key);
  g_autoptr (LfNode) expected = make_array (s->id, s->dtype, s->ndim, s->shape, first, rows);
  CHECK (leaf != NULL && lf_tree_equal (leaf, expected),
         "['%s']: rows %zu..%zu do not match", s->key, first, first + rows);
}

/* A loaded tree (sharded leaves split over the ranks) holds the right rows. */
static void
check_loaded (LfNode *tree, gboolean sharded)
{
  for (gsize i = 0; i < G_N_ELEMENTS (leaf_specs); i++)
    {
      const LeafSpec *s = &leaf_specs[i];
      guint64 first = 0, rows = s->shape[0];
      if (s->sharded && sharded)
        lf_mpi_even_rows (s->shape[0], rank, n_ranks, &first, &rows);
      check_block (tree, s, first, rows);
    }
  CHECK (lf_scalar_get_int (lf_dict_lookup (tree, "step")) == 1234, "['step'] is wrong");
}

/* The `like` of a collective load: abstract arrays (blocks for shards). */
static LfNode *
build_like (LfMpiLayout *layout)
{
  g_autoptr (LfNode) tree = build_tree (rank, n_ranks, layout, FALSE);
  return abstract_arrays (tree);
}

/* ---- modes --------------------------------------------------------------------------- */

/* One collective save against the serial save of the gathered tree, then
 * a collective load back. */
/* The manifests of two files with the same contents differ only in the
 * file name they record. */
static void
check_same_manifest (const char *a, const char *b, const char *name)
{
  g_autofree char *a_json = g_strconcat (a, ".json", NULL);
  g_autofree char *b_json = g_strconcat (b, ".json", NULL);
  g_autofree char *a_text = NULL, *b_text = NULL;
  CHECK (g_file_get_contents (a_json, &a_text, NULL, NULL)
         && g_file_get_contents (b_json, &b_text, NULL, NULL), "%s: no manifest", name);
  if (a_text == NULL || b_text == NULL)
    return;
  g_autofree char *a_base = g_path_get_basename (a);
  g_autofree char *b_base = g_path_get_basename (b);
  GString *renamed = g_string_new (a_text);
  g_string_replace (renamed, a_base, b_base, 0);
  CHECK (strcmp (renamed->str, b_text) == 0, "%s: the manifests differ:\n%s\n%s", name,
         renamed->str, b_text);
  g_string_free (renamed, TRUE);
}

/* Rows [first, first + rows) of `array` (a copy). */
static LfNode *
rows_of (LfNode *array, gsize first, gsize rows)
{
  guint ndim = lf_array_get_ndim (array);
  gsize shape[8];
  memcpy (shape, lf_array_get_shape (array), ndim * sizeof (gsize));
  gsize row_bytes = shape[0] > 0 ? lf_array_get_n_bytes (array) / shape[0] : 0;
  shape[0] = rows;
  const guint8 *data = lf_array_get_data (array);
  return lf_array_new_copy (lf_array_get_dtype (array), ndim, shape,
                            data != NULL ? data + first * row_bytes : NULL);
}

/* Leaf `s` of a collective load: this rank's rows of the leaf `reference`
 * (a serial load of the whole tree) holds, or `like`'s own leaf when the
 * codec wrote no record for it (the serial load then kept `whole`'s). */
static void
check_against (LfNode *loaded, const LeafSpec *s, gboolean sharded, LfNode *reference,
               LfNode *whole, LfNode *like, const char *name)
{
  LfNode *leaf = lf_dict_lookup (loaded, s->key);
  LfNode *expected_whole = lf_dict_lookup (reference, s->key);
  if (expected_whole == lf_dict_lookup (whole, s->key))
    {
      CHECK (leaf == lf_dict_lookup (like, s->key), "%s: ['%s'] has no record, yet the load "
             "did not keep like's leaf", name, s->key);
      return;
    }
  guint64 first = 0, rows = s->shape[0];
  if (s->sharded && sharded)
    lf_mpi_even_rows (s->shape[0], rank, n_ranks, &first, &rows);
  g_autoptr (LfNode) expected = rows_of (expected_whole, first, rows);
  CHECK (leaf != NULL && lf_tree_equal (leaf, expected), "%s: ['%s']: rows %" G_GUINT64_FORMAT
         "..%" G_GUINT64_FORMAT " differ from a serial load", name, s->key, first, first + rows);
}

/* One collective save against the serial save of the gathered tree, then
 * collective loads back, checked against a serial load of the serial file
 * (`exact`: which also equals the tree saved). */
static void
identical_case (const char *dir, const char *name, LfSpec *spec, gboolean abstract_unowned,
                gboolean exact)
{
  GError *error = NULL;
  g_autofree char *collective = g_strdup_printf ("%s/%s-collective.eqx", dir, name);
  g_autofree char *serial = g_strdup_printf ("%s/%s-serial.eqx", dir, name);
  g_autoptr (LfMpiLayout) layout = lf_mpi_layout_new ();
  if (abstract_unowned)
    lf_mpi_layout_set_owner_func (layout, owner_by_position, NULL);
  g_autoptr (LfNode) tree = build_tree (rank, n_ranks, layout, abstract_unowned);
  CHECK (lf_mpi_tree_serialise_leaves_full (MPI_COMM_WORLD, collective, tree, spec, NULL, NULL,
                                            layout, LF_SAVE_MANIFEST, &error),
         "%s: collective save failed", name);
  CHECK_NO_ERROR (error);
  g_autoptr (LfNode) whole = build_tree (0, 0, NULL, FALSE);
  if (rank == 0)
    {
      CHECK (lf_tree_serialise_leaves_full (serial, whole, spec, NULL, NULL, LF_SAVE_MANIFEST,
                                            &error), "%s: serial save failed", name);
      CHECK_NO_ERROR (error);
      CHECK (files_equal (collective, serial), "%s: %s and %s differ", name, collective, serial);
      check_same_manifest (collective, serial, name);
    }
  MPI_Barrier (MPI_COMM_WORLD);
  g_autoptr (LfNode) reference = lf_tree_deserialise_leaves (serial, whole, spec, NULL, NULL,
                                                             &error);
  CHECK_NO_ERROR (error);
  if (reference == NULL)
    return;
  if (exact)
    CHECK (lf_tree_equal (reference, whole), "%s: the serial file does not load back", name);
  if (rank == 0)
    {
      /* The serial loader checks the collective file against its manifest. */
      g_autoptr (LfNode) back = lf_tree_deserialise_leaves (collective, whole, spec, NULL, NULL,
                                                            &error);
      CHECK_NO_ERROR (error);
      CHECK (back != NULL && lf_tree_equal (back, reference), "%s: serial load differs", name);
    }

  /* Back, each rank with its own rows. */
  g_autoptr (LfMpiLayout) load_layout = lf_mpi_layout_new ();
  g_autoptr (LfNode) like = build_like (load_layout);
  g_autoptr (LfNode) loaded = lf_mpi_tree_deserialise_leaves (MPI_COMM_WORLD, collective, like,
                                                              spec, NULL, NULL, load_layout,
                                                              &error);
  CHECK_NO_ERROR (error);
  if (loaded != NULL)
    {
      for (gsize i = 0; i < G_N_ELEMENTS (leaf_specs); i++)
        check_against (loaded, &leaf_specs[i], TRUE, reference, whole, like, name);
      CHECK (lf_scalar_get_int (lf_dict_lookup (loaded, "step"))
             == lf_scalar_get_int (lf_dict_lookup (reference, "step")), "%s: ['step']", name);
      CHECK (lf_dict_lookup (loaded, "name") == lf_dict_lookup (like, "name"),
             "%s: the opaque leaf is not shared with like", name);
    }
  /* Whole leaves only on their owner: the others keep like's. */
  lf_mpi_layout_set_owner_func (load_layout, owner_by_position, NULL);
  g_autoptr (LfNode) owned = lf_mpi_tree_deserialise_leaves (MPI_COMM_WORLD, collective, like,
                                                             spec, NULL, NULL, load_layout,
                                                             &error);
  CHECK_NO_ERROR (error);
  for (gsize i = 0; owned != NULL && i < G_N_ELEMENTS (leaf_specs); i++)
    {
      const LeafSpec *s = &leaf_specs[i];
      if (s->sharded || (int) (i % (gsize) n_ranks) == rank)
        check_against (owned, s, TRUE, reference, whole, like, name);
      else
        CHECK (lf_dict_lookup (owned, s->key) == lf_dict_lookup (like, s->key),
               "%s: ['%s'] loaded by a non-owner", name, s->key);
    }
}

/* A codec declaring LF_CODEC_RAW_DATA: the save sends arrays from memory
 * without asking the codec to encode them, and the file is still the
 * serial one. */
static void
raw_data_case (const char *dir)
{
  GError *error = NULL;
  g_autofree char *file = g_strdup_printf ("%s/raw-npy-count.eqx", dir);
  g_autoptr (LfSpec) spec = codec_spec ("raw-npy");
  g_autoptr (LfMpiLayout) layout = lf_mpi_layout_new ();
  g_autoptr (LfNode) tree = build_tree (rank, n_ranks, layout, FALSE);
  raw_array_encodes = 0;
  CHECK (lf_mpi_tree_serialise_leaves (MPI_COMM_WORLD, file, tree, spec, NULL, NULL, layout,
                                       &error), "raw-npy: collective save failed");
  CHECK_NO_ERROR (error);
  if (G_BYTE_ORDER == G_LITTLE_ENDIAN)
    CHECK (raw_array_encodes == 0, "raw-npy: the save encoded %d arrays instead of sending "
           "their memory", raw_array_encodes);
  identical_case (dir, "raw-npy", spec, FALSE, TRUE);
  identical_case (dir, "raw-npy-owners", spec, TRUE, TRUE);
}

static void
mode_identical (const char *dir)
{
  identical_case (dir, "npy", NULL, FALSE, TRUE);
  identical_case (dir, "npy-owners", NULL, TRUE, TRUE);
  raw_data_case (dir);
  g_autoptr (LfSpec) tagged = make_spec ("npy", "tagged", NULL, NULL);
  identical_case (dir, "tagged", tagged, FALSE, TRUE);
  /* Path rules pick codecs as the serial walker does. */
  GError *error = NULL;
  g_autoptr (LfSpec) rules = lf_spec_parse_rules (NULL, "['gathered'] = tagged\n", "npy", &error);
  CHECK_NO_ERROR (error);
  identical_case (dir, "rules", rules, FALSE, TRUE);
  if (have_codec ("float16"))
    {
      g_autoptr (LfSpec) half = make_spec ("float16", "float16", NULL, NULL);
      identical_case (dir, "float16", half, FALSE, TRUE);
      /* Its inner codec's alignment, laid out at each record's offset. */
      g_autoptr (LfSpec) aligned_half = make_spec ("float16(inner=npy(align=128))", "tagged",
                                                   NULL, NULL);
      identical_case (dir, "float16-align128", aligned_half, FALSE, TRUE);
      identical_case (dir, "float16-align128-owners", aligned_half, TRUE, TRUE);
    }
  else if (rank == 0)
    printf ("float16 plugin not built here: float16 case not run\n");
  /* cast saves with its inner codec and takes its capabilities: rows of
   * records it does not write raw, split through their description. */
  if (have_codec ("cast"))
    {
      g_autoptr (LfSpec) cast = codec_spec ("cast");
      identical_case (dir, "cast", cast, FALSE, TRUE);
    }
  else if (rank == 0)
    printf ("cast plugin not built here: cast case not run\n");
  /* npy(align=N): headers laid out at each record's offset, whole leaves,
   * scalars and row-wise shards alike, gathered leaves with another codec. */
  g_autoptr (LfSpec) aligned = make_spec ("npy(align=64)", "tagged", NULL, NULL);
  identical_case (dir, "align64", aligned, FALSE, TRUE);
  g_autoptr (LfSpec) aligned_owners = make_spec ("npy(align=128)", "npy(align=128)", NULL, NULL);
  identical_case (dir, "align128-owners", aligned_owners, TRUE, TRUE);
  if (have_codec ("compressed"))
    {
      g_autoptr (LfSpec) zstd = make_spec ("npy", "compressed", "embed", "compressed");
      identical_case (dir, "compressed", zstd, FALSE, TRUE);
    }
  else if (rank == 0)
    printf ("compressed plugin not built here: compressed case not run\n");

  /* A collective save without a manifest removes the previous one. */
  {
    g_autofree char *file = g_strdup_printf ("%s/npy-collective.eqx", dir);
    g_autofree char *manifest = g_strconcat (file, ".json", NULL);
    g_autoptr (LfMpiLayout) layout = lf_mpi_layout_new ();
    g_autoptr (LfNode) tree = build_tree (rank, n_ranks, layout, FALSE);
    CHECK (g_file_test (manifest, G_FILE_TEST_EXISTS), "%s: expected a manifest", manifest);
    MPI_Barrier (MPI_COMM_WORLD);
    CHECK (lf_mpi_tree_serialise_leaves (MPI_COMM_WORLD, file, tree, NULL, NULL, NULL, layout,
                                         &error), "re-save failed");
    CHECK_NO_ERROR (error);
    CHECK (!g_file_test (manifest, G_FILE_TEST_EXISTS), "%s: a stale manifest is left", manifest);
  }
  check_no_temporary (dir);
}

static void
mode_save (const char *file)
{
  GError *error = NULL;
  g_autoptr (LfMpiLayout) layout = lf_mpi_layout_new ();
  g_autoptr (LfNode) tree = build_tree (rank, n_ranks, layout, FALSE);
  lf_mpi_tree_serialise_leaves (MPI_COMM_WORLD, file, tree, NULL, NULL, NULL, layout, &error);
  CHECK_NO_ERROR (error);
}

static void
mode_load (const char *file)
{
  GError *error = NULL;
  g_autoptr (LfMpiLayout) layout = lf_mpi_layout_new ();
  g_autoptr (LfNode) like = build_like (layout);
  g_autoptr (LfNode) loaded = lf_mpi_tree_deserialise_leaves (MPI_COMM_WORLD, file, like, NULL,
                                                              NULL, NULL, layout, &error);
  CHECK_NO_ERROR (error);
  if (loaded != NULL)
    check_loaded (loaded, TRUE);
  /* And the serial loader agrees on the whole tree. */
  if (rank == 0)
    {
      g_autoptr (LfNode) whole = build_tree (0, 0, NULL, FALSE);
      g_autoptr (LfNode) serial = lf_tree_deserialise_leaves (file, whole, NULL, NULL, NULL,
                                                              &error);
      CHECK_NO_ERROR (error);
      CHECK (serial != NULL && lf_tree_equal (serial, whole), "serial load differs");
    }
}

static void
mode_fail (const char *dir)
{
  GError *error = NULL;
  g_autofree char *file = g_strdup_printf ("%s/old.eqx", dir);
  g_autofree char *copy = g_strdup_printf ("%s/old-copy.bin", dir);
  g_autoptr (LfMpiLayout) layout = lf_mpi_layout_new ();
  g_autoptr (LfNode) tree = build_tree (rank, n_ranks, layout, FALSE);
  lf_mpi_tree_serialise_leaves (MPI_COMM_WORLD, file, tree, NULL, NULL, NULL, layout, &error);
  CHECK_NO_ERROR (error);
  if (rank == 0)
    {
      g_autofree char *bytes = NULL;
      gsize size;
      CHECK (g_file_get_contents (file, &bytes, &size, NULL)
             && g_file_set_contents (copy, bytes, (gssize) size, NULL), "cannot copy %s", file);
    }

  /* An encode error on rank 1 only: ['complex'] (position 1) is whole and
   * owned by rank 1 with 2 or 3 ranks. */
  lf_mpi_layout_set_owner_func (layout, owner_by_position, NULL);
  g_autoptr (LfSpec) failing = make_spec ("npy", "npy", "complex", "fail-on-1");
  g_autoptr (LfNode) five = lf_scalar_new_int (5);
  g_autoptr (LfNode) changed = lf_tree_at_str (tree, "['step']", five, &error);
  CHECK_NO_ERROR (error);
  CHECK (!lf_mpi_tree_serialise_leaves (MPI_COMM_WORLD, file, changed, failing, NULL, NULL,
                                        layout, &error), "the failing save succeeded");
  g_autofree char *text = check_same_error (error, LF_ERROR_IO, "encode failure");
  g_clear_error (&error);
  if (text != NULL)
    CHECK (strstr (text, "rank 1: ") && strstr (text, "['complex']")
           && strstr (text, "injected failure") && strstr (text, file),
           "the message does not name the rank, file and leaf: %s", text);

  /* A sharded leaf gathered to rank 1 (['wide'], position 7), which fails. */
  g_autoptr (LfSpec) failing_gather = make_spec ("npy", "npy", "wide", "fail-on-1");
  lf_mpi_tree_serialise_leaves (MPI_COMM_WORLD, file, changed, failing_gather, NULL, NULL,
                                layout, &error);
  g_autofree char *gather_text = check_same_error (error, LF_ERROR_IO, "gathered encode failure");
  g_clear_error (&error);
  if (gather_text != NULL)
    CHECK (strstr (gather_text, "rank 1: ") && strstr (gather_text, "['wide']"),
           "message: %s", gather_text);

  /* A row-wise shard that rank 1 alone cannot encode (its block has no data). */
  LfNode *block = lf_dict_lookup (changed, "embed");
  g_autoptr (LfNode) abstract = lf_array_new_abstract (LF_DTYPE_FLOAT32, 2,
                                                       lf_array_get_shape (block));
  g_autoptr (LfNode) hollow = rank == 1 ? lf_tree_at_str (changed, "['embed']", abstract, &error)
                                        : lf_node_ref (changed);
  CHECK_NO_ERROR (error);
  lf_mpi_tree_serialise_leaves (MPI_COMM_WORLD, file, hollow, NULL, NULL, NULL, layout, &error);
  g_autofree char *rows_text = check_same_error (error, LF_ERROR_MISMATCH, "row-wise failure");
  g_clear_error (&error);
  if (rows_text != NULL)
    CHECK (strstr (rows_text, "rank 1: ") && strstr (rows_text, "['embed']")
           && strstr (rows_text, "concrete"), "message: %s", rows_text);

  MPI_Barrier (MPI_COMM_WORLD);
  if (rank == 0)
    CHECK (files_equal (file, copy), "the failed saves changed %s", file);
  if (rank == 0)
    g_unlink (copy);
  MPI_Barrier (MPI_COMM_WORLD);
  check_no_temporary (dir);

  /* Nowhere to write: every rank gets rank 0's error. */
  lf_mpi_tree_serialise_leaves (MPI_COMM_WORLD, "/nonexistent-dir/x.eqx", tree, NULL, NULL,
                                NULL, layout, &error);
  g_autofree char *io = check_same_error (error, LF_ERROR_IO, "missing directory");
  g_clear_error (&error);
  if (io != NULL)
    CHECK (strstr (io, "/nonexistent-dir/x.eqx"), "the message does not name the file: %s", io);
}

/* FILE holds three records numpy wrote: a big-endian (6, 4) float32, the
 * same in Fortran order, and a little-endian C-ordered one, each
 * arange(24) / 4.  Each rank loads its rows of all three. */
static void
mode_foreign (const char *file)
{
  GError *error = NULL;
  g_autoptr (LfMpiLayout) layout = lf_mpi_layout_new ();
  guint64 first, rows;
  lf_mpi_even_rows (6, rank, n_ranks, &first, &rows);
  gsize shape[2] = { rows, 4 };
  LfNode *items[3];
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *path = g_strdup_printf ("[%d]", i);
      lf_mpi_layout_add_shard (layout, path, 6, first, &error);
      CHECK_NO_ERROR (error);
      items[i] = lf_array_new_abstract (LF_DTYPE_FLOAT32, 2, shape);
    }
  g_autoptr (LfNode) like = lf_list_new (3, items);
  for (int i = 0; i < 3; i++)
    lf_node_unref (items[i]);
  g_autoptr (LfNode) loaded = lf_mpi_tree_deserialise_leaves (MPI_COMM_WORLD, file, like, NULL,
                                                              NULL, NULL, layout, &error);
  CHECK_NO_ERROR (error);
  for (gsize i = 0; loaded != NULL && i < 3; i++)
    {
      const float *data = lf_array_get_data (lf_node_get_child (loaded, i));
      for (gsize k = 0; k < rows * 4; k++)
        CHECK (data[k] == (float) (first * 4 + k) / 4, "record %zu element %zu: %g", i, k,
               data[k]);
    }
}

static int
owner_out_of_range (const LfPath *path, LfNode *leaf, int n, gpointer user_data)
{
  return n;
}

/* A collective save of `tree` fails on every rank with `code` and the same
 * message, which holds each of the NULL-terminated strings after `what`. */
static void
expect_save_error (const char *file, LfNode *tree, LfSpec *spec, const LfMpiLayout *layout,
                   int code, const char *what, ...)
{
  GError *error = NULL;
  lf_mpi_tree_serialise_leaves (MPI_COMM_WORLD, file, tree, spec, NULL, NULL, layout, &error);
  g_autofree char *text = check_same_error (error, code, what);
  g_clear_error (&error);
  va_list needles;
  va_start (needles, what);
  for (const char *needle; text != NULL && (needle = va_arg (needles, const char *)) != NULL;)
    CHECK (strstr (text, needle) != NULL, "%s: the message lacks \"%s\": %s", what, needle,
           text);
  va_end (needles);
}

static void
mode_errors (const char *dir)
{
  GError *error = NULL;
  g_autofree char *file = g_strdup_printf ("%s/errors.eqx", dir);

  /* Every rank claims rows from 0: overlapping blocks (with 2 ranks or more). */
  if (n_ranks > 1)
  {
    g_autoptr (LfMpiLayout) layout = lf_mpi_layout_new ();
    g_autoptr (LfNode) block = make_array (3, LF_DTYPE_FLOAT32, 2, (gsize[]) { 4, 2 }, 0, 2);
    g_autoptr (LfNode) tree = lf_dict_new_take ("w", lf_node_ref (block), NULL);
    lf_mpi_layout_add_shard (layout, "['w']", 2 * (guint64) n_ranks, 0, &error);
    CHECK_NO_ERROR (error);
    expect_save_error (file, tree, NULL, layout, LF_ERROR_MISMATCH, "overlapping shards",
                       "['w']", "tile", NULL);
    /* The same through a gathering codec. */
    g_autoptr (LfSpec) spec = codec_spec ("tagged");
    expect_save_error (file, tree, spec, layout, LF_ERROR_MISMATCH,
                       "overlapping gathered shards", NULL);
    /* A shard on a scalar. */
    g_autoptr (LfMpiLayout) scalar_layout = lf_mpi_layout_new ();
    lf_mpi_layout_add_shard (scalar_layout, "['s']", 1, 0, &error);
    g_autoptr (LfNode) scalar = lf_dict_new_take ("s", lf_scalar_new_int (1), NULL);
    expect_save_error (file, scalar, NULL, scalar_layout, LF_ERROR_MISMATCH, "sharded scalar",
                       "['s']", "at least one axis", NULL);
  }

  /* Rank 1 has one more leaf than the others. */
  if (n_ranks > 1)
    {
      g_autoptr (LfNode) tree = rank == 1 ? lf_list_new_take (2, lf_scalar_new_int (1),
                                                              lf_scalar_new_int (2))
                                          : lf_list_new_take (1, lf_scalar_new_int (1));
      expect_save_error (file, tree, NULL, NULL, LF_ERROR_MISMATCH, "trees differ",
                         "trees differ", NULL);
    }

  /* A path that names a directory, as a path save refuses it (no hidden
   * ".eqx" beside the current directory). */
  {
    g_autoptr (LfNode) tree = lf_list_new_take (1, lf_scalar_new_int (1));
    expect_save_error ("", tree, NULL, NULL, LF_ERROR_IO, "empty path",
                       "names a directory", NULL);
    expect_save_error (".", tree, NULL, NULL, LF_ERROR_IO, "the current directory",
                       "names a directory", NULL);
    CHECK (!g_file_test (".eqx", G_FILE_TEST_EXISTS), "a save to \"\" or \".\" wrote .eqx");
  }

  /* An owner callback out of range. */
  {
    g_autoptr (LfMpiLayout) layout = lf_mpi_layout_new ();
    lf_mpi_layout_set_owner_func (layout, owner_out_of_range, NULL);
    g_autoptr (LfNode) tree = lf_list_new_take (1, lf_scalar_new_int (1));
    expect_save_error (file, tree, NULL, layout, LF_ERROR_FAILED, "owner out of range", "[0]",
                       "returned rank", NULL);
  }

  /* A spec tree that is not a prefix of the tree. */
  {
    g_autoptr (LfCodec) npy = lf_registry_resolve (lf_registry_get_default (), "npy", &error);
    g_autoptr (LfNode) spec_tree = lf_list_new_take (2, lf_spec_leaf_new (npy),
                                                     lf_spec_leaf_new (npy));
    g_autoptr (LfSpec) spec = lf_spec_new_tree (spec_tree, &error);
    CHECK_NO_ERROR (error);
    g_autoptr (LfNode) tree = lf_list_new_take (1, lf_scalar_new_int (1));
    expect_save_error (file, tree, spec, NULL, LF_ERROR_SPEC, "spec not a prefix",
                       "not a prefix", file, NULL);
  }

  /* Offset-dependent bytes without a header layout the save could
   * reproduce are refused, naming the codec and what it lacks. */
  {
    g_autoptr (LfSpec) spec = codec_spec ("padded");
    gsize two = 2;
    g_autoptr (LfNode) tree = lf_list_new_take (1, lf_array_new_zeros (LF_DTYPE_FLOAT32, 1,
                                                                       &two));
    expect_save_error (file, tree, spec, NULL, LF_ERROR_UNSUPPORTED, "offset-dependent", "[0]",
                       "codec padded", "LF_CODEC_OFFSET_DEPENDENT",
                       "lacks the LF_CODEC_ROW_RANGES capability", NULL);
  }

  /* A codec that declares ROW_RANGES but writes something else: its shards
   * are refused rather than written wrong. */
  {
    g_autoptr (LfSpec) spec = codec_spec ("trailer");
    g_autoptr (LfMpiLayout) layout = lf_mpi_layout_new ();
    lf_mpi_layout_add_shard (layout, "[0]", 2 * (guint64) n_ranks, 2 * (guint64) rank, &error);
    CHECK_NO_ERROR (error);
    g_autoptr (LfNode) tree = lf_list_new_take (1, make_array (1, LF_DTYPE_FLOAT32, 2,
                                                               (gsize[]) { 2, 3 }, 0, 2));
    expect_save_error (file, tree, spec, layout, LF_ERROR_FAILED, "broken row ranges",
                       "rank 0: ", "[0]", "codec trailer", "LF_CODEC_ROW_RANGES", NULL);
  }

  /* The owner of a whole leaf holds only an abstract array. */
  {
    gsize three = 3;
    g_autoptr (LfNode) tree = lf_list_new_take (1, lf_array_new_abstract (LF_DTYPE_FLOAT32, 1,
                                                                          &three));
    expect_save_error (file, tree, NULL, NULL, LF_ERROR_UNSUPPORTED, "abstract owner",
                       "rank 0: ", "[0]", "abstract", NULL);
  }

  /* Blocks of different dtypes on different ranks. */
  if (n_ranks > 1)
    {
      g_autoptr (LfMpiLayout) layout = lf_mpi_layout_new ();
      lf_mpi_layout_add_shard (layout, "[0]", 2 * (guint64) n_ranks, 2 * (guint64) rank, &error);
      g_autoptr (LfNode) tree = lf_list_new_take (1, make_array (1, rank == 1 ? LF_DTYPE_FLOAT64
                                                                              : LF_DTYPE_FLOAT32,
                                                                 2, (gsize[]) { 2, 3 }, 0, 2));
      expect_save_error (file, tree, NULL, layout, LF_ERROR_MISMATCH, "dtypes differ", "[0]",
                         "rank", "float64", NULL);
    }

  /* The rename fails (the target is a directory): rank 0's error everywhere,
   * the temporary file gone. */
  {
    g_autofree char *subdir = g_strdup_printf ("%s/rename-fails", dir);
    g_autofree char *target = g_strdup_printf ("%s/taken.eqx", subdir);
    if (rank == 0)
      {
        g_mkdir_with_parents (target, 0755);
        g_autofree char *inside = g_strdup_printf ("%s/file", target);
        g_file_set_contents (inside, "x", 1, NULL);
      }
    MPI_Barrier (MPI_COMM_WORLD);
    g_autoptr (LfNode) tree = lf_list_new_take (1, lf_scalar_new_int (1));
    expect_save_error (target, tree, NULL, NULL, LF_ERROR_IO, "rename", "rank 0: ", "rename",
                       target, NULL);
    MPI_Barrier (MPI_COMM_WORLD);
    check_no_temporary (subdir);
  }

  /* Loading: a good file, then broken copies of it. */
  g_autoptr (LfMpiLayout) layout = lf_mpi_layout_new ();
  g_autoptr (LfNode) tree = build_tree (rank, n_ranks, layout, FALSE);
  lf_mpi_tree_serialise_leaves (MPI_COMM_WORLD, file, tree, NULL, NULL, NULL, layout, &error);
  CHECK_NO_ERROR (error);
  g_autofree char *bytes = NULL;
  gsize size = 0;
  CHECK (g_file_get_contents (file, &bytes, &size, NULL), "cannot read %s", file);
  g_autofree char *broken = g_strdup_printf ("%s/broken.eqx", dir);
  g_autoptr (LfMpiLayout) like_layout = lf_mpi_layout_new ();
  g_autoptr (LfNode) like = build_like (like_layout);

  struct { const char *what; gsize keep; const char *extra; int code; const char *needle; } cases[] = {
    { "truncated", 200, NULL, LF_ERROR_TRUNCATED, "record" },
    { "trailing data", 0, "junk", LF_ERROR_TRAILING_DATA, "bytes left after the last leaf" },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      if (rank == 0)
        {
          GString *content = g_string_new_len (bytes, cases[c].keep ? (gssize) cases[c].keep
                                                                     : (gssize) size);
          if (cases[c].extra)
            g_string_append (content, cases[c].extra);
          g_file_set_contents (broken, content->str, (gssize) content->len, NULL);
          g_string_free (content, TRUE);
        }
      MPI_Barrier (MPI_COMM_WORLD);
      g_autoptr (LfNode) out = lf_mpi_tree_deserialise_leaves (MPI_COMM_WORLD, broken, like,
                                                               NULL, NULL, NULL, like_layout,
                                                               &error);
      CHECK (out == NULL, "%s: a tree was returned", cases[c].what);
      g_autofree char *text = check_same_error (error, cases[c].code, cases[c].what);
      if (text != NULL)
        CHECK (strstr (text, cases[c].needle) && strstr (text, broken), "%s: message: %s",
               cases[c].what, text);
      g_clear_error (&error);
      MPI_Barrier (MPI_COMM_WORLD);
    }

  /* A like whose sharded leaf has another global row count. */
  {
    g_autoptr (LfMpiLayout) wrong = lf_mpi_layout_new ();
    g_autoptr (LfNode) wrong_like = build_like (wrong);
    g_autoptr (LfMpiLayout) shifted = lf_mpi_layout_new ();
    for (gsize i = 0; i < G_N_ELEMENTS (leaf_specs); i++)
      {
        g_autofree char *key = g_strdup_printf ("['%s']", leaf_specs[i].key);
        const LfShard *shard = lf_mpi_layout_lookup_shard (wrong, key);
        if (shard != NULL)
          lf_mpi_layout_add_shard (shifted, key,
                                   shard->global_rows + (strcmp (key, "['embed']") == 0),
                                   shard->row_offset, &error);
      }
    g_autoptr (LfNode) out = lf_mpi_tree_deserialise_leaves (MPI_COMM_WORLD, file, wrong_like,
                                                             NULL, NULL, NULL, shifted, &error);
    CHECK (out == NULL, "a load with a wrong global shape succeeded");
    g_autofree char *text = check_same_error (error, LF_ERROR_MISMATCH, "global shape");
    if (text != NULL)
      CHECK (strstr (text, "['embed']") && strstr (text, "(38, 5)"), "message: %s", text);
    g_clear_error (&error);
  }

  /* Rank 1 alone expects another row shape: it checks the record itself
   * (rank 0's check was against its own like). */
  if (n_ranks > 1)
    {
      g_autoptr (LfMpiLayout) odd_layout = lf_mpi_layout_new ();
      g_autoptr (LfNode) odd_like = build_like (odd_layout);
      LfNode *embed = lf_dict_lookup (odd_like, "embed");
      gsize shape[2] = { lf_array_get_shape (embed)[0], 6 };
      g_autoptr (LfNode) wider = lf_array_new_abstract (LF_DTYPE_FLOAT32, 2, shape);
      g_autoptr (LfNode) mixed_like = rank == 1 ? lf_tree_at_str (odd_like, "['embed']", wider,
                                                                  &error)
                                                : lf_node_ref (odd_like);
      CHECK_NO_ERROR (error);
      g_autoptr (LfNode) out = lf_mpi_tree_deserialise_leaves (MPI_COMM_WORLD, file, mixed_like,
                                                               NULL, NULL, NULL, odd_layout,
                                                               &error);
      CHECK (out == NULL, "a like rank 1 alone got wrong was accepted");
      g_autofree char *text = check_same_error (error, LF_ERROR_MISMATCH, "rank's own like");
      if (text != NULL)
        CHECK (strstr (text, "rank 1: ") && strstr (text, "['embed']")
               && strstr (text, "(37, 6)") && strstr (text, "(37, 5)"), "message: %s", text);
      g_clear_error (&error);
    }

  /* A like whose block lies beyond the array's rows. */
  {
    g_autoptr (LfMpiLayout) beyond = lf_mpi_layout_new ();
    g_autoptr (LfNode) beyond_like = build_like (beyond);
    g_autoptr (LfMpiLayout) shifted = lf_mpi_layout_new ();
    for (gsize i = 0; i < G_N_ELEMENTS (leaf_specs); i++)
      {
        g_autofree char *key = g_strdup_printf ("['%s']", leaf_specs[i].key);
        const LfShard *shard = lf_mpi_layout_lookup_shard (beyond, key);
        if (shard != NULL)
          lf_mpi_layout_add_shard (shifted, key, shard->global_rows,
                                   shard->row_offset + (strcmp (key, "['vec']") == 0 ? 100 : 0),
                                   &error);
      }
    g_autoptr (LfNode) out = lf_mpi_tree_deserialise_leaves (MPI_COMM_WORLD, file, beyond_like,
                                                             NULL, NULL, NULL, shifted, &error);
    CHECK (out == NULL, "a load of a block beyond the rows succeeded");
    g_autofree char *text = check_same_error (error, LF_ERROR_MISMATCH, "block beyond rows");
    if (text != NULL)
      CHECK (strstr (text, "['vec']") && strstr (text, "beyond"), "message: %s", text);
    g_clear_error (&error);
  }

  /* A missing file. */
  g_autofree char *missing = g_strdup_printf ("%s/missing.eqx", dir);
  g_autoptr (LfNode) none = lf_mpi_tree_deserialise_leaves (MPI_COMM_WORLD, missing, like, NULL,
                                                            NULL, NULL, like_layout, &error);
  CHECK (none == NULL, "a load of a missing file succeeded");
  g_free (check_same_error (error, LF_ERROR_IO, "missing file"));
  g_clear_error (&error);

  /* Layout API errors (local, no communication). */
  g_autoptr (LfMpiLayout) api = lf_mpi_layout_new ();
  CHECK (lf_mpi_layout_add_shard (api, "['a'].b", 4, 0, &error), "add_shard");
  CHECK_NO_ERROR (error);
  CHECK (!lf_mpi_layout_add_shard (api, "['a'] .b", 4, 0, &error) && error != NULL
         && error->code == LF_ERROR_PARSE, "a bad path is accepted");
  g_clear_error (&error);
  CHECK (!lf_mpi_layout_add_shard (api, "['a'].b", 4, 0, &error) && error != NULL
         && error->code == LF_ERROR_DUPLICATE_NAME && strstr (error->message, "['a'].b"),
         "a duplicate shard is accepted");
  g_clear_error (&error);
  CHECK (lf_mpi_layout_lookup_shard (api, "['a'].b")->global_rows == 4, "lookup");
  guint64 first, rows;
  lf_mpi_even_rows (10, 2, 3, &first, &rows);
  CHECK (first == 6 && rows == 4, "even rows: %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, first, rows);
}

/* The example's int8-affine codec, loaded from its .so like any plugin:
 * per-array scales, so it cannot split a leaf by rows (no
 * LF_CODEC_ROW_RANGES) and sharded leaves are gathered; the file is still
 * the serial one, byte for byte, and loads back collectively. */
static void
mode_custom (const char *dir)
{
  GError *error = NULL;
  CHECK (have_codec ("int8-affine"), "the int8-affine plugin is not on LEAFIO_PLUGIN_PATH");
  if (!have_codec ("int8-affine"))
    return;
  g_autoptr (LfCodec) codec = lf_registry_resolve (lf_registry_get_default (), "int8-affine",
                                                   &error);
  CHECK_NO_ERROR (error);
  CHECK (!lf_codec_has_flags (codec, LF_CODEC_ROW_RANGES),
         "int8-affine declares row ranges: this case no longer covers gathering");
  /* Every float32 leaf, sharded or whole (the others get no record). */
  g_autoptr (LfSpec) everywhere = lf_spec_new_codec (codec);
  identical_case (dir, "int8-affine", everywhere, FALSE, FALSE);
  /* Beside npy leaves split by rows, with whole leaves on chosen owners. */
  g_autoptr (LfSpec) rules = lf_spec_parse_rules (NULL, "['embed'] = int8-affine\n"
                                                  "['tiny'] = int8-affine\n"
                                                  "['bias'] = int8-affine\n",
                                                  LF_CODEC_DEFAULT, &error);
  CHECK_NO_ERROR (error);
  identical_case (dir, "int8-affine-rules", rules, TRUE, FALSE);
  check_no_temporary (dir);
}

/* ---- the directory lock -------------------------------------------------------------- */

typedef struct {
  int lock;              /* rank 0's descriptor of the locked directory */
  const char *file, *manifest;
  gboolean file_seen, manifest_seen;
} Holder;

/* Holds the lock a second, as a path save of the same directory would, and
 * looks whether the collective save put anything in place meanwhile. */
static gpointer
hold_lock (gpointer data)
{
  Holder *h = data;
  g_usleep (G_USEC_PER_SEC);
  h->file_seen = g_file_test (h->file, G_FILE_TEST_EXISTS);
  h->manifest_seen = g_file_test (h->manifest, G_FILE_TEST_EXISTS);
  close (h->lock);
  return NULL;
}

static void
mode_lock (const char *dir)
{
  GError *error = NULL;
  g_autofree char *file = g_build_filename (dir, "locked.eqx", NULL);
  g_autofree char *manifest = lf_manifest_get_path (file);
  Holder h = { -1, file, manifest, FALSE, FALSE };
  GThread *holder = NULL;
  if (rank == 0)
    {
      h.lock = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      CHECK (h.lock >= 0 && flock (h.lock, LOCK_EX) == 0, "%s: cannot lock", dir);
      holder = g_thread_new ("holder", hold_lock, &h);
    }
  g_autoptr (LfMpiLayout) layout = lf_mpi_layout_new ();
  g_autoptr (LfNode) tree = build_tree (rank, n_ranks, layout, FALSE);
  lf_mpi_tree_serialise_leaves_full (MPI_COMM_WORLD, file, tree, NULL, NULL, NULL, layout,
                                     LF_SAVE_MANIFEST | LF_SAVE_NO_SYNC, &error);
  CHECK_NO_ERROR (error);
  if (rank != 0)
    return;
  g_thread_join (holder);
  CHECK (!h.file_seen, "%s was put in place while the directory was locked", file);
  CHECK (!h.manifest_seen, "%s was written while the directory was locked", manifest);
  CHECK (g_file_test (file, G_FILE_TEST_EXISTS) && g_file_test (manifest, G_FILE_TEST_EXISTS),
         "the save left no file or no manifest");
  lf_manifest_verify (file, NULL, NULL, NULL, &error);
  CHECK_NO_ERROR (error);
}

int
main (int argc, char **argv)
{
  MPI_Init (&argc, &argv);
  MPI_Comm_rank (MPI_COMM_WORLD, &rank);
  MPI_Comm_size (MPI_COMM_WORLD, &n_ranks);
  if (argc != 3)
    {
      if (rank == 0)
        fprintf (stderr, "usage: mpi-driver identical|save|load|fail|errors|foreign|custom|lock "
                 "PATH\n");
      MPI_Finalize ();
      return 2;
    }
  /* A critical is a bug: abort, and mpirun fails the run. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  register_test_codecs ();
  const char *mode = argv[1], *path = argv[2];
  if (strcmp (mode, "identical") == 0)
    mode_identical (path);
  else if (strcmp (mode, "save") == 0)
    mode_save (path);
  else if (strcmp (mode, "load") == 0)
    mode_load (path);
  else if (strcmp (mode, "fail") == 0)
    mode_fail (path);
  else if (strcmp (mode, "errors") == 0)
    mode_errors (path);
  else if (strcmp (mode, "foreign") == 0)
    mode_foreign (path);
  else if (strcmp (mode, "custom") == 0)
    mode_custom (path);
  else if (strcmp (mode, "lock") == 0)
    mode_lock (path);
  else
    CHECK (FALSE, "unknown mode %s", mode);

  int total = 0;
  MPI_Allreduce (&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0)
    printf ("mpi-driver %s with %d ranks: %s\n", mode, n_ranks, total ? "FAILED" : "ok");
  MPI_Finalize ();
  return total ? 1 : 0;
}
