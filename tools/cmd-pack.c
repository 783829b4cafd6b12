/* leafio pack: .npy files as the leaves of a list, saved as one .eqx file.
 *
 * Inputs are read with lf_npy_read, which takes any npy version, byte
 * order and memory order and gives native C-ordered arrays; the npy codec
 * then writes them as np.save writes C-ordered little-endian arrays, so
 * with the default spec the output equals those np.save outputs one after
 * another. */
#include "config.h"

#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "cli-private.h"

/* Reads the one array of the .npy file at `path` (transfer full). */
static LfNode *
read_npy_file (const char *path, guint64 *in_bytes, GError **error)
{
  g_autoptr (LfStream) stream = NULL;
  if (cli_is_stdio (path))
    {
      /* stdin is read as a stream: it may be a pipe. */
      if (!cli_claim_stdin (error))
        return NULL;
      path = CLI_STDIN_NAME;
      stream = lf_stream_new_for_fd (STDIN_FILENO, FALSE);
      lf_stream_set_name (stream, path);
    }
  else
    stream = lf_stream_new_for_path (path, TRUE, error);
  if (stream == NULL)
    return NULL;
  g_autoptr (LfNode) leaf = lf_npy_read (stream, error);
  if (leaf == NULL)
    {
      /* The stream names the file in its own errors (a short read); the
       * header's errors do not. */
      g_autofree char *prefix = g_strdup_printf ("%s: ", path);
      if (error != NULL && *error != NULL && !g_str_has_prefix ((*error)->message, prefix))
        g_prefix_error (error, "%s", prefix);
      return NULL;
    }
  gboolean at_end = FALSE;
  if (!lf_stream_at_end (stream, &at_end, error))
    return NULL;
  if (!at_end)
    {
      guint64 used = lf_stream_tell (stream);
      g_set_error (error, LF_ERROR, LF_ERROR_TRAILING_DATA,
                   "%s: bytes left after the array (offset %" G_GUINT64_FORMAT "): "
                   "an .npy file holds one array", path, used);
      return NULL;
    }
  *in_bytes += lf_stream_tell (stream);
  return g_steal_pointer (&leaf);
}

/* Warns about --rules lines that match no leaf: usually a typo. */
static void
warn_unused_rules (LfSpec *spec, LfNode *tree)
{
  g_autoptr (GError) error = NULL;
  if (!lf_spec_check_rules_used (spec, tree, NULL, NULL, &error))
    fprintf (stderr, "leafio: warning: %s\n", error->message);
}

int
cli_cmd_pack (int argc, char **argv)
{
  g_autofree char *spec_text = NULL;
  g_autofree char *rules_file = NULL;
  const GOptionEntry entries[] = {
    { "spec", 's', 0, G_OPTION_ARG_STRING, &spec_text,
      "Codec reference (\"float16\", \"compressed(level=19)\"), JSON spec tree, or "
      "@FILE holding either (default " LF_CODEC_DEFAULT ")", "SPEC" },
    { "rules", 'r', 0, G_OPTION_ARG_FILENAME, &rules_file,
      "Path rules, one `PATTERN = CODEC` a line, over the paths [0], [1], ...; "
      "--spec is then the default codec", "FILE" },
    CLI_OPTION_FORCE,
    CLI_OPTION_QUIET,
    CLI_OPTION_HUMAN,
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("OUT FILE.npy…");
  g_option_context_set_summary (context,
    "Reads the .npy files (any npy version, byte order or memory order) and\n"
    "saves them as the leaves of a list, in the order given, to OUT (\".eqx\"\n"
    "is added when OUT has no suffix).  With the default " LF_CODEC_DEFAULT " codec, OUT is\n"
    "byte for byte what np.save writes for the same arrays as C-ordered\n"
    "little-endian arrays, one after another.  OUT is written atomically; one\n"
    "that exists is replaced only with --force.  OUT '-' writes stdout (not\n"
    "atomically); one input '-' reads an .npy file from stdin.  When done, one\n"
    "line on stderr gives the sizes, their ratio, the time and the rate.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv, -2))
    return CLI_EXIT_ERROR;
  const char *out = argv[1];
  int n_inputs = argc - 2;
  char **inputs = argv + 2;

  GError *error = NULL;
  gint64 start_us = g_get_monotonic_time ();
  g_autofree char *target = cli_output_target (out, &error);
  if (target == NULL || !cli_check_overwrite (target, &error))
    return cli_fail (error);
  g_autoptr (LfSpec) spec = cli_spec_load (spec_text, rules_file, &error);
  if (spec == NULL)
    return cli_fail (error);

  guint64 total = 0;
  for (int i = 0; i < n_inputs; i++)
    {
      GStatBuf st;
      if (!cli_is_stdio (inputs[i]) && g_stat (inputs[i], &st) == 0)
        total += (guint64) st.st_size;
    }

  g_autoptr (CliProgress) progress = cli_progress_new ("reading", total);
  g_autoptr (GPtrArray) leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  guint64 in_bytes = 0, out_bytes = 0;
  for (int i = 0; i < n_inputs; i++)
    {
      LfNode *leaf = read_npy_file (inputs[i], &in_bytes, &error);
      if (leaf == NULL)
        return cli_fail (error);
      g_ptr_array_add (leaves, leaf);
      cli_progress_update (progress, in_bytes);
    }
  g_clear_pointer (&progress, cli_progress_free);

  g_autoptr (LfNode) tree = lf_list_new (leaves->len, (LfNode *const *) leaves->pdata);
  if (rules_file != NULL)
    warn_unused_rules (spec, tree);
  if (!cli_save_tree_full (target, tree, spec, &out_bytes, &error))
    return cli_fail (error);
  g_autofree char *in_name = n_inputs == 1 ? g_strdup (cli_is_stdio (inputs[0]) ? CLI_STDIN_NAME
                                                                              : inputs[0])
                                           : g_strdup_printf ("%d files", n_inputs);
  cli_print_result (in_name, in_bytes, cli_is_stdio (target) ? CLI_STDOUT_NAME : target,
                    out_bytes, start_us);
  return CLI_EXIT_OK;
}
