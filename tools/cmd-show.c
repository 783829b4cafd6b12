/* leafio show: one leaf's values, as numpy prints them, or statistics of
 * them.  The file is opened for random access (lf_file_open), so only the
 * leaf's own record is read, however big the file. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli-private.h"

/* ---- --stats ----------------------------------------------------------------- */

typedef struct {
  gsize n, n_nan, n_inf, n_finite;
  LfElement min, max;          /* of the finite values, as the dtype holds them */
  double mean_re, mean_im;     /* running mean of the finite values */
  double m2;                   /* running sum of squared distances (Welford) */
} Stats;

static gboolean
element_less (const LfElement *a, const LfElement *b)
{
  switch (a->kind)
    {
    case LF_ELEMENT_SIGNED:
      return a->i < b->i;
    case LF_ELEMENT_UNSIGNED:
      return a->u < b->u;
    default:
      return a->re < b->re;
    }
}

static void
stats_add (Stats *stats, const LfElement *e)
{
  stats->n++;
  if (lf_element_is_nan (e))
    {
      stats->n_nan++;
      return;
    }
  if ((e->kind == LF_ELEMENT_FLOAT || e->kind == LF_ELEMENT_COMPLEX)
      && (isinf (e->re) || isinf (e->im)))
    {
      stats->n_inf++;
      return;
    }
  if (stats->n_finite == 0 || element_less (e, &stats->min))
    stats->min = *e;
  if (stats->n_finite == 0 || element_less (&stats->max, e))
    stats->max = *e;
  stats->n_finite++;
  double re = lf_element_to_double (e), im = e->kind == LF_ELEMENT_COMPLEX ? e->im : 0;
  double d_re = re - stats->mean_re, d_im = im - stats->mean_im;
  stats->mean_re += d_re / (double) stats->n_finite;
  stats->mean_im += d_im / (double) stats->n_finite;
  stats->m2 += d_re * (re - stats->mean_re) + d_im * (im - stats->mean_im);
}

static void
print_number (const char *name, double re, double im, gboolean complex)
{
  g_autofree char *a = cli_format_double (re);
  g_autofree char *b = complex ? cli_format_double (im) : NULL;
  if (complex)
    printf ("%-9s %s%s%sj\n", name, a, signbit (im) ? "" : "+", b);
  else
    printf ("%-9s %s\n", name, a);
}

static void
print_stats (const char *path, const LfFileEntry *entry, LfNode *leaf)
{
  LfDType dtype;
  guint ndim;
  const gsize *shape;
  cli_leaf_get_type (leaf, &dtype, &ndim, &shape);
  gconstpointer data = lf_node_get_kind (leaf) == LF_NODE_SCALAR ? lf_scalar_get_value (leaf)
                                                                 : lf_array_get_data (leaf);
  gsize n = 1;
  lf_shape_n_elements (ndim, shape, &n);
  Stats stats = { 0 };
  for (gsize i = 0; i < n; i++)
    {
      LfElement e;
      lf_element_read (dtype, (const guint8 *) data + i * lf_dtype_size (dtype), &e);
      stats_add (&stats, &e);
    }
  g_autofree char *shape_text = lf_shape_to_string (ndim, shape);
  printf ("%-9s %s\n%-9s %s\n%-9s %s\n%-9s %s\n%-9s %" G_GSIZE_FORMAT "\n",
          "path", *path ? path : "(root)", "dtype", lf_dtype_name (dtype), "shape",
          shape_text, "codec", entry != NULL ? entry->codec : "-", "elements", n);
  gboolean complex = lf_dtype_is_complex (dtype);
  if (stats.n_finite == 0)
    printf ("%-9s -\n%-9s -\n%-9s -\n%-9s -\n", "min", "max", "mean", "std");
  else
    {
      if (complex)
        printf ("%-9s -\n%-9s -\n", "min", "max");  /* complex numbers have no order */
      else
        {
          g_autofree char *min = cli_format_element (dtype, &stats.min);
          g_autofree char *max = cli_format_element (dtype, &stats.max);
          printf ("%-9s %s\n%-9s %s\n", "min", min, "max", max);
        }
      print_number ("mean", stats.mean_re, stats.mean_im, complex);
      print_number ("std", sqrt (stats.m2 / (double) stats.n_finite), 0, FALSE);
    }
  printf ("%-9s %" G_GSIZE_FORMAT "\n%-9s %" G_GSIZE_FORMAT "\n", "nan", stats.n_nan, "inf",
          stats.n_inf);
}

/* ---- the leaf ---------------------------------------------------------------- */

static int
fail_not_found (LfFile *file, const char *path, GError *error)
{
  g_autofree char *close = cli_file_suggest_paths (file, path);
  int status = cli_fail (error);
  if (close != NULL)
    fprintf (stderr, "Close matches:\n%s\n", close);
  else
    fprintf (stderr, "`leafio inspect %s` lists the leaves\n", lf_file_get_name (file));
  return status;
}

/* A file read without --like or a manifest names its leaves by record. */
static int
fail_not_found_by_record (LfFile *file, GError *error)
{
  gsize n = lf_file_get_n_entries (file);
  int status = cli_fail (error);
  if (n == 0)
    fprintf (stderr, "%s holds no records\n", lf_file_get_name (file));
  else
    fprintf (stderr, "Without a manifest beside it or --like, the leaves of %s are named by "
             "record: [0] to [%" G_GSIZE_FORMAT "]\n", lf_file_get_name (file), n - 1);
  return status;
}

/* A file read by record whose records stop being readable: the leaf asked
 * for may lie past the broken record, which is what is reported. */
static int
fail_past_damage (LfFile *file, GError *damage)
{
  gsize n = lf_file_get_n_entries (file);
  int status = cli_fail (damage);
  if (n > 0)
    fprintf (stderr, "The records before it, [0] to [%" G_GSIZE_FORMAT "], can be read\n",
             n - 1);
  return status;
}

static int
fail_not_a_leaf (LfFile *file, const char *path, GError *error, gboolean by_record)
{
  return by_record ? fail_not_found_by_record (file, error)
                   : fail_not_found (file, path, error);
}

/* `damage`: why the records after some point of the file cannot be read
 * (the leaf's own are intact), given as a warning. */
static int
show_leaf (LfFile *file, const char *path, LfNode *leaf, gboolean stats, gboolean by_record,
           const GError *damage)
{
  const LfFileEntry *entry = lf_file_lookup (file, path);
  LfNodeKind kind = lf_node_get_kind (leaf);
  if (kind != LF_NODE_ARRAY && kind != LF_NODE_SCALAR)
    {
      g_autoptr (GError) error = NULL;
      if (lf_node_is_container (leaf))
        g_set_error (&error, LF_ERROR, LF_ERROR_NOT_FOUND,
                     "%s: '%s' is a subtree of %" G_GSIZE_FORMAT " nodes, not a leaf: name "
                     "one of its leaves", lf_file_get_name (file), path,
                     lf_node_get_n_children (leaf));
      else
        g_set_error (&error, LF_ERROR, LF_ERROR_NOT_FOUND,
                     "%s: '%s' is a %s leaf: the file holds no values for it",
                     lf_file_get_name (file), path, lf_node_kind_name (kind));
      return fail_not_a_leaf (file, path, g_steal_pointer (&error), by_record);
    }
  if (damage != NULL)
    fprintf (stderr, "leafio: warning: the file is damaged: %s\n", damage->message);
  if (stats)
    {
      print_stats (path, entry, leaf);
      return CLI_EXIT_OK;
    }
  LfDType dtype;
  guint ndim;
  const gsize *shape;
  cli_leaf_get_type (leaf, &dtype, &ndim, &shape);
  gconstpointer data = kind == LF_NODE_SCALAR ? lf_scalar_get_value (leaf)
                                              : lf_array_get_data (leaf);
  g_autofree char *text = cli_format_values (dtype, ndim, shape, data);
  printf ("%s\n", text);
  return CLI_EXIT_OK;
}

int
cli_cmd_show (int argc, char **argv)
{
  g_autofree char *like_file = NULL, *spec_text = NULL;
  gboolean stats = FALSE;
  const GOptionEntry entries[] = {
    { "stats", 0, 0, G_OPTION_ARG_NONE, &stats,
      "Print dtype, shape, min, max, mean, std and NaN/Inf counts instead of the values",
      NULL },
    { "like", 'l', 0, G_OPTION_ARG_FILENAME, &like_file,
      "Skeleton JSON of the saved tree (tools/eqx_skeleton.py or `leafio skeleton`); "
      "default: the manifest beside FILE", "SKELETON.json" },
    { "spec", 's', 0, G_OPTION_ARG_STRING, &spec_text,
      "The spec the file was saved with (codec reference, JSON or @FILE); default: the "
      "manifest's codecs, or npy", "SPEC" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("FILE PATH");
  g_option_context_set_summary (context,
    "Prints the values of the leaf at PATH (keystr text: \".layers[0].weight\",\n"
    "\"['a']\", \"\" for a file of one leaf) as numpy prints an array: arrays of\n"
    "over 1000 elements show 3 items at each edge around \"...\".\n\n"
    "Only the leaf's record is read: its place comes from the manifest beside\n"
    "FILE or, for files without one (written by numpy or Equinox), from --like.\n"
    "Without either, the file's records are the leaves of a list, named [0],\n"
    "[1], ... as `leafio inspect` numbers them.\n"
    "A PATH that is not in the file gets a list of close matches.\n\n"
    "A damaged file (cut short, overwritten) still shows the leaves whose\n"
    "records come before the damage, with a warning that names the broken\n"
    "record; a leaf at or past it is an error naming that record.\n\n"
    "Exit status: 0 success, 2 error.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv, 2))
    return CLI_EXIT_ERROR;

  GError *error = NULL;
  /* A damaged file still shows the leaves whose records are intact; only
   * reading a broken record (or one past it) fails. */
  GError *damage = NULL;
  g_autoptr (LfFile) file = cli_file_open (argv[1], like_file, spec_text, &damage, &error);
  if (file == NULL)
    return cli_fail (error);
  const char *path = argv[2];
  gboolean by_record = like_file == NULL && !lf_file_is_indexed_from_manifest (file);
  /* "" names the leaf of a file of one leaf, whatever its records say. */
  if (by_record && *path == '\0' && lf_file_get_n_entries (file) == 1 && damage == NULL)
    path = lf_file_get_entry (file, 0)->path;
  g_autoptr (LfNode) leaf = lf_file_read (file, path, &error);
  if (leaf == NULL && by_record && damage != NULL
      && g_error_matches (error, LF_ERROR, LF_ERROR_NOT_FOUND))
    {
      g_error_free (error);
      return fail_past_damage (file, damage);
    }
  int status;
  if (leaf == NULL)
    status = g_error_matches (error, LF_ERROR, LF_ERROR_NOT_FOUND)
             ? fail_not_a_leaf (file, path, error, by_record) : cli_fail (error);
  else
    status = show_leaf (file, path, leaf, stats, by_record, damage);
  g_clear_error (&damage);
  return status;
}
