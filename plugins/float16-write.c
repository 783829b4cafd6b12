/* The float16 halves of an array, written a slot at a time.
 *
 * A float16 save is bound by the kernel's copy of the halves into the page
 * cache (bench/RESULTS.md), so the conversion must hide behind it: for big
 * arrays a second thread converts slots of a small ring ahead while this
 * one writes them.  What the two threads cost each other decides the
 * speed, hence:
 *
 *   - slots of 1 MiB: writes of that size cost the kernel least per byte,
 *     and a slot takes long enough to write that handing it over is noise;
 *     an array's first slots are smaller (1/8, 1/8, 1/4, 1/2), so that the
 *     writer starts writing soon and the converter gets ahead sooner;
 *   - a thread sleeps only when it has to, and the converter, once the
 *     ring is full, sleeps until half of it is free, so that every wake-up
 *     (a cross-core interrupt, dear on a virtual machine) buys several slots;
 *   - the writer converts a slot itself when nobody has started it (at the
 *     start of every array, or when the converter did not get a core), so
 *     it never waits for the other thread to start;
 *   - the ring outlives the save, in the codec instance: fresh memory is
 *     what a save pays most for.
 *
 * The bytes are those of converting the whole array at once. */
#include "config.h"

#include <leafio/leafio.h>

#include "float16-write.h"

/* Elements a slot holds: 1 MiB of halves. */
#define SLOT_ELEMENTS ((gsize) 512 * 1024)
#define RING_SLOTS 4
/* The slots before the first whole one: 1/8, 1/8, 1/4 and 1/2 of it. */
#define RAMP_SLOTS 4
/* From this many elements (three slots) on, a second thread converts ahead. */
#define PIPELINE_MIN_ELEMENTS (SLOT_ELEMENTS / 2)

void
float16_convert (LfDType dtype, gconstpointer src, gsize first, gsize count, guint16 *half)
{
  if (dtype == LF_DTYPE_FLOAT32)
    lf_convert_f32_to_f16 ((const float *) src + first, half, count);
  else if (dtype == LF_DTYPE_FLOAT64)
    lf_convert_f64_to_f16 ((const double *) src + first, half, count);
  else
    lf_convert_bf16_to_f16 ((const guint16 *) src + first, half, count);
}

/* ---- the ring ------------------------------------------------------------------ */

static guint16 *
ring_take (Float16RingCache *cache)
{
  guint16 *ring = g_atomic_pointer_exchange (&cache->ring, NULL);
  return ring != NULL ? ring : g_new (guint16, RING_SLOTS * SLOT_ELEMENTS);
}

/* Keeps `ring` for the next save, unless another save kept its own. */
static void
ring_give_back (Float16RingCache *cache, guint16 *ring)
{
  if (!g_atomic_pointer_compare_and_exchange (&cache->ring, NULL, ring))
    g_free (ring);
}

void
float16_ring_cache_clear (Float16RingCache *cache)
{
  g_free (g_atomic_pointer_exchange (&cache->ring, NULL));
}

/* ---- one thread ------------------------------------------------------------------ */

/* Arrays under PIPELINE_MIN_ELEMENTS fit one slot. */
G_STATIC_ASSERT (PIPELINE_MIN_ELEMENTS <= SLOT_ELEMENTS);

static gboolean
write_small (LfStream *out, LfDType dtype, gconstpointer src, gsize n, guint16 *slot,
             GError **error)
{
  float16_convert (dtype, src, 0, n, slot);
  return lf_stream_write (out, slot, n * sizeof (guint16), error);
}

/* ---- two threads ----------------------------------------------------------------- */

/* Slot i of the array is elements [slot_start (i), slot_start (i + 1)) and
 * goes to ring slot i % RING_SLOTS.  Everything below `lock` is guarded by
 * it. */
typedef struct {
  LfDType dtype;
  gconstpointer src;
  gsize n;
  gsize n_slots;
  guint16 *ring;

  GMutex lock;
  GCond converter_wakes, writer_wakes;
  gsize next;                 /* the first slot nobody converts yet */
  gsize written;              /* slots written */
  gsize ready[RING_SLOTS];    /* 1 + the slot converted into each, or 0 */
  gboolean stop;              /* the writer failed */
  gboolean converter_waits, writer_waits;
} Pipeline;

static guint16 *
slot_memory (Pipeline *p, gsize i)
{
  return p->ring + (i % RING_SLOTS) * SLOT_ELEMENTS;
}

/* The first element of slot i: the ramp's slots, then whole ones. */
static gsize
slot_start (const Pipeline *p, gsize i)
{
  gsize start = i == 0 ? 0
                : i < RAMP_SLOTS ? SLOT_ELEMENTS >> (RAMP_SLOTS - i)
                                 : (i - RAMP_SLOTS + 1) * SLOT_ELEMENTS;
  return MIN (start, p->n);
}

/* How many slots hold `n` > 0 elements. */
static gsize
count_slots (gsize n)
{
  if (n > SLOT_ELEMENTS)
    return RAMP_SLOTS - 1 + (n + SLOT_ELEMENTS - 1) / SLOT_ELEMENTS;
  gsize i = 1;
  while ((SLOT_ELEMENTS >> (RAMP_SLOTS - i)) < n)
    i++;
  return i;
}

static gsize
slot_elements (const Pipeline *p, gsize i)
{
  return slot_start (p, i + 1) - slot_start (p, i);
}

static void
convert_slot (Pipeline *p, gsize i)
{
  float16_convert (p->dtype, p->src, slot_start (p, i), slot_elements (p, i), slot_memory (p, i));
}

/* The second thread: converts the next free slot until there is none. */
static gpointer
convert_ahead (gpointer data)
{
  Pipeline *p = data;
  g_mutex_lock (&p->lock);
  for (;;)
    {
      if (p->next - p->written == RING_SLOTS)
        while (!p->stop && p->next - p->written > RING_SLOTS / 2)
          {
            p->converter_waits = TRUE;
            g_cond_wait (&p->converter_wakes, &p->lock);
          }
      p->converter_waits = FALSE;
      if (p->stop || p->next == p->n_slots)
        break;
      gsize i = p->next++;
      g_mutex_unlock (&p->lock);
      convert_slot (p, i);
      g_mutex_lock (&p->lock);
      p->ready[i % RING_SLOTS] = i + 1;
      if (p->writer_waits)
        g_cond_signal (&p->writer_wakes);
    }
  g_mutex_unlock (&p->lock);
  return NULL;
}

/* Slot i converted, by this thread when nobody has started it. */
static void
wait_for_slot (Pipeline *p, gsize i)
{
  g_mutex_lock (&p->lock);
  gboolean mine = p->next == i;
  if (mine)
    p->next++;
  else
    while (p->ready[i % RING_SLOTS] != i + 1)
      {
        p->writer_waits = TRUE;
        g_cond_wait (&p->writer_wakes, &p->lock);
      }
  p->writer_waits = FALSE;
  g_mutex_unlock (&p->lock);
  if (mine)
    convert_slot (p, i);
}

/* Slot i is written (or failed): its memory is free again. */
static void
release_slot (Pipeline *p, gsize i, gboolean ok)
{
  g_mutex_lock (&p->lock);
  p->written = i + 1;
  p->stop = !ok;
  if (p->converter_waits && (!ok || p->next - p->written <= RING_SLOTS / 2))
    g_cond_signal (&p->converter_wakes);
  g_mutex_unlock (&p->lock);
}

static gboolean
write_pipelined (LfStream *out, LfDType dtype, gconstpointer src, gsize n, guint16 *ring,
                 GError **error)
{
  Pipeline p = { .dtype = dtype, .src = src, .n = n, .n_slots = count_slots (n),
                 .ring = ring };
  g_mutex_init (&p.lock);
  g_cond_init (&p.converter_wakes);
  g_cond_init (&p.writer_wakes);
  /* Without a second thread this one converts every slot. */
  GThread *converter = g_thread_try_new ("leafio-float16", convert_ahead, &p, NULL);
  gboolean ok = TRUE;
  for (gsize i = 0; i < p.n_slots && ok; i++)
    {
      wait_for_slot (&p, i);
      ok = lf_stream_write (out, slot_memory (&p, i), slot_elements (&p, i) * sizeof (guint16),
                            error);
      release_slot (&p, i, ok);
    }
  if (converter != NULL)
    g_thread_join (converter);
  g_cond_clear (&p.writer_wakes);
  g_cond_clear (&p.converter_wakes);
  g_mutex_clear (&p.lock);
  return ok;
}

gboolean
float16_write_halves (Float16RingCache *cache, LfStream *out, LfNode *leaf, GError **error)
{
  LfDType dtype = lf_array_get_dtype (leaf);
  gsize n = lf_array_get_n_elements (leaf);
  gconstpointer src = lf_array_get_data (leaf);
  if (n == 0)
    return TRUE;
  guint16 *ring = ring_take (cache);
  gboolean ok = n >= PIPELINE_MIN_ELEMENTS ? write_pipelined (out, dtype, src, n, ring, error)
                                           : write_small (out, dtype, src, n, ring, error);
  ring_give_back (cache, ring);
  return ok;
}
