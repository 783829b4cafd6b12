/* leafio convert: re-encode a file with another spec.
 *
 * Without a skeleton, each record is read as it describes itself (its
 * codec's description is checked against the record size limit first) and
 * the records become the leaves of a list (rules then match [0], [1], ...).
 * With --like, the file is loaded by the library into the skeleton's
 * structure, so rules and spec trees see the real paths. */
#include "config.h"

#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "cli-private.h"

typedef struct {
  CliReader *reader;
  GPtrArray *leaves;
} ReadList;

/* Appends each record's leaf, decoded by its codec. */
static gboolean
add_decoded_leaf (const LfPath *path, const char *path_text, LfNode *leaf,
                  const CliRecordInfo *info, gpointer user_data, GError **error)
{
  ReadList *self = user_data;
  LfNode *decoded = cli_reader_decode (self->reader, info, error);
  if (decoded == NULL)
    return FALSE;
  g_ptr_array_add (self->leaves, decoded);
  return TRUE;
}

/* The records of `filename` as a list of leaves, each read as it describes
 * itself: with `input_spec_text`'s codec, or the codec that recognises it
 * (transfer full). */
static LfNode *
read_as_list (const char *filename, const char *input_spec_text, guint64 *in_bytes,
              GError **error)
{
  g_autoptr (CliReader) reader = cli_reader_open (filename, error);
  if (reader == NULL)
    return NULL;
  *in_bytes = cli_reader_get_size (reader);
  if (input_spec_text != NULL)
    {
      g_autoptr (LfCodec) codec = cli_codec_for_reading ("--input-spec", input_spec_text,
                                                         error);
      if (codec == NULL)
        return NULL;
      cli_reader_set_codec (reader, codec);
    }

  g_autoptr (GPtrArray) leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  ReadList self = { reader, leaves };
  if (!cli_reader_walk (reader, NULL, "reading", add_decoded_leaf, NULL, &self, error))
    return NULL;
  return lf_list_new (leaves->len, (LfNode *const *) leaves->pdata);
}

/* IN loaded by the library into the skeleton; stdin is read as a stream. */
static LfNode *
read_with_like (const char *filename, const char *like_file, const char *input_spec_text,
                guint64 *in_bytes, GError **error)
{
  g_autoptr (LfNode) like = cli_load_skeleton_file ("--like", like_file, error);
  if (like == NULL)
    return NULL;
  g_autoptr (LfSpec) input_spec = cli_spec_load (input_spec_text, NULL, error);
  if (input_spec == NULL)
    {
      g_prefix_error (error, "--input-spec: ");
      return NULL;
    }
  if (cli_is_stdio (filename))
    {
      if (!cli_claim_stdin (error))
        return NULL;
      g_autoptr (LfStream) in = lf_stream_new_for_fd (STDIN_FILENO, FALSE);
      lf_stream_set_name (in, CLI_STDIN_NAME);
      LfNode *tree = lf_tree_deserialise_leaves_from_stream (in, like, input_spec, NULL, NULL,
                                                             error);
      *in_bytes = lf_stream_tell (in);
      return tree;
    }
  GStatBuf st;
  *in_bytes = g_stat (filename, &st) == 0 ? (guint64) st.st_size : 0;
  return lf_tree_deserialise_leaves (filename, like, input_spec, NULL, NULL, error);
}

/* Re-encodes IN (argv[1]) to OUT (argv[2]). */
static int
convert (char **argv, const char *spec_text, const char *rules_file, const char *like_file,
         const char *input_spec_text)
{
  GError *error = NULL;
  gint64 start_us = g_get_monotonic_time ();
  g_autofree char *target = cli_output_target (argv[2], &error);
  if (target == NULL || !cli_check_overwrite (target, &error))
    return cli_fail (error);
  g_autoptr (LfSpec) spec = cli_spec_load (spec_text, rules_file, &error);
  if (spec == NULL)
    return cli_fail (error);

  guint64 in_bytes = 0, out_bytes = 0;
  g_autoptr (LfNode) tree =
    like_file != NULL ? read_with_like (argv[1], like_file, input_spec_text, &in_bytes, &error)
                      : read_as_list (argv[1], input_spec_text, &in_bytes, &error);
  if (tree == NULL)
    return cli_fail (error);
  if (rules_file != NULL)
    {
      g_autoptr (GError) unused = NULL;
      if (!lf_spec_check_rules_used (spec, tree, NULL, NULL, &unused))
        fprintf (stderr, "leafio: warning: %s\n", unused->message);
    }
  if (!cli_save_tree_full (target, tree, spec, &out_bytes, &error))
    return cli_fail (error);
  cli_print_result (cli_is_stdio (argv[1]) ? CLI_STDIN_NAME : argv[1], in_bytes,
                    cli_is_stdio (target) ? CLI_STDOUT_NAME : target, out_bytes, start_us);
  return CLI_EXIT_OK;
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
      "The spec IN was saved with: with --like any spec (default " LF_CODEC_DEFAULT "), "
      "without it the codec of every record (default: each record's is recognised)", "SPEC" },
    CLI_OPTION_FORCE,
    CLI_OPTION_QUIET,
    CLI_OPTION_HUMAN,
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("IN OUT");
  g_option_context_set_summary (context,
    "Re-encodes IN with another spec and writes OUT atomically (\".eqx\" is\n"
    "added when OUT has no suffix).  An OUT that exists (IN itself, say) is\n"
    "replaced only with --force.  IN '-' reads stdin, OUT '-' writes stdout\n"
    "(not atomically).  When done, one line on stderr gives the sizes, their\n"
    "ratio, the time and the rate (--quiet: none).\n\n"
    "Without --like, records are read as they describe themselves (each by\n"
    "the codec that recognises it, or by --input-spec's codec) as the leaves\n"
    "of a list, so no skeleton is needed; rules then match the paths [0], [1],\n"
    "...; a record may decode to at most --max-record-size bytes.\n"
    "With --like, IN is loaded into the skeleton (with --input-spec) and\n"
    "saved with the new spec, so rules see the real leaf paths.");
  g_option_context_set_description (context,
    "Examples:\n"
    "  leafio convert --spec float16 model.eqx model-f16.eqx\n"
    "  leafio convert --spec 'compressed(level=19)' model.eqx small.eqx\n"
    "  leafio convert --input-spec int8-affine --spec npy small.eqx plain.eqx\n"
    "  leafio convert --rules rules.txt --like skeleton.json model.eqx out.eqx");
  g_option_context_add_main_entries (context, entries, NULL);
  cli_limits_add_options (context);
  if (!cli_parse_options (context, &argc, &argv, 2))
    return CLI_EXIT_ERROR;
  if (spec_text == NULL && rules_file == NULL)
    {
      fprintf (stderr, "leafio: convert needs --spec or --rules\n");
      return CLI_EXIT_ERROR;
    }
  return convert (argv, spec_text, rules_file, like_file, input_spec_text);
}
