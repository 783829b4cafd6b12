/* leafio convert: re-encode a file with another spec.
 *
 * Without a skeleton, each record is read as it describes itself and the
 * records become the leaves of a list (rules then match [0], [1], ...).
 * With --like, the file is loaded by the library into the skeleton's
 * structure, so rules and spec trees see the real paths. */
#include "config.h"

#include <stdio.h>

#include "cli-private.h"

/* The records of `filename` as a list of leaves (transfer full). */
static LfNode *
read_as_list (const char *filename, GError **error)
{
  g_autoptr (CliReader) reader = cli_reader_open (filename, error);
  if (reader == NULL)
    return NULL;

  g_autoptr (CliProgress) progress = cli_progress_new ("reading", cli_reader_get_size (reader));
  g_autoptr (GPtrArray) leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  while (!cli_reader_at_end (reader))
    {
      CliRecordInfo info;
      LfNode *leaf = cli_reader_next_leaf (reader, &info, error);
      if (leaf == NULL)
        return NULL;
      g_ptr_array_add (leaves, leaf);
      cli_progress_update (progress, cli_reader_get_offset (reader));
    }
  return lf_list_new (leaves->len, (LfNode *const *) leaves->pdata);
}

static LfNode *
read_with_like (const char *filename, const char *like_file, const char *input_spec_text,
                GError **error)
{
  g_autoptr (LfNode) like = lf_tree_from_json_file (like_file, error);
  if (like == NULL)
    return NULL;
  g_autoptr (LfSpec) input_spec = cli_spec_load (input_spec_text, NULL, error);
  if (input_spec == NULL)
    {
      g_prefix_error (error, "--input-spec: ");
      return NULL;
    }
  return lf_tree_deserialise_leaves (filename, like, input_spec, NULL, NULL, error);
}

int
cli_cmd_convert (int argc, char **argv)
{
  g_autofree char *spec_text = NULL;
  g_autofree char *rules_file = NULL;
  g_autofree char *like_file = NULL;
  g_autofree char *input_spec_text = NULL;
  const GOptionEntry entries[] = {
    { "spec", 's', 0, G_OPTION_ARG_STRING, &spec_text,
      "The new spec: a codec reference (\"float16\", \"compressed(level=19)\"), a JSON "
      "spec tree, or @FILE holding either", "SPEC" },
    { "rules", 'r', 0, G_OPTION_ARG_FILENAME, &rules_file,
      "Path rules, one `PATTERN = CODEC` a line; --spec is then the default codec",
      "FILE" },
    { "like", 'l', 0, G_OPTION_ARG_FILENAME, &like_file,
      "Load IN into this skeleton's structure (paths for rules and spec trees)",
      "SKELETON.json" },
    { "input-spec", 'i', 0, G_OPTION_ARG_STRING, &input_spec_text,
      "With --like: the spec IN was saved with (default npy)", "SPEC" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &cli_quiet, "No progress bar", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("IN OUT");
  g_option_context_set_summary (context,
    "Re-encodes IN with another spec and writes OUT atomically (\".eqx\" is\n"
    "added when OUT has no suffix; OUT may be IN).\n\n"
    "Without --like, records are read as they describe themselves (npy and\n"
    "compressed records carry dtype and shape) as the leaves of a list, so\n"
    "no skeleton is needed; rules then match the paths [0], [1], ...\n"
    "With --like, IN is loaded into the skeleton (with --input-spec) and\n"
    "saved with the new spec, so rules see the real leaf paths.");
  g_option_context_set_description (context,
    "Examples:\n"
    "  leafio convert --spec float16 model.eqx model-f16.eqx\n"
    "  leafio convert --spec 'compressed(level=19)' model.eqx small.eqx\n"
    "  leafio convert --rules rules.txt --like skeleton.json model.eqx out.eqx");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv, 2))
    return CLI_EXIT_ERROR;
  if (spec_text == NULL && rules_file == NULL)
    {
      fprintf (stderr, "leafio: convert needs --spec or --rules\n");
      return CLI_EXIT_ERROR;
    }
  if (input_spec_text != NULL && like_file == NULL)
    {
      fprintf (stderr, "leafio: --input-spec needs --like (without it records describe "
                       "themselves)\n");
      return CLI_EXIT_ERROR;
    }

  GError *error = NULL;
  g_autoptr (LfSpec) spec = cli_spec_load (spec_text, rules_file, &error);
  if (spec == NULL)
    return cli_fail (error);

  g_autoptr (LfNode) tree = like_file != NULL
                              ? read_with_like (argv[1], like_file, input_spec_text, &error)
                              : read_as_list (argv[1], &error);
  if (tree == NULL)
    return cli_fail (error);
  if (rules_file != NULL)
    {
      g_autoptr (GError) unused = NULL;
      if (!lf_spec_check_rules_used (spec, tree, NULL, NULL, &unused))
        fprintf (stderr, "leafio: warning: %s\n", unused->message);
    }
  if (!cli_save_tree (argv[2], tree, spec, &error))
    return cli_fail (error);
  return CLI_EXIT_OK;
}
