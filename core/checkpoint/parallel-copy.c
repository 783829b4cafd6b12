/* Copying many buffers with every CPU.  One thread's memcpy does not use
 * all of a machine's memory bandwidth, and a caller that waits for a copy
 * (an asynchronous save's snapshot) waits for all of it.  The work is cut
 * into one byte range per thread; the caller copies the first range and
 * helper threads (helper-threads.c) the others. */
#include "config.h"
#include <string.h>
#include "helper-threads-private.h"
#include "parallel-copy-private.h"
#include "settings-private.h"

#define MAX_THREADS 64
/* A range smaller than this is not worth waking a thread for. */
#define PART_MIN ((gsize) 8 << 20)
/* Jobs smaller than this are never cut: each piece costs a call. */
#define CUT_MIN ((gsize) 1 << 20)
#define PAGE ((gsize) 4096)

/* A point in the jobs: byte `offset` of job `job`; (n_jobs, 0) is the end. */
typedef struct {
  guint job;
  gsize offset;
} Position;

typedef struct {
  const LfCopyJob *jobs;
  Position from, to;     /* [from, to) */
} Range;

static guint
copy_threads (void)
{
  return (guint) _lf_setting_uint ("LEAFIO_COPY_THREADS", 1, MAX_THREADS,
                                   CLAMP (g_get_num_processors (), 1, MAX_THREADS));
}

static void
copy_range (const Range *range)
{
  const LfCopyJob *jobs = range->jobs;
  for (guint j = range->from.job;
       j < range->to.job || (j == range->to.job && range->to.offset > 0); j++)
    {
      gsize start = j == range->from.job ? range->from.offset : 0;
      gsize end = j == range->to.job ? range->to.offset : jobs[j].size;
      memcpy (jobs[j].dest + start, jobs[j].source + start, end - start);
    }
}

static void
copy_range_func (gpointer range, gpointer unused)
{
  copy_range (range);
}

/* Cuts the jobs into `n` ranges of about equal size (`boundaries` gets
 * n + 1 positions).  A range ends at a job's end, or, inside a job of
 * CUT_MIN bytes or more, at a page of it. */
static void
cut_ranges (const LfCopyJob *jobs, guint n_jobs, gsize total, guint n, Position *boundaries)
{
  guint j = 0;
  gsize before = 0;      /* bytes of the jobs before job j */
  boundaries[0] = (Position) { 0, 0 };
  for (guint k = 1; k < n; k++)
    {
      gsize target = total / n * k;
      while (j < n_jobs && before + jobs[j].size <= target)
        before += jobs[j++].size;
      gsize into = target - before;
      if (j < n_jobs && jobs[j].size >= CUT_MIN)
        boundaries[k] = (Position) { j, into & ~(PAGE - 1) };
      else if (j < n_jobs && into > jobs[j].size / 2)
        boundaries[k] = (Position) { j + 1, 0 };
      else
        boundaries[k] = (Position) { j, 0 };
    }
  boundaries[n] = (Position) { n_jobs, 0 };
}

void
_lf_parallel_copy (const LfCopyJob *jobs, guint n_jobs)
{
  gsize total = 0;
  for (guint j = 0; j < n_jobs; j++)
    total += jobs[j].size;
  guint n = _lf_helpers_available () ? (guint) MIN ((gsize) copy_threads (), total / PART_MIN)
                                     : 1;
  if (n < 2)
    {
      Range whole = { jobs, { 0, 0 }, { n_jobs, 0 } };
      copy_range (&whole);
      return;
    }
  Position boundaries[MAX_THREADS + 1];
  Range ranges[MAX_THREADS];
  LfHelperTask *tasks[MAX_THREADS];
  cut_ranges (jobs, n_jobs, total, n, boundaries);
  for (guint k = 0; k < n; k++)
    ranges[k] = (Range) { jobs, boundaries[k], boundaries[k + 1] };
  /* The caller copies the first range. */
  for (guint k = 1; k < n; k++)
    tasks[k] = _lf_helper_start (copy_range_func, &ranges[k]);
  copy_range (&ranges[0]);
  for (guint k = 1; k < n; k++)
    _lf_helper_finish (tasks[k]);
}
