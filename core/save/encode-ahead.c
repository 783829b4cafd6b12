/* Encoding leaves ahead on a thread pool, for codecs flagged
 * LF_CODEC_PARALLEL_SMALL_LEAVES: the walker queues small leaves here, the
 * pool encodes them into memory, and the walker takes the records back in
 * the order it queued them, so the file is the one a single thread writes.
 *
 * Leaves travel in batches (up to BATCH_LEAVES leaves or BATCH_BYTES of
 * leaf data): a tiny leaf compresses in about the time it takes to hand a
 * job to a thread, so one job a leaf would buy nothing. */
#include "config.h"
#include <leafio/leafio.h>
#include "encode-ahead-private.h"
#include "settings-private.h"

#define BATCH_LEAVES 64
#define BATCH_BYTES ((gsize) 256 << 10)
/* Batches queued at most, per worker, and bytes of leaf data at most: what
 * the encoded records waiting to be written may hold in memory. */
#define BATCHES_PER_WORKER 4
#define MAX_QUEUED_BYTES ((gsize) 32 << 20)

typedef struct _Batch Batch;

/* A record and the batch it belongs to (freed with its last record). */
typedef struct {
  LfEncodedRecord record;
  Batch *batch;
} Item;

struct _Batch {
  LfEncodeAhead *owner;
  Item items[BATCH_LEAVES];
  guint n_items;
  guint next;            /* the next item pop hands out */
  guint alive;           /* items not yet freed */
  gsize weight;
  gboolean finished;     /* under owner->lock */
};

struct _LfEncodeAhead {
  GThreadPool *pool;
  guint max_batches;
  GQueue queue;          /* submitted batches, oldest first */
  Batch *open;           /* filling, not yet submitted */
  gsize queued_bytes;
  GMutex lock;
  GCond done;
};

/* How many threads encode: LEAFIO_ENCODE_THREADS, else one per CPU. */
static guint
worker_count (void)
{
  return (guint) _lf_setting_uint ("LEAFIO_ENCODE_THREADS", 1, 256,
                                   MAX (g_get_num_processors (), 1));
}

static void
run_batch (gpointer data, gpointer user_data)
{
  Batch *batch = data;
  (void) user_data;
  for (guint i = 0; i < batch->n_items; i++)
    {
      LfEncodedRecord *r = &batch->items[i].record;
      g_autoptr (LfStream) memory = lf_stream_new_memory ();
      if (lf_codec_serialise (r->codec, memory, r->path, r->leaf, &r->error)
          && lf_stream_flush (memory, &r->error))
        r->bytes = lf_stream_steal_bytes (memory);
    }
  g_mutex_lock (&batch->owner->lock);
  batch->finished = TRUE;
  g_cond_broadcast (&batch->owner->done);
  g_mutex_unlock (&batch->owner->lock);
}

LfEncodeAhead *
_lf_encode_ahead_new (void)
{
  guint workers = worker_count ();
  if (workers < 2)
    return NULL;
  GThreadPool *pool = g_thread_pool_new (run_batch, NULL, (gint) workers, FALSE, NULL);
  if (pool == NULL)
    return NULL;
  LfEncodeAhead *ea = g_new0 (LfEncodeAhead, 1);
  ea->pool = pool;
  ea->max_batches = workers * BATCHES_PER_WORKER;
  g_queue_init (&ea->queue);
  g_mutex_init (&ea->lock);
  g_cond_init (&ea->done);
  return ea;
}

static void
submit_open_batch (LfEncodeAhead *ea)
{
  Batch *batch = g_steal_pointer (&ea->open);
  g_queue_push_tail (&ea->queue, batch);
  ea->queued_bytes += batch->weight;
  g_thread_pool_push (ea->pool, batch, NULL);
}

void
_lf_encode_ahead_push (LfEncodeAhead *ea, LfCodec *codec, const LfPath *path,
                       LfNode *leaf, gsize weight)
{
  if (ea->open == NULL)
    {
      ea->open = g_new0 (Batch, 1);
      ea->open->owner = ea;
    }
  Batch *batch = ea->open;
  Item *item = &batch->items[batch->n_items++];
  item->batch = batch;
  item->record.codec = lf_codec_ref (codec);
  item->record.leaf = lf_node_ref (leaf);
  item->record.path = lf_path_copy (path);
  batch->alive++;
  batch->weight += weight;
  if (batch->n_items == BATCH_LEAVES || batch->weight >= BATCH_BYTES)
    submit_open_batch (ea);
}

gboolean
_lf_encode_ahead_is_full (LfEncodeAhead *ea)
{
  return ea->queue.length >= ea->max_batches || ea->queued_bytes >= MAX_QUEUED_BYTES;
}

gboolean
_lf_encode_ahead_is_empty (LfEncodeAhead *ea)
{
  return ea == NULL || (ea->queue.length == 0 && ea->open == NULL);
}

LfEncodedRecord *
_lf_encode_ahead_pop (LfEncodeAhead *ea)
{
  if (ea->queue.length == 0 && ea->open != NULL)
    submit_open_batch (ea);
  Batch *batch = g_queue_peek_head (&ea->queue);
  if (batch == NULL)
    return NULL;
  g_mutex_lock (&ea->lock);
  while (!batch->finished)
    g_cond_wait (&ea->done, &ea->lock);
  g_mutex_unlock (&ea->lock);
  Item *item = &batch->items[batch->next++];
  if (batch->next == batch->n_items)
    {
      g_queue_pop_head (&ea->queue);
      ea->queued_bytes -= batch->weight;
    }
  return &item->record;
}

void
_lf_encoded_record_free (LfEncodedRecord *record)
{
  if (record == NULL)
    return;
  Item *item = (Item *) record;   /* the record is an item's first member */
  Batch *batch = item->batch;
  lf_codec_unref (record->codec);
  lf_node_unref (record->leaf);
  lf_path_free (record->path);
  g_clear_pointer (&record->bytes, g_bytes_unref);
  g_clear_error (&record->error);
  if (--batch->alive == 0)
    g_free (batch);
}

/* Frees the items of `batch` not yet handed out (which frees the batch
 * once none is left). */
static void
drop_batch (Batch *batch)
{
  guint from = batch->next;
  guint to = batch->n_items;
  batch->next = to;
  for (guint i = from; i < to; i++)
    _lf_encoded_record_free (&batch->items[i].record);
}

void
_lf_encode_ahead_free (LfEncodeAhead *ea)
{
  if (ea == NULL)
    return;
  /* Waits for the batches already running; those not started never will. */
  g_thread_pool_free (ea->pool, TRUE, TRUE);
  Batch *batch;
  while ((batch = g_queue_pop_head (&ea->queue)) != NULL)
    drop_batch (batch);
  if (ea->open != NULL)
    drop_batch (g_steal_pointer (&ea->open));
  g_mutex_clear (&ea->lock);
  g_cond_clear (&ea->done);
  g_free (ea);
}
