/* Helpers every subcommand uses: option parsing, error output, specs. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "cli-private.h"

gboolean cli_quiet = FALSE;
gboolean cli_force = FALSE;
gboolean cli_human = FALSE;
guint64 cli_max_record_size = CLI_DEFAULT_MAX_RECORD_SIZE;
guint64 cli_max_stdin = G_MAXUINT64;  /* until cli_limits_init */

/* GOption stops at "--" but leaves it among the arguments; every command
 * takes what follows it as file names ("leafio inspect -- -d.eqx"). */
static void
drop_end_of_options (int *argc, char **argv)
{
  for (int i = 1; i < *argc; i++)
    if (strcmp (argv[i], "--") == 0)
      {
        memmove (&argv[i], &argv[i + 1], (gsize) (*argc - i) * sizeof (char *));
        (*argc)--;
        return;
      }
}

/* GOption's messages ("Unknown option --x", "Missing argument for -s")
 * as leafio writes its own: lower case after "leafio: ", plain quotes. */
static char *
own_words (const char *message)
{
  g_autoptr (GString) text = g_string_new (NULL);
  for (const char *p = message; *p != '\0'; p++)
    {
      /* U+201C and U+201D, GLib's quotes */
      if (g_str_has_prefix (p, "\xe2\x80\x9c") || g_str_has_prefix (p, "\xe2\x80\x9d"))
        {
          g_string_append_c (text, '\'');
          p += 2;
        }
      else
        g_string_append_c (text, *p);
    }
  if (text->len > 1 && g_ascii_isupper (text->str[0]) && !g_ascii_isupper (text->str[1]))
    text->str[0] = g_ascii_tolower (text->str[0]);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

gboolean
cli_parse_options (GOptionContext *context, int *argc, char ***argv, int n_args)
{
  g_autoptr (GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_autofree char *message = own_words (error->message);
      fprintf (stderr, "leafio: %s\nRun `%s --help` for usage.\n", message, g_get_prgname ());
      return FALSE;
    }
  drop_end_of_options (argc, *argv);
  /* (*argv)[0] is the subcommand's name. */
  int have = *argc - 1;
  gboolean ok = n_args >= 0 ? have == n_args : have >= -n_args;
  if (!ok)
    {
      const char *what = have < (n_args >= 0 ? n_args : -n_args) ? "missing" : "too many";
      fprintf (stderr, "leafio: %s arguments\n", what);
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);
      fputs (help, stderr);
      return FALSE;
    }
  return TRUE;
}

int
cli_fail (GError *error)
{
  fflush (stdout);
  fprintf (stderr, "leafio: %s\n", error != NULL ? error->message : "unknown error");
  g_clear_error (&error);
  return CLI_EXIT_ERROR;
}

LfSpec *
cli_spec_load (const char *text, const char *rules_file, GError **error)
{
  g_autofree char *contents = NULL;

  /* "@FILE" holds the spec text (a long JSON spec tree, say): a regular
   * file, read as the library reads its side inputs. */
  if (text != NULL && text[0] == '@')
    {
      contents = lf_read_side_file (text + 1, LF_SIDE_FILE_MAX, NULL, error);
      if (contents == NULL)
        {
          g_prefix_error (error, "--spec: ");
          return NULL;
        }
      g_strchomp (contents);
      text = contents;
    }

  LfSpec *spec;
  if (rules_file != NULL)
    spec = lf_spec_load_rules_file (NULL, rules_file, text, error);
  else if (text != NULL)
    spec = lf_spec_parse (NULL, text, error);
  else
    spec = lf_spec_new_for_reference (NULL, LF_CODEC_DEFAULT, error);
  return spec;
}

void
cli_leaf_get_type (LfNode *leaf, LfDType *dtype, guint *ndim, const gsize **shape)
{
  if (lf_node_get_kind (leaf) == LF_NODE_ARRAY)
    {
      *dtype = lf_array_get_dtype (leaf);
      *ndim = lf_array_get_ndim (leaf);
      *shape = lf_array_get_shape (leaf);
    }
  else if (lf_node_get_kind (leaf) == LF_NODE_SCALAR)
    {
      *dtype = lf_scalar_get_dtype (leaf);
      *ndim = 0;
      *shape = NULL;
    }
  else
    {
      *dtype = LF_DTYPE_INVALID;
      *ndim = 0;
      *shape = NULL;
    }
}

char *
cli_leaf_describe (LfNode *leaf)
{
  LfNodeKind kind = lf_node_get_kind (leaf);
  if (kind != LF_NODE_ARRAY && kind != LF_NODE_SCALAR)
    return g_strdup (lf_node_kind_name (kind));

  LfDType dtype;
  guint ndim;
  const gsize *shape;
  cli_leaf_get_type (leaf, &dtype, &ndim, &shape);
  g_autofree char *shape_text = lf_shape_to_string (ndim, shape);
  return g_strdup_printf ("%s %s", lf_dtype_name (dtype), shape_text);
}

void
cli_print_json (JsonNode *root)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, root);
  g_autofree char *text = json_generator_to_data (generator, NULL);
  puts (text);
}

int
cli_check_plugins (void)
{
  GPtrArray *load_errors = lf_registry_get_load_errors (lf_registry_get_default ());
  gboolean clash = FALSE;
  for (guint i = 0; load_errors != NULL && i < load_errors->len; i++)
    {
      const GError *e = g_ptr_array_index (load_errors, i);
      gboolean is_clash = g_error_matches (e, LF_ERROR, LF_ERROR_DUPLICATE_NAME);
      fprintf (stderr, "leafio: %s%s\n", is_clash ? "" : "warning: ", e->message);
      clash |= is_clash;
    }
  if (clash)
    fprintf (stderr, "leafio: two plugins provide the same codec name; remove one of them "
                     "(`leafio codecs` lists them)\n");
  return clash ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

/* ---- limits ------------------------------------------------------------------ */

gboolean
cli_parse_size (const char *what, const char *text, guint64 *value, GError **error)
{
  static const char units[] = "KMGTPE";
  char *end = NULL;
  errno = 0;
  guint64 n = g_ascii_isdigit (text[0]) ? g_ascii_strtoull (text, &end, 10) : 0;
  guint shift = 0;
  gboolean ok = end != NULL && errno == 0;
  if (ok && *end != '\0')
    {
      const char *unit = strchr (units, g_ascii_toupper (*end));
      ok = unit != NULL;
      if (ok)
        {
          shift = 10 * (guint) (unit - units + 1);
          end++;
          ok = *end == '\0' || strcmp (end, "B") == 0 || strcmp (end, "iB") == 0;
        }
    }
  if (!ok || n > (G_MAXUINT64 >> shift))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: expected a size in bytes such as "
                   "4096, 512M or 4GiB, found '%s'", what, text);
      return FALSE;
    }
  *value = n << shift;
  return TRUE;
}

/* Half the physical memory: a pipe that never ends fails before the
 * machine runs out, not after. */
static guint64
default_max_stdin (void)
{
  long pages = sysconf (_SC_PHYS_PAGES), page = sysconf (_SC_PAGESIZE);
  if (pages <= 0 || page <= 0)
    return G_MAXUINT64;
  return (guint64) pages / 2 * (guint64) page;
}

gboolean
cli_limits_init (GError **error)
{
  const char *record = g_getenv (CLI_MAX_RECORD_SIZE_ENV);
  const char *in = g_getenv (CLI_MAX_STDIN_ENV);
  cli_max_stdin = default_max_stdin ();
  if (record != NULL
      && !cli_parse_size (CLI_MAX_RECORD_SIZE_ENV, record, &cli_max_record_size, error))
    return FALSE;
  if (in != NULL && !cli_parse_size (CLI_MAX_STDIN_ENV, in, &cli_max_stdin, error))
    return FALSE;
  if (cli_max_stdin == 0)
    cli_max_stdin = G_MAXUINT64;
  return TRUE;
}

static gboolean
parse_max_record_size (const char *option_name, const char *value, gpointer data,
                       GError **error)
{
  return cli_parse_size (option_name, value, &cli_max_record_size, error);
}

void
cli_limits_add_options (GOptionContext *context)
{
  const GOptionEntry entries[] = {
    { "max-record-size", 0, 0, G_OPTION_ARG_CALLBACK, parse_max_record_size,
      "The most one record may decode to when read without --like (default 4GiB, or "
      CLI_MAX_RECORD_SIZE_ENV "; 0: no limit)", "SIZE" },
    { NULL }
  };
  g_option_context_add_main_entries (context, entries, NULL);
}

/* ---- files named on the command line ----------------------------------------- */

gboolean
cli_is_stdio (const char *name)
{
  return name != NULL && strcmp (name, CLI_STDIO) == 0;
}

gboolean
cli_claim_stdin (GError **error)
{
  static gboolean claimed = FALSE;
  if (claimed)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED,
                   "'-' (stdin) is named twice: only one input can be read from stdin");
      return FALSE;
    }
  claimed = TRUE;
  return TRUE;
}

#define STDIN_CHUNK ((gsize) 1 << 20)

static GBytes *
fail_stdin_too_large (guint8 *data, gsize size, GError **error)
{
  g_free (data);
  g_set_error (error, LF_ERROR, LF_ERROR_TOO_LARGE, "%s: more than %" G_GSIZE_FORMAT
               " bytes: too large to hold in memory (the limit is %s or half the "
               "memory); save it to a file and name the file instead", CLI_STDIN_NAME, size,
               CLI_MAX_STDIN_ENV);
  return NULL;
}

GBytes *
cli_read_stdin (GError **error)
{
  gsize size = 0, allocated = 0;
  guint8 *data = NULL;
  /* One byte past the limit is read to tell "at the limit" from "over". */
  guint64 limit = MIN (cli_max_stdin, (guint64) G_MAXSIZE - STDIN_CHUNK);
  for (;;)
    {
      if (size > limit)
        return fail_stdin_too_large (data, (gsize) limit, error);
      if (allocated - size < STDIN_CHUNK)
        {
          gsize want = (gsize) MIN ((guint64) MAX (allocated * 2, STDIN_CHUNK),
                                    MAX (limit + 1, (guint64) size + STDIN_CHUNK));
          guint8 *bigger = want > allocated ? g_try_realloc (data, want) : NULL;
          if (bigger == NULL)
            return fail_stdin_too_large (data, size, error);
          data = bigger;
          allocated = want;
        }
      ssize_t n = read (STDIN_FILENO, data + size, allocated - size);
      if (n == 0)
        break;
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          int errsv = errno;
          g_free (data);
          g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot read: %s", CLI_STDIN_NAME,
                       g_strerror (errsv));
          return NULL;
        }
      size += (gsize) n;
    }
  return g_bytes_new_take (data, size);
}

gboolean
cli_check_overwrite (const char *path, GError **error)
{
  GStatBuf st;
  if (cli_force || cli_is_stdio (path) || g_lstat (path, &st) != 0)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_FAILED,
               "%s: already exists; use -f (--force) to replace it", path);
  return FALSE;
}

LfNode *
cli_load_skeleton_file (const char *option, const char *path, GError **error)
{
  LfNode *like = lf_tree_from_json_file (path, error);
  if (like == NULL)
    {
      g_prefix_error (error, "%s: ", option);
      /* Say what the file should have been, once. */
      char *message = g_strconcat ((*error)->message, " (expected a skeleton JSON file, as "
                                   "`leafio skeleton FILE` writes)", NULL);
      g_free ((*error)->message);
      (*error)->message = message;
    }
  return like;
}

/* ---- sizes and results --------------------------------------------------------- */

char *
cli_format_size_units (guint64 bytes)
{
  /* GLib puts a no-break space (UTF-8 even in the C locale) before the
   * unit; a plain one reads the same, in every locale and in scripts. */
  char *text = g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
  char *nbsp;
  while ((nbsp = strstr (text, "\xc2\xa0")) != NULL)
    {
      *nbsp = ' ';
      memmove (nbsp + 1, nbsp + 2, strlen (nbsp + 2) + 1);
    }
  return text;
}

char *
cli_format_size (guint64 bytes)
{
  if (cli_human)
    return cli_format_size_units (bytes);
  return g_strdup_printf ("%" G_GUINT64_FORMAT, bytes);
}

void
cli_print_result (const char *in_name, guint64 in_bytes, const char *out_name,
                  guint64 out_bytes, gint64 start_us)
{
  if (cli_quiet)
    return;
  double seconds = (double) (g_get_monotonic_time () - start_us) / G_USEC_PER_SEC;
  g_autofree char *in_text = cli_format_size (in_bytes);
  g_autofree char *out_text = cli_format_size (out_bytes);
  /* Below a millisecond the time is noise: no rate from it. */
  g_autofree char *rate = seconds >= 0.001
                            ? cli_format_size_units ((guint64) ((double) in_bytes / seconds))
                            : NULL;
  char ratio[32] = "-";
  if (in_bytes > 0)
    g_snprintf (ratio, sizeof ratio, "%.2f%%", 100.0 * (double) out_bytes / (double) in_bytes);
  fflush (stdout);
  fprintf (stderr, "leafio: %s -> %s: %s -> %s%s (%s), %.2f s%s%s%s\n", in_name, out_name,
           in_text, out_text, cli_human ? "" : " bytes", ratio, seconds,
           rate != NULL ? ", " : "", rate != NULL ? rate : "", rate != NULL ? "/s" : "");
}

guint cli_n_warnings = 0;

static GLogWriterOutput
write_log (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (!(level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE)))
    return g_log_writer_default (level, fields, n_fields, user_data);
  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, "MESSAGE") == 0)
      {
        fflush (stdout);
        fprintf (stderr, "leafio: warning: %s\n", (const char *) fields[i].value);
        cli_n_warnings++;
        return G_LOG_WRITER_HANDLED;
      }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

/* At exit: output that never reached stdout (a full disk, a closed
 * terminal) is an error, or `leafio inspect F > out` on a full disk
 * would exit 0 with `out` empty.  Covers every way out, --help's too. */
static void
check_stdout (void)
{
  /* Flushed, not closed: a command that printed nothing may run with
   * stdout closed. */
  errno = 0;
  if (fflush (stdout) == 0 && !ferror (stdout))
    return;
  int errsv = errno;
  /* A reader that went away (`| head`, with SIGPIPE ignored) took what it
   * wanted: the command's own status stands, as with SIGPIPE's default. */
  if (errsv == EPIPE)
    return;
  if (errsv != 0)
    fprintf (stderr, "leafio: %s: cannot write: %s\n", CLI_STDOUT_NAME, g_strerror (errsv));
  else
    fprintf (stderr, "leafio: %s: cannot write\n", CLI_STDOUT_NAME);
  _exit (CLI_EXIT_ERROR);
}

void
cli_check_stdout_at_exit (void)
{
  atexit (check_stdout);
}

void
cli_log_init (void)
{
  g_log_set_writer_func (write_log, NULL, NULL);
}
