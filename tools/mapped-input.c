/* Mapped inputs and SIGBUS (cli-private.h).  The tool maps the files it
 * reads; when another program cuts one short meanwhile, touching a page past
 * the new end raises SIGBUS.  The handler turns that into the tool's usual
 * error: a message naming the file, the output's temporary file removed,
 * exit status 2.  A SIGBUS at any other address is not ours to explain and
 * keeps its default action. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli-private.h"

/* diff maps two files; more never are at once. */
#define MAX_MAPPED 4

typedef struct {
  const char *volatile start;
  volatile gsize size;
  char *volatile message; /* written by the handler as is */
} MappedInput;

static MappedInput guarded[MAX_MAPPED];

static void
on_sigbus (int signum, siginfo_t *info, void *context)
{
  (void) context;
  const char *address = info->si_addr;
  for (int i = 0; i < MAX_MAPPED; i++)
    {
      const char *start = guarded[i].start;
      char *message = guarded[i].message;
      if (start != NULL && message != NULL && address >= start
          && address < start + guarded[i].size)
        {
          cli_output_remove_pending ();
          ssize_t ignored = write (STDERR_FILENO, message, strlen (message));
          (void) ignored;
          _exit (CLI_EXIT_ERROR);
        }
    }
  signal (signum, SIG_DFL);
  raise (signum);
}

static void
install_handler (void)
{
  static gboolean installed = FALSE;
  if (installed)
    return;
  struct sigaction action;
  memset (&action, 0, sizeof action);
  action.sa_sigaction = on_sigbus;
  action.sa_flags = SA_SIGINFO;
  sigemptyset (&action.sa_mask);
  sigaction (SIGBUS, &action, NULL);
  installed = TRUE;
}

static void
add_mapping (const char *filename, const void *start, gsize size)
{
  install_handler ();
  for (int i = 0; i < MAX_MAPPED; i++)
    if (guarded[i].start == NULL)
      {
        /* The message first: the handler only looks at complete slots. */
        guarded[i].message = g_strdup_printf ("leafio: %s: the file was truncated while it "
                                             "was being read (by another program?)\n",
                                             filename);
        guarded[i].size = size;
        guarded[i].start = start;
        return;
      }
}

static void
remove_mapping (const void *start)
{
  for (int i = 0; i < MAX_MAPPED; i++)
    if (guarded[i].start == start && start != NULL)
      {
        guarded[i].start = NULL;
        char *message = guarded[i].message;
        guarded[i].message = NULL;
        g_free (message);
        return;
      }
}

static void
release (gpointer user_data)
{
  GMappedFile *mapped = user_data;
  remove_mapping (g_mapped_file_get_contents (mapped));
  g_mapped_file_unref (mapped);
}

GBytes *
cli_mapped_input_get_bytes (const char *filename, GMappedFile *mapped)
{
  const char *start = g_mapped_file_get_contents (mapped);
  gsize size = g_mapped_file_get_length (mapped);
  add_mapping (filename, start, size);
  return g_bytes_new_with_free_func (start, size, release, g_mapped_file_ref (mapped));
}

void
cli_mapped_input_touch (GBytes *bytes)
{
  gsize size;
  const volatile guint8 *data = g_bytes_get_data (bytes, &size);
  guint8 sum = 0;
  for (gsize at = 0; at < size; at += 4096)
    sum ^= data[at];
  if (size > 0)
    sum ^= data[size - 1];
  (void) sum;
}
