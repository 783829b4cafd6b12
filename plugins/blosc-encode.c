/* The chunks of one array, compressed by `threads` workers, each chunk by
 * one thread with blosc's context call, and written in order by the
 * calling thread, which hashes the raw data meanwhile.  blosc's own
 * threads would write a chunk's blocks in the order they finish; one
 * thread per chunk keeps the bytes the same for every thread count.  At
 * most two chunks per worker are in memory, compressed or waiting. */
#include "config.h"

#include <blosc.h>
#include <xxhash.h>

#include "blosc-encode.h"

#define SPLIT_MIN_ELEMENTS 128

typedef struct {
  guint8 *buffer;           /* chunk_size + BLOSC_MAX_OVERHEAD bytes */
  int size;                 /* bytes compressed into buffer; 0: pending */
} Slot;

typedef struct {
  const LfBloscParams *params;
  const guint8 *data;
  gsize size, chunk_size;
  guint64 n_chunks;
  GMutex lock;
  GCond cond;
  guint64 next;             /* the next chunk a worker takes */
  guint64 limit;            /* chunks below this have a free slot */
  guint window;             /* slots, chunk i in slots[i % window] */
  Slot *slots;
  gboolean stop;
} Encoder;

/* blosc's size for chunk `index`, or a value <= 0 on failure. */
static int
compress_chunk (const Encoder *e, guint64 index, guint8 *dest)
{
  const LfBloscParams *p = e->params;
  gsize at = (gsize) index * e->chunk_size;
  gsize n = MIN (e->chunk_size, e->size - at);
  /* c-blosc 1.21 writes split buffers of under 128 elements that it
   * cannot read back; shuffling so few is worth nothing anyway. */
  gsize typesize = n < SPLIT_MIN_ELEMENTS * p->typesize ? 1 : p->typesize;
  int written = blosc_compress_ctx (p->clevel, p->shuffle, typesize, n, e->data + at, dest,
                                    n + BLOSC_MAX_OVERHEAD, p->compressor, p->blocksize, 1);
  return written > 0 ? written : -1;
}

static gpointer
worker (gpointer user_data)
{
  Encoder *e = user_data;
  g_mutex_lock (&e->lock);
  for (;;)
    {
      while (!e->stop && e->next < e->n_chunks && e->next >= e->limit)
        g_cond_wait (&e->cond, &e->lock);
      if (e->stop || e->next >= e->n_chunks)
        break;
      guint64 index = e->next++;
      Slot *slot = &e->slots[index % e->window];
      g_mutex_unlock (&e->lock);
      int written = compress_chunk (e, index, slot->buffer);
      g_mutex_lock (&e->lock);
      slot->size = written;
      g_cond_broadcast (&e->cond);
    }
  g_mutex_unlock (&e->lock);
  return NULL;
}

/* Waits for chunk `index`, writes it and frees its slot. */
static gboolean
write_next (Encoder *e, guint64 index, LfStream *sink, guint64 *compressed_size,
            GError **error)
{
  Slot *slot = &e->slots[index % e->window];
  g_mutex_lock (&e->lock);
  while (slot->size == 0)
    g_cond_wait (&e->cond, &e->lock);
  int size = slot->size;
  g_mutex_unlock (&e->lock);
  if (size < 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED,
                   "blosc: compressing chunk %" G_GUINT64_FORMAT " failed", index);
      return FALSE;
    }
  if (!lf_stream_write (sink, slot->buffer, (gsize) size, error))
    return FALSE;
  *compressed_size += (guint64) size;
  g_mutex_lock (&e->lock);
  slot->size = 0;
  e->limit++;
  g_cond_broadcast (&e->cond);
  g_mutex_unlock (&e->lock);
  return TRUE;
}

/* Starts up to `threads` workers (fewer when the system refuses). */
static GPtrArray *
start_workers (Encoder *e, int threads)
{
  GPtrArray *workers = g_ptr_array_new ();
  for (int i = 0; i < threads; i++)
    {
      GThread *thread = g_thread_try_new ("lf-blosc", worker, e, NULL);
      if (thread == NULL)
        break;
      g_ptr_array_add (workers, thread);
    }
  return workers;
}

gboolean
lf_blosc_encode_chunks (const LfBloscParams *params, const guint8 *data, gsize size,
                        gsize chunk_size, int threads, LfStream *sink,
                        guint64 *compressed_size, guint64 *checksum, GError **error)
{
  Encoder e = { .params = params, .data = data, .size = size, .chunk_size = chunk_size };
  e.n_chunks = size / chunk_size + (size % chunk_size != 0);
  threads = (int) MIN ((guint64) MAX (threads, 1), MAX (e.n_chunks, 1));
  e.window = 2 * (guint) threads;
  e.limit = e.window;
  e.slots = g_new0 (Slot, e.window);
  for (guint i = 0; i < e.window && i < e.n_chunks; i++)
    e.slots[i].buffer = g_malloc (MIN (chunk_size, size) + BLOSC_MAX_OVERHEAD);
  g_mutex_init (&e.lock);
  g_cond_init (&e.cond);
  XXH3_state_t *hash = XXH3_createState ();
  if (hash == NULL || XXH3_64bits_reset (hash) != XXH_OK)
    g_error ("xxhash: cannot create a state");

  /* Without workers this thread compresses each chunk before writing it. */
  g_autoptr (GPtrArray) workers = threads > 1 ? start_workers (&e, threads) : NULL;
  gboolean ok = TRUE;
  *compressed_size = 0;
  for (guint64 i = 0; ok && i < e.n_chunks; i++)
    {
      gsize at = (gsize) i * chunk_size;
      XXH3_64bits_update (hash, data + at, MIN (chunk_size, size - at));
      if (workers == NULL || workers->len == 0)
        {
          e.next = i + 1;
          e.slots[i % e.window].size = compress_chunk (&e, i, e.slots[i % e.window].buffer);
        }
      ok = write_next (&e, i, sink, compressed_size, error);
    }

  g_mutex_lock (&e.lock);
  e.stop = TRUE;
  g_cond_broadcast (&e.cond);
  g_mutex_unlock (&e.lock);
  for (guint i = 0; workers != NULL && i < workers->len; i++)
    g_thread_join (workers->pdata[i]);
  *checksum = XXH3_64bits_digest (hash);
  XXH3_freeState (hash);
  for (guint i = 0; i < e.window; i++)
    g_free (e.slots[i].buffer);
  g_free (e.slots);
  g_mutex_clear (&e.lock);
  g_cond_clear (&e.cond);
  return ok;
}
