/* A progress bar on stderr for work that lasts more than about a second.
 *
 * Nothing is drawn when stderr is not a terminal (so pipes and logs stay
 * clean), with --quiet, or before the delay has passed (so quick commands
 * never flash a bar).  Redraws are limited to ten a second.  The rate
 * (and the time left, which needs it) is shown only once the work has run
 * for half a second: in the first ticks it is noise (a map that is read
 * at once reads as 200 GB/s, a slow first record as 1 byte/s).  The bar
 * is drawn with block characters in a UTF-8 locale, in ASCII otherwise. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli-private.h"

#define BAR_WIDTH 24
#define REDRAW_INTERVAL_US (G_USEC_PER_SEC / 10)
#define DEFAULT_DELAY_US G_USEC_PER_SEC
#define RATE_AFTER_US (G_USEC_PER_SEC / 2)

struct _CliProgress {
  char *label;
  guint64 total;
  gint64 start_us;
  gint64 delay_us;
  gint64 last_draw_us;
  gboolean enabled;
  gboolean drawn;
  gboolean utf8;   /* the locale's charset: block characters for the bar */
};

static gint64
delay_from_environment (void)
{
  /* For tests and impatient users: LEAFIO_PROGRESS_DELAY_MS=0 draws at once. */
  const char *text = g_getenv ("LEAFIO_PROGRESS_DELAY_MS");
  if (text == NULL || *text == '\0')
    return DEFAULT_DELAY_US;
  guint64 ms;
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT32, &ms, NULL))
    return DEFAULT_DELAY_US;
  return (gint64) ms * 1000;
}

CliProgress *
cli_progress_new (const char *label, guint64 total)
{
  CliProgress *progress = g_new0 (CliProgress, 1);
  progress->label = g_strdup (label);
  progress->total = total;
  progress->start_us = g_get_monotonic_time ();
  progress->delay_us = delay_from_environment ();
  progress->enabled = !cli_quiet && isatty (STDERR_FILENO);
  progress->utf8 = g_get_charset (NULL);
  return progress;
}

static char *
format_duration (double seconds)
{
  if (seconds < 0 || seconds > 360000)
    return g_strdup ("--:--");
  guint64 s = (guint64) (seconds + 0.5);
  if (s >= 3600)
    return g_strdup_printf ("%" G_GUINT64_FORMAT ":%02u:%02u", s / 3600,
                            (guint) (s / 60 % 60), (guint) (s % 60));
  return g_strdup_printf ("%u:%02u", (guint) (s / 60), (guint) (s % 60));
}

static void
append_bar (CliProgress *progress, GString *line, double fraction)
{
  guint filled = (guint) (fraction * BAR_WIDTH);
  g_string_append_c (line, '[');
  for (guint i = 0; i < BAR_WIDTH; i++)
    {
      if (progress->utf8)
        g_string_append (line, i < filled ? "\xe2\x96\x88" : "\xe2\x96\x91"); /* U+2588, U+2591 */
      else
        g_string_append_c (line, i < filled ? '#' : '-');
    }
  g_string_append_c (line, ']');
}

static void
draw (CliProgress *progress, guint64 done, gint64 now)
{
  gint64 elapsed_us = now - progress->start_us;
  double rate = elapsed_us >= RATE_AFTER_US
                  ? (double) done * G_USEC_PER_SEC / (double) elapsed_us : -1;
  g_autofree char *done_text = cli_format_size_units (done);
  g_autofree char *rate_text = rate >= 0 ? cli_format_size_units ((guint64) rate)
                                         : g_strdup ("--");
  g_autoptr (GString) line = g_string_new (NULL);

  g_string_append_printf (line, "\r%s ", progress->label);
  if (progress->total > 0)
    {
      double fraction = MIN (1.0, (double) done / (double) progress->total);
      g_autofree char *total_text = cli_format_size_units (progress->total);
      g_autofree char *left_text =
        format_duration (rate > 0 ? (double) (progress->total - MIN (done, progress->total)) / rate
                                  : -1);
      append_bar (progress, line, fraction);
      g_string_append_printf (line, " %3u%% %s / %s, %s/s, %s left",
                              (guint) (fraction * 100), done_text, total_text,
                              rate_text, left_text);
    }
  else
    g_string_append_printf (line, "%s, %s/s", done_text, rate_text);
  /* Clear what a longer previous line left behind. */
  g_string_append (line, "\033[K");
  fputs (line->str, stderr);
  fflush (stderr);
  progress->drawn = TRUE;
  progress->last_draw_us = now;
}

void
cli_progress_update (CliProgress *progress, guint64 done)
{
  if (progress == NULL || !progress->enabled)
    return;
  gint64 now = g_get_monotonic_time ();
  if (now - progress->start_us < progress->delay_us)
    return;
  if (progress->drawn && now - progress->last_draw_us < REDRAW_INTERVAL_US)
    return;
  draw (progress, done, now);
}

void
cli_progress_free (CliProgress *progress)
{
  if (progress == NULL)
    return;
  if (progress->drawn)
    {
      fputs ("\r\033[K", stderr);
      fflush (stderr);
    }
  g_free (progress->label);
  g_free (progress);
}
