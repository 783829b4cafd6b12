/* leafio verify: is a file the one its manifest describes, or (--like) does
 * it hold exactly the records of a skeleton?  Exit 0 when it is, 1 when it
 * is not, 2 when the question cannot be answered (like `zstd -t`). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "cli-private.h"

typedef struct {
  CliSkeleton *skeleton;
  gboolean quiet;
} Verify;

/* Whether `error` says the file is not what it should be (exit 1) rather
 * than that it could not be checked (exit 2). */
static gboolean
is_verdict (const GError *error)
{
  if (error->domain != LF_ERROR)
    return FALSE;
  switch (error->code)
    {
    case LF_ERROR_TRUNCATED:
    case LF_ERROR_CORRUPT:
    case LF_ERROR_MISMATCH:
    case LF_ERROR_TRAILING_DATA:
    case LF_ERROR_CHECKSUM:
    case LF_ERROR_TOO_LARGE:
    case LF_ERROR_PARSE:  /* a malformed manifest, or a record's header */
      return TRUE;
    default:
      return FALSE;
    }
}

/* The records the manifest lists must tile the file: the first at 0, each
 * where the one before ends, the last ending at the end of the file. */
static gboolean
check_records_tile (LfFile *file, guint64 file_size, GError **error)
{
  guint64 end = 0;
  guint index = 0;
  for (gsize i = 0; i < lf_file_get_n_entries (file); i++)
    {
      const LfFileEntry *entry = lf_file_get_entry (file, i);
      if (!entry->has_record)
        continue;
      if (entry->offset != end)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                       "%s: record %u (%s) is at offset %" G_GUINT64_FORMAT
                       ", expected %" G_GUINT64_FORMAT " (where the record before it ends)",
                       lf_file_get_name (file), index, entry->path, entry->offset, end);
          return FALSE;
        }
      end = entry->offset + entry->size;
      index++;
    }
  if (end != file_size)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRAILING_DATA,
                   "%s: the records end at offset %" G_GUINT64_FORMAT ", the file is %"
                   G_GUINT64_FORMAT " bytes", lf_file_get_name (file), end, file_size);
      return FALSE;
    }
  return TRUE;
}

/* Against the manifest: the file's size, every record's bounds and
 * checksum, leaves that agree with the manifest's skeleton, and records
 * that tile the file. */
static gboolean
verify_manifest (const char *filename, guint *n_records, GError **error)
{
  if (cli_is_stdio (filename))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO,
                   "%s: no manifest to check against; give --like SKELETON.json",
                   CLI_STDIN_NAME);
      return FALSE;
    }
  /* The file's size and every record's bounds and checksum first: a file
   * that changed since its manifest was written fails here, by record. */
  if (!lf_manifest_verify (filename, NULL, NULL, NULL, error))
    return FALSE;
  /* The manifest's leaves must agree with its skeleton to index the file
   * (lf_file_open says why in a warning when they do not). */
  g_autoptr (LfFile) file = lf_file_open (filename, NULL, NULL, LF_FILE_DEFAULT, error);
  if (file == NULL)
    return FALSE;
  if (!lf_file_is_indexed_from_manifest (file))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "%s: the manifest beside it does not describe its records", filename);
      return FALSE;
    }
  GStatBuf st;
  g_autofree char *target = lf_path_with_eqx_suffix (filename);
  if (g_stat (target, &st) != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: %s", target, g_strerror (errno));
      return FALSE;
    }
  *n_records = 0;
  for (gsize i = 0; i < lf_file_get_n_entries (file); i++)
    *n_records += lf_file_get_entry (file, i)->has_record;
  return check_records_tile (file, (guint64) st.st_size, error);
}

static gboolean
count_record (const LfPath *path, const char *path_text, LfNode *leaf,
              const CliRecordInfo *info, gpointer user_data, GError **error)
{
  (void) path, (void) path_text, (void) leaf, (void) error;
  *(guint *) user_data += info != NULL;
  return TRUE;
}

/* Against a skeleton: every record describes itself as its leaf, and the
 * file ends right after the last. */
static gboolean
verify_structure (Verify *self, const char *filename, guint *n_records, GError **error)
{
  g_autoptr (CliReader) reader = cli_reader_open (filename, error);
  if (reader == NULL)
    return FALSE;
  *n_records = 0;
  return cli_reader_walk (reader, self->skeleton, "verifying", count_record, NULL, n_records,
                          error);
}

static int
verify_file (Verify *self, const char *filename)
{
  GError *error = NULL;
  guint n_records = 0;
  gboolean ok = self->skeleton->like != NULL
                ? verify_structure (self, filename, &n_records, &error)
                : verify_manifest (filename, &n_records, &error);
  if (!ok)
    {
      int status = is_verdict (error) ? CLI_EXIT_DIFFERENT : CLI_EXIT_ERROR;
      cli_fail (error);
      return status;
    }
  if (!self->quiet)
    printf ("%s: OK (%u records, checked against %s)\n",
            cli_is_stdio (filename) ? CLI_STDIN_NAME : filename, n_records,
            self->skeleton->like != NULL ? self->skeleton->like_file : "its manifest");
  return CLI_EXIT_OK;
}

int
cli_cmd_verify (int argc, char **argv)
{
  g_auto (CliSkeleton) skeleton = { 0 };
  Verify self = { &skeleton, FALSE };
  const GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &self.quiet,
      "Print nothing for files that verify (and no progress bar)", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("FILE…");
  g_option_context_set_summary (context,
    "Checks each FILE against the manifest beside it (FILE.eqx.json): the\n"
    "file's size, each record's offset, size and checksum, each leaf's path,\n"
    "kind, dtype and shape, and that the records follow one another to the\n"
    "end of the file.  With --like, checks the structure instead, for files\n"
    "without a manifest: each record describes itself as its skeleton leaf\n"
    "(dtype, shape, codec) and the file ends right after the last record.\n"
    "Prints \"FILE: OK\", or what is wrong, naming the record, path and offset.\n\n"
    "Exit status: 0 every file verifies, 1 a file does not, 2 error (no\n"
    "manifest, unreadable file, bad usage).");
  g_option_context_add_main_entries (context, entries, NULL);
  cli_skeleton_add_options (&skeleton, context,
                            "Skeleton JSON of the tree the file should hold: check the "
                            "structure rather than the manifest");
  if (!cli_parse_options (context, &argc, &argv, -1))
    return CLI_EXIT_ERROR;
  cli_quiet = self.quiet;

  GError *error = NULL;
  if (skeleton.spec_text != NULL && skeleton.like_file == NULL)
    {
      g_set_error_literal (&error, LF_ERROR, LF_ERROR_SPEC,
                           "--spec needs --like (a manifest names its own codecs)");
      return cli_fail (error);
    }
  if (skeleton.like_file != NULL && !cli_skeleton_load (&skeleton, NULL, &error))
    return cli_fail (error);

  int status = CLI_EXIT_OK;
  for (int i = 1; i < argc; i++)
    {
      int file_status = verify_file (&self, argv[i]);
      status = MAX (status, file_status);
    }
  return status;
}
