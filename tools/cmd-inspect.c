/* leafio inspect / leafio skeleton: what a file's records are, from their
 * headers alone. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli-private.h"

/* Shapes are padded to this width when a path column follows. */
#define SHAPE_WIDTH 16

/* One line of the listing: a record, or a skeleton leaf with no record. */
typedef struct {
  gboolean has_record;
  CliRecordInfo info;
  const char *path;      /* NULL without --like */
  LfNode *leaf;          /* the skeleton's leaf, NULL without --like */
} Row;

typedef struct {
  gboolean json;
  gboolean with_paths;
  JsonBuilder *builder;
  CliReader *reader;
  LfCodec *codec;
  CliProgress *progress;
} Inspect;

static void
print_header (Inspect *self)
{
  if (self->json)
    return;
  printf ("%6s  %12s  %12s  %-10s  %-10s  %-*s%s\n", "RECORD", "OFFSET", "SIZE", "FAMILY",
          "DTYPE", self->with_paths ? SHAPE_WIDTH : 0, "SHAPE",
          self->with_paths ? "  PATH" : "");
}

static void
add_shape (JsonBuilder *builder, guint ndim, const gsize *shape)
{
  json_builder_begin_array (builder);
  for (guint i = 0; i < ndim; i++)
    json_builder_add_int_value (builder, (gint64) shape[i]);
  json_builder_end_array (builder);
}

static void
emit_row (Inspect *self, const Row *row)
{
  LfDType dtype;
  guint ndim;
  const gsize *shape;

  if (row->has_record)
    {
      dtype = row->info.dtype;
      ndim = row->info.ndim;
      shape = row->info.shape;
    }
  else
    cli_leaf_get_type (row->leaf, &dtype, &ndim, &shape);
  gboolean known = row->has_record ? row->info.family != CLI_FAMILY_UNKNOWN
                                   : dtype != LF_DTYPE_INVALID;

  if (self->json)
    {
      JsonBuilder *b = self->builder;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "record");
      if (row->has_record)
        json_builder_add_int_value (b, row->info.index);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "offset");
      if (row->has_record)
        json_builder_add_int_value (b, (gint64) row->info.offset);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "size");
      if (row->has_record)
        json_builder_add_int_value (b, (gint64) row->info.size);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "family");
      if (row->has_record)
        json_builder_add_string_value (b, cli_family_name (row->info.family));
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "dtype");
      if (known)
        json_builder_add_string_value (b, lf_dtype_name (dtype));
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "shape");
      if (known)
        add_shape (b, ndim, shape);
      else
        json_builder_add_null_value (b);
      if (self->with_paths)
        {
          json_builder_set_member_name (b, "path");
          json_builder_add_string_value (b, row->path);
          json_builder_set_member_name (b, "skipped");
          json_builder_add_boolean_value (b, !row->has_record);
          if (!row->has_record && !known)
            {
              json_builder_set_member_name (b, "kind");
              json_builder_add_string_value (b, lf_node_kind_name (lf_node_get_kind (row->leaf)));
            }
        }
      json_builder_end_object (b);
      return;
    }

  g_autofree char *shape_text = known ? lf_shape_to_string (ndim, shape) : g_strdup ("?");
  const char *dtype_text = known ? lf_dtype_name (dtype) : "?";
  if (!row->has_record && !known)
    dtype_text = lf_node_kind_name (lf_node_get_kind (row->leaf));
  int shape_width = self->with_paths ? SHAPE_WIDTH : 0;
  if (row->has_record)
    printf ("%6u  %12" G_GUINT64_FORMAT "  %12" G_GUINT64_FORMAT "  %-10s  %-10s  %-*s",
            row->info.index, row->info.offset, row->info.size,
            cli_family_name (row->info.family), dtype_text, shape_width, shape_text);
  else
    printf ("%6s  %12s  %12s  %-10s  %-10s  %-*s", "-", "-", "-", "skipped", dtype_text,
            shape_width, shape_text);
  if (self->with_paths)
    printf ("  %s", row->path[0] != '\0' ? row->path : "(root)");
  putchar ('\n');
}

/* Reads the next record's header into `row`; an unknown record is still
 * listed before the error. */
static gboolean
next_record (Inspect *self, Row *row, GError **error)
{
  row->has_record = TRUE;
  gboolean ok = cli_reader_next_info (self->reader, &row->info, error);
  if (!ok && row->info.family == CLI_FAMILY_UNKNOWN)
    emit_row (self, row);
  cli_progress_update (self->progress, cli_reader_get_offset (self->reader));
  return ok;
}

static gboolean
show_leaf (const LfPath *path, const char *path_text, LfNode *leaf, const CliRecordInfo *info,
           gpointer user_data, GError **error)
{
  Inspect *self = user_data;
  Row row = { .has_record = info != NULL, .path = path_text, .leaf = leaf };
  if (info != NULL)
    row.info = *info;
  emit_row (self, &row);
  cli_progress_update (self->progress, cli_reader_get_offset (self->reader));
  return TRUE;
}

static gboolean
inspect_with_like (Inspect *self, LfNode *like, GError **error)
{
  return cli_reader_match_skeleton (self->reader, like, self->codec, show_leaf, self, error);
}

static gboolean
inspect_records (Inspect *self, GError **error)
{
  while (!cli_reader_at_end (self->reader))
    {
      Row row = { 0 };
      if (!next_record (self, &row, error))
        return FALSE;
      emit_row (self, &row);
    }
  return TRUE;
}

int
cli_cmd_inspect (int argc, char **argv)
{
  gboolean json = FALSE;
  g_autofree char *like_file = NULL;
  g_autofree char *spec_text = NULL;
  const GOptionEntry entries[] = {
    { "like", 'l', 0, G_OPTION_ARG_FILENAME, &like_file,
      "Match records to the leaves of this skeleton and show their paths", "SKELETON.json" },
    { "spec", 's', 0, G_OPTION_ARG_STRING, &spec_text,
      "With --like: the codec the file was saved with, which decides the leaves "
      "without a record (default npy)", "CODEC" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print JSON for scripts", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &cli_quiet, "No progress bar", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("FILE");
  g_option_context_set_summary (context,
    "Lists the records of FILE, one a line: index, byte offset, size, codec family\n"
    "(npy, compressed or unknown), dtype and shape as stored.  Only headers are\n"
    "read, except for compressed records, which are decoded.\n\n"
    "With --like, each record is matched to a leaf of the skeleton (leafio\n"
    "skeleton writes one) and its path is shown; leaves the codec writes no\n"
    "record for are listed as skipped.  A record whose shape differs from its\n"
    "leaf's is an error.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv, 1))
    return CLI_EXIT_ERROR;

  GError *error = NULL;
  g_autoptr (CliReader) reader = cli_reader_open (argv[1], &error);
  if (reader == NULL)
    return cli_fail (error);

  Inspect self = { .json = json, .with_paths = like_file != NULL, .reader = reader };
  g_autoptr (LfCodec) codec = NULL;
  g_autoptr (LfNode) like = NULL;
  if (like_file != NULL)
    {
      like = lf_tree_from_json_file (like_file, &error);
      if (like == NULL)
        return cli_fail (error);
      codec = lf_registry_resolve (lf_registry_get_default (),
                                   spec_text != NULL ? spec_text : "npy", &error);
      if (codec == NULL)
        return cli_fail (error);
      self.codec = codec;
    }
  g_autoptr (JsonBuilder) builder = json ? json_builder_new () : NULL;
  self.builder = builder;
  if (json)
    json_builder_begin_array (builder);
  self.progress = cli_progress_new ("inspecting", cli_reader_get_size (reader));

  print_header (&self);
  gboolean ok = like != NULL ? inspect_with_like (&self, like, &error)
                                  : inspect_records (&self, &error);
  g_clear_pointer (&self.progress, cli_progress_free);
  if (json)
    {
      json_builder_end_array (builder);
      g_autoptr (JsonNode) root = json_builder_get_root (builder);
      if (ok)
        cli_print_json (root);
    }
  return ok ? CLI_EXIT_OK : cli_fail (error);
}

int
cli_cmd_skeleton (int argc, char **argv)
{
  const GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &cli_quiet, "No progress bar", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("FILE");
  g_option_context_set_summary (context,
    "Prints a skeleton JSON for FILE: a list with one abstract array\n"
    "({\"dtype\": ..., \"shape\": [...]}) a record, as stored.  Edit it into the\n"
    "real structure (dicts, structs, scalars) and use it with --like.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv, 1))
    return CLI_EXIT_ERROR;

  GError *error = NULL;
  g_autoptr (CliReader) reader = cli_reader_open (argv[1], &error);
  if (reader == NULL)
    return cli_fail (error);

  g_autoptr (CliProgress) progress = cli_progress_new ("reading", cli_reader_get_size (reader));
  g_autoptr (GPtrArray) leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  while (!cli_reader_at_end (reader))
    {
      CliRecordInfo info;
      if (!cli_reader_next_info (reader, &info, &error))
        return cli_fail (error);
      g_ptr_array_add (leaves, lf_array_new_abstract (info.dtype, info.ndim, info.shape));
      cli_progress_update (progress, cli_reader_get_offset (reader));
    }
  g_clear_pointer (&progress, cli_progress_free);

  /* One record a line: as easy to read and edit as the library's pretty
   * form is long. */
  g_autoptr (GString) out = g_string_new ("[");
  for (guint i = 0; i < leaves->len; i++)
    {
      g_autofree char *item = lf_tree_to_json (g_ptr_array_index (leaves, i), FALSE);
      g_string_append_printf (out, "%s\n  %s", i > 0 ? "," : "", item);
    }
  g_string_append (out, leaves->len > 0 ? "\n]" : "]");
  puts (out->str);
  return CLI_EXIT_OK;
}
