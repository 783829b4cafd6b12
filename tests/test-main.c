/* The main() of every Check suite: fatal criticals and warnings, a private
 * temporary directory, and no fork under a debugger. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <unistd.h>
#include "test-common.h"

static char *tmpdir;
static gboolean expecting_critical;
static int criticals_seen;

int
lf_test_expect_critical (gboolean start)
{
  int seen = criticals_seen;
  expecting_critical = start;
  criticals_seen = 0;
  return seen;
}

static void
log_handler (const char *domain, GLogLevelFlags level, const char *message,
             gpointer user_data)
{
  if (expecting_critical && (level & G_LOG_LEVEL_CRITICAL))
    {
      criticals_seen++;
      return;
    }
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      fprintf (stderr, "unexpected log message: %s: %s\n",
               domain ? domain : "", message);
      abort ();
    }
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    {
      const char *name;
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          char *child = g_build_filename (path, name, NULL);
          if (g_file_test (child, G_FILE_TEST_IS_DIR)
              && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
          g_free (child);
        }
      g_dir_close (dir);
    }
  g_chmod (path, 0700);
  g_rmdir (path);
}

static void
cleanup_tmpdir (void)
{
  if (tmpdir != NULL)
    remove_tree (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
}

const char *
lf_test_tmpdir (void)
{
  if (tmpdir == NULL)
    {
      GError *error = NULL;
      tmpdir = g_dir_make_tmp ("leafio-test-XXXXXX", &error);
      if (tmpdir == NULL)
        {
          fprintf (stderr, "cannot make a temporary directory: %s\n", error->message);
          abort ();
        }
      atexit (cleanup_tmpdir);
    }
  return tmpdir;
}

char *
lf_test_path (const char *name)
{
  return g_build_filename (lf_test_tmpdir (), name, NULL);
}

const char *
lf_test_top_builddir (void)
{
  const char *dir = g_getenv ("LF_TOP_BUILDDIR");
  return dir != NULL ? dir : "..";
}

void
lf_test_child_exit (int code)
{
  char command[32];
  g_snprintf (command, sizeof command, "exit %d", code);
  execl ("/bin/sh", "sh", "-c", command, (char *) NULL);
  _exit (code);
}

GBytes *
lf_test_read_file (const char *path)
{
  char *contents = NULL;
  gsize length = 0;
  GError *error = NULL;
  if (!g_file_get_contents (path, &contents, &length, &error))
    ck_abort_msg ("cannot read %s: %s", path, error->message);
  return g_bytes_new_take (contents, length);
}

void
lf_test_write_file (const char *path, const void *data, gsize size)
{
  GError *error = NULL;
  if (!g_file_set_contents (path, data, (gssize) size, &error))
    ck_abort_msg ("cannot write %s: %s", path, error->message);
}

int
main (void)
{
  g_log_set_default_handler (log_handler, NULL);
  g_log_set_handler ("leafio", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL, log_handler, NULL);
  g_log_set_handler ("GLib", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL, log_handler, NULL);

  SRunner *runner = srunner_create (lf_test_suite ());
  /* Forked tests hide state from gdb and add noise under valgrind. */
  if (g_getenv ("CK_FORK") == NULL && g_getenv ("LF_TEST_NO_FORK") != NULL)
    srunner_set_fork_status (runner, CK_NOFORK);
  srunner_run_all (runner, CK_NORMAL);
  int failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

LfSpec *
lf_test_spec (const char *reference)
{
  GError *error = NULL;
  LfSpec *spec = lf_spec_new_for_reference (NULL, reference, &error);
  ck_assert_msg (spec != NULL, "%s: %s", reference, error != NULL ? error->message : "?");
  return spec;
}

LfCodec *
lf_test_codec (const char *reference)
{
  GError *error = NULL;
  LfCodec *codec = lf_registry_resolve (lf_registry_get_default (), reference, &error);
  ck_assert_msg (codec != NULL, "%s: %s", reference, error != NULL ? error->message : "?");
  return codec;
}

GBytes *
lf_test_save_bytes (LfNode *tree, LfSpec *spec)
{
  GError *error = NULL;
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  ck_assert (lf_tree_serialise_leaves_to_stream (out, tree, spec, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_stream_flush (out, &error));
  return lf_stream_steal_bytes (out);
}

GBytes *
lf_test_save_bytes_ref (LfNode *tree, const char *reference)
{
  g_autoptr (LfSpec) spec = lf_test_spec (reference);
  return lf_test_save_bytes (tree, spec);
}

typedef struct {
  GByteArray *bytes;
  gsize fail_after;
} Sink;

static gboolean
sink_write (gpointer user_data, const void *buffer, gsize count, GError **error)
{
  Sink *sink = user_data;
  if (sink->bytes->len + count > sink->fail_after)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "the sink is full");
      return FALSE;
    }
  g_byte_array_append (sink->bytes, buffer, (guint) count);
  return TRUE;
}

GBytes *
lf_test_save_into_sink (LfNode *tree, LfSpec *spec, gsize fail_after, GError **error)
{
  Sink sink = { g_byte_array_new (), fail_after };
  LfStream *out = lf_stream_new_for_callbacks (NULL, sink_write, &sink, NULL);
  gboolean ok = lf_tree_serialise_leaves_to_stream (out, tree, spec, NULL, NULL, error)
                && lf_stream_flush (out, error);
  lf_stream_free (out);
  GBytes *bytes = g_byte_array_free_to_bytes (sink.bytes);
  if (ok)
    return bytes;
  g_bytes_unref (bytes);
  return NULL;
}

LfNode *
lf_test_load_bytes (GBytes *bytes, LfNode *like, const char *reference, GError **error)
{
  g_autoptr (LfSpec) spec = lf_test_spec (reference);
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (bytes);
  lf_stream_set_name (in, "test.eqx");
  LfNode *out = lf_tree_deserialise_leaves_from_stream (in, like, spec, NULL, NULL, error);
  if (out != NULL)
    {
      gboolean at_end = FALSE;
      ck_assert (lf_stream_at_end (in, &at_end, NULL));
      ck_assert_msg (at_end, "bytes left after the last leaf");
    }
  return out;
}

LfNode *
lf_test_load_ok (GBytes *bytes, LfNode *like, const char *reference)
{
  GError *error = NULL;
  LfNode *out = lf_test_load_bytes (bytes, like, reference, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_ptr_nonnull (out);
  return out;
}
