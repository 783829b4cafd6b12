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

static gboolean
show_leaf (const LfPath *path, const char *path_text, LfNode *leaf, const CliRecordInfo *info,
           gpointer user_data, GError **error)
{
  Row row = { .has_record = info != NULL, .path = path_text, .leaf = leaf };
  if (info != NULL)
    row.info = *info;
  emit_row (user_data, &row);
  return TRUE;
}

/* A record leafio does not know is still listed, before the error. */
static void
show_unknown (const CliRecordInfo *info, gpointer user_data)
{
  Row row = { .has_record = TRUE, .info = *info };
  emit_row (user_data, &row);
}

int
cli_cmd_inspect (int argc, char **argv)
{
  gboolean json = FALSE;
  g_auto (CliSkeleton) skeleton = { 0 };
  const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print JSON for scripts", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &cli_quiet, "No progress bar", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("FILE");
  g_option_context_set_summary (context,
    "Lists the records of FILE, one a line: index, byte offset, size, codec family\n"
    "(npy, compressed or unknown), dtype and shape as stored.  Only headers are\n"
    "read (for compressed records, also the first bytes of their data), so the\n"
    "data is not checked: unpack, convert and loads do that.\n\n"
    "With --like, each record is matched to a leaf of the skeleton (leafio\n"
    "skeleton writes one) and its path is shown; leaves the codec writes no\n"
    "record for are listed as skipped.  A record whose shape differs from its\n"
    "leaf's is an error.");
  cli_skeleton_add_options (&skeleton, context,
                            "Match records to the leaves of this skeleton and show their paths");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv, 1))
    return CLI_EXIT_ERROR;

  GError *error = NULL;
  g_autoptr (CliReader) reader = cli_reader_open (argv[1], &error);
  if (reader == NULL || !cli_skeleton_load (&skeleton, &error))
    return cli_fail (error);

  g_autoptr (JsonBuilder) builder = json ? json_builder_new () : NULL;
  Inspect self = { .json = json, .with_paths = skeleton.like != NULL, .builder = builder };
  if (json)
    json_builder_begin_array (builder);
  print_header (&self);
  gboolean ok = cli_reader_walk (reader, &skeleton, "inspecting", show_leaf, show_unknown, &self,
                                 &error);
  if (json)
    {
      json_builder_end_array (builder);
      g_autoptr (JsonNode) root = json_builder_get_root (builder);
      if (ok)
        cli_print_json (root);
    }
  return ok ? CLI_EXIT_OK : cli_fail (error);
}

/* The skeleton command's record: an abstract array of its dtype and shape. */
static gboolean
add_abstract_leaf (const LfPath *path, const char *path_text, LfNode *leaf,
                   const CliRecordInfo *info, gpointer user_data, GError **error)
{
  g_ptr_array_add (user_data, lf_array_new_abstract (info->dtype, info->ndim, info->shape));
  return TRUE;
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

  g_autoptr (GPtrArray) leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  if (!cli_reader_walk (reader, NULL, "reading", add_abstract_leaf, NULL, leaves, &error))
    return cli_fail (error);

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
