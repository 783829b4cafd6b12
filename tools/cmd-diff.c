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

/* Compares two leaves of the same shape element by element, as numbers
 * (lf_element_equal: int64 values beyond 2^53 are told apart). */
static void
compare_values (LfNode *a, LfDType dtype_a, LfNode *b, LfDType dtype_b, gsize n,
                const DiffOptions *options, Comparison *result)
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

/* Compares one pair of records; prints a line when they differ (or always
 * with --verbose) and returns whether they are equal. */
static gboolean
compare_records (const CliRecordInfo *ia, LfNode *a, const CliRecordInfo *ib, LfNode *b,
                 const DiffOptions *options)
{
  g_autofree char *type_a = cli_leaf_describe (a);
  g_autofree char *type_b = cli_leaf_describe (b);
  g_autofree char *where =
    ia->offset == ib->offset
      ? g_strdup_printf ("record %u (offset %" G_GUINT64_FORMAT ")", ia->index, ia->offset)
      : g_strdup_printf ("record %u (offsets %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT ")",
                         ia->index, ia->offset, ib->offset);

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
      if (!options->brief)
        printf ("%s: %s vs %s\n", where, type_a, type_b);
      return FALSE;
    }
  lf_shape_n_elements (ndim_a, shape_a, &n);

  gsize n_bytes = n * lf_dtype_size (dtype_a);
  if (dtype_a == dtype_b && (n_bytes == 0 || memcmp (leaf_data (a), leaf_data (b), n_bytes) == 0))
    {
      if (options->verbose && !options->brief)
        printf ("%s: %s: equal\n", where, type_a);
      return TRUE;
    }

  /* Values are compared across dtypes too (float32 against its float16
   * copy, say), but a dtype change always counts as a difference. */
  Comparison c;
  compare_values (a, dtype_a, b, dtype_b, n, options, &c);
  gboolean equal = c.n_different == 0 && dtype_a == dtype_b;
  if (options->brief || (equal && !options->verbose))
    return equal;
  g_autofree char *types = dtype_a == dtype_b ? g_strdup (type_a)
                                              : g_strdup_printf ("%s vs %s", type_a, type_b);
  if (c.n_different == 0)
    printf ("%s: %s: %s, max abs diff %.6g, max rel diff %.6g\n", where, types,
            c.max_abs == 0 ? "equal values" : "equal within tolerance", c.max_abs, c.max_rel);
  else
    printf ("%s: %s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " elements differ, "
            "max abs diff %.6g, max rel diff %.6g\n", where, types, c.n_different,
            c.n_elements, c.max_abs, c.max_rel);
  return equal;
}

/* When one file ends first: goes through the other's extra records (so
 * garbage there is an error) and says which they are. */
static gboolean
report_extra_records (CliReader *a, CliReader *b, const DiffOptions *options, GError **error)
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
  if (!options->brief)
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

int
cli_cmd_diff (int argc, char **argv)
{
  g_autofree char *atol_text = NULL, *rtol_text = NULL;
  DiffOptions options = { 0 };
  const GOptionEntry entries[] = {
    { "atol", 0, 0, G_OPTION_ARG_STRING, &atol_text,
      "Absolute tolerance (default 0)", "X" },
    { "rtol", 0, 0, G_OPTION_ARG_STRING, &rtol_text,
      "Relative tolerance (default 0)", "X" },
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
    "Elements are equal when |a - b| <= atol + rtol * |b| (NaN equals NaN).\n\n"
    "Exit status: 0 equal, 1 different, 2 error.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv, 2))
    return CLI_EXIT_ERROR;

  GError *error = NULL;
  if (!parse_tolerance ("--atol", atol_text, &options.atol, &error) ||
      !parse_tolerance ("--rtol", rtol_text, &options.rtol, &error))
    return cli_fail (error);

  g_autoptr (CliReader) a = cli_reader_open (argv[1], &error);
  if (a == NULL)
    return cli_fail (error);
  g_autoptr (CliReader) b = cli_reader_open (argv[2], &error);
  if (b == NULL)
    return cli_fail (error);

  g_autoptr (CliProgress) progress =
    cli_progress_new ("comparing", cli_reader_get_size (a) + cli_reader_get_size (b));
  guint n_records = 0, n_different = 0;
  gboolean counts_differ = FALSE;
  while (!cli_reader_at_end (a) || !cli_reader_at_end (b))
    {
      if (cli_reader_at_end (a) || cli_reader_at_end (b))
        {
          if (!report_extra_records (a, b, &options, &error))
            return cli_fail (error);
          counts_differ = TRUE;
          break;
        }
      CliRecordInfo ia, ib;
      g_autoptr (LfNode) leaf_a = cli_reader_next_leaf (a, &ia, &error);
      if (leaf_a == NULL)
        return cli_fail (error);
      g_autoptr (LfNode) leaf_b = cli_reader_next_leaf (b, &ib, &error);
      if (leaf_b == NULL)
        return cli_fail (error);
      n_records++;
      if (!compare_records (&ia, leaf_a, &ib, leaf_b, &options))
        n_different++;
      cli_progress_update (progress, cli_reader_get_offset (a) + cli_reader_get_offset (b));
    }
  g_clear_pointer (&progress, cli_progress_free);

  gboolean different = n_different > 0 || counts_differ;
  if (different && !options.brief)
    printf ("%s and %s differ: %u of %u compared records differ%s\n",
            cli_reader_get_filename (a), cli_reader_get_filename (b), n_different, n_records,
            counts_differ ? ", and the numbers of records differ" : "");
  return different ? CLI_EXIT_DIFFERENT : CLI_EXIT_OK;
}
