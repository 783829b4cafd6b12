/* Stream internals shared with the npy writer. */
#pragma once

#include <leafio/leafio.h>

/* Writes `header` then `data` as lf_stream_write would twice, but hands a
 * big `data` to the kernel straight from the caller's memory together with
 * the buffered bytes (one writev, no copy). */
G_GNUC_INTERNAL gboolean _lf_stream_write2 (LfStream *stream, gconstpointer header,
                                            gsize header_size, gconstpointer data,
                                            gsize data_size, GError **error);

/* The bytes that can be read without calling the operating system (the
 * read-ahead buffer or a memory source): a pointer and how many, valid
 * until the next call on the stream.  *available is 0 when unknown. */
G_GNUC_INTERNAL const guint8 *_lf_stream_peek (LfStream *stream, gsize *available);
/* Consumes `count` <= *available bytes of what _lf_stream_peek showed. */
G_GNUC_INTERNAL void _lf_stream_consume (LfStream *stream, gsize count);

/* Declares that the fd stream writes a new file of its own (a path save's
 * temporary file): big writes and lf_stream_expect may then extend the file
 * ahead of the data, and lf_stream_flush cuts it back to what was written. */
G_GNUC_INTERNAL void _lf_stream_set_owns_tail (LfStream *stream);
/* Declares that the fd stream's file will be synced when written: its
 * pages are handed to the disk as they are written, so that the sync
 * waits for the last of them only (the disk works while we write). */
G_GNUC_INTERNAL void _lf_stream_set_write_behind (LfStream *stream);

/* Declares that the stream's first byte is at `origin` in the file its
 * name names (a record read on its own, by offset): offsets in its
 * messages are then the file's, not the record's. */
G_GNUC_INTERNAL void _lf_stream_set_origin (LfStream *stream, guint64 origin);

/* Hashing a record's bytes as they pass, so that neither a manifest's
 * checksums on save nor their check on load need a second pass over the
 * file: from _lf_stream_hash_begin on, every byte written, or read and
 * handed out, goes into an XXH3-64 state, and _lf_stream_hash_end gives
 * the digest of those bytes, which is XXH3_64bits () of them.
 * _lf_stream_hash_end returns FALSE when the digest is not theirs: some
 * were rewritten (lf_stream_rewrite: a codec filling in its header last)
 * or passed by without being hashed; only the file knows it then. */
G_GNUC_INTERNAL void _lf_stream_hash_begin (LfStream *stream);
G_GNUC_INTERNAL gboolean _lf_stream_hash_end (LfStream *stream, guint64 *hash);
