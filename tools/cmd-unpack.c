/* leafio unpack: each record of a file as its own .npy file.
 *
 * Records that are .npy files already (an npy header and the array's own
 * bytes, cli_record_is_npy_file) are copied byte for byte; others are
 * decoded by their codec and written as numpy would.
 *
 * With --like, files are named after leaf paths.  The mapping is
 * filesystem-safe and one-to-one: each key of the path becomes one
 * component (an index as its decimal digits, a dict key or field name with
 * every byte outside [A-Za-z0-9_-] written as %XX), components are joined
 * with '.', and ".npy" is appended; the root leaf of a tree that is a single
 * leaf is "root.npy".  `.layers[0].weight` -> `layers.0.weight.npy`,
 * `['a b']` -> `a%20b.npy`. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

#include "cli-private.h"

typedef struct {
  CliReader *reader;
  const char *dir;
  guint64 written;
} Unpack;

static void
append_escaped (GString *out, const char *name)
{
  for (const guchar *p = (const guchar *) name; *p != '\0'; p++)
    {
      if (g_ascii_isalnum (*p) || *p == '_' || *p == '-')
        g_string_append_c (out, (char) *p);
      else
        g_string_append_printf (out, "%%%02X", *p);
    }
}

/* The file name for a leaf path (see the comment at the top). */
static char *
file_name_for_path (const LfPath *path)
{
  gsize n = lf_path_get_length (path);
  if (n == 0)
    return g_strdup ("root.npy");

  g_autoptr (GString) out = g_string_new (NULL);
  for (gsize i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (out, '.');
      if (lf_path_get_kind (path, i) == LF_KEY_INDEX)
        g_string_append_printf (out, "%" G_GINT64_FORMAT, lf_path_get_index (path, i));
      else
        append_escaped (out, lf_path_get_name (path, i));
    }
  g_string_append (out, ".npy");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* The bytes of a .npy file holding the record `info` describes. */
static GBytes *
npy_bytes_for_record (CliReader *reader, const CliRecordInfo *info, GError **error)
{
  if (cli_record_is_npy_file (info))
    {
      GBytes *slice = cli_reader_get_record_bytes (reader, info);
      cli_mapped_input_touch (slice);
      return slice;
    }

  g_autoptr (LfNode) leaf = cli_reader_decode (reader, info, error);
  if (leaf == NULL)
    return NULL;
  g_autoptr (LfStream) memory = lf_stream_new_memory ();
  if (!lf_npy_write (memory, leaf, 0, error))
    {
      cli_reader_prefix_error (reader, info->index, info->offset, error);
      return NULL;
    }
  return lf_stream_steal_bytes (memory);
}

/* The file the record `info` describes goes to: named after its leaf path
 * with a skeleton, after its index without one. */
static char *
file_path_for_record (const Unpack *self, const LfPath *path, const CliRecordInfo *info)
{
  g_autofree char *file_name = path != NULL ? file_name_for_path (path)
                                            : g_strdup_printf ("%06u.npy", info->index);
  return g_build_filename (self->dir, file_name, NULL);
}

/* The first pass: a file name no file system takes (a long leaf path) or,
 * without --force, an output file that exists already stops the command
 * before it writes anything. */
static gboolean
check_record_output (const LfPath *path, const char *path_text, LfNode *leaf,
                     const CliRecordInfo *info, gpointer user_data, GError **error)
{
  if (info == NULL)
    return TRUE;
  g_autofree char *file_path = file_path_for_record (user_data, path, info);
  g_autofree char *file_name = g_path_get_basename (file_path);
  if (strlen (file_name) > NAME_MAX)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO,
                   "%s: the file name for leaf %s is %zu bytes long, more than the %d a "
                   "file name may have", ((const Unpack *) user_data)->dir, path_text != NULL ? path_text : "",
                   strlen (file_name), NAME_MAX);
      return FALSE;
    }
  return cli_force || cli_check_overwrite (file_path, error);
}

static gboolean
unpack_record (const LfPath *path, const char *path_text, LfNode *leaf,
               const CliRecordInfo *info, gpointer user_data, GError **error)
{
  Unpack *self = user_data;
  if (info == NULL)
    return TRUE; /* a leaf without a record: nothing to write */

  g_autoptr (GBytes) bytes = npy_bytes_for_record (self->reader, info, error);
  if (bytes == NULL)
    return FALSE;
  g_autofree char *file_path = file_path_for_record (self, path, info);
  if (!cli_write_file_atomic (file_path, bytes, error))
    return FALSE;
  self->written += g_bytes_get_size (bytes);
  return TRUE;
}

int
cli_cmd_unpack (int argc, char **argv)
{
  g_auto (CliSkeleton) skeleton = { 0 };
  const GOptionEntry entries[] = {
    CLI_OPTION_FORCE,
    CLI_OPTION_QUIET,
    CLI_OPTION_HUMAN,
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("FILE DIR");
  g_option_context_set_summary (context,
    "Writes every record of FILE as DIR/000000.npy, DIR/000001.npy, ... in\n"
    "order (DIR is created if needed).  npy records are copied byte for byte;\n"
    "other records are decoded by their codec and written as np.save would.\n"
    "Without --like, a record may decode to at most --max-record-size bytes.\n\n"
    "With --like, files are named after leaf paths instead: each key becomes\n"
    "a component (an index as digits, a name with bytes outside\n"
    "[A-Za-z0-9_-] as %XX), joined by '.', plus \".npy\":\n"
    "  .layers[0].weight -> layers.0.weight.npy    ['a b'] -> a%20b.npy\n"
    "and a tree that is a single leaf gives root.npy.  Leaves without a record\n"
    "get no file.  Each file is written atomically.  Without --force, a file\n"
    "that exists already stops the command before it writes anything.\n"
    "FILE '-' reads stdin.  When done, one line on stderr gives the sizes,\n"
    "their ratio, the time and the rate (--quiet: none).");
  cli_skeleton_add_options (&skeleton, context,
                            "Name the files after the leaf paths of this skeleton");
  g_option_context_add_main_entries (context, entries, NULL);
  cli_limits_add_options (context);
  if (!cli_parse_options (context, &argc, &argv, 2))
    return CLI_EXIT_ERROR;
  const char *dir = argv[2];

  GError *error = NULL;
  gint64 start_us = g_get_monotonic_time ();
  g_autoptr (CliReader) reader = cli_reader_open (argv[1], &error);
  if (reader == NULL || !cli_skeleton_load (&skeleton, reader, &error))
    return cli_fail (error);
  Unpack self = { .reader = reader, .dir = dir };
  if (!cli_reader_walk (reader, &skeleton, "checking", check_record_output, NULL, &self,
                        &error))
    return cli_fail (error);
  cli_reader_rewind (reader);
  if (g_mkdir_with_parents (dir, 0777) != 0)
    {
      int errsv = errno;
      return cli_fail (g_error_new (LF_ERROR, LF_ERROR_IO, "%s: cannot create the directory: %s",
                                    dir, g_strerror (errsv)));
    }

  if (!cli_reader_walk (reader, &skeleton, "unpacking", unpack_record, NULL, &self, &error))
    return cli_fail (error);
  cli_print_result (cli_reader_get_filename (reader), cli_reader_get_size (reader), dir,
                    self.written, start_us);
  return CLI_EXIT_OK;
}
