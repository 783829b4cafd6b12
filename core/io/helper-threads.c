/* Work handed to another thread while the caller does something else: a
 * process-wide GThreadPool, not exclusive, so its idle threads are shared
 * with GLib's other pools and end after a while.  Whoever claims a task
 * runs it: a helper, or the caller when it comes to wait and no helper has
 * started it.  So the caller never waits for a thread that could not be
 * made, and a helper that comes late finds the task claimed; the task is
 * counted by reference so that it outlives both. */
#include "config.h"
#include "helper-threads-private.h"

struct _LfHelperTask {
  gint refs;
  gint claimed;          /* atomic */
  GFunc func;
  gpointer data;
  GMutex lock;
  GCond done;
  gboolean finished;     /* under lock */
};

static void
task_unref (LfHelperTask *task)
{
  if (!g_atomic_int_dec_and_test (&task->refs))
    return;
  g_mutex_clear (&task->lock);
  g_cond_clear (&task->done);
  g_free (task);
}

static void
run_in_helper (gpointer data, gpointer user_data)
{
  LfHelperTask *task = data;
  (void) user_data;
  if (g_atomic_int_compare_and_exchange (&task->claimed, 0, 1))
    {
      task->func (task->data, NULL);
      g_mutex_lock (&task->lock);
      task->finished = TRUE;
      g_cond_signal (&task->done);
      g_mutex_unlock (&task->lock);
    }
  task_unref (task);
}

static GThreadPool *
helper_pool (void)
{
  static gsize initialised;
  static GThreadPool *pool;
  if (g_once_init_enter (&initialised))
    {
      /* Tasks are few and short; the callers bound how many are queued. */
      if (g_get_num_processors () > 1)
        pool = g_thread_pool_new (run_in_helper, NULL, -1, FALSE, NULL);
      g_once_init_leave (&initialised, 1);
    }
  return pool;
}

gboolean
_lf_helpers_available (void)
{
  return helper_pool () != NULL;
}

LfHelperTask *
_lf_helper_start (GFunc func, gpointer data)
{
  LfHelperTask *task = g_new0 (LfHelperTask, 1);
  task->refs = 1;
  task->func = func;
  task->data = data;
  g_mutex_init (&task->lock);
  g_cond_init (&task->done);
  GThreadPool *pool = helper_pool ();
  if (pool != NULL)
    {
      /* A push that could not start a thread still queues the task: its
       * reference goes with it either way. */
      g_atomic_int_inc (&task->refs);
      g_thread_pool_push (pool, task, NULL);
    }
  return task;
}

void
_lf_helper_finish (LfHelperTask *task)
{
  if (g_atomic_int_compare_and_exchange (&task->claimed, 0, 1))
    task->func (task->data, NULL);
  else
    {
      g_mutex_lock (&task->lock);
      while (!task->finished)
        g_cond_wait (&task->done, &task->lock);
      g_mutex_unlock (&task->lock);
    }
  task_unref (task);
}
