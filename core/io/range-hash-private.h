/* The XXH3-64 of a byte range of a file, read with pread a piece at a
 * time (range-hash.c). */
#pragma once

#include <glib.h>

/* Hashes `size` bytes of `fd` from `offset` into `*hash`.  FALSE when a
 * read fails (`*error_number` its errno) or the file ends first
 * (`*error_number` 0); `*failed_at` is then the offset that could not be
 * read. */
G_GNUC_INTERNAL gboolean _lf_range_hash (int fd, guint64 offset, guint64 size, guint64 *hash,
                                         int *error_number, guint64 *failed_at);
