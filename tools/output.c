/* Output files written atomically through LfAtomicFile: a temporary file
 * beside the target, synced, then renamed over it.  What the tool adds is
 * signal handling, so that an interrupted command leaves the previous file
 * as it was and no temporary behind. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli-private.h"

struct _CliOutput {
  LfAtomicFile *file;   /* NULL: writing to stdout */
  int fd;
  char *pending_copy; /* the temporary's path, for the signal handler */
  LfStream *stream;
  CliProgress *progress;
  guint64 written;
};

/* The temporary file being written, removed if the user interrupts us
 * (the tool writes one output at a time).  A copy of the path that lives
 * until the LfAtomicFile is freed, so the handler never reads freed memory. */
static char *volatile pending_tmp_path;

void
cli_output_remove_pending (void)
{
  char *tmp = pending_tmp_path;
  if (tmp != NULL)
    unlink (tmp); /* async-signal-safe */
}

static void
remove_pending_and_die (int signum)
{
  cli_output_remove_pending ();
  signal (signum, SIG_DFL);
  raise (signum);
}

static const int cleanup_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

/* Installs the handlers once and blocks their signals, so that a signal
 * arriving between creating the temporary file and recording its name
 * waits until the name is recorded (then the handler removes the file). */
static void
block_cleanup_signals (sigset_t *old)
{
  static gboolean installed = FALSE;
  sigset_t set;
  sigemptyset (&set);
  for (gsize i = 0; i < G_N_ELEMENTS (cleanup_signals); i++)
    sigaddset (&set, cleanup_signals[i]);
  sigprocmask (SIG_BLOCK, &set, old);
  if (!installed)
    {
      for (gsize i = 0; i < G_N_ELEMENTS (cleanup_signals); i++)
        signal (cleanup_signals[i], remove_pending_and_die);
      installed = TRUE;
    }
}

static gboolean
write_all (gpointer user_data, const void *buffer, gsize count, GError **error)
{
  CliOutput *output = user_data;
  const guint8 *p = buffer;
  int fd = output->fd;

  while (count > 0)
    {
      ssize_t n = write (fd, p, MIN (count, (gsize) G_MAXSSIZE));
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          int errsv = errno;
          /* The stream names the file before this message. */
          g_set_error (error, LF_ERROR, LF_ERROR_IO, "cannot write: %s", g_strerror (errsv));
          return FALSE;
        }
      p += n;
      count -= (gsize) n;
      output->written += (guint64) n;
      cli_progress_update (output->progress, output->written);
    }
  return TRUE;
}

/* stdout ("-"): written as it comes, so not atomic: a failed command
 * leaves what it wrote so far in the pipe or file behind stdout. */
static CliOutput *
output_new_for_stdout (void)
{
  CliOutput *output = g_new0 (CliOutput, 1);
  output->fd = STDOUT_FILENO;
  output->stream = lf_stream_new_for_callbacks (NULL, write_all, output, NULL);
  lf_stream_set_name (output->stream, CLI_STDOUT_NAME);
  return output;
}

CliOutput *
cli_output_new (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  if (cli_is_stdio (path))
    {
      /* As zstd does: binary records would garble a terminal. */
      if (isatty (STDOUT_FILENO) && !cli_force)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_FAILED, "%s is a terminal: not writing "
                       "binary data there; redirect it, or use -f (--force)", CLI_STDOUT_NAME);
          return NULL;
        }
      return output_new_for_stdout ();
    }
  if (!cli_check_overwrite (path, error))
    return NULL;
  sigset_t old_mask;
  block_cleanup_signals (&old_mask);
  LfAtomicFile *file = lf_atomic_file_new (path, error);
  char *pending_copy = NULL;
  if (file != NULL)
    {
      pending_copy = g_strdup (lf_atomic_file_get_temporary_path (file));
      pending_tmp_path = pending_copy;
    }
  sigprocmask (SIG_SETMASK, &old_mask, NULL);
  if (file == NULL)
    return NULL;

  CliOutput *output = g_new0 (CliOutput, 1);
  output->file = file;
  output->fd = lf_atomic_file_get_fd (file);
  output->pending_copy = pending_copy;
  output->stream = lf_stream_new_for_callbacks (NULL, write_all, output, NULL);
  lf_stream_set_name (output->stream, path);
  return output;
}

LfStream *
cli_output_get_stream (CliOutput *output)
{
  return output->stream;
}

void
cli_output_set_progress (CliOutput *output, const char *label, guint64 total)
{
  cli_progress_free (output->progress);
  output->progress = cli_progress_new (label, total);
}

gboolean
cli_output_commit (CliOutput *output, GError **error)
{
  if (!lf_stream_flush (output->stream, error))
    return FALSE;
  if (output->file == NULL)
    return TRUE;
  if (!lf_atomic_file_commit (output->file, TRUE, error))
    return FALSE;
  /* Renamed into place: nothing left for the handler to remove. */
  pending_tmp_path = NULL;
  return TRUE;
}

void
cli_output_free (CliOutput *output)
{
  if (output == NULL)
    return;
  cli_progress_free (output->progress);
  /* The stream's buffered bytes would go to a file we are about to
   * remove; drop the callback target first. */
  lf_stream_free (output->stream);
  /* Removes an uncommitted temporary file before the handler forgets its
   * name: a signal in between still finds it. */
  if (output->file != NULL)
    lf_atomic_file_free (output->file);
  pending_tmp_path = NULL;
  g_free (output->pending_copy);
  g_free (output);
}

guint64
cli_output_get_written (CliOutput *output)
{
  return output->written;
}

gboolean
cli_write_file_atomic (const char *path, GBytes *bytes, GError **error)
{
  g_autoptr (CliOutput) output = cli_output_new (path, error);
  if (output == NULL)
    return FALSE;
  gsize size;
  gconstpointer data = g_bytes_get_data (bytes, &size);
  if (!lf_stream_write (output->stream, data, size, error))
    return FALSE;
  return cli_output_commit (output, error);
}

typedef struct {
  guint64 total;
  gboolean known;
} SavedSize;

/* Adds the size of `leaf`'s record when its codec writes an npy header and
 * the array's own bytes (as the default codec does); gives up otherwise. */
static gboolean
add_record_size (const LfPath *path, LfNode *leaf, LfCodec *codec, gpointer user_data,
                 GError **error)
{
  SavedSize *self = user_data;
  if (!lf_codec_handles (codec, leaf))
    return TRUE;
  LfDType dtype;
  guint ndim;
  const gsize *shape;
  gsize n_bytes;
  char header[LF_NPY_HEADER_MAX];
  cli_leaf_get_type (leaf, &dtype, &ndim, &shape);
  LfCodecCapabilities caps;
  lf_codec_get_capabilities (codec, &caps);
  if (dtype == LF_DTYPE_INVALID
      || !lf_codec_has_flags (codec, LF_CODEC_ROW_RANGES | LF_CODEC_RAW_DATA)
      || !lf_shape_n_bytes (dtype, ndim, shape, &n_bytes))
    {
      self->known = FALSE;
      return FALSE;
    }
  self->total += lf_npy_header_format (header, sizeof header, dtype, ndim, shape,
                                       self->total, caps.data_alignment);
  self->total += n_bytes;
  return TRUE;
}

/* The size of `tree` saved with `spec`, for the progress bar; 0 when it
 * cannot be told from the leaves alone. */
static guint64
saved_size (LfNode *tree, LfSpec *spec)
{
  SavedSize self = { 0, TRUE };
  if (!lf_spec_foreach_leaf (spec, tree, NULL, NULL, add_record_size, &self, NULL)
      || !self.known)
    return 0;
  return self.total;
}

char *
cli_output_target (const char *path, GError **error)
{
  if (cli_is_stdio (path))
    return g_strdup (path);
  /* pathlib's name: what is left after trailing "/" and "/.". */
  g_autofree char *trimmed = g_strdup (path);
  for (gsize n = strlen (trimmed); n > 1; n = strlen (trimmed))
    if (trimmed[n - 1] == '/')
      trimmed[n - 1] = '\0';
    else if (n > 2 && trimmed[n - 1] == '.' && trimmed[n - 2] == '/')
      trimmed[n - 2] = '\0';
    else
      break;
  const char *slash = strrchr (trimmed, '/');
  const char *name = slash != NULL ? slash + 1 : trimmed;
  if (*name == '\0' || strcmp (name, ".") == 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO,
                   "'%s': the path names a directory, not a file to write", path);
      return NULL;
    }
  return lf_path_with_eqx_suffix (path);
}

gboolean
cli_save_tree_full (const char *path, LfNode *tree, LfSpec *spec, guint64 *written,
                    GError **error)
{
  g_autofree char *target = cli_output_target (path, error);
  if (target == NULL)
    return FALSE;
  g_autoptr (CliOutput) output = cli_output_new (target, error);
  if (output == NULL)
    return FALSE;
  cli_output_set_progress (output, "writing", saved_size (tree, spec));

  if (!lf_tree_serialise_leaves_to_stream (output->stream, tree, spec, NULL, NULL, error))
    return FALSE;
  /* A manifest beside the file it replaces would describe other data. */
  if (output->file != NULL && !lf_manifest_remove (target, error))
    return FALSE;
  if (!cli_output_commit (output, error))
    return FALSE;
  if (written != NULL)
    *written = output->written;
  return TRUE;
}

gboolean
cli_save_tree (const char *path, LfNode *tree, LfSpec *spec, GError **error)
{
  return cli_save_tree_full (path, tree, spec, NULL, error);
}
