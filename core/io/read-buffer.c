/* Buffers for big reads from files, and the pool that recycles them.
 *
 * Fresh memory is the dearest part of loading a big file: the kernel zeroes
 * every page it hands out, and on this class of machine that costs more
 * than the copy out of the page cache.  So the mapping of a freed buffer is
 * not unmapped but kept in a small pool, marked MADV_FREE: the next load
 * of a leaf of about the same size writes into it without a page fault or
 * a zeroing, while the kernel may still take its pages back whenever it
 * needs memory (a taken page reads back as zeros, which the read then
 * overwrites).  This is what allocators such as jemalloc do with freed
 * memory; glibc's heap does it by accident for numpy's smaller arrays.
 *
 * The pool holds at most LEAFIO_BUFFER_POOL_MB mebibytes (default 1024; 0
 * turns it off), and lf_release_read_buffers() empties it.
 */
#include "config.h"
#include <stdlib.h>
#include <sys/mman.h>
#include <leafio/leafio.h>
#include "settings-private.h"

#define PAGE ((gsize) 4096)
#define HUGE_PAGE ((gsize) 2 << 20)
#define POOL_SLOTS 256
#define DEFAULT_POOL_MB 1024

typedef struct {
  guint8 *start;   /* HUGE_PAGE-aligned */
  gsize length;    /* multiple of PAGE */
} Mapping;

typedef struct {
  Mapping mapping;
  gsize size;
} ReadBuffer;

static GMutex pool_lock;
static Mapping pool[POOL_SLOTS];
static guint pool_count;
static gsize pool_bytes;

static gsize
pool_capacity (void)
{
  return (gsize) _lf_setting_uint ("LEAFIO_BUFFER_POOL_MB", 0, G_MAXSIZE >> 20,
                                   DEFAULT_POOL_MB) << 20;
}

/* Advises the whole 2 MiB pages inside [start, start + size) for huge pages
 * (only whole ones: a huge page must not spill past the buffer). */
static void
advise_huge_pages (guint8 *start, gsize size)
{
#ifdef MADV_HUGEPAGE
  guintptr from = ((guintptr) start + HUGE_PAGE - 1) & ~(guintptr) (HUGE_PAGE - 1);
  guintptr to = ((guintptr) start + size) & ~(guintptr) (HUGE_PAGE - 1);
  if (to > from)
    madvise ((void *) from, to - from, MADV_HUGEPAGE);
#endif
}

/* A pooled mapping of at least `length` bytes, and not much more (a big
 * one is kept for a big leaf), trimmed to `length`; or a new one. */
static gboolean
mapping_take (gsize length, Mapping *out)
{
  gsize slack = MAX (length / 8, HUGE_PAGE);
  g_mutex_lock (&pool_lock);
  guint best = POOL_SLOTS;
  for (guint i = 0; i < pool_count; i++)
    if (pool[i].length >= length && pool[i].length - length <= slack
        && (best == POOL_SLOTS || pool[i].length < pool[best].length))
      best = i;
  if (best != POOL_SLOTS)
    {
      *out = pool[best];
      pool[best] = pool[--pool_count];
      pool_bytes -= out->length;
    }
  g_mutex_unlock (&pool_lock);
  if (best != POOL_SLOTS)
    {
      if (out->length > length)
        munmap (out->start + length, out->length - length);
      out->length = length;
      return TRUE;
    }

  /* A new mapping, 2 MiB-aligned so that huge pages can back it. */
  gsize reserve = length + HUGE_PAGE;
  guint8 *base = mmap (NULL, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
  if (base == MAP_FAILED)
    return FALSE;
  guint8 *start = (guint8 *) (((guintptr) base + HUGE_PAGE - 1) & ~(guintptr) (HUGE_PAGE - 1));
  if (start > base)
    munmap (base, (gsize) (start - base));
  if (start + length < base + reserve)
    munmap (start + length, (gsize) (base + reserve - (start + length)));
  out->start = start;
  out->length = length;
  return TRUE;
}

static void
mapping_give_back (Mapping mapping)
{
  gboolean kept = FALSE;
  g_mutex_lock (&pool_lock);
  if (pool_count < POOL_SLOTS && mapping.length <= pool_capacity () - MIN (pool_bytes, pool_capacity ()))
    {
#ifdef MADV_FREE
      kept = madvise (mapping.start, mapping.length, MADV_FREE) == 0;
#endif
      if (kept)
        {
          pool[pool_count++] = mapping;
          pool_bytes += mapping.length;
        }
    }
  g_mutex_unlock (&pool_lock);
  if (!kept)
    munmap (mapping.start, mapping.length);
}

static void
read_buffer_free (gpointer data)
{
  ReadBuffer *buffer = data;
  mapping_give_back (buffer->mapping);
  g_free (buffer);
}

GBytes *
lf_read_buffer_new (gsize size, guint64 file_offset, guint8 **data)
{
  g_return_val_if_fail (data != NULL, NULL);
  gsize shift = (gsize) (file_offset % PAGE) & ~(gsize) 63;
  gsize length = (shift + size + PAGE - 1) & ~(PAGE - 1);
  ReadBuffer *buffer = g_new (ReadBuffer, 1);
  if (!mapping_take (length, &buffer->mapping))
    {
      g_free (buffer);
      return NULL;
    }
  buffer->size = size;
  *data = buffer->mapping.start + shift;
  advise_huge_pages (*data, size);
  return g_bytes_new_with_free_func (*data, size, read_buffer_free, buffer);
}

void
lf_release_read_buffers (void)
{
  g_mutex_lock (&pool_lock);
  guint count = pool_count;
  Mapping taken[POOL_SLOTS];
  memcpy (taken, pool, count * sizeof (Mapping));
  pool_count = 0;
  pool_bytes = 0;
  g_mutex_unlock (&pool_lock);
  for (guint i = 0; i < count; i++)
    munmap (taken[i].start, taken[i].length);
}
