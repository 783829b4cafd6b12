/* Reading a big range of a file and computing its XXH3-64 at once
 * (shared-read.c): random access reads of one record, and loads that
 * check each record against a manifest as they read it. */
#pragma once

#include <glib.h>
#include <xxhash.h>

/* Ranges from this size on are worth sharing with a helper thread. */
#define LF_SHARED_READ_MIN ((gsize) 2 << 20)

/* Reads exactly `length` bytes at file offset `offset` into `buffer`;
 * FALSE on an error or an early end of the file.  Called from two
 * threads at once, for different pieces. */
typedef gboolean (*LfPieceReadFunc) (gpointer data, guint8 *buffer, gsize length,
                                     guint64 offset);

/* Reads the `count` bytes at `offset` into `buffer` in pieces, the caller
 * and a helper thread (when one is free) together, while the caller feeds
 * the pieces, in order, into `state` as they land.  With `fresh` (memory
 * never touched), each reader first faults in the pages of its piece.
 * FALSE when a piece could not be read: the buffer and `state` are then
 * undefined, and the caller reads again for an error that names the
 * range. */
G_GNUC_INTERNAL gboolean _lf_shared_read_hashed (LfPieceReadFunc read, gpointer data,
                                                 guint8 *buffer, gsize count, guint64 offset,
                                                 gboolean fresh, XXH3_state_t *state);
