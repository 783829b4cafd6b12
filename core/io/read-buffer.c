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
 *
 * When the pool has nothing to give, a stream's big reads are carved out
 * of one reservation for the rest of its file (a read arena), laid out as
 * the file is.  One mapping advised for huge pages throughout lets the
 * kernel back nearly all of it with 2 MiB pages, including where one
 * leaf's last pages and the next one's first pages share a 2 MiB page:
 * with a mapping per leaf, those ends took 4 KiB pages, a third of a fresh
 * process's page faults, and on virtual machines that hand idle memory
 * back to the host every 4 KiB fault of fresh memory is dear.  Each carved
 * piece is still a mapping of its own pages, freed (or pooled) alone.
 *
 * Middle-sized reads (a few KiB to a few hundred) are too small for pages
 * of their own and too big for the heap to keep: glibc gives a freed tree
 * of them back to the kernel, and every load of the next one faulted its
 * pages in again.  They are carved out of 2 MiB slabs that the pool
 * recycles like any buffer; a slab goes back when its last piece is freed
 * (so one piece kept alive keeps its slab).
 */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <leafio/leafio.h>
#include "read-buffer-private.h"
#include "settings-private.h"

#define PAGE ((gsize) 4096)
#define HUGE_PAGE ((gsize) 2 << 20)
#define POOL_SLOTS 256
#define DEFAULT_POOL_MB 1024

typedef struct {
  guint8 *start;   /* PAGE-aligned (HUGE_PAGE-aligned when mapped alone) */
  gsize length;    /* multiple of PAGE */
} Mapping;

#define SLAB_SIZE HUGE_PAGE
/* A destination this far ahead of its source modulo the page, or less,
 * copies at a third of the speed on some machines: skipped. */
#define ALIASING_SPAN 1024

struct _LfReadSlab {
  Mapping mapping;
  gsize used;
  gint refs;
};

/* A reservation of address space for the rest of a file: [cursor, end)
 * is not handed out yet.  A byte at file offset f goes to about
 * base + (f - file_base) + drift: drift grows by whole pages when a piece
 * would start in the last page of the one before (each piece owns its
 * pages). */
struct _LfReadArena {
  guint8 *base, *cursor, *end;
  guint64 file_base;
  gsize drift;
};

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
 * one is kept for a big leaf), trimmed to `length`. */
static gboolean
pool_take (gsize length, Mapping *out)
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
  return FALSE;
}

/* A new mapping of `length` bytes, 2 MiB-aligned so that huge pages can
 * back it; NULL when none can be had. */
static guint8 *
map_aligned (gsize length)
{
  gsize reserve = length + HUGE_PAGE;
  guint8 *base = mmap (NULL, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
  if (base == MAP_FAILED)
    return NULL;
  guint8 *start = (guint8 *) (((guintptr) base + HUGE_PAGE - 1) & ~(guintptr) (HUGE_PAGE - 1));
  if (start > base)
    munmap (base, (gsize) (start - base));
  if (start + length < base + reserve)
    munmap (start + length, (gsize) (base + reserve - (start + length)));
  return start;
}

/* A pooled mapping, or a new one (`*fresh`: never touched). */
static gboolean
mapping_take (gsize length, Mapping *out, gboolean *fresh)
{
  *fresh = FALSE;
  if (pool_take (length, out))
    return TRUE;
  *fresh = TRUE;
  out->start = map_aligned (length);
  out->length = length;
  return out->start != NULL;
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

static GBytes *
read_buffer_wrap (Mapping mapping, guint8 *data, gsize size)
{
  ReadBuffer *buffer = g_new (ReadBuffer, 1);
  buffer->mapping = mapping;
  buffer->size = size;
  return g_bytes_new_with_free_func (data, size, read_buffer_free, buffer);
}

/* Where a buffer's data starts in its first page: at the file offset's
 * place modulo the page, rounded down to 64 bytes (aligned for any dtype). */
static gsize
page_shift (guint64 file_offset)
{
  return (gsize) (file_offset % PAGE) & ~(gsize) 63;
}

GBytes *
_lf_read_buffer_new_fresh (gsize size, guint64 file_offset, guint8 **data, gboolean *fresh)
{
  g_return_val_if_fail (data != NULL && fresh != NULL, NULL);
  gsize shift = page_shift (file_offset);
  gsize length = (shift + size + PAGE - 1) & ~(PAGE - 1);
  Mapping mapping;
  if (!mapping_take (length, &mapping, fresh))
    return NULL;
  *data = mapping.start + shift;
  advise_huge_pages (*data, size);
  return read_buffer_wrap (mapping, *data, size);
}

GBytes *
lf_read_buffer_new (gsize size, guint64 file_offset, guint8 **data)
{
  gboolean fresh;
  return _lf_read_buffer_new_fresh (size, file_offset, data, &fresh);
}

/* ---- read arenas ------------------------------------------------------------ */

/* Reserves address space for `bytes_left` bytes of file from `file_offset`
 * on, with room for the drift, advised for huge pages throughout. */
static LfReadArena *
arena_new (guint64 file_offset, guint64 bytes_left)
{
  if (bytes_left > G_MAXSIZE / 2)
    return NULL;
  gsize length = (gsize) bytes_left + (gsize) bytes_left / 64 + 2 * HUGE_PAGE;
  length = (length + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
  guint8 *base = map_aligned (length);
  if (base == NULL)
    return NULL;
#ifdef MADV_HUGEPAGE
  madvise (base, length, MADV_HUGEPAGE);
#endif
  LfReadArena *arena = g_new (LfReadArena, 1);
  arena->base = arena->cursor = base;
  arena->end = base + length;
  arena->file_base = file_offset - file_offset % PAGE;
  arena->drift = 0;
  return arena;
}

/* Carves the pages for `size` bytes at `file_offset` out of the arena:
 * from its cursor (the gap before the data goes with the piece) to the
 * page after the data.  FALSE when the data falls outside the arena. */
static gboolean
arena_carve (LfReadArena *arena, gsize size, guint64 file_offset, Mapping *out,
             guint8 **data)
{
  if (file_offset < arena->file_base)
    return FALSE;
  guint64 page = file_offset - file_offset % PAGE - arena->file_base + arena->drift;
  gsize behind = (gsize) (arena->cursor - arena->base);
  if (page < behind)
    {
      arena->drift += behind - (gsize) page;
      page = behind;
    }
  gsize shift = page_shift (file_offset);
  gsize length = (gsize) (arena->end - arena->base);
  if (page > length || length - (gsize) page < shift + size)
    return FALSE;
  guint8 *at = arena->base + (gsize) page;
  /* A gap of 2 MiB or more (records read otherwise): unmapped, up to the
   * huge page the data starts in. */
  guint8 *gap_end = (guint8 *) ((guintptr) at & ~(guintptr) (HUGE_PAGE - 1));
  if (gap_end >= arena->cursor + HUGE_PAGE)
    {
      munmap (arena->cursor, (gsize) (gap_end - arena->cursor));
      arena->cursor = gap_end;
    }
  guint8 *stop = (guint8 *) (((guintptr) at + shift + size + PAGE - 1) & ~(guintptr) (PAGE - 1));
  out->start = arena->cursor;
  out->length = (gsize) (stop - arena->cursor);
  arena->cursor = stop;
  *data = at + shift;
  return TRUE;
}

GBytes *
_lf_read_buffer_new_in (LfReadArena **arena, gsize size, guint64 file_offset,
                        guint64 bytes_left, guint8 **data, gboolean *fresh)
{
  g_return_val_if_fail (arena != NULL && data != NULL && fresh != NULL, NULL);
  gsize shift = page_shift (file_offset);
  gsize length = (shift + size + PAGE - 1) & ~(PAGE - 1);
  Mapping mapping;
  *fresh = FALSE;
  if (pool_take (length, &mapping))
    {
      *data = mapping.start + shift;
      advise_huge_pages (*data, size);
      return read_buffer_wrap (mapping, *data, size);
    }
  *fresh = TRUE;
  if (*arena == NULL)
    *arena = arena_new (file_offset, MAX (bytes_left, (guint64) size));
  if (*arena != NULL && arena_carve (*arena, size, file_offset, &mapping, data))
    return read_buffer_wrap (mapping, *data, size);
  return lf_read_buffer_new (size, file_offset, data);
}

/* Faulting a fresh huge page in from inside read(2)'s copy cost 3-5 times
 * more kernel time here than faulting it in first (500 MB: 0.5-1.4 s
 * against 0.13-0.15 s of system time, Linux 6.18 in a microVM), and the
 * read then copies into present pages.  Kernels before 5.14 say EINVAL:
 * not asked again. */
void
_lf_read_buffer_populate (guint8 *data, gsize count)
{
#ifdef MADV_POPULATE_WRITE
  static gint unsupported;
  if (count == 0 || g_atomic_int_get (&unsupported))
    return;
  guintptr from = (guintptr) data & ~(guintptr) (PAGE - 1);
  guintptr to = ((guintptr) data + count + PAGE - 1) & ~(guintptr) (PAGE - 1);
  if (madvise ((void *) from, to - from, MADV_POPULATE_WRITE) != 0 && errno == EINVAL)
    g_atomic_int_set (&unsupported, 1);
#else
  (void) data;
  (void) count;
#endif
}

void
_lf_read_arena_free (LfReadArena *arena)
{
  if (arena == NULL)
    return;
  if (arena->end > arena->cursor)
    munmap (arena->cursor, (gsize) (arena->end - arena->cursor));
  g_free (arena);
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

/* ---- slabs for middle-sized reads ------------------------------------------------ */

static void
slab_unref (gpointer data)
{
  LfReadSlab *slab = data;
  if (g_atomic_int_dec_and_test (&slab->refs))
    {
      mapping_give_back (slab->mapping);
      g_free (slab);
    }
}

GBytes *
_lf_read_slab_new (LfReadSlab **slab, gsize count, const guint8 *source, guint8 **data)
{
  g_return_val_if_fail (slab != NULL && data != NULL, NULL);
  g_return_val_if_fail (count <= LF_READ_SLAB_MAX, NULL);
  for (int attempt = 0; attempt < 2; attempt++)
    {
      LfReadSlab *current = *slab;
      if (current == NULL)
        {
          Mapping mapping;
          gboolean fresh;
          if (!mapping_take (SLAB_SIZE, &mapping, &fresh))
            return NULL;
          current = *slab = g_new (LfReadSlab, 1);
          current->mapping = mapping;
          current->used = 0;
          current->refs = 1;   /* the stream's */
        }
      guint8 *at = current->mapping.start + current->used;
      gsize ahead = (gsize) ((guintptr) at - (guintptr) source) % PAGE;
      if (source != NULL && ahead != 0 && ahead < ALIASING_SPAN)
        at += ALIASING_SPAN - ahead;
      at = (guint8 *) (((guintptr) at + 63) & ~(guintptr) 63);
      gsize offset = (gsize) (at - current->mapping.start);
      if (offset <= SLAB_SIZE && SLAB_SIZE - offset >= count)
        {
          current->used = offset + count;
          g_atomic_int_inc (&current->refs);
          *data = at;
          return g_bytes_new_with_free_func (at, count, slab_unref, current);
        }
      *slab = NULL;   /* full: the next one */
      slab_unref (current);
    }
  return NULL;
}

void
_lf_read_slab_release (LfReadSlab *slab)
{
  if (slab != NULL)
    slab_unref (slab);
}
