/* leafio ls: the steps of a checkpoint manager's directory.  The listing
 * takes no lock and changes nothing (lf_checkpoint_list_directory), so it
 * works while a training process is saving to the directory. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli-private.h"

typedef struct {
  gboolean json;
  gboolean human;
} Ls;

/* A metric's value as text: integers and bools exactly, floats in their
 * shortest form. */
static char *
metric_text (LfNode *value)
{
  LfDType dtype = lf_scalar_get_dtype (value);
  if (dtype == LF_DTYPE_BOOL)
    return g_strdup (lf_scalar_get_bool (value) ? "true" : "false");
  if (lf_dtype_is_integer (dtype))
    return g_strdup_printf ("%" G_GINT64_FORMAT, lf_scalar_get_int (value));
  return cli_format_double (lf_scalar_get_float (value));
}

/* A metric's name as the table shows it: control characters (a newline,
 * a terminal escape) written as \xHH, so a name from the directory can
 * neither break the table's lines nor drive the terminal. */
static void
append_name (GString *text, const char *name)
{
  for (const guchar *p = (const guchar *) name; *p != '\0'; p++)
    if (*p < 0x20 || *p == 0x7f || *p == '\\')
      g_string_append_printf (text, "\\x%02x", *p);
    else
      g_string_append_c (text, (char) *p);
}

static char *
metrics_text (LfNode *metrics)
{
  GString *text = g_string_new (NULL);
  for (gsize i = 0; i < lf_node_get_n_children (metrics); i++)
    {
      g_autofree char *value = metric_text (lf_node_get_child (metrics, i));
      if (i > 0)
        g_string_append_c (text, ' ');
      append_name (text, lf_dict_get_key (metrics, i));
      g_string_append_printf (text, "=%s", value);
    }
  return g_string_free (text, FALSE);
}

static char *
local_time_text (gint64 usec)
{
  g_autoptr (GDateTime) when = g_date_time_new_from_unix_local (usec / G_USEC_PER_SEC);
  return when != NULL ? g_date_time_format (when, "%Y-%m-%d %H:%M:%S") : g_strdup ("?");
}

static void
print_table (const Ls *self, const char *directory, GPtrArray *steps)
{
  if (steps->len == 0)
    {
      printf ("%s: no committed steps\n", directory);
      return;
    }
  printf ("  %10s  %-19s  %10s  %s\n", "STEP", "TIME", "SIZE", "METRICS");
  for (guint i = 0; i < steps->len; i++)
    {
      const LfCheckpointStep *step = g_ptr_array_index (steps, i);
      g_autofree char *when = local_time_text (step->time);
      g_autofree char *size = self->human
                              ? g_format_size_full (step->size, G_FORMAT_SIZE_IEC_UNITS)
                              : g_strdup_printf ("%" G_GUINT64_FORMAT, step->size);
      g_autofree char *metrics = metrics_text (step->metrics);
      printf ("%c %10" G_GINT64_FORMAT "  %-19s  %10s  %s\n", i + 1 == steps->len ? '*' : ' ',
              step->step, when, size, metrics);
    }
  const LfCheckpointStep *latest = g_ptr_array_index (steps, steps->len - 1);
  printf ("%u step%s; * latest: %" G_GINT64_FORMAT " (%s)\n", steps->len,
          steps->len == 1 ? "" : "s", latest->step, latest->path);
}

static void
add_metrics (JsonBuilder *b, LfNode *metrics)
{
  json_builder_begin_object (b);
  for (gsize i = 0; i < lf_node_get_n_children (metrics); i++)
    {
      LfNode *value = lf_node_get_child (metrics, i);
      LfDType dtype = lf_scalar_get_dtype (value);
      json_builder_set_member_name (b, lf_dict_get_key (metrics, i));
      if (dtype == LF_DTYPE_BOOL)
        json_builder_add_boolean_value (b, lf_scalar_get_bool (value));
      else if (lf_dtype_is_integer (dtype))
        json_builder_add_int_value (b, lf_scalar_get_int (value));
      else
        json_builder_add_double_value (b, lf_scalar_get_float (value));
    }
  json_builder_end_object (b);
}

static void
print_json (const char *directory, GPtrArray *steps)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "directory");
  json_builder_add_string_value (b, directory);
  json_builder_set_member_name (b, "latest");
  if (steps->len == 0)
    json_builder_add_null_value (b);
  else
    json_builder_add_int_value (b, ((LfCheckpointStep *) g_ptr_array_index (steps,
                                                                             steps->len - 1))->step);
  json_builder_set_member_name (b, "steps");
  json_builder_begin_array (b);
  for (guint i = 0; i < steps->len; i++)
    {
      const LfCheckpointStep *step = g_ptr_array_index (steps, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "step");
      json_builder_add_int_value (b, step->step);
      json_builder_set_member_name (b, "time");
      g_autoptr (GDateTime) when = g_date_time_new_from_unix_utc (step->time / G_USEC_PER_SEC);
      g_autofree char *iso = when != NULL ? g_date_time_format_iso8601 (when) : NULL;
      json_builder_add_string_value (b, iso);
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, (gint64) step->size);
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, step->path);
      json_builder_set_member_name (b, "metrics");
      add_metrics (b, step->metrics);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  cli_print_json (root);
}

int
cli_cmd_ls (int argc, char **argv)
{
  Ls self = { FALSE, FALSE };
  const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &self.json,
      "Print JSON: {\"directory\", \"latest\", \"steps\": [{\"step\", \"time\", \"size\", "
      "\"path\", \"metrics\"}]}", NULL },
    { "human", 'H', 0, G_OPTION_ARG_NONE, &self.human,
      "Sizes in KiB, MiB, GiB", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("DIR");
  g_option_context_set_summary (context,
    "Lists the committed steps of the checkpoint directory DIR (made by\n"
    "lf_checkpoint_manager_open): step, time saved (local time), size of the\n"
    "step's files in bytes, and the metrics it was saved with; '*' marks the\n"
    "latest step, the one a restore of the latest loads.\n\n"
    "The listing takes no lock and changes nothing, so it can run while a\n"
    "training process is saving to DIR.\n\n"
    "Exit status: 0 success, 2 error.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv, 1))
    return CLI_EXIT_ERROR;

  GError *error = NULL;
  const char *directory = argv[1];
  g_autoptr (GPtrArray) steps = lf_checkpoint_list_directory (directory, &error);
  if (steps == NULL)
    return cli_fail (error);
  if (self.json)
    print_json (directory, steps);
  else
    print_table (&self, directory, steps);
  return CLI_EXIT_OK;
}
