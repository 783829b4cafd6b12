/* leafio inspect / leafio skeleton: what a file's records are, as their
 * codecs describe them from their first bytes. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli-private.h"

/* Shapes are padded to this width when a path column follows. */
#define SHAPE_WIDTH 16

/* One line of the listing: a record, a skeleton leaf with no record, or a
 * leaf of the manifest's index. */
typedef struct {
  const CliRecordInfo *info; /* NULL: a leaf without a record, or `entry` */
  const char *path;          /* NULL without --like or a manifest */
  LfNode *leaf;              /* the skeleton's leaf, NULL without --like */
  const LfFileEntry *entry;  /* the manifest's leaf, or NULL */
  guint entry_index;         /* its record's index */
} Row;

/* What a row shows: the record's description, or the skeleton leaf's type. */
typedef struct {
  gboolean known;
  LfNodeKind kind;
  LfDType dtype;
  guint ndim;
  const gsize *shape;
} RowType;

/* The totals the summary gives. */
typedef struct {
  guint n_records;
  guint64 stored;
  guint64 elements;
  GPtrArray *dtypes;   /* names, in order of appearance, with counts: */
  GArray *dtype_counts;
  GPtrArray *codecs;
  GArray *codec_counts;
} Summary;

typedef struct {
  gboolean json;
  gboolean listing;     /* the file is open and its rows are being listed */
  gboolean with_paths;
  JsonBuilder *builder;
  Summary summary;
} Inspect;

static void
print_header (Inspect *self)
{
  self->listing = TRUE;
  if (self->json)
    return;
  printf ("%6s  %12s  %12s  %-16s  %-6s  %-10s  %-*s%s\n", "RECORD", "OFFSET", "SIZE",
          "CODEC", "KIND", "DTYPE", self->with_paths ? SHAPE_WIDTH : 0, "SHAPE",
          self->with_paths ? "  PATH" : "");
}

static gboolean
row_has_record (const Row *row)
{
  return row->entry != NULL ? row->entry->has_record : row->info != NULL;
}

static RowType
row_type (const Row *row)
{
  RowType t = { FALSE, LF_NODE_NONE, LF_DTYPE_INVALID, 0, NULL };
  if (row->entry != NULL)
    {
      t.kind = row->entry->kind;
      t.dtype = row->entry->dtype;
      t.ndim = row->entry->ndim;
      t.shape = row->entry->shape;
    }
  else if (row->info != NULL && row->info->codec != NULL)
    {
      const LfRecordInfo *record = row->info->record;
      t.kind = lf_record_info_get_kind (record);
      t.dtype = lf_record_info_get_dtype (record);
      t.ndim = lf_record_info_get_ndim (record);
      t.shape = lf_record_info_get_shape (record);
    }
  else if (row->info == NULL)
    {
      t.kind = lf_node_get_kind (row->leaf);
      cli_leaf_get_type (row->leaf, &t.dtype, &t.ndim, &t.shape);
    }
  t.known = t.dtype != LF_DTYPE_INVALID;
  return t;
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
add_member_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

/* A size member: null when there is no record or the codec could not tell. */
static void
add_member_size (JsonBuilder *b, const char *name, gboolean known, guint64 value)
{
  json_builder_set_member_name (b, name);
  if (known && value != LF_RECORD_SIZE_UNKNOWN)
    json_builder_add_int_value (b, (gint64) value);
  else
    json_builder_add_null_value (b);
}

/* record, offset, size, codec, inner, decoded_size, stored_dtype. */
static void
add_record_members (JsonBuilder *b, const CliRecordInfo *info)
{
  const LfRecordInfo *record = info != NULL && info->codec != NULL ? info->record : NULL;
  add_member_size (b, "record", info != NULL, info != NULL ? info->index : 0);
  add_member_size (b, "offset", info != NULL, info != NULL ? info->offset : 0);
  add_member_size (b, "size", info != NULL, info != NULL ? info->size : 0);
  add_member_string (b, "codec", info == NULL ? NULL
                                 : info->codec != NULL ? lf_codec_get_name (info->codec)
                                                       : "unknown");
  add_member_string (b, "inner", record != NULL ? lf_record_info_get_inner_reference (record)
                                                : NULL);
  add_member_size (b, "decoded_size", record != NULL,
                   record != NULL ? lf_record_info_get_decoded_size (record) : 0);
  add_member_string (b, "stored_dtype",
                     record != NULL ? lf_dtype_name (lf_record_info_get_stored_dtype (record))
                                    : NULL);
}

/* The same members for a leaf of the manifest: the codec is its full
 * reference; what only a codec's description tells is null. */
static void
add_entry_members (JsonBuilder *b, const Row *row)
{
  const LfFileEntry *entry = row->entry;
  add_member_size (b, "record", entry->has_record, row->entry_index);
  add_member_size (b, "offset", entry->has_record, entry->offset);
  add_member_size (b, "size", entry->has_record, entry->size);
  add_member_string (b, "codec", entry->codec);
  add_member_string (b, "inner", NULL);
  add_member_size (b, "decoded_size", FALSE, 0);
  add_member_string (b, "stored_dtype", NULL);
}

static void
emit_json_row (Inspect *self, const Row *row)
{
  JsonBuilder *b = self->builder;
  RowType t = row_type (row);
  json_builder_begin_object (b);
  if (row->entry != NULL)
    add_entry_members (b, row);
  else
    add_record_members (b, row->info);
  add_member_string (b, "kind", t.kind != LF_NODE_NONE ? lf_node_kind_name (t.kind) : NULL);
  add_member_string (b, "dtype", t.known ? lf_dtype_name (t.dtype) : NULL);
  json_builder_set_member_name (b, "shape");
  if (t.known)
    add_shape (b, t.ndim, t.shape);
  else
    json_builder_add_null_value (b);
  if (self->with_paths)
    {
      add_member_string (b, "path", row->path);
      json_builder_set_member_name (b, "skipped");
      json_builder_add_boolean_value (b, !row_has_record (row));
    }
  json_builder_end_object (b);
}

/* "npy", "compressed/float16(overflow=error)": the codec and the one it wraps. */
static char *
codec_column (const Row *row)
{
  const CliRecordInfo *info = row->info;
  if (row->entry != NULL)
    return g_strdup (row->entry->has_record ? row->entry->codec : "skipped");
  if (info == NULL)
    return g_strdup ("skipped");
  if (info->codec == NULL)
    return g_strdup ("unknown");
  const char *inner = lf_record_info_get_inner_reference (info->record);
  return inner != NULL ? g_strdup_printf ("%s/%s", lf_codec_get_name (info->codec), inner)
                       : g_strdup (lf_codec_get_name (info->codec));
}

static void
emit_text_row (Inspect *self, const Row *row)
{
  RowType t = row_type (row);
  g_autofree char *shape_text = t.known ? lf_shape_to_string (t.ndim, t.shape) : g_strdup ("?");
  g_autofree char *codec = codec_column (row);
  const char *kind = t.kind != LF_NODE_NONE ? lf_node_kind_name (t.kind) : "?";
  const char *dtype = t.known ? lf_dtype_name (t.dtype) : "?";
  int shape_width = self->with_paths ? SHAPE_WIDTH : 0;
  if (row_has_record (row))
    {
      gboolean from_entry = row->entry != NULL;
      g_autofree char *size = cli_format_size (from_entry ? row->entry->size : row->info->size);
      printf ("%6u  %12" G_GUINT64_FORMAT "  %12s  %-16s  %-6s  %-10s  %-*s",
              from_entry ? row->entry_index : row->info->index,
              from_entry ? row->entry->offset : row->info->offset, size, codec, kind, dtype,
              shape_width, shape_text);
    }
  else
    printf ("%6s  %12s  %12s  %-16s  %-6s  %-10s  %-*s", "-", "-", "-", codec, kind, dtype,
            shape_width, shape_text);
  if (self->with_paths)
    printf ("  %s", row->path[0] != '\0' ? row->path : "(root)");
  putchar ('\n');
}

/* Counts `name` in the histogram `names`/`counts`. */
static void
histogram_add (GPtrArray *names, GArray *counts, const char *name)
{
  guint i;
  for (i = 0; i < names->len; i++)
    if (strcmp (g_ptr_array_index (names, i), name) == 0)
      break;
  if (i == names->len)
    {
      g_ptr_array_add (names, g_strdup (name));
      guint zero = 0;
      g_array_append_val (counts, zero);
    }
  g_array_index (counts, guint, i)++;
}

static void
summary_add (Summary *summary, const Row *row)
{
  if (!row_has_record (row))
    return;
  summary->n_records++;
  summary->stored += row->entry != NULL ? row->entry->size : row->info->size;
  RowType t = row_type (row);
  if (t.known)
    {
      guint64 n = 1;
      for (guint i = 0; i < t.ndim; i++)
        n *= t.shape[i];
      summary->elements += n;
    }
  histogram_add (summary->dtypes, summary->dtype_counts, t.known ? lf_dtype_name (t.dtype) : "?");
  const char *codec = row->entry != NULL ? row->entry->codec
                      : row->info->codec != NULL ? lf_codec_get_name (row->info->codec)
                                                 : "unknown";
  histogram_add (summary->codecs, summary->codec_counts, codec);
}

static void
print_histogram (const char *title, GPtrArray *names, GArray *counts)
{
  printf ("%s:", title);
  for (guint i = 0; i < names->len; i++)
    printf ("%s %s (%u)", i > 0 ? "," : "", (const char *) g_ptr_array_index (names, i),
            g_array_index (counts, guint, i));
  printf ("%s\n", names->len == 0 ? " none" : "");
}

/* After the rows: "3 records, 1234 bytes stored, 5120 elements", then the
 * dtypes and codecs, each with its number of records. */
static void
print_summary (const Summary *summary, const char *manifest)
{
  g_autofree char *stored = cli_format_size (summary->stored);
  printf ("\n%u record%s, %s%s stored, %" G_GUINT64_FORMAT " element%s\n", summary->n_records,
          summary->n_records == 1 ? "" : "s", stored, cli_human ? "" : " bytes",
          summary->elements, summary->elements == 1 ? "" : "s");
  print_histogram ("dtypes", summary->dtypes, summary->dtype_counts);
  print_histogram ("codecs", summary->codecs, summary->codec_counts);
  if (manifest != NULL)
    printf ("leaf paths and codecs from %s\n", manifest);
}

static void
summary_init (Summary *summary)
{
  summary->dtypes = g_ptr_array_new_with_free_func (g_free);
  summary->dtype_counts = g_array_new (FALSE, FALSE, sizeof (guint));
  summary->codecs = g_ptr_array_new_with_free_func (g_free);
  summary->codec_counts = g_array_new (FALSE, FALSE, sizeof (guint));
}

static void
summary_clear (Summary *summary)
{
  g_ptr_array_unref (summary->dtypes);
  g_array_unref (summary->dtype_counts);
  g_ptr_array_unref (summary->codecs);
  g_array_unref (summary->codec_counts);
}

static void
emit_row (Inspect *self, const Row *row)
{
  summary_add (&self->summary, row);
  if (self->json)
    emit_json_row (self, row);
  else
    emit_text_row (self, row);
}

static gboolean
show_leaf (const LfPath *path, const char *path_text, LfNode *leaf, const CliRecordInfo *info,
           gpointer user_data, GError **error)
{
  Row row = { .info = info, .path = path_text, .leaf = leaf };
  emit_row (user_data, &row);
  return TRUE;
}

/* A record no codec recognises is still listed, before the error. */
static void
show_unknown (const CliRecordInfo *info, gpointer user_data)
{
  Row row = { .info = info };
  emit_row (user_data, &row);
}

/* The manifest beside `filename` when it describes the file (transfer
 * full); NULL when there is none, or with a warning when it is stale. */
static LfFile *
open_with_manifest (const char *filename, char **manifest_out)
{
  g_autofree char *manifest = lf_manifest_get_path (filename);
  if (!g_file_test (manifest, G_FILE_TEST_IS_REGULAR))
    return NULL;
  g_autoptr (GError) error = NULL;
  guint warnings = cli_n_warnings;
  g_autoptr (LfFile) file = lf_file_open (filename, NULL, NULL, LF_FILE_DEFAULT, &error);
  if (file == NULL || !lf_file_is_indexed_from_manifest (file))
    {
      /* The library says why when it finds the manifest stale. */
      if (cli_n_warnings == warnings)
        fprintf (stderr, "leafio: warning: %s: not used: %s\n", manifest,
                 error != NULL ? error->message : "it does not match the file");
      return NULL;
    }
  *manifest_out = g_steal_pointer (&manifest);
  return g_steal_pointer (&file);
}

static void
show_entries (Inspect *self, LfFile *file)
{
  guint index = 0;
  for (gsize i = 0; i < lf_file_get_n_entries (file); i++)
    {
      const LfFileEntry *entry = lf_file_get_entry (file, i);
      Row row = { .path = entry->path, .entry = entry, .entry_index = index };
      emit_row (self, &row);
      index += entry->has_record ? 1 : 0;
    }
}

/* Lists the rows of `filename`: from its manifest when it has a valid one
 * and neither --like nor --spec is given, otherwise as its records
 * describe themselves. */
static gboolean
inspect_file (Inspect *self, const char *filename, CliSkeleton *skeleton, char **manifest,
              GError **error)
{
  g_autoptr (LfFile) file = NULL;
  if (skeleton->like_file == NULL && skeleton->spec_text == NULL && !cli_is_stdio (filename))
    file = open_with_manifest (filename, manifest);
  self->with_paths = file != NULL || skeleton->like_file != NULL;
  if (file != NULL)
    {
      print_header (self);
      show_entries (self, file);
      return TRUE;
    }
  g_autoptr (CliReader) reader = cli_reader_open (filename, error);
  if (reader == NULL || !cli_skeleton_load (skeleton, reader, error))
    return FALSE;
  print_header (self);
  return cli_reader_walk (reader, skeleton, "inspecting", show_leaf, show_unknown, self, error);
}

int
cli_cmd_inspect (int argc, char **argv)
{
  gboolean json = FALSE;
  g_auto (CliSkeleton) skeleton = { 0 };
  const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print JSON for scripts", NULL },
    CLI_OPTION_HUMAN,
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &cli_quiet, "No progress bar", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("FILE");
  g_option_context_set_summary (context,
    "Lists the records of FILE, one a line: index, byte offset, size, the codec\n"
    "that describes it (with the codec it wraps, if any), kind, dtype and shape,\n"
    "then a summary: records, bytes stored, elements, and the records of each\n"
    "dtype and codec.  Each record's codec describes it from its first bytes,\n"
    "so the data is not read or checked: unpack, convert and loads do that.\n"
    "Without --spec, each record's codec is the first registered one that\n"
    "recognises it (" LF_CODEC_DEFAULT " first); records of codecs built on npy records\n"
    "read as npy unless --spec names their codec.  FILE '-' reads stdin.\n\n"
    "When FILE.json, the manifest a save writes beside FILE, describes FILE,\n"
    "the leaf paths and codecs come from it (without --like or --spec); a\n"
    "stale one is reported and not used.\n\n"
    "With --like, each record is matched to a leaf of the skeleton (leafio\n"
    "skeleton writes one) and its path is shown; leaves the codec writes no\n"
    "record for are listed as skipped.  A record that does not fit its leaf\n"
    "(kind, dtype, shape) is an error.");
  cli_skeleton_add_options (&skeleton, context,
                            "Match records to the leaves of this skeleton and show their paths");
  g_option_context_add_main_entries (context, entries, NULL);
  cli_limits_add_options (context);
  if (!cli_parse_options (context, &argc, &argv, 1))
    return CLI_EXIT_ERROR;

  GError *error = NULL;
  g_autoptr (JsonBuilder) builder = json ? json_builder_new () : NULL;
  g_autofree char *manifest = NULL;
  Inspect self = { .json = json, .builder = builder };
  summary_init (&self.summary);
  if (json)
    json_builder_begin_array (builder);
  gboolean ok = inspect_file (&self, argv[1], &skeleton, &manifest, &error);
  if (json)
    {
      /* A damaged file lists the records read before the error, as the
       * text does: the exit status tells a script it is incomplete. */
      json_builder_end_array (builder);
      g_autoptr (JsonNode) root = json_builder_get_root (builder);
      if (self.listing)
        cli_print_json (root);
    }
  else if (ok)
    print_summary (&self.summary, manifest);
  summary_clear (&self.summary);
  return ok ? CLI_EXIT_OK : cli_fail (error);
}

int
cli_cmd_skeleton (int argc, char **argv)
{
  g_autofree char *spec_text = NULL;
  const GOptionEntry entries[] = {
    { "spec", 's', 0, G_OPTION_ARG_STRING, &spec_text,
      "The codec every record is read with (default: each record's is recognised)", "CODEC" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &cli_quiet, "No progress bar", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("FILE");
  g_option_context_set_summary (context,
    "Prints a skeleton JSON for FILE: a list with one abstract array\n"
    "({\"dtype\": ..., \"shape\": [...]}) a record, as its codec describes it.\n"
    "Edit it into the real structure (dicts, structs, scalars) and use it\n"
    "with --like.");
  g_option_context_add_main_entries (context, entries, NULL);
  cli_limits_add_options (context);
  if (!cli_parse_options (context, &argc, &argv, 1))
    return CLI_EXIT_ERROR;

  GError *error = NULL;
  g_autoptr (CliReader) reader = cli_reader_open (argv[1], &error);
  if (reader == NULL)
    return cli_fail (error);
  if (spec_text != NULL)
    {
      g_autoptr (LfCodec) codec = cli_codec_for_reading ("--spec", spec_text, &error);
      if (codec == NULL)
        return cli_fail (error);
      cli_reader_set_codec (reader, codec);
    }

  g_autoptr (LfNode) records = cli_records_skeleton (reader, "reading", &error);
  if (records == NULL)
    return cli_fail (error);

  /* One record a line: as easy to read and edit as the library's pretty
   * form is long. */
  g_autoptr (GString) out = g_string_new ("[");
  gsize n = lf_node_get_n_children (records);
  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *item = lf_tree_to_json (lf_node_get_child (records, i), FALSE);
      g_string_append_printf (out, "%s\n  %s", i > 0 ? "," : "", item);
    }
  g_string_append (out, n > 0 ? "\n]" : "]");
  puts (out->str);
  return CLI_EXIT_OK;
}
