/* Opening a file for random access (lf_file_open) from the command line's
 * --like and --spec, and what show and diff need from its index. */
#include "config.h"

#include <string.h>

#include "cli-private.h"

/* The like of a file with neither --like nor a manifest (written by numpy
 * or Equinox): its records as the leaves of a list, [0], [1], ..., each as
 * its codec describes it.  The records' headers are read; their data is
 * not.  With `damage`, a record that cannot be described ends the list
 * there, and its error goes to `*damage`; `*end` (nullable) is then the
 * offset where the list ends, the reader's size otherwise.  The reader is
 * rewound. */
static LfNode *
records_like (CliReader *reader, const char *spec_text, GError **damage, guint64 *end,
              GError **error)
{
  if (spec_text != NULL)
    {
      g_autoptr (LfCodec) codec = cli_codec_for_reading ("--spec", spec_text, error);
      if (codec == NULL)
        return NULL;
      cli_reader_set_codec (reader, codec);
    }
  LfNode *like = damage == NULL ? cli_records_skeleton (reader, "indexing", error)
                                : cli_records_skeleton_prefix (reader, "indexing", damage);
  if (end != NULL)
    *end = damage != NULL && *damage != NULL ? cli_reader_get_offset (reader)
                                             : cli_reader_get_size (reader);
  cli_reader_rewind (reader);
  return like;
}

static gboolean
has_manifest (const char *filename)
{
  g_autofree char *manifest = lf_manifest_get_path (filename);
  return g_file_test (manifest, G_FILE_TEST_EXISTS);
}

static gboolean
load_options (const char *like_file, const char *spec_text, LfNode **like, LfSpec **spec,
              GError **error)
{
  if (like_file != NULL && (*like = lf_tree_from_json_file (like_file, error)) == NULL)
    {
      g_prefix_error (error, "--like: ");
      return FALSE;
    }
  if (spec_text != NULL && (*spec = cli_spec_load (spec_text, NULL, error)) == NULL)
    {
      g_prefix_error (error, "--spec: ");
      return FALSE;
    }
  return TRUE;
}

LfFile *
cli_file_open_reader (CliReader *reader, GDestroyNotify destroy, const char *like_file,
                      const char *spec_text, GError **damage, GError **error)
{
  g_autoptr (LfNode) like = NULL;
  g_autoptr (LfSpec) spec = NULL;
  g_autoptr (GError) records_damage = NULL;
  /* A damaged file is indexed up to its first broken record: the file the
   * index sees ends there. */
  guint64 size = cli_reader_get_size (reader);
  if (!load_options (like_file, spec_text, &like, &spec, error)
      || (like == NULL
          && (like = records_like (reader, spec_text, damage != NULL ? &records_damage : NULL,
                                   &size, error)) == NULL))
    {
      if (destroy != NULL)
        destroy (reader);
      return NULL;
    }
  LfFile *file = lf_file_new_for_reader (cli_reader_get_filename (reader), size,
                                         cli_reader_read_at, reader, destroy, like, spec,
                                         NULL, NULL, error);
  if (file != NULL && damage != NULL)
    *damage = g_steal_pointer (&records_damage);
  return file;
}

LfFile *
cli_file_open (const char *filename, const char *like_file, const char *spec_text,
               GError **damage, GError **error)
{
  /* stdin has no manifest and cannot be read twice: it is read whole
   * once and indexed from memory. */
  if (cli_is_stdio (filename))
    {
      CliReader *reader = cli_reader_open (filename, error);
      if (reader == NULL)
        return NULL;
      return cli_file_open_reader (reader, (GDestroyNotify) cli_reader_free, like_file,
                                   spec_text, damage, error);
    }
  g_autoptr (LfNode) like = NULL;
  g_autoptr (LfSpec) spec = NULL;
  g_autoptr (GError) records_damage = NULL;
  if (!load_options (like_file, spec_text, &like, &spec, error))
    return NULL;
  if (like == NULL && !has_manifest (filename))
    {
      g_autoptr (CliReader) reader = cli_reader_open (filename, error);
      if (reader == NULL
          || (like = records_like (reader, spec_text,
                                   damage != NULL ? &records_damage : NULL, NULL,
                                   error)) == NULL)
        return NULL;
    }
  LfFile *file = lf_file_open (filename, like, spec, damage != NULL ? LF_FILE_PARTIAL : 0,
                               error);
  /* Without a skeleton, the record that stopped the walk says more than the
   * bytes after the last record it found. */
  if (file != NULL && damage != NULL)
    *damage = records_damage != NULL ? g_steal_pointer (&records_damage)
              : lf_file_get_index_error (file) != NULL
              ? g_error_copy (lf_file_get_index_error (file)) : NULL;
  return file;
}

/* Levenshtein distance, for suggestions. */
static gsize
edit_distance (const char *a, const char *b)
{
  gsize n = strlen (b);
  g_autofree gsize *row = g_new (gsize, n + 1);
  for (gsize j = 0; j <= n; j++)
    row[j] = j;
  for (const char *p = a; *p != '\0'; p++)
    {
      gsize diagonal = row[0];
      row[0]++;
      for (gsize j = 1; j <= n; j++)
        {
          gsize above = row[j];
          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diagonal + (*p != b[j - 1]));
          diagonal = above;
        }
    }
  return row[n];
}

typedef struct {
  const char *path;
  gsize distance;
} Candidate;

static gint
compare_candidates (gconstpointer a, gconstpointer b)
{
  const Candidate *x = a, *y = b;
  if (x->distance != y->distance)
    return x->distance < y->distance ? -1 : 1;
  return strcmp (x->path, y->path);
}

char *
cli_file_suggest_paths (LfFile *file, const char *path)
{
  g_autoptr (GArray) candidates = g_array_new (FALSE, FALSE, sizeof (Candidate));
  gsize limit = MAX (2, strlen (path) / 3);
  for (gsize i = 0; i < lf_file_get_n_entries (file); i++)
    {
      const char *entry = lf_file_get_entry (file, i)->path;
      Candidate c = { entry, edit_distance (path, entry) };
      /* A part of a path ("weight") matches every path that holds it. */
      if (*path != '\0' && strstr (entry, path) != NULL)
        c.distance = MIN (c.distance, 1);
      if (c.distance <= limit)
        g_array_append_val (candidates, c);
    }
  if (candidates->len == 0)
    return NULL;
  g_array_sort (candidates, compare_candidates);
  GString *text = g_string_new (NULL);
  for (guint i = 0; i < MIN (candidates->len, 8); i++)
    g_string_append_printf (text, "%s  %s", i > 0 ? "\n" : "",
                            g_array_index (candidates, Candidate, i).path);
  return g_string_free (text, FALSE);
}
