/* Encoding leaves ahead on a thread pool, for codecs flagged
 * LF_CODEC_PARALLEL_SMALL_LEAVES: the walker queues small leaves here, the
 * pool encodes each into memory, and the walker takes the records back in
 * the order it queued them, so the file is the one a single thread writes. */
#include "config.h"
#include <leafio/leafio.h>
#include "encode-ahead-private.h"

/* Queued leaves at most, per worker, and bytes of leaf data at most: what
 * the encoded records waiting to be written may hold in memory. */
#define JOBS_PER_WORKER 8
#define MAX_QUEUED_BYTES ((gsize) 32 << 20)

struct _LfEncodeAhead {
  GThreadPool *pool;
  guint max_jobs;
  GQueue queue;          /* LfEncodedRecord, oldest first */
  gsize queued_bytes;
  GMutex lock;
  GCond done;
};

typedef struct {
  LfEncodedRecord record;
  LfEncodeAhead *owner;
  gsize weight;
  gboolean finished;     /* under owner->lock */
} Job;

/* How many threads encode: LEAFIO_ENCODE_THREADS, else one per CPU. */
static guint
worker_count (void)
{
  static gsize once = 0;
  static guint count;
  if (g_once_init_enter (&once))
    {
      guint64 n = 0;
      const char *v = g_getenv ("LEAFIO_ENCODE_THREADS");
      if (v == NULL || !g_ascii_string_to_unsigned (v, 10, 1, 256, &n, NULL))
        n = MAX (g_get_num_processors (), 1);
      count = (guint) n;
      g_once_init_leave (&once, 1);
    }
  return count;
}

static void
run_job (gpointer data, gpointer user_data)
{
  Job *job = data;
  LfEncodedRecord *r = &job->record;
  (void) user_data;
  g_autoptr (LfStream) memory = lf_stream_new_memory ();
  if (lf_codec_serialise (r->codec, memory, r->path, r->leaf, &r->error)
      && lf_stream_flush (memory, &r->error))
    r->bytes = lf_stream_steal_bytes (memory);
  g_mutex_lock (&job->owner->lock);
  job->finished = TRUE;
  g_cond_broadcast (&job->owner->done);
  g_mutex_unlock (&job->owner->lock);
}

LfEncodeAhead *
_lf_encode_ahead_new (void)
{
  guint workers = worker_count ();
  if (workers < 2)
    return NULL;
  GThreadPool *pool = g_thread_pool_new (run_job, NULL, (gint) workers, FALSE, NULL);
  if (pool == NULL)
    return NULL;
  LfEncodeAhead *ea = g_new0 (LfEncodeAhead, 1);
  ea->pool = pool;
  ea->max_jobs = workers * JOBS_PER_WORKER;
  g_queue_init (&ea->queue);
  g_mutex_init (&ea->lock);
  g_cond_init (&ea->done);
  return ea;
}

void
_lf_encode_ahead_push (LfEncodeAhead *ea, LfCodec *codec, const LfPath *path,
                       const char *path_text, LfNode *leaf, gsize weight)
{
  Job *job = g_new0 (Job, 1);
  job->owner = ea;
  job->weight = weight;
  job->record.codec = lf_codec_ref (codec);
  job->record.leaf = lf_node_ref (leaf);
  job->record.path = lf_path_copy (path);
  job->record.path_text = g_strdup (path_text);
  g_queue_push_tail (&ea->queue, job);
  ea->queued_bytes += weight;
  g_thread_pool_push (ea->pool, job, NULL);
}

gboolean
_lf_encode_ahead_is_full (LfEncodeAhead *ea)
{
  return ea->queue.length >= ea->max_jobs || ea->queued_bytes >= MAX_QUEUED_BYTES;
}

gboolean
_lf_encode_ahead_is_empty (LfEncodeAhead *ea)
{
  return ea == NULL || ea->queue.length == 0;
}

LfEncodedRecord *
_lf_encode_ahead_pop (LfEncodeAhead *ea)
{
  Job *job = g_queue_pop_head (&ea->queue);
  if (job == NULL)
    return NULL;
  ea->queued_bytes -= job->weight;
  g_mutex_lock (&ea->lock);
  while (!job->finished)
    g_cond_wait (&ea->done, &ea->lock);
  g_mutex_unlock (&ea->lock);
  return &job->record;
}

void
_lf_encoded_record_free (LfEncodedRecord *record)
{
  if (record == NULL)
    return;
  lf_codec_unref (record->codec);
  lf_node_unref (record->leaf);
  lf_path_free (record->path);
  g_free (record->path_text);
  g_clear_pointer (&record->bytes, g_bytes_unref);
  g_clear_error (&record->error);
  g_free ((Job *) record);   /* the record is a job's first member */
}

void
_lf_encode_ahead_free (LfEncodeAhead *ea)
{
  if (ea == NULL)
    return;
  /* Waits for the jobs already running; those not started never will. */
  g_thread_pool_free (ea->pool, TRUE, TRUE);
  Job *job;
  while ((job = g_queue_pop_head (&ea->queue)) != NULL)
    _lf_encoded_record_free (&job->record);
  g_mutex_clear (&ea->lock);
  g_cond_clear (&ea->done);
  g_free (ea);
}
