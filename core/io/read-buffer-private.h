/* Read buffers inside the library: big reads of a stream carved out of a
 * reservation for the rest of its file (read-buffer.c). */
#pragma once

#include <leafio/leafio.h>

typedef struct _LfReadArena LfReadArena;
typedef struct _LfReadSlab LfReadSlab;

/* Reads of this many bytes and more go into pooled memory: slabs up to
 * LF_READ_SLAB_MAX, buffers of their own beyond. */
#define LF_READ_SLAB_MIN ((gsize) 4096)
#define LF_READ_SLAB_MAX ((gsize) 256 * 1024)

/* lf_read_buffer_new for a stream reading a file front to back: a pooled
 * buffer when the pool has one, else pages of `*arena` (made on first use
 * for the `bytes_left` bytes of file from `file_offset` on), else a
 * mapping of its own.  Offsets must grow from call to call.  `*fresh`:
 * whether the memory was never touched (see _lf_read_buffer_populate). */
G_GNUC_INTERNAL GBytes *_lf_read_buffer_new_in (LfReadArena **arena, gsize size,
                                                guint64 file_offset, guint64 bytes_left,
                                                guint8 **data, gboolean *fresh);

/* lf_read_buffer_new, telling in `*fresh` whether the memory was never
 * touched (see _lf_read_buffer_populate). */
G_GNUC_INTERNAL GBytes *_lf_read_buffer_new_fresh (gsize size, guint64 file_offset,
                                                   guint8 **data, gboolean *fresh);

/* Faults in the pages under [data, data + count) of a fresh buffer ahead
 * of a read into it (best effort). */
G_GNUC_INTERNAL void _lf_read_buffer_populate (guint8 *data, gsize count);

/* Unmaps what the stream did not hand out; the pieces live on alone. */
G_GNUC_INTERNAL void _lf_read_arena_free (LfReadArena *arena);

/* A piece of `count` (<= LF_READ_SLAB_MAX) bytes of `*slab`, or of a new
 * slab when it is full or NULL; placed so that a copy from `source` (may be
 * NULL) runs at full speed.  NULL when no memory could be mapped.  The
 * caller fills all of *data. */
G_GNUC_INTERNAL GBytes *_lf_read_slab_new (LfReadSlab **slab, gsize count,
                                           const guint8 *source, guint8 **data);

/* Drops the holder's reference (the slab lives while its pieces do). */
G_GNUC_INTERNAL void _lf_read_slab_release (LfReadSlab *slab);
