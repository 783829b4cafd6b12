/* Copying many buffers with every CPU (parallel-copy.c), for snapshots of
 * borrowed arrays that the caller waits for. */
#pragma once

#include <glib.h>

/* One buffer to copy. */
typedef struct {
  guint8 *dest;
  const guint8 *source;
  gsize size;
} LfCopyJob;

/* Copies every job before it returns.  Big copies are shared out over
 * LEAFIO_COPY_THREADS threads (default one per CPU; the caller is one of
 * them) in byte ranges of about equal size; only big jobs are cut, at page
 * boundaries.  Never fails: a part no thread could take is copied by the
 * caller. */
G_GNUC_INTERNAL void _lf_parallel_copy (const LfCopyJob *jobs, guint n_jobs);
