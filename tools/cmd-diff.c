/* leafio diff: compare two files record by record.
 *
 * Records are read as they describe themselves, one pair at a time, so
 * files of any size compare in constant memory.  Values are compared as
 * numpy's isclose does (|a - b| <= atol + rtol * |b|, NaN equal to NaN);
 * with the default tolerances 0 only identical values are equal. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli-private.h"

typedef struct {
  double atol, rtol;
  gboolean brief;
  gboolean verbose;
  gboolean values;
  gboolean json;
  char *like_file;
  char *spec_text;
} DiffOptions;

static gconstpointer
leaf_data (LfNode *leaf)
{
  return lf_node_get_kind (leaf) == LF_NODE_SCALAR ? lf_scalar_get_value (leaf)
                                                   : lf_array_get_data (leaf);
}

typedef struct {
  gsize n_elements;
  gsize n_different;
  double max_abs;
  double max_rel;
} Comparison;

/* An element of `from` as the dtype `to` holds it. */
static void
to_dtype (LfElement *element, LfDType from, LfDType to)
{
  if (from == to)
    return;
  guint8 buffer[16];
  lf_element_write (element, to, buffer);
  lf_element_read (to, buffer, element);
}

/* Compares two leaves of the same shape element by element, as numbers of
 * their common dtype (lf_element_equal: int64 values beyond 2^53 are told
 * apart). */
static void
compare_values (LfNode *a, LfDType dtype_a, LfNode *b, LfDType dtype_b, LfDType common,
                gsize n, const DiffOptions *options, Comparison *result)
{
  const guint8 *da = leaf_data (a), *db = leaf_data (b);
  gsize size_a = lf_dtype_size (dtype_a), size_b = lf_dtype_size (dtype_b);
  memset (result, 0, sizeof *result);
  result->n_elements = n;
  for (gsize i = 0; i < n; i++)
    {
      LfElement x, y;
      lf_element_read (dtype_a, da + i * size_a, &x);
      lf_element_read (dtype_b, db + i * size_b, &y);
      if (dtype_a != dtype_b)
        {
          to_dtype (&x, dtype_a, common);
          to_dtype (&y, dtype_b, common);
        }
      gboolean nan_x = lf_element_is_nan (&x), nan_y = lf_element_is_nan (&y);
      if (nan_x || nan_y)
        {
          if (!(nan_x && nan_y))
            {
              result->n_different++;
              result->max_abs = result->max_rel = INFINITY;
            }
          continue;
        }
      if (lf_element_equal (&x, &y))
        continue; /* also equal infinities */
      double abs_diff = lf_element_distance (&x, &y);
      double magnitude = hypot (lf_element_to_double (&y), y.im);
      double rel_diff = magnitude > 0 ? abs_diff / magnitude : INFINITY;
      result->max_abs = MAX (result->max_abs, abs_diff);
      result->max_rel = MAX (result->max_rel, rel_diff);
      if (!(abs_diff <= options->atol + options->rtol * magnitude))
        result->n_different++;
    }
}

/* numpy's result_type for two dtypes, near enough for comparing values:
 * the smallest dtype that holds every value of both. */
static LfDType
common_dtype (LfDType a, LfDType b)
{
  if (a == b)
    return a;
  gsize size_a = lf_dtype_size (a), size_b = lf_dtype_size (b);
  if (a == LF_DTYPE_BOOL)
    return b;
  if (b == LF_DTYPE_BOOL)
    return a;
  gboolean complex = lf_dtype_is_complex (a) || lf_dtype_is_complex (b);
  gboolean floating = complex || lf_dtype_is_float (a) || lf_dtype_is_float (b);
  if (!floating)
    {
      if (lf_dtype_is_signed (a) == lf_dtype_is_signed (b))
        return size_a >= size_b ? a : b;
      LfDType s = lf_dtype_is_signed (a) ? a : b, u = s == a ? b : a;
      gsize need = MAX (lf_dtype_size (s), 2 * lf_dtype_size (u));
      return need <= 1 ? LF_DTYPE_INT8 : need == 2 ? LF_DTYPE_INT16
             : need == 4 ? LF_DTYPE_INT32 : need == 8 ? LF_DTYPE_INT64 : LF_DTYPE_FLOAT64;
    }
  /* The bytes of a float that holds each side exactly (an integer of n
   * bytes needs a float of 2n; float16 and bfloat16 meet in float32). */
  gsize need = 0;
  LfDType sides[] = { a, b };
  for (int i = 0; i < 2; i++)
    {
      LfDType d = sides[i];
      gsize n = lf_dtype_size (d);
      need = MAX (need, lf_dtype_is_complex (d) ? n / 2
                        : lf_dtype_is_float (d) ? n : MIN (2 * n, 8));
    }
  if ((a == LF_DTYPE_BFLOAT16 && b == LF_DTYPE_FLOAT16)
      || (a == LF_DTYPE_FLOAT16 && b == LF_DTYPE_BFLOAT16))
    need = 4;
  if (complex)
    return need <= 4 ? LF_DTYPE_COMPLEX64 : LF_DTYPE_COMPLEX128;
  if (need == 2)
    return a == LF_DTYPE_BFLOAT16 || b == LF_DTYPE_BFLOAT16 ? LF_DTYPE_BFLOAT16
                                                            : LF_DTYPE_FLOAT16;
  return need <= 4 ? LF_DTYPE_FLOAT32 : LF_DTYPE_FLOAT64;
}

/* What one pair of records came to. */
typedef enum {
  RESULT_EQUAL,            /* same dtype, same bytes */
  RESULT_CLOSE,            /* values equal within tolerance (or as numbers) */
  RESULT_DTYPE_DIFFERS,    /* values equal, dtypes not (a difference without --values) */
  RESULT_VALUES_DIFFER,
  RESULT_SHAPE_DIFFERS,
} ResultKind;

static const char *const result_names[] = {
  "equal", "equal within tolerance", "dtypes differ", "values differ", "shapes differ",
};

typedef struct {
  ResultKind kind;
  gboolean equal;          /* what the record counts as, in this mode */
  char *type_a, *type_b;
  LfDType common;          /* the dtype values were compared in */
  Comparison c;
} RecordResult;

static void
record_result_clear (RecordResult *r)
{
  g_free (r->type_a);
  g_free (r->type_b);
}

/* Compares one pair of records: dtype, shape, then the values, converted
 * to their common dtype. */
static void
compare_records (LfNode *a, LfNode *b, const DiffOptions *options, RecordResult *r)
{
  memset (r, 0, sizeof *r);
  r->type_a = cli_leaf_describe (a);
  r->type_b = cli_leaf_describe (b);
  LfDType dtype_a, dtype_b;
  guint ndim_a, ndim_b;
  const gsize *shape_a, *shape_b;
  gsize n = 1;
  cli_leaf_get_type (a, &dtype_a, &ndim_a, &shape_a);
  cli_leaf_get_type (b, &dtype_b, &ndim_b, &shape_b);
  gboolean same_shape = ndim_a == ndim_b &&
                        (ndim_a == 0 || memcmp (shape_a, shape_b, ndim_a * sizeof (gsize)) == 0);
  if (!same_shape || dtype_a == LF_DTYPE_INVALID || dtype_b == LF_DTYPE_INVALID)
    {
      r->kind = RESULT_SHAPE_DIFFERS;
      return;
    }
  lf_shape_n_elements (ndim_a, shape_a, &n);
  r->common = common_dtype (dtype_a, dtype_b);
  gsize n_bytes = n * lf_dtype_size (dtype_a);
  if (dtype_a == dtype_b && (n_bytes == 0 || memcmp (leaf_data (a), leaf_data (b), n_bytes) == 0))
    {
      r->kind = RESULT_EQUAL;
      r->equal = TRUE;
      r->c.n_elements = n;
      return;
    }
  compare_values (a, dtype_a, b, dtype_b, r->common, n, options, &r->c);
  if (r->c.n_different > 0)
    r->kind = RESULT_VALUES_DIFFER;
  else if (dtype_a != dtype_b && !options->values)
    r->kind = RESULT_DTYPE_DIFFERS;
  else
    r->kind = RESULT_CLOSE;
  r->equal = r->kind == RESULT_CLOSE;
}

/* "record 3 (offset 120)", with the leaf's path when it is known. */
static char *
describe_where (guint index, guint64 offset_a, guint64 offset_b, const char *path)
{
  g_autofree char *offsets =
    offset_a == offset_b
      ? g_strdup_printf ("offset %" G_GUINT64_FORMAT, offset_a)
      : g_strdup_printf ("offsets %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT, offset_a,
                         offset_b);
  if (path != NULL)
    return g_strdup_printf ("%s (record %u, %s)", *path ? path : "(root)", index, offsets);
  return g_strdup_printf ("record %u (%s)", index, offsets);
}

static void
print_record_line (const char *where, const RecordResult *r, const DiffOptions *options)
{
  if (options->brief || options->json || (r->equal && !options->verbose))
    return;
  gboolean same_type = strcmp (r->type_a, r->type_b) == 0;
  g_autofree char *types = same_type ? g_strdup (r->type_a)
                                     : g_strdup_printf ("%s vs %s", r->type_a, r->type_b);
  switch (r->kind)
    {
    case RESULT_SHAPE_DIFFERS:
      printf ("%s: %s\n", where, types);
      break;
    case RESULT_EQUAL:
      printf ("%s: %s: equal\n", where, types);
      break;
    case RESULT_CLOSE:
    case RESULT_DTYPE_DIFFERS:
      printf ("%s: %s: %s%s, max abs diff %.6g, max rel diff %.6g\n", where, types,
              r->kind == RESULT_DTYPE_DIFFERS ? "dtypes differ; values " : "",
              r->c.max_abs == 0 ? (r->kind == RESULT_DTYPE_DIFFERS ? "equal" : "equal values")
                                : "equal within tolerance", r->c.max_abs, r->c.max_rel);
      break;
    case RESULT_VALUES_DIFFER:
      printf ("%s: %s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " elements differ, "
              "max abs diff %.6g, max rel diff %.6g\n", where, types, r->c.n_different,
              r->c.n_elements, r->c.max_abs, r->c.max_rel);
      break;
    }
}

static void
add_double (JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name (b, name);
  if (isfinite (value))
    json_builder_add_double_value (b, value);
  else
    json_builder_add_null_value (b);  /* JSON has no infinity */
}

static void
add_record_json (JsonBuilder *b, guint index, guint64 offset_a, guint64 offset_b,
                 const char *path, const RecordResult *r)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "record");
  json_builder_add_int_value (b, index);
  json_builder_set_member_name (b, "path");
  if (path != NULL)
    json_builder_add_string_value (b, path);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "offset_a");
  json_builder_add_int_value (b, (gint64) offset_a);
  json_builder_set_member_name (b, "offset_b");
  json_builder_add_int_value (b, (gint64) offset_b);
  json_builder_set_member_name (b, "a");
  json_builder_add_string_value (b, r->type_a);
  json_builder_set_member_name (b, "b");
  json_builder_add_string_value (b, r->type_b);
  json_builder_set_member_name (b, "result");
  json_builder_add_string_value (b, r->kind == RESULT_CLOSE && r->c.max_abs == 0
                                    ? "equal values" : result_names[r->kind]);
  json_builder_set_member_name (b, "equal");
  json_builder_add_boolean_value (b, r->equal);
  if (r->kind != RESULT_SHAPE_DIFFERS)
    {
      json_builder_set_member_name (b, "compared_as");
      json_builder_add_string_value (b, lf_dtype_name (r->common));
      json_builder_set_member_name (b, "n_elements");
      json_builder_add_int_value (b, (gint64) r->c.n_elements);
      json_builder_set_member_name (b, "n_different");
      json_builder_add_int_value (b, (gint64) r->c.n_different);
      add_double (b, "max_abs_diff", r->c.max_abs);
      add_double (b, "max_rel_diff", r->c.max_rel);
    }
  json_builder_end_object (b);
}

/* When one file ends first: goes through the other's extra records (so
 * garbage there is an error) and says which they are. */
static gboolean
report_extra_records (CliReader *a, CliReader *b, const DiffOptions *options,
                      JsonBuilder *json, GError **error)
{
  CliReader *longer = cli_reader_at_end (a) ? b : a;
  CliReader *shorter = longer == a ? b : a;
  guint first = cli_reader_get_index (longer);
  guint64 offset = cli_reader_get_offset (longer);
  while (!cli_reader_at_end (longer))
    {
      CliRecordInfo info;
      if (!cli_reader_next_info (longer, &info, error))
        return FALSE;
    }
  guint last = cli_reader_get_index (longer) - 1;
  if (json != NULL)
    {
      json_builder_set_member_name (json, "only_in");
      json_builder_begin_object (json);
      json_builder_set_member_name (json, "file");
      json_builder_add_string_value (json, cli_reader_get_filename (longer));
      json_builder_set_member_name (json, "first_record");
      json_builder_add_int_value (json, first);
      json_builder_set_member_name (json, "last_record");
      json_builder_add_int_value (json, last);
      json_builder_set_member_name (json, "offset");
      json_builder_add_int_value (json, (gint64) offset);
      json_builder_end_object (json);
    }
  else if (!options->brief)
    {
      g_autofree char *which = first == last ? g_strdup_printf ("record %u", first)
                                             : g_strdup_printf ("records %u-%u", first, last);
      printf ("%s (offset %" G_GUINT64_FORMAT "): only in %s (%s ends)\n", which, offset,
              cli_reader_get_filename (longer), cli_reader_get_filename (shorter));
    }
  return TRUE;
}

static gboolean
parse_tolerance (const char *name, const char *text, double *value, GError **error)
{
  if (text == NULL)
    return TRUE;
  char *end = NULL;
  *value = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !(*value >= 0) || isinf (*value))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE,
                   "%s: expected a finite number >= 0, found '%s'", name, text);
      return FALSE;
    }
  return TRUE;
}

/* The leaf path of each record of `filename`, in order, from its manifest
 * or --like; NULL without either (no error), or with the error of
 * indexing the file with --like. */
static GPtrArray *
record_paths (CliReader *reader, const char *filename, const DiffOptions *options,
              GError **error)
{
  if (options->like_file == NULL)
    {
      /* Only a manifest that is present is worth a try: without one the
       * records are numbered, as they always were. */
      g_autofree char *manifest = lf_manifest_get_path (filename);
      if (!g_file_test (manifest, G_FILE_TEST_IS_REGULAR))
        return NULL;
    }
  g_autoptr (GError) local = NULL;
  /* stdin was read once, by `reader`: the file is indexed from it. */
  g_autoptr (LfFile) file =
    cli_is_stdio (filename)
    ? cli_file_open_reader (reader, NULL, options->like_file, options->spec_text, NULL, &local)
    : cli_file_open (filename, options->like_file, options->spec_text, NULL, &local);
  if (file == NULL)
    {
      if (options->like_file != NULL)
        g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  for (gsize i = 0; i < lf_file_get_n_entries (file); i++)
    {
      const LfFileEntry *entry = lf_file_get_entry (file, i);
      if (entry->has_record)
        g_ptr_array_add (paths, g_strdup (entry->path));
    }
  return paths;
}

static const char *
path_of_record (GPtrArray *paths_a, GPtrArray *paths_b, guint index)
{
  if (paths_a != NULL && index < paths_a->len)
    return g_ptr_array_index (paths_a, index);
  if (paths_b != NULL && index < paths_b->len)
    return g_ptr_array_index (paths_b, index);
  return NULL;
}

typedef struct {
  guint n_records, n_different;
  guint n_dtype_only;     /* of n_different: equal values, another dtype */
  gboolean counts_differ;
} Totals;

/* Compares the records of `a` and `b` pair by pair. */
static gboolean
diff_records (CliReader *a, CliReader *b, const DiffOptions *options, GPtrArray *paths_a,
              GPtrArray *paths_b, JsonBuilder *json, Totals *totals, GError **error)
{
  g_autoptr (CliProgress) progress =
    cli_progress_new ("comparing", cli_reader_get_size (a) + cli_reader_get_size (b));
  if (json != NULL)
    {
      json_builder_set_member_name (json, "records");
      json_builder_begin_array (json);
    }
  gboolean ok = TRUE;
  while (ok && !cli_reader_at_end (a) && !cli_reader_at_end (b))
    {
      CliRecordInfo ia, ib;
      g_autoptr (LfNode) leaf_a = cli_reader_next_leaf (a, &ia, error);
      g_autoptr (LfNode) leaf_b = leaf_a != NULL ? cli_reader_next_leaf (b, &ib, error) : NULL;
      if (leaf_b == NULL)
        {
          ok = FALSE;
          break;
        }
      RecordResult r;
      compare_records (leaf_a, leaf_b, options, &r);
      const char *path = path_of_record (paths_a, paths_b, ia.index);
      g_autofree char *where = describe_where (ia.index, ia.offset, ib.offset, path);
      print_record_line (where, &r, options);
      if (json != NULL)
        add_record_json (json, ia.index, ia.offset, ib.offset, path, &r);
      totals->n_records++;
      totals->n_different += !r.equal;
      totals->n_dtype_only += r.kind == RESULT_DTYPE_DIFFERS;
      record_result_clear (&r);
      cli_progress_update (progress, cli_reader_get_offset (a) + cli_reader_get_offset (b));
    }
  if (json != NULL)
    json_builder_end_array (json);
  if (ok && (!cli_reader_at_end (a) || !cli_reader_at_end (b)))
    {
      totals->counts_differ = TRUE;
      ok = report_extra_records (a, b, options, json, error);
    }
  return ok;
}

static void
add_header_json (JsonBuilder *json, const char *name_a, const char *name_b,
                 const DiffOptions *options)
{
  json_builder_set_member_name (json, "a");
  json_builder_add_string_value (json, name_a);
  json_builder_set_member_name (json, "b");
  json_builder_add_string_value (json, name_b);
  json_builder_set_member_name (json, "mode");
  json_builder_add_string_value (json, options->values ? "values" : "strict");
  add_double (json, "atol", options->atol);
  add_double (json, "rtol", options->rtol);
}

static void
add_totals_json (JsonBuilder *json, const Totals *totals, gboolean different)
{
  json_builder_set_member_name (json, "n_records");
  json_builder_add_int_value (json, totals->n_records);
  json_builder_set_member_name (json, "n_different");
  json_builder_add_int_value (json, totals->n_different);
  json_builder_set_member_name (json, "counts_differ");
  json_builder_add_boolean_value (json, totals->counts_differ);
  json_builder_set_member_name (json, "equal");
  json_builder_add_boolean_value (json, !different);
}

int
cli_cmd_diff (int argc, char **argv)
{
  g_autofree char *atol_text = NULL, *rtol_text = NULL;
  g_autofree char *like_file = NULL, *spec_text = NULL;
  DiffOptions options = { 0 };
  const GOptionEntry entries[] = {
    { "atol", 0, 0, G_OPTION_ARG_STRING, &atol_text,
      "Absolute tolerance (default 0)", "X" },
    { "rtol", 0, 0, G_OPTION_ARG_STRING, &rtol_text,
      "Relative tolerance (default 0)", "X" },
    { "values", 0, 0, G_OPTION_ARG_NONE, &options.values,
      "Compare values only: records whose dtypes differ are equal when their values, "
      "converted to a common dtype, are", NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &options.json,
      "Print the result of every record and the totals as JSON", NULL },
    { "like", 'l', 0, G_OPTION_ARG_FILENAME, &like_file,
      "Skeleton JSON of the saved tree: name records by leaf path (default: the paths of "
      "A's or B's manifest, when there is one)", "SKELETON.json" },
    { "spec", 's', 0, G_OPTION_ARG_STRING, &spec_text,
      "With --like: the spec the files were saved with", "SPEC" },
    { "brief", 'b', 0, G_OPTION_ARG_NONE, &options.brief,
      "Print nothing; only the exit status tells", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &options.verbose,
      "Print a line for equal records too", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &cli_quiet, "No progress bar", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("A B");
  g_option_context_set_summary (context,
    "Compares A and B record by record: dtype, shape and values.  Each record\n"
    "that differs gets a line with the number of differing elements and the\n"
    "largest absolute and relative difference; records are read as they\n"
    "describe themselves, so npy and compressed files compare by value.\n"
    "Values of different dtypes are compared in their common dtype (float32\n"
    "and float16 in float32).  Elements are equal when |a - b| <= atol +\n"
    "rtol * |b| (NaN equals NaN).  A record whose dtype changed differs,\n"
    "unless --values asks about values only.  Records are named by leaf path\n"
    "when a manifest or --like gives them.\n\n"
    "Exit status: 0 equal, 1 different, 2 error.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv, 2))
    return CLI_EXIT_ERROR;
  options.like_file = like_file;
  options.spec_text = spec_text;

  GError *error = NULL;
  if (!parse_tolerance ("--atol", atol_text, &options.atol, &error) ||
      !parse_tolerance ("--rtol", rtol_text, &options.rtol, &error))
    return cli_fail (error);
  if (spec_text != NULL && like_file == NULL)
    {
      g_set_error_literal (&error, LF_ERROR, LF_ERROR_SPEC,
                           "--spec needs --like (records describe their own codecs)");
      return cli_fail (error);
    }

  g_autoptr (CliReader) a = cli_reader_open (argv[1], &error);
  if (a == NULL)
    return cli_fail (error);
  g_autoptr (CliReader) b = cli_reader_open (argv[2], &error);
  if (b == NULL)
    return cli_fail (error);
  g_autoptr (GPtrArray) paths_a = record_paths (a, argv[1], &options, &error);
  if (error != NULL)
    return cli_fail (error);
  g_autoptr (GPtrArray) paths_b = paths_a == NULL ? record_paths (b, argv[2], &options, &error)
                                                  : NULL;
  if (error != NULL)
    return cli_fail (error);

  g_autoptr (JsonBuilder) json = options.json ? json_builder_new () : NULL;
  if (json != NULL)
    {
      json_builder_begin_object (json);
      add_header_json (json, cli_reader_get_filename (a), cli_reader_get_filename (b), &options);
    }
  Totals totals = { 0 };
  if (!diff_records (a, b, &options, paths_a, paths_b, json, &totals, &error))
    return cli_fail (error);

  gboolean different = totals.n_different > 0 || totals.counts_differ;
  if (json != NULL)
    {
      add_totals_json (json, &totals, different);
      json_builder_end_object (json);
      g_autoptr (JsonNode) root = json_builder_get_root (json);
      if (!options.brief)
        cli_print_json (root);
    }
  else if (different && !options.brief)
    {
      g_autofree char *dtype_only =
        totals.n_dtype_only == 0 ? g_strdup ("")
        : g_strdup_printf (" (%u only in dtype: --values compares values alone)",
                           totals.n_dtype_only);
      printf ("%s and %s differ: %u of %u compared records differ%s%s\n",
              cli_reader_get_filename (a), cli_reader_get_filename (b), totals.n_different,
              totals.n_records, dtype_only,
              totals.counts_differ ? ", and the numbers of records differ" : "");
    }
  return different ? CLI_EXIT_DIFFERENT : CLI_EXIT_OK;
}
