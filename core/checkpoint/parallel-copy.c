/* Copying many buffers with every CPU.  One thread's memcpy does not use
 * all of a machine's memory bandwidth, and a caller that waits for a copy
 * (an asynchronous save's snapshot) waits for all of it.  The work is cut
 * into one byte range per thread; the caller copies the first range and
 * a process-wide pool copies the others, so no thread is made per call. */
#include "config.h"
#include <string.h>
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

/* One call's ranges, shared with the pool.  Whoever claims a range copies
 * it; the caller claims what no helper took, so it never waits for a
 * thread that did not start, and it waits for those that claimed one.  A
 * helper that runs after the call only finds nothing left to claim, hence
 * the reference count. */
typedef struct {
  gint refs;
  guint n;
  gint next;             /* the next range to claim (atomic) */
  GMutex lock;
  GCond done;
  guint finished;        /* ranges copied, under lock */
  Range ranges[];
} Work;

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
work_unref (Work *work)
{
  if (!g_atomic_int_dec_and_test (&work->refs))
    return;
  g_mutex_clear (&work->lock);
  g_cond_clear (&work->done);
  g_free (work);
}

/* Copies ranges until none is left to claim. */
static void
copy_claimed (Work *work)
{
  for (;;)
    {
      guint k = (guint) g_atomic_int_add (&work->next, 1);
      if (k >= work->n)
        return;
      copy_range (&work->ranges[k]);
      g_mutex_lock (&work->lock);
      if (++work->finished == work->n)
        g_cond_signal (&work->done);
      g_mutex_unlock (&work->lock);
    }
}

static void
help_copy (gpointer data, gpointer user_data)
{
  (void) user_data;
  copy_claimed (data);
  work_unref (data);
}

/* The pool of helpers (the caller is the last thread), or NULL with one
 * thread.  Not exclusive: idle threads are shared with GLib's other pools
 * and ended after a while. */
static GThreadPool *
helper_pool (guint *n_threads)
{
  static gsize initialised;
  static GThreadPool *pool;
  static guint threads;
  if (g_once_init_enter (&initialised))
    {
      threads = copy_threads ();
      if (threads > 1)
        pool = g_thread_pool_new (help_copy, NULL, (gint) threads - 1, FALSE, NULL);
      g_once_init_leave (&initialised, 1);
    }
  *n_threads = pool != NULL ? threads : 1;
  return pool;
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
  guint threads = 1;
  GThreadPool *pool = total >= 2 * PART_MIN ? helper_pool (&threads) : NULL;
  guint n = (guint) MIN ((gsize) threads, total / PART_MIN);
  if (pool == NULL || n < 2)
    {
      Range whole = { jobs, { 0, 0 }, { n_jobs, 0 } };
      copy_range (&whole);
      return;
    }
  Position boundaries[MAX_THREADS + 1];
  cut_ranges (jobs, n_jobs, total, n, boundaries);
  Work *work = g_malloc0 (sizeof (Work) + n * sizeof (Range));
  work->refs = 1;
  work->n = n;
  g_mutex_init (&work->lock);
  g_cond_init (&work->done);
  for (guint k = 0; k < n; k++)
    work->ranges[k] = (Range) { jobs, boundaries[k], boundaries[k + 1] };
  /* The caller is the n-th thread.  A push that could not start a thread
   * still queues its reference, which a later helper drops. */
  for (guint k = 1; k < n; k++)
    {
      g_atomic_int_inc (&work->refs);
      g_thread_pool_push (pool, work, NULL);
    }
  copy_claimed (work);
  g_mutex_lock (&work->lock);
  while (work->finished < n)
    g_cond_wait (&work->done, &work->lock);
  g_mutex_unlock (&work->lock);
  work_unref (work);
}
