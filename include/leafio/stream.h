/* leafio: byte streams.
 *
 * An LfStream is where records are written to and read from: a file path,
 * a file descriptor, a `FILE *`, memory, or a pair of callbacks.  Streams
 * count the bytes that pass through them (lf_stream_tell) so errors can say
 * at which offset a record starts.
 *
 * Reading never requires seeking, so pipes work.  Streams over a caller's
 * fd, `FILE *` or callbacks never consume more than the caller asked for:
 * after a load the underlying position is right after the last leaf, and the
 * caller may go on reading its own data.  Streams leafio opens itself
 * (lf_stream_new_for_path) read ahead freely.
 *
 * Writes are buffered; lf_stream_flush() hands them to the operating system
 * and reports the first write error.  A stream is not thread-safe.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <stdio.h>
#include <leafio/types.h>

G_BEGIN_DECLS

/* Reads up to `count` bytes into `buffer`.  Returns the number read, 0 at
 * the end of the input, or -1 with `error` set. */
typedef gssize (*LfReadFunc) (gpointer user_data, void *buffer, gsize count,
                              GError **error);
/* Writes all `count` bytes or fails with `error` set. */
typedef gboolean (*LfWriteFunc) (gpointer user_data, const void *buffer, gsize count,
                                 GError **error);

/* ---- constructors (all transfer full; free with lf_stream_free) ---------- */

/* Opens `path` for reading (read-ahead buffered).  With `map` TRUE the file
 * is memory-mapped and lf_stream_read_bytes() returns slices of the mapping
 * without copying.  Fails with LF_ERROR_IO naming the path. */
LF_API LfStream *lf_stream_new_for_path (const char *path, gboolean map, GError **error);
/* Reads from or writes to `fd`; closes it on free when `close_fd`. */
LF_API LfStream *lf_stream_new_for_fd (int fd, gboolean close_fd);
/* Reads from or writes to `file`, which stays open. */
LF_API LfStream *lf_stream_new_for_file (FILE *file);
/* Reads `size` bytes at `data`, which must outlive the stream. */
LF_API LfStream *lf_stream_new_for_data (gconstpointer data, gsize size);
/* Reads `bytes` (a reference is taken); read_bytes returns slices of it. */
LF_API LfStream *lf_stream_new_for_bytes (GBytes *bytes);
/* Writes into a growing memory buffer; see lf_stream_steal_bytes(). */
LF_API LfStream *lf_stream_new_memory (void);
/* Reads and/or writes through callbacks (either may be NULL for a
 * one-way stream); `destroy (user_data)` runs on free. */
LF_API LfStream *lf_stream_new_for_callbacks (LfReadFunc read_func, LfWriteFunc write_func,
                                              gpointer user_data, GDestroyNotify destroy);

/* Flushes what it can (errors are lost: call lf_stream_flush first), closes
 * what the stream owns and frees it.  NULL is allowed. */
LF_API void lf_stream_free (LfStream *stream);

/* A name for messages: the path, "fd 3", "FILE", "memory", "callbacks".
 * lf_stream_set_name copies `name`. */
LF_API const char *lf_stream_get_name (const LfStream *stream);
LF_API void lf_stream_set_name (LfStream *stream, const char *name);

/* Bytes read or written through this stream since it was created. */
LF_API guint64 lf_stream_tell (const LfStream *stream);

/* ---- reading --------------------------------------------------------------- */

/* Reads exactly `count` bytes.  Fails with LF_ERROR_TRUNCATED ("expected N
 * bytes, found M") when the input ends first, LF_ERROR_IO on a read error. */
LF_API gboolean lf_stream_read (LfStream *stream, void *buffer, gsize count,
                                GError **error);
/* Reads up to `count` bytes; returns the number read, 0 at the end, -1 on error. */
LF_API gssize lf_stream_read_some (LfStream *stream, void *buffer, gsize count,
                                   GError **error);
/* Reads exactly `count` bytes into new GBytes (transfer full).  From a
 * mapped file or a GBytes stream the result is a slice: no copy.  When the
 * stream knows how much is left, a `count` larger than that fails with
 * LF_ERROR_TRUNCATED before anything is allocated; otherwise the read goes
 * in bounded chunks, so a lying header cannot make it allocate more than
 * the input holds plus one chunk. */
LF_API GBytes *lf_stream_read_bytes (LfStream *stream, gsize count, GError **error);
/**
 * LF_STREAM_PEEK_MAX:
 *
 * The most bytes lf_stream_peek() shows at once (64 KiB): enough for any
 * npy header numpy reads and for the start of a wrapped record.
 *
 * Since: 0.2
 */
#define LF_STREAM_PEEK_MAX ((gsize) 64 * 1024)

/**
 * lf_stream_peek:
 * @stream: a readable stream
 * @count: how many bytes to show, at most %LF_STREAM_PEEK_MAX
 * @error: return location for a #GError, or %NULL
 *
 * Shows the next @count bytes without consuming them: the next read
 * starts at the same place.  Streams over a caller's fd, `FILE *` or
 * callbacks read exactly the bytes shown and keep them, so they still
 * never consume more than is asked for.  This is how codecs describe a
 * record before anyone decodes it.
 *
 * Returns: (transfer none) (array length=count): the bytes, valid until the
 *   next call on @stream; %NULL with %LF_ERROR_TRUNCATED when the input ends
 *   first, %LF_ERROR_IO on a read error, %LF_ERROR_UNSUPPORTED when @count
 *   passes %LF_STREAM_PEEK_MAX.
 *
 * Since: 0.2
 */
LF_API const guint8 *lf_stream_peek (LfStream *stream, gsize count, GError **error);
/* Discards exactly `count` bytes (LF_ERROR_TRUNCATED if fewer remain). */
LF_API gboolean lf_stream_skip (LfStream *stream, gsize count, GError **error);
/* Sets `*at_end` to TRUE when no byte is left to read, without consuming
 * one.  May read one byte ahead and keep it for the next read. */
LF_API gboolean lf_stream_at_end (LfStream *stream, gboolean *at_end, GError **error);
/* TRUE and `*remaining` when the number of bytes left is known (memory,
 * bytes, regular files opened by path). */
LF_API gboolean lf_stream_get_remaining (const LfStream *stream, guint64 *remaining);

/* ---- writing --------------------------------------------------------------- */

LF_API gboolean lf_stream_write (LfStream *stream, gconstpointer data, gsize count,
                                 GError **error);
/* Hands buffered bytes to the operating system (or the callback). */
LF_API gboolean lf_stream_flush (LfStream *stream, GError **error);
/* Flushes, then fsync()s an fd stream (no-op for others). */
LF_API gboolean lf_stream_sync (LfStream *stream, GError **error);
/* Whether lf_stream_rewrite works on this stream: memory writers, and fds
 * of regular files (not opened O_APPEND) that have only been written to.
 * FALSE for pipes, sockets, FILE * and callback streams. */
LF_API gboolean lf_stream_can_rewrite (LfStream *stream);
/* Overwrites `count` bytes already written at `position` (a value
 * lf_stream_tell returned; position + count must not pass the current
 * position).  For writers that reserve a header and fill it in once the
 * body is written, so the body never has to be held in memory.  Fails
 * with LF_ERROR_UNSUPPORTED, writing nothing, when lf_stream_can_rewrite
 * is FALSE (buffer the body instead) or the bytes were already taken by
 * lf_stream_steal_bytes, or with LF_ERROR_IO. */
LF_API gboolean lf_stream_rewrite (LfStream *stream, guint64 position, gconstpointer data,
                                   gsize count, GError **error);
/* The bytes written to a memory stream (transfer full); the stream is
 * empty afterwards.  NULL for other streams. */
LF_API GBytes *lf_stream_steal_bytes (LfStream *stream);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfStream, lf_stream_free)

G_END_DECLS
