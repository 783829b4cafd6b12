/* Inside a stream: the part every stream shares, and the class each kind
 * of source fills in.  Shared by the files of core/io only.
 *
 * stream.c owns a read window and a write buffer and implements the public
 * calls over them; a source reads from and writes to what lies underneath,
 * through a small static class: memory and the memory writer
 * (stream-memory.c), a path leafio opened and a caller's fd (stream-fd.c,
 * with their fast paths in stream-fd-fast.c), a caller's FILE *
 * (stream-stdio.c) and callbacks (stream-callbacks.c).  Hot paths call a
 * class at most once per call on the stream, never per byte.
 */
#pragma once

#include <leafio/leafio.h>

/* Writes of at least this size skip the write buffer. */
#define LF_STREAM_WRITE_BUFFER_SIZE ((gsize) 64 * 1024)

typedef struct _LfStreamClass LfStreamClass;

struct _LfStream {
  const LfStreamClass *klass;
  char *name;
  guint64 position;        /* bytes handed to or taken from the caller */
  guint64 origin;          /* added to offsets in messages (_lf_stream_set_origin) */
  /* The size of the input, when known (memory, regular files opened by
   * path): bytes left = input_size - position. */
  gboolean size_known;
  guint64 input_size;

  /* The read window: bytes taken from the source and not yet handed out,
   * rbuf[rbuf_pos, rbuf_len).  A memory source's window is all its data; a
   * path's is its read-ahead buffer; the caller's fd, FILE and callbacks
   * only hold what lf_stream_at_end or lf_stream_peek looked at.  rbuf_base
   * is the buffer the stream owns (NULL until one is needed), rbuf_cap its
   * usable size. */
  const guint8 *rbuf;
  gsize rbuf_pos, rbuf_len;
  guint8 *rbuf_base;
  gsize rbuf_cap;
  guint8 peek_byte;        /* the window of lf_stream_at_end's one byte */

  /* Where middle-sized reads go (read-buffer-private.h; NULL until one). */
  struct _LfReadSlab *slab;

  /* The write buffer (LF_STREAM_WRITE_BUFFER_SIZE, allocated on first use). */
  guint8 *wbuf;
  gsize wbuf_len;

  /* What is written or read goes into `hashing` (an XXH3 state, NULL when
   * off) from stream position hash_start on (_lf_stream_hash_begin);
   * hashed_to is the position hashed through.  A rewrite at or after
   * hash_start, or bytes handed out without passing through the hash,
   * set hash_broken.  hash_state is the state kept for the next record. */
  struct XXH3_state_s *hashing, *hash_state;
  guint64 hash_start, hashed_to;
  gboolean hash_broken;
};

struct _LfStreamClass {
  gsize instance_size;     /* the source's struct, which starts with LfStream */

  /* ---- reading (read NULL: not readable) ---- */
  /* One read from the source itself, past the window: up to `count` bytes,
   * 0 at the end, -1 with `error` set. */
  gssize (*read) (LfStream *stream, void *buffer, gsize count, GError **error);
  /* Sources that read ahead (paths): refills the empty window with as much
   * as the source gives; returns what read returns.  NULL for sources read
   * exactly, so that their caller's position stays right after our last
   * byte. */
  gssize (*fill) (LfStream *stream, GError **error);
  /* lf_stream_read_bytes without the generic copy (a slice, a big read)
   * for reads of at least `read_bytes_min` bytes; NULL with `error` unset:
   * do it the generic way. */
  GBytes *(*read_bytes) (LfStream *stream, gsize count, GError **error);
  gsize read_bytes_min;

  /* ---- writing (write NULL: not writable) ---- */
  /* Writes all `count` bytes to the sink, or fails with `error` set. */
  gboolean (*write) (LfStream *stream, const guint8 *data, gsize count, GError **error);
  /* FALSE: lf_stream_write calls `write` directly (the memory writer). */
  gboolean buffer_writes;
  /* _lf_stream_write2 for a big `data`, in one system call (may be NULL). */
  gboolean (*write2) (LfStream *stream, gconstpointer header, gsize header_size,
                      gconstpointer data, gsize data_size, GError **error);
  /* A hint: `count` bytes will be written at stream position `position`
   * (may be NULL; see lf_stream_expect). */
  void (*reserve) (LfStream *stream, guint64 position, gsize count);
  /* What lf_stream_flush does after the write buffer went out (may be NULL). */
  gboolean (*flush) (LfStream *stream, GError **error);
  /* What lf_stream_sync does after the flush (may be NULL). */
  gboolean (*sync) (LfStream *stream, GError **error);
  /* lf_stream_can_rewrite (NULL: FALSE) and lf_stream_rewrite once it said
   * TRUE and the arguments were checked. */
  gboolean (*can_rewrite) (LfStream *stream);
  gboolean (*rewrite) (LfStream *stream, guint64 position, const guint8 *data,
                       gsize count, GError **error);
  GBytes *(*steal_bytes) (LfStream *stream);

  /* Closes and frees what the source owns (may be NULL). */
  void (*finalize) (LfStream *stream);
};

/* A new stream of `klass` (zeroed past LfStream) named `name`. */
G_GNUC_INTERNAL LfStream *_lf_stream_new (const LfStreamClass *klass, const char *name);

/* "NAME: WHAT failed: strerror" as LF_ERROR_IO. */
G_GNUC_INTERNAL void _lf_stream_set_io_error (GError **error, const LfStream *stream,
                                              const char *what, int saved_errno);
/* "NAME: expected EXPECTED bytes at offset OFFSET, found FOUND" as
 * LF_ERROR_TRUNCATED. */
G_GNUC_INTERNAL void _lf_stream_set_truncated (GError **error, const LfStream *stream,
                                               guint64 offset, guint64 expected,
                                               guint64 found);

/* A memory stream over a mapped file's bytes (taken), for
 * lf_stream_new_for_path. */
G_GNUC_INTERNAL LfStream *_lf_stream_new_for_mapping (const char *name, GBytes *mapping);

/* Every source hands the bytes it gives out to _lf_stream_hash_read, just
 * before it moves `position` past them, so that a load can check each
 * record's checksum as it reads it (_lf_stream_hash_begin). */
G_GNUC_INTERNAL void _lf_stream_hash_update (LfStream *stream, const void *data,
                                             gsize count);
/* For a source that fed the `count` bytes it hands out into `hashing`
 * itself (a big read hashed as its pieces land). */
G_GNUC_INTERNAL void _lf_stream_hashed (LfStream *stream, gsize count);

static inline void
_lf_stream_hash_read (LfStream *stream, const void *data, gsize count)
{
  if (stream->hashing != NULL)
    _lf_stream_hash_update (stream, data, count);
}
