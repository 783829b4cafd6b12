/* leafio: look into, build, convert and compare .eqx files.
 *
 * main() picks the subcommand and hands it the rest of the command line;
 * each subcommand parses its own options (so each has its own --help). */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli-private.h"

typedef struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} CliCommand;

static const CliCommand commands[] = {
  { "codecs", cli_cmd_codecs, "list the registered codecs" },
  { "inspect", cli_cmd_inspect, "list a file's records: offset, size, codec, dtype, shape" },
  { "skeleton", cli_cmd_skeleton, "print a skeleton JSON of a file's records" },
  { "unpack", cli_cmd_unpack, "write each record of a file as an .npy file" },
  { "pack", cli_cmd_pack, "write .npy files as one .eqx file" },
  { "convert", cli_cmd_convert, "re-encode a file with another spec" },
  { "diff", cli_cmd_diff, "compare two files record by record" },
  { "show", cli_cmd_show, "print one leaf's values (or --stats), reading only its record" },
  { "verify", cli_cmd_verify, "check a file against its manifest or a skeleton" },
  { "ls", cli_cmd_ls, "list the steps of a checkpoint directory" },
};

static void
print_usage (FILE *out)
{
  fprintf (out,
           "Usage:\n  leafio COMMAND [OPTION…] [ARG…]\n\n"
           "Look into, build, convert and compare .eqx files (Equinox's\n"
           "tree_serialise_leaves format).\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out,
           "\nOptions:\n"
           "  -h, --help     this list\n"
           "  -V, --version  leafio's version and the library's\n"
           "\n`leafio COMMAND --help` describes a command's options.  A file named\n"
           "'-' is stdin (an input) or stdout (an output).\n"
           "Exit status: 0 success, 1 differences found (diff), 2 error.\n");
}

static const CliCommand *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  cli_log_init ();
  cli_check_stdout_at_exit ();

  if (argc < 2)
    {
      print_usage (stderr);
      return CLI_EXIT_ERROR;
    }
  const char *name = argv[1];
  if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0)
    {
      print_usage (stdout);
      return CLI_EXIT_OK;
    }
  if (strcmp (name, "--version") == 0 || strcmp (name, "-V") == 0)
    {
      printf ("leafio %s (library %s)\n", LF_VERSION_STRING, lf_get_version ());
      return CLI_EXIT_OK;
    }

  /* `leafio help COMMAND` is `leafio COMMAND --help`. */
  gboolean help = strcmp (name, "help") == 0;
  if (help)
    {
      if (argc < 3)
        {
          print_usage (stdout);
          return CLI_EXIT_OK;
        }
      name = argv[2];
    }

  const CliCommand *command = find_command (name);
  if (command == NULL)
    {
      fprintf (stderr, "leafio: unknown command '%s'; run `leafio --help` for the list\n",
               name);
      return CLI_EXIT_ERROR;
    }

  /* Usage lines read "leafio inspect [OPTION…] FILE". */
  g_autofree char *prgname = g_strdup_printf ("leafio %s", command->name);
  g_set_prgname (prgname);

  GError *error = NULL;
  if (!help && !cli_limits_init (&error))
    return cli_fail (error);
  if (help)
    {
      char *help_argv[] = { (char *) command->name, (char *) "--help", NULL };
      return command->run (2, help_argv);
    }
  /* `codecs` lists load errors itself, and must run to diagnose them. */
  if (command->run != cli_cmd_codecs && cli_check_plugins () != CLI_EXIT_OK)
    return CLI_EXIT_ERROR;
  return command->run (argc - 1, argv + 1);
}
