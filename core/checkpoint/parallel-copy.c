/* Copying many buffers with every CPU.  One thread's memcpy does not use
 * all of a machine's memory bandwidth, and a caller that waits for a copy
 * (an asynchronous save's snapshot) waits for all of it.  The work is cut
 * into one byte range per thread; the caller copies the first range and
 * helper threads (helper-threads.c) the others.
 *
 * Big pieces are copied with streaming stores, which write memory without
 * reading the destination's lines into the cache first: memcpy does so
 * only for single copies bigger than most of the cache, and a snapshot of
 * many leaves of a few MiB each, copied with plain stores, moved half as
 * much data again and took 1.4-1.5 times as long as one big copy. */
#include "config.h"
#include <string.h>
#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#define HAVE_STREAMING_STORES 1
#endif
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

/* Pieces from this size on bypass the cache. */
#define STREAMING_MIN ((gsize) 256 << 10)

static void
copy_piece (guint8 *dest, const guint8 *source, gsize size)
{
#ifdef HAVE_STREAMING_STORES
  if (size >= STREAMING_MIN)
    {
      gsize head = (16 - (guintptr) dest % 16) % 16;
      memcpy (dest, source, head);
      gsize i = head;
      for (; i + 64 <= size; i += 64)
        {
          __m128i a = _mm_loadu_si128 ((const __m128i *) (source + i));
          __m128i b = _mm_loadu_si128 ((const __m128i *) (source + i + 16));
          __m128i c = _mm_loadu_si128 ((const __m128i *) (source + i + 32));
          __m128i d = _mm_loadu_si128 ((const __m128i *) (source + i + 48));
          _mm_stream_si128 ((__m128i *) (dest + i), a);
          _mm_stream_si128 ((__m128i *) (dest + i + 16), b);
          _mm_stream_si128 ((__m128i *) (dest + i + 32), c);
          _mm_stream_si128 ((__m128i *) (dest + i + 48), d);
        }
      memcpy (dest + i, source + i, size - i);
      return;
    }
#endif
  memcpy (dest, source, size);
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
      copy_piece (jobs[j].dest + start, jobs[j].source + start, end - start);
    }
#ifdef HAVE_STREAMING_STORES
  /* Streaming stores are weakly ordered: all of them land before whoever
   * waits for this range is told it is done. */
  _mm_sfence ();
#endif
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
