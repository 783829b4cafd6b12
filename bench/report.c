/* Timer, peak memory, file checks and the report lines of the benchmarks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "report.h"

double
bench_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void
bench_report (const char *op, const char *name, double seconds, guint64 n_bytes,
              guint n_leaves, int rep, int reps)
{
  printf ("%s %s %.6f s %.1f MB/s %u leaves %" G_GUINT64_FORMAT " B %.3f us/leaf rep %d/%d\n",
          op, name, seconds, n_bytes / seconds / 1e6, n_leaves, n_bytes,
          seconds / n_leaves * 1e6, rep, reps);
  fflush (stdout);
}

double
bench_peak_rss_mb (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_maxrss * 1024.0 / 1e6;   /* ru_maxrss is in KiB on Linux */
}

void
bench_report_rss (const char *op, const char *name, double megabytes)
{
  printf ("rss %s %s %.1f MB\n", op, name, megabytes);
  fflush (stdout);
}

guint64
bench_file_size (const char *file)
{
  struct stat st;
  return stat (file, &st) == 0 ? (guint64) st.st_size : 0;
}

char *
bench_file_sha256 (const char *file, GError **error)
{
  int fd = open (file, O_RDONLY);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", file,
                   g_strerror (saved));
      return NULL;
    }
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc (1 << 20);
  ssize_t n;
  while ((n = read (fd, buf, 1 << 20)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          close (fd);
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", file,
                       g_strerror (saved));
          return NULL;
        }
      g_checksum_update (sum, buf, (gssize) n);
    }
  close (fd);
  return g_strdup (g_checksum_get_string (sum));
}
