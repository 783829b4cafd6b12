/* What leafio-bench and leafio-mpi-bench measure with, and the lines they
 * print for bench/run to parse:
 *   save large 0.1712 s 2907.5 MB/s 148 leaves 497778176 B 1156.76 us/leaf rep 2/5
 *   rss save large 512.3 MB */
#pragma once

#include <glib.h>

/* Seconds on the monotonic clock. */
double bench_now (void);

/* One timed rep: `op` ("save", "load", "load-mmap") of workload `name`. */
void bench_report (const char *op, const char *name, double seconds, guint64 n_bytes,
                   guint n_leaves, int rep, int reps);

/* The process's peak resident set so far, in MB (10^6 bytes). */
double bench_peak_rss_mb (void);
void bench_report_rss (const char *op, const char *name, double megabytes);

/* The size of `file`, or 0 when it cannot be read. */
guint64 bench_file_size (const char *file);

/* The SHA-256 of `file` in hex (free with g_free), or NULL with a
 * G_FILE_ERROR naming the file. */
char *bench_file_sha256 (const char *file, GError **error);
