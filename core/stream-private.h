/* Stream internals shared with the npy writer. */
#pragma once

#include <leafio/leafio.h>

/* Writes `header` then `data` as lf_stream_write would twice, but hands a
 * big `data` to the kernel straight from the caller's memory together with
 * the buffered bytes (one writev, no copy). */
G_GNUC_INTERNAL gboolean _lf_stream_write2 (LfStream *stream, gconstpointer header,
                                            gsize header_size, gconstpointer data,
                                            gsize data_size, GError **error);
