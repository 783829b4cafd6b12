/**
 * SECTION:stream
 * @title: Streams
 * @short_description: byte sources and sinks for records
 *
 * An #LfStream is where records are written to and read from: a file path,
 * a file descriptor, a `FILE *`, memory, or a pair of callbacks.  Streams
 * count the bytes that pass through them (lf_stream_tell()) so errors can
 * say at which offset a record starts.
 *
 * Reading never requires seeking, so pipes work.  Streams over a caller's
 * fd, `FILE *` or callbacks never consume more than the caller asked for:
 * after a load the underlying position is right after the last leaf, and the
 * caller may go on reading its own data.  Streams leafio opens itself
 * (lf_stream_new_for_path()) read ahead freely.
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

/**
 * LfReadFunc:
 * @user_data: the data given to lf_stream_new_for_callbacks()
 * @buffer: (out caller-allocates) (array length=count): where to read to
 * @count: the most bytes to read
 * @error: return location for a #GError, or %NULL
 *
 * Reads up to @count bytes into @buffer.
 *
 * Returns: the number read, 0 at the end of the input, or -1 with @error
 *   set.
 *
 * Since: 0.1
 */
typedef gssize (*LfReadFunc) (gpointer user_data, void *buffer, gsize count,
                              GError **error);
/**
 * LfWriteFunc:
 * @user_data: the data given to lf_stream_new_for_callbacks()
 * @buffer: (array length=count): the bytes
 * @count: how many
 * @error: return location for a #GError, or %NULL
 *
 * Writes all @count bytes.
 *
 * Returns: %TRUE, or %FALSE with @error set.
 *
 * Since: 0.1
 */
typedef gboolean (*LfWriteFunc) (gpointer user_data, const void *buffer, gsize count,
                                 GError **error);

/* ---- constructors (all transfer full; free with lf_stream_free) ---------- */

/**
 * lf_stream_new_for_path:
 * @path: the file to read
 * @map: whether to memory-map it
 * @error: return location for a #GError, or %NULL
 *
 * Opens @path for reading, read-ahead buffered.  With @map the file is
 * memory-mapped and lf_stream_read_bytes() returns slices of the mapping
 * without copying.
 *
 * Returns: (transfer full) (nullable): the stream, or %NULL with
 *   %LF_ERROR_IO naming the path.
 *
 * Since: 0.1
 */
LF_API LfStream *lf_stream_new_for_path (const char *path, gboolean map, GError **error);
/**
 * lf_stream_new_for_fd:
 * @fd: a file descriptor open for reading or writing
 * @close_fd: whether lf_stream_free() closes @fd
 *
 * Makes a stream over a file descriptor.
 *
 * Returns: (transfer full): a stream that reads from or writes to @fd.
 *
 * Since: 0.1
 */
LF_API LfStream *lf_stream_new_for_fd (int fd, gboolean close_fd);
/**
 * lf_stream_new_for_file:
 * @file: an open file, which stays open
 *
 * Makes a stream over a `FILE *`.
 *
 * Returns: (transfer full): a stream that reads from or writes to @file.
 *
 * Since: 0.1
 */
LF_API LfStream *lf_stream_new_for_file (FILE *file);
/**
 * lf_stream_new_for_data:
 * @data: (array length=size): the bytes, which must outlive the stream
 * @size: how many
 *
 * Makes a stream over memory the caller keeps.
 *
 * Returns: (transfer full): a stream that reads @data.
 *
 * Since: 0.1
 */
LF_API LfStream *lf_stream_new_for_data (gconstpointer data, gsize size);
/**
 * lf_stream_new_for_bytes:
 * @bytes: (transfer none): the bytes; a reference is taken
 *
 * Makes a stream over #GBytes.
 *
 * Returns: (transfer full): a stream that reads @bytes;
 *   lf_stream_read_bytes() returns slices of it.
 *
 * Since: 0.1
 */
LF_API LfStream *lf_stream_new_for_bytes (GBytes *bytes);
/**
 * lf_stream_new_memory:
 *
 * Makes a stream that writes to memory.
 *
 * Returns: (transfer full): a stream that writes into a growing memory
 *   buffer; see lf_stream_steal_bytes().
 *
 * Since: 0.1
 */
LF_API LfStream *lf_stream_new_memory (void);
/**
 * lf_stream_new_for_callbacks:
 * @read_func: (nullable): reads, or %NULL for a write-only stream
 * @write_func: (nullable): writes, or %NULL for a read-only stream
 * @user_data: for the callbacks
 * @destroy: (nullable): called with @user_data when the stream is freed
 *
 * Makes a stream over a pair of callbacks.
 *
 * Returns: (transfer full): a stream that reads and/or writes through
 *   callbacks.
 *
 * Since: 0.1
 */
LF_API LfStream *lf_stream_new_for_callbacks (LfReadFunc read_func, LfWriteFunc write_func,
                                              gpointer user_data, GDestroyNotify destroy);

/**
 * lf_stream_free:
 * @stream: (nullable) (transfer full): a stream
 *
 * Flushes what it can (errors are lost: call lf_stream_flush() first),
 * closes what the stream owns and frees it.
 *
 * Since: 0.1
 */
LF_API void lf_stream_free (LfStream *stream);

/**
 * lf_stream_get_name:
 * @stream: a stream
 *
 * The stream's name, for messages.
 *
 * Returns: (transfer none): a name for messages: the path, "fd 3",
 *   "FILE", "memory", "callbacks", or what lf_stream_set_name() set.
 *
 * Since: 0.1
 */
LF_API const char *lf_stream_get_name (const LfStream *stream);
/**
 * lf_stream_set_name:
 * @stream: a stream
 * @name: the name messages use; copied
 *
 * Names the stream in messages.
 *
 * Since: 0.1
 */
LF_API void lf_stream_set_name (LfStream *stream, const char *name);

/**
 * lf_stream_tell:
 * @stream: a stream
 *
 * The stream's position, counted from its creation.
 *
 * Returns: the bytes read or written through this stream since it was
 *   created.
 *
 * Since: 0.1
 */
LF_API guint64 lf_stream_tell (const LfStream *stream);

/* ---- reading --------------------------------------------------------------- */

/**
 * lf_stream_read:
 * @stream: a readable stream
 * @buffer: (out caller-allocates) (array length=count): where to read to
 * @count: how many bytes
 * @error: return location for a #GError, or %NULL
 *
 * Reads exactly @count bytes.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_TRUNCATED ("expected N bytes,
 *   found M") when the input ends first, %LF_ERROR_IO on a read error.
 *
 * Since: 0.1
 */
LF_API gboolean lf_stream_read (LfStream *stream, void *buffer, gsize count,
                                GError **error);
/**
 * lf_stream_read_some:
 * @stream: a readable stream
 * @buffer: (out caller-allocates) (array length=count): where to read to
 * @count: the most bytes to read
 * @error: return location for a #GError, or %NULL
 *
 * Reads up to @count bytes.
 *
 * Returns: the number read, 0 at the end, or -1 with %LF_ERROR_IO.
 *
 * Since: 0.1
 */
LF_API gssize lf_stream_read_some (LfStream *stream, void *buffer, gsize count,
                                   GError **error);
/**
 * lf_stream_read_bytes:
 * @stream: a readable stream
 * @count: how many bytes
 * @error: return location for a #GError, or %NULL
 *
 * Reads exactly @count bytes into new #GBytes.  From a mapped file or a
 * #GBytes stream the result is a slice: no copy.  When the stream knows
 * how much is left, a @count larger than that fails before anything is
 * allocated; otherwise the read goes in bounded chunks, so a lying header
 * cannot make it allocate more than the input holds plus one chunk.
 *
 * Returns: (transfer full) (nullable): the bytes, or %NULL with
 *   %LF_ERROR_TRUNCATED or %LF_ERROR_IO.
 *
 * Since: 0.1
 */
LF_API GBytes *lf_stream_read_bytes (LfStream *stream, gsize count, GError **error);
/**
 * LF_STREAM_PEEK_MAX:
 *
 * The most bytes lf_stream_peek() shows at once (256 KiB): enough for any
 * npy header numpy reads, and for a wrapped record's header plus the first
 * block of a zstd frame (at most 128 KiB), which must be whole before any
 * of it can be decompressed.
 *
 * Since: 0.2
 */
#define LF_STREAM_PEEK_MAX ((gsize) 256 * 1024)

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
/**
 * lf_stream_skip:
 * @stream: a readable stream
 * @count: how many bytes
 * @error: return location for a #GError, or %NULL
 *
 * Discards exactly @count bytes.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_TRUNCATED when fewer remain,
 *   %LF_ERROR_IO on a read error.
 *
 * Since: 0.1
 */
LF_API gboolean lf_stream_skip (LfStream *stream, gsize count, GError **error);
/**
 * lf_stream_at_end:
 * @stream: a readable stream
 * @at_end: (out): %TRUE when no byte is left to read
 * @error: return location for a #GError, or %NULL
 *
 * Tells whether the input is over without consuming a byte.  It may read
 * one byte ahead and keep it for the next read.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_IO.
 *
 * Since: 0.1
 */
LF_API gboolean lf_stream_at_end (LfStream *stream, gboolean *at_end, GError **error);
/**
 * lf_stream_get_remaining:
 * @stream: a readable stream
 * @remaining: (out) (optional): the number of bytes left
 *
 * How many bytes are left to read, when the stream knows.
 *
 * Returns: %TRUE when the number of bytes left is known (memory, bytes,
 *   regular files opened by path).
 *
 * Since: 0.1
 */
LF_API gboolean lf_stream_get_remaining (const LfStream *stream, guint64 *remaining);

/* ---- writing --------------------------------------------------------------- */

/**
 * lf_stream_write:
 * @stream: a writable stream
 * @data: (array length=count): the bytes
 * @count: how many
 * @error: return location for a #GError, or %NULL
 *
 * Writes @count bytes (buffered).
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_IO or the write callback's
 *   error.
 *
 * Since: 0.1
 */
LF_API gboolean lf_stream_write (LfStream *stream, gconstpointer data, gsize count,
                                 GError **error);
/**
 * lf_stream_flush:
 * @stream: a writable stream
 * @error: return location for a #GError, or %NULL
 *
 * Hands buffered bytes to the operating system (or the callback).
 *
 * Returns: %TRUE, or %FALSE with the first write error (%LF_ERROR_IO).
 *
 * Since: 0.1
 */
LF_API gboolean lf_stream_flush (LfStream *stream, GError **error);
/**
 * lf_stream_sync:
 * @stream: a writable stream
 * @error: return location for a #GError, or %NULL
 *
 * Flushes, then fsync()s an fd stream (nothing more for other streams).
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_IO.
 *
 * Since: 0.1
 */
LF_API gboolean lf_stream_sync (LfStream *stream, GError **error);
/**
 * lf_stream_can_rewrite:
 * @stream: a writable stream
 *
 * Whether lf_stream_rewrite() works on this stream: memory writers, and
 * fds of regular files (not opened O_APPEND) that have only been written
 * to.
 *
 * Returns: %FALSE for pipes, sockets, `FILE *` and callback streams.
 *
 * Since: 0.1
 */
LF_API gboolean lf_stream_can_rewrite (LfStream *stream);
/**
 * lf_stream_rewrite:
 * @stream: a writable stream
 * @position: a value lf_stream_tell() returned
 * @data: (array length=count): the new bytes
 * @count: how many; @position + @count must not pass the current position
 * @error: return location for a #GError, or %NULL
 *
 * Overwrites bytes already written, for writers that reserve a header and
 * fill it in once the body is written, so the body never has to be held
 * in memory.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_UNSUPPORTED, writing nothing,
 *   when lf_stream_can_rewrite() is %FALSE (buffer the body instead) or
 *   the bytes were already taken by lf_stream_steal_bytes(); or with
 *   %LF_ERROR_IO.
 *
 * Since: 0.1
 */
LF_API gboolean lf_stream_rewrite (LfStream *stream, guint64 position, gconstpointer data,
                                   gsize count, GError **error);
/**
 * lf_stream_steal_bytes:
 * @stream: a stream made by lf_stream_new_memory()
 *
 * Takes what was written; the stream is empty afterwards.
 *
 * Returns: (transfer full) (nullable): the bytes written to a memory
 *   stream, or %NULL for other streams.
 *
 * Since: 0.1
 */
LF_API GBytes *lf_stream_steal_bytes (LfStream *stream);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfStream, lf_stream_free)

/**
 * LF_SIDE_FILE_MAX:
 *
 * The largest side input (manifest, skeleton, rules or spec file) the
 * library reads: 256 MiB, room for the manifest of a few million leaves.
 *
 * Since: 0.2
 */
#define LF_SIDE_FILE_MAX ((gsize) 256 * 1024 * 1024)

/**
 * lf_read_side_file:
 * @path: the file to read
 * @max_size: the most bytes to accept (%LF_SIDE_FILE_MAX for the library's own cap)
 * @length: (out) (optional): where to store the number of bytes read
 * @error: return location for a #GError, or %NULL
 *
 * Reads a small side input whole, the way the library reads manifests
 * (`FILE.eqx.json`), skeletons (lf_tree_from_json_file()) and rules files
 * (lf_spec_load_rules_file()): only a regular file is read; a FIFO, a
 * device, a socket or a directory is refused without blocking (the open
 * does not wait for a FIFO's writer) and without reading; a file larger
 * than @max_size is refused before anything is allocated for it.
 *
 * Returns: (transfer full) (nullable): the contents followed by a NUL byte
 * (not counted in @length), or %NULL with @error set: %LF_ERROR_IO "PATH:
 * cannot open: REASON", "PATH: is a FIFO; only a regular file is read
 * here" (a directory, a device, a socket), "PATH: cannot read: REASON";
 * %LF_ERROR_TOO_LARGE "PATH: larger than N bytes, ...".  Free with g_free().
 *
 * Since: 0.2
 */
LF_API char *lf_read_side_file (const char *path, gsize max_size, gsize *length,
                                GError **error);

G_END_DECLS
