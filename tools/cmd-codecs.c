/* leafio codecs: what the default registry offers, and what failed to load. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli-private.h"

#define BUILT_IN "(built in)"

static const char *
description_of (const LfCodecClass *klass)
{
  return klass != NULL && klass->description != NULL ? klass->description : "";
}

static void
print_json (LfRegistry *registry, char **names)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_array (builder);
  for (gsize i = 0; names[i] != NULL; i++)
    {
      const LfCodecClass *klass = lf_registry_lookup (registry, names[i]);
      const char *origin = lf_registry_get_origin (registry, names[i]);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, names[i]);
      json_builder_set_member_name (builder, "plugin");
      if (origin != NULL)
        json_builder_add_string_value (builder, origin);
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "description");
      json_builder_add_string_value (builder, description_of (klass));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  cli_print_json (root);
}

static void
print_table (LfRegistry *registry, char **names)
{
  int name_width = 4, file_width = 6;
  for (gsize i = 0; names[i] != NULL; i++)
    {
      const char *origin = lf_registry_get_origin (registry, names[i]);
      name_width = MAX (name_width, (int) strlen (names[i]));
      file_width = MAX (file_width, (int) strlen (origin != NULL ? origin : BUILT_IN));
    }
  printf ("%-*s  %-*s  %s\n", name_width, "NAME", file_width, "PLUGIN", "DESCRIPTION");
  for (gsize i = 0; names[i] != NULL; i++)
    {
      const LfCodecClass *klass = lf_registry_lookup (registry, names[i]);
      const char *origin = lf_registry_get_origin (registry, names[i]);
      printf ("%-*s  %-*s  %s\n", name_width, names[i], file_width,
              origin != NULL ? origin : BUILT_IN, description_of (klass));
    }
  if (names[0] == NULL)
    fprintf (stderr, "leafio: no codecs registered (is LEAFIO_PLUGIN_PATH right?)\n");
}

int
cli_cmd_codecs (int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print JSON for scripts", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &cli_quiet, "Accepted for symmetry: nothing to silence",
      NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                "Lists every registered codec: name, plugin file, description.\n"
                                "Plugins come from LEAFIO_PLUGIN_PATH (colon-separated) and the\n"
                                "installed plugin directory.  Plugins that failed to load are\n"
                                "reported on stderr.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv, 0))
    return CLI_EXIT_ERROR;

  LfRegistry *registry = lf_registry_get_default ();
  g_auto (GStrv) names = lf_registry_list (registry);
  if (json)
    print_json (registry, names);
  else
    print_table (registry, names);

  GPtrArray *load_errors = lf_registry_get_load_errors (registry);
  for (guint i = 0; load_errors != NULL && i < load_errors->len; i++)
    {
      const GError *e = g_ptr_array_index (load_errors, i);
      fprintf (stderr, "leafio: warning: %s\n", e->message);
    }
  return CLI_EXIT_OK;
}
