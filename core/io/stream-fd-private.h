/* The two sources over a file descriptor, shared by stream-fd.c (the
 * classes) and stream-fd-fast.c (their fast paths). */
#pragma once

#include "read-buffer-private.h"
#include "stream-source-private.h"

/* A path leafio opened for reading: its own fd, read ahead. */
typedef struct {
  LfStream parent;
  int fd;
  guint64 raw_offset;      /* bytes pulled from the fd (the fd's offset) */
  LfReadArena *arena;      /* where big reads go (NULL until one needs it) */
} PathStream;

/* A caller's fd: read exactly, written through the write buffer. */
typedef struct {
  LfStream parent;
  int fd;
  gboolean close_fd;
  /* The fd offset of stream position 0, found once (fd_start_known). */
  gboolean start_checked, start_known;
  guint64 fd_start;
  gboolean no_preallocate; /* fallocate failed once: not again */
  gboolean owns_tail;      /* the file past our start is ours (a new file) */
  guint64 reserved_end;    /* position up to which the file was extended ahead */
  gboolean write_behind;   /* the file will be synced: start its writeback early */
  gsize unsynced;          /* bytes written since writeback was last started */
} FdStream;

/* One read(2) into `buffer`, EINTR retried: up to `count` bytes, 0 at the
 * end, -1 with `error` naming the stream. */
G_GNUC_INTERNAL gssize _lf_fd_read (LfStream *stream, int fd, void *buffer, gsize count,
                                    GError **error);

/* ---- fast paths (stream-fd-fast.c) ---- */

/* A path's fill: refills its read-ahead window. */
G_GNUC_INTERNAL gssize _lf_path_fill (LfStream *stream, GError **error);
/* Reads at least this big from a path get a buffer of their own
 * (read-buffer.c); smaller ones from LF_READ_SLAB_MIN on share slabs. */
#define LF_PATH_BIG_READ_MIN LF_READ_SLAB_MAX
/* A path's read_bytes: big reads into buffers of their own, split over two
 * threads (NULL with `error` unset when no buffer could be had). */
G_GNUC_INTERNAL GBytes *_lf_path_read_bytes (LfStream *stream, gsize count, GError **error);

/* An fd's reserve, flush (cuts a file extended ahead back to what was
 * written), write2, can_rewrite and rewrite slots. */
G_GNUC_INTERNAL void _lf_fd_reserve (LfStream *stream, guint64 position, gsize count);
G_GNUC_INTERNAL gboolean _lf_fd_flush (LfStream *stream, GError **error);
G_GNUC_INTERNAL gboolean _lf_fd_write2 (LfStream *stream, gconstpointer header,
                                        gsize header_size, gconstpointer data,
                                        gsize data_size, GError **error);
/* After `count` bytes went to the fd at its offset: with write_behind,
 * starts the writeback of every WRITE_BEHIND_STEP bytes written. */
G_GNUC_INTERNAL void _lf_fd_wrote (FdStream *self, gsize count);
G_GNUC_INTERNAL gboolean _lf_fd_can_rewrite (LfStream *stream);
G_GNUC_INTERNAL gboolean _lf_fd_rewrite (LfStream *stream, guint64 position,
                                         const guint8 *data, gsize count, GError **error);
